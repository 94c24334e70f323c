//! The safe client against a real `ami-sim` process over TCP.

mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::time::{Duration, Instant};

use ami::{Auth, Client, Engine, Error, Message, Options, Overflow, State};
use common::Sim;

fn opts(f: impl FnOnce(&mut Options)) -> Options {
    let mut o = Options::default();
    f(&mut o);
    o
}

#[test]
fn connect_plain_login_ping_logoff() {
    let sim = Sim::start(&["--version", "11.0.0"]);
    let c = Client::new(Options::default());
    assert_eq!(c.state(), State::Disconnected);
    let banner = c.connect("127.0.0.1", sim.port).unwrap();
    assert_eq!(banner, "Asterisk Call Manager/11.0.0");
    assert_eq!(c.banner().as_deref(), Some("Asterisk Call Manager/11.0.0"));
    assert_eq!(c.state(), State::Connected);
    let r = c.login("admin", "admin").unwrap();
    assert_eq!(r.get("Message"), Some("Authentication accepted"));
    assert_eq!(c.state(), State::LoggedIn);
    let pong = c.send(&Message::action("Ping").unwrap()).unwrap();
    assert!(pong.is_success());
    assert_eq!(pong.get("Ping"), Some("Pong"));
    let id = pong.action_id().unwrap();
    assert!(!id.is_empty() && id.len() < 64, "generated ActionID {id:?}");
    c.logoff().unwrap();
    assert_eq!(c.state(), State::Closed);
    let after = c.send(&Message::action("Ping").unwrap());
    assert!(matches!(after, Err(Error::Closed(_))), "{after:?}");
}

#[test]
fn hostname_is_resolved() {
    let sim = Sim::default();
    let c = Client::new(Options::default());
    assert!(c.connect("localhost", sim.port).unwrap().starts_with("Asterisk Call Manager/"));
}

#[test]
fn md5_login() {
    let sim = Sim::start(&["--user", "ops:s3cret"]);
    let c = Client::new(opts(|o| o.auth = Auth::Md5));
    c.connect("127.0.0.1", sim.port).unwrap();
    c.login("ops", "s3cret").unwrap();
    assert_eq!(c.state(), State::LoggedIn);
    let bad = Client::new(opts(|o| o.auth = Auth::Md5));
    bad.connect("127.0.0.1", sim.port).unwrap();
    assert!(matches!(bad.login("ops", "nope"), Err(Error::Auth(_))));
}

#[test]
fn wrong_password_is_an_auth_error() {
    let sim = Sim::default();
    let c = Client::new(Options::default());
    c.connect("127.0.0.1", sim.port).unwrap();
    match c.login("admin", "wrong") {
        Err(Error::Auth(m)) => assert!(m.contains("Authentication failed"), "{m}"),
        other => panic!("expected an auth error, got {other:?}"),
    }
    assert_eq!(Error::Auth(String::new()).status(), 4);
}

#[test]
fn command_output_in_both_forms() {
    for legacy in [false, true] {
        let sim = Sim::start(if legacy { &["--legacy-command"][..] } else { &[][..] });
        let c = sim.client();
        let r = c.action("Command", &[("Command", "core show uptime")]).unwrap();
        assert!(r.is_success(), "{r:?}");
        let lines: Vec<_> = r.get_all("Output").collect();
        assert_eq!(lines.len(), 2, "legacy={legacy}: {r:?}");
        assert!(lines[0].starts_with("System uptime: "));
        assert!(lines[1].starts_with("Last reload: "));
        let unknown = c.action("Command", &[("Command", "no such thing")]).unwrap();
        assert!(unknown.get("Output").unwrap().starts_with("No such command 'no such thing'"));
    }
}

