//! The README's main job until the C API lands: connect to an AMI server,
//! log in, send actions, print events.
//!
//! `cargo run --release --example demo` starts the bundled `ami-sim` on a
//! free port; `cargo run --release --example demo -- HOST PORT USER SECRET`
//! talks to a real Asterisk instead.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use ami::{Client, Message, Options};

/// Starts `ami-sim` from the directory above this example's binary.
fn start_sim() -> Result<(Child, u16), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let sim = exe.parent().and_then(|d| d.parent()).map(|d| d.join("ami-sim")).ok_or("no target dir")?;
    let mut child = Command::new(&sim)
        .args(["--listen", "127.0.0.1:0", "--quiet"])
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {} ({e}): run `cargo build --release` first", sim.display()))?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().ok_or("no stdout")?).read_line(&mut line).map_err(|e| e.to_string())?;
    let port = line.trim().rsplit(':').next().and_then(|p| p.parse().ok()).ok_or(format!("bad line {line:?}"))?;
    println!("started ami-sim: {}", line.trim());
    Ok((child, port))
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut sim = None;
    let (host, port, user, secret) = if args.len() == 4 {
        (args[0].clone(), args[1].parse()?, args[2].clone(), args[3].clone())
    } else {
        let (child, port) = start_sim()?;
        sim = Some(child);
        ("127.0.0.1".to_string(), port, "admin".to_string(), "admin".to_string())
    };

    let client = Client::new(Options::default());
    println!("banner: {}", client.connect(&host, port)?);
    client.login(&user, &secret)?;
    println!("logged in as {user}");

    let (tx, rx) = mpsc::channel();
    client.subscribe("*", move |event| {
        let _ = tx.send(event.clone());
    })?;

    let pong = client.send(&Message::action("Ping")?)?;
    println!("Ping -> {} at {}", pong.get("Ping").unwrap_or("?"), pong.get("Timestamp").unwrap_or("?"));
    let uptime = client.action("Command", &[("Command", "core show uptime")])?;
    for line in uptime.get_all("Output") {
        println!("CLI: {line}");
    }
    let queues = client.action("QueueStatus", &[])?;
    println!("QueueStatus: {} list events", queues.list().len());

    let mut originate = Message::action("Originate")?;
    for (n, v) in [("Channel", "Local/200@default"), ("Application", "Wait"), ("Data", "1"), ("Async", "true")] {
        originate.add(n, v)?;
    }
    originate.wait_event("OriginateResponse")?;
    let result = client.send(&originate)?;
    println!("Originate -> {} ({})", result.get("Response").unwrap_or("?"), result.get("Channel").unwrap_or("?"));

    // Print the call's events as they come, until it hangs up (or 5 s pass).
    let mut hangups = 0;
    while let Ok(event) = rx.recv_timeout(Duration::from_secs(5)) {
        let name = event.event_name().unwrap_or("?");
        println!("event: {name:<18} {}", event.get("Channel").unwrap_or(""));
        if name == "Hangup" {
            hangups += 1;
            if hangups == 2 {
                break;
            }
        }
    }
    client.logoff()?;
    println!("logged off");
    if let Some(mut child) = sim {
        let _ = child.kill();
        let _ = child.wait();
    }
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("demo: {e}");
        std::process::exit(1);
    }
}
