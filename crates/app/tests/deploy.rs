//! Deployments to Kubernetes through the service layer, on the test environment's real control
//! plane (a real kubelet running pods on the local dockerd, cluster DNS, kube-proxy node ports)
//! with images built by the pipeline on the same dockerd: the sample app's manifests deployed by
//! a pipeline run and answering through NGINX with rows from the in-cluster MariaDB; redeploy
//! (a new ReplicaSet) and rollback (the earlier image set, with its reason); a bad image named
//! with its pod and reason, and the previous revision serving again; bad input refused with
//! what / why / next. Each test has its own namespace and removes it.

use slipway_app::pipeline::ProjectInput;
use slipway_app::{Options, Slipway};
use slipway_core::connections::{ConnectionState, RegistryConnectInput};
use slipway_core::deploy::*;
use slipway_core::events::Event;
use slipway_core::pipeline::project::Source;
use slipway_core::pipeline::run::{ImageArtifact, Run, StageName, Status, Trigger};
use slipway_core::secrets::Secret;
use slipway_testkit::env;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

async fn open(dir: &Path) -> Arc<Slipway> {
    env("DBUS_SESSION_BUS_ADDRESS");
    env("DOCKER_HOST");
    Slipway::open(Options {
        data_dir: Some(dir.to_path_buf()),
        ..Default::default()
    })
    .await
    .unwrap()
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", slipway_core::secrets::random_hex(3))
}

