//! The mio engine: one event-loop thread owns every connection of the
//! clients attached to it. Other threads hand it [`Command`]s through a
//! mutex-guarded batch and a `mio::Waker`; it answers through one-shot slots
//! (blocking callers) or each client's dispatch queue (callbacks, events).

pub(crate) mod action_id;
mod budget;
mod completion;
mod connection;
mod direct;
pub(crate) mod dispatch;
mod event_loop;
mod http_link;
mod link;
mod timers;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::codec::Limits;
use crate::error::{Error, Result};
use crate::State;
use crate::logging::{LogLevel, ami_log};

pub(crate) use completion::{Internal, Oneshot, Reply, ResponseCallback, SpinPolicy};
pub(crate) use budget::{Budget, Ticket};
pub(crate) use dispatch::Dispatcher;
pub(crate) use direct::{DirectWrite, Recv, Written};

/// How a link behaves, kept from its connect for every reconnect.
#[derive(Debug, Clone)]
pub(crate) struct LinkPolicy {
    pub(crate) connect_timeout: Duration,
    pub(crate) action_timeout: Duration,
    /// Backoff bounds when reconnecting is on.
    pub(crate) reconnect: Option<(Duration, Duration)>,
    /// Zero: off.
    pub(crate) keepalive: Duration,
    /// While reconnecting, actions wait (true) or fail at once.
    pub(crate) offline_wait: bool,
    /// AMI over TLS: the client configuration, and the name the server's
    /// certificate must carry (None: the host connected to).
    pub(crate) tls: Option<(Arc<rustls::ClientConfig>, Option<String>)>,
    /// AMI over Asterisk's HTTP server rather than its TCP port.
    pub(crate) http: Option<HttpPolicy>,
}

/// How an HTTP link reaches the manager.
#[derive(Debug, Clone)]
pub(crate) struct HttpPolicy {
    pub(crate) path: String,
    /// `/arawman`: HTTP Digest on every request, no `Login` action.
    pub(crate) digest: bool,
    /// Keep-alive connections for actions.
    pub(crate) connections: usize,
    /// Whether to long-poll for events at all (not with `events=off`).
    pub(crate) events: bool,
}

/// What the loop needs to log in again after a reconnect.
#[derive(Debug, Clone)]
pub(crate) struct LoginInfo {
    pub(crate) username: String,
    pub(crate) secret: String,
    pub(crate) md5: bool,
    pub(crate) events: String,
}

/// Work handed to the loop thread.
pub(crate) enum Command {
    Connect {
        client: Arc<ClientShared>,
        host: String,
        port: u16,
        policy: Box<LinkPolicy>,
        done: Arc<Oneshot<Result<String>>>,
    },
    /// The client logged in: remember how, to log in again after a reconnect.
    LoggedIn { id: u64, login: LoginInfo },
    /// The credentials HTTP Digest answers challenges with (None: forget them).
    Credentials { id: u64, login: Option<LoginInfo> },
    /// A polite end is coming (Logoff): do not reconnect when the server closes.
    StopReconnect { id: u64 },
    Resolved { id: u64, seq: u64, result: std::io::Result<Vec<SocketAddr>> },
    Send {
        id: u64,
        action_id: action_id::ActionId,
        bytes: Vec<u8>,
        wait_event: Option<Box<str>>,
        /// When it times out, set by the sender (the clock is read on the
        /// caller's thread, not the loop's, and counts from the call).
        deadline: Instant,
        reply: Reply,
        /// Its room in the client's budget, given back when it completes.
        ticket: Ticket,
        /// The caller wrote it itself on this link (see [`direct`]): only
        /// register it.
        written: Option<u64>,
    },
    /// A caller's write left bytes for the loop (see [`direct`]).
    Flush { id: u64 },
    /// A caller ended its claim on the read side with bytes for the loop
    /// to read (see [`direct`]).
    Read { id: u64 },
    /// Drops the link (`forget`: and the client's entry), completing what is
    /// pending with `error`.
    Close { id: u64, error: Error, forget: bool, done: Option<Arc<Oneshot<()>>> },
    /// The client's event consumer caught up: read its socket again.
    Resume { id: u64 },
    Shutdown,
}

impl Command {
    /// Completes whatever the command carries when the loop is gone.
    pub(crate) fn fail(self, client_of: impl Fn(u64) -> Option<Arc<ClientShared>>) {
        let closed = || Error::Closed("the engine has stopped".into());
        match self {
            Command::Connect { done, .. } => done.complete(Err(closed())),
            Command::Send { id, reply, .. } => {
                if let Some(c) = client_of(id) {
                    reply.complete(Err(closed()), &c.dispatch);
                } else {
                    reply.complete_here(Err(closed()));
                }
            }
            Command::Close { done: Some(done), .. } => done.complete(()),
            _ => {}
        }
    }
}

/// What client threads share with the loop thread.
pub(crate) struct EngineShared {
    queue: Mutex<Submissions>,
    /// Actions that callers write themselves, taken by the loop before it
    /// routes what it reads (so before their answers).
    registrations: Mutex<Submissions>,
    waker: mio::Waker,
    /// Set while a wake-up is on its way, so a burst of commands costs one
    /// `write` to the waker rather than one per command.
    wake_pending: AtomicBool,
}

