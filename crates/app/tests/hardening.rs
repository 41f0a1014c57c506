//! Issue #13 through the service layer: what a hostile or broken repository can and cannot do
//! (paths outside the checkout, manifests of the wrong shape, Git URLs with credentials or
//! plain http). Nothing here needs Docker: detection and the Kubernetes export read files only.

use slipway_app::pipeline::ProjectInput;
use slipway_app::{Options, Slipway};
use slipway_core::export::ExportKind;
use slipway_core::pipeline::project::Source;
use slipway_core::secrets::MemorySecretStore;
use slipway_testkit::{commit_all, write_files};
use std::path::Path;
use std::sync::Arc;

async fn open(dir: &Path) -> Arc<Slipway> {
    Slipway::open(Options {
        data_dir: Some(dir.to_path_buf()),
        secrets: Arc::new(MemorySecretStore::default()),
        ..Default::default()
    })
    .await
    .unwrap()
}

fn local(repo: &Path) -> ProjectInput {
    ProjectInput { source: Source::Path { path: repo.to_string_lossy().into() }, id: Some("shop".into()) }
}

/// Every byte under `dir` as text (the store, logs, checkouts).
fn all_bytes(dir: &Path) -> String {
    let mut out = String::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if e.file_type().unwrap().is_dir() {
            out.push_str(&all_bytes(&p));
        } else if e.file_type().unwrap().is_file() {
            out.push_str(&String::from_utf8_lossy(&std::fs::read(&p).unwrap_or_default()));
        }
    }
    out
}

const SECRET: &str = "aws_secret_access_key = OUTSIDE-SECRET-4242";

#[tokio::test]
async fn paths_a_repository_names_outside_its_checkout_are_refused_and_nothing_of_them_is_kept() {
    let data = slipway_testkit::data_dir();
    let app = open(data.path()).await;
    let outside = tempfile::tempdir().unwrap();
    let creds = outside.path().join("credentials");
    std::fs::write(&creds, format!("[default]\n{SECRET}\n")).unwrap();
    let mut refused = 0;

    // slipway.toml naming a file outside: absolute, or climbing with `..`.
    for (toml, reason) in [
        (format!("[database]\nschema = \"{}\"\n", creds.display()), format!("the database schema \"{}\" is an absolute path", creds.display())),
        ("[database]\nschema = \"../../../../../../etc/passwd\"\n".to_string(), "the database schema \"../../../../../../etc/passwd\" climbs out of the repository with ..".into()),
        ("[project]\nmanifests = [\"/etc/passwd\"]\n".to_string(), "the manifest \"/etc/passwd\" is an absolute path".into()),
        ("[services.app]\ncontext = \"../..\"\n".to_string(), "is outside the repository".into()),
    ] {
        let repo = tempfile::tempdir().unwrap();
        write_files(repo.path(), &[("Dockerfile", "FROM scratch\n"), ("slipway.toml", &toml)]);
        commit_all(repo.path(), "first");
        let e = app.detect_project(local(repo.path())).await.unwrap_err();
        assert!(e.why.contains(&reason), "{toml}: {e}");
        refused += 1;
    }

    // slipway.toml itself a link to a file outside: refused before it is read (its parse error
    // would quote the line).
    let repo = tempfile::tempdir().unwrap();
    write_files(repo.path(), &[("Dockerfile", "FROM scratch\n")]);
    std::os::unix::fs::symlink(&creds, repo.path().join("slipway.toml")).unwrap();
    commit_all(repo.path(), "first");
    let e = app.detect_project(local(repo.path())).await.unwrap_err();
    assert!(e.why.contains("the file \"slipway.toml\" is a symbolic link to") && !e.to_string().contains("OUTSIDE-SECRET"), "{e}");
    refused += 1;

    // A schema and a manifest that are links to files outside: the names are fine, so the project
    // is saved; reading them (here the Kubernetes export, which would put the schema in a
    // ConfigMap) refuses them.
    for (files, link, reason) in [
        ("[database]\nschema = \"db/schema.sql\"\n", "db/schema.sql", "the database schema \"db/schema.sql\" is a symbolic link to"),
        ("[project]\nmanifests = [\"k8s/app.yaml\"]\n", "k8s/app.yaml", "the manifest \"k8s/app.yaml\" is a symbolic link to"),
    ] {
        let repo = tempfile::tempdir().unwrap();
        write_files(repo.path(), &[("Dockerfile", "FROM scratch\nEXPOSE 8000\n"), ("slipway.toml", files)]);
        std::fs::create_dir_all(repo.path().join(link).parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(&creds, repo.path().join(link)).unwrap();
        commit_all(repo.path(), "first");
        let p = app.detect_project(local(repo.path())).await.unwrap();
        app.save_project(p).await.unwrap();
        let e = app.export(ExportKind::Kubernetes, Some("shop"), None).await.unwrap_err();
        assert!(e.why.contains(reason), "{e}");
        assert!(!e.to_string().contains("OUTSIDE-SECRET"), "{e}");
        refused += 1;
    }
    assert!(!all_bytes(data.path()).contains("OUTSIDE-SECRET"), "a file from outside reached the data folder");
    println!("repository paths outside the checkout refused: {refused}");
}

#[tokio::test]
async fn a_manifest_of_the_wrong_shape_is_refused_by_the_export_naming_the_file() {
    let data = slipway_testkit::data_dir();
    let app = open(data.path()).await;
    for (yaml, why) in [
        ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app}\nspec: \"x\"\n", "k8s/app.yaml: Deployment app: spec is the string \"x\""),
        ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app}\nspec:\n  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n    spec:\n      containers: [\"app\"]\n", "spec.template.spec.containers[0] is the string \"app\""),
    ] {
        let repo = tempfile::tempdir().unwrap();
        write_files(repo.path(), &[("Dockerfile", "FROM scratch\n"), ("k8s/app.yaml", yaml)]);
        commit_all(repo.path(), "first");
        let p = app.detect_project(local(repo.path())).await.unwrap();
        assert_eq!(p.manifests, ["k8s/app.yaml"]);
        app.save_project(p).await.unwrap();
        let e = app.export(ExportKind::Kubernetes, Some("shop"), None).await.unwrap_err();
        assert!(e.why.contains(why), "{e}");
        assert!(e.fix.contains("k8s/app.yaml"), "{e}");
    }
}