#[test]
fn event_list_completes_at_the_closing_event() {
    let sim = Sim::default();
    let c = sim.client();
    let r = c.action("QueueStatus", &[]).unwrap();
    assert_eq!(r.get("EventList"), Some("start"));
    let names: Vec<_> = r.list().iter().map(|e| e.event_name().unwrap()).collect();
    assert_eq!(names, ["QueueParams", "QueueMember", "QueueStatusComplete"]);
    assert_eq!(r.list().last().unwrap().get("ListItems"), Some("2"));
    assert!(r.list().iter().all(|e| e.action_id() == r.action_id()));
    let db = c.action("DBGet", &[("Family", "sim"), ("Key", "greeting")]).unwrap();
    assert_eq!(db.list()[0].get("Val"), Some("hello"));
}

#[test]
fn ten_thousand_pipelined_actions_complete_exactly_once() {
    let sim = Sim::default();
    let c = sim.client();
    let done = Arc::new((Mutex::new(HashSet::new()), Condvar::new()));
    let calls = Arc::new(AtomicUsize::new(0));
    for i in 0..10_000 {
        let action = Message::action("Ping").unwrap().with("ActionID", &format!("p-{i}")).unwrap();
        let (done, calls) = (Arc::clone(&done), Arc::clone(&calls));
        c.send_async(&action, move |r| {
            let r = r.expect("ping");
            calls.fetch_add(1, Ordering::SeqCst);
            let (set, cv) = &*done;
            set.lock().unwrap().insert(r.action_id().unwrap().to_string());
            cv.notify_all();
        })
        .unwrap();
    }
    let (set, cv) = &*done;
    let guard = cv
        .wait_timeout_while(set.lock().unwrap(), Duration::from_secs(60), |s| s.len() < 10_000)
        .unwrap()
        .0;
    assert_eq!(guard.len(), 10_000);
    drop(guard);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(calls.load(Ordering::SeqCst), 10_000, "a callback ran twice");
}

#[test]
fn the_completion_fd_is_readable_whenever_results_wait() {
    // A program's own loop (asyncio) takes results only when the descriptor
    // says so, topping a window of 100 up as results come: a wake-up lost
    // between its take and a new result would leave it waiting for ever.
    let sim = Sim::default();
    let c = sim.client();
    let fd = c.completion_fd().unwrap();
    let (total, window) = (100_000u64, 100u64);
    let ping = Message::action("Ping").unwrap();
    let (mut sent, mut done) = (0u64, 0u64);
    while done < total {
        while sent < total && sent - done < window {
            c.send_queued(&ping, sent).unwrap();
            sent += 1;
        }
        let mut p = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
        // SAFETY: one valid pollfd for the call.
        let ready = unsafe { libc::poll(&mut p, 1, 5000) };
        assert_eq!(ready, 1, "results wait ({} in flight) but the descriptor is not readable", sent - done);
        for (_, result) in c.next_completions(512) {
            assert!(result.unwrap().is_success());
            done += 1;
        }
    }
}

#[test]
fn ten_thousand_queued_sends_complete_exactly_once_through_the_completion_fd() {
    let sim = Sim::default();
    let c = sim.client();
    let fd = c.completion_fd().unwrap();
    for i in 0..10_000u64 {
        let action = Message::action("Ping").unwrap().with("ActionID", &format!("q-{i}")).unwrap();
        c.send_queued(&action, i).unwrap();
    }
    let mut seen = HashSet::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while seen.len() < 10_000 && std::time::Instant::now() < deadline {
        let mut p = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
        // SAFETY: one valid pollfd for the call.
        unsafe { libc::poll(&mut p, 1, 100) };
        for (tag, result) in c.next_completions(512) {
            let r = result.expect("ping");
            assert_eq!(r.action_id(), Some(format!("q-{tag}").as_str()), "a result under the wrong tag");
            assert!(seen.insert(tag), "tag {tag} completed twice");
        }
    }
    assert_eq!(seen.len(), 10_000);
    assert!(c.next_completions(512).is_empty());
    // Nothing waits: the descriptor is not readable.
    let mut p = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
    // SAFETY: as above.
    assert_eq!(unsafe { libc::poll(&mut p, 1, 0) }, 0);
}

