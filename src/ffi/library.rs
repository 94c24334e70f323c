//! Library-wide functions: version, status names, the thread's last error.

use std::ffi::{CString, c_char, c_int};

use super::{ami_status, guard, last_error_ptr};

/// The library version, e.g. `"0.1.0"`. Static; never NULL.
#[unsafe(no_mangle)]
pub extern "C" fn ami_version() -> *const c_char {
    guard(c"?".as_ptr(), || concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast())
}

/// The name of a status code (`"AMI_ETIMEDOUT: timed out"`). Static; never NULL.
#[unsafe(no_mangle)]
pub extern "C" fn ami_strerror(status: c_int) -> *const c_char {
    guard(c"?".as_ptr(), || strerror(status).as_ptr().cast())
}

fn strerror(status: c_int) -> &'static str {
    use ami_status::*;
    match status {
        s if s == AMI_OK as c_int => "AMI_OK: success\0",
        s if s == AMI_EINVAL as c_int => "AMI_EINVAL: invalid argument\0",
        s if s == AMI_ECONNECT as c_int => "AMI_ECONNECT: connection failed\0",
        s if s == AMI_ENOTAMI as c_int => "AMI_ENOTAMI: peer is not an AMI server\0",
        s if s == AMI_EAUTH as c_int => "AMI_EAUTH: login rejected\0",
        s if s == AMI_ETIMEDOUT as c_int => "AMI_ETIMEDOUT: timed out\0",
        s if s == AMI_EDISCONNECTED as c_int => "AMI_EDISCONNECTED: connection lost\0",
        s if s == AMI_EPROTOCOL as c_int => "AMI_EPROTOCOL: malformed or over-limit data from the server\0",
        s if s == AMI_ETLS as c_int => "AMI_ETLS: TLS failure\0",
        s if s == AMI_ECLOSED as c_int => "AMI_ECLOSED: client closed or not connected\0",
        s if s == AMI_EDEADLOCK as c_int => "AMI_EDEADLOCK: blocking call from a callback would deadlock\0",
        s if s == AMI_EFULL as c_int => "AMI_EFULL: too many unsent or unanswered actions\0",
        s if s == AMI_EINTERNAL as c_int => "AMI_EINTERNAL: internal error\0",
        _ => "unknown status\0",
    }
}

/// Detail of the calling thread's last failure (`""` if none). Valid until
/// this thread's next call into the library.
#[unsafe(no_mangle)]
pub extern "C" fn ami_last_error() -> *const c_char {
    guard(c"internal error".as_ptr(), last_error_ptr)
}

/// Frees a string the library returned as `char *`. NULL is a no-op.
#[unsafe(no_mangle)]
pub extern "C" fn ami_string_free(s: *mut c_char) {
    guard((), || {
        if !s.is_null() {
            // SAFETY: `s` came from CString::into_raw in this library (the
            // contract of every `char *` it returns) and is freed once.
            drop(unsafe { CString::from_raw(s) });
        }
    })
}
