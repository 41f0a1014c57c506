//! The service layer's GitHub and Jenkins integrations against wiremock stand-ins: tokens go to
//! the keychain only (never the store, the event log or an error), and a wrong token or a
//! missing connection is a clear error.

use slipway_app::integrations::{CommitWatch, WatchSetting};
use slipway_app::pipeline::ProjectInput;
use slipway_app::{Options, Slipway};
use slipway_core::connections::GithubConnectInput;
use slipway_core::integrations::JenkinsConnectInput;
use slipway_core::pipeline::project::Source;
use slipway_core::secrets::{MemorySecretStore, Secret};
use std::sync::Arc;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn open(dir: &std::path::Path) -> Arc<Slipway> {
    Slipway::open(Options {
        data_dir: Some(dir.to_path_buf()),
        secrets: Arc::new(MemorySecretStore::default()),
        ..Default::default()
    })
    .await
    .unwrap()
}

/// Every byte Slipway wrote to its data folder.
fn all_bytes(dir: &std::path::Path) -> Vec<u8> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.file_type().unwrap().is_dir() {
            out.extend(all_bytes(&e.path()));
        } else {
            out.extend(std::fs::read(e.path()).unwrap_or_default());
        }
    }
    out
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn jenkins_connect_keeps_the_token_in_the_keychain_only() {
    let d = slipway_testkit::data_dir();
    let app = open(d.path()).await;
    let e = app.jenkins_jobs(None).await.unwrap_err();
    assert_eq!(e.what, "Jenkins not connected");

    let server = MockServer::start().await;
    let token = "11d5a5c7b6e4f3a2b1c0d9e8f7a6b5c4d3";
    Mock::given(method("GET"))
        .and(path("/api/json"))
        .and(wiremock::matchers::header_exists("authorization"))
        .respond_with(ResponseTemplate::new(200).insert_header("x-jenkins", "2.462.3").set_body_json(serde_json::json!({
            "_class": "hudson.model.Hudson", "jobs": [{"_class": "org.jenkinsci.plugins.workflow.job.WorkflowJob", "name": "app", "url": "http://j/job/app/", "color": "blue"}]
        })))
        .mount(&server)
        .await;
    let s = app
        .connect_jenkins(JenkinsConnectInput {
            url: server.uri(),
            user: "deployer".into(),
            token: Secret::new(token),
        })
        .await
        .unwrap();
    assert_eq!(s.version.as_deref(), Some("2.462.3"));
    // A later call finds the address in the store and the token in the keychain.
    let jobs = app.jenkins_jobs(None).await.unwrap();
    assert_eq!(jobs[0].name, "app");
    let bytes = all_bytes(d.path());
    assert!(contains(&bytes, &server.uri()), "the address is stored");
    assert!(
        !contains(&bytes, token),
        "the token reached the data folder"
    );

    app.disconnect_jenkins().await.unwrap();
    assert_eq!(
        app.jenkins_check().await.unwrap_err().what,
        "Jenkins not connected"
    );
}

#[tokio::test]
async fn github_lists_use_the_connected_token_and_say_when_none_is() {
    let d = slipway_testkit::data_dir();
    let app = open(d.path()).await;
    assert_eq!(
        app.github_repos(None, 1).await.unwrap_err().what,
        "GitHub not connected"
    );

    let token = "ghp_servicelayer0123456789abcdefABCDEF";
    let server = slipway_testkit::github_stand_in(token, "octocat").await;
    Mock::given(method("GET"))
        .and(path("/user/repos"))
        .and(wiremock::matchers::header(
            "authorization",
            format!("Bearer {token}").as_str(),
        ))
        .respond_with(
            slipway_testkit::github_rate(ResponseTemplate::new(200), 4990, "core").set_body_json(
                serde_json::json!([
                    slipway_testkit::github_repo("octocat", "hello-world", false),
                    slipway_testkit::github_repo("octo-org", "payments", true)
                ]),
            ),
        )
        .mount(&server)
        .await;
    app.connect_github(GithubConnectInput {
        token: Some(Secret::new(token)),
        base_url: Some(server.uri()),
    })
    .await
    .unwrap();
    let p = app.github_repos(None, 1).await.unwrap();
    assert_eq!(p.items.len(), 2);
    assert_eq!(p.rate.unwrap().remaining, 4990);
    let found = app.github_repos(Some("pay"), 1).await.unwrap();
    assert_eq!(
        found
            .items
            .iter()
            .map(|r| r.full_name.as_str())
            .collect::<Vec<_>>(),
        ["octo-org/payments"]
    );

    // The webhook secret is made once, kept, and rotated on request; never in the data folder.
    let s1 = app.github_webhook_secret(false).unwrap();
    assert_eq!(
        app.github_webhook_secret(false).unwrap().expose(),
        s1.expose()
    );
    let s2 = app.github_webhook_secret(true).unwrap();
    assert_ne!(s1.expose(), s2.expose());
    let bytes = all_bytes(d.path());
    assert!(!contains(&bytes, token) && !contains(&bytes, s2.expose()));
}

