//! One AMI connection as the loop thread sees it: socket, buffers, phase,
//! and the actions waiting for their answers. Message routing lives here
//! and does no I/O.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::action_id::{ActionId, IdHash};
use super::timers::{TimerKind, Timers};
use super::{ClientShared, Internal, LinkPolicy, LoginInfo, Oneshot, Reply};
use crate::codec::{Decoder, Limits, Message, RESPONSE, is_success_word};
use crate::error::{Error, Result};
use crate::transport::Transport;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    /// No link (never connected, or lost).
    Idle,
    /// Waiting for the resolver thread.
    Resolving,
    /// TCP connect in progress.
    Connecting,
    /// Connected, waiting for the `Asterisk Call Manager/` line.
    Banner,
    Open,
}

/// Whether callers write their blocking actions to the socket themselves
/// (see `direct`), as the loop last told them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Direct {
    /// No: no link yet, TLS, HTTP, or logging in again.
    Off,
    /// Yes: the loop has nothing to write.
    Open,
    /// Not now: the loop has bytes to write first.
    Busy,
}

/// An action waiting for its answer.
pub(super) struct Pending {
    pub(super) reply: Reply,
    /// When it times out (see [`Conn::arm_deadline`]).
    pub(super) deadline: Instant,
    /// Complete on this event (with our ActionID) rather than the response.
    pub(super) wait_event: Option<Box<str>>,
    /// The response of a list, gathering its events until the closing one
    /// (boxed: most actions are no list, and a pending entry stays small).
    pub(super) list: Option<Box<Message>>,
    /// Written to the socket (false: waiting in the backlog for a reconnect).
    pub(super) sent: bool,
    /// The client's room it takes (None: the loop's own actions), given
    /// back when the entry leaves the map.
    pub(super) ticket: Option<super::Ticket>,
}

pub(super) struct Conn {
    pub(super) client: Arc<ClientShared>,
    pub(super) stream: Option<Transport>,
    pub(super) phase: Phase,
    pub(super) decoder: Decoder,
    pub(super) out: Vec<u8>,
    pub(super) out_pos: usize,
    pub(super) pending: HashMap<ActionId, Pending, IdHash>,
    /// While a read is routed: callback results waiting to go to the
    /// dispatcher together, under one lock (see `Conn::finish`).
    pub(super) done: Vec<(Reply, Result<Message>)>,
    pub(super) batching: bool,
    /// The blocked `connect` call, until the banner arrives.
    pub(super) connect: Option<Arc<Oneshot<Result<String>>>>,
    /// Identifies the current connect attempt (its timer and resolver).
    pub(super) connect_seq: u64,
    pub(super) addrs: VecDeque<SocketAddr>,
    pub(super) target: String,
    pub(super) last_error: Option<String>,
    /// Reading stopped because the event consumer is behind (`Overflow::Block`).
    pub(super) paused: bool,
    pub(super) host: String,
    pub(super) port: u16,
    pub(super) policy: LinkPolicy,
    /// How to log in again after a reconnect (set once the client logged in).
    pub(super) login: Option<LoginInfo>,
    /// Connected once by the client: only such a link is re-established.
    pub(super) ever_up: bool,
    /// The client ended the link (close, logoff): no reconnecting.
    pub(super) user_closed: bool,
    /// Lost and not yet back (reconnected and logged in again).
    pub(super) reconnecting: bool,
    pub(super) attempts: u32,
    /// Identifies the scheduled reconnect, and the keepalive timer.
    pub(super) reconnect_seq: u64,
    pub(super) keepalive_seq: u64,
    pub(super) keepalive_on: bool,
    /// When the timer that looks for actions past their deadline fires (at
    /// or before the earliest pending deadline), and that timer's number.
    pub(super) deadlines_at: Option<Instant>,
    pub(super) deadlines_seq: u64,
    /// Actions that arrived while reconnecting, in order, sent once back.
    pub(super) backlog: Vec<(ActionId, Vec<u8>)>,
    pub(super) last_rx: Instant,
    /// Results of the loop's own actions, handled after routing.
    pub(super) internal: Vec<(Internal, Result<Message>)>,
    /// AMI over HTTP: the connections and session (`stream` is then unused).
    pub(super) http: Option<Box<super::http_link::HttpLink>>,
    pub(super) direct: Direct,
    /// Counts the links callers were let write to.
    pub(super) link: u64,
    /// The loop's epoll descriptor and this link's token in it: a caller
    /// reading its own answer turns the loop's interest off meanwhile.
    pub(super) epoll: (RawFd, u64),
}

