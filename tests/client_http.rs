//! The client over HTTP (`transport=http`) against `ami-sim --http`, on both
//! manager paths: the same calls as on TCP, with only the options changed.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ami::{Client, Error, Message, Options, State};
use common::Sim;

fn http_sim(extra: &[&str]) -> Sim {
    let mut args = vec!["--http", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    Sim::start(&args)
}

fn options(path: &str) -> Options {
    let mut o = Options::default();
    o.set("transport", "http").unwrap();
    o.set("http_path", path).unwrap();
    o.set("action_timeout_ms", "5000").unwrap();
    o
}

fn http_client(sim: &Sim, path: &str) -> Client {
    http_client_with(sim, options(path))
}

fn http_client_with(sim: &Sim, o: Options) -> Client {
    let c = Client::new(o);
    let banner = c.connect("127.0.0.1", sim.http_port.unwrap()).expect("connect over HTTP");
    assert!(banner.starts_with("Asterisk/"), "{banner}");
    c.login("admin", "admin").expect("login over HTTP");
    assert_eq!(c.state(), State::LoggedIn);
    c
}

/// What every transport must do alike: the calls of the acceptance list.
fn the_same_calls(c: &Client) {
    let pong = c.action("Ping", &[]).unwrap();
    assert_eq!(pong.get("Ping"), Some("Pong"), "{pong:?}");

    let out = c.action("Command", &[("Command", "core show version")]).unwrap();
    assert!(out.is_success(), "{out:?}");
    assert!(out.get_all("Output").any(|l| l.starts_with("Asterisk ")), "{out:?}");

    let list = c.action("CoreShowChannels", &[]).unwrap();
    assert!(list.is_success());
    assert!(list.list().last().is_some_and(Message::ends_list), "{list:?}");

    let mut originate = Message::action("Originate").unwrap();
    for (n, v) in [("Channel", "Local/100@default"), ("Application", "Wait"), ("Data", "1"), ("Async", "true")] {
        originate.add(n, v).unwrap();
    }
    originate.wait_event("OriginateResponse").unwrap();
    let done = c.send(&originate).unwrap();
    assert_eq!(done.event_name(), Some("OriginateResponse"), "{done:?}");
    assert_eq!(done.get("Response"), Some("Success"), "{done:?}");

    let (tx, rx) = mpsc::channel();
    let sub = c
        .subscribe("UserEvent", move |e| {
            let _ = tx.send(e.get("UserEvent").unwrap_or("").to_string());
        })
        .unwrap();
    for i in 0..20 {
        let r = c.action("UserEvent", &[("UserEvent", &format!("u{i}"))]).unwrap();
        assert!(r.is_success(), "{r:?}");
    }
    for i in 0..20 {
        assert_eq!(rx.recv_timeout(Duration::from_secs(10)).unwrap(), format!("u{i}"));
    }
    c.unsubscribe(sub);
}

#[test]
fn rawman_with_the_session_cookie() {
    let sim = http_sim(&[]);
    let c = http_client(&sim, "/rawman");
    the_same_calls(&c);
    c.logoff().unwrap();
    assert_eq!(c.state(), State::Closed);
}

#[test]
fn arawman_with_digest() {
    let sim = http_sim(&[]);
    let c = http_client(&sim, "/arawman");
    the_same_calls(&c);
    c.logoff().unwrap();
}

#[test]
fn tcp_runs_the_same_calls() {
    let sim = Sim::default();
    the_same_calls(&sim.client());
}

#[test]
fn a_wrong_secret_is_an_auth_error_on_both_paths() {
    let sim = http_sim(&[]);
    for path in ["/rawman", "/arawman"] {
        let c = Client::new(options(path));
        c.connect("127.0.0.1", sim.http_port.unwrap()).unwrap();
        let e = c.login("admin", "wrong").unwrap_err();
        assert!(matches!(e, Error::Auth(_)), "{path}: {e:?}");
        assert_eq!(e.status(), 4);
        // The right one works on the same client afterwards.
        c.login("admin", "admin").unwrap_or_else(|e| panic!("{path}: {e}"));
        assert!(c.action("Ping", &[]).unwrap().is_success());
    }
}

#[test]
fn md5_login_over_rawman() {
    let sim = http_sim(&[]);
    let mut o = options("/rawman");
    o.set("auth", "md5").unwrap();
    let c = http_client_with(&sim, o);
    assert!(c.action("Ping", &[]).unwrap().is_success());
}

#[test]
fn a_thousand_pipelined_actions_complete_once_each() {
    let sim = http_sim(&[]);
    for path in ["/rawman", "/arawman"] {
        let c = http_client(&sim, path);
        let results = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        for i in 0..1000 {
            let m = Message::action("Ping").unwrap().with("ActionID", &format!("p-{i}")).unwrap();
            let (results, tx) = (Arc::clone(&results), tx.clone());
            c.send_async(&m, move |r| {
                let r = r.expect("a response");
                results.lock().unwrap().push(r.action_id().unwrap_or("").to_string());
                let _ = tx.send(());
            })
            .unwrap();
        }
        for _ in 0..1000 {
            rx.recv_timeout(Duration::from_secs(20)).expect("every action completes");
        }
        assert!(rx.recv_timeout(Duration::from_millis(200)).is_err(), "{path}: a callback ran twice");
        let mut ids = results.lock().unwrap().clone();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 1000, "{path}");
    }
}

