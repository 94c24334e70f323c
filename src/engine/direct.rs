//! A blocking caller's own write of its action to the socket, and its own
//! read of the answer.
//!
//! A round trip through the loop thread costs two thread hand-offs: the
//! caller wakes the loop to write, the loop wakes the caller with the
//! answer. While the loop has nothing of its own to write on a plain TCP
//! link (and no queued action of this client waits to be written: the
//! caller would overtake it), a blocking caller writes its action itself.
//! Registered with the loop first (see `EngineShared::register`), the loop
//! knows the action before it can read the answer.
//!
//! Who may write is decided under one lock per connection: the caller holds
//! it for its write, the loop takes it when it starts or stops having
//! bytes of its own to write, and when it closes the socket.
//!
//! Reading: woken by the loop, a caller waits for the loop's own wake-up
//! first. So while the loop holds no part of a message, a blocking caller
//! may instead claim the read side before it writes (then registering
//! nothing), turn the loop's epoll interest in the socket off, and spin on
//! the socket until its answer is in, alone and whole. Anything else it
//! reads (events, other answers, part of a message) goes to the loop,
//! which decodes it before anything it reads itself; the action is
//! registered first. Ending the claim turns the interest back on, and
//! epoll then reports whatever came meanwhile. The loop never reads while a
//! caller holds the claim (if told the socket is readable then, it notes
//! it, and the caller has it look again).

use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

/// The writing side of one connection, shared by the loop and callers.
pub(crate) struct DirectWrite {
    slot: Mutex<Slot>,
    /// The socket and link a claiming caller reads, as [`target`] packs
    /// them (`NO_TARGET`: none). A caller spins on the socket without the
    /// lock (holding it, it kept the loop waiting on every answer); `close`
    /// clears this and then waits while `in_recv`, so that no read starts
    /// on a descriptor about to be closed.
    recv_target: AtomicU64,
    in_recv: AtomicBool,
    /// Actions of this client in the loop's queue, not yet in its output:
    /// a caller writing its own now would overtake them on the wire.
    queued: AtomicUsize,
    /// When a caller last read bytes from the socket, as [`since_base`]
    /// counts (0: never): the loop's keepalive counts them as traffic.
    caller_rx: AtomicU64,
}

/// The instant [`DirectWrite::caller_rx`] counts from.
fn base() -> Instant {
    static BASE: OnceLock<Instant> = OnceLock::new();
    *BASE.get_or_init(Instant::now)
}

/// Nanoseconds from [`base`] to `at`, plus one (so that no reading is 0).
fn since_base(at: Instant) -> u64 {
    u64::try_from(at.saturating_duration_since(base()).as_nanos()).unwrap_or(u64::MAX - 1) + 1
}

const NO_TARGET: u64 = u64::MAX;

/// A socket and its link number in one word (the link's low 32 bits tell
/// links apart well enough: a claim lasts microseconds).
fn target(fd: RawFd, link: u64) -> u64 {
    (link << 32) | u64::from(fd as u32)
}

impl Default for DirectWrite {
    fn default() -> DirectWrite {
        DirectWrite {
            slot: Mutex::default(),
            recv_target: AtomicU64::new(NO_TARGET),
            in_recv: AtomicBool::new(false),
            queued: AtomicUsize::new(0),
            caller_rx: AtomicU64::new(0),
        }
    }
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
    /// Who reads the socket now.
    reading: Reading,
    /// The loop holds no part of a message (and is not paused): a caller
    /// may claim the read side.
    claimable: bool,
    /// The loop was told the socket is readable while a caller read it.
    skipped: bool,
    /// Bytes a caller read that are not its answer, for the loop to decode
    /// before anything it reads.
    handed: Vec<u8>,
    /// The loop's epoll descriptor and the link's token there.
    epoll: (RawFd, u64),
}

#[derive(Default, Clone, Copy, PartialEq, Eq, Debug)]
enum Reading {
    #[default]
    Idle,
    Loop,
    Caller,
}

/// What a caller's read came to.
pub(crate) enum Recv {
    /// Bytes were added.
    Data,
    /// None yet.
    Nothing,
    /// The claim is over (the link closed), or the socket has ended or
    /// failed: the loop will see that itself.
    Over,
}

/// What a caller's write came to.
pub(crate) enum Written {
    /// All of it is on the socket.
    All,
    /// Part of it waits in the slot: the loop must be told to write it.
    Part,
}

/// A caller's permission to write, held across its registration and write.
pub(crate) struct Turn<'a> {
    slot: MutexGuard<'a, Slot>,
    direct: &'a DirectWrite,
    /// It claimed the read side: the loop's interest in the socket goes
    /// off once the action is written.
    quiet: bool,
}

