//! A blocking caller writes its own action to the socket when the loop has
//! nothing to write, and reads its own answer while the loop holds no part
//! of a message (src/engine/direct.rs). What that must not change: bytes of
//! two actions never interleave, an action the socket could not take at
//! once is finished by the loop before anything else, answers reach the
//! right caller exactly once, whatever else a caller reads reaches the loop
//! in order (events, other answers, a message in pieces), a lost link and a
//! silent server end the wait on time.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ami::{Client, Error, Message, Options};

mod common;

/// Reads one action (headers until a blank line) as (name, value) pairs.
fn read_action(r: &mut BufReader<TcpStream>) -> Option<Vec<(String, String)>> {
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            return Some(headers);
        }
        let (name, value) = line.split_once(": ").expect("a header line");
        headers.push((name.to_string(), value.to_string()));
    }
}

fn get<'a>(headers: &'a [(String, String)], name: &str) -> &'a str {
    headers.iter().find(|(n, _)| n == name).map_or("", |(_, v)| v.as_str())
}

/// A server that greets, reads nothing for `deaf`, then answers every
/// action with its ActionID and the length of its `Data` header, and
/// reports the actions in the order they came.
fn slow_reader(deaf: Duration) -> (u16, std::thread::JoinHandle<Vec<Vec<(String, String)>>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let t = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        s.write_all(b"Asterisk Call Manager/5.0.2\r\n").unwrap();
        std::thread::sleep(deaf);
        let mut r = BufReader::new(s.try_clone().unwrap());
        let mut seen = Vec::new();
        while let Some(action) = read_action(&mut r) {
            let answer = format!(
                "Response: Success\r\nActionID: {}\r\nLength: {}\r\n\r\n",
                get(&action, "ActionID"),
                get(&action, "Data").len()
            );
            s.write_all(answer.as_bytes()).unwrap();
            let last = get(&action, "Action") == "Logoff";
            seen.push(action);
            if last {
                break;
            }
        }
        seen
    });
    (port, t)
}

#[test]
fn an_action_larger_than_the_socket_takes_goes_whole_and_first() {
    let (port, server) = slow_reader(Duration::from_millis(700));
    let c = Arc::new(Client::new(Options::default()));
    c.connect("127.0.0.1", port).unwrap();
    // 16 MiB: more than loopback's socket buffers, so the caller's own
    // write stops part way and the loop must finish it.
    let big = "x".repeat(16 << 20);
    let sender = {
        let c = Arc::clone(&c);
        let action = Message::action("Big").unwrap().with("Data", &big).unwrap();
        std::thread::spawn(move || c.send(&action))
    };
    std::thread::sleep(Duration::from_millis(200)); // the big one is part written by now
    let answered = Arc::new(AtomicUsize::new(0));
    for i in 0..3 {
        let done = Arc::clone(&answered);
        let ping = Message::action("Ping").unwrap().with("Data", &"p".repeat(i + 1)).unwrap();
        c.send_async(&ping, move |r| {
            assert_eq!(r.unwrap().get("Length"), Some(&*(i + 1).to_string()));
            done.fetch_add(1, Ordering::SeqCst);
        })
        .unwrap();
    }
    let small = c.send(&Message::action("Small").unwrap().with("Data", "abc").unwrap()).unwrap();
    assert_eq!(small.get("Length"), Some("3"));
    let big_answer = sender.join().unwrap().unwrap();
    assert_eq!(big_answer.get("Length"), Some(&*(16usize << 20).to_string()));
    let deadline = Instant::now() + Duration::from_secs(10);
    while answered.load(Ordering::SeqCst) < 3 {
        assert!(Instant::now() < deadline, "the pings were not all answered");
        std::thread::sleep(Duration::from_millis(5));
    }
    c.send(&Message::action("Logoff").unwrap()).unwrap();
    let seen = server.join().unwrap();
    let names: Vec<&str> = seen.iter().map(|a| get(a, "Action")).collect();
    assert_eq!(names, ["Big", "Ping", "Ping", "Ping", "Small", "Logoff"], "whole actions, in the order sent");
    assert_eq!(get(&seen[0], "Data").len(), 16 << 20);
    let ids: std::collections::HashSet<&str> = seen.iter().map(|a| get(a, "ActionID")).collect();
    assert_eq!(ids.len(), seen.len(), "one ActionID each");
}

