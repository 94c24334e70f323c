//! The committed headers must be what cbindgen generates from the sources
//! now. After a change to the C API, regenerate them with
//! `AMI_UPDATE_HEADERS=1 cargo test --test headers` and commit the result.

use std::path::PathBuf;

fn generate(config: &str) -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(root.join(config)).expect("read cbindgen config");
    let bindings = cbindgen::Builder::new()
        .with_crate(&root)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header");
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).unwrap()
}

fn check(config: &str, header: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(header);
    let fresh = generate(config);
    if std::env::var_os("AMI_UPDATE_HEADERS").is_some() {
        std::fs::write(&path, &fresh).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "{header} differs from what cbindgen generates: run AMI_UPDATE_HEADERS=1 cargo test --test headers"
    );
}

#[test]
fn ami_h_is_fresh() {
    check("cbindgen.toml", "include/ami.h");
}

#[test]
fn the_header_has_the_fixed_contract() {
    let h = std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("include/ami.h")).unwrap();
    for needle in [
        "#ifndef AMI_H",
        "extern \"C\"",
        "AMI_OK = 0",
        "AMI_EDEADLOCK = 10",
        "AMI_EINTERNAL = 99",
        "AMI_STATE_CLOSED = 5",
        "typedef struct ami_client ami_client;",
        "typedef void (*ami_event_cb)(const struct ami_message *event, void *userdata);",
        "int ami_client_send(struct ami_client *c,",
        "uint64_t ami_client_subscribe(",
    ] {
        assert!(h.contains(needle), "include/ami.h lacks {needle:?}");
    }
}
