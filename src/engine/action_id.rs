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

fn base36(n: u64) -> String {
    let mut out = String::new();
    push_base36(&mut out, n);
    out
}

fn push_base36(out: &mut String, mut n: u64) {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut digits = [0u8; 13]; // 36^13 > 2^64
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = DIGITS[(n % 36) as usize];
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.extend(digits[at..].iter().map(|&d| d as char));
}

/// The next ActionID, like `3k9x0q2m1z7a-1f` (at most 27 characters), in
/// one allocation: every action without its own ActionID takes one.
pub(crate) fn next() -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let prefix = prefix();
    let mut id = String::with_capacity(prefix.len() + 14);
    id.push_str(prefix);
    id.push('-');
    push_base36(&mut id, n);
    id
}

/// Hashes ActionIDs for a connection's map of pending actions: a
/// multiply-rotate over eight bytes at a time from a per-process random
/// seed, several times cheaper than SipHash on these short keys. Only our
/// own sends insert into that map (a server's ActionIDs are only looked
/// up), so resisting crafted collisions matters little there.
#[derive(Clone, Copy)]
pub(crate) struct IdHash(u64);

impl Default for IdHash {
    fn default() -> IdHash {
        static SEED: OnceLock<u64> = OnceLock::new();
        IdHash(*SEED.get_or_init(|| RandomState::new().build_hasher().finish()))
    }
}

impl BuildHasher for IdHash {
    type Hasher = IdHasher;
    fn build_hasher(&self) -> IdHasher {
        IdHasher(self.0)
    }
}

pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(K);
        }
    }

    fn finish(&self) -> u64 {
        self.0 ^ (self.0 >> 29)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn id_hash_tells_near_ids_apart() {
        use std::hash::BuildHasher;
        let h = super::IdHash::default();
        let ids: std::collections::HashSet<u64> = (0..10_000).map(|n| h.hash_one(format!("abc-{n}"))).collect();
        assert_eq!(ids.len(), 10_000);
    }

    #[test]
    fn unique_and_short() {
        let a = super::next();
        let b = super::next();
        assert_ne!(a, b);
        assert!(a.len() < 32, "{a}");
        assert_eq!(a.split('-').next(), b.split('-').next());
        assert_eq!(super::base36(0), "0");
        assert_eq!(super::base36(36 * 36 + 35), "10z");
        assert_eq!(super::base36(u64::MAX), "3w5e11264sgsf");
    }
}
