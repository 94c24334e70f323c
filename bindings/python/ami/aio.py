"""asyncio integration: actions complete as futures (``ami_client_send_async``),
events arrive through ``loop.add_reader`` on ``ami_client_event_fd``.

    async with AsyncClient() as c:
        await c.connect("127.0.0.1", 5038)
        await c.login("admin", "admin")
        pong = await c.action("Ping")
        async for event in c.events():
            print(event.name)
"""

from __future__ import annotations

import asyncio
import collections
import threading
from typing import Any, AsyncIterator, Deque, Optional, Tuple, Union

from . import AmiError, Client, Headers, Message


class AsyncClient:
    """A Client for asyncio code. Connect and login run in the default
    executor; actions never block the event loop."""

    def __init__(self, **options: Any):
        options.setdefault("event_queue", True)
        self.client = Client(**options)
        # Results reach the event loop in batches: the library's thread
        # queues them and wakes the loop once per batch, not per result.
        self._results: Deque[Tuple[asyncio.Future, Union[Message, AmiError]]] = collections.deque()
        self._lock = threading.Lock()
        self._wake_scheduled = False

    def _deliver(self, loop: asyncio.AbstractEventLoop, future: asyncio.Future, result: Union[Message, AmiError]) -> None:
        """On the library's thread: queue a result, waking the loop if it is not yet coming."""
        with self._lock:
            self._results.append((future, result))
            wake = not self._wake_scheduled
            self._wake_scheduled = True
        if wake:
            try:
                loop.call_soon_threadsafe(self._settle_all)
            except RuntimeError:
                pass  # the loop is closed: nobody awaits these any more

    def _settle_all(self) -> None:
        """On the event loop: settles every queued result."""
        with self._lock:
            results = list(self._results)
            self._results.clear()
            self._wake_scheduled = False
        for future, result in results:
            if future.done():
                continue
            if isinstance(result, AmiError):
                future.set_exception(result)
            else:
                future.set_result(result)

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    async def connect(self, host: str = "127.0.0.1", port: int = 5038) -> str:
        return await asyncio.get_running_loop().run_in_executor(None, self.client.connect, host, port)

    async def login(self, username: str, secret: str) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self.client.login, username, secret)

    async def action(self, name: str, headers: Headers = None, *, wait_event: Optional[str] = None, **more: str) -> Message:
        """Sends an action; the result (or the AmiError) comes back as the awaited value."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future = loop.create_future()
        pairs = list(headers.items() if hasattr(headers, "items") else (headers or ())) + list(more.items())
        self.client.send_async(name, pairs, lambda r: self._deliver(loop, future, r), wait_event=wait_event)
        return await future

    async def next_event(self) -> Message:
        """The next event, waiting on the event descriptor without blocking the loop."""
        loop = asyncio.get_running_loop()
        while True:
            event = self.client.next_event(0)
            if event is not None:
                return event
            ready = loop.create_future()
            fd = self.client.event_fd()
            loop.add_reader(fd, lambda: ready.done() or ready.set_result(None))
            try:
                await ready
            finally:
                loop.remove_reader(fd)

    async def events(self) -> AsyncIterator[Message]:
        """Every event, for ever (break out of the loop to stop)."""
        while True:
            yield await self.next_event()

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self.client.close)
