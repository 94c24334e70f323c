//! The loop thread: polls sockets, runs commands, fires deadlines.
//!
//! It never blocks on anything but `poll` and never runs user code: sockets
//! are drained eagerly (Asterisk drops a client that does not read within
//! 100 ms) and events leave through each client's dispatch queue.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Registry, Token, Waker};

use super::action_id::{ActionId, IdHash};
use super::connection::{Conn, Direct, Pending, Phase};
use super::http_link::{self, HttpLink};
use super::timers::{Timer, TimerKind, Timers};
use super::{ClientShared, Command, EngineShared, LinkPolicy, Oneshot, Reply, Submissions};
use crate::codec::{CodecError, Decoder, Frame};
use crate::transport::Transport;
use crate::error::Error;
use crate::State;
use crate::logging::{LogLevel, ami_log};

const WAKER: Token = Token(usize::MAX);
/// Capacity of the command batch kept between wake-ups.
const COMMANDS_KEPT: usize = 256;
/// Reads of one socket per wake-up before others get a turn.
const READS_PER_TURN: usize = 64;
/// Least time between two scans of one connection's deadlines.
const DEADLINE_SCAN_GAP: Duration = Duration::from_millis(10);

pub(super) struct EventLoop {
    pub(super) poll: Poll,
    pub(super) shared: Arc<EngineShared>,
    pub(super) conns: HashMap<u64, Conn, IdHash>,
    pub(super) timers: Timers,
    /// Connections with unsent output.
    pub(super) dirty: Vec<u64>,
    /// Connections that still had data after their turn.
    backlog: Vec<u64>,
    /// Events read in this turn, handed to the client in one batch.
    pub(super) batch: Vec<crate::Message>,
    /// The one read buffer of every connection (lent to a decoder while it
    /// reads, so an idle connection holds none).
    read_buf: Vec<u8>,
    /// Actions callers wrote themselves, being registered; those of other
    /// connections than the one being read wait in `later`.
    registrations: Vec<Command>,
    later: Vec<Command>,
    /// Queued actions of one connection taken since they were last counted
    /// off its [`DirectWrite`](super::direct::DirectWrite) (id, how many):
    /// counted off once per run of them, the counter's cache line stays
    /// with the senders, which add to it per action.
    taken: (u64, usize),
}

impl EventLoop {
    pub(super) fn new() -> io::Result<(EventLoop, Arc<EngineShared>)> {
        let poll = Poll::new()?;
        let waker = Waker::new(poll.registry(), WAKER)?;
        let shared = Arc::new(EngineShared {
            queue: Mutex::new(Submissions { commands: Vec::new(), stopped: false }),
            registrations: Mutex::new(Submissions { commands: Vec::new(), stopped: false }),
            waker,
            wake_pending: AtomicBool::new(false),
        });
        let event_loop = EventLoop {
            poll,
            shared: Arc::clone(&shared),
            conns: HashMap::default(),
            timers: Timers::default(),
            dirty: Vec::new(),
            backlog: Vec::new(),
            batch: Vec::new(),
            read_buf: Vec::new(),
            registrations: Vec::new(),
            later: Vec::new(),
            taken: (0, 0),
        };
        Ok((event_loop, shared))
    }

