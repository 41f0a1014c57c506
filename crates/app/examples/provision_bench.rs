//! Provisioning benchmark (run by `scripts/bench.sh`, not a test). Needs the test
//! environment's moto and fault proxy (`scripts/testenv.sh up moto proxy`).
//!
//! The proxy holds each slow resource in its creating state for a time proportional to real AWS
//! (1 s per real minute: EKS cluster 10 s, node group 4 s, RDS 8 s, EC2 1 s). Apply's wall time
//! is divided by the critical path (the longest dependency chain of those holds, which no tool
//! can beat) and printed beside the sequential sum; then plan and refresh of the whole
//! architecture are timed.

use serde_json::json;
use slipway_aws::provision::AwsDriver;
use slipway_core::connections::AwsSource;
use slipway_core::events::{EventBus, Journal};
use slipway_core::providers::{AwsKeys, AwsTarget};
use slipway_core::provision::executor::{ExecOptions, Executor};
use slipway_core::provision::{Blueprint, ResourceKind};
use slipway_core::secrets::{MemorySecretStore, Secret};
use slipway_core::store::Store;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// Seconds each kind is held creating (1 s per real minute).
fn hold(kind: ResourceKind) -> f64 {
    match kind {
        ResourceKind::EksCluster => 10.0,
        ResourceKind::EksNodegroup => 4.0,
        ResourceKind::DbInstance => 8.0,
        ResourceKind::Instance => 1.0,
        _ => 0.0,
    }
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: run `scripts/testenv.sh up moto proxy` and source $TESTENV_DIR/env"
        )
    })
}

async fn rule(client: &reqwest::Client, proxy: &str, account: &str, mut r: serde_json::Value) {
    r["account"] = json!(account);
    client
        .post(format!("{proxy}/__proxy__/rules"))
        .json(&r)
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
}

