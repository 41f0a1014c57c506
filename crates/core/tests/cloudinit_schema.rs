//! The VMs' cloud-init documents, checked by cloud-init itself against its cloud-config schema
//! (Debian's `cloud-init` package, installed by scripts/install.sh).

use slipway_core::provision::cloudinit;
use std::process::Command;

fn validate(doc: &str) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("user-data.yaml");
    std::fs::write(&path, doc).unwrap();
    let out = Command::new("cloud-init")
        .args(["schema", "--config-file"])
        .arg(&path)
        .output()
        .unwrap_or_else(|e| panic!("cloud-init could not be run ({e}): run scripts/install.sh, which installs Debian's cloud-init"));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success() && text.contains("Valid cloud-config"), text)
}

#[test]
fn the_vm_documents_match_the_cloud_config_schema() {
    for (name, doc) in [("CI VM", cloudinit::ci_vm()), ("test VM", cloudinit::test_vm())] {
        let (ok, text) = validate(&doc);
        assert!(ok, "{name} user data is not valid cloud-config:\n{text}\n{doc}");
    }
}

#[test]
fn the_validator_rejects_a_broken_document() {
    let (ok, text) = validate("#cloud-config\npackages: 5\nruncmd: {not: a list}\n");
    assert!(!ok, "a broken document passed: {text}");
    assert!(text.contains("packages"), "{text}");
}
