//! The classic socket layer, on the caller's own descriptor. Reads are
//! buffered per descriptor (never one system call per byte) and the buffer
//! stays with the descriptor for its next call; a descriptor number reused by
//! a new socket gets fresh state (sockets are told apart by inode). Waits use
//! `poll`, so descriptors above 1024 work.

use std::collections::HashMap;
use std::ffi::{c_char, c_int, c_void};
use std::io;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::packet::{self, AMI_NET_TIMEOUT, ami_event_cb_func};
use crate::codec::{Decoder, Frame, Limits};
use crate::ffi::guard;
use crate::Message;

/// Silence after which a reply is given up (4 × AMI_NET_TIMEOUT).
pub(crate) const REPLY_SILENCE: Duration = Duration::from_millis(4 * AMI_NET_TIMEOUT as u64);
/// The most any reply is waited for.
pub(crate) const REPLY_LIMIT: Duration = Duration::from_secs(30);

struct FdState {
    identity: (u64, u64),
    decoder: Decoder,
}

static STATES: Mutex<Option<HashMap<c_int, FdState>>> = Mutex::new(None);

struct EventCallback {
    func: ami_event_cb_func,
    data: usize,
}

static EVENT_CB: Mutex<EventCallback> = Mutex::new(EventCallback { func: None, data: 0 });

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Why no answer came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    InvalidSocket,
    SendFailed,
    TimedOut,
    Closed,
    Garbled,
}

impl Failure {
    pub(crate) fn message(self) -> &'static str {
        match self {
            Failure::InvalidSocket => "Invalid socket",
            Failure::SendFailed => "Error communicating with the * server",
            Failure::TimedOut => "timed out waiting for a response from the * server",
            Failure::Closed => "the * server closed the connection",
            Failure::Garbled => "unable to parse response from server",
        }
    }
}

/// The socket's identity (device, inode), or None for a bad descriptor.
fn identity(fd: c_int) -> Option<(u64, u64)> {
    if fd < 0 {
        return None;
    }
    let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: fstat writes one stat into our buffer; fd is only read.
    if unsafe { libc::fstat(fd, st.as_mut_ptr()) } != 0 {
        return None;
    }
    // SAFETY: fstat succeeded, so the buffer is initialised.
    let st = unsafe { st.assume_init() };
    Some((st.st_dev as u64, st.st_ino as u64))
}

/// A descriptor checked out with its state (and checked for reuse) for one
/// call; the state goes back when it is dropped, which must happen before
/// an event callback runs (the callback may use the same socket).
pub(crate) struct Conn {
    fd: c_int,
    state: Option<FdState>,
}

impl Conn {
    pub(crate) fn open(fd: c_int) -> Result<Conn, Failure> {
        let id = identity(fd).ok_or(Failure::InvalidSocket)?;
        let kept = lock(&STATES).get_or_insert_with(HashMap::new).remove(&fd);
        let state = match kept {
            Some(s) if s.identity == id => s,
            _ => FdState { identity: id, decoder: Decoder::client_banner_optional(Limits::default()) },
        };
        Ok(Conn { fd, state: Some(state) })
    }

    fn decoder(&mut self) -> &mut Decoder {
        &mut self.state.as_mut().expect("state is present until drop").decoder
    }

    fn has_buffered(&mut self) -> bool {
        self.decoder().pending_bytes() > 0
    }

    /// Writes all of `bytes` (waiting while the socket is full).
    pub(crate) fn send(&mut self, bytes: &[u8]) -> Result<(), Failure> {
        let mut sent = 0;
        while sent < bytes.len() {
            let rest = &bytes[sent..];
            // SAFETY: writes from a live slice; MSG_NOSIGNAL keeps a closed
            // peer from killing the program with SIGPIPE.
            let n = unsafe { libc::send(self.fd, rest.as_ptr().cast(), rest.len(), libc::MSG_NOSIGNAL) };
            if n > 0 {
                sent += n as usize;
                continue;
            }
            let e = io::Error::last_os_error();
            match e.kind() {
                io::ErrorKind::Interrupted => {}
                io::ErrorKind::WouldBlock => {
                    if wait(self.fd, libc::POLLOUT, Some(REPLY_SILENCE)) != 1 {
                        return Err(Failure::SendFailed);
                    }
                }
                _ => return Err(Failure::SendFailed),
            }
        }
        Ok(())
    }

