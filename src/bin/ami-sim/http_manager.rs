//! The server's HTTP side: connections, the sessions they reach (by cookie
//! on `/rawman`, by Digest nonce on `/arawman`), requests answered from the
//! same action handlers as TCP, long-polled `waitevent`, session expiry.

use std::collections::HashMap;
use std::io;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mio::event::Event;
use mio::net::TcpListener;
use mio::{Interest, Poll, Token};

use crate::faults::{Fault, garbage};
use crate::http::{self, Head, HttpConn, Request, Waiting};
use crate::log::log;
use crate::server::Server;
use crate::session::Session;
use crate::wire::{class, reply};

pub const HTTP_LISTENER: Token = Token(usize::MAX - 1);

/// How long a reply the manager gives later (a refused login) may take.
const REPLY_WAIT: Duration = Duration::from_secs(5);
/// `waitevent` without a `timeout`.
const DEFAULT_WAIT: Duration = Duration::from_secs(30);

pub struct HttpFront {
    listener: Option<TcpListener>,
    pub conns: HashMap<Token, HttpConn>,
    /// `mansession_id` → session.
    cookies: HashMap<String, Token>,
    /// Digest nonces handed out → the session that answered it.
    nonces: HashMap<String, Option<Token>>,
    /// A session's nonce → the last count answered with it. A nonce of a
    /// session not here is an old one (stale).
    counts: HashMap<String, u64>,
    counter: u64,
}

impl HttpFront {
    pub fn new(listener: Option<std::net::TcpListener>, poll: &Poll) -> io::Result<HttpFront> {
        let listener = match listener {
            Some(l) => {
                let mut l = TcpListener::from_std(l);
                poll.registry().register(&mut l, HTTP_LISTENER, Interest::READABLE)?;
                Some(l)
            }
            None => None,
        };
        Ok(HttpFront { listener, conns: HashMap::new(), cookies: HashMap::new(), nonces: HashMap::new(), counts: HashMap::new(), counter: 0 })
    }

    /// The loop's poll timeout, shortened while a request waits.
    pub fn poll_timeout(&self, timeout: Option<Duration>) -> Option<Duration> {
        let waiting = self.conns.values().any(|c| c.waiting.is_some());
        let expiring = self.listener.is_some();
        match (waiting, expiring) {
            (true, _) => Some(timeout.map_or(Duration::from_millis(20), |t| t.min(Duration::from_millis(20)))),
            (false, true) => Some(timeout.map_or(Duration::from_secs(1), |t| t.min(Duration::from_secs(1)))),
            _ => timeout,
        }
    }

    /// An 8-hex-digit token, as Asterisk's cookies and nonces look.
    fn fresh(&mut self) -> String {
        self.counter += 1;
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0);
        format!("{:08x}", (nanos ^ self.counter.wrapping_mul(0x9E37_79B9_7F4A_7C15)) as u32)
    }
}

/// Sends `answer` broken the way `fault` says, as a failing web server
/// would: cut in the body, garbage, an HTML page, a body too large to take,
/// or nothing at all.
fn faulty_answer(c: &mut HttpConn, fault: Fault, answer: Vec<u8>, server: &str) {
    match fault {
        Fault::CloseMidMessage => c.send(&answer[..answer.len() - 10], true),
        Fault::Garbage => c.send(&garbage(64 << 10), true),
        Fault::WrongBanner => {
            let head = Head { date: None, close: true, before_type: &[], content_type: "text/html", after_type: &[] };
            c.send(&http::response("200 OK", server, &head, b"<html><body>It works!</body></html>\r\n"), true)
        }
        Fault::Huge => {
            let head = format!("HTTP/1.1 200 OK\r\nServer: {server}\r\nContent-Length: {}\r\n\r\n", 1u64 << 40);
            c.send(head.as_bytes(), false)
        }
        Fault::Stall => {} // the request is never answered
        _ => c.send(&answer, false),
    }
}

