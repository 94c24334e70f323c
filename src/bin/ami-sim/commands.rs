//! `Action: Command` (a few CLI commands, in the Asterisk 14+ `Output:` form
//! or the legacy `Response: Follows` form) and `ListCommands`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ami::Message;

use crate::captured::{CORE_SHOW_HELP, LIST_COMMANDS};
use crate::pbx::{Pbx, val};
use crate::wire::{Wire, reply};

pub fn list_commands(id: Option<&str>, with_sip: bool) -> Vec<u8> {
    let mut w = Wire::response("Success", id);
    for line in LIST_COMMANDS {
        if let Some((name, desc)) = line.split_once(": ") {
            w.h(name, desc);
        }
        if with_sip && line.starts_with("ShowDialPlan:") {
            w.h("SIPpeers", "List SIP peers (text format).  (Priv: system,reporting,all)");
        }
    }
    w.finish()
}

/// CLI commands Asterisk refuses over AMI.
const BLACKLIST: [&str; 3] = ["module load", "module unload", "restart gracefully"];

pub fn command(pbx: &Pbx, m: &Message, id: Option<&str>) -> Vec<u8> {
    let Some(cmd) = val(m, "Command").map(str::trim).filter(|c| !c.is_empty()) else {
        return reply("Error", id, "No command provided");
    };
    let words: Vec<&str> = cmd.split_whitespace().collect();
    let normal = words.join(" ").to_ascii_lowercase();
    if BLACKLIST.iter().any(|b| normal.starts_with(b)) {
        return reply("Error", id, "Command blacklisted");
    }
    let (ok, lines) = match cli(pbx, &normal) {
        Some(lines) => (true, lines),
        None => {
            // Asterisk 14+ suggests the words its CLI still recognised (the
            // capture shows two of four); Asterisk 13 echoed the whole command.
            let shown = if pbx.legacy_command { words.len() } else { words.len().saturating_sub(2).max(1) };
            let help = words[..shown].join(" ");
            (false, vec![format!(
                "No such command '{cmd}' (type 'core show help {help}' for other possible commands)"
            )])
        }
    };
    if pbx.legacy_command {
        let mut out = Vec::new();
        out.extend_from_slice(b"Response: Follows\r\nPrivilege: Command\r\n");
        if let Some(id) = id {
            out.extend_from_slice(format!("ActionID: {id}\r\n").as_bytes());
        }
        for line in lines {
            out.extend_from_slice(line.as_bytes());
            out.push(b'\n');
        }
        out.extend_from_slice(b"--END COMMAND--\r\n\r\n");
        return out;
    }
    let mut w = Wire::response(if ok { "Success" } else { "Error" }, id);
    w.h("Message", "Command output follows");
    for line in lines {
        w.h("Output", line);
    }
    w.finish()
}

/// Output lines of a known CLI command.
fn cli(pbx: &Pbx, cmd: &str) -> Option<Vec<String>> {
    let lines = match cmd {
        "core show version" => {
            let (date, time) = utc_date_time(pbx.started_wall());
            vec![format!(
                "Asterisk {} built by ami-sim @ localhost on a x86_64 running Linux on {date} {time} UTC",
                pbx.asterisk_version
            )]
        }
        "core show uptime" | "core show uptime seconds" => {
            let up = pbx.uptime();
            if cmd.ends_with("seconds") {
                vec![format!("System uptime: {}", up.as_secs()), format!("Last reload: {}", up.as_secs())]
            } else {
                vec![format!("System uptime: {}", uptime_text(up)), format!("Last reload: {}", uptime_text(up))]
            }
        }
        "core show channels" => {
            let row = |a: &str, b: &str, c: &str, d: &str| format!("{a:<64.64} {b:<32.32} {c:<7.7} {d:<30.30}");
            let mut out = vec![row("Channel", "Location", "State", "Application(Data)")];
            let mut n = 0;
            for c in pbx.channels() {
                n += 1;
                let (ctx, exten, prio, state) = c.location();
                out.push(row(&c.name, &format!("{exten}@{ctx}:{prio}"), state, &format!("{}({})", c.app, c.data)));
            }
            let calls = pbx.call_count();
            let processed = pbx.calls_processed();
            out.push(format!("{n} active channel{}", ess(n)));
            out.push(format!("{calls} active call{}", ess(calls)));
            out.push(format!("{processed} call{} processed", ess(processed as usize)));
            out
        }
        _ if cmd == "database show" || cmd.starts_with("database show ") => {
            let family = cmd.strip_prefix("database show").unwrap_or("").trim();
            let prefix = if family.is_empty() { "/".to_string() } else { format!("/{family}") };
            let mut out: Vec<String> = pbx
                .db()
                .iter()
                .filter(|(k, _)| k.starts_with(&prefix))
                .map(|(k, v)| format!("{k:<50}: {v:<25}"))
                .collect();
            out.push(format!("{} results found.", out.len()));
            out
        }
        _ if cmd.starts_with("core show help") => {
            let topic = cmd.strip_prefix("core show help").unwrap_or("").trim();
            CORE_SHOW_HELP.iter().filter(|l| l.starts_with(topic)).map(|l| l.to_string()).collect()
        }
        _ => return None,
    };
    Some(lines)
}

fn ess(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Asterisk's uptime wording: `2 hours, 5 minutes, 11 seconds`.
fn uptime_text(d: Duration) -> String {
    let mut s = d.as_secs();
    let mut parts = Vec::new();
    for (unit, size) in [("week", 604800), ("day", 86400), ("hour", 3600), ("minute", 60)] {
        if s >= size {
            let n = s / size;
            s %= size;
            parts.push(format!("{n} {unit}{}", ess(n as usize)));
        }
    }
    if s > 0 || parts.is_empty() {
        parts.push(format!("{s} second{}", ess(s as usize)));
    }
    parts.join(", ")
}

/// `YYYY-MM-DD` and `HH:MM:SS` in UTC.
pub fn utc_date_time(t: SystemTime) -> (String, String) {
    let secs = t.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let days = (secs / 86400) as i64;
    let rem = secs % 86400;
    // Howard Hinnant's days-to-civil.
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (format!("{y:04}-{m:02}-{d:02}"), format!("{:02}:{:02}:{:02}", rem / 3600, rem / 60 % 60, rem % 60))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_uptime() {
        let t = UNIX_EPOCH + Duration::from_secs(1795353796);
        assert_eq!(utc_date_time(t).0, "2026-11-22");
        assert_eq!(uptime_text(Duration::from_secs(7511)), "2 hours, 5 minutes, 11 seconds");
        assert_eq!(uptime_text(Duration::from_secs(43)), "43 seconds");
    }
}
