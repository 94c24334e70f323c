//! The simulated PBX: channels and calls, a dial plan, variables, AstDB,
//! queues and endpoints, and the AMI actions that read and change them.
//! Answers follow the captured transcripts in ../shared/fixtures.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ami::Message;

use crate::commands;
use crate::wire::{Wire, class, reply};

/// An event for every session whose mask allows `class`.
pub struct Broadcast {
    pub class: u32,
    pub bytes: Vec<u8>,
}

/// Work the PBX asks to be done later.
pub enum Task {
    /// A call reaches its natural end.
    Hangup { call: u64 },
}

/// What handling an action produced.
#[derive(Default)]
pub struct Effects {
    pub reply: Vec<u8>,
    pub events: Vec<Broadcast>,
    pub later: Vec<(Duration, Task)>,
}

impl Effects {
    fn event(&mut self, class: u32, bytes: Vec<u8>) {
        self.events.push(Broadcast { class, bytes });
    }
}

#[derive(Clone)]
pub struct Channel {
    pub name: String,
    state: u8,
    context: String,
    exten: String,
    priority: u32,
    uniqueid: String,
    linkedid: String,
    pub app: String,
    pub data: String,
    vars: BTreeMap<String, String>,
    created: Instant,
    call: u64,
}

impl Channel {
    /// `(context, exten, priority, state)` for `core show channels`.
    pub fn location(&self) -> (&str, &str, u32, &'static str) {
        (&self.context, &self.exten, self.priority, self.state_desc())
    }

    fn state_desc(&self) -> &'static str {
        match self.state {
            0 => "Down",
            4 => "Ring",
            6 => "Up",
            _ => "Unknown",
        }
    }

    /// The standard channel snapshot headers, optionally prefixed (`Dest`, `LocalOne`).
    fn block(&self, w: &mut Wire, prefix: &str) {
        let p = |n: &str| format!("{prefix}{n}");
        w.h(&p("Channel"), &self.name)
            .h(&p("ChannelState"), self.state)
            .h(&p("ChannelStateDesc"), self.state_desc())
            .h(&p("CallerIDNum"), "<unknown>")
            .h(&p("CallerIDName"), "<unknown>")
            .h(&p("ConnectedLineNum"), "<unknown>")
            .h(&p("ConnectedLineName"), "<unknown>")
            .h(&p("Language"), "en")
            .h(&p("AccountCode"), "")
            .h(&p("Context"), &self.context)
            .h(&p("Exten"), &self.exten)
            .h(&p("Priority"), self.priority)
            .h(&p("Uniqueid"), &self.uniqueid)
            .h(&p("Linkedid"), &self.linkedid);
    }

    fn event(&self, name: &str, extra: &[(&str, &str)]) -> Vec<u8> {
        let mut w = Wire::event(name, Some("call,all"));
        self.block(&mut w, "");
        for (n, v) in extra {
            w.h(n, v);
        }
        w.finish()
    }
}

struct Call {
    one: String,
    two: String,
    is_async: bool,
}

struct Member {
    interface: String,
    name: String,
    dynamic: bool,
    penalty: u32,
    paused: bool,
    reason: String,
    last_pause: u64,
    login_time: u64,
}

struct Queue {
    name: String,
    members: Vec<Member>,
}

struct Endpoint {
    tech: &'static str,
    name: &'static str,
    online: bool,
}

pub struct Pbx {
    pub ami_version: String,
    pub asterisk_version: String,
    pub legacy_command: bool,
    started: Instant,
    started_wall: SystemTime,
    channels: BTreeMap<String, Channel>,
    calls: HashMap<u64, Call>,
    globals: HashMap<String, String>,
    db: BTreeMap<String, String>,
    queues: Vec<Queue>,
    endpoints: Vec<Endpoint>,
    next_uniqueid: u64,
    next_local: u32,
    next_call: u64,
    calls_processed: u64,
}

fn epoch() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// A header of the action, with leading blanks skipped as Asterisk does.
pub fn val<'a>(m: &'a Message, name: &str) -> Option<&'a str> {
    m.get(name).map(str::trim_start)
}

fn truthy(v: Option<&str>) -> bool {
    matches!(v.map(|s| s.trim().to_ascii_lowercase()).as_deref(), Some("true" | "yes" | "1" | "on"))
}

/// Asterisk's version for an AMI version (PROTOCOL.md's table).
fn asterisk_version(ami: &str) -> String {
    let major: u32 = ami.split('.').next().and_then(|m| m.parse().ok()).unwrap_or(5);
    match major {
        11 => "22.10.1".into(),
        1 => "1.4.44".into(),
        2 => "13.38.3".into(),
        5 => "16.30.1".into(),
        7 => "18.26.4".into(),
        9 => "20.16.0".into(),
        10 => "21.11.0".into(),
        12 => "23.1.0".into(),
        _ => "22.10.1".into(),
    }
}

