//! Incremental AMI decoder: bytes in, banner and messages out.
//!
//! Bytes may arrive split anywhere. The decoder keeps one growable buffer,
//! parses each line once (remembering where it stopped), and records headers
//! as spans, so a message is copied out exactly once when it completes.

use std::io::{self, Read};

use super::message::{self, Field, Known, Message, is_word_nocase};
use super::CodecError;

/// Sizes that bound what one peer can make us buffer.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest message in bytes (default 4 MiB).
    pub max_message: usize,
    /// Most headers in one message (default 100,000: command output can be long).
    pub max_headers: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { max_message: 4 << 20, max_headers: 100_000 }
    }
}

/// What the decoder produces.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    /// The `Asterisk Call Manager/X.Y.Z` line that opens a connection.
    Banner(String),
    /// A complete message.
    Message(Message),
}

const BANNER_PREFIX: &[u8] = b"Asterisk Call Manager";
const END_COMMAND: &[u8] = b"--END COMMAND--";
/// A banner line longer than this is not a banner.
const MAX_BANNER: usize = 1024;
const READ_CHUNK: usize = 256 * 1024;
/// A connection's own buffer above this is given up once it is not needed.
const KEEP: usize = 4 * 1024;
const NO_COLON: usize = usize::MAX;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Client side, before the banner line.
    Banner,
    /// Client side where the program may have read the banner itself.
    OptionalBanner,
    Headers,
    /// After `Response: Follows`, before the raw body.
    FollowsHeaders,
    /// Inside the raw body of a legacy command response.
    FollowsBody,
}

/// Why [`Decoder::parse_headers`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    NeedMore,
    /// The blank line that ends a message.
    Blank,
    Follows,
}

/// The incremental decoder. One per connection.
///
/// ```
/// use ami::codec::{Decoder, Frame, Limits};
/// let mut d = Decoder::client(Limits::default());
/// d.feed(b"Asterisk Call Manager/11.0.0\r\nResponse: Success\r\nPi");
/// assert_eq!(d.next_frame()?, Some(Frame::Banner("Asterisk Call Manager/11.0.0".into())));
/// assert_eq!(d.next_frame()?, None); // split anywhere: waits for more
/// d.feed(b"ng: Pong\r\n\r\n");
/// let Some(Frame::Message(m)) = d.next_frame()? else { unreachable!() };
/// assert_eq!(m.get("Ping"), Some("Pong"));
/// # Ok::<(), ami::codec::CodecError>(())
/// ```
#[derive(Debug)]
pub struct Decoder {
    buf: Vec<u8>,
    /// Bytes `buf[..filled]` hold data.
    filled: usize,
    /// First byte of the message being parsed.
    start: usize,
    /// First byte of the line being parsed.
    line: usize,
    /// How far the current line was searched for LF.
    scanned: usize,
    /// The first `:` of the current line found so far, as an offset from
    /// `line` (`NO_COLON`: none in `line..scanned`).
    colon: usize,
    headers: Headers,
    mode: Mode,
    limits: Limits,
    failed: Option<CodecError>,
    /// `buf` is a reader's shared buffer (see [`Decoder::read_shared`]).
    lent: bool,
    /// The last read returned less than it had room for.
    short_read: bool,
}

impl Decoder {
    /// A decoder for the client side: the first line must be the banner.
    pub fn client(limits: Limits) -> Decoder {
        Decoder::with_mode(Mode::Banner, limits)
    }

    /// A decoder for a socket whose banner may already have been read by
    /// someone else (the libami layer): a leading banner line is reported,
    /// anything else is a message.
    pub fn client_banner_optional(limits: Limits) -> Decoder {
        Decoder::with_mode(Mode::OptionalBanner, limits)
    }

    /// A decoder for the server side: messages from the first byte.
    pub fn server(limits: Limits) -> Decoder {
        Decoder::with_mode(Mode::Headers, limits)
    }

    /// A server-side decoder over `data` as it is, with no read buffer:
    /// to see whether a few bytes are one message (a caller reading its
    /// own answer) without the room a socket's reads get.
    pub(crate) fn server_over(data: Vec<u8>, limits: Limits) -> Decoder {
        let mut decoder = Decoder::with_mode(Mode::Headers, limits);
        (decoder.filled, decoder.buf) = (data.len(), data);
        decoder
    }

