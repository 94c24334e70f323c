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
            _ => return Err(format!(
                "unknown fault {s:?} (no-banner, wrong-banner, garbage, close-mid-message, slow, huge, stall, drop-after N)"
            )),
        })
    }
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
    }
}
