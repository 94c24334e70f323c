"""Pipelined actions/s through asyncio: ami.aio.AsyncClient beside
panoramisk (the asyncio AMI client Python users pick), on the same ami-sim
in the same run: python3 bench_asyncio.py PORT [ACTIONS]. panoramisk is
only needed here (pip install panoramisk); without it ours alone is printed."""

import asyncio
import sys
import time

from ami.aio import AsyncClient

WINDOW = 100  # actions in flight


async def gather_pings(send, n: int) -> float:
    sem = asyncio.Semaphore(WINDOW)

    async def one():
        async with sem:
            await send()

    t0 = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(n)))
    return n / (time.perf_counter() - t0)


async def ours(port: int, n: int) -> float:
    c = AsyncClient(events="off")
    await c.connect("127.0.0.1", port)
    await c.login("admin", "admin")
    try:
        return await gather_pings(lambda: c.action("Ping"), n)
    finally:
        await c.close()


async def panoramisk(port: int, n: int) -> float:
    from panoramisk import Manager

    m = Manager(host="127.0.0.1", port=port, username="admin", secret="admin", ping_delay=0, loop=asyncio.get_running_loop())
    await m.connect()
    try:
        return await gather_pings(lambda: m.send_action({"Action": "Ping"}), n)
    finally:
        m.close()


if __name__ == "__main__":
    port = int(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
    mine = asyncio.run(ours(port, n))
    try:
        theirs = asyncio.run(panoramisk(port, n))
    except ImportError:
        print(f"  AsyncClient pipelined Ping ({WINDOW} in flight) {mine:10.0f} actions/s  (panoramisk not installed)")
        sys.exit(0)
    print(f"  panoramisk pipelined Ping ({WINDOW} in flight)  {theirs:10.0f} actions/s  (the baseline)")
    print(f"  AsyncClient pipelined Ping ({WINDOW} in flight) {mine:10.0f} actions/s  ({mine / theirs:.2f} of panoramisk)")
