//! Repositories, branches, commits, commit statuses, branch heads with ETags and GitHub Actions
//! against a wiremock stand-in answering with the bodies and headers api.github.com sends
//! (Link pagination, x-ratelimit-*, secondary rate limits, 401/403/404).

use slipway_core::integrations::CommitState;
use slipway_core::secrets::Secret;
use slipway_git_host::api::{GitHubApi, Head};
use slipway_testkit::*;
use wiremock::matchers::{body_partial_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "ghp_16C7e42F292c6912E7710c838347Ae178B4a";

fn api(server: &MockServer) -> GitHubApi {
    GitHubApi::new(&server.uri(), &Secret::new(TOKEN)).unwrap()
}

fn link(server: &MockServer, next: u32, last: u32) -> String {
    let u = server.uri();
    format!(
        "<{u}/user/repos?affiliation=owner%2Ccollaborator%2Corganization_member&sort=pushed&per_page=100&page={next}>; rel=\"next\", <{u}/user/repos?affiliation=owner%2Ccollaborator%2Corganization_member&sort=pushed&per_page=100&page={last}>; rel=\"last\""
    )
}

#[tokio::test]
async fn repositories_page_with_link_headers_and_show_the_quota() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/user/repos"))
        .and(query_param("page", "1"))
        .and(query_param(
            "affiliation",
            "owner,collaborator,organization_member",
        ))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(
            github_rate(ResponseTemplate::new(200), 4998, "core")
                .insert_header("link", link(&server, 2, 2).as_str())
                .set_body_json(serde_json::json!([
                    github_repo("octocat", "hello-world", false),
                    github_repo("octo-org", "payments", true)
                ])),
        )
        .expect(2)
        .mount(&server)
        .await;
    let u = server.uri();
    Mock::given(method("GET"))
        .and(path("/user/repos"))
        .and(query_param("page", "2"))
        .respond_with(
            github_rate(ResponseTemplate::new(200), 4997, "core")
                .insert_header("link", format!("<{u}/user/repos?per_page=100&page=1>; rel=\"prev\", <{u}/user/repos?per_page=100&page=1>; rel=\"first\"").as_str())
                .set_body_json(serde_json::json!([github_repo("octo-org", "payments-api", true)])),
        )
        .expect(1)
        .mount(&server)
        .await;
    let gh = api(&server);
    let p = gh.repos(1, 100).await.unwrap();
    assert_eq!(p.items.len(), 2);
    assert_eq!(p.items[1].full_name, "octo-org/payments");
    assert!(p.items[1].private);
    assert_eq!(p.items[0].default_branch, "main");
    assert_eq!(p.next_page, Some(2));
    assert_eq!(p.last_page, Some(2));
    let rate = p.rate.unwrap();
    assert_eq!(
        (rate.limit, rate.remaining, rate.reset, rate.used),
        (5000, 4998, 1732665600, 2)
    );

    // Search walks every page and matches the name in any case.
    let found = gh.search_repos("PAYMENTS", 10).await.unwrap();
    assert_eq!(
        found
            .items
            .iter()
            .map(|r| r.full_name.as_str())
            .collect::<Vec<_>>(),
        ["octo-org/payments", "octo-org/payments-api"]
    );
    assert_eq!(gh.rate().unwrap().remaining, 4997);
}

