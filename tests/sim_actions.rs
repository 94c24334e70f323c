//! Every action and fault mode of `ami-sim`, over TCP, with the project's client.

mod common;

use std::sync::mpsc;
use std::time::{Duration, Instant};

use ami::{Client, Error, Message, Options};
use common::Sim;

fn ok(c: &Client, action: &str, headers: &[(&str, &str)]) -> Message {
    let r = c.action(action, headers).unwrap_or_else(|e| panic!("{action}: {e}"));
    assert!(r.is_success(), "{action}: {r:?}");
    r
}

fn err(c: &Client, action: &str, headers: &[(&str, &str)]) -> String {
    let r = c.action(action, headers).unwrap();
    assert_eq!(r.get("Response"), Some("Error"), "{action}: {r:?}");
    r.get("Message").unwrap_or("").to_string()
}

fn list_names(r: &Message) -> Vec<String> {
    r.list().iter().map(|e| e.event_name().unwrap_or("").to_string()).collect()
}

#[test]
fn session_actions() {
    let sim = Sim::default();
    let c = Client::new(Options::default());
    c.connect("127.0.0.1", sim.port).unwrap();
    assert_eq!(c.banner().as_deref(), Some("Asterisk Call Manager/5.0.2"), "default version");
    assert_eq!(err(&c, "Ping", &[]), "Permission denied");
    assert_eq!(err(&c, "Challenge", &[("AuthType", "plain")]), "Must specify AuthType");
    let ch = ok(&c, "Challenge", &[("AuthType", "MD5")]);
    assert!(ch.get("Challenge").unwrap().chars().all(|d| d.is_ascii_digit()));
    c.login("admin", "admin").unwrap();
    let pong = ok(&c, "Ping", &[]);
    assert_eq!(pong.get("Ping"), Some("Pong"));
    assert!(pong.get("Timestamp").unwrap().contains('.'));
    assert_eq!(ok(&c, "Events", &[("EventMask", "off")]).get("Events"), Some("Off"));
    assert_eq!(ok(&c, "Events", &[("EventMask", "call,user")]).get("Events"), Some("On"));
    let unknown = err(&c, "Frobnicate", &[]);
    assert_eq!(unknown, "Invalid/unknown command: Frobnicate. Use Action: ListCommands to show available commands.");
    let bye = c.action("Logoff", &[]).unwrap();
    assert_eq!(bye.get("Response"), Some("Goodbye"));
    assert_eq!(bye.get("Message"), Some("Thanks for all the fish."));
}

#[test]
fn event_mask_filters_broadcasts() {
    let sim = Sim::default();
    let quiet = sim.client_with(Options { events: "off".into(), ..Options::default() });
    let calls = sim.client_with(Options { events: "call".into(), ..Options::default() });
    let (tx, rx) = mpsc::channel();
    let tx2 = tx.clone();
    quiet.subscribe("*", move |e| tx.send(("quiet", e.event_name().unwrap().to_string())).unwrap()).unwrap();
    calls.subscribe("*", move |e| tx2.send(("calls", e.event_name().unwrap().to_string())).unwrap()).unwrap();
    ok(&quiet, "UserEvent", &[("UserEvent", "NotForCallMask")]);
    ok(&quiet, "Originate", &[("Channel", "Local/200@default"), ("Application", "Wait"), ("Data", "1")]);
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut got = Vec::new();
    while let Ok(e) = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        got.push(e);
        if got.iter().filter(|(_, n)| n == "Hangup").count() == 2 {
            break;
        }
    }
    assert!(got.iter().all(|(who, _)| *who == "calls"), "{got:?}");
    assert!(!got.iter().any(|(_, n)| n == "UserEvent"));
    let names: Vec<_> = got.iter().map(|(_, n)| n.as_str()).collect();
    for want in ["Newchannel", "Newstate", "Hangup"] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
}

