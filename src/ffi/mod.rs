//! The modern C API of `include/ami.h` (../shared/API.md): a thin shell over
//! [`crate::Client`] and [`crate::Message`]. Every exported function runs its
//! body through [`guard`], so no panic crosses the boundary, and checks its
//! pointers with [`arg`] / [`text`], so NULL is `AMI_EINVAL`, never a crash.
#![allow(non_camel_case_types)]

mod client;
mod library;
mod log;
mod message;
mod options;

use std::cell::RefCell;
use std::ffi::{CStr, CString, c_char, c_int};
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::error::{Error, Result};

pub use client::*;
pub use library::*;
pub use log::*;
pub use message::*;
pub use options::*;

/// Status codes returned by every fallible function (fixed values).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ami_status {
    /// Success.
    AMI_OK = 0,
    /// Bad argument: NULL, empty action or header name, CR or LF inside a
    /// name or value, unknown option or bad option value.
    AMI_EINVAL = 1,
    /// The TCP (or TLS) connection could not be made: refused, unreachable,
    /// name not resolved.
    AMI_ECONNECT = 2,
    /// The peer answered but is not an AMI server (no `Asterisk Call Manager/` banner).
    AMI_ENOTAMI = 3,
    /// Login rejected.
    AMI_EAUTH = 4,
    /// The operation's deadline passed.
    AMI_ETIMEDOUT = 5,
    /// The connection was lost; every action still pending completes with this.
    AMI_EDISCONNECTED = 6,
    /// The server sent malformed or over-limit data.
    AMI_EPROTOCOL = 7,
    /// TLS handshake or certificate failure.
    AMI_ETLS = 8,
    /// The client was closed, or is not connected.
    AMI_ECLOSED = 9,
    /// A blocking call was made from inside a callback that it would wait on.
    AMI_EDEADLOCK = 10,
    /// Too many unsent or unanswered actions on this client (the
    /// `max_pending` limits): an asynchronous send fails at once, a blocking
    /// one waits for room up to its deadline.
    AMI_EFULL = 11,
    /// A bug inside the library (a caught panic).
    AMI_EINTERNAL = 99,
}

/// Connection states reported by `ami_client_state` and the state callback.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ami_state {
    /// No connection.
    AMI_STATE_DISCONNECTED = 0,
    /// Resolving, connecting, or waiting for the banner.
    AMI_STATE_CONNECTING = 1,
    /// Banner read.
    AMI_STATE_CONNECTED = 2,
    /// Login accepted.
    AMI_STATE_LOGGED_IN = 3,
    /// Waiting to reconnect after a lost connection.
    AMI_STATE_RECONNECTING = 4,
    /// Closed for good.
    AMI_STATE_CLOSED = 5,
}

const EINTERNAL: c_int = ami_status::AMI_EINTERNAL as c_int;

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

/// Records the calling thread's error detail for `ami_last_error`.
pub(crate) fn set_last_error(detail: &str) {
    let c = CString::new(detail.replace('\0', " ")).unwrap_or_default();
    LAST_ERROR.with(|e| *e.borrow_mut() = c);
}

fn last_error_ptr() -> *const c_char {
    LAST_ERROR.with(|e| e.borrow().as_ptr())
}

/// The C status of a result, recording the error detail.
pub(crate) fn status(result: Result<()>) -> c_int {
    match result {
        Ok(()) => ami_status::AMI_OK as c_int,
        Err(e) => fail(e),
    }
}

/// Records `e` and returns its status code.
pub(crate) fn fail(e: Error) -> c_int {
    set_last_error(&e.to_string());
    e.status()
}

/// The panic boundary of every exported function: runs `body`, and turns a
/// panic into `on_panic` (AMI_EINTERNAL, NULL or 0) with a detail.
pub(crate) fn guard<T>(on_panic: T, body: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(v) => v,
        Err(payload) => {
            let why = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            set_last_error(&format!("internal error (caught panic): {why}"));
            on_panic
        }
    }
}

/// [`guard`] for functions that return a status.
pub(crate) fn guard_status(body: impl FnOnce() -> Result<()>) -> c_int {
    guard(EINTERNAL, || status(body()))
}

/// Borrows a required handle argument.
pub(crate) fn arg<'a, T>(ptr: *const T, what: &str) -> Result<&'a T> {
    // SAFETY: the caller passes NULL or a pointer this library handed out
    // and has not freed (the documented contract of every handle).
    unsafe { ptr.as_ref() }.ok_or_else(|| Error::InvalidArgument(format!("{what} is NULL")))
}

/// Mutably borrows a required handle argument.
pub(crate) fn arg_mut<'a, T>(ptr: *mut T, what: &str) -> Result<&'a mut T> {
    // SAFETY: as in `arg`; the caller does not use the handle from another
    // thread while changing it (messages are not shared while built).
    unsafe { ptr.as_mut() }.ok_or_else(|| Error::InvalidArgument(format!("{what} is NULL")))
}

/// Borrows a required NUL-terminated string argument as bytes.
pub(crate) fn bytes<'a>(ptr: *const c_char, what: &str) -> Result<&'a [u8]> {
    if ptr.is_null() {
        return Err(Error::InvalidArgument(format!("{what} is NULL")));
    }
    // SAFETY: non-NULL, and the caller passes a NUL-terminated string.
    Ok(unsafe { CStr::from_ptr(ptr) }.to_bytes())
}

/// Borrows a required string argument that must be UTF-8 (host names, credentials).
pub(crate) fn text<'a>(ptr: *const c_char, what: &str) -> Result<&'a str> {
    std::str::from_utf8(bytes(ptr, what)?)
        .map_err(|_| Error::InvalidArgument(format!("{what} is not valid UTF-8")))
}

/// Hands a string to the caller, who frees it with `ami_string_free`.
pub(crate) fn give_string(bytes: &[u8]) -> *mut c_char {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    CString::new(&bytes[..end]).unwrap_or_default().into_raw()
}

/// `timeout_ms` < 0 means the default (or for ever, where there is none).
pub(crate) fn timeout(ms: c_int) -> Option<std::time::Duration> {
    u64::try_from(ms).ok().map(std::time::Duration::from_millis)
}