    /// The next message, waiting while the server is silent for less than
    /// `silence` and `deadline` has not passed.
    pub(crate) fn next(&mut self, silence: Duration, deadline: Instant) -> Result<Message, Failure> {
        loop {
            match self.decoder().next_frame() {
                Ok(Some(Frame::Message(m))) => return Ok(m),
                Ok(Some(Frame::Banner(_))) => continue,
                Ok(None) => {}
                Err(_) => {
                    // Garbage: drop what is buffered so later calls start clean.
                    self.state = Some(FdState {
                        identity: self.state.as_ref().map_or((0, 0), |s| s.identity),
                        decoder: Decoder::client_banner_optional(Limits::default()),
                    });
                    return Err(Failure::Garbled);
                }
            }
            let left = deadline.saturating_duration_since(Instant::now()).min(silence);
            if left.is_zero() || wait(self.fd, libc::POLLIN, Some(left)) != 1 {
                return Err(Failure::TimedOut);
            }
            let fd = self.fd;
            match self.decoder().read_from(&mut FdReader(fd)) {
                Ok(0) => return Err(Failure::Closed),
                Ok(_) => {}
                Err(e) if matches!(e.kind(), io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock) => {}
                Err(_) => return Err(Failure::Closed),
            }
        }
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        if let Some(state) = self.state.take() {
            lock(&STATES).get_or_insert_with(HashMap::new).insert(self.fd, state);
        }
    }
}

/// Checks that `fd` is a descriptor at all.
pub(crate) fn valid(fd: c_int) -> bool {
    identity(fd).is_some()
}

/// The next message on `fd` (see `Conn::next`).
fn next_message(fd: c_int, silence: Duration, deadline: Instant) -> Result<Message, Failure> {
    Conn::open(fd)?.next(silence, deadline)
}

struct FdReader(c_int);

impl io::Read for FdReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // SAFETY: reads into a live, writable slice of buf.len() bytes.
        let n = unsafe { libc::read(self.0, buf.as_mut_ptr().cast(), buf.len()) };
        if n < 0 { Err(io::Error::last_os_error()) } else { Ok(n as usize) }
    }
}

/// poll() for one descriptor: 1 ready, 0 timed out, -1 error.
fn wait(fd: c_int, events: libc::c_short, timeout: Option<Duration>) -> c_int {
    let ms = timeout.map_or(-1, |t| t.as_millis().min(i32::MAX as u128) as c_int);
    let mut pfd = libc::pollfd { fd, events, revents: 0 };
    loop {
        // SAFETY: one valid pollfd on the stack, count 1.
        let n = unsafe { libc::poll(&mut pfd, 1, ms) };
        if n < 0 && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
            continue;
        }
        if n > 0 && pfd.revents & libc::POLLNVAL != 0 {
            return -1;
        }
        return n.signum();
    }
}

/// Hands an event to the process-wide callback; the packet is destroyed
/// when the callback returns, as the classic library did.
pub(crate) fn dispatch_event(m: &Message) {
    let (func, data) = {
        let cb = lock(&EVENT_CB);
        (cb.func, cb.data)
    };
    let Some(func) = func else { return };
    let p = packet::from_message(m, std::ptr::null_mut());
    // SAFETY: the program's callback, with its data, on a packet we own.
    unsafe { func(p, data as *mut c_void) };
    super::packet::ami_destroy_packet(p);
}

fn timeout_of(ms: c_int) -> Option<Duration> {
    u64::try_from(ms).ok().map(Duration::from_millis)
}

