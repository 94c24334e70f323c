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

/// A thread's block of numbers and the ID it made of the last one taken:
/// the next is that ID with its base-36 count stepped by one, with no
/// division per digit.
#[derive(Clone, Copy)]
struct Ids {
    next: u64,
    end: u64,
    /// The last ID's bytes (`len` 0: none yet in this block).
    bytes: [u8; INLINE],
    len: u8,
}

/// The next ActionID, like `3k9x0q2m1z7a-1f` (at most 27 characters),
/// without an allocation.
pub(crate) fn next_id() -> ActionId {
    thread_local! {
        static IDS: std::cell::Cell<Ids> = const { std::cell::Cell::new(Ids { next: 0, end: 0, bytes: [0; INLINE], len: 0 }) };
    }
    IDS.with(|cell| {
        let mut ids = cell.get();
        if ids.next == ids.end {
            ids.next = COUNTER.fetch_add(BLOCK, Ordering::Relaxed);
            (ids.end, ids.len) = (ids.next + BLOCK, 0);
        }
        let prefix = prefix().as_bytes();
        let count = prefix.len() + 1..ids.len as usize;
        if ids.len == 0 || !step_base36(&mut ids.bytes[count]) {
            let mut digits = [0u8; 13];
            let count = base36_digits(ids.next, &mut digits);
            let len = prefix.len() + 1 + count.len();
            ids.bytes[..prefix.len()].copy_from_slice(prefix);
            ids.bytes[prefix.len()] = b'-';
            ids.bytes[prefix.len() + 1..len].copy_from_slice(count);
            ids.len = len as u8;
        }
        ids.next += 1;
        cell.set(ids);
        ActionId::Inline { len: ids.len, bytes: ids.bytes }
    })
}

/// Adds one to the base-36 number `digits` in place; false (`digits`
/// unchanged) when it would need one digit more.
fn step_base36(digits: &mut [u8]) -> bool {
    for d in digits.iter_mut().rev() {
        match *d {
            b'z' => *d = b'0', // and carry
            b'9' => {
                *d = b'a';
                return true;
            }
            _ => {
                *d += 1;
                return true;
            }
        }
    }
    digits.fill(b'z'); // carried past the first digit: undone
    false
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
    fn stepped_ids_are_the_numbers_in_base36() {
        for n in [0u64, 8, 9, 35, 36, 1295, 1296, 46_655, 1023, 1024, 123_456_789] {
            let mut digits = [0u8; 13];
            let mut stepped = super::base36_digits(n, &mut digits).to_vec();
            match super::step_base36(&mut stepped) {
                true => assert_eq!(stepped, super::base36(n + 1).as_bytes(), "{n}"),
                false => assert!(stepped.iter().all(|&d| d == b'z') && super::base36(n + 1).len() > stepped.len(), "{n}"),
            }
        }
        // Taken in a row on one thread, IDs count up by one (across the
        // digit counts' edges too) until the block ends.
        let ids: Vec<String> = (0..3 * super::BLOCK).map(|_| super::next()).collect();
        let number = |id: &str| u64::from_str_radix(id.rsplit('-').next().unwrap(), 36).unwrap();
        let steps = ids.windows(2).filter(|w| number(&w[1]) == number(&w[0]) + 1).count();
        assert!(steps as u64 >= 3 * super::BLOCK - 3, "{steps} steps of one");
        assert!(ids.iter().all(|id| id.split('-').next() == Some(super::prefix())));
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
