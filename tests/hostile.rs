//! The hostile-server matrix for the Rust API: each way `ami-sim` can
//! misbehave (`SimFault`), with the outcome the client must give written
//! next to it, then real server streams mutated by many seeds. Nothing may
//! crash or hang past a deadline, and every action completes exactly once.
//! The C, Python and Go APIs run the same table (tests/c/test_hostile.c,
//! the bindings' tests).

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use ami::{Client, Error, Message, Options, State};
use common::Sim;

/// How a probe action ends.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Outcome {
    /// Answered; the client carries on.
    Ok,
    /// Its deadline ends it; the client carries on.
    Timeout,
    /// Fails with this status and the link is dropped.
    Lost(i32),
}

/// (fault, probe action, outcome), as in tests/c/test_hostile.c.
const MATRIX: &[(&str, &str, Outcome)] = &[
    ("duplicate-response", "Ping", Outcome::Ok),
    ("unknown-id", "Ping", Outcome::Ok),
    ("open-list", "CoreShowChannels", Outcome::Timeout),
    ("interleave", "QueueStatus", Outcome::Ok),
    ("nul-utf8", "Ping", Outcome::Ok),
    ("reset-mid-message", "Ping", Outcome::Lost(6)),
    ("close-mid-message", "Ping", Outcome::Lost(6)),
    ("endless-line", "Ping", Outcome::Lost(7)),
    ("million-headers", "Ping", Outcome::Lost(7)),
    ("huge", "Ping", Outcome::Lost(7)),
];

#[test]
fn every_fault_gives_its_documented_outcome() {
    let sim = Sim::default();
    for &(fault, probe, outcome) in MATRIX {
        let mut o = Options::default();
        o.action_timeout = Duration::from_millis(500);
        let c = sim.client_with(o);
        let (tx, rx) = mpsc::channel();
        c.subscribe("UserEvent", move |e| {
            let _ = tx.send(e.get("UserEvent").unwrap_or("").to_string());
        })
        .unwrap();
        assert!(c.action("SimFault", &[("Mode", fault)]).unwrap().is_success(), "{fault}");
        let started = Instant::now();
        let result = c.action(probe, &[]);
        assert!(started.elapsed() < Duration::from_secs(3), "{fault}: took {:?}", started.elapsed());
        match (outcome, &result) {
            (Outcome::Ok, Ok(m)) => {
                assert!(m.is_success(), "{fault}: {m:?}");
                match fault {
                    "interleave" => {
                        assert_eq!(m.list().len(), 3, "{fault}: the event is not part of the list");
                        assert_eq!(rx.recv_timeout(Duration::from_secs(2)).unwrap(), "Interleaved");
                    }
                    "nul-utf8" => {
                        let junk = m.get_bytes("Junk").expect("the value is kept");
                        assert!(junk.contains(&0) && junk.contains(&0xff), "{junk:?}");
                    }
                    _ => {}
                }
            }
            (Outcome::Timeout, Err(Error::Timeout(_))) => {}
            (Outcome::Lost(status), Err(e)) if e.status() == status => {
                assert_eq!(c.state(), State::Disconnected, "{fault}");
                continue;
            }
            _ => panic!("{fault}: expected {outcome:?}, got {result:?}"),
        }
        // Still usable, and nothing stray completed anything twice.
        assert_eq!(c.action("Ping", &[]).unwrap().get("Ping"), Some("Pong"), "{fault}");
    }
}

/// A server that greets with `bytes` (a mutated real stream) and reads
/// whatever the client sends, until the client goes.
fn replay(bytes: Vec<u8>) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let Ok((mut s, _)) = l.accept() else { return };
        let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
        let _ = s.write_all(&bytes);
        let mut buf = [0u8; 4096];
        while matches!(s.read(&mut buf), Ok(n) if n > 0) {}
    });
    port
}