#[tokio::main]
async fn main() {
    let proxy = env("SLIPWAY_TEST_PROXY_URL");
    let account = format!(
        "{:012}",
        100_000_000_000u64 + (std::process::id() as u64 * 7919) % 899_999_999_999
    );
    let client = reqwest::Client::new();
    // Create responses look like AWS's (creating), then describes stay so for the hold time.
    for (svc, create, describe, from, to, secs) in [
        (
            "eks",
            "CreateCluster",
            "DescribeCluster",
            "ACTIVE",
            "CREATING",
            10.0,
        ),
        (
            "eks",
            "CreateNodegroup",
            "DescribeNodegroup",
            "ACTIVE",
            "CREATING",
            4.0,
        ),
        (
            "rds",
            "CreateDBInstance",
            "DescribeDBInstances",
            "available",
            "creating",
            8.0,
        ),
        (
            "ec2",
            "RunInstances",
            "DescribeInstances",
            "running",
            "pending",
            1.0,
        ),
    ] {
        rule(&client, &proxy, &account, json!({"service": svc, "action": create, "fault": "rewrite", "from": from, "to": to, "polls": 1})).await;
        rule(&client, &proxy, &account, json!({"service": svc, "action": describe, "fault": "rewrite", "from": from, "to": to, "seconds": secs})).await;
    }

    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let journal = Journal {
        bus: EventBus::new(100_000),
        store,
    };
    let target = AwsTarget {
        source: AwsSource::StaticKeys {
            access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
        },
        region: "us-east-1".into(),
        endpoint: Some(proxy.clone()),
        keys: Some(AwsKeys {
            access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
            secret_access_key: Secret::new("bench"),
            session_token: None,
        }),
    };
    let driver = Arc::new(
        AwsDriver::new(&target)
            .await
            .unwrap()
            .with_moto_account(&account),
    );
    let opts = ExecOptions {
        time_scale: 1.0 / 60.0,
        min_poll: Duration::from_millis(25),
        max_poll: Duration::from_millis(500),
        retry_base: Duration::from_millis(50),
        retry_cap: Duration::from_secs(1),
        ..ExecOptions::default()
    };
    // moto builds an account's default VPC on its first EC2 call (~2.5 s): not AWS's time.
    slipway_core::provision::CloudDriver::availability_zones(driver.as_ref())
        .await
        .unwrap();
    let mut rx = journal.bus.subscribe();
    let probe = driver.clone();
    let exec = Executor::new(
        driver,
        journal,
        Arc::new(MemorySecretStore::default()),
        opts,
    );
    // With the opt-in VMs: every kind of resource, 22 in all.
    let bp = Blueprint { admin_cidr: "127.0.0.1/32".into(), ci_vm: true, test_vm: true, ..Blueprint::default() };

    // The critical path and the sequential sum of the holds, from the blueprint's graph.
    let specs = bp.resources();
    let mut finish: HashMap<String, f64> = HashMap::new();
    for s in &specs {
        let start = s.depends_on.iter().map(|d| finish[d]).fold(0.0, f64::max);
        finish.insert(s.id.clone(), start + hold(s.kind));
    }
    let critical = finish.values().cloned().fold(0.0, f64::max);
    let sequential: f64 = specs.iter().map(|s| hold(s.kind)).sum();

    let t = Instant::now();
    let timeline = tokio::spawn(async move {
        // Per resource: when its work started (looking it up) and when it was ready.
        let mut started: HashMap<String, f64> = HashMap::new();
        let mut ready: HashMap<String, f64> = HashMap::new();
        while let Ok(e) = rx.recv().await {
            let now = t.elapsed().as_secs_f64();
            match e.event {
                slipway_core::events::Event::ResourceProgress(p) => match p.phase {
                    slipway_core::provision::executor::Phase::Looking => {
                        started.entry(p.id).or_insert(now);
                    }
                    slipway_core::provision::executor::Phase::Ready => {
                        ready.insert(p.id, now);
                    }
                    _ => {}
                },
                slipway_core::events::Event::ProvisionFinished { .. } => break,
                _ => {}
            }
        }
        (started, ready)
    });
    let report = exec.apply(&bp, CancellationToken::new()).await.unwrap();
    let wall = t.elapsed().as_secs_f64();
    let (started, ready) = timeline.await.unwrap();
    // The measured critical path: each resource's own time (its lookup to ready, as the
    // emulator and the holds made it), summed along the longest dependency chain.
    let mut fin: HashMap<String, f64> = HashMap::new();
    let mut chain: HashMap<String, Vec<String>> = HashMap::new();
    for s in &specs {
        let own = ready[&s.id] - started[&s.id];
        let (start, via) =
            s.depends_on
                .iter()
                .map(|d| (fin[d], d.clone()))
                .fold(
                    (0.0, None),
                    |acc, (f, d)| if f > acc.0 { (f, Some(d)) } else { acc },
                );
        let mut c = via.map(|d| chain[&d].clone()).unwrap_or_default();
        c.push(format!("{} {:.2}", s.id, own));
        chain.insert(s.id.clone(), c);
        fin.insert(s.id.clone(), start + own);
    }
    let (last, measured) = fin.iter().fold((String::new(), 0.0), |acc, (k, v)| {
        if *v > acc.1 {
            (k.clone(), *v)
        } else {
            acc
        }
    });
    assert_eq!(report.created, 22, "{}", report.summary);

    let t = Instant::now();
    let plan = exec.plan(&bp).await.unwrap();
    let plan_ms = t.elapsed().as_secs_f64() * 1000.0;
    assert!(plan.is_empty(), "{}", plan.summary());
    let t = Instant::now();
    let drift = exec.refresh(&bp).await.unwrap();
    let refresh_ms = t.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(drift.len(), 22);
    // Where plan's time goes: its two reads (run at once), each timed alone, the median of 5.
    let mut zones = vec![];
    let mut listing = vec![];
    for _ in 0..5 {
        let t = Instant::now();
        slipway_core::provision::CloudDriver::availability_zones(probe.as_ref()).await.unwrap();
        zones.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        slipway_core::provision::CloudDriver::list_tagged(probe.as_ref(), &bp.project).await.unwrap();
        listing.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let med = |mut v: Vec<f64>| {
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        v[v.len() / 2]
    };
    let (zones_ms, listing_ms) = (med(zones), med(listing));

    exec.destroy(&bp.project, CancellationToken::new())
        .await
        .unwrap();
    client
        .delete(format!("{proxy}/__proxy__/rules?account={account}"))
        .send()
        .await
        .unwrap();

    println!("provisioning benchmark (holds: 1 s per real AWS minute; 22 resources)");
    println!("  apply wall time          {wall:>7.2} s");
    println!("  critical path            {critical:>7.2} s   (EKS cluster 10 + node group 4)");
    println!("  sequential sum of holds  {sequential:>7.2} s   (what a one-at-a-time tool waits)");
    println!(
        "  measured critical path   {measured:>7.2} s   ({})",
        chain[&last].join(" -> ")
    );
    println!(
        "  apply / measured path    {:>7.3}     target <= 1.02  {}",
        wall / measured,
        if wall / measured <= 1.02 {
            "ok"
        } else {
            "MISSED"
        }
    );
    println!(
        "  apply / holds-only path  {:>7.3}     (counts the emulator's own call time as overhead)",
        wall / critical
    );
    println!(
        "  sequential / apply       {:>7.2} x   faster than one at a time",
        sequential / wall
    );
    println!(
        "  plan (22 resources)      {plan_ms:>7.0} ms  target < 200   {}",
        if plan_ms < 200.0 { "ok" } else { "MISSED" }
    );
    println!(
        "  refresh (22 resources)   {refresh_ms:>7.0} ms  target < 200   {}",
        if refresh_ms < 200.0 { "ok" } else { "MISSED" }
    );
    println!("  plan's reads, each alone: availability zones {zones_ms:.0} ms (one API round trip), the project's listing {listing_ms:.0} ms");
    println!("    (every service at once; its longest chain is EKS: ListClusters, then DescribeCluster beside ListNodegroups, then DescribeNodegroup)");
}
