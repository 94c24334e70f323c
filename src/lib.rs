//! `ami`: a client library for the Asterisk Manager Interface (AMI).
//!
//! Layers, bottom up:
//! - [`codec`]: bytes to [`Message`]s and back, with no I/O (sans-IO), shared
//!   by the client engine and the `ami-sim` simulator.
//! - `engine`: one mio event loop thread that owns every connection, matches
//!   responses to actions by ActionID, gathers event lists, and hands events
//!   to a per-client dispatch queue.
//! - [`Client`]: the safe, blocking-or-callback API over the engine; the C
//!   APIs are thin shells over it.
//!
//! ```
//! use ami::{Client, Message, Options};
//! # let port = ami::doc_support::tiny_server().unwrap(); // a real Asterisk listens on 5038
//! let client = Client::new(Options::default());
//! client.connect("127.0.0.1", port)?;
//! client.login("admin", "admin")?;
//! let pong = client.send(&Message::action("Ping")?)?;
//! assert_eq!(pong.get("Ping"), Some("Pong"));
//! # Ok::<(), ami::Error>(())
//! ```

pub mod codec;
mod client;
pub mod compat;
#[doc(hidden)]
pub mod doc_support;
mod engine;
mod error;
pub mod ffi;
pub mod fuzzing;
mod logging;
pub mod http;
pub mod md5;
mod options;
mod tls;
pub mod transport;

pub use client::{Client, State};
pub use codec::Message;
pub use engine::Engine;
pub use error::{Error, Result};
pub use options::{Auth, Carrier, LogLevel, Options, Overflow};
