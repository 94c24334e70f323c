//! Bytes to AMI messages and back, with no I/O: the client engine, the
//! simulator and the libami layer all share it.

mod decoder;
mod message;
pub(crate) mod recycle;

pub use decoder::{Decoder, Frame, Limits};
pub use message::Message;
pub(crate) use message::{RESPONSE, is_success_word};

/// Why bytes could not be decoded, or a message could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// Empty name, CR or LF inside a name or value, or a colon in a name.
    #[error("invalid header: {0}")]
    InvalidHeader(String),
    /// The first line was not an `Asterisk Call Manager/` banner.
    #[error("{0}")]
    NotAmi(String),
    /// A message grew over the size limit (bytes).
    #[error("message larger than {0} bytes")]
    TooLarge(usize),
    /// A message had more headers than the limit.
    #[error("message with more than {0} headers")]
    TooManyHeaders(usize),
}
