//! Keeping a link up: reconnecting with backoff after a loss, logging in
//! again with the same credentials and event mask, sending what waited
//! meanwhile, and keepalive pings. Loop-thread code, like `event_loop`.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::time::{Duration, Instant};

use super::connection::{Pending, Phase};
use super::http_link::Job;
use super::event_loop::EventLoop;
use super::timers::TimerKind;
use super::{Internal, Reply, action_id};
use crate::codec::Message;
use crate::error::Error;
use crate::State;
use crate::logging::ami_log;

/// The delay before reconnect attempt `attempt` (0-based): exponential from
/// `min`, capped at `max`, with ±25% jitter so that many clients of one
/// restarted server do not come back in step.
fn backoff(min: Duration, max: Duration, attempt: u32) -> Duration {
    let base = min.saturating_mul(1u32 << attempt.min(20)).min(max);
    let noise = RandomState::new().hash_one(Instant::now()) % 1000; // 0..1000
    let factor = 0.75 + noise as f64 / 2000.0;
    base.mul_f64(factor).clamp(min, max.max(min))
}

impl EventLoop {
    /// Marks the link lost-but-coming-back and schedules the next attempt.
    pub(super) fn schedule_reconnect(&mut self, id: u64) {
        let Some(conn) = self.conns.get_mut(&id) else { return };
        let Some((min, max)) = conn.policy.reconnect else { return };
        conn.reconnecting = true;
        conn.client.set_state(State::Reconnecting, None);
        let delay = backoff(min, max, conn.attempts);
        conn.attempts = conn.attempts.saturating_add(1);
        ami_log!(conn.client.log, id, Info, "reconnecting to {} in {} ms (attempt {})", conn.target, delay.as_millis(), conn.attempts);
        conn.reconnect_seq = self.timers.add(Instant::now() + delay, TimerKind::Reconnect { conn: id });
    }

    /// After reading: start logging in again on a fresh reconnect, arm the
    /// keepalive, and act on the loop's own answers.
    pub(super) fn after_read(&mut self, id: u64) {
        // Answers first: a Challenge answered here is followed by its Login.
        self.handle_internal(id);
        let Some(conn) = self.conns.get_mut(&id) else { return };
        if conn.phase == Phase::Open && !conn.keepalive_on && !conn.policy.keepalive.is_zero() {
            conn.keepalive_on = true;
            self.keepalive_tick(id);
        }
        let Some(conn) = self.conns.get_mut(&id) else { return };
        let logging_in = conn
            .pending
            .values()
            .any(|p| matches!(p.reply, Reply::Internal(Internal::Login | Internal::Challenge)));
        if conn.reconnecting && conn.phase == Phase::Open && !logging_in {
            let digest = conn.http.as_ref().is_some_and(|h| h.is_digest());
            match conn.login.clone() {
                // Digest answers every request: the link is logged in as it is.
                Some(_) if digest => self.back_online(id, State::LoggedIn),
                Some(login) if login.md5 => {
                    let m = Message::new().with("Action", "Challenge").and_then(|m| m.with("AuthType", "MD5"));
                    self.send_internal(id, Internal::Challenge, m);
                }
                Some(login) => {
                    let m = Message::new()
                        .with("Action", "Login")
                        .and_then(|m| m.with("Username", &login.username))
                        .and_then(|m| m.with("Secret", &login.secret))
                        .and_then(|m| m.with("Events", &login.events));
                    self.send_internal(id, Internal::Login, m);
                }
                None => self.back_online(id, State::Connected),
            }
        }
    }

    /// Sends one of the loop's own actions.
    fn send_internal(&mut self, id: u64, kind: Internal, action: Result<Message, crate::codec::CodecError>) {
        let Some(conn) = self.conns.get_mut(&id) else { return };
        let timeout = match kind {
            Internal::Keepalive => conn.policy.keepalive / 2,
            _ => conn.policy.action_timeout,
        };
        let action_id = action_id::next_id();
        let Ok(action) = action.and_then(|m| m.with("ActionID", &action_id)) else { return };
        let deadline = Instant::now() + timeout;
        let pending = Pending { reply: Reply::Internal(kind), deadline, wait_event: None, list: None, sent: true, ticket: None };
        conn.pending.insert(action_id.clone(), pending);
        conn.arm_deadline(id, &mut self.timers, deadline);
        match conn.http.as_mut() {
            Some(http) => {
                let Ok(body) = crate::http::form_body(&action) else { return };
                http.enqueue(Job::new(action_id, body, true));
            }
            None => {
                let Ok(bytes) = action.to_wire() else { return }; // our own headers are always valid
                crate::logging::wire(conn.client.log, id, "->", &bytes);
                conn.claim_output();
                conn.out.extend_from_slice(&bytes);
            }
        }
        conn.open_direct(); // writable by callers once `out` is written
        self.dirty.push(id);
    }