#[tokio::test]
async fn branches_and_recent_commits() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/repos/octocat/hello-world/branches"))
        .respond_with(github_rate(ResponseTemplate::new(200), 4990, "core").set_body_json(serde_json::json!([
            {"name": "main", "commit": {"sha": "7fd1a60b01f91b314f59955a4e4d4e80d8edf11d", "url": "https://api.github.com/repos/octocat/hello-world/commits/7fd1a60b01f91b314f59955a4e4d4e80d8edf11d"}, "protected": true},
            {"name": "feature/login", "commit": {"sha": "553c2077f0edc3d5dc5d17262f6aa498e69d6f8e", "url": "https://api.github.com/repos/octocat/hello-world/commits/553c2077f0edc3d5dc5d17262f6aa498e69d6f8e"}, "protected": false}
        ])))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/repos/octocat/hello-world/commits"))
        .and(query_param("sha", "feature/login"))
        .and(query_param("per_page", "5"))
        .respond_with(
            github_rate(ResponseTemplate::new(200), 4989, "core").set_body_json(serde_json::json!(
                [
                    github_commit(
                        "octocat",
                        "hello-world",
                        "553c2077f0edc3d5dc5d17262f6aa498e69d6f8e",
                        "Add the login form\n\nWith validation."
                    ),
                    github_commit(
                        "octocat",
                        "hello-world",
                        "762941318ee16e59dabbacb1b4049eec22f0d303",
                        "Start the login page"
                    ),
                ]
            )),
        )
        .mount(&server)
        .await;
    let gh = api(&server);
    let b = gh.branches("octocat/hello-world", 1).await.unwrap();
    assert_eq!(b.items[1].name, "feature/login");
    assert!(b.items[0].protected);
    assert_eq!(b.next_page, None);
    let c = gh
        .commits("octocat/hello-world", "feature/login", 5)
        .await
        .unwrap();
    assert_eq!(c.items[0].message, "Add the login form");
    assert_eq!(c.items[0].author, "octocat");
    assert_eq!(c.items[1].sha, "762941318ee16e59dabbacb1b4049eec22f0d303");
}

#[tokio::test]
async fn a_repository_without_access_is_named_and_explained() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/repos/octo-org/secret/branches"))
        .respond_with(github_not_found())
        .mount(&server)
        .await;
    let e = api(&server)
        .branches("octo-org/secret", 1)
        .await
        .unwrap_err();
    assert!(
        e.why
            .contains("repository octo-org/secret was not found, or the token has no access"),
        "{e}"
    );
    assert!(e.fix.contains("repo scope"), "{e}");
}

#[tokio::test]
async fn a_revoked_token_says_so_and_never_shows_the_token() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/user/repos"))
        .respond_with(github_bad_credentials())
        .mount(&server)
        .await;
    let e = api(&server).repos(1, 30).await.unwrap_err();
    assert!(
        e.why.contains("401 Bad credentials") && e.why.contains("revoked"),
        "{e}"
    );
    assert!(!format!("{e:?}").contains(TOKEN));
}