impl Pbx {
    pub fn new(ami_version: &str, legacy_command: bool) -> Pbx {
        let now = epoch();
        let mut pbx = Pbx {
            ami_version: ami_version.to_string(),
            asterisk_version: asterisk_version(ami_version),
            legacy_command,
            started: Instant::now(),
            started_wall: SystemTime::now(),
            channels: BTreeMap::new(),
            calls: HashMap::new(),
            globals: HashMap::new(),
            db: BTreeMap::new(),
            queues: vec![Queue {
                name: "support".into(),
                members: vec![Member {
                    interface: "Local/100@default".into(),
                    name: "Local/100@default".into(),
                    dynamic: false,
                    penalty: 0,
                    paused: false,
                    reason: String::new(),
                    last_pause: 0,
                    login_time: now,
                }],
            }],
            endpoints: vec![
                Endpoint { tech: "PJSIP", name: "1001", online: true },
                Endpoint { tech: "PJSIP", name: "1002", online: false },
                Endpoint { tech: "SIP", name: "2001", online: true },
            ],
            next_uniqueid: 0,
            next_local: 0,
            next_call: 1,
            calls_processed: 0,
        };
        pbx.db.insert("/sim/greeting".into(), "hello".into());
        pbx
    }

    /// chan_sip left in Asterisk 21 (AMI 10).
    fn has_chan_sip(&self) -> bool {
        self.ami_version.split('.').next().and_then(|m| m.parse::<u32>().ok()).unwrap_or(5) < 10
    }

    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    pub fn started_wall(&self) -> SystemTime {
        self.started_wall
    }

    pub fn channels(&self) -> impl Iterator<Item = &Channel> {
        self.channels.values()
    }

    pub fn call_count(&self) -> usize {
        self.calls.len()
    }

    pub fn calls_processed(&self) -> u64 {
        self.calls_processed
    }

    pub fn db(&self) -> &BTreeMap<String, String> {
        &self.db
    }

    /// Handles a PBX action; `None` when the action is not one of ours.
    pub fn handle(&mut self, name: &str, m: &Message) -> Option<Effects> {
        let id = val(m, "ActionID");
        let mut fx = Effects::default();
        let lower = name.to_ascii_lowercase();
        fx.reply = match lower.as_str() {
            "originate" => self.originate(m, id, &mut fx),
            "hangup" => self.hangup_action(m, id, &mut fx),
            "redirect" => self.redirect(m, id),
            "getvar" => self.getvar(m, id),
            "setvar" => self.setvar(m, id, &mut fx),
            "dbput" => self.dbput(m, id),
            "dbget" => self.dbget(m, id),
            "dbgettree" => self.dbgettree(m, id),
            "dbdel" => self.dbdel(m, id),
            "dbdeltree" => self.dbdeltree(m, id),
            "coreshowchannels" => self.core_show_channels(id),
            "status" => self.status(m, id),
            "sippeers" if self.has_chan_sip() => self.sippeers(id),
            "pjsipshowendpoints" => self.pjsip_endpoints(id),
            "queuestatus" => self.queue_status(m, id),
            "queuesummary" => self.queue_summary(m, id),
            "queueadd" => self.queue_add(m, id, &mut fx),
            "queueremove" => self.queue_remove(m, id, &mut fx),
            "queuepause" => self.queue_pause(m, id, &mut fx),
            "extensionstate" => extension_state(m, id),
            "mailboxcount" => mailbox(m, id, true),
            "mailboxstatus" => mailbox(m, id, false),
            "listcommands" => commands::list_commands(id, self.has_chan_sip()),
            "coresettings" => self.core_settings(id),
            "corestatus" => self.core_status(id),
            "userevent" => user_event(m, id, &mut fx),
            "absolutetimeout" => self.absolute_timeout(m, id, &mut fx),
            "parkedcalls" => empty_list(id, "Parked calls will follow", "ParkedCallsComplete"),
            "agents" => empty_list(id, "Agents will follow", "AgentsComplete"),
            "command" => commands::command(self, m, id),
            _ => return None,
        };
        Some(fx)
    }

    fn new_channel(&mut self, name: String, state: u8, context: &str, exten: &str, linkedid: Option<&str>, call: u64) -> Channel {
        let uniqueid = format!("{}.{}", epoch(), self.next_uniqueid);
        self.next_uniqueid += 1;
        let linkedid = linkedid.map(str::to_string).unwrap_or_else(|| uniqueid.clone());
        Channel {
            name,
            state,
            context: context.into(),
            exten: exten.into(),
            priority: 1,
            uniqueid,
            linkedid,
            app: String::new(),
            data: String::new(),
            vars: BTreeMap::new(),
            created: Instant::now(),
            call,
        }
    }