impl Conn {
    pub(super) fn new(client: Arc<ClientShared>) -> Conn {
        client.direct.forget_queued();
        let limits = client.limits;
        Conn {
            client,
            stream: None,
            phase: Phase::Idle,
            decoder: Decoder::client(limits),
            out: Vec::new(),
            out_pos: 0,
            pending: HashMap::default(),
            done: Vec::new(),
            batching: false,
            connect: None,
            connect_seq: 0,
            addrs: VecDeque::new(),
            target: String::new(),
            last_error: None,
            paused: false,
            host: String::new(),
            port: 0,
            policy: LinkPolicy {
                connect_timeout: Duration::from_secs(5),
                action_timeout: Duration::from_secs(10),
                reconnect: None,
                keepalive: Duration::ZERO,
                offline_wait: true,
                tls: None,
                http: None,
            },
            login: None,
            ever_up: false,
            user_closed: false,
            reconnecting: false,
            attempts: 0,
            reconnect_seq: 0,
            keepalive_seq: 0,
            keepalive_on: false,
            deadlines_at: None,
            deadlines_seq: 0,
            backlog: Vec::new(),
            last_rx: Instant::now(),
            internal: Vec::new(),
            http: None,
            direct: Direct::Off,
            link: 0,
            epoll: (-1, 0),
        }
    }

    /// Makes sure a deadline timer fires by `deadline`: one timer per
    /// connection for all its actions, armed anew only when an action is
    /// due sooner than the armed one, so that an action costs the timer
    /// heap nothing (a heap entry per action, and the sweeps of those left
    /// behind by answered actions, were 3.7 % of a pipeline's instructions).
    pub(super) fn arm_deadline(&mut self, id: u64, timers: &mut Timers, deadline: Instant) {
        if self.deadlines_at.is_none_or(|at| deadline < at) {
            self.deadlines_at = Some(deadline);
            self.deadlines_seq = timers.add(deadline, TimerKind::Deadlines { conn: id });
        }
    }

    pub(super) fn limits(&self) -> Limits {
        self.client.limits
    }

    /// Lets callers write to a plain TCP link that is up (and logged in
    /// again, after a reconnect).
    pub(super) fn open_direct(&mut self) {
        let Some(Transport::Plain(tcp)) = &self.stream else { return };
        if self.direct != Direct::Off || self.http.is_some() || self.reconnecting || self.phase != Phase::Open {
            return;
        }
        self.link += 1;
        let writing = self.out_pos < self.out.len();
        self.client.direct.open(tcp.as_raw_fd(), writing, self.link, self.epoll);
        self.direct = if writing { Direct::Busy } else { Direct::Open };
    }

    /// No caller writes any more: the socket is about to close.
    pub(super) fn close_direct(&mut self) {
        if self.direct != Direct::Off {
            self.client.direct.close();
            self.direct = Direct::Off;
        }
    }

    /// The loop is about to add to `out`: callers stop writing, and bytes a
    /// caller could not write go first.
    pub(super) fn claim_output(&mut self) {
        if self.direct == Direct::Open {
            let rest = self.client.direct.claim();
            self.out.extend_from_slice(&rest);
            self.direct = Direct::Busy;
        }
    }

    /// `out` is all written: callers may write again.
    pub(super) fn release_output(&mut self) {
        if self.direct == Direct::Busy {
            self.client.direct.release();
            self.direct = Direct::Open;
        }
    }

    /// Registers an action its caller wrote itself on link `link`: it
    /// waits for its answer, unless that link is already gone.
    pub(super) fn enlist_written(&mut self, link: u64, action_id: ActionId, pending: Pending) {
        if self.direct == Direct::Off || self.link != link {
            let e = Error::Disconnected(format!("{}: the link was lost before the answer", self.target));
            return self.finish(pending, Err(e));
        }
        self.pending.insert(action_id, pending);
    }

