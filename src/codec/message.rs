//! An AMI message: ordered `Name: value` headers, duplicates kept.
//!
//! All header bytes live in one buffer and headers are spans into it, so a
//! decoded message costs two allocations however many headers it has.

use super::CodecError;

/// Span of a header name or value inside the message's text.
type Span = (u32, u32);

/// Marks a name that is not in the text: the `Output` lines that the
/// decoder makes out of a legacy `Response: Follows` body.
const OUTPUT_NAME: Span = (u32::MAX, u32::MAX);

/// Bytes of one header's entry in the table (four little-endian u32).
pub(crate) const ENTRY: usize = 16;

#[derive(Debug, Clone, Copy)]
pub(crate) struct Field {
    pub(crate) name: Span,
    pub(crate) value: Span,
}

impl Field {
    pub(crate) fn output(value: Span) -> Field {
        Field { name: OUTPUT_NAME, value }
    }

    /// A line of legacy command output (its name is not in the text).
    pub(crate) fn is_output(&self) -> bool {
        self.name == OUTPUT_NAME
    }

    pub(crate) fn encode(&self) -> [u8; ENTRY] {
        let mut e = [0u8; ENTRY];
        for (i, v) in [self.name.0, self.name.1, self.value.0, self.value.1].into_iter().enumerate() {
            e[i * 4..i * 4 + 4].copy_from_slice(&v.to_le_bytes());
        }
        e
    }

    #[inline]
    fn decode(e: &[u8; ENTRY]) -> Field {
        let u = |k: usize| u32::from_le_bytes([e[k], e[k + 1], e[k + 2], e[k + 3]]);
        Field { name: (u(0), u(4)), value: (u(8), u(12)) }
    }

    /// Bytes in the name (0 for an `Output` line's, which is not in the text).
    #[inline]
    fn name_len(&self) -> usize {
        self.name.1.wrapping_sub(self.name.0) as usize
    }
}

/// One AMI message (action, response or event).
///
/// Lookup by name is case-insensitive and returns the first match, as
/// Asterisk does; [`Message::get_all`] returns every value of a repeated name.
/// Values are bytes on the wire: the `&str` accessors return the longest
/// valid UTF-8 prefix, the `*_bytes` accessors return the bytes untouched.
///
/// ```
/// use ami::Message;
/// let mut action = Message::action("Originate")?;
/// action.add("Channel", "Local/100@default")?;
/// action.add("Variable", "a=1")?;
/// action.add("Variable", "b=2")?;
/// assert_eq!(action.get("channel"), Some("Local/100@default"));
/// assert_eq!(action.get_all("Variable").collect::<Vec<_>>(), ["a=1", "b=2"]);
/// assert!(action.add("ActionID", "x\r\nAction: Logoff").is_err());
/// assert!(action.to_wire()?.starts_with(b"Action: Originate\r\nChannel: "));
/// # Ok::<(), ami::codec::CodecError>(())
/// ```
#[derive(Clone)]
pub struct Message {
    /// The header table (`ENTRY` bytes per header, spans into the text)
    /// followed by the text: a decoded message is one allocation.
    buf: Vec<u8>,
    count: u32,
    known: Known,
    list: Vec<Message>,
    wait_event: Option<Box<str>>,
}

/// A message's buffer goes back to the pool (`recycle`) rather than to
/// the allocator: the thread that drops a message (a consumer of the event
/// queue, a binding) is seldom the loop thread that decoded it, and glibc
/// frees such a buffer by its slow path.
impl Drop for Message {
    fn drop(&mut self) {
        super::recycle::give_buffer(std::mem::take(&mut self.buf));
    }
}

/// The headers whose first position a message keeps.
const KNOWN: [&[u8]; 3] = [b"Event", b"Response", b"ActionID"];
const NONE: u32 = u32::MAX;

/// Where the first `Event`, `Response` and `ActionID` of a message are
/// (`NONE`: not there): routing asks for them of every message, so they
/// cost no scan. The decoder notes them as it parses each name.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Known([u32; KNOWN.len()]);

impl Known {
    pub(crate) const EMPTY: Known = Known([NONE; KNOWN.len()]);

