//! Two processes on one store, as a person has them when the desktop app is open and a script
//! runs the CLI: the `slipway` binary in one process and the service layer in this one create
//! runs, revisions and board moves at the same time. Every write transaction takes the write
//! lock when it begins, so nothing fails with "database is locked" and no number is given twice.

use slipway_app::{Options, Slipway};
use slipway_core::board::CardInput;
use slipway_core::pipeline::run::{ImageArtifact, Run, StageName, Status, Trigger};
use slipway_core::secrets::MemorySecretStore;
use slipway_core::store::Store;
use std::collections::BTreeSet;
use std::sync::Arc;

mod common;
use common::{command, text};

const ROUNDS: usize = 6;
const BOARD_OPS: usize = 40;

fn store_error(out: &str) -> bool {
    let l = out.to_lowercase();
    l.contains("database is locked") || l.contains("busy") || l.contains("store failed") || l.contains("store query failed")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_cli_and_the_service_layer_write_the_same_store_at_once() {
    slipway_testkit::env("DOCKER_HOST");
    let data = slipway_testkit::data_dir();
    let d = data.path().to_path_buf();
    let repo = slipway_testkit::git_repo(&[("svc/Dockerfile", "FROM slipway/busybox:latest\n"), ("slipway.toml", "[services.svc]\ntests = false\n")]);
    let run_cli = |args: &[&str]| common::run(command(&d, args), None);
    let o = run_cli(&["project", "add", repo.path().to_str().unwrap(), "--id", "concur"]);
    assert!(o.status.success(), "{}", text(&o));
    let o = run_cli(&["env", "set", "local", "--project", "concur", "--local"]);
    assert!(o.status.success(), "{}", text(&o));
    let o = run_cli(&["board", "--project", "concur", "card", "add", "seed"]);
    assert!(o.status.success(), "{}", text(&o));

    // A run whose image cannot be pulled (a registry on a closed loopback port): each deploy of
    // it records a revision, then fails fast at the pull, without touching anything else.
    {
        let st = Store::open(&d).unwrap();
        let r = st
            .create_run("concur", |n| {
                let mut r = Run::new("concur", n, Trigger::Manual, "HEAD", Some(StageName::Build));
                r.status = Status::Succeeded;
                r.commit = Some("0123456789abcdef0123456789abcdef01234567".into());
                r.artifacts.images = vec![ImageArtifact { service: "svc".into(), image: "127.0.0.1:9/concur-svc:0123456789ab".into(), pushed: None, digest: None }];
                r.finished_at = Some(r.created_at);
                r
            })
            .await
            .unwrap();
        assert_eq!(r.id, "concur-1");
        std::fs::create_dir_all(d.join("work/concur/concur-1/.git")).unwrap();
    }

    let app = Slipway::open(Options { data_dir: Some(d.clone()), secrets: Arc::new(MemorySecretStore::default()), ..Default::default() }).await.unwrap();
    let _network = RemoveNetwork("slipway-concur-local");

    // The other process: the CLI, one command after another.
    let cli_dir = d.clone();
    let cli = std::thread::spawn(move || {
        let run_cli = |args: &[&str]| common::run(command(&cli_dir, args), None);
        let mut outputs = vec![];
        for i in 0..ROUNDS {
            let o = run_cli(&["run", "--project", "concur", "--until", "checkout"]);
            outputs.push(("run", o.status.success(), text(&o)));
            let o = run_cli(&["deploy", "--project", "concur", "--env", "local", "--run", "concur-1"]);
            outputs.push(("deploy", o.status.success(), text(&o)));
            for _ in 0..BOARD_OPS / ROUNDS / 2 {
                let o = run_cli(&["board", "--project", "concur", "card", "add", &format!("cli {i}"), "--json"]);
                let key = serde_json::from_slice::<serde_json::Value>(&o.stdout).ok().and_then(|v| v["key"].as_str().map(str::to_string));
                outputs.push(("card add", o.status.success(), text(&o)));
                if let Some(key) = key {
                    let o = run_cli(&["board", "--project", "concur", "card", "move", &key, "In progress"]);
                    outputs.push(("card move", o.status.success(), text(&o)));
                }
            }
        }
        outputs
    });

    // This process: the service layer, at the same time.
    let mut ops = 0;
    let mut app_errors = vec![];
    let board_app = app.clone();
    let board = tokio::spawn(async move {
        let mut errors = vec![];
        for i in 0..BOARD_OPS * 3 {
            match board_app.create_card(Some("concur"), CardInput { title: format!("app {i}"), ..Default::default() }).await {
                Ok(c) => {
                    if let Err(e) = board_app.move_card(Some("concur"), &c.key, "In progress", None).await {
                        errors.push(e.to_string());
                    }
                }
                Err(e) => errors.push(e.to_string()),
            }
        }
        errors
    });
    for _ in 0..ROUNDS {
        match app.start_run("concur", None, Some(StageName::Checkout), Trigger::Manual).await {
            Ok((_, h)) => {
                let r = h.await.unwrap();
                if r.status != Status::Succeeded {
                    app_errors.push(format!("run {}: {:?}", r.id, r.error));
                }
            }
            Err(e) => app_errors.push(e.to_string()),
        }
        ops += 1;
        match app.deploy(Some("concur"), Some("local"), Some("concur-1")).await {
            Ok(r) => app_errors.push(format!("revision {} deployed an image that cannot exist", r.number)),
            Err(e) if store_error(&e.to_string()) => app_errors.push(e.to_string()),
            Err(_) => {} // the pull fails, as intended
        }
        ops += 1;
    }
    app_errors.extend(board.await.unwrap());
    ops += BOARD_OPS * 3 * 2;
    let outputs = cli.join().unwrap();

    // No error from the store anywhere; every CLI command did what it does alone.
    assert!(app_errors.is_empty(), "{app_errors:#?}");
    for (what, ok, out) in &outputs {
        assert!(!store_error(out), "{what}: {out}");
        match *what {
            "deploy" => assert!(!ok && out.contains("127.0.0.1:9"), "{what} should fail at the pull: {out}"),
            _ => assert!(ok, "{what}: {out}"),
        }
    }
    ops += outputs.len();

    // No number given twice: runs 1..=N, revisions 1..=M, cards each their own.
    let runs = app.runs(Some("concur"), 1000).await.unwrap();
    let numbers: BTreeSet<u32> = runs.iter().map(|r| r.number).collect();
    assert_eq!(numbers.len(), runs.len(), "a run number was given twice");
    assert_eq!(numbers, (1..=(1 + 2 * ROUNDS) as u32).collect(), "runs are numbered without gaps");
    let revs = app.revisions(Some("concur"), Some("local"), 1000).await.unwrap();
    let rnumbers: BTreeSet<u32> = revs.iter().map(|r| r.number).collect();
    assert_eq!(rnumbers.len(), revs.len(), "a revision number was given twice");
    assert_eq!(rnumbers, (1..=(2 * ROUNDS) as u32).collect());
    let b = app.board(Some("concur")).await.unwrap();
    let cards: BTreeSet<u32> = b.cards.iter().map(|c| c.number).collect();
    assert_eq!(cards.len(), b.cards.len(), "a card number was given twice");
    // The cards people added (the board's automation adds its own, e.g. the failed deploys').
    let added: BTreeSet<&str> = b.cards.iter().filter(|c| c.automation_key.is_none()).map(|c| c.key.as_str()).collect();
    let cli_cards = outputs.iter().filter(|o| o.0 == "card add").count();
    assert_eq!(added.len(), 1 + BOARD_OPS * 3 + cli_cards, "every card added is there");
    let history = app.board_history(Some("concur"), None).await.unwrap();
    let moved = history.moves.iter().filter(|m| added.contains(m.card.as_str()) && m.to.as_deref() == Some("in-progress")).count();
    let cli_moves = outputs.iter().filter(|o| o.0 == "card move").count();
    assert_eq!(moved, BOARD_OPS * 3 + cli_moves, "every move was recorded once");
    println!(
        "two processes, one store: {ops} operations ({} from the CLI process), 0 store errors; {} runs, {} revisions, {} cards, {moved} moves, no number twice",
        outputs.len(),
        runs.len(),
        revs.len(),
        b.cards.len()
    );
}

/// The local deploys' network (they fail at the pull, so nothing else is left): removed when
/// the test ends.
struct RemoveNetwork(&'static str);
impl Drop for RemoveNetwork {
    fn drop(&mut self) {
        let _ = std::process::Command::new("docker").args(["network", "rm", self.0]).env("DOCKER_HOST", slipway_testkit::env("DOCKER_HOST")).output();
    }
}
