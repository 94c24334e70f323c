//! `ami_client`: the handle over [`crate::Client`]. Callbacks run on the
//! client's dispatch thread with the caller's `userdata`.

use std::ffi::{CString, c_char, c_int, c_void};
use std::sync::Mutex;

use super::message::ami_message;
use super::options::ami_options;
use super::{ami_state, arg, fail, guard, guard_status, set_last_error, text, timeout};
use crate::error::{Error, Result};
use crate::{Client, Message, Options, State};

/// An AMI client (opaque). Every function may be called from any thread.
pub struct ami_client {
    client: Client,
    /// `ami_client_banner`'s string, kept until the next connect or free.
    banner: Mutex<Option<CString>>,
}

/// Receives an event; `event` is valid only during the call (`ami_message_clone` to keep it).
pub type ami_event_cb = Option<unsafe extern "C" fn(event: *const ami_message, userdata: *mut c_void)>;
/// Receives a run of events at once (`ami_client_subscribe_batch`): their
/// wire form one after the other, each ending with its blank line, `len`
/// bytes (a value may hold NUL bytes), `count` events; valid only during the call.
pub type ami_events_cb =
    Option<unsafe extern "C" fn(text: *const c_char, len: usize, count: usize, userdata: *mut c_void)>;
/// Receives an action's result exactly once: `AMI_OK` and the response (valid
/// only during the call), or an error status and NULL.
pub type ami_response_cb =
    Option<unsafe extern "C" fn(status: c_int, response: *const ami_message, userdata: *mut c_void)>;
/// Receives state changes (`enum ami_state`) with the status that caused them.
pub type ami_state_cb = Option<unsafe extern "C" fn(state: c_int, status: c_int, userdata: *mut c_void)>;

/// A C function pointer and its `userdata`, moved to the dispatch pool.
struct Callback<F> {
    f: F,
    userdata: *mut c_void,
}

// SAFETY: the C caller promises (API.md) that its callback and userdata may
// be used from the library's dispatch threads.
unsafe impl<F> Send for Callback<F> {}
// SAFETY: as above; a client's callbacks run one at a time (never two at once).
unsafe impl<F> Sync for Callback<F> {}

impl Callback<unsafe extern "C" fn(*const ami_message, *mut c_void)> {
    fn event(&self, m: &Message) {
        // SAFETY: a valid function pointer from the caller; the event lives for the call.
        unsafe { (self.f)(ami_message::borrowed(m), self.userdata) }
    }
}

impl Callback<unsafe extern "C" fn(*const c_char, usize, usize, *mut c_void)> {
    fn events(&self, events: &[&Message]) {
        let mut wire = Vec::with_capacity(events.len() * 512);
        for e in events {
            e.write_as_is(&mut wire);
        }
        // SAFETY: a valid function pointer from the caller; the text lives for the call.
        unsafe { (self.f)(wire.as_ptr().cast(), wire.len(), events.len(), self.userdata) }
    }
}

impl Callback<unsafe extern "C" fn(c_int, *const ami_message, *mut c_void)> {
    fn response(&self, result: &Result<Message>) {
        let (status, m) = match result {
            Ok(m) => (0, ami_message::borrowed(m)),
            Err(e) => (fail(e.clone()), std::ptr::null()),
        };
        // SAFETY: a valid function pointer from the caller; the response lives for the call.
        unsafe { (self.f)(status, m, self.userdata) }
    }
}

/// Runs the C response callback that `ami_client_send_async` stored, with
/// its userdata, as two words (no allocation per action).
fn c_response(result: &Result<Message>, [f, userdata]: [usize; 2]) {
    type ResponseFn = unsafe extern "C" fn(c_int, *const ami_message, *mut c_void);
    // SAFETY: `f` is the non-NULL ami_response_cb given to ami_client_send_async, stored as a usize (same size).
    let f = unsafe { std::mem::transmute::<usize, ResponseFn>(f) };
    Callback { f, userdata: userdata as *mut c_void }.response(result)
}

impl Callback<unsafe extern "C" fn(c_int, c_int, *mut c_void)> {
    fn state(&self, state: State, error: Option<&Error>) {
        let status = error.map_or(0, |e| fail(e.clone()));
        // SAFETY: a valid function pointer from the caller.
        unsafe { (self.f)(state as c_int, status, self.userdata) }
    }
}

fn with_client<T>(c: *const ami_client, f: impl FnOnce(&ami_client) -> Result<T>) -> Result<T> {
    f(arg(c, "client")?)
}

