//! The safe client API. Every method may be called from any thread; the
//! connection itself lives on the engine's loop thread.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::codec::{Limits, Message};
use crate::engine::dispatch::{EventSink, Pattern};
use crate::engine::{
    self, Budget, ClientShared, Command, Dispatcher, EngineShared, HttpPolicy, LinkPolicy, LoginInfo, Oneshot, Reply,
    Recv, ResponseCallback, Written,
    action_id::{self, ActionId},
};
use crate::error::{Error, Result};
use crate::options::{Auth, Carrier, Options};
use crate::logging::ami_log;

/// How long a blocking caller that wrote its action itself waits for the
/// answer before it wakes the loop to arm the action's deadline.
const ARM_DEADLINE_AFTER: Duration = Duration::from_millis(2);

/// Connection state (`enum ami_state` of the C API, same values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum State {
    /// No connection.
    Disconnected = 0,
    /// Resolving, connecting, or waiting for the banner.
    Connecting = 1,
    /// Banner read.
    Connected = 2,
    /// Login accepted.
    LoggedIn = 3,
    /// Waiting to reconnect after a lost connection.
    Reconnecting = 4,
    /// Closed for good.
    Closed = 5,
}

impl State {
    pub(crate) fn from_u8(v: u8) -> State {
        match v {
            1 => State::Connecting,
            2 => State::Connected,
            3 => State::LoggedIn,
            4 => State::Reconnecting,
            5 => State::Closed,
            _ => State::Disconnected,
        }
    }
}

static NEXT_CLIENT: AtomicU64 = AtomicU64::new(1);

/// An AMI client: one connection, any number of threads.
///
/// ```
/// use ami::{Client, Message, Options};
/// use std::sync::mpsc;
/// # let port = ami::doc_support::tiny_server().unwrap(); // Asterisk listens on 5038
/// let client = Client::new(Options::default());
/// client.connect("127.0.0.1", port)?;
/// client.login("admin", "admin")?;
/// let (tx, rx) = mpsc::channel();
/// client.subscribe("UserEvent", move |event| {
///     tx.send(event.get("UserEvent").unwrap_or("").to_string()).unwrap();
/// })?;
/// let sent = client.action("UserEvent", &[("UserEvent", "Example")])?;
/// assert!(sent.is_success());
/// assert_eq!(rx.recv().unwrap(), "Example");
/// client.send_async(&Message::action("Ping")?, |pong| {
///     assert_eq!(pong.unwrap().get("Ping"), Some("Pong"));
/// })?;
/// client.logoff()?;
/// # Ok::<(), ami::Error>(())
/// ```
pub struct Client {
    shared: Arc<ClientShared>,
    engine: Arc<EngineShared>,
    options: Options,
}

