//! One client connection of the simulator: its socket and output, its
//! login and event mask, and the faults armed on it.

use std::io;
use std::net::SocketAddr;

use ami::codec::{Decoder, Limits};
use ami::transport::Transport;

use crate::faults::{Fault, HTTP_ANSWER, garbage, with_event_inside, with_header, without_last_message};

/// A client that lets this much output pile up is dropped, as Asterisk
/// drops a session whose writes time out.
const MAX_BACKLOG: usize = 64 << 20;
/// Generators refill the output up to this much.
const REFILL: usize = 256 << 10;

/// Output produced as the socket takes it, never all at once.
pub enum Generator {
    /// `SimFlood`: `count` events rendered from one template.
    Flood { next: u64, count: u64, head: Vec<u8>, tail: Vec<u8>, done: Vec<u8> },
    /// The `huge` fault: one response of `remaining` more bytes.
    Huge { remaining: usize },
    /// The `endless-line` fault: bytes without a line end, for ever.
    Endless,
    /// The `million-headers` fault: `remaining` more one-letter headers.
    Headers { remaining: usize },
}

impl Generator {
    pub fn flood(count: u64, size: usize, action_id: Option<&str>) -> Generator {
        let head = b"Event: SimFlood\r\nPrivilege: call,all\r\nSeq: ".to_vec();
        let mut tail = String::from(
            "\r\nChannel: PJSIP/1001-00000042\r\nChannelState: 6\r\nChannelStateDesc: Up\r\n\
             CallerIDNum: 1001\r\nCallerIDName: Alice\r\nConnectedLineNum: 1002\r\n\
             ConnectedLineName: Bob\r\nLanguage: en\r\nAccountCode: \r\nContext: from-internal\r\n\
             Exten: 1002\r\nPriority: 3\r\nUniqueid: 1795353862.66\r\nLinkedid: 1795353862.66\r\n\
             Application: Dial\r\nAppData: PJSIP/1002,30,tT\r\n",
        );
        let used = head.len() + 8 + tail.len() + 2;
        if size > used + 12 {
            tail.push_str("Padding: ");
            tail.push_str(&"x".repeat(size - used - 11));
            tail.push_str("\r\n");
        }
        tail.push_str("\r\n");
        let mut done = format!("Event: SimFloodComplete\r\nPrivilege: call,all\r\nCount: {count}\r\n");
        if let Some(id) = action_id {
            done.push_str(&format!("ActionID: {id}\r\n"));
        }
        done.push_str("\r\n");
        Generator::Flood { next: 1, count, head, tail: tail.into_bytes(), done: done.into_bytes() }
    }

    /// Appends up to about `REFILL` bytes; true when finished.
    fn fill(&mut self, out: &mut Vec<u8>) -> bool {
        match self {
            Generator::Flood { next, count, head, tail, done } => {
                let mut digits = [0u8; 20];
                while *next <= *count && out.len() < REFILL {
                    out.extend_from_slice(head);
                    out.extend_from_slice(itoa(*next, &mut digits));
                    out.extend_from_slice(tail);
                    *next += 1;
                }
                if *next > *count {
                    out.extend_from_slice(done);
                    return true;
                }
                false
            }
            Generator::Huge { remaining } => {
                const LINE: &[u8] = b"Output: huge huge huge huge huge huge huge huge huge huge huge huge\r\n";
                while *remaining > 0 && out.len() < REFILL {
                    out.extend_from_slice(LINE);
                    *remaining = remaining.saturating_sub(LINE.len());
                }
                if *remaining == 0 {
                    out.extend_from_slice(b"\r\n");
                    return true;
                }
                false
            }
            Generator::Endless => {
                out.resize(out.len().max(REFILL), b'x');
                false
            }
            Generator::Headers { remaining } => {
                while *remaining > 0 && out.len() < REFILL {
                    out.extend_from_slice(b"a:\r\n");
                    *remaining -= 1;
                }
                if *remaining == 0 {
                    out.extend_from_slice(b"\r\n");
                    return true;
                }
                false
            }
        }
    }
}

fn itoa(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[i..];
        }
    }
}

