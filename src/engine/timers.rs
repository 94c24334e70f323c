//! Every deadline of the loop in one min-heap: no thread or OS timer per
//! action, and no entry per action either (a connection's actions share
//! one deadline timer). Timers re-armed leave stale entries behind; they
//! are skipped when they fire and swept out when they outnumber the live
//! ones.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum TimerKind {
    /// The whole connect (resolve, TCP, banner) of connection `conn`.
    Connect { conn: u64 },
    /// The earliest deadline of connection `conn`'s pending actions.
    Deadlines { conn: u64 },
    /// The next attempt to re-establish connection `conn`.
    Reconnect { conn: u64 },
    /// The keepalive check of connection `conn`.
    Keepalive { conn: u64 },
    /// The HTTP long poll of connection `conn`: its deadline, or its pause.
    HttpPoll { conn: u64 },
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Timer {
    pub(super) at: Instant,
    /// Unique per timer: the owner keeps it to tell its own timer from a stale one.
    pub(super) seq: u64,
    pub(super) kind: TimerKind,
}

#[derive(Default)]
pub(super) struct Timers {
    heap: BinaryHeap<Reverse<Timer>>,
    next_seq: u64,
}

impl Timers {
    /// Adds a timer; returns its sequence number.
    pub(super) fn add(&mut self, at: Instant, kind: TimerKind) -> u64 {
        self.next_seq += 1;
        self.heap.push(Reverse(Timer { at, seq: self.next_seq, kind }));
        self.next_seq
    }

    /// A fresh sequence number for a deadline-less owner.
    /// Forgets every timer (all belong to connections; none is left).
    pub(super) fn clear(&mut self) {
        self.heap = BinaryHeap::new();
    }

    pub(super) fn seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }

    /// How long the loop may sleep.
    pub(super) fn timeout(&self, now: Instant) -> Option<Duration> {
        self.heap.peek().map(|Reverse(t)| t.at.saturating_duration_since(now))
    }

    /// The next timer due at `now`, if any.
    pub(super) fn pop_due(&mut self, now: Instant) -> Option<Timer> {
        if self.heap.peek().is_some_and(|Reverse(t)| t.at <= now) {
            self.heap.pop().map(|Reverse(t)| t)
        } else {
            None
        }
    }

    /// Entries below which a sweep is never worth it.
    const SWEEP_FLOOR: usize = 4096;

    /// Drops stale entries once they clearly outnumber the `live` ones, so
    /// memory stays proportional to what is pending (amortised O(1)).
    /// `live` is only asked for when the heap is big enough to matter.
    pub(super) fn sweep(&mut self, live: impl FnOnce() -> usize, is_live: impl Fn(&Timer) -> bool) {
        if self.heap.len() > Self::SWEEP_FLOOR && self.heap.len() > 2 * live() + Self::SWEEP_FLOOR {
            let heap = std::mem::take(&mut self.heap);
            self.heap = heap.into_iter().filter(|Reverse(t)| is_live(t)).collect();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fires_in_order_and_sweeps() {
        let mut t = Timers::default();
        let now = Instant::now();
        let late = t.add(now + Duration::from_secs(5), TimerKind::Connect { conn: 1 });
        t.add(now, TimerKind::Connect { conn: 2 });
        assert_eq!(t.pop_due(now).unwrap().kind, TimerKind::Connect { conn: 2 });
        assert!(t.pop_due(now).is_none());
        assert!(t.timeout(now).unwrap() > Duration::from_secs(4));
        for i in 0..5000 {
            t.add(now + Duration::from_secs(9), TimerKind::Connect { conn: 100 + i });
        }
        t.sweep(|| 0, |timer| timer.seq == late);
        assert_eq!(t.heap.len(), 1);
    }
}
