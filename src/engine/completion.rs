//! How a finished action reaches whoever waits for it, exactly once.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use super::Dispatcher;
use crate::codec::Message;
use crate::error::Result;

/// A value handed from the loop thread to one blocked thread.
pub(crate) struct Oneshot<T> {
    slot: Mutex<Slot<T>>,
    ready: Condvar,
    /// Set once the value is in: a waiter spinning briefly sees it without
    /// sleeping on the condvar (a round trip is often shorter than a sleep
    /// and wake-up).
    filled: AtomicBool,
}

/// The value, and whether anyone sleeps on the condvar for it: a waiter
/// that spun and saw it costs the loop no wake-up call (a futex system
/// call per answer otherwise).
struct Slot<T> {
    value: Option<T>,
    sleepers: usize,
}

impl<T> Oneshot<T> {
    pub(crate) fn new() -> Oneshot<T> {
        Oneshot { slot: Mutex::new(Slot { value: None, sleepers: 0 }), ready: Condvar::new(), filled: AtomicBool::new(false) }
    }

    /// Stores the value; a second completion is ignored.
    pub(crate) fn complete(&self, value: T) {
        let mut slot = self.slot.lock().unwrap_or_else(|p| p.into_inner());
        if !self.filled.load(Ordering::Acquire) {
            slot.value = Some(value);
            self.filled.store(true, Ordering::Release);
            if slot.sleepers > 0 {
                self.ready.notify_all();
            }
        }
    }

    /// Waits for the value, sleeping at once.
    pub(crate) fn wait(&self) -> T {
        self.wait_spinning(Duration::ZERO)
    }

    /// Waits for the value, spinning up to `spin` before sleeping.
    pub(crate) fn wait_spinning(&self, spin: Duration) -> T {
        loop {
            if let Some(v) = self.wait_until(spin, None) {
                return v; // without a deadline, always
            }
        }
    }

    /// [`Oneshot::wait_spinning`] for at most `limit` (None: not there yet).
    pub(crate) fn wait_spinning_for(&self, spin: Duration, limit: Duration) -> Option<T> {
        self.wait_until(spin, Instant::now().checked_add(limit))
    }

    fn wait_until(&self, spin: Duration, deadline: Option<Instant>) -> Option<T> {
        self.spin(spin);
        let mut slot = self.slot.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(v) = slot.value.take() {
                return Some(v);
            }
            let left = match deadline {
                None => None,
                Some(deadline) => match deadline.saturating_duration_since(Instant::now()) {
                    left if left.is_zero() => return None,
                    left => Some(left),
                },
            };
            // Counted under the lock, so complete() cannot miss a sleeper.
            slot.sleepers += 1;
            slot = match left {
                None => self.ready.wait(slot).unwrap_or_else(|p| p.into_inner()),
                Some(left) => self.ready.wait_timeout(slot, left).unwrap_or_else(|p| p.into_inner()).0,
            };
            slot.sleepers -= 1;
        }
    }

    fn spin(&self, spin: Duration) {
        if !spin.is_zero() {
            let start = Instant::now();
            while !self.filled.load(Ordering::Acquire) && start.elapsed() < spin {
                std::hint::spin_loop();
            }
        }
    }
}

/// When a blocking caller spins for its answer rather than sleeping: only
/// while this client's recent round trips are shorter than the spin, so a
/// fast server (ami-sim, a local Asterisk answering at once) gets answers
/// without a sleep and a wake-up each (about 20 µs here), and a slower one
/// costs no spinning CPU at all.
pub(crate) struct SpinPolicy {
    /// Moving average of recent round trips, in nanoseconds.
    average_ns: AtomicU64,
}

/// Longest spin; round trips longer than about this sleep.
const SPIN: Duration = Duration::from_micros(50);

impl SpinPolicy {
    pub(crate) fn new() -> SpinPolicy {
        SpinPolicy { average_ns: AtomicU64::new(0) }
    }

