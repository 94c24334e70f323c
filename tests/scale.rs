//! Thousands of connections in one process: a few KiB each, a fixed number
//! of threads, every event to every subscribed client. One test in its own
//! binary, so the process's thread count is the library's (plus the
//! harness's two).

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ami::{Client, Engine, Options};
use common::Sim;

const CLIENTS: usize = 3000;
const EVENTS: usize = 10;

/// A field of /proc/self/status (`VmRSS` in kB, `Threads`).
fn status(name: &str) -> usize {
    let text = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = text.lines().find(|l| l.starts_with(&format!("{name}:"))).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn thousands_of_clients_few_threads_little_memory_every_event() {
    let sim = Sim::default();
    let engine = Engine::new().unwrap();
    let options = Options { events: "user".into(), ..Options::default() };
    let connect = || {
        let c = Client::with_engine(&engine, options.clone()).unwrap();
        c.connect("127.0.0.1", sim.port).unwrap();
        c.login("admin", "admin").unwrap();
        c
    };
    let first = connect(); // the engine and its loop are up from here
    let rss_before = status("VmRSS");
    let mut clients: Vec<Client> = (1..CLIENTS).map(|_| connect()).collect();
    let per_conn_kib = (status("VmRSS") - rss_before) as f64 / (CLIENTS - 1) as f64;
    clients.insert(0, first);
    assert!(per_conn_kib <= 16.0, "{per_conn_kib:.1} KiB per idle logged-in connection");

    let counts: Vec<Arc<AtomicUsize>> = (0..CLIENTS).map(|_| Arc::new(AtomicUsize::new(0))).collect();
    for (c, n) in clients.iter().zip(&counts) {
        let n = Arc::clone(n);
        c.subscribe("*", move |e| {
            if e.event_name() == Some("UserEvent") {
                n.fetch_add(1, Ordering::Relaxed);
            }
        })
        .unwrap();
    }
    for i in 0..EVENTS {
        clients[0].action("UserEvent", &[("UserEvent", "Scale"), ("Seq", &i.to_string())]).unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while counts.iter().any(|n| n.load(Ordering::Relaxed) < EVENTS) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let short: Vec<usize> = (0..CLIENTS).filter(|&i| counts[i].load(Ordering::Relaxed) != EVENTS).collect();
    assert!(short.is_empty(), "{} clients did not get exactly {EVENTS} events (first: {:?})", short.len(), short.first());

    // Main + test threads, the engine's loop, the dispatch pool (4).
    let threads = status("Threads");
    assert!(threads <= 10, "{threads} threads for {CLIENTS} clients with callbacks");
    println!("{CLIENTS} clients: {per_conn_kib:.1} KiB per connection, {threads} threads, every client got {EVENTS} events");
}