/// What a session reached over HTTP keeps instead of a socket.
pub struct HttpSession {
    /// Its `mansession_id` (`/rawman`), or None (`/arawman`).
    pub cookie: Option<String>,
    /// Events waiting for a `waitevent`.
    pub events: Vec<u8>,
    pub last_seen: std::time::Instant,
    /// A fault armed by `SimFault`, applied to the next HTTP answer as a whole.
    pub fault: Option<Fault>,
}

/// Events kept for an HTTP session that does not poll, at most.
const MAX_HTTP_EVENTS: usize = 16 << 20;

pub struct Session {
    /// The AMI socket; None for a session reached over HTTP.
    pub stream: Option<Transport>,
    pub http: Option<HttpSession>,
    pub peer: SocketAddr,
    pub local: SocketAddr,
    pub decoder: Decoder,
    out: Vec<u8>,
    out_pos: usize,
    generator: Option<Generator>,
    pub authed: bool,
    pub user: Option<String>,
    pub challenge: Option<String>,
    pub mask: u32,
    pub fault: Option<Fault>,
    responses: u32,
    /// Close once the output is written (Logoff, failed login, faults).
    pub closing: bool,
    /// Close with a reset (RST) rather than a FIN.
    pub reset: bool,
    /// Input is ignored (waiting to answer a failed login).
    pub busy: bool,
}

impl Session {
    pub fn new(stream: Transport, peer: SocketAddr, local: SocketAddr, fault: Option<Fault>) -> Session {
        Session::with_stream(Some(stream), peer, local, fault)
    }

    fn with_stream(stream: Option<Transport>, peer: SocketAddr, local: SocketAddr, fault: Option<Fault>) -> Session {
        Session {
            stream,
            http: None,
            peer,
            local,
            decoder: Decoder::server(Limits { max_message: 1 << 20, max_headers: 1024 }),
            out: Vec::new(),
            out_pos: 0,
            generator: None,
            authed: false,
            user: None,
            challenge: None,
            mask: 0,
            fault,
            responses: 0,
            closing: false,
            reset: false,
            busy: false,
        }
    }

    /// What the server says on connect, per the armed fault.
    pub fn greet(&mut self, banner: &str) {
        match self.fault {
            Some(Fault::Stall | Fault::NoBanner) => {}
            Some(Fault::WrongBanner) => self.close_with(HTTP_ANSWER.to_vec()),
            Some(Fault::Garbage) => self.close_with(garbage(64 << 10)),
            _ => self.push(format!("{banner}\r\n").as_bytes()),
        }
    }

    fn close_with(&mut self, bytes: Vec<u8>) {
        self.emit(&bytes);
        self.closing = true;
        self.fault = None;
    }

    pub fn stalled(&self) -> bool {
        self.fault == Some(Fault::Stall)
    }

    pub fn slow(&self) -> bool {
        self.fault == Some(Fault::Slow)
    }

    /// A session reached over HTTP (no socket of its own).
    pub fn over_http(peer: SocketAddr, local: SocketAddr, cookie: Option<String>) -> Session {
        let mut s = Session::with_stream(None, peer, local, None);
        s.http = Some(HttpSession { cookie, events: Vec::new(), last_seen: std::time::Instant::now(), fault: None });
        s
    }

    /// Queues bytes (events, banner) as they are; over HTTP, events wait
    /// for a `waitevent`.
    pub fn push(&mut self, bytes: &[u8]) {
        if let Some(h) = &mut self.http {
            if h.events.len() + bytes.len() <= MAX_HTTP_EVENTS {
                h.events.extend_from_slice(bytes);
            }
            return;
        }
        self.emit(bytes);
    }

    fn emit(&mut self, bytes: &[u8]) {
        if !self.stalled() && !self.closing {
            self.out.extend_from_slice(bytes);
        }
    }

    /// The responses written so far (an HTTP session's answer).
    pub fn take_output(&mut self) -> Vec<u8> {
        self.out_pos = 0;
        std::mem::take(&mut self.out)
    }

    pub fn has_response(&self) -> bool {
        !self.out.is_empty()
    }