/// Stores an owned message in `*out` (or drops it when `out` is NULL).
fn put<T>(out: *mut *mut T, value: *mut T) {
    if out.is_null() {
        if !value.is_null() {
            // SAFETY: `value` was just made by Box::into_raw and nobody else has it.
            drop(unsafe { Box::from_raw(value) });
        }
    } else {
        // SAFETY: the caller passes a valid place for one pointer.
        unsafe { *out = value };
    }
}

/// A new client (not connected). `opts` may be NULL (defaults); they are
/// copied. Free with `ami_client_free`. NULL only if the library cannot start.
#[unsafe(no_mangle)]
pub extern "C" fn ami_client_new(opts: *const ami_options) -> *mut ami_client {
    guard(std::ptr::null_mut(), || {
        let options = arg(opts, "options").map(|o| o.0.clone()).unwrap_or_else(|_| Options::default());
        match Client::try_new(options) {
            Ok(client) => Box::into_raw(Box::new(ami_client { client, banner: Mutex::new(None) })),
            Err(e) => {
                fail(e);
                std::ptr::null_mut()
            }
        }
    })
}

/// Connects and waits for the AMI banner, within `connect_timeout_ms`.
/// `AMI_ECONNECT`, `AMI_ENOTAMI`, `AMI_ETIMEDOUT`, `AMI_EDEADLOCK` from a callback.
#[unsafe(no_mangle)]
pub extern "C" fn ami_client_connect(c: *mut ami_client, host: *const c_char, port: u16) -> c_int {
    guard_status(|| {
        with_client(c, |c| {
            let banner = c.client.connect(text(host, "host")?, port)?;
            *c.banner.lock().unwrap_or_else(|p| p.into_inner()) = CString::new(banner).ok();
            Ok(())
        })
    })
}

/// Logs in (plain or MD5 per option `auth`) with the event mask of option
/// `events`. `AMI_EAUTH` when rejected.
#[unsafe(no_mangle)]
pub extern "C" fn ami_client_login(c: *mut ami_client, username: *const c_char, secret: *const c_char) -> c_int {
    guard_status(|| with_client(c, |c| c.client.login(text(username, "username")?, text(secret, "secret")?).map(drop)))
}

/// The banner, e.g. `"Asterisk Call Manager/5.0.2"` (over HTTP the
/// server's `Server` header, e.g. `"Asterisk/22.10.1"`), or NULL before a
/// connect. Owned by the client; valid until its next connect or free.
#[unsafe(no_mangle)]
pub extern "C" fn ami_client_banner(c: *const ami_client) -> *const c_char {
    guard(std::ptr::null(), || {
        arg(c, "client").map_or(std::ptr::null(), |c| {
            c.banner.lock().unwrap_or_else(|p| p.into_inner()).as_ref().map_or(std::ptr::null(), |b| b.as_ptr())
        })
    })
}

/// The state (`enum ami_state`), or -1 for NULL.
#[unsafe(no_mangle)]
pub extern "C" fn ami_client_state(c: *const ami_client) -> c_int {
    guard(-1, || match arg(c, "client") {
        Ok(c) => c.client.state() as c_int,
        Err(e) => {
            fail(e);
            -1
        }
    })
}

/// Sends an action and waits for its response (`timeout_ms` < 0: option
/// `action_timeout_ms`). On `AMI_OK`, `*response` is the caller's to free
/// (`response` may be NULL to discard it); on failure it is set to NULL.
/// A `Response: Error` is `AMI_OK` with `ami_message_is_success` 0.
#[unsafe(no_mangle)]
pub extern "C" fn ami_client_send(
    c: *mut ami_client,
    action: *const ami_message,
    response: *mut *mut ami_message,
    timeout_ms: c_int,
) -> c_int {
    guard_status(|| {
        put(response, std::ptr::null_mut());
        with_client(c, |c| {
            let reply = c.client.send_timeout(&arg(action, "action")?.0, timeout(timeout_ms))?;
            put(response, ami_message::boxed(reply));
            Ok(())
        })
    })
}

/// Sends an action; `cb` (may be NULL) runs exactly once on the dispatch
/// thread with the result. If this returns an error, `cb` never runs.
#[unsafe(no_mangle)]
pub extern "C" fn ami_client_send_async(
    c: *mut ami_client,
    action: *const ami_message,
    cb: ami_response_cb,
    userdata: *mut c_void,
) -> c_int {
    guard_status(|| {
        with_client(c, |c| {
            let action = &arg(action, "action")?.0;
            match cb {
                Some(f) => c.client.send_async_borrowed(action, c_response, [f as usize, userdata as usize]),
                None => c.client.send_async(action, |_| {}),
            }
        })
    })
}

