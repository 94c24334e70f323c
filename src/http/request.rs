//! Requests: an action as an `application/x-www-form-urlencoded` body
//! (header order and repeated headers such as `Variable` kept), in a POST
//! with the session cookie or the Digest authorization.


use super::HttpError;
use crate::Message;

/// Percent-encodes `bytes` for a form: unreserved characters as they are,
/// everything else as `%XX` (spaces too, which servers read either way).
fn encode(bytes: &[u8], out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 15) as usize] as char);
        }
    }
}

/// The form body of an action: `name=value` pairs in the message's order,
/// names lower-cased as Asterisk's own forms send them. CR or LF in a name
/// or value is refused, as on TCP.
pub fn form_body(action: &Message) -> Result<String, HttpError> {
    let mut body = String::new();
    for i in 0..action.len() {
        let (Some(n), Some(v)) = (action.name_bytes_at(i), action.value_bytes_at(i)) else { continue };
        if n.is_empty() || n.contains(&b'\r') || n.contains(&b'\n') || v.contains(&b'\r') || v.contains(&b'\n') {
            return Err(HttpError::InvalidHeader(String::from_utf8_lossy(n).into_owned()));
        }
        if !body.is_empty() {
            body.push('&');
        }
        encode(&n.to_ascii_lowercase(), &mut body);
        body.push('=');
        encode(v, &mut body);
    }
    Ok(body)
}

/// The form body of an action with its ActionID: the action's own, or
/// `next_id()` appended when it has none.
pub fn form_with_id(action: &Message, next_id: impl FnOnce() -> String) -> Result<(String, String), HttpError> {
    let mut body = form_body(action)?;
    let id = match action.action_id() {
        Some(id) if !id.is_empty() => id.into(),
        _ => {
            let id = next_id();
            body.push_str("&actionid=");
            encode(id.as_bytes(), &mut body);
            id.into()
        }
    };
    Ok((id, body))
}

/// The action named by a form body's leading `action=` pair, lower-cased.
pub fn form_action(body: &str) -> String {
    let first = body.split('&').next().unwrap_or("");
    first.strip_prefix("action=").unwrap_or("").to_ascii_lowercase()
}

/// A keep-alive `POST path` of `body` to `host`, with `Cookie:` and
/// `Authorization:` lines when given.
pub fn request(host: &str, path: &str, body: &str, cookie: Option<&str>, authorization: Option<&str>) -> Vec<u8> {
    let mut head = format!("POST {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: libami-rs\r\n");
    if let Some(c) = cookie {
        head.push_str(&format!("Cookie: mansession_id=\"{c}\"\r\n"));
    }
    if let Some(a) = authorization {
        head.push_str(&format!("Authorization: {a}\r\n"));
    }
    head.push_str(&format!(
        "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    ));
    head.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_keeps_order_and_repeats() {
        let mut m = Message::action("Originate").unwrap();
        for (n, v) in [("Channel", "Local/100@default"), ("Variable", "A=1"), ("Variable", "B=2"), ("ActionID", "p 1")] {
            m.add(n, v).unwrap();
        }
        let body = form_body(&m).unwrap();
        assert_eq!(body, "action=Originate&channel=Local%2F100%40default&variable=A%3D1&variable=B%3D2&actionid=p%201");
    }

    #[test]
    fn an_id_when_there_is_none() {
        let m = Message::action("Ping").unwrap();
        let (id, body) = form_with_id(&m, || "h 1".into()).unwrap();
        assert_eq!((&*id, body.as_str()), ("h 1", "action=Ping&actionid=h%201"));
        let m = m.with("ActionID", "mine").unwrap();
        let (id, body) = form_with_id(&m, || unreachable!()).unwrap();
        assert_eq!((&*id, body.as_str()), ("mine", "action=Ping&actionid=mine"));
        assert_eq!(form_action(&body), "ping");
    }

    #[test]
    fn request_head() {
        let r = request("127.0.0.1:8088", "/rawman", "action=Ping", Some("0e79b1b8"), None);
        let text = String::from_utf8(r).unwrap();
        assert!(text.starts_with("POST /rawman HTTP/1.1\r\nHost: 127.0.0.1:8088\r\n"));
        assert!(text.contains("Cookie: mansession_id=\"0e79b1b8\"\r\n"));
        assert!(text.ends_with("Content-Length: 11\r\n\r\naction=Ping"));
    }
}