#[test]
fn events_reach_matching_subscriptions_only_in_order() {
    let sim = Sim::default();
    let c = sim.client();
    let (tx, rx) = mpsc::channel();
    let tx2 = tx.clone();
    c.subscribe("userevent", move |e| tx.send(("exact", e.get("Seq").unwrap().to_string())).unwrap()).unwrap();
    c.subscribe("User*", move |e| tx2.send(("prefix", e.get("Seq").unwrap().to_string())).unwrap()).unwrap();
    let hangups = Arc::new(AtomicUsize::new(0));
    let h = Arc::clone(&hangups);
    c.subscribe("Hangup", move |_| {
        h.fetch_add(1, Ordering::SeqCst);
    })
    .unwrap();
    for i in 0..200 {
        c.action("UserEvent", &[("UserEvent", "Test"), ("Seq", &i.to_string())]).unwrap();
    }
    let mut exact = Vec::new();
    let mut prefix = Vec::new();
    while exact.len() < 200 || prefix.len() < 200 {
        let (who, seq) = rx.recv_timeout(Duration::from_secs(10)).expect("event");
        if who == "exact" { exact.push(seq) } else { prefix.push(seq) }
    }
    let expected: Vec<String> = (0..200).map(|i| i.to_string()).collect();
    assert_eq!(exact, expected);
    assert_eq!(prefix, expected);
    assert_eq!(hangups.load(Ordering::SeqCst), 0);
}

#[test]
fn list_events_do_not_reach_subscribers() {
    let sim = Sim::default();
    let c = sim.client();
    let seen = Arc::new(AtomicUsize::new(0));
    let s = Arc::clone(&seen);
    c.subscribe("*", move |e| {
        if e.event_name().is_some_and(|n| n.starts_with("Queue")) {
            s.fetch_add(1, Ordering::SeqCst);
        }
    })
    .unwrap();
    c.action("QueueStatus", &[]).unwrap();
    c.action("UserEvent", &[("UserEvent", "Fence")]).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(seen.load(Ordering::SeqCst), 0);
}

#[test]
fn originate_waits_for_originate_response() {
    let sim = Sim::default();
    let c = sim.client();
    let mut action = Message::action("Originate").unwrap();
    for (n, v) in [("Channel", "Local/200@default"), ("Application", "Wait"), ("Data", "1"), ("Async", "true")] {
        action.add(n, v).unwrap();
    }
    action.wait_event("OriginateResponse").unwrap();
    let r = c.send(&action).unwrap();
    assert_eq!(r.event_name(), Some("OriginateResponse"));
    assert_eq!(r.get("Response"), Some("Success"));
    assert!(r.is_success());
    let mut fail = Message::action("Originate").unwrap();
    for (n, v) in [("Channel", "Local/999@nosuchcontext"), ("Application", "Wait"), ("Async", "true")] {
        fail.add(n, v).unwrap();
    }
    fail.wait_event("OriginateResponse").unwrap();
    let r = c.send(&fail).unwrap();
    assert_eq!(r.get("Response"), Some("Failure"));
    assert!(!r.is_success());
}

#[test]
fn not_ami_peers() {
    for fault in ["wrong-banner", "garbage"] {
        let sim = Sim::start(&["--fault", fault]);
        let c = Client::new(Options::default());
        match c.connect("127.0.0.1", sim.port) {
            Err(e @ Error::NotAmi(_)) => assert_eq!(e.status(), 3),
            other => panic!("{fault}: expected NotAmi, got {other:?}"),
        }
        assert_eq!(c.state(), State::Disconnected);
    }
}

#[test]
fn refused_connection_is_a_connect_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let c = Client::new(Options::default());
    assert!(matches!(c.connect("127.0.0.1", port), Err(Error::Connect(_))));
    assert!(matches!(c.connect("no-such-host.invalid", port), Err(Error::Connect(_))));
}

#[test]
fn stalled_server_times_out() {
    let sim = Sim::start(&["--fault", "stall"]);
    let c = Client::new(opts(|o| o.connect_timeout = Duration::from_millis(300)));
    assert!(matches!(c.connect("127.0.0.1", sim.port), Err(Error::Timeout(_))));

    let sim = Sim::default();
    let c = sim.client();
    c.action("SimFault", &[("Mode", "stall")]).unwrap();
    let r = c.send_timeout(&Message::action("Ping").unwrap(), Some(Duration::from_millis(200)));
    assert!(matches!(r, Err(Error::Timeout(_))), "{r:?}");
}

