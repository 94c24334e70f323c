"""Python bindings for libami-rs, an Asterisk Manager Interface client.

ctypes over the modern C API (``ami.h``): no compiler needed at install
time. ``libami.so`` is loaded from ``$AMI_LIBRARY``, next to this package, a
checkout's ``target/release``, or the system's library path.

    with ami.Client() as c:
        c.connect("127.0.0.1", 5038)
        c.login("admin", "admin")
        print(c.action("Ping")["Ping"])
"""

from __future__ import annotations

import atexit
import builtins
import ctypes
import functools
import itertools
import logging
import sys
import threading
import weakref
from typing import Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Tuple, Union

from . import _lib
from ._lib import lib

__all__ = [
    "Client", "Message", "AmiError", "InvalidArgumentError", "ConnectError", "NotAmiError", "AuthError",
    "TimeoutError", "DisconnectedError", "ProtocolError", "TlsError", "ClosedError", "DeadlockError", "FullError",
    "InternalError", "version",
]

Headers = Union[Mapping[str, str], Iterable[Tuple[str, str]], None]


def version() -> str:
    """The libami version."""
    return lib.ami_version().decode()


def _text(b: Optional[bytes]) -> str:
    return b.decode("utf-8", "surrogateescape") if b is not None else ""


def _bytes(s: Any, what: str) -> bytes:
    if isinstance(s, bytes):
        return s
    if not isinstance(s, str):
        raise InvalidArgumentError(1, f"{what} must be str, not {type(s).__name__}")
    return s.encode("utf-8", "surrogateescape")


# --- errors -------------------------------------------------------------


class AmiError(Exception):
    """A libami failure: ``status`` is the C status code, ``detail`` what
    ``ami_last_error()`` said."""

    def __init__(self, status: int, detail: str = ""):
        self.status = status
        self.detail = detail
        super().__init__(f"{_text(lib.ami_strerror(status))}: {detail}" if detail else _text(lib.ami_strerror(status)))


class InvalidArgumentError(AmiError, ValueError):
    """AMI_EINVAL: NULL, empty name, CR/LF in a header, bad option."""


class ConnectError(AmiError, ConnectionError):
    """AMI_ECONNECT: refused, unreachable, name not resolved."""


class NotAmiError(AmiError):
    """AMI_ENOTAMI: the peer is not an AMI server."""


class AuthError(AmiError):
    """AMI_EAUTH: login rejected."""


class TimeoutError(AmiError, builtins.TimeoutError):  # noqa: A001 (the AMI_ETIMEDOUT error)
    """AMI_ETIMEDOUT: the deadline passed (also a builtin TimeoutError)."""


class DisconnectedError(AmiError, ConnectionError):
    """AMI_EDISCONNECTED: the connection was lost."""


class ProtocolError(AmiError):
    """AMI_EPROTOCOL: malformed or over-limit data from the server."""


class TlsError(AmiError):
    """AMI_ETLS: TLS failure."""


class ClosedError(AmiError):
    """AMI_ECLOSED: the client is closed or not connected."""


class DeadlockError(AmiError):
    """AMI_EDEADLOCK: a blocking call from a callback of the same client."""


class FullError(AmiError):
    """AMI_EFULL: too many unsent or unanswered actions (max_pending)."""


class InternalError(AmiError):
    """AMI_EINTERNAL: a bug inside libami."""


_ERRORS = {
    1: InvalidArgumentError, 2: ConnectError, 3: NotAmiError, 4: AuthError, 5: TimeoutError,
    6: DisconnectedError, 7: ProtocolError, 8: TlsError, 9: ClosedError, 10: DeadlockError, 11: FullError, 99: InternalError,
}


def _error(status: int) -> AmiError:
    return _ERRORS.get(status, AmiError)(status, _text(lib.ami_last_error()))


def _check(status: int) -> None:
    if status != 0:
        raise _error(status)


# --- messages -----------------------------------------------------------


