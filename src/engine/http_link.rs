//! AMI over Asterisk's HTTP server, on the loop thread: a pool of
//! keep-alive connections that carry one action each at a time (Asterisk
//! answers one request at a time per connection), one more connection that
//! long-polls `waitevent` for events, the session cookie (`/rawman`) or a
//! Digest answer (`/arawman`) on every request, and logging in again when
//! the session expired. Bodies are AMI messages, routed by `Conn::route`
//! exactly as TCP's are.

use super::action_id::ActionId;
use std::collections::VecDeque;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mio::Token;

use super::connection::{Conn, Phase};
use super::event_loop::{Dial, EventLoop, dial, is_connected};
use super::timers::TimerKind;
use super::{HttpPolicy, LoginInfo, action_id};
use crate::codec::{Decoder, Frame, Limits, Message};
use crate::error::Error;
use crate::http::{self, Challenge, DigestAuth, Response, ResponseDecoder};
use crate::transport::Transport;
use crate::State;

/// Low bits of a mio token: which socket of a client (0: the TCP stream,
/// or the HTTP long poll; 1.. the HTTP action connections).
const SLOT_BITS: u32 = 5;
const POLLER: usize = 0;
/// The slot of a link's first connection, then an action connection like the others.
pub(super) const PROBE: usize = 1;
/// `waitevent`'s timeout in seconds; Asterisk shortens it to the session's
/// expiry less 10 s.
const POLL_WAIT_SECS: u64 = 30;
/// A poll answered this fast with no event (a server whose session timeout
/// leaves no time to wait) is repeated after `POLL_PAUSE`, not at once.
const POLL_QUICK: Duration = Duration::from_millis(100);
const POLL_PAUSE: Duration = Duration::from_millis(500);
/// Polls lost in a row (closed, unanswered) before the link counts as lost.
const POLL_FAILURES: u32 = 2;
/// An HTTP body holds a list of many messages: this many times the largest message.
const BODY_MESSAGES: usize = 16;

pub(super) fn token(id: u64, slot: usize) -> Token {
    Token(((id as usize) << SLOT_BITS) | slot)
}

pub(super) fn untoken(t: Token) -> (u64, usize) {
    ((t.0 >> SLOT_BITS) as u64, t.0 & ((1 << SLOT_BITS) - 1))
}

/// One request to make: an action's form body, the poll, or the probe.
pub(super) struct Job {
    action_id: ActionId,
    body: String,
    /// Login or Challenge: the cookie of its answer is the session's.
    sets_session: bool,
    /// Sent with a Digest answer: a 401 then means wrong credentials,
    /// unless the server says the nonce was stale.
    authorized: bool,
    /// Sent again once already, after a keep-alive connection closed under it.
    resent: bool,
    /// The loop's own (a login again): goes even while the session is down.
    urgent: bool,
    sent_at: Instant,
}

impl Job {
    pub(super) fn new(action_id: ActionId, body: String, urgent: bool) -> Job {
        let action = http::form_action(&body);
        Job {
            action_id,
            sets_session: action == "login" || action == "challenge",
            body,
            authorized: false,
            resent: false,
            urgent,
            sent_at: Instant::now(),
        }
    }
}

/// One HTTP connection of a link.
struct Socket {
    stream: Transport,
    connected: bool,
    decoder: ResponseDecoder,
    out: Vec<u8>,
    out_pos: usize,
    job: Option<Job>,
    /// Responses it carried: a keep-alive connection that answered before
    /// and closes under a new request is retried once elsewhere.
    served: u32,
}

/// The HTTP side of a `Conn`.
pub(super) struct HttpLink {
    policy: HttpPolicy,
    /// The `Host` header.
    host: String,
    addr: Option<SocketAddr>,
    cookie: Option<String>,
    challenge: Option<Challenge>,
    digest: Option<DigestAuth>,
    /// `[POLLER, action connections...]`.
    sockets: Vec<Option<Socket>>,
    /// Actions waiting for a free connection, in order.
    queue: VecDeque<Job>,
    /// Logged in: events are long-polled.
    polling: bool,
    pub(super) poll_seq: u64,
    poll_failures: u32,
}