#[test]
fn originate_emits_var_set_and_channels_are_listed() {
    let sim = Sim::default();
    let c = sim.client();
    let (tx, rx) = mpsc::channel();
    c.subscribe("VarSet", move |e| tx.send(e.get("Variable").unwrap().to_string()).unwrap()).unwrap();
    ok(
        &c,
        "Originate",
        &[("Channel", "Local/100@default"), ("Application", "Wait"), ("Data", "5"), ("Variable", "A=1,B=2")],
    );
    assert_eq!(rx.recv_timeout(Duration::from_secs(3)).unwrap(), "A");
    assert_eq!(rx.recv_timeout(Duration::from_secs(3)).unwrap(), "B");
    let chans = ok(&c, "CoreShowChannels", &[]);
    assert_eq!(list_names(&chans), ["CoreShowChannel", "CoreShowChannel", "CoreShowChannelsComplete"]);
    let one = chans.list()[0].get("Channel").unwrap().to_string();
    assert!(one.starts_with("Local/100@default-") && one.ends_with(";1"), "{one}");
    let status = ok(&c, "Status", &[]);
    assert_eq!(status.list().last().unwrap().get("Items"), Some("2"));
    assert_eq!(ok(&c, "Status", &[("Channel", &one)]).list().len(), 2);
    ok(&c, "SetVar", &[("Channel", &one), ("Variable", "X"), ("Value", "y")]);
    assert_eq!(ok(&c, "GetVar", &[("Channel", &one), ("Variable", "A")]).get("Value"), Some("1"));
    assert_eq!(ok(&c, "GetVar", &[("Channel", &one), ("Variable", "X")]).get("Value"), Some("y"));
    ok(&c, "Redirect", &[("Channel", &one), ("Context", "default"), ("Exten", "200"), ("Priority", "1")]);
    ok(&c, "AbsoluteTimeout", &[("Channel", &one), ("Timeout", "60")]);
    let cmd = ok(&c, "Command", &[("Command", "core show channels")]);
    assert_eq!(cmd.get_all("Output").nth(3), Some("2 active channels"));
    assert_eq!(ok(&c, "Hangup", &[("Channel", &one)]).get("Message"), Some("Channel Hungup"));
    assert_eq!(err(&c, "Hangup", &[("Channel", &one)]), "No such channel");
    assert_eq!(err(&c, "Redirect", &[("Channel", "SIP/none"), ("Exten", "1")]), "Channel specified does not exist");
    assert_eq!(err(&c, "AbsoluteTimeout", &[("Channel", "SIP/none"), ("Timeout", "1")]), "No such channel");
    assert_eq!(ok(&c, "CoreShowChannels", &[]).list().len(), 1, "only the Complete event is left");
    assert_eq!(err(&c, "Originate", &[("Application", "Wait")]), "Channel not specified");
    let core = ok(&c, "CoreStatus", &[]);
    assert_eq!(core.get("CoreProcessedCalls"), Some("1"));
}

#[test]
fn variables_and_astdb() {
    let sim = Sim::default();
    let c = sim.client();
    assert_eq!(ok(&c, "SetVar", &[("Variable", "G"), ("Value", "v")]).get("Message"), Some("Variable Set"));
    assert_eq!(ok(&c, "GetVar", &[("Variable", "G")]).get("Value"), Some("v"));
    assert_eq!(err(&c, "GetVar", &[]), "No variable specified");
    ok(&c, "DBPut", &[("Family", "f"), ("Key", "k"), ("Val", "v1")]);
    ok(&c, "DBPut", &[("Family", "f"), ("Key", "k2"), ("Val", "v2")]);
    let got = ok(&c, "DBGet", &[("Family", "f"), ("Key", "k")]);
    assert_eq!(list_names(&got), ["DBGetResponse", "DBGetComplete"]);
    assert_eq!(got.list()[0].get("Val"), Some("v1"));
    assert_eq!(ok(&c, "DBGetTree", &[("Family", "f")]).list().len(), 3);
    let show = ok(&c, "Command", &[("Command", "database show f")]);
    assert_eq!(show.get_all("Output").last(), Some("2 results found."));
    ok(&c, "DBDel", &[("Family", "f"), ("Key", "k")]);
    assert_eq!(err(&c, "DBDel", &[("Family", "f"), ("Key", "k")]), "Database entry does not exist");
    assert_eq!(err(&c, "DBGet", &[("Family", "f"), ("Key", "k")]), "Database entry not found");
    ok(&c, "DBDelTree", &[("Family", "f")]);
    assert_eq!(err(&c, "DBDelTree", &[("Family", "f")]), "Database entry not found");
}

