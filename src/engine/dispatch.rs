//! Per-client delivery: a bounded queue between the loop thread (which must
//! never wait on user code: Asterisk drops a client that stops reading) and
//! the user's callbacks, run by a small pool of dispatch threads that every
//! client shares (a client's callbacks one at a time, in order), or the
//! user's own loop pulling events through `next_event` and an event fd.
//!
//! The loop hands over a whole read's worth of events under one lock.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use super::completion::ResponseCallback;
use super::{Command, EngineShared, Reply};
use crate::codec::Message;
use crate::error::{Error, Result};
use crate::logging::{LogLevel, ami_log};
use crate::{Overflow, State};

pub(crate) type EventCallback = Arc<dyn Fn(&Message) + Send + Sync>;
/// Receives the matching events of one dispatch run at once.
pub(crate) type BatchCallback = Arc<dyn Fn(&[&Message]) + Send + Sync>;

/// Where a subscription's events go: one call per event, or per run of
/// events (for bindings that pay per call, like Python's).
#[derive(Clone)]
pub(crate) enum EventSink {
    Each(EventCallback),
    Batch(BatchCallback),
}
pub(crate) type StateCallback = Arc<dyn Fn(State, Option<&Error>) + Send + Sync>;

thread_local! {
    /// The client whose callbacks this thread is running (0: none).
    static DISPATCHING: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// A job queue with room for more than this is freed rather than kept.
const SPARE_JOBS_MAX: usize = 1 << 16;

/// Most events one batch subscription call gets (`ami_events_cb`).
const RUN_MAX: usize = 256;

/// Dispatch threads when no client asks for more (option `dispatch_threads`).
pub(crate) const DEFAULT_POOL_THREADS: usize = 4;

/// The process's dispatch threads: clients with callbacks to run wait in
/// `ready`, each at most once, and a free thread runs one batch of them.
struct Pool {
    ready: Mutex<VecDeque<Arc<Dispatcher>>>,
    wake: Condvar,
    threads: AtomicUsize,
    /// Serialises starting threads.
    growing: Mutex<()>,
}

static POOL: Pool = Pool {
    ready: Mutex::new(VecDeque::new()),
    wake: Condvar::new(),
    threads: AtomicUsize::new(0),
    growing: Mutex::new(()),
};

impl Pool {
    /// Starts threads until there are `size` (they live as long as the process).
    fn grow_to(&self, size: usize) -> Result<()> {
        if self.threads.load(Ordering::Acquire) >= size {
            return Ok(()); // every async send asks: no lock once the pool is there
        }
        let _one_at_a_time = lock(&self.growing);
        while self.threads.load(Ordering::Acquire) < size {
            std::thread::Builder::new()
                .name("ami-dispatch".into())
                .spawn(|| POOL.work())
                .map_err(|e| Error::Internal(format!("cannot start a dispatch thread: {e}")))?;
            self.threads.fetch_add(1, Ordering::AcqRel);
        }
        Ok(())
    }

    fn push(&self, d: Arc<Dispatcher>) {
        lock(&self.ready).push_back(d);
        self.wake.notify_one();
    }

    /// Takes `d` out of the queue if it waits there; true if it did.
    fn remove(&self, d: &Dispatcher) -> bool {
        let mut ready = lock(&self.ready);
        let before = ready.len();
        ready.retain(|x| !std::ptr::eq(Arc::as_ptr(x), d));
        ready.len() != before
    }

    fn work(&self) {
        loop {
            let next = {
                let mut ready = lock(&self.ready);
                loop {
                    if let Some(d) = ready.pop_front() {
                        break d;
                    }
                    ready = self.wake.wait(ready).unwrap_or_else(|p| p.into_inner());
                }
            };
            next.run_batch();
        }
    }
}

/// Which events a subscription wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Pattern {
    All,
    Exact(String),
    Prefix(String),
}

impl Pattern {
    pub(crate) fn parse(pattern: Option<&str>) -> Pattern {
        match pattern.map(str::trim) {
            None | Some("") | Some("*") => Pattern::All,
            Some(p) => match p.strip_suffix('*') {
                Some(prefix) => Pattern::Prefix(prefix.to_string()),
                None => Pattern::Exact(p.to_string()),
            },
        }
    }

