//! The journey's joins, through the service layer with the real parts: the sandbox maps EKS to
//! the test environment's Kubernetes cluster (its kubelet runs on the same Docker engine, so the
//! images need no registry) and RDS to MariaDB in the cluster; apply turns an active cluster into
//! the project's live and test environments (on real AWS: an exec kubeconfig context that runs
//! this binary, and the RDS databases); a missing or silent local cluster stops apply before
//! anything is created.

use slipway_app::pipeline::ProjectInput;
use slipway_app::{Options, Slipway};
use slipway_core::connections::AwsConnectInput;
use slipway_core::deploy::{EnvironmentTarget, KubeDatabase};
use slipway_core::launch::{LaunchAction, LaunchStepId, LaunchStepStatus};
use slipway_core::pipeline::project::Source;
use slipway_core::provision::plan::Action;
use slipway_core::sandbox::ImageRoute;
use slipway_core::secrets::Secret;
use slipway_core::settings::Settings;
use slipway_testkit::env;
use std::path::Path;
use std::sync::Arc;

async fn open(dir: &Path) -> Arc<Slipway> {
    std::env::set_var("SLIPWAY_SANDBOX_VENV", env("SLIPWAY_MOTO_VENV"));
    env("DBUS_SESSION_BUS_ADDRESS");
    Slipway::open(Options { data_dir: Some(dir.to_path_buf()), ..Default::default() }).await.unwrap()
}

struct StopSandbox(Arc<Slipway>);
impl Drop for StopSandbox {
    fn drop(&mut self) {
        let app = self.0.clone();
        std::thread::spawn(move || tokio::runtime::Runtime::new().unwrap().block_on(app.sandbox_stop()).ok()).join().ok();
    }
}

fn git(dir: &Path, args: &[&str]) {
    let out = std::process::Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@slipway.invalid", "-c", "init.defaultBranch=main"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A one-service repository (nothing is built in these tests).
fn tiny_repo() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("Dockerfile"), "FROM slipway/busybox:latest\nEXPOSE 8080\nCMD [\"httpd\", \"-f\", \"-p\", \"8080\"]\n").unwrap();
    git(d.path(), &["init", "-q"]);
    git(d.path(), &["add", "-A"]);
    git(d.path(), &["commit", "-q", "-m", "tiny"]);
    d
}

async fn add_project(app: &Slipway, repo: &Path, id: &str) {
    app.launch_add_project(ProjectInput { source: Source::Path { path: repo.display().to_string() }, id: Some(id.into()) }).await.unwrap();
}

