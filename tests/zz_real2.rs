use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;
use ami::{Client, Options};

#[test]
fn expiry() {
    for events in ["off", "on"] {
        let mut o = Options::default();
        o.set("transport", "http").unwrap();
        o.set("events", events).unwrap();
        let c = Client::new(o);
        let states = Arc::new(Mutex::new(Vec::new()));
        let s2 = Arc::clone(&states);
        c.on_state(Some(Box::new(move |s, _| s2.lock().unwrap().push(s)))).unwrap();
        c.connect("127.0.0.1", 8088).unwrap();
        c.login("admin", "admin").unwrap();
        let (tx, rx) = mpsc::channel();
        c.subscribe("UserEvent", move |e| { let _ = tx.send(e.get("UserEvent").unwrap_or("").to_string()); }).unwrap();
        eprintln!("{events} ping {:?}", c.action("Ping", &[]).map(|m| m.get("Ping").map(str::to_string)));
        std::thread::sleep(Duration::from_secs(8));
        eprintln!("{events} ping after 8s {:?}", c.action("Ping", &[]).map(|m| m.get("Ping").map(str::to_string)));
        c.action("UserEvent", &[("UserEvent", "late")]).unwrap();
        eprintln!("{events} event {:?}", rx.recv_timeout(Duration::from_secs(5)));
        eprintln!("{events} states {:?}", states.lock().unwrap());
    }
}