    fn with_mode(mode: Mode, limits: Limits) -> Decoder {
        Decoder {
            buf: Vec::new(),
            filled: 0,
            start: 0,
            line: 0,
            scanned: 0,
            colon: NO_COLON,
            headers: Headers::EMPTY,
            mode,
            limits,
            failed: None,
            lent: false,
            short_read: false,
        }
    }

    /// Appends bytes received from the peer.
    pub fn feed(&mut self, data: &[u8]) {
        self.make_room(data.len());
        self.buf[self.filled..self.filled + data.len()].copy_from_slice(data);
        self.filled += data.len();
    }

    /// Reads once from `r` straight into the buffer (no intermediate copy).
    /// Returns what `read` returned: `Ok(0)` is end of stream.
    pub fn read_from<R: Read + ?Sized>(&mut self, r: &mut R) -> io::Result<usize> {
        self.make_room(READ_CHUNK / 4);
        let room = self.buf.len() - self.filled;
        let n = r.read(&mut self.buf[self.filled..])?;
        self.filled += n;
        self.short_read = n < room;
        Ok(n)
    }

    /// Whether the last read took less than the room it was given: from a
    /// TCP socket, that it held no more at that moment (so an edge-triggered
    /// reader will hear of the next bytes and need not read to `WouldBlock`).
    pub fn last_read_short(&self) -> bool {
        self.short_read
    }

    /// Reads once from `r` like [`Decoder::read_from`], but into `shared`
    /// (one buffer for all the connections a loop serves) while nothing is
    /// pending, so that an idle connection holds no read buffer of its own.
    /// Take the frames, then call [`Decoder::keep_rest`] with the same buffer.
    pub fn read_shared<R: Read + ?Sized>(&mut self, r: &mut R, shared: &mut Vec<u8>) -> io::Result<usize> {
        let pending = self.filled - self.start;
        // A large partial message stays where it is rather than be copied.
        if !self.lent && pending <= READ_CHUNK / 4 {
            if shared.len() < READ_CHUNK {
                shared.resize(READ_CHUNK, 0);
            }
            shared[..pending].copy_from_slice(&self.buf[self.start..self.filled]);
            std::mem::swap(&mut self.buf, shared);
            self.lent = true;
            self.move_to_front(pending);
        }
        self.read_from(r)
    }

    /// Indexes after the pending bytes moved to the front of the buffer.
    fn move_to_front(&mut self, pending: usize) {
        let shift = self.start;
        (self.line, self.scanned, self.filled, self.start) = (self.line - shift, self.scanned - shift, pending, 0);
    }

    /// Ends a [`Decoder::read_shared`]: the bytes of a message not yet
    /// complete move to the connection's own buffer, sized to them, and
    /// `shared` is whole again. An own buffer grown for a large message
    /// shrinks back once that message is done.
    pub fn keep_rest(&mut self, shared: &mut Vec<u8>) {
        if !self.lent {
            if self.start == self.filled && self.buf.len() > KEEP {
                self.buf = Vec::new();
                self.move_to_front(0);
            }
            return;
        }
        self.lent = false;
        let rest = &self.buf[self.start..self.filled];
        let mut own = std::mem::take(shared);
        if own.capacity() > KEEP.max(rest.len() * 2) {
            own = Vec::new();
        }
        own.clear();
        own.extend_from_slice(rest);
        self.move_to_front(own.len());
        *shared = std::mem::replace(&mut self.buf, own);
        if self.headers.table.capacity() > 256 && self.headers.table.is_empty() {
            self.headers.table = Vec::new();
        }
    }

    /// Bytes buffered that are not part of a returned frame yet.
    pub fn pending_bytes(&self) -> usize {
        self.filled - self.start
    }

