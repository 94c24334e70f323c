//! Generated ActionIDs: unique across connections and processes (Asterisk
//! broadcasts `OriginateResponse` with the originator's ActionID to every
//! session) and short (Asterisk copies them into buffers of about 64 bytes).

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

static COUNTER: AtomicU64 = AtomicU64::new(1);

/// A random per-process prefix: pid, time and the std hasher's random keys.
fn prefix() -> &'static str {
    static PREFIX: OnceLock<String> = OnceLock::new();
    PREFIX.get_or_init(|| {
        let mut h = RandomState::new().build_hasher();
        h.write_u32(std::process::id());
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        h.write_u128(now);
        base36(h.finish())
    })
}

fn base36(mut n: u64) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// The next ActionID, like `3k9x0q2m1z7a-1f` (at most 27 characters).
pub(crate) fn next() -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{}-{}", prefix(), base36(n))
}

#[cfg(test)]
mod tests {
    #[test]
    fn unique_and_short() {
        let a = super::next();
        let b = super::next();
        assert_ne!(a, b);
        assert!(a.len() < 32, "{a}");
        assert_eq!(a.split('-').next(), b.split('-').next());
    }
}
