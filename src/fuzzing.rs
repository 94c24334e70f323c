//! What each parser of outside input promises, checked on arbitrary bytes:
//! the fuzz targets (`fuzz/`, cargo-fuzz) and the regression tests
//! (`tests/fuzz_corpus.rs`) call these. Each panics when a promise breaks.
#![doc(hidden)]

use crate::codec::{CodecError, Decoder, Frame, Limits};
use crate::http::{Challenge, DigestAuth, ResponseDecoder};
use crate::{Message, Options};

/// Limits small enough that fuzzing reaches them.
const LIMITS: Limits = Limits { max_message: 4096, max_headers: 64 };

fn fields(m: &Message) -> Vec<(Vec<u8>, Vec<u8>)> {
    (0..m.len()).map(|i| (m.name_bytes_at(i).unwrap().to_vec(), m.value_bytes_at(i).unwrap().to_vec())).collect()
}

/// Everything a decoder makes of `data` fed in pieces of `step` bytes.
fn decode(mut d: Decoder, data: &[u8], step: usize) -> (Vec<Frame>, Option<CodecError>) {
    let mut frames = Vec::new();
    for piece in data.chunks(step.max(1)) {
        d.feed(piece);
        loop {
            match d.next_frame() {
                Ok(Some(f)) => frames.push(f),
                Ok(None) => break,
                Err(e) => {
                    // An error is final: the stream stays failed.
                    assert_eq!(d.next_frame().err(), Some(e.clone()), "a decoder error is sticky");
                    return (frames, Some(e));
                }
            }
        }
    }
    (frames, None)
}

/// The AMI decoder (client side, banner or not): the same frames whatever
/// the split, limits kept, and every message it gives re-encodes into
/// bytes that decode to the same headers.
pub fn decoder(data: &[u8]) {
    let step = data.first().map_or(1, |&b| 1 + b as usize % 17);
    for make in [Decoder::client, Decoder::client_banner_optional, Decoder::server] {
        let (whole, whole_err) = decode(make(LIMITS), data, data.len());
        let (split, split_err) = decode(make(LIMITS), data, step);
        assert_eq!(whole, split, "frames depend on how the bytes were split");
        // Which limit a message breaks first may depend on how it arrived.
        let limit = |e: &Option<CodecError>| matches!(e, Some(CodecError::TooLarge(_) | CodecError::TooManyHeaders(_)));
        if !(limit(&whole_err) && limit(&split_err)) {
            assert_eq!(whole_err, split_err, "the error depends on how the bytes were split");
        }
        for frame in &whole {
            let Frame::Message(m) = frame else { continue };
            assert!(m.len() <= LIMITS.max_headers, "more headers than the limit");
            if m.get_all("Response").any(|r| r.eq_ignore_ascii_case("Follows")) {
                continue; // the legacy command form is the server's alone: no headers re-encode it
            }
            let wire = match m.to_wire() {
                Ok(w) => w,
                Err(_) => continue, // a lone CR in a value, an empty name: not sendable, fine
            };
            let (again, err) = decode(Decoder::server(Limits::default()), &wire, wire.len());
            assert!(err.is_none(), "a re-encoded message does not decode: {err:?}");
            let [Frame::Message(back)] = again.as_slice() else { panic!("a re-encoded message is one message: {again:?}") };
            assert_eq!(fields(back), fields(m), "a re-encoded message decodes differently");
        }
    }
}

/// The classic `ami_parse_packet`: NULL or a packet whose every name and
/// value fits its fixed buffer, NUL-terminated; freed cleanly.
pub fn classic_parse(data: &[u8]) {
    use crate::compat::{ami_destroy_packet_group, ami_duplicate_packet, ami_parse_packet};
    let mut text: Vec<u8> = data.iter().copied().filter(|&b| b != 0).collect();
    text.push(0);
    let p = ami_parse_packet(text.as_ptr().cast());
    let mut seen = 0;
    // SAFETY: NULL or a packet this library made; read only, freed below.
    let mut item = unsafe { p.as_ref() }.map_or(std::ptr::null_mut(), |p| p.first_item);
    while !item.is_null() {
        // SAFETY: a live item of the packet.
        let it = unsafe { &*item };
        assert!(it.name.contains(&0) && it.value.contains(&0), "an item without its NUL");
        item = it.next;
        seen += 1;
    }
    let copy = ami_duplicate_packet(p);
    assert_eq!(copy.is_null(), seen == 0, "a duplicate of a packet with items");
    ami_destroy_packet_group(copy);
    ami_destroy_packet_group(p);
}

/// Options from strings: a result, never a panic; a value with CR or LF is
/// never taken.
pub fn options(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (key, value) = text.split_once('=').unwrap_or((&text, ""));
    let mut o = Options::default();
    if o.set(key, value).is_ok() && value.contains(['\r', '\n']) {
        let risky = [&o.events, o.tls_ca_file.as_deref().unwrap_or(""), o.tls_server_name.as_deref().unwrap_or("")];
        assert!(!risky.iter().any(|v| v.contains(['\r', '\n'])), "option {key:?} took a CR or LF");
    }
}

/// HTTP responses: the same whatever the split, bodies within the limit,
/// an answer at the close.
pub fn http_response(data: &[u8]) {
    let run = |step: usize| {
        let mut d = ResponseDecoder::new(4096);
        let mut out = Vec::new();
        for piece in data.chunks(step.max(1)) {
            d.feed(piece);
            loop {
                match d.next_response() {
                    Ok(Some(r)) => {
                        assert!(r.body.len() <= 4096, "a body over the limit");
                        out.push(Ok(Some(r)));
                    }
                    Ok(None) => break,
                    Err(e) => {
                        out.push(Err(e));
                        return out;
                    }
                }
            }
        }
        out.push(d.finish());
        out
    };
    let step = data.first().map_or(1, |&b| 1 + b as usize % 13);
    // An error's text quotes what had arrived: only its kind must agree.
    let kinds = |out: Vec<Result<Option<crate::http::Response>, crate::http::HttpError>>| {
        out.into_iter().map(|r| r.map_err(|e| std::mem::discriminant(&e))).collect::<Vec<_>>()
    };
    assert_eq!(kinds(run(data.len())), kinds(run(step)), "responses depend on how the bytes were split");
}

/// Digest challenges: parsed or refused; an answer to a parsed one is one
/// header line (no CR or LF can reach the request).
pub fn digest(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(c) = Challenge::parse(&text) {
        let value = DigestAuth::new("admin", "secret", c).authorization("POST", "/arawman", "cnonce");
        assert!(!value.contains(['\r', '\n']), "a Digest answer with a line break: {value:?}");
    }
}

/// The fuzz targets by name (for the regression tests and the runner).
pub const TARGETS: [(&str, fn(&[u8])); 5] = [
    ("decoder", decoder),
    ("classic_parse", classic_parse),
    ("options", options),
    ("http_response", http_response),
    ("digest", digest),
];