    /// Makes sure `extra` bytes fit after `filled`, first moving the
    /// unparsed tail to the front when that frees enough.
    fn make_room(&mut self, extra: usize) {
        if self.start > 0 && (self.start == self.filled || self.buf.len() - self.filled < extra) {
            let shift = self.start;
            self.buf.copy_within(shift..self.filled, 0);
            self.filled -= shift;
            self.start = 0;
            self.line -= shift;
            self.scanned -= shift;
        }
        if self.buf.len() - self.filled < extra {
            let want = (self.filled + extra).max(READ_CHUNK).max(self.buf.len() * 2);
            self.buf.resize(want, 0);
        }
    }

    /// The next complete frame, `Ok(None)` when more bytes are needed. After
    /// an error the connection's stream is unusable and every later call
    /// returns the same error.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, CodecError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let result = self.parse();
        if let Err(e) = &result {
            self.failed = Some(e.clone());
        }
        result
    }

    fn parse(&mut self) -> Result<Option<Frame>, CodecError> {
        loop {
            if self.mode == Mode::Headers {
                if let Some(frame) = self.parse_headers()? {
                    return Ok(Some(frame));
                }
                if self.mode == Mode::Headers {
                    return self.check_partial().map(|()| None);
                }
            }
            // The banner and legacy command output: rare, line by line.
            let mut colon = NO_COLON; // found again by push_line where it matters
            let Some(line_end) = scan_line(&self.buf, self.scanned, self.filled, &mut colon) else {
                self.scanned = self.filled;
                return self.check_partial().map(|()| None);
            };
            let line_start = self.line;
            if self.mode == Mode::OptionalBanner && !self.buf[line_start..line_end].starts_with(BANNER_PREFIX) {
                // No banner: this line is the first header, parsed again.
                (self.mode, self.scanned) = (Mode::Headers, line_start);
                continue;
            }
            self.line = line_end + 1;
            self.scanned = self.line;
            self.colon = NO_COLON;
            let content_end =
                if line_end > line_start && self.buf[line_end - 1] == b'\r' { line_end - 1 } else { line_end };
            if let Some(frame) = self.on_line(line_start, content_end)? {
                return Ok(Some(frame));
            }
        }
    }

    /// The hot loop: `Name: value` lines until a blank line completes the
    /// message. The bytes are looked at 64 at a time, as bit masks of where
    /// their LFs and colons are; each line then costs a few bit operations,
    /// with the state in locals (fields borrowed apart) rather than `self`.
    /// Returns `Ok(None)` when the bytes run out or the mode changes.
    fn parse_headers(&mut self) -> Result<Option<Frame>, CodecError> {
        let (filled, max) = (self.filled, self.limits.max_headers);
        let (mut line, mut base) = (self.line, self.scanned);
        let mut colon = if self.colon == NO_COLON { NO_COLON } else { line + self.colon };
        let Decoder { buf, headers, start, .. } = self;
        let buf: &mut [u8] = buf;
        let mut begin = *start;
        let stop = 'scan: loop {
            if base >= filled {
                break Stop::NeedMore;
            }
            let (mut lfs, mut colons) = masks64(buf, base, filled);
            while lfs != 0 {
                let low = lfs & lfs.wrapping_neg();
                let before = colons & (low - 1);
                if colon == NO_COLON && before != 0 {
                    colon = base + before.trailing_zeros() as usize;
                }
                let lf = base + low.trailing_zeros() as usize;
                (lfs, colons) = (lfs ^ low, colons & !(low | (low - 1)));
                let (this, found) = (line, colon);
                (line, colon) = (lf + 1, NO_COLON);
                let end = if lf > this && buf[lf - 1] == b'\r' { lf - 1 } else { lf };
                if end == this {
                    if headers.table.is_empty() {
                        begin = line; // stray blank line between messages
                        continue;
                    }
                    break 'scan Stop::Blank;
                }
                let (name_end, value) = split_header(buf, found, end);
                let field = field_at(begin, this, name_end, value, end);
                // An error leaves the stream unusable (`next_frame`): no state to keep.
                let known = headers.push(field, &buf[this..name_end], max)?;
                end_at(buf, name_end, end);
                if known == Some(message::RESPONSE) && is_word_nocase(&buf[value..end], b"follows") {
                    break 'scan Stop::Follows;
                }
            }
            if colon == NO_COLON && colons != 0 {
                colon = base + colons.trailing_zeros() as usize; // in a line that goes on
            }
            base += 64;
        };
        *start = begin;
        match stop {
            Stop::NeedMore => {
                (self.line, self.scanned) = (line, filled);
                self.colon = if colon == NO_COLON { NO_COLON } else { colon - line };
                Ok(None)
            }
            Stop::Blank | Stop::Follows => {
                (self.line, self.scanned, self.colon) = (line, line, NO_COLON);
                if stop == Stop::Follows {
                    self.mode = Mode::FollowsHeaders;
                    return Ok(None);
                }
                self.finish().map(Some)
            }
        }
    }

    fn check_partial(&self) -> Result<(), CodecError> {
        let pending = self.filled - self.start;
        if self.mode == Mode::Banner && pending > MAX_BANNER {
            return Err(CodecError::NotAmi(preview(&self.buf[self.start..self.filled])));
        }
        if pending > self.limits.max_message {
            return Err(CodecError::TooLarge(self.limits.max_message));
        }
        Ok(())
    }

    /// Handles the line `buf[start..end]` (line ending removed).
    fn on_line(&mut self, start: usize, end: usize) -> Result<Option<Frame>, CodecError> {
        let line = &self.buf[start..end];
        match self.mode {
            Mode::Banner | Mode::OptionalBanner => {
                if !line.starts_with(BANNER_PREFIX) {
                    return Err(CodecError::NotAmi(preview(line)));
                }
                let banner = String::from_utf8_lossy(line).into_owned();
                self.mode = Mode::Headers;
                self.start = self.line;
                Ok(Some(Frame::Banner(banner)))
            }
            Mode::Headers => unreachable!("header lines are parsed by parse_headers"),
            Mode::FollowsHeaders if is_follows_header(line) => {
                self.push_line(start, end)?;
                Ok(None)
            }
            Mode::FollowsHeaders | Mode::FollowsBody => {
                self.mode = Mode::FollowsBody;
                if line.ends_with(END_COMMAND) {
                    let text_end = end - END_COMMAND.len();
                    if text_end > start {
                        self.push_output(start, text_end)?;
                    }
                    self.mode = Mode::Headers;
                } else {
                    self.push_output(start, end)?;
                }
                Ok(None)
            }
        }
    }

    /// The header on `buf[start..end]` (a line of the slow path).
    fn push_line(&mut self, start: usize, end: usize) -> Result<(), CodecError> {
        let colon = self.buf[start..end].iter().position(|&b| b == b':').map_or(NO_COLON, |c| start + c);
        let field = header_field(&self.buf, self.start, start, colon, end);
        let name = &self.buf[start..self.start + field.name.1 as usize];
        self.headers.push(field, name, self.limits.max_headers)?;
        end_spans(&mut self.buf, self.start, field);
        Ok(())
    }

    fn push_output(&mut self, start: usize, end: usize) -> Result<(), CodecError> {
        let rel = |i: usize| (i - self.start) as u32;
        let field = Field::output((rel(start), rel(end)));
        self.headers.push(field, b"", self.limits.max_headers)?; // the made-up name `Output`: never a known one
        end_spans(&mut self.buf, self.start, field);
        Ok(())
    }

    fn finish(&mut self) -> Result<Frame, CodecError> {
        let end = self.line;
        if end - self.start > self.limits.max_message {
            return Err(CodecError::TooLarge(self.limits.max_message));
        }
        let h = &mut self.headers;
        let message = Message::from_parts(&self.buf[self.start..end], h.table.as_flattened(), h.table.len() as u32, h.known);
        h.known = Known::EMPTY;
        h.table.clear();
        self.start = end;
        if self.start == self.filled {
            // Everything consumed: restart at the front, nothing to move.
            self.start = 0;
            self.filled = 0;
            self.line = 0;
            self.scanned = 0;
        }
        Ok(Frame::Message(message))
    }
}