impl HttpLink {
    pub(super) fn new(policy: HttpPolicy, host: &str, port: u16) -> HttpLink {
        let host = match host.contains(':') && !host.starts_with('[') {
            true => format!("[{host}]:{port}"),
            false => format!("{host}:{port}"),
        };
        let sockets = (0..=policy.connections).map(|_| None).collect();
        HttpLink {
            policy,
            host,
            addr: None,
            cookie: None,
            challenge: None,
            digest: None,
            sockets,
            queue: VecDeque::new(),
            polling: false,
            poll_seq: 0,
            poll_failures: 0,
        }
    }

    pub(super) fn is_digest(&self) -> bool {
        self.policy.digest
    }

    /// Queues an action; the loop's own go first.
    pub(super) fn enqueue(&mut self, job: Job) {
        match job.urgent {
            true => self.queue.push_front(job),
            false => self.queue.push_back(job),
        }
    }

    /// New credentials (or none): the next request answers the challenge afresh.
    pub(super) fn forget_digest(&mut self) {
        self.digest = None;
    }

    /// The `Authorization` of the next request, on `/arawman` once the
    /// server has challenged and the client has credentials.
    fn authorization(&mut self, login: Option<&LoginInfo>) -> Option<String> {
        let (true, Some(login), Some(challenge)) = (self.policy.digest, login, &self.challenge) else { return None };
        if self.digest.as_ref().map(DigestAuth::nonce) != Some(challenge.nonce.as_str()) {
            self.digest = Some(DigestAuth::new(&login.username, &login.secret, challenge.clone()));
        }
        let cnonce = format!("{:016x}", RandomState::new().hash_one(Instant::now()));
        Some(self.digest.as_mut()?.authorization("POST", &self.policy.path, &cnonce))
    }

    /// Before a connect or reconnect: no socket, no session; requests held
    /// by sockets go back to the front of the queue.
    pub(super) fn reset(&mut self, registry: &mio::Registry) {
        for (job, _) in self.drop_sockets(registry) {
            self.queue.push_front(job);
        }
        self.cookie = None;
        self.challenge = None;
        self.digest = None;
        self.poll_failures = 0;
    }

    /// The first connection of a link, on `stream` to `addr`: it asks a
    /// `Ping` without credentials, whose answer shows that AMI is there
    /// (and brings the cookie or the Digest challenge).
    pub(super) fn start_probe(&mut self, addr: SocketAddr, stream: Transport, limits: Limits) {
        let probe_id = action_id::next_id();
        let body = format!("action=Ping&actionid={probe_id}");
        let mut socket = new_socket(stream, limits);
        socket.out = http::request(&self.host, &self.policy.path, &body, None, None);
        socket.job = Some(Job::new(probe_id, body, true));
        self.addr = Some(addr);
        self.sockets[PROBE] = Some(socket);
    }

    /// Closes every socket; returns the jobs they carried, with whether their
    /// request may have reached the server.
    fn drop_sockets(&mut self, registry: &mio::Registry) -> Vec<(Job, bool)> {
        let mut jobs = Vec::new();
        for (slot, s) in self.sockets.iter_mut().enumerate() {
            if let Some(mut s) = s.take() {
                let _ = registry.deregister(s.stream.tcp_mut());
                if let Some(job) = s.job.take().filter(|_| slot != POLLER) {
                    jobs.push((job, s.connected));
                }
            }
        }
        jobs
    }
}

/// The AMI messages of an HTTP body.
fn body_messages(body: &[u8], limits: Limits) -> Result<Vec<Message>, Error> {
    let mut decoder = Decoder::client_banner_optional(limits);
    decoder.feed(body);
    let mut out = Vec::new();
    loop {
        match decoder.next_frame() {
            Ok(Some(Frame::Message(m))) => out.push(m),
            Ok(Some(Frame::Banner(_))) => {}
            Ok(None) => return Ok(out),
            Err(e) => return Err(Error::Protocol(format!("in an HTTP body: {e}"))),
        }
    }
}

