//! The `slipway` binary end to end, against the test environment's real parts.

use slipway_app::keychain::Keychain;
use slipway_app::{Options, Slipway};
use slipway_core::connections::ConnectionKind;
use slipway_core::secrets::SecretStore;
use slipway_testkit::env;
use std::path::Path;
use std::process::Command;

mod common;
use common::{slipway, text};

struct SandboxDown<'a>(&'a Path);
impl Drop for SandboxDown<'_> {
    fn drop(&mut self) {
        slipway(self.0, &["sandbox", "down"], None);
    }
}

#[test]
fn doctor_json_reports_every_connection() {
    let d = slipway_testkit::data_dir();
    std::env::set_var("KUBECONFIG", env("SLIPWAY_TEST_KUBECONFIG"));
    let _down = SandboxDown(d.path());
    let o = slipway(d.path(), &["connect", "aws", "--sandbox"], None);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("account 123456789012"), "{}", text(&o));
    let o = slipway(d.path(), &["doctor", "--json"], None);
    assert!(o.status.success(), "{}", text(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let by_kind = |k: &str| report["connections"].as_array().unwrap().iter().find(|c| c["kind"] == k).unwrap().clone();
    assert_eq!(by_kind("aws")["state"], "connected");
    assert_eq!(by_kind("aws")["identity"]["account"], "123456789012");
    assert!(by_kind("aws")["identity"]["endpoint"].as_str().unwrap().starts_with("http://127.0.0.1:"));
    assert_eq!(by_kind("github")["state"], "notConfigured");
    assert_eq!(by_kind("registry")["state"], "notConfigured");
    assert_eq!(by_kind("docker")["state"], "connected");
    assert_eq!(by_kind("kubernetes")["state"], "connected");
    assert_eq!(by_kind("kubernetes")["identity"]["context"], "slipway-test");
    assert_eq!(report["sandbox"]["status"], "running");
    // The version of a store this build migrates to, read from a fresh store beside it.
    let fresh = slipway_testkit::data_dir();
    let latest = tokio::runtime::Runtime::new().unwrap().block_on(slipway_core::store::Store::open(fresh.path()).unwrap().schema_version()).unwrap();
    assert!(latest >= 3, "{latest}");
    assert_eq!(report["storeSchemaVersion"], latest);
}

#[test]
fn no_secret_reaches_the_store_the_logs_or_the_events() {
    let moto = env("SLIPWAY_TEST_MOTO_URL");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let gh = rt.block_on(slipway_testkit::github_stand_in("ghp_SLIPWAYSECRETgithub000000001", "octocat"));
    let d = slipway_testkit::data_dir();
    let aws_secret = "SLIPWAYSECRETaws/K7MDENG/bPxRfiCY0000001";
    let reg_secret = env("SLIPWAY_TEST_REGISTRY_PASSWORD");
    let mut all_output = String::new();

    let o = slipway(d.path(), &["connect", "aws", "--access-key-id", "AKIAIOSFODNN7EXAMPLE", "--endpoint", &moto], Some(aws_secret));
    assert!(o.status.success(), "{}", text(&o));
    all_output += &text(&o);
    let o = slipway(d.path(), &["connect", "github", "--token-stdin", "--base-url", &gh.uri()], Some("ghp_SLIPWAYSECRETgithub000000001\n"));
    assert!(o.status.success(), "{}", text(&o));
    all_output += &text(&o);
    let o = slipway(
        d.path(),
        &["connect", "registry", &env("SLIPWAY_TEST_REGISTRY"), "--username", &env("SLIPWAY_TEST_REGISTRY_USER"), "--password-stdin"],
        Some(&reg_secret),
    );
    assert!(o.status.success(), "{}", text(&o));
    all_output += &text(&o);
    // A refused attempt must not leak either.
    let o = slipway(d.path(), &["connect", "github", "--token-stdin", "--base-url", &gh.uri()], Some("ghp_SLIPWAYSECRETrefused00000002"));
    assert!(!o.status.success());
    all_output += &text(&o);
    for args in [&["doctor", "--json"][..], &["events", "--limit", "1000"][..]] {
        let o = slipway(d.path(), args, None);
        all_output += &text(&o);
    }
    assert!(all_output.contains("\"type\":\"connectionChecked\""), "the event log was read: {all_output}");

    let secrets = [aws_secret, "ghp_SLIPWAYSECRETgithub000000001", "ghp_SLIPWAYSECRETrefused00000002", reg_secret.as_str()];
    for s in secrets {
        assert!(!all_output.contains(s), "a secret reached the output or logs: {s}");
    }
    // Every file Slipway wrote (store, WAL, logs, sandbox): byte-level search.
    for entry in slipway_testkit::files_under(d.path()) {
        let bytes = std::fs::read(&entry).unwrap();
        for s in secrets {
            assert!(!bytes.windows(s.len()).any(|w| w == s.as_bytes()), "{s} found in {}", entry.display());
        }
    }
    // They went to the keychain instead.
    let app = rt.block_on(Slipway::open(Options { data_dir: Some(d.path().to_path_buf()), ..Default::default() })).unwrap();
    let got = Keychain.get(&app.secret_ref(ConnectionKind::Github)).unwrap().unwrap();
    assert_eq!(got.expose(), "ghp_SLIPWAYSECRETgithub000000001");
    assert!(Keychain.get(&app.secret_ref(ConnectionKind::Aws)).unwrap().unwrap().expose().contains(aws_secret));
    for k in ["aws", "github", "registry"] {
        assert!(slipway(d.path(), &["disconnect", k], None).status.success());
    }
}


#[test]
fn bad_input_gets_a_clear_error_and_stores_nothing() {
    let d = slipway_testkit::data_dir();
    let _down = SandboxDown(d.path());
    // No credential source chosen.
    let o = slipway(d.path(), &["connect", "aws"], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("choose where the AWS credentials come from"), "{}", text(&o));
    // An unknown region: refused, nothing stored.
    let o = slipway(d.path(), &["connect", "aws", "--sandbox", "--region", "xx-nowhere-9"], None);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("Unknown AWS region"), "{}", text(&o));
    // An unreachable endpoint.
    let ep = format!("http://127.0.0.1:{}", slipway_testkit::closed_port());
    let o = slipway(d.path(), &["connect", "aws", "--access-key-id", "AKIAIOSFODNN7EXAMPLE", "--endpoint", &ep], Some("x"));
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains(&format!("cannot reach {ep}")), "{}", text(&o));
    // A malformed token.
    let o = slipway(d.path(), &["connect", "github", "--token-stdin"], Some("ghp_has a space"));
    assert!(text(&o).contains("malformed"), "{}", text(&o));
    // A registry that is not there.
    let o = slipway(d.path(), &["connect", "registry", &format!("127.0.0.1:{}", slipway_testkit::closed_port()), "-u", "x", "--password-stdin"], Some("y"));
    assert!(text(&o).contains("cannot reach"), "{}", text(&o));
    let o = slipway(d.path(), &["doctor", "--json"], None);
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    for k in ["aws", "github", "registry"] {
        let c = report["connections"].as_array().unwrap().iter().find(|c| c["kind"] == k).unwrap();
        assert_eq!(c["state"], "notConfigured", "{k} was stored after bad input: {c}");
    }
}

