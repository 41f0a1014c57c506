//! The service layer's GitHub and Jenkins integrations against wiremock stand-ins: tokens go to
//! the keychain only (never the store, the event log or an error), and a wrong token or a
//! missing connection is a clear error.

use slipway_app::{Options, Slipway};
use slipway_core::connections::GithubConnectInput;
use slipway_core::integrations::JenkinsConnectInput;
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