fn is_denied(m: &Message) -> bool {
    m.has("Response", "Error") && m.get("Message").is_some_and(|t| t.eq_ignore_ascii_case("Permission denied"))
}

fn is_probing(conn: &Conn) -> bool {
    matches!(conn.phase, Phase::Connecting | Phase::Banner)
}

impl EventLoop {
    pub(super) fn http_ready(&mut self, id: u64, slot: usize, writable: bool) {
        let Some(conn) = self.conns.get_mut(&id) else { return };
        let Some(socket) = conn.http.as_mut().and_then(|h| h.sockets.get_mut(slot)?.as_mut()) else { return };
        if !socket.connected {
            match is_connected(socket.stream.tcp()) {
                Ok(false) => return,
                Ok(true) => {
                    let _ = socket.stream.tcp().set_nodelay(true);
                    socket.connected = true;
                    if conn.phase == Phase::Connecting {
                        conn.phase = Phase::Banner;
                    }
                }
                Err(e) => {
                    let e = Error::Connect(format!("{}: {e}", conn.target));
                    return self.http_socket_failed(id, slot, e);
                }
            }
        }
        if writable {
            self.http_flush_socket(id, slot);
        }
        self.http_read(id, slot);
    }

    /// Drains one socket and acts on the responses it held.
    fn http_read(&mut self, id: u64, slot: usize) {
        let mut buf = [0u8; 16 * 1024];
        let mut responses = Vec::new();
        let mut end = None; // Some(Ok): the server closed; Some(Err): failed
        {
            let Some(conn) = self.conns.get_mut(&id) else { return };
            let probing = is_probing(conn);
            let target = &conn.target;
            let Some(socket) = conn.http.as_mut().and_then(|h| h.sockets.get_mut(slot)?.as_mut()) else { return };
            if !socket.connected {
                return;
            }
            'reading: loop {
                match socket.stream.read_bytes(&mut buf) {
                    Ok(0) => {
                        end = Some(Ok(()));
                        break;
                    }
                    Ok(n) => {
                        conn.last_rx = Instant::now();
                        socket.decoder.feed(&buf[..n]);
                        loop {
                            match socket.decoder.next_response() {
                                Ok(Some(r)) => {
                                    if crate::logging::enabled(conn.client.log, crate::logging::LogLevel::Trace) {
                                        let text = format!("{}\r\n\r\n", r.status_line());
                                        crate::logging::wire(conn.client.log, id, "<-", &[text.as_bytes(), &r.body].concat());
                                    }
                                    responses.push(r)
                                }
                                Ok(None) => break,
                                Err(e) => {
                                    let e = match (probing, Error::from(e)) {
                                        (true, e) => e,
                                        (false, e) => Error::Protocol(e.to_string()),
                                    };
                                    end = Some(Err(with_target(e, target)));
                                    break 'reading;
                                }
                            }
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) if crate::transport::is_tls_error(&e) => {
                        end = Some(Err(Error::Tls(format!("{target}: {e}"))));
                        break;
                    }
                    Err(e) => {
                        end = Some(Err(Error::Disconnected(format!("{target}: read failed: {e}"))));
                        break;
                    }
                }
            }
        }
        for r in responses {
            self.http_response(id, slot, r);
        }
        match end {
            Some(Ok(())) => self.http_eof(id, slot),
            Some(Err(e)) => self.http_socket_failed(id, slot, e),
            None => {}
        }
        if let Some(conn) = self.conns.get_mut(&id) {
            conn.client.dispatch.deliver(&mut self.batch);
        }
        self.after_read(id);
        self.dirty.push(id);
    }

