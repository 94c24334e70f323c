"""Events per second into a Python callback and through the events()
iterator, beside a pure-Python socket loop that parses the same stream into
dicts, in the same run: python3 bench.py PORT [EVENTS]. Prints figures;
judges nothing."""

import socket
import sys
import threading
import time

import ami


def flood(port: int, count: int, pull: bool, read_all: bool = False) -> float:
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
            if read_all:
                e.get("Seq")  # every event parsed into its dict, as the baseline does
            if e.name == "SimFloodComplete":
                break
    else:
        done.wait(120)
    t = time.perf_counter() - t0
    if seen[0] != count + 1:
        print(f"python: lost events: {seen[0]} of {count + 1} (dropped {c.dropped_events})", file=sys.stderr)
    c.close()
    return t


def pure_python(port: int, count: int) -> float:
    """The baseline: a plain socket, each message split into a dict."""
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"Action: Login\r\nUsername: admin\r\nSecret: admin\r\nEvents: off\r\n\r\n")
    buf = b""
    while b"accepted\r\n\r\n" not in buf:
        buf += s.recv(65536)
    buf = buf[buf.index(b"accepted\r\n\r\n") + 12 :]
    t0 = time.perf_counter()
    s.sendall(f"Action: SimFlood\r\nCount: {count}\r\nSize: 500\r\n\r\n".encode())
    seen, done = 0, False
    while not done:
        buf += s.recv(262144)
        *messages, buf = buf.split(b"\r\n\r\n")
        for raw in messages:
            m = dict(line.partition(": ")[::2] for line in raw.decode("utf-8", "surrogateescape").split("\r\n"))
            if "Event" in m:
                seen += 1
                if m["Event"] == "SimFloodComplete":
                    done = True
    t = time.perf_counter() - t0
    s.close()
    if seen != count + 1:
        print(f"pure python: {seen} of {count + 1} events", file=sys.stderr)
    return t


if __name__ == "__main__":
    port = int(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 200000
    base = n / pure_python(port, n)
    cb = n / flood(port, n, False)
    it = n / flood(port, n, True)
    parsed = n / flood(port, n, True, True)
    print(f"  pure-Python socket loop    {base:12.0f} events/s  (dicts, the baseline)")
    print(f"  Python callback            {cb:12.0f} events/s  ({cb / base:.2f} of pure Python)")
    print(f"  Python events() iterator   {it:12.0f} events/s  ({it / base:.2f} of pure Python; names only)")
    print(f"  events(), each one read    {parsed:12.0f} events/s  ({parsed / base:.2f} of pure Python)")
