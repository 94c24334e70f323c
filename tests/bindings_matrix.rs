//! The hostile-server matrix of the Python and Go bindings, run by `cargo
//! test` against the library and simulator of this build (their whole test
//! suites run in `make test`). Python with pytest and Go are needed: a
//! missing one fails with what to install, unless AMI_SKIP_BINDINGS=1 says
//! to leave the bindings out (and the test then says it did).

mod common;

use std::path::PathBuf;
use std::process::Command;

fn skipped(what: &str) -> bool {
    if std::env::var("AMI_SKIP_BINDINGS").as_deref() == Ok("1") {
        println!("AMI_SKIP_BINDINGS=1: the {what} matrix is not run");
        return true;
    }
    false
}

fn run(mut cmd: Command, what: &str, install: &str) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: cannot run ({e}): {install}, or set AMI_SKIP_BINDINGS=1"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{what}:\n{stdout}");
    assert!(out.status.success(), "{what} failed:\n{stdout}\n{stderr}");
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn python_against_every_hostile_server() {
    if skipped("Python") {
        return;
    }
    let lib = common::cdylib_dir().join("libami.so");
    let mut cmd = Command::new("python3");
    cmd.current_dir(root().join("bindings/python"))
        .args(["-m", "pytest", "-q", "tests", "-k", "hostile"])
        .env("AMI_LIBRARY", &lib)
        .env("AMI_SIM", env!("CARGO_BIN_EXE_ami-sim"));
    run(cmd, "pytest -k hostile", "install python3 and pytest (python3 -m pip install pytest)");
}

#[test]
fn go_against_every_hostile_server() {
    if skipped("Go") {
        return;
    }
    let dir = common::cdylib_dir();
    let d = dir.display();
    let mut cmd = Command::new("go");
    cmd.current_dir(root().join("bindings/go"))
        .args(["test", "-tags", "ami_checkout", "-count=1", "-run", "TestHostileServers", "."])
        .env("CGO_LDFLAGS", format!("-L{d} -Wl,-rpath,{d}"))
        .env("LD_LIBRARY_PATH", &dir)
        .env("AMI_SIM", env!("CARGO_BIN_EXE_ami-sim"));
    run(cmd, "go test -run TestHostileServers", "install Go (apt-get install golang-go)");
}
