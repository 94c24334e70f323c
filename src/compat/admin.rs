//! `ami/admin.h`: AstDB, queues, agents, CLI commands, custom actions.
//!
//! Every call returns what the original libami 2.0.1 returned: the checks
//! it made before sending (`Response: Error` and its `Message`, no `Action`
//! item), then `Action: <name>` and the server's answer in its shapes.

use std::ffi::{c_char, c_int, c_short};
use std::ptr::null_mut;

use super::output::{chunked, cli_text, free_form_text, push_db_entries};
use super::packet::{ast_packet, items_of, push};
use super::request::{self, Header, Wait, checked, error_packet, given, one_if, opt, refusal, send, text};
use super::socket::REPLY_LIMIT;
use crate::ffi::guard;

/// `database show` as `Action: DBShow`, `Response: Success`, a `Family`,
/// `Key`, `Value` triple per entry, then `ActionID` (the program's, or
/// empty). A server error comes back as `Action: DBShow` and its answer.
#[unsafe(no_mangle)]
pub extern "C" fn ami_dbshow(sock: c_int, actionID: *const c_char) -> *mut ast_packet {
    guard(null_mut(), || {
        let answer = match send(sock, "Command", &[("Command", Some(b"database show"))], actionID, REPLY_LIMIT, Wait::Response) {
            Ok(a) => a,
            Err(problem) => return error_packet("DBShow", &problem),
        };
        let Some(text) = cli_text(&answer.response) else { return request::answer_packet("DBShow", &answer) };
        let p = push(push(null_mut(), b"Action", b"DBShow"), b"Response", b"Success");
        push(push_db_entries(p, &text), b"ActionID", opt(actionID).unwrap_or_default())
    })
}

/// `DBGet` in one packet: `Action: DBGet`, `Response: Success`, then the
/// `Family`, `Key` and `Val` of the `DBGetResponse` event (the rest of the
/// list is read and dropped). An error answer is merged after
/// `Action: DBGet`. Checks: `Invalid family`, `Invalid key`.
#[unsafe(no_mangle)]
pub extern "C" fn ami_dbget(sock: c_int, family: *const c_char, key: *const c_char, actionID: *const c_char) -> *mut ast_packet {
    guard(null_mut(), || {
        checked(sock, &[(given(family), "Invalid family"), (given(key), "Invalid key")], || {
            let headers = [("Family", opt(family)), ("Key", opt(key))];
            let answer = match send(sock, "DBGet", &headers, actionID, REPLY_LIMIT, Wait::List) {
                Ok(a) if a.response.is_success() => a,
                Ok(a) => return request::answer_packet("DBGet", &a),
                Err(problem) => return error_packet("DBGet", &problem),
            };
            let mut p = push(push(null_mut(), b"Action", b"DBGet"), b"Response", b"Success");
            let found = answer.list.iter().find(|e| e.event_name().is_some_and(|n| n.eq_ignore_ascii_case("DBGetResponse")));
            if let Some(e) = found {
                for (n, v) in (0..e.len()).filter_map(|i| Some((e.name_bytes_at(i)?, e.value_bytes_at(i)?))) {
                    if [&b"Family"[..], b"Key", b"Val"].contains(&n) {
                        p = push(p, n, v);
                    }
                }
            }
            p
        })
    })
}

/// `DBPut`. Checks: `Invalid family`, `Invalid key`, `Invalid val` (NULL;
/// an empty value is stored).
#[unsafe(no_mangle)]
pub extern "C" fn ami_dbput(
    sock: c_int,
    family: *const c_char,
    key: *const c_char,
    value: *const c_char,
    actionID: *const c_char,
) -> *mut ast_packet {
    guard(null_mut(), || {
        let checks = [(given(family), "Invalid family"), (given(key), "Invalid key"), (!value.is_null(), "Invalid val")];
        checked(sock, &checks, || {
            request::packet(sock, "DBPut", &[("Family", opt(family)), ("Key", opt(key)), ("Val", text(value))], actionID)
        })
    })
}