/// `Tue, 24 Nov 2026 15:35:29 GMT`.
fn http_date() -> String {
    let now = SystemTime::now();
    let secs = now.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let (date, time) = crate::commands::utc_date_time(now);
    let (y, rest) = date.split_at(4);
    let (m, d) = (&rest[1..3], &rest[4..6]);
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let month = MONTHS[m.parse::<usize>().unwrap_or(1).clamp(1, 12) - 1];
    format!("{}, {d} {month} {y} {time} GMT", DAYS[(secs / 86400 % 7) as usize])
}

impl Server {
    pub fn http_address(&self) -> Option<std::net::SocketAddr> {
        self.http.listener.as_ref().and_then(|l| l.local_addr().ok())
    }

    pub(crate) fn http_accept(&mut self) {
        loop {
            let Some(listener) = self.http.listener.as_ref() else { return };
            match listener.accept() {
                Ok((mut stream, peer)) => {
                    let token = Token(self.next_token);
                    self.next_token += 1;
                    let interest = Interest::READABLE | Interest::WRITABLE;
                    if self.poll.registry().register(&mut stream, token, interest).is_err() {
                        continue;
                    }
                    let local = stream.local_addr().unwrap_or(peer);
                    let Some(transport) = self.config.transport(stream, peer) else { continue };
                    self.http.conns.insert(token, HttpConn::new(transport, peer, local));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    log!("http accept failed: {e}");
                    return;
                }
            }
        }
    }

    pub(crate) fn http_event(&mut self, token: Token, event: &Event) {
        if event.is_readable() || event.is_read_closed() || event.is_error() {
            let Some(c) = self.http.conns.get_mut(&token) else { return };
            match c.read() {
                Ok(true) => self.http_requests(token),
                Ok(false) | Err(_) => return self.http_close(token),
            }
        }
        self.http_flush(token);
    }

    fn http_close(&mut self, token: Token) {
        if let Some(mut c) = self.http.conns.remove(&token) {
            let _ = self.poll.registry().deregister(c.stream.tcp_mut());
        }
    }

    fn http_flush(&mut self, token: Token) {
        let Some(c) = self.http.conns.get_mut(&token) else { return };
        match c.flush() {
            Ok(false) => {}
            Ok(true) | Err(_) => self.http_close(token),
        }
    }

    /// Answers the requests buffered on `token`, one at a time: a request
    /// that waits holds the ones behind it.
    fn http_requests(&mut self, token: Token) {
        loop {
            let Some(c) = self.http.conns.get_mut(&token) else { return };
            if c.waiting.is_some() || c.closing {
                return;
            }
            let (request, used) = match http::parse_request(&c.inbuf) {
                Ok(Some(r)) => r,
                Ok(None) => return,
                Err(e) => {
                    let body = format!("{e}\r\n").into_bytes();
                    let ver = self.pbx.asterisk_version.clone();
                    let head = Head { date: None, close: true, before_type: &[], content_type: "text/plain", after_type: &[] };
                    c.send(&http::response("400 Bad Request", &ver, &head, &body), true);
                    return self.http_flush(token);
                }
            };
            c.inbuf.drain(..used);
            match request.path.as_str() {
                "/rawman" => self.rawman(token, request),
                "/arawman" => self.arawman(token, request),
                _ => {
                    let ver = self.pbx.asterisk_version.clone();
                    let body = b"<html><body><h1>Not Found</h1></body></html>\r\n";
                    let head = Head { date: None, close: request.close, before_type: &[], content_type: "text/html", after_type: &[] };
                    if let Some(c) = self.http.conns.get_mut(&token) {
                        c.send(&http::response("404 Not Found", &ver, &head, body), request.close);
                    }
                }
            }
            self.http_service();
            self.http_flush(token);
        }
    }

    fn rawman(&mut self, conn: Token, request: Request) {
        let known = request.cookie.as_ref().and_then(|c| self.http.cookies.get(c)).copied();
        let session = match known.filter(|t| self.sessions.contains_key(t)) {
            Some(t) => t,
            None => {
                let cookie = self.http.fresh();
                let t = self.http_session(conn, Some(cookie.clone()));
                self.http.cookies.insert(cookie, t);
                t
            }
        };
        self.http_action(conn, session, request);
    }