/// A connection's actions share one deadline timer: on a stalled server,
/// actions sent with timeouts in no order of deadline, and 300 at once with
/// the same one, each time out once, not before their deadline and soon
/// after it; an action answered before the stall never does.
#[test]
fn every_pending_action_times_out_once_at_its_own_deadline() {
    let sim = Sim::default();
    let c = sim.client();
    let ping = Message::action("Ping").unwrap();
    c.send_timeout(&ping, Some(Duration::from_millis(100))).unwrap();
    c.action("SimFault", &[("Mode", "stall")]).unwrap();
    let mut timeouts: Vec<u64> = vec![1000, 400, 150, 700, 150, 50, 300, 250];
    timeouts.extend(std::iter::repeat_n(600, 300));
    let start = Instant::now();
    let (tx, rx) = mpsc::channel();
    for (i, &ms) in timeouts.iter().enumerate() {
        let tx = tx.clone();
        c.send_async_timeout(&ping, Some(Duration::from_millis(ms)), move |r| tx.send((i, Instant::now(), r)).unwrap())
            .unwrap();
    }
    let mut seen = HashSet::new();
    for _ in 0..timeouts.len() {
        let (i, at, r) = rx.recv_timeout(Duration::from_secs(10)).expect("every action ends");
        assert!(matches!(r, Err(Error::Timeout(_))), "action {i}: {r:?}");
        let (after, due) = (at - start, Duration::from_millis(timeouts[i]));
        assert!(after >= due, "action {i} timed out after {after:?}, before its {due:?}");
        assert!(after < due + Duration::from_millis(500), "action {i} timed out after {after:?}, for {due:?}");
        assert!(seen.insert(i), "action {i} completed twice");
    }
    assert!(rx.recv_timeout(Duration::from_millis(300)).is_err(), "a completion more than one per action");
}

#[test]
fn a_timeout_too_long_for_the_clock_means_no_deadline() {
    let sim = Sim::default();
    let c = sim.client();
    let ping = Message::action("Ping").unwrap();
    let r = c.send_timeout(&ping, Some(Duration::MAX)).unwrap();
    assert_eq!(r.get("Ping"), Some("Pong"));
    let (tx, rx) = mpsc::channel();
    c.send_async_timeout(&ping, Some(Duration::MAX), move |r| tx.send(r).unwrap()).unwrap();
    assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap().unwrap().get("Ping"), Some("Pong"));
}

#[test]
fn close_mid_message_fails_every_pending_action() {
    let sim = Sim::default();
    let c = sim.client();
    c.action("SimFault", &[("Mode", "close-mid-message")]).unwrap();
    let (tx, rx) = mpsc::channel();
    for _ in 0..20 {
        let tx = tx.clone();
        c.send_async(&Message::action("Ping").unwrap(), move |r| tx.send(r).unwrap()).unwrap();
    }
    // Actions in flight when the server closed end with Disconnected; any the
    // loop received after it had seen the close end with Closed (not connected).
    let mut disconnected = 0;
    for _ in 0..20 {
        let r = rx.recv_timeout(Duration::from_secs(5)).expect("every action completes");
        match r {
            Err(Error::Disconnected(_)) => disconnected += 1,
            Err(Error::Closed(_)) => {}
            other => panic!("{other:?}"),
        }
    }
    assert!(disconnected >= 1, "the action whose answer was cut ends Disconnected");
    assert!(rx.recv_timeout(Duration::from_millis(200)).is_err(), "completed more than once");
    assert_eq!(c.state(), State::Disconnected);
}

#[test]
fn huge_message_is_a_protocol_error() {
    let sim = Sim::default();
    let c = sim.client();
    c.action("SimFault", &[("Mode", "huge")]).unwrap();
    let r = c.send(&Message::action("Ping").unwrap());
    assert!(matches!(r, Err(Error::Protocol(_))), "{r:?}");
}

