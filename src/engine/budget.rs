//! Bounded sending: a client holds at most `max_pending` actions, and
//! `max_pending_bytes` of their encoded bytes, that are unsent or
//! unanswered. Each action takes a [`Ticket`] before it goes to the loop;
//! the ticket travels with it and gives its room back when dropped, which
//! happens exactly when the action completes (or fails to be submitted).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

use crate::error::{Error, Result};

pub(crate) struct Budget {
    max_actions: usize,
    max_bytes: usize,
    actions: AtomicUsize,
    bytes: AtomicUsize,
    /// Blocking senders waiting for room (the release wakes them only then).
    waiters: AtomicUsize,
    lock: Mutex<()>,
    room: Condvar,
}

/// Room for one action; dropping it gives the room back.
pub(crate) struct Ticket {
    budget: Arc<Budget>,
    bytes: usize,
}

impl Budget {
    pub(crate) fn new(max_actions: usize, max_bytes: usize) -> Arc<Budget> {
        Arc::new(Budget {
            max_actions: max_actions.max(1),
            max_bytes: max_bytes.max(1),
            actions: AtomicUsize::new(0),
            bytes: AtomicUsize::new(0),
            waiters: AtomicUsize::new(0),
            lock: Mutex::new(()),
            room: Condvar::new(),
        })
    }

    /// Room for an action of `bytes`: at once, or `Error::Full`.
    pub(crate) fn try_take(self: &Arc<Budget>, bytes: usize) -> Result<Ticket> {
        let actions = self.actions.fetch_add(1, Ordering::AcqRel);
        let used = self.bytes.fetch_add(bytes, Ordering::AcqRel);
        // An action larger than the whole byte budget still goes alone.
        if actions < self.max_actions && (used + bytes <= self.max_bytes || actions == 0) {
            return Ok(Ticket { budget: Arc::clone(self), bytes });
        }
        // Undone without waking anyone: no room was freed.
        self.actions.fetch_sub(1, Ordering::AcqRel);
        self.bytes.fetch_sub(bytes, Ordering::AcqRel);
        Err(Error::Full(format!(
            "{actions} actions ({used} bytes) unsent or unanswered: the limits are max_pending={} and max_pending_bytes={}",
            self.max_actions, self.max_bytes
        )))
    }

    /// Room for an action of `bytes`, waiting for it until `deadline`.
    pub(crate) fn take(self: &Arc<Budget>, bytes: usize, deadline: Instant) -> Result<Ticket> {
        match self.try_take(bytes) {
            Err(Error::Full(_)) => {}
            other => return other,
        }
        self.waiters.fetch_add(1, Ordering::AcqRel);
        let mut guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let result = loop {
            match self.try_take(bytes) {
                Err(Error::Full(why)) => {
                    let now = Instant::now();
                    if now >= deadline {
                        break Err(Error::Full(format!("still full at the deadline: {why}")));
                    }
                    guard = self.room.wait_timeout(guard, deadline - now).unwrap_or_else(|p| p.into_inner()).0;
                }
                other => break other,
            }
        };
        drop(guard);
        self.waiters.fetch_sub(1, Ordering::AcqRel);
        result
    }

    fn give_back(&self, bytes: usize) {
        self.actions.fetch_sub(1, Ordering::AcqRel);
        self.bytes.fetch_sub(bytes, Ordering::AcqRel);
        if self.waiters.load(Ordering::Acquire) > 0 {
            // Under the lock, so a waiter between its check and its wait still hears it.
            let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
            self.room.notify_all();
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.budget.give_back(self.bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn counts_and_bytes_are_bounded_and_given_back() {
        let b = Budget::new(2, 100);
        let one = b.try_take(10).unwrap();
        let two = b.try_take(10).unwrap();
        assert!(matches!(b.try_take(10), Err(Error::Full(_))));
        drop(one);
        let three = b.try_take(80).unwrap();
        drop((two, three));
        let big = b.try_take(1000).expect("alone, even over the byte limit");
        assert!(matches!(b.try_take(1), Err(Error::Full(_))));
        drop(big);
        assert_eq!((b.actions.load(Ordering::Relaxed), b.bytes.load(Ordering::Relaxed)), (0, 0));
    }

    #[test]
    fn a_blocking_take_waits_for_room_until_its_deadline() {
        let b = Budget::new(1, 100);
        let held = b.try_take(1).unwrap();
        let e = b.take(1, Instant::now() + Duration::from_millis(50)).err().unwrap();
        assert!(matches!(e, Error::Full(m) if m.contains("deadline")));
        let b2 = Arc::clone(&b);
        let waiter = std::thread::spawn(move || b2.take(1, Instant::now() + Duration::from_secs(10)).map(drop));
        std::thread::sleep(Duration::from_millis(50));
        drop(held);
        waiter.join().unwrap().unwrap();
    }
}