/// The headers of the message being parsed, as the message's header table.
#[derive(Debug)]
struct Headers {
    table: Vec<[u8; message::ENTRY]>,
    known: Known,
}

impl Headers {
    const EMPTY: Headers = Headers { table: Vec::new(), known: Known::EMPTY };

    /// Adds a header; returns which known name it has, if any.
    #[inline(always)]
    fn push(&mut self, field: Field, name: &[u8], max: usize) -> Result<Option<usize>, CodecError> {
        if self.table.len() >= max {
            return Err(CodecError::TooManyHeaders(max));
        }
        let known = self.known.note(self.table.len() as u32, name);
        self.table.push(field.encode());
        Ok(known)
    }
}

/// Ends the name and value of `field` (of the message at `start`) with NUL
/// in place of the `:`, CR or LF after them: the message copies its text
/// as it is, and the C API hands out its values without copying.
fn end_spans(buf: &mut [u8], start: usize, field: Field) {
    let value_end = start + field.value.1 as usize;
    // An `Output` line's made-up name is not in the text: nothing to end.
    let name_end = if field.is_output() { value_end } else { start + field.name.1 as usize };
    end_at(buf, name_end, value_end);
}

/// [`end_spans`] by position, both before the line's LF.
#[inline(always)]
fn end_at(buf: &mut [u8], name_end: usize, value_end: usize) {
    (buf[name_end], buf[value_end]) = (0, 0);
}