async fn use_test_cluster(app: &Slipway, context: &str, kubeconfig: &str) {
    let s = Settings { sandbox_context: Some(context.into()), sandbox_kubeconfig: Some(kubeconfig.into()), ..app.settings().await.unwrap() };
    app.save_settings(s).await.unwrap();
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", slipway_core::secrets::random_hex(3))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sandbox_maps_eks_to_the_local_cluster_and_apply_makes_the_environments() {
    let d = slipway_testkit::data_dir();
    let app = open(d.path()).await;
    let _stop = StopSandbox(app.clone());
    let repo = tiny_repo();
    let id = unique("tiny");
    app.connect_aws(AwsConnectInput::Sandbox { region: None }).await.unwrap();
    add_project(&app, repo.path(), &id).await;
    use_test_cluster(&app, "slipway-test", &env("SLIPWAY_TEST_KUBECONFIG")).await;

    // The UI says what stands in for each part.
    let m = app.sandbox_mappings().await;
    let part = |p: &str| m.iter().find(|x| x.part == p).unwrap().clone();
    assert!(part("EKS").maps_to.contains("context slipway-test"), "{m:?}");
    assert!(part("EKS").error.is_none(), "{m:?}");
    assert!(part("ECR").maps_to.contains("same engine"), "the test kubelet runs on this dockerd: {m:?}");
    assert!(part("RDS").maps_to.contains("MariaDB in the cluster"), "{m:?}");
    assert_eq!(app.sandbox_cluster().await.unwrap().images, ImageRoute::SharedEngine);

    // Launch: plan (cost remembered), apply (the project's own blueprint).
    let state = app.launch_state(None).await.unwrap();
    let infra = state.steps.iter().find(|s| s.id == LaunchStepId::Infrastructure).unwrap();
    assert_eq!((infra.status, infra.action), (LaunchStepStatus::Current, Some(LaunchAction::Plan)), "{infra:?}");
    let plan = app.launch_plan(None).await.unwrap();
    assert_eq!(plan.project, id, "the blueprint is the project's");
    assert!(plan.count(Action::Create) > 10);
    let state = app.launch_state(None).await.unwrap();
    assert_eq!(state.steps[2].action, Some(LaunchAction::Apply), "{:?}", state.steps[2]);
    app.apply(Some(&id)).await.unwrap();

    // The cluster became the project's environments: live and test, with MariaDB in the cluster.
    let envs = app.environments(Some(&id)).await.unwrap();
    let get = |n: &str| envs.iter().find(|e| e.name == n).unwrap_or_else(|| panic!("no {n} in {envs:?}")).clone();
    let (live, test) = (get("live"), get("test"));
    let EnvironmentTarget::Kubernetes(lk) = &live.target else { panic!("{live:?}") };
    let EnvironmentTarget::Kubernetes(tk) = &test.target else { panic!("{test:?}") };
    assert_eq!(lk.context.as_deref(), Some("slipway-test"));
    assert_eq!(lk.namespace.as_deref(), Some(id.as_str()));
    assert_eq!(tk.namespace.as_deref(), Some(format!("{id}-test").as_str()));
    assert_eq!((lk.database.clone(), tk.database.clone()), (KubeDatabase::InCluster, KubeDatabase::InCluster));
    assert!(!live.runs && test.runs, "runs deploy to test; live is deployed on purpose");
    let state = app.launch_state(None).await.unwrap();
    let infra = state.steps.iter().find(|s| s.id == LaunchStepId::Infrastructure).unwrap();
    assert_eq!(infra.status, LaunchStepStatus::Done, "{infra:?}");
    assert!(infra.detail.contains("slipway-test"), "{infra:?}");

    // A second apply creates nothing, and an environment a person edited is kept as edited.
    let mut mine = live.clone();
    if let EnvironmentTarget::Kubernetes(k) = &mut mine.target {
        k.namespace = Some(format!("{id}-mine"));
    }
    app.save_environment(mine.clone()).await.unwrap();
    let r = app.apply(Some(&id)).await.unwrap();
    assert_eq!(r.created, 0, "{r:?}");
    let again = app.environments(Some(&id)).await.unwrap();
    assert_eq!(again.len(), 2);
    assert_eq!(again.iter().find(|e| e.name == "live").unwrap(), &mine);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_local_cluster_or_a_silent_one_stops_apply_before_anything_is_created() {
    let d = slipway_testkit::data_dir();
    let app = open(d.path()).await;
    let _stop = StopSandbox(app.clone());
    // The test environment names its cluster for the sandbox; this test is about having none.
    std::env::remove_var("SLIPWAY_SANDBOX_CONTEXT");
    std::env::remove_var("SLIPWAY_SANDBOX_KUBECONFIG");
    let repo = tiny_repo();
    let id = unique("nocluster");
    app.connect_aws(AwsConnectInput::Sandbox { region: None }).await.unwrap();
    add_project(&app, repo.path(), &id).await;

    // A kubeconfig with no local cluster in it.
    let empty = d.path().join("empty-kubeconfig");
    std::fs::write(&empty, "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n").unwrap();
    let s = Settings { sandbox_kubeconfig: Some(empty.display().to_string()), ..app.settings().await.unwrap() };
    app.save_settings(s).await.unwrap();
    let e = app.apply(Some(&id)).await.unwrap_err();
    assert_eq!(e.what, "No local Kubernetes cluster for the sandbox", "{e}");
    assert!(e.fix.contains("kind create cluster"), "{e}");
    let m = app.sandbox_mappings().await;
    assert!(m.iter().find(|x| x.part == "EKS").unwrap().error.is_some(), "the UI shows it: {m:?}");

    // A kind context whose API server is down.
    let port = slipway_testkit::closed_port();
    let down = d.path().join("down-kubeconfig");
    std::fs::write(
        &down,
        format!("apiVersion: v1\nkind: Config\ncurrent-context: kind-dev\nclusters:\n- name: kind-dev\n  cluster: {{server: \"https://127.0.0.1:{port}\", insecure-skip-tls-verify: true}}\ncontexts:\n- name: kind-dev\n  context: {{cluster: kind-dev, user: u}}\nusers:\n- name: u\n  user: {{token: x}}\n"),
    )
    .unwrap();
    let s = Settings { sandbox_kubeconfig: Some(down.display().to_string()), ..app.settings().await.unwrap() };
    app.save_settings(s).await.unwrap();
    let e = app.apply(Some(&id)).await.unwrap_err();
    assert!(e.what.contains("kind-dev") && e.what.contains("does not answer"), "{e}");

    // Nothing was created, and no environment was made.
    let plan = app.plan(Some(&id)).await.unwrap();
    assert!(plan.changes.iter().all(|c| c.action == Action::Create), "{:?}", plan.changes);
    assert!(app.resources(Some(&id)).await.unwrap().is_empty());
    assert!(app.environments(Some(&id)).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_aws_apply_writes_an_exec_context_for_this_binary_and_rds_environments() {
    let d = slipway_testkit::data_dir();
    let kubeconfig = d.path().join("kube/config");
    std::env::set_var("KUBECONFIG", &kubeconfig);
    std::env::set_var("SLIPWAY_MOTO_ACCOUNT_ID", slipway_testkit::moto_account());
    let app = open(d.path()).await;
    let repo = tiny_repo();
    let id = unique("onaws");
    app.connect_aws(AwsConnectInput::StaticKeys {
        access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
        secret_access_key: Secret::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        session_token: None,
        region: Some("us-east-1".into()),
        endpoint: Some(env("SLIPWAY_TEST_MOTO_URL")),
    })
    .await
    .unwrap();
    add_project(&app, repo.path(), &id).await;
    assert!(app.sandbox_mappings().await.is_empty(), "no stand-ins on AWS");
    app.apply(Some(&id)).await.unwrap();

    // The context runs this very binary with this data folder: nothing needed on PATH.
    let kc: serde_json::Value = read_yaml(&kubeconfig);
    let ctx = format!("slipway-{id}");
    let user = kc["users"].as_array().unwrap().iter().find(|u| u["name"] == ctx.as_str()).unwrap_or_else(|| panic!("{kc}"));
    let exec = &user["user"]["exec"];
    assert_eq!(exec["command"].as_str().unwrap(), std::env::current_exe().unwrap().display().to_string());
    let args: Vec<&str> = exec["args"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
    assert_eq!(args[..2], ["eks-token", "--cluster"]);
    assert!(args.windows(2).any(|w| w == ["--data-dir", &d.path().display().to_string()]), "{args:?}");

    let envs = app.environments(Some(&id)).await.unwrap();
    for (name, db) in [("live", "db-live"), ("test", "db-test")] {
        let e = envs.iter().find(|e| e.name == name).unwrap_or_else(|| panic!("{envs:?}"));
        let EnvironmentTarget::Kubernetes(k) = &e.target else { panic!() };
        assert_eq!(k.context.as_deref(), Some(ctx.as_str()));
        assert_eq!(k.kubeconfig.as_deref(), Some(kubeconfig.display().to_string().as_str()));
        assert_eq!(k.database, KubeDatabase::Rds { blueprint: Some(id.clone()), instance: Some(db.into()) });
    }
    app.destroy(Some(&id)).await.unwrap();
}

/// The kubeconfig, read as YAML.
fn read_yaml(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap();
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}
