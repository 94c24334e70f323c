//! One classic call: the original's checks before anything is sent, then
//! the action with a marked ActionID, then the answer by that ActionID
//! (lists until their closing event), for the call to shape as the original
//! did.

use std::ffi::{c_char, c_int};
use std::ptr::null_mut;
use std::time::{Duration, Instant};

use super::packet::{self, ACTION_ID_PREFIX, ast_packet, c_bytes, push};
use super::socket::{self, Conn, Failure, REPLY_LIMIT, REPLY_SILENCE};
use crate::Message;

/// A header of a request; `None` values are left out.
pub(crate) type Header<'a> = (&'a str, Option<&'a [u8]>);

/// What came back.
pub(crate) struct Answer {
    pub(crate) response: Message,
    pub(crate) list: Vec<Message>,
}

/// Why there is no answer: before sending (no `Action` item in the error
/// packet, as in the original) or after.
pub(crate) enum Problem {
    Before(String),
    After(Failure),
}

/// How much of the server's answer a call waits for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wait {
    /// The response alone; events of a list it opens reach the event
    /// callback later, as with the original's `ami_custom`.
    Response,
    /// The response and, when it opens a list, every event of the list.
    List,
}

/// A C string argument as header bytes; None for NULL or empty (the
/// original left such optional headers out).
pub(crate) fn opt(p: *const c_char) -> Option<&'static [u8]> {
    c_bytes(p).filter(|v| !v.is_empty())
}

/// A C string argument as header bytes, empty kept; None for NULL.
pub(crate) fn text(p: *const c_char) -> Option<&'static [u8]> {
    c_bytes(p)
}

/// True for a non-NULL, non-empty string (what the original's checks ask).
pub(crate) fn given(p: *const c_char) -> bool {
    opt(p).is_some()
}

/// `"1"` for a set C flag, else None (the original sent `1` or nothing).
pub(crate) fn one_if(v: impl Into<i64>) -> Option<&'static [u8]> {
    (v.into() != 0).then_some(b"1")
}

/// `Response: Error` and `why`, with no `Action` item: the original's
/// answer to a check that failed before anything was sent.
pub(crate) fn refused(why: &[u8]) -> *mut ast_packet {
    push(push(null_mut(), b"Response", b"Error"), b"Message", why)
}

/// The packet of the first check the original made before sending that
/// fails: the arguments in its order, then the socket.
pub(crate) fn refusal(sock: c_int, checks: &[(bool, &str)]) -> Option<*mut ast_packet> {
    if let Some((_, why)) = checks.iter().find(|(ok, _)| !ok) {
        return Some(refused(why.as_bytes()));
    }
    (!socket::valid(sock)).then(|| refused(Failure::InvalidSocket.message().as_bytes()))
}

/// Runs `call` unless a check made before sending fails ([`refusal`]).
pub(crate) fn checked(sock: c_int, checks: &[(bool, &str)], call: impl FnOnce() -> *mut ast_packet) -> *mut ast_packet {
    refusal(sock, checks).unwrap_or_else(call)
}

/// Sends `items` (the `Action` header among them) with the classic ActionID
/// marker and waits for the answer.
pub(crate) fn exchange(
    sock: c_int,
    items: &[Header],
    action_id: *const c_char,
    limit: Duration,
    wait: Wait,
) -> Result<Answer, Problem> {
    // One check of the descriptor for the whole call (a system call each).
    let mut conn = Conn::open(sock).map_err(|f| Problem::Before(f.message().into()))?;
    let invalid = |e: crate::codec::CodecError| Problem::Before(format!("Invalid argument: {e}"));
    let mut action = Message::new();
    for (n, v) in items {
        if let Some(v) = v {
            action.add_bytes(n.as_bytes(), v).map_err(invalid)?;
        }
    }
    // The classic marker: `ami_` + the program's ActionID, or a unique one of ours.
    let mut wire_id = ACTION_ID_PREFIX.to_vec();
    match opt(action_id) {
        Some(id) => wire_id.extend_from_slice(id),
        None => {
            wire_id.push(b'~');
            wire_id.extend_from_slice(crate::engine::action_id::next().as_bytes());
        }
    }
    action.add_bytes(b"ActionID", &wire_id).map_err(invalid)?;
    let bytes = action.to_wire().map_err(invalid)?;
    conn.send(&bytes).map_err(Problem::After)?;
    await_answer(sock, conn, &wire_id, limit, wait).map_err(Problem::After)
}