#[test]
fn queues_endpoints_and_info() {
    let sim = Sim::default();
    let c = sim.client();
    ok(&c, "QueueAdd", &[("Queue", "support"), ("Interface", "PJSIP/1001"), ("Penalty", "2")]);
    assert_eq!(err(&c, "QueueAdd", &[("Queue", "support"), ("Interface", "PJSIP/1001")]), "Unable to add interface: Already there");
    assert!(err(&c, "QueueAdd", &[("Queue", "nope"), ("Interface", "PJSIP/1001")]).contains("No such queue"));
    ok(&c, "QueuePause", &[("Queue", "support"), ("Interface", "PJSIP/1001"), ("Paused", "true")]);
    let status = ok(&c, "QueueStatus", &[("Queue", "support")]);
    assert_eq!(list_names(&status), ["QueueParams", "QueueMember", "QueueMember", "QueueStatusComplete"]);
    assert_eq!(status.list()[1].get("Paused"), Some("1"));
    let summary = ok(&c, "QueueSummary", &[]);
    assert_eq!(summary.list()[0].get("Available"), Some("1"));
    ok(&c, "QueueRemove", &[("Queue", "support"), ("Interface", "PJSIP/1001")]);
    assert_eq!(err(&c, "QueuePause", &[("Interface", "PJSIP/1001"), ("Paused", "false")]), "Interface not found");
    let sip = ok(&c, "SIPpeers", &[]);
    assert_eq!(list_names(&sip), ["PeerEntry", "PeerlistComplete"]);
    let pjsip = ok(&c, "PJSIPShowEndpoints", &[]);
    assert_eq!(list_names(&pjsip), ["EndpointList", "EndpointList", "EndpointListComplete"]);
    assert_eq!(ok(&c, "ExtensionState", &[("Exten", "100"), ("Context", "default")]).get("StatusText"), Some("Idle"));
    assert_eq!(ok(&c, "MailboxCount", &[("Mailbox", "100@default")]).get("NewMessages"), Some("0"));
    assert_eq!(ok(&c, "MailboxStatus", &[("Mailbox", "100@default")]).get("Waiting"), Some("0"));
    assert!(ok(&c, "ListCommands", &[]).get("Originate").is_some());
    assert_eq!(ok(&c, "CoreSettings", &[]).get("AMIversion"), Some("5.0.2"));
    assert_eq!(list_names(&ok(&c, "ParkedCalls", &[])), ["ParkedCallsComplete"]);
    assert_eq!(list_names(&ok(&c, "Agents", &[])), ["AgentsComplete"]);
    let version = ok(&c, "Command", &[("Command", "core show version")]);
    assert!(version.get("Output").unwrap().starts_with("Asterisk 16."));
    let blocked = c.action("Command", &[("Command", "module load foo.so")]).unwrap();
    assert_eq!(blocked.get("Message"), Some("Command blacklisted"));
}

#[test]
fn chan_sip_is_gone_from_asterisk_21() {
    let sim = Sim::start(&["--version", "10.0.0"]);
    let c = sim.client();
    assert!(err(&c, "SIPpeers", &[]).starts_with("Invalid/unknown command"));
}

