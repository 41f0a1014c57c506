//! One project: what earlier versions kept under the default project `slipway` (the blueprint,
//! its board with the provisioning cards) moves to the user's single pipeline project when the
//! store is opened through `Slipway`; what cannot move (applied infrastructure, or several
//! projects to choose from) stays, nothing is lost, and `doctor` says how to handle it. The
//! old-shape data is written straight into the store, as an earlier version left it.

use slipway_app::{Options, Slipway};
use slipway_core::board::automation::{on_plan, provision_card_key, provision_epic_key, ResourceGroup};
use slipway_core::board::{Actor, CardInput};
use slipway_core::pipeline::project::{Project, ServiceSpec, Source};
use slipway_core::provision::{Blueprint, Observed, ResourceKind};
use slipway_core::store::Store;
use std::path::Path;
use std::sync::Arc;

const OLD: &str = "slipway";

async fn open(dir: &Path) -> Arc<Slipway> {
    Slipway::open(Options { data_dir: Some(dir.to_path_buf()), ..Default::default() }).await.unwrap()
}

fn project(id: &str) -> Project {
    Project {
        id: id.into(),
        source: Source::Path { path: "/nowhere".into() },
        git_ref: "HEAD".into(),
        services: vec![ServiceSpec { name: "web".into(), ..Default::default() }],
        ..Default::default()
    }
}

/// What an earlier version left: a saved blueprint for `slipway` (a parameter changed), its
/// board with the provisioning epic and cards from a plan, and a card the user added there.
async fn old_shape(dir: &Path, projects: &[&str], applied: bool) -> Blueprint {
    let st = Store::open(dir).unwrap();
    // As blueprints were then: the CI and test VMs always in.
    let bp = Blueprint { project: OLD.into(), node_count: 3, admin_cidr: "203.0.113.7/32".into(), ci_vm: true, test_vm: true, ..Blueprint::default() };
    st.save_blueprint(&bp).await.unwrap();
    let specs = bp.resources();
    st.update_board(OLD, move |s| {
        on_plan(s, OLD, &specs, None, 10);
        s.add_card(CardInput { title: "Ask for a bigger quota".into(), points: Some(3), ..Default::default() }, Actor::User, 11)?;
        Ok(())
    })
    .await
    .unwrap();
    if applied {
        st.save_resource(
            OLD,
            &Observed { kind: ResourceKind::Vpc, logical_id: Some("vpc".into()), physical_id: "vpc-0abc".into(), state: "available".into(), ready: true, failed: false, attrs: serde_json::json!({"cidr": "10.20.0.0/16"}) },
        )
        .await
        .unwrap();
    }
    for p in projects {
        st.save_project(&project(p)).await.unwrap();
    }
    bp
}

#[tokio::test]
async fn the_default_projects_blueprint_and_board_move_to_the_only_project_and_nothing_is_lost() {
    let d = slipway_testkit::data_dir();
    let old = old_shape(d.path(), &["shop"], false).await;
    let before = Store::open(d.path()).unwrap().board(OLD).await.unwrap().unwrap();
    assert_eq!(before.cards.len(), 6, "five provisioning group cards and the user's card");

    for round in 0..2 {
        let app = open(d.path()).await;
        // The blueprint is the project's now: named after it, the user's parameters kept, the
        // project's service getting its ECR repository.
        let bp = app.blueprint(None).await.unwrap();
        assert_eq!(bp.project, "shop", "round {round}");
        assert_eq!(bp.node_count, 3, "the parameter the user changed is kept");
        assert_eq!(bp.admin_cidr, old.admin_cidr);
        assert_eq!(bp.services, ["web"]);
        assert_eq!(app.blueprint(Some("shop")).await.unwrap(), bp);

        // The board too: every card, epic and move, under the project.
        let board = app.board(None).await.unwrap();
        assert_eq!(board.board.project, "shop");
        assert_eq!(board.cards.len(), before.cards.len());
        let titles = |cards: &[slipway_core::board::Card]| cards.iter().map(|c| (c.key.clone(), c.title.clone(), c.column.clone())).collect::<Vec<_>>();
        assert_eq!(titles(&board.cards), titles(&before.cards));
        assert!(board.cards.iter().any(|c| c.title == "Ask for a bigger quota" && c.points == Some(3)));
        // The provisioning cards now follow the project's plans and applies.
        let st = Store::open(d.path()).unwrap();
        let moved = st.board("shop").await.unwrap().unwrap();
        assert_eq!(moved.moves.len(), before.moves.len());
        assert!(moved.automated_card(&provision_card_key("shop", ResourceGroup::Network)).is_some());
        assert!(moved.automated_card(&provision_card_key(OLD, ResourceGroup::Network)).is_none());
        assert!(moved.epics.iter().any(|e| e.automation_key.as_deref() == Some(provision_epic_key("shop").as_str())));

        // Nothing is left under the old id, and nothing to report.
        assert!(st.blueprint(OLD).await.unwrap().is_none());
        assert!(st.board(OLD).await.unwrap().is_none());
        assert_eq!(st.board_projects().await.unwrap(), ["shop"]);
        assert!(app.doctor().await.unwrap().notices.is_empty());
    }
}

