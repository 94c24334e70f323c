//! The classic API returns what the original libami 2.0.1 returned, call by
//! call. tests/c/libami_calls.c makes each call of
//! ../shared/libami-original/results.txt (the original's observed results)
//! on a fresh connection, under the sanitizers, against ami-sim in the legacy
//! and in the modern command form; every packet, item name, item order and
//! value must be the original's, but for values that change by nature and the
//! original's bugs that its README exempts.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use common::Sim;

/// One case's result: a number, or a packet group of `(name, value)` items.
#[derive(Debug, PartialEq)]
enum Outcome {
    Scalar(String),
    Group(Vec<Vec<(String, String)>>),
}

/// Reads the printed form of results.txt: `== CASE` or `== CASE -> N`,
/// `  [N]` before each packet (results.txt leaves out the first), items as
/// `    name: value`, lines of a multi-line value as they are.
fn parse(text: &str) -> Vec<(String, Outcome)> {
    let mut cases: Vec<(String, Outcome)> = Vec::new();
    // The line end after the last line is the printout's, not a value's.
    for line in text.strip_suffix('\n').unwrap_or(text).split('\n') {
        if let Some(head) = line.strip_prefix("== ") {
            let outcome = match head.split_once(" -> ") {
                Some((name, n)) => (name.to_string(), Outcome::Scalar(n.to_string())),
                None => (head.to_string(), Outcome::Group(Vec::new())),
            };
            cases.push(outcome);
            continue;
        }
        let Some((_, Outcome::Group(packets))) = cases.last_mut() else { continue };
        let trimmed = line.trim();
        if line.starts_with("  [") && trimmed.ends_with(']') {
            let n: usize = trimmed[1..trimmed.len() - 1].parse().expect("packet number");
            while packets.len() <= n {
                packets.push(Vec::new());
            }
        } else if line.starts_with("   (exit ") || trimmed == "(NULL)" {
            continue;
        } else if let Some((name, value)) = line.strip_prefix("    ").filter(|l| !l.starts_with(' ')).and_then(|l| l.split_once(": ")) {
            if packets.is_empty() {
                packets.push(Vec::new());
            }
            packets.last_mut().unwrap().push((name.to_string(), value.to_string()));
        } else if let Some((_, value)) = packets.last_mut().and_then(|p| p.last_mut()) {
            value.push('\n'); // the next line of a value that holds line ends
            value.push_str(line);
        }
    }
    cases
}

/// Values that change by nature (times, ids, uptimes) keep their shape only.
fn mask(name: &str, value: &str) -> String {
    let volatile = ["Timestamp", "LoginTime", "Uniqueid", "Linkedid", "Seconds"].contains(&name) || name.starts_with("Chunk");
    if !volatile {
        return value.to_string();
    }
    let mut out = String::new();
    for c in value.chars() {
        if !c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('#') {
            out.push('#');
        }
    }
    out
}

fn masked(outcome: Outcome) -> Outcome {
    match outcome {
        Outcome::Group(packets) => Outcome::Group(
            packets.into_iter().map(|p| p.into_iter().map(|(n, v)| (n.clone(), mask(&n, &v))).collect()).collect(),
        ),
        scalar => scalar,
    }
}

fn item(name: &str, value: &str) -> (String, String) {
    (name.to_string(), value.to_string())
}

/// The original's result for `case`, less its bugs that
/// ../shared/libami-original/README.md exempts.
fn expected(case: &str, original: Outcome) -> Outcome {
    match (case, original) {
        // It knew only an old reply form of Events.
        ("set_events", Outcome::Scalar(_)) => Outcome::Scalar("1".into()),
        // It sent these as CLI commands current servers refuse; the shape
        // (its Action item, then the server's answer) stays.
        ("dbdel", Outcome::Group(p)) => {
            Outcome::Group(vec![vec![p[0][0].clone(), item("Response", "Success"), item("Message", "Key deleted successfully")]])
        }
        ("dbdeltree", Outcome::Group(p)) => {
            Outcome::Group(vec![vec![p[0][0].clone(), item("Response", "Success"), item("Message", "Key tree deleted successfully")]])
        }
        // Its output began with the legacy reply's `ActionID: ami_...` line.
        ("command", Outcome::Group(mut p)) => {
            for (_, value) in p[0].iter_mut().filter(|(n, _)| n == "Chunk1") {
                assert!(value.starts_with("ActionID: ami_C1\r\n"), "results.txt changed: {value:?}");
                value.drain(.."ActionID: ami_C1\r\n".len());
            }
            Outcome::Group(p)
        }
        (_, original) => original,
    }
}

