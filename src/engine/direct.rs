//! A blocking caller's own write of its action to the socket.
//!
//! A round trip through the loop thread costs two thread hand-offs: the
//! caller wakes the loop to write, the loop wakes the caller with the
//! answer. While the loop has nothing of its own to write on a plain TCP
//! link, a blocking caller writes its action itself, so only the answer's
//! hand-off is left. The action is registered with the loop first (see
//! `EngineShared::register`), so the loop always knows it before it can
//! read the answer.
//!
//! Who may write is decided under one lock per connection: the caller holds
//! it for its write, the loop takes it when it starts or stops having
//! bytes of its own to write, and when it closes the socket.

use std::os::fd::RawFd;
use std::sync::{Mutex, MutexGuard};

/// The writing side of one connection, shared by the loop and callers.
#[derive(Default)]
pub(crate) struct DirectWrite {
    slot: Mutex<Slot>,
}

#[derive(Default)]
struct Slot {
    /// The open plain-TCP socket (None: no link, TLS or HTTP).
    fd: Option<RawFd>,
    /// The loop has bytes to write: callers queue behind them.
    loop_writing: bool,
    /// What a caller could not write at once, for the loop to write first.
    rest: Vec<u8>,
    /// Which link `fd` is (the loop counts them): an action written on a
    /// link that is gone by the time the loop registers it has failed.
    link: u64,
}

/// What a caller's write came to.
pub(crate) enum Written {
    /// All of it is on the socket.
    All,
    /// Part of it waits in the slot: the loop must be told to write it.
    Part,
}

/// A caller's permission to write, held across its registration and write.
pub(crate) struct Turn<'a>(MutexGuard<'a, Slot>);

impl DirectWrite {
    fn lock(&self) -> MutexGuard<'_, Slot> {
        self.slot.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The caller's turn, when the socket is open and the loop has nothing
    /// to write before it.
    pub(crate) fn turn(&self) -> Option<Turn<'_>> {
        let slot = self.lock();
        (slot.fd.is_some() && !slot.loop_writing).then_some(Turn(slot))
    }

    /// Loop: the link is open on `fd` with `writing` true when the loop has
    /// output of its own.
    pub(super) fn open(&self, fd: RawFd, writing: bool, link: u64) {
        let mut slot = self.lock();
        (slot.fd, slot.loop_writing, slot.link) = (Some(fd), writing, link);
        slot.rest.clear();
    }

    /// Loop: no caller writes from now on (before the socket is closed).
    pub(super) fn close(&self) {
        let mut slot = self.lock();
        (slot.fd, slot.loop_writing) = (None, false);
        slot.rest = Vec::new();
    }

    /// Loop: it is about to have output; returns what a caller left
    /// unwritten, which goes first.
    pub(super) fn claim(&self) -> Vec<u8> {
        let mut slot = self.lock();
        slot.loop_writing = true;
        std::mem::take(&mut slot.rest)
    }

    /// Loop: its output is all written; callers may write again.
    pub(super) fn release(&self) {
        self.lock().loop_writing = false;
    }
}

impl Turn<'_> {
    /// The link this turn writes to.
    pub(crate) fn link(&self) -> u64 {
        self.0.link
    }

    /// Writes `bytes` without blocking. What the socket does not take (a
    /// full buffer, or an error the loop will meet on its own write) stays
    /// for the loop, and callers wait behind it.
    pub(crate) fn write(mut self, bytes: &[u8]) -> Written {
        let fd = self.0.fd.expect("a turn is only given with a socket");
        let mut done = 0;
        while done < bytes.len() {
            let rest = &bytes[done..];
            // SAFETY: the loop closes `fd` only after `close`, which waits for this lock; `rest` is a live slice.
            let n = unsafe { libc::send(fd, rest.as_ptr().cast(), rest.len(), libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT) };
            match n {
                n if n > 0 => done += n as usize,
                _ if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted => {}
                _ => break,
            }
        }
        if done == bytes.len() {
            return Written::All;
        }
        self.0.rest.extend_from_slice(&bytes[done..]);
        self.0.loop_writing = true;
        Written::Part
    }
}