/// Builds and sends an action: `headers` is `name, value, ..., NULL` (may
/// be NULL). Otherwise as `ami_client_send`.
#[unsafe(no_mangle)]
pub extern "C" fn ami_client_action(
    c: *mut ami_client,
    action: *const c_char,
    headers: *const *const c_char,
    response: *mut *mut ami_message,
    timeout_ms: c_int,
) -> c_int {
    guard_status(|| {
        put(response, std::ptr::null_mut());
        with_client(c, |c| {
            let name = super::bytes(action, "action")?;
            if name.is_empty() {
                return Err(Error::InvalidArgument("empty action name".into()));
            }
            let mut m = Message::new();
            m.add_bytes(b"Action", name)?;
            let mut i = 0;
            while !headers.is_null() {
                // SAFETY: `headers` is a NULL-terminated array of name, value pairs (the contract).
                let n = unsafe { *headers.add(i) };
                if n.is_null() {
                    break;
                }
                // SAFETY: a non-NULL name is followed by its value slot.
                let v = unsafe { *headers.add(i + 1) };
                if v.is_null() {
                    return Err(Error::InvalidArgument(format!("header #{} has no value", i / 2 + 1)));
                }
                m.add_bytes(super::bytes(n, "header name")?, super::bytes(v, "header value")?)?;
                i += 2;
            }
            let reply = c.client.send_timeout(&m, timeout(timeout_ms))?;
            put(response, ami_message::boxed(reply));
            Ok(())
        })
    })
}

/// Calls `cb` on the dispatch thread for each event matching `pattern`: an
/// event name (case-insensitive), a prefix ending in `*`, or `"*"`/NULL for
/// all. Returns the subscription id, or 0 on error.
#[unsafe(no_mangle)]
pub extern "C" fn ami_client_subscribe(
    c: *mut ami_client,
    pattern: *const c_char,
    cb: ami_event_cb,
    userdata: *mut c_void,
) -> u64 {
    subscription(c, pattern, cb, userdata, |client, pattern, cb| client.subscribe(pattern, move |e| cb.event(e)))
}

/// The shell of both subscribe calls: arguments checked, 0 and the error on failure.
fn subscription<F>(
    c: *mut ami_client,
    pattern: *const c_char,
    cb: Option<F>,
    userdata: *mut c_void,
    subscribe: impl FnOnce(&crate::Client, &str, Callback<F>) -> Result<u64>,
) -> u64 {
    guard(0, || {
        let made = with_client(c, |c| {
            let f = cb.ok_or_else(|| Error::InvalidArgument("callback is NULL".into()))?;
            let pattern = if pattern.is_null() { "*" } else { text(pattern, "pattern")? };
            subscribe(&c.client, pattern, Callback { f, userdata })
        });
        made.unwrap_or_else(|e| {
            fail(e);
            0
        })
    })
}

/// As `ami_client_subscribe`, but the matching events of each dispatch run
/// (up to 256 events) come in one call of `cb`, in order, in wire form: one
/// call for many events, for bindings whose every call costs (Python's ctypes).
#[unsafe(no_mangle)]
pub extern "C" fn ami_client_subscribe_batch(
    c: *mut ami_client,
    pattern: *const c_char,
    cb: ami_events_cb,
    userdata: *mut c_void,
) -> u64 {
    subscription(c, pattern, cb, userdata, |client, pattern, cb| {
        client.subscribe_batch(pattern, move |events| cb.events(events))
    })
}

/// Ends a subscription. When it returns (off the dispatch thread) its
/// callback is not running and will not run again. `AMI_EINVAL` if unknown.
#[unsafe(no_mangle)]
pub extern "C" fn ami_client_unsubscribe(c: *mut ami_client, subscription: u64) -> c_int {
    guard_status(|| {
        with_client(c, |c| match c.client.unsubscribe(subscription) {
            true => Ok(()),
            false => Err(Error::InvalidArgument(format!("no subscription {subscription}"))),
        })
    })
}

/// Reports state changes on the dispatch thread (`cb` NULL: stop).
#[unsafe(no_mangle)]
pub extern "C" fn ami_client_on_state(c: *mut ami_client, cb: ami_state_cb, userdata: *mut c_void) {
    guard((), || {
        let done = with_client(c, |c| {
            let callback = cb.map(|f| {
                let cb = Callback { f, userdata };
                Box::new(move |s: State, e: Option<&Error>| cb.state(s, e)) as Box<dyn Fn(State, Option<&Error>) + Send + Sync>
            });
            c.client.on_state(callback)
        });
        if let Err(e) = done {
            set_last_error(&e.to_string());
        }
    })
}