#[test]
fn slow_server_still_works() {
    let sim = Sim::start(&["--fault", "slow"]);
    let c = sim.client();
    assert_eq!(c.send(&Message::action("Ping").unwrap()).unwrap().get("Ping"), Some("Pong"));
}

#[test]
fn crlf_in_headers_is_refused() {
    let mut m = Message::action("Ping").unwrap();
    assert!(m.add("ActionID", "x\r\nAction: Logoff").is_err());
    assert!(Message::action("Ping\nAction: Logoff").is_err());
    let sim = Sim::default();
    let c = sim.client();
    let r = c.send(&Message::new().with("ActionID", "1").unwrap());
    assert!(matches!(r, Err(Error::InvalidArgument(_))), "an action needs an Action header: {r:?}");
    let blank = c.send(&Message::new().with("Action", " \t").unwrap());
    assert!(matches!(blank, Err(Error::InvalidArgument(_))), "a blank Action: {blank:?}");
    // Found where it is not the first header too, in any case.
    let later = Message::new().with("ActionID", "late-1").unwrap().with("ACTION", "Ping").unwrap();
    let answer = c.send(&later).unwrap();
    assert_eq!((answer.get("Ping"), answer.action_id()), (Some("Pong"), Some("late-1")));
}

#[test]
fn blocking_call_inside_callback_would_deadlock() {
    let sim = Sim::default();
    let c = Arc::new(sim.client());
    let (tx, rx) = mpsc::channel();
    let inner = Arc::clone(&c);
    c.subscribe("UserEvent", move |_| {
        let blocking = inner.send(&Message::action("Ping").unwrap());
        let tx2 = tx.clone();
        let async_ok = inner.send_async(&Message::action("Ping").unwrap(), move |r| {
            tx2.send(("async", r.is_ok())).unwrap();
        });
        tx.send(("blocking", matches!(blocking, Err(Error::WouldDeadlock(_))))).unwrap();
        tx.send(("submitted", async_ok.is_ok())).unwrap();
    })
    .unwrap();
    c.action("UserEvent", &[("UserEvent", "Go")]).unwrap();
    let mut got: Vec<_> = (0..3).map(|_| rx.recv_timeout(Duration::from_secs(5)).unwrap()).collect();
    got.sort();
    assert_eq!(got, [("async", true), ("blocking", true), ("submitted", true)]);
}

#[test]
fn close_with_a_thousand_actions_in_flight() {
    let sim = Sim::default();
    let c = sim.client();
    c.action("SimFault", &[("Mode", "stall")]).unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let closed = Arc::new(AtomicUsize::new(0));
    for _ in 0..1000 {
        let (calls, closed) = (Arc::clone(&calls), Arc::clone(&closed));
        c.send_async(&Message::action("Ping").unwrap(), move |r| {
            calls.fetch_add(1, Ordering::SeqCst);
            if matches!(r, Err(Error::Closed(_))) {
                closed.fetch_add(1, Ordering::SeqCst);
            }
        })
        .unwrap();
    }
    c.close();
    assert_eq!(calls.load(Ordering::SeqCst), 1000, "close returns after every callback ran");
    assert_eq!(closed.load(Ordering::SeqCst), 1000);
    assert_eq!(c.state(), State::Closed);
    c.close();
    assert!(matches!(c.send(&Message::action("Ping").unwrap()), Err(Error::Closed(_))));
}

#[test]
fn pull_queue_and_event_fd() {
    let sim = Sim::default();
    let c = sim.client_with(opts(|o| o.event_queue = true));
    let fd = c.event_fd().expect("event fd");
    // Drain what login produced.
    while c.next_event(Some(Duration::from_millis(100))).unwrap().is_some() {}
    let mut pfd = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
    // SAFETY: one valid pollfd on the stack, count 1.
    assert_eq!(unsafe { libc::poll(&mut pfd, 1, 0) }, 0, "not readable while empty");
    c.action("UserEvent", &[("UserEvent", "Pulled")]).unwrap();
    // SAFETY: as above.
    assert_eq!(unsafe { libc::poll(&mut pfd, 1, 5000) }, 1, "readable once an event waits");
    let e = c.next_event(Some(Duration::from_secs(5))).unwrap().unwrap();
    assert_eq!(e.get("UserEvent"), Some("Pulled"));
    assert!(c.next_event(Some(Duration::from_millis(50))).unwrap().is_none());
}

