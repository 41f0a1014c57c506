//! Data the UI's unit tests read, written from the Rust side the way ts-rs writes the types:
//! `cargo test -p slipway-core` writes `ui/src/bindings/fixtures/`, and `scripts/test.sh` fails
//! when what is committed there is stale (it checks all of `ui/src/bindings`). So the UI's tests
//! of its own view models use the real blueprint, never a TypeScript copy of it.

use slipway_core::provision::blueprint::Blueprint;
use std::path::PathBuf;

/// Writes `name` under `ui/src/bindings/fixtures/` when its content changed.
fn write(name: &str, value: &serde_json::Value) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/bindings/fixtures");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    let text = format!("{}\n", serde_json::to_string_pretty(value).unwrap());
    if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
        std::fs::write(&path, text).unwrap();
    }
}

#[test]
fn the_default_blueprint_and_its_resources() {
    let bp = Blueprint::default();
    let resources = bp.resources();
    assert_eq!(resources.len(), 17, "the UI's tests expect the default blueprint's 17 resources");
    // The opt-in parts turned on (the VMs, their security groups and key pair): 22 resources.
    let all = Blueprint { ci_vm: true, test_vm: true, ..bp.clone() };
    let all_resources = all.resources();
    assert_eq!(all_resources.len(), 22);
    write(
        "default-blueprint.json",
        &serde_json::json!({ "blueprint": bp, "resources": resources, "optIns": bp.opt_ins(), "allResources": all_resources }),
    );
}
