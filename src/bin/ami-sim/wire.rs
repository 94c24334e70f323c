//! Renders what the simulator writes, in Asterisk's own header order.

use std::fmt::Display;
use std::io::Write;

/// A message being written: `Name: value\r\n` lines, then `\r\n`.
pub struct Wire {
    buf: Vec<u8>,
}

impl Wire {
    pub fn new() -> Wire {
        Wire { buf: Vec::with_capacity(256) }
    }

    /// `Response: <status>` and the action's ActionID, if it had one.
    pub fn response(status: &str, action_id: Option<&str>) -> Wire {
        let mut w = Wire::new();
        w.h("Response", status);
        if let Some(id) = action_id {
            w.h("ActionID", id);
        }
        w
    }

    /// `Event: <name>` and, when given, `Privilege: <privilege>`.
    pub fn event(name: &str, privilege: Option<&str>) -> Wire {
        let mut w = Wire::new();
        w.h("Event", name);
        if let Some(p) = privilege {
            w.h("Privilege", p);
        }
        w
    }

    pub fn h(&mut self, name: &str, value: impl Display) -> &mut Wire {
        let _ = write!(self.buf, "{name}: {value}\r\n");
        self
    }

    /// The ActionID header when the action had one.
    pub fn id(&mut self, action_id: Option<&str>) -> &mut Wire {
        if let Some(id) = action_id {
            self.h("ActionID", id);
        }
        self
    }

    pub fn finish(mut self) -> Vec<u8> {
        self.buf.extend_from_slice(b"\r\n");
        self.buf
    }
}

/// A response with a `Message` header, the most common shape.
pub fn reply(status: &str, action_id: Option<&str>, message: &str) -> Vec<u8> {
    let mut w = Wire::response(status, action_id);
    w.h("Message", message);
    w.finish()
}

/// Event classes (`EventMask`, `Privilege`), as bits.
pub mod class {
    pub const SYSTEM: u32 = 1;
    pub const CALL: u32 = 1 << 1;
    pub const AGENT: u32 = 1 << 5;
    pub const USER: u32 = 1 << 6;
    pub const DIALPLAN: u32 = 1 << 11;
    pub const SECURITY: u32 = 1 << 17;
    pub const ALL: u32 = u32::MAX;

    const NAMES: [&str; 19] = [
        "system", "call", "log", "verbose", "command", "agent", "user", "config", "dtmf",
        "reporting", "cdr", "dialplan", "originate", "agi", "cc", "aoc", "test", "security",
        "message",
    ];

    /// Parses an event mask as Asterisk does: `on`/`off`, a number, or a
    /// comma-separated list of class names.
    pub fn parse_mask(text: &str) -> u32 {
        let t = text.trim();
        match t.to_ascii_lowercase().as_str() {
            "on" | "yes" | "true" | "all" => return ALL,
            "off" | "no" | "false" | "" => return 0,
            _ => {}
        }
        if let Ok(n) = t.parse::<u32>() {
            return n;
        }
        let mut mask = 0;
        for part in t.split(',') {
            let part = part.trim().to_ascii_lowercase();
            if part == "all" {
                return ALL;
            }
            if let Some(i) = NAMES.iter().position(|n| *n == part) {
                mask |= 1 << i;
            }
        }
        mask
    }
}