    /// One complete response on `slot`.
    fn http_response(&mut self, id: u64, slot: usize, response: Response) {
        let Some(conn) = self.conns.get_mut(&id) else { return };
        let Some(http) = conn.http.as_mut() else { return };
        let Some(socket) = http.sockets.get_mut(slot).and_then(Option::as_mut) else { return };
        let job = socket.job.take();
        socket.served += 1;
        if let Some(cookie) = http::session_cookie(&response) {
            if http.cookie.is_none() || job.as_ref().is_some_and(|j| j.sets_session) {
                http.cookie = Some(cookie);
            }
        }
        let challenge = response.header("WWW-Authenticate").and_then(|v| Challenge::parse(v).ok());
        if let Some(c) = &challenge {
            if http.challenge.as_ref().map(|h| &h.nonce) != Some(&c.nonce) {
                http.challenge = Some(c.clone());
            }
        }
        if !response.keep_alive() {
            self.http_close_socket(id, slot);
        }
        let Some(conn) = self.conns.get_mut(&id) else { return };
        if is_probing(conn) {
            return self.http_probe_answer(id, response);
        }
        let Some(job) = job else { return }; // nothing asked: ignore
        match (slot, response.status) {
            (POLLER, _) => self.http_poll_answer(id, job, response, challenge),
            (_, 200) => self.http_body(id, job, &response.body),
            (_, 401) => self.http_unauthorized(id, job, &response, challenge),
            (_, status) => {
                let target = &conn.target;
                let e = match status {
                    403 => Error::Auth(format!("{target}: {}", response.status_line())),
                    _ => Error::Protocol(format!("{target}: {}", response.status_line())),
                };
                conn.complete(&job.action_id, Err(e));
            }
        }
    }

    /// The answer to the first request of a link.
    fn http_probe_answer(&mut self, id: u64, response: Response) {
        let Some(conn) = self.conns.get_mut(&id) else { return };
        let Some(http) = conn.http.as_ref() else { return };
        let (target, path) = (&conn.target, &http.policy.path);
        let result = match response.status {
            200 => match body_messages(&response.body, conn.client.limits) {
                Ok(m) if m.first().is_some_and(|m| m.get_bytes("Response").is_some()) => Ok(()),
                _ => Err(Error::NotAmi(format!("{target}: {} for {path}, with a body that is not AMI", response.status_line()))),
            },
            401 if http.challenge.is_some() => Ok(()),
            404 => Err(Error::NotAmi(format!(
                "{target}: {} for {path}: no manager there (Asterisk needs webenabled = yes in manager.conf, enabled = yes in http.conf)",
                response.status_line()
            ))),
            _ => Err(Error::Protocol(format!("{target}: {} for {path}", response.status_line()))),
        };
        if let Err(e) = result {
            return self.disconnect(id, e);
        }
        let banner = response.header("Server").map_or_else(|| response.status_line(), str::to_string);
        conn.phase = Phase::Open;
        conn.ever_up = true;
        *conn.client.banner.lock().unwrap_or_else(|p| p.into_inner()) = Some(banner.clone());
        conn.client.set_state(State::Connected, None);
        if let Some(done) = conn.connect.take() {
            done.complete(Ok(banner));
        }
    }

    /// A `200` to an action: its response (and a list's events) in AMI.
    fn http_body(&mut self, id: u64, job: Job, body: &[u8]) {
        let Some(conn) = self.conns.get_mut(&id) else { return };
        let messages = match body_messages(body, conn.client.limits) {
            Ok(m) => m,
            Err(e) => return conn.complete(&job.action_id, Err(with_target(e, &conn.target))),
        };
        let session_kept = conn.login.is_some() && !job.sets_session && conn.http.as_ref().is_some_and(|h| !h.is_digest());
        let wants_events = conn.client.dispatch.wants_events();
        let (mut answered, mut expired) = (false, false);
        for mut msg in messages {
            if !answered && !msg.is_event() && msg.get_bytes("Response").is_some() {
                if msg.action_id().is_none() {
                    let _ = msg.add("ActionID", &job.action_id); // the request's own answer
                }
                if msg.action_id() == Some(&*job.action_id) {
                    answered = true;
                    if session_kept && is_denied(&msg) {
                        expired = true;
                        continue;
                    }
                }
            }
            if let Some(event) = conn.route(msg) {
                if wants_events {
                    self.batch.push(event);
                }
            }
        }
        if expired {
            if let Some(p) = conn.pending.get_mut(&job.action_id) {
                p.sent = false;
            }
            if let Some(http) = conn.http.as_mut() {
                http.queue.push_front(job);
            }
            return self.http_session_expired(id);
        }
        let Some(p) = conn.pending.get_mut(&job.action_id) else { return };
        if let Some(list) = p.list.take() {
            conn.complete(&job.action_id, Ok(*list)); // the body ended the list
        } else if !answered {
            let e = Error::Protocol(format!("{}: the HTTP answer held no AMI response", conn.target));
            conn.complete(&job.action_id, Err(e));
        }
    }

