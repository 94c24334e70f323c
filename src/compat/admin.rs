//! `ami/admin.h`: AstDB, queues, agents, CLI commands, custom actions.

use std::ffi::{c_char, c_int, c_short};
use std::ptr::null_mut;

use super::packet::{ast_packet, c_bytes, push};
use super::request::{self, command_packet, flag, opt};
use crate::ffi::guard;

/// `database show` output in `Chunk1`.. items.
#[unsafe(no_mangle)]
pub extern "C" fn ami_dbshow(sock: c_int, actionID: *const c_char) -> *mut ast_packet {
    guard(null_mut(), || command_packet(sock, b"database show", actionID))
}

/// `DBGet`: the response, then the `DBGetResponse` event and the closing event.
#[unsafe(no_mangle)]
pub extern "C" fn ami_dbget(sock: c_int, family: *const c_char, key: *const c_char, actionID: *const c_char) -> *mut ast_packet {
    guard(null_mut(), || request::packet(sock, "DBGet", &[("Family", opt(family)), ("Key", opt(key))], actionID))
}

/// `DBPut`.
#[unsafe(no_mangle)]
pub extern "C" fn ami_dbput(
    sock: c_int,
    family: *const c_char,
    key: *const c_char,
    value: *const c_char,
    actionID: *const c_char,
) -> *mut ast_packet {
    guard(null_mut(), || {
        request::packet(sock, "DBPut", &[("Family", opt(family)), ("Key", opt(key)), ("Val", opt(value))], actionID)
    })
}

/// `DBDel`.
#[unsafe(no_mangle)]
pub extern "C" fn ami_dbdel(sock: c_int, family: *const c_char, key: *const c_char, actionID: *const c_char) -> *mut ast_packet {
    guard(null_mut(), || request::packet(sock, "DBDel", &[("Family", opt(family)), ("Key", opt(key))], actionID))
}

/// `DBDelTree` (`key` may be NULL: the whole family).
#[unsafe(no_mangle)]
pub extern "C" fn ami_dbdeltree(sock: c_int, family: *const c_char, key: *const c_char, actionID: *const c_char) -> *mut ast_packet {
    guard(null_mut(), || request::packet(sock, "DBDelTree", &[("Family", opt(family)), ("Key", opt(key))], actionID))
}

/// `QueueAdd`.
#[unsafe(no_mangle)]
pub extern "C" fn ami_queue_add(sock: c_int, interface: *const c_char, queue: *const c_char, actionID: *const c_char) -> *mut ast_packet {
    guard(null_mut(), || request::packet(sock, "QueueAdd", &[("Queue", opt(queue)), ("Interface", opt(interface))], actionID))
}

/// `QueueRemove`.
#[unsafe(no_mangle)]
pub extern "C" fn ami_queue_remove(sock: c_int, interface: *const c_char, queue: *const c_char, actionID: *const c_char) -> *mut ast_packet {
    guard(null_mut(), || request::packet(sock, "QueueRemove", &[("Queue", opt(queue)), ("Interface", opt(interface))], actionID))
}

/// `QueuePause` (`paused`: 1 pause, 0 unpause).
#[unsafe(no_mangle)]
pub extern "C" fn ami_queue_pause(
    sock: c_int,
    interface: *const c_char,
    queue: *const c_char,
    paused: c_short,
    actionID: *const c_char,
) -> *mut ast_packet {
    guard(null_mut(), || {
        let headers = [("Queue", opt(queue)), ("Interface", opt(interface)), ("Paused", flag(paused))];
        request::packet(sock, "QueuePause", &headers, actionID)
    })
}

/// `AgentCallbackLogin` (gone from current Asterisk: the server's error comes back).
#[unsafe(no_mangle)]
pub extern "C" fn ami_agent_callback_login(
    sock: c_int,
    agentID: c_int,
    exten: *const c_char,
    context: *const c_char,
    ackCall: c_short,
    wrapUpTime: c_int,
    actionID: *const c_char,
) -> *mut ast_packet {
    guard(null_mut(), || {
        let agent = agentID.to_string();
        let wrap = wrapUpTime.to_string();
        let headers = [
            ("Agent", Some(agent.as_bytes())),
            ("Exten", opt(exten)),
            ("Context", opt(context)),
            ("AckCall", flag(ackCall)),
            ("WrapupTime", Some(wrap.as_bytes())),
        ];
        request::packet(sock, "AgentCallbackLogin", &headers, actionID)
    })
}

/// `AgentLogoff` (`softhangup`: 1 waits for the call to end).
#[unsafe(no_mangle)]
pub extern "C" fn ami_agent_logoff(sock: c_int, agentID: c_int, softhangup: c_short, actionID: *const c_char) -> *mut ast_packet {
    guard(null_mut(), || {
        let agent = agentID.to_string();
        request::packet(sock, "AgentLogoff", &[("Agent", Some(agent.as_bytes())), ("Soft", flag(softhangup))], actionID)
    })
}

/// A CLI command: `Response` and the output in `Chunk1`.. items of at most
/// 255 bytes, for both the Asterisk 14+ and the legacy command forms.
#[unsafe(no_mangle)]
pub extern "C" fn ami_command(sock: c_int, command: *const c_char, actionID: *const c_char) -> *mut ast_packet {
    guard(null_mut(), || match c_bytes(command).filter(|c| !c.is_empty()) {
        Some(c) => command_packet(sock, c, actionID),
        None => push(push(null_mut(), b"Response", b"Error"), b"Message", b"Invalid argument: no command"),
    })
}

/// Sends the items of `cmd` (which must hold `Action`) as an action and
/// returns the answer (lists as groups). An `ActionID` item in `cmd` is
/// the one the program sees again.
#[unsafe(no_mangle)]
pub extern "C" fn ami_custom(sock: c_int, cmd: *mut ast_packet) -> *mut ast_packet {
    guard(null_mut(), || custom(sock, cmd))
}

/// As `ami_custom`: the answer, whatever its form, lists as groups.
#[unsafe(no_mangle)]
pub extern "C" fn ami_custom_free_form(sock: c_int, cmd: *mut ast_packet) -> *mut ast_packet {
    guard(null_mut(), || custom(sock, cmd))
}

fn custom(sock: c_int, cmd: *mut ast_packet) -> *mut ast_packet {
    let items = super::packet::items_of(cmd);
    let action = items.iter().find(|(n, _)| n.eq_ignore_ascii_case(b"Action")).map(|(_, v)| v.clone());
    let Some(action) = action.and_then(|a| String::from_utf8(a).ok()).filter(|a| !a.is_empty()) else {
        return push(push(null_mut(), b"Response", b"Error"), b"Message", b"Invalid argument: no Action item");
    };
    let id = items.iter().find(|(n, _)| n.eq_ignore_ascii_case(b"ActionID")).map(|(_, v)| v.clone());
    let headers: Vec<(String, Vec<u8>)> = items
        .into_iter()
        .filter(|(n, _)| !n.eq_ignore_ascii_case(b"Action") && !n.eq_ignore_ascii_case(b"ActionID"))
        .map(|(n, v)| (String::from_utf8_lossy(&n).into_owned(), v))
        .collect();
    let headers: Vec<request::Header> = headers.iter().map(|(n, v)| (n.as_str(), Some(v.as_slice()))).collect();
    let id = id.map(|mut v| {
        v.push(0);
        v
    });
    let id_ptr = id.as_ref().map_or(std::ptr::null(), |v| v.as_ptr().cast());
    request::packet(sock, &action, &headers, id_ptr)
}