    /// Records header `i` called `name` if it is the first of a known name;
    /// returns which known name it is.
    #[inline]
    pub(crate) fn note(&mut self, i: u32, name: &[u8]) -> Option<usize> {
        let k = known_slot(name)?;
        if self.0[k] == NONE {
            self.0[k] = i;
        }
        Some(k)
    }
}

/// A `Response` value of success: `Success`, `Follows` or `Goodbye`.
pub(crate) fn is_success_word(value: &[u8]) -> bool {
    [&b"success"[..], b"follows", b"goodbye"].iter().any(|ok| is_word_nocase(value, ok))
}

/// `Event`, `Response` and `ActionID` in [`KNOWN`].
const EVENT: usize = 0;
pub(crate) const RESPONSE: usize = 1;
const ACTION_ID: usize = 2;

/// Which of `KNOWN` `name` is (case-insensitive). Every message asks this
/// of each of its names, so words are compared, not bytes.
#[inline]
fn known_slot(name: &[u8]) -> Option<usize> {
    match name.len() {
        5 => is_word_nocase(name, b"event").then_some(EVENT),
        8 if is_word_nocase(name, b"response") => Some(RESPONSE),
        8 => is_word_nocase(name, b"actionid").then_some(ACTION_ID),
        _ => None,
    }
}

/// `bytes` equals `lower` (4 to 8 lowercase ASCII letters) in any case. A
/// letter's case is its 0x20 bit, and only the two cases of a letter have
/// that letter's bits once 0x20 is set: so an OR and a compare of two
/// (overlapping) 4-byte words decide it exactly.
#[inline(always)]
pub(crate) fn is_word_nocase(bytes: &[u8], lower: &[u8]) -> bool {
    debug_assert!((4..=8).contains(&lower.len()) && lower.iter().all(u8::is_ascii_lowercase));
    let n = lower.len();
    if bytes.len() != n {
        return false;
    }
    let word = |b: &[u8], at: usize| u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
    (word(bytes, 0) | 0x2020_2020) == word(lower, 0) && (word(bytes, n - 4) | 0x2020_2020) == word(lower, n - 4)
}

impl Default for Message {
    fn default() -> Message {
        Message { buf: Vec::new(), count: 0, known: Known::EMPTY, list: Vec::new(), wait_event: None }
    }
}

impl Message {
    /// An empty message.
    pub fn new() -> Message {
        Message::default()
    }

    /// An action: a message whose first header is `Action: <name>`.
    pub fn action(name: &str) -> Result<Message, CodecError> {
        let mut m = Message::new();
        m.add("Action", name)?;
        Ok(m)
    }

    /// Builder form of [`Message::add`].
    pub fn with(mut self, name: &str, value: &str) -> Result<Message, CodecError> {
        self.add(name, value)?;
        Ok(self)
    }

    /// Appends a header; duplicates are allowed. Refuses an empty name and CR
    /// or LF anywhere, so a value can never inject a header or an action.
    pub fn add(&mut self, name: &str, value: &str) -> Result<(), CodecError> {
        self.add_bytes(name.as_bytes(), value.as_bytes())
    }

    /// [`Message::add`] for values that need not be UTF-8.
    pub fn add_bytes(&mut self, name: &[u8], value: &[u8]) -> Result<(), CodecError> {
        check_header(name, value)?;
        self.known.note(self.count, name);
        let name = self.push_text(name);
        let value = self.push_text(value);
        let at = self.table_len();
        self.buf.splice(at..at, Field { name, value }.encode());
        self.count += 1;
        Ok(())
    }