/// The header on the line `buf[line..end]` of the message at `start`, whose
/// first colon is at `colon` (`NO_COLON`: none; else `colon` < `end`).
fn header_field(buf: &[u8], start: usize, line: usize, colon: usize, end: usize) -> Field {
    let (name_end, value) = split_header(buf, colon, end);
    field_at(start, line, name_end, value, end)
}

/// Where the name of a line ending at `end` ends and its value starts: the
/// value is everything after the first colon with one leading space
/// removed; a line without a colon is a name with no value.
#[inline(always)]
fn split_header(buf: &[u8], colon: usize, end: usize) -> (usize, usize) {
    match colon {
        NO_COLON => (end, end),
        colon if colon + 1 < end && buf[colon + 1] == b' ' => (colon, colon + 2),
        colon => (colon, colon + 1),
    }
}

/// The spans of a header, relative to its message at `start`.
#[inline(always)]
fn field_at(start: usize, line: usize, name_end: usize, value: usize, end: usize) -> Field {
    let rel = |i: usize| (i - start) as u32;
    Field { name: (rel(line), rel(name_end)), value: (rel(value), rel(end)) }
}

/// From `at`, the first LF before `filled`, noting in `colon` the first `:`
/// before it unless one is noted already. Sixteen bytes at a time; a load
/// may read past `filled` into the buffer's spare room, whose bytes are
/// ignored.
fn scan_line(buf: &[u8], mut at: usize, filled: usize, colon: &mut usize) -> Option<usize> {
    while at < filled {
        let Some(chunk) = buf.get(at..at + 16) else {
            // The buffer's last bytes: one at a time.
            match buf[at] {
                b'\n' => return Some(at),
                b':' if *colon == NO_COLON => *colon = at,
                _ => {}
            }
            at += 1;
            continue;
        };
        let (lfs, colons) = masks16(chunk.try_into().expect("16 bytes"));
        let first_lf = lfs.trailing_zeros() as usize; // 32: none
        if *colon == NO_COLON {
            let first_colon = colons.trailing_zeros() as usize;
            if first_colon < first_lf && at + first_colon < filled {
                *colon = at + first_colon;
            }
        }
        if first_lf < 16 {
            let lf = at + first_lf;
            return (lf < filled).then_some(lf);
        }
        at += 16;
    }
    None
}

/// Where the 64 bytes from `base` hold LF and where `:` (bit `i` for byte
/// `base + i`), bits at or past `filled` cleared. The load may read past
/// `filled` into the buffer's spare room; at the buffer's very end the
/// last bytes are copied out first.
#[inline(always)]
fn masks64(buf: &[u8], base: usize, filled: usize) -> (u64, u64) {
    let tail;
    let block: &[u8; 64] = match buf.get(base..base + 64) {
        Some(block) => block.try_into().expect("64 bytes"),
        None => {
            let mut copy = [0u8; 64];
            copy[..filled - base].copy_from_slice(&buf[base..filled]);
            tail = copy;
            &tail
        }
    };
    let (mut lfs, mut colons) = (0u64, 0u64);
    for (i, chunk) in block.chunks_exact(16).enumerate() {
        let (l, c) = masks16(chunk.try_into().expect("16 bytes"));
        lfs |= (l as u64) << (16 * i);
        colons |= (c as u64) << (16 * i);
    }
    let valid = filled - base;
    let keep = if valid >= 64 { u64::MAX } else { (1u64 << valid) - 1 };
    (lfs & keep, colons & keep)
}

