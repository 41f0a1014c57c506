//! What can be checked here of the macOS and Windows builds. Only the Linux target is installed
//! on these machines (rustup cannot download others), so nothing is compiled for them; cargo
//! still resolves the dependency graph for any target, which shows the keychain store each OS
//! gets. Unix-only code is kept behind `cfg(unix)` by review (see README: "Other OSes").

use std::process::Command;

/// The keyring features cargo enables for `target`.
fn keyring_features(target: &str) -> String {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let o = Command::new(env!("CARGO"))
        .current_dir(root)
        .args(["tree", "--locked", "-p", "slipway-app", "-e", "features", "-i", "keyring", "--target", target])
        .output()
        .expect("cargo runs");
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success(), "cargo tree for {target}: {}{text}", String::from_utf8_lossy(&o.stderr));
    text
}

#[test]
fn each_os_gets_its_own_keychain_store_never_the_mock() {
    for (target, store) in [
        ("x86_64-unknown-linux-gnu", "sync-secret-service"),
        ("aarch64-apple-darwin", "apple-native"),
        ("x86_64-apple-darwin", "apple-native"),
        ("x86_64-pc-windows-msvc", "windows-native"),
    ] {
        let tree = keyring_features(target);
        assert!(tree.contains(&format!("keyring feature \"{store}\"")), "{target} has no {store}:\n{tree}");
        for other in ["sync-secret-service", "apple-native", "windows-native"].iter().filter(|o| **o != store) {
            assert!(!tree.contains(&format!("keyring feature \"{other}\"")), "{target} also builds {other}:\n{tree}");
        }
        println!("{target}: keyring with {store}");
    }
}