class Message(Mapping[str, str]):
    """A response or event: a read-only mapping with case-insensitive keys
    (the first value wins, as in Asterisk) that keeps every header in order;
    ``getall`` returns the values of a repeated header (``Output``,
    ``Variable``). A list response carries its events in ``events``.
    Plain Python data: valid for ever, whatever happens to the client."""

    __slots__ = ("_raw", "_low", "_headers_", "_index_", "events")


    def __init__(self, headers: Iterable[Tuple[str, str]] = (), events: Iterable["Message"] = ()):
        self._raw: Optional[str] = None
        self._low: Optional[str] = None
        self._headers_: Optional[List[Tuple[str, str]]] = list(headers)
        self._index_: Optional[Dict[str, str]] = None
        self.events: List[Message] = list(events)

    @classmethod
    def _lazy(cls, raw: str) -> "Message":
        # An event in wire form, parsed on first use: a consumer that only
        # looks at a few events, or only at names, pays for no more.
        m = cls.__new__(cls)
        m._raw, m._low, m._headers_, m._index_, m.events = raw, None, None, None, []
        return m

    _UNKNOWN = object()

    def _find(self, name: str) -> Any:
        """The first value of ``name`` looked up in the wire text itself, at
        C speed (str.find on a lower-cased copy) without building the dict:
        the value, None when absent, or _UNKNOWN when the text is not plain
        ASCII (lower-casing could move it; the dict is built then)."""
        raw, low = self._raw, self._low
        if low is None:
            if not raw.isascii():
                return Message._UNKNOWN
            low = self._low = raw.lower()
        key = name.lower() + ": "
        if low.startswith(key):
            start = len(key)
        else:
            at = low.find("\r\n" + key)
            if at < 0:
                return None
            start = at + 2 + len(key)
        end = raw.find("\r\n", start)
        return raw[start:] if end < 0 else raw[start:end]

    @property
    def _headers(self) -> List[Tuple[str, str]]:
        if self._headers_ is None:
            self._headers_ = [line.partition(": ")[::2] for line in self._raw.split("\r\n") if line]
        return self._headers_

    @property
    def _index(self) -> Dict[str, str]:
        if self._index_ is None:
            index: Dict[str, str] = {}
            for name, value in self._headers:
                index.setdefault(name.lower(), value)
            self._index_ = index
        return self._index_

    @classmethod
    def _from_c(cls, ptr: int) -> "Message":
        # One call for the whole message (its wire form), parsed here: far
        # cheaper than two ctypes calls per header.
        raw = lib.ami_message_to_string(ptr)
        try:
            m = cls._lazy(ctypes.string_at(raw).decode("utf-8", "surrogateescape"))
        finally:
            lib.ami_string_free(raw)
        m.events = [cls._from_c(lib.ami_message_list_at(ptr, i)) for i in range(lib.ami_message_list_count(ptr))]
        return m

    def __getitem__(self, name: str) -> str:
        if self._index_ is None and self._raw is not None:
            found = self._find(name)
            if found is None:
                raise KeyError(name)
            if found is not Message._UNKNOWN:
                return found
        return self._index[name.lower()]

    def __iter__(self) -> Iterator[str]:
        seen = set()
        for name, _ in self._headers:
            if name.lower() not in seen:
                seen.add(name.lower())
                yield name

    def __len__(self) -> int:
        return len(self._index)

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        if self._index_ is None and self._raw is not None:
            found = self._find(name)
            if found is not Message._UNKNOWN:
                return found is not None
        return name.lower() in self._index

    def getall(self, name: str) -> List[str]:
        """Every value of ``name``, in order."""
        key = name.lower()
        return [v for n, v in self._headers if n.lower() == key]

    def headers(self) -> List[Tuple[str, str]]:
        """Every ``(name, value)``, in wire order, duplicates included."""
        return list(self._headers)

    @property
    def is_success(self) -> bool:
        """True when ``Response`` is Success, Follows or Goodbye."""
        return self.get("Response", "").lower() in ("success", "follows", "goodbye")

    @property
    def name(self) -> Optional[str]:
        """The event name, or None for a response."""
        raw = self._raw
        if raw is not None and self._index_ is None and raw.startswith("Event: "):
            end = raw.find("\r\n")
            return raw[7:end]  # Asterisk writes Event first: no parse needed
        return self.get("Event")

    def __repr__(self) -> str:
        extra = f", {len(self.events)} events" if self.events else ""
        return f"Message({self._headers!r}{extra})"