    /// A `401`: answer the challenge (again, for a stale nonce) or give up.
    fn http_unauthorized(&mut self, id: u64, mut job: Job, response: &Response, challenge: Option<Challenge>) {
        let Some(conn) = self.conns.get_mut(&id) else { return };
        let Some(http) = conn.http.as_mut() else { return };
        let credentials = http.is_digest() && conn.login.is_some();
        let target = &conn.target;
        let e = match challenge {
            Some(c) if credentials && (!job.authorized || c.stale) => {
                job.authorized = false;
                http.queue.push_front(job);
                return;
            }
            Some(_) if !credentials => Error::Auth(format!(
                "{target}: {}: {} answers with HTTP Digest: log in first",
                response.status_line(),
                http.policy.path
            )),
            _ => Error::Auth(format!("{target}: {}: wrong username or secret", response.status_line())),
        };
        conn.complete(&job.action_id, Err(e));
    }

    /// The session is gone on the server (`Permission denied` once logged
    /// in): log in again, as after a reconnect, and carry on.
    fn http_session_expired(&mut self, id: u64) {
        let Some(conn) = self.conns.get_mut(&id) else { return };
        if conn.reconnecting {
            return; // logging in again already
        }
        conn.reconnecting = true;
        if let Some(http) = conn.http.as_mut() {
            http.cookie = None;
        }
        conn.client.set_state(State::Reconnecting, None);
        // `after_read` sends the Login: the link itself is up.
    }

    /// Starts the long poll unless one is out, or events are not wanted now.
    pub(super) fn http_poll(&mut self, id: u64) {
        let Some(conn) = self.conns.get_mut(&id) else { return };
        let Some(http) = conn.http.as_mut() else { return };
        let busy = http.sockets[POLLER].as_ref().is_some_and(|s| s.job.is_some());
        if busy || !http.polling || !http.policy.events || conn.phase != Phase::Open || conn.reconnecting || conn.paused {
            return;
        }
        let poll_id = action_id::next_id();
        let body = format!("action=WaitEvent&timeout={POLL_WAIT_SECS}&actionid={poll_id}");
        let deadline = Duration::from_secs(POLL_WAIT_SECS) + conn.policy.connect_timeout + Duration::from_secs(5);
        http.poll_seq = self.timers.add(Instant::now() + deadline, TimerKind::HttpPoll { conn: id });
        self.http_send_on(id, POLLER, Job::new(poll_id, body, true));
    }

    /// Sends `job` on `slot`, opening its connection first if need be (a
    /// connection that cannot be opened means the server is gone: the job
    /// goes back to the queue and the link is dropped).
    fn http_send_on(&mut self, id: u64, slot: usize, mut job: Job) {
        let Some(conn) = self.conns.get_mut(&id) else { return };
        let Some(http) = conn.http.as_mut() else { return };
        if http.sockets[slot].is_none() {
            let opened = match http.addr {
                Some(addr) => dial(self.poll.registry(), addr, token(id, slot), &conn.policy, &conn.host),
                None => Err(Dial::Io(io::Error::new(io::ErrorKind::NotConnected, "no address yet"))),
            };
            match opened {
                Ok(stream) => http.sockets[slot] = Some(new_socket(stream, conn.client.limits)),
                Err(e) => {
                    if slot != POLLER {
                        http.queue.push_front(job);
                    }
                    let e = dial_error(e, &conn.target);
                    return self.disconnect(id, e);
                }
            }
        }
        let auth = http.authorization(conn.login.as_ref());
        job.authorized = auth.is_some();
        job.sent_at = Instant::now();
        let request = http::request(&http.host, &http.policy.path, &job.body, http.cookie.as_deref(), auth.as_deref());
        if let Some(p) = conn.pending.get_mut(&job.action_id) {
            p.sent = true;
        }
        crate::logging::wire(conn.client.log, id, "->", &request);
        let Some(socket) = http.sockets[slot].as_mut() else { return };
        socket.out.extend_from_slice(&request);
        socket.job = Some(job);
        self.http_flush_socket(id, slot);
    }

