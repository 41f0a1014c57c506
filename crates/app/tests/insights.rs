//! Delivery insights and the audit trail through the service layer, on the real parts: AWS
//! connected to the emulator (an account of its own), a plan and an apply; GitHub through its
//! stand-in; the test registry; pipeline runs on the real dockerd; deploys and a rollback with a
//! reason on the test environment's Kubernetes control plane; a card moved by a person. The four
//! measures count the deploys, the commit's lead time, the rolled-back deploy as a failure and
//! the rollback as its restore; the audit trail has the journey in order, and neither it, its
//! CSV nor its JSON holds any of the secrets used.

use slipway_app::insights::AuditFormat;
use slipway_app::pipeline::ProjectInput;
use slipway_app::{Options, Slipway};
use slipway_core::audit::{AuditAction, AuditFilter};
use slipway_core::board::Actor;
use slipway_core::connections::{AwsConnectInput, GithubConnectInput, RegistryConnectInput};
use slipway_core::deploy::*;
use slipway_core::insights::Band;
use slipway_core::pipeline::project::Source;
use slipway_core::pipeline::run::{Run, StageName, Status, Trigger};
use slipway_core::secrets::Secret;
use slipway_testkit::env;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

async fn open(dir: &Path) -> Arc<Slipway> {
    env("DBUS_SESSION_BUS_ADDRESS");
    env("DOCKER_HOST");
    Slipway::open(Options { data_dir: Some(dir.to_path_buf()), ..Default::default() }).await.unwrap()
}

/// Deletes a namespace when the test ends, passed or not.
struct DeleteNamespace(String);
impl Drop for DeleteNamespace {
    fn drop(&mut self) {
        let _ = Command::new(env("SLIPWAY_TEST_KUBECTL"))
            .args(["--kubeconfig", &env("SLIPWAY_TEST_KUBECONFIG"), "delete", "namespace", &self.0, "--wait=false", "--ignore-not-found"])
            .output();
    }
}

async fn build(app: &Arc<Slipway>, project: &str) -> Run {
    let (_, h) = app.start_run(project, None, Some(StageName::Build), Trigger::Manual).await.unwrap();
    let r = tokio::time::timeout(Duration::from_secs(280), h).await.expect("the run ended").unwrap();
    assert_eq!(r.status, Status::Succeeded, "{:#?}", r.error);
    r
}

