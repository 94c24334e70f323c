//! Link settings of the shared library.

use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("linux") {
        return;
    }
    // The classic libami's SONAME (libtool 1:0:0), so that programs compiled
    // against it run with this library in its place (../shared/LIBAMI.md).
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libami.so.1");
    // A program linked with `-L target/<profile> -lami` asks the loader for
    // libami.so.1: give it one beside libami.so (OUT_DIR is
    // target/<profile>/build/ami-<hash>/out).
    if let Some(profile_dir) = std::env::var_os("OUT_DIR").as_deref().map(Path::new).and_then(|p| p.ancestors().nth(3)) {
        let link = profile_dir.join("libami.so.1");
        if std::fs::symlink_metadata(&link).is_err() {
            let _ = std::os::unix::fs::symlink("libami.so", &link);
        }
    }
}
