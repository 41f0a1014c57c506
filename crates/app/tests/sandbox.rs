//! The sandbox outlives the app: a restarted Slipway adopts the emulator with everything it holds;
//! an emulator that was lost (a reboot) is replaced, the user is told, and what the store recorded
//! is recreated, so the store and the sandbox never disagree silently.

use slipway_app::{Options, Slipway};
use slipway_core::connections::AwsConnectInput;
use slipway_core::events::Event;
use slipway_core::provision::plan::Action;
use slipway_testkit::env;
use std::collections::BTreeSet;
use std::sync::Arc;

async fn open(dir: &std::path::Path) -> Arc<Slipway> {
    std::env::set_var("SLIPWAY_SANDBOX_VENV", env("SLIPWAY_MOTO_VENV"));
    env("DBUS_SESSION_BUS_ADDRESS");
    Slipway::open(Options { data_dir: Some(dir.to_path_buf()), ..Default::default() }).await.unwrap()
}

/// Stops the data folder's sandbox when the test ends, whatever happens.
struct StopSandbox(std::path::PathBuf);
impl Drop for StopSandbox {
    fn drop(&mut self) {
        let dir = self.0.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Runtime::new().unwrap();
            rt.block_on(async {
                let app = open(&dir).await;
                app.sandbox_stop().await.ok()
            })
        })
        .join()
        .ok();
    }
}

async fn physical_ids(app: &Slipway) -> BTreeSet<String> {
    app.resources(None).await.unwrap().into_iter().map(|o| o.physical_id).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_app_keeps_the_sandbox_and_a_lost_sandbox_is_recreated() {
    let d = slipway_testkit::data_dir();
    let _stop = StopSandbox(d.path().to_path_buf());

    // First session: the sandbox, and the whole blueprint applied there.
    let first = open(d.path()).await;
    first.connect_aws(AwsConnectInput::Sandbox { region: None }).await.unwrap();
    let report = first.apply(None).await.unwrap();
    assert!(report.created > 10, "{report:?}");
    let endpoint = first.sandbox_status().endpoint.unwrap();
    let instance = first.sandbox_status().instance.unwrap();
    let ids = physical_ids(&first).await;
    drop(first); // the app exits without stopping the sandbox

    // Second session: the same emulator is adopted, with everything it held.
    let second = open(d.path()).await;
    second.startup().await.unwrap();
    assert_eq!(second.sandbox_status().endpoint.as_deref(), Some(endpoint.as_str()));
    assert_eq!(second.sandbox_status().instance.as_deref(), Some(instance.as_str()));
    let plan = second.plan(None).await.unwrap();
    assert_eq!(plan.count(Action::Create), 0, "nothing to create again: {:?}", plan.changes);
    assert_eq!(physical_ids(&second).await, ids, "the store is unchanged");

    // The emulator is lost (as after a reboot): the next start replaces it and says so.
    let pid = second.sandbox_status().pid.unwrap();
    drop(second);
    let killed = std::process::Command::new("kill").args(["-9", &pid.to_string()]).status().unwrap();
    assert!(killed.success());
    for _ in 0..100 {
        if !std::path::Path::new(&format!("/proc/{pid}")).exists()
            || std::fs::read_to_string(format!("/proc/{pid}/stat")).map(|s| s.contains(") Z")).unwrap_or(true)
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let third = open(d.path()).await;
    let mut events = third.subscribe();
    third.startup().await.unwrap();
    let st = third.sandbox_status();
    assert_ne!(st.instance.as_deref(), Some(instance.as_str()), "a new emulator");
    assert_eq!(st.endpoint.as_deref(), Some(endpoint.as_str()), "on the port the last one used");
    let mut told = vec![];
    while let Ok(e) = events.try_recv() {
        if let Event::Progress { task, message } = e.event {
            if task == "sandbox" {
                told.push(message);
            }
        }
    }
    assert!(told.iter().any(|m| m.contains("restarted empty") && m.contains(&format!("the {} resources of slipway", ids.len()))), "{told:?}");
    assert!(told.iter().any(|m| m.contains("slipway recreated in the sandbox")), "{told:?}");
    // Store and emulator agree again: nothing to create, no drift, and no record of the old ids.
    let plan = third.plan(None).await.unwrap();
    assert_eq!(plan.count(Action::Create), 0, "{:?}", plan.changes);
    let now = physical_ids(&third).await;
    assert_eq!(now.len(), ids.len());
    assert!(now.is_disjoint(&ids.iter().filter(|i| i.starts_with("vpc-") || i.starts_with("i-")).cloned().collect()), "stale records were dropped");
    let drift = third.refresh(None).await.unwrap();
    assert!(drift.iter().all(|d| d.status == slipway_core::provision::executor::DriftStatus::InSync), "{drift:?}");
}
