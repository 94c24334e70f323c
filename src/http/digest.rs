//! HTTP Digest authentication (RFC 7616 with MD5 and `qop=auth`), as
//! Asterisk's `/arawman` asks for it: a `401` carries the challenge, every
//! request then answers it with a counted nonce, and a new challenge (a
//! stale nonce) starts the count again.

use super::HttpError;
use crate::md5;

/// The parameters of a `WWW-Authenticate: Digest ...` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub realm: String,
    pub nonce: String,
    pub opaque: Option<String>,
    /// The server offered `qop=auth`.
    pub qop_auth: bool,
    /// The server said the nonce had expired (the credentials were right).
    pub stale: bool,
}

impl Challenge {
    /// Parses the header's value (`Digest algorithm=MD5, realm="asterisk", ...`).
    pub fn parse(value: &str) -> Result<Challenge, HttpError> {
        let bad = || HttpError::Bad(format!("unusable Digest challenge: {value:?}"));
        if value.chars().any(|c| c.is_control() && c != '\t') {
            return Err(bad()); // a header value holds no line break
        }
        let rest = value.trim().strip_prefix("Digest").ok_or_else(bad)?;
        let (mut realm, mut nonce, mut opaque, mut qop_auth, mut stale) = (None, None, None, false, false);
        for (key, val) in params(rest) {
            match key.to_ascii_lowercase().as_str() {
                "realm" => realm = Some(val),
                "nonce" => nonce = Some(val),
                "opaque" => opaque = Some(val),
                "qop" => qop_auth = val.split(',').any(|q| q.trim().eq_ignore_ascii_case("auth")),
                "stale" => stale = val.eq_ignore_ascii_case("true"),
                "algorithm" if !val.eq_ignore_ascii_case("MD5") => return Err(bad()),
                _ => {}
            }
        }
        Ok(Challenge { realm: realm.ok_or_else(bad)?, nonce: nonce.ok_or_else(bad)?, opaque, qop_auth, stale })
    }
}

/// `key=value` and `key="value"` pairs separated by commas (a comma inside
/// quotes belongs to the value).
fn params(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect::<String>().trim().to_string();
        if key.is_empty() {
            return out;
        }
        let mut val = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '"' => break,
                    '\\' => val.extend(chars.next()),
                    c => val.push(c),
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| *c != ',') {
                val.push(c);
            }
        }
        out.push((key, val.trim().to_string()));
    }
}

