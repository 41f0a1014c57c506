//! The generator on the real tree: the committed file is what the commands give, and a Rust
//! command renamed without the UI following it breaks the UI's typecheck.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

#[test]
fn every_registered_command_is_generated_and_the_committed_file_is_current() {
    let root = root();
    let commands = slipway_bindgen::read_commands(&root).unwrap_or_else(|e| panic!("{e}"));
    let mod_rs = std::fs::read_to_string(root.join("src-tauri/src/commands/mod.rs")).unwrap();
    let registered = mod_rs
        .lines()
        .filter(|l| l.trim_start().split("::").count() == 2 && l.trim_end().ends_with(','))
        .count();
    assert_eq!(
        commands.len(),
        registered,
        "one generated function per generate_handler! entry"
    );
    let text = slipway_bindgen::render(&commands);
    let committed = std::fs::read_to_string(root.join(slipway_bindgen::OUTPUT)).unwrap_or_default();
    assert!(
        committed == text,
        "{} is stale: run `cargo run -p slipway-bindgen` and commit it",
        slipway_bindgen::OUTPUT
    );
}

/// Copies what the UI's typecheck reads (ui/ without its build outputs, node_modules linked) and
/// the commands into `to`.
fn copy_tree(from: &Path, to: &Path) {
    fn copy_dir(from: &Path, to: &Path, skip: &[&str]) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            let name = e.file_name();
            if skip.iter().any(|s| name == *s) {
                continue;
            }
            let (src, dst) = (e.path(), to.join(&name));
            if e.file_type().unwrap().is_dir() {
                copy_dir(&src, &dst, &[]);
            } else {
                std::fs::copy(&src, &dst).unwrap();
            }
        }
    }
    copy_dir(
        &from.join("src-tauri/src/commands"),
        &to.join("src-tauri/src/commands"),
        &[],
    );
    copy_dir(
        &from.join("ui"),
        &to.join("ui"),
        &["node_modules", "dist", "dist-mock"],
    );
    std::os::unix::fs::symlink(from.join("ui/node_modules"), to.join("ui/node_modules")).unwrap();
}

#[test]
fn a_renamed_rust_command_breaks_the_ui_typecheck_naming_the_missing_function() {
    let root = root();
    assert!(
        root.join("ui/node_modules/.bin/tsc").exists(),
        "this test runs the UI's typecheck: run `npm ci` in ui/ first"
    );
    let tmp = tempfile::tempdir().unwrap();
    copy_tree(&root, tmp.path());
    // The rename a developer makes in Rust: the function and its generate_handler! entry.
    for (file, from, to) in [
        (
            "connect.rs",
            "pub async fn connect_aws(",
            "pub async fn connect_amazon(",
        ),
        (
            "mod.rs",
            "connect::connect_aws,",
            "connect::connect_amazon,",
        ),
    ] {
        let p = tmp.path().join("src-tauri/src/commands").join(file);
        let text = std::fs::read_to_string(&p).unwrap();
        assert_eq!(text.matches(from).count(), 1, "{from} in {file}");
        std::fs::write(&p, text.replace(from, to)).unwrap();
    }
    let generated = slipway_bindgen::generate(tmp.path()).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        generated.contains("connectAmazon: (input: AwsConnectInput)")
            && !generated.contains("connectAws")
    );
    std::fs::write(tmp.path().join(slipway_bindgen::OUTPUT), generated).unwrap();

    let out = Command::new("npm")
        .args(["run", "--silent", "typecheck"])
        .current_dir(tmp.path().join("ui"))
        .output()
        .expect("npm runs");
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !out.status.success(),
        "the typecheck passed after the rename:\n{log}"
    );
    assert!(
        log.contains("Property 'connectAws' does not exist"),
        "the missing function is not named:\n{log}"
    );
    // Every error is the rename's (the copy is otherwise the tree that typechecks).
    let errors: Vec<&str> = log.lines().filter(|l| l.contains("error TS")).collect();
    assert!(!errors.is_empty());
    for e in &errors {
        assert!(
            e.contains("connectAws") || e.contains("connect_aws") || e.contains("connect_amazon"),
            "an error that is not the rename's: {e}\n{log}"
        );
    }
}
