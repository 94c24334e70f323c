"""Events per second into a Python callback and through the events()
iterator: python3 bench.py PORT [EVENTS]. Prints figures; judges nothing."""

import sys
import threading
import time

import ami


def flood(port: int, count: int, pull: bool) -> float:
    # overflow=block: measure throughput, not what a slow consumer loses.
    c = ami.Client(events="off", event_queue=pull, overflow="block")
    c.connect("127.0.0.1", port)
    c.login("admin", "admin")
    seen = [0]
    done = threading.Event()

    def on_event(e):
        seen[0] += 1
        if e.name == "SimFloodComplete":
            done.set()

    if not pull:
        c.subscribe("*", on_event)
    t0 = time.perf_counter()
    c.action("SimFlood", Count=str(count), Size="500")
    if pull:
        for e in c.events(timeout=30):
            seen[0] += 1
            if e.name == "SimFloodComplete":
                break
    else:
        done.wait(120)
    t = time.perf_counter() - t0
    if seen[0] != count + 1:
        print(f"python: lost events: {seen[0]} of {count + 1} (dropped {c.dropped_events})", file=sys.stderr)
    c.close()
    return t


if __name__ == "__main__":
    port = int(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 200000
    print(f"  Python callback            {n / flood(port, n, False):12.0f} events/s")
    print(f"  Python events() iterator   {n / flood(port, n, True):12.0f} events/s")
