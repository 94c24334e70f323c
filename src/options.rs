//! Client options, settable as typed fields or as string key/value pairs
//! (the form the C API and the bindings use, like librdkafka's configuration).

use std::time::Duration;

use crate::error::{Error, Result};
pub use crate::logging::LogLevel;

/// How the client logs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// `Username` and `Secret` in clear.
    Plain,
    /// `Challenge` then `Key` = md5(challenge + secret): the secret never crosses the wire.
    Md5,
}

/// How the client reaches the manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Carrier {
    /// AMI's own TCP protocol (port 5038, 5039 with TLS).
    Tcp,
    /// Asterisk's HTTP server (`/rawman` or `/arawman`, port 8088, 8089
    /// with TLS): actions as POSTs, events through a `waitevent` long poll.
    Http,
}

/// What happens when the event queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overflow {
    /// Drop the oldest queued event and count it (the default).
    DropOldest,
    /// Stop reading the socket until the consumer catches up. Loses nothing,
    /// but Asterisk drops a session that does not read within 100 ms.
    Block,
}

/// Client options. `Options::default()` gives the documented defaults.
///
/// ```
/// let mut o = ami::Options::default();
/// o.set("action_timeout_ms", "2500")?;
/// o.set("auth", "md5")?;
/// assert_eq!(o.action_timeout, std::time::Duration::from_millis(2500));
/// assert!(o.set("no_such_option", "1").is_err());
/// # Ok::<(), ami::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Options {
    /// Deadline for name resolution, TCP connect and the banner.
    pub connect_timeout: Duration,
    /// Default deadline of an action.
    pub action_timeout: Duration,
    /// Event mask sent at login (`on`, `off`, or classes like `call,system`).
    pub events: String,
    /// Login method.
    pub auth: Auth,
    /// TCP (the default) or HTTP.
    pub transport: Carrier,
    /// The manager's path on the HTTP server: `/rawman` (cookie session,
    /// `Login` action) or `/arawman` (HTTP Digest, no `Login` action), with
    /// any prefix of `http.conf` before it.
    pub http_path: String,
    /// Keep-alive HTTP connections that carry actions (Asterisk answers one
    /// request at a time on each); the event long poll has one more.
    pub http_connections: usize,
    /// AMI over TLS (rustls): from the first byte, server certificate and
    /// host name verified against `tls_ca_file` or the system's roots.
    pub tls: bool,
    /// CA bundle for TLS.
    pub tls_ca_file: Option<String>,
    /// Skip certificate checks. FOR TESTING ONLY: anyone on the path can
    /// then impersonate the server and read the secret.
    pub tls_insecure: bool,
    /// Server name for TLS verification.
    pub tls_server_name: Option<String>,
    /// Accept only the server certificate with this SHA-256 (hex, colons
    /// allowed), whatever its issuer.
    pub tls_pin_sha256: Option<String>,
    /// Threads of the process's dispatch pool that runs every client's
    /// callbacks (the pool grows to the largest a client asks; default 4).
    pub dispatch_threads: usize,
    /// Reconnect after a lost connection.
    pub reconnect: bool,
    /// Smallest reconnect backoff.
    pub reconnect_min: Duration,
    /// Largest reconnect backoff.
    pub reconnect_max: Duration,
    /// Keepalive period (zero: off): after half of it without a byte from
    /// the server a Ping goes out, and no answer within the other half counts
    /// as a lost connection, so a dead path is found within this period plus
    /// a quarter.
    pub keepalive: Duration,
    /// While reconnecting, actions wait for the link (up to their deadline)
    /// when true (the default), or fail at once with `Error::Closed`.
    pub offline_wait: bool,
    /// Keep events for [`crate::Client::next_event`].
    pub event_queue: bool,
    /// Events held for a slow consumer before the overflow policy applies.
    pub event_queue_limit: usize,
    /// Policy when the event queue is full.
    pub overflow: Overflow,
    /// Largest message accepted from the server, in bytes.
    pub max_message_size: usize,
    /// Most headers accepted in one message.
    pub max_headers: usize,
    /// Most actions unsent or unanswered at once; past it an asynchronous
    /// send fails with `Error::Full`, a blocking one waits for room.
    pub max_pending: usize,
    /// Most bytes of those actions.
    pub max_pending_bytes: usize,
    /// What this client logs (to `ami_set_log_callback`'s callback and the
    /// `log` crate facade); `Trace` adds every message, secrets masked.
    pub log_level: LogLevel,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            connect_timeout: Duration::from_millis(5000),
            action_timeout: Duration::from_millis(10000),
            events: "on".into(),
            auth: Auth::Plain,
            transport: Carrier::Tcp,
            http_path: "/rawman".into(),
            http_connections: 4,
            tls: false,
            tls_ca_file: None,
            tls_insecure: false,
            tls_server_name: None,
            tls_pin_sha256: None,
            reconnect: false,
            reconnect_min: Duration::from_millis(500),
            reconnect_max: Duration::from_millis(30000),
            keepalive: Duration::ZERO,
            offline_wait: true,
            event_queue: false,
            event_queue_limit: 100_000,
            dispatch_threads: crate::engine::dispatch::DEFAULT_POOL_THREADS,
            overflow: Overflow::DropOldest,
            max_message_size: 4 << 20,
            max_headers: 100_000,
            max_pending: 100_000,
            max_pending_bytes: 64 << 20,
            log_level: LogLevel::Info,
        }
    }
}

