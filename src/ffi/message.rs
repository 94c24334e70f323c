//! `ami_message`: actions built by the caller, responses and events handed
//! out by the library. Strings returned by these functions point into the
//! message (every name and value is NUL-terminated in its text): valid until
//! the message is changed or freed.

use std::ffi::{c_char, c_int};

use super::{arg, arg_mut, bytes, fail, give_string, guard, guard_status};
use crate::Message;
use crate::error::Error;

/// An AMI message (opaque): an action, a response, or an event.
// Transparent so a library-owned `&Message` is a valid `*const ami_message`;
// written as cfg_attr so cbindgen, which reads it as no repr, keeps the type opaque.
#[cfg_attr(not(any()), repr(transparent))]
pub struct ami_message(pub(crate) Message);

impl ami_message {
    /// The C view of a message the library owns (a list item, a callback's event).
    pub(crate) fn borrowed(m: &Message) -> *const ami_message {
        (m as *const Message).cast()
    }

    pub(crate) fn boxed(m: Message) -> *mut ami_message {
        Box::into_raw(Box::new(ami_message(m)))
    }
}

fn ptr(bytes_with_nul: Option<&[u8]>) -> *const c_char {
    bytes_with_nul.map_or(std::ptr::null(), |b| b.as_ptr().cast())
}

/// A new action with the header `Action: <action>`. NULL (with
/// `ami_last_error`) if `action` is NULL, empty, or holds CR or LF.
#[unsafe(no_mangle)]
pub extern "C" fn ami_message_new(action: *const c_char) -> *mut ami_message {
    guard(std::ptr::null_mut(), || {
        let made = bytes(action, "action").and_then(|name| {
            if name.is_empty() {
                return Err(Error::InvalidArgument("empty action name".into()));
            }
            let mut m = Message::new();
            m.add_bytes(b"Action", name)?;
            Ok(m)
        });
        match made {
            Ok(m) => ami_message::boxed(m),
            Err(e) => {
                fail(e);
                std::ptr::null_mut()
            }
        }
    })
}

/// Appends a header (duplicates allowed). `AMI_EINVAL` for NULL, an empty
/// name, or CR or LF in the name or value.
#[unsafe(no_mangle)]
pub extern "C" fn ami_message_add(m: *mut ami_message, name: *const c_char, value: *const c_char) -> c_int {
    guard_status(|| {
        let m = arg_mut(m, "message")?;
        m.0.add_bytes(bytes(name, "name")?, bytes(value, "value")?)?;
        Ok(())
    })
}

/// Makes the action complete on a later event of that name carrying its
/// ActionID (for example `OriginateResponse` after `Originate` with
/// `Async: true`); the response then holds the event's headers.
#[unsafe(no_mangle)]
pub extern "C" fn ami_message_wait_event(action: *mut ami_message, event_name: *const c_char) -> c_int {
    guard_status(|| {
        let m = arg_mut(action, "action")?;
        let name = std::str::from_utf8(bytes(event_name, "event_name")?)
            .map_err(|_| Error::InvalidArgument("event_name is not UTF-8".into()))?;
        m.0.wait_event(name)?;
        Ok(())
    })
}

/// The first value of `name` (case-insensitive), or NULL if absent.
#[unsafe(no_mangle)]
pub extern "C" fn ami_message_get(m: *const ami_message, name: *const c_char) -> *const c_char {
    guard(std::ptr::null(), || {
        let (Ok(m), Ok(name)) = (arg(m, "message"), bytes(name, "name")) else {
            return std::ptr::null();
        };
        ptr(m.0.index_of(name).and_then(|i| m.0.value_with_nul(i)))
    })
}

/// Number of headers (0 for NULL).
#[unsafe(no_mangle)]
pub extern "C" fn ami_message_count(m: *const ami_message) -> usize {
    guard(0, || arg(m, "message").map_or(0, |m| m.0.len()))
}