    /// `name` as bytes: an event name needs no UTF-8 check to be compared.
    fn matches(&self, name: &[u8]) -> bool {
        match self {
            Pattern::All => true,
            Pattern::Exact(p) => name.eq_ignore_ascii_case(p.as_bytes()),
            Pattern::Prefix(p) => name.len() >= p.len() && name[..p.len()].eq_ignore_ascii_case(p.as_bytes()),
        }
    }
}

struct Subscription {
    id: u64,
    pattern: Pattern,
    callback: EventSink,
}

enum Job {
    Event(Message),
    Response(ResponseCallback, Result<Message>),
    State(State, Option<Error>),
}

#[derive(Default)]
struct Queues {
    jobs: VecDeque<Job>,
    /// The emptied queue of the last batch, for `jobs` to become next.
    spare_jobs: VecDeque<Job>,
    /// How many of `jobs` are events (only events are ever dropped).
    job_events: usize,
    pull: VecDeque<Message>,
    /// Results of queued sends (`Reply::Queue`) waiting to be taken.
    completions: VecDeque<(u64, Result<Message>)>,
    /// The loop stopped reading because a queue was full (`Overflow::Block`).
    paused: bool,
    closed: bool,
    /// Waiting in the pool's queue or running there.
    scheduled: bool,
}