    /// Replaces the value of the first header called `name`, or appends it.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), CodecError> {
        check_header(name.as_bytes(), value.as_bytes())?;
        match self.position(name) {
            Some(i) => {
                let mut f = self.field(i);
                f.value = self.push_text(value.as_bytes());
                self.buf[i * ENTRY..(i + 1) * ENTRY].copy_from_slice(&f.encode());
                Ok(())
            }
            None => self.add(name, value),
        }
    }

    #[inline]
    fn table_len(&self) -> usize {
        self.count as usize * ENTRY
    }

    /// Appends `bytes` and a NUL (every name and value is NUL-terminated in
    /// the text, so the C API hands out pointers without copying).
    fn push_text(&mut self, bytes: &[u8]) -> Span {
        let start = (self.buf.len() - self.table_len()) as u32;
        self.buf.extend_from_slice(bytes);
        self.buf.push(0);
        (start, start + bytes.len() as u32)
    }

    /// A decoded message: `text` holds the headers that `table` (`count`
    /// entries as [`Field::encode`] writes them) points into, each span
    /// already followed by a NUL; `known` says where the known names are.
    pub(crate) fn from_parts(text: &[u8], table: &[u8], count: u32, known: Known) -> Message {
        let mut buf = super::recycle::buffer(table.len() + text.len());
        buf.extend_from_slice(table);
        buf.extend_from_slice(text);
        Message { buf, count, known, list: Vec::new(), wait_event: None }
    }

    #[inline]
    fn field(&self, i: usize) -> Field {
        Field::decode(self.buf[i * ENTRY..(i + 1) * ENTRY].try_into().expect("an entry"))
    }

    /// The table's entries in order (whole entries: no check per field).
    fn fields(&self) -> impl Iterator<Item = Field> + '_ {
        let entries = self.buf[..self.table_len()].chunks_exact(ENTRY);
        entries.map(|e| Field::decode(e.try_into().expect("an entry")))
    }

    #[inline]
    fn span(&self, span: Span) -> &[u8] {
        let with_nul = self.span_with_nul(span);
        &with_nul[..with_nul.len() - 1]
    }

    #[inline]
    fn span_with_nul(&self, span: Span) -> &[u8] {
        if span == OUTPUT_NAME {
            return b"Output\0";
        }
        let text = &self.buf[self.table_len()..];
        &text[span.0 as usize..=span.1 as usize]
    }

    /// Name of header `i`, NUL-terminated (for the C API).
    pub(crate) fn name_with_nul(&self, i: usize) -> Option<&[u8]> {
        (i < self.len()).then(|| self.span_with_nul(self.field(i).name))
    }

    /// Value of header `i`, NUL-terminated (for the C API).
    pub(crate) fn value_with_nul(&self, i: usize) -> Option<&[u8]> {
        (i < self.len()).then(|| self.span_with_nul(self.field(i).value))
    }

    /// Index of the first header with a known name ([`KNOWN`]`[k]`).
    #[inline]
    fn known_at(&self, k: usize) -> Option<usize> {
        let i = self.known.0[k];
        (i != NONE).then_some(i as usize)
    }

    /// The first value of a known name ([`KNOWN`]`[k]`), without a lookup.
    #[inline]
    pub(crate) fn known_value(&self, k: usize) -> Option<&[u8]> {
        self.known_at(k).map(|i| self.span(self.field(i).value))
    }

    /// Index of the first header called `name` (case-insensitive). Inline,
    /// so that a known name the caller spells out is a read of its slot
    /// (every answer is asked for three of them, every action for one).
    #[inline]
    pub(crate) fn index_of(&self, name: &[u8]) -> Option<usize> {
        match known_slot(name) {
            Some(k) => self.known_at(k),
            None => self.scan_for(name),
        }
    }

    /// Index of the first header called `name`, which is not a known one.
    fn scan_for(&self, name: &[u8]) -> Option<usize> {
        // The entries' lengths rule out most headers unread.
        self.fields().position(|f| match f.is_output() {
            true => name.eq_ignore_ascii_case(b"Output"),
            false => f.name_len() == name.len() && self.span(f.name).eq_ignore_ascii_case(name),
        })
    }

    #[inline]
    fn position(&self, name: &str) -> Option<usize> {
        self.index_of(name.as_bytes())
    }

    /// Number of headers.
    pub fn len(&self) -> usize {
        self.count as usize
    }

    /// True when the message has no headers.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Name of header `i` (in wire order).
    pub fn name_at(&self, i: usize) -> Option<&str> {
        self.name_bytes_at(i).map(text)
    }

    /// Value of header `i` (in wire order).
    pub fn value_at(&self, i: usize) -> Option<&str> {
        self.value_bytes_at(i).map(text)
    }

    /// Raw name of header `i`.
    pub fn name_bytes_at(&self, i: usize) -> Option<&[u8]> {
        (i < self.len()).then(|| self.span(self.field(i).name))
    }

    /// Raw value of header `i`.
    pub fn value_bytes_at(&self, i: usize) -> Option<&[u8]> {
        (i < self.len()).then(|| self.span(self.field(i).value))
    }

    /// First value of `name`, case-insensitive.
    #[inline]
    pub fn get(&self, name: &str) -> Option<&str> {
        self.get_bytes(name).map(text)
    }

    /// First raw value of `name`, case-insensitive.
    #[inline]
    pub fn get_bytes(&self, name: &str) -> Option<&[u8]> {
        self.position(name).map(|i| self.span(self.field(i).value))
    }

    /// Every value of `name` in wire order (`Output`, `Variable`, ...).
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        let name = name.as_bytes();
        self.fields()
            .filter(move |f| self.span(f.name).eq_ignore_ascii_case(name))
            .map(|f| text(self.span(f.value)))
    }

    /// Every header as `(name, value)` in wire order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.fields().map(|f| (text(self.span(f.name)), text(self.span(f.value))))
    }

    /// True when `name` is present with a value equal (ignoring ASCII case) to `value`.
    pub fn has(&self, name: &str, value: &str) -> bool {
        self.get_bytes(name).is_some_and(|v| v.eq_ignore_ascii_case(value.as_bytes()))
    }

    /// The `Event` header: a message with one is an event, even when it also
    /// carries `Response` (`OriginateResponse`).
    pub fn event_name(&self) -> Option<&str> {
        self.known_value(EVENT).map(text)
    }

    /// True for events.
    pub fn is_event(&self) -> bool {
        self.known_at(EVENT).is_some()
    }

    /// True for responses (a `Response` header and no `Event` header).
    pub fn is_response(&self) -> bool {
        !self.is_event() && self.known_at(RESPONSE).is_some()
    }

    /// The `ActionID` header, if any.
    pub fn action_id(&self) -> Option<&str> {
        self.known_value(ACTION_ID).map(text)
    }

    /// The `Action` header's value: looked for first where an action has
    /// it, as its first header.
    pub(crate) fn action_name(&self) -> Option<&str> {
        match (self.count > 0).then(|| self.field(0)) {
            Some(f) if is_word_nocase(self.span(f.name), b"action") => Some(text(self.span(f.value))),
            _ => self.get("Action"),
        }
    }

    /// True when `Response` is `Success`, `Follows` or `Goodbye`.
    pub fn is_success(&self) -> bool {
        self.known_value(RESPONSE).is_some_and(is_success_word)
    }

    /// True for a response that opens an event list: `EventList: start`, or
    /// a pre-13.2 list announced by `... will follow`.
    pub fn starts_list(&self) -> bool {
        // Every successful answer is asked this: both names in one pass.
        // Lengths first: most headers are ruled out unread.
        let mut message = None;
        for f in self.fields() {
            match f.name_len() {
                9 if self.span(f.name).eq_ignore_ascii_case(b"EventList") => {
                    return self.span(f.value).eq_ignore_ascii_case(b"start");
                }
                7 if message.is_none() && self.span(f.name).eq_ignore_ascii_case(b"Message") => {
                    message = Some(self.span(f.value));
                }
                _ => {}
            }
        }
        message.is_some_and(|m| {
            let tail = b"will follow";
            m.len() >= tail.len() && m[m.len() - tail.len()..].eq_ignore_ascii_case(tail)
        })
    }

    /// True for the event that closes a list: `EventList: Complete`, or a
    /// legacy closer such as `PeerlistComplete`.
    pub fn ends_list(&self) -> bool {
        if let Some(v) = self.get_bytes("EventList") {
            return v.eq_ignore_ascii_case(b"Complete");
        }
        self.event_name().is_some_and(|n| {
            n.len() >= 8 && n.as_bytes()[n.len() - 8..].eq_ignore_ascii_case(b"complete")
        })
    }

    /// The events of a list response (items, then the closing event), in
    /// arrival order; empty for other messages.
    pub fn list(&self) -> &[Message] {
        &self.list
    }

    pub(crate) fn push_list(&mut self, item: Message) {
        self.list.push(item);
    }

    /// Asks the engine to complete this action on a later event of that name
    /// carrying its ActionID (`OriginateResponse` after an async `Originate`).
    pub fn wait_event(&mut self, event_name: &str) -> Result<(), CodecError> {
        check_header(b"Event", event_name.as_bytes())?;
        if event_name.is_empty() {
            return Err(CodecError::InvalidHeader("empty event name".into()));
        }
        self.wait_event = Some(event_name.into());
        Ok(())
    }

    /// The event name set by [`Message::wait_event`].
    pub fn waits_for_event(&self) -> Option<&str> {
        self.wait_event.as_deref()
    }

    /// Appends the wire form (`Name: value\r\n`... `\r\n`) to `out`. Fails,
    /// writing nothing, if a header holds CR or LF.
    pub fn write_to(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        for f in self.fields() {
            check_header(self.span(f.name), self.span(f.value))?;
        }
        self.write_as_is(out);
        Ok(())
    }

    /// The wire form with no check: for a message that came off the wire,
    /// handed on as it was received.
    pub(crate) fn write_as_is(&self, out: &mut Vec<u8>) {
        out.reserve(self.buf.len() + 2);
        for f in self.fields() {
            out.extend_from_slice(self.span(f.name));
            out.extend_from_slice(b": ");
            out.extend_from_slice(self.span(f.value));
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
    }

    /// The wire form as a new buffer.
    pub fn to_wire(&self) -> Result<Vec<u8>, CodecError> {
        let mut out = Vec::new();
        self.write_to(&mut out)?;
        Ok(out)
    }
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut m = f.debug_list();
        for (n, v) in self.iter() {
            m.entry(&format_args!("{n}: {v}"));
        }
        if !self.list.is_empty() {
            m.entry(&format_args!("list of {}", self.list.len()));
        }
        m.finish()
    }
}

