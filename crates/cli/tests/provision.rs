//! `slipway plan|apply|destroy|refresh` against the AWS emulator through the fault proxy, each
//! test in a moto account of its own (so tests never see each other's resources).

use serde_json::{json, Value};
use slipway_testkit::env;
use std::io::{BufRead, BufReader};
use std::path::Path;

mod common;
use common::{command, slipway, text};

struct Account {
    id: String,
    data: tempfile::TempDir,
    rt: tokio::runtime::Runtime,
}

fn random_account() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    format!("{:012}", h.finish() % 1_000_000_000_000).replace(|c: char| !c.is_ascii_digit(), "0")
}

impl Account {
    /// A fresh data folder connected with static keys to the proxy, in a new moto account.
    fn new() -> Self {
        let a = Account { id: random_account(), data: slipway_testkit::data_dir(), rt: tokio::runtime::Runtime::new().unwrap() };
        let mut c = command(a.dir(), &["connect", "aws", "--access-key-id", "AKIAIOSFODNN7EXAMPLE", "--endpoint", &env("SLIPWAY_TEST_PROXY_URL")]);
        c.env("SLIPWAY_AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
        let o = common::run(c, None);
        assert!(o.status.success(), "{}", text(&o));
        a.proxy_delete("rules");
        a
    }

    fn dir(&self) -> &Path {
        self.data.path()
    }

    fn cmd(&self, args: &[&str]) -> std::process::Command {
        let mut c = command(self.dir(), args);
        c.env("SLIPWAY_MOTO_ACCOUNT_ID", &self.id).env("RUST_LOG", "warn");
        c
    }

    fn ok(&self, args: &[&str]) -> String {
        let o = common::run(self.cmd(args), None);
        assert!(o.status.success(), "slipway {args:?} failed:\n{}", text(&o));
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    fn plan(&self) -> Value {
        serde_json::from_str(&self.ok(&["plan", "--json"])).unwrap()
    }

    fn proxy(&self) -> String {
        env("SLIPWAY_TEST_PROXY_URL")
    }

    fn rule(&self, mut rule: Value) {
        rule["account"] = json!(self.id);
        let url = format!("{}/__proxy__/rules", self.proxy());
        self.rt.block_on(async { reqwest::Client::new().post(url).json(&rule).send().await.unwrap().error_for_status().unwrap() });
    }

    fn proxy_delete(&self, what: &str) {
        let url = format!("{}/__proxy__/{what}?account={}", self.proxy(), self.id);
        self.rt.block_on(async { reqwest::Client::new().delete(url).send().await.unwrap() });
    }

    /// The calls the proxy saw for this account that change something.
    fn mutating_calls(&self) -> Vec<String> {
        let url = format!("{}/__proxy__/stats?account={}", self.proxy(), self.id);
        let v: Value = self.rt.block_on(async { reqwest::get(url).await.unwrap().json().await.unwrap() });
        v["calls"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["action"].as_str().unwrap_or("").to_string())
            .filter(|a| !(a.starts_with("Describe") || a.starts_with("List") || a.starts_with("Get")))
            .collect()
    }
}

fn count(plan: &Value, action: &str) -> usize {
    plan["changes"].as_array().unwrap().iter().filter(|c| c["action"] == action).count()
}

#[test]
fn apply_then_destroy_leaves_nothing_and_a_second_apply_changes_nothing() {
    let a = Account::new();
    assert_eq!(count(&a.plan(), "create"), 22);
    let out = a.ok(&["apply", "--json"]);
    let lines: Vec<Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let report = lines.last().unwrap();
    assert_eq!(report["created"], 22, "{report}");
    let ready: std::collections::HashSet<_> = lines
        .iter()
        .filter(|l| l["event"]["phase"] == "ready")
        .map(|l| l["event"]["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ready.len(), 22, "every resource reported ready once");
    assert!(lines.iter().any(|l| l["event"]["done"] == 22 && l["event"]["total"] == 22), "X of Y reached 22 of 22");

    a.proxy_delete("stats");
    let again: Value = serde_json::from_str(a.ok(&["apply", "--json"]).lines().last().unwrap()).unwrap();
    assert_eq!(again["unchanged"], 22);
    assert_eq!(a.mutating_calls(), Vec::<String>::new(), "a second apply made mutating calls");

    let drift: Value = serde_json::from_str(&a.ok(&["refresh", "--json"])).unwrap();
    assert!(drift.as_array().unwrap().iter().all(|d| d["status"] == "inSync"), "{drift}");

    let destroyed: Value = serde_json::from_str(a.ok(&["destroy", "--json"]).lines().last().unwrap()).unwrap();
    assert_eq!(destroyed["removed"].as_array().unwrap().len(), 22);
    let plan = a.plan();
    assert_eq!(count(&plan, "create"), 22, "something tagged is left: {plan}");
    assert_eq!(count(&plan, "delete"), 0);
}

#[test]
fn kill_9_during_apply_then_apply_again_has_no_duplicates() {
    for cut in [1usize, 7, 15, 20] {
        let a = Account::new();
        // Hold the slow resources in their creating states so the kill lands mid-apply.
        a.rule(json!({"service": "eks", "fault": "rewrite", "from": "ACTIVE", "to": "CREATING", "polls": 6}));
        a.rule(json!({"service": "rds", "action": "DescribeDBInstances", "fault": "rewrite", "from": "available", "to": "creating", "polls": 6}));
        a.rule(json!({"service": "ec2", "action": "DescribeInstances", "fault": "rewrite", "from": "running", "to": "pending", "polls": 4}));
        let mut child = a.cmd(&["apply", "--json"]).spawn().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let mut creating = 0;
        for line in stdout.lines() {
            let v: Value = serde_json::from_str(&line.unwrap()).unwrap_or(Value::Null);
            if v["event"]["phase"] == "creating" {
                creating += 1;
                if creating == cut {
                    break;
                }
            }
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        // The holds stay: the resume finds resources still creating and waits for them.
        let report: Value = serde_json::from_str(a.ok(&["apply", "--json"]).lines().last().unwrap()).unwrap();
        assert_eq!(report["resources"].as_array().unwrap().len(), 22, "cut {cut}: {report}");
        let plan = a.plan();
        assert_eq!(count(&plan, "noChange"), 22, "cut {cut}: {plan}");
        assert_eq!(count(&plan, "delete"), 0, "cut {cut}: duplicates left: {plan}");
        a.ok(&["destroy"]);
    }
}

#[test]
fn a_fifth_of_calls_throttled_or_failing_reaches_the_same_end_state() {
    let a = Account::new();
    a.rule(json!({"fault": "throttle", "probability": 0.1, "seed": 11}));
    a.rule(json!({"fault": "error", "status": 503, "probability": 0.1, "seed": 12}));
    // One create that takes effect although the client sees a 500: must not duplicate.
    a.rule(json!({"service": "ec2", "action": "RunInstances", "fault": "error", "status": 500, "forward": true, "count": 1}));
    a.ok(&["apply"]);
    a.ok(&["destroy"]);
    a.proxy_delete("rules");
    // Nothing left, nothing duplicated on the way.
    let plan = a.plan();
    assert_eq!(count(&plan, "create"), 22, "{plan}");
    assert_eq!(count(&plan, "delete"), 0, "{plan}");
}

#[test]
fn a_call_failing_for_good_names_the_resource_and_destroy_still_cleans_up() {
    let a = Account::new();
    a.rule(json!({"service": "rds", "action": "CreateDBSubnetGroup", "fault": "error", "status": 500}));
    let o = common::run(a.cmd(&["apply"]), None);
    assert_eq!(o.status.code(), Some(1));
    let t = text(&o);
    assert!(t.contains("error: DB subnet group slipway-db failed"), "{t}");
    assert!(t.contains("next:"), "{t}");
    a.proxy_delete("rules");
    a.ok(&["destroy"]);
    let plan = a.plan();
    assert_eq!(count(&plan, "create"), 22, "{plan}");
}

#[test]
fn held_states_are_polled_and_reported() {
    let a = Account::new();
    a.rule(json!({"service": "eks", "fault": "rewrite", "from": "ACTIVE", "to": "CREATING", "polls": 4}));
    let out = a.ok(&["apply", "--json"]);
    let waiting: Vec<Value> = out
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["event"]["id"] == "eks" && v["event"]["phase"] == "waiting")
        .collect();
    assert!(waiting.len() >= 3, "eks was polled while CREATING: {}", waiting.len());
    assert!(waiting.iter().all(|w| w["event"]["cloudState"] == "CREATING"));
    assert!(waiting.iter().all(|w| w["event"]["expectedMs"].as_u64().unwrap() > 0));
    a.ok(&["destroy"]);
}

#[test]
fn bad_parameters_are_refused_before_any_call() {
    let a = Account::new();
    a.proxy_delete("stats");
    let o = common::run(a.cmd(&["blueprint", "--set", "vpcCidr=10.0.0.0/8"]), None);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("Blueprint not valid"), "{}", text(&o));
    let o = common::run(a.cmd(&["blueprint", "--set", "nodeCount=lots"]), None);
    assert!(text(&o).contains("a value does not fit"), "{}", text(&o));
    let o = common::run(a.cmd(&["blueprint", "--set", "colour=blue"]), None);
    assert!(text(&o).contains("the blueprint has no 'colour'"), "{}", text(&o));
    assert!(a.mutating_calls().is_empty());
    // A zone that the region does not have: refused after reading the zones, before creating.
    a.ok(&["blueprint", "--set", r#"azs=["us-east-1a","us-east-1q"]"#]);
    let o = common::run(a.cmd(&["apply"]), None);
    assert!(text(&o).contains("'us-east-1q' does not exist"), "{}", text(&o));
    assert!(a.mutating_calls().is_empty(), "{:?}", a.mutating_calls());
    let _ = slipway; // shared helper, used by other suites
}

#[test]
fn plan_makes_the_board_cards_and_apply_moves_them_to_done() {
    let a = Account::new();
    let _cleanup = Destroy(&a);
    a.plan();
    let board = |a: &Account| -> Value { serde_json::from_str(&a.ok(&["board", "--project", "slipway", "--json"])).unwrap() };
    let b = board(&a);
    assert_eq!(b["epics"][0]["title"], "Provision slipway");
    let cards = b["cards"].as_array().unwrap();
    assert_eq!(cards.len(), 5, "one card per resource group: {b}");
    assert!(cards.iter().all(|c| c["column"] == "todo" && c["createdBy"] == "automation"), "{b}");
    a.ok(&["apply", "--json"]);
    let b = board(&a);
    assert!(b["cards"].as_array().unwrap().iter().all(|c| c["column"] == "done"), "{b}");
    assert_eq!(b["epics"][0]["done"], true);
    let out = a.ok(&["board", "--project", "slipway", "history"]);
    assert!(out.lines().any(|l| l.contains("To do -> In progress") && l.contains("by automation: apply: ")), "{out}");
    assert!(out.lines().any(|l| l.contains("In progress -> Done") && l.contains("by automation: apply: all 11 resources ready")), "{out}");
}

/// Destroys what a test applied, even when it fails.
struct Destroy<'a>(&'a Account);
impl Drop for Destroy<'_> {
    fn drop(&mut self) {
        let _ = common::run(self.0.cmd(&["destroy", "--json"]), None);
    }
}
