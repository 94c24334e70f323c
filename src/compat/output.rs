//! Text answers in the original's shapes: CLI output cut into `Chunk`
//! items, the version line, `database show` as `Family`/`Key`/`Value`
//! triples, and a response as the raw text the original read.

use std::ptr::null_mut;

use super::packet::{ast_packet, push, visible_action_id};
use crate::Message;

/// Most a chunk holds (an item's 255 bytes).
const CHUNK: usize = 255;

/// What the original said of a command it sent, whatever the answer.
const SENT: &[u8] = b"Command successfully sent";

/// The CLI output of a `Command` answer, lines ending in LF, for both the
/// legacy `Response: Follows` body and the Asterisk 14+ `Output:` headers
/// (the decoder gives both as `Output` fields); None for an answer that is
/// no command output (permission denied, blacklisted...).
pub(crate) fn cli_text(r: &Message) -> Option<Vec<u8>> {
    let output = r.has("Response", "Follows")
        || r.has("Message", "Command output follows")
        || r.get_bytes("Output").is_some();
    output.then(|| {
        let mut text = Vec::new();
        for i in 0..r.len() {
            if let (Some(n), Some(line)) = (r.name_bytes_at(i), r.value_bytes_at(i)) {
                if n.eq_ignore_ascii_case(b"Output") {
                    text.extend_from_slice(line);
                    text.push(b'\n');
                }
            }
        }
        text
    })
}

/// Appends `text` as `Chunk1`, `Chunk2`... of at most 255 bytes; like the
/// original, the last chunk holds the rest even when that is empty.
fn push_chunks(mut p: *mut ast_packet, text: &[u8]) -> *mut ast_packet {
    for i in 0..=text.len() / CHUNK {
        let part = &text[i * CHUNK..text.len().min((i + 1) * CHUNK)];
        p = push(p, format!("Chunk{}", i + 1).as_bytes(), part);
    }
    p
}

/// `Action: <label>`, `Response: Success`, `Message: Command successfully
/// sent`, then `text` in chunks.
pub(crate) fn chunked(label: &str, text: &[u8]) -> *mut ast_packet {
    let p = push(null_mut(), b"Action", label.as_bytes());
    let p = push(push(p, b"Response", b"Success"), b"Message", SENT);
    push_chunks(p, text)
}

/// The version in `core show version` output: the word after `Asterisk `.
pub(crate) fn version(text: &[u8]) -> Option<&[u8]> {
    let at = text.windows(9).position(|w| w == b"Asterisk ")? + 9;
    let rest = &text[at..];
    let end = rest.iter().position(|c| c.is_ascii_whitespace()).unwrap_or(rest.len());
    Some(&rest[..end])
}

fn trim(s: &[u8]) -> &[u8] {
    let blank = |c: &u8| *c == b' ' || *c == b'\t';
    let start = s.iter().position(|c| !blank(c)).unwrap_or(s.len());
    let end = s.iter().rposition(|c| !blank(c)).map_or(start, |e| e + 1);
    &s[start..end]
}

/// One line of `database show` (`/family/key<spaces>: value`) as
/// (family, key, value); None for other lines (the count at the end).
pub(crate) fn db_entry(line: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    let path = line.strip_prefix(b"/")?;
    // The family ends at the first '/' that follows one of its characters.
    let first = path.iter().position(|&c| c != b'/')?;
    let slash = first + path[first..].iter().position(|&c| c == b'/')?;
    let rest = &path[slash + 1..];
    let colon = rest.iter().position(|&c| c == b':')?;
    let key = trim(&rest[..colon]);
    (!key.is_empty()).then(|| (trim(&path[..slash]), key, trim(&rest[colon + 1..])))
}

/// Appends each entry of `database show` output as `Family`, `Key`, `Value`.
pub(crate) fn push_db_entries(mut p: *mut ast_packet, text: &[u8]) -> *mut ast_packet {
    for (family, key, value) in text.split(|&c| c == b'\n').filter_map(db_entry) {
        p = push(push(push(p, b"Family", family), b"Key", key), b"Value", value);
    }
    p
}