    /// `Originate`: only `Local/<exten>@default` answers (the dial plan of
    /// the captured server: exten 100 runs `Wait(30)`, others hang up at once).
    fn originate(&mut self, m: &Message, id: Option<&str>, fx: &mut Effects) -> Vec<u8> {
        let Some(target) = val(m, "Channel").filter(|c| !c.is_empty()) else {
            return reply("Error", id, "Channel not specified");
        };
        if !target.contains('/') {
            return reply("Error", id, "Invalid channel");
        }
        let app = val(m, "Application").unwrap_or("").to_string();
        let data = val(m, "Data").unwrap_or("").to_string();
        if app.is_empty() && val(m, "Exten").is_none() {
            return reply("Error", id, "Exten not specified");
        }
        let is_async = truthy(val(m, "Async"));
        let (exten, context) = match target.strip_prefix("Local/") {
            Some(dest) => {
                let dest = dest.split('/').next().unwrap_or(dest);
                match dest.split_once('@') {
                    Some((e, c)) => (e.to_string(), c.to_string()),
                    None => (dest.to_string(), "default".to_string()),
                }
            }
            None => (target.rsplit('/').next().unwrap_or("").to_string(), "from-endpoint".into()),
        };
        let answers = target.starts_with("Local/") && context == "default";
        let call = self.next_call;
        self.next_call += 1;
        self.calls_processed += 1;
        let base = format!("Local/{exten}@{context}-{:08x}", self.next_local);
        self.next_local += 1;
        let mut one = self.new_channel(format!("{base};1"), 0, &context, &exten, None, call);
        let linked = one.linkedid.clone();
        let mut two = self.new_channel(format!("{base};2"), 4, &context, &exten, Some(&linked), call);
        let response = if answers || is_async {
            reply("Success", id, "Originate successfully queued")
        } else {
            reply("Error", id, "Originate failed")
        };
        fx.event(class::CALL, one.event("Newchannel", &[]));
        fx.event(class::CALL, two.event("Newchannel", &[]));
        if !answers {
            fx.event(class::CALL, two.event("Hangup", &[("Cause", "0"), ("Cause-txt", "Unknown")]));
            if is_async {
                let mut w = Wire::event("OriginateResponse", Some("call,all"));
                w.id(id).h("Response", "Failure").h("Channel", target).h("Application", &app).h("Data", &data);
                w.h("Reason", 0).h("Uniqueid", "<unknown>").h("CallerIDNum", "<unknown>").h("CallerIDName", "<unknown>");
                fx.event(class::CALL, w.finish());
            }
            fx.event(class::CALL, one.event("Hangup", &[("Cause", "0"), ("Cause-txt", "Unknown")]));
            return response;
        }
        let mut w = Wire::event("LocalBridge", Some("call,all"));
        one.block(&mut w, "LocalOne");
        two.block(&mut w, "LocalTwo");
        w.h("Context", &context).h("Exten", &exten).h("LocalOptimization", "Yes");
        fx.event(class::CALL, w.finish());
        let mut w = Wire::event("DialBegin", Some("call,all"));
        one.block(&mut w, "Dest");
        w.h("DialString", format!("{exten}@{context}"));
        fx.event(class::CALL, w.finish());
        two.state = 6;
        fx.event(class::CALL, two.event("Newstate", &[]));
        one.state = 6;
        fx.event(class::CALL, one.event("Newstate", &[]));
        let mut w = Wire::event("DialEnd", Some("call,all"));
        one.block(&mut w, "Dest");
        w.h("DialStatus", "ANSWER");
        fx.event(class::CALL, w.finish());
        for var in m.get_all("Variable") {
            for pair in var.split(',') {
                if let Some((k, v)) = pair.split_once('=') {
                    one.vars.insert(k.trim().to_string(), v.to_string());
                    let mut w = Wire::event("VarSet", Some("dialplan,all"));
                    one.block(&mut w, "");
                    w.h("Variable", k.trim()).h("Value", v);
                    fx.event(class::DIALPLAN, w.finish());
                }
            }
        }
        if is_async {
            let mut w = Wire::event("OriginateResponse", Some("call,all"));
            w.id(id).h("Response", "Success").h("Channel", &one.name).h("Application", &app).h("Data", &data);
            w.h("Reason", 4).h("Uniqueid", &one.uniqueid).h("CallerIDNum", "<unknown>").h("CallerIDName", "<unknown>");
            fx.event(class::CALL, w.finish());
        }
        one.app = if app.is_empty() { "AppDial2".into() } else { app.clone() };
        one.data = data.clone();
        two.priority = 2;
        let dialplan_wait = if exten == "100" { Some(30.0) } else { None };
        if dialplan_wait.is_some() {
            two.app = "Wait".into();
            two.data = "30".into();
        }
        let app_wait = if app.eq_ignore_ascii_case("Wait") { data.trim().parse::<f64>().ok() } else { Some(1.0) };
        let lifetime = match dialplan_wait {
            None => 0.02, // the dial plan hangs up right after answering
            Some(w) => app_wait.unwrap_or(w).min(w),
        };
        fx.later.push((Duration::from_secs_f64(lifetime.clamp(0.0, 86400.0)), Task::Hangup { call }));
        self.calls.insert(call, Call { one: one.name.clone(), two: two.name.clone(), is_async });
        self.channels.insert(one.name.clone(), one);
        self.channels.insert(two.name.clone(), two);
        response
    }

