//! Reconnect and keepalive against real ami-sim processes that are killed
//! and started again on the same port.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use ami::{Client, Error, Message, Options, State};
use common::Sim;

fn wait_for_state(c: &Client, want: State, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if c.state() == want {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    false
}

#[test]
fn keepalive_detects_a_stalled_server_within_twice_the_period() {
    let sim = Sim::default();
    let c = sim.client_with(Options { keepalive: Duration::from_millis(400), ..Options::default() });
    let (tx, rx) = mpsc::channel();
    c.on_state(Some(Box::new(move |s, e| {
        if s == State::Disconnected {
            let _ = tx.send((Instant::now(), e.cloned()));
        }
    })))
    .unwrap();
    // An idle but healthy link stays up: pings get answers.
    std::thread::sleep(Duration::from_millis(1000));
    assert_eq!(c.state(), State::LoggedIn);
    c.action("SimFault", &[("Mode", "stall")]).unwrap();
    let stalled_at = Instant::now();
    let (lost_at, error) = rx.recv_timeout(Duration::from_secs(5)).expect("the stall is detected");
    let took = lost_at - stalled_at;
    assert!(took < Duration::from_millis(800), "detected after {took:?}");
    assert!(matches!(error, Some(Error::Disconnected(m)) if m.contains("keepalive")));
}

#[test]
fn comes_back_twenty_times_and_every_action_ends_once() {
    let mut sim = Sim::default();
    let port = sim.port;
    let listen = format!("127.0.0.1:{port}");
    let c = Arc::new(sim.client_with(Options {
        reconnect: true,
        reconnect_min: Duration::from_millis(20),
        reconnect_max: Duration::from_millis(200),
        action_timeout: Duration::from_secs(5),
        ..Options::default()
    }));
    let events = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&events);
    c.subscribe("UserEvent", move |_| {
        seen.fetch_add(1, Ordering::SeqCst);
    })
    .unwrap();
    let states = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&states);
    c.on_state(Some(Box::new(move |s, _| log.lock().unwrap().push(s)))).unwrap();

    // Every action's completions, by ActionID.
    let ended: Arc<Mutex<HashMap<String, Vec<Result<(), Error>>>>> = Arc::default();
    let mut sent = 0;
    let mut send = |c: &Client| {
        sent += 1;
        let id = format!("r-{sent}");
        let ended = Arc::clone(&ended);
        let key = id.clone();
        let action = Message::action("Ping").unwrap().with("ActionID", &id).unwrap();
        c.send_async(&action, move |r| ended.lock().unwrap().entry(key).or_default().push(r.map(drop))).unwrap();
    };

    for round in 0..20 {
        for _ in 0..5 {
            send(&c); // in flight when the server dies
        }
        sim.kill();
        for _ in 0..5 {
            send(&c); // sent while the link is down: they wait for it
        }
        sim = Sim::start(&["--listen", &listen]);
        assert!(wait_for_state(&c, State::LoggedIn, Duration::from_secs(10)), "round {round}: not back");
        let before = events.load(Ordering::SeqCst);
        c.action("UserEvent", &[("UserEvent", "AfterReconnect")]).unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while events.load(Ordering::SeqCst) == before && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(events.load(Ordering::SeqCst) > before, "round {round}: events do not flow again");
    }

    let deadline = Instant::now() + Duration::from_secs(10);
    while ended.lock().unwrap().len() < sent && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let ended = ended.lock().unwrap();
    assert_eq!(ended.len(), sent, "every action ended");
    for (id, results) in ended.iter() {
        assert_eq!(results.len(), 1, "{id} ended {} times", results.len());
        assert!(
            matches!(&results[0], Ok(()) | Err(Error::Disconnected(_))),
            "{id}: {:?}",
            results[0]
        );
    }
    let ok = ended.values().filter(|r| r[0].is_ok()).count();
    assert!(ok >= 20 * 5, "the actions sent while down were answered after the reconnect: {ok}");
    let states = states.lock().unwrap();
    assert!(states.contains(&State::Reconnecting) && states.contains(&State::LoggedIn), "{states:?}");
}

#[test]
fn offline_actions_can_fail_fast_and_logoff_stops_reconnecting() {
    let mut sim = Sim::default();
    let c = sim.client_with(Options {
        reconnect: true,
        reconnect_min: Duration::from_millis(20),
        offline_wait: false,
        ..Options::default()
    });
    sim.kill();
    assert!(wait_for_state(&c, State::Reconnecting, Duration::from_secs(5)));
    let t = Instant::now();
    let r = c.send(&Message::action("Ping").unwrap());
    assert!(matches!(r, Err(Error::Closed(_))), "{r:?}");
    assert!(t.elapsed() < Duration::from_secs(1));
    let sim = Sim::start(&["--listen", &format!("127.0.0.1:{}", sim.port)]);
    assert!(wait_for_state(&c, State::LoggedIn, Duration::from_secs(10)));
    c.logoff().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(c.state(), State::Closed, "no reconnect after a logoff");
    drop(sim);
}

#[test]
fn md5_login_is_repeated_after_a_reconnect() {
    let mut sim = Sim::start(&["--user", "ops:pw"]);
    let c = Client::new(Options {
        reconnect: true,
        reconnect_min: Duration::from_millis(20),
        auth: ami::Auth::Md5,
        ..Options::default()
    });
    c.connect("127.0.0.1", sim.port).unwrap();
    c.login("ops", "pw").unwrap();
    sim.kill();
    let _sim = Sim::start(&["--user", "ops:pw", "--listen", &format!("127.0.0.1:{}", sim.port)]);
    assert!(wait_for_state(&c, State::LoggedIn, Duration::from_secs(10)));
    assert!(c.send(&Message::action("Ping").unwrap()).unwrap().is_success());
}