/// Takes the next queued event (option `event_queue=1`) into `*event`, the
/// caller's to free; waits up to `timeout_ms` (< 0: for ever). `AMI_ETIMEDOUT`
/// when none came.
#[unsafe(no_mangle)]
pub extern "C" fn ami_client_next_event(c: *mut ami_client, event: *mut *mut ami_message, timeout_ms: c_int) -> c_int {
    guard_status(|| {
        if event.is_null() {
            return Err(Error::InvalidArgument("event is NULL".into()));
        }
        put(event, std::ptr::null_mut());
        with_client(c, |c| match c.client.next_event(timeout(timeout_ms))? {
            Some(e) => {
                put(event, ami_message::boxed(e));
                Ok(())
            }
            None => Err(Error::Timeout(format!("no event within {timeout_ms} ms"))),
        })
    })
}

/// Takes up to `max` queued events at once (option `event_queue=1`), for
/// bindings that pay per call: `*text` gets them in wire form one after the
/// other, each ending with its blank line, `*len` its length in bytes (a
/// value may hold NUL bytes), `*count` how many events. The caller frees
/// `*text` with `ami_buffer_free(text, len)`. Waits up to `timeout_ms`
/// (< 0: for ever) for the first; `AMI_ETIMEDOUT` when none came.
#[unsafe(no_mangle)]
pub extern "C" fn ami_client_next_events(
    c: *mut ami_client,
    max: usize,
    timeout_ms: c_int,
    text: *mut *mut c_char,
    len: *mut usize,
    count: *mut usize,
) -> c_int {
    guard_status(|| {
        if text.is_null() || len.is_null() || count.is_null() {
            return Err(Error::InvalidArgument("text, len or count is NULL".into()));
        }
        // SAFETY: the three are valid places for one value each (checked non-NULL).
        unsafe { (*text, *len, *count) = (std::ptr::null_mut(), 0, 0) };
        with_client(c, |c| {
            let events = c.client.next_events(max, timeout(timeout_ms))?;
            if events.is_empty() {
                return Err(Error::Timeout(format!("no event within {timeout_ms} ms")));
            }
            let mut wire = Vec::with_capacity(events.len() * 512);
            for e in &events {
                e.write_as_is(&mut wire);
            }
            let (n, buffer) = (wire.len(), Box::into_raw(wire.into_boxed_slice()));
            // SAFETY: as above; the buffer is handed over, freed by ami_buffer_free.
            unsafe { (*text, *len, *count) = (buffer.cast::<c_char>(), n, events.len()) };
            Ok(())
        })
    })
}

/// Sends an action whose result goes to the client's completion queue
/// under `tag` instead of to a callback: for a program's own event loop
/// (asyncio, libuv...), which waits for `ami_client_completion_fd` to be
/// readable and takes results with `ami_client_next_completions` on its own
/// thread, so that no library thread calls into the program. Each queued
/// send completes exactly once (`AMI_ECLOSED` when the client closes first).
#[unsafe(no_mangle)]
pub extern "C" fn ami_client_send_queued(c: *mut ami_client, action: *const ami_message, tag: u64) -> c_int {
    guard_status(|| with_client(c, |c| c.client.send_queued(&arg(action, "action")?.0, tag)))
}

/// A descriptor readable while results of `ami_client_send_queued` wait
/// (-1 with `ami_last_error` on failure). Owned by the client: do not close it.
#[unsafe(no_mangle)]
pub extern "C" fn ami_client_completion_fd(c: *mut ami_client) -> c_int {
    guard(-1, || {
        with_client(c, |c| c.client.completion_fd()).unwrap_or_else(|e| {
            fail(e);
            -1
        })
    })
}