/// A GitHub stand-in with `octocat/hello`'s branches `main` and `release` (a missing branch
/// answers 404).
async fn github_with_branch(token: &str) -> MockServer {
    let server = slipway_testkit::github_stand_in(token, "octocat").await;
    for branch in ["main", "release"] {
        Mock::given(method("GET"))
            .and(path(format!("/repos/octocat/hello/branches/{branch}")))
            .respond_with(
                slipway_testkit::github_rate(ResponseTemplate::new(200), 4980, "core")
                    .insert_header("etag", "W/\"b1\"")
                    .set_body_json(slipway_testkit::github_branch(
                        "octocat",
                        "hello",
                        branch,
                        "7fd1a60b01f91b314f59955a4e4d4e80d8edf11d",
                    )),
            )
            .mount(&server)
            .await;
    }
    Mock::given(method("GET"))
        .and(path("/repos/octocat/hello/branches/nope"))
        .respond_with(slipway_testkit::github_not_found())
        .mount(&server)
        .await;
    server
}

fn watch_of(branch: &str, webhook_port: Option<u16>) -> WatchSetting {
    WatchSetting {
        watch: CommitWatch {
            project: "hello".into(),
            repo: "octocat/hello".into(),
            branch: branch.into(),
            report_status: true,
            link_base: None,
        },
        every_secs: Some(3600),
        webhook_port,
    }
}

