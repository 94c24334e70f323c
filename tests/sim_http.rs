//! `ami-sim --http` against the HTTP transcripts of a real Asterisk 22: the
//! requests of ../shared/fixtures/13-http-rawman.txt and
//! 14-http-arawman-digest.txt are sent again (the session cookie and the
//! Digest answer made anew, since they change by nature) and every response
//! is compared with the captured one: status, header names in order, header
//! values, and the AMI body header by header, ignoring only values that
//! change by nature.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use ami::codec::{Decoder, Frame, Limits};
use ami::http::{Challenge, DigestAuth, Response, ResponseDecoder, session_cookie};
use common::{Dir, Sim, segments};

fn sim() -> (Sim, u16) {
    let sim = Sim::start(&["--version", "11.0.0", "--http", "127.0.0.1:0"]);
    let port = sim.http_port.unwrap();
    (sim, port)
}

/// Sends one request on a connection of its own, returns the response.
fn exchange(port: u16, request: &[u8]) -> Response {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(request).unwrap();
    let mut d = ResponseDecoder::new(1 << 20);
    let mut buf = [0u8; 8192];
    loop {
        if let Some(r) = d.next_response().unwrap() {
            return r;
        }
        let n = s.read(&mut buf).unwrap();
        if n == 0 {
            return d.finish().unwrap().expect("a response before the close");
        }
        d.feed(&buf[..n]);
    }
}

fn messages(body: &[u8]) -> Vec<Vec<(String, String)>> {
    let mut d = Decoder::server(Limits::default());
    d.feed(body);
    let mut out = Vec::new();
    while let Some(Frame::Message(m)) = d.next_frame().unwrap() {
        out.push(m.iter().map(|(n, v)| (n.to_string(), masked(n, v))).collect());
    }
    out
}

/// Values that change by nature keep only their name.
fn masked(name: &str, value: &str) -> String {
    let volatile = ["Timestamp", "EventTV", "SessionTV", "SessionID", "Date", "Set-Cookie"];
    match name {
        _ if volatile.iter().any(|v| v.eq_ignore_ascii_case(name)) => "*".into(),
        "WWW-authenticate" => match Challenge::parse(value) {
            Ok(c) => format!("{value:.26} realm={} qop_auth={} opaque=nonce:{}", c.realm, c.qop_auth, c.opaque.as_ref() == Some(&c.nonce)),
            Err(e) => format!("{e}"),
        },
        "LocalAddress" | "RemoteAddress" => value.rsplit_once('/').map_or(value, |(a, _)| a).to_string(),
        "Output" if value.starts_with("Asterisk ") => value.split(" built by ").next().unwrap_or(value).to_string(),
        _ => value.to_string(),
    }
}

fn compare(what: &str, want: &Response, got: &Response) {
    assert_eq!((got.status, &got.reason), (want.status, &want.reason), "{what}: status");
    let names = |r: &Response| r.headers.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(got), names(want), "{what}: header names");
    for ((n, w), (_, g)) in want.headers.iter().zip(&got.headers) {
        if n == "Content-Length" && want.status == 200 {
            continue; // volatile values (timestamps) change the length
        }
        assert_eq!(masked(n, g), masked(n, w), "{what}: header {n}");
    }
    if n_is_ami(want) {
        assert_eq!(messages(&got.body), messages(&want.body), "{what}: body");
    }
    if let (Some(_), true) = (session_cookie(want), want.status == 200) {
        assert!(session_cookie(got).is_some(), "{what}: a cookie");
    }
}

fn n_is_ami(r: &Response) -> bool {
    r.header("Content-type") == Some("text/plain")
}

/// A captured response; curl -v left the bodies of all but the last `401`
/// out, which are the same page: `page` stands in for them.
fn captured(bytes: &[u8], page: &[u8]) -> Response {
    let mut d = ResponseDecoder::new(1 << 20);
    d.feed(bytes);
    if let Some(r) = d.next_response().unwrap() {
        return r;
    }
    d.feed(page);
    d.next_response().unwrap().expect("a captured response")
}

#[test]
fn rawman_replayed_with_its_cookie() {
    let (_sim, port) = sim();
    let segs = segments("13-http-rawman.txt");
    let mut cookie: Option<String> = None;
    for pair in segs.chunks(2) {
        let [(Dir::Client, request), (Dir::Server, response)] = pair else { panic!("request, response pairs") };
        let mut request = String::from_utf8(request.clone()).unwrap();
        if let Some(c) = &cookie {
            request = request.replace("mansession_id=\"0e79b1b8\"", &format!("mansession_id=\"{c}\""));
        }
        let what = request.lines().next().unwrap().to_string();
        let got = exchange(port, request.as_bytes());
        compare(&what, &captured(response, b""), &got);
        if what.contains("action=login&username=admin&secret=admin") {
            cookie = session_cookie(&got);
        }
    }
    assert!(cookie.is_some());
}

