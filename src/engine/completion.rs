//! How a finished action reaches whoever waits for it, exactly once.

use std::sync::{Condvar, Mutex};

use super::Dispatcher;
use crate::codec::Message;
use crate::error::Result;

/// A value handed from the loop thread to one blocked thread.
pub(crate) struct Oneshot<T> {
    slot: Mutex<Option<T>>,
    ready: Condvar,
}

impl<T> Oneshot<T> {
    pub(crate) fn new() -> Oneshot<T> {
        Oneshot { slot: Mutex::new(None), ready: Condvar::new() }
    }

    /// Stores the value; a second completion is ignored.
    pub(crate) fn complete(&self, value: T) {
        let mut slot = self.slot.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            *slot = Some(value);
            self.ready.notify_all();
        }
    }

    pub(crate) fn wait(&self) -> T {
        let mut slot = self.slot.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(v) = slot.take() {
                return v;
            }
            slot = self.ready.wait(slot).unwrap_or_else(|p| p.into_inner());
        }
    }
}

pub(crate) type ResponseCallback = Box<dyn FnOnce(Result<Message>) + Send>;

/// Actions the loop sends on its own behalf.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Internal {
    /// `Challenge` before an MD5 login again after a reconnect.
    Challenge,
    /// `Login` again after a reconnect.
    Login,
    /// A keepalive `Ping`.
    Keepalive,
}

/// Where an action's result goes. Consumed by completion, so it cannot
/// complete twice.
pub(crate) enum Reply {
    Wait(std::sync::Arc<Oneshot<Result<Message>>>),
    /// Runs on the client's dispatch thread, never on the loop thread.
    Callback(ResponseCallback),
    /// Handled by the loop itself (see `Conn::complete`).
    Internal(Internal),
}

impl Reply {
    pub(crate) fn complete(self, result: Result<Message>, dispatch: &Dispatcher) {
        match self {
            Reply::Wait(slot) => slot.complete(result),
            Reply::Callback(cb) => dispatch.push_response(cb, result),
            Reply::Internal(_) => {}
        }
    }

    /// Completion when no dispatcher is reachable (the engine is gone).
    pub(crate) fn complete_here(self, result: Result<Message>) {
        match self {
            Reply::Wait(slot) => slot.complete(result),
            Reply::Callback(cb) => cb(result),
            Reply::Internal(_) => {}
        }
    }
}