    /// Queues a response, applying the armed fault.
    pub fn respond(&mut self, bytes: &[u8]) {
        if self.closing {
            return;
        }
        if let Some(h) = &mut self.http {
            // Over HTTP a fault breaks the HTTP answer, not the AMI text in it.
            h.fault = h.fault.or(self.fault.take());
            return self.emit(bytes);
        }
        match self.fault {
            Some(Fault::Stall) => {}
            Some(Fault::CloseMidMessage) => self.close_with(bytes[..bytes.len() / 2].to_vec()),
            Some(Fault::WrongBanner) => self.close_with(HTTP_ANSWER.to_vec()),
            Some(Fault::Garbage) => self.close_with(garbage(64 << 10)),
            Some(Fault::Huge) => {
                // The head of the real response, then a body that never fits.
                let head_end = bytes.len().saturating_sub(2);
                self.emit(&bytes[..head_end]);
                self.generator = Some(Generator::Huge { remaining: 64 << 20 });
                self.fault = None;
            }
            Some(Fault::DuplicateResponse) => {
                self.emit(bytes);
                self.emit(bytes);
                self.fault = None;
            }
            Some(Fault::UnknownId) => {
                self.emit(b"Response: Success\r\nActionID: nobody-sent-this\r\nMessage: Stray\r\n\r\n");
                self.emit(bytes);
                self.fault = None;
            }
            Some(Fault::OpenList) => {
                self.emit(without_last_message(bytes));
                self.fault = None;
            }
            Some(Fault::Interleave) => {
                let event = b"Event: UserEvent\r\nPrivilege: user,all\r\nUserEvent: Interleaved\r\n\r\n";
                self.emit(&with_event_inside(bytes, event));
                self.fault = None;
            }
            Some(Fault::ResetMidMessage) => {
                self.reset = true;
                self.close_with(bytes[..bytes.len() / 2].to_vec());
            }
            Some(Fault::EndlessLine) => {
                self.emit(b"Response: Success\r\nMessage: ");
                self.generator = Some(Generator::Endless);
                self.fault = None;
            }
            Some(Fault::MillionHeaders) => {
                self.emit(b"Response: Success\r\n");
                self.generator = Some(Generator::Headers { remaining: 1_000_000 });
                self.fault = None;
            }
            Some(Fault::NulUtf8) => {
                self.emit(&with_header(bytes, b"Junk: nul\0here \xff\xfe not UTF-8\r\n"));
                self.fault = None;
            }
            Some(Fault::DropAfter(n)) => {
                self.emit(bytes);
                self.responses += 1;
                if self.responses >= n {
                    self.closing = true;
                }
            }
            _ => self.emit(bytes),
        }
    }

    pub fn start(&mut self, generator: Generator) {
        self.generator = Some(generator);
    }

    /// Over HTTP a generator's events wait for `waitevent`s, refilled up to
    /// `REFILL` bytes at a time.
    pub fn generate_http(&mut self) {
        let (Some(h), Some(g)) = (&mut self.http, &mut self.generator) else { return };
        if h.events.len() < REFILL && g.fill(&mut h.events) {
            self.generator = None;
        }
    }

    pub fn has_output(&self) -> bool {
        self.out_pos < self.out.len() || self.generator.is_some()
    }

    /// Writes what the socket takes (one byte when `slow`). `Ok(true)`: the
    /// session is finished and should be closed.
    pub fn flush(&mut self, slow_tick: bool) -> io::Result<bool> {
        if self.stream.is_none() {
            return Ok(false); // over HTTP: the request takes the output
        }
        let slow = self.slow();
        let stream = self.stream.as_mut().expect("a stream");
        if self.out.len() - self.out_pos > MAX_BACKLOG {
            return Err(io::Error::other("the client stopped reading"));
        }
        loop {
            if !stream.flush()? {
                return Ok(false); // TLS records still queued: wait for writable
            }
            if self.out_pos == self.out.len() {
                self.out.clear();
                self.out_pos = 0;
                match &mut self.generator {
                    Some(g) => {
                        if g.fill(&mut self.out) {
                            self.generator = None;
                        }
                    }
                    None => return Ok(self.closing),
                }
            }
            if slow && !slow_tick {
                return Ok(false);
            }
            let end = if slow { self.out_pos + 1 } else { self.out.len() };
            match stream.write(&self.out[self.out_pos..end]) {
                Ok(0) => return Err(io::Error::from(io::ErrorKind::WriteZero)),
                Ok(n) => self.out_pos += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
            if slow {
                let _ = stream.flush()?;
                return Ok(self.closing && !self.has_output());
            }
        }
    }
}

