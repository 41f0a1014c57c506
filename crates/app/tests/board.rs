//! The board through the service layer: people's changes, export and import, and the
//! automation hooks that plans, applies, pipeline runs and deploys call. Nothing here needs the
//! test environment: the hooks get the plans, progress events, runs and revisions those
//! operations hand them, made up here.

use slipway_app::{Options, Slipway};
use slipway_core::board::automation::{
    deploy_card_key, pipeline_card_key, provision_card_key, ResourceGroup,
};
use slipway_core::board::*;
use slipway_core::deploy::{DeployOperation, Revision, RevisionStatus};
use slipway_core::events::{Event, EventEnvelope};
use slipway_core::pipeline::run::{Run, StageName, Status, Trigger};
use slipway_core::provision::executor::{Operation, Phase, ResourceProgress};
use slipway_core::provision::plan::{Action, Change, Plan};
use slipway_core::provision::{Blueprint, ResourceKind, ResourceSpec};
use slipway_core::UserError;
use std::sync::Arc;
use std::time::Duration;

async fn open(dir: &std::path::Path) -> Arc<Slipway> {
    Slipway::open(Options {
        data_dir: Some(dir.to_path_buf()),
        ..Default::default()
    })
    .await
    .unwrap()
}

fn drain(
    rx: &mut tokio::sync::broadcast::Receiver<EventEnvelope>,
) -> Vec<(String, Vec<String>, Actor)> {
    let mut v = vec![];
    while let Ok(e) = rx.try_recv() {
        if let Event::BoardChanged { project, cards, by } = e.event {
            v.push((project, cards, by));
        }
    }
    v
}

fn card(title: &str, points: Option<u32>) -> CardInput {
    CardInput {
        title: title.into(),
        points,
        ..Default::default()
    }
}

const P: Option<&str> = Some("shop");

