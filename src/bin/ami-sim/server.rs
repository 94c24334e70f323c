//! The simulator's event loop: accepts connections, reads actions, answers
//! them (session actions here, PBX actions in `pbx`), broadcasts events by
//! each session's mask, and runs timed work. One thread, mio, like the engine.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::io;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ami::Message;
use ami::codec::Frame;
use ami::transport::Transport;
use mio::net::TcpListener;
use mio::{Events, Interest, Poll, Token};

use crate::faults::Fault;
use crate::log::log;
use crate::pbx::{Effects, Pbx, Task, val};
use crate::session::{Generator, Session};
use crate::wire::{Wire, class, reply};

const LISTENER: Token = Token(0);
/// The `slow` fault writes one byte this often.
const DRIP: Duration = Duration::from_millis(2);
/// Asterisk waits about this long before refusing a login.
const LOGIN_FAILURE_DELAY: Duration = Duration::from_secs(1);

pub struct Config {
    /// Serve AMI over TLS with this certificate and key.
    pub tls: Option<std::sync::Arc<rustls::ServerConfig>>,
    /// Serve the manager over HTTP on this listener too (`--http`).
    pub http: Option<std::net::TcpListener>,
    /// An HTTP session unused this long expires (`httptimeout`, 60 s).
    pub http_timeout: Duration,
    pub users: Vec<(String, String)>,
    pub version: String,
    pub legacy_command: bool,
    pub fault: Option<Fault>,
}

impl Config {
    /// An accepted socket as the server speaks on it: in clear, or TLS with
    /// the configured certificate (None, logged, if TLS cannot start).
    pub fn transport(&self, stream: mio::net::TcpStream, peer: std::net::SocketAddr) -> Option<Transport> {
        let Some(tls) = &self.tls else { return Some(Transport::Plain(stream)) };
        match rustls::ServerConnection::new(std::sync::Arc::clone(tls)) {
            Ok(session) => Some(Transport::tls(stream, session)),
            Err(e) => {
                log!("{peer}: TLS setup failed: {e}");
                None
            }
        }
    }
}

enum Timer {
    Pbx(Task),
    Drip(Token),
    RefuseLogin(Token, Vec<u8>),
}

pub struct Server {
    pub(crate) poll: Poll,
    listener: TcpListener,
    pub(crate) config: Config,
    banner: String,
    pub(crate) sessions: HashMap<Token, Session>,
    pub(crate) next_token: usize,
    timers: BinaryHeap<Reverse<(Instant, u64)>>,
    timer_jobs: HashMap<u64, Timer>,
    timer_seq: u64,
    pub(crate) pbx: Pbx,
    /// Sessions with output to write.
    dirty: Vec<Token>,
    pub(crate) http: crate::http_manager::HttpFront,
    /// The one read buffer of every session (lent to a decoder while it
    /// reads, so an idle session holds none).
    read_buf: Vec<u8>,
}

impl Server {
    pub fn new(mut listener: TcpListener, mut config: Config) -> io::Result<Server> {
        let poll = Poll::new()?;
        poll.registry().register(&mut listener, LISTENER, Interest::READABLE)?;
        let http = crate::http_manager::HttpFront::new(config.http.take(), &poll)?;
        let pbx = Pbx::new(&config.version, config.legacy_command);
        Ok(Server {
            poll,
            listener,
            banner: format!("Asterisk Call Manager/{}", config.version),
            config,
            sessions: HashMap::new(),
            next_token: 1,
            timers: BinaryHeap::new(),
            timer_jobs: HashMap::new(),
            timer_seq: 0,
            pbx,
            dirty: Vec::new(),
            read_buf: Vec::new(),
            http,
        })
    }

    pub fn run(&mut self) -> io::Result<()> {
        let mut events = Events::with_capacity(1024);
        loop {
            let timeout = self.timers.peek().map(|Reverse((at, _))| at.saturating_duration_since(Instant::now()));
            let timeout = self.http.poll_timeout(timeout);
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            for event in events.iter() {
                match event.token() {
                    LISTENER => self.accept(),
                    crate::http_manager::HTTP_LISTENER => self.http_accept(),
                    token if self.http.conns.contains_key(&token) => self.http_event(token, event),
                    token => {
                        if event.is_readable() || event.is_read_closed() || event.is_error() {
                            self.read(token);
                        }
                        if event.is_writable() {
                            self.dirty.push(token);
                        }
                    }
                }
            }
            self.fire_timers();
            for token in std::mem::take(&mut self.dirty) {
                self.flush(token, false);
            }
            self.http_service();
        }
    }