def _action(name: str, headers: Headers, wait_event: Optional[str]) -> int:
    ptr = lib.ami_message_new(_bytes(name, "action"))
    if not ptr:
        raise _error(1)
    try:
        pairs = headers.items() if isinstance(headers, Mapping) else (headers or ())
        for n, v in pairs:
            _check(lib.ami_message_add(ptr, _bytes(n, "header name"), _bytes(v, "header value")))
        if wait_event:
            _check(lib.ami_message_wait_event(ptr, _bytes(wait_event, "wait_event")))
    except BaseException:
        lib.ami_message_free(ptr)
        raise
    return ptr


# --- log ----------------------------------------------------------------

#: The library's records go here (``logging.getLogger("ami")``): state
#: changes, lost links, reconnects, errors, dropped events and, at TRACE,
#: every message on the wire with secrets masked. Silent until the program
#: configures logging (a NullHandler, as libraries should).
logger = logging.getLogger("ami")
logger.addHandler(logging.NullHandler())

#: Below DEBUG: the wire traffic.
TRACE = 5
logging.addLevelName(TRACE, "TRACE")
_LEVELS = {1: logging.ERROR, 2: logging.WARNING, 3: logging.INFO, 4: logging.DEBUG, 5: TRACE}


@_lib.LOG_CB
def _on_log(level: int, client: int, text: bytes, _userdata: Any) -> None:
    try:
        logger.log(_LEVELS.get(level, logging.INFO), "%s", text.decode("utf-8", "replace"), extra={"ami_client": client})
    except BaseException:  # noqa: BLE001 (nothing may unwind into the library's thread)
        pass


def _log_level() -> str:
    """The ``log_level`` option matching the ``ami`` logger's level now."""
    level = logger.getEffectiveLevel()
    for limit, name in ((TRACE, "trace"), (logging.DEBUG, "debug"), (logging.INFO, "info"), (logging.WARNING, "warn"), (logging.ERROR, "error")):
        if level <= limit:
            return name
    return "off"


lib.ami_set_log_callback(_on_log, None)
# The library's threads outlive the interpreter: stop calling into it first.
atexit.register(lib.ami_set_log_callback, _lib.LOG_CB(), None)


def _report(what: str, client: "Client") -> None:
    """A callback raised: keep the exception in ``callback_errors`` and log it
    (never swallowed silently, never printed unasked)."""
    exc = sys.exc_info()[1]
    client.callback_errors.append(exc)  # type: ignore[arg-type]
    logger.error("exception in %s", what, exc_info=True)


# --- client -------------------------------------------------------------


def _on_response(client_ref: "weakref.ref[Client]", status: int, msg: int, token: Optional[int]) -> None:
    """On the library's thread: the result of the send_async ``token``."""
    client = client_ref()
    if client is None:
        return
    with client._lock:
        entry = client._pending.pop(token or 0, None)
    if entry is None or entry[1] is None:
        return
    name, callback = entry
    try:
        callback(Message._from_c(msg) if status == 0 else _error(status))
    except BaseException:
        _report(f"the callback of action {name}", client)