    fn arawman(&mut self, conn: Token, request: Request) {
        let nonces = &self.http.nonces;
        let answered = request
            .authorization
            .as_deref()
            .and_then(|a| http::digest_user(a, &request.method, &self.config.users, |n| nonces.contains_key(n)));
        let challenge = |this: &mut Server, stale: bool, nonce: Option<String>| {
            let nonce = nonce.unwrap_or_else(|| {
                let n = this.http.fresh();
                this.http.nonces.insert(n.clone(), None);
                n
            });
            let stale = if stale { ", stale=true" } else { "" };
            let challenge = format!("Digest algorithm=MD5, realm=\"asterisk\", nonce=\"{nonce}\", qop=\"auth\", opaque=\"{nonce}\"{stale}");
            let ver = this.pbx.asterisk_version.clone();
            let body = http::unauthorized_body(&ver);
            let before = [("WWW-authenticate", challenge)];
            let head = Head { date: None, close: request.close, before_type: &before, content_type: "text/html", after_type: &[] };
            if let Some(c) = this.http.conns.get_mut(&conn) {
                c.send(&http::response("401 Unauthorized", &ver, &head, &body), request.close);
            }
        };
        let Some((user, nonce, nc)) = answered else {
            return challenge(self, false, None);
        };
        // As Asterisk: a nonce's count must grow; a smaller one (or an old
        // nonce) is stale, answered with the session's current nonce.
        if let Some(session) = self.http.nonces.get(&nonce).copied().flatten() {
            match self.http.counts.get(&nonce).copied() {
                Some(last) if nc > last => {
                    self.http.counts.insert(nonce.clone(), nc);
                }
                Some(_) => {
                    let fresh = self.http.fresh();
                    self.http.counts.remove(&nonce);
                    self.http.counts.insert(fresh.clone(), 0);
                    self.http.nonces.insert(fresh.clone(), Some(session));
                    return challenge(self, true, Some(fresh));
                }
                None => {
                    let current = self.http.counts.keys().find(|n| self.http.nonces.get(*n) == Some(&Some(session))).cloned();
                    return challenge(self, true, current);
                }
            }
        }
        let known = self.http.nonces.get(&nonce).copied().flatten().filter(|t| self.sessions.contains_key(t));
        let session = match known {
            Some(t) => t,
            None => {
                let t = self.http_session(conn, None);
                if let Some(s) = self.sessions.get_mut(&t) {
                    s.authed = true;
                    s.user = Some(user);
                    s.mask = class::ALL;
                }
                self.http.counts.insert(nonce.clone(), nc);
                self.http.nonces.insert(nonce, Some(t));
                t
            }
        };
        self.http_action(conn, session, request);
    }

    /// A new session reached through the HTTP connection `conn`.
    fn http_session(&mut self, conn: Token, cookie: Option<String>) -> Token {
        let token = Token(self.next_token);
        self.next_token += 1;
        let (peer, local) = self.http.conns.get(&conn).map(|c| (c.peer, c.local)).expect("the connection");
        self.sessions.insert(token, Session::over_http(peer, local, cookie));
        token
    }

    fn http_action(&mut self, conn: Token, session: Token, request: Request) {
        let action = request.action();
        let id = request.param("ActionID").map(str::to_string);
        let name = request.param("Action").unwrap_or("").trim().to_ascii_lowercase();
        let Some(s) = self.sessions.get_mut(&session) else { return };
        let http = s.http.as_mut().expect("an HTTP session");
        http.last_seen = Instant::now();
        let cookie = http.cookie.clone();
        let waiting = |events: bool, until: Instant| Waiting { session, events, action_id: id.clone(), until, cookie: cookie.clone(), close: request.close };
        if name == "waitevent" {
            if !s.authed {
                s.respond(&reply("Error", id.as_deref(), "Permission denied"));
                self.http.conns.get_mut(&conn).expect("the connection").waiting = Some(waiting(false, Instant::now()));
                return;
            }
            let secs = request.param("Timeout").and_then(|t| t.trim().parse::<u64>().ok());
            // As Asterisk: no longer than the session's expiry less 10 s.
            let most = self.config.http_timeout.saturating_sub(Duration::from_secs(10));
            let wait = secs.map_or(DEFAULT_WAIT, Duration::from_secs).min(most);
            self.http.conns.get_mut(&conn).expect("the connection").waiting = Some(waiting(true, Instant::now() + wait));
            return;
        }
        self.on_action(session, &action);
        if let Some(c) = self.http.conns.get_mut(&conn) {
            c.waiting = Some(waiting(false, Instant::now() + REPLY_WAIT));
        }
    }