#[tokio::test]
async fn rate_limits_primary_and_secondary_are_told_apart() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/user/repos"))
        .respond_with(github_rate(ResponseTemplate::new(403), 0, "core").set_body_json(serde_json::json!({
            "message": "API rate limit exceeded for user ID 583231. If you reach out to GitHub Support for help, please include the request ID 8C2A:3B4F.",
            "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api", "status": "403"
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/repos/octocat/hello-world/branches"))
        .respond_with(github_secondary_limit())
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/repos/octocat/hello-world/commits"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "17")
                .set_body_json(serde_json::json!({"message": "Too Many Requests"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/repos/octocat/private/branches"))
        .respond_with(github_rate(ResponseTemplate::new(403), 4000, "core").set_body_json(serde_json::json!({
            "message": "Resource not accessible by personal access token", "documentation_url": "https://docs.github.com/rest/branches/branches#list-branches", "status": "403"
        })))
        .mount(&server)
        .await;
    let gh = api(&server);
    let e = gh.repos(1, 30).await.unwrap_err();
    assert!(
        e.why.contains("rate limit is used up (403)") && e.why.contains("1732665600"),
        "{e}"
    );
    assert_eq!(gh.rate().unwrap().remaining, 0);
    let e = gh.branches("octocat/hello-world", 1).await.unwrap_err();
    assert!(e.why.contains("secondary rate limit"), "{e}");
    assert!(e.fix.starts_with("Wait 60 seconds"), "{e}");
    let e = gh
        .commits("octocat/hello-world", "main", 5)
        .await
        .unwrap_err();
    assert!(
        e.why.contains("secondary rate limit") && e.fix.starts_with("Wait 17 seconds"),
        "{e}"
    );
    let e = gh.branches("octocat/private", 1).await.unwrap_err();
    assert!(e.why.contains("403 Resource not accessible"), "{e}");
    assert!(!e.why.contains("rate limit"), "{e}");
}

#[tokio::test]
async fn commit_statuses_are_posted_with_state_and_link() {
    let server = MockServer::start().await;
    let sha = "7fd1a60b01f91b314f59955a4e4d4e80d8edf11d";
    for state in ["pending", "success", "failure"] {
        Mock::given(method("POST"))
            .and(path(format!("/repos/octocat/hello-world/statuses/{sha}")))
            .and(body_partial_json(serde_json::json!({"state": state, "context": "slipway", "target_url": "http://127.0.0.1:1420/runs/hello-3"})))
            .respond_with(github_rate(ResponseTemplate::new(201), 4900, "core").set_body_json(serde_json::json!({
                "url": format!("https://api.github.com/repos/octocat/hello-world/statuses/{sha}"), "id": 1, "node_id": "MDY6U3RhdHVzMQ==",
                "state": state, "description": "Slipway run", "target_url": "http://127.0.0.1:1420/runs/hello-3", "context": "slipway",
                "created_at": "2024-11-20T10:02:00Z", "updated_at": "2024-11-20T10:02:00Z"
            })))
            .expect(1)
            .mount(&server)
            .await;
    }
    let gh = api(&server);
    for state in [
        CommitState::Pending,
        CommitState::Success,
        CommitState::Failure,
    ] {
        gh.set_status(
            "octocat/hello-world",
            sha,
            state,
            Some("http://127.0.0.1:1420/runs/hello-3"),
            "Slipway run",
            "slipway",
        )
        .await
        .unwrap();
    }
    assert!(gh
        .set_status(
            "octocat/hello-world",
            "not-a-sha",
            CommitState::Pending,
            None,
            "x",
            "slipway"
        )
        .await
        .is_err());
}

#[tokio::test]
async fn a_status_on_a_repository_without_push_rights_is_refused_clearly() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(
            "/repos/octocat/hello-world/statuses/7fd1a60b01f91b314f59955a4e4d4e80d8edf11d",
        ))
        .respond_with(github_not_found())
        .mount(&server)
        .await;
    let e = api(&server)
        .set_status(
            "octocat/hello-world",
            "7fd1a60b01f91b314f59955a4e4d4e80d8edf11d",
            CommitState::Success,
            None,
            "ok",
            "slipway",
        )
        .await
        .unwrap_err();
    assert_eq!(e.what, "Could not report the run to GitHub");
    assert!(
        e.why.contains("not found, or the token has no access"),
        "{e}"
    );
}

#[tokio::test]
async fn a_branch_head_is_read_with_its_etag_and_304_means_unchanged() {
    let server = MockServer::start().await;
    let etag = "W/\"2d5a5ec1e3c04b5e8a1f6e7c3a2b1c0d\"";
    Mock::given(method("GET"))
        .and(path("/repos/octocat/hello-world/branches/main"))
        .and(header("if-none-match", etag))
        .respond_with(
            ResponseTemplate::new(304)
                .insert_header("etag", etag)
                .insert_header("x-ratelimit-limit", "5000")
                .insert_header("x-ratelimit-remaining", "4995")
                .insert_header("x-ratelimit-reset", "1732665600")
                .insert_header("x-ratelimit-used", "5")
                .insert_header("x-ratelimit-resource", "core"),
        )
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/repos/octocat/hello-world/branches/main"))
        .respond_with(
            github_rate(ResponseTemplate::new(200), 4995, "core")
                .insert_header("etag", etag)
                .set_body_json(github_branch(
                    "octocat",
                    "hello-world",
                    "main",
                    "7fd1a60b01f91b314f59955a4e4d4e80d8edf11d",
                )),
        )
        .with_priority(5)
        .expect(1)
        .mount(&server)
        .await;
    let gh = api(&server);
    let h = gh.head("octocat/hello-world", "main", None).await.unwrap();
    assert_eq!(
        h,
        Head::Sha {
            sha: "7fd1a60b01f91b314f59955a4e4d4e80d8edf11d".into(),
            etag: Some(etag.into())
        }
    );
    assert_eq!(
        gh.head("octocat/hello-world", "main", Some(etag))
            .await
            .unwrap(),
        Head::NotModified
    );
    // The 304 did not use any quota.
    assert_eq!(gh.rate().unwrap().remaining, 4995);
}

#[tokio::test]
async fn actions_runs_jobs_steps_and_logs() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/repos/octocat/hello-world/actions/runs"))
        .respond_with(github_rate(ResponseTemplate::new(200), 4980, "core").set_body_json(serde_json::json!({
            "total_count": 2,
            "workflow_runs": [
                {"id": 30433642, "name": "CI", "node_id": "MDEyOldvcmtmbG93IFJ1bjI2OTI4OQ==", "head_branch": "main",
                 "head_sha": "acb5820ced9479c074f688cc328bf03f341a511d", "path": ".github/workflows/ci.yml", "run_number": 562,
                 "event": "push", "status": "completed", "conclusion": "failure", "workflow_id": 159038,
                 "html_url": "https://github.com/octocat/hello-world/actions/runs/30433642",
                 "created_at": "2024-11-20T10:02:00Z", "updated_at": "2024-11-20T10:05:00Z", "run_attempt": 1},
                {"id": 30433643, "name": "CI", "head_branch": "feature/login", "head_sha": "553c2077f0edc3d5dc5d17262f6aa498e69d6f8e",
                 "run_number": 563, "event": "pull_request", "status": "in_progress", "conclusion": null,
                 "html_url": "https://github.com/octocat/hello-world/actions/runs/30433643", "created_at": "2024-11-20T10:06:00Z"}
            ]
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/repos/octocat/hello-world/actions/runs/30433642/jobs"))
        .respond_with(github_rate(ResponseTemplate::new(200), 4979, "core").set_body_json(serde_json::json!({
            "total_count": 1,
            "jobs": [{"id": 399444496, "run_id": 30433642, "head_sha": "acb5820ced9479c074f688cc328bf03f341a511d", "status": "completed",
                      "conclusion": "failure", "name": "build", "html_url": "https://github.com/octocat/hello-world/actions/runs/30433642/job/399444496",
                      "started_at": "2024-11-20T10:02:10Z", "completed_at": "2024-11-20T10:05:00Z",
                      "steps": [
                          {"name": "Set up job", "status": "completed", "conclusion": "success", "number": 1, "started_at": "2024-11-20T10:02:10Z", "completed_at": "2024-11-20T10:02:12Z"},
                          {"name": "Run tests", "status": "completed", "conclusion": "failure", "number": 2, "started_at": "2024-11-20T10:02:12Z", "completed_at": "2024-11-20T10:05:00Z"}
                      ], "labels": ["ubuntu-latest"], "runner_name": "GitHub Actions 2"}]
        })))
        .mount(&server)
        .await;
    // GitHub answers the log request with a redirect to a short-lived download URL.
    Mock::given(method("GET"))
        .and(path(
            "/repos/octocat/hello-world/actions/jobs/399444496/logs",
        ))
        .respond_with(ResponseTemplate::new(302).insert_header(
            "location",
            format!("{}/download/job-logs/399444496.txt", server.uri()).as_str(),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/download/job-logs/399444496.txt"))
        .respond_with(ResponseTemplate::new(200).insert_header("content-type", "text/plain").set_body_string(
            "2024-11-20T10:02:12.1234567Z ##[group]Run cargo test\n2024-11-20T10:04:59.7654321Z test tests::login ... FAILED\n",
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/repos/octocat/hello-world/actions/jobs/1/logs"))
        .respond_with(github_not_found())
        .mount(&server)
        .await;
    let gh = api(&server);
    let runs = gh
        .workflow_runs("octocat/hello-world", 1, 20)
        .await
        .unwrap();
    assert_eq!(runs.items.len(), 2);
    assert_eq!(runs.items[0].conclusion.as_deref(), Some("failure"));
    assert_eq!(runs.items[1].conclusion, None);
    assert_eq!(runs.items[1].run_number, 563);
    let jobs = gh
        .workflow_jobs("octocat/hello-world", 30433642)
        .await
        .unwrap();
    assert_eq!(
        jobs[0]
            .steps
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>(),
        ["Set up job", "Run tests"]
    );
    assert_eq!(jobs[0].steps[1].conclusion.as_deref(), Some("failure"));
    let log = gh.job_log("octocat/hello-world", 399444496).await.unwrap();
    assert!(log.contains("test tests::login ... FAILED"), "{log}");
    let e = gh.job_log("octocat/hello-world", 1).await.unwrap_err();
    assert!(e.why.contains("the log of job 1"), "{e}");
}

#[test]
fn bad_repository_names_are_refused_before_any_request() {
    assert!(slipway_git_host::api::split_repo("octocat").is_err());
    assert!(slipway_git_host::api::split_repo("octo cat/x").is_err());
    assert!(slipway_git_host::api::split_repo("../etc/passwd").is_err());
    assert_eq!(
        slipway_git_host::api::split_repo("octo-org/hello.world").unwrap(),
        ("octo-org", "hello.world")
    );
}

#[tokio::test]
async fn a_huge_job_log_keeps_its_end_within_the_limit_and_says_what_was_left_out() {
    let server = MockServer::start().await;
    let mut log = Vec::new();
    let mut i = 0u32;
    while log.len() < 20 << 20 {
        log.extend_from_slice(format!("2024-11-20T10:02:12.1234567Z line {i:08} of a long build\n").as_bytes());
        i += 1;
    }
    log.extend_from_slice(b"2024-11-20T10:04:59.7654321Z \xff\xfe not UTF-8, then the failure\n");
    log.extend_from_slice(b"2024-11-20T10:05:00.0000000Z error: test tests::login ... FAILED\n");
    Mock::given(method("GET"))
        .and(path("/repos/octocat/hello-world/actions/jobs/7/logs"))
        .respond_with(ResponseTemplate::new(302).insert_header("location", format!("{}/download/7.txt", server.uri()).as_str()))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/download/7.txt"))
        .respond_with(ResponseTemplate::new(200).insert_header("content-type", "text/plain").set_body_bytes(log.clone()))
        .mount(&server)
        .await;
    let gh = api(&server);
    let text = gh.job_log("octocat/hello-world", 7).await.unwrap();
    let limit = slipway_git_host::api::JOB_LOG_LIMIT;
    let (note, rest) = text.split_once('\n').unwrap();
    assert!(rest.len() <= limit + 8, "{} bytes kept", rest.len());
    assert!(note.starts_with("[Slipway: this log is ") && note.contains("bytes are left out here"), "{note}");
    let dropped: u64 = note.split("the first ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
    // What was left out plus what is shown is the whole log (its two invalid bytes shown as two
    // three-byte replacement characters).
    assert_eq!(dropped + rest.len() as u64, log.len() as u64 + 4);
    assert!(rest.ends_with("error: test tests::login ... FAILED\n"), "the end is kept");
    assert!(rest.starts_with("2024-11-20T10:02:12"), "it starts at a whole line");
    // A small log is whole, and invalid UTF-8 does not empty it.
    let small = gh.job_log_limited("octocat/hello-world", 7, 64 << 20).await.unwrap();
    assert!(!small.starts_with("[Slipway") && small.contains("not UTF-8, then the failure"));
    println!("job log of {} bytes: {} kept in memory, {dropped} left out and said so", log.len(), rest.len());
}
