//! Generated ActionIDs: unique across connections and processes (Asterisk
//! broadcasts `OriginateResponse` with the originator's ActionID to every
//! session) and short (Asterisk copies them into buffers of about 64 bytes).

use std::borrow::Borrow;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

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
    let mut digits = [0u8; 13];
    String::from_utf8_lossy(base36_digits(n, &mut digits)).into_owned()
}

/// `n` in base 36 (36^13 > 2^64), written at the end of `digits`.
fn base36_digits(mut n: u64, digits: &mut [u8; 13]) -> &[u8] {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = DIGITS[(n % 36) as usize];
        n /= 36;
        if n == 0 {
            break;
        }
    }
    &digits[at..]
}

/// Numbers are taken from [`COUNTER`] a block at a time by each thread:
/// unique, and a sender's every action costs no atomic operation on a
/// counter other threads write too.
const BLOCK: u64 = 1024;

fn next_number() -> u64 {
    thread_local! {
        static NEXT: std::cell::Cell<(u64, u64)> = const { std::cell::Cell::new((0, 0)) };
    }
    NEXT.with(|next| {
        let (mut n, mut end) = next.get();
        if n == end {
            n = COUNTER.fetch_add(BLOCK, Ordering::Relaxed);
            end = n + BLOCK;
        }
        next.set((n + 1, end));
        n
    })
}

/// The next ActionID, like `3k9x0q2m1z7a-1f` (at most 27 characters),
/// without an allocation.
pub(crate) fn next_id() -> ActionId {
    let n = next_number();
    let (prefix, mut digits) = (prefix().as_bytes(), [0u8; 13]);
    let count = base36_digits(n, &mut digits);
    let len = prefix.len() + 1 + count.len();
    let mut bytes = [0u8; INLINE];
    bytes[..prefix.len()].copy_from_slice(prefix);
    bytes[prefix.len()] = b'-';
    bytes[prefix.len() + 1..len].copy_from_slice(count);
    ActionId::Inline { len: len as u8, bytes }
}

/// [`next_id`] as a `String`.
pub(crate) fn next() -> String {
    next_id().as_str().to_owned()
}

/// An ActionID as the engine keys actions by. Ours (at most 27 bytes) and
/// most others are held inline: an action costs no allocation for its ID,
/// and none that the loop thread frees for the sending thread (the slow
/// path of glibc's allocator).
#[derive(Clone)]
pub(crate) enum ActionId {
    Inline { len: u8, bytes: [u8; INLINE] },
    Shared(Arc<str>),
}

const INLINE: usize = 30;

impl ActionId {
    pub(crate) fn new(id: &str) -> ActionId {
        if id.len() > INLINE {
            return ActionId::Shared(id.into());
        }
        let mut bytes = [0u8; INLINE];
        bytes[..id.len()].copy_from_slice(id.as_bytes());
        ActionId::Inline { len: id.len() as u8, bytes }
    }

    pub(crate) fn as_str(&self) -> &str {
        match self {
            // SAFETY: the bytes were copied whole from a `&str` in `new`.
            ActionId::Inline { len, bytes } => unsafe { std::str::from_utf8_unchecked(&bytes[..*len as usize]) },
            ActionId::Shared(s) => s,
        }
    }
}

impl std::ops::Deref for ActionId {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

/// Lookups by `&str` (an answer's ActionID): hashing and equality are the
/// string's, as `Borrow` requires.
impl Borrow<str> for ActionId {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl Hash for ActionId {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
    }
}

impl PartialEq for ActionId {
    fn eq(&self, other: &ActionId) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for ActionId {}

impl PartialOrd for ActionId {
    fn partial_cmp(&self, other: &ActionId) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ActionId {
    fn cmp(&self, other: &ActionId) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl std::fmt::Debug for ActionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.as_str().fmt(f)
    }
}

impl std::fmt::Display for ActionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.as_str().fmt(f)
    }
}

/// Hashes ActionIDs for a connection's map of pending actions (and the
/// loop's connection numbers): a
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

impl IdHasher {
    fn mix(&mut self, word: u64) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(K);
    }
}

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            self.mix(u64::from_le_bytes(w.try_into().expect("chunks of 8")));
        }
        // The tail as a little-endian word, byte by byte (a copy of a
        // variable length is a memmove call, per key).
        let tail = words.remainder();
        if !tail.is_empty() {
            self.mix(tail.iter().rev().fold(0, |word, &b| word << 8 | u64::from(b)));
        }
    }

    /// Connection numbers (the loop's map of connections).
    fn write_u64(&mut self, n: u64) {
        self.mix(n);
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
    fn unique_across_threads_and_blocks() {
        let per_thread = 3 * super::BLOCK as usize + 5; // each thread crosses blocks
        let threads: Vec<_> = (0..4).map(|_| std::thread::spawn(move || (0..per_thread).map(|_| super::next()).collect::<Vec<_>>())).collect();
        let mut all = std::collections::HashSet::new();
        for t in threads {
            for id in t.join().unwrap() {
                assert!(all.insert(id.clone()), "{id} twice");
            }
        }
        assert_eq!(all.len(), 4 * per_thread);
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