/// `DBDel` (the original sent the CLI's `database del`, which current
/// servers refuse): `Action: DBDel` and the server's answer. Checks:
/// `Invalid family`, `Invalid key`.
#[unsafe(no_mangle)]
pub extern "C" fn ami_dbdel(sock: c_int, family: *const c_char, key: *const c_char, actionID: *const c_char) -> *mut ast_packet {
    guard(null_mut(), || {
        checked(sock, &[(given(family), "Invalid family"), (given(key), "Invalid key")], || {
            request::packet(sock, "DBDel", &[("Family", opt(family)), ("Key", opt(key))], actionID)
        })
    })
}

/// `DBDelTree` (`key` may be NULL: the whole family): `Action: DBDeltree`,
/// spelled as the original spelled it, and the server's answer. Check:
/// `Invalid family`.
#[unsafe(no_mangle)]
pub extern "C" fn ami_dbdeltree(sock: c_int, family: *const c_char, key: *const c_char, actionID: *const c_char) -> *mut ast_packet {
    guard(null_mut(), || {
        checked(sock, &[(given(family), "Invalid family")], || {
            match send(sock, "DBDelTree", &[("Family", opt(family)), ("Key", opt(key))], actionID, REPLY_LIMIT, Wait::List) {
                Ok(answer) => request::answer_packet("DBDeltree", &answer),
                Err(problem) => error_packet("DBDeltree", &problem),
            }
        })
    })
}

/// `QueueAdd`. Checks: `Invalid queue`, `Invalid interface`.
#[unsafe(no_mangle)]
pub extern "C" fn ami_queue_add(sock: c_int, interface: *const c_char, queue: *const c_char, actionID: *const c_char) -> *mut ast_packet {
    guard(null_mut(), || queue_member(sock, "QueueAdd", interface, queue, actionID))
}

/// `QueueRemove`. Checks: `Invalid queue`, `Invalid interface`.
#[unsafe(no_mangle)]
pub extern "C" fn ami_queue_remove(sock: c_int, interface: *const c_char, queue: *const c_char, actionID: *const c_char) -> *mut ast_packet {
    guard(null_mut(), || queue_member(sock, "QueueRemove", interface, queue, actionID))
}

fn queue_member(sock: c_int, name: &str, interface: *const c_char, queue: *const c_char, actionID: *const c_char) -> *mut ast_packet {
    checked(sock, &[(given(queue), "Invalid queue"), (given(interface), "Invalid interface")], || {
        request::packet(sock, name, &[("Queue", opt(queue)), ("Interface", opt(interface))], actionID)
    })
}

/// `QueuePause` (`paused`: 1 pause, 0 unpause; `queue` NULL: every queue).
/// Check: `Invalid interface`.
#[unsafe(no_mangle)]
pub extern "C" fn ami_queue_pause(
    sock: c_int,
    interface: *const c_char,
    queue: *const c_char,
    paused: c_short,
    actionID: *const c_char,
) -> *mut ast_packet {
    guard(null_mut(), || {
        checked(sock, &[(given(interface), "Invalid interface")], || {
            let paused: &[u8] = if paused != 0 { b"1" } else { b"0" };
            let headers = [("Interface", opt(interface)), ("Paused", Some(paused)), ("Queue", opt(queue))];
            request::packet(sock, "QueuePause", &headers, actionID)
        })
    })
}

/// `AgentCallbackLogin` (gone from current Asterisk: the server's error
/// comes back). Checks: `Invalid agent_id` (not positive), `Invalid extension`.
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
        checked(sock, &[(agentID > 0, "Invalid agent_id"), (given(exten), "Invalid extension")], || {
            let agent = agentID.to_string();
            let wrap = wrapUpTime.to_string();
            let headers = [
                ("Agent", Some(agent.as_bytes())),
                ("Exten", opt(exten)),
                ("Context", opt(context)),
                ("AckCall", one_if(ackCall)),
                ("WrapupTime", (wrapUpTime > 0).then_some(wrap.as_bytes())),
            ];
            request::packet(sock, "AgentCallbackLogin", &headers, actionID)
        })
    })
}