/// Name of header `i` in wire order, or NULL past the end.
#[unsafe(no_mangle)]
pub extern "C" fn ami_message_name_at(m: *const ami_message, i: usize) -> *const c_char {
    guard(std::ptr::null(), || arg(m, "message").map_or(std::ptr::null(), |m| ptr(m.0.name_with_nul(i))))
}

/// Value of header `i` in wire order, or NULL past the end.
#[unsafe(no_mangle)]
pub extern "C" fn ami_message_value_at(m: *const ami_message, i: usize) -> *const c_char {
    guard(std::ptr::null(), || arg(m, "message").map_or(std::ptr::null(), |m| ptr(m.0.value_with_nul(i))))
}

/// Every value of `name`, joined with `sep` (NULL: `"\n"`), as a new string
/// (`""` when absent); free it with `ami_string_free`. NULL on bad arguments.
#[unsafe(no_mangle)]
pub extern "C" fn ami_message_join(m: *const ami_message, name: *const c_char, sep: *const c_char) -> *mut c_char {
    guard(std::ptr::null_mut(), || {
        let joined = (|| {
            let m = arg(m, "message")?;
            let name = bytes(name, "name")?;
            let sep = if sep.is_null() { &b"\n"[..] } else { bytes(sep, "sep")? };
            let values: Vec<&[u8]> = (0..m.0.len())
                .filter(|&i| m.0.name_bytes_at(i).is_some_and(|n| n.eq_ignore_ascii_case(name)))
                .filter_map(|i| m.0.value_bytes_at(i))
                .collect();
            let out = values.join(sep);
            Ok::<_, Error>(out)
        })();
        match joined {
            Ok(out) => give_string(&out),
            Err(e) => {
                fail(e);
                std::ptr::null_mut()
            }
        }
    })
}

/// 1 when `Response` is `Success`, `Follows` or `Goodbye`, else 0.
#[unsafe(no_mangle)]
pub extern "C" fn ami_message_is_success(m: *const ami_message) -> c_int {
    guard(0, || arg(m, "message").map_or(0, |m| c_int::from(m.0.is_success())))
}

/// Number of events of a list response (items, then the closing event).
#[unsafe(no_mangle)]
pub extern "C" fn ami_message_list_count(response: *const ami_message) -> usize {
    guard(0, || arg(response, "response").map_or(0, |m| m.0.list().len()))
}

/// Event `i` of a list response, owned by the response; NULL past the end.
#[unsafe(no_mangle)]
pub extern "C" fn ami_message_list_at(response: *const ami_message, i: usize) -> *const ami_message {
    guard(std::ptr::null(), || {
        arg(response, "response")
            .ok()
            .and_then(|m| m.0.list().get(i))
            .map_or(std::ptr::null(), ami_message::borrowed)
    })
}

/// The wire form (`"Name: value\r\n"`... `"\r\n"`) as a new string; free it
/// with `ami_string_free`.
#[unsafe(no_mangle)]
pub extern "C" fn ami_message_to_string(m: *const ami_message) -> *mut c_char {
    guard(std::ptr::null_mut(), || match arg(m, "message").and_then(|m| Ok(m.0.to_wire()?)) {
        Ok(wire) => give_string(&wire),
        Err(e) => {
            fail(e);
            std::ptr::null_mut()
        }
    })
}

/// A deep copy (list included); free it with `ami_message_free`.
#[unsafe(no_mangle)]
pub extern "C" fn ami_message_clone(m: *const ami_message) -> *mut ami_message {
    guard(std::ptr::null_mut(), || match arg(m, "message") {
        Ok(m) => ami_message::boxed(m.0.clone()),
        Err(e) => {
            fail(e);
            std::ptr::null_mut()
        }
    })
}

/// Frees a message the caller owns. NULL is a no-op.
#[unsafe(no_mangle)]
pub extern "C" fn ami_message_free(m: *mut ami_message) {
    guard((), || {
        if !m.is_null() {
            // SAFETY: `m` came from this library as an owned message
            // (ami_message_new, _clone, a response, a pulled event), freed once.
            drop(unsafe { Box::from_raw(m) });
        }
    })
}
