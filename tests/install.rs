//! `make install PREFIX=...` lays out what C users expect, and a program
//! built against the installed tree runs against ami-sim.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn lib_dir() -> PathBuf {
    common::cdylib_dir()
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// An empty directory of this name beside the built library.
fn fresh_dir(name: &str) -> PathBuf {
    let dir = lib_dir().join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `make install` into a fresh prefix of this name (one per test: they run in parallel).
fn install(name: &str) -> PathBuf {
    let prefix = lib_dir().join(name);
    let _ = std::fs::remove_dir_all(&prefix);
    let status = Command::new("make")
        .current_dir(root())
        .arg("install")
        .arg(format!("PREFIX={}", prefix.display()))
        .arg(format!("BUILD_DIR={}", lib_dir().display()))
        .arg("CARGO_BUILD=true") // common::cdylib_dir built the library already
        .status()
        .expect("run make");
    assert!(status.success());
    prefix
}

fn run(cmd: &mut Command, what: &str) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{what} failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

#[test]
fn make_install_layout_and_a_program_linked_against_it() {
    let prefix = install("install-test");
    let lib = prefix.join("lib");
    assert_eq!(std::fs::read_link(lib.join("libami.so")).unwrap(), Path::new("libami.so.1"));
    assert_eq!(std::fs::read_link(lib.join("libami.so.1")).unwrap(), Path::new("libami.so.1.0.0"));
    let classic = ["ami", "core", "manager", "admin", "channel", "info"].map(|h| format!("include/ami/{h}.h"));
    for f in ["lib/libami.so.1.0.0", "lib/libami.a", "include/ami.h", "lib/pkgconfig/ami.pc", "lib/cmake/ami/amiConfig.cmake"]
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

/// The Go module, as a Go user's program gets it: built outside the
/// checkout, linked through `#cgo pkg-config: ami` against the prefix.
#[test]
fn go_program_outside_the_checkout_links_through_pkg_config() {
    if std::env::var("AMI_SKIP_BINDINGS").as_deref() == Ok("1") {
        println!("AMI_SKIP_BINDINGS=1: the Go install test is not run");
        return;
    }
    let prefix = install("install-go");
    let app = fresh_dir("install-go-app");
    let module = "github.com/libami-rs/libami-rs/bindings/go";
    std::fs::write(
        app.join("go.mod"),
        format!("module example.com/pingapp\n\ngo 1.21\n\nrequire {module} v0.0.0\n\nreplace {module} => {}\n", root().join("bindings/go").display()),
    )
    .unwrap();
    std::fs::write(
        app.join("main.go"),
        r#"package main

import (
	"context"
	"fmt"
	"os"

	ami "github.com/libami-rs/libami-rs/bindings/go"
)

func main() {
	c, err := ami.Dial(context.Background(), os.Args[1], ami.WithLogin("admin", "admin"))
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	defer c.Close()
	pong, err := c.Action(context.Background(), "Ping")
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	fmt.Println(pong.Get("Ping"))
}
"#,
    )
    .unwrap();
    let exe = app.join("pingapp");
    let lib = prefix.join("lib");
    let mut build = Command::new("go");
    build
        .current_dir(&app)
        .args(["build", "-mod=mod", "-o"])
        .arg(&exe)
        .arg(".")
        .env("PKG_CONFIG_PATH", lib.join("pkgconfig"))
        .env_remove("CGO_LDFLAGS")
        .env_remove("CGO_CFLAGS")
        .env("GOFLAGS", "-mod=mod");
    if build.output().is_err() {
        panic!("Go is needed for this test: apt-get install golang-go, or set AMI_SKIP_BINDINGS=1");
    }
    run(&mut build, "go build against the installed prefix");
    let sim = common::Sim::default();
    let out = run(Command::new(&exe).arg(format!("127.0.0.1:{}", sim.port)).env("LD_LIBRARY_PATH", &lib), "the Go program");
    assert_eq!(out.trim(), "Pong");
}

/// `find_package(ami)` in a CMake project against the prefix, target ami::ami.
#[test]
fn cmake_find_package_gives_the_ami_target() {
    if Command::new("cmake").arg("--version").output().is_err() {
        println!("SKIPPED: cmake is missing (apt-get install cmake); .ci/run installs it");
        return;
    }
    let prefix = install("install-cmake");
    let project = fresh_dir("install-cmake-project");
    std::fs::write(
        project.join("CMakeLists.txt"),
        "cmake_minimum_required(VERSION 3.13)\nproject(pingapp C)\nfind_package(ami 0.1 REQUIRED)\n\
         add_executable(pingapp main.c)\ntarget_link_libraries(pingapp PRIVATE ami::ami)\n\
         add_executable(pingapp_static main.c)\ntarget_link_libraries(pingapp_static PRIVATE ami::ami_static)\n",
    )
    .unwrap();
    std::fs::write(
        project.join("main.c"),
        r#"#include <ami.h>
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
    ami_client *c = ami_client_new(NULL);
    ami_message *r = NULL;
    if (argc < 2 || ami_client_connect(c, "127.0.0.1", (uint16_t)atoi(argv[1])) != AMI_OK) return 1;
    if (ami_client_login(c, "admin", "admin") != AMI_OK) return 2;
    if (ami_client_action(c, "Ping", NULL, &r, -1) != AMI_OK) return 3;
    puts(ami_message_get(r, "Ping"));
    ami_message_free(r);
    ami_client_free(c);
    return 0;
}
"#,
    )
    .unwrap();
    let build = project.join("build");
    run(
        Command::new("cmake")
            .arg("-S")
            .arg(&project)
            .arg("-B")
            .arg(&build)
            .arg(format!("-DCMAKE_PREFIX_PATH={}", prefix.display())),
        "cmake configure",
    );
    run(Command::new("cmake").arg("--build").arg(&build), "cmake build");
    let sim = common::Sim::default();
    for exe in ["pingapp", "pingapp_static"] {
        let out = run(Command::new(build.join(exe)).arg(sim.port.to_string()), exe);
        assert_eq!(out.trim(), "Pong", "{exe}");
    }
    // A version it cannot give is refused.
    std::fs::write(project.join("CMakeLists.txt"), "cmake_minimum_required(VERSION 3.13)\nproject(p C)\nfind_package(ami 2.0 REQUIRED)\n").unwrap();
    let refused = Command::new("cmake")
        .arg("-S")
        .arg(&project)
        .arg("-B")
        .arg(project.join("build2"))
        .arg(format!("-DCMAKE_PREFIX_PATH={}", prefix.display()))
        .output()
        .unwrap();
    assert!(!refused.status.success());
}