fn kubectl(args: &[&str]) -> String {
    let out = Command::new(env("SLIPWAY_TEST_KUBECTL"))
        .arg("--kubeconfig")
        .arg(env("SLIPWAY_TEST_KUBECONFIG"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "kubectl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn kubectl_json(args: &[&str]) -> serde_json::Value {
    let mut a = args.to_vec();
    a.extend(["-o", "json"]);
    serde_json::from_str(&kubectl(&a)).unwrap()
}

/// Deletes a namespace when the test ends, passed or not.
struct DeleteNamespace(String);
impl Drop for DeleteNamespace {
    fn drop(&mut self) {
        let _ = Command::new(env("SLIPWAY_TEST_KUBECTL"))
            .args([
                "--kubeconfig",
                &env("SLIPWAY_TEST_KUBECONFIG"),
                "delete",
                "namespace",
                &self.0,
                "--wait=false",
                "--ignore-not-found",
            ])
            .output();
    }
}

async fn add(app: &Slipway, repo: &Path, id: &str) {
    let p = app
        .detect_project(ProjectInput {
            source: Source::Path {
                path: repo.to_string_lossy().into(),
            },
            id: Some(id.into()),
        })
        .await
        .unwrap();
    app.save_project(p).await.unwrap();
}

fn kube_env(project: &str, ns: &str, runs: bool) -> Environment {
    Environment {
        project: project.into(),
        name: "cluster".into(),
        target: EnvironmentTarget::Kubernetes(KubeTarget {
            kubeconfig: Some(env("SLIPWAY_TEST_KUBECONFIG")),
            namespace: Some(ns.into()),
            progress_deadline_secs: Some(120),
            ..Default::default()
        }),
        runs,
    }
}

async fn run_until(app: &Arc<Slipway>, project: &str, until: Option<StageName>) -> Run {
    let (_, h) = app
        .start_run(project, None, until, Trigger::Manual)
        .await
        .unwrap();
    let r = tokio::time::timeout(Duration::from_secs(280), h)
        .await
        .expect("the run ended")
        .unwrap();
    assert_eq!(r.status, Status::Succeeded, "{:#?}", r.error);
    r
}

/// GET through the app's URL until it answers 200 (cluster DNS and endpoints catch up with
/// the rollout within seconds); the body.
async fn page(url: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut last: String;
    loop {
        match reqwest::Client::new()
            .get(url)
            .timeout(Duration::from_secs(10))
            .send()
            .await
        {
            Ok(r) if r.status() == 200 => return r.text().await.unwrap(),
            Ok(r) => last = format!("{} {}", r.status(), r.text().await.unwrap_or_default()),
            Err(e) => last = e.to_string(),
        }
        assert!(
            Instant::now() < deadline,
            "{url} did not answer 200: {last}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn deployment_images(ns: &str, name: &str) -> Vec<String> {
    let d = kubectl_json(&["-n", ns, "get", "deployment", name]);
    d["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["image"].as_str().unwrap().to_string())
        .collect()
}

/// (name, desired, ready) of a Deployment's ReplicaSets.
fn replica_sets(ns: &str, deployment: &str) -> Vec<(String, i64, i64)> {
    let l = kubectl_json(&["-n", ns, "get", "replicasets"]);
    l["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|rs| rs["metadata"]["ownerReferences"][0]["name"] == deployment)
        .map(|rs| {
            (
                rs["metadata"]["name"].as_str().unwrap().to_string(),
                rs["spec"]["replicas"].as_i64().unwrap_or(0),
                rs["status"]["readyReplicas"].as_i64().unwrap_or(0),
            )
        })
        .collect()
}

/// Every file under `dir` that contains `needle`.
fn files_containing(dir: &Path, needle: &[u8]) -> Vec<String> {
    let mut hits = vec![];
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n == "work") {
                    continue; // checkouts of the test repository
                }
                stack.push(p);
            } else if std::fs::read(&p)
                .map(|b| b.windows(needle.len()).any(|w| w == needle))
                .unwrap_or(false)
            {
                hits.push(p.display().to_string());
            }
        }
    }
    hits
}

#[tokio::test]
async fn the_sample_app_is_deployed_by_a_pipeline_run_and_answers_through_nginx_with_rows_from_mariadb(
) {
    let d = slipway_testkit::data_dir();
    let app = open(d.path()).await;
    let repo = slipway_testkit::sample_app_repo();
    let id = unique("kgreen");
    let ns = unique("kgreen");
    let _ns = DeleteNamespace(ns.clone());
    add(&app, repo.path(), &id).await;
    app.save_environment(kube_env(&id, &ns, true))
        .await
        .unwrap();
    let registry = env("SLIPWAY_TEST_REGISTRY");
    let st = app
        .connect_registry(RegistryConnectInput {
            registry: registry.clone(),
            username: env("SLIPWAY_TEST_REGISTRY_USER"),
            password: Some(Secret::new(env("SLIPWAY_TEST_REGISTRY_PASSWORD"))),
        })
        .await
        .unwrap();
    assert_eq!(st.state, ConnectionState::Connected);
    let mut events = app.subscribe();

    // The whole pipeline; its Deploy stage applies the repository's k8s/ manifests with the
    // images Push put in the registry.
    let r = run_until(&app, &id, None).await;
    assert!(
        r.stages.iter().all(|s| s.status == Status::Succeeded),
        "{:?}",
        r.stages
            .iter()
            .map(|s| (s.name, s.status))
            .collect::<Vec<_>>()
    );
    let url = r.artifacts.url.clone().expect("the app's URL");
    assert!(
        url.starts_with("http://127.0.0.1:3"),
        "the LoadBalancer's node port on this machine: {url}"
    );
    let body = page(&url).await;
    for row in ["anchor", "buoy", "capstan"] {
        assert!(body.contains(row), "{row} missing from {body}");
    }

    // Every rollout completed: each Deployment has all its replicas ready.
    let st = app.deploy_status(Some(&id), None).await.unwrap();
    assert!(st.error.is_none(), "{:?}", st.error);
    let ready: Vec<(String, u32, u32)> = st
        .workloads
        .iter()
        .map(|w| (w.name.clone(), w.ready, w.desired))
        .collect();
    assert_eq!(
        ready,
        [
            ("backend".into(), 3, 3),
            ("db".into(), 1, 1),
            ("frontend".into(), 3, 3),
            ("nginx".into(), 1, 1)
        ]
    );
    assert_eq!(
        st.pods
            .iter()
            .filter(|p| p.ready && p.phase == "Running")
            .count(),
        8,
        "{:?}",
        st.pods
    );
    let roles: Vec<WorkloadRole> = st.workloads.iter().map(|w| w.role).collect();
    assert_eq!(
        roles,
        [
            WorkloadRole::App,
            WorkloadRole::Database,
            WorkloadRole::App,
            WorkloadRole::Proxy
        ]
    );
    let lb = st.endpoints.iter().find(|e| e.service == "nginx").unwrap();
    assert_eq!(lb.service_type, "LoadBalancer");
    assert!(
        lb.note.as_deref().unwrap().contains("no external address"),
        "{lb:?}"
    );

    // The revision: the run's images, why, where.
    assert_eq!(st.current, Some(1));
    let rev = &st.revisions[0];
    assert_eq!(
        (rev.operation, rev.status, rev.run.as_deref()),
        (
            DeployOperation::Deploy,
            RevisionStatus::Succeeded,
            Some(r.id.as_str())
        )
    );
    assert_eq!(rev.namespace.as_deref(), Some(ns.as_str()));
    let built: Vec<String> = r
        .artifacts
        .images
        .iter()
        .map(|i| i.pushed.clone().expect("pushed"))
        .collect();
    assert!(
        built.iter().all(|b| b.starts_with(&format!("{registry}/"))),
        "{built:?}"
    );
    for (w, img) in [("backend", &built[0]), ("frontend", &built[1])] {
        assert!(
            rev.images
                .iter()
                .any(|i| i.workload == w && &i.image == img),
            "{w}: {:?}",
            rev.images
        );
        assert_eq!(deployment_images(&ns, w), std::slice::from_ref(img));
    }
    assert!(rev.reason.contains(&r.id), "{}", rev.reason);

    // Server-side apply by field manager slipway.
    let dep = kubectl_json(&["-n", &ns, "get", "deployment", "backend"]);
    assert!(dep["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["manager"] == "slipway" && m["operation"] == "Apply"));

    // Live per-pod progress came as events; the Deploy stage's log has the lines.
    let mut pods_seen = std::collections::BTreeSet::new();
    let mut finished = false;
    while let Ok(e) = events.try_recv() {
        if let Event::DeployProgress(p) = e.event {
            pods_seen.extend(p.pods.iter().map(|p| p.name.clone()));
            finished |= p.phase == RolloutPhase::Succeeded;
        }
    }
    assert!(finished && pods_seen.len() >= 8, "{pods_seen:?}");
    let log = std::fs::read_to_string(slipway_core::pipeline::logs::step_path(
        &app.runs_dir(),
        &r.id,
        StageName::Deploy,
        "slipway",
    ))
    .unwrap();
    for needle in [
        "Applied Secret/sample-db (database connection)",
        "All 4 rollouts complete",
        "Dry run passed",
        "backend: 3 of 3 ready",
    ] {
        assert!(
            log.contains(needle),
            "{needle} missing from the deploy log:\n{log}"
        );
    }

    // The database password reached the cluster as a Secret and nothing else.
    let secret = kubectl_json(&["-n", &ns, "get", "secret", "sample-db"]);
    let b64 = secret["data"]["DB_PASSWORD"].as_str().unwrap();
    let password = base64_decode(b64);
    assert!(password.len() >= 16);
    let hits = files_containing(d.path(), password.as_bytes());
    assert!(hits.is_empty(), "the password is in {hits:?}");
    // So did the registry's credentials, as the pods' pull Secret.
    let pull = kubectl_json(&["-n", &ns, "get", "secret", "slipway-registry"]);
    assert_eq!(pull["type"], "kubernetes.io/dockerconfigjson");
    let pod_spec = kubectl_json(&["-n", &ns, "get", "deployment", "backend"]);
    assert_eq!(
        pod_spec["spec"]["template"]["spec"]["imagePullSecrets"][0]["name"],
        "slipway-registry"
    );
    let hits = files_containing(d.path(), env("SLIPWAY_TEST_REGISTRY_PASSWORD").as_bytes());
    assert!(hits.is_empty(), "the registry password is in {hits:?}");

    // Merged logs of every replica, each line with its pod.
    let mut lines = vec![];
    app.deploy_logs(
        Some(&id),
        None,
        false,
        Some(50),
        &slipway_app::deploy::CancellationToken::new(),
        &mut |b| {
            lines.extend(b);
            true
        },
    )
    .await
    .unwrap();
    let pods_with_lines: std::collections::BTreeSet<&str> =
        lines.iter().map(|l| l.pod.as_str()).collect();
    assert!(pods_with_lines.len() >= 7, "{pods_with_lines:?}");
    assert!(
        lines
            .iter()
            .any(|l| l.pod.starts_with("frontend-") && l.text.contains("GET / ")),
        "the page request is in a frontend's log"
    );
}

fn base64_decode(s: &str) -> String {
    let out = Command::new("base64")
        .arg("-d")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    out.stdin.as_ref().unwrap().write_all(s.as_bytes()).unwrap();
    String::from_utf8(out.wait_with_output().unwrap().stdout).unwrap()
}

#[tokio::test]
async fn redeploy_makes_a_new_replica_set_and_rollback_restores_the_previous_images() {
    let d = slipway_testkit::data_dir();
    let app = open(d.path()).await;
    let repo = slipway_testkit::sample_app_repo();
    let id = unique("kroll");
    let ns = unique("kroll");
    let _ns = DeleteNamespace(ns.clone());
    add(&app, repo.path(), &id).await;
    app.save_environment(kube_env(&id, &ns, false))
        .await
        .unwrap();

    // Revision 1: commit A's images.
    let a = run_until(&app, &id, Some(StageName::Build)).await;
    let rev1 = app.deploy(Some(&id), None, None).await.unwrap();
    assert_eq!((rev1.number, rev1.status), (1, RevisionStatus::Succeeded));
    let images_a = deployment_images(&ns, "frontend");
    let backend_a = deployment_images(&ns, "backend");
    assert_eq!(
        images_a,
        [a.artifacts
            .images
            .iter()
            .find(|i| i.service == "frontend")
            .unwrap()
            .image
            .clone()]
    );
    assert_eq!(replica_sets(&ns, "backend").len(), 1);

    // Redeploy: a new ReplicaSet per Deployment, all replicas ready on it, the old one at 0.
    let mut events = app.subscribe();
    let rev2 = app.redeploy(Some(&id), None).await.unwrap();
    assert_eq!(
        (rev2.number, rev2.operation, rev2.status),
        (2, DeployOperation::Redeploy, RevisionStatus::Succeeded)
    );
    assert_eq!(rev2.reason, "rolling restart of revision 1");
    for w in ["backend", "frontend", "nginx"] {
        let rs = replica_sets(&ns, w);
        assert_eq!(rs.len(), 2, "{w}: {rs:?}");
        let want = if w == "nginx" { 1 } else { 3 };
        assert_eq!(
            rs.iter().filter(|r| r.1 == want && r.2 == want).count(),
            1,
            "{w}: the new one serves: {rs:?}"
        );
        assert_eq!(
            rs.iter().filter(|r| r.1 == 0).count(),
            1,
            "{w}: the old one is scaled to 0: {rs:?}"
        );
    }
    assert_eq!(
        replica_sets(&ns, "db").len(),
        1,
        "the database is not restarted"
    );
    assert_eq!(deployment_images(&ns, "frontend"), images_a, "same images");
    // Per-pod progress: pods of the old revision went away while new ones became ready.
    let mut old_seen = false;
    let mut new_ready = 0;
    while let Ok(e) = events.try_recv() {
        if let Event::DeployProgress(p) = e.event {
            old_seen |= p.pods.iter().any(|p| !p.current);
            new_ready = new_ready.max(p.pods.iter().filter(|p| p.current && p.ready).count());
        }
    }
    assert!(
        old_seen && new_ready >= 8,
        "old pods seen: {old_seen}, new ready: {new_ready}"
    );

    // Revision 3: commit B's images.
    let page_file = repo.path().join("frontend/templates/index.html");
    let text = std::fs::read_to_string(&page_file).unwrap();
    std::fs::write(&page_file, text.replace("<title>", "<title>B ")).unwrap();
    slipway_testkit::git(repo.path(), &["commit", "-qam", "release B"]);
    let b = run_until(&app, &id, Some(StageName::Build)).await;
    let rev3 = app.deploy(Some(&id), None, Some(&b.id)).await.unwrap();
    assert_eq!(rev3.number, 3);
    let images_b = deployment_images(&ns, "frontend");
    assert_ne!(images_b, images_a);
    assert!(page(rev3.url.as_deref().unwrap())
        .await
        .contains("<title>B "));

    // Rollback: the newest earlier revision with other images (2, which ran A's), with a reason.
    let e = app.rollback(Some(&id), None, None, "  ").await.unwrap_err();
    assert_eq!(e.what, "A rollback needs a reason");
    let e = app
        .rollback(Some(&id), None, Some(9), "x")
        .await
        .unwrap_err();
    assert!(
        e.what == "Revision not found" && e.why.contains("1 to 3"),
        "{e}"
    );
    let e = app
        .rollback(Some(&id), None, Some(3), "x")
        .await
        .unwrap_err();
    assert_eq!(e.what, "Revision 3 is the one serving");
    let rev4 = app
        .rollback(Some(&id), None, None, "B's title is wrong")
        .await
        .unwrap();
    assert_eq!(
        (rev4.number, rev4.operation, rev4.rollback_to, rev4.status),
        (
            4,
            DeployOperation::Rollback,
            Some(2),
            RevisionStatus::Succeeded
        )
    );
    assert_eq!(rev4.reason, "rollback to revision 2: B's title is wrong");
    assert_eq!(
        deployment_images(&ns, "frontend"),
        images_a,
        "A's images are back"
    );
    assert_eq!(deployment_images(&ns, "backend"), backend_a);
    let body = page(rev4.url.as_deref().unwrap()).await;
    assert!(
        !body.contains("<title>B ") && body.contains("anchor"),
        "{body}"
    );

    // The history says when and why, newest first.
    let st = app.deploy_status(Some(&id), None).await.unwrap();
    assert_eq!(st.current, Some(4));
    let hist: Vec<(u32, DeployOperation)> = st
        .revisions
        .iter()
        .map(|r| (r.number, r.operation))
        .collect();
    assert_eq!(
        hist,
        [
            (4, DeployOperation::Rollback),
            (3, DeployOperation::Deploy),
            (2, DeployOperation::Redeploy),
            (1, DeployOperation::Deploy)
        ]
    );
    assert!(st
        .revisions
        .iter()
        .all(|r| r.finished_at.unwrap() >= r.started_at));
    // And a rollback to a named revision works too (back to B).
    let rev5 = app
        .rollback(Some(&id), None, Some(3), "B was fine after all")
        .await
        .unwrap();
    assert_eq!(rev5.rollback_to, Some(3));
    assert_eq!(deployment_images(&ns, "frontend"), images_b);
}

/// A small project of generated manifests: `web` (busybox httpd on 8080, 2 replicas) that
/// uses the database `db` (MariaDB), no tests.
fn web_repo() -> tempfile::TempDir {
    slipway_testkit::git_repo(&[
        (
            "web/Dockerfile",
            "FROM slipway/busybox:latest\nEXPOSE 8080\nCMD [\"sh\", \"-c\", \"echo started $HOSTNAME; mkdir -p /www && echo \\\"web on $HOSTNAME, database $DB_USER@$DB_HOST:$DB_PORT/$DB_NAME\\\" > /www/index.html && exec httpd -f -vv -p 8080 -h /www\"]\n",
        ),
        (
            "docker-compose.yml",
            "services:\n  db:\n    image: mariadb:10.11\n    environment:\n      MARIADB_DATABASE: shop\n      MARIADB_USER: shop\n  web:\n    build: ./web\n    ports: [\"8080\"]\n    environment:\n      GREETING: hello\n    depends_on: [db]\n",
        ),
        ("slipway.toml", "[services.web]\ntests = false\nhealth_path = \"/\"\n\n[deploy]\nreplicas = 2\n"),
    ])
}

#[tokio::test]
async fn a_bad_image_is_named_with_its_pod_and_reason_and_the_previous_revision_serves_again() {
    let d = slipway_testkit::data_dir();
    let app = open(d.path()).await;
    let repo = web_repo();
    let id = unique("kbad");
    let ns = unique("kbad");
    let _ns = DeleteNamespace(ns.clone());
    add(&app, repo.path(), &id).await;
    app.save_environment(kube_env(&id, &ns, false))
        .await
        .unwrap();
    let r = run_until(&app, &id, Some(StageName::Build)).await;

    // Revision 1: generated manifests (Deployment, Service, NGINX proxy, the sandbox MariaDB).
    let rev1 = app.deploy(Some(&id), None, None).await.unwrap();
    let body = page(rev1.url.as_deref().unwrap()).await;
    assert!(
        body.contains("database shop@db:3306/shop"),
        "the database connection came from the Secret: {body}"
    );
    let good = deployment_images(&ns, "web");

    // Revision 2: an image no registry has.
    let p = app.project(&id).await.unwrap();
    let e_env = app.environments(Some(&id)).await.unwrap().remove(0);
    let bad = format!("{}/{id}-never-pushed:v1", env("SLIPWAY_TEST_REGISTRY"));
    let images = vec![ImageArtifact {
        service: "web".into(),
        image: bad.clone(),
        pushed: None,
        digest: None,
    }];
    let work = d.path().join("work").join(&id).join(&r.id);
    let started = Instant::now();
    let e = app
        .deploy_images(
            &p,
            &e_env,
            &images,
            None,
            None,
            None,
            &work,
            None,
            &slipway_app::deploy::CancellationToken::new(),
        )
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert_eq!(e.what, "The rollout of web failed");
    assert!(e.why.starts_with("pod web-"), "the pod is named: {e}");
    assert!(
        e.why.contains("ImagePullBackOff") || e.why.contains("ErrImagePull"),
        "the reason: {e}"
    );
    assert!(e.fix.contains(&bad), "{e}");
    assert!(
        e.fix.contains(
            "Rolled back automatically: revision 3 (the images of revision 1) serves again"
        ),
        "{e}"
    );
    assert!(
        took < Duration::from_secs(120),
        "reported within the progress deadline: {took:?}"
    );

    // The history: 2 failed (with the error and what happened), 3 rolled back to 1.
    let revs = app.revisions(Some(&id), None, 10).await.unwrap();
    let r2 = revs.iter().find(|r| r.number == 2).unwrap();
    assert_eq!(r2.status, RevisionStatus::Failed);
    assert!(r2.error.as_ref().unwrap().why.contains("pod web-"));
    assert!(r2
        .note
        .as_deref()
        .unwrap()
        .starts_with("Rolled back automatically"));
    let r3 = revs.iter().find(|r| r.number == 3).unwrap();
    assert_eq!(
        (r3.operation, r3.rollback_to, r3.status),
        (
            DeployOperation::Rollback,
            Some(1),
            RevisionStatus::Succeeded
        )
    );
    assert_eq!(deployment_images(&ns, "web"), good);
    assert!(page(rev1.url.as_deref().unwrap()).await.contains("web on"));
    let st = app.deploy_status(Some(&id), None).await.unwrap();
    assert_eq!(st.current, Some(3));
    let serving: Vec<_> = st
        .pods
        .iter()
        .filter(|p| p.workload == "web" && p.phase != "Terminating")
        .collect();
    assert!(
        serving.len() == 2 && serving.iter().all(|p| p.ready && p.current),
        "{:?}",
        st.pods
    );
}

#[tokio::test]
async fn bad_input_is_refused_with_what_why_and_next_and_nothing_half_applied() {
    let d = slipway_testkit::data_dir();
    let app = open(d.path()).await;
    let repo = web_repo();
    let id = unique("kinput");
    add(&app, repo.path(), &id).await;

    // No environment yet, a kubeconfig that is not there, a context that is not in it.
    let e = app.deploy(Some(&id), None, None).await.unwrap_err();
    assert_eq!(e.what, "No environment");
    assert!(e.fix.contains("slipway env set"), "{e}");
    let mut bad = kube_env(&id, "x", false);
    bad.target = EnvironmentTarget::Kubernetes(KubeTarget {
        kubeconfig: Some("/nonexistent/kubeconfig".into()),
        ..Default::default()
    });
    let e = app.save_environment(bad.clone()).await.unwrap_err();
    assert!(
        e.what == "No usable kubeconfig" && e.why.contains("/nonexistent/kubeconfig"),
        "{e}"
    );
    bad.target = EnvironmentTarget::Kubernetes(KubeTarget {
        kubeconfig: Some(env("SLIPWAY_TEST_KUBECONFIG")),
        context: Some("nope".into()),
        ..Default::default()
    });
    let e = app.save_environment(bad).await.unwrap_err();
    assert!(
        e.why
            .contains("'nope' is not in the kubeconfig (it has: slipway-test)"),
        "{e}"
    );

    // Nothing deployed yet: redeploy and rollback say so.
    let ns = unique("kinput");
    let _ns = DeleteNamespace(ns.clone());
    app.save_environment(kube_env(&id, &ns, false))
        .await
        .unwrap();
    let e = app.redeploy(Some(&id), None).await.unwrap_err();
    assert_eq!(e.what, "Nothing to redeploy");
    let e = app
        .deploy(Some(&id), Some("cluster"), None)
        .await
        .unwrap_err();
    assert_eq!(e.what, "Nothing to deploy", "no run built images yet");
    run_until(&app, &id, Some(StageName::Build)).await;

    // A forbidden identity: refused before anything is applied, and recorded so.
    let mut forbidden = kube_env(&id, &ns, false);
    forbidden.name = "forbidden".into();
    forbidden.target = EnvironmentTarget::Kubernetes(KubeTarget {
        kubeconfig: Some(env("SLIPWAY_TEST_KUBECONFIG_FORBIDDEN")),
        namespace: Some(ns.clone()),
        ..Default::default()
    });
    app.save_environment(forbidden).await.unwrap();
    let e = app
        .deploy(Some(&id), Some("forbidden"), None)
        .await
        .unwrap_err();
    assert!(e.why.contains("forbidden by RBAC"), "{e}");
    assert!(e.fix.contains("Nothing was applied"), "{e}");
    let revs = app
        .revisions(Some(&id), Some("forbidden"), 5)
        .await
        .unwrap();
    assert_eq!(
        (revs[0].status, revs[0].note.as_deref()),
        (RevisionStatus::Failed, Some("Nothing was applied."))
    );
    assert!(
        kubectl(&["get", "namespace", &ns, "--ignore-not-found"]).is_empty(),
        "no namespace was made"
    );

    // A cluster that does not answer: the kubeconfig points at a closed port.
    let down = d.path().join("down-kubeconfig");
    let text = std::fs::read_to_string(env("SLIPWAY_TEST_KUBECONFIG")).unwrap();
    std::fs::write(
        &down,
        text.replace(
            &env("SLIPWAY_TEST_K8S_URL"),
            &format!("https://127.0.0.1:{}", slipway_testkit::closed_port()),
        ),
    )
    .unwrap();
    let mut gone = kube_env(&id, &ns, false);
    gone.name = "gone".into();
    gone.target = EnvironmentTarget::Kubernetes(KubeTarget {
        kubeconfig: Some(down.to_string_lossy().into()),
        namespace: Some(ns.clone()),
        ..Default::default()
    });
    app.save_environment(gone).await.unwrap();
    let e = app.deploy(Some(&id), Some("gone"), None).await.unwrap_err();
    assert!(e.why.contains("cannot reach https://127.0.0.1:"), "{e}");
    assert!(e.fix.contains("reachable from here"), "{e}");
    let st = app.deploy_status(Some(&id), Some("gone")).await.unwrap();
    assert!(
        st.error.as_ref().unwrap().why.contains("cannot reach"),
        "status reports the cluster error beside the history"
    );
    assert_eq!(st.revisions.len(), 1);

    // A namespace made by something else is refused; nothing is applied in it.
    kubectl(&["create", "namespace", &ns]);
    let e = app
        .deploy(Some(&id), Some("cluster"), None)
        .await
        .unwrap_err();
    assert_eq!(e.what, format!("Namespace {ns} is not this environment's"));
    assert!(e.fix.contains("kubectl label namespace"), "{e}");
    assert!(kubectl(&[
        "-n",
        &ns,
        "get",
        "deployments,services,secrets,configmaps",
        "-l",
        "app.kubernetes.io/managed-by=slipway",
        "-o",
        "name"
    ])
    .trim()
    .is_empty());
    let e = app.teardown(Some(&id), Some("cluster")).await.unwrap_err();
    assert_eq!(
        e.what,
        format!("Namespace {ns} is not this environment's"),
        "teardown never deletes a namespace that is not Slipway's"
    );
}

#[tokio::test]
async fn the_database_secret_can_come_from_the_recorded_rds_instance() {
    use slipway_core::secrets::{SecretRef, SecretStore};
    let d = slipway_testkit::data_dir();
    let app = open(d.path()).await;
    let repo = web_repo();
    let id = unique("krds");
    let ns = unique("krds");
    let _ns = DeleteNamespace(ns.clone());
    add(&app, repo.path(), &id).await;
    // What `slipway apply` records for the live database, and its master password: under the
    // project's own name (one project owns its infrastructure and its environments).
    let store = slipway_core::store::Store::open(d.path()).unwrap();
    let obs = slipway_core::provision::Observed {
        kind: slipway_core::provision::ResourceKind::DbInstance,
        logical_id: Some("db-live".into()),
        physical_id: "slipway-live".into(),
        state: "available".into(),
        ready: true,
        failed: false,
        attrs: serde_json::json!({"endpoint": "slipway-live.abc123.us-east-1.rds.amazonaws.com", "port": 3306}),
    };
    store.save_resource(&id, &obs).await.unwrap();
    let master = format!("Rds{}", slipway_core::secrets::random_hex(12));
    slipway_app::keychain::Keychain
        .put(
            &SecretRef::for_connection(store.instance_id(), &format!("{id}/db-live")),
            &Secret::new(master.clone()),
        )
        .unwrap();

    let mut e = kube_env(&id, &ns, false);
    e.target = EnvironmentTarget::Kubernetes(KubeTarget {
        kubeconfig: Some(env("SLIPWAY_TEST_KUBECONFIG")),
        namespace: Some(ns.clone()),
        database: KubeDatabase::Rds {
            blueprint: None,
            instance: None,
        },
        ..Default::default()
    });
    app.save_environment(e).await.unwrap();
    run_until(&app, &id, Some(StageName::Build)).await;
    let rev = app.deploy(Some(&id), None, None).await.unwrap();
    assert_eq!(rev.status, RevisionStatus::Succeeded);
    // The connection points at the RDS endpoint, with the blueprint's user and database; no
    // MariaDB runs in the namespace.
    assert!(page(rev.url.as_deref().unwrap())
        .await
        .contains("database admin@slipway-live.abc123.us-east-1.rds.amazonaws.com:3306/app"));
    let s = kubectl_json(&["-n", &ns, "get", "secret", &format!("{id}-db")]);
    assert_eq!(
        base64_decode(s["data"]["DB_PASSWORD"].as_str().unwrap()),
        master
    );
    let names = kubectl(&["-n", &ns, "get", "deployments", "-o", "name"]);
    assert!(!names.contains("deployment.apps/db"), "{names}");
    assert!(files_containing(d.path(), master.as_bytes()).is_empty());
    slipway_app::keychain::Keychain
        .delete(&SecretRef::for_connection(
            store.instance_id(),
            &format!("{id}/db-live"),
        ))
        .ok();
}
