//! AMI over TLS against `ami-sim --tls-cert --tls-key`, with a CA and a
//! server certificate generated here.

mod common;

use std::path::PathBuf;

use ami::{Client, Error, Message, Options};
use common::Sim;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair, KeyUsagePurpose};

struct Pki {
    dir: PathBuf,
}

impl Pki {
    /// A CA, and a certificate for `localhost` signed by it.
    fn new(name: &str) -> Pki {
        let dir = std::env::temp_dir().join(format!("ami-tls-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::DigitalSignature];
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
        let key = KeyPair::generate().unwrap();
        let cert = CertificateParams::new(vec!["localhost".to_string()]).unwrap().signed_by(&key, &ca).unwrap();
        std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
        std::fs::write(dir.join("cert.pem"), cert.pem()).unwrap();
        std::fs::write(dir.join("key.pem"), key.serialize_pem()).unwrap();
        Pki { dir }
    }

    fn path(&self, f: &str) -> String {
        self.dir.join(f).to_string_lossy().into_owned()
    }

    fn sim(&self) -> Sim {
        Sim::start(&["--tls-cert", &self.path("cert.pem"), "--tls-key", &self.path("key.pem")])
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn tls_client(f: impl FnOnce(&mut Options)) -> Result<Client, Error> {
    let mut o = Options { tls: true, ..Options::default() };
    f(&mut o);
    Client::try_new(o)
}

#[test]
fn a_trusted_ca_works() {
    let pki = Pki::new("trusted");
    let sim = pki.sim();
    let c = tls_client(|o| o.tls_ca_file = Some(pki.path("ca.pem"))).unwrap();
    assert_eq!(c.connect("localhost", sim.port).unwrap(), "Asterisk Call Manager/5.0.2");
    c.login("admin", "admin").unwrap();
    assert_eq!(c.send(&Message::action("Ping").unwrap()).unwrap().get("Ping"), Some("Pong"));
    // Enough traffic to cross many TLS records.
    let r = c.action("SimFlood", &[("Count", "2000")]).unwrap();
    assert!(r.is_success());
    let status = c.action("QueueStatus", &[]).unwrap();
    assert_eq!(status.list().len(), 3);
    c.logoff().unwrap();
}

#[test]
fn an_untrusted_certificate_fails_with_a_tls_error() {
    let pki = Pki::new("untrusted");
    let other = Pki::new("other-ca");
    let sim = pki.sim();
    let c = tls_client(|o| o.tls_ca_file = Some(other.path("ca.pem"))).unwrap();
    match c.connect("localhost", sim.port) {
        Err(e @ Error::Tls(_)) => {
            assert_eq!(e.status(), 8);
            assert!(e.to_string().to_lowercase().contains("certificate"), "{e}");
        }
        other => panic!("expected a TLS error, got {other:?}"),
    }
    // The system's roots do not know our CA either.
    if let Ok(c) = tls_client(|_| {}) {
        assert!(matches!(c.connect("localhost", sim.port), Err(Error::Tls(_))));
    }
}

#[test]
fn tls_insecure_connects_to_anything() {
    let pki = Pki::new("insecure");
    let sim = pki.sim();
    let c = tls_client(|o| o.tls_insecure = true).unwrap();
    c.connect("127.0.0.1", sim.port).unwrap();
    c.login("admin", "admin").unwrap();
}

#[test]
fn a_wrong_host_name_fails() {
    let pki = Pki::new("hostname");
    let sim = pki.sim();
    let c = tls_client(|o| {
        o.tls_ca_file = Some(pki.path("ca.pem"));
        o.tls_server_name = Some("pbx.example.com".into());
    })
    .unwrap();
    assert!(matches!(c.connect("127.0.0.1", sim.port), Err(Error::Tls(_))));
    // Connecting by address checks the address, which the certificate lacks.
    let c = tls_client(|o| o.tls_ca_file = Some(pki.path("ca.pem"))).unwrap();
    assert!(matches!(c.connect("127.0.0.1", sim.port), Err(Error::Tls(_))));
}

#[test]
fn tls_client_against_a_plain_server_and_bad_settings() {
    let sim = Sim::default();
    let pki = Pki::new("plain");
    let c = tls_client(|o| o.tls_ca_file = Some(pki.path("ca.pem"))).unwrap();
    assert!(matches!(c.connect("localhost", sim.port), Err(Error::Tls(_))));
    let c = tls_client(|o| o.tls_ca_file = Some("/no/such/ca.pem".into())).unwrap();
    assert!(matches!(c.connect("localhost", sim.port), Err(Error::Tls(m)) if m.contains("/no/such/ca.pem")));
}

/// A self-signed certificate made the way Asterisk installations make theirs
/// (`openssl req -x509 ... -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1`,
/// which marks it `CA:TRUE`), served by a simulator.
struct SelfSigned {
    pki: Pki,
    der: Vec<u8>,
}

impl SelfSigned {
    fn new(name: &str) -> SelfSigned {
        let pki = Pki::new(name);
        let mut params = CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        std::fs::write(pki.dir.join("self.pem"), cert.pem()).unwrap();
        std::fs::write(pki.dir.join("self.key"), key.serialize_pem()).unwrap();
        SelfSigned { der: cert.der().to_vec(), pki }
    }

    fn sim(&self) -> Sim {
        Sim::start(&["--tls-cert", &self.pki.path("self.pem"), "--tls-key", &self.pki.path("self.key")])
    }

    /// The pin as `openssl x509 -noout -fingerprint -sha256` prints it.
    fn fingerprint(&self) -> String {
        let digest = ring::digest::digest(&ring::digest::SHA256, &self.der);
        let hex: Vec<String> = digest.as_ref().iter().map(|b| format!("{b:02X}")).collect();
        format!("sha256 Fingerprint={}", hex.join(":"))
    }
}

#[test]
fn a_self_signed_ca_true_certificate_listed_in_tls_ca_file_connects() {
    let s = SelfSigned::new("self-signed");
    let sim = s.sim();
    let c = tls_client(|o| o.tls_ca_file = Some(s.pki.path("self.pem"))).unwrap();
    c.connect("127.0.0.1", sim.port).unwrap();
    c.login("admin", "admin").unwrap();
    assert_eq!(c.action("Ping", &[]).unwrap().get("Ping"), Some("Pong"));
    // The host name is still checked.
    let c = tls_client(|o| {
        o.tls_ca_file = Some(s.pki.path("self.pem"));
        o.tls_server_name = Some("pbx.example.com".into());
    })
    .unwrap();
    assert!(matches!(c.connect("127.0.0.1", sim.port), Err(Error::Tls(_))));
    // Listing another certificate trusts nothing here.
    let other = SelfSigned::new("self-signed-other");
    let c = tls_client(|o| o.tls_ca_file = Some(other.pki.path("self.pem"))).unwrap();
    assert!(matches!(c.connect("127.0.0.1", sim.port), Err(Error::Tls(_))));
}

#[test]
fn a_pinned_certificate_connects_whatever_its_issuer_and_a_wrong_pin_does_not() {
    let s = SelfSigned::new("pinned");
    let sim = s.sim();
    let mut o = Options { tls: true, ..Options::default() };
    o.set("tls_pin_sha256", &s.fingerprint()).unwrap();
    let c = Client::try_new(o.clone()).unwrap();
    c.connect("127.0.0.1", sim.port).unwrap();
    c.login("admin", "admin").unwrap();

    let other = SelfSigned::new("pinned-other");
    let mut o = Options { tls: true, ..Options::default() };
    o.set("tls_pin_sha256", &other.fingerprint().replace(':', "").to_lowercase()).unwrap();
    let c = Client::try_new(o).unwrap();
    match c.connect("127.0.0.1", sim.port) {
        Err(e @ Error::Tls(_)) => assert!(e.to_string().contains("tls_pin_sha256"), "{e}"),
        other => panic!("expected a TLS error, got {other:?}"),
    }
    // A pin that is no SHA-256 is refused when set.
    let mut o = Options::default();
    assert!(matches!(o.set("tls_pin_sha256", "AB:CD"), Err(Error::InvalidArgument(_))));
}

/// HTTPS: `tls=1` with `transport=http`, against ami-sim's HTTP side with
/// the same certificate, on both manager paths; events through the poll.
#[test]
fn https_on_both_paths() {
    let pki = Pki::new("https");
    let sim = Sim::start(&["--tls-cert", &pki.path("cert.pem"), "--tls-key", &pki.path("key.pem"), "--http", "127.0.0.1:0"]);
    for path in ["/rawman", "/arawman"] {
        let c = tls_client(|o| {
            o.tls_ca_file = Some(pki.path("ca.pem"));
            o.set("transport", "http").unwrap();
            o.set("http_path", path).unwrap();
        })
        .unwrap();
        assert!(c.connect("localhost", sim.http_port.unwrap()).unwrap().starts_with("Asterisk/"));
        c.login("admin", "admin").unwrap();
        assert_eq!(c.action("Ping", &[]).unwrap().get("Ping"), Some("Pong"), "{path}");
        let (tx, rx) = std::sync::mpsc::channel();
        c.subscribe("SimFloodComplete", move |_| {
            let _ = tx.send(());
        })
        .unwrap();
        assert!(c.action("SimFlood", &[("Count", "2000")]).unwrap().is_success());
        rx.recv_timeout(std::time::Duration::from_secs(10)).expect("the flood's events over HTTPS");
        c.logoff().unwrap();
    }
    // A wrong CA is a TLS error on the HTTP transport too.
    let other = Pki::new("https-other");
    let c = tls_client(|o| {
        o.tls_ca_file = Some(other.path("ca.pem"));
        o.set("transport", "http").unwrap();
    })
    .unwrap();
    let e = c.connect("localhost", sim.http_port.unwrap()).unwrap_err();
    assert!(matches!(e, Error::Tls(_)), "{e:?}");
}
