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

/// The argument lists of a document's `runcmd`, as cloud-init reads them.
fn runcmd(doc: &str) -> Vec<Vec<String>> {
    let v: serde_json::Value = serde_saphyr::from_str(doc).unwrap();
    v["runcmd"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_array().unwrap().iter().map(|a| a.as_str().unwrap_or_default().to_string()).collect())
        .collect()
}

#[test]
fn every_download_is_checked_against_its_sha256_before_it_is_installed() {
    // In the documents: no download without its checksum.
    let mut downloads = 0;
    for doc in [cloudinit::ci_vm(), cloudinit::test_vm()] {
        for c in runcmd(&doc) {
            let line = c.join(" ");
            if line.contains("curl") {
                downloads += 1;
                assert!(line.contains("sha256sum -c -"), "a download without a checksum: {line}");
                let sha = c.iter().find(|a| a.len() == 64 && a.bytes().all(|b| b.is_ascii_hexdigit()));
                assert!(sha.is_some(), "no SHA-256 in {line}");
            }
        }
    }
    assert_eq!(downloads, 3, "compose on both VMs, kubectl on the CI VM");
    assert!(cloudinit::ci_vm().contains(cloudinit::KUBECTL_SHA256) && cloudinit::test_vm().contains(cloudinit::COMPOSE_SHA256));

    // The command itself, run as cloud-init would run it, against file:// URLs.
    let d = tempfile::tempdir().unwrap();
    let good = d.path().join("tool");
    std::fs::write(&good, b"#!/bin/sh\necho the real tool\n").unwrap();
    let sha = String::from_utf8(Command::new("sha256sum").arg(&good).output().unwrap().stdout).unwrap()[..64].to_string();
    let run = |url: &str, dest: &std::path::Path| {
        let doc = format!("runcmd:\n{}", cloudinit::verified_download(url, &sha, dest.to_str().unwrap()));
        let c = runcmd(&doc).remove(0);
        Command::new(&c[0]).args(&c[1..]).output().unwrap()
    };
    let installed = d.path().join("bin-good");
    let o = run(&format!("file://{}", good.display()), &installed);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(std::fs::read(&installed).unwrap(), std::fs::read(&good).unwrap());
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&installed).unwrap().permissions().mode() & 0o777, 0o755);
    // A tampered download: refused, nothing installed, no partial file left.
    let evil = d.path().join("evil");
    std::fs::write(&evil, b"#!/bin/sh\necho something else\n").unwrap();
    let refused = d.path().join("bin-evil");
    let o = run(&format!("file://{}", evil.display()), &refused);
    assert!(!o.status.success(), "a file with another checksum was installed");
    assert!(!refused.exists() && !d.path().join("bin-evil.download").exists());
    println!("downloads in the VM documents: {downloads}, each checked; a tampered one was refused");
}
