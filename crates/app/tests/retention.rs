//! Limits on what Slipway keeps: run logs (a setting), through the service layer. Needs no
//! Docker: the runs are written to the store as a finished pipeline leaves them.

use slipway_app::{Options, Slipway};
use slipway_core::pipeline::logs::step_path;
use slipway_core::pipeline::run::{Run, StageName, Status, Trigger};
use slipway_core::secrets::MemorySecretStore;
use slipway_core::store::Store;
use std::sync::Arc;

const DAY: i64 = 86_400_000;

#[tokio::test]
async fn run_logs_older_than_the_setting_are_removed_and_a_reader_is_told_why() {
    let data = slipway_testkit::data_dir();
    let app = Slipway::open(Options { data_dir: Some(data.path().to_path_buf()), secrets: Arc::new(MemorySecretStore::default()), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(app.settings().await.unwrap().run_log_retention_days, 30, "the default");
    let store = Store::open(data.path()).unwrap();
    let now = slipway_core::now_ms();
    let mut runs = vec![];
    for (age_days, status) in [(40, Status::Succeeded), (40, Status::Running), (1, Status::Failed), (31, Status::Failed), (400, Status::Cancelled)] {
        let r = store
            .create_run("shop", move |n| {
                let mut r = Run::new("shop", n, Trigger::Manual, "main", None);
                r.created_at = now - age_days * DAY;
                r.status = status;
                r.finished_at = status.is_final().then_some(r.created_at + 60_000);
                r
            })
            .await
            .unwrap();
        let log = step_path(&app.runs_dir(), &r.id, StageName::Build, "app");
        std::fs::create_dir_all(log.parent().unwrap()).unwrap();
        std::fs::write(&log, "Step 1/3 : FROM busybox\n").unwrap();
        std::fs::create_dir_all(data.path().join("work/shop").join(&r.id).join(".git")).unwrap();
        runs.push(r);
    }
    let kept = |r: &Run| app.runs_dir().join(&r.id).exists() || data.path().join("work/shop").join(&r.id).exists();
    assert_eq!(app.prune_run_logs().await.unwrap(), 3, "the three finished runs older than 30 days");
    assert_eq!(runs.iter().map(kept).collect::<Vec<_>>(), [false, true, true, false, false], "a running one and a recent one are kept");
    assert_eq!(app.runs(Some("shop"), 10).await.unwrap().len(), 5, "the runs stay listed");
    let e = app.follow_log(&runs[0].id, StageName::Build, "app", 0, false, &mut |_| true).await.unwrap_err();
    assert_eq!(e.what, "The run's logs were removed");
    assert!(e.why.contains("kept 30 days") && e.fix.contains("run-log-retention-days"), "{e}");
    // A recent run's log still reads.
    let mut text = String::new();
    app.follow_log(&runs[2].id, StageName::Build, "app", 0, false, &mut |c| {
        text.push_str(&c.text);
        true
    })
    .await
    .unwrap();
    assert_eq!(text, "Step 1/3 : FROM busybox\n");
    // 0 keeps everything; the setting is checked.
    let mut s = app.settings().await.unwrap();
    s.run_log_retention_days = 0;
    app.save_settings(s.clone()).await.unwrap();
    let log = step_path(&app.runs_dir(), &runs[3].id, StageName::Build, "app");
    std::fs::create_dir_all(log.parent().unwrap()).unwrap();
    std::fs::write(&log, "again\n").unwrap();
    assert_eq!(app.prune_run_logs().await.unwrap(), 0);
    assert!(log.exists());
    s.run_log_retention_days = 1;
    app.save_settings(s.clone()).await.unwrap();
    assert_eq!(app.prune_run_logs().await.unwrap(), 1, "the 31-day-old one again; the one that ended less than a day ago stays");
    assert!(!log.exists() && kept(&runs[2]));
    s.run_log_retention_days = 5000;
    let e = app.save_settings(s).await.unwrap_err();
    assert!(e.why.contains("more than 3650"), "{e}");
    println!("run logs: 5 runs, 3 removed at 30 days, 1 more at 1 day; the running and the recent one kept");
}