impl DirectWrite {
    fn lock(&self) -> MutexGuard<'_, Slot> {
        self.slot.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The caller's turn, when the socket is open and the loop has nothing
    /// to write before it.
    pub(crate) fn turn(&self) -> Option<Turn<'_>> {
        if self.queued.load(Ordering::SeqCst) > 0 {
            return None; // behind actions the loop has not taken yet
        }
        let slot = self.lock();
        (slot.fd.is_some() && !slot.loop_writing).then_some(Turn { slot, direct: self, quiet: false })
    }

    /// Loop: the link is open on `fd` with `writing` true when the loop has
    /// output of its own. (Claims wait for the end of the loop's next read.)
    pub(super) fn open(&self, fd: RawFd, writing: bool, link: u64, epoll: (RawFd, u64)) {
        let mut slot = self.lock();
        (slot.fd, slot.loop_writing, slot.link, slot.epoll) = (Some(fd), writing, link, epoll);
        slot.rest.clear();
        (slot.claimable, slot.skipped) = (false, false);
        slot.handed.clear();
    }

    /// Loop: no caller writes or reads from now on (before the socket is
    /// closed); a caller's claim is void.
    pub(super) fn close(&self) {
        let mut slot = self.lock();
        (slot.fd, slot.loop_writing) = (None, false);
        slot.rest = Vec::new();
        if slot.reading == Reading::Caller {
            slot.reading = Reading::Idle;
        }
        (slot.claimable, slot.skipped) = (false, false);
        slot.handed = Vec::new();
        self.recv_target.store(NO_TARGET, Ordering::SeqCst);
        while self.in_recv.load(Ordering::SeqCst) {
            std::thread::yield_now(); // a nonblocking recv: short
        }
    }

    /// Loop: it is about to read. None: a caller is reading (the loop must
    /// not; the caller will ask for a read if bytes are left). Otherwise
    /// the bytes callers handed over, to decode first.
    pub(super) fn begin_read(&self) -> Option<Vec<u8>> {
        let mut slot = self.lock();
        if slot.reading == Reading::Caller {
            slot.skipped = true;
            return None;
        }
        slot.reading = Reading::Loop;
        Some(std::mem::take(&mut slot.handed))
    }

    /// Loop: its read is over; `claimable` when it holds no part of a
    /// message and will go on reading when told to.
    pub(super) fn end_read(&self, claimable: bool) {
        let mut slot = self.lock();
        if slot.reading == Reading::Loop {
            slot.reading = Reading::Idle;
        }
        slot.claimable = claimable && slot.handed.is_empty();
    }

    /// Caller: reads what the socket of its claim (`claim`, from
    /// [`Turn::claim_read`]) holds now into `got`, without waiting.
    pub(crate) fn recv(&self, claim: u64, got: &mut Vec<u8>) -> Recv {
        got.reserve(4096);
        let room = got.spare_capacity_mut();
        self.in_recv.store(true, Ordering::SeqCst);
        if self.recv_target.load(Ordering::SeqCst) != claim {
            self.in_recv.store(false, Ordering::SeqCst);
            return Recv::Over; // closed (and perhaps open again on another socket)
        }
        let fd = claim as u32 as RawFd;
        // SAFETY: `close` waits while in_recv before the loop closes `fd`, and we saw it not closed after setting in_recv; `room` is writable spare capacity of `got`.
        let n = unsafe { libc::recv(fd, room.as_mut_ptr().cast(), room.len(), libc::MSG_DONTWAIT) };
        let error = std::io::Error::last_os_error().kind();
        self.in_recv.store(false, Ordering::SeqCst);
        match n {
            n if n > 0 => {
                // SAFETY: recv initialised the first n bytes of the spare capacity.
                unsafe { got.set_len(got.len() + n as usize) };
                self.caller_rx.store(since_base(Instant::now()), Ordering::Relaxed);
                Recv::Data
            }
            0 => Recv::Over,
            _ => match error {
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted => Recv::Nothing,
                _ => Recv::Over,
            },
        }
    }

    /// Caller: ends its claim, handing over what it read and did not use
    /// (it registered its action first). True when the loop must be told
    /// to read: bytes were handed over, or bytes (or the end) wait in the
    /// socket that the loop was told of and did not read.
    pub(crate) fn end_claim(&self, handed: Vec<u8>) -> bool {
        let mut slot = self.lock();
        let Some(fd) = slot.fd.filter(|_| slot.reading == Reading::Caller) else { return false };
        slot.reading = Reading::Idle;
        self.recv_target.store(NO_TARGET, Ordering::SeqCst);
        // The loop's read interest back: epoll looks at the socket as it
        // is, so bytes (or the end) that came meanwhile wake the loop now.
        // Write interest only if the loop writes (else a writable socket
        // would wake it for nothing); it asks again when a write blocks.
        let readable = libc::EPOLLIN | libc::EPOLLRDHUP;
        let events = if slot.loop_writing { readable | libc::EPOLLOUT } else { readable };
        let restored = interest(&slot, fd, events);
        let skipped = std::mem::take(&mut slot.skipped);
        if !handed.is_empty() {
            slot.handed = handed;
            slot.claimable = false; // until the loop has decoded them
            return true;
        }
        !restored && skipped // without epoll, the loop is told to look
    }

    /// Loop: a write would block, so the socket's writable edge is wanted.
    pub(super) fn want_writable(&self) {
        let slot = self.lock();
        if let Some(fd) = slot.fd {
            interest(&slot, fd, libc::EPOLLIN | libc::EPOLLRDHUP | libc::EPOLLOUT);
        }
    }

    /// Loop: when a caller last read bytes from the socket (None: never).
    pub(super) fn caller_rx(&self) -> Option<Instant> {
        let at = self.caller_rx.load(Ordering::Relaxed);
        (at > 0).then(|| base() + Duration::from_nanos(at - 1))
    }

    /// Caller: an action goes to the loop's queue (before it is submitted).
    pub(crate) fn queue_one(&self) {
        self.queued.fetch_add(1, Ordering::SeqCst);
    }

    /// Loop: it took `n` queued actions (their bytes are in the output,
    /// which holds callers back while it lasts, or they ended otherwise).
    pub(super) fn took(&self, n: usize) {
        let _ = self.queued.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |q| Some(q.saturating_sub(n)));
    }

    /// Loop: a new connection for this client. Actions queued before it
    /// found none and were not counted off; those queued after it come
    /// after it in the queue.
    pub(super) fn forget_queued(&self) {
        self.queued.store(0, Ordering::SeqCst);
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
        self.slot.link
    }

    /// Claims the read side for this caller, if the loop holds no part of
    /// a message and nobody reads: then the caller must read its answer
    /// ([`DirectWrite::recv`] with the claim returned) or end the claim
    /// ([`DirectWrite::end_claim`]).
    pub(crate) fn claim_read(&mut self) -> Option<u64> {
        let slot = &mut *self.slot;
        let fd = slot.fd.filter(|_| slot.reading == Reading::Idle && slot.claimable && slot.handed.is_empty())?;
        if slot.epoll.0 < 0 {
            return None;
        }
        // The loop is not woken for the answer (its wake-up would take the
        // core this caller spins on; measured: slower than no claim at
        // all): `write` turns its interest off, after the action is out,
        // so that the server works on it meanwhile. An answer in before
        // that finds the read side claimed, and the loop leaves it.
        self.quiet = true;
        (slot.reading, slot.skipped) = (Reading::Caller, false);
        let claim = target(fd, slot.link);
        self.direct.recv_target.store(claim, Ordering::SeqCst);
        Some(claim)
    }

    /// Writes `bytes` without blocking. What the socket does not take (a
    /// full buffer, or an error the loop will meet on its own write) stays
    /// for the loop, and callers wait behind it.
    pub(crate) fn write(mut self, bytes: &[u8]) -> Written {
        let fd = self.slot.fd.expect("a turn is only given with a socket");
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
        if self.quiet {
            // Failing, the loop may be woken for the answer and leave it
            // (`skipped`); `end_claim` sees to it.
            interest(&self.slot, fd, 0);
        }
        if done == bytes.len() {
            return Written::All;
        }
        self.slot.rest.extend_from_slice(&bytes[done..]);
        self.slot.loop_writing = true;
        Written::Part
    }
}

/// Sets the loop's epoll interest in `fd` (edge-triggered, as mio has it)
/// to `events`, under the slot's lock (the loop's close takes it before
/// the socket goes). False if it could not.
fn interest(slot: &Slot, fd: RawFd, events: libc::c_int) -> bool {
    let (epoll, token) = slot.epoll;
    if epoll < 0 {
        return false;
    }
    let mut event = libc::epoll_event { events: (events | libc::EPOLLET) as u32, u64: token };
    // SAFETY: `fd` is registered in `epoll` under `token` while the slot holds it (the loop deregisters it only after `close`, which takes this lock); `event` is a live local.
    unsafe { libc::epoll_ctl(epoll, libc::EPOLL_CTL_MOD, fd, &mut event) == 0 }
}