/// Equal when the headers are equal, in order (names compared exactly).
impl PartialEq for Message {
    fn eq(&self, other: &Message) -> bool {
        self.len() == other.len()
            && (0..self.len()).all(|i| {
                self.name_bytes_at(i) == other.name_bytes_at(i)
                    && self.value_bytes_at(i) == other.value_bytes_at(i)
            })
            && self.list == other.list
    }
}

/// What [`check_header`] looks for in each byte.
const CR_LF: u8 = 1;
const COLON: u8 = 2;
const ODD: [u8; 256] = {
    let mut t = [0; 256];
    (t[b'\r' as usize], t[b'\n' as usize], t[b':' as usize]) = (CR_LF, CR_LF, COLON);
    t
};

fn check_header(name: &[u8], value: &[u8]) -> Result<(), CodecError> {
    if name.is_empty() {
        return Err(CodecError::InvalidHeader("empty header name".into()));
    }
    // Every action's every header passes here: one table look-up per byte,
    // no branch per byte.
    let odd = |b: &[u8]| b.iter().fold(0, |odd, &c| odd | ODD[c as usize]);
    let (name_odd, value_odd) = (odd(name), odd(value));
    if (name_odd | value_odd) & CR_LF != 0 {
        return Err(CodecError::InvalidHeader(format!(
            "CR or LF in header {:?}",
            String::from_utf8_lossy(name)
        )));
    }
    if name_odd & COLON != 0 {
        return Err(CodecError::InvalidHeader(format!(
            "colon in header name {:?}",
            String::from_utf8_lossy(name)
        )));
    }
    Ok(())
}