/// A client's delivery queues and its place on the dispatch pool.
pub(crate) struct Dispatcher {
    client_id: u64,
    limit: usize,
    overflow: Overflow,
    pull_enabled: bool,
    queues: Mutex<Queues>,
    pull_ready: Condvar,
    subscriptions: Mutex<Arc<Vec<Subscription>>>,
    /// Bumped on every (un)subscribe, so the dispatch thread re-reads the
    /// list only when it changed.
    subscriptions_version: AtomicU64,
    wants_events: AtomicBool,
    state_callback: Mutex<Option<StateCallback>>,
    /// Held while callbacks run, so `unsubscribe` can wait them out.
    running: Mutex<()>,
    /// Signalled when the client leaves the pool (`scheduled` goes false).
    unscheduled: Condvar,
    /// Threads this client asks the pool for.
    pool_threads: usize,
    /// This dispatcher, for putting it on the pool's queue.
    me: Weak<Dispatcher>,
    next_subscription: AtomicU64,
    dropped: AtomicU64,
    /// Set by `close`; checked before every event, so none is delivered
    /// after a callback freed its client.
    closed: AtomicBool,
    /// Readable while pulled events wait (`ami_client_event_fd`).
    notify: Option<Notifier>,
    /// Readable while results of queued sends wait
    /// (`ami_client_completion_fd`); made on first use.
    completion_notify: Mutex<Option<Notifier>>,
    engine: Arc<EngineShared>,
    /// The client's `log_level`.
    log: LogLevel,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Dispatcher {
    pub(crate) fn new(
        client_id: u64,
        limit: usize,
        overflow: Overflow,
        pull_enabled: bool,
        pool_threads: usize,
        engine: Arc<EngineShared>,
        log: LogLevel,
    ) -> std::io::Result<Arc<Dispatcher>> {
        let notify = if pull_enabled { Some(Notifier::new()?) } else { None };
        Ok(Arc::new_cyclic(|me| Dispatcher {
            client_id,
            limit: limit.max(1),
            overflow,
            pull_enabled,
            queues: Mutex::new(Queues::default()),
            pull_ready: Condvar::new(),
            subscriptions: Mutex::new(Arc::new(Vec::new())),
            subscriptions_version: AtomicU64::new(0),
            wants_events: AtomicBool::new(false),
            state_callback: Mutex::new(None),
            running: Mutex::new(()),
            unscheduled: Condvar::new(),
            pool_threads: pool_threads.max(1),
            me: me.clone(),
            next_subscription: AtomicU64::new(1),
            dropped: AtomicU64::new(0),
            closed: AtomicBool::new(false),
            notify,
            completion_notify: Mutex::new(None),
            engine,
            log,
        }))
    }

    /// True when the calling thread is this client's dispatch thread.
    pub(crate) fn on_dispatch_thread(&self) -> bool {
        DISPATCHING.with(|d| d.get()) == self.client_id
    }

    /// True when the loop should hand events over at all.
    pub(crate) fn wants_events(&self) -> bool {
        self.pull_enabled || self.wants_events.load(Ordering::Acquire)
    }

    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    pub(crate) fn event_fd(&self) -> Option<i32> {
        use std::os::fd::AsRawFd;
        self.notify.as_ref().map(|n| n.rx.as_raw_fd())
    }

    /// Callbacks are coming: the pool must have its threads.
    fn ensure_pool(&self) -> Result<()> {
        POOL.grow_to(self.pool_threads)
    }

    /// Puts the client on the pool's queue unless it is there or running.
    fn schedule(&self, q: &mut Queues) {
        if q.scheduled {
            return;
        }
        if let Some(me) = self.me.upgrade() {
            q.scheduled = true;
            POOL.push(me);
        }
    }

    pub(crate) fn subscribe(&self, pattern: Pattern, callback: EventSink) -> Result<u64> {
        self.ensure_pool()?;
        let id = self.next_subscription.fetch_add(1, Ordering::Relaxed);
        let mut subs = lock(&self.subscriptions);
        let mut list: Vec<Subscription> =
            subs.iter().map(|s| Subscription { id: s.id, pattern: s.pattern.clone(), callback: s.callback.clone() }).collect();
        list.push(Subscription { id, pattern, callback });
        *subs = Arc::new(list);
        self.subscriptions_version.fetch_add(1, Ordering::AcqRel);
        self.wants_events.store(true, Ordering::Release);
        Ok(id)
    }

    /// Removes a subscription. Off the dispatch thread, returns only once no
    /// callback of it can be running or run again.
    pub(crate) fn unsubscribe(&self, id: u64) -> bool {
        let found = {
            let mut subs = lock(&self.subscriptions);
            let before = subs.len();
            let list: Vec<Subscription> = subs
                .iter()
                .filter(|s| s.id != id)
                .map(|s| Subscription { id: s.id, pattern: s.pattern.clone(), callback: s.callback.clone() })
                .collect();
            let found = list.len() != before;
            self.wants_events.store(!list.is_empty(), Ordering::Release);
            *subs = Arc::new(list);
            self.subscriptions_version.fetch_add(1, Ordering::AcqRel);
            found
        };
        if found && !self.on_dispatch_thread() {
            drop(lock(&self.running));
        }
        found
    }

    pub(crate) fn set_state_callback(&self, cb: Option<StateCallback>) -> Result<()> {
        if cb.is_some() {
            self.ensure_pool()?;
        }
        *lock(&self.state_callback) = cb;
        if !self.on_dispatch_thread() {
            drop(lock(&self.running));
        }
        Ok(())
    }

    /// Hands over the results of completed actions, in order, under one
    /// lock: callbacks to the dispatch pool, queued sends to the completion
    /// queue. Anything that cannot wait there (a blocking sender's slot, a
    /// callback once the client is closed) completes after the lock is let go.
    pub(crate) fn push_replies(&self, replies: impl IntoIterator<Item = (Reply, Result<Message>)>) {
        let mut q = lock(&self.queues);
        let (had_jobs, had_completions) = (q.jobs.len(), q.completions.len());
        let mut now = Vec::new();
        for (reply, result) in replies {
            match reply {
                Reply::Queue(tag) => q.completions.push_back((tag, result)),
                Reply::Callback(cb) if !(q.closed && !q.scheduled) => q.jobs.push_back(Job::Response(cb, result)),
                reply => now.push((reply, result)), // a closed client: nothing would ever run it
            }
        }
        if q.jobs.len() > had_jobs {
            self.schedule(&mut q);
        }
        let signal = had_completions == 0 && !q.completions.is_empty();
        drop(q);
        if signal {
            self.signal_completions(true);
        }
        for (reply, result) in now {
            reply.complete_here(result);
        }
    }

    pub(crate) fn state_changed(&self, state: State, error: Option<&Error>) {
        if lock(&self.state_callback).is_none() {
            return;
        }
        let mut q = lock(&self.queues);
        q.jobs.push_back(Job::State(state, error.cloned()));
        self.schedule(&mut q);
    }

    /// Starts async delivery for callbacks of `send_async`.
    pub(crate) fn prepare_responses(&self) -> Result<()> {
        self.ensure_pool()
    }

    /// With `Overflow::Block`: true (and remembered) when a queue is full, so
    /// the loop must stop reading this client's socket.
    pub(crate) fn pause_if_full(&self) -> bool {
        if self.overflow != Overflow::Block {
            return false;
        }
        let mut q = lock(&self.queues);
        let full = q.job_events >= self.limit || q.pull.len() >= self.limit;
        if full {
            q.paused = true;
        }
        full
    }

    /// Hands over a read's worth of events, under one lock.
    pub(crate) fn deliver(&self, batch: &mut Vec<Message>) {
        if batch.is_empty() {
            return;
        }
        let to_jobs = self.wants_events.load(Ordering::Acquire);
        let mut q = lock(&self.queues);
        let was_empty = q.pull.is_empty();
        let drop_oldest = self.overflow == Overflow::DropOldest;
        let dropped_before = self.dropped.load(Ordering::Relaxed);
        for event in batch.drain(..) {
            if to_jobs {
                if drop_oldest && q.job_events >= self.limit {
                    if let Some(i) = q.jobs.iter().position(|j| matches!(j, Job::Event(_))) {
                        q.jobs.remove(i);
                        q.job_events -= 1;
                        self.dropped.fetch_add(1, Ordering::Relaxed);
                    }
                }
                let event = if self.pull_enabled { event.clone() } else { event };
                q.jobs.push_back(Job::Event(event));
                q.job_events += 1;
                continue;
            }
            if self.pull_enabled {
                if drop_oldest && q.pull.len() >= self.limit {
                    q.pull.pop_front();
                    self.dropped.fetch_add(1, Ordering::Relaxed);
                }
                q.pull.push_back(event);
            }
        }
        if to_jobs {
            self.schedule(&mut q);
        }
        if self.pull_enabled {
            self.pull_ready.notify_all();
            if was_empty && !q.pull.is_empty() {
                self.signal_fd(true);
            }
        }
        drop(q);
        let dropped = self.dropped.load(Ordering::Relaxed) - dropped_before;
        if dropped > 0 {
            ami_log!(self.log, self.client_id, Warn, "the event queue is full: dropped the {dropped} oldest events (overflow drop_oldest)");
        }
    }

    fn signal_fd(&self, readable: bool) {
        if let Some(n) = &self.notify {
            n.set(readable);
        }
    }

    /// The descriptor readable while results of queued sends wait.
    pub(crate) fn completion_fd(&self) -> Result<i32> {
        use std::os::fd::AsRawFd;
        let mut slot = lock(&self.completion_notify);
        if slot.is_none() {
            let n = Notifier::new().map_err(|e| Error::Internal(format!("cannot make the completion descriptor: {e}")))?;
            if !lock(&self.queues).completions.is_empty() {
                n.set(true);
            }
            *slot = Some(n);
        }
        Ok(slot.as_ref().map_or(-1, |n| n.rx.as_raw_fd()))
    }

    fn signal_completions(&self, readable: bool) {
        if let Some(n) = lock(&self.completion_notify).as_ref() {
            n.set(readable);
        }
    }

    /// Up to `max` results of queued sends, in completion order, without waiting.
    pub(crate) fn next_completions(&self, max: usize, out: &mut Vec<(u64, Result<Message>)>) {
        let mut q = lock(&self.queues);
        let n = q.completions.len().min(max.max(1));
        out.extend(q.completions.drain(..n));
        let empty = q.completions.is_empty();
        drop(q);
        if empty {
            self.signal_completions(false);
            // A result pushed since the take signalled outside the lock, and
            // that signal may be the one just drained: the program would
            // wait on the descriptor for ever (seen about once in 200,000
            // pipelined asyncio actions).
            if !lock(&self.queues).completions.is_empty() {
                self.signal_completions(true);
            }
        }
    }

    /// Resumes reading after `Overflow::Block` paused it, once there is room.
    fn resume_if_room(&self, q: &mut Queues) {
        if q.paused && q.job_events < self.limit && q.pull.len() < self.limit {
            q.paused = false;
            self.engine.submit(Command::Resume { id: self.client_id });
        }
    }

    /// The next pulled event; `Ok(None)` when none came within `timeout`
    /// (`None` waits for ever).
    pub(crate) fn next_event(&self, timeout: Option<Duration>) -> Result<Option<Message>> {
        let mut got = None;
        self.take_events(timeout, |pull| got = pull.pop_front())?;
        Ok(got)
    }

    /// Up to `max` queued events into `out`, under one lock, once at least
    /// one is there (none: the timeout passed).
    pub(crate) fn next_events(&self, max: usize, timeout: Option<Duration>, out: &mut Vec<Message>) -> Result<()> {
        self.take_events(timeout, |pull| {
            let n = pull.len().min(max.max(1));
            out.extend(pull.drain(..n));
        })
    }

    /// Waits up to `timeout` for queued events, then lets `take` have them
    /// under the lock (not called when the timeout passed first).
    fn take_events(&self, timeout: Option<Duration>, take: impl FnOnce(&mut VecDeque<Message>)) -> Result<()> {
        if !self.pull_enabled {
            return Err(Error::InvalidArgument("the event queue is off: set option event_queue=1".into()));
        }
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut q = lock(&self.queues);
        loop {
            if !q.pull.is_empty() {
                take(&mut q.pull);
                if q.pull.is_empty() {
                    self.signal_fd(false);
                }
                self.resume_if_room(&mut q);
                return Ok(());
            }
            if q.closed {
                return Err(Error::Closed("the client is closed".into()));
            }
            let wait = match deadline {
                None => Duration::from_secs(3600),
                Some(d) => match d.checked_duration_since(Instant::now()) {
                    Some(left) if !left.is_zero() => left,
                    _ => return Ok(()),
                },
            };
            if self.on_dispatch_thread() {
                return Err(Error::WouldDeadlock("next_event with a timeout inside a callback".into()));
            }
            q = self.pull_ready.wait_timeout(q, wait).unwrap_or_else(|p| p.into_inner()).0;
        }
    }

    /// Stops delivery: queued response callbacks still run (each exactly
    /// once), events and state changes no more. Off the client's own
    /// callbacks, returns once none of its callbacks runs or will.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        lock(&self.queues).closed = true;
        self.pull_ready.notify_all();
        if self.on_dispatch_thread() {
            return; // the batch running now finishes what is queued
        }
        // Waiting in the pool's queue (perhaps behind the caller's own
        // callback on a busy pool): take it out rather than wait for it.
        let removed = POOL.remove(self);
        let mut q = lock(&self.queues);
        if removed {
            q.scheduled = false;
        }
        while q.scheduled {
            q = self.unscheduled.wait(q).unwrap_or_else(|p| p.into_inner());
        }
        let rest = std::mem::take(&mut q.jobs);
        drop(q);
        for job in rest {
            if let Job::Response(cb, result) = job {
                let _ = catch_unwind(AssertUnwindSafe(|| cb.call(result)));
            }
        }
    }

