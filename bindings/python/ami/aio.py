"""asyncio integration: actions complete as futures (``ami_client_send_queued``,
results taken on the loop through ``ami_client_completion_fd``), events
arrive through ``loop.add_reader`` on ``ami_client_event_fd``.

    async with AsyncClient() as c:
        await c.connect("127.0.0.1", 5038)
        await c.login("admin", "admin")
        pong = await c.action("Ping")
        async for event in c.events():
            print(event.name)
"""

from __future__ import annotations

import asyncio
import ctypes
import itertools
from typing import Any, AsyncIterator, Dict, Optional

from . import _ERRORS, AmiError, ClosedError, Client, Headers, Message, _action, _error
from ._lib import c_uint64, lib

#: Results taken from the library per call.
_BATCH = 256


class AsyncClient:
    """A Client for asyncio code. Connect and login run in the default
    executor; actions never block the event loop. Use it from one event loop."""

    def __init__(self, **options: Any):
        options.setdefault("event_queue", True)
        self.client = Client(**options)
        # Actions go out with ami_client_send_queued: their results wait in
        # the library until this loop takes them, many per call, when the
        # completion descriptor is readable. No library thread calls into
        # Python (each such call would fight the loop for the GIL).
        self._futures: Dict[int, asyncio.Future] = {}
        self._tokens = itertools.count(1)
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._fd = -1
        n = _BATCH
        self._tags, self._statuses, self._lens = (c_uint64 * n)(), (ctypes.c_int * n)(), (ctypes.c_size_t * n)()

    def _watch(self, loop: asyncio.AbstractEventLoop) -> None:
        """Starts taking results on ``loop`` (once)."""
        if self._loop is None:
            self._fd = lib.ami_client_completion_fd(self.client._handle())
            if self._fd < 0:
                raise _error(99)
            loop.add_reader(self._fd, self._settle)
            self._loop = loop

    def _settle(self) -> None:
        """On the event loop: settles every result waiting in the library."""
        ptr = self.client._ptr
        text, count = ctypes.c_void_p(), ctypes.c_size_t()
        while ptr:
            status = lib.ami_client_next_completions(
                ptr, _BATCH, self._tags, self._statuses, self._lens, ctypes.byref(text), ctypes.byref(count)
            )
            if status != 0 or count.value == 0:
                return
            n, lens = count.value, self._lens[: count.value]
            total = sum(lens)
            try:
                raw = ctypes.string_at(text, total).decode("utf-8", "surrogateescape")
            finally:
                lib.ami_buffer_free(text, total)
            at = 0
            for i in range(n):
                chunk, at = raw[at : at + lens[i]], at + lens[i]
                future = self._futures.pop(self._tags[i], None)
                if future is None or future.done():
                    continue
                if self._statuses[i] != 0:
                    future.set_exception(_ERRORS.get(self._statuses[i], AmiError)(self._statuses[i], chunk))
                    continue
                parts = chunk.split("\r\n\r\n")
                m = Message._lazy(parts[0] + "\r\n\r\n")
                m.events = [Message._lazy(p + "\r\n\r\n") for p in parts[1:-1]]
                future.set_result(m)
            if n < _BATCH:
                return

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
        self._watch(loop)
        future: asyncio.Future = loop.create_future()
        pairs = list(headers.items() if hasattr(headers, "items") else (headers or ())) + list(more.items())
        token = next(self._tokens)
        ptr = _action(name, pairs, wait_event)
        try:
            status = lib.ami_client_send_queued(self.client._handle(), ptr, token)
        finally:
            lib.ami_message_free(ptr)
        if status != 0:
            raise _error(status)
        self._futures[token] = future
        try:
            return await future
        finally:
            self._futures.pop(token, None)

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
        if self._loop is not None and self._fd >= 0:
            self._loop.remove_reader(self._fd)
        await asyncio.get_running_loop().run_in_executor(None, self.client.close)
        # Actions still awaited ended with the client: the library queued
        # their ClosedError, which is gone with it.
        for future in self._futures.values():
            if not future.done():
                future.set_exception(ClosedError(9, "the client is closed"))
        self._futures.clear()
