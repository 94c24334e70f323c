//! Builds the C tests in tests/c with the system C compiler, under
//! AddressSanitizer and UndefinedBehaviorSanitizer, against the freshly built
//! libami.so, and runs them against ami-sim. Each prints `N passed, M failed`.

mod common;

fn build_and_run(name: &str) {
    let exe = common::build_c(name);
    let out = common::sanitized(&exe).output().unwrap();
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

#[test]
fn c_log_callback_levels_wire_and_masked_secret() {
    build_and_run("test_log");
}

#[test]
fn both_c_apis_against_every_hostile_server() {
    build_and_run("test_hostile");
}
