//! `ami/info.h`: what the server knows. List calls return groups: the
//! response packet, one packet per list event, the closing event last.

use std::ffi::{c_char, c_int};
use std::ptr::null_mut;

use super::packet::{ast_packet, c_bytes};
use super::request::{self, command_packet, opt};
use crate::ffi::guard;

/// The output of `command` (NULL: `core show version`) in `Chunk1`.. items.
#[unsafe(no_mangle)]
pub extern "C" fn ami_server_version(sock: c_int, command: *const c_char, actionID: *const c_char) -> *mut ast_packet {
    guard(null_mut(), || {
        command_packet(sock, c_bytes(command).filter(|c| !c.is_empty()).unwrap_or(b"core show version"), actionID)
    })
}

/// `SIPpeers` (a group of `PeerEntry` packets, then `PeerlistComplete`).
#[unsafe(no_mangle)]
pub extern "C" fn ami_sip_peers(sock: c_int, actionID: *const c_char) -> *mut ast_packet {
    guard(null_mut(), || request::packet(sock, "SIPpeers", &[], actionID))
}

/// `SIPshowpeer`.
#[unsafe(no_mangle)]
pub extern "C" fn ami_sip_show_peer(sock: c_int, peer: *const c_char, actionID: *const c_char) -> *mut ast_packet {
    guard(null_mut(), || request::packet(sock, "SIPshowpeer", &[("Peer", opt(peer))], actionID))
}

/// `Agents` (a group).
#[unsafe(no_mangle)]
pub extern "C" fn ami_agents(sock: c_int, actionID: *const c_char) -> *mut ast_packet {
    guard(null_mut(), || request::packet(sock, "Agents", &[], actionID))
}

/// `ParkedCalls` (a group).
#[unsafe(no_mangle)]
pub extern "C" fn ami_parked_calls(sock: c_int, actionID: *const c_char) -> *mut ast_packet {
    guard(null_mut(), || request::packet(sock, "ParkedCalls", &[], actionID))
}

/// `Status` of every channel (a group of `Status` packets, then `StatusComplete`).
#[unsafe(no_mangle)]
pub extern "C" fn ami_channels(sock: c_int, actionID: *const c_char) -> *mut ast_packet {
    guard(null_mut(), || request::packet(sock, "Status", &[], actionID))
}

/// `ExtensionState`.
#[unsafe(no_mangle)]
pub extern "C" fn ami_extension_state(sock: c_int, exten: *const c_char, context: *const c_char, actionID: *const c_char) -> *mut ast_packet {
    guard(null_mut(), || request::packet(sock, "ExtensionState", &[("Exten", opt(exten)), ("Context", opt(context))], actionID))
}

fn mailbox(number: c_int, context: *const c_char) -> String {
    match c_bytes(context).filter(|c| !c.is_empty()) {
        Some(c) => format!("{number}@{}", String::from_utf8_lossy(c)),
        None => number.to_string(),
    }
}

/// `MailboxCount` of `mailbox@context`.
#[unsafe(no_mangle)]
pub extern "C" fn ami_mailbox_count(sock: c_int, mailbox: c_int, context: *const c_char, actionID: *const c_char) -> *mut ast_packet {
    guard(null_mut(), || {
        let mb = self::mailbox(mailbox, context);
        request::packet(sock, "MailboxCount", &[("Mailbox", Some(mb.as_bytes()))], actionID)
    })
}

/// `MailboxStatus` of `mailbox@context`.
#[unsafe(no_mangle)]
pub extern "C" fn ami_mailbox_status(sock: c_int, mailbox: c_int, context: *const c_char, actionID: *const c_char) -> *mut ast_packet {
    guard(null_mut(), || {
        let mb = self::mailbox(mailbox, context);
        request::packet(sock, "MailboxStatus", &[("Mailbox", Some(mb.as_bytes()))], actionID)
    })
}

/// `QueueStatus` (`queue` NULL: every queue; a group).
#[unsafe(no_mangle)]
pub extern "C" fn ami_queue_status(sock: c_int, queue: *const c_char, actionID: *const c_char) -> *mut ast_packet {
    guard(null_mut(), || request::packet(sock, "QueueStatus", &[("Queue", opt(queue))], actionID))
}