/// How a message is written out as text.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Text {
    /// As it came over the wire: a legacy command body as its LF-ended
    /// lines and `--END COMMAND--`, every other header as `Name: value`.
    Wire,
    /// As `ami_custom_free_form` reads it: command output as LF-ended lines
    /// in either form, the classic ActionID marker hidden, our own ActionID
    /// left out (the original sent none).
    FreeForm,
}

/// A message as text, each header line ending in CRLF.
pub(crate) fn message_text(m: &Message, how: Text) -> Vec<u8> {
    let legacy = m.has("Response", "Follows");
    let mut text = Vec::with_capacity(m.len() * 32);
    for i in 0..m.len() {
        let (Some(n), Some(mut v)) = (m.name_bytes_at(i), m.value_bytes_at(i)) else { continue };
        if how == Text::FreeForm && n.eq_ignore_ascii_case(b"ActionID") {
            match visible_action_id(v) {
                Some(shown) => v = shown,
                None => continue,
            }
        }
        if n.eq_ignore_ascii_case(b"Output") && (legacy || how == Text::FreeForm) {
            text.extend_from_slice(v);
            text.push(b'\n');
        } else {
            for part in [n, b": ", v, b"\r\n"] {
                text.extend_from_slice(part);
            }
        }
    }
    if legacy && how == Text::Wire {
        text.extend_from_slice(b"--END COMMAND--\r\n");
    }
    text
}

/// What `ami_custom_free_form` makes of a response: its text less the
/// first two lines, which the original skipped whatever they held.
pub(crate) fn free_form_text(r: &Message) -> Vec<u8> {
    let mut text = message_text(r, Text::FreeForm);
    for _ in 0..2 {
        match text.windows(2).position(|w| w == b"\r\n") {
            Some(at) => drop(text.drain(..at + 2)),
            None => text.clear(),
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_show_lines() {
        let line = b"/fam/k1                                           : v1                       ";
        assert_eq!(db_entry(line), Some((&b"fam"[..], &b"k1"[..], &b"v1"[..])));
        assert_eq!(db_entry(b"/a/b/c : x: y"), Some((&b"a"[..], &b"b/c"[..], &b"x: y"[..])));
        assert_eq!(db_entry(b"/fam/k: "), Some((&b"fam"[..], &b"k"[..], &b""[..])));
        assert_eq!(db_entry(b"3 results found."), None);
        assert_eq!(db_entry(b"/nokey: v"), None);
        assert_eq!(db_entry(b"/fam/: v"), None);
        assert_eq!(db_entry(b""), None);
    }

    #[test]
    fn version_word() {
        assert_eq!(version(b"Asterisk 22.10.1 built by root @ vm"), Some(&b"22.10.1"[..]));
        assert_eq!(version(b"Asterisk 16.30.1\n"), Some(&b"16.30.1"[..]));
        assert_eq!(version(b"no such command"), None);
    }

    #[test]
    fn free_form_skips_two_lines() {
        let mut m = Message::new();
        for (n, v) in [("Response", "Success"), ("ActionID", "ami_~x1"), ("AMIversion", "5.0.2"), ("AsteriskVersion", "16")] {
            m.add(n, v).unwrap();
        }
        assert_eq!(free_form_text(&m), b"AsteriskVersion: 16\r\n");
        let mut m = Message::new();
        m.add("Response", "Success").unwrap();
        assert_eq!(free_form_text(&m), b"");
    }

    #[test]
    fn legacy_command_as_on_the_wire() {
        let wire = b"Response: Follows\r\nPrivilege: Command\r\nActionID: c1\r\nline one\nline: two\n--END COMMAND--\r\n\r\n";
        let mut d = crate::codec::Decoder::client_banner_optional(crate::codec::Limits::default());
        d.feed(wire);
        let Some(crate::codec::Frame::Message(m)) = d.next_frame().unwrap() else { panic!("a message") };
        assert_eq!(message_text(&m, Text::Wire), &wire[..wire.len() - 2]);
        assert_eq!(free_form_text(&m), b"ActionID: c1\r\nline one\nline: two\n");
    }
}
