//! `make install PREFIX=...` lays out what C users expect, and a program
//! built against the installed tree runs against ami-sim.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn lib_dir() -> PathBuf {
    common::cdylib_dir()
}

#[test]
fn make_install_layout_and_a_program_linked_against_it() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let prefix = lib_dir().join("install-test");
    let _ = std::fs::remove_dir_all(&prefix);
    let status = Command::new("make")
        .current_dir(&root)
        .arg("install")
        .arg(format!("PREFIX={}", prefix.display()))
        .arg(format!("BUILD_DIR={}", lib_dir().display()))
        .arg("CARGO_BUILD=true") // common::cdylib_dir built the library already
        .status()
        .expect("run make");
    assert!(status.success());
    let lib = prefix.join("lib");
    assert_eq!(std::fs::read_link(lib.join("libami.so")).unwrap(), Path::new("libami.so.1"));
    assert_eq!(std::fs::read_link(lib.join("libami.so.1")).unwrap(), Path::new("libami.so.1.0.0"));
    let classic = ["ami", "core", "manager", "admin", "channel", "info"].map(|h| format!("include/ami/{h}.h"));
    for f in ["lib/libami.so.1.0.0", "lib/libami.a", "include/ami.h", "lib/pkgconfig/ami.pc"]
        .into_iter()
        .chain(classic.iter().map(String::as_str))
    {
        assert!(prefix.join(f).is_file(), "{f} not installed");
    }
    let pc = std::fs::read_to_string(lib.join("pkgconfig/ami.pc")).unwrap();
    assert!(pc.contains(&format!("prefix={}", prefix.display())) && pc.contains("Libs: -L${libdir} -lami"));
    let readelf = Command::new("readelf").arg("-d").arg(lib.join("libami.so.1.0.0")).output();
    if let Ok(out) = readelf {
        assert!(String::from_utf8_lossy(&out.stdout).contains("Library soname: [libami.so.1]"));
    }
    let nm = Command::new("nm").args(["-D", "--defined-only"]).arg(lib.join("libami.so.1.0.0")).output();
    if let Ok(out) = nm {
        let text = String::from_utf8_lossy(&out.stdout);
        let foreign: Vec<_> = text
            .lines()
            .filter_map(|l| l.split_whitespace().nth(2))
            .filter(|s| !s.starts_with("ami_"))
            .collect();
        assert!(foreign.is_empty(), "exported symbols beyond ami_*: {foreign:?}");
    }

    // A program that only knows the installed tree.
    let src = lib_dir().join("install-test.c");
    std::fs::write(
        &src,
        r#"#include <ami.h>
#include <ami/ami.h>
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
    ami_client *c = ami_client_new(NULL);
    if (argc < 2 || ami_client_connect(c, "127.0.0.1", (uint16_t)atoi(argv[1])) != AMI_OK) return 1;
    if (ami_client_login(c, "admin", "admin") != AMI_OK) return 2;
    ami_message *r = NULL;
    if (ami_client_action(c, "Ping", NULL, &r, -1) != AMI_OK || !ami_message_is_success(r)) return 3;
    printf("%s\n", ami_message_get(r, "Ping"));
    ami_message_free(r);
    ami_client_free(c);
    return 0;
}
"#,
    )
    .unwrap();
    let exe = lib_dir().join("install-test-prog");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let built = Command::new(cc)
        .arg(&src)
        .arg(format!("-I{}", prefix.join("include").display()))
        .arg(format!("-L{}", lib.display()))
        .arg(format!("-Wl,-rpath,{}", lib.display()))
        .args(["-lami", "-o"])
        .arg(&exe)
        .status()
        .unwrap();
    assert!(built.success());
    let sim = common::Sim::default();
    let out = Command::new(&exe).arg(sim.port.to_string()).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "Pong");
}