impl Options {
    /// Sets one option from strings. Unknown keys and bad values give
    /// `Error::InvalidArgument` naming the key.
    pub fn set(&mut self, key: &str, value: &str) -> Result<()> {
        let bad = || Error::InvalidArgument(format!("bad value {value:?} for option {key:?}"));
        let ms = || value.trim().parse::<u64>().map(Duration::from_millis).map_err(|_| bad());
        let flag = || match value.trim() {
            "0" | "false" | "no" | "off" => Ok(false),
            "1" | "true" | "yes" | "on" => Ok(true),
            _ => Err(bad()),
        };
        let count = || value.trim().parse::<usize>().ok().filter(|&n| n > 0).ok_or_else(bad);
        let text = || {
            if value.contains(['\r', '\n']) { Err(bad()) } else { Ok(value.to_string()) }
        };
        match key {
            "connect_timeout_ms" => self.connect_timeout = ms()?,
            "action_timeout_ms" => self.action_timeout = ms()?,
            "events" if !value.trim().is_empty() => self.events = text()?,
            "auth" => {
                self.auth = match value.trim().to_ascii_lowercase().as_str() {
                    "plain" => Auth::Plain,
                    "md5" => Auth::Md5,
                    _ => return Err(bad()),
                }
            }
            "transport" => {
                self.transport = match value.trim().to_ascii_lowercase().as_str() {
                    "tcp" => Carrier::Tcp,
                    "http" => Carrier::Http,
                    _ => return Err(bad()),
                }
            }
            "http_path" => {
                let path = text()?;
                if digest_path(&path).is_none() {
                    return Err(Error::InvalidArgument(format!(
                        "bad value {value:?} for option \"http_path\": the path must end in /rawman or /arawman"
                    )));
                }
                self.http_path = path;
            }
            "http_connections" => {
                self.http_connections = count()?;
                if self.http_connections > MAX_HTTP_CONNECTIONS {
                    return Err(bad());
                }
            }
            "tls" => self.tls = flag()?,
            "tls_ca_file" => self.tls_ca_file = Some(text()?),
            "tls_insecure" => self.tls_insecure = flag()?,
            "tls_server_name" => self.tls_server_name = Some(text()?),
            "tls_pin_sha256" => {
                crate::tls::parse_pin(value).ok_or_else(bad)?;
                self.tls_pin_sha256 = Some(text()?)
            }
            "reconnect" => self.reconnect = flag()?,
            "reconnect_min_ms" => self.reconnect_min = ms()?,
            "reconnect_max_ms" => self.reconnect_max = ms()?,
            "keepalive_ms" => self.keepalive = ms()?,
            "offline_actions" => {
                self.offline_wait = match value.trim() {
                    "wait" => true,
                    "fail" => false,
                    _ => return Err(bad()),
                }
            }
            "event_queue" => self.event_queue = flag()?,
            "event_queue_limit" => self.event_queue_limit = count()?,
            "dispatch_threads" => self.dispatch_threads = count()?,
            "overflow" => {
                self.overflow = match value.trim() {
                    "drop_oldest" => Overflow::DropOldest,
                    "block" => Overflow::Block,
                    _ => return Err(bad()),
                }
            }
            "max_message_size" => self.max_message_size = count()?,
            "max_headers" => self.max_headers = count()?,
            "max_pending" => self.max_pending = count()?,
            "max_pending_bytes" => self.max_pending_bytes = count()?,
            "log_level" => self.log_level = LogLevel::parse(value).ok_or_else(bad)?,
            "events" => return Err(bad()),
            _ => return Err(Error::InvalidArgument(format!("unknown option {key:?}"))),
        }
        Ok(())
    }
}

/// Most action connections of one HTTP client.
pub const MAX_HTTP_CONNECTIONS: usize = 16;

/// For a manager path: Some(true) for `/arawman` (HTTP Digest), Some(false)
/// for `/rawman` (cookie), None for anything else (`/manager` and `/mxml`
/// answer HTML and XML, not AMI).
pub(crate) fn digest_path(path: &str) -> Option<bool> {
    let last = path.rsplit('/').next()?;
    match path.starts_with('/') && !path.contains(['?', '#', ' ']) {
        true if last == "rawman" => Some(false),
        true if last == "arawman" => Some(true),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_keys() {
        let mut o = Options::default();
        o.set("action_timeout_ms", "250").unwrap();
        o.set("auth", "md5").unwrap();
        o.set("overflow", "block").unwrap();
        assert_eq!(o.action_timeout, Duration::from_millis(250));
        assert_eq!(o.auth, Auth::Md5);
        assert_eq!(o.overflow, Overflow::Block);
        assert!(matches!(o.set("nope", "1"), Err(Error::InvalidArgument(m)) if m.contains("nope")));
        assert!(matches!(o.set("tls", "maybe"), Err(Error::InvalidArgument(m)) if m.contains("tls")));
        assert!(o.set("event_queue_limit", "0").is_err());
        assert!(o.set("events", "on\r\nAction: Logoff").is_err());
        o.set("transport", "HTTP").unwrap();
        o.set("http_path", "/asterisk/arawman").unwrap();
        assert_eq!((o.transport, digest_path(&o.http_path)), (Carrier::Http, Some(true)));
        assert!(o.set("http_path", "/manager").is_err());
        assert!(o.set("http_path", "rawman").is_err());
        assert!(o.set("http_connections", "17").is_err());
        assert!(o.set("transport", "udp").is_err());
    }
}