fn flood(c: &Client, count: u32) {
    let r = c.action("SimFlood", &[("Count", &count.to_string()), ("Size", "500")]).unwrap();
    assert!(r.is_success());
}

#[test]
fn drop_oldest_counts_what_it_drops() {
    let sim = Sim::default();
    let c = sim.client_with(opts(|o| {
        o.event_queue = true;
        o.event_queue_limit = 10;
        o.events = "off".into();
    }));
    flood(&c, 5000);
    // Wait for the flood's end to be queued (it is the newest event).
    let mut last = None;
    for _ in 0..100 {
        std::thread::sleep(Duration::from_millis(50));
        if c.dropped_events() >= 4990 {
            break;
        }
    }
    while let Some(e) = c.next_event(Some(Duration::from_millis(200))).unwrap() {
        last = Some(e);
    }
    assert!(c.dropped_events() >= 4990 - 10, "dropped {}", c.dropped_events());
    assert_eq!(last.unwrap().event_name(), Some("SimFloodComplete"));
}

#[test]
fn block_policy_loses_nothing() {
    let sim = Sim::default();
    let c = sim.client_with(opts(|o| {
        o.event_queue = true;
        o.event_queue_limit = 50;
        o.overflow = Overflow::Block;
        o.events = "off".into();
    }));
    flood(&c, 3000);
    let mut next = 1;
    loop {
        let e = c.next_event(Some(Duration::from_secs(10))).unwrap().expect("no stall");
        if e.event_name() == Some("SimFloodComplete") {
            break;
        }
        assert_eq!(e.get("Seq").unwrap(), next.to_string());
        next += 1;
        if next % 500 == 0 {
            std::thread::sleep(Duration::from_millis(20)); // a slow consumer
        }
    }
    assert_eq!(next, 3001);
    assert_eq!(c.dropped_events(), 0);
}

#[test]
fn own_engine_many_clients_and_clean_drop() {
    let sim = Sim::default();
    let engine = Engine::new().unwrap();
    let clients: Vec<Client> = (0..50)
        .map(|_| {
            let c = Client::with_engine(&engine, Options::default()).unwrap();
            c.connect("127.0.0.1", sim.port).unwrap();
            c.login("admin", "admin").unwrap();
            c
        })
        .collect();
    for c in &clients {
        assert!(c.send(&Message::action("Ping").unwrap()).unwrap().is_success());
    }
    let stuck = clients[0].send_timeout(&Message::action("Ping").unwrap(), Some(Duration::from_secs(1)));
    assert!(stuck.is_ok());
    drop(engine); // joins the loop; the clients see it as closed
    let r = clients[1].send(&Message::action("Ping").unwrap());
    assert!(matches!(r, Err(Error::Closed(_)) | Err(Error::Disconnected(_))), "{r:?}");
    drop(clients);
}

#[test]
fn state_callback_reports_changes() {
    let sim = Sim::default();
    let c = Client::new(Options::default());
    let (tx, rx) = mpsc::channel();
    c.on_state(Some(Box::new(move |s, _| tx.send(s).unwrap()))).unwrap();
    c.connect("127.0.0.1", sim.port).unwrap();
    c.login("admin", "admin").unwrap();
    c.action("SimFault", &[("Mode", "drop-after 1")]).unwrap_or_else(|_| Message::new());
    let _ = c.send(&Message::action("Ping").unwrap());
    let mut seen = Vec::new();
    while let Ok(s) = rx.recv_timeout(Duration::from_secs(2)) {
        seen.push(s);
        if s == State::Disconnected {
            break;
        }
    }
    assert_eq!(seen, [State::Connecting, State::Connected, State::LoggedIn, State::Disconnected]);
}

