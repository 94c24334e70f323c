//! The library's error type. Each variant maps to one fixed C status code.

use crate::codec::CodecError;

/// Everything that can go wrong, with a human-readable detail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Bad argument: empty name, CR or LF in a header, unknown option, ...
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The TCP connection could not be made (refused, unreachable, unresolved).
    #[error("connect failed: {0}")]
    Connect(String),
    /// The peer answered but is not an AMI server.
    #[error("not an AMI server: {0}")]
    NotAmi(String),
    /// Login rejected.
    #[error("authentication failed: {0}")]
    Auth(String),
    /// The operation's deadline passed.
    #[error("timed out: {0}")]
    Timeout(String),
    /// The connection was lost.
    #[error("disconnected: {0}")]
    Disconnected(String),
    /// The server sent malformed or over-limit data.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// TLS handshake or certificate failure.
    #[error("TLS error: {0}")]
    Tls(String),
    /// The client was closed, or is not connected.
    #[error("closed: {0}")]
    Closed(String),
    /// A blocking call was made from a callback that it would wait on.
    #[error("would deadlock: {0}")]
    WouldDeadlock(String),
    /// Too many unsent or unanswered actions on the client (`max_pending`).
    #[error("too many actions pending: {0}")]
    Full(String),
    /// A bug inside the library.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Shorthand for results of this crate.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// The fixed status code of the C API (`enum ami_status`).
    pub fn status(&self) -> i32 {
        match self {
            Error::InvalidArgument(_) => 1,
            Error::Connect(_) => 2,
            Error::NotAmi(_) => 3,
            Error::Auth(_) => 4,
            Error::Timeout(_) => 5,
            Error::Disconnected(_) => 6,
            Error::Protocol(_) => 7,
            Error::Tls(_) => 8,
            Error::Closed(_) => 9,
            Error::WouldDeadlock(_) => 10,
            Error::Full(_) => 11,
            Error::Internal(_) => 99,
        }
    }
}

impl From<CodecError> for Error {
    fn from(e: CodecError) -> Self {
        match e {
            CodecError::InvalidHeader(_) => Error::InvalidArgument(e.to_string()),
            CodecError::NotAmi(_) => Error::NotAmi(e.to_string()),
            CodecError::TooLarge(_) | CodecError::TooManyHeaders(_) => {
                Error::Protocol(e.to_string())
            }
        }
    }
}

impl From<crate::http::HttpError> for Error {
    fn from(e: crate::http::HttpError) -> Self {
        match e {
            crate::http::HttpError::InvalidHeader(_) => Error::InvalidArgument(e.to_string()),
            crate::http::HttpError::NotHttp(_) => Error::NotAmi(e.to_string()),
            _ => Error::Protocol(e.to_string()),
        }
    }
}
