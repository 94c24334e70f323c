//! The codec against the real transcripts in ../shared/fixtures: every
//! server stream is fed whole, split at every byte, one byte at a time and in
//! random chunks, and must decode to the same frames every time.

mod common;

use ami::codec::{Decoder, Frame, Limits};

fn decode_chunks<'a>(chunks: impl IntoIterator<Item = &'a [u8]>) -> Vec<Frame> {
    let mut d = Decoder::client(Limits::default());
    let mut frames = Vec::new();
    for chunk in chunks {
        d.feed(chunk);
        while let Some(f) = d.next_frame().expect("fixture must decode") {
            frames.push(f);
        }
    }
    assert_eq!(d.pending_bytes(), 0, "bytes left over after the last message");
    frames
}

fn fixtures() -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<_> = std::fs::read_dir(common::fixtures_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".server.raw"))
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap()))
        .collect();
    out.sort();
    assert!(out.len() >= 12, "expected the 12 server transcripts, found {}", out.len());
    out
}

#[test]
fn every_fixture_split_at_every_byte_decodes_identically() {
    for (name, raw) in fixtures() {
        let whole = decode_chunks([&raw[..]]);
        assert!(matches!(&whole[0], Frame::Banner(b) if b.starts_with("Asterisk Call Manager/")), "{name}");
        assert!(whole.len() > 1, "{name}: no messages");
        for cut in 0..=raw.len() {
            let split = decode_chunks([&raw[..cut], &raw[cut..]]);
            assert_eq!(split, whole, "{name} split at byte {cut}");
        }
        let bytes = decode_chunks(raw.chunks(1));
        assert_eq!(bytes, whole, "{name} one byte at a time");
    }
}

#[test]
fn random_chunks_decode_identically() {
    let mut seed: u64 = 0x2545F4914F6CDD1D;
    for (name, raw) in fixtures() {
        let whole = decode_chunks([&raw[..]]);
        for round in 0..50 {
            let mut chunks = Vec::new();
            let mut rest = &raw[..];
            while !rest.is_empty() {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let n = (seed % 97) as usize + 1;
                let (a, b) = rest.split_at(n.min(rest.len()));
                chunks.push(a);
                rest = b;
            }
            assert_eq!(decode_chunks(chunks), whole, "{name} random round {round}");
        }
    }
}

fn messages(name: &str) -> Vec<ami::Message> {
    let raw = std::fs::read(common::fixtures_dir().join(name)).unwrap();
    decode_chunks([&raw[..]])
        .into_iter()
        .filter_map(|f| match f {
            Frame::Message(m) => Some(m),
            Frame::Banner(_) => None,
        })
        .collect()
}

#[test]
fn banner_is_never_part_of_a_message() {
    let m = messages("01-banner-login-ping-logoff.server.raw");
    assert_eq!(m[0].name_at(0), Some("Response"));
    assert_eq!(m[0].get("ActionID"), Some("login-1"));
    assert_eq!(m.len(), 6);
    assert_eq!(m[1].event_name(), Some("FullyBooted"));
    assert_eq!(m[2].get("EventTV"), Some("2026-11-22T13:23:48.815+0000"), "values keep their colons");
    assert_eq!(m[5].get("Response"), Some("Goodbye"));
}

#[test]
fn command_output_both_forms_have_one_output_per_line() {
    let modern = messages("05-command-output.server.raw");
    let uptime = modern.iter().find(|m| m.action_id() == Some("cmd-2")).unwrap();
    assert_eq!(
        uptime.get_all("Output").collect::<Vec<_>>(),
        ["System uptime: 43 seconds", "Last reload: 43 seconds"]
    );
    let help = modern.iter().find(|m| m.action_id() == Some("cmd-3")).unwrap();
    assert_eq!(help.get_all("output").count(), 34);

    let legacy = messages("12-legacy-command-follows.synthetic.server.raw");
    assert_eq!(legacy.len(), 5, "{legacy:?}");
    assert_eq!(legacy[1].get("Response"), Some("Follows"));
    assert_eq!(legacy[1].action_id(), Some("cmd-legacy-1"));
    assert_eq!(
        legacy[1].get_all("Output").collect::<Vec<_>>(),
        ["System uptime: 2 hours, 5 minutes, 11 seconds", "Last reload: 2 hours, 5 minutes, 11 seconds"]
    );
    assert_eq!(legacy[2].get_all("Output").count(), 1);
    assert_eq!(legacy[3].get_all("Output").count(), 0, "empty output");
    assert!(legacy[3].is_success());
    assert_eq!(legacy[4].get("Ping"), Some("Pong"), "framing resumes after --END COMMAND--");
}

#[test]
fn lists_and_duplicates_keep_order() {
    let m = messages("07-lists.server.raw");
    let complete = m.iter().find(|m| m.event_name() == Some("QueueStatusComplete")).unwrap();
    assert_eq!(complete.get("eventlist"), Some("Complete"));
    let commands = m.iter().find(|m| m.action_id() == Some("l-5")).unwrap();
    assert!(commands.len() > 70);
    assert_eq!(commands.get("Command"), Some("Execute Asterisk CLI Command.  (Priv: command,all)"));
    let empty = m.iter().find(|m| m.get("PausedReason").is_some()).unwrap();
    assert_eq!(empty.get("PausedReason"), Some(""));
}

#[test]
fn originate_response_is_an_event() {
    let m = messages("09-events-originate-call.server.raw");
    let orig = m.iter().find(|m| m.event_name() == Some("OriginateResponse")).unwrap();
    assert!(orig.is_event());
    assert!(!orig.is_response());
    assert!(orig.is_success());
}