/// `AgentLogoff` (`softhangup`: 1 waits for the call to end). Check:
/// `Invalid agent_id` (not positive).
#[unsafe(no_mangle)]
pub extern "C" fn ami_agent_logoff(sock: c_int, agentID: c_int, softhangup: c_short, actionID: *const c_char) -> *mut ast_packet {
    guard(null_mut(), || {
        checked(sock, &[(agentID > 0, "Invalid agent_id")], || {
            let agent = agentID.to_string();
            request::packet(sock, "AgentLogoff", &[("Agent", Some(agent.as_bytes())), ("Soft", one_if(softhangup))], actionID)
        })
    })
}

/// A CLI command: `Action: Command`, `Response: Success`, `Message: Command
/// successfully sent`, then the output in `Chunk1`, `Chunk2`... of at most
/// 255 bytes (the last may be empty), for both the Asterisk 14+ `Output:`
/// and the legacy `Response: Follows` forms. An answer without output
/// (permission denied...) is merged after `Action: Command`. Check:
/// `Invalid command`.
#[unsafe(no_mangle)]
pub extern "C" fn ami_command(sock: c_int, command: *const c_char, actionID: *const c_char) -> *mut ast_packet {
    guard(null_mut(), || {
        checked(sock, &[(given(command), "Invalid command")], || {
            match send(sock, "Command", &[("Command", opt(command))], actionID, REPLY_LIMIT, Wait::Response) {
                Ok(answer) => match cli_text(&answer.response) {
                    Some(text) => chunked("Command", &text),
                    None => request::answer_packet("Command", &answer),
                },
                Err(problem) => error_packet("Command", &problem),
            }
        })
    })
}

/// Sends the items of `cmd` as they are (an `ActionID` item is the one the
/// program sees again) and returns `Action: Custom` with the response
/// merged in. Only the response: the events of a list it opens go to the
/// event callback, as in the original. Check: `Invalid command` (NULL or
/// no items).
#[unsafe(no_mangle)]
pub extern "C" fn ami_custom(sock: c_int, cmd: *mut ast_packet) -> *mut ast_packet {
    guard(null_mut(), || match custom(sock, cmd, "Custom") {
        Ok(answer) => request::answer_packet("Custom", &answer),
        Err(p) => p,
    })
}

/// As `ami_custom`, the answer as text: `Action: CustomFreeForm`,
/// `Response: Success`, `Message: Command successfully sent`, then the
/// response as the lines the server sent (command output as is), less its
/// first two lines as the original skipped them, in `Chunk1`... items.
#[unsafe(no_mangle)]
pub extern "C" fn ami_custom_free_form(sock: c_int, cmd: *mut ast_packet) -> *mut ast_packet {
    guard(null_mut(), || match custom(sock, cmd, "CustomFreeForm") {
        Ok(answer) => chunked("CustomFreeForm", &free_form_text(&answer.response)),
        Err(p) => p,
    })
}

/// Sends a program-built packet; Err holds the error packet to return.
fn custom(sock: c_int, cmd: *mut ast_packet, label: &str) -> Result<request::Answer, *mut ast_packet> {
    let items = items_of(cmd);
    if let Some(p) = refusal(sock, &[(!items.is_empty(), "Invalid command")]) {
        return Err(p);
    }
    let id = items.iter().find(|(n, _)| n.eq_ignore_ascii_case(b"ActionID")).map(|(_, v)| [v.as_slice(), b"\0"].concat());
    let names: Vec<String> = items.iter().map(|(n, _)| String::from_utf8_lossy(n).into_owned()).collect();
    let headers: Vec<Header> = names
        .iter()
        .zip(&items)
        .filter(|(n, _)| !n.eq_ignore_ascii_case("ActionID"))
        .map(|(n, (_, v))| (n.as_str(), Some(v.as_slice())))
        .collect();
    let id_ptr = id.as_ref().map_or(std::ptr::null(), |v| v.as_ptr().cast());
    request::exchange(sock, &headers, id_ptr, REPLY_LIMIT, Wait::Response).map_err(|problem| error_packet(label, &problem))
}