/// Where `chunk` holds LF and where `:` (bit `i` for byte `i`): one compare
/// and one move-mask each with SSE2, which every x86-64 has.
#[cfg(target_arch = "x86_64")]
fn masks16(chunk: &[u8; 16]) -> (u32, u32) {
    use std::arch::x86_64::{_mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8};
    // SAFETY: SSE2 is in the x86-64 baseline; the unaligned load reads exactly the 16 bytes `chunk` borrows.
    unsafe {
        let v = _mm_loadu_si128(chunk.as_ptr().cast());
        let lfs = _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(b'\n' as i8)));
        let colons = _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(b':' as i8)));
        (lfs as u32, colons as u32)
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn masks16(chunk: &[u8; 16]) -> (u32, u32) {
    masks16_portable(chunk)
}

/// [`masks16`] without SIMD (other targets; the tests compare the two).
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn masks16_portable(chunk: &[u8; 16]) -> (u32, u32) {
    let (mut lfs, mut colons) = (0u32, 0u32);
    for (i, &b) in chunk.iter().enumerate() {
        lfs |= ((b == b'\n') as u32) << i;
        colons |= ((b == b':') as u32) << i;
    }
    (lfs, colons)
}

/// Headers that Asterisk writes between `Response: Follows` and the raw body.
fn is_follows_header(line: &[u8]) -> bool {
    [&b"Privilege:"[..], b"ActionID:", b"Message:"]
        .iter()
        .any(|h| line.len() >= h.len() && line[..h.len()].eq_ignore_ascii_case(h))
}

