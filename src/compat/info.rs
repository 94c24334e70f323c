//! `ami/info.h`: what the server knows. List calls return groups: the
//! response packet (`Action: <name>` and the server's response), one packet
//! per list event, the closing event last. Checks made before sending
//! answer `Response: Error` and the original's `Message`, no `Action` item.

use std::ffi::{c_char, c_int};
use std::ptr::null_mut;

use super::output::{cli_text, version};
use super::packet::{ast_packet, push};
use super::request::{self, Wait, checked, error_packet, failed, given, opt, send};
use super::socket::REPLY_LIMIT;
use crate::ffi::guard;

/// The server's version from `core show version`: `Action: Command`,
/// `Response: Success`, `Version: 16.30.1`, then `ActionID` (the program's,
/// or empty). `command` is not used: the original always sent
/// `core show version`, and programs pass anything there.
#[unsafe(no_mangle)]
pub extern "C" fn ami_server_version(sock: c_int, command: *const c_char, actionID: *const c_char) -> *mut ast_packet {
    let _ = command;
    guard(null_mut(), || {
        let answer = match send(sock, "Command", &[("Command", Some(b"core show version"))], actionID, REPLY_LIMIT, Wait::Response) {
            Ok(a) => a,
            Err(problem) => return error_packet("Command", &problem),
        };
        let Some(text) = cli_text(&answer.response) else { return request::answer_packet("Command", &answer) };
        let Some(v) = version(&text) else {
            return failed("Command", b"received an invalid/unknown response from server");
        };
        let p = push(push(null_mut(), b"Action", b"Command"), b"Response", b"Success");
        push(push(p, b"Version", v), b"ActionID", opt(actionID).unwrap_or_default())
    })
}

/// `SIPpeers` (a group of `PeerEntry` packets, then `PeerlistComplete`).
#[unsafe(no_mangle)]
pub extern "C" fn ami_sip_peers(sock: c_int, actionID: *const c_char) -> *mut ast_packet {
    guard(null_mut(), || request::packet(sock, "SIPpeers", &[], actionID))
}

/// `SIPshowpeer`. Check: `Invalid peer`.
#[unsafe(no_mangle)]
pub extern "C" fn ami_sip_show_peer(sock: c_int, peer: *const c_char, actionID: *const c_char) -> *mut ast_packet {
    guard(null_mut(), || {
        checked(sock, &[(given(peer), "Invalid peer")], || request::packet(sock, "SIPshowpeer", &[("Peer", opt(peer))], actionID))
    })
}

/// `Agents` (a group, `AgentsComplete` last).
#[unsafe(no_mangle)]
pub extern "C" fn ami_agents(sock: c_int, actionID: *const c_char) -> *mut ast_packet {
    guard(null_mut(), || request::packet(sock, "Agents", &[], actionID))
}

/// `ParkedCalls` (a group, `ParkedCallsComplete` last).
#[unsafe(no_mangle)]
pub extern "C" fn ami_parked_calls(sock: c_int, actionID: *const c_char) -> *mut ast_packet {
    guard(null_mut(), || request::packet(sock, "ParkedCalls", &[], actionID))
}

/// `Status` of every channel (a group of `Status` packets, then `StatusComplete`).
#[unsafe(no_mangle)]
pub extern "C" fn ami_channels(sock: c_int, actionID: *const c_char) -> *mut ast_packet {
    guard(null_mut(), || request::packet(sock, "Status", &[], actionID))
}

/// `ExtensionState`. Checks: `Invalid extension`, `Invalid context`.
#[unsafe(no_mangle)]
pub extern "C" fn ami_extension_state(sock: c_int, exten: *const c_char, context: *const c_char, actionID: *const c_char) -> *mut ast_packet {
    guard(null_mut(), || {
        checked(sock, &[(given(exten), "Invalid extension"), (given(context), "Invalid context")], || {
            request::packet(sock, "ExtensionState", &[("Exten", opt(exten)), ("Context", opt(context))], actionID)
        })
    })
}

/// `MailboxCount` of `mailbox@context`. Checks: `Invalid mailbox`
/// (negative), `Invalid context`.
#[unsafe(no_mangle)]
pub extern "C" fn ami_mailbox_count(sock: c_int, mailbox: c_int, context: *const c_char, actionID: *const c_char) -> *mut ast_packet {
    guard(null_mut(), || self::mailbox(sock, "MailboxCount", mailbox, context, actionID))
}

/// `MailboxStatus` of `mailbox@context`. Checks: `Invalid mailbox`
/// (negative), `Invalid context`.
#[unsafe(no_mangle)]
pub extern "C" fn ami_mailbox_status(sock: c_int, mailbox: c_int, context: *const c_char, actionID: *const c_char) -> *mut ast_packet {
    guard(null_mut(), || self::mailbox(sock, "MailboxStatus", mailbox, context, actionID))
}

fn mailbox(sock: c_int, name: &str, number: c_int, context: *const c_char, actionID: *const c_char) -> *mut ast_packet {
    checked(sock, &[(number >= 0, "Invalid mailbox"), (given(context), "Invalid context")], || {
        let mut mb = number.to_string().into_bytes();
        mb.push(b'@');
        mb.extend_from_slice(opt(context).unwrap_or_default());
        request::packet(sock, name, &[("Mailbox", Some(&mb))], actionID)
    })
}

/// `QueueStatus` (`queue` NULL: every queue; a group of `QueueParams` and
/// `QueueMember` packets, then `QueueStatusComplete`).
#[unsafe(no_mangle)]
pub extern "C" fn ami_queue_status(sock: c_int, queue: *const c_char, actionID: *const c_char) -> *mut ast_packet {
    guard(null_mut(), || request::packet(sock, "QueueStatus", &[("Queue", opt(queue))], actionID))
}