#[test]
fn user_event_reaches_every_session_with_events_on() {
    let sim = Sim::default();
    let a = sim.client();
    let b = sim.client();
    let (tx, rx) = mpsc::channel();
    b.subscribe("UserEvent", move |e| tx.send(e.clone()).unwrap()).unwrap();
    ok(&a, "UserEvent", &[("UserEvent", "Hello"), ("Header1", "value1")]);
    let e = rx.recv_timeout(Duration::from_secs(3)).unwrap();
    assert_eq!(e.get("UserEvent"), Some("Hello"));
    assert_eq!(e.get("Header1"), Some("value1"));
    assert_eq!(e.get("Privilege"), Some("user,all"));
}

#[test]
fn flood_is_complete_and_ordered() {
    let sim = Sim::default();
    let c = sim.client_with(Options { event_queue: true, events: "off".into(), ..Options::default() });
    ok(&c, "SimFlood", &[("Count", "20000"), ("Size", "500")]);
    let mut n = 0u64;
    loop {
        let e = c.next_event(Some(Duration::from_secs(10))).unwrap().expect("flood stalled");
        if e.event_name() == Some("SimFloodComplete") {
            assert_eq!(e.get("Count"), Some("20000"));
            break;
        }
        n += 1;
        assert_eq!(e.get("Seq").unwrap(), n.to_string());
        assert!(e.len() > 15, "realistic headers");
    }
    assert_eq!(n, 20000);
}

#[test]
fn fault_modes() {
    // Connection-wide faults from the command line.
    let sim = Sim::start(&["--fault", "no-banner"]);
    let mut raw = sim.raw().without_banner();
    raw.login(); // answers actions, just never sent a banner
    assert!(raw.banner.is_none());

    let sim = Sim::start(&["--fault", "drop-after", "2"]);
    let c = sim.client(); // login is response 1
    ok(&c, "Ping", &[]);
    // The server closes right after the second answer: the next action finds
    // the link gone (or in flight when it goes).
    let r = c.send(&Message::action("Ping").unwrap());
    assert!(matches!(r, Err(Error::Disconnected(_)) | Err(Error::Closed(_))), "{r:?}");

    let sim = Sim::start(&["--fault", "close-mid-message"]);
    let c = Client::new(Options::default());
    c.connect("127.0.0.1", sim.port).unwrap();
    assert!(matches!(c.login("admin", "admin"), Err(Error::Disconnected(_))));

    let sim = Sim::start(&["--fault", "huge"]);
    let c = Client::new(Options::default());
    c.connect("127.0.0.1", sim.port).unwrap();
    assert!(matches!(c.login("admin", "admin"), Err(Error::Protocol(_))));

    // Per connection, armed after login.
    let sim = Sim::default();
    let c = sim.client();
    ok(&c, "SimFault", &[("Mode", "slow")]);
    let t = Instant::now();
    assert!(ok(&c, "Ping", &[]).get("Timestamp").is_some());
    assert!(t.elapsed() > Duration::from_millis(50), "slow writes one byte at a time");
    let c = sim.client();
    ok(&c, "SimFault", &[("Mode", "garbage")]);
    assert!(c.send(&Message::action("Ping").unwrap()).is_err());
    let c = sim.client();
    assert!(err(&c, "SimFault", &[("Mode", "bogus")]).starts_with("unknown fault"));
}

#[test]
fn sigterm_and_sigint_end_it_cleanly() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    for sig in [libc::SIGTERM, libc::SIGINT] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ami-sim"))
            .args(["--listen", "127.0.0.1:0", "--quiet"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        assert!(line.starts_with("listening on 127.0.0.1:"), "{line:?}");
        // SAFETY: signals our own child process by its pid.
        assert_eq!(unsafe { libc::kill(child.id() as i32, sig) }, 0);
        let status = child.wait().unwrap();
        assert!(status.success(), "signal {sig}: {status:?}");
    }
}

#[test]
fn bad_arguments_are_refused() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ami-sim"))
        .args(["--fault", "sideways"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown fault"));
}