#[test]
fn two_thousand_connections_on_one_loop_and_one_simulator() {
    let sim = Sim::default();
    let engine = Engine::new().unwrap();
    let options = Options { events: "off".into(), ..Options::default() };
    let clients: Vec<Client> = (0..2000)
        .map(|_| {
            let c = Client::with_engine(&engine, options.clone()).unwrap();
            c.connect("127.0.0.1", sim.port).unwrap();
            c.login("admin", "admin").unwrap();
            c
        })
        .collect();
    let (tx, rx) = mpsc::channel();
    for c in &clients {
        let tx = tx.clone();
        c.send_async(&Message::action("Ping").unwrap(), move |r| tx.send(r.is_ok()).unwrap()).unwrap();
    }
    for _ in 0..2000 {
        assert!(rx.recv_timeout(Duration::from_secs(30)).unwrap());
    }
}

#[test]
fn a_slow_callback_holds_up_its_own_client_only() {
    let sim = Sim::default();
    let options = Options { events: "user".into(), ..Options::default() };
    let connect = || {
        let c = Client::new(options.clone());
        c.connect("127.0.0.1", sim.port).unwrap();
        c.login("admin", "admin").unwrap();
        c
    };
    let (slow, quick) = (connect(), connect());
    let slow_seen = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&slow_seen);
    slow.subscribe("UserEvent", move |e| {
        let seq: u32 = e.get("Seq").unwrap().parse().unwrap();
        if seq == 0 {
            std::thread::sleep(Duration::from_secs(3)); // holds one pool thread
        }
        seen.lock().unwrap().push(seq);
    })
    .unwrap();
    let (tx, rx) = mpsc::channel();
    quick.subscribe("UserEvent", move |e| tx.send(e.get("Seq").unwrap().to_string()).unwrap()).unwrap();
    let started = std::time::Instant::now();
    for seq in 0..5 {
        quick.action("UserEvent", &[("UserEvent", "Slow"), ("Seq", &seq.to_string())]).unwrap();
    }
    for seq in 0..5 {
        assert_eq!(rx.recv_timeout(Duration::from_secs(2)).unwrap(), seq.to_string());
    }
    // The other client's events came while the slow callback still slept...
    assert!(started.elapsed() < Duration::from_secs(2), "quick client waited {:?}", started.elapsed());
    assert!(slow_seen.lock().unwrap().is_empty());
    // ...and the slow client still gets all of its own, in order.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while slow_seen.lock().unwrap().len() < 5 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(*slow_seen.lock().unwrap(), vec![0, 1, 2, 3, 4]);
}

#[test]
fn batch_subscriptions_get_every_matching_event_in_order() {
    let sim = Sim::default();
    let c = sim.client();
    let got = Arc::new(Mutex::new(Vec::new()));
    let calls = Arc::new(AtomicUsize::new(0));
    let (g, n) = (Arc::clone(&got), Arc::clone(&calls));
    let sub = c
        .subscribe_batch("UserEvent", move |events| {
            n.fetch_add(1, Ordering::SeqCst);
            let mut g = g.lock().unwrap();
            for e in events {
                assert_eq!(e.event_name(), Some("UserEvent"));
                g.push(e.get("Seq").unwrap_or("").to_string());
            }
        })
        .unwrap();
    for i in 0..300 {
        c.send_async(&Message::action("UserEvent").unwrap().with("UserEvent", "B").unwrap().with("Seq", &i.to_string()).unwrap(), |_| {})
            .unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while got.lock().unwrap().len() < 300 {
        assert!(Instant::now() < deadline, "{} of 300", got.lock().unwrap().len());
        std::thread::sleep(Duration::from_millis(5));
    }
    let want: Vec<String> = (0..300).map(|i| i.to_string()).collect();
    assert_eq!(*got.lock().unwrap(), want);
    assert!(calls.load(Ordering::SeqCst) >= 1);
    assert!(c.unsubscribe(sub));
    c.action("UserEvent", &[("UserEvent", "After")]).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(got.lock().unwrap().len(), 300, "nothing after unsubscribe");
}