fn preview(bytes: &[u8]) -> String {
    let cut = &bytes[..bytes.len().min(60)];
    format!("unexpected first line {:?}", String::from_utf8_lossy(cut))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(d: &mut Decoder) -> Vec<Frame> {
        let mut out = Vec::new();
        while let Some(f) = d.next_frame().unwrap() {
            out.push(f);
        }
        out
    }

    #[test]
    fn banner_then_message_with_bare_lf_and_colons() {
        let mut d = Decoder::client(Limits::default());
        d.feed(b"Asterisk Call Manager/5.0.2\r\nResponse: Success\nMessage: a: b:c\n\n");
        let frames = decode_all(&mut d);
        assert_eq!(frames[0], Frame::Banner("Asterisk Call Manager/5.0.2".into()));
        let Frame::Message(m) = &frames[1] else { panic!() };
        assert_eq!(m.get("message"), Some("a: b:c"));
    }

    #[test]
    fn scan_line_everywhere() {
        let find_lf = |v: &[u8]| {
            let mut colon = NO_COLON;
            scan_line(v, 0, v.len(), &mut colon)
        };
        for len in 0..40 {
            for at in 0..len {
                let mut v = vec![b'a'; len];
                v[at] = b'\n';
                if at + 3 < len {
                    v[at + 3] = b'\n';
                }
                assert_eq!(find_lf(&v), Some(at), "len {len} at {at}");
            }
            assert_eq!(find_lf(&vec![0x8a; len]), None);
        }
    }

    #[test]
    fn masks_match_the_portable_ones() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..10_000 {
            let mut chunk = [0u8; 16];
            for b in chunk.iter_mut() {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                *b = [b'\n', b':', b'a', b'\r', 0x8a, 0xba][(seed % 6) as usize];
            }
            assert_eq!(masks16(&chunk), masks16_portable(&chunk), "{chunk:?}");
        }
    }

    #[test]
    fn block_masks_mark_every_lf_and_colon_before_filled_and_nothing_else() {
        let buf: Vec<u8> = (0..200u32).map(|i| [b'\n', b':', b'x', b'\r'][(i * 7 % 11 % 4) as usize]).collect();
        for base in 0..buf.len() {
            for filled in base + 1..=buf.len() {
                let (lfs, colons) = masks64(&buf, base, filled);
                for bit in 0..64 {
                    let at = base + bit;
                    let inside = at < filled;
                    assert_eq!(lfs >> bit & 1 == 1, inside && buf[at] == b'\n', "lf base {base} filled {filled} bit {bit}");
                    assert_eq!(colons >> bit & 1 == 1, inside && buf[at] == b':', "colon base {base} filled {filled} bit {bit}");
                }
            }
        }
    }

    #[test]
    fn stale_bytes_past_the_data_are_not_read_as_lf_or_colon() {
        let mut d = Decoder::server(Limits::default());
        d.feed(b"Aaaaaaaa: 1\r\n\r\n");
        assert!(matches!(d.next_frame(), Ok(Some(Frame::Message(_)))));
        // The buffer still holds the old bytes after these two.
        d.feed(b"Bx");
        assert_eq!(d.next_frame(), Ok(None));
        d.feed(b"yyyyyyyyyyyyyyyyyyyy: 2\r\n\r\n");
        let Ok(Some(Frame::Message(m))) = d.next_frame() else { panic!() };
        assert_eq!(m.name_at(0), Some("Bxyyyyyyyyyyyyyyyyyyyy"));
        assert_eq!(m.value_at(0), Some("2"));
    }

    #[test]
    fn colon_found_before_a_split_is_kept() {
        let line = b"Name: a:b\r\nOther: c\r\n\r\n";
        for split in 0..line.len() {
            for second in split..line.len() {
                let mut d = Decoder::server(Limits::default());
                let mut got = None;
                for part in [&line[..split], &line[split..second], &line[second..]] {
                    d.feed(part);
                    if let Some(Frame::Message(m)) = d.next_frame().unwrap() {
                        got = Some(m);
                    }
                }
                let m = got.expect("complete");
                assert_eq!((m.get("Name"), m.get("other")), (Some("a:b"), Some("c")), "split {split}/{second}");
            }
        }
    }

    #[test]
    fn optional_banner() {
        for input in [&b"Asterisk Call Manager/1.0\r\nResponse: Pong\r\n\r\n"[..], b"Response: Pong\r\n\r\n"] {
            let mut d = Decoder::client_banner_optional(Limits::default());
            d.feed(input);
            let frames = decode_all(&mut d);
            let Some(Frame::Message(m)) = frames.last() else { panic!() };
            assert_eq!(m.len(), 1, "{m:?}");
            assert_eq!(m.get("Response"), Some("Pong"));
        }
    }

    #[test]
    fn not_ami() {
        let mut d = Decoder::client(Limits::default());
        d.feed(b"HTTP/1.1 400 Bad Request\r\n");
        assert!(matches!(d.next_frame(), Err(CodecError::NotAmi(_))));
        let mut d = Decoder::client(Limits::default());
        d.feed(&[b'x'; 2000]);
        assert!(matches!(d.next_frame(), Err(CodecError::NotAmi(_))));
    }

    #[test]
    fn limits() {
        let mut d = Decoder::server(Limits { max_message: 100, max_headers: 3 });
        d.feed(b"A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n");
        assert_eq!(d.next_frame(), Err(CodecError::TooManyHeaders(3)));
        let mut d = Decoder::server(Limits { max_message: 100, max_headers: 3 });
        d.feed(&[b'a'; 200]);
        assert_eq!(d.next_frame(), Err(CodecError::TooLarge(100)));
        assert_eq!(d.next_frame(), Err(CodecError::TooLarge(100)), "stays failed");
    }

    #[test]
    fn legacy_follows_end_on_same_line_and_empty_lines() {
        let mut d = Decoder::server(Limits::default());
        d.feed(b"Response: Follows\r\nPrivilege: Command\r\nline one: x\n\nlast--END COMMAND--\r\n\r\n");
        let Frame::Message(m) = d.next_frame().unwrap().unwrap() else { panic!() };
        assert_eq!(m.get_all("Output").collect::<Vec<_>>(), ["line one: x", "", "last"]);
        assert!(m.is_success());
    }
}
