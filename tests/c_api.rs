//! Builds the C tests in tests/c with the system C compiler, under
//! AddressSanitizer and UndefinedBehaviorSanitizer, against the freshly built
//! libami.so, and runs them against ami-sim. Each prints `N passed, M failed`.

mod common;

use std::path::PathBuf;
use std::process::Command;

fn build_and_run(name: &str) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let lib = common::cdylib_dir();
    let out_dir = lib.join("c-tests");
    std::fs::create_dir_all(&out_dir).unwrap();
    let exe = out_dir.join(name);
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let status = Command::new(&cc)
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-g", "-O1"])
        .args(["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-fno-sanitize-recover=all"])
        .arg("-I").arg(root.join("include"))
        .arg("-I").arg(root.join("tests/c"))
        .arg(root.join("tests/c").join(format!("{name}.c")))
        .arg("-L").arg(&lib)
        .arg(format!("-Wl,-rpath,{}", lib.display()))
        .args(["-lami", "-lpthread", "-o"])
        .arg(&exe)
        .status()
        .unwrap_or_else(|e| panic!("cannot run the C compiler {cc:?}: {e}"));
    assert!(status.success(), "{name}.c did not compile");
    let out = Command::new(&exe)
        .env("AMI_SIM", env!("CARGO_BIN_EXE_ami-sim"))
        .env("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0:exitcode=86")
        .env("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{name}: {stdout}");
    assert!(
        out.status.success() && stdout.contains(" passed, 0 failed") && !stderr.contains("Sanitizer"),
        "{name} failed ({:?}):\n{stdout}\n{stderr}",
        out.status
    );
}

#[test]
fn c_api_every_function_and_error() {
    build_and_run("test_api");
}

#[test]
fn c_api_eight_threads_share_one_client() {
    build_and_run("test_threads");
}

#[test]
fn classic_libami_api_every_function() {
    build_and_run("test_libami");
}