    /// Routes the messages of a read with callback results held back, then
    /// hands them to the dispatcher at once: one lock and one wake-up for a
    /// read's worth of answers rather than one per answer.
    pub(super) fn batch_responses<T>(&mut self, route: impl FnOnce(&mut Conn) -> T) -> T {
        self.batching = true;
        let out = route(self);
        self.batching = false;
        if !self.done.is_empty() {
            self.client.dispatch.push_replies(self.done.drain(..));
        }
        out
    }

    /// Completes one pending action, exactly once (it leaves the map).
    pub(super) fn complete(&mut self, id: &str, result: Result<Message>) {
        if let Some(p) = self.pending.remove(id) {
            self.finish(p, result);
        }
    }

    /// Gives the action's room back, then hands over its result: whoever
    /// it wakes may send again at once.
    fn finish(&mut self, pending: Pending, result: Result<Message>) {
        let Pending { reply, ticket, .. } = pending;
        drop(ticket);
        match reply {
            Reply::Internal(kind) => self.internal.push((kind, result)),
            reply @ (Reply::Callback(_) | Reply::Queue(_)) if self.batching => self.done.push((reply, result)),
            reply => reply.complete(result, &self.client.dispatch),
        }
    }

    /// Completes with `error` every pending action that was sent, or every
    /// one (`all`): those in the backlog wait for the link to come back.
    pub(super) fn fail_pending(&mut self, error: &Error, all: bool) {
        let ids: Vec<ActionId> = self.pending.iter().filter(|(_, p)| all || p.sent).map(|(id, _)| id.clone()).collect();
        for id in ids {
            if let Some(p) = self.pending.remove(&id) {
                self.finish(p, Err(error.clone()));
            }
        }
        if all {
            self.backlog.clear();
        }
    }

    /// Routes one message: to the action it answers, or out as an event for
    /// subscribers (returned).
    pub(super) fn route(&mut self, msg: Message) -> Option<Message> {
        if msg.is_event() {
            return self.route_event(msg);
        }
        let Some(response) = msg.known_value(RESPONSE) else {
            return None; // neither response nor event: nothing to do with it
        };
        let success = is_success_word(response);
        let Some(id) = msg.action_id() else { return None };
        // Most answers complete their action: one map operation for them,
        // a second (putting it back) for the few that wait on.
        let Some(mut p) = self.pending.remove(id) else { return None };
        if success && (p.wait_event.is_some() || msg.starts_list()) {
            let id = ActionId::new(id);
            if p.wait_event.is_none() {
                p.list = Some(Box::new(msg)); // its events follow
            } // else the follow-up event completes it
            self.pending.insert(id, p);
            return None;
        }
        self.finish(p, Ok(msg));
        None
    }

    fn route_event(&mut self, msg: Message) -> Option<Message> {
        let Some(id) = msg.action_id() else { return Some(msg) };
        let Some(p) = self.pending.get_mut(id) else { return Some(msg) };
        let id = ActionId::new(id);
        if let Some(list) = &mut p.list {
            let closes = msg.ends_list();
            list.push_list(msg);
            if closes {
                if let Some(list) = p.list.take() {
                    self.complete(&id, Ok(*list));
                }
            }
            return None;
        }
        let wanted = p.wait_event.as_deref().is_some_and(|w| {
            msg.event_name().is_some_and(|name| name.eq_ignore_ascii_case(w))
        });
        if wanted {
            self.complete(&id, Ok(msg));
            return None;
        }
        Some(msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(headers: &[(&str, &str)]) -> Message {
        let mut m = Message::new();
        for (n, v) in headers {
            m.add(n, v).unwrap();
        }
        m
    }

    #[test]
    fn list_detection() {
        assert!(msg(&[("Response", "Success"), ("EventList", "start")]).starts_list());
        assert!(msg(&[("Response", "Success"), ("Message", "Peer status list will follow")]).starts_list());
        assert!(!msg(&[("Response", "Success"), ("Message", "Command output follows")]).starts_list());
        assert!(msg(&[("Event", "X"), ("EventList", "Complete")]).ends_list());
        assert!(msg(&[("Event", "PeerlistComplete")]).ends_list());
        assert!(!msg(&[("Event", "PeerEntry")]).ends_list());
    }
}
