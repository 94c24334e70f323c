//! Bounded sending: a client that submits actions to a server that never
//! reads them stays within `max_pending` and `max_pending_bytes`, and gets
//! `Error::Full` (`AMI_EFULL`) past them. In a binary of their own, so that
//! the memory figure is theirs (the second test holds ~100 KB).

use std::io::Write;
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ami::{Client, Error, Message, Options};

/// Accepts one client, greets it, and never reads a byte from it.
fn deaf_server() -> (u16, std::thread::JoinHandle<()>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let t = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        s.write_all(b"Asterisk Call Manager/5.0.2\r\n").unwrap();
        std::thread::sleep(Duration::from_secs(60)); // holds the socket, reads nothing
    });
    (port, t)
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// The memory bound the README states for the default limits.
const BOUND_MIB: u64 = 64;

#[test]
fn a_million_actions_to_a_server_that_never_reads() {
    let (port, _server) = deaf_server();
    let mut o = Options::default();
    o.action_timeout = Duration::from_secs(120); // nothing may end by its deadline here
    let c = Client::new(o);
    c.connect("127.0.0.1", port).unwrap();
    let before = rss_kib();
    let completed = Arc::new(AtomicU64::new(0));
    let ping = Message::action("Ping").unwrap().with("Padding", &"x".repeat(100)).unwrap();
    let (mut accepted, mut full) = (0u64, 0u64);
    for _ in 0..1_000_000 {
        let done = Arc::clone(&completed);
        match c.send_async(&ping, move |r| {
            assert!(matches!(r, Err(Error::Closed(_))), "{r:?}");
            done.fetch_add(1, Ordering::Relaxed);
        }) {
            Ok(()) => accepted += 1,
            Err(e) => {
                assert!(matches!(e, Error::Full(_)), "{e:?}");
                assert_eq!(e.status(), 11);
                full += 1;
            }
        }
    }
    let grown_mib = rss_kib().saturating_sub(before) / 1024;
    println!("accepted {accepted}, refused {full}, memory grew {grown_mib} MiB");
    assert_eq!(accepted, 100_000, "the default max_pending");
    assert_eq!(full, 900_000);
    assert!(grown_mib < BOUND_MIB, "memory grew {grown_mib} MiB");

    // A blocking send waits for room up to its deadline, then is Full too.
    let t = Instant::now();
    let e = c.send_timeout(&ping, Some(Duration::from_millis(300))).unwrap_err();
    assert!(matches!(e, Error::Full(ref m) if m.contains("deadline")), "{e:?}");
    assert!(t.elapsed() >= Duration::from_millis(300) && t.elapsed() < Duration::from_secs(5));

    // Closing completes every accepted action exactly once, and frees the room.
    c.close();
    let deadline = Instant::now() + Duration::from_secs(30);
    while completed.load(Ordering::Relaxed) < accepted {
        assert!(Instant::now() < deadline, "{} of {accepted} completed", completed.load(Ordering::Relaxed));
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(completed.load(Ordering::Relaxed), accepted);
}

#[test]
fn the_byte_limit_and_a_blocking_send_that_gets_room() {
    let (port, _server) = deaf_server();
    let mut o = Options::default();
    o.set("max_pending_bytes", "100000").unwrap();
    o.set("action_timeout_ms", "400").unwrap();
    let c = Client::new(o);
    c.connect("127.0.0.1", port).unwrap();
    let ping = Message::action("Ping").unwrap().with("Padding", &"x".repeat(1000)).unwrap();
    let mut accepted = 0;
    while c.send_async(&ping, |_| {}).is_ok() {
        accepted += 1;
    }
    assert!((90..=100).contains(&accepted), "{accepted} actions of ~1 KB in 100,000 bytes");
    // The actions time out after 400 ms and give their room back: a
    // blocking send that waits longer than that gets through (and times out
    // in its turn, the server being deaf).
    let e = c.send_timeout(&ping, Some(Duration::from_secs(2))).unwrap_err();
    assert!(matches!(e, Error::Timeout(_)), "{e:?}");
    assert!(c.send_async(&ping, |_| {}).is_ok(), "room again");
}
