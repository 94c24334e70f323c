//! Starts `ami-sim` as a real process on a free port, for tests.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use ami::codec::{Decoder, Frame, Limits};
use ami::{Client, Message, Options};

pub struct Sim {
    child: Child,
    pub port: u16,
    /// The manager over HTTP, when started with `--http`.
    pub http_port: Option<u16>,
}

impl Sim {
    pub fn start(args: &[&str]) -> Sim {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ami-sim"))
            .args(["--listen", "127.0.0.1:0", "--quiet"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start ami-sim");
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).expect("read ami-sim stdout");
        let port = line
            .trim()
            .strip_prefix("listening on 127.0.0.1:")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line from ami-sim: {line:?}"));
        let http_port = args.contains(&"--http").then(|| {
            let mut line = String::new();
            out.read_line(&mut line).expect("read ami-sim stdout");
            line.trim().rsplit(':').next().and_then(|p| p.parse().ok()).unwrap_or_else(|| panic!("no http line: {line:?}"))
        });
        Sim { child, port, http_port }
    }

    pub fn default() -> Sim {
        Sim::start(&[])
    }

    /// A client connected and logged in as admin.
    pub fn client(&self) -> Client {
        self.client_with(Options::default())
    }

    pub fn client_with(&self, options: Options) -> Client {
        let c = Client::new(options);
        c.connect("127.0.0.1", self.port).expect("connect");
        c.login("admin", "admin").expect("login");
        c
    }

    pub fn raw(&self) -> Raw {
        Raw::connect(self.port)
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A plain socket speaking AMI through the codec, for checking the
/// simulator's exact answers.
pub struct Raw {
    pub stream: TcpStream,
    decoder: Decoder,
    pub banner: Option<String>,
}

impl Raw {
    pub fn connect(port: u16) -> Raw {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("raw connect");
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        Raw { stream, decoder: Decoder::client(Limits::default()), banner: None }
    }

    /// For a server that sends no banner: decode messages from the first byte.
    pub fn without_banner(mut self) -> Raw {
        self.decoder = Decoder::server(Limits::default());
        self
    }

    pub fn send(&mut self, text: &str) {
        self.stream.write_all(text.as_bytes()).expect("raw send");
    }

    pub fn action(&mut self, headers: &[(&str, &str)]) {
        let mut m = Message::new();
        for (n, v) in headers {
            m.add(n, v).unwrap();
        }
        self.stream.write_all(&m.to_wire().unwrap()).unwrap();
    }

    /// The next message (the banner is stored on the way).
    pub fn next(&mut self) -> Message {
        loop {
            match self.decoder.next_frame().expect("decode") {
                Some(Frame::Banner(b)) => self.banner = Some(b),
                Some(Frame::Message(m)) => return m,
                None => {
                    let n = self.decoder.read_from(&mut self.stream).expect("raw read");
                    assert!(n > 0, "server closed the connection");
                    continue;
                }
            }
        }
    }

    /// Reads the banner line (and nothing after it).
    pub fn read_banner(&mut self) -> String {
        while self.banner.is_none() {
            match self.decoder.next_frame().expect("decode") {
                Some(Frame::Banner(b)) => self.banner = Some(b),
                Some(Frame::Message(m)) => panic!("message before the banner: {m:?}"),
                None => {
                    let n = self.decoder.read_from(&mut self.stream).expect("raw read");
                    assert!(n > 0, "server closed the connection before the banner");
                }
            }
        }
        self.banner.clone().unwrap_or_default()
    }

    /// Reads until the server closes; true if it did within the read timeout.
    pub fn closed(&mut self) -> bool {
        let mut buf = [0u8; 4096];
        loop {
            match self.stream.read(&mut buf) {
                Ok(0) => return true,
                Ok(_) => continue,
                Err(_) => return false,
            }
        }
    }

    pub fn login(&mut self) {
        self.action(&[("Action", "Login"), ("Username", "admin"), ("Secret", "admin"), ("Events", "off")]);
        let r = self.next();
        assert_eq!(r.get("Message"), Some("Authentication accepted"));
    }
}

pub fn fixtures_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures");
    assert!(dir.is_dir(), "the fixtures must be at {} (shared/ beside the repo)", dir.display());
    dir
}

/// target/<profile> with a freshly built libami.so. `cargo test` builds the
/// library only as an rlib, so C-facing tests ask cargo for the cdylib (once
/// per test binary; a no-op when it is up to date).
pub fn cdylib_dir() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let exe = std::env::current_exe().unwrap();
            let dir = exe.parent().and_then(std::path::Path::parent).unwrap().to_path_buf();
            let mut cargo = Command::new(env!("CARGO"));
            cargo.current_dir(env!("CARGO_MANIFEST_DIR")).args(["build", "--lib"]);
            if dir.file_name().is_some_and(|n| n == "release") {
                cargo.arg("--release");
            }
            let status = cargo.status().expect("run cargo build --lib");
            assert!(status.success(), "cargo build --lib failed");
            assert!(dir.join("libami.so").exists(), "no libami.so in {}", dir.display());
            dir
        })
        .clone()
}