    pub(super) fn run(mut self) {
        let mut events = Events::with_capacity(1024);
        let mut commands = Vec::new();
        loop {
            let timeout = if self.backlog.is_empty() {
                self.timers.timeout(Instant::now())
            } else {
                Some(Duration::ZERO)
            };
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() != io::ErrorKind::Interrupted {
                    ami_log!(LogLevel::Warn, 0, Error, "the event loop stopped: poll failed: {e}");
                    break;
                }
            }
            self.take_registrations();
            let mut wake = false;
            for event in events.iter() {
                match event.token() {
                    WAKER => wake = true,
                    token => {
                        let (id, slot) = super::http_link::untoken(token);
                        // Closed or failed already: a short read does not
                        // empty the socket of its end, and no edge follows.
                        let ends_short = !event.is_read_closed() && !event.is_error();
                        self.on_ready(id, slot, event.is_writable(), ends_short)
                    }
                }
            }
            for id in std::mem::take(&mut self.backlog) {
                self.read(id, false);
            }
            if wake {
                self.shared.take_commands(&mut commands);
                for cmd in commands.drain(..) {
                    if matches!(cmd, Command::Shutdown) {
                        return self.shutdown();
                    }
                    self.on_command(cmd);
                }
                self.count_off_taken();
                // A burst of submissions leaves no lasting buffer behind.
                commands.shrink_to(COMMANDS_KEPT);
            }
            self.fire_timers();
            self.flush_dirty();
        }
        self.shutdown();
    }

    fn shutdown(mut self) {
        let closed = Error::Closed("the engine has stopped".into());
        for cmd in self.shared.stop() {
            let conns = &self.conns;
            cmd.fail(|id| conns.get(&id).map(|c| Arc::clone(&c.client)));
        }
        let ids: Vec<u64> = self.conns.keys().copied().collect();
        for id in ids {
            if let Some(conn) = self.conns.get_mut(&id) {
                conn.user_closed = true; // the loop is going away: nothing to come back to
            }
            self.disconnect(id, closed.clone());
        }
    }

    /// Registers the actions callers wrote themselves since the last look.
    fn take_registrations(&mut self) {
        self.shared.take_registrations(&mut self.registrations);
        let mut taken = std::mem::take(&mut self.registrations);
        for cmd in taken.drain(..) {
            self.on_command(cmd);
        }
        self.registrations = taken;
    }

    fn on_command(&mut self, cmd: Command) {
        if !matches!(cmd, Command::Send { written: None, .. }) {
            self.count_off_taken(); // whatever it does sees the counts as they are
        }
        match cmd {
            Command::Connect { client, host, port, policy, done } => {
                self.start_connect(client, host, port, *policy, done)
            }
            Command::LoggedIn { id, login } => {
                if let Some(conn) = self.conns.get_mut(&id) {
                    conn.login = Some(login);
                    if conn.http.is_some() {
                        self.http_logged_in(id);
                    }
                }
            }
            Command::Credentials { id, login } => {
                if let Some(conn) = self.conns.get_mut(&id) {
                    conn.login = login;
                    if let Some(http) = conn.http.as_mut() {
                        http.forget_digest();
                    }
                }
            }
            Command::StopReconnect { id } => {
                if let Some(conn) = self.conns.get_mut(&id) {
                    conn.user_closed = true;
                }
            }
            Command::Resolved { id, seq, result } => self.on_resolved(id, seq, result),
            Command::Send { written: Some(_), id, .. } => match self.conns.get_mut(&id) {
                Some(conn) => enlist(conn, &mut self.timers, cmd),
                None => cmd.fail(|_| None),
            },
            Command::Send { id, action_id, bytes, wait_event, deadline, reply, ticket, written: None } => {
                self.on_send(id, action_id, bytes, wait_event, deadline, reply, ticket);
                // Its bytes are in the output now (callers wait behind it),
                // or it ended: counted off with the rest of its run.
                if self.taken.0 != id {
                    self.count_off_taken();
                    self.taken.0 = id;
                }
                self.taken.1 += 1;
            }
            Command::Read { id } => self.read(id, false),
            Command::Flush { id } => {
                if let Some(conn) = self.conns.get_mut(&id) {
                    if conn.direct == Direct::Open {
                        conn.claim_output();
                        self.dirty.push(id);
                    }
                }
            }
            Command::Close { id, error, forget, done } => {
                if let Some(conn) = self.conns.get_mut(&id) {
                    conn.user_closed = true;
                }
                self.disconnect(id, error);
                if forget && self.conns.remove(&id).is_some() && self.conns.is_empty() {
                    // Timers of gone connections would wait out their deadlines.
                    self.timers.clear();
                    self.conns.shrink_to_fit();
                    release_free_memory(&mut self.read_buf);
                }
                if let Some(done) = done {
                    done.complete(());
                }
            }
            Command::Resume { id } => {
                if let Some(conn) = self.conns.get_mut(&id) {
                    if conn.paused {
                        conn.paused = false;
                        match conn.http.is_some() {
                            true => self.http_poll(id),
                            false => self.read(id, false),
                        }
                    }
                }
            }
            Command::Shutdown => {}
        }
    }

    fn start_connect(
        &mut self,
        client: Arc<ClientShared>,
        host: String,
        port: u16,
        policy: LinkPolicy,
        done: Arc<Oneshot<crate::error::Result<String>>>,
    ) {
        let id = client.id;
        if let Some(old) = self.conns.get(&id) {
            if old.phase != Phase::Idle || old.reconnecting {
                done.complete(Err(Error::InvalidArgument("the client is already connected".into())));
                return;
            }
        }
        let mut conn = self.conns.remove(&id).unwrap_or_else(|| Conn::new(client));
        conn.host = host;
        conn.port = port;
        conn.policy = policy;
        conn.user_closed = false;
        conn.attempts = 0;
        conn.connect = Some(done);
        conn.epoll = (std::os::fd::AsRawFd::as_raw_fd(&self.poll), http_link::token(id, 0).0 as u64);
        conn.http = conn.policy.http.clone().map(|p| Box::new(HttpLink::new(p, &conn.host, conn.port)));
        self.conns.insert(id, conn);
        self.begin_connect(id);
    }

    /// Resolves (off the loop for names) and connects, for a client's
    /// connect and for every reconnect attempt.
    pub(super) fn begin_connect(&mut self, id: u64) {
        let Some(conn) = self.conns.get_mut(&id) else { return };
        conn.decoder = Decoder::client(conn.limits());
        conn.out.clear();
        conn.out_pos = 0;
        conn.last_error = None;
        conn.target = format!("{}:{}", conn.host, conn.port);
        let deadline = Instant::now() + conn.policy.connect_timeout;
        conn.connect_seq = self.timers.add(deadline, TimerKind::Connect { conn: id });
        if !conn.reconnecting {
            conn.client.set_state(State::Connecting, None);
        }
        let (host, port) = (conn.host.clone(), conn.port);
        match host.trim_matches(['[', ']']).parse::<IpAddr>() {
            Ok(ip) => {
                conn.addrs = [SocketAddr::new(ip, port)].into();
                self.try_next_addr(id);
            }
            Err(_) => {
                // getaddrinfo blocks: resolve on a helper thread, never here.
                conn.phase = Phase::Resolving;
                let seq = conn.connect_seq;
                let shared = Arc::clone(&self.shared);
                let spawned = std::thread::Builder::new().name("ami-resolve".into()).spawn(move || {
                    let result = (host.as_str(), port).to_socket_addrs().map(|a| a.collect());
                    shared.submit(Command::Resolved { id, seq, result });
                });
                if let Err(e) = spawned {
                    self.disconnect(id, Error::Connect(format!("cannot start resolver: {e}")));
                }
            }
        }
    }

    fn on_resolved(&mut self, id: u64, seq: u64, result: io::Result<Vec<SocketAddr>>) {
        let Some(conn) = self.conns.get_mut(&id) else { return };
        if conn.connect_seq != seq || conn.phase != Phase::Resolving {
            return; // timed out or closed meanwhile
        }
        match result {
            Ok(addrs) if !addrs.is_empty() => {
                conn.addrs = addrs.into();
                self.try_next_addr(id);
            }
            Ok(_) => {
                let e = Error::Connect(format!("{}: name resolved to no address", conn.target));
                self.disconnect(id, e)
            }
            Err(e) => {
                let e = Error::Connect(format!("{}: cannot resolve: {e}", conn.target));
                self.disconnect(id, e)
            }
        }
    }

    /// Starts a TCP connect to the next address, or fails the connect.
    pub(super) fn try_next_addr(&mut self, id: u64) {
        let Some(conn) = self.conns.get_mut(&id) else { return };
        if let Some(mut old) = conn.stream.take() {
            let _ = self.poll.registry().deregister(old.tcp_mut());
        }
        if let Some(http) = conn.http.as_mut() {
            http.reset(self.poll.registry());
        }
        // AMI's stream is slot 0; over HTTP the first connection probes.
        let slot = if conn.http.is_some() { http_link::PROBE } else { 0 };
        while let Some(addr) = conn.addrs.pop_front() {
            match dial(self.poll.registry(), addr, http_link::token(id, slot), &conn.policy, &conn.host) {
                Ok(t) => {
                    match conn.http.as_mut() {
                        Some(http) => http.start_probe(addr, t, conn.client.limits),
                        None => conn.stream = Some(t),
                    }
                    conn.phase = Phase::Connecting;
                    return;
                }
                Err(Dial::Io(e)) => conn.last_error = Some(format!("{addr}: {e}")),
                Err(Dial::Setup(e)) => return self.disconnect(id, e),
            }
        }
        let detail = conn.last_error.clone().unwrap_or_else(|| "no address".into());
        let e = Error::Connect(format!("{}: {detail}", conn.target));
        self.disconnect(id, e);
    }

    fn on_ready(&mut self, id: u64, slot: usize, writable: bool, ends_short: bool) {
        let Some(conn) = self.conns.get_mut(&id) else { return };
        if conn.http.is_some() {
            return self.http_ready(id, slot, writable);
        }
        if conn.phase == Phase::Connecting {
            let Some(stream) = conn.stream.as_ref().map(Transport::tcp) else { return };
            match is_connected(stream) {
                Ok(true) => {
                    let _ = stream.set_nodelay(true);
                    conn.phase = Phase::Banner;
                }
                Ok(false) => return,
                Err(e) => {
                    conn.last_error = Some(format!("{e}"));
                    return self.try_next_addr(id);
                }
            }
        }
        if writable {
            self.flush(id);
        }
        self.read(id, ends_short);
    }

    /// Drains the socket and routes what it held; `ends_short`: a short
    /// read of plain TCP ends it (see below).
    fn read(&mut self, id: u64, ends_short: bool) {
        let Some(conn) = self.conns.get_mut(&id) else { return };
        if !matches!(conn.phase, Phase::Banner | Phase::Open) || conn.paused {
            return;
        }
        // A blocking caller may be reading for its own answer (`direct`):
        // then not now; what it read and did not use comes first.
        let Some(handed) = conn.client.direct.begin_read() else { return };
        let mut failure = None;
        if !handed.is_empty() {
            conn.decoder.feed(&handed);
            enlist_registered(&self.shared, &mut self.registrations, &mut self.later, &mut self.timers, conn, id);
            if let Err(e) = conn.batch_responses(|conn| drain_frames(conn, &mut self.batch)) {
                failure = Some(e);
            }
            conn.client.dispatch.deliver(&mut self.batch);
        }
        let mut turns = 0;
        while failure.is_none() {
            if conn.client.dispatch.pause_if_full() {
                conn.paused = true;
                break;
            }
            if turns == READS_PER_TURN {
                self.backlog.push(id);
                break;
            }
            turns += 1;
            let Some(stream) = conn.stream.as_mut() else { break };
            let plain = stream.is_plain();
            match stream.read_into(&mut conn.decoder, &mut self.read_buf) {
                Ok(0) => {
                    failure = Some(eof_error(conn));
                    break;
                }
                Ok(_) => {
                    conn.last_rx = Instant::now();
                    enlist_registered(&self.shared, &mut self.registrations, &mut self.later, &mut self.timers, conn, id);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if crate::transport::is_tls_error(&e) => {
                    failure = Some(Error::Tls(format!("{}: {e}", conn.target)));
                    break;
                }
                Err(e) => {
                    failure = Some(Error::Disconnected(format!("{}: read failed: {e}", conn.target)));
                    break;
                }
            }
            if let Err(e) = conn.batch_responses(|conn| drain_frames(conn, &mut self.batch)) {
                failure = Some(e);
                break;
            }
            // Each read's events go at once: the consumer starts on them
            // while the next read is parsed, and the buffers it gives back
            // serve the next read's messages (a turn of 64 reads would
            // otherwise hold thousands of events, more than the pool keeps).
            conn.client.dispatch.deliver(&mut self.batch);
            // An emptied socket will raise a new edge for its next bytes
            // (its end included): the read that would only say WouldBlock
            // is one system call per answer saved.
            if ends_short && plain && conn.decoder.last_read_short() {
                break;
            }
        }
        conn.decoder.keep_rest(&mut self.read_buf);
        conn.client.dispatch.deliver(&mut self.batch);
        let claimable = failure.is_none() && !conn.paused && conn.decoder.pending_bytes() == 0;
        conn.client.direct.end_read(claimable);
        if let Some(e) = failure {
            // Anything parsed before the failure was routed above.
            self.disconnect(id, e);
        }
        for cmd in std::mem::take(&mut self.later) {
            self.on_command(cmd);
        }
        self.after_read(id);
    }

    /// Counts off the queued actions taken since the last call.
    fn count_off_taken(&mut self) {
        let (id, n) = std::mem::take(&mut self.taken);
        if n > 0 {
            if let Some(conn) = self.conns.get(&id) {
                conn.client.direct.took(n);
            }
        }
    }

    fn on_send(
        &mut self,
        id: u64,
        action_id: ActionId,
        bytes: Vec<u8>,
        wait_event: Option<Box<str>>,
        deadline: Instant,
        reply: Reply,
        ticket: super::Ticket,
    ) {
        let Some(conn) = self.conns.get_mut(&id) else {
            return reply.complete_here(Err(Error::Closed("the client is closed".into())));
        };
        let offline = conn.reconnecting;
        if offline && !conn.policy.offline_wait {
            return reply.complete(Err(Error::Closed("reconnecting".into())), &conn.client.dispatch);
        }
        if conn.phase == Phase::Idle && !offline {
            return reply.complete(Err(Error::Closed("not connected".into())), &conn.client.dispatch);
        }
        let std::collections::hash_map::Entry::Vacant(entry) = conn.pending.entry(action_id.clone()) else {
            let e = Error::InvalidArgument(format!("ActionID {action_id:?} is already in flight"));
            return reply.complete(Err(e), &conn.client.dispatch);
        };
        let sent = !offline && conn.http.is_none();
        entry.insert(Pending { reply, deadline, wait_event, list: None, sent, ticket: Some(ticket) });
        conn.arm_deadline(id, &mut self.timers, deadline);
        if let Some(link) = conn.http.as_mut() {
            // Bytes are the form body; the pump sends it once a connection is free.
            let body = String::from_utf8(bytes).unwrap_or_default();
            link.enqueue(http_link::Job::new(action_id, body, false));
            self.dirty.push(id);
            return;
        }
        if offline {
            conn.backlog.push((action_id, bytes)); // sent once logged in again
            return;
        }
        let idle = conn.out_pos == conn.out.len();
        if idle {
            conn.out.clear();
            conn.out_pos = 0;
        }
        conn.claim_output();
        if idle {
            self.dirty.push(id);
        }
        crate::logging::wire(conn.client.log, id, "->", &bytes);
        conn.out.extend_from_slice(&bytes);
        crate::codec::recycle::give_buffer(bytes); // the sender's next action takes it
    }

    pub(super) fn flush_dirty(&mut self) {
        for id in std::mem::take(&mut self.dirty) {
            self.flush(id);
        }
    }

    pub(super) fn flush(&mut self, id: u64) {
        let Some(conn) = self.conns.get_mut(&id) else { return };
        if conn.http.is_some() {
            return self.http_pump(id);
        }
        if !matches!(conn.phase, Phase::Banner | Phase::Open) {
            return; // sent once connected
        }
        let Some(stream) = conn.stream.as_mut() else { return };
        loop {
            // TLS first sends what it holds (handshake, records).
            match stream.flush() {
                Ok(true) => {}
                Ok(false) => return,
                Err(e) => {
                    let e = Error::Disconnected(format!("{}: write failed: {e}", conn.target));
                    return self.disconnect(id, e);
                }
            }
            if conn.out_pos == conn.out.len() {
                break;
            }
            match stream.write(&conn.out[conn.out_pos..]) {
                Ok(0) => break,
                Ok(n) => conn.out_pos += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    // A caller that read its own answer may have left
                    // the socket without write interest (see `direct`).
                    return conn.client.direct.want_writable();
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let e = Error::Disconnected(format!("{}: write failed: {e}", conn.target));
                    return self.disconnect(id, e);
                }
            }
        }
        conn.out.clear();
        conn.out_pos = 0;
        conn.release_output();
    }

    fn fire_timers(&mut self) {
        let now = Instant::now();
        while let Some(timer) = self.timers.pop_due(now) {
            self.on_timer(timer);
        }
        let conns = &self.conns;
        // Connect, reconnect, keepalive, deadlines, HTTP poll at most.
        let live = || conns.len() * 5;
        self.timers.sweep(live, |t| is_live(conns, t));
    }

    /// Times out connection `id`'s actions whose deadline has passed, then
    /// arms its deadline timer for the earliest one left: a scan of its
    /// pending actions per timer, which fires about once per timeout while
    /// answers come (the earliest deadline is then a recent action's).
    /// While many time out one after another, the next scan waits at least
    /// `DEADLINE_SCAN_GAP`: an action may time out that much late, and a
    /// connection costs at most a hundred scans of its pending actions a
    /// second.
    fn expire_actions(&mut self, id: u64) {
        let now = Instant::now();
        let Some(conn) = self.conns.get_mut(&id) else { return };
        conn.deadlines_at = None;
        let due: Vec<ActionId> =
            conn.pending.iter().filter(|(_, p)| p.deadline <= now).map(|(action_id, _)| action_id.clone()).collect();
        for action_id in due {
            if let Some(conn) = self.conns.get_mut(&id) {
                ami_log!(conn.client.log, id, Debug, "no response to action {action_id:?} in time");
                let e = Error::Timeout(format!("no response to action {action_id:?} in time"));
                conn.complete(&action_id, Err(e));
            }
            self.http_abandon(id, &action_id);
            self.handle_internal(id);
        }
        let Some(conn) = self.conns.get_mut(&id) else { return };
        if let Some(next) = conn.pending.values().map(|p| p.deadline).min() {
            conn.arm_deadline(id, &mut self.timers, next.max(now + DEADLINE_SCAN_GAP));
        }
    }

    fn on_timer(&mut self, timer: Timer) {
        if !is_live(&self.conns, &timer) {
            return;
        }
        match timer.kind {
            TimerKind::Connect { conn } => {
                let target = self.conns.get(&conn).map(|c| c.target.clone()).unwrap_or_default();
                self.disconnect(conn, Error::Timeout(format!("connecting to {target}: no AMI banner in time")));
            }
            TimerKind::Deadlines { conn } => self.expire_actions(conn),
            TimerKind::Reconnect { conn } => self.begin_connect(conn),
            TimerKind::Keepalive { conn } => self.keepalive_tick(conn),
            TimerKind::HttpPoll { conn } => self.http_poll_timer(conn),
        }
    }

    /// Drops the link: pending actions complete with `error`, the client is
    /// told it is disconnected. The entry stays so the client can connect again.
    /// Drops the link: actions in flight complete with `error`, the client
    /// is told. With reconnecting on, a lost link (not one the client ended)
    /// is tried again after a backoff; otherwise the entry stays so the
    /// client can connect again.
    pub(super) fn disconnect(&mut self, id: u64, error: Error) {
        let Some(conn) = self.conns.get_mut(&id) else { return };
        match &error {
            Error::Closed(_) => ami_log!(conn.client.log, id, Info, "{} closed: {error}", conn.target),
            Error::Tls(_) | Error::Protocol(_) | Error::NotAmi(_) | Error::Auth(_) => {
                ami_log!(conn.client.log, id, Error, "{error}")
            }
            _ => ami_log!(conn.client.log, id, Warn, "link lost: {error}"),
        }
        conn.close_direct();
        if let Some(mut stream) = conn.stream.take() {
            let _ = self.poll.registry().deregister(stream.tcp_mut());
        }
        let reconnect = conn.policy.reconnect.is_some() && conn.ever_up && !conn.user_closed;
        self.http_drop_link(id, reconnect);
        let Some(conn) = self.conns.get_mut(&id) else { return };
        conn.out.clear();
        conn.out_pos = 0;
        conn.paused = false;
        conn.connect_seq = self.timers.seq(); // retires the connect timer and resolver
        conn.keepalive_seq = self.timers.seq();
        conn.keepalive_on = false;
        let was_up = conn.phase != Phase::Idle;
        conn.phase = Phase::Idle;
        // State first: whoever the completions wake must see it.
        if was_up && !conn.reconnecting {
            conn.client.set_state(State::Disconnected, Some(&error));
        }
        if let Some(done) = conn.connect.take() {
            done.complete(Err(error.clone()));
        }
        conn.fail_pending(&error, !reconnect);
        conn.internal.clear(); // the loop's own actions died with the link
        if reconnect {
            self.schedule_reconnect(id);
        } else {
            conn.reconnecting = false;
            conn.reconnect_seq = self.timers.seq();
        }
    }
}