    /// How long the next blocking wait spins.
    pub(crate) fn spin(&self) -> Duration {
        // A round trip measured while sleeping includes the wake-up (~20 µs
        // here), hence the margin over the spin itself.
        match self.average_ns.load(Ordering::Relaxed) < (SPIN.as_nanos() as u64) * 3 / 2 {
            true => SPIN,
            false => Duration::ZERO,
        }
    }

    /// Records a round trip (moving average, 1/8 weight: one slow answer
    /// does not stop spinning, a slow server soon does). A sleeping wait
    /// now and then measures the server again.
    pub(crate) fn record(&self, took: Duration) {
        let took = took.as_nanos().min(u64::MAX as u128) as u64;
        let avg = self.average_ns.load(Ordering::Relaxed);
        self.average_ns.store(avg - avg / 8 + took / 8, Ordering::Relaxed);
    }
}

/// A callback-style action's continuation: `Owned` takes the result (the
/// Rust API), `Borrowed` only looks at it (the C API, whose response lives
/// for the call, its buffer back in the pool after it). `Borrowed` is a
/// plain function and two words for it (the C callback and its userdata),
/// not a boxed closure: no malloc per action on the sender and free on the
/// dispatch thread.
pub(crate) enum ResponseCallback {
    Owned(Box<dyn FnOnce(Result<Message>) + Send>),
    Borrowed(fn(&Result<Message>, [usize; 2]), [usize; 2]),
}

impl ResponseCallback {
    pub(crate) fn call(self, result: Result<Message>) {
        match self {
            ResponseCallback::Owned(f) => f(result),
            ResponseCallback::Borrowed(f, words) => f(&result, words),
        }
    }
}

/// Actions the loop sends on its own behalf.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Internal {
    /// `Challenge` before an MD5 login again after a reconnect.
    Challenge,
    /// `Login` again after a reconnect.
    Login,
    /// A keepalive `Ping`.
    Keepalive,
}

/// Where an action's result goes. Consumed by completion, so it cannot
/// complete twice.
pub(crate) enum Reply {
    Wait(std::sync::Arc<Oneshot<Result<Message>>>),
    /// Runs on the client's dispatch thread, never on the loop thread.
    Callback(ResponseCallback),
    /// Handled by the loop itself (see `Conn::complete`).
    Internal(Internal),
    /// Into the client's completion queue under this tag, taken by the
    /// program's own loop (`ami_client_next_completions`): no thread of
    /// ours calls into the program.
    Queue(u64),
}

impl Reply {
    pub(crate) fn complete(self, result: Result<Message>, dispatch: &Dispatcher) {
        match self {
            Reply::Wait(slot) => slot.complete(result),
            reply @ (Reply::Callback(_) | Reply::Queue(_)) => dispatch.push_replies([(reply, result)]),
            Reply::Internal(_) => {}
        }
    }

    /// Completion when no dispatcher is reachable (the engine is gone).
    pub(crate) fn complete_here(self, result: Result<Message>) {
        match self {
            Reply::Wait(slot) => slot.complete(result),
            Reply::Callback(cb) => {
                cb.call(result);
            }
            Reply::Queue(_) | Reply::Internal(_) => {} // no queue to reach: nobody takes it
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spins_only_while_round_trips_are_short() {
        let p = SpinPolicy::new();
        assert_eq!(p.spin(), SPIN, "optimistic at first");
        for _ in 0..30 {
            p.record(Duration::from_millis(1)); // a slow server
        }
        assert_eq!(p.spin(), Duration::ZERO);
        for _ in 0..60 {
            p.record(Duration::from_micros(20)); // fast again
        }
        assert_eq!(p.spin(), SPIN);
    }

    #[test]
    fn a_spinning_wait_gets_a_value_given_late() {
        let slot = std::sync::Arc::new(Oneshot::new());
        let s = std::sync::Arc::clone(&slot);
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20)); // past the spin: the sleep path
            s.complete(7);
        });
        assert_eq!(slot.wait_spinning(SPIN), 7);
        t.join().unwrap();
        slot.complete(8); // a second completion is ignored
    }
}