/// 1 when `sock` has data to read (or the library holds some for it), 0
/// when `milliseconds` passed first (negative: wait for ever), -1 on error.
#[unsafe(no_mangle)]
pub extern "C" fn ami_sock_readable(sock: c_int, milliseconds: c_int) -> c_int {
    guard(-1, || {
        let Ok(mut conn) = Conn::open(sock) else { return -1 };
        if conn.has_buffered() {
            return 1;
        }
        wait(sock, libc::POLLIN, timeout_of(milliseconds))
    })
}

/// 1 when `sock` can be written, 0 when `milliseconds` passed first
/// (negative: wait for ever), -1 on error.
#[unsafe(no_mangle)]
pub extern "C" fn ami_sock_writable(sock: c_int, milliseconds: c_int) -> c_int {
    guard(-1, || match identity(sock) {
        Some(_) => wait(sock, libc::POLLOUT, timeout_of(milliseconds)),
        None => -1,
    })
}

/// Sends `cmd` as it is. 0 on success, -1 on error (bad socket, NULL or
/// empty `cmd`, connection lost). Never raises SIGPIPE.
#[unsafe(no_mangle)]
pub extern "C" fn ami_sock_send(sock: c_int, cmd: *const c_char) -> c_int {
    guard(-1, || {
        let Some(bytes) = packet::c_bytes(cmd).filter(|b| !b.is_empty()) else { return -1 };
        match Conn::open(sock).and_then(|mut c| c.send(bytes)) {
            Ok(()) => 0,
            Err(_) => -1,
        }
    })
}

/// The next packet that is not a stray event, as `Name: value\r\n` lines in
/// a malloc'd string (the caller `free()`s it), or NULL after 2 s of silence
/// (30 s at most) or on error. Events that arrive meanwhile go to the
/// event callback.
#[unsafe(no_mangle)]
pub extern "C" fn ami_sock_receive(sock: c_int) -> *mut c_char {
    guard(std::ptr::null_mut(), || {
        let deadline = Instant::now() + REPLY_LIMIT;
        loop {
            match next_message(sock, REPLY_SILENCE, deadline) {
                Ok(m) if m.is_event() && !is_ours(&m) => dispatch_event(&m),
                Ok(m) => return malloc_text(&m),
                Err(_) => return std::ptr::null_mut(),
            }
        }
    })
}

/// Reads one packet (waiting up to AMI_NET_TIMEOUT) and hands it to the
/// event callback if it is an event; other packets are dropped.
#[unsafe(no_mangle)]
pub extern "C" fn ami_sock_receive_event(sock: c_int) {
    guard((), || {
        let net = Duration::from_millis(AMI_NET_TIMEOUT as u64);
        if let Ok(m) = next_message(sock, net, Instant::now() + net) {
            if m.is_event() {
                dispatch_event(&m);
            }
        }
    })
}

/// Sets the process-wide event callback (NULL: none) and its data.
#[unsafe(no_mangle)]
pub extern "C" fn ami_set_event_cb(func: ami_event_cb_func, cb_data: *mut c_void) {
    guard((), || *lock(&EVENT_CB) = EventCallback { func, data: cb_data as usize })
}

/// Events carrying one of the classic library's ActionIDs belong to an action.
pub(crate) fn is_ours(m: &Message) -> bool {
    m.get_bytes("ActionID").is_some_and(|v| v.starts_with(packet::ACTION_ID_PREFIX))
}

/// The packet's text as the original returned it: as sent, without the
/// blank line that ends it.
fn malloc_text(m: &Message) -> *mut c_char {
    let text = super::output::message_text(m, super::output::Text::Wire);
    // SAFETY: malloc returns NULL or room for text plus its NUL.
    let out = unsafe { libc::malloc(text.len() + 1) }.cast::<u8>();
    if !out.is_null() {
        // SAFETY: `out` has text.len() + 1 bytes; the regions do not overlap.
        unsafe {
            std::ptr::copy_nonoverlapping(text.as_ptr(), out, text.len());
            *out.add(text.len()) = 0;
        }
    }
    out.cast()
}