    /// Runs what the client has queued, on a pool thread; then leaves the
    /// pool, or goes to the back of its queue when more came meanwhile.
    fn run_batch(self: Arc<Self>) {
        let mut jobs = {
            let mut q = lock(&self.queues);
            q.job_events = 0;
            // The loop goes on filling the queue the last batch emptied:
            // no growing a fresh one from nothing (copies, and big blocks
            // mapped and unmapped) on every batch.
            let spare = std::mem::take(&mut q.spare_jobs);
            let jobs = std::mem::replace(&mut q.jobs, spare);
            self.resume_if_room(&mut q);
            jobs
        };
        DISPATCHING.with(|d| d.set(self.client_id));
        self.run_jobs(&mut jobs);
        DISPATCHING.with(|d| d.set(0));
        let mut q = lock(&self.queues);
        if jobs.capacity() <= SPARE_JOBS_MAX {
            q.spare_jobs = jobs;
        }
        if q.jobs.is_empty() {
            q.scheduled = false;
            self.unscheduled.notify_all();
        } else {
            POOL.push(Arc::clone(&self));
        }
    }

    fn run_jobs(&self, jobs: &mut VecDeque<Job>) {
        let _running = lock(&self.running);
        let mut version = self.subscriptions_version.load(Ordering::Acquire);
        let mut subs = Arc::clone(&lock(&self.subscriptions));
        // Consecutive events run together, so that batch subscriptions get
        // them in one call; anything else first ends the run (order kept).
        let mut run: Vec<Message> = Vec::new();
        while let Some(job) = jobs.pop_front() {
            if !matches!(job, Job::Event(_)) {
                self.run_events(&mut run, &mut version, &mut subs);
            }
            match job {
                // Once closed (perhaps freed from a callback), only the
                // response callbacks still owed run: they run exactly once.
                Job::Event(_) | Job::State(..) if self.closed.load(Ordering::Acquire) => {}
                Job::Event(event) => {
                    run.push(event);
                    // Delivered and their buffers handed back a few hundred
                    // at a time, so the loop decodes into them meanwhile.
                    if run.len() >= RUN_MAX {
                        self.run_events(&mut run, &mut version, &mut subs);
                    }
                }
                Job::Response(cb, result) => guard(self.client_id, self.log, "response callback", || cb.call(result)),
                Job::State(state, error) => {
                    let cb = lock(&self.state_callback).clone();
                    if let Some(cb) = cb {
                        guard(self.client_id, self.log, "state callback", || cb(state, error.as_ref()));
                    }
                }
            }
        }
        self.run_events(&mut run, &mut version, &mut subs);
    }
}

