//! Throughput figures, measured in one run against `ami-sim` (these machines
//! are noisy, so compare ratios from the same run, not absolute numbers
//! across runs). Not a test: it prints, it does not judge.
//!
//! `cargo bench --bench throughput` (`-- --events N --pings N` to resize).
//!
//! 1. raw drain: a plain blocking `read()` loop over a SimFlood of ~500-byte
//!    events (the ceiling: no parsing at all);
//! 2. engine events: the same flood parsed by the engine and delivered to a
//!    subscription callback, and to the pull queue;
//! 3. pipelined Pings with 1,000 in flight, and one at a time, each beside
//!    a raw blocking socket that only counts the answers' ends;
//! 4. the engine's events and pipelined Pings again over HTTP (`/rawman`,
//!    4 keep-alive connections and the `waitevent` long poll), same run.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use ami::{Client, Message, Options};

/// The simulator, its AMI port and its HTTP port.
struct Sim(Child, u16, u16);

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn sim() -> Sim {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ami-sim"))
        .args(["--listen", "127.0.0.1:0", "--http", "127.0.0.1:0", "--quiet"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start ami-sim");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut port = || {
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        line.trim().rsplit(':').next().unwrap().parse().unwrap()
    };
    let (ami, http) = (port(), port());
    Sim(child, ami, http)
}

/// Options of the TCP client, or of the HTTP one (`/rawman`).
fn options(http: bool) -> Options {
    let mut o = Options { events: "off".into(), ..Options::default() };
    if http {
        o.set("transport", "http").unwrap();
        o.events = "on".into(); // the long poll runs only with events on
    }
    o
}

fn flood_action(count: u64) -> String {
    format!("Action: SimFlood\r\nCount: {count}\r\nSize: 500\r\nActionID: flood\r\n\r\n")
}

/// A blocking read loop that only looks for the end marker.
fn raw_drain(port: u16, count: u64) -> (f64, u64) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(b"Action: Login\r\nUsername: admin\r\nSecret: admin\r\nEvents: off\r\n\r\n").unwrap();
    let mut buf = vec![0u8; 256 << 10];
    let mut seen = Vec::new();
    while !seen.windows(24).any(|w| w == b"Authentication accepted\r") {
        let n = s.read(&mut buf).unwrap();
        seen.extend_from_slice(&buf[..n]);
    }
    let start = Instant::now();
    s.write_all(flood_action(count).as_bytes()).unwrap();
    let mut tail = Vec::new();
    let mut bytes = 0u64;
    loop {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "sim closed");
        bytes += n as u64;
        tail.extend_from_slice(&buf[..n]);
        if tail.windows(16).any(|w| w == b"SimFloodComplete") {
            break;
        }
        let keep = tail.len().saturating_sub(16);
        tail.drain(..keep);
    }
    (start.elapsed().as_secs_f64(), bytes)
}

fn engine_callback(port: u16, count: u64, http: bool) -> f64 {
    let c = Client::new(options(http));
    c.connect("127.0.0.1", port).unwrap();
    c.login("admin", "admin").unwrap();
    let seen = Arc::new(AtomicU64::new(0));
    let (tx, rx) = mpsc::channel();
    let s = Arc::clone(&seen);
    c.subscribe("SimFlood*", move |e| {
        s.fetch_add(1, Ordering::Relaxed);
        if e.event_name() == Some("SimFloodComplete") {
            let _ = tx.send(());
        }
    })
    .unwrap();
    let start = Instant::now();
    c.action("SimFlood", &[("Count", &count.to_string()), ("Size", "500")]).unwrap();
    rx.recv_timeout(Duration::from_secs(300)).expect("flood end");
    let t = start.elapsed().as_secs_f64();
    assert_eq!(seen.load(Ordering::Relaxed), count + 1, "events lost (dropped: {})", c.dropped_events());
    t
}

fn engine_pull(port: u16, count: u64) -> f64 {
    let c = Client::new(Options {
        events: "off".into(),
        event_queue: true,
        overflow: ami::Overflow::Block,
        ..Options::default()
    });
    c.connect("127.0.0.1", port).unwrap();
    c.login("admin", "admin").unwrap();
    let start = Instant::now();
    c.action("SimFlood", &[("Count", &count.to_string()), ("Size", "500")]).unwrap();
    let mut n = 0;
    loop {
        let e = c.next_event(Some(Duration::from_secs(60))).unwrap().expect("flood stalled");
        n += 1;
        if e.event_name() == Some("SimFloodComplete") {
            break;
        }
    }
    assert_eq!(n, count + 1);
    start.elapsed().as_secs_f64()
}

fn pipelined_pings(port: u16, total: u64, window: u64, http: bool) -> f64 {
    let c = Client::new(options(http));
    c.connect("127.0.0.1", port).unwrap();
    c.login("admin", "admin").unwrap();
    let ping = Message::action("Ping").unwrap();
    let (tx, rx) = mpsc::channel();
    let send = |tx: mpsc::Sender<bool>| {
        c.send_async(&ping, move |r| {
            let _ = tx.send(r.is_ok_and(|m| m.is_success()));
        })
        .unwrap()
    };
    let start = Instant::now();
    let mut sent = 0;
    while sent < window.min(total) {
        send(tx.clone());
        sent += 1;
    }
    for _ in 0..total {
        assert!(rx.recv_timeout(Duration::from_secs(30)).expect("ping answer"));
        if sent < total {
            send(tx.clone());
            sent += 1;
        }
    }
    start.elapsed().as_secs_f64()
}