/// `data` with a few bytes flipped, dropped or doubled, from `seed`.
fn mutate(data: &[u8], seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut out = data.to_vec();
    for _ in 0..1 + next() % 8 {
        if out.is_empty() {
            break;
        }
        let at = (next() % out.len() as u64) as usize;
        match next() % 3 {
            0 => out[at] ^= 1 << (next() % 8),
            1 => {
                out.remove(at);
            }
            _ => {
                let b = out[at];
                out.insert(at, b);
            }
        }
    }
    out
}

#[test]
fn mutated_real_streams() {
    let mut streams = Vec::new();
    for entry in std::fs::read_dir(common::fixtures_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.to_string_lossy().ends_with(".server.raw") {
            streams.push(std::fs::read(&path).unwrap());
        }
    }
    assert!(streams.len() >= 10, "the fixtures' server streams");
    let cases: Vec<Vec<u8>> = streams.iter().flat_map(|s| (0..12).map(move |seed| mutate(s, seed))).collect();
    let cases = Arc::new(std::sync::Mutex::new(cases));
    let workers: Vec<_> = (0..8)
        .map(|_| {
            let cases = Arc::clone(&cases);
            std::thread::spawn(move || {
                while let Some(bytes) = cases.lock().unwrap().pop() {
                    one_mutated_stream(bytes);
                }
            })
        })
        .collect();
    for w in workers {
        w.join().expect("no panic");
    }
}

/// Connects to a mutated stream and sends five actions: each completes
/// exactly once (answered, timed out, or failed with the link), in time.
fn one_mutated_stream(bytes: Vec<u8>) {
    let port = replay(bytes);
    let mut o = Options::default();
    o.connect_timeout = Duration::from_millis(300);
    o.action_timeout = Duration::from_millis(300);
    let c = Client::new(o);
    if c.connect("127.0.0.1", port).is_err() {
        return; // a mangled banner: refused cleanly
    }
    let done = Arc::new(AtomicUsize::new(0));
    let mut sent = 0;
    for id in ["1", "2", "3", "x-1", "x-2"] {
        let m = Message::action("Ping").unwrap().with("ActionID", id).unwrap();
        let d = Arc::clone(&done);
        if c.send_async(&m, move |_| {
            d.fetch_add(1, Ordering::SeqCst);
        })
        .is_ok()
        {
            sent += 1;
        }
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while done.load(Ordering::SeqCst) < sent {
        assert!(Instant::now() < deadline, "{} of {sent} actions completed", done.load(Ordering::SeqCst));
        std::thread::sleep(Duration::from_millis(5));
    }
    c.close();
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(done.load(Ordering::SeqCst), sent, "an action completed twice");
}

/// A partial answer and the server's close in one TCP segment: the loop's
/// read of those bytes is short, yet it must go on to see the end (no
/// further readiness edge comes for it). TCP_CORK holds the bytes until the
/// close, which sends them with the FIN.
#[test]
fn an_end_arriving_with_the_last_bytes_is_seen() {
    for round in 0..3 {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            s.write_all(b"Asterisk Call Manager/5.0.2\r\n").unwrap();
            let mut got = Vec::new();
            let mut byte = [0u8; 1];
            while !got.ends_with(b"\r\n\r\n") && s.read(&mut byte).unwrap() == 1 {
                got.push(byte[0]);
            }
            let one: libc::c_int = 1;
            // SAFETY: sets an int option on a live socket from a live int.
            let rc = unsafe {
                use std::os::fd::AsRawFd;
                let size = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
                libc::setsockopt(s.as_raw_fd(), libc::IPPROTO_TCP, libc::TCP_CORK, (&one as *const libc::c_int).cast(), size)
            };
            assert_eq!(rc, 0);
            s.write_all(b"Response: Success\r\nPing: Po").unwrap();
            drop(s);
        });
        let mut o = Options::default();
        o.action_timeout = Duration::from_secs(20);
        let c = Client::new(o);
        c.connect("127.0.0.1", port).unwrap();
        let t = Instant::now();
        let e = c.send(&Message::action("Ping").unwrap()).unwrap_err();
        assert!(matches!(e, Error::Disconnected(_)), "round {round}: {e:?}");
        assert!(t.elapsed() < Duration::from_secs(5), "round {round}: {:?}", t.elapsed());
        server.join().unwrap();
    }
}