    pub fn run(&mut self, task: Task) -> Effects {
        let mut fx = Effects::default();
        match task {
            Task::Hangup { call } => self.end_call(call, &mut fx),
        }
        fx
    }

    /// A call's natural end, in the event order Asterisk used in the capture.
    fn end_call(&mut self, call: u64, fx: &mut Effects) {
        let Some(c) = self.calls.remove(&call) else { return };
        let (Some(one), Some(two)) = (self.channels.remove(&c.one), self.channels.remove(&c.two)) else { return };
        let hangup = [("Cause", "0"), ("Cause-txt", "Unknown")];
        let request = two.event("HangupRequest", &[("Cause", "0")]);
        let soft = two.event("SoftHangupRequest", &[("Cause", "16")]);
        let order = if c.is_async {
            [request, soft, two.event("Hangup", &hangup), one.event("Hangup", &hangup)]
        } else {
            [request, one.event("Hangup", &hangup), soft, two.event("Hangup", &hangup)]
        };
        for bytes in order {
            fx.event(class::CALL, bytes);
        }
    }

    /// Hangs up one channel by request (with its Local partner).
    fn hangup_channel(&mut self, name: &str, fx: &mut Effects) {
        let Some(chan) = self.channels.get(name) else { return };
        let call = chan.call;
        let Some(c) = self.calls.remove(&call) else { return };
        for n in [c.one, c.two] {
            if let Some(ch) = self.channels.remove(&n) {
                fx.event(class::CALL, ch.event("SoftHangupRequest", &[("Cause", "16")]));
                fx.event(class::CALL, ch.event("Hangup", &[("Cause", "16"), ("Cause-txt", "Normal Clearing")]));
            }
        }
    }

    fn hangup_action(&mut self, m: &Message, id: Option<&str>, fx: &mut Effects) -> Vec<u8> {
        let Some(target) = val(m, "Channel").filter(|c| !c.is_empty()) else {
            return reply("Error", id, "No channel specified");
        };
        if let Some(pattern) = target.strip_prefix('/').and_then(|t| t.strip_suffix('/')) {
            let names: Vec<String> =
                self.channels.keys().filter(|n| regex_match(pattern, n)).cloned().collect();
            let mut out = Wire::response("Success", id);
            out.h("EventList", "start").h("Message", "Channels hung up will follow");
            let mut out = out.finish();
            for n in &names {
                let mut w = Wire::event("ChannelHungup", None);
                w.h("Channel", n).id(id);
                out.extend(w.finish());
            }
            out.extend(list_complete("ChannelsHungupListComplete", id, names.len()));
            for n in &names {
                self.hangup_channel(n, fx);
            }
            return out;
        }
        if !self.channels.contains_key(target) {
            return reply("Error", id, "No such channel");
        }
        self.hangup_channel(target, fx);
        reply("Success", id, "Channel Hungup")
    }

    fn redirect(&mut self, m: &Message, id: Option<&str>) -> Vec<u8> {
        let Some(name) = val(m, "Channel").filter(|c| !c.is_empty()) else {
            return reply("Error", id, "Channel not specified");
        };
        let Some(chan) = self.channels.get_mut(name) else {
            return reply("Error", id, "Channel specified does not exist");
        };
        if let Some(c) = val(m, "Context") {
            chan.context = c.into();
        }
        if let Some(e) = val(m, "Exten") {
            chan.exten = e.into();
        }
        chan.priority = val(m, "Priority").and_then(|p| p.parse().ok()).unwrap_or(1);
        reply("Success", id, "Redirect successful")
    }

    fn getvar(&self, m: &Message, id: Option<&str>) -> Vec<u8> {
        let Some(var) = val(m, "Variable").filter(|v| !v.is_empty()) else {
            return reply("Error", id, "No variable specified");
        };
        let value = match val(m, "Channel").filter(|c| !c.is_empty()) {
            Some(c) => match self.channels.get(c) {
                Some(chan) => chan.vars.get(var).cloned().unwrap_or_default(),
                None => return reply("Error", id, "No such channel"),
            },
            None => self.globals.get(var).cloned().unwrap_or_default(),
        };
        let mut w = Wire::response("Success", id);
        w.h("Variable", var).h("Value", value);
        w.finish()
    }

    fn setvar(&mut self, m: &Message, id: Option<&str>, fx: &mut Effects) -> Vec<u8> {
        let Some(var) = val(m, "Variable").filter(|v| !v.is_empty()) else {
            return reply("Error", id, "No variable specified");
        };
        let value = val(m, "Value").unwrap_or("").to_string();
        match val(m, "Channel").filter(|c| !c.is_empty()) {
            Some(c) => {
                let Some(chan) = self.channels.get_mut(c) else {
                    return reply("Error", id, "No such channel");
                };
                chan.vars.insert(var.to_string(), value.clone());
                let mut w = Wire::event("VarSet", Some("dialplan,all"));
                chan.block(&mut w, "");
                w.h("Variable", var).h("Value", &value);
                fx.event(class::DIALPLAN, w.finish());
            }
            None => {
                self.globals.insert(var.to_string(), value);
            }
        }
        reply("Success", id, "Variable Set")
    }