/// Why a socket could not be opened.
pub(super) enum Dial {
    /// Connecting failed: try the next address.
    Io(io::Error),
    /// The TLS session could not be set up: no address will do better.
    Setup(Error),
}

/// Starts a nonblocking connect to `addr`, registered under `token`,
/// in TLS when the policy says so.
pub(super) fn dial(registry: &Registry, addr: SocketAddr, token: Token, policy: &LinkPolicy, host: &str) -> Result<Transport, Dial> {
    let mut tcp = TcpStream::connect(addr).map_err(Dial::Io)?;
    registry.register(&mut tcp, token, Interest::READABLE | Interest::WRITABLE).map_err(Dial::Io)?;
    let Some((config, name)) = &policy.tls else { return Ok(Transport::Plain(tcp)) };
    crate::tls::server_name(name.as_deref().unwrap_or(host))
        .and_then(|name| {
            rustls::ClientConnection::new(Arc::clone(config), name).map_err(|e| Error::Tls(format!("TLS setup: {e}")))
        })
        .map(|session| Transport::tls(tcp, session))
        .map_err(Dial::Setup)
}

/// Whether a nonblocking connect has finished (`Err`: it failed).
pub(super) fn is_connected(tcp: &TcpStream) -> io::Result<bool> {
    if let Some(e) = tcp.take_error()? {
        return Err(e);
    }
    match tcp.peer_addr() {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(false),
        Err(e) => Err(e),
    }
}