struct Submissions {
    commands: Vec<Command>,
    stopped: bool,
}

impl EngineShared {
    pub(crate) fn submit(&self, cmd: Command) {
        let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        if q.stopped {
            drop(q);
            cmd.fail(|_| None);
            return;
        }
        q.commands.push(cmd);
        drop(q);
        self.wake();
    }

    /// Wakes the loop unless a wake-up is on its way.
    pub(crate) fn wake(&self) {
        // Read first: a busy sender finds it set, with no write to a line
        // the loop writes too.
        if !self.wake_pending.load(Ordering::Acquire) && !self.wake_pending.swap(true, Ordering::AcqRel) {
            let _ = self.waker.wake();
        }
    }

    /// Hands the loop an action the caller is about to write itself,
    /// without waking it: the loop takes it before it routes anything it
    /// reads, and the caller wakes it if no answer comes soon (to arm the
    /// action's deadline). Returns the command when the loop is gone.
    pub(crate) fn register(&self, cmd: Command) -> std::result::Result<(), Command> {
        let mut q = self.registrations.lock().unwrap_or_else(|p| p.into_inner());
        if q.stopped {
            return Err(cmd);
        }
        q.commands.push(cmd);
        Ok(())
    }

    fn take_registrations(&self, into: &mut Vec<Command>) {
        let mut q = self.registrations.lock().unwrap_or_else(|p| p.into_inner());
        std::mem::swap(&mut q.commands, into);
    }

    fn take_commands(&self, into: &mut Vec<Command>) {
        self.wake_pending.store(false, Ordering::Release);
        let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        std::mem::swap(&mut q.commands, into);
    }

    /// Marks the engine stopped and returns what was still queued.
    fn stop(&self) -> Vec<Command> {
        let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        q.stopped = true;
        let mut left = std::mem::take(&mut q.commands);
        drop(q);
        let mut r = self.registrations.lock().unwrap_or_else(|p| p.into_inner());
        r.stopped = true;
        left.append(&mut r.commands);
        left
    }
}

/// One event-loop thread serving any number of clients.
///
/// Most programs use the process-wide engine that [`crate::Client::new`]
/// starts on first use; create an `Engine` to give a group of clients a loop
/// of their own. Dropping it stops the loop (pending actions complete with
/// `Error::Closed`) and joins its thread.
pub struct Engine {
    shared: Arc<EngineShared>,
    thread: Option<JoinHandle<()>>,
}

impl Engine {
    /// Starts a loop thread.
    pub fn new() -> std::io::Result<Engine> {
        let (event_loop, shared) = event_loop::EventLoop::new()?;
        let thread = std::thread::Builder::new()
            .name("ami-engine".into())
            .spawn(move || event_loop.run())?;
        Ok(Engine { shared, thread: Some(thread) })
    }

    pub(crate) fn shared(&self) -> &Arc<EngineShared> {
        &self.shared
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.shared.submit(Command::Shutdown);
        if let Some(t) = self.thread.take() {
            if t.thread().id() != std::thread::current().id() {
                let _ = t.join();
            }
        }
    }
}

/// The process-wide engine, started on first use and never stopped.
pub(crate) fn global() -> Result<&'static Engine> {
    static GLOBAL: OnceLock<std::result::Result<Engine, String>> = OnceLock::new();
    GLOBAL
        .get_or_init(|| Engine::new().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| Error::Internal(format!("cannot start the engine: {e}")))
}

/// The part of a client that the loop thread needs.
pub(crate) struct ClientShared {
    pub(crate) id: u64,
    state: AtomicU8,
    pub(crate) banner: Mutex<Option<String>>,
    pub(crate) dispatch: Arc<Dispatcher>,
    pub(crate) limits: Limits,
    /// Room for unsent and unanswered actions (`max_pending`).
    pub(crate) budget: Arc<Budget>,
    /// Whether blocking sends spin for their answer.
    pub(crate) spin: SpinPolicy,
    /// The client's `log_level`.
    pub(crate) log: LogLevel,
    /// Who writes to the socket (see [`direct`]).
    pub(crate) direct: DirectWrite,
}

impl ClientShared {
    pub(crate) fn new(id: u64, dispatch: Arc<Dispatcher>, limits: Limits, budget: Arc<Budget>, log: LogLevel) -> ClientShared {
        ClientShared {
            id,
            log,
            budget,
            spin: SpinPolicy::new(),
            direct: DirectWrite::default(),
            state: AtomicU8::new(State::Disconnected as u8),
            banner: Mutex::new(None),
            dispatch,
            limits,
        }
    }

    pub(crate) fn state(&self) -> State {
        State::from_u8(self.state.load(Ordering::Acquire))
    }

    /// Records a state change and reports it to the state callback, if any.
    /// A closed client stays closed.
    pub(crate) fn set_state(&self, state: State, error: Option<&Error>) {
        let old = self.state.load(Ordering::Acquire);
        if old == State::Closed as u8 || old == state as u8 {
            return;
        }
        self.state.store(state as u8, Ordering::Release);
        match error {
            Some(e) => ami_log!(self.log, self.id, Warn, "state {state:?}: {e}"),
            None => ami_log!(self.log, self.id, Info, "state {state:?}"),
        }
        self.dispatch.state_changed(state, error);
    }
}