    fn dbput(&mut self, m: &Message, id: Option<&str>) -> Vec<u8> {
        let Some(family) = val(m, "Family").filter(|v| !v.is_empty()) else {
            return reply("Error", id, "No family specified");
        };
        let Some(key) = val(m, "Key").filter(|v| !v.is_empty()) else {
            return reply("Error", id, "No key specified");
        };
        self.db.insert(format!("/{family}/{key}"), val(m, "Val").unwrap_or("").to_string());
        reply("Success", id, "Updated database successfully")
    }

    fn dbget(&self, m: &Message, id: Option<&str>) -> Vec<u8> {
        let (Some(family), Some(key)) = (val(m, "Family"), val(m, "Key")) else {
            return reply("Error", id, "No family or key specified");
        };
        let Some(value) = self.db.get(&format!("/{family}/{key}")) else {
            return reply("Error", id, "Database entry not found");
        };
        let mut out = list_start(id, "Result will follow");
        let mut w = Wire::event("DBGetResponse", None);
        w.h("Family", family).h("Key", key).h("Val", value).id(id);
        out.extend(w.finish());
        out.extend(list_complete("DBGetComplete", id, 1));
        out
    }

    fn dbgettree(&self, m: &Message, id: Option<&str>) -> Vec<u8> {
        let prefix = match (val(m, "Family").filter(|f| !f.is_empty()), val(m, "Key").filter(|k| !k.is_empty())) {
            (Some(f), Some(k)) => format!("/{f}/{k}"),
            (Some(f), None) => format!("/{f}/"),
            _ => "/".into(),
        };
        let found: Vec<_> = self.db.iter().filter(|(k, _)| k.starts_with(&prefix) || **k == prefix).collect();
        if found.is_empty() {
            return reply("Error", id, "Database entry not found");
        }
        let mut out = list_start(id, "Result will follow");
        for (k, v) in &found {
            let mut w = Wire::event("DBGetTreeResponse", None);
            w.h("Key", k).h("Val", v).id(id);
            out.extend(w.finish());
        }
        out.extend(list_complete("DBGetTreeComplete", id, found.len()));
        out
    }

    fn dbdel(&mut self, m: &Message, id: Option<&str>) -> Vec<u8> {
        let (Some(family), Some(key)) = (val(m, "Family"), val(m, "Key")) else {
            return reply("Error", id, "No family or key specified");
        };
        match self.db.remove(&format!("/{family}/{key}")) {
            Some(_) => reply("Success", id, "Key deleted successfully"),
            None => reply("Error", id, "Database entry does not exist"),
        }
    }

    fn dbdeltree(&mut self, m: &Message, id: Option<&str>) -> Vec<u8> {
        let Some(family) = val(m, "Family").filter(|f| !f.is_empty()) else {
            return reply("Error", id, "No family specified");
        };
        let prefix = match val(m, "Key").filter(|k| !k.is_empty()) {
            Some(k) => format!("/{family}/{k}"),
            None => format!("/{family}/"),
        };
        let before = self.db.len();
        self.db.retain(|k, _| !(k.starts_with(&prefix) || *k == prefix));
        if self.db.len() == before {
            return reply("Error", id, "Database entry not found");
        }
        reply("Success", id, "Key tree deleted successfully")
    }

    fn core_show_channels(&self, id: Option<&str>) -> Vec<u8> {
        let mut out = list_start(id, "Channels will follow");
        for c in self.channels.values() {
            let mut w = Wire::event("CoreShowChannel", None);
            w.id(id);
            c.block(&mut w, "");
            w.h("Application", &c.app).h("ApplicationData", &c.data);
            w.h("Duration", hms(c.created.elapsed())).h("BridgeId", "");
            out.extend(w.finish());
        }
        out.extend(list_complete("CoreShowChannelsComplete", id, self.channels.len()));
        out
    }

    fn status(&self, m: &Message, id: Option<&str>) -> Vec<u8> {
        let only = val(m, "Channel").filter(|c| !c.is_empty());
        if let Some(c) = only {
            if !self.channels.contains_key(c) {
                return reply("Error", id, "No such channel");
            }
        }
        let mut out = list_start(id, "Channel status will follow");
        let mut n = 0;
        for c in self.channels.values().filter(|c| only.is_none_or(|o| o == c.name)) {
            n += 1;
            let mut w = Wire::event("Status", Some("Call"));
            c.block(&mut w, "");
            w.h("Type", "Local").h("DNID", "").h("EffectiveConnectedLineNum", "<unknown>");
            w.h("EffectiveConnectedLineName", "<unknown>").h("TimeToHangup", 0).h("BridgeID", "");
            w.h("Application", &c.app).h("Data", &c.data).h("Nativeformats", "(slin)");
            w.h("Readformat", "slin").h("Readtrans", "").h("Writeformat", "slin").h("Writetrans", "");
            w.h("Callgroup", 0).h("Pickupgroup", 0).h("Seconds", c.created.elapsed().as_secs()).id(id);
            out.extend(w.finish());
        }
        let mut w = Wire::event("StatusComplete", None);
        w.id(id).h("EventList", "Complete").h("ListItems", n).h("Items", n);
        out.extend(w.finish());
        out
    }