/// Compiles tests/c/NAME.c under AddressSanitizer and UndefinedBehaviorSanitizer
/// against the freshly built libami.so; the path of the program.
pub fn build_c(name: &str) -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let lib = cdylib_dir();
    let out_dir = lib.join("c-tests");
    std::fs::create_dir_all(&out_dir).unwrap();
    let exe = out_dir.join(name);
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let status = Command::new(&cc)
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-g", "-O1"])
        .args(["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-fno-sanitize-recover=all"])
        .arg("-I")
        .arg(root.join("include"))
        .arg("-I")
        .arg(root.join("tests/c"))
        .arg(root.join("tests/c").join(format!("{name}.c")))
        .arg("-L")
        .arg(&lib)
        .arg(format!("-Wl,-rpath,{}", lib.display()))
        .args(["-lami", "-lpthread", "-o"])
        .arg(&exe)
        .status()
        .unwrap_or_else(|e| panic!("cannot run the C compiler {cc:?}: {e}"));
    assert!(status.success(), "{name}.c did not compile");
    exe
}

/// A C test program's run under the sanitizers (leaks included).
pub fn sanitized(exe: &std::path::Path) -> Command {
    let mut cmd = Command::new(exe);
    cmd.env("AMI_SIM", env!("CARGO_BIN_EXE_ami-sim"))
        .env("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0:exitcode=86")
        .env("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1");
    cmd
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Dir {
    Client,
    Server,
}

/// An HTTP transcript of ../shared/fixtures as `(direction, bytes)` segments: a `>>> ` or `<<< `
/// line starts one (or continues it, when the direction is the same);
/// unmarked lines continue it. `\r`, `\n`, `\\` are escapes.
pub fn segments(name: &str) -> Vec<(Dir, Vec<u8>)> {
    let text = std::fs::read_to_string(fixtures_dir().join(name)).unwrap();
    let mut out: Vec<(Dir, String)> = Vec::new();
    for line in text.lines() {
        let (dir, rest) = match (line.strip_prefix(">>> "), line.strip_prefix("<<< ")) {
            (Some(rest), _) => (Some(Dir::Client), rest),
            (_, Some(rest)) => (Some(Dir::Server), rest),
            _ => (None, line),
        };
        match (dir, out.last_mut()) {
            (Some(d), Some(last)) if last.0 == d => last.1.push_str(rest),
            (Some(d), _) => out.push((d, rest.to_string())),
            (None, Some(last)) => last.1.push_str(rest),
            (None, None) => {}
        }
    }
    out.into_iter().map(|(d, s)| (d, unescape(&s))).collect()
}

pub fn unescape(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match (c, c == '\\') {
            (_, true) => match chars.next() {
                Some('r') => out.push(b'\r'),
                Some('n') => out.push(b'\n'),
                Some('\\') => out.push(b'\\'),
                Some(o) => out.extend(format!("\\{o}").bytes()),
                None => out.push(b'\\'),
            },
            (c, false) => out.extend(c.to_string().bytes()),
        }
    }
    out
}

