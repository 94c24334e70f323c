"""Loads libami.so and declares the C functions of ami.h (ctypes)."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from pathlib import Path
from typing import List

c_char_p = ctypes.c_char_p
c_int = ctypes.c_int
c_void_p = ctypes.c_void_p
c_size_t = ctypes.c_size_t
c_uint16 = ctypes.c_uint16
c_uint64 = ctypes.c_uint64

EVENT_CB = ctypes.CFUNCTYPE(None, c_void_p, c_void_p)
RESPONSE_CB = ctypes.CFUNCTYPE(None, c_int, c_void_p, c_void_p)
STATE_CB = ctypes.CFUNCTYPE(None, c_int, c_int, c_void_p)
# (text, len, count, userdata): a run of events in wire form. The text is a
# c_void_p, read with string_at(text, len): it may hold NUL bytes.
EVENTS_CB = ctypes.CFUNCTYPE(None, c_void_p, ctypes.c_size_t, ctypes.c_size_t, c_void_p)
# (level, client id, text, userdata): one record of the library's log.
LOG_CB = ctypes.CFUNCTYPE(None, c_int, c_uint64, c_char_p, c_void_p)


def _candidates() -> List[str]:
    here = Path(__file__).resolve().parent
    found = []
    env = os.environ.get("AMI_LIBRARY")
    if env:
        found.append(env)
    # The wheel's own copy (setuptools-rust names it after the extension).
    found += [str(p) for p in sorted(here.glob("libami*.so*"))]
    # A checkout: bindings/python/ami -> target/release.
    repo = here.parent.parent.parent
    found += [str(repo / "target" / "release" / "libami.so"), str(repo / "target" / "debug" / "libami.so")]
    system = ctypes.util.find_library("ami")
    found += [system] if system else []
    found += ["libami.so.1", "libami.so"]
    return found


def _load() -> ctypes.CDLL:
    tried = []
    for path in _candidates():
        if path in tried:
            continue
        tried.append(path)
        if os.sep in path and not os.path.exists(path):
            continue
        try:
            lib = ctypes.CDLL(path)
            lib.ami_client_new  # the modern API must be there
            return lib
        except (OSError, AttributeError):
            continue
    raise OSError(
        "cannot load libami: set AMI_LIBRARY to the path of libami.so, or build it "
        "(cargo build --release). Tried: " + ", ".join(tried)
    )


lib = _load()


def _fn(name: str, restype, *argtypes) -> None:
    f = getattr(lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)


_fn("ami_version", c_char_p)
_fn("ami_strerror", c_char_p, c_int)
_fn("ami_last_error", c_char_p)
_fn("ami_string_free", None, c_void_p)
_fn("ami_options_new", c_void_p)
_fn("ami_options_set", c_int, c_void_p, c_char_p, c_char_p)
_fn("ami_options_free", None, c_void_p)
_fn("ami_client_new", c_void_p, c_void_p)
_fn("ami_client_connect", c_int, c_void_p, c_char_p, c_uint16)
_fn("ami_client_login", c_int, c_void_p, c_char_p, c_char_p)
_fn("ami_client_banner", c_char_p, c_void_p)
_fn("ami_client_state", c_int, c_void_p)
_fn("ami_client_send", c_int, c_void_p, c_void_p, ctypes.POINTER(c_void_p), c_int)
_fn("ami_client_send_async", c_int, c_void_p, c_void_p, RESPONSE_CB, c_void_p)
_fn("ami_client_subscribe", c_uint64, c_void_p, c_char_p, EVENT_CB, c_void_p)
_fn("ami_client_subscribe_batch", c_uint64, c_void_p, c_char_p, EVENTS_CB, c_void_p)
_fn("ami_client_unsubscribe", c_int, c_void_p, c_uint64)
_fn("ami_client_on_state", None, c_void_p, STATE_CB, c_void_p)
_fn("ami_client_next_event", c_int, c_void_p, ctypes.POINTER(c_void_p), c_int)
_fn(
    "ami_client_next_events", c_int, c_void_p, ctypes.c_size_t, c_int,
    ctypes.POINTER(c_void_p), ctypes.POINTER(ctypes.c_size_t), ctypes.POINTER(ctypes.c_size_t),
)
_fn("ami_buffer_free", None, c_void_p, ctypes.c_size_t)
_fn("ami_client_event_fd", c_int, c_void_p)
_fn("ami_client_dropped_events", c_uint64, c_void_p)
_fn("ami_client_id", c_uint64, c_void_p)
_fn("ami_client_send_queued", c_int, c_void_p, c_void_p, c_uint64)
_fn("ami_client_completion_fd", c_int, c_void_p)
_fn(
    "ami_client_next_completions",
    c_int,
    c_void_p,
    c_size_t,
    ctypes.POINTER(c_uint64),
    ctypes.POINTER(c_int),
    ctypes.POINTER(c_size_t),
    ctypes.POINTER(c_void_p),
    ctypes.POINTER(c_size_t),
)
_fn("ami_set_log_callback", None, LOG_CB, c_void_p)
_fn("ami_client_logoff", c_int, c_void_p)
_fn("ami_client_free", None, c_void_p)
_fn("ami_message_new", c_void_p, c_char_p)
_fn("ami_message_add", c_int, c_void_p, c_char_p, c_char_p)
_fn("ami_message_wait_event", c_int, c_void_p, c_char_p)
_fn("ami_message_count", c_size_t, c_void_p)
_fn("ami_message_name_at", c_char_p, c_void_p, c_size_t)
_fn("ami_message_value_at", c_char_p, c_void_p, c_size_t)
_fn("ami_message_list_count", c_size_t, c_void_p)
_fn("ami_message_list_at", c_void_p, c_void_p, c_size_t)
_fn("ami_message_free", None, c_void_p)
_fn("ami_message_to_string", c_void_p, c_void_p)