#[tokio::test]
async fn watches_are_kept_and_start_again_when_slipway_opens() {
    let d = slipway_testkit::data_dir();
    let secrets: Arc<MemorySecretStore> = Arc::new(MemorySecretStore::default());
    let open_shared = || async {
        Slipway::open(Options {
            data_dir: Some(d.path().to_path_buf()),
            secrets: secrets.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
    };
    let token = "ghp_watches0123456789abcdefABCDEFGHIJ";
    let server = github_with_branch(token).await;
    let app = open_shared().await;
    app.connect_github(GithubConnectInput {
        token: Some(Secret::new(token)),
        base_url: Some(server.uri()),
    })
    .await
    .unwrap();
    let repo = slipway_testkit::sample_app_repo();
    let p = app
        .detect_project(ProjectInput {
            source: Source::Path {
                path: repo.path().to_string_lossy().into(),
            },
            id: Some("hello".into()),
        })
        .await
        .unwrap();
    app.save_project(p).await.unwrap();

    // Refused before anything is kept: an unknown project, a branch GitHub does not have.
    let mut unknown = watch_of("main", None);
    unknown.watch.project = "nobody".into();
    assert!(app.start_watch(unknown).await.is_err());
    let e = app.start_watch(watch_of("nope", None)).await.unwrap_err();
    assert_eq!(e.what, "Could not read the branch", "{e}");
    assert!(app.watches().is_empty(), "a refused watch is not listed");

    let polled = app.start_watch(watch_of("main", None)).await.unwrap();
    assert!(polled.active && polled.address.is_none() && polled.error.is_none());
    let hooked = app.start_watch(watch_of("release", Some(0))).await.unwrap();
    let address = hooked.address.clone().expect("the receiver's address");
    assert!(address.starts_with("127.0.0.1:"), "{address}");
    // The same repository and branch again replaces the watch instead of adding one, even on
    // the port its receiver is listening on.
    app.start_watch(watch_of("main", None)).await.unwrap();
    let port: u16 = address.rsplit(':').next().unwrap().parse().unwrap();
    let same_port = app
        .start_watch(watch_of("release", Some(port)))
        .await
        .unwrap();
    assert_eq!(same_port.address.as_deref(), Some(address.as_str()));
    // (and back to a free port, which the next sessions below then pick their own of)
    app.start_watch(watch_of("release", Some(0))).await.unwrap();
    assert_eq!(app.watches().len(), 2);

    // "Restart": another Slipway on the same data folder (and keychain) finds and starts both.
    let again = open_shared().await;
    assert!(again.watches().is_empty(), "nothing runs before resume");
    let resumed = again.resume_watches().await;
    let branches: Vec<_> = resumed
        .iter()
        .map(|w| (w.setting.watch.branch.as_str(), w.active))
        .collect();
    assert_eq!(branches, [("main", true), ("release", true)]);
    assert_eq!(
        resumed[1].setting.webhook_port,
        Some(0),
        "the last setting is the one kept"
    );
    assert_eq!(
        resumed[0].setting,
        watch_of("main", None),
        "kept as it was set up"
    );
    assert!(resumed[1]
        .address
        .as_deref()
        .is_some_and(|a| a.starts_with("127.0.0.1:")));

    // Stopped means forgotten: the next session starts only the other one.
    assert!(again.stop_watch("OctoCat/Hello", "release").await.unwrap());
    assert!(
        !again.stop_watch("octocat/hello", "release").await.unwrap(),
        "already stopped"
    );
    let third = open_shared().await;
    let left = third.resume_watches().await;
    assert_eq!(
        left.iter()
            .map(|w| w.setting.watch.branch.as_str())
            .collect::<Vec<_>>(),
        ["main"]
    );

    // A watch that cannot run any more (GitHub disconnected) says why and stays kept.
    third
        .disconnect(slipway_core::connections::ConnectionKind::Github)
        .await
        .unwrap();
    let fourth = open_shared().await;
    fourth.resume_watches().await;
    let mut stopped = None;
    for _ in 0..100 {
        if let Some(w) = fourth.watches().into_iter().find(|w| !w.active) {
            stopped = Some(w);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let stopped = stopped.expect("the watch stops with a reason");
    assert!(
        stopped
            .error
            .as_deref()
            .is_some_and(|e| e.contains("GitHub not connected")),
        "{:?}",
        stopped.error
    );
    let fifth = open_shared().await;
    assert_eq!(
        fifth.resume_watches().await.len(),
        1,
        "still kept for when GitHub is connected again"
    );
}

#[tokio::test]
async fn a_rotated_webhook_secret_reaches_the_receiver_already_listening() {
    let d = slipway_testkit::data_dir();
    let app = open(d.path()).await;
    let repo = slipway_testkit::sample_app_repo();
    let p = app
        .detect_project(ProjectInput {
            source: Source::Path {
                path: repo.path().to_string_lossy().into(),
            },
            id: Some("hello".into()),
        })
        .await
        .unwrap();
    app.save_project(p).await.unwrap();
    // A webhook receiver needs no GitHub connection when it reports nothing.
    let mut setting = watch_of("main", Some(0));
    setting.watch.report_status = false;
    let polled_without_github = app.start_watch(watch_of("main", None)).await.unwrap_err();
    assert_eq!(polled_without_github.what, "GitHub not connected");
    let info = app.start_watch(setting).await.unwrap();
    let url = format!("http://{}/webhook", info.address.unwrap());
    let old = app.github_webhook_secret(false).unwrap();
    let ping = |secret: Secret, delivery: &'static str| {
        let url = url.clone();
        async move {
            let body = br#"{"zen":"Keep it logically awesome.","hook_id":1}"#.to_vec();
            reqwest::Client::new()
                .post(&url)
                .header("x-github-event", "ping")
                .header("x-github-delivery", delivery)
                .header("content-type", "application/json")
                .header(
                    "x-hub-signature-256",
                    slipway_git_host::watch::WebhookVerifier::sign(&secret, &body),
                )
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(ping(old.clone(), "d-1").await, 200);
    let new = app.github_webhook_secret(true).unwrap();
    assert_eq!(
        ping(old, "d-2").await,
        401,
        "the old secret no longer verifies"
    );
    assert_eq!(
        ping(new, "d-3").await,
        200,
        "the new one does, without restarting the watch"
    );
}