/// A blocking socket logged in with events off, TCP_NODELAY as the engine.
fn raw_session(port: u16) -> TcpStream {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_nodelay(true).unwrap();
    s.write_all(b"Action: Login\r\nUsername: admin\r\nSecret: admin\r\nEvents: off\r\n\r\n").unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !seen.windows(12).any(|w| w == b"accepted\r\n\r\n") {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0);
        seen.extend_from_slice(&buf[..n]);
    }
    s
}

/// Message ends in `buf`, the last 3 bytes carried in `state`.
fn count_ends(buf: &[u8], state: &mut u32) -> u64 {
    let mut ends = 0;
    for &b in buf {
        *state = (*state << 8) | b as u32;
        ends += (*state == 0x0d0a_0d0a) as u64;
    }
    ends
}

/// The raw baselines: Pings on a blocking socket, answers counted by their
/// ends, no parsing. One at a time (`window` 1), or `window` in flight.
fn raw_pings(port: u16, total: u64, window: u64) -> f64 {
    let mut s = raw_session(port);
    let ping = b"Action: Ping\r\n\r\n";
    let mut buf = vec![0u8; 256 << 10];
    let (mut sent, mut done, mut state) = (0u64, 0u64, 0u32);
    let start = Instant::now();
    while done < total {
        let k = (window - (sent - done)).min(total - sent);
        if k > 0 {
            s.write_all(&ping.repeat(k as usize)).unwrap();
            sent += k;
        }
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "sim closed");
        done += count_ends(&buf[..n], &mut state);
    }
    start.elapsed().as_secs_f64()
}

/// One Ping at a time through the engine (`Client::send`).
fn engine_round_trips(port: u16, total: u64) -> f64 {
    let c = Client::new(options(false));
    c.connect("127.0.0.1", port).unwrap();
    c.login("admin", "admin").unwrap();
    let ping = Message::action("Ping").unwrap();
    let start = Instant::now();
    for _ in 0..total {
        assert!(c.send(&ping).unwrap().is_success());
    }
    start.elapsed().as_secs_f64()
}

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let events = arg("--events", 500_000);
    let pings = arg("--pings", 300_000);
    let sim = sim();
    // Warm up both paths once.
    raw_drain(sim.1, 10_000);
    engine_callback(sim.1, 10_000, false);
    engine_callback(sim.2, 10_000, true);

    let (raw_t, bytes) = raw_drain(sim.1, events);
    let cb_t = engine_callback(sim.1, events, false);
    let pull_t = engine_pull(sim.1, events);
    let raw_ping_t = raw_pings(sim.1, pings, 1000);
    let ping_t = pipelined_pings(sim.1, pings, 1000, false);
    let trips = pings / 10;
    let raw_trip_t = raw_pings(sim.1, trips, 1);
    let trip_t = engine_round_trips(sim.1, trips);
    let http_cb_t = engine_callback(sim.2, events, true);
    let http_pings = pings / 10;
    let http_ping_t = pipelined_pings(sim.2, http_pings, 1000, true);

    let raw_rate = events as f64 / raw_t;
    let cb_rate = events as f64 / cb_t;
    let pull_rate = events as f64 / pull_t;
    println!("ami throughput ({events} events of ~{} bytes, {pings} pings):", bytes / events.max(1));
    println!("  raw read() drain        {:>12.0} events/s  ({:.0} MB/s)", raw_rate, bytes as f64 / raw_t / 1e6);
    println!("  engine -> callback      {:>12.0} events/s  ({:.2} of raw)", cb_rate, cb_rate / raw_rate);
    println!("  engine -> pull queue    {:>12.0} events/s  ({:.2} of raw)", pull_rate, pull_rate / raw_rate);
    println!("  raw pipeline (1000 in flight, counting ends) {:>10.0} actions/s", pings as f64 / raw_ping_t);
    println!("  pipelined Ping (1000 in flight) {:>10.0} actions/s  ({:.2} of raw)", pings as f64 / ping_t, raw_ping_t / ping_t);
    println!("  raw blocking round trips {:>17.0} /s", trips as f64 / raw_trip_t);
    println!("  Client::send one at a time {:>15.0} /s  ({:.2} of raw)", trips as f64 / trip_t, raw_trip_t / trip_t);
    let http_cb = events as f64 / http_cb_t;
    println!("  HTTP events -> callback {:>12.0} events/s  ({:.2} of TCP)", http_cb, http_cb / cb_rate);
    let (tcp_ping, http_ping) = (pings as f64 / ping_t, http_pings as f64 / http_ping_t);
    println!("  HTTP pipelined Ping ({http_pings}, 1000 in flight, 4 connections) {:>8.0} actions/s  ({:.2} of TCP)", http_ping, http_ping / tcp_ping);
}