/// [`exchange`] of the action `name` with `headers`.
pub(crate) fn send(
    sock: c_int,
    name: &str,
    headers: &[Header],
    action_id: *const c_char,
    limit: Duration,
    wait: Wait,
) -> Result<Answer, Problem> {
    let mut items = Vec::with_capacity(headers.len() + 1);
    items.push(("Action", Some(name.as_bytes())));
    items.extend_from_slice(headers);
    exchange(sock, &items, action_id, limit, wait)
}

fn await_answer(sock: c_int, conn: Conn, wire_id: &[u8], limit: Duration, wait: Wait) -> Result<Answer, Failure> {
    let deadline = Instant::now() + limit;
    // A call that may take long (a synchronous Originate) may also be silent long.
    let silence = if limit > REPLY_LIMIT { limit } else { REPLY_SILENCE };
    let mut gathering: Option<Answer> = None;
    let mut conn = Some(conn);
    loop {
        let open = match &mut conn {
            Some(c) => c,
            None => conn.insert(Conn::open(sock)?),
        };
        let m = open.next(silence, deadline)?;
        let mine = m.get_bytes("ActionID") == Some(wire_id);
        match (&mut gathering, mine, m.is_event()) {
            (Some(answer), true, true) => {
                let closes = closes_list(&answer.response, &m);
                answer.list.push(m);
                if closes {
                    return Ok(gathering.take().expect("gathering"));
                }
            }
            (None, true, false) if wait == Wait::List && m.is_success() && m.starts_list() => {
                gathering = Some(Answer { response: m, list: Vec::new() });
            }
            (None, true, false) => return Ok(Answer { response: m, list: Vec::new() }),
            (_, _, true) => {
                conn = None; // the state goes back: the callback may use the socket
                socket::dispatch_event(&m) // an event of no waiting call
            }
            _ => {}                                     // a stale answer to an earlier call
        }
    }
}

/// The event that ends a list; before Asterisk 12 a `DBGet` answered with
/// its one `DBGetResponse` and no closing event (nor an `EventList` header).
fn closes_list(response: &Message, event: &Message) -> bool {
    event.ends_list()
        || (response.get_bytes("EventList").is_none()
            && event.event_name().is_some_and(|n| n.eq_ignore_ascii_case("DBGetResponse")))
}

/// An error packet: `Action: <label>`, `Response: Error` and why; without
/// the `Action` item when nothing was sent.
pub(crate) fn error_packet(label: &str, problem: &Problem) -> *mut ast_packet {
    match problem {
        Problem::Before(why) => refused(why.as_bytes()),
        Problem::After(f) => failed(label, f.message().as_bytes()),
    }
}

/// `Action: <label>`, `Response: Error`, `Message: <why>`.
pub(crate) fn failed(label: &str, why: &[u8]) -> *mut ast_packet {
    let p = push(null_mut(), b"Action", label.as_bytes());
    push(push(p, b"Response", b"Error"), b"Message", why)
}

/// The packet group of an answer: `Action: <label>` and the response's
/// items, then one packet per list event (closing event last).
pub(crate) fn answer_packet(label: &str, answer: &Answer) -> *mut ast_packet {
    let first = packet::from_message(&answer.response, push(null_mut(), b"Action", label.as_bytes()));
    let mut tail = first;
    for event in &answer.list {
        let p = packet::from_message(event, null_mut());
        // SAFETY: `tail` is the last packet of the group we are building.
        unsafe { (*tail).next = p };
        tail = p;
    }
    first
}

/// The common call: send `name`, wait for the answer (lists whole), and
/// return `Action: <name>` with the answer merged in.
pub(crate) fn packet(sock: c_int, name: &str, headers: &[Header], action_id: *const c_char) -> *mut ast_packet {
    match send(sock, name, headers, action_id, REPLY_LIMIT, Wait::List) {
        Ok(answer) => answer_packet(name, &answer),
        Err(problem) => error_packet(name, &problem),
    }
}
