//! Logging to standard error from a thread of its own, so a parent that
//! never reads our stderr pipe cannot stall the server: when the queue is
//! full, lines are dropped rather than waited for.

use std::io::Write;
use std::sync::OnceLock;
use std::sync::mpsc::{SyncSender, sync_channel};

static SINK: OnceLock<Option<SyncSender<String>>> = OnceLock::new();

/// Starts the logger; `quiet` drops everything.
pub fn init(quiet: bool) {
    SINK.get_or_init(|| {
        if quiet {
            return None;
        }
        let (tx, rx) = sync_channel::<String>(4096);
        std::thread::Builder::new()
            .name("ami-sim-log".into())
            .spawn(move || {
                let mut err = std::io::stderr().lock();
                for line in rx {
                    let _ = writeln!(err, "ami-sim: {line}");
                }
            })
            .ok()
            .map(|_| tx)
    });
}

pub fn line(text: String) {
    if let Some(Some(tx)) = SINK.get() {
        let _ = tx.try_send(text);
    }
}

macro_rules! log {
    ($($arg:tt)*) => { $crate::log::line(format!($($arg)*)) };
}
pub(crate) use log;