#[test]
fn an_expired_session_is_logged_in_again() {
    let sim = http_sim(&["--http-timeout", "1"]);
    let mut o = options("/rawman");
    o.set("events", "off").unwrap(); // no long poll to keep the session alive
    let c = Client::new(o);
    let states = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&states);
    c.on_state(Some(Box::new(move |s, _| seen.lock().unwrap().push(s)))).unwrap();
    c.connect("127.0.0.1", sim.http_port.unwrap()).unwrap();
    c.login("admin", "admin").unwrap();
    assert!(c.action("Ping", &[]).unwrap().is_success());
    std::thread::sleep(Duration::from_millis(2500)); // the sim expires it
    let pong = c.action("Ping", &[]).unwrap();
    assert_eq!(pong.get("Ping"), Some("Pong"), "{pong:?}");
    assert_eq!(c.state(), State::LoggedIn);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !states.lock().unwrap().ends_with(&[State::Reconnecting, State::LoggedIn]) {
        assert!(Instant::now() < deadline, "{:?}", states.lock().unwrap());
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn events_keep_flowing_across_an_expiry() {
    // The long poll keeps a session alive; a session dropped anyway (here:
    // shorter than a poll) is logged in again and events come back.
    let sim = http_sim(&["--http-timeout", "1"]);
    let c = http_client(&sim, "/rawman");
    let (tx, rx) = mpsc::channel();
    c.subscribe("UserEvent", move |e| {
        let _ = tx.send(e.get("UserEvent").unwrap_or("").to_string());
    })
    .unwrap();
    for round in 0..3 {
        let name = format!("r{round}");
        assert!(c.action("UserEvent", &[("UserEvent", &name)]).unwrap().is_success());
        assert_eq!(rx.recv_timeout(Duration::from_secs(10)).unwrap(), name);
        std::thread::sleep(Duration::from_millis(1500));
    }
}

#[test]
fn a_broken_answer_fails_that_action_only() {
    let sim = http_sim(&[]);
    let mut o = options("/rawman");
    o.set("action_timeout_ms", "1000").unwrap();
    let c = http_client_with(&sim, o);
    let cases = [
        ("close-mid-message", 6, "middle of an answer"),
        ("garbage", 7, "not an HTTP response"),
        ("wrong-banner", 7, "held no AMI response"),
        ("huge", 7, "larger than"),
        ("stall", 5, "in time"),
    ];
    for (fault, status, detail) in cases {
        assert!(c.action("SimFault", &[("Mode", fault)]).unwrap().is_success());
        let e = c.action("Ping", &[]).unwrap_err();
        assert_eq!(e.status(), status, "{fault}: {e}");
        assert!(e.to_string().contains(detail), "{fault}: {e}");
        // The link carries on with a fresh connection.
        assert!(c.action("Ping", &[]).unwrap().is_success(), "{fault}");
    }
    assert_eq!(c.state(), State::LoggedIn);
}

#[test]
fn a_tcp_ami_port_is_not_http() {
    let sim = Sim::default();
    let c = Client::new(options("/rawman"));
    let e = c.connect("127.0.0.1", sim.port).unwrap_err();
    assert!(matches!(e, Error::NotAmi(_)), "{e:?}");
}

/// A one-shot HTTP server answering every request with `answer`.
fn serve(answer: &'static [u8]) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming().take(4) {
            let Ok(mut s) = s else { return };
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let _ = s.write_all(answer);
        }
    });
    port
}

#[test]
fn answers_that_are_not_ami() {
    let cases: [(&[u8], i32, &str); 4] = [
        (b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", 3, "404"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\n<html></html>", 3, "not AMI"),
        (b"HTTP/1.1 500 Server Error\r\nContent-Length: 0\r\n\r\n", 7, "500 Server Error"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 999999999999\r\n\r\n", 7, "larger than"),
    ];
    for (answer, status, detail) in cases {
        let port = serve(answer);
        let c = Client::new(options("/rawman"));
        let e = c.connect("127.0.0.1", port).unwrap_err();
        assert_eq!(e.status(), status, "{e}");
        assert!(e.to_string().contains(detail), "{e}");
    }
}

#[test]
fn a_truncated_body_is_an_error() {
    let port = serve(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nResponse: Success\r\n");
    let c = Client::new(options("/rawman"));
    let e = c.connect("127.0.0.1", port).unwrap_err();
    assert!(e.to_string().contains("of 100 body bytes"), "{e}");
}