    /// Completes the requests whose answer is there (or whose wait is
    /// over), and expires sessions left unused.
    pub(crate) fn http_service(&mut self) {
        let now = Instant::now();
        for s in self.sessions.values_mut().filter(|s| s.http.is_some()) {
            s.generate_http();
        }
        let ready: Vec<Token> = self.http.conns.iter().filter(|(_, c)| c.waiting.is_some()).map(|(t, _)| *t).collect();
        for conn in ready {
            let w = self.http.conns[&conn].waiting.as_ref().expect("waiting");
            let (session, events, until) = (w.session, w.events, w.until);
            let body = match self.sessions.get_mut(&session) {
                None => reply("Error", None, "Permission denied"),
                Some(s) if events => {
                    let queued = s.http.as_ref().is_some_and(|h| !h.events.is_empty());
                    if !queued && now < until {
                        continue;
                    }
                    let id = w.action_id.as_deref();
                    let mut body = reply("Success", id, "Waiting for Event completed.");
                    body.extend_from_slice(&std::mem::take(&mut s.http.as_mut().expect("HTTP").events));
                    body.extend_from_slice(b"Event: WaitEventComplete\r\n");
                    if let Some(id) = id {
                        body.extend_from_slice(format!("ActionID: {id}\r\n").as_bytes());
                    }
                    body.extend_from_slice(b"\r\n");
                    body
                }
                Some(s) => {
                    if !s.has_response() && now < until {
                        continue;
                    }
                    s.take_output()
                }
            };
            let fault = self.sessions.get_mut(&session).and_then(|s| s.http.as_mut()?.fault.take());
            let c = self.http.conns.get_mut(&conn).expect("the connection");
            let w = c.waiting.take().expect("waiting");
            let ver = self.pbx.asterisk_version.clone();
            let mut after = Vec::new();
            if let Some(cookie) = &w.cookie {
                after.push(("Set-Cookie", format!("mansession_id=\"{cookie}\"; Version=1; Max-Age={}", self.config.http_timeout.as_secs())));
                after.push(("Pragma", "SuppressEvents".to_string()));
            }
            // /rawman answers carry the date and the cookie; /arawman's neither.
            let date = w.cookie.as_ref().map(|_| http_date());
            let head = Head { date, close: w.close, before_type: &[], content_type: "text/plain", after_type: &after };
            let answer = http::response("200 OK", &ver, &head, &body);
            match fault {
                None => c.send(&answer, w.close),
                Some(fault) => faulty_answer(c, fault, answer, &ver),
            }
            // A logoff ends the session.
            if self.sessions.get(&session).is_some_and(|s| s.closing) {
                self.drop_http_session(session);
            }
            self.http_flush(conn);
            self.http_requests(conn);
        }
        let timeout = self.config.http_timeout;
        let expired: Vec<Token> = self
            .sessions
            .iter()
            .filter(|(t, s)| {
                s.http.as_ref().is_some_and(|h| now.duration_since(h.last_seen) > timeout)
                    && !self.http.conns.values().any(|c| c.waiting.as_ref().is_some_and(|w| w.session == **t))
            })
            .map(|(t, _)| *t)
            .collect();
        for t in expired {
            self.drop_http_session(t);
        }
    }

    fn drop_http_session(&mut self, token: Token) {
        if let Some(s) = self.sessions.remove(&token) {
            if let Some(cookie) = s.http.and_then(|h| h.cookie) {
                self.http.cookies.remove(&cookie);
            }
        }
        self.http.nonces.retain(|_, t| *t != Some(token));
        let nonces = &self.http.nonces;
        self.http.counts.retain(|n, _| nonces.contains_key(n));
    }
}