class Client:
    """An AMI client. Options are those of ``ami_options_set``, as keyword
    arguments (``action_timeout_ms=2000``, ``auth="md5"``, ``event_queue=True``).
    Usable as a context manager; every method may be called from any thread.
    Without ``log_level``, the client logs what the ``ami`` logger's level
    asks for at creation (``logging.getLogger("ami").setLevel(ami.TRACE)``:
    every message on the wire)."""

    def __init__(self, **options: Any):
        opts = lib.ami_options_new()
        options.setdefault("log_level", _log_level())
        try:
            for key, value in options.items():
                if isinstance(value, bool):
                    value = "1" if value else "0"
                _check(lib.ami_options_set(opts, _bytes(key, "option"), _bytes(str(value), "option value")))
            self._ptr = lib.ami_client_new(opts)
        finally:
            lib.ami_options_free(opts)
        if not self._ptr:
            raise _error(99)
        self._lock = threading.Lock()
        self._subscriptions: Dict[int, Any] = {}
        # token -> (action name, callback) of each send_async in flight.
        self._pending: Dict[int, Any] = {}
        self._tokens = itertools.count(1)
        # One C thunk for every send_async, the token as its userdata:
        # making a ctypes callback per action cost more than the action.
        # It holds the client weakly, so an unclosed client is still freed.
        self._response_cb = _lib.RESPONSE_CB(functools.partial(_on_response, weakref.ref(self)))
        self._state_cb: Any = None
        self.callback_errors: List[BaseException] = []

    def _handle(self) -> int:
        ptr = self._ptr
        if not ptr:
            raise ClosedError(9, "the client is closed")
        return ptr

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def connect(self, host: str = "127.0.0.1", port: int = 5038) -> str:
        """Connects and returns the banner (``Asterisk Call Manager/X.Y.Z``)."""
        _check(lib.ami_client_connect(self._handle(), _bytes(host, "host"), port))
        return self.banner or ""

    def login(self, username: str, secret: str) -> None:
        """Logs in (plain or MD5 per option ``auth``); raises AuthError when rejected."""
        _check(lib.ami_client_login(self._handle(), _bytes(username, "username"), _bytes(secret, "secret")))

    @property
    def banner(self) -> Optional[str]:
        b = lib.ami_client_banner(self._handle())
        return _text(b) if b is not None else None

    @property
    def state(self) -> int:
        """``AMI_STATE_*``: 0 disconnected, 1 connecting, 2 connected, 3 logged in, 4 reconnecting, 5 closed."""
        return lib.ami_client_state(self._ptr) if self._ptr else 5

    def action(
        self,
        name: str,
        headers: Headers = None,
        *,
        timeout: Optional[float] = None,
        wait_event: Optional[str] = None,
        **more: str,
    ) -> Message:
        """Sends action ``name`` with ``headers`` (a mapping or pairs; keyword
        arguments add more) and waits for its response. ``timeout`` in
        seconds (None: option ``action_timeout_ms``); ``wait_event`` makes it
        complete on that event (``OriginateResponse``). A ``Response: Error``
        is returned, not raised: check ``is_success``."""
        pairs = list(headers.items() if isinstance(headers, Mapping) else (headers or ())) + list(more.items())
        ptr = _action(name, pairs, wait_event)
        try:
            out = ctypes.c_void_p()
            ms = -1 if timeout is None else int(timeout * 1000)
            _check(lib.ami_client_send(self._handle(), ptr, ctypes.byref(out), ms))
            try:
                return Message._from_c(out.value)
            finally:
                lib.ami_message_free(out.value)
        finally:
            lib.ami_message_free(ptr)

    send = action

    def send_async(
        self,
        name: str,
        headers: Headers = None,
        callback: Optional[Callable[[Union[Message, AmiError]], Any]] = None,
        *,
        wait_event: Optional[str] = None,
    ) -> None:
        """Sends without waiting; ``callback`` runs exactly once on the
        library's thread with the Message or the AmiError."""
        ptr = _action(name, headers, wait_event)
        token = next(self._tokens)
        with self._lock:
            self._pending[token] = (name, callback)
        try:
            status = lib.ami_client_send_async(self._handle(), ptr, self._response_cb, token)
        finally:
            lib.ami_message_free(ptr)
        if status != 0:
            with self._lock:
                self._pending.pop(token, None)
            raise _error(status)

    def subscribe(self, pattern: Optional[str], callback: Callable[[Message], Any]) -> int:
        """Calls ``callback(event)`` on the library's thread for each event
        matching ``pattern`` (a name, a ``Prefix*``, or ``*``/None for all).
        An exception in the callback is logged (logger "ami") and kept in
        ``callback_errors``; delivery goes on. Returns the subscription id."""

        # The library hands over each run of matching events in one call
        # (one crossing into Python and one GIL hold for many events).
        def on_events(text: int, length: int, count: int, _: Any) -> None:
            wire = ctypes.string_at(text, length).decode("utf-8", "surrogateescape")
            for raw in wire.split("\r\n\r\n")[:-1]:
                try:
                    callback(Message._lazy(raw))
                except BaseException:
                    _report(f"the event callback for {pattern!r}", self)

        cb = _lib.EVENTS_CB(on_events)
        sub = lib.ami_client_subscribe_batch(
            self._handle(), None if pattern is None else _bytes(pattern, "pattern"), cb, None
        )
        if sub == 0:
            raise _error(1)
        with self._lock:
            self._subscriptions[sub] = cb
        return sub

    def unsubscribe(self, subscription: int) -> None:
        """Ends a subscription; its callback does not run after this returns."""
        _check(lib.ami_client_unsubscribe(self._handle(), subscription))
        with self._lock:
            self._subscriptions.pop(subscription, None)

    def on_state(self, callback: Optional[Callable[[int, int], Any]]) -> None:
        """Calls ``callback(state, status)`` on state changes (None: stop)."""
        if callback is None:
            lib.ami_client_on_state(self._handle(), _lib.STATE_CB(), None)
            self._state_cb = None
            return

        def on_state(state: int, status: int, _: Any) -> None:
            try:
                callback(state, status)
            except BaseException:
                _report("the state callback", self)

        self._state_cb = _lib.STATE_CB(on_state)
        lib.ami_client_on_state(self._handle(), self._state_cb, None)

    def next_event(self, timeout: Optional[float] = None) -> Optional[Message]:
        """The next queued event (option ``event_queue=True``), or None when
        ``timeout`` seconds pass first (None: wait for ever)."""
        out = ctypes.c_void_p()
        ms = -1 if timeout is None else int(timeout * 1000)
        status = lib.ami_client_next_event(self._handle(), ctypes.byref(out), ms)
        if status == 5:
            return None
        _check(status)
        try:
            return Message._from_c(out.value)
        finally:
            lib.ami_message_free(out.value)

    def events(self, timeout: Optional[float] = None, batch: int = 1024) -> Iterator[Message]:
        """Iterates over queued events (option ``event_queue=True``) until
        none comes within ``timeout`` seconds (None: for ever). Takes up to
        ``batch`` queued events per call into the library."""
        text, length, count = ctypes.c_void_p(), ctypes.c_size_t(), ctypes.c_size_t()
        ms = -1 if timeout is None else int(timeout * 1000)
        while True:
            status = lib.ami_client_next_events(
                self._handle(), batch, ms, ctypes.byref(text), ctypes.byref(length), ctypes.byref(count)
            )
            if status == 5:
                return
            _check(status)
            try:
                wire = ctypes.string_at(text.value, length.value).decode("utf-8", "surrogateescape")
            finally:
                lib.ami_buffer_free(text.value, length.value)
            for raw in wire.split("\r\n\r\n")[:-1]:
                yield Message._lazy(raw)

    def event_fd(self) -> int:
        """A descriptor readable while queued events wait (for select/asyncio)."""
        fd = lib.ami_client_event_fd(self._handle())
        if fd < 0:
            raise _error(1)
        return fd

    @property
    def id(self) -> int:
        """The client's number in log records (``record.ami_client``)."""
        return lib.ami_client_id(self._ptr) if self._ptr else 0

    @property
    def dropped_events(self) -> int:
        return lib.ami_client_dropped_events(self._ptr) if self._ptr else 0

    def logoff(self) -> None:
        """Polite Logoff, then close the connection."""
        _check(lib.ami_client_logoff(self._handle()))

    def close(self) -> None:
        """Closes the client: pending actions end with ClosedError (their
        callbacks run first). Idempotent."""
        ptr, self._ptr = self._ptr, None
        if ptr:
            lib.ami_client_free(ptr)
        # Every callback has run or will never run: let them go.
        self._pending.clear()
        self._subscriptions.clear()