impl Dispatcher {
    /// Delivers a run of events: to each per-event subscription event by
    /// event, then to each batch subscription its matching ones at once.
    fn run_events(&self, run: &mut Vec<Message>, version: &mut u64, subs: &mut Arc<Vec<Subscription>>) {
        if run.is_empty() {
            return;
        }
        let mut delivered = 0;
        for event in run.iter() {
            if self.closed.load(Ordering::Acquire) {
                break;
            }
            // A callback may have (un)subscribed: see it at once.
            let now = self.subscriptions_version.load(Ordering::Acquire);
            if now != *version {
                *version = now;
                *subs = Arc::clone(&lock(&self.subscriptions));
            }
            let name = event.get_bytes("Event").unwrap_or_default();
            for sub in subs.iter().filter(|s| s.pattern.matches(name)) {
                if let EventSink::Each(cb) = &sub.callback {
                    guard(self.client_id, self.log, "event callback", || cb(event));
                }
            }
            delivered += 1;
        }
        for sub in subs.iter() {
            if let EventSink::Batch(cb) = &sub.callback {
                let picked: Vec<&Message> =
                    run[..delivered].iter().filter(|e| sub.pattern.matches(e.get_bytes("Event").unwrap_or_default())).collect();
                if !picked.is_empty() && !self.closed.load(Ordering::Acquire) {
                    guard(self.client_id, self.log, "event callback", || cb(&picked));
                }
            }
        }
        run.clear(); // their buffers go back to the pool as they drop
    }
}