    fn accept(&mut self) {
        loop {
            match self.listener.accept() {
                Ok((mut stream, peer)) => {
                    let token = Token(self.next_token);
                    self.next_token += 1;
                    let interest = Interest::READABLE | Interest::WRITABLE;
                    if let Err(e) = self.poll.registry().register(&mut stream, token, interest) {
                        log!("{peer}: cannot register: {e}");
                        continue;
                    }
                    let _ = stream.set_nodelay(true);
                    let local = stream.local_addr().unwrap_or(peer);
                    let Some(transport) = self.config.transport(stream, peer) else { continue };
                    let mut session = Session::new(transport, peer, local, self.config.fault);
                    session.greet(&self.banner);
                    log!("{peer}: connected{}", self.config.fault.map(|f| format!(" (fault {f:?})")).unwrap_or_default());
                    self.sessions.insert(token, session);
                    self.output(token);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    log!("accept failed: {e}");
                    return;
                }
            }
        }
    }

    fn read(&mut self, token: Token) {
        self.read_actions(token);
        if let Some(s) = self.sessions.get_mut(&token) {
            s.decoder.keep_rest(&mut self.read_buf);
        }
    }

    fn read_actions(&mut self, token: Token) {
        loop {
            let Some(s) = self.sessions.get_mut(&token) else { return };
            let Some(stream) = s.stream.as_mut() else { return };
            match stream.read_into(&mut s.decoder, &mut self.read_buf) {
                Ok(0) => return self.close(token, "client closed the connection"),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return self.close(token, &format!("read failed: {e}")),
            }
            loop {
                let Some(s) = self.sessions.get_mut(&token) else { return };
                match s.decoder.next_frame() {
                    Ok(Some(Frame::Message(action))) => {
                        if !s.busy && !s.stalled() {
                            self.on_action(token, &action);
                        }
                    }
                    Ok(Some(Frame::Banner(_))) => {}
                    Ok(None) => break,
                    Err(e) => return self.close(token, &format!("bad input: {e}")),
                }
            }
        }
    }

    /// Marks a session's output for writing.
    fn output(&mut self, token: Token) {
        self.dirty.push(token);
    }

    fn flush(&mut self, token: Token, slow_tick: bool) {
        let Some(s) = self.sessions.get_mut(&token) else { return };
        match s.flush(slow_tick) {
            Ok(true) => self.close(token, "closing"),
            Ok(false) => {
                if s.slow() && s.has_output() && !slow_tick {
                    self.schedule(DRIP, Timer::Drip(token));
                }
            }
            Err(e) => self.close(token, &format!("write failed: {e}")),
        }
    }

    pub(crate) fn close(&mut self, token: Token, why: &str) {
        if let Some(mut s) = self.sessions.remove(&token) {
            if let Some(stream) = s.stream.as_mut() {
                let _ = self.poll.registry().deregister(stream.tcp_mut());
                if s.reset {
                    reset_on_close(stream.tcp());
                }
            }
            log!("{}: disconnected ({why})", s.peer);
        }
    }

    fn schedule(&mut self, after: Duration, timer: Timer) {
        self.timer_seq += 1;
        self.timers.push(Reverse((Instant::now() + after, self.timer_seq)));
        self.timer_jobs.insert(self.timer_seq, timer);
    }

    fn fire_timers(&mut self) {
        let now = Instant::now();
        while let Some(Reverse((at, seq))) = self.timers.peek().copied() {
            if at > now {
                break;
            }
            self.timers.pop();
            match self.timer_jobs.remove(&seq) {
                Some(Timer::Pbx(task)) => {
                    let fx = self.pbx.run(task);
                    self.apply(None, fx);
                }
                Some(Timer::Drip(token)) => {
                    self.flush(token, true);
                    if self.sessions.get(&token).is_some_and(|s| s.has_output()) {
                        self.schedule(DRIP, Timer::Drip(token));
                    }
                }
                Some(Timer::RefuseLogin(token, answer)) => {
                    if let Some(s) = self.sessions.get_mut(&token) {
                        s.respond(&answer);
                        s.closing = true;
                        self.output(token);
                    }
                }
                None => {}
            }
        }
    }

