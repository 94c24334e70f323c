//! Responses: the head parsed with `httparse`, the body delimited by
//! `Content-Length` (or by the server closing), both bounded.

use super::HttpError;

/// Largest response head (status line and headers).
const MAX_HEAD: usize = 64 * 1024;
/// Buffer capacity a connection keeps between responses.
const KEPT_CAPACITY: usize = 64 * 1024;
/// Most headers in a response head.
const MAX_HEADERS: usize = 100;

/// One HTTP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub reason: String,
    /// Headers in order, names as sent.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// The first header of `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// True unless the server said it closes the connection.
    pub fn keep_alive(&self) -> bool {
        !self.header("Connection").is_some_and(|c| c.split(',').any(|t| t.trim().eq_ignore_ascii_case("close")))
    }

    /// The status line as `ami_last_error` reports it.
    pub fn status_line(&self) -> String {
        format!("HTTP {} {}", self.status, self.reason)
    }
}

/// The manager session of `Set-Cookie: mansession_id="..."; ...`.
pub fn session_cookie(r: &Response) -> Option<String> {
    r.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case("Set-Cookie")).find_map(|(_, v)| {
        let first = v.split(';').next()?.trim();
        let value = first.strip_prefix("mansession_id=")?;
        Some(value.trim_matches('"').to_string())
    })
}

/// A response whose head is read, waiting for its body.
#[derive(Debug)]
struct Head {
    response: Response,
    /// Bytes of the head in the buffer.
    head_len: usize,
    /// `Content-Length`, or None: the body ends when the server closes.
    body_len: Option<usize>,
}

/// Incremental decoder of the responses on one connection.
#[derive(Debug)]
pub struct ResponseDecoder {
    buf: Vec<u8>,
    max_body: usize,
    head: Option<Head>,
}

impl ResponseDecoder {
    /// Bodies above `max_body` bytes are refused.
    pub fn new(max_body: usize) -> ResponseDecoder {
        ResponseDecoder { buf: Vec::new(), max_body, head: None }
    }