impl Client {
    /// A client on the process-wide engine.
    ///
    /// # Panics
    /// Only if the process cannot start the engine's thread at all; use
    /// [`Client::try_new`] to get that as an error.
    pub fn new(options: Options) -> Client {
        match Client::try_new(options) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        }
    }

    /// A client on the process-wide engine, or an error if it cannot start.
    pub fn try_new(options: Options) -> Result<Client> {
        Client::build(Arc::clone(engine::global()?.shared()), options)
    }

    /// A client on an engine of the caller's.
    pub fn with_engine(engine: &engine::Engine, options: Options) -> Result<Client> {
        Client::build(Arc::clone(engine.shared()), options)
    }

    fn build(engine: Arc<EngineShared>, options: Options) -> Result<Client> {
        let id = NEXT_CLIENT.fetch_add(1, Ordering::Relaxed);
        let dispatch = Dispatcher::new(
            id,
            options.event_queue_limit,
            options.overflow,
            options.event_queue,
            options.dispatch_threads,
            Arc::clone(&engine),
            options.log_level,
        )
        .map_err(|e| Error::Internal(format!("cannot create the event queue: {e}")))?;
        let limits = Limits { max_message: options.max_message_size, max_headers: options.max_headers };
        let budget = Budget::new(options.max_pending, options.max_pending_bytes);
        let shared = Arc::new(ClientShared::new(id, dispatch, limits, budget, options.log_level));
        Ok(Client { shared, engine, options })
    }

    /// The options this client was made with.
    pub fn options(&self) -> &Options {
        &self.options
    }

    fn not_in_callback(&self, what: &str) -> Result<()> {
        if self.shared.dispatch.on_dispatch_thread() {
            return Err(Error::WouldDeadlock(format!(
                "{what} blocks, and was called from a callback of the same client: use the async form"
            )));
        }
        Ok(())
    }

    fn not_closed(&self) -> Result<()> {
        if self.shared.state() == State::Closed {
            return Err(Error::Closed("the client is closed".into()));
        }
        Ok(())
    }

    /// Connects and waits for the `Asterisk Call Manager/` banner, which it
    /// returns. Names are resolved off the loop thread; the whole connect is
    /// bounded by `connect_timeout`.
    pub fn connect(&self, host: &str, port: u16) -> Result<String> {
        self.not_in_callback("connect")?;
        self.not_closed()?;
        if host.is_empty() {
            return Err(Error::InvalidArgument("empty host".into()));
        }
        let done = Arc::new(Oneshot::new());
        self.engine.submit(Command::Connect {
            client: Arc::clone(&self.shared),
            host: host.to_string(),
            port,
            policy: Box::new(LinkPolicy {
                connect_timeout: self.options.connect_timeout,
                action_timeout: self.options.action_timeout,
                reconnect: self
                    .options
                    .reconnect
                    .then(|| (self.options.reconnect_min, self.options.reconnect_max.max(self.options.reconnect_min))),
                keepalive: self.options.keepalive,
                offline_wait: self.options.offline_wait,
                tls: match self.options.tls {
                    true => Some((crate::tls::client_config(&self.options)?, self.options.tls_server_name.clone())),
                    false => None,
                },
                http: self.http_policy()?,
            }),
            done: Arc::clone(&done),
        });
        done.wait()
    }

    fn http_policy(&self) -> Result<Option<HttpPolicy>> {
        if self.options.transport != Carrier::Http {
            return Ok(None);
        }
        let path = &self.options.http_path;
        let digest = crate::options::digest_path(path)
            .ok_or_else(|| Error::InvalidArgument(format!("http_path {path:?} does not end in /rawman or /arawman")))?;
        Ok(Some(HttpPolicy {
            path: path.clone(),
            digest,
            connections: self.options.http_connections.clamp(1, crate::options::MAX_HTTP_CONNECTIONS),
            events: !self.options.events.trim().eq_ignore_ascii_case("off"),
        }))
    }

    /// True for HTTP Digest (`/arawman`): credentials go with every request.
    fn http_digest(&self) -> bool {
        self.options.transport == Carrier::Http && crate::options::digest_path(&self.options.http_path) == Some(true)
    }

    fn login_info(&self, username: &str, secret: &str) -> LoginInfo {
        LoginInfo {
            username: username.to_string(),
            secret: secret.to_string(),
            md5: self.options.auth == Auth::Md5,
            events: self.options.events.clone(),
        }
    }

    /// Logs in with `options.auth` (plain or MD5 challenge) and the event
    /// mask of `options.events`. A rejected login is `Error::Auth`.
    ///
    /// On `/arawman` no `Login` action exists: the credentials answer the
    /// server's Digest challenge, checked with a `Ping` whose response this
    /// returns.
    pub fn login(&self, username: &str, secret: &str) -> Result<Message> {
        self.not_in_callback("login")?;
        let result = self.try_login(username, secret);
        if let Err(e) = &result {
            ami_log!(self.shared.log, self.shared.id, Error, "login as {username:?} failed: {e}");
        }
        result
    }

    fn try_login(&self, username: &str, secret: &str) -> Result<Message> {
        if self.http_digest() {
            return self.digest_login(username, secret);
        }
        let mut login = Message::action("Login")?;
        login.add("Username", username)?;
        match self.options.auth {
            Auth::Plain => login.add("Secret", secret)?,
            Auth::Md5 => {
                let challenge = self.send(&Message::action("Challenge")?.with("AuthType", "MD5")?)?;
                let Some(challenge) = challenge.get("Challenge").filter(|_| challenge.is_success()) else {
                    let why = challenge.get("Message").unwrap_or("no challenge in the answer");
                    return Err(Error::Auth(format!("MD5 challenge refused: {why}")));
                };
                let key = crate::md5::hex(format!("{challenge}{secret}").as_bytes());
                login.add("AuthType", "MD5")?;
                login.add("Key", &key)?;
            }
        }
        login.add("Events", &self.options.events)?;
        let response = self.send(&login)?;
        if !response.is_success() {
            let why = response.get("Message").unwrap_or("login rejected");
            return Err(Error::Auth(why.to_string()));
        }
        // The loop logs in again with these after a reconnect.
        self.engine.submit(Command::LoggedIn { id: self.shared.id, login: self.login_info(username, secret) });
        self.shared.set_state(State::LoggedIn, None);
        Ok(response)
    }

    fn digest_login(&self, username: &str, secret: &str) -> Result<Message> {
        let id = self.shared.id;
        self.engine.submit(Command::Credentials { id, login: Some(self.login_info(username, secret)) });
        let forget = || self.engine.submit(Command::Credentials { id, login: None });
        match self.send(&Message::action("Ping")?) {
            Ok(pong) if pong.is_success() => {
                self.engine.submit(Command::LoggedIn { id, login: self.login_info(username, secret) });
                self.shared.set_state(State::LoggedIn, None);
                Ok(pong)
            }
            Ok(refused) => {
                forget();
                Err(Error::Auth(refused.get("Message").unwrap_or("login rejected").to_string()))
            }
            Err(e) => {
                forget();
                Err(e)
            }
        }
    }

    /// The banner of the current connection.
    pub fn banner(&self) -> Option<String> {
        self.shared.banner.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The connection state.
    pub fn state(&self) -> State {
        self.shared.state()
    }

    /// Encodes an action, adding a generated ActionID when it has none: AMI
    /// wire bytes, or over HTTP the form body.
    fn encode(&self, action: &Message) -> Result<(ActionId, Vec<u8>)> {
        match action.action_name() {
            Some(name) if !name.trim().is_empty() => {}
            _ => return Err(Error::InvalidArgument("the message has no Action header".into())),
        }
        if self.options.transport == Carrier::Http {
            let (id, body) = crate::http::form_with_id(action, action_id::next)?;
            return Ok((ActionId::new(&id), body.into_bytes()));
        }
        // Room for a generated ActionID line too: most actions are small.
        let mut bytes = crate::codec::recycle::buffer(128);
        action.write_to(&mut bytes)?;
        let id = match action.action_id() {
            Some(id) if !id.is_empty() => ActionId::new(id),
            _ => {
                let id = action_id::next_id();
                bytes.truncate(bytes.len() - 2);
                bytes.extend_from_slice(b"ActionID: ");
                bytes.extend_from_slice(id.as_bytes());
                bytes.extend_from_slice(b"\r\n\r\n");
                id
            }
        };
        Ok((id, bytes))
    }

    /// Hands an action to the loop once it has room in the budget: at once
    /// or `Error::Full` (`wait` false), or waiting up to its deadline.
    /// Says whether this thread wrote it to the socket itself, and whether
    /// it claimed the read side for its answer (`read_own`: it may).
    fn submit(&self, action: &Message, timeout: Option<Duration>, reply: Reply, wait: bool, read_own: bool) -> Result<Submitted> {
        self.not_closed()?;
        let (action_id, bytes) = self.encode(action)?;
        let now = std::time::Instant::now();
        // A timeout past what a clock can hold (Duration::MAX): a year, in effect never.
        let timeout = timeout.unwrap_or(self.options.action_timeout);
        let deadline = now.checked_add(timeout).unwrap_or(now + Duration::from_secs(365 * 86_400));
        let ticket = match wait {
            true => self.shared.budget.take(bytes.len(), deadline)?, // waiting for room counts
            false => self.shared.budget.try_take(bytes.len())?,
        };
        // A blocking action with our own ActionID (so never one in flight
        // already) is written by the caller when the socket is free.
        let mut turn = match wait && action.action_id().is_none_or(str::is_empty) {
            true => self.shared.direct.turn(),
            false => None,
        };
        // Its answer alone completes it: no list, no follow-up event.
        let read_own = read_own && action.waits_for_event().is_none();
        let written = turn.as_ref().map(|t| t.link());
        let (queued, own) = if written.is_some() { (Vec::new(), bytes) } else { (bytes, Vec::new()) };
        let send = Command::Send {
            ticket,
            id: self.shared.id,
            action_id,
            bytes: queued,
            wait_event: action.waits_for_event().map(Into::into),
            deadline,
            reply,
            written,
        };
        let Some(mut turn) = turn.take() else {
            self.shared.direct.queue_one();
            self.engine.submit(send);
            return Ok(Submitted::Queued);
        };
        // Reading its own answer, the caller registers the action only if
        // it hands over to the loop (see `direct`).
        let claim = if read_own { turn.claim_read() } else { None };
        let send = match claim {
            Some(_) => Some(send),
            None => match self.engine.register(send) {
                Ok(()) => None,
                Err(send) => {
                    drop(turn);
                    send.fail(|_| Some(Arc::clone(&self.shared)));
                    return Ok(Submitted::Queued);
                }
            },
        };
        let wrote = turn.write(&own); // the turn, and its lock, end here
        crate::logging::wire(self.shared.log, self.shared.id, "->", &own);
        if let Written::Part = wrote {
            self.engine.submit(Command::Flush { id: self.shared.id });
        }
        crate::codec::recycle::give_buffer(own);
        Ok(match (send, claim) {
            (Some(send), Some(claim)) => Submitted::Reading(send, claim),
            _ => Submitted::Written,
        })
    }

    /// Reads the answer to `send`, which this thread wrote after claiming
    /// the read side, spinning on the socket for up to `spin`: the answer,
    /// or None once it has handed over to the loop (the action registered,
    /// what it read passed on), whose result then comes as usual.
    fn read_own_answer(&self, send: Command, claim: u64, spin: Duration) -> Option<Result<Message>> {
        let direct = &self.shared.direct;
        let mut got = crate::codec::recycle::buffer(4096); // no allocation per round trip
        let started = std::time::Instant::now();
        // (Always a Send; anything else would go straight to the hand-over.)
        let id = match &send {
            Command::Send { action_id, .. } => Some(action_id.clone()),
            _ => None,
        };
        while let Some(action_id) = &id {
            match direct.recv(claim, &mut got) {
                Recv::Data => match own_answer(&got, action_id, self.shared.limits) {
                    Own::Mine(answer) => {
                        if direct.end_claim(Vec::new()) {
                            self.engine.submit(Command::Read { id: self.shared.id });
                        }
                        crate::logging::wire_message(self.shared.log, self.shared.id, &answer);
                        crate::codec::recycle::give_buffer(got);
                        return Some(Ok(answer)); // `send` goes unregistered, its room back
                    }
                    Own::Partial => {}
                    Own::Other => break,
                },
                Recv::Nothing if started.elapsed() < spin => std::hint::spin_loop(),
                Recv::Nothing | Recv::Over => break,
            }
        }
        if let Err(send) = self.engine.register(send) {
            send.fail(|_| Some(Arc::clone(&self.shared)));
        }
        if direct.end_claim(got) {
            self.engine.submit(Command::Read { id: self.shared.id });
        }
        None
    }

    /// Sends an action and waits for its response (list responses carry
    /// their events in [`Message::list`]) within `action_timeout`.
    /// A `Response: Error` is a response, not an `Err`.
    pub fn send(&self, action: &Message) -> Result<Message> {
        self.send_timeout(action, None)
    }

    /// [`Client::send`] with its own deadline (`None`: the default).
    pub fn send_timeout(&self, action: &Message, timeout: Option<Duration>) -> Result<Message> {
        self.not_in_callback("send")?;
        let slot = Arc::new(Oneshot::new());
        let started = std::time::Instant::now();
        let spin = self.shared.spin.spin();
        let submitted = self.submit(action, timeout, Reply::Wait(Arc::clone(&slot)), true, !spin.is_zero())?;
        // An action the caller wrote itself reached the loop without a
        // wake-up; its deadline is armed once the loop wakes, by the answer
        // or, if none comes soon, by this.
        let wait_written = || {
            slot.wait_spinning_for(spin, ARM_DEADLINE_AFTER).unwrap_or_else(|| {
                self.engine.wake();
                slot.wait()
            })
        };
        let result = match submitted {
            Submitted::Queued => slot.wait_spinning(spin),
            Submitted::Written => wait_written(),
            Submitted::Reading(send, claim) => self.read_own_answer(send, claim, spin).unwrap_or_else(wait_written),
        };
        self.shared.spin.record(started.elapsed());
        result
    }

    /// Sends an action; `callback` runs exactly once on the dispatch thread
    /// with the response or the error (timeout, disconnect, close). If this
    /// returns `Err`, the callback will not run.
    pub fn send_async(
        &self,
        action: &Message,
        callback: impl FnOnce(Result<Message>) + Send + 'static,
    ) -> Result<()> {
        self.send_async_timeout(action, None, callback)
    }

    /// [`Client::send_async`] with its own deadline.
    pub fn send_async_timeout(
        &self,
        action: &Message,
        timeout: Option<Duration>,
        callback: impl FnOnce(Result<Message>) + Send + 'static,
    ) -> Result<()> {
        self.shared.dispatch.prepare_responses()?;
        self.submit(action, timeout, Reply::Callback(ResponseCallback::Owned(Box::new(callback))), false, false).map(|_| ())
    }

    /// [`Client::send_async`] for a callback that only looks at the result
    /// (the C API's): `callback(result, words)` runs once on the dispatch
    /// thread; the response's buffer is used again afterwards.
    pub(crate) fn send_async_borrowed(
        &self,
        action: &Message,
        callback: fn(&Result<Message>, [usize; 2]),
        words: [usize; 2],
    ) -> Result<()> {
        self.shared.dispatch.prepare_responses()?;
        self.submit(action, None, Reply::Callback(ResponseCallback::Borrowed(callback, words)), false, false).map(|_| ())
    }

    /// Sends an action whose result goes to the client's completion queue
    /// under `tag`, to be taken with [`Client::next_completions`] when
    /// [`Client::completion_fd`] is readable: for a program's own event loop
    /// (asyncio), so that no thread of the library calls into it.
    pub fn send_queued(&self, action: &Message, tag: u64) -> Result<()> {
        self.completion_fd()?; // exists before any result can need it
        self.submit(action, None, Reply::Queue(tag), false, false).map(|_| ())
    }

    /// Up to `max` results of [`Client::send_queued`] with their tags, in
    /// completion order, without waiting (empty: none yet).
    pub fn next_completions(&self, max: usize) -> Vec<(u64, Result<Message>)> {
        let mut out = Vec::new();
        self.shared.dispatch.next_completions(max, &mut out);
        out
    }

    /// A file descriptor readable while results of [`Client::send_queued`]
    /// wait. Owned by the client.
    pub fn completion_fd(&self) -> Result<i32> {
        self.shared.dispatch.completion_fd()
    }

    /// Builds and sends an action from a name and header pairs.
    pub fn action(&self, name: &str, headers: &[(&str, &str)]) -> Result<Message> {
        let mut action = Message::action(name)?;
        for (n, v) in headers {
            action.add(n, v)?;
        }
        self.send(&action)
    }

    /// Calls `callback` on the dispatch thread for each event whose name
    /// matches `pattern`: an exact name (case-insensitive), a prefix ending
    /// in `*`, or `*` / empty for all. Returns the subscription id (never 0).
    pub fn subscribe(
        &self,
        pattern: &str,
        callback: impl Fn(&Message) + Send + Sync + 'static,
    ) -> Result<u64> {
        self.not_closed()?;
        self.shared.dispatch.subscribe(Pattern::parse(Some(pattern)), EventSink::Each(Arc::new(callback)))
    }

    /// [`Client::subscribe`] with the matching events of each dispatch run
    /// handed over together, in order: for callers that pay per call.
    pub fn subscribe_batch(
        &self,
        pattern: &str,
        callback: impl Fn(&[&Message]) + Send + Sync + 'static,
    ) -> Result<u64> {
        self.not_closed()?;
        self.shared.dispatch.subscribe(Pattern::parse(Some(pattern)), EventSink::Batch(Arc::new(callback)))
    }

    /// Ends a subscription; false if there was none with that id. From any
    /// thread but the dispatch thread, no callback of it runs after this returns.
    pub fn unsubscribe(&self, subscription: u64) -> bool {
        self.shared.dispatch.unsubscribe(subscription)
    }

    /// Reports state changes (with the error that caused a disconnect) on the
    /// dispatch thread. `None` removes the callback.
    pub fn on_state(
        &self,
        callback: Option<Box<dyn Fn(State, Option<&Error>) + Send + Sync>>,
    ) -> Result<()> {
        self.shared.dispatch.set_state_callback(callback.map(Arc::from))
    }

    /// The next event kept by the event queue (option `event_queue`);
    /// `Ok(None)` if none arrived within `timeout` (`None`: wait for ever).
    pub fn next_event(&self, timeout: Option<Duration>) -> Result<Option<Message>> {
        self.shared.dispatch.next_event(timeout)
    }

    /// Up to `max` queued events at once (option `event_queue`), waiting
    /// up to `timeout` for the first; empty if none came.
    pub fn next_events(&self, max: usize, timeout: Option<Duration>) -> Result<Vec<Message>> {
        let mut out = Vec::new();
        self.shared.dispatch.next_events(max, timeout, &mut out)?;
        Ok(out)
    }

    /// A file descriptor that is readable while queued events wait (option
    /// `event_queue`), for `poll`/`epoll`/asyncio. Owned by the client.
    pub fn event_fd(&self) -> Option<i32> {
        self.shared.dispatch.event_fd()
    }

    /// The client's number in log records (unique in the process).
    pub fn id(&self) -> u64 {
        self.shared.id
    }

    /// Events dropped by the `drop_oldest` overflow policy.
    pub fn dropped_events(&self) -> u64 {
        self.shared.dispatch.dropped()
    }

    /// Sends `Logoff`, waits for `Goodbye` (or the server closing), then
    /// closes the client (`State::Closed`): later calls give `Error::Closed`.
    pub fn logoff(&self) -> Result<()> {
        self.not_in_callback("logoff")?;
        self.not_closed()?;
        if matches!(self.state(), State::Disconnected) {
            return Err(Error::Closed("not connected".into()));
        }
        // The server closes after Goodbye: that is no loss to recover from.
        self.engine.submit(Command::StopReconnect { id: self.shared.id });
        let result = self.send(&Message::action("Logoff")?);
        self.drop_link(Error::Closed("logged off".into()), false);
        self.shared.set_state(State::Closed, None);
        match result {
            Ok(_) | Err(Error::Disconnected(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    fn drop_link(&self, error: Error, forget: bool) {
        let done = Arc::new(Oneshot::new());
        self.engine.submit(Command::Close { id: self.shared.id, error, forget, done: Some(Arc::clone(&done)) });
        done.wait(); // the loop never waits on callbacks, so this is safe anywhere
    }

    /// Closes the client: pending actions complete with `Error::Closed`,
    /// queued callbacks run, the dispatch thread ends. Idempotent.
    pub fn close(&self) {
        if self.shared.state() != State::Closed {
            self.drop_link(Error::Closed("the client was closed".into()), true);
            self.shared.set_state(State::Closed, None);
        }
        // After a logoff the state is Closed already, but callbacks may still
        // be queued: the dispatch thread is stopped and joined all the same,
        // so none runs once the client is gone.
        self.shared.dispatch.close();
    }
}

/// How [`Client::submit`] passed an action on.
enum Submitted {
    /// To the loop's queue.
    Queued,
    /// Written by the caller and registered with the loop.
    Written,
    /// Written by the caller, which claimed the read side for its answer
    /// (the claim) and holds the action unregistered.
    Reading(Command, u64),
}

/// What bytes a caller read for its own answer hold.
enum Own {
    /// Exactly its answer, whole.
    Mine(Message),
    /// Not a whole message yet.
    Partial,
    /// Anything else: for the loop.
    Other,
}

fn own_answer(got: &[u8], id: &str, limits: Limits) -> Own {
    if got.len() > limits.max_message {
        return Own::Other; // the loop reports it
    }
    let mut copy = crate::codec::recycle::buffer(got.len());
    copy.extend_from_slice(got); // decoding ends names and values with NUL in place
    let mut decoder = crate::codec::Decoder::server_over(copy, limits);
    match decoder.next_frame() {
        Ok(Some(crate::codec::Frame::Message(m))) => {
            let alone = decoder.pending_bytes() == 0;
            let mine = !m.is_event() && m.action_id() == Some(id) && !(m.is_success() && m.starts_list());
            match alone && mine {
                true => Own::Mine(m),
                false => Own::Other,
            }
        }
        Ok(None) => Own::Partial,
        _ => Own::Other,
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.close();
    }
}