    /// Sends a PBX action's results: the reply to `token`, events to every
    /// session whose mask allows them, timed work to the timer heap.
    fn apply(&mut self, token: Option<Token>, fx: Effects) {
        if let Some(t) = token {
            if let Some(s) = self.sessions.get_mut(&t) {
                s.respond(&fx.reply);
                self.dirty.push(t);
            }
        }
        for event in &fx.events {
            for (t, s) in self.sessions.iter_mut() {
                if s.authed && s.mask & event.class != 0 {
                    s.push(&event.bytes);
                    self.dirty.push(*t);
                }
            }
        }
        for (after, task) in fx.later {
            self.schedule(after, Timer::Pbx(task));
        }
    }

    fn respond(&mut self, token: Token, bytes: &[u8]) {
        if let Some(s) = self.sessions.get_mut(&token) {
            s.respond(bytes);
            self.dirty.push(token);
        }
    }

    pub(crate) fn on_action(&mut self, token: Token, action: &Message) {
        let id = val(action, "ActionID");
        let Some(name) = val(action, "Action").map(str::trim).filter(|n| !n.is_empty()) else {
            return self.respond(token, &reply("Error", id, "Missing action in request"));
        };
        let Some(s) = self.sessions.get(&token) else { return };
        if !name.eq_ignore_ascii_case("Ping") {
            log!("{}: Action: {name}{}", s.peer, describe(action));
        }
        let lower = name.to_ascii_lowercase();
        match lower.as_str() {
            "login" => return self.login(token, action),
            "challenge" => return self.challenge(token, action),
            "logoff" => {
                let mut w = Wire::response("Goodbye", id);
                w.h("Message", "Thanks for all the fish.");
                self.respond(token, &w.finish());
                if let Some(s) = self.sessions.get_mut(&token) {
                    s.closing = true;
                }
                return;
            }
            _ => {}
        }
        if !s.authed {
            return self.respond(token, &reply("Error", id, "Permission denied"));
        }
        match lower.as_str() {
            "ping" => {
                let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
                let mut w = Wire::response("Success", id);
                w.h("Ping", "Pong").h("Timestamp", format!("{}.{:06}", now.as_secs(), now.subsec_micros()));
                self.respond(token, &w.finish());
            }
            "events" => {
                let mask = class::parse_mask(val(action, "EventMask").unwrap_or("off"));
                if let Some(s) = self.sessions.get_mut(&token) {
                    s.mask = mask;
                }
                let mut w = Wire::response("Success", id);
                w.h("Events", if mask != 0 { "On" } else { "Off" });
                self.respond(token, &w.finish());
            }
            "simfault" => {
                let mode = val(action, "Mode").unwrap_or("");
                match mode.parse::<Fault>() {
                    Ok(fault) => {
                        self.respond(token, &reply("Success", id, "Fault armed"));
                        if let Some(s) = self.sessions.get_mut(&token) {
                            s.fault = Some(fault);
                        }
                    }
                    Err(e) => self.respond(token, &reply("Error", id, &e)),
                }
            }
            "simflood" => {
                let count = val(action, "Count").and_then(|c| c.trim().parse().ok()).unwrap_or(1000);
                let size = val(action, "Size").and_then(|c| c.trim().parse().ok()).unwrap_or(500);
                self.respond(token, &reply("Success", id, "Flood started"));
                if let Some(s) = self.sessions.get_mut(&token) {
                    s.start(Generator::flood(count, size, id));
                }
            }
            _ => match self.pbx.handle(name, action) {
                Some(fx) => self.apply(Some(token), fx),
                None => {
                    let message = format!(
                        "Invalid/unknown command: {name}. Use Action: ListCommands to show available commands."
                    );
                    self.respond(token, &reply("Error", id, &message));
                }
            },
        }
    }

