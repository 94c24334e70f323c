//! The library's log: what a program sees instead of a packet capture.
//!
//! A record goes to the sink set by `ami_set_log_callback` (the C API and
//! the bindings) and to the `log` crate facade (target `ami`, for Rust
//! programs and their logger). Nothing is written to stderr. Each client
//! filters by its own `log_level` option; records without a client (the
//! dispatch pool, the loop) use `Warn`.
//!
//! Records are emitted with no lock held: the sink is cloned out of its
//! slot first, so it may call back into the library (even to replace itself).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// How much a client logs (option `log_level`); each level includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum LogLevel {
    /// Nothing.
    Off = 0,
    /// Failures: TLS, protocol errors, lost connections, panics caught in callbacks.
    Error = 1,
    /// Events dropped by the overflow policy, reconnect attempts that failed.
    Warn = 2,
    /// Connection state changes, logins, reconnect attempts (the default).
    Info = 3,
    /// Action timeouts, keepalive pings, HTTP session renewals.
    Debug = 4,
    /// Every message read and written, secrets replaced by `********`.
    Trace = 5,
}

impl LogLevel {
    /// `off`, `error`, `warn`, `info`, `debug` or `trace` (any case).
    pub fn parse(text: &str) -> Option<LogLevel> {
        Some(match text.trim().to_ascii_lowercase().as_str() {
            "off" | "none" => LogLevel::Off,
            "error" => LogLevel::Error,
            "warn" | "warning" => LogLevel::Warn,
            "info" => LogLevel::Info,
            "debug" => LogLevel::Debug,
            "trace" => LogLevel::Trace,
            _ => return None,
        })
    }

    fn facade(self) -> Option<log::Level> {
        Some(match self {
            LogLevel::Off => return None,
            LogLevel::Error => log::Level::Error,
            LogLevel::Warn => log::Level::Warn,
            LogLevel::Info => log::Level::Info,
            LogLevel::Debug => log::Level::Debug,
            LogLevel::Trace => log::Level::Trace,
        })
    }
}

/// Receives `(level, client id or 0, text)`.
pub(crate) type Sink = Arc<dyn Fn(LogLevel, u64, &str) + Send + Sync>;

static SINK: Mutex<Option<Sink>> = Mutex::new(None);
static HAS_SINK: AtomicBool = AtomicBool::new(false);

/// Replaces the process's sink (`None`: records go to the `log` facade only).
pub(crate) fn set_sink(sink: Option<Sink>) {
    let mut slot = SINK.lock().unwrap_or_else(|p| p.into_inner());
    HAS_SINK.store(sink.is_some(), Ordering::Release);
    *slot = sink;
}

/// True when a record of `level` from a client configured with `limit`
/// would reach anyone: callers test this before formatting.
pub(crate) fn enabled(limit: LogLevel, level: LogLevel) -> bool {
    level != LogLevel::Off
        && level <= limit
        && (HAS_SINK.load(Ordering::Acquire) || level.facade().is_some_and(|l| log::log_enabled!(target: "ami", l)))
}

/// Sends one record (already filtered by [`enabled`]).
pub(crate) fn emit(client: u64, level: LogLevel, text: &str) {
    if let Some(l) = level.facade() {
        match client {
            0 => log::log!(target: "ami", l, "{text}"),
            id => log::log!(target: "ami", l, "client {id}: {text}"),
        }
    }
    if !HAS_SINK.load(Ordering::Acquire) {
        return;
    }
    let sink = SINK.lock().unwrap_or_else(|p| p.into_inner()).clone();
    if let Some(sink) = sink {
        sink(level, client, text);
    }
}

/// Logs `format!(...)` for a client whose limit is `$limit`, formatting
/// only when the record goes somewhere.
macro_rules! ami_log {
    ($limit:expr, $client:expr, $level:ident, $($arg:tt)*) => {{
        let level = $crate::logging::LogLevel::$level;
        if $crate::logging::enabled($limit, level) {
            $crate::logging::emit($client, level, &format!($($arg)*));
        }
    }};
}
pub(crate) use ami_log;