    fn sippeers(&self, id: Option<&str>) -> Vec<u8> {
        let mut out = list_start(id, "Peer status list will follow");
        let peers: Vec<_> = self.endpoints.iter().filter(|e| e.tech == "SIP").collect();
        for p in &peers {
            let mut w = Wire::event("PeerEntry", None);
            w.id(id).h("Channeltype", "SIP").h("ObjectName", p.name).h("ChanObjectType", "peer");
            w.h("IPaddress", if p.online { "127.0.0.1" } else { "-none-" }).h("IPport", if p.online { 5060 } else { 0 });
            w.h("Dynamic", "yes").h("AutoForcerport", "no").h("Forcerport", "no").h("AutoComedia", "no");
            w.h("Comedia", "no").h("VideoSupport", "no").h("TextSupport", "no").h("ACL", "no");
            w.h("Status", if p.online { "OK (1 ms)" } else { "UNKNOWN" }).h("RealtimeDevice", "no").h("Description", "");
            out.extend(w.finish());
        }
        let mut w = Wire::event("PeerlistComplete", None);
        w.h("EventList", "Complete").h("ListItems", peers.len()).id(id);
        out.extend(w.finish());
        out
    }

    fn pjsip_endpoints(&self, id: Option<&str>) -> Vec<u8> {
        let mut out = list_start(id, "A listing of Endpoints follows, presented as EndpointList events");
        let eps: Vec<_> = self.endpoints.iter().filter(|e| e.tech == "PJSIP").collect();
        for e in &eps {
            let mut w = Wire::event("EndpointList", None);
            w.id(id).h("ObjectType", "endpoint").h("ObjectName", e.name).h("Transport", "transport-udp");
            w.h("Aor", e.name).h("Auths", e.name).h("OutboundAuths", "");
            w.h("Contacts", if e.online { format!("{}/sip:{}@127.0.0.1:5062,", e.name, e.name) } else { String::new() });
            w.h("DeviceState", if e.online { "Not in use" } else { "Unavailable" }).h("ActiveChannels", "");
            out.extend(w.finish());
        }
        out.extend(list_complete("EndpointListComplete", id, eps.len()));
        out
    }

    fn queue_status(&self, m: &Message, id: Option<&str>) -> Vec<u8> {
        let only = val(m, "Queue").filter(|q| !q.is_empty());
        let mut out = list_start(id, "Queue status will follow");
        let mut n = 0;
        for q in self.queues.iter().filter(|q| only.is_none_or(|o| o == q.name)) {
            n += 1;
            let mut w = Wire::event("QueueParams", None);
            w.h("Queue", &q.name).h("Max", 0).h("Strategy", "ringall").h("Calls", 0).h("Holdtime", 0);
            w.h("TalkTime", 0).h("Completed", 0).h("Abandoned", 0).h("ServiceLevel", 0);
            w.h("ServicelevelPerf", "0.0").h("ServicelevelPerf2", "0.0").h("Weight", 0).id(id);
            out.extend(w.finish());
            // Asterisk lists dynamic members (newest first) before static ones.
            let mut members: Vec<&Member> = q.members.iter().filter(|m| m.dynamic).rev().collect();
            members.extend(q.members.iter().filter(|m| !m.dynamic));
            for mem in members {
                n += 1;
                let mut w = Wire::event("QueueMember", None);
                w.h("Queue", &q.name).h("Name", &mem.name).h("Location", &mem.interface);
                w.h("StateInterface", &mem.interface).h("Membership", if mem.dynamic { "dynamic" } else { "static" });
                w.h("Penalty", mem.penalty).h("CallsTaken", 0).h("LastCall", 0).h("LastPause", mem.last_pause);
                w.h("LoginTime", mem.login_time).h("InCall", 0).h("Status", 1).h("Paused", mem.paused as u8);
                w.h("PausedReason", &mem.reason).h("Wrapuptime", 0).id(id);
                out.extend(w.finish());
            }
        }
        out.extend(list_complete("QueueStatusComplete", id, n));
        out
    }

    fn queue_summary(&self, m: &Message, id: Option<&str>) -> Vec<u8> {
        let only = val(m, "Queue").filter(|q| !q.is_empty());
        let mut out = list_start(id, "Queue summary will follow");
        let mut n = 0;
        for q in self.queues.iter().filter(|q| only.is_none_or(|o| o == q.name)) {
            n += 1;
            let available = q.members.iter().filter(|m| !m.paused).count();
            let mut w = Wire::event("QueueSummary", None);
            w.h("Queue", &q.name).h("LoggedIn", q.members.len()).h("Available", available).h("Callers", 0);
            w.h("HoldTime", 0).h("TalkTime", 0).h("LongestHoldTime", 0).id(id);
            out.extend(w.finish());
        }
        out.extend(list_complete("QueueSummaryComplete", id, n));
        out
    }

