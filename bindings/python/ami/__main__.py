"""``python -m ami``: connect to an AMI server and print its events.

    python -m ami [--host H] [--port P] [--user U] [--secret S] [--events MASK] [--count N]
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from . import AmiError, Client


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m ami", description="Print the events of an AMI server until Ctrl-C.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5038)
    p.add_argument("--user", default="admin")
    p.add_argument("--secret", default="admin")
    p.add_argument("--events", default="on", help="event mask: on, off, or classes like call,system")
    p.add_argument("--count", type=int, default=0, help="stop after this many events (0: never)")
    args = p.parse_args(argv)

    done = threading.Event()
    seen = [0]

    def show(event) -> None:
        print(f"Event: {event.get('Event')}")
        for name, value in event.headers()[1:]:
            print(f"  {name}: {value}")
        sys.stdout.flush()
        seen[0] += 1
        if args.count and seen[0] >= args.count:
            done.set()

    signal.signal(signal.SIGINT, lambda *_: done.set())
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        with Client(events=args.events) as client:
            print(client.connect(args.host, args.port), file=sys.stderr)
            client.login(args.user, args.secret)
            client.subscribe("*", show)
            client.on_state(lambda state, status: state == 0 and done.set())
            print(f"monitoring {args.host}:{args.port}, Ctrl-C to stop", file=sys.stderr)
            while not done.wait(0.2):
                pass
    except AmiError as e:
        print(f"python -m ami: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
