//! The manager over HTTP, as Asterisk's `http.c` and `manager.c` serve it
//! (`--http ADDR`): `/rawman` with `mansession_id` cookie sessions that
//! expire, `/arawman` with HTTP Digest (MD5, `qop=auth`), actions from the
//! query string or a form-encoded body, and `waitevent` long polls. The
//! answers are the TCP side's, written into an HTTP response.

use std::io;
use std::net::SocketAddr;
use std::time::Instant;

use ami::Message;
use ami::transport::Transport;
use mio::Token;

/// Largest request head plus body we take.
const MAX_REQUEST: usize = 1 << 20;

/// What a request asks of the manager.
pub struct Request {
    pub path: String,
    /// Query and form parameters, in order, names as sent.
    pub params: Vec<(String, String)>,
    pub cookie: Option<String>,
    pub authorization: Option<String>,
    pub method: String,
    pub close: bool,
}

impl Request {
    /// The parameters as an AMI action (names as sent: lookups ignore case).
    pub fn action(&self) -> Message {
        let mut m = Message::new();
        for (n, v) in &self.params {
            // A parameter with CR or LF is left out rather than split into two headers.
            let _ = m.add(n, v);
        }
        m
    }

    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

fn percent_decode(t: &str) -> String {
    let b = t.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok()).and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b[i], hex) {
            (b'+', _) => out.push(b' '),
            (b'%', Some(v)) => {
                out.push(v);
                i += 2;
            }
            (c, _) => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The `name=value` pairs of a form or query string, decoded, in order.
pub fn form_params(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((n, v)) => (percent_decode(n), percent_decode(v)),
            None => (percent_decode(p), String::new()),
        })
        .collect()
}

/// The next whole request in `buf` and its length; `Ok(None)` for more bytes.
pub fn parse_request(buf: &[u8]) -> Result<Option<(Request, usize)>, String> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut req = httparse::Request::new(&mut headers);
    let head_len = match req.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) if buf.len() > MAX_REQUEST => return Err("request too large".into()),
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(format!("bad request: {e}")),
    };
    let header = |name: &str| {
        req.headers.iter().find(|h| h.name.eq_ignore_ascii_case(name)).map(|h| String::from_utf8_lossy(h.value).trim().to_string())
    };
    let body_len: usize = match header("Content-Length") {
        Some(v) => v.parse().map_err(|_| format!("bad Content-Length {v:?}"))?,
        None => 0,
    };
    if head_len + body_len > MAX_REQUEST {
        return Err("request too large".into());
    }
    if buf.len() < head_len + body_len {
        return Ok(None);
    }
    let target = req.path.unwrap_or("/").to_string();
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let mut params = form_params(query);
    let form = header("Content-Type").is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    if form {
        params.extend(form_params(&String::from_utf8_lossy(&buf[head_len..head_len + body_len])));
    }
    let cookie = header("Cookie").and_then(|c| {
        c.split(';').find_map(|kv| kv.trim().strip_prefix("mansession_id=").map(|v| v.trim_matches('"').to_string()))
    });
    let version_10 = req.version == Some(0);
    let connection = header("Connection").map(|c| c.to_ascii_lowercase());
    let close = connection.as_deref() == Some("close") || (version_10 && connection.as_deref() != Some("keep-alive"));
    let request = Request {
        path: path.to_string(),
        params,
        cookie,
        authorization: header("Authorization"),
        method: req.method.unwrap_or("GET").to_string(),
        close,
    };
    Ok(Some((request, head_len + body_len)))
}

/// The headers of a response besides its status, type and length, in
/// Asterisk's order: Date and Connection after Server, `before_type` after
/// Cache-Control, `after_type` after Content-type.
pub struct Head<'a> {
    pub date: Option<String>,
    pub close: bool,
    pub before_type: &'a [(&'a str, String)],
    pub content_type: &'a str,
    pub after_type: &'a [(&'a str, String)],
}

/// An HTTP response as Asterisk writes it.
pub fn response(status: &str, server: &str, head: &Head, body: &[u8]) -> Vec<u8> {
    let mut text = format!("HTTP/1.1 {status}\r\nServer: Asterisk/{server}\r\n");
    if let Some(d) = &head.date {
        text.push_str(&format!("Date: {d}\r\n"));
    }
    if head.close {
        text.push_str("Connection: close\r\n");
    }
    text.push_str("Cache-Control: no-cache, no-store\r\n");
    for (n, v) in head.before_type {
        text.push_str(&format!("{n}: {v}\r\n"));
    }
    text.push_str(&format!("Content-type: {}\r\n", head.content_type));
    for (n, v) in head.after_type {
        text.push_str(&format!("{n}: {v}\r\n"));
    }
    text.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut out = text.into_bytes();
    out.extend_from_slice(body);
    out
}

/// The body of Asterisk's `401 Unauthorized`.
pub fn unauthorized_body(server: &str) -> Vec<u8> {
    format!(
        "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\r\n<html><head>\r\n<title>401 Unauthorized</title>\r\n\
         </head><body>\r\n<h1>Unauthorized</h1>\r\n<p></p>\r\n<hr />\r\n<address>Asterisk/{server}</address>\r\n</body></html>\r\n"
    )
    .into_bytes()
}

