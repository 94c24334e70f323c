//! The HTTP responses captured from a real Asterisk (/rawman with its
//! cookie, /arawman with Digest) go through the HTTP response decoder and
//! the AMI codec: every response, every body, split at every byte.

mod common;

use ami::codec::{Decoder, Frame, Limits};
use ami::http::{Challenge, ResponseDecoder, session_cookie};
use ami::Message;
use common::{Dir, segments};

fn ami_messages(body: &[u8]) -> Vec<Message> {
    let mut d = Decoder::server(Limits::default());
    d.feed(body);
    let mut out = Vec::new();
    while let Some(Frame::Message(m)) = d.next_frame().unwrap() {
        out.push(m);
    }
    out
}

#[test]
fn rawman_responses_and_their_ami_bodies() {
    let responses: Vec<Vec<u8>> =
        segments("13-http-rawman.txt").into_iter().filter(|(d, _)| *d == Dir::Server).map(|(_, b)| b).collect();
    assert_eq!(responses.len(), 11);
    let mut bodies = Vec::new();
    for raw in &responses {
        for split in 0..=raw.len() {
            let mut d = ResponseDecoder::new(1 << 20);
            d.feed(&raw[..split]);
            let early = d.next_response().unwrap();
            d.feed(&raw[split..]);
            let r = early.or_else(|| d.next_response().unwrap()).expect("a whole response");
            assert_eq!(r.status, 200);
            assert!(!r.keep_alive(), "each captured request said Connection: close");
            assert!(session_cookie(&r).is_some());
            if split == 0 {
                bodies.push(r.body);
            }
        }
    }
    let first = |i: usize| ami_messages(&bodies[i]).remove(0);
    assert_eq!(first(0).get("Message"), Some("Permission denied"));
    assert_eq!(first(1).get("Message"), Some("Authentication failed"));
    assert_eq!(first(2).get("Message"), Some("Authentication accepted"));
    assert_eq!(first(3).get("Ping"), Some("Pong"));
    assert!(first(4).get("Output").unwrap().starts_with("Asterisk 22.10.1"));
    // A list in one body: the response, then its closing event.
    let list = ami_messages(&bodies[5]);
    assert!(list[0].starts_list() && list.last().unwrap().ends_list());
    // waitevent: the session's queued events, closed by WaitEventComplete.
    let waited = ami_messages(&bodies[7]);
    assert!(waited.len() >= 3, "{waited:?}");
    assert!(waited[1..].iter().any(|e| e.event_name() == Some("UserEvent")));
    assert_eq!(waited.last().unwrap().event_name(), Some("WaitEventComplete"));
    // Logged off: the next request is refused again.
    assert_eq!(first(10).get("Message"), Some("Permission denied"));
}

#[test]
fn arawman_challenges_and_answers() {
    let responses: Vec<Vec<u8>> =
        segments("14-http-arawman-digest.txt").into_iter().filter(|(d, _)| *d == Dir::Server).map(|(_, b)| b).collect();
    assert_eq!(responses.len(), 6);
    let mut statuses = Vec::new();
    for raw in &responses {
        let text = String::from_utf8_lossy(raw);
        let status: u16 = text[9..12].parse().unwrap();
        statuses.push(status);
        if status == 401 {
            let line = text.lines().find(|l| l.starts_with("WWW-authenticate: ")).unwrap();
            let c = Challenge::parse(&line["WWW-authenticate: ".len()..]).unwrap();
            assert_eq!(c.realm, "asterisk");
            assert!(c.qop_auth && c.opaque.as_deref() == Some(c.nonce.as_str()));
        }
        let mut d = ResponseDecoder::new(1 << 20);
        d.feed(raw);
        match d.next_response().unwrap() {
            Some(r) if r.status == 200 => {
                assert!(r.keep_alive());
                assert!(ami_messages(&r.body)[0].is_success());
            }
            Some(r) => assert_eq!(r.status, 401),
            None => assert_eq!(status, 401, "curl left out this 401's body"),
        }
    }
    assert_eq!(statuses, [401, 200, 401, 200, 401, 401]);
}
