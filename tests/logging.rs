//! The log: records through the `log` facade (target `ami`), filtered by
//! each client's `log_level`, wire traffic at `trace`, and never a secret,
//! over TCP (plain and md5 login) and HTTP (/rawman and /arawman).

mod common;

use std::sync::Mutex;

use ami::{Carrier, Client, LogLevel, Message, Options};
use common::Sim;

const SECRET: &str = "S3cr3t-Zq7x";

/// Every record of the process, as `level text`.
static LINES: Mutex<Vec<(log::Level, String)>> = Mutex::new(Vec::new());

struct Collect;

impl log::Log for Collect {
    fn enabled(&self, m: &log::Metadata) -> bool {
        m.target() == "ami"
    }
    fn log(&self, r: &log::Record) {
        if self.enabled(r.metadata()) {
            LINES.lock().unwrap().push((r.level(), r.args().to_string()));
        }
    }
    fn flush(&self) {}
}

static LOGGER: Collect = Collect;
/// The tests share the process's logger: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn install() {
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(log::LevelFilter::Trace);
}

/// The records of one client (its id is in each line).
fn lines_of(client: &Client) -> Vec<(log::Level, String)> {
    let tag = format!("client {}: ", client.id());
    LINES.lock().unwrap().iter().filter(|(_, l)| l.starts_with(&tag)).cloned().collect()
}

/// Logs in as `logger`, sends a Ping, logs off; returns the client's records.
fn session(sim: &Sim, level: LogLevel, configure: impl Fn(&mut Options)) -> Vec<(log::Level, String)> {
    let mut o = Options { log_level: level, events: "off".into(), ..Options::default() };
    configure(&mut o);
    let port = if o.transport == Carrier::Http { sim.http_port.unwrap() } else { sim.port };
    let c = Client::new(o);
    c.connect("127.0.0.1", port).unwrap();
    c.login("logger", SECRET).unwrap();
    assert!(c.send(&Message::action("Ping").unwrap()).unwrap().is_success());
    // A wrong secret too: its error must not echo what was tried.
    let wrong = Client::new(Options { log_level: level, ..Options::default() });
    wrong.connect("127.0.0.1", sim.port).unwrap();
    assert!(wrong.login("logger", "Wr0ng-S3cr3t").is_err());
    let all = [lines_of(&c), lines_of(&wrong)].concat();
    drop(c);
    drop(wrong);
    all
}

fn transports() -> Vec<(&'static str, Box<dyn Fn(&mut Options)>)> {
    vec![
        ("tcp", Box::new(|_: &mut Options| {})),
        ("tcp md5", Box::new(|o: &mut Options| o.set("auth", "md5").unwrap())),
        ("http rawman", Box::new(|o: &mut Options| o.transport = Carrier::Http)),
        (
            "http arawman",
            Box::new(|o: &mut Options| {
                o.transport = Carrier::Http;
                o.http_path = "/arawman".into();
            }),
        ),
    ]
}

#[test]
fn trace_shows_the_wire_with_the_secret_masked() {
    let _one = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    install();
    let sim = Sim::start(&["--user", &format!("logger:{SECRET}"), "--http", "127.0.0.1:0"]);
    for (name, configure) in transports() {
        let lines = session(&sim, LogLevel::Trace, configure);
        let text: Vec<&str> = lines.iter().map(|(_, l)| l.as_str()).collect();
        let has = |needle: &str| text.iter().any(|l| l.contains(needle));
        assert!(lines.iter().all(|(l, _)| *l <= log::Level::Trace));
        assert!(has("-> ") && has("<- "), "{name}: no wire lines: {text:#?}");
        assert!(has("Ping"), "{name}: the Ping is not in the trace: {text:#?}");
        assert!(has("Pong") || has("Ping: "), "{name}: the Ping's answer is not in the trace");
        assert!(has("********"), "{name}: no masked value: {text:#?}");
        assert!(has("state LoggedIn"), "{name}: no state change: {text:#?}");
        assert!(!has(SECRET) && !has("Wr0ng-S3cr3t"), "{name}: a secret in the log: {text:#?}");
    }
}