/// The longest valid UTF-8 prefix: wire bytes are passed through elsewhere,
/// the `&str` view must never fail.
fn text(bytes: &[u8]) -> &str {
    if bytes.is_ascii() {
        // SAFETY: ASCII is valid UTF-8 (and checking it is several times cheaper than `from_utf8` on short values).
        return unsafe { std::str::from_utf8_unchecked(bytes) };
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_compare_is_exactly_case_insensitive_equality() {
        // Every byte value in every position of each word the codec asks for.
        for lower in [&b"event"[..], b"response", b"actionid", b"follows", b"success", b"goodbye"] {
            for at in 0..lower.len() {
                for b in 0..=255u8 {
                    let mut probe = lower.to_vec();
                    probe[at] = b;
                    assert_eq!(is_word_nocase(&probe, lower), probe.eq_ignore_ascii_case(lower), "{probe:?}");
                }
            }
            assert!(is_word_nocase(&lower.to_ascii_uppercase(), lower));
            assert!(!is_word_nocase(&lower[..lower.len() - 1], lower));
        }
        assert_eq!(known_slot(b"ACTIONID"), Some(2));
        assert_eq!(known_slot(b"rEsPoNsE"), Some(RESPONSE));
        assert_eq!(known_slot(b"Uniqueid"), None);
    }

    #[test]
    fn known_headers_are_found_first_match_either_way() {
        let mut m = Message::new();
        for (n, v) in [("Privilege", "call"), ("event", "Hangup"), ("ACTIONID", "a"), ("ActionID", "b")] {
            m.add(n, v).unwrap();
        }
        assert_eq!((m.event_name(), m.action_id(), m.get("Response")), (Some("Hangup"), Some("a"), None));
        let mut d = crate::codec::Decoder::client_banner_optional(Default::default());
        d.feed(b"Response: Follows\r\nPrivilege: Command\r\nActionID: x\r\nline\r\n--END COMMAND--\r\n\r\n");
        let Ok(Some(crate::codec::Frame::Message(m))) = d.next_frame() else { panic!() };
        assert_eq!((m.get("Response"), m.action_id(), m.get("Event")), (Some("Follows"), Some("x"), None));
        assert_eq!(m.get("Output"), Some("line"));
    }

    #[test]
    fn builds_and_looks_up_case_insensitively() {
        let m = Message::action("Originate")
            .unwrap()
            .with("Variable", "a=1")
            .unwrap()
            .with("variable", "b=2")
            .unwrap();
        assert_eq!(m.get("ACTION"), Some("Originate"));
        assert_eq!(m.get_all("Variable").collect::<Vec<_>>(), ["a=1", "b=2"]);
        assert_eq!(
            m.to_wire().unwrap(),
            b"Action: Originate\r\nVariable: a=1\r\nvariable: b=2\r\n\r\n"
        );
    }

    #[test]
    fn refuses_injection() {
        let mut m = Message::action("Ping").unwrap();
        assert!(m.add("ActionID", "x\r\nAction: Logoff").is_err());
        assert!(m.add("Bad\nName", "v").is_err());
        assert!(m.add("", "v").is_err());
        assert!(m.add("A:B", "v").is_err());
        assert!(Message::action("Ping\r\n").is_err());
        assert_eq!(m.len(), 1);
    }

    #[test]
    fn every_name_and_value_is_nul_terminated() {
        let mut d = crate::codec::Decoder::server(Default::default());
        d.feed(b"Empty:\nBare\r\nResponse: Follows\r\nActionID: 7\r\nbody\nend--END COMMAND--\r\n\r\n");
        let Some(crate::codec::Frame::Message(m)) = d.next_frame().unwrap() else { panic!() };
        let mut built = Message::action("Ping").unwrap();
        built.set("Action", "Pong").unwrap();
        for msg in [&m, &built] {
            for i in 0..msg.len() {
                let n = msg.name_with_nul(i).unwrap();
                let v = msg.value_with_nul(i).unwrap();
                assert_eq!((n.last(), v.last()), (Some(&0), Some(&0)));
                assert_eq!(&n[..n.len() - 1], msg.name_bytes_at(i).unwrap());
                assert_eq!(&v[..v.len() - 1], msg.value_bytes_at(i).unwrap());
            }
        }
        assert_eq!(m.get_all("Output").collect::<Vec<_>>(), ["body", "end"]);
        assert_eq!(m.get("Empty"), Some(""));
        assert_eq!(built.get("Action"), Some("Pong"));
    }

    #[test]
    fn set_replaces_first() {
        let mut m = Message::action("Ping").unwrap();
        m.set("ActionID", "1").unwrap();
        m.set("actionid", "2").unwrap();
        assert_eq!(m.get("ActionID"), Some("2"));
        assert_eq!(m.len(), 2);
    }

    #[test]
    fn lookups_by_other_names_match_whole_names_and_output_lines() {
        let mut d = crate::codec::Decoder::server(Default::default());
        d.feed(b": nameless\r\nTimestamp: 1\r\nEventList: no\r\nOutputs: x\r\nResponse: Follows\r\nPrivilege: Command\r\nout one\r\n--END COMMAND--\r\n\r\n");
        let Some(crate::codec::Frame::Message(m)) = d.next_frame().unwrap() else { panic!() };
        assert_eq!(m.get("OUTPUT"), Some("out one"), "a made-up Output name, found by its name");
        assert_eq!(m.get("outputs"), Some("x"));
        assert_eq!(m.get("Output "), None);
        assert_eq!(m.get(""), Some("nameless"));
        assert_eq!(m.get("eventlist"), Some("no"), "same length as Timestamp, told apart");
        assert_eq!((m.get("EventLis"), m.get("EventListX"), m.get("Timestamq")), (None, None, None));
        let built = Message::new().with("Output", "built").unwrap();
        assert_eq!(built.get("output"), Some("built"));
    }

    #[test]
    fn list_start_takes_the_first_eventlist_before_any_message() {
        let m = |h: &[(&str, &str)]| h.iter().fold(Message::new(), |m, (n, v)| m.with(n, v).unwrap());
        assert!(m(&[("Message", "Peers will follow"), ("Message", "other")]).starts_list());
        assert!(!m(&[("Message", "other"), ("Message", "Peers will follow")]).starts_list());
        assert!(!m(&[("Message", "Peers will follow"), ("EventList", "no")]).starts_list());
        assert!(m(&[("Message", "nothing"), ("EVENTLIST", "Start"), ("EventList", "no")]).starts_list());
        assert!(!m(&[("Messages", "will follow"), ("EventLists", "start")]).starts_list());
    }

    #[test]
    fn known_values_and_the_action_name_agree_with_lookups_by_name() {
        let m = |h: &[(&str, &str)]| h.iter().fold(Message::new(), |m, (n, v)| m.with(n, v).unwrap());
        let first = m(&[("ACTION", "Ping"), ("Action", "Other"), ("event", "E"), ("Response", "Success")]);
        let later = m(&[("ActionX", "no"), ("action", "Status")]);
        let none = m(&[("Actions", "no"), ("Output", "x")]);
        assert_eq!((first.action_name(), later.action_name(), none.action_name()), (Some("Ping"), Some("Status"), None));
        for msg in [&first, &later, &none, &Message::new()] {
            assert_eq!(msg.action_name(), msg.get("Action"));
            for (k, name) in KNOWN.iter().enumerate() {
                assert_eq!(msg.known_value(k), msg.scan_for(name).and_then(|i| msg.value_bytes_at(i)));
            }
            assert_eq!(msg.is_event(), msg.scan_for(b"Event").is_some());
        }
        assert!(first.is_event() && !first.is_response() && first.is_success());
        let mut d = crate::codec::Decoder::server(Default::default());
        d.feed(b"Response: Follows\r\nMessage: Peers will follow\r\nline\r\n--END COMMAND--\r\n\r\n");
        let Some(crate::codec::Frame::Message(out)) = d.next_frame().unwrap() else { panic!() };
        assert!(out.is_response() && out.is_success() && out.starts_list(), "an Output line among the names");
        assert_eq!(out.known_value(RESPONSE), Some(&b"Follows"[..]));
    }

    #[test]
    fn header_check_refuses_exactly_cr_lf_anywhere_and_colons_in_names() {
        for b in 0..=255u8 {
            let text = [b'a', b, b'z'];
            let name_ok = !matches!(b, b'\r' | b'\n' | b':');
            let value_ok = !matches!(b, b'\r' | b'\n');
            assert_eq!(check_header(&text, b"v").is_ok(), name_ok, "name byte {b}");
            assert_eq!(check_header(b"N", &text).is_ok(), value_ok, "value byte {b}");
        }
        let long = [b'x'; 100];
        for at in 0..long.len() {
            let mut v = long;
            v[at] = b'\n';
            assert!(check_header(b"N", &v).is_err(), "LF at {at}");
            assert!(check_header(&long, &long).is_ok());
        }
        let colon = check_header(b"A:B", b"v").unwrap_err().to_string();
        let crlf = check_header(b"A:\rB", b"v").unwrap_err().to_string();
        assert!(colon.contains("colon") && crlf.contains("CR or LF"), "{colon} / {crlf}");
    }

    #[test]
    fn success_forms() {
        for (r, ok) in [("Success", true), ("Follows", true), ("Goodbye", true), ("Error", false)] {
            let m = Message::new().with("Response", r).unwrap();
            assert_eq!(m.is_success(), ok, "{r}");
        }
    }
}
