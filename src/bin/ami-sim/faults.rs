//! Fault injection: ways a server misbehaves, for testing clients.

use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Never send the banner; otherwise behave.
    NoBanner,
    /// Answer like an HTTP server, then close.
    WrongBanner,
    /// Random bytes, then close.
    Garbage,
    /// Cut the next response in half and close.
    CloseMidMessage,
    /// Write one byte every few milliseconds.
    Slow,
    /// Answer the next action with one message larger than any sane limit.
    Huge,
    /// Accept and never answer.
    Stall,
    /// Close after N more responses.
    DropAfter(u32),
    /// Answer the next action twice (a second response for its ActionID).
    DuplicateResponse,
    /// Send a response for an ActionID nobody sent, then the real one.
    UnknownId,
    /// Answer the next list without its closing event.
    OpenList,
    /// Put an event in the middle of the next answer (a list).
    Interleave,
    /// Cut the next response in half and reset the connection (RST).
    ResetMidMessage,
    /// Start a line that never ends.
    EndlessLine,
    /// Answer the next action with a million headers.
    MillionHeaders,
    /// Put NUL bytes and invalid UTF-8 in a value of the next response.
    NulUtf8,
}

impl FromStr for Fault {
    type Err = String;

    /// `drop-after N` also accepts `drop-after=N` and `drop-after:N`.
    fn from_str(s: &str) -> Result<Fault, String> {
        let s = s.trim().to_ascii_lowercase();
        let (mode, arg) = match s.split_once([' ', '=', ':']) {
            Some((m, a)) => (m.to_string(), Some(a.trim().to_string())),
            None => (s.clone(), None),
        };
        Ok(match (mode.as_str(), arg) {
            ("no-banner", None) => Fault::NoBanner,
            ("wrong-banner", None) => Fault::WrongBanner,
            ("garbage", None) => Fault::Garbage,
            ("close-mid-message", None) => Fault::CloseMidMessage,
            ("slow", None) => Fault::Slow,
            ("huge", None) => Fault::Huge,
            ("stall", None) => Fault::Stall,
            ("drop-after", Some(n)) => {
                Fault::DropAfter(n.parse().map_err(|_| format!("drop-after needs a count, not {n:?}"))?)
            }
            ("duplicate-response", None) => Fault::DuplicateResponse,
            ("unknown-id", None) => Fault::UnknownId,
            ("open-list", None) => Fault::OpenList,
            ("interleave", None) => Fault::Interleave,
            ("reset-mid-message", None) => Fault::ResetMidMessage,
            ("endless-line", None) => Fault::EndlessLine,
            ("million-headers", None) => Fault::MillionHeaders,
            ("nul-utf8", None) => Fault::NulUtf8,
            _ => return Err(format!(
                "unknown fault {s:?} (no-banner, wrong-banner, garbage, close-mid-message, slow, huge, stall, drop-after N, \
                 duplicate-response, unknown-id, open-list, interleave, reset-mid-message, endless-line, million-headers, nul-utf8)"
            )),
        })
    }
}

/// The response `bytes` (one or more messages) without its last message.
pub fn without_last_message(bytes: &[u8]) -> &[u8] {
    let body = &bytes[..bytes.len().saturating_sub(4)];
    match body.windows(4).rposition(|w| w == b"\r\n\r\n") {
        Some(end) => &bytes[..end + 4],
        None => &[],
    }
}

/// The response `bytes` with `event` after its first message.
pub fn with_event_inside(bytes: &[u8], event: &[u8]) -> Vec<u8> {
    let first = bytes.windows(4).position(|w| w == b"\r\n\r\n").map_or(bytes.len(), |p| p + 4);
    [&bytes[..first], event, &bytes[first..]].concat()
}

/// The response `bytes` with `header` (a whole line) before its first blank line.
pub fn with_header(bytes: &[u8], header: &[u8]) -> Vec<u8> {
    let end = bytes.windows(4).position(|w| w == b"\r\n\r\n").map_or(bytes.len(), |p| p + 2);
    [&bytes[..end], header, &bytes[end..]].concat()
}

/// What an HTTP server says to an AMI client.
pub const HTTP_ANSWER: &[u8] = b"HTTP/1.1 400 Bad Request\r\nServer: nginx\r\nContent-Type: text/html\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

/// `n` pseudo-random bytes (xorshift; no need for quality).
pub fn garbage(n: usize) -> Vec<u8> {
    let mut x = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1)
        | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::Fault;

    #[test]
    fn parses() {
        assert_eq!("drop-after 3".parse(), Ok(Fault::DropAfter(3)));
        assert_eq!("drop-after=2".parse(), Ok(Fault::DropAfter(2)));
        assert_eq!("STALL".parse(), Ok(Fault::Stall));
        assert!("drop-after".parse::<Fault>().is_err());
        assert!("nope".parse::<Fault>().is_err());
        assert_eq!("open-list".parse(), Ok(Fault::OpenList));
    }

    #[test]
    fn reshaping_a_response() {
        let list = b"Response: Success\r\nEventList: start\r\n\r\nEvent: A\r\n\r\nEvent: AComplete\r\n\r\n";
        assert_eq!(super::without_last_message(list), &list[..list.len() - 20]);
        assert_eq!(super::without_last_message(b"Response: Success\r\n\r\n"), b"");
        let inside = super::with_event_inside(b"R: 1\r\n\r\nE: 2\r\n\r\n", b"X: y\r\n\r\n");
        assert_eq!(inside, b"R: 1\r\n\r\nX: y\r\n\r\nE: 2\r\n\r\n");
        assert_eq!(super::with_header(b"R: 1\r\n\r\n", b"J: 2\r\n"), b"R: 1\r\nJ: 2\r\n\r\n");
    }
}