    /// The answer of a long poll: the session's events, then the next poll.
    fn http_poll_answer(&mut self, id: u64, job: Job, response: Response, challenge: Option<Challenge>) {
        let Some(conn) = self.conns.get_mut(&id) else { return };
        let Some(http) = conn.http.as_mut() else { return };
        http.poll_failures = 0;
        let target = conn.target.clone();
        match response.status {
            200 => {}
            401 if challenge.as_ref().is_some_and(|c| c.stale || !job.authorized) => return self.http_poll(id),
            401 | 403 => return self.disconnect(id, Error::Auth(format!("{target}: waitevent: {}", response.status_line()))),
            _ => return self.disconnect(id, Error::Protocol(format!("{target}: waitevent: {}", response.status_line()))),
        }
        let messages = match body_messages(&response.body, conn.client.limits) {
            Ok(m) => m,
            Err(e) => return self.disconnect(id, with_target(e, &target)),
        };
        let digest = http.is_digest();
        let wants_events = conn.client.dispatch.wants_events();
        let (mut events, mut expired) = (0, false);
        for msg in messages {
            if !msg.is_event() {
                expired |= is_denied(&msg) && !digest && conn.login.is_some();
                continue; // the poll's own response
            }
            if msg.event_name().is_some_and(|n| n.eq_ignore_ascii_case("WaitEventComplete")) {
                continue;
            }
            events += 1;
            if let Some(event) = conn.route(msg) {
                if wants_events {
                    self.batch.push(event);
                }
            }
        }
        if expired {
            return self.http_session_expired(id);
        }
        if conn.client.dispatch.pause_if_full() {
            conn.paused = true; // `Resume` polls again
            return;
        }
        if events == 0 && job.sent_at.elapsed() < POLL_QUICK {
            if let Some(http) = conn.http.as_mut() {
                http.poll_seq = self.timers.add(Instant::now() + POLL_PAUSE, TimerKind::HttpPoll { conn: id });
            }
            return;
        }
        self.http_poll(id);
    }

    /// The poll's deadline, or the end of its pause.
    pub(super) fn http_poll_timer(&mut self, id: u64) {
        let Some(http) = self.conns.get_mut(&id).and_then(|c| c.http.as_mut()) else { return };
        if http.sockets[POLLER].as_ref().is_some_and(|s| s.job.is_some()) {
            self.http_close_socket(id, POLLER);
            return self.http_poll_lost(id, Error::Timeout("no answer to waitevent in time".into()));
        }
        self.http_poll(id);
    }

    fn http_poll_lost(&mut self, id: u64, error: Error) {
        let Some(http) = self.conns.get_mut(&id).and_then(|c| c.http.as_mut()) else { return };
        http.poll_failures += 1;
        if http.poll_failures >= POLL_FAILURES {
            return self.disconnect(id, error);
        }
        self.http_poll(id);
    }