fn results_txt() -> Vec<(String, Outcome)> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/libami-original/results.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let cases = parse(&text);
    assert_eq!(cases.len(), 44, "results.txt should hold the original's 44 cases");
    cases
}

/// tests/c/libami_calls.c, built once for the tests of this file.
fn program() -> &'static Path {
    static EXE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    EXE.get_or_init(|| common::build_c("libami_calls"))
}

/// Runs one case of the program against the simulator on `port`.
fn run_case(exe: &Path, port: u16, case: &str) -> Outcome {
    let out = common::sanitized(exe).args(["127.0.0.1", &port.to_string(), "admin", "admin", case]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && stderr.is_empty(), "case {case:?} failed ({:?}):\n{stdout}\n{stderr}", out.status);
    let mut cases = parse(&stdout);
    assert_eq!(cases.len(), 1, "case {case:?} printed:\n{stdout}");
    let (name, outcome) = cases.pop().unwrap();
    assert_eq!(name, case);
    outcome
}

/// Every case against one simulator started with `args`; the differences.
fn differences(exe: &Path, args: &[&str]) -> Vec<String> {
    let sim = Sim::start(args);
    // DBDel and DBDelTree really delete (the original's commands failed):
    // they run on a second server so the DBShow case sees the entries the
    // original saw.
    let scratch = Sim::start(args);
    let mut problems = Vec::new();
    for (case, original) in results_txt() {
        let port = if case.starts_with("dbdel") { scratch.port } else { sim.port };
        if case == "dbdel" {
            run_case(exe, port, "dbput");
            run_case(exe, port, "dbput(id)");
        }
        let want = masked(expected(&case, original));
        let got = masked(run_case(exe, port, &case));
        if got != want {
            problems.push(format!("{args:?} case {case:?}:\n  original: {want:?}\n  ours:     {got:?}"));
        }
    }
    problems
}

#[test]
fn results_txt_reads_as_printed() {
    let cases: HashMap<String, Outcome> = results_txt().into_iter().collect();
    assert_eq!(cases["ping"], Outcome::Scalar("1".into()));
    let Outcome::Group(g) = &cases["sip_peers"] else { panic!("sip_peers is a group") };
    assert_eq!(g.len(), 3);
    assert_eq!(g[1][0], item("Event", "PeerEntry"));
    let Outcome::Group(g) = &cases["custom_free_form CoreSettings"] else { panic!("a group") };
    let chunk = &g[0][3];
    assert_eq!(chunk.0, "Chunk1");
    assert!(chunk.1.starts_with("AsteriskVersion: 16.30.1\r\nSystemName: \r\n") && chunk.1.ends_with("SoundsSearchCustomDir: No\r\n"));
}

#[test]
fn program_makes_every_call_of_the_original() {
    let out = std::process::Command::new(program()).arg("list").output().unwrap();
    let ours: Vec<String> = String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect();
    let original: Vec<String> = results_txt().into_iter().map(|(name, _)| name).collect();
    assert_eq!(ours, original);
}

#[test]
fn every_call_returns_the_original_shapes_legacy_command_form() {
    let problems = differences(program(), &["--legacy-command"]);
    assert!(problems.is_empty(), "{} case(s) differ from the original:\n{}", problems.len(), problems.join("\n"));
}

#[test]
fn every_call_returns_the_original_shapes_modern_command_form() {
    let problems = differences(program(), &[]);
    assert!(problems.is_empty(), "{} case(s) differ from the original:\n{}", problems.len(), problems.join("\n"));
}