#[tokio::test]
async fn applied_infrastructure_stays_under_its_id_and_doctor_says_how_to_handle_it() {
    let d = slipway_testkit::data_dir();
    old_shape(d.path(), &["shop"], true).await;
    for _ in 0..2 {
        let app = open(d.path()).await;
        let st = Store::open(d.path()).unwrap();
        // The board moves; the blueprint and the resources stay with what AWS knows them by.
        assert!(st.board(OLD).await.unwrap().is_none());
        assert_eq!(st.board("shop").await.unwrap().unwrap().cards.len(), 6);
        assert_eq!(st.blueprint(OLD).await.unwrap().unwrap().node_count, 3);
        assert_eq!(st.resources(OLD).await.unwrap().len(), 1);
        assert_eq!(app.resources(Some(OLD)).await.unwrap()[0].physical_id, "vpc-0abc");
        let notices = app.doctor().await.unwrap().notices;
        assert_eq!(notices.len(), 1, "{notices:?}");
        let n = &notices[0];
        assert_eq!(n.what, "Data of the old default project is kept apart");
        assert!(n.why.contains("1 resources applied") && n.why.contains("project shop"), "{n}");
        assert!(n.fix.contains("--project slipway") && n.fix.contains("slipway destroy --project slipway"), "{n}");
    }
}

#[tokio::test]
async fn with_several_projects_nothing_moves_and_doctor_says_so() {
    let d = slipway_testkit::data_dir();
    old_shape(d.path(), &["shop", "blog"], false).await;
    let app = open(d.path()).await;
    let st = Store::open(d.path()).unwrap();
    assert_eq!(st.blueprint(OLD).await.unwrap().unwrap().node_count, 3);
    assert_eq!(st.board(OLD).await.unwrap().unwrap().cards.len(), 6);
    assert!(st.blueprint("shop").await.unwrap().is_none() && st.board("shop").await.unwrap().is_none());
    let notices = app.doctor().await.unwrap().notices;
    assert_eq!(notices.len(), 1);
    assert!(notices[0].why.contains("2 projects (blog, shop)") || notices[0].why.contains("2 projects (shop, blog)"), "{}", notices[0]);
    assert!(notices[0].why.contains("a blueprint, a board"), "{}", notices[0]);
    // Still reachable by its id.
    assert_eq!(app.blueprint(Some(OLD)).await.unwrap().node_count, 3);
}

#[tokio::test]
async fn a_project_with_its_own_board_and_blueprint_keeps_them_and_the_old_ones_stay() {
    let d = slipway_testkit::data_dir();
    old_shape(d.path(), &["shop"], false).await;
    {
        let st = Store::open(d.path()).unwrap();
        st.save_blueprint(&Blueprint { project: "shop".into(), node_count: 5, ..Blueprint::default() }).await.unwrap();
        st.update_board("shop", |s| s.add_card(CardInput { title: "Mine".into(), ..Default::default() }, Actor::User, 1).map(|_| ())).await.unwrap();
    }
    let app = open(d.path()).await;
    let st = Store::open(d.path()).unwrap();
    assert_eq!(st.blueprint("shop").await.unwrap().unwrap().node_count, 5);
    assert_eq!(st.board("shop").await.unwrap().unwrap().cards.len(), 1);
    assert_eq!(st.blueprint(OLD).await.unwrap().unwrap().node_count, 3);
    assert_eq!(st.board(OLD).await.unwrap().unwrap().cards.len(), 6);
    let n = app.doctor().await.unwrap().notices;
    assert!(n[0].why.contains("its board (project shop has a board of its own)") && n[0].why.contains("its blueprint"), "{n:?}");
}

#[tokio::test]
async fn before_any_project_the_default_project_keeps_its_data() {
    let d = slipway_testkit::data_dir();
    old_shape(d.path(), &[], false).await;
    let app = open(d.path()).await;
    assert_eq!(app.blueprint(None).await.unwrap().project, OLD);
    assert_eq!(app.board(None).await.unwrap().cards.len(), 6);
    assert!(app.doctor().await.unwrap().notices.is_empty());
}

/// The move happens when the data folder is opened, never under an open page: a project saved
/// while the app runs (the Project page) leaves the default board where it is until the next
/// start, and `doctor` (which every page calls) only looks.
#[tokio::test]
async fn a_project_saved_while_the_app_runs_moves_nothing_until_the_next_open() {
    let d = slipway_testkit::data_dir();
    old_shape(d.path(), &[], false).await;
    let app = open(d.path()).await;
    Store::open(d.path()).unwrap().save_project(&project("shop")).await.unwrap();
    assert!(app.doctor().await.unwrap().notices.is_empty());
    let st = Store::open(d.path()).unwrap();
    assert!(st.board(OLD).await.unwrap().is_some(), "the default board stays while the app runs");
    assert!(st.board("shop").await.unwrap().is_none());
    assert!(st.blueprint(OLD).await.unwrap().is_some());
    drop(app);
    let app = open(d.path()).await;
    assert_eq!(app.board(None).await.unwrap().board.project, "shop");
    assert!(st.board(OLD).await.unwrap().is_none(), "moved at the next open");
}