    fn challenge(&mut self, token: Token, action: &Message) {
        let id = val(action, "ActionID");
        if !val(action, "AuthType").is_some_and(|t| t.trim().eq_ignore_ascii_case("md5")) {
            return self.respond(token, &reply("Error", id, "Must specify AuthType"));
        }
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(7);
        let challenge = format!("{}", 100_000_000 + (nanos.wrapping_mul(2654435761) % 900_000_000));
        if let Some(s) = self.sessions.get_mut(&token) {
            s.challenge = Some(challenge.clone());
        }
        let mut w = Wire::response("Success", id);
        w.h("Challenge", challenge);
        self.respond(token, &w.finish());
    }

    fn login(&mut self, token: Token, action: &Message) {
        let id = val(action, "ActionID");
        let Some(s) = self.sessions.get_mut(&token) else { return };
        let user = val(action, "Username").unwrap_or("").to_string();
        let md5 = val(action, "AuthType").is_some_and(|t| t.trim().eq_ignore_ascii_case("md5"));
        let accepted = self.config.users.iter().any(|(u, secret)| {
            *u == user
                && if md5 {
                    let key = val(action, "Key").unwrap_or("").trim().to_ascii_lowercase();
                    s.challenge.as_ref().is_some_and(|c| ami::md5::hex(format!("{c}{secret}").as_bytes()) == key)
                } else {
                    val(action, "Secret").is_some_and(|given| given == secret)
                }
        });
        if !accepted {
            log!("{}: login refused for {user:?}", s.peer);
            s.busy = true;
            let answer = reply("Error", id, "Authentication failed");
            return self.schedule(LOGIN_FAILURE_DELAY, Timer::RefuseLogin(token, answer));
        }
        s.authed = true;
        s.user = Some(user.clone());
        s.mask = val(action, "Events").map(class::parse_mask).unwrap_or(class::ALL);
        log!("{}: {user} logged in", s.peer);
        let (local, peer) = (s.local, s.peer);
        s.respond(&reply("Success", id, "Authentication accepted"));
        let up = self.pbx.uptime().as_secs();
        let mut booted = Wire::event("FullyBooted", Some("system,all"));
        booted.h("Uptime", up).h("LastReload", up).h("Status", "Fully Booted");
        // Asterisk's HTTP sessions get no FullyBooted (see the /rawman capture).
        if s.mask & class::SYSTEM != 0 && s.http.is_none() {
            s.push(&booted.finish());
        }
        self.output(token);
        let tv = event_tv();
        let mut auth = Wire::event("SuccessfulAuth", Some("security,all"));
        auth.h("EventTV", &tv).h("Severity", "Informational").h("Service", "AMI").h("EventVersion", 1);
        auth.h("AccountID", &user).h("SessionID", format!("0x{:x}", 0x7f0000000000u64 + token.0 as u64 * 0x10));
        auth.h("LocalAddress", format!("IPV4/TCP/{}/{}", local.ip(), local.port()));
        auth.h("RemoteAddress", format!("IPV4/TCP/{}/{}", peer.ip(), peer.port()));
        auth.h("UsingPassword", 0).h("SessionTV", &tv);
        let mut fx = Effects::default();
        fx.events.push(crate::pbx::Broadcast { class: class::SECURITY, bytes: auth.finish() });
        self.apply(None, fx);
    }
}

/// The action's headers for the log, secrets redacted.
fn describe(action: &Message) -> String {
    let login = action.has("Action", "Login");
    let mut out = String::new();
    for (n, v) in action.iter().filter(|(n, _)| !n.eq_ignore_ascii_case("Action")) {
        let secret = n.eq_ignore_ascii_case("Secret") || (login && n.eq_ignore_ascii_case("Key"));
        let v = if secret { "********" } else { v };
        out.push_str(&format!(", {n}: {v}"));
    }
    out
}

/// `2026-11-22T13:23:48.815+0000`
fn event_tv() -> String {
    let now = SystemTime::now();
    let (date, time) = crate::commands::utc_date_time(now);
    let ms = now.duration_since(UNIX_EPOCH).map(|d| d.subsec_millis()).unwrap_or(0);
    format!("{date}T{time}.{ms:03}+0000")
}

/// Makes the coming close send a reset (RST): SO_LINGER on, zero seconds.
fn reset_on_close(tcp: &mio::net::TcpStream) {
    use std::os::fd::AsRawFd;
    let linger = libc::linger { l_onoff: 1, l_linger: 0 };
    // SAFETY: a valid open socket and a correctly sized linger struct.
    unsafe {
        libc::setsockopt(
            tcp.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
}
