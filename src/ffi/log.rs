//! The log callback: what the library did and, at `trace`, said on the wire.

use std::ffi::{CString, c_char, c_int, c_void};
use std::sync::Arc;

use super::guard;
use crate::logging::{self, LogLevel};

/// Levels of log records (option `log_level`: `error`, `warn`, `info`,
/// `debug`, `trace`; each includes the ones before it).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ami_log_level {
    /// Failures: TLS, protocol errors, a server that is not AMI, a rejected login.
    AMI_LOG_ERROR = 1,
    /// Lost connections, events dropped by the overflow policy, panics caught in callbacks.
    AMI_LOG_WARN = 2,
    /// Connection state changes and reconnect attempts (the default level).
    AMI_LOG_INFO = 3,
    /// Action timeouts.
    AMI_LOG_DEBUG = 4,
    /// Every message read (`<- `) and written (`-> `), secrets as `********`.
    AMI_LOG_TRACE = 5,
}

/// Receives one log record: its `ami_log_level`, the client it is about
/// (`ami_client_id`; 0 for the library as a whole), its text (valid during
/// the call) and the `userdata` given to `ami_set_log_callback`.
pub type ami_log_cb = Option<unsafe extern "C" fn(level: c_int, client: u64, message: *const c_char, userdata: *mut c_void)>;

struct LogCallback {
    f: unsafe extern "C" fn(c_int, u64, *const c_char, *mut c_void),
    userdata: *mut c_void,
}

// SAFETY: the contract of ami_set_log_callback: the callback and its userdata
// may be used from any of the library's threads, at the same time.
unsafe impl Send for LogCallback {}
// SAFETY: as above.
unsafe impl Sync for LogCallback {}

impl LogCallback {
    fn call(&self, level: LogLevel, client: u64, text: &str) {
        // A server's bytes may hold NULs: shown, not cut at.
        let text = CString::new(text.replace('\0', "\\0")).unwrap_or_default();
        // SAFETY: a valid function pointer from the caller; the text lives for the call.
        unsafe { (self.f)(level as c_int, client, text.as_ptr(), self.userdata) }
    }
}

/// Sends the library's log records to `cb` (NULL: no records; the default,
/// so nothing is ever printed). Process-wide; replaces the previous callback.
/// Each client filters by its option `log_level` (default `info`).
///
/// The callback runs on the library's threads, often several at once: the
/// loop thread (`ami-engine`: connections, wire traffic, timeouts), the
/// dispatch threads (`ami-dispatch`: dropped events, panics in callbacks)
/// and a thread calling into the library (a rejected login; at trace, a
/// blocking action that thread wrote itself). No library lock is held
/// while it runs, but it holds up the thread that logs: it must be quick and
/// thread-safe, and must not make blocking calls (`ami_client_action`...),
/// which on the loop thread would wait for themselves.
#[unsafe(no_mangle)]
pub extern "C" fn ami_set_log_callback(cb: ami_log_cb, userdata: *mut c_void) {
    guard((), || {
        let sink: Option<logging::Sink> = cb.map(|f| {
            let cb = LogCallback { f, userdata };
            Arc::new(move |level: LogLevel, client: u64, text: &str| cb.call(level, client, text)) as logging::Sink
        });
        logging::set_sink(sink);
    })
}