/// The user of a Digest `Authorization` that answers `nonce` rightly with
/// one of `users`' secrets, that nonce, and the request's count (`nc`).
pub fn digest_user(authorization: &str, method: &str, users: &[(String, String)], known_nonce: impl Fn(&str) -> bool) -> Option<(String, String, u64)> {
    let value = authorization.trim().strip_prefix("Digest")?;
    let mut p = std::collections::HashMap::new();
    for part in split_params(value) {
        if let Some((k, v)) = part.split_once('=') {
            p.insert(k.trim().to_ascii_lowercase(), v.trim().trim_matches('"').to_string());
        }
    }
    let (user, nonce, uri, response) = (p.get("username")?, p.get("nonce")?, p.get("uri")?, p.get("response")?);
    if !known_nonce(nonce) {
        return None;
    }
    let (_, secret) = users.iter().find(|(u, _)| u == user)?;
    let realm = p.get("realm").map(String::as_str).unwrap_or("asterisk");
    let ha1 = ami::md5::hex(format!("{user}:{realm}:{secret}").as_bytes());
    let ha2 = ami::md5::hex(format!("{method}:{uri}").as_bytes());
    let expected = match (p.get("qop"), p.get("nc"), p.get("cnonce")) {
        (Some(qop), Some(nc), Some(cnonce)) => ami::md5::hex(format!("{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}").as_bytes()),
        _ => ami::md5::hex(format!("{ha1}:{nonce}:{ha2}").as_bytes()),
    };
    let nc = p.get("nc").and_then(|n| u64::from_str_radix(n, 16).ok()).unwrap_or(0);
    (expected == *response).then(|| (user.clone(), nonce.clone(), nc))
}

/// Comma-separated parameters, commas inside quotes kept.
fn split_params(s: &str) -> Vec<String> {
    let (mut out, mut cur, mut quoted) = (Vec::new(), String::new(), false);
    for c in s.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// A request waiting for its answer: a long poll, or a reply the manager
/// gives later (a failed login's delay).
pub struct Waiting {
    pub session: Token,
    pub events: bool,
    pub action_id: Option<String>,
    pub until: Instant,
    pub cookie: Option<String>,
    pub close: bool,
}

/// One HTTP connection.
pub struct HttpConn {
    /// TCP, or TLS when the simulator has a certificate (HTTPS).
    pub stream: Transport,
    pub peer: SocketAddr,
    pub local: SocketAddr,
    pub inbuf: Vec<u8>,
    out: Vec<u8>,
    out_pos: usize,
    pub waiting: Option<Waiting>,
    pub closing: bool,
}

impl HttpConn {
    pub fn new(stream: Transport, peer: SocketAddr, local: SocketAddr) -> HttpConn {
        HttpConn { stream, peer, local, inbuf: Vec::new(), out: Vec::new(), out_pos: 0, waiting: None, closing: false }
    }

    /// Reads what is there; `Ok(false)` when the peer closed.
    pub fn read(&mut self) -> io::Result<bool> {
        let mut chunk = [0u8; 16 * 1024];
        loop {
            match self.stream.read_bytes(&mut chunk) {
                Ok(0) => return Ok(false),
                Ok(n) => self.inbuf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(true),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    pub fn send(&mut self, bytes: &[u8], close: bool) {
        self.out.extend_from_slice(bytes);
        self.closing |= close;
    }

    /// Writes what the socket takes; `Ok(true)` when done and closing.
    pub fn flush(&mut self) -> io::Result<bool> {
        loop {
            if !self.stream.flush()? {
                return Ok(false); // TLS records still queued
            }
            if self.out_pos == self.out.len() {
                break;
            }
            match self.stream.write(&self.out[self.out_pos..]) {
                Ok(0) => return Err(io::Error::from(io::ErrorKind::WriteZero)),
                Ok(n) => self.out_pos += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.out.clear();
        self.out_pos = 0;
        Ok(self.closing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_and_query_decoding() {
        let p = form_params("action=command&command=core%20show%20version&x=a+b&flag&bad=%zz&end=%4");
        assert_eq!(p[1], ("command".into(), "core show version".into()));
        assert_eq!(p[2], ("x".into(), "a b".into()));
        assert_eq!(p[3], ("flag".into(), String::new()));
        assert_eq!(p[4], ("bad".into(), "%zz".into()));
        assert_eq!(p[5], ("end".into(), "%4".into()));
    }

    #[test]
    fn a_request_with_a_form_body() {
        let body = "action=Ping&variable=A%3D1&x=1";
        let raw = format!(
            "POST /arawman HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let raw = raw.as_bytes();
        let (r, n) = parse_request(raw).unwrap().unwrap();
        assert_eq!(n, raw.len());
        assert_eq!((r.path.as_str(), r.param("Action"), r.param("variable")), ("/arawman", Some("Ping"), Some("A=1")));
        assert!(!r.close);
        assert!(parse_request(&raw[..raw.len() - 1]).unwrap().is_none());
    }
}
