//! A tiny in-process AMI responder so that the documentation's examples run
//! for real. Not part of the API; tests use the full `ami-sim` instead.

use std::io::Write;
use std::net::TcpListener;

use crate::codec::{Decoder, Frame, Limits};

/// Listens on a free loopback port and answers one connection: the banner,
/// then `Response: Success` with the action's ActionID to every action
/// (`Ping: Pong` for Ping, a `UserEvent` after `UserEvent`). Returns the port.
pub fn tiny_server() -> std::io::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    std::thread::spawn(move || {
        let Ok((mut stream, _)) = listener.accept() else { return };
        let _ = stream.write_all(b"Asterisk Call Manager/5.0.2\r\n");
        let mut decoder = Decoder::server(Limits::default());
        while let Ok(n) = decoder.read_from(&mut stream) {
            if n == 0 {
                return;
            }
            while let Ok(Some(Frame::Message(action))) = decoder.next_frame() {
                let name = action.get("Action").unwrap_or("").to_ascii_lowercase();
                let mut out = format!("Response: {}\r\n", if name == "logoff" { "Goodbye" } else { "Success" });
                if let Some(id) = action.action_id() {
                    out.push_str(&format!("ActionID: {id}\r\n"));
                }
                match name.as_str() {
                    "ping" => out.push_str("Ping: Pong\r\nTimestamp: 0.0\r\n\r\n"),
                    "userevent" => out.push_str("\r\nEvent: UserEvent\r\nUserEvent: Example\r\n\r\n"),
                    _ => out.push_str("Message: OK\r\n\r\n"),
                }
                if stream.write_all(out.as_bytes()).is_err() {
                    return;
                }
            }
        }
    });
    Ok(port)
}