    fn member_event(q: &str, mem: &Member, name: &str) -> Vec<u8> {
        let mut w = Wire::event(name, Some("agent,all"));
        w.h("Queue", q).h("MemberName", &mem.name).h("Interface", &mem.interface);
        w.h("StateInterface", &mem.interface).h("Membership", if mem.dynamic { "dynamic" } else { "static" });
        w.h("Penalty", mem.penalty).h("CallsTaken", 0).h("LastCall", 0).h("LastPause", mem.last_pause);
        w.h("LoginTime", mem.login_time).h("InCall", 0).h("Status", 1).h("Paused", mem.paused as u8);
        w.h("PausedReason", &mem.reason).h("Ringinuse", 1).h("Wrapuptime", 0);
        w.finish()
    }

    fn queue_add(&mut self, m: &Message, id: Option<&str>, fx: &mut Effects) -> Vec<u8> {
        let (Some(qname), Some(iface)) = (val(m, "Queue"), val(m, "Interface").filter(|i| !i.is_empty())) else {
            return reply("Error", id, "'Queue' and 'Interface' not specified.");
        };
        let Some(q) = self.queues.iter_mut().find(|q| q.name == qname) else {
            return reply("Error", id, "Unable to add interface to queue: No such queue");
        };
        if q.members.iter().any(|m| m.interface == iface) {
            return reply("Error", id, "Unable to add interface: Already there");
        }
        let paused = truthy(val(m, "Paused"));
        let mem = Member {
            interface: iface.into(),
            name: val(m, "MemberName").filter(|n| !n.is_empty()).unwrap_or(iface).into(),
            dynamic: true,
            penalty: val(m, "Penalty").and_then(|p| p.parse().ok()).unwrap_or(0),
            paused,
            reason: String::new(),
            last_pause: if paused { epoch() } else { 0 },
            login_time: epoch(),
        };
        fx.event(class::AGENT, Pbx::member_event(qname, &mem, "QueueMemberAdded"));
        q.members.push(mem);
        reply("Success", id, "Added interface to queue")
    }

    fn queue_remove(&mut self, m: &Message, id: Option<&str>, fx: &mut Effects) -> Vec<u8> {
        let (Some(qname), Some(iface)) = (val(m, "Queue"), val(m, "Interface")) else {
            return reply("Error", id, "Need 'Queue' and 'Interface' parameters.");
        };
        let Some(q) = self.queues.iter_mut().find(|q| q.name == qname) else {
            return reply("Error", id, "Unable to remove interface from queue: No such queue");
        };
        match q.members.iter().position(|m| m.interface == iface) {
            None => reply("Error", id, "Unable to remove interface: Not there"),
            Some(i) if !q.members[i].dynamic => {
                reply("Error", id, "Unable to remove interface: Not a dynamic member")
            }
            Some(i) => {
                let mem = q.members.remove(i);
                fx.event(class::AGENT, Pbx::member_event(qname, &mem, "QueueMemberRemoved"));
                reply("Success", id, "Removed interface from queue")
            }
        }
    }

    fn queue_pause(&mut self, m: &Message, id: Option<&str>, fx: &mut Effects) -> Vec<u8> {
        let (Some(iface), Some(paused)) = (val(m, "Interface"), val(m, "Paused")) else {
            return reply("Error", id, "Need 'Interface' and 'Paused' parameters.");
        };
        let paused = truthy(Some(paused));
        let only = val(m, "Queue").filter(|q| !q.is_empty());
        let reason = val(m, "Reason").unwrap_or("").to_string();
        let mut found = false;
        for q in self.queues.iter_mut().filter(|q| only.is_none_or(|o| o == q.name)) {
            for mem in q.members.iter_mut().filter(|m| m.interface == iface) {
                found = true;
                mem.paused = paused;
                mem.reason = if paused { reason.clone() } else { String::new() };
                if paused {
                    mem.last_pause = epoch();
                }
                fx.event(class::AGENT, Pbx::member_event(&q.name, mem, "QueueMemberPause"));
            }
        }
        match (found, paused) {
            (false, _) => reply("Error", id, "Interface not found"),
            (true, true) => reply("Success", id, "Interface paused successfully"),
            (true, false) => reply("Success", id, "Interface unpaused successfully"),
        }
    }

    fn core_settings(&self, id: Option<&str>) -> Vec<u8> {
        let mut w = Wire::response("Success", id);
        w.h("AMIversion", &self.ami_version).h("AsteriskVersion", &self.asterisk_version);
        w.h("SystemName", "").h("CoreMaxCalls", 0).h("CoreMaxLoadAvg", "0.000000").h("CoreRunUser", "");
        w.h("CoreRunGroup", "").h("CoreMaxFilehandles", 0).h("CoreRealTimeEnabled", "No");
        w.h("CoreCDRenabled", "Yes").h("CoreHTTPenabled", "Yes").h("SoundsSearchCustomDir", "No");
        w.finish()
    }

