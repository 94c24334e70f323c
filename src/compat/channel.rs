//! `ami/channel.h`: calls and channels.
//!
//! Each call returns `Action: <name>` (spelled as the original spelled it)
//! with the server's response merged in, after the checks the original
//! made before sending (`Response: Error` and its `Message`, no `Action`).

use std::ffi::{c_char, c_int, c_long, c_short};
use std::ptr::null_mut;
use std::time::Duration;

use super::packet::{ast_packet, c_bytes};
use super::request::{self, Header, Wait, answer_packet, checked, error_packet, failed, given, one_if, opt, send};
use super::socket::REPLY_LIMIT;
use crate::ffi::guard;

/// `AbsoluteTimeout`: hang `channel` up after `timeout` seconds. Checks:
/// `Invalid channel`, `Invalid timeout` (not positive).
#[unsafe(no_mangle)]
pub extern "C" fn ami_absolute_timeout(sock: c_int, channel: *const c_char, timeout: c_long, actionID: *const c_char) -> *mut ast_packet {
    guard(null_mut(), || {
        checked(sock, &[(given(channel), "Invalid channel"), (timeout > 0, "Invalid timeout")], || {
            let t = timeout.to_string();
            request::packet(sock, "AbsoluteTimeout", &[("Channel", opt(channel)), ("Timeout", Some(t.as_bytes()))], actionID)
        })
    })
}

/// `Getvar` (`channel` NULL: a global variable); the value is in `Value`.
/// Check: `Invalid varname`.
#[unsafe(no_mangle)]
pub extern "C" fn ami_getvar(sock: c_int, varname: *const c_char, channel: *const c_char, actionID: *const c_char) -> *mut ast_packet {
    guard(null_mut(), || {
        checked(sock, &[(given(varname), "Invalid varname")], || {
            request::packet(sock, "Getvar", &[("Variable", opt(varname)), ("Channel", opt(channel))], actionID)
        })
    })
}

/// `Setvar` (`channel` NULL: a global variable). Checks: `Invalid varname`,
/// `Invalid val` (NULL or empty).
#[unsafe(no_mangle)]
pub extern "C" fn ami_setvar(
    sock: c_int,
    varname: *const c_char,
    value: *const c_char,
    channel: *const c_char,
    actionID: *const c_char,
) -> *mut ast_packet {
    guard(null_mut(), || {
        checked(sock, &[(given(varname), "Invalid varname"), (given(value), "Invalid val")], || {
            let headers = [("Variable", opt(varname)), ("Value", opt(value)), ("Channel", opt(channel))];
            request::packet(sock, "Setvar", &headers, actionID)
        })
    })
}

/// `Hangup`. Check: `Invalid channel`.
#[unsafe(no_mangle)]
pub extern "C" fn ami_hangup(sock: c_int, channel: *const c_char, actionID: *const c_char) -> *mut ast_packet {
    guard(null_mut(), || {
        checked(sock, &[(given(channel), "Invalid channel")], || {
            request::packet(sock, "Hangup", &[("Channel", opt(channel))], actionID)
        })
    })
}

/// `Redirect` (`extraChannel` may be NULL). Checks: `Invalid channel`,
/// `Invalid context`, `Invalid extension`, `Invalid priority` (not positive).
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
        let checks = [
            (given(channel), "Invalid channel"),
            (given(context), "Invalid context"),
            (given(exten), "Invalid extension"),
            (priority > 0, "Invalid priority"),
        ];
        checked(sock, &checks, || {
            let prio = priority.to_string();
            let headers = [
                ("Channel", opt(channel)),
                ("Exten", opt(exten)),
                ("Context", opt(context)),
                ("Priority", Some(prio.as_bytes())),
                ("ExtraChannel", opt(extraChannel)),
            ];
            request::packet(sock, "Redirect", &headers, actionID)
        })
    })
}

/// `Originate`: empty arguments are left out; `timeout` in milliseconds
/// (0: the server's default); `variables` a NULL-terminated list of
/// `name=value`, each sent as its own `Variable:` header; `async` 1 returns
/// at `Originate successfully queued` (the `OriginateResponse` event then
/// goes to the event callback), 0 waits for the server's answer. Check:
/// `Invalid channel`; then, as the original, with `Action: Originate`
/// first: `If one of Exten, Priority, or Context is used, all three must be
/// used` and `Data argument requires the Application argument`.
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
        checked(sock, &[(given(channel), "Invalid channel")], || {
            let dialplan = [given(context), given(exten), priority > 0];
            if dialplan.contains(&true) && dialplan.contains(&false) {
                return failed("Originate", b"If one of Exten, Priority, or Context is used, all three must be used");
            }
            if given(data) && !given(app) {
                return failed("Originate", b"Data argument requires the Application argument");
            }
            let prio = priority.to_string();
            let wait = timeout.to_string();
            let mut headers: Vec<Header> = vec![
                ("Channel", opt(channel)),
                ("Context", opt(context)),
                ("Exten", opt(exten)),
                ("Priority", (priority > 0).then_some(prio.as_bytes())),
                ("Application", opt(app)),
                ("Data", opt(data)),
                ("Timeout", (timeout > 0).then_some(wait.as_bytes())),
                ("CallerID", opt(callerID)),
            ];
            let mut i = 0;
            while !variables.is_null() {
                // SAFETY: `variables` is a NULL-terminated array (the contract).
                let v = unsafe { *variables.add(i) };
                let Some(v) = c_bytes(v) else { break };
                headers.push(("Variable", Some(v)));
                i += 1;
            }
            headers.extend([("Account", opt(accountCode)), ("Async", one_if(r#async))]);
            // A synchronous Originate answers when the call does: allow for it.
            let limit = if r#async != 0 {
                REPLY_LIMIT
            } else {
                REPLY_LIMIT.max(Duration::from_millis(timeout.max(0) as u64) + Duration::from_secs(5))
            };
            match send(sock, "Originate", &headers, actionID, limit, Wait::List) {
                Ok(answer) => answer_packet("Originate", &answer),
                Err(problem) => error_packet("Originate", &problem),
            }
        })
    })
}

/// `Monitor`: record `channel` to `filename` in `format` (`combine`: mix
/// legs). Check: `Invalid channel`.
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
        checked(sock, &[(given(channel), "Invalid channel")], || {
            let headers = [("Channel", opt(channel)), ("File", opt(filename)), ("Format", opt(format)), ("Mix", one_if(combine))];
            request::packet(sock, "Monitor", &headers, actionID)
        })
    })
}

/// `ChangeMonitor`: record to another file. Checks: `Invalid channel`,
/// `Invalid filename`.
#[unsafe(no_mangle)]
pub extern "C" fn ami_monitor_change(sock: c_int, channel: *const c_char, file: *const c_char, actionID: *const c_char) -> *mut ast_packet {
    guard(null_mut(), || {
        checked(sock, &[(given(channel), "Invalid channel"), (given(file), "Invalid filename")], || {
            request::packet(sock, "ChangeMonitor", &[("Channel", opt(channel)), ("File", opt(file))], actionID)
        })
    })
}

/// `StopMonitor`. Check: no channel is `Invalid filename`, the original's
/// own words.
#[unsafe(no_mangle)]
pub extern "C" fn ami_monitor_stop(sock: c_int, channel: *const c_char, actionID: *const c_char) -> *mut ast_packet {
    guard(null_mut(), || {
        checked(sock, &[(given(channel), "Invalid filename")], || {
            request::packet(sock, "StopMonitor", &[("Channel", opt(channel))], actionID)
        })
    })
}