/// Takes up to `max` results of `ami_client_send_queued` without waiting.
/// The caller gives arrays of `max` entries: `tags[i]` and `statuses[i]`
/// (an `ami_status`) for each result, `lens[i]` the bytes of its text in
/// `*text`, where the texts follow one another: for `AMI_OK` the response in
/// wire form, then the events of a list response, each message ending with
/// its blank line; otherwise the error's detail. `*count` is how many (0:
/// none waiting, `*text` NULL). Free `*text` with `ami_buffer_free(*text,
/// total)`, `total` the sum of the `lens`.
#[unsafe(no_mangle)]
pub extern "C" fn ami_client_next_completions(
    c: *mut ami_client,
    max: usize,
    tags: *mut u64,
    statuses: *mut c_int,
    lens: *mut usize,
    text: *mut *mut c_char,
    count: *mut usize,
) -> c_int {
    guard_status(|| {
        if tags.is_null() || statuses.is_null() || lens.is_null() || text.is_null() || count.is_null() {
            return Err(Error::InvalidArgument("tags, statuses, lens, text or count is NULL".into()));
        }
        // SAFETY: text and count are valid places for one value each (checked non-NULL).
        unsafe { (*text, *count) = (std::ptr::null_mut(), 0) };
        with_client(c, |c| {
            let done = c.client.next_completions(max);
            if done.is_empty() {
                return Ok(());
            }
            let mut wire = Vec::with_capacity(done.len() * 128);
            for (i, (tag, result)) in done.iter().enumerate() {
                let before = wire.len();
                let status = match result {
                    Ok(m) => {
                        m.write_as_is(&mut wire);
                        for e in m.list() {
                            e.write_as_is(&mut wire);
                        }
                        0
                    }
                    Err(e) => {
                        wire.extend_from_slice(e.to_string().as_bytes());
                        e.status()
                    }
                };
                // SAFETY: the caller's arrays hold `max` entries and i < done.len() <= max.
                unsafe { (*tags.add(i), *statuses.add(i), *lens.add(i)) = (*tag, status, wire.len() - before) };
            }
            let buffer = Box::into_raw(wire.into_boxed_slice());
            // SAFETY: as above; the buffer is handed over, freed by ami_buffer_free.
            unsafe { (*text, *count) = (buffer.cast::<c_char>(), done.len()) };
            Ok(())
        })
    })
}

/// Frees a buffer of `ami_client_next_events` or `ami_client_next_completions`
/// (`len` the bytes it gave). NULL is a no-op.
#[unsafe(no_mangle)]
pub extern "C" fn ami_buffer_free(text: *mut c_char, len: usize) {
    guard((), || {
        if !text.is_null() {
            let slice = std::ptr::slice_from_raw_parts_mut(text.cast::<u8>(), len);
            // SAFETY: `text` and `len` are a buffer this library boxed and handed over, freed once.
            drop(unsafe { Box::from_raw(slice) });
        }
    })
}

/// A descriptor that is readable while queued events wait (option
/// `event_queue=1`), for poll/epoll/asyncio; owned by the client. -1 if off.
#[unsafe(no_mangle)]
pub extern "C" fn ami_client_event_fd(c: *const ami_client) -> c_int {
    guard(-1, || {
        let fd = with_client(c, |c| {
            c.client.event_fd().ok_or_else(|| Error::InvalidArgument("the event queue is off: set event_queue=1".into()))
        });
        fd.unwrap_or_else(|e| {
            fail(e);
            -1
        })
    })
}

/// The client's number in log records (unique in the process; 0 for NULL).
#[unsafe(no_mangle)]
pub extern "C" fn ami_client_id(c: *const ami_client) -> u64 {
    guard(0, || arg(c, "client").map_or(0, |c| c.client.id()))
}

/// Events dropped by the `drop_oldest` overflow policy (0 for NULL).
#[unsafe(no_mangle)]
pub extern "C" fn ami_client_dropped_events(c: *const ami_client) -> u64 {
    guard(0, || arg(c, "client").map_or(0, |c| c.client.dropped_events()))
}

/// Sends `Logoff`, waits for `Goodbye`, then closes the client
/// (`AMI_STATE_CLOSED`): later calls return `AMI_ECLOSED`. Free it with
/// `ami_client_free` as usual.
#[unsafe(no_mangle)]
pub extern "C" fn ami_client_logoff(c: *mut ami_client) -> c_int {
    guard_status(|| with_client(c, |c| c.client.logoff()))
}

/// Closes and frees the client: pending actions complete with `AMI_ECLOSED`
/// (their callbacks run before this returns, unless called from a callback).
/// NULL is a no-op.
#[unsafe(no_mangle)]
pub extern "C" fn ami_client_free(c: *mut ami_client) {
    guard((), || {
        if !c.is_null() {
            // SAFETY: `c` came from ami_client_new and is freed once.
            drop(unsafe { Box::from_raw(c) });
        }
    })
}

#[allow(dead_code)]
const _STATE_VALUES_MATCH: () = {
    assert!(State::Closed as i32 == ami_state::AMI_STATE_CLOSED as i32);
    assert!(State::Reconnecting as i32 == ami_state::AMI_STATE_RECONNECTING as i32);
    assert!(State::LoggedIn as i32 == ami_state::AMI_STATE_LOGGED_IN as i32);
};