    fn core_status(&self, id: Option<&str>) -> Vec<u8> {
        let (date, time) = commands::utc_date_time(self.started_wall);
        let mut w = Wire::response("Success", id);
        w.h("CoreStartupDate", &date).h("CoreStartupTime", &time);
        w.h("CoreReloadDate", &date).h("CoreReloadTime", &time);
        w.h("CoreCurrentCalls", self.calls.len()).h("CoreProcessedCalls", self.calls_processed);
        w.finish()
    }

    fn absolute_timeout(&mut self, m: &Message, id: Option<&str>, fx: &mut Effects) -> Vec<u8> {
        let Some(name) = val(m, "Channel").filter(|c| !c.is_empty()) else {
            return reply("Error", id, "No channel specified");
        };
        let Some(chan) = self.channels.get(name) else {
            return reply("Error", id, "No such channel");
        };
        let secs = val(m, "Timeout").and_then(|t| t.trim().parse::<u64>().ok()).unwrap_or(0);
        if secs > 0 {
            fx.later.push((Duration::from_secs(secs), Task::Hangup { call: chan.call }));
        }
        reply("Success", id, "Timeout Set")
    }
}

fn extension_state(m: &Message, id: Option<&str>) -> Vec<u8> {
    let exten = val(m, "Exten").unwrap_or("");
    let context = val(m, "Context").unwrap_or("default");
    let known = context == "default" && exten == "100";
    let mut w = Wire::response("Success", id);
    w.h("Message", "Extension Status").h("Exten", exten).h("Context", context);
    w.h("Hint", if known { "PJSIP/1001" } else { "" });
    w.h("Status", if known { 0 } else { -1 }).h("StatusText", if known { "Idle" } else { "Unknown" });
    w.finish()
}

fn mailbox(m: &Message, id: Option<&str>, count: bool) -> Vec<u8> {
    let Some(mb) = val(m, "Mailbox").filter(|v| !v.is_empty()) else {
        return reply("Error", id, "Mailbox not specified");
    };
    let mut w = Wire::response("Success", id);
    if count {
        w.h("Message", "Mailbox Message Count").h("Mailbox", mb);
        w.h("UrgMessages", 0).h("NewMessages", 0).h("OldMessages", 0);
    } else {
        w.h("Message", "Mailbox Status").h("Mailbox", mb).h("Waiting", 0);
    }
    w.finish()
}

fn user_event(m: &Message, id: Option<&str>, fx: &mut Effects) -> Vec<u8> {
    if val(m, "UserEvent").is_none_or(str::is_empty) {
        return reply("Error", id, "UserEvent header missing");
    }
    // As Asterisk: `UserEvent: <name>` first, then the other headers as sent.
    let mut w = Wire::event("UserEvent", Some("user,all"));
    w.h("UserEvent", val(m, "UserEvent").unwrap_or(""));
    for (n, v) in m.iter().filter(|(n, _)| !n.eq_ignore_ascii_case("Action") && !n.eq_ignore_ascii_case("UserEvent")) {
        w.h(n, v.trim_start());
    }
    fx.event(class::USER, w.finish());
    reply("Success", id, "Event Sent")
}

pub fn list_start(id: Option<&str>, message: &str) -> Vec<u8> {
    let mut w = Wire::response("Success", id);
    w.h("EventList", "start").h("Message", message);
    w.finish()
}

pub fn list_complete(event: &str, id: Option<&str>, items: usize) -> Vec<u8> {
    let mut w = Wire::event(event, None);
    w.id(id).h("EventList", "Complete").h("ListItems", items);
    w.finish()
}

fn empty_list(id: Option<&str>, message: &str, complete: &str) -> Vec<u8> {
    let mut out = list_start(id, message);
    out.extend(list_complete(complete, id, 0));
    out
}

pub fn hms(d: Duration) -> String {
    let s = d.as_secs();
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// The small regular-expression subset AMI users pass to `Hangup`:
/// `^`, `$`, `.`, `*` and literals.
fn regex_match(re: &str, text: &str) -> bool {
    let re = re.as_bytes();
    let text = text.as_bytes();
    if let Some(rest) = re.strip_prefix(b"^") {
        return match_here(rest, text);
    }
    (0..=text.len()).any(|i| match_here(re, &text[i..]))
}

fn match_here(re: &[u8], text: &[u8]) -> bool {
    match re {
        [] => true,
        [b'$'] => text.is_empty(),
        [c, b'*', rest @ ..] => {
            let mut i = 0;
            loop {
                if match_here(rest, &text[i..]) {
                    return true;
                }
                if i < text.len() && (*c == b'.' || text[i] == *c) {
                    i += 1;
                } else {
                    return false;
                }
            }
        }
        [c, rest @ ..] => !text.is_empty() && (*c == b'.' || *c == text[0]) && match_here(rest, &text[1..]),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn regex_subset() {
        assert!(super::regex_match("^Local/", "Local/100@default-00000003;1"));
        assert!(!super::regex_match("^Local/", "PJSIP/1001"));
        assert!(super::regex_match("1001-.*$", "PJSIP/1001-0001"));
    }
}