#[tokio::test]
async fn git_urls_with_credentials_or_plain_http_are_refused_and_never_kept() {
    let data = slipway_testkit::data_dir();
    let app = open(data.path()).await;
    let mut refused = 0;
    for (url, why) in [
        ("https://x-access-token:ghp_URLTOKEN0001@github.com/octo/app.git", "holds credentials"),
        ("https://ghp_URLTOKEN0002@github.com/octo/app.git", "holds credentials"),
        ("http://any-host.example/octo/app.git", "plain http"),
        ("ftp://host/app.git", "not supported"),
    ] {
        let e = app
            .detect_project(ProjectInput { source: Source::Git { url: url.into() }, id: Some("shop".into()) })
            .await
            .unwrap_err();
        assert!(e.why.contains(why), "{url}: {e}");
        assert!(!e.to_string().contains("URLTOKEN"), "{e}");
        refused += 1;
    }
    // A project edited on the Project page is checked the same way before it is saved.
    let repo = tempfile::tempdir().unwrap();
    write_files(repo.path(), &[("Dockerfile", "FROM scratch\n")]);
    commit_all(repo.path(), "first");
    let mut p = app.detect_project(local(repo.path())).await.unwrap();
    p.source = Source::Git { url: "https://me:ghp_URLTOKEN0003@github.com/octo/app.git".into() };
    let e = app.save_project(p.clone()).await.unwrap_err();
    assert!(e.why.contains("holds credentials") && !e.to_string().contains("URLTOKEN"), "{e}");
    p.source = Source::Git { url: "http://evil.example/octo/app.git".into() };
    assert!(app.save_project(p).await.is_err());
    refused += 2;
    assert!(app.projects().await.unwrap().is_empty());
    assert!(!all_bytes(data.path()).contains("URLTOKEN"));
    println!("Git URLs refused: {refused}");
}
