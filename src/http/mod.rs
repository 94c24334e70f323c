//! AMI over Asterisk's HTTP server (`/rawman`, `/arawman`), without I/O:
//! actions as form-encoded requests, responses parsed back into the AMI
//! body the codec decodes, the `mansession_id` cookie, and HTTP Digest
//! (MD5, `qop=auth`) for `/arawman`. The engine drives these on its mio
//! loop like the TCP codec.

mod digest;
mod request;
mod response;

pub use digest::{Challenge, DigestAuth};
pub use request::{form_action, form_body, form_with_id, request};
pub use response::{Response, ResponseDecoder, session_cookie};

/// Why an HTTP exchange failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    /// The peer does not speak HTTP.
    #[error("not an HTTP response: {0}")]
    NotHttp(String),
    /// A response head or body larger than allowed.
    #[error("HTTP response larger than {0} bytes")]
    TooLarge(usize),
    /// A header or body that breaks the protocol.
    #[error("bad HTTP response: {0}")]
    Bad(String),
    /// A value that cannot be sent (CR or LF in a name or value).
    #[error("invalid header: {0}")]
    InvalidHeader(String),
}
