//! `ami_options`: string key/value configuration, copied into each client.

use std::ffi::{c_char, c_int};

use super::{arg_mut, guard, guard_status, text};
use crate::Options;

/// Client options (opaque). Create with `ami_options_new`, free with `ami_options_free`.
pub struct ami_options(pub(crate) Options);

/// New options with the documented defaults. Free with `ami_options_free`.
#[unsafe(no_mangle)]
pub extern "C" fn ami_options_new() -> *mut ami_options {
    guard(std::ptr::null_mut(), || Box::into_raw(Box::new(ami_options(Options::default()))))
}

/// Sets one option (`connect_timeout_ms`, `action_timeout_ms`, `events`,
/// `auth`, `tls`, `tls_ca_file`, `tls_insecure`, `tls_server_name`,
/// `tls_pin_sha256` (the server certificate's SHA-256, hex, colons allowed),
/// `reconnect`, `reconnect_min_ms`, `reconnect_max_ms`, `keepalive_ms`,
/// `offline_actions` (`wait` or `fail`: actions sent while reconnecting),
/// `event_queue`, `event_queue_limit`, `overflow`, `max_message_size`,
/// `max_headers`, `max_pending` (actions unsent or unanswered at once,
/// default 100000) and `max_pending_bytes` (their bytes, default 64 MiB):
/// past either an asynchronous send fails with `AMI_EFULL` and a blocking
/// one waits for room up to its deadline, `dispatch_threads`: the threads that run every client's
/// callbacks, shared by the process, default 4; `transport` (`tcp`, the
/// default, or `http`: Asterisk's HTTP server, port 8088, HTTPS with
/// `tls=1`), `http_path` (`/rawman`, the default: cookie session and Login
/// action; `/arawman`: HTTP Digest, no Login action; any `http.conf`
/// prefix before them), `http_connections` (keep-alive connections that
/// carry actions, default 4, at most 16; actions in flight together on
/// several may run in any order). Unknown key or bad value:
/// `AMI_EINVAL`, detail names the key.
/// `tls_insecure=1` skips certificate checks: for testing only.
#[unsafe(no_mangle)]
pub extern "C" fn ami_options_set(o: *mut ami_options, key: *const c_char, value: *const c_char) -> c_int {
    guard_status(|| {
        let o = arg_mut(o, "options")?;
        o.0.set(text(key, "key")?, text(value, "value")?)
    })
}

/// Frees options. NULL is a no-op.
#[unsafe(no_mangle)]
pub extern "C" fn ami_options_free(o: *mut ami_options) {
    guard((), || {
        if !o.is_null() {
            // SAFETY: `o` came from ami_options_new and is freed once.
            drop(unsafe { Box::from_raw(o) });
        }
    })
}
