//! GitHub's REST API cannot run here, so these tests talk to a wiremock stand-in that answers
//! with the shapes GitHub really sends (bodies and headers recorded from api.github.com).

use slipway_core::connections::Identity;
use slipway_core::providers::GitHostProvider;
use slipway_core::secrets::Secret;
use slipway_git_host::GitHub;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn rate_headers(t: ResponseTemplate, remaining: u32) -> ResponseTemplate {
    t.insert_header("x-ratelimit-limit", "5000")
        .insert_header("x-ratelimit-remaining", remaining.to_string().as_str())
        .insert_header("x-ratelimit-reset", "1732665600")
        .insert_header("x-ratelimit-used", (5000 - remaining).to_string().as_str())
        .insert_header("x-ratelimit-resource", "core")
        .insert_header("x-github-api-version-selected", "2022-11-28")
}

#[tokio::test]
async fn a_good_token_shows_login_and_scopes() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/user"))
        .and(header("authorization", "Bearer ghp_goodtoken123"))
        .respond_with(rate_headers(
            ResponseTemplate::new(200)
                .set_body_json(slipway_testkit::github_user("octocat"))
                .insert_header("x-oauth-scopes", "repo, workflow, read:org"),
            4999,
        ))
        .expect(1)
        .mount(&server)
        .await;
    let id = GitHub
        .whoami(&server.uri(), &Secret::new("ghp_goodtoken123"))
        .await
        .unwrap();
    match id {
        Identity::Github {
            login,
            name,
            scopes,
            base_url,
        } => {
            assert_eq!(login, "octocat");
            assert_eq!(name.as_deref(), Some("The Octocat"));
            assert_eq!(scopes, vec!["repo", "workflow", "read:org"]);
            assert_eq!(base_url, server.uri());
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_bad_token_says_it_was_rejected_and_what_to_do() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/user"))
        .respond_with(rate_headers(
            ResponseTemplate::new(401).set_body_json(serde_json::json!({
                "message": "Bad credentials", "documentation_url": "https://docs.github.com/rest", "status": "401"
            })),
            59,
        ))
        .mount(&server)
        .await;
    let e = GitHub
        .whoami(&server.uri(), &Secret::new("ghp_revoked"))
        .await
        .unwrap_err();
    assert!(e.why.contains("401 Bad credentials"), "{e}");
    assert!(e.fix.contains("Create a new token"), "{e}");
    assert!(!e.to_string().contains("ghp_revoked"));
}

#[tokio::test]
async fn rate_limit_names_the_reset_time() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/user"))
        .respond_with(rate_headers(
            ResponseTemplate::new(403).set_body_json(serde_json::json!({
                "message": "API rate limit exceeded for user ID 583231.",
                "documentation_url": "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting"
            })),
            0,
        ))
        .mount(&server)
        .await;
    let e = GitHub
        .whoami(&server.uri(), &Secret::new("ghp_x"))
        .await
        .unwrap_err();
    assert!(e.why.contains("rate limit is used up"), "{e}");
    assert!(e.why.contains("1732665600"), "{e}");
}

#[tokio::test]
async fn forbidden_token_is_not_mistaken_for_a_rate_limit() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/user"))
        .respond_with(rate_headers(
            ResponseTemplate::new(403).set_body_json(serde_json::json!({
                "message": "Resource protected by organization SAML enforcement. You must grant your Personal Access token access to this organization.",
                "documentation_url": "https://docs.github.com/articles/authenticating-to-a-github-organization-with-saml-single-sign-on/"
            })),
            4000,
        ))
        .mount(&server)
        .await;
    let e = GitHub
        .whoami(&server.uri(), &Secret::new("ghp_x"))
        .await
        .unwrap_err();
    assert!(
        e.why
            .contains("403 Resource protected by organization SAML"),
        "{e}"
    );
}

#[tokio::test]
async fn unreachable_host_is_said_plainly() {
    let port = slipway_testkit::closed_port();
    let e = GitHub
        .whoami(&format!("http://127.0.0.1:{port}"), &Secret::new("ghp_x"))
        .await
        .unwrap_err();
    assert!(e.why.contains("cannot reach"), "{e}");
}
