//! `slipway insights` and `slipway audit` as a user types them, after a real run, two deploys
//! on the test environment's Kubernetes control plane and a rollback with a reason: the JSON is
//! what the service layer (and so the Insights page) answers, the text names the bands, the
//! audit trail comes out as CSV and JSON, and bad input is refused with what / why / next.

mod common;
use common::*;

use slipway_testkit::env;
use std::process::Command as Cmd;

struct DeleteNamespace(String);
impl Drop for DeleteNamespace {
    fn drop(&mut self) {
        let _ = Cmd::new(env("SLIPWAY_TEST_KUBECTL"))
            .args(["--kubeconfig", &env("SLIPWAY_TEST_KUBECONFIG"), "delete", "namespace", &self.0, "--wait=false", "--ignore-not-found"])
            .output();
    }
}

fn ok(o: &std::process::Output) -> String {
    let t = text(o);
    assert!(o.status.success(), "{t}");
    t
}

fn stdout_json(o: &std::process::Output) -> serde_json::Value {
    assert!(o.status.success(), "{}", text(o));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stdout)))
}

#[test]
fn insights_and_audit_after_deploys_and_a_rollback() {
    env("DOCKER_HOST");
    let data = slipway_testkit::data_dir();
    let d = data.path();
    let repo = slipway_testkit::web_repo();
    let id = format!("icli-{}", slipway_core::secrets::random_hex(3));
    let _ns = DeleteNamespace(id.clone());
    ok(&slipway(d, &["project", "add", repo.path().to_str().unwrap(), "--id", &id], None));
    let kc = env("SLIPWAY_TEST_KUBECONFIG");
    ok(&slipway(d, &["env", "set", "live", "--kubeconfig", &kc, "--namespace", &id, "--progress-deadline", "90"], None));

    // Before any deploy: the environment is there with nothing to measure.
    let before = stdout_json(&slipway(d, &["insights", "--json", "--days", "7"], None));
    assert_eq!(before["environments"][0]["deploymentFrequency"]["deploys"], 0);
    assert!(before["environments"][0]["deploymentFrequency"]["band"].is_null());

    ok(&slipway(d, &["run", "--until", "build"], None));
    ok(&slipway(d, &["deploy"], None));
    std::fs::write(repo.path().join("web/VERSION"), "b\n").unwrap();
    slipway_testkit::commit_all(repo.path(), "release B");
    ok(&slipway(d, &["run", "--until", "build"], None));
    ok(&slipway(d, &["deploy"], None));
    ok(&slipway(d, &["rollback", "--reason", "B is slow"], None));

    // --json: the measures, and the same as the service layer answers the page.
    let j = stdout_json(&slipway(d, &["insights", "--project", &id, "--env", "live", "--days", "7", "--json"], None));
    let e = &j["environments"][0];
    assert_eq!((e["project"].as_str(), e["environment"].as_str(), e["days"].as_u64()), (Some(id.as_str()), Some("live"), Some(7)));
    assert_eq!(e["deploymentFrequency"]["deploys"], 2);
    assert_eq!(e["deploymentFrequency"]["band"], "high");
    assert_eq!(e["leadTime"]["changes"], 2);
    assert_eq!(e["leadTime"]["band"], "elite");
    assert_eq!((e["changeFailureRate"]["deploys"].as_u64(), e["changeFailureRate"]["failed"].as_u64()), (Some(2), Some(1)));
    assert_eq!(e["changeFailureRate"]["rate"], 0.5);
    assert_eq!(e["changeFailureRate"]["band"], "low");
    assert_eq!(e["timeToRestore"]["restores"], 1);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let page = rt.block_on(async {
        let app = slipway_app::Slipway::open(slipway_app::Options { data_dir: Some(d.to_path_buf()), ..Default::default() }).await.unwrap();
        app.insights(Some(&id), Some("live"), Some(7)).await.unwrap()
    });
    let mut cli: slipway_core::insights::Insights = serde_json::from_value(j.clone()).unwrap();
    // Only "now" differs between two calls: the window's end and what it moves.
    cli.generated_at = page.generated_at;
    for (c, p) in cli.environments.iter_mut().zip(&page.environments) {
        (c.from, c.to) = (p.from, p.to);
    }
    assert_eq!(cli, page, "the CLI's JSON is what the page gets");

    // Text: each measure with its band, and the week.
    let t = ok(&slipway(d, &["insights", "--project", &id, "--days", "7"], None));
    assert!(t.contains(&format!("{id} / live: the last 7 days")), "{t}");
    assert!(t.lines().any(|l| l.contains("Deployment frequency") && l.contains("2 deploys") && l.ends_with("high")), "{t}");
    assert!(t.lines().any(|l| l.contains("Change failure rate") && l.contains("50% (1 of 2 deploys)") && l.ends_with("low")), "{t}");
    assert!(t.contains("week of "), "{t}");

    // The audit trail: text, CSV (read back), JSON; filtered by action.
    let t = ok(&slipway(d, &["audit", "--project", &id, "--action", "rollback"], None));
    assert!(t.contains("rollback revision 3") && t.contains("(why: rollback to revision 1: B is slow)"), "{t}");
    let o = slipway(d, &["audit", "--project", &id, "--csv"], None);
    assert!(o.status.success(), "{}", text(&o));
    let mut r = csv::Reader::from_reader(&o.stdout[..]);
    assert_eq!(r.headers().unwrap().iter().collect::<Vec<_>>(), slipway_core::audit::CSV_HEADER);
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
    let actions: Vec<&str> = rows.iter().map(|r| &r[5]).collect();
    for a in ["run", "deploy", "rollback", "boardMove"] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
    let first_deploy = actions.iter().position(|a| *a == "deploy").unwrap();
    let first_rollback = actions.iter().position(|a| *a == "rollback").unwrap();
    assert!(first_deploy < first_rollback);
    let all = stdout_json(&slipway(d, &["audit", "--project", &id, "--json"], None));
    assert_eq!(all.as_array().unwrap().len(), rows.len());

    // Bad input.
    let o = slipway(d, &["insights", "--days", "400"], None);
    assert!(!o.status.success() && text(&o).contains("The window is not valid") && text(&o).contains("1 to 365"), "{}", text(&o));
    let o = slipway(d, &["insights", "--project", &id, "--env", "nowhere"], None);
    assert!(!o.status.success() && text(&o).contains("Environment not found") && text(&o).contains("it has live"), "{}", text(&o));
    let o = slipway(d, &["audit", "--by", "robots"], None);
    assert!(!o.status.success() && text(&o).contains("Unknown actor"), "{}", text(&o));
}
