//! One classic call: send an action with a marked ActionID, wait for the
//! answer by that ActionID (lists until their closing event), and shape the
//! result the way old programs read it.

use std::ffi::{c_char, c_int};
use std::ptr::null_mut;
use std::time::{Duration, Instant};

use super::packet::{self, ACTION_ID_PREFIX, ast_packet, c_bytes, push};
use super::socket::{self, Failure, REPLY_LIMIT, REPLY_SILENCE};
use crate::Message;

/// A header of a request; `None` values are left out.
pub(crate) type Header<'a> = (&'a str, Option<&'a [u8]>);

/// What came back.
pub(crate) struct Answer {
    pub(crate) response: Message,
    pub(crate) list: Vec<Message>,
}

/// Why there is no answer: before sending (no `Action` item in the error
/// packet, as before) or after.
pub(crate) enum Problem {
    Before(String),
    After(Failure),
}

/// A C string argument as header bytes (None for NULL).
pub(crate) fn opt(p: *const c_char) -> Option<&'static [u8]> {
    c_bytes(p)
}

/// Sends `name` with `headers` and waits for its answer.
pub(crate) fn exchange(
    sock: c_int,
    name: &str,
    headers: &[Header],
    action_id: *const c_char,
    limit: Duration,
) -> Result<Answer, Problem> {
    if !socket::valid(sock) {
        return Err(Problem::Before(Failure::InvalidSocket.message().into()));
    }
    let mut action = Message::action(name).map_err(|e| Problem::Before(format!("Invalid argument: {e}")))?;
    for (n, v) in headers {
        if let Some(v) = v {
            action.add_bytes(n.as_bytes(), v).map_err(|e| Problem::Before(format!("Invalid argument: {e}")))?;
        }
    }
    // The classic marker: `ami_` + the program's ActionID, or a unique one of ours.
    let mut wire_id = ACTION_ID_PREFIX.to_vec();
    match c_bytes(action_id).filter(|v| !v.is_empty()) {
        Some(id) => wire_id.extend_from_slice(id),
        None => {
            wire_id.push(b'~');
            wire_id.extend_from_slice(crate::engine::action_id::next().as_bytes());
        }
    }
    action.add_bytes(b"ActionID", &wire_id).map_err(|e| Problem::Before(format!("Invalid argument: {e}")))?;
    let bytes = action.to_wire().map_err(|e| Problem::Before(format!("Invalid argument: {e}")))?;
    socket::send_all(sock, &bytes).map_err(Problem::After)?;
    await_answer(sock, &wire_id, limit).map_err(Problem::After)
}

fn await_answer(sock: c_int, wire_id: &[u8], limit: Duration) -> Result<Answer, Failure> {
    let deadline = Instant::now() + limit;
    // A call that may take long (a synchronous Originate) may also be silent long.
    let silence = if limit > REPLY_LIMIT { limit } else { REPLY_SILENCE };
    let mut gathering: Option<Answer> = None;
    loop {
        let m = socket::next_message(sock, silence, deadline)?;
        let mine = m.get_bytes("ActionID") == Some(wire_id);
        match (&mut gathering, mine, m.is_event()) {
            (Some(answer), true, true) => {
                let closes = m.ends_list();
                answer.list.push(m);
                if closes {
                    return Ok(gathering.take().expect("gathering"));
                }
            }
            (None, true, false) if m.is_success() && m.starts_list() => {
                gathering = Some(Answer { response: m, list: Vec::new() });
            }
            (None, true, false) => return Ok(Answer { response: m, list: Vec::new() }),
            (_, _, true) => socket::dispatch_event(&m), // an event of no waiting call
            _ => {}                                     // a stale answer to an earlier call
        }
    }
}

/// An error packet: `Response: Error` and why, after `Action: <name>` when
/// the action had been sent.
pub(crate) fn error_packet(name: &str, problem: &Problem) -> *mut ast_packet {
    let (p, why) = match problem {
        Problem::Before(why) => (null_mut(), why.clone()),
        Problem::After(f) => (push(null_mut(), b"Action", name.as_bytes()), f.message().to_string()),
    };
    let p = push(p, b"Response", b"Error");
    push(p, b"Message", why.as_bytes())
}

/// The packet group of an answer: `Action: <name>` and the response's
/// items, then one packet per list event (closing event last).
pub(crate) fn answer_packet(name: &str, answer: &Answer) -> *mut ast_packet {
    let first = packet::from_message(&answer.response, push(null_mut(), b"Action", name.as_bytes()));
    let mut tail = first;
    for event in &answer.list {
        let p = packet::from_message(event, null_mut());
        // SAFETY: `tail` is the last packet of the group we are building.
        unsafe { (*tail).next = p };
        tail = p;
    }
    first
}

/// The common path: send, wait, shape.
pub(crate) fn packet(sock: c_int, name: &str, headers: &[Header], action_id: *const c_char) -> *mut ast_packet {
    match exchange(sock, name, headers, action_id, REPLY_LIMIT) {
        Ok(answer) => answer_packet(name, &answer),
        Err(problem) => error_packet(name, &problem),
    }
}

/// Most a chunk of command output holds (the item's 255 bytes).
const CHUNK: usize = 255;

/// `Action: Command` with the output in `Chunk1`.. items of at most 255
/// bytes, whichever form the server used (14+ `Output:` headers or the
/// legacy `Response: Follows` body).
pub(crate) fn command_packet(sock: c_int, command: &[u8], action_id: *const c_char) -> *mut ast_packet {
    let answer = match exchange(sock, "Command", &[("Command", Some(command))], action_id, REPLY_LIMIT) {
        Ok(a) => a,
        Err(problem) => return error_packet("Command", &problem),
    };
    let r = &answer.response;
    let mut p = push(null_mut(), b"Action", b"Command");
    let mut text = Vec::new();
    for i in 0..r.len() {
        let (Some(n), Some(v)) = (r.name_bytes_at(i), r.value_bytes_at(i)) else { continue };
        if n.eq_ignore_ascii_case(b"Output") {
            text.extend_from_slice(v);
            text.push(b'\n');
        } else if n.eq_ignore_ascii_case(b"Response") && v.eq_ignore_ascii_case(b"Follows") {
            p = push(p, n, b"Success");
        } else if n.eq_ignore_ascii_case(b"ActionID") {
            if let Some(v) = packet::visible_action_id(v) {
                p = push(p, n, v);
            }
        } else {
            p = push(p, n, v);
        }
    }
    for (i, chunk) in text.chunks(CHUNK).enumerate() {
        p = push(p, format!("Chunk{}", i + 1).as_bytes(), chunk);
    }
    p
}

/// `"true"`/`"false"` for a C flag.
pub(crate) fn flag(v: impl Into<i64>) -> Option<&'static [u8]> {
    Some(if v.into() != 0 { b"true" } else { b"false" })
}
