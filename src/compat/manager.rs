//! `ami/manager.h`: session calls of the classic API.

use std::ffi::{c_char, c_int, c_short};
use std::ptr::null_mut;

use super::packet::ast_packet;
use super::request::{self, Wait, checked, given, opt, send, text};
use super::socket::REPLY_LIMIT;
use crate::ffi::guard;

/// Logs in. `events` NULL or empty means `Off`. Returns `Action: Login` and
/// the server's answer. Check: `Invalid user`.
#[unsafe(no_mangle)]
pub extern "C" fn ami_login(
    sock: c_int,
    username: *const c_char,
    secret: *const c_char,
    events: *const c_char,
    actionID: *const c_char,
) -> *mut ast_packet {
    guard(null_mut(), || {
        checked(sock, &[(given(username), "Invalid user")], || {
            let events = opt(events).unwrap_or(b"Off");
            let headers = [("Username", opt(username)), ("Secret", text(secret)), ("Events", Some(events))];
            request::packet(sock, "Login", &headers, actionID)
        })
    })
}

/// Sends `Logoff`; the server answers `Goodbye` and closes the connection.
#[unsafe(no_mangle)]
pub extern "C" fn ami_logoff(sock: c_int, actionID: *const c_char) {
    guard((), || {
        let _ = send(sock, "Logoff", &[], actionID, super::socket::REPLY_SILENCE, Wait::Response);
    })
}

/// Sets the event mask from flags (none set: `Off`). 1 on success, in the
/// reply forms of both old and current Asterisk.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn ami_set_events(
    sock: c_int,
    system: c_short,
    call: c_short,
    log: c_short,
    verbose: c_short,
    command: c_short,
    agent: c_short,
    user: c_short,
    actionID: *const c_char,
) -> c_short {
    guard(0, || {
        let classes = [(system, "system"), (call, "call"), (log, "log"), (verbose, "verbose"), (command, "command"), (agent, "agent"), (user, "user")];
        let on: Vec<&str> = classes.iter().filter(|(f, _)| *f != 0).map(|(_, n)| *n).collect();
        let mask = if on.is_empty() { "Off".to_string() } else { on.join(",") };
        match send(sock, "Events", &[("EventMask", Some(mask.as_bytes()))], actionID, REPLY_LIMIT, Wait::Response) {
            // Current: `Response: Success` + `Events: On|Off`; old: `Response: Events On|Off`.
            Ok(a) => c_short::from(
                a.response.is_success()
                    || a.response.get("Response").is_some_and(|r| r.to_ascii_lowercase().starts_with("events")),
            ),
            Err(_) => 0,
        }
    })
}

/// 1 if the server answered the Ping (`Ping: Pong`, or the old `Response: Pong`).
#[unsafe(no_mangle)]
pub extern "C" fn ami_ping(sock: c_int, actionID: *const c_char) -> c_short {
    guard(0, || match send(sock, "Ping", &[], actionID, REPLY_LIMIT, Wait::Response) {
        Ok(a) => c_short::from(a.response.has("Ping", "Pong") || a.response.has("Response", "Pong") || a.response.is_success()),
        Err(_) => 0,
    })
}

/// The server's actions and their descriptions, as items.
#[unsafe(no_mangle)]
pub extern "C" fn ami_list_commands(sock: c_int, actionID: *const c_char) -> *mut ast_packet {
    guard(null_mut(), || request::packet(sock, "ListCommands", &[], actionID))
}