#[test]
fn a_malformed_aws_config_names_the_line() {
    let d = slipway_testkit::data_dir();
    let cfg = d.path().join("aws-config");
    std::fs::write(&cfg, "[default]\nregion = us-east-1\n[profile oops\n").unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_slipway"))
        .args(["--data-dir"])
        .arg(d.path())
        .arg("profiles")
        .env("AWS_CONFIG_FILE", &cfg)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let t = text(&o);
    assert!(t.contains("malformed at line 3"), "{t}");
    assert!(t.contains("next: Fix line 3"), "{t}");
}

/// `slipway doctor --json | head -c1`, `slipway --help | head -c1`, ... : the reader goes
/// away before the output is written. The CLI ends quietly, as `ls | head` does: exit 0, no
/// panic, no backtrace (even with RUST_BACKTRACE set).
#[test]
fn a_closed_pipe_ends_the_cli_quietly() {
    let d = slipway_testkit::data_dir();
    let mut tried = 0;
    for args in [&["doctor", "--json"][..], &["doctor"], &["settings", "--json"], &["--help"]] {
        let mut c = common::command(d.path(), args);
        c.env("RUST_BACKTRACE", "1").env("DOCKER_HOST", "unix:///nonexistent.sock").env_remove("KUBECONFIG");
        let mut child = c.spawn().unwrap();
        drop(child.stdout.take()); // the reader is gone before anything is written
        drop(child.stdin.take());
        let o = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!err.contains("panicked") && !err.contains("Broken pipe") && !err.contains("stack backtrace"), "{args:?}: {err}");
        assert_eq!(o.status.code(), Some(0), "{args:?}: {err}");
        tried += 1;
    }
    // Through a real pipe to `head -c1` too.
    let bin = env!("CARGO_BIN_EXE_slipway");
    let o = Command::new("bash")
        .arg("-c")
        .arg(format!("set -o pipefail; '{bin}' --data-dir '{}' doctor --json 2>err.txt | head -c1; echo \" ${{PIPESTATUS[0]}}\"; cat err.txt", d.path().display()))
        .current_dir(d.path())
        .env("RUST_BACKTRACE", "1")
        .env("DOCKER_HOST", "unix:///nonexistent.sock")
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    // head got the first byte; slipway ended with doctor's own status (0, or 1 for a failed
    // check), never 101 (a panic) or a word about the pipe.
    assert!(out.starts_with("{ 0") || out.starts_with("{ 1"), "{out}");
    assert!(!out.contains("panicked") && !out.contains("Broken pipe") && !out.contains("backtrace"), "{out}");
    println!("commands whose reader went away: {}, each ended quietly", tried + 1);
}

