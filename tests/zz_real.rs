use std::sync::mpsc;
use std::time::{Duration, Instant};
use ami::{Client, Message, Options};

fn client(path: &str) -> Client {
    let mut o = Options::default();
    o.set("transport", "http").unwrap();
    o.set("http_path", path).unwrap();
    let c = Client::new(o);
    eprintln!("banner {:?}", c.connect("127.0.0.1", 8088));
    eprintln!("wrong {:?}", c.login("admin", "nope").err());
    c.login("admin", "admin").unwrap();
    c
}

#[test]
fn real() {
    for path in ["/rawman", "/arawman"] {
        let c = client(path);
        eprintln!("{path} ping {:?}", c.action("Ping", &[]));
        let out = c.action("Command", &[("Command", "core show version")]).unwrap();
        eprintln!("{path} command {:?}", out.get("Output"));
        let l = c.action("CoreShowChannels", &[]).unwrap();
        eprintln!("{path} list {} items, last {:?}", l.list().len(), l.list().last().and_then(|m| m.event_name()));
        let mut o = Message::action("Originate").unwrap();
        for (n, v) in [("Channel", "Local/100@default"), ("Application", "Wait"), ("Data", "1"), ("Async", "true")] { o.add(n, v).unwrap(); }
        o.wait_event("OriginateResponse").unwrap();
        eprintln!("{path} originate {:?}", c.send(&o).map(|m| m.get("Response").map(str::to_string)));
        let (tx, rx) = mpsc::channel();
        c.subscribe("UserEvent", move |e| { let _ = tx.send(e.get("UserEvent").unwrap_or("").to_string()); }).unwrap();
        for i in 0..10 { c.action("UserEvent", &[("UserEvent", &format!("u{i}"))]).unwrap(); }
        let got: Vec<String> = (0..10).map(|_| rx.recv_timeout(Duration::from_secs(10)).unwrap()).collect();
        eprintln!("{path} events {got:?}");
        let t = Instant::now();
        let (tx, rx) = mpsc::channel();
        for _ in 0..1000 { let tx = tx.clone(); c.send_async(&Message::action("Ping").unwrap(), move |r| { let _ = tx.send(r.is_ok()); }).unwrap(); }
        let ok = (0..1000).filter(|_| rx.recv_timeout(Duration::from_secs(30)).unwrap()).count();
        eprintln!("{path} 1000 pipelined: {ok} ok in {:?}", t.elapsed());
        c.logoff().unwrap();
    }
}