/// `s` as a quoted-string: `"` and `\` escaped, control characters left
/// out (a line break must never reach the request's head).
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars().filter(|c| !c.is_control()) {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// Credentials answering a server's challenge, counting its nonce's uses.
#[derive(Debug, Clone)]
pub struct DigestAuth {
    username: String,
    secret: String,
    challenge: Challenge,
    count: u32,
}

impl DigestAuth {
    pub fn new(username: &str, secret: &str, challenge: Challenge) -> DigestAuth {
        DigestAuth { username: username.into(), secret: secret.into(), challenge, count: 0 }
    }

    /// The nonce being answered.
    pub fn nonce(&self) -> &str {
        &self.challenge.nonce
    }

    /// A new challenge from the server (a stale nonce): the count restarts.
    pub fn renew(&mut self, challenge: Challenge) {
        self.challenge = challenge;
        self.count = 0;
    }

    /// The `Authorization` value for one request of `method` to `uri`;
    /// `cnonce` is the client's own random string.
    pub fn authorization(&mut self, method: &str, uri: &str, cnonce: &str) -> String {
        self.count += 1;
        let c = &self.challenge;
        let ha1 = md5::hex(format!("{}:{}:{}", self.username, c.realm, self.secret).as_bytes());
        let ha2 = md5::hex(format!("{method}:{uri}").as_bytes());
        let nc = format!("{:08x}", self.count);
        let (response, qop) = if c.qop_auth {
            (md5::hex(format!("{ha1}:{}:{nc}:{cnonce}:auth:{ha2}", c.nonce).as_bytes()), format!(", cnonce={}, nc={nc}, qop=auth", quote(cnonce)))
        } else {
            (md5::hex(format!("{ha1}:{}:{ha2}", c.nonce).as_bytes()), String::new())
        };
        let opaque = c.opaque.as_ref().map(|o| format!(", opaque={}", quote(o))).unwrap_or_default();
        format!(
            "Digest username={}, realm={}, nonce={}, uri={}{qop}, response=\"{response}\"{opaque}, algorithm=MD5",
            quote(&self.username),
            quote(&c.realm),
            quote(&c.nonce),
            quote(uri)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHALLENGE: &str = r#"Digest algorithm=MD5, realm="asterisk", nonce="1f435a1d", qop="auth", opaque="1f435a1d""#;

    #[test]
    fn parses_asterisks_challenge() {
        let c = Challenge::parse(CHALLENGE).unwrap();
        assert_eq!((c.realm.as_str(), c.nonce.as_str(), c.opaque.as_deref()), ("asterisk", "1f435a1d", Some("1f435a1d")));
        assert!(c.qop_auth && !c.stale);
        assert!(Challenge::parse(r#"Digest realm="a", nonce="n", stale=TRUE"#).unwrap().stale);
        assert!(Challenge::parse("Basic realm=\"x\"").is_err());
        assert!(Challenge::parse(r#"Digest realm="a", nonce="n", algorithm=SHA-256"#).is_err());
        assert!(Challenge::parse(r#"Digest nonce="n""#).is_err());
        assert!(Challenge::parse("Digest realm=\"a\nb\", nonce=\"n\"").is_err());
        let quoted = Challenge::parse(r#"Digest realm="a\"b", nonce="n""#).unwrap();
        assert_eq!(quoted.realm, "a\"b");
        let value = DigestAuth::new("u", "s", quoted).authorization("GET", "/", "c");
        assert!(value.contains(r#"realm="a\"b""#), "{value}");
    }

    /// The authorised request of ../shared/fixtures/14-http-arawman-digest.txt,
    /// computed again from its nonce and cnonce: the real server accepted it.
    #[test]
    fn answers_as_the_captured_client_did() {
        let mut auth = DigestAuth::new("admin", "admin", Challenge::parse(CHALLENGE).unwrap());
        let cnonce = "YTMwOWQzYWI3ODQ1MjEwMTNiMzQ3ZjY2MjlkNWFmYjE=";
        let value = auth.authorization("GET", "/arawman?action=ping&actionid=d-1", cnonce);
        assert_eq!(
            value,
            format!(
                "Digest username=\"admin\", realm=\"asterisk\", nonce=\"1f435a1d\", uri=\"/arawman?action=ping&actionid=d-1\", \
                 cnonce=\"{cnonce}\", nc=00000001, qop=auth, response=\"9572fdedaeaff0d03bea51fc13fb6b3e\", \
                 opaque=\"1f435a1d\", algorithm=MD5"
            )
        );
        // The POST of the same capture, under its own challenge.
        let post = r#"Digest algorithm=MD5, realm="asterisk", nonce="10eec7c8", qop="auth", opaque="10eec7c8""#;
        let mut auth = DigestAuth::new("admin", "admin", Challenge::parse(post).unwrap());
        let value = auth.authorization("POST", "/arawman", "M2Y0NTlkNjI5NzVjYzgwODZmMWY1NTRhZTBlZjg1NGY=");
        assert!(value.contains("response=\"7e7471da4e58a9a8e26019c8ed07757c\""), "{value}");
        // The capture's wrong password gave another answer (and a 401).
        let wrong = r#"Digest algorithm=MD5, realm="asterisk", nonce="19e02ac9", qop="auth", opaque="19e02ac9""#;
        let mut auth = DigestAuth::new("admin", "admin", Challenge::parse(wrong).unwrap());
        let value = auth.authorization("GET", "/arawman?action=ping", "MjdiNjQ2YzNlNWYzNzQzZDZjMGEwZDU1YTMzZmI2ZWY=");
        assert!(!value.contains("900993de8301ad9d345965ceb01a73aa"));
    }

    #[test]
    fn counts_nonce_uses_and_restarts_on_a_new_one() {
        let mut auth = DigestAuth::new("u", "s", Challenge::parse(CHALLENGE).unwrap());
        assert!(auth.authorization("POST", "/arawman", "c").contains("nc=00000001"));
        assert!(auth.authorization("POST", "/arawman", "c").contains("nc=00000002"));
        auth.renew(Challenge::parse(r#"Digest realm="asterisk", nonce="2", qop="auth", stale=true"#).unwrap());
        assert!(auth.authorization("POST", "/arawman", "c").contains("nc=00000001"));
    }
}