#[tokio::test]
async fn a_journey_shows_in_the_four_measures_and_in_the_audit_trail_without_a_secret() {
    // Secrets of the journey: the AWS secret key, the GitHub token, the registry password.
    let aws_secret = format!("aws-secret-{}", slipway_core::secrets::random_hex(8));
    let gh_token = format!("ghp_insights_{}", slipway_core::secrets::random_hex(8));
    let registry_password = env("SLIPWAY_TEST_REGISTRY_PASSWORD");
    let moto = env("SLIPWAY_TEST_MOTO_URL");
    std::env::set_var("SLIPWAY_MOTO_ACCOUNT_ID", slipway_testkit::moto_account());
    let d = slipway_testkit::data_dir();
    let app = open(d.path()).await;
    let id = format!("ins-{}", slipway_core::secrets::random_hex(3));
    let ns = id.clone();
    let _ns = DeleteNamespace(ns.clone());

    // Connect.
    app.connect_aws(AwsConnectInput::StaticKeys {
        access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
        secret_access_key: Secret::new(aws_secret.clone()),
        session_token: None,
        region: Some("us-east-1".into()),
        endpoint: Some(moto.clone()),
    })
    .await
    .unwrap();
    let gh = slipway_testkit::github_stand_in(&gh_token, "octocat").await;
    app.connect_github(GithubConnectInput { token: Some(Secret::new(gh_token.clone())), base_url: Some(gh.uri()) }).await.unwrap();
    app.connect_registry(RegistryConnectInput {
        registry: env("SLIPWAY_TEST_REGISTRY"),
        username: env("SLIPWAY_TEST_REGISTRY_USER"),
        password: Some(Secret::new(registry_password.clone())),
    })
    .await
    .unwrap();

    // Plan and apply (the infrastructure's blueprint, before the project exists).
    let infra = format!("{id}-infra");
    let plan = app.plan(Some(&infra)).await.unwrap();
    app.apply(Some(&infra)).await.unwrap();

    // The project, its cluster environment, and a first deploy of commit A.
    let repo = slipway_testkit::web_repo();
    let p = app.detect_project(ProjectInput { source: Source::Path { path: repo.path().to_string_lossy().into() }, id: Some(id.clone()) }).await.unwrap();
    app.save_project(p).await.unwrap();
    app.save_environment(Environment {
        project: id.clone(),
        name: "live".into(),
        target: EnvironmentTarget::Kubernetes(KubeTarget {
            kubeconfig: Some(env("SLIPWAY_TEST_KUBECONFIG")),
            namespace: Some(ns.clone()),
            progress_deadline_secs: Some(120),
            ..Default::default()
        }),
        runs: false,
    })
    .await
    .unwrap();
    let a = build(&app, &id).await;
    assert!(a.commit_time.is_some(), "the checkout records the commit's time");
    let rev1 = app.deploy(Some(&id), None, Some(&a.id)).await.unwrap();
    assert_eq!(rev1.status, RevisionStatus::Succeeded);

    // Commit B, deployed, then rolled back with a reason.
    std::fs::write(repo.path().join("web/VERSION"), "b\n").unwrap();
    slipway_testkit::commit_all(repo.path(), "release B");
    let b = build(&app, &id).await;
    let rev2 = app.deploy(Some(&id), None, Some(&b.id)).await.unwrap();
    assert_eq!((rev2.number, rev2.status), (2, RevisionStatus::Succeeded));
    let rev3 = app.rollback(Some(&id), None, None, "B answers 500 on /cart").await.unwrap();
    assert_eq!((rev3.number, rev3.rollback_to, rev3.status), (3, Some(1), RevisionStatus::Succeeded));

    // A person moves a card.
    let board = app.board(Some(&id)).await.unwrap();
    let card = board.cards.first().expect("the project has cards (the deploy card at least)").key.clone();
    let to = board.board.columns.iter().find(|c| c.name == "In review").unwrap().id.clone();
    app.move_card(Some(&id), &card, &to, None).await.unwrap();

    // The measures: 2 deploys ready in the window, 2 changes (A and B) with lead times from
    // their commit times, 1 of 2 deploys failed (B, rolled back), restored once by revision 3.
    let ins = app.insights(Some(&id), Some("live"), Some(7)).await.unwrap();
    assert_eq!(ins.environments.len(), 1);
    let e = &ins.environments[0];
    assert_eq!(e.deployment_frequency.deploys, 2);
    assert_eq!(e.deployment_frequency.band, Some(Band::High), "2 a week");
    assert_eq!((e.lead_time.changes, e.lead_time.without_commit_time), (2, 0));
    let lead_a = rev1.finished_at.unwrap() - a.commit_time.unwrap();
    let lead_b = rev2.finished_at.unwrap() - b.commit_time.unwrap();
    assert!(lead_a >= 0 && lead_b >= 0, "commits precede their deploys");
    assert_eq!(e.lead_time.median_ms, Some((lead_a + lead_b) / 2));
    assert_eq!(e.lead_time.p90_ms, Some(lead_a.max(lead_b)));
    assert_eq!(e.lead_time.band, Some(Band::Elite));
    assert_eq!((e.change_failure_rate.deploys, e.change_failure_rate.failed, e.change_failure_rate.failed_revisions.clone()), (2, 1, vec![2]));
    assert_eq!((e.change_failure_rate.rate, e.change_failure_rate.band), (Some(0.5), Some(Band::Low)));
    assert_eq!(e.time_to_restore.restores, 1);
    assert_eq!(e.time_to_restore.median_ms, Some(rev3.finished_at.unwrap() - rev2.finished_at.unwrap()));
    assert_eq!(e.time_to_restore.band, Some(Band::Elite));
    assert_eq!(e.weeks.iter().map(|w| w.deploys).sum::<u32>(), 2);
    assert!(app.delivery_line(&id).await.unwrap().unwrap().starts_with("2 deploys this week, lead time "));
    // Bad input: a clear error.
    assert_eq!(app.insights(Some(&id), Some("nowhere"), None).await.unwrap_err().what, "Environment not found");
    assert_eq!(app.insights(Some(&id), None, Some(0)).await.unwrap_err().what, "The window is not valid");

    // The audit trail: the journey in order, who and why.
    let all = app.audit(AuditFilter::default()).await.unwrap();
    let steps: Vec<(AuditAction, String, String)> = all.iter().map(|e| (e.action, e.subject.clone(), e.outcome.clone())).collect();
    let pos = |action: AuditAction, subject: &str, outcome: &str| {
        steps
            .iter()
            .position(|s| s.0 == action && s.1.starts_with(subject) && s.2 == outcome)
            .unwrap_or_else(|| panic!("no {action:?} {subject} {outcome} in {steps:#?}"))
    };
    let order = [
        pos(AuditAction::Connect, "aws", "connected"),
        pos(AuditAction::Connect, "github", "connected"),
        pos(AuditAction::Connect, "registry", "connected"),
        pos(AuditAction::Plan, &format!("blueprint {infra}"), "succeeded"),
        pos(AuditAction::Apply, &format!("blueprint {infra}"), "succeeded"),
        pos(AuditAction::Run, &format!("run {}", a.id), "queued"),
        pos(AuditAction::Run, &format!("run {}", a.id), "succeeded"),
        pos(AuditAction::Deploy, "revision 1", "started"),
        pos(AuditAction::Deploy, "revision 1", "succeeded"),
        pos(AuditAction::Deploy, "revision 2", "succeeded"),
        pos(AuditAction::Rollback, "revision 3", "started"),
        pos(AuditAction::Rollback, "revision 3", "succeeded"),
    ];
    assert!(order.windows(2).all(|w| w[0] < w[1]), "in order: {order:?} in {steps:#?}");
    let os_user = slipway_core::audit::os_user();
    assert!(all.iter().all(|e| e.os_user == os_user));
    let aws = &all[order[0]];
    assert!(aws.identity.as_deref().unwrap().starts_with("aws: account "), "{aws:?}");
    let apply = &all[order[4]];
    let creates = plan.changes.iter().filter(|c| c.action == slipway_core::provision::plan::Action::Create).count();
    assert!(apply.detail.starts_with(&format!("{creates} created, ")), "{apply:?}");
    assert!(apply.identity.as_deref().unwrap().starts_with("aws: account "), "{apply:?}");
    let rb = &all[order[11]];
    assert_eq!(rb.reason.as_deref(), Some("rollback to revision 1: B answers 500 on /cart"));
    assert_eq!(rb.environment.as_deref(), Some("live"));
    assert!(rb.identity.as_deref().unwrap().contains(&format!("namespace {ns}")), "{rb:?}");
    assert!(rb.detail.starts_with("back to revision 1; commit "), "{rb:?}");
    // Board moves: by automation (the deploy card) and by the person, each in the trail.
    let moves = app.audit(AuditFilter { project: Some(id.clone()), action: Some(AuditAction::BoardMove), ..Default::default() }).await.unwrap();
    assert!(moves.iter().any(|m| m.by == Actor::Automation), "{moves:#?}");
    let mine = moves.iter().find(|m| m.by == Actor::User && m.subject.starts_with(&card) && m.detail.ends_with("to In review")).unwrap_or_else(|| panic!("{moves:#?}"));
    assert!(mine.id > all[order[11]].id, "the person's move comes after the rollback");
    // Filters.
    let rollbacks = app.audit(AuditFilter { action: Some(AuditAction::Rollback), ..Default::default() }).await.unwrap();
    assert_eq!(rollbacks.len(), 2, "started and succeeded");
    let found = app.audit(AuditFilter { text: Some("answers 500".into()), ..Default::default() }).await.unwrap();
    assert!(found.iter().all(|e| e.action == AuditAction::Rollback) && !found.is_empty());
    assert!(app.audit(AuditFilter { limit: Some(0), ..Default::default() }).await.is_err());

    // Exports: CSV read back by a CSV reader, JSON equal to the list.
    let csv = app.audit_export(AuditFilter { project: Some(id.clone()), ..Default::default() }, AuditFormat::Csv).await.unwrap();
    let mut rdr = csv::Reader::from_reader(csv.as_bytes());
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    let mine_all = app.audit(AuditFilter { project: Some(id.clone()), ..Default::default() }).await.unwrap();
    assert_eq!(rows.len(), mine_all.len());
    assert!(rows.iter().any(|r| &r[5] == "rollback" && r[11].contains("B answers 500")));
    let json = app.audit_export(AuditFilter::default(), AuditFormat::Json).await.unwrap();
    let back: Vec<slipway_core::audit::AuditEntry> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, app.audit(AuditFilter::default()).await.unwrap());

    // No secret anywhere in the trail, its exports, or the store file that holds it.
    let db = std::fs::read(d.path().join("slipway.db")).unwrap();
    for secret in [&aws_secret, &gh_token, &registry_password] {
        for (what, text) in [("CSV", &csv), ("JSON", &json)] {
            assert!(!text.contains(secret.as_str()), "the {what} export holds a secret");
        }
        assert!(!String::from_utf8_lossy(&db).contains(secret.as_str()), "the store holds a secret");
    }
}