#[test]
fn arawman_replayed_with_digest_answers() {
    let (_sim, port) = sim();
    let segs = segments("14-http-arawman-digest.txt");
    let last = &segs.last().unwrap().1;
    let page = &last[last.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4..];
    let mut auth: Option<DigestAuth> = None;
    let mut checked = 0;
    for pair in segs.chunks(2) {
        let [(Dir::Client, request), (Dir::Server, response)] = pair else { panic!("request, response pairs") };
        let want = captured(response, page);
        let mut request = String::from_utf8(request.clone()).unwrap();
        let line = request.lines().next().unwrap().to_string();
        if let Some(at) = request.find("Authorization: Digest ") {
            // Answer the challenge our server gave, as the captured client did its own.
            let end = at + request[at..].find("\r\n").unwrap();
            let captured_auth = &request[at..end];
            let wrong = captured_auth.contains("900993de8301ad9d345965ceb01a73aa");
            let (method, uri) = line.split_once(' ').map(|(m, r)| (m, r.rsplit_once(' ').unwrap().0)).unwrap();
            let a = auth.as_mut().expect("a challenge first");
            let mut value = a.authorization(method, uri, "Y25vbmNl");
            if wrong {
                value = value.replace("response=\"", "response=\"0"); // the capture's wrong password
            }
            request.replace_range(at..end, &format!("Authorization: {value}"));
        }
        // The POST of the capture was sent with its form body, which curl -v left out.
        if line.starts_with("POST") && request.contains("Content-Length: 120") {
            let body = "action=originate&channel=Local%2F100%40default&application=Wait&data=1&async=true&actionid=p-1&variable=A%3D1&variable=B%3D2";
            request = request.replace("Content-Length: 120\r\n\r\n", &format!("Content-Length: {}\r\n\r\n{body}", body.len()));
        }
        let got = exchange(port, request.as_bytes());
        compare(&line, &want, &got);
        if got.status == 401 {
            let c = Challenge::parse(got.header("WWW-authenticate").unwrap()).unwrap();
            auth = Some(DigestAuth::new("admin", "admin", c));
        }
        checked += 1;
    }
    assert_eq!(checked, 6);
}

#[test]
fn sessions_expire_and_connections_keep_alive() {
    let sim = Sim::start(&["--http", "127.0.0.1:0", "--http-timeout", "1"]);
    let port = sim.http_port.unwrap();
    // Two requests on one keep-alive connection.
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let login = "GET /rawman?action=login&username=admin&secret=admin HTTP/1.1\r\nHost: x\r\n\r\n";
    s.write_all(login.as_bytes()).unwrap();
    let mut d = ResponseDecoder::new(1 << 20);
    let mut buf = [0u8; 8192];
    let mut next = |s: &mut TcpStream, d: &mut ResponseDecoder| loop {
        if let Some(r) = d.next_response().unwrap() {
            return r;
        }
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "closed");
        d.feed(&buf[..n]);
    };
    let r = next(&mut s, &mut d);
    assert!(r.keep_alive() && r.header("Set-Cookie").unwrap().contains("Max-Age=1"));
    let cookie = session_cookie(&r).unwrap();
    let ping = format!("GET /rawman?action=ping HTTP/1.1\r\nHost: x\r\nCookie: mansession_id=\"{cookie}\"\r\n\r\n");
    s.write_all(ping.as_bytes()).unwrap();
    assert!(String::from_utf8_lossy(&next(&mut s, &mut d).body).contains("Ping: Pong"));
    // Unused past httptimeout: the session is gone.
    std::thread::sleep(Duration::from_millis(2500));
    s.write_all(ping.as_bytes()).unwrap();
    let r = next(&mut s, &mut d);
    assert!(String::from_utf8_lossy(&r.body).contains("Permission denied"));
    assert_ne!(session_cookie(&r).unwrap(), cookie);
}

#[test]
fn bad_requests_get_an_answer_and_a_close() {
    let sim = Sim::start(&["--http", "127.0.0.1:0"]);
    let port = sim.http_port.unwrap();
    let r = exchange(port, b"Action: Ping\r\n\r\n"); // AMI on the HTTP port
    assert_eq!((r.status, r.keep_alive()), (400, false));
    let r = exchange(port, b"GET /manager?action=ping HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(r.status, 404);
    let huge = format!("POST /rawman HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n", 2 << 20);
    let r = exchange(port, huge.as_bytes());
    assert_eq!((r.status, r.keep_alive()), (400, false));
    // The server is still there for the next one.
    let r = exchange(port, b"GET /rawman?action=ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert!(String::from_utf8_lossy(&r.body).contains("Permission denied"));
}

/// Asterisk's rule for a Digest nonce's count: it must grow. A request that
/// repeats a count gets a `401` with `stale=true` and a new nonce of the
/// same session; the old nonce is stale from then on.
#[test]
fn a_repeated_nonce_count_is_stale() {
    let (_sim, port) = sim();
    let get = |auth: Option<String>| {
        let a = auth.map(|a| format!("Authorization: {a}\r\n")).unwrap_or_default();
        exchange(port, format!("GET /arawman?action=ping HTTP/1.1\r\nHost: x\r\n{a}Connection: close\r\n\r\n").as_bytes())
    };
    let first = get(None);
    let challenge = Challenge::parse(first.header("WWW-Authenticate").unwrap()).unwrap();
    assert!(!challenge.stale);
    let mut auth = DigestAuth::new("admin", "admin", challenge);
    let mut replay = auth.clone();
    assert_eq!(get(Some(auth.authorization("GET", "/arawman?action=ping", "c1"))).status, 200);
    assert_eq!(get(Some(auth.authorization("GET", "/arawman?action=ping", "c2"))).status, 200);
    // nc=1 again: stale, with a fresh nonce.
    let stale = get(Some(replay.authorization("GET", "/arawman?action=ping", "c3")));
    assert_eq!(stale.status, 401);
    let renewed = Challenge::parse(stale.header("WWW-Authenticate").unwrap()).unwrap();
    assert!(renewed.stale && renewed.nonce != auth.nonce(), "{renewed:?}");
    // The old nonce, even counting on, is stale now; the new one works.
    let old = get(Some(auth.authorization("GET", "/arawman?action=ping", "c4")));
    assert_eq!(old.status, 401);
    assert!(Challenge::parse(old.header("WWW-Authenticate").unwrap()).unwrap().stale);
    auth.renew(renewed);
    assert_eq!(get(Some(auth.authorization("GET", "/arawman?action=ping", "c5"))).status, 200);
}
