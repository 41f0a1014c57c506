//! `slipway plan|apply|destroy|refresh` against the AWS emulator through the fault proxy, each
//! test in a moto account of its own (so tests never see each other's resources).

use serde_json::{json, Value};
use slipway_testkit::env;
use std::io::{BufRead, BufReader};
use std::path::Path;

mod common;
use common::{command, slipway, text};

/// The blueprint's resources with both opt-in VMs, as every test here turns them on (the
/// default blueprint has 17: no VM, no VM security group, no key pair).
const RESOURCES: usize = 22;

struct Account {
    id: String,
    data: tempfile::TempDir,
    rt: tokio::runtime::Runtime,
}

impl Account {
    /// A fresh data folder connected with static keys to the proxy, in a new moto account.
    fn new() -> Self {
        let a = Account { id: slipway_testkit::moto_account(), data: slipway_testkit::data_dir(), rt: tokio::runtime::Runtime::new().unwrap() };
        let mut c = command(a.dir(), &["connect", "aws", "--access-key-id", "AKIAIOSFODNN7EXAMPLE", "--endpoint", &env("SLIPWAY_TEST_PROXY_URL")]);
        c.env("SLIPWAY_AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
        let o = common::run(c, None);
        assert!(o.status.success(), "{}", text(&o));
        a.proxy_delete("rules");
        a.opt_in_vms();
        a
    }

    /// Turns on the CI VM and the test VM (opt-in parts), as a user does with `blueprint --set`.
    fn opt_in_vms(&self) {
        let bp: Value = serde_json::from_str(&self.ok(&["blueprint", "--set", "ciVm=true", "--set", "testVm=true"])).unwrap();
        assert_eq!((bp["ciVm"].as_bool(), bp["testVm"].as_bool()), (Some(true), Some(true)), "{bp}");
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

    /// A second data folder on the same moto account: the local state (store, keychain
    /// entries) of the first is not there.
    fn with_state_lost(&self) -> Account {
        let a = Account { id: self.id.clone(), data: slipway_testkit::data_dir(), rt: tokio::runtime::Runtime::new().unwrap() };
        let mut c = command(a.dir(), &["connect", "aws", "--access-key-id", "AKIAIOSFODNN7EXAMPLE", "--endpoint", &env("SLIPWAY_TEST_PROXY_URL")]);
        c.env("SLIPWAY_AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
        let o = common::run(c, None);
        assert!(o.status.success(), "{}", text(&o));
        a.opt_in_vms();
        a
    }

    /// What the emulator holds of this account's project, asked straight (past the fault
    /// proxy): how many copies of each resource, by its `slipway:resource` tag.
    fn copies(&self) -> std::collections::BTreeMap<String, usize> {
        use slipway_core::provision::CloudDriver;
        let target = slipway_core::providers::AwsTarget {
            source: slipway_core::connections::AwsSource::StaticKeys { access_key_id: "AKIAIOSFODNN7EXAMPLE".into() },
            region: "us-east-1".into(),
            endpoint: Some(env("SLIPWAY_TEST_MOTO_URL")),
            keys: Some(slipway_core::providers::AwsKeys {
                access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
                secret_access_key: slipway_core::secrets::Secret::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
                session_token: None,
            }),
        };
        self.rt.block_on(async {
            let d = slipway_aws::AwsDriver::new(&target).await.unwrap().with_moto_account(&self.id);
            let mut out = std::collections::BTreeMap::new();
            for o in d.list_tagged("slipway").await.unwrap() {
                *out.entry(o.logical_id.unwrap_or_else(|| format!("untagged {}", o.physical_id))).or_insert(0) += 1;
            }
            out
        })
    }

    /// Faults the proxy injected into this account's calls, and all its calls.
    fn faults(&self) -> (usize, usize) {
        let url = format!("{}/__proxy__/stats?account={}", self.proxy(), self.id);
        let v: Value = self.rt.block_on(async { reqwest::get(url).await.unwrap().json().await.unwrap() });
        let calls = v["calls"].as_array().unwrap();
        let injected = calls.iter().filter(|c| c["fault"].as_str().is_some_and(|f| !f.is_empty() && f != "upstream")).count();
        (injected, calls.len())
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
    assert_eq!(count(&a.plan(), "create"), RESOURCES);
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
    let mut survived = 0;
    for cut in [1usize, 7, 15, 20] {
        let a = Account::new();
        // Hold the slow resources in their creating states so the kill lands mid-apply.
        a.rule(json!({"service": "eks", "fault": "rewrite", "from": "ACTIVE", "to": "CREATING", "polls": 6}));
        a.rule(json!({"service": "rds", "action": "DescribeDBInstances", "fault": "rewrite", "from": "available", "to": "creating", "polls": 6}));
        a.rule(json!({"service": "ec2", "action": "DescribeInstances", "fault": "rewrite", "from": "running", "to": "pending", "polls": 4}));
        let mut child = a.cmd(&["apply", "--json"]).spawn().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut creating = 0;
        let mut line = String::new();
        while creating < cut {
            line.clear();
            assert!(stdout.read_line(&mut line).unwrap() > 0, "cut {cut}: apply ended after {creating} creates");
            let v: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
            if v["event"]["phase"] == "creating" {
                creating += 1;
            }
        }
        // The kill lands while apply runs: the process has not exited, it dies of SIGKILL, and
        // no final report was ever written.
        assert!(child.try_wait().unwrap().is_none(), "cut {cut}: apply had already ended");
        child.kill().unwrap(); // SIGKILL
        let status = child.wait().unwrap();
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(9), "cut {cut}: {status:?}");
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
        assert!(!rest.lines().any(|l| serde_json::from_str::<Value>(l).is_ok_and(|v| v["created"].is_number())), "cut {cut}: apply finished before the kill");
        let at_kill = a.copies().len();
        assert!(at_kill < RESOURCES, "cut {cut}: {at_kill} resources existed at the kill");
        // The holds stay: the resume finds resources still creating and waits for them.
        let report: Value = serde_json::from_str(a.ok(&["apply", "--json"]).lines().last().unwrap()).unwrap();
        assert_eq!(report["resources"].as_array().unwrap().len(), 22, "cut {cut}: {report}");
        let plan = a.plan();
        assert_eq!(count(&plan, "noChange"), 22, "cut {cut}: {plan}");
        assert_eq!(count(&plan, "delete"), 0, "cut {cut}: duplicates left: {plan}");
        let copies = a.copies();
        assert!(copies.len() == RESOURCES && copies.values().all(|n| *n == 1), "cut {cut}: {copies:?}");
        println!("kill -9 at creating event {cut} ({at_kill} of {RESOURCES} resources existed): survived, {RESOURCES} resources, 0 duplicates");
        survived += 1;
        a.ok(&["destroy"]);
    }
    println!("kill -9 points survived: {survived} of 4");
}

#[test]
fn a_fifth_of_calls_throttled_or_failing_reaches_the_same_end_state() {
    let a = Account::new();
    a.rule(json!({"fault": "throttle", "probability": 0.1, "seed": 11}));
    a.rule(json!({"fault": "error", "status": 503, "probability": 0.1, "seed": 12}));
    // One create that takes effect although the client sees a 500: must not duplicate.
    a.rule(json!({"service": "ec2", "action": "RunInstances", "fault": "error", "status": 500, "forward": true, "count": 1}));
    a.ok(&["apply"]);
    // Before anything is destroyed: each resource exists once in the emulator, counted by tag
    // (a duplicate would otherwise be destroyed unseen).
    let (injected, calls) = a.faults();
    let copies = a.copies();
    assert_eq!(copies.len(), RESOURCES, "{copies:?}");
    let duplicates: usize = copies.values().map(|n| n - 1).sum();
    assert_eq!(duplicates, 0, "copies by tag: {copies:?}");
    assert!(injected >= 10, "the proxy injected only {injected} faults in {calls} calls");
    println!("faults injected: {injected} in {calls} calls; resources by tag: {}, duplicates: {duplicates}", copies.len());
    a.ok(&["destroy"]);
    a.proxy_delete("rules");
    // Nothing left, nothing duplicated on the way.
    assert!(a.copies().is_empty(), "{:?}", a.copies());
    let plan = a.plan();
    assert_eq!(count(&plan, "create"), 22, "{plan}");
    assert_eq!(count(&plan, "delete"), 0, "{plan}");
}

#[test]
fn destroy_with_the_local_state_lost_removes_everything_from_the_emulator() {
    let a = Account::new();
    a.ok(&["apply"]);
    assert_eq!(a.copies().len(), RESOURCES);
    // Another data folder: no resources recorded, no keychain entries, only the account.
    let fresh = a.with_state_lost();
    let destroyed: Value = serde_json::from_str(fresh.ok(&["destroy", "--json"]).lines().last().unwrap()).unwrap();
    assert_eq!(destroyed["removed"].as_array().unwrap().len(), RESOURCES, "{destroyed}");
    let left = a.copies();
    assert!(left.is_empty(), "left in the emulator: {left:?}");
    println!("resources in the emulator before: {RESOURCES}; after a destroy with the local state lost: {}", left.len());
}

#[test]
fn the_secrets_apply_makes_never_reach_the_disk() {
    use slipway_core::secrets::SecretStore;
    let a = Account::new();
    let _cleanup = Destroy(&a);
    a.ok(&["apply"]);
    let instance = slipway_core::store::Store::open(a.dir()).unwrap().instance_id().to_string();
    let mut found = vec![];
    for id in ["db-test", "db-live", "keypair"] {
        let r = slipway_core::secrets::SecretRef::for_connection(&instance, &format!("slipway/{id}"));
        let s = slipway_app::keychain::Keychain.get(&r).unwrap().unwrap_or_else(|| panic!("{id}'s secret is in the keychain"));
        assert!(s.expose().len() >= 20, "{id}");
        found.push((id, s));
    }
    // Every byte of the data folder: the store (and its WAL), logs, the event log, the sandbox.
    let mut files = 0;
    let mut bytes = 0;
    fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            if e.file_type().unwrap().is_dir() {
                walk(&e.path(), out);
            } else {
                out.push(e.path());
            }
        }
    }
    let mut all = vec![];
    walk(a.dir(), &mut all);
    // The search sees what the store holds: the instance id is found.
    let mut control = 0;
    for f in &all {
        let text = std::fs::read(f).unwrap_or_default();
        files += 1;
        bytes += text.len();
        control += text.windows(instance.len()).filter(|w| *w == instance.as_bytes()).count();
        for (id, s) in &found {
            // The key pair's private key: its base64 body, line by line.
            let needles: Vec<&str> = s.expose().lines().filter(|l| l.len() >= 16 && !l.starts_with("-----")).chain([s.expose()]).collect();
            for n in needles {
                assert!(!text.windows(n.len()).any(|w| w == n.as_bytes()), "{id}'s secret is in {}", f.display());
            }
        }
    }
    assert!(control > 0, "the search never found the instance id {instance} in {files} files: it reads nothing");
    // And in the events the CLI can print.
    let events = a.ok(&["events", "--limit", "100000"]);
    for (id, s) in &found {
        assert!(!events.contains(s.expose()), "{id} in the event log");
    }
    println!("apply's secrets (2 RDS master passwords, 1 key pair private key) searched in {files} files, {bytes} bytes: not found (the store's instance id found {control} times)");
}

#[test]
fn ctrl_c_stops_apply_and_the_next_apply_finishes_without_duplicates() {
    let a = Account::new();
    let _cleanup = Destroy(&a);
    a.rule(json!({"service": "eks", "fault": "rewrite", "from": "ACTIVE", "to": "CREATING", "polls": 40}));
    let mut child = a.cmd(&["apply", "--json"]).spawn().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        assert!(stdout.read_line(&mut line).unwrap() > 0, "apply ended before EKS was creating");
        let v: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
        if v["event"]["id"] == "eks" && v["event"]["phase"] == "waiting" {
            break;
        }
    }
    assert!(child.try_wait().unwrap().is_none(), "apply was still running");
    // SAFETY: signalling the child we started.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.to_lowercase().contains("cancel"), "it says it was cancelled: {err}");
    assert!(!rest.lines().any(|l| serde_json::from_str::<Value>(l).is_ok_and(|v| v["created"].is_number())), "apply did not finish: {rest}");
    a.proxy_delete("rules");
    let report: Value = serde_json::from_str(a.ok(&["apply", "--json"]).lines().last().unwrap()).unwrap();
    assert_eq!(report["resources"].as_array().unwrap().len(), RESOURCES, "{report}");
    let copies = a.copies();
    assert!(copies.len() == RESOURCES && copies.values().all(|n| *n == 1), "{copies:?}");
    println!("apply stopped by SIGINT while EKS was creating; the next apply: {RESOURCES} resources, 0 duplicates");
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

#[test]
fn the_plan_states_the_opt_in_vms_and_its_cost_follows_them() {
    let a = Account::new(); // both VMs turned on with `blueprint --set`
    let on = a.plan();
    assert_eq!(count(&on, "create"), RESOURCES);
    let cost = |plan: &Value, id: &str| plan["changes"].as_array().unwrap().iter().find(|c| c["id"] == id).unwrap()["monthlyCost"].as_f64().unwrap();
    let vms = cost(&on, "vm-ci") + cost(&on, "vm-test");
    assert!(vms > 0.0);
    let text = a.ok(&["plan"]);
    assert!(text.contains("[on ] CI VM (ciVm): Runs Jenkins"), "{text}");
    assert!(text.contains("[on ] Test VM (testVm): A VM beside the test database"), "{text}");

    a.ok(&["blueprint", "--set", "ciVm=false", "--set", "testVm=false"]);
    let off = a.plan();
    assert_eq!(count(&off, "create"), RESOURCES - 5, "no VM, VM security group or key pair: {off}");
    for id in ["vm-ci", "vm-test", "sg-ci", "sg-test", "keypair"] {
        assert!(!off["changes"].as_array().unwrap().iter().any(|c| c["id"] == id), "{id} planned while off");
    }
    let total = |p: &Value| p["monthlyTotal"].as_f64().unwrap();
    assert!((total(&on) - total(&off) - vms).abs() < 0.01, "{} - {} != {vms}", total(&on), total(&off));
    assert_eq!(off["optIns"].as_array().unwrap().iter().map(|o| o["enabled"].as_bool().unwrap()).collect::<Vec<_>>(), [false, false]);
    let text = a.ok(&["plan"]);
    assert!(text.contains("[off] CI VM (ciVm)") && text.contains("slipway blueprint --set <name>=true|false"), "{text}");
}