/// Why a read returned end of stream, in the connection's phase.
fn eof_error(conn: &Conn) -> Error {
    if conn.stream.as_ref().is_some_and(Transport::is_handshaking) {
        return Error::Tls(format!("{}: the server closed the connection during the TLS handshake", conn.target));
    }
    match conn.phase {
        Phase::Banner => Error::NotAmi(format!("{}: closed without an AMI banner", conn.target)),
        _ => Error::Disconnected(format!("{}: the server closed the connection", conn.target)),
    }
}

/// The last client is gone: the shared read buffer goes, and the C
/// allocator hands what it keeps of freed connections back to the system
/// (glibc keeps freed memory for reuse; thousands of connections add up).
fn release_free_memory(read_buf: &mut Vec<u8>) {
    *read_buf = Vec::new();
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free heap pages to the kernel.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Decodes every complete frame, routing messages and collecting events.
/// What was read may answer actions callers wrote themselves since the
/// last look: registers those of connection `id` first (others wait in
/// `later`).
fn enlist_registered(
    shared: &EngineShared,
    registrations: &mut Vec<Command>,
    later: &mut Vec<Command>,
    timers: &mut Timers,
    conn: &mut Conn,
    id: u64,
) {
    shared.take_registrations(registrations);
    for cmd in registrations.drain(..) {
        match matches!(cmd, Command::Send { id: of, .. } if of == id) {
            true => enlist(conn, timers, cmd),
            false => later.push(cmd),
        }
    }
}

fn drain_frames(conn: &mut Conn, batch: &mut Vec<crate::Message>) -> Result<(), Error> {
    let wants_events = conn.client.dispatch.wants_events();
    loop {
        match conn.decoder.next_frame() {
            Ok(None) => return Ok(()),
            Ok(Some(Frame::Banner(banner))) => {
                ami_log!(conn.client.log, conn.client.id, Trace, "<- {banner}");
                conn.phase = Phase::Open;
                conn.ever_up = true;
                *conn.client.banner.lock().unwrap_or_else(|p| p.into_inner()) = Some(banner.clone());
                conn.client.set_state(State::Connected, None);
                conn.open_direct();
                if let Some(done) = conn.connect.take() {
                    done.complete(Ok(banner));
                }
            }
            Ok(Some(Frame::Message(msg))) => {
                crate::logging::wire_message(conn.client.log, conn.client.id, &msg);
                if let Some(event) = conn.route(msg) {
                    if wants_events {
                        batch.push(event);
                    }
                }
            }
            Err(CodecError::NotAmi(detail)) => {
                return Err(Error::NotAmi(format!("{}: {detail}", conn.target)));
            }
            Err(e) => return Err(Error::Protocol(format!("{}: {e}", conn.target))),
        }
    }
}

/// Registers an action its caller wrote itself (`Command::Send` with
/// `written`): it waits for its answer like one the loop wrote.
fn enlist(conn: &mut Conn, timers: &mut Timers, cmd: Command) {
    let Command::Send { id, action_id, wait_event, deadline, reply, ticket, written: Some(link), .. } = cmd else {
        return;
    };
    let pending = Pending { reply, deadline, wait_event, list: None, sent: true, ticket: Some(ticket) };
    conn.enlist_written(link, action_id, pending);
    conn.arm_deadline(id, timers, deadline);
}

fn is_live(conns: &HashMap<u64, Conn, IdHash>, timer: &Timer) -> bool {
    match &timer.kind {
        TimerKind::Connect { conn } => conns
            .get(conn)
            .is_some_and(|c| c.connect_seq == timer.seq && c.connect.is_some()),
        TimerKind::Deadlines { conn } => conns.get(conn).is_some_and(|c| c.deadlines_seq == timer.seq),
        TimerKind::Reconnect { conn } => conns
            .get(conn)
            .is_some_and(|c| c.reconnect_seq == timer.seq && c.reconnecting && !c.user_closed),
        TimerKind::Keepalive { conn } => conns.get(conn).is_some_and(|c| c.keepalive_seq == timer.seq),
        TimerKind::HttpPoll { conn } => conns.get(conn).and_then(|c| c.http.as_ref()).is_some_and(|h| h.poll_seq == timer.seq),
    }
}
