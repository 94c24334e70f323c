//! The classic libami API (`<ami/ami.h>`, ../shared/LIBAMI.md): packets of
//! fixed-size items, and calls on a socket the program opened itself.
//! Built on the same codec as the engine; replies are matched by ActionID.
#![allow(non_camel_case_types, non_snake_case)]

mod admin;
mod channel;
mod info;
mod manager;
mod output;
mod packet;
mod request;
mod socket;

pub use admin::*;
pub use channel::*;
pub use info::*;
pub use manager::*;
pub use packet::*;
pub use socket::*;