    pub fn feed(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// True while part of a response is buffered.
    pub fn in_progress(&self) -> bool {
        self.head.is_some() || !self.buf.is_empty()
    }

    /// The next complete response; `Ok(None)` when more bytes are needed.
    pub fn next_response(&mut self) -> Result<Option<Response>, HttpError> {
        if self.head.is_none() {
            match self.parse_head()? {
                Some(head) => self.head = Some(head),
                None => return Ok(None),
            }
        }
        let head = self.head.as_ref().expect("head");
        let Some(len) = head.body_len else { return Ok(None) }; // to the close
        if self.buf.len() < head.head_len + len {
            return Ok(None);
        }
        Ok(Some(self.take(len)))
    }

    /// The server closed the connection: a body delimited by the close is
    /// complete; anything else left half-read is an error.
    pub fn finish(&mut self) -> Result<Option<Response>, HttpError> {
        match &self.head {
            Some(h) if h.body_len.is_none() => {
                let len = self.buf.len() - h.head_len;
                Ok(Some(self.take(len)))
            }
            Some(h) => Err(HttpError::Bad(format!(
                "connection closed after {} of {} body bytes",
                self.buf.len() - h.head_len,
                h.body_len.unwrap_or(0)
            ))),
            None if self.buf.is_empty() => Ok(None),
            None => Err(HttpError::Bad("connection closed in the middle of a response head".into())),
        }
    }

    fn take(&mut self, len: usize) -> Response {
        let head = self.head.take().expect("head");
        let mut response = head.response;
        response.body = self.buf[head.head_len..head.head_len + len].to_vec();
        self.buf.drain(..head.head_len + len);
        if self.buf.is_empty() && self.buf.capacity() > KEPT_CAPACITY {
            self.buf = Vec::new(); // a big body leaves no big buffer behind on a kept-alive connection
        }
        response
    }

    fn parse_head(&mut self) -> Result<Option<Head>, HttpError> {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut parsed = httparse::Response::new(&mut headers);
        let head_len = match parsed.parse(&self.buf) {
            Ok(httparse::Status::Complete(n)) => n,
            Ok(httparse::Status::Partial) if self.buf.len() > MAX_HEAD => return Err(HttpError::TooLarge(MAX_HEAD)),
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(httparse::Error::TooManyHeaders) => return Err(HttpError::Bad(format!("more than {MAX_HEADERS} headers"))),
            Err(e) => {
                let preview = String::from_utf8_lossy(&self.buf[..self.buf.len().min(60)]).into_owned();
                return Err(HttpError::NotHttp(format!("{e}: {preview:?}")));
            }
        };
        let headers: Vec<(String, String)> = parsed
            .headers
            .iter()
            .map(|h| (h.name.to_string(), String::from_utf8_lossy(h.value).trim().to_string()))
            .collect();
        let response = Response {
            status: parsed.code.unwrap_or(0),
            reason: parsed.reason.unwrap_or("").to_string(),
            headers,
            body: Vec::new(),
        };
        if response.header("Transfer-Encoding").is_some_and(|t| !t.eq_ignore_ascii_case("identity")) {
            return Err(HttpError::Bad(format!("Transfer-Encoding {:?} is not supported", response.header("Transfer-Encoding"))));
        }
        let body_len = match response.header("Content-Length") {
            Some(v) => Some(v.parse::<usize>().map_err(|_| HttpError::Bad(format!("Content-Length {v:?}")))?),
            None if response.status == 204 || response.status == 304 || response.status / 100 == 1 => Some(0),
            None => None,
        };
        if body_len.unwrap_or(0) > self.max_body {
            return Err(HttpError::TooLarge(self.max_body));
        }
        Ok(Some(Head { response, head_len, body_len }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &[u8] = b"HTTP/1.1 200 OK\r\nServer: Asterisk/22.10.1\r\nConnection: close\r\n\
        Content-type: text/plain\r\nSet-Cookie: mansession_id=\"0e79b1b8\"; Version=1; Max-Age=60\r\n\
        Content-Length: 55\r\n\r\nResponse: Success\r\nMessage: Authentication accepted\r\n\r\n";

    #[test]
    fn a_captured_response_split_at_every_byte() {
        for split in 0..=OK.len() {
            let mut d = ResponseDecoder::new(1 << 20);
            d.feed(&OK[..split]);
            let early = d.next_response().unwrap();
            d.feed(&OK[split..]);
            let r = early.or_else(|| d.next_response().unwrap()).expect("a response");
            assert_eq!((r.status, r.reason.as_str()), (200, "OK"));
            assert_eq!(r.body, b"Response: Success\r\nMessage: Authentication accepted\r\n\r\n");
            assert_eq!(session_cookie(&r).as_deref(), Some("0e79b1b8"));
            assert!(!r.keep_alive());
            assert!(!d.in_progress());
        }
    }

    #[test]
    fn two_responses_on_one_connection() {
        let mut d = ResponseDecoder::new(1 << 20);
        let one = b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 3\r\n\r\nabcHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        d.feed(one);
        assert_eq!(d.next_response().unwrap().unwrap().status, 401);
        let r = d.next_response().unwrap().unwrap();
        assert_eq!((r.status, r.body.as_slice()), (200, &b"ok"[..]));
        assert!(r.keep_alive());
        assert_eq!(d.next_response().unwrap(), None);
    }

    #[test]
    fn bad_and_truncated_and_huge() {
        let mut d = ResponseDecoder::new(1 << 20);
        d.feed(b"Asterisk Call Manager/5.0.2\r\n");
        assert!(matches!(d.next_response(), Err(HttpError::NotHttp(_))));

        let mut d = ResponseDecoder::new(1 << 20);
        d.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
        assert_eq!(d.next_response().unwrap(), None);
        assert!(matches!(d.finish(), Err(HttpError::Bad(_))));

        let mut d = ResponseDecoder::new(100);
        d.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 101\r\n\r\n");
        assert_eq!(d.next_response(), Err(HttpError::TooLarge(100)));

        let mut d = ResponseDecoder::new(100);
        d.feed(b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n");
        assert!(matches!(d.next_response(), Err(HttpError::Bad(_))));

        let mut d = ResponseDecoder::new(100);
        d.feed(b"HTTP/1.1 200 OK\r\nX: ");
        d.feed(&vec![b'a'; MAX_HEAD + 1]);
        assert_eq!(d.next_response(), Err(HttpError::TooLarge(MAX_HEAD)));
    }

    #[test]
    fn a_body_that_ends_with_the_connection() {
        let mut d = ResponseDecoder::new(1 << 20);
        d.feed(b"HTTP/1.0 200 OK\r\n\r\nResponse: Success\r\n\r\n");
        assert_eq!(d.next_response().unwrap(), None);
        assert_eq!(d.finish().unwrap().unwrap().body, b"Response: Success\r\n\r\n");
    }
}