/// A `slipway` command as on a server with no D-Bus session at all (no Secret Service).
fn headless(data: &Path, args: &[&str]) -> Command {
    let mut c = common::command(data, args);
    c.env_remove("DBUS_SESSION_BUS_ADDRESS").env_remove("DISPLAY").env_remove("WAYLAND_DISPLAY").env_remove("SLIPWAY_SECRET_STORE");
    c
}

#[test]
fn without_a_keychain_doctor_says_so_and_the_file_store_is_an_explicit_choice() {
    let d = slipway_testkit::data_dir();
    let o = common::run(headless(d.path(), &["doctor"]), None);
    assert!(!o.status.success(), "a keychain that cannot be used fails doctor:\n{}", text(&o));
    let out = text(&o);
    assert!(out.contains("[FAIL] secrets") && out.contains("keychain store"), "{out}");
    assert!(out.contains("slipway settings set secret-store file"), "the fix names the choice:\n{out}");
    assert!(!d.path().join("secrets.json").exists(), "never chosen silently");

    let o = common::run(headless(d.path(), &["settings", "set", "secret-store", "sideways"]), None);
    assert!(!o.status.success() && text(&o).contains("'sideways' is not a secret store"), "{}", text(&o));

    let o = common::run(headless(d.path(), &["settings", "set", "secret-store", "file"]), None);
    assert!(o.status.success(), "{}", text(&o));
    let o = common::run(headless(d.path(), &["doctor", "--json"]), None);
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|_| panic!("{}", text(&o)));
    assert_eq!(report["secrets"]["kind"], "file", "{report}");
    assert_eq!(report["secrets"]["ok"], true, "{report}");
    assert!(report["secrets"]["warning"].as_str().unwrap().contains("not encrypted"), "{report}");

    // A secret entered on this machine lands in the file, never in the store.
    let c = headless(d.path(), &["connect", "registry", &env("SLIPWAY_TEST_REGISTRY"), "-u", &env("SLIPWAY_TEST_REGISTRY_USER"), "--password-stdin"]);
    let o = common::run(c, Some(&env("SLIPWAY_TEST_REGISTRY_PASSWORD")));
    assert!(o.status.success(), "{}", text(&o));
    let file = std::fs::read_to_string(d.path().join("secrets.json")).unwrap();
    assert!(file.contains(&env("SLIPWAY_TEST_REGISTRY_PASSWORD")), "the registry password is kept in the file");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(d.path().join("secrets.json")).unwrap().permissions().mode() & 0o777, 0o600);
    }
    for f in slipway_testkit::files_under(d.path()) {
        if f.file_name().is_some_and(|n| n == "secrets.json") {
            continue;
        }
        let bytes = std::fs::read(&f).unwrap_or_default();
        assert!(!String::from_utf8_lossy(&bytes).contains(&env("SLIPWAY_TEST_REGISTRY_PASSWORD")), "secret in {}", f.display());
    }
    // The variable overrides the setting (for CI), and a wrong value is refused.
    let mut c = headless(d.path(), &["doctor"]);
    c.env("SLIPWAY_SECRET_STORE", "keychian");
    let o = common::run(c, None);
    assert!(!o.status.success() && text(&o).contains("SLIPWAY_SECRET_STORE is 'keychian'"), "{}", text(&o));
}

#[test]
fn apply_without_a_working_keychain_stops_before_creating_anything() {
    let d = slipway_testkit::data_dir();
    let _down = SandboxDown(d.path());
    let o = slipway(d.path(), &["connect", "aws", "--sandbox"], None);
    assert!(o.status.success(), "{}", text(&o));
    let o = common::run(headless(d.path(), &["apply"]), None);
    assert!(!o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("keychain") && out.contains("secret-store file"), "{out}");
    // Nothing was created: the plan still creates everything.
    let o = slipway(d.path(), &["plan", "--json"], None);
    assert!(o.status.success(), "{}", text(&o));
    let plan: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let changes = plan["changes"].as_array().unwrap();
    assert!(!changes.is_empty() && changes.iter().all(|c| c["action"] == "create"), "{plan}");
}