    /// Acts on the answers to the loop's own actions.
    pub(super) fn handle_internal(&mut self, id: u64) {
        let Some(conn) = self.conns.get_mut(&id) else { return };
        let results = std::mem::take(&mut conn.internal);
        for (kind, result) in results {
            let Some(conn) = self.conns.get_mut(&id) else { return };
            match (kind, result) {
                (Internal::Challenge, Ok(m)) => {
                    let (Some(challenge), Some(login)) = (m.get("Challenge"), conn.login.clone()) else {
                        let why = m.get("Message").unwrap_or("no challenge").to_string();
                        self.disconnect(id, Error::Auth(format!("logging in again: {why}")));
                        continue;
                    };
                    let key = crate::md5::hex(format!("{challenge}{}", login.secret).as_bytes());
                    let m = Message::new()
                        .with("Action", "Login")
                        .and_then(|m| m.with("AuthType", "MD5"))
                        .and_then(|m| m.with("Username", &login.username))
                        .and_then(|m| m.with("Key", &key))
                        .and_then(|m| m.with("Events", &login.events));
                    self.send_internal(id, Internal::Login, m);
                }
                (Internal::Login, Ok(m)) if m.is_success() => self.back_online(id, State::LoggedIn),
                (Internal::Login, Ok(m)) => {
                    let why = m.get("Message").unwrap_or("login rejected").to_string();
                    self.disconnect(id, Error::Auth(format!("logging in again: {why}")));
                }
                (Internal::Keepalive, Err(Error::Timeout(_))) => {
                    let period = conn.policy.keepalive;
                    let e = Error::Disconnected(format!("keepalive: no answer to Ping within {period:?}"));
                    self.disconnect(id, e);
                }
                (Internal::Challenge | Internal::Login, Err(e @ Error::Timeout(_))) => self.disconnect(id, e),
                _ => {} // a keepalive answer, or a loss already handled
            }
        }
    }

    /// The link is back: say so and send what waited, in order.
    fn back_online(&mut self, id: u64, state: State) {
        let Some(conn) = self.conns.get_mut(&id) else { return };
        conn.reconnecting = false;
        conn.attempts = 0;
        conn.client.set_state(state, None);
        if conn.http.is_some() && conn.login.is_some() {
            self.http_logged_in(id);
        }
        let Some(conn) = self.conns.get_mut(&id) else { return };
        conn.claim_output();
        for (action_id, bytes) in std::mem::take(&mut conn.backlog) {
            if let Some(p) = conn.pending.get_mut(&action_id) {
                p.sent = true; // still waiting: it did not time out meanwhile
                crate::logging::wire(conn.client.log, id, "->", &bytes);
                conn.out.extend_from_slice(&bytes);
            }
        }
        conn.open_direct(); // writable by callers once `out` is written
        self.dirty.push(id);
    }

    /// Sends a Ping after half the keepalive period without a byte from the
    /// server; checks every quarter period.
    pub(super) fn keepalive_tick(&mut self, id: u64) {
        let Some(conn) = self.conns.get_mut(&id) else { return };
        if conn.phase != Phase::Open || conn.policy.keepalive.is_zero() {
            conn.keepalive_on = false;
            return;
        }
        let period = conn.policy.keepalive;
        let waiting = conn.pending.values().any(|p| matches!(p.reply, Reply::Internal(Internal::Keepalive)));
        // Answers a blocking caller read itself are traffic too.
        let last_rx = conn.client.direct.caller_rx().map_or(conn.last_rx, |at| at.max(conn.last_rx));
        if !waiting && last_rx.elapsed() >= period / 2 {
            self.send_internal(id, Internal::Keepalive, Message::action("Ping"));
        }
        if let Some(conn) = self.conns.get_mut(&id) {
            conn.keepalive_seq = self.timers.add(Instant::now() + period / 4, TimerKind::Keepalive { conn: id });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_stays_in_bounds() {
        let (min, max) = (Duration::from_millis(100), Duration::from_millis(1000));
        for attempt in 0..30 {
            let d = backoff(min, max, attempt);
            assert!(d >= min && d <= max, "{attempt}: {d:?}");
        }
        assert!(backoff(min, max, 0) <= Duration::from_millis(125));
        assert!(backoff(min, max, 10) >= Duration::from_millis(750));
    }
}