/// At `Trace`: one record for bytes read (`<-`) or written (`->`).
pub(crate) fn wire(limit: LogLevel, client: u64, direction: &str, bytes: &[u8]) {
    if enabled(limit, LogLevel::Trace) {
        emit(client, LogLevel::Trace, &format!("{direction} {}", masked(bytes)));
    }
}

/// At `Trace`: one record for a message read, in its wire form.
pub(crate) fn wire_message(limit: LogLevel, client: u64, message: &crate::Message) {
    if enabled(limit, LogLevel::Trace) {
        let mut bytes = Vec::new();
        message.write_as_is(&mut bytes);
        emit(client, LogLevel::Trace, &format!("<- {}", masked(&bytes)));
    }
}

/// Header (and form field) names whose values are never logged.
const SECRET_HEADERS: [&str; 3] = ["Secret", "Key", "Authorization"];
pub(crate) const MASK: &str = "********";

/// The text of AMI wire bytes (or an HTTP request) with the values of
/// `Secret` and `Key` headers, `secret=`/`key=` form fields and Digest
/// `response=` parameters replaced by `MASK`; line ends shown as `\r\n`.
pub(crate) fn masked(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::with_capacity(text.len() + 16);
    for line in text.split_inclusive('\n') {
        let (body, end) = match line.strip_suffix("\r\n") {
            Some(b) => (b, "\\r\\n"),
            None => match line.strip_suffix('\n') {
                Some(b) => (b, "\\n"),
                None => (line, ""),
            },
        };
        out.push_str(&mask_line(body));
        out.push_str(end);
    }
    out
}

fn mask_line(line: &str) -> String {
    if let Some((name, _)) = line.split_once(':') {
        if SECRET_HEADERS.iter().any(|s| s.eq_ignore_ascii_case(name.trim())) {
            return format!("{name}: {MASK}");
        }
    }
    if line.contains('=') && !line.contains(' ') {
        return mask_form(line);
    }
    line.to_string()
}

/// `a=1&secret=x&key=y` (an HTTP form body or query).
fn mask_form(line: &str) -> String {
    let (head, query) = match line.split_once('?') {
        Some((h, q)) => (Some(h), q),
        None => (None, line),
    };
    let fields: Vec<String> = query
        .split('&')
        .map(|kv| match kv.split_once('=') {
            Some((k, _)) if SECRET_HEADERS.iter().any(|s| s.eq_ignore_ascii_case(k)) => format!("{k}={MASK}"),
            _ => kv.to_string(),
        })
        .collect();
    match head {
        Some(h) => format!("{h}?{}", fields.join("&")),
        None => fields.join("&"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked() {
        let login = b"Action: Login\r\nUsername: admin\r\nsecret: hunter2\r\nActionID: 1\r\n\r\n";
        let m = masked(login);
        assert!(!m.contains("hunter2") && m.contains("secret: ********") && m.contains("Username: admin"), "{m}");
        let m = masked(b"Action: Login\r\nAuthType: MD5\r\nKey: 0123abcd\r\n\r\n");
        assert!(!m.contains("0123abcd"), "{m}");
        let m = masked(b"action=Login&username=admin&secret=hunter2&actionid=1");
        assert_eq!(m, "action=Login&username=admin&secret=********&actionid=1");
        let m = masked(b"POST /rawman HTTP/1.1\r\nAuthorization: Digest username=\"admin\", response=\"abc\"\r\n\r\n");
        assert!(!m.contains("abc") && m.contains("Authorization: ********"), "{m}");
    }

    #[test]
    fn levels() {
        assert_eq!(LogLevel::parse("TRACE"), Some(LogLevel::Trace));
        assert_eq!(LogLevel::parse("warning"), Some(LogLevel::Warn));
        assert_eq!(LogLevel::parse("loud"), None);
        assert!(!enabled(LogLevel::Info, LogLevel::Debug));
        assert!(!enabled(LogLevel::Off, LogLevel::Off));
    }
}