/// A descriptor pair: `rx` is readable while `tx` has written and nobody
/// drained it (`ami_client_event_fd`, `ami_client_completion_fd`).
struct Notifier {
    rx: UnixStream,
    tx: UnixStream,
}

impl Notifier {
    fn new() -> std::io::Result<Notifier> {
        let (rx, tx) = UnixStream::pair()?;
        rx.set_nonblocking(true)?;
        tx.set_nonblocking(true)?;
        Ok(Notifier { rx, tx })
    }

    fn set(&self, readable: bool) {
        if readable {
            let _ = (&self.tx).write(&[1]);
        } else {
            let mut sink = [0u8; 64];
            while matches!((&self.rx).read(&mut sink), Ok(n) if n > 0) {}
        }
    }
}

/// A panicking user callback must not take the dispatch thread down.
fn guard(client: u64, log: LogLevel, what: &str, f: impl FnOnce()) {
    if catch_unwind(AssertUnwindSafe(f)).is_err() {
        ami_log!(log, client, Error, "a {what} panicked; the panic was caught");
    }
}

#[cfg(test)]
mod tests {
    use super::Pattern;

    #[test]
    fn patterns() {
        assert!(Pattern::parse(None).matches(b"X"));
        assert!(Pattern::parse(Some("*")).matches(b"X"));
        assert!(Pattern::parse(Some("hangup")).matches(b"Hangup"));
        assert!(!Pattern::parse(Some("Hangup")).matches(b"HangupRequest"));
        assert!(Pattern::parse(Some("Queue*")).matches(b"queuemember"));
        assert!(!Pattern::parse(Some("Queue*")).matches(b"Que"));
    }
}
