//! `ami/channel.h`: calls and channels.

use std::ffi::{c_char, c_int, c_long, c_short};
use std::ptr::null_mut;
use std::time::Duration;

use super::packet::{ast_packet, c_bytes};
use super::request::{self, Header, answer_packet, error_packet, exchange, flag, opt};
use super::socket::REPLY_LIMIT;
use crate::ffi::guard;

/// `AbsoluteTimeout`: hang `channel` up after `timeout` seconds.
#[unsafe(no_mangle)]
pub extern "C" fn ami_absolute_timeout(sock: c_int, channel: *const c_char, timeout: c_long, actionID: *const c_char) -> *mut ast_packet {
    guard(null_mut(), || {
        let t = timeout.to_string();
        request::packet(sock, "AbsoluteTimeout", &[("Channel", opt(channel)), ("Timeout", Some(t.as_bytes()))], actionID)
    })
}

/// `GetVar` (`channel` NULL: a global variable); the value is in `Value`.
#[unsafe(no_mangle)]
pub extern "C" fn ami_getvar(sock: c_int, varname: *const c_char, channel: *const c_char, actionID: *const c_char) -> *mut ast_packet {
    guard(null_mut(), || request::packet(sock, "GetVar", &[("Channel", opt(channel)), ("Variable", opt(varname))], actionID))
}

/// `SetVar` (`channel` NULL: a global variable).
#[unsafe(no_mangle)]
pub extern "C" fn ami_setvar(
    sock: c_int,
    varname: *const c_char,
    value: *const c_char,
    channel: *const c_char,
    actionID: *const c_char,
) -> *mut ast_packet {
    guard(null_mut(), || {
        let headers = [("Channel", opt(channel)), ("Variable", opt(varname)), ("Value", opt(value))];
        request::packet(sock, "SetVar", &headers, actionID)
    })
}

/// `Hangup`.
#[unsafe(no_mangle)]
pub extern "C" fn ami_hangup(sock: c_int, channel: *const c_char, actionID: *const c_char) -> *mut ast_packet {
    guard(null_mut(), || request::packet(sock, "Hangup", &[("Channel", opt(channel))], actionID))
}

/// `Redirect` (`extraChannel` may be NULL).
#[unsafe(no_mangle)]
pub extern "C" fn ami_redirect(
    sock: c_int,
    channel: *const c_char,
    context: *const c_char,
    exten: *const c_char,
    priority: c_int,
    extraChannel: *const c_char,
    actionID: *const c_char,
) -> *mut ast_packet {
    guard(null_mut(), || {
        let prio = priority.to_string();
        let headers = [
            ("Channel", opt(channel)),
            ("ExtraChannel", opt(extraChannel)),
            ("Context", opt(context)),
            ("Exten", opt(exten)),
            ("Priority", Some(prio.as_bytes())),
        ];
        request::packet(sock, "Redirect", &headers, actionID)
    })
}

/// `Originate`: NULL arguments are left out; `timeout` in milliseconds (0:
/// the server's default); `variables` a NULL-terminated list of
/// `name=value`, each sent as its own `Variable:` header; `async` 1 returns
/// at `Originate successfully queued` (the `OriginateResponse` event then
/// goes to the event callback), 0 waits for the call's answer.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn ami_originate(
    sock: c_int,
    channel: *const c_char,
    context: *const c_char,
    exten: *const c_char,
    priority: c_int,
    app: *const c_char,
    data: *const c_char,
    timeout: c_long,
    callerID: *const c_char,
    variables: *mut *const c_char,
    accountCode: *const c_char,
    r#async: c_short,
    actionID: *const c_char,
) -> *mut ast_packet {
    guard(null_mut(), || {
        let prio = priority.to_string();
        let wait = timeout.to_string();
        let mut headers: Vec<Header> = vec![
            ("Channel", opt(channel)),
            ("Context", opt(context)),
            ("Exten", opt(exten)),
            ("Priority", (!exten.is_null()).then_some(prio.as_bytes())),
            ("Application", opt(app)),
            ("Data", opt(data)),
            ("Timeout", (timeout > 0).then_some(wait.as_bytes())),
            ("CallerID", opt(callerID)),
            ("Account", opt(accountCode)),
            ("Async", (r#async != 0).then(|| flag(1)).flatten()),
        ];
        let mut i = 0;
        while !variables.is_null() {
            // SAFETY: `variables` is a NULL-terminated array (the contract).
            let v = unsafe { *variables.add(i) };
            let Some(v) = c_bytes(v) else { break };
            headers.push(("Variable", Some(v)));
            i += 1;
        }
        // A synchronous Originate answers when the call does: allow for it.
        let limit = if r#async != 0 {
            REPLY_LIMIT
        } else {
            REPLY_LIMIT.max(Duration::from_millis(timeout.max(0) as u64) + Duration::from_secs(5))
        };
        match exchange(sock, "Originate", &headers, actionID, limit) {
            Ok(answer) => answer_packet("Originate", &answer),
            Err(problem) => error_packet("Originate", &problem),
        }
    })
}

/// `Monitor`: record `channel` to `filename` in `format` (`combine`: mix legs).
#[unsafe(no_mangle)]
pub extern "C" fn ami_monitor(
    sock: c_int,
    channel: *const c_char,
    filename: *const c_char,
    format: *const c_char,
    combine: c_short,
    actionID: *const c_char,
) -> *mut ast_packet {
    guard(null_mut(), || {
        let headers = [("Channel", opt(channel)), ("File", opt(filename)), ("Format", opt(format)), ("Mix", flag(combine))];
        request::packet(sock, "Monitor", &headers, actionID)
    })
}

/// `ChangeMonitor`: record to another file.
#[unsafe(no_mangle)]
pub extern "C" fn ami_monitor_change(sock: c_int, channel: *const c_char, file: *const c_char, actionID: *const c_char) -> *mut ast_packet {
    guard(null_mut(), || request::packet(sock, "ChangeMonitor", &[("Channel", opt(channel)), ("File", opt(file))], actionID))
}

/// `StopMonitor`.
#[unsafe(no_mangle)]
pub extern "C" fn ami_monitor_stop(sock: c_int, channel: *const c_char, actionID: *const c_char) -> *mut ast_packet {
    guard(null_mut(), || request::packet(sock, "StopMonitor", &[("Channel", opt(channel))], actionID))
}