#[test]
fn no_level_ever_logs_the_secret_and_each_level_filters() {
    let _one = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    install();
    let sim = Sim::start(&["--user", &format!("logger:{SECRET}"), "--http", "127.0.0.1:0"]);
    let levels = [LogLevel::Off, LogLevel::Error, LogLevel::Warn, LogLevel::Info, LogLevel::Debug, LogLevel::Trace];
    for (name, configure) in transports() {
        for level in levels {
            let lines = session(&sim, level, &configure);
            for (l, text) in &lines {
                assert!(!text.contains(SECRET) && !text.contains("Wr0ng-S3cr3t"), "{name} {level:?}: {text}");
                let rank = match l {
                    log::Level::Error => LogLevel::Error,
                    log::Level::Warn => LogLevel::Warn,
                    log::Level::Info => LogLevel::Info,
                    log::Level::Debug => LogLevel::Debug,
                    log::Level::Trace => LogLevel::Trace,
                };
                assert!(rank <= level, "{name}: a {l} record at log_level {level:?}: {text}");
            }
            let wire = lines.iter().any(|(_, t)| t.contains("-> "));
            assert_eq!(wire, level == LogLevel::Trace, "{name} {level:?}: wire lines only at trace");
            assert_eq!(lines.is_empty(), level < LogLevel::Error, "{name} {level:?}: {lines:?}");
        }
    }
}

#[test]
fn a_lost_connection_and_a_reconnect_are_logged() {
    let _one = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    install();
    let mut sim = Sim::start(&["--fault", "drop-after", "3"]);
    let mut o = Options { reconnect: true, ..Options::default() };
    o.set("reconnect_min_ms", "20").unwrap();
    let c = Client::new(o);
    c.connect("127.0.0.1", sim.port).unwrap();
    c.login("admin", "admin").unwrap();
    let ping = Message::action("Ping").unwrap();
    for _ in 0..5 {
        let _ = c.send(&ping);
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let seen = |needle: &str| lines_of(&c).iter().any(|(_, l)| l.contains(needle));
    while !(seen("reconnecting to") && seen("link lost")) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(seen("link lost"), "{:#?}", lines_of(&c));
    assert!(seen("reconnecting to 127.0.0.1:"), "{:#?}", lines_of(&c));
    drop(c);
    sim.kill();
}

#[test]
fn answers_a_caller_reads_itself_keep_the_link_from_needing_keepalive_pings() {
    let _one = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    install();
    let sim = Sim::default();
    let o = Options {
        keepalive: std::time::Duration::from_millis(200),
        log_level: LogLevel::Trace,
        events: "off".into(),
        ..Options::default()
    };
    let c = sim.client_with(o);
    // Blocking Pings back to back: their answers come every few µs, and
    // the caller reads them itself (the loop reads none of them).
    let ping = Message::action("Ping").unwrap().with("Mark", "mine").unwrap();
    let start = std::time::Instant::now();
    let mut sent = 0;
    while start.elapsed() < std::time::Duration::from_millis(1200) {
        assert!(c.send(&ping).unwrap().is_success());
        sent += 1;
    }
    let written = |l: &str| l.contains("-> Action: Ping");
    let lines = lines_of(&c);
    let mine = lines.iter().filter(|(_, l)| written(l) && l.contains("Mark: mine")).count();
    let keepalives = lines.iter().filter(|(_, l)| written(l) && !l.contains("Mark: mine")).count();
    assert_eq!(mine, sent, "every Ping of ours is in the log");
    // Without the caller's reads counting, a Ping every 100 ms or so (12).
    assert!(keepalives <= 2, "{keepalives} keepalive Pings on a link busy with answers");
}