    /// The server closed `slot`: a body that ends with the connection is
    /// complete; a request left unanswered is retried once if the
    /// connection was an old keep-alive one, and fails otherwise.
    fn http_eof(&mut self, id: u64, slot: usize) {
        let Some(conn) = self.conns.get_mut(&id) else { return };
        let Some(socket) = conn.http.as_mut().and_then(|h| h.sockets.get_mut(slot)?.as_mut()) else { return };
        match socket.decoder.finish() {
            Ok(Some(response)) => {
                self.http_response(id, slot, response);
                return self.http_close_socket(id, slot);
            }
            Ok(None) => {}
            Err(e) => {
                let e = Error::Disconnected(format!("{}: the server closed the connection in the middle of an answer: {e}", conn.target));
                return self.http_socket_failed(id, slot, e);
            }
        }
        let served = socket.served;
        let job = socket.job.take();
        let target = conn.target.clone();
        self.http_close_socket(id, slot);
        let Some(mut job) = job else { return }; // an idle keep-alive connection closed: fine
        let e = match is_probing(&self.conns[&id]) {
            true => Error::NotAmi(format!("{target}: closed without an HTTP answer")),
            false => Error::Disconnected(format!("{target}: the server closed the connection without answering")),
        };
        if slot == POLLER {
            return self.http_poll_lost(id, e);
        }
        let Some(conn) = self.conns.get_mut(&id) else { return };
        if is_probing(conn) {
            return self.disconnect(id, e);
        }
        if served > 0 && !job.resent {
            job.resent = true;
            if let Some(http) = conn.http.as_mut() {
                http.queue.push_front(job);
            }
            return;
        }
        conn.complete(&job.action_id, Err(e));
    }

    /// `slot` failed (connect refused, reset, garbage): a connection that
    /// could not be made means the server is gone; one that failed takes
    /// its request with it.
    fn http_socket_failed(&mut self, id: u64, slot: usize, error: Error) {
        let Some(conn) = self.conns.get_mut(&id) else { return };
        let Some(socket) = conn.http.as_mut().and_then(|h| h.sockets.get_mut(slot)?.as_mut()) else { return };
        let connected = socket.connected;
        let job = socket.job.take();
        self.http_close_socket(id, slot);
        let Some(conn) = self.conns.get_mut(&id) else { return };
        if is_probing(conn) {
            if !connected {
                conn.last_error = Some(error.to_string());
                return self.try_next_addr(id);
            }
            return self.disconnect(id, error);
        }
        if !connected || slot == POLLER {
            if let (Some(job), Some(http)) = (job.filter(|_| slot != POLLER), conn.http.as_mut()) {
                http.queue.push_front(job); // it never left: it waits for the link
            }
            return self.disconnect(id, error);
        }
        if let Some(job) = job {
            conn.complete(&job.action_id, Err(error));
        }
    }

    fn http_close_socket(&mut self, id: u64, slot: usize) {
        let Some(http) = self.conns.get_mut(&id).and_then(|c| c.http.as_mut()) else { return };
        if let Some(mut s) = http.sockets.get_mut(slot).and_then(Option::take) {
            let _ = self.poll.registry().deregister(s.stream.tcp_mut());
        }
    }

    /// An action gave up waiting: the connection carrying it is of no more use.
    pub(super) fn http_abandon(&mut self, id: u64, action_id: &str) {
        let Some(http) = self.conns.get_mut(&id).and_then(|c| c.http.as_mut()) else { return };
        let slot = http.sockets.iter().position(|s| {
            s.as_ref().and_then(|s| s.job.as_ref()).is_some_and(|j| &*j.action_id == action_id)
        });
        if let Some(slot) = slot.filter(|&s| s != POLLER) {
            self.http_close_socket(id, slot);
        }
    }

    /// Hands queued actions to free connections, opening more up to the pool size.
    pub(super) fn http_pump(&mut self, id: u64) {
        loop {
            let Some(conn) = self.conns.get_mut(&id) else { return };
            if conn.phase != Phase::Open {
                return;
            }
            let Some(http) = conn.http.as_mut() else { return };
            while http.queue.front().is_some_and(|j| !conn.pending.contains_key(&j.action_id)) {
                http.queue.pop_front(); // timed out or closed while waiting
            }
            let Some(front) = http.queue.front() else { return };
            if conn.reconnecting && !front.urgent {
                return;
            }
            let idle = (1..http.sockets.len()).find(|&i| http.sockets[i].as_ref().is_some_and(|s| s.job.is_none()));
            let Some(slot) = idle.or_else(|| (1..http.sockets.len()).find(|&i| http.sockets[i].is_none())) else { return };
            let Some(job) = http.queue.pop_front() else { return };
            self.http_send_on(id, slot, job);
        }
    }

