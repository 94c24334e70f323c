//! Message buffers handed back from the threads that drop messages in bulk
//! (the dispatch pool, after a run of callbacks) to the thread that decodes
//! them (the loop). glibc's malloc serves such a producer/consumer pair
//! badly: every free on the consumer takes the producer arena's lock, every
//! malloc on the producer misses its thread cache. Measured on the event
//! flood, the frees alone were a third of the dispatch thread's time.

use std::cell::RefCell;
use std::sync::Mutex;

use super::Message;

/// Spare buffers kept for the process (at most `MAX_SPARE` x `MAX_SIZE`:
/// 2 MiB; a typical event's buffer is under 1 KiB).
const MAX_SPARE: usize = 512;
/// Larger buffers go back to the allocator: they are rare and would pin memory.
const MAX_SIZE: usize = 4096;

static SPARE: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

thread_local! {
    /// The decoding thread's share, refilled from `SPARE` under one lock.
    static LOCAL: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

/// An empty buffer with room for `len` bytes, a spare one when there is one.
pub(crate) fn buffer(len: usize) -> Vec<u8> {
    if len > MAX_SIZE {
        return Vec::with_capacity(len);
    }
    let spare = LOCAL
        .try_with(|local| {
            let mut local = local.borrow_mut();
            if local.is_empty() {
                let mut spare = SPARE.lock().unwrap_or_else(|p| p.into_inner());
                std::mem::swap(&mut *local, &mut *spare);
            }
            local.pop()
        })
        .ok()
        .flatten();
    match spare {
        Some(mut buf) => {
            buf.reserve(len);
            buf
        }
        None => Vec::with_capacity(len),
    }
}

/// Takes the buffers of `run`'s messages for later decoding (under one
/// lock), leaving `run` empty; what does not fit is freed as usual.
pub(crate) fn give(run: &mut Vec<Message>) {
    if run.is_empty() {
        return;
    }
    let mut spare = SPARE.lock().unwrap_or_else(|p| p.into_inner());
    for message in run.drain(..) {
        if spare.len() >= MAX_SPARE {
            break; // the rest drop with the drain
        }
        let mut buf = message.into_buffer();
        if buf.capacity() > 0 && buf.capacity() <= MAX_SIZE {
            buf.clear();
            spare.push(buf);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_come_back_empty_and_large_enough() {
        let mut run: Vec<Message> =
            (0..3).map(|i| Message::action("Ping").unwrap().with("N", &i.to_string()).unwrap()).collect();
        give(&mut run);
        assert!(run.is_empty());
        for want in [10, 100, 3000, 10_000] {
            let b = buffer(want);
            assert!(b.is_empty() && b.capacity() >= want);
        }
    }
}
