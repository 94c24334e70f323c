//! Byte buffers passed between the library's threads for use again, rather
//! than freed on one thread after being allocated on another: glibc's
//! malloc serves that pattern badly (every free takes the allocating arena's
//! lock, every malloc on the allocating thread misses its cache). Measured
//! on the event flood, those frees were a third of the dispatch thread's
//! time; on pipelined actions, malloc and free were the top entries of all
//! three threads (caller, loop, dispatch).
//!
//! The flows: a message gives its buffer back when it is dropped, on
//! whatever thread (the dispatch pool after delivering events and
//! responses, a consumer of the pull queue, a binding), the loop takes them
//! to decode into; the loop gives back an action's wire bytes
//! once copied to the socket's buffer, the sending threads take them.
//!
//! Each thread keeps a few buffers of its own and trades with the shared
//! stock in bunches, so most takes and gives touch no lock.

use std::cell::RefCell;
use std::sync::Mutex;

/// Bytes the shared stock holds at most. A deep pipeline (a thousand
/// actions in flight) has thousands of small buffers in motion: a limit by
/// count (512 of them) sent every other one back to malloc and free.
const MAX_SPARE_BYTES: usize = 2 << 20;
/// Larger buffers go back to the allocator: they are rare and would pin memory.
const MAX_SIZE: usize = 4096;
/// A thread's own buffers at most; past it, `BUNCH` go to the stock.
const LOCAL_MAX: usize = 2 * BUNCH;
/// How many buffers move between a thread and the stock at once.
const BUNCH: usize = 32;

struct Stock {
    buffers: Vec<Vec<u8>>,
    /// Their capacities, summed.
    bytes: usize,
}

static SPARE: Mutex<Stock> = Mutex::new(Stock { buffers: Vec::new(), bytes: 0 });

thread_local! {
    static LOCAL: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

fn stock() -> std::sync::MutexGuard<'static, Stock> {
    SPARE.lock().unwrap_or_else(|p| p.into_inner())
}

/// An empty buffer with room for `len` bytes, a used one when there is one.
pub(crate) fn buffer(len: usize) -> Vec<u8> {
    if len > MAX_SIZE {
        return Vec::with_capacity(len);
    }
    let spare = LOCAL
        .try_with(|local| {
            let mut local = local.borrow_mut();
            if local.is_empty() {
                let mut stock = stock();
                let from = stock.buffers.len().saturating_sub(BUNCH);
                let taken: usize = stock.buffers[from..].iter().map(Vec::capacity).sum();
                stock.bytes -= taken;
                local.extend(stock.buffers.drain(from..));
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

/// Keeps `buf` for a later [`buffer`] (or frees it when it is too large or
/// the stock is full).
pub(crate) fn give_buffer(mut buf: Vec<u8>) {
    if buf.capacity() == 0 || buf.capacity() > MAX_SIZE {
        return;
    }
    buf.clear();
    let _ = LOCAL.try_with(|local| {
        let mut local = local.borrow_mut();
        local.push(buf);
        if local.len() >= LOCAL_MAX {
            let mut stock = stock();
            for _ in 0..BUNCH {
                let Some(b) = local.pop() else { break };
                if stock.bytes + b.capacity() > MAX_SPARE_BYTES {
                    break; // freed
                }
                stock.bytes += b.capacity();
                stock.buffers.push(b);
            }
            local.truncate(LOCAL_MAX - BUNCH); // the rest are freed
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::Message;

    #[test]
    fn buffers_come_back_empty_and_large_enough() {
        let mut run: Vec<Message> =
            (0..3).map(|i| Message::action("Ping").unwrap().with("N", &i.to_string()).unwrap()).collect();
        run.clear(); // dropped messages give their buffers back
        assert!(run.is_empty());
        for want in [10, 100, 3000, 10_000] {
            let b = buffer(want);
            assert!(b.is_empty() && b.capacity() >= want);
        }
    }

    #[test]
    fn a_thread_holds_a_bounded_number() {
        for _ in 0..10 * LOCAL_MAX {
            give_buffer(Vec::with_capacity(100));
        }
        assert!(LOCAL.with(|l| l.borrow().len()) < LOCAL_MAX);
        let stock = stock();
        assert!(stock.bytes <= MAX_SPARE_BYTES);
        assert_eq!(stock.bytes, stock.buffers.iter().map(Vec::capacity).sum::<usize>());
        drop(stock);
        give_buffer(Vec::with_capacity(MAX_SIZE + 1)); // freed, not kept
        assert!(LOCAL.with(|l| l.borrow().iter().all(|b| b.capacity() <= MAX_SIZE)));
    }
}