    fn http_flush_socket(&mut self, id: u64, slot: usize) {
        let Some(conn) = self.conns.get_mut(&id) else { return };
        let target = &conn.target;
        let Some(socket) = conn.http.as_mut().and_then(|h| h.sockets.get_mut(slot)?.as_mut()) else { return };
        if !socket.connected {
            return; // sent once connected
        }
        let failed = loop {
            match socket.stream.flush() {
                Ok(true) => {}
                Ok(false) => return,
                Err(e) => break e,
            }
            if socket.out_pos == socket.out.len() {
                socket.out.clear();
                socket.out_pos = 0;
                return;
            }
            match socket.stream.write(&socket.out[socket.out_pos..]) {
                Ok(n) => socket.out_pos += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break e,
            }
        };
        let e = Error::Disconnected(format!("{target}: write failed: {failed}"));
        self.http_socket_failed(id, slot, e);
    }

    /// The link is lost: every socket closes; requests that never reached
    /// the server wait for the next link, the others fail with the link.
    pub(super) fn http_drop_link(&mut self, id: u64, reconnect: bool) {
        let Some(conn) = self.conns.get_mut(&id) else { return };
        let Some(http) = conn.http.as_mut() else { return };
        let unsent: Vec<Job> = http.drop_sockets(self.poll.registry()).into_iter().filter(|(_, reached)| !reached).map(|(job, _)| job).collect();
        for job in unsent.into_iter().rev() {
            if let Some(p) = conn.pending.get_mut(&job.action_id) {
                p.sent = false;
            }
            http.queue.push_front(job);
        }
        if !reconnect {
            http.queue.clear();
            http.polling = false;
        }
    }

    /// Logged in (or back after a reconnect): events are polled from now on.
    pub(super) fn http_logged_in(&mut self, id: u64) {
        if let Some(http) = self.conns.get_mut(&id).and_then(|c| c.http.as_mut()) {
            http.polling = true;
        }
        self.http_poll(id);
        self.dirty.push(id);
    }
}

fn new_socket(stream: Transport, limits: Limits) -> Socket {
    Socket {
        stream,
        connected: false,
        decoder: ResponseDecoder::new(limits.max_message.saturating_mul(BODY_MESSAGES)),
        out: Vec::new(),
        out_pos: 0,
        job: None,
        served: 0,
    }
}

fn dial_error(e: Dial, target: &str) -> Error {
    match e {
        Dial::Io(e) => Error::Connect(format!("{target}: {e}")),
        Dial::Setup(e) => e,
    }
}

/// `e` with the server's address in front of its detail.
fn with_target(e: Error, target: &str) -> Error {
    match e {
        Error::NotAmi(d) => Error::NotAmi(format!("{target}: {d}")),
        Error::Protocol(d) => Error::Protocol(format!("{target}: {d}")),
        e => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_carry_client_and_slot() {
        for (id, slot) in [(1u64, 0usize), (7, 3), (123_456, 16)] {
            assert_eq!(untoken(token(id, slot)), (id, slot));
        }
    }

    #[test]
    fn a_list_body_is_messages() {
        let body = b"Response: Success\r\nActionID: h-3\r\nEventList: start\r\nMessage: Channels will follow\r\n\r\n\
            Event: CoreShowChannelsComplete\r\nActionID: h-3\r\nEventList: Complete\r\nListItems: 0\r\n\r\n";
        let m = body_messages(body, Limits::default()).unwrap();
        assert_eq!(m.len(), 2);
        assert!(m[0].starts_list() && m[1].ends_list());
        assert!(is_denied(&body_messages(b"Response: Error\r\nMessage: Permission denied\r\n\r\n", Limits::default()).unwrap()[0]));
    }
}
