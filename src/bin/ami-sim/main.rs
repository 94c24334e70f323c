//! `ami-sim`: an AMI server simulator that speaks Asterisk's wire format,
//! for tests, examples, benchmarks, and users without a PBX at hand.
//!
//! ```text
//! ami-sim [--listen ADDR] [--user NAME:SECRET]... [--version X.Y.Z]
//!         [--legacy-command] [--fault MODE] [--quiet]
//! ```

mod captured;
mod commands;
mod faults;
mod http;
mod http_manager;
mod log;
mod pbx;
mod server;
mod session;
mod wire;

use std::io::Write;
use std::net::ToSocketAddrs;
use std::process::ExitCode;

use faults::Fault;
use server::{Config, Server};

const USAGE: &str = "usage: ami-sim [--listen ADDR] [--user NAME:SECRET]... [--version X.Y.Z] \
[--legacy-command] [--fault MODE] [--tls-cert FILE --tls-key FILE] [--http ADDR [--http-timeout SECS]] [--quiet]

  --listen ADDR       where to listen (default 127.0.0.1:5038; port 0 picks a free port)
  --user NAME:SECRET  an AMI user (repeatable; default admin:admin)
  --version X.Y.Z     AMI version in the banner (default 5.0.2, Asterisk 16)
  --legacy-command    answer Command in the pre-Asterisk-14 'Response: Follows' form
  --fault MODE        misbehave on every connection: no-banner, wrong-banner, garbage,
                      close-mid-message, slow, huge, stall, drop-after N
  --tls-cert FILE     serve AMI over TLS with this PEM certificate chain...
  --tls-key FILE      ...and this PEM private key
  --http ADDR         also serve the manager over HTTP (/rawman, /arawman) on ADDR
  --http-timeout SECS an HTTP session unused this long expires (default 60)
  --quiet             log nothing to standard error

Prints 'listening on IP:PORT' on standard output once ready (then 'http on IP:PORT'
with --http); runs until killed.";

fn parse_args() -> Result<(String, Config, bool), String> {
    let mut listen = "127.0.0.1:5038".to_string();
    let mut users = Vec::new();
    let mut version = "5.0.2".to_string();
    let mut legacy_command = false;
    let mut fault = None;
    let mut quiet = false;
    let (mut tls_cert, mut tls_key) = (None, None);
    let (mut http, mut http_timeout) = (None, 60u64);
    let mut args = std::env::args().skip(1).peekable();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| inline.clone().or_else(|| args.next()).ok_or(format!("{name} needs a value"));
        match flag.as_str() {
            "--listen" => listen = value("--listen")?,
            "--user" => {
                let v = value("--user")?;
                let (u, s) = v.split_once(':').ok_or(format!("--user wants NAME:SECRET, not {v:?}"))?;
                users.push((u.to_string(), s.to_string()));
            }
            "--version" => {
                version = value("--version")?;
                if version.is_empty() || version.contains(['\r', '\n']) {
                    return Err("bad --version".into());
                }
            }
            "--legacy-command" => legacy_command = true,
            "--fault" => {
                let mut mode = value("--fault")?;
                if mode.eq_ignore_ascii_case("drop-after") {
                    let n = args.next().ok_or("drop-after needs a count")?;
                    mode = format!("drop-after {n}");
                }
                fault = Some(mode.parse::<Fault>()?);
            }
            "--quiet" | "-q" => quiet = true,
            "--tls-cert" => tls_cert = Some(value("--tls-cert")?),
            "--tls-key" => tls_key = Some(value("--tls-key")?),
            "--http" => http = Some(value("--http")?),
            "--http-timeout" => {
                let v = value("--http-timeout")?;
                http_timeout = v.parse().ok().filter(|&s| s > 0).ok_or(format!("bad --http-timeout {v:?}"))?;
            }
            "--help" | "-h" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if users.is_empty() {
        users.push(("admin".into(), "admin".into()));
    }
    let tls = match (tls_cert, tls_key) {
        (None, None) => None,
        (Some(cert), Some(key)) => Some(tls_config(&cert, &key)?),
        _ => return Err("--tls-cert and --tls-key go together".into()),
    };
    let http = match http {
        None => None,
        Some(addr) => {
            let l = std::net::TcpListener::bind(&addr).map_err(|e| format!("cannot listen on {addr:?} for HTTP: {e}"))?;
            l.set_nonblocking(true).map_err(|e| e.to_string())?;
            Some(l)
        }
    };
    let http_timeout = std::time::Duration::from_secs(http_timeout);
    Ok((listen, Config { tls, users, version, legacy_command, fault, http, http_timeout }, quiet))
}

fn tls_config(cert: &str, key: &str) -> Result<std::sync::Arc<rustls::ServerConfig>, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(|c| c.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("cannot read --tls-cert {cert}: {e}"))?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| format!("cannot read --tls-key {key}: {e}"))?;
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_no_client_auth().with_single_cert(certs, key))
        .map_err(|e| format!("TLS certificate: {e}"))?;
    Ok(std::sync::Arc::new(config))
}

extern "C" fn on_signal(_: libc::c_int) {
    // SAFETY: _exit is async-signal-safe and touches no Rust state.
    unsafe { libc::_exit(0) }
}

fn main() -> ExitCode {
    let (listen, config, quiet) = match parse_args() {
        Ok(v) => v,
        Err(e) => {
            eprintln!("ami-sim: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    log::init(quiet);
    for sig in [libc::SIGTERM, libc::SIGINT] {
        // SAFETY: installs a handler that only calls _exit; no other thread is
        // inside a signal-sensitive libc call it could corrupt.
        unsafe { libc::signal(sig, on_signal as *const () as libc::sighandler_t) };
    }
    let addr = match listen.to_socket_addrs().ok().and_then(|mut a| a.next()) {
        Some(a) => a,
        None => {
            eprintln!("ami-sim: cannot resolve listen address {listen:?}");
            return ExitCode::from(2);
        }
    };
    let listener = match std::net::TcpListener::bind(addr) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("ami-sim: cannot listen on {addr}: {e}");
            return ExitCode::from(1);
        }
    };
    let local = listener.local_addr().unwrap_or(addr);
    if let Err(e) = listener.set_nonblocking(true) {
        eprintln!("ami-sim: {e}");
        return ExitCode::from(1);
    }
    let mut server = match Server::new(mio::net::TcpListener::from_std(listener), config) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("ami-sim: {e}");
            return ExitCode::from(1);
        }
    };
    let mut out = std::io::stdout();
    let _ = writeln!(out, "listening on {local}");
    if let Some(addr) = server.http_address() {
        let _ = writeln!(out, "http on {addr}");
    }
    let _ = out.flush();
    match server.run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ami-sim: {e}");
            ExitCode::from(1)
        }
    }
}