#[test]
fn many_threads_blocking_and_async_get_their_own_answers() {
    let sim = common::Sim::default();
    let c = Arc::new(sim.client());
    let async_done = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let (c, async_done) = (Arc::clone(&c), Arc::clone(&async_done));
            std::thread::spawn(move || {
                for i in 0..500 {
                    let id = format!("t{t}-{i}");
                    if i % 3 == 0 {
                        let done = Arc::clone(&async_done);
                        let want = id.clone();
                        let ping = Message::action("Ping").unwrap().with("ActionID", &id).unwrap();
                        c.send_async(&ping, move |r| {
                            assert_eq!(r.unwrap().action_id(), Some(&*want));
                            done.fetch_add(1, Ordering::SeqCst);
                        })
                        .unwrap();
                    } else {
                        // Our own ActionID: the caller may write it itself.
                        let r = c.send(&Message::action("Ping").unwrap()).unwrap();
                        assert_eq!(r.get("Ping"), Some("Pong"));
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while async_done.load(Ordering::SeqCst) < 4 * 167 {
        assert!(Instant::now() < deadline, "{} async answers", async_done.load(Ordering::SeqCst));
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(async_done.load(Ordering::SeqCst), 4 * 167, "each exactly once");
}

#[test]
fn a_silent_server_times_the_wait_out_on_time() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let _server = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        s.write_all(b"Asterisk Call Manager/5.0.2\r\n").unwrap();
        let mut sink = Vec::new();
        let _ = std::io::Read::read_to_end(&mut s, &mut sink); // reads, never answers
    });
    let mut o = Options::default();
    o.action_timeout = Duration::from_millis(300);
    let c = Client::new(o);
    c.connect("127.0.0.1", port).unwrap();
    for _ in 0..3 {
        let t = Instant::now();
        let e = c.send(&Message::action("Ping").unwrap()).unwrap_err();
        assert!(matches!(e, Error::Timeout(_)), "{e:?}");
        let took = t.elapsed();
        assert!(took >= Duration::from_millis(300) && took < Duration::from_millis(1500), "{took:?}");
    }
}

#[test]
fn a_link_lost_before_the_answer_ends_the_wait() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let _server = std::thread::spawn(move || {
        let (s, _) = l.accept().unwrap();
        (&s).write_all(b"Asterisk Call Manager/5.0.2\r\n").unwrap();
        let mut r = BufReader::new(s.try_clone().unwrap());
        read_action(&mut r); // the action arrived: hang up without an answer
        drop(s);
    });
    let mut o = Options::default();
    o.action_timeout = Duration::from_secs(30);
    let c = Client::new(o);
    c.connect("127.0.0.1", port).unwrap();
    let t = Instant::now();
    let e = c.send(&Message::action("Ping").unwrap()).unwrap_err();
    assert!(matches!(e, Error::Disconnected(_)), "{e:?}");
    assert!(t.elapsed() < Duration::from_secs(5));
}

/// A server that greets, then answers each action by writing what
/// `answer(n, ActionID)` gives, piece by piece with `gap` between pieces.
fn scripted(
    gap: Duration,
    answer: impl Fn(usize, &str) -> Vec<String> + Send + 'static,
) -> (u16, std::thread::JoinHandle<()>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let t = std::thread::spawn(move || {
        let (s, _) = l.accept().unwrap();
        s.set_nodelay(true).unwrap();
        (&s).write_all(b"Asterisk Call Manager/5.0.2\r\n").unwrap();
        let mut r = BufReader::new(s.try_clone().unwrap());
        let mut n = 0;
        while let Some(action) = read_action(&mut r) {
            for (i, piece) in answer(n, get(&action, "ActionID")).into_iter().enumerate() {
                if i > 0 {
                    std::thread::sleep(gap);
                }
                if (&s).write_all(piece.as_bytes()).is_err() {
                    return;
                }
            }
            n += 1;
        }
    });
    (port, t)
}

fn collect_events(c: &Client) -> Arc<std::sync::Mutex<Vec<(String, String)>>> {
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let into = Arc::clone(&seen);
    c.subscribe("*", move |e| {
        let name = e.event_name().unwrap_or("").to_string();
        into.lock().unwrap().push((name, e.get("N").unwrap_or("").to_string()));
    })
    .unwrap();
    seen
}

fn wait_for(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn events_around_an_answer_reach_the_loop_in_order() {
    // Event, answer and event in one write: a caller reading its own answer
    // reads all three and must pass the events on, before anything later.
    let (port, _server) = scripted(Duration::ZERO, |n, id| {
        vec![format!(
            "Event: Before\r\nN: {n}\r\n\r\nResponse: Success\r\nActionID: {id}\r\nPing: Pong\r\n\r\nEvent: After\r\nN: {n}\r\n\r\n"
        )]
    });
    let c = Client::new(Options::default());
    c.connect("127.0.0.1", port).unwrap();
    let seen = collect_events(&c);
    for _ in 0..200 {
        let r = c.send(&Message::action("Ping").unwrap()).unwrap();
        assert_eq!(r.get("Ping"), Some("Pong"));
    }
    wait_for("400 events", || seen.lock().unwrap().len() >= 400);
    std::thread::sleep(Duration::from_millis(20));
    let seen = seen.lock().unwrap();
    let want: Vec<(String, String)> =
        (0..200).flat_map(|n| [("Before".to_string(), n.to_string()), ("After".to_string(), n.to_string())]).collect();
    assert_eq!(*seen, want, "every event once, in the order sent");
}

#[test]
fn an_answer_in_pieces_arrives_whole() {
    // Pieces closer than the caller's spin and further apart than it: the
    // caller finishes the message, or hands the part it has to the loop.
    for gap in [Duration::from_micros(10), Duration::from_millis(3)] {
        let (port, _server) = scripted(gap, |n, id| {
            let whole = format!("Response: Success\r\nActionID: {id}\r\nPing: Pong\r\nN: {n}\r\n\r\n");
            let cut = 7 + n % 30;
            vec![whole[..cut].to_string(), whole[cut..].to_string()]
        });
        let c = Client::new(Options::default());
        c.connect("127.0.0.1", port).unwrap();
        for n in 0..40 {
            let r = c.send(&Message::action("Ping").unwrap()).unwrap();
            assert_eq!((r.get("Ping"), r.get("N")), (Some("Pong"), Some(&*n.to_string())), "gap {gap:?}");
        }
    }
}

#[test]
fn another_answer_read_by_a_blocking_caller_reaches_its_owner() {
    // The server holds back the answer to an async action and sends it with
    // the next blocking action's answer, in one write.
    let (port, _server) = scripted(Duration::ZERO, |n, id| match n % 2 {
        0 => vec![],
        _ => vec![format!(
            "Response: Success\r\nActionID: async-{}\r\n\r\nResponse: Success\r\nActionID: {id}\r\nPing: Pong\r\n\r\n",
            n / 2
        )],
    });
    let c = Client::new(Options::default());
    c.connect("127.0.0.1", port).unwrap();
    let answered = Arc::new(AtomicUsize::new(0));
    for k in 0..50 {
        let id = format!("async-{k}");
        let (done, want) = (Arc::clone(&answered), id.clone());
        let ping = Message::action("Ping").unwrap().with("ActionID", &id).unwrap();
        c.send_async(&ping, move |r| {
            assert_eq!(r.unwrap().action_id(), Some(&*want));
            done.fetch_add(1, Ordering::SeqCst);
        })
        .unwrap();
        std::thread::sleep(Duration::from_millis(2)); // on the wire: the caller may claim the read side again
        let r = c.send(&Message::action("Ping").unwrap()).unwrap();
        assert_eq!(r.get("Ping"), Some("Pong"));
        wait_for("the async answer", || answered.load(Ordering::SeqCst) == k + 1);
    }
}

#[test]
fn a_flood_and_blocking_sends_together_lose_nothing() {
    let sim = common::Sim::default();
    let c = Arc::new(sim.client());
    let seqs = Arc::new(std::sync::Mutex::new(Vec::new()));
    let into = Arc::clone(&seqs);
    c.subscribe("SimFlood", move |e| into.lock().unwrap().push(e.get("Seq").unwrap_or("").parse::<u64>().unwrap()))
        .unwrap();
    let count = 50_000;
    let flood = Message::action("SimFlood").unwrap().with("Count", &count.to_string()).unwrap();
    c.send_async(&flood, |r| assert!(r.unwrap().is_success())).unwrap();
    let pingers: Vec<_> = (0..2)
        .map(|_| {
            let c = Arc::clone(&c);
            std::thread::spawn(move || {
                for _ in 0..1000 {
                    assert_eq!(c.send(&Message::action("Ping").unwrap()).unwrap().get("Ping"), Some("Pong"));
                }
            })
        })
        .collect();
    for p in pingers {
        p.join().unwrap();
    }
    wait_for("the flood", || seqs.lock().unwrap().len() >= count);
    std::thread::sleep(Duration::from_millis(20));
    let seqs = seqs.lock().unwrap();
    assert_eq!(seqs.len(), count, "every event once");
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "in order");
}

#[test]
fn a_blocking_send_does_not_overtake_a_queued_one() {
    // An async action goes through the loop's queue; the blocking one sent
    // right after it by the same thread must not be written before it.
    let (port, server) = slow_reader(Duration::ZERO);
    let c = Client::new(Options::default());
    c.connect("127.0.0.1", port).unwrap();
    for k in 0..200 {
        let first = Message::action("First").unwrap().with("Data", &k.to_string()).unwrap();
        c.send_async(&first, |r| assert!(r.unwrap().is_success())).unwrap();
        c.send(&Message::action("Second").unwrap()).unwrap();
    }
    c.send(&Message::action("Logoff").unwrap()).unwrap();
    let seen = server.join().unwrap();
    let names: Vec<&str> = seen.iter().map(|a| get(a, "Action")).collect();
    let want: Vec<&str> = (0..200).flat_map(|_| ["First", "Second"]).chain(["Logoff"]).collect();
    assert_eq!(names, want, "in the order sent");
}