#[tokio::test]
async fn people_change_the_board_and_every_change_is_announced_and_kept() {
    let d = slipway_testkit::data_dir();
    let app = open(d.path()).await;
    let mut rx = app.subscribe();
    assert_eq!(
        app.board_project(None).await.unwrap(),
        "slipway",
        "no project yet: the default blueprint's"
    );

    let b = app.board(P).await.unwrap();
    assert_eq!(
        b.board
            .columns
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        ["To do", "In progress", "In review", "Done"]
    );
    assert!(b.board.automation);
    let epic = app
        .create_epic(
            P,
            EpicInput {
                title: "Checkout".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let sprint = app
        .create_sprint(
            P,
            SprintInput {
                goal: "Pay".into(),
                start: Some("2026-03-02".into()),
                end: Some("2026-03-13".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let a = app
        .create_card(
            P,
            CardInput {
                epic: Some(epic.key.clone()),
                sprint: Some(sprint.number),
                ..card("Card form", Some(5))
            },
        )
        .await
        .unwrap();
    let c = app
        .create_card(
            P,
            CardInput {
                sprint: Some(sprint.number),
                assignee: Some("ana".into()),
                ..card("Receipt mail", Some(3))
            },
        )
        .await
        .unwrap();
    assert_eq!((a.key.as_str(), c.key.as_str()), ("SHP-2", "SHP-3"));
    app.start_sprint(P, None, None, None).await.unwrap();
    let moved = app
        .move_card(P, "SHP-2", "In progress", None)
        .await
        .unwrap();
    assert_eq!(moved.column, "in-progress");
    let e = app
        .move_card(P, "SHP-2", "Blocked", None)
        .await
        .unwrap_err();
    assert_eq!(e.what, "Card not moved");
    assert!(e.why.contains("no column \"Blocked\""), "{e}");
    let edited = app
        .update_card(
            P,
            "3",
            CardInput {
                points: Some(8),
                ..card("Receipt e-mail", None)
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (edited.title.as_str(), edited.points, edited.sprint),
        ("Receipt e-mail", Some(8), None),
        "an edit replaces every field"
    );
    assert_eq!(
        app.board_project(None).await.unwrap(),
        "shop",
        "the only board"
    );

    let events = drain(&mut rx);
    assert!(
        events
            .iter()
            .all(|(p, _, by)| p == "shop" && *by == Actor::User),
        "{events:?}"
    );
    assert!(
        events
            .iter()
            .any(|(_, cards, _)| cards == &["SHP-2".to_string()]),
        "{events:?}"
    );

    let hist = app.board_history(P, Some("SHP-2")).await.unwrap();
    assert_eq!(
        hist.moves
            .iter()
            .map(|m| m.to.as_deref())
            .collect::<Vec<_>>(),
        [Some("todo"), Some("in-progress")]
    );
    let bd = app.burndown(P, None).await.unwrap();
    assert_eq!(
        (bd.committed, bd.scope_removed),
        (8, 3),
        "the sprint started with 8 points; 3 left with SHP-3"
    );
    assert!(app.velocity(P).await.unwrap().is_empty());
    app.close_sprint(P, None, None).await.unwrap();
    assert_eq!(app.velocity(P).await.unwrap().len(), 1);

    // Kept across a restart.
    let before = app.board(P).await.unwrap();
    drop(app);
    let app = open(d.path()).await;
    assert_eq!(app.board(P).await.unwrap(), before);
    app.delete_card(P, "SHP-3").await.unwrap();
    assert_eq!(app.board(P).await.unwrap().cards.len(), 1);
}

#[tokio::test]
async fn export_and_import_round_trip_and_a_bad_file_changes_nothing() {
    let d = slipway_testkit::data_dir();
    let app = open(d.path()).await;
    app.create_epic(
        P,
        EpicInput {
            title: "Checkout".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    app.create_card(
        P,
        CardInput {
            epic: Some("Checkout".into()),
            labels: vec!["ui".into(), "pay".into()],
            description: "Line 1\nLine \"2\"".into(),
            ..card("Card form", Some(5))
        },
    )
    .await
    .unwrap();
    app.create_card(
        P,
        CardInput {
            column: Some("done".into()),
            ..card("Old thing", None)
        },
    )
    .await
    .unwrap();
    let json = app.export_board(P, BoardFormat::Json).await.unwrap();
    let csv = app.export_board(P, BoardFormat::Csv).await.unwrap();
    assert!(csv.starts_with("Issue key,Issue Type,Summary,Description,Status,Story Points,Assignee,Labels,Labels,Epic Link,Epic Name,Sprint,Created,Updated"), "{csv}");

    // JSON into another project: the same board.
    let r = app
        .import_board(Some("copy"), BoardFormat::Json, json.clone())
        .await
        .unwrap();
    assert_eq!(
        (r.project.as_str(), r.cards_created, r.epics_created),
        ("copy", 2, 1)
    );
    let (orig, copy) = (
        app.board(P).await.unwrap(),
        app.board(Some("copy")).await.unwrap(),
    );
    assert_eq!(copy.cards, orig.cards);
    // CSV into a third: the same issues.
    let r = app
        .import_board(Some("third"), BoardFormat::Csv, csv.clone())
        .await
        .unwrap();
    assert_eq!((r.cards_created, r.epics_created), (2, 1));
    let third = app.board(Some("third")).await.unwrap();
    let epic_title = |b: &BoardData, k: &Option<String>| {
        k.as_ref()
            .and_then(|k| b.epics.iter().find(|e| &e.key == k))
            .map(|e| e.title.clone())
    };
    let fields = |b: &BoardData| {
        b.cards
            .iter()
            .map(|c| {
                (
                    c.title.clone(),
                    c.description.clone(),
                    c.column.clone(),
                    c.points,
                    c.labels.clone(),
                    epic_title(b, &c.epic),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(fields(&third), fields(&orig));
    assert_eq!(
        third.cards[0].key, "THR-2",
        "keys of another prefix get this board's numbers"
    );
    // CSV into the same board: nothing changes.
    let r = app.import_board(P, BoardFormat::Csv, csv).await.unwrap();
    assert_eq!((r.cards_created, r.cards_updated), (0, 0));
    assert_eq!(app.board(P).await.unwrap(), orig);

    // A malformed CSV: refused, the line named, the board as it was (history too).
    let bad = "Summary,Story Points,Status\nNew card,3,To do\nAnother,abc,To do\n";
    let e = app
        .import_board(P, BoardFormat::Csv, bad.into())
        .await
        .unwrap_err();
    assert_eq!(e.what, "Import refused: the board is unchanged");
    assert_eq!(e.why, "line 3: Story Points \"abc\" is not a number");
    assert_eq!(app.export_board(P, BoardFormat::Json).await.unwrap(), json);
    let e = app
        .import_board(
            P,
            BoardFormat::Json,
            "{\"version\": 1,\n\"board\": [}".into(),
        )
        .await
        .unwrap_err();
    assert!(e.why.starts_with("line 2"), "{e}");
    assert_eq!(app.export_board(P, BoardFormat::Json).await.unwrap(), json);
}

fn specs() -> Vec<ResourceSpec> {
    Blueprint {
        project: "shop".into(),
        region: "us-east-1".into(),
        azs: vec!["us-east-1a".into(), "us-east-1b".into()],
        // With the opt-in VMs: every resource group has a card.
        ci_vm: true,
        test_vm: true,
        ..Blueprint::default()
    }
    .resources()
}

fn plan(specs: &[ResourceSpec]) -> Plan {
    Plan {
        project: "shop".into(),
        region: "us-east-1".into(),
        changes: specs
            .iter()
            .map(|r| Change {
                id: r.id.clone(),
                kind: r.kind,
                name: r.name.clone(),
                action: Action::Create,
                reason: None,
                physical_id: None,
                monthly_cost: None,
                cost_note: None,
                expected_secs: 5,
            })
            .collect(),
        monthly_total: 0.0,
        prices: slipway_core::provision::cost::PriceTable::bundled().source("us-east-1"),
        opt_ins: vec![],
    }
}

fn progress(r: &ResourceSpec, phase: Phase, done: u32) -> Event {
    Event::ResourceProgress(ResourceProgress {
        op: Operation::Apply,
        project: "shop".into(),
        id: r.id.clone(),
        kind: r.kind,
        name: r.name.clone(),
        phase,
        cloud_state: None,
        physical_id: None,
        elapsed_ms: 0,
        expected_ms: 0,
        done,
        total: 21,
        error: None,
    })
}

async fn column(app: &Slipway, akey: &str) -> String {
    app.board(P)
        .await
        .unwrap()
        .cards
        .into_iter()
        .find(|c| c.automation_key.as_deref() == Some(akey))
        .map(|c| c.column)
        .unwrap_or_default()
}

#[tokio::test]
async fn plan_and_apply_move_the_provisioning_cards_as_resources_come_up() {
    let d = slipway_testkit::data_dir();
    let app = open(d.path()).await;
    let mut rx = app.subscribe();
    let specs = specs();
    app.board_after_plan("shop", &specs, &plan(&specs)).await;
    let b = app.board(P).await.unwrap();
    assert_eq!(
        b.epics.iter().map(|e| e.title.as_str()).collect::<Vec<_>>(),
        ["Provision shop"]
    );
    assert_eq!(b.cards.len(), 5, "one card per group");
    assert!(b
        .cards
        .iter()
        .all(|c| c.column == "todo" && c.created_by == Actor::Automation));
    let ev = drain(&mut rx);
    assert_eq!(
        (ev.len(), ev[0].1.len(), ev[0].2),
        (1, 5, Actor::Automation)
    );

    // The apply: the database group comes up first; its card moves while the rest still run.
    let db: Vec<ResourceSpec> = specs
        .iter()
        .filter(|r| {
            matches!(
                r.kind,
                ResourceKind::DbSubnetGroup | ResourceKind::DbInstance
            )
        })
        .cloned()
        .collect();
    let vpc = specs.iter().find(|r| r.id == "vpc").unwrap().clone();
    let dbkey = provision_card_key("shop", ResourceGroup::Databases);
    let netkey = provision_card_key("shop", ResourceGroup::Network);
    let bus = app.bus().clone();
    let watcher = app.clone();
    let (dbk, netk) = (dbkey.clone(), netkey.clone());
    let work = async move {
        bus.emit(progress(&vpc, Phase::Creating, 0));
        for r in &db {
            bus.emit(progress(r, Phase::Looking, 0));
            bus.emit(progress(r, Phase::Creating, 0));
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(column(&watcher, &dbk).await, "in-progress");
        assert_eq!(column(&watcher, &netk).await, "in-progress");
        for (i, r) in db.iter().enumerate() {
            bus.emit(progress(r, Phase::Ready, i as u32 + 1));
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(
            column(&watcher, &dbk).await,
            "done",
            "done while the apply still runs"
        );
        assert_eq!(column(&watcher, &netk).await, "in-progress");
        Ok::<_, UserError>(())
    };
    app.with_board_tracking("shop", &specs, work).await.unwrap();
    let b = app.board(P).await.unwrap();
    assert!(
        b.cards.iter().all(|c| c.column == "done"),
        "a finished apply leaves every group done"
    );
    assert!(b.epics[0].done);
    let h = app.board_history(P, None).await.unwrap();
    let db_card = b
        .cards
        .iter()
        .find(|c| c.automation_key.as_deref() == Some(dbkey.as_str()))
        .unwrap();
    let notes: Vec<(Option<&str>, Actor, Option<&str>)> = h
        .moves
        .iter()
        .filter(|m| m.card == db_card.key)
        .map(|m| (m.to.as_deref(), m.by, m.note.as_deref()))
        .collect();
    assert_eq!(
        notes[1],
        (
            Some("in-progress"),
            Actor::Automation,
            Some("apply: DB subnet group shop-db is being created")
        )
    );
    assert_eq!(
        notes[2],
        (
            Some("done"),
            Actor::Automation,
            Some("apply: all 3 resources ready")
        )
    );

    // A failed apply moves nothing to done and still returns its own error.
    app.board_after_plan("shop", &specs, &plan(&specs)).await;
    let e = app
        .with_board_tracking("shop", &specs, async {
            Err::<(), _>(UserError::new("Apply failed", "x", "y"))
        })
        .await
        .unwrap_err();
    assert_eq!(e.what, "Apply failed");
    assert!(
        app.board(P)
            .await
            .unwrap()
            .cards
            .iter()
            .all(|c| c.column == "todo"),
        "the plan reopened them; nothing closed them"
    );
}

fn run(n: u32, failed: Option<StageName>) -> Run {
    let mut r = Run::new("shop", n, Trigger::Manual, "main", None);
    let mut after = false;
    for s in &mut r.stages {
        s.status = if after {
            Status::Skipped
        } else if Some(s.name) == failed {
            after = true;
            s.error = Some(UserError::new(
                "1 test failed",
                "test_pay failed",
                "Fix the test",
            ));
            Status::Failed
        } else {
            Status::Succeeded
        };
    }
    r.status = if failed.is_some() {
        Status::Failed
    } else {
        Status::Succeeded
    };
    r
}

#[tokio::test]
async fn runs_and_deploys_move_their_cards_and_automation_off_moves_nothing() {
    let d = slipway_testkit::data_dir();
    let app = open(d.path()).await;
    let tkey = pipeline_card_key("shop", StageName::Test);
    app.board_after_run(&run(1, Some(StageName::Test)), false)
        .await;
    assert_eq!(column(&app, &tkey).await, "todo");
    app.move_card(P, "1", "done", None).await.unwrap();
    app.board_after_run(&run(2, Some(StageName::Test)), false)
        .await;
    assert_eq!(column(&app, &tkey).await, "todo", "reopened");
    app.board_after_run(&run(3, None), false).await;
    assert_eq!(column(&app, &tkey).await, "done");
    let c = app
        .board(P)
        .await
        .unwrap()
        .cards
        .into_iter()
        .find(|c| c.automation_key.as_deref() == Some(tkey.as_str()))
        .unwrap();
    assert_eq!(
        c.links
            .iter()
            .map(|l| l.target.as_str())
            .collect::<Vec<_>>(),
        ["shop-1", "shop-2", "shop-3"]
    );
    assert_eq!(c.kind, CardKind::Bug);

    let mut rev = Revision {
        project: "shop".into(),
        environment: "staging".into(),
        number: 1,
        operation: DeployOperation::Deploy,
        run: Some("shop-3".into()),
        commit: None,
        rollback_to: None,
        reason: "run shop-3".into(),
        images: vec![],
        context: None,
        namespace: None,
        status: RevisionStatus::InProgress,
        started_at: 1,
        finished_at: None,
        error: None,
        url: None,
        note: None,
    };
    let dkey = deploy_card_key("shop", "staging");
    app.board_on_revision(&rev).await;
    assert_eq!(column(&app, &dkey).await, "in-progress");
    rev.status = RevisionStatus::Succeeded;
    app.board_on_revision(&rev).await;
    assert_eq!(column(&app, &dkey).await, "done");

    // Off: nothing is made, nothing moves, nothing is announced.
    app.set_board_automation(P, false).await.unwrap();
    let before = app.export_board(P, BoardFormat::Json).await.unwrap();
    let mut rx = app.subscribe();
    app.board_after_run(&run(4, Some(StageName::Build)), true)
        .await;
    app.board_after_run(&run(5, Some(StageName::Test)), true)
        .await;
    app.board_after_plan("shop", &specs(), &plan(&specs()))
        .await;
    rev.number = 2;
    app.board_on_revision(&rev).await;
    assert_eq!(
        app.export_board(P, BoardFormat::Json).await.unwrap(),
        before
    );
    assert!(drain(&mut rx).is_empty());
    // A run of a project without a board leaves it without one.
    let mut other = run(1, None);
    other.project = "web".into();
    app.board_after_run(&other, false).await;
    assert_eq!(app.board_projects().await.unwrap(), ["shop"]);
}
