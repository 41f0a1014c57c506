//! Jenkins cannot run here, so these tests talk to a wiremock stand-in answering with the shapes
//! a Jenkins 2.4xx LTS really sends: the `X-Jenkins` header, Basic auth with an API token, the
//! crumb issuer, the Pipeline Stage View's `wfapi/describe`, progressive console text, and its
//! HTML error pages for 401, 403 and 404.

use slipway_ci::Jenkins;
use slipway_core::secrets::Secret;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use wiremock::matchers::{header, header_exists, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const USER: &str = "deployer";
const TOKEN: &str = "11d5a5c7b6e4f3a2b1c0d9e8f7a6b5c4d3";
// base64("deployer:11d5a5c7b6e4f3a2b1c0d9e8f7a6b5c4d3")
fn basic() -> String {
    use std::io::Write;
    let raw = format!("{USER}:{TOKEN}");
    let mut out = Vec::new();
    // A tiny base64 encoder, so the test checks the header independently of reqwest.
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for c in raw.as_bytes().chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        let s = [
            T[(n >> 18) as usize & 63],
            T[(n >> 12) as usize & 63],
            if c.len() > 1 {
                T[(n >> 6) as usize & 63]
            } else {
                b'='
            },
            if c.len() > 2 {
                T[n as usize & 63]
            } else {
                b'='
            },
        ];
        out.write_all(&s).unwrap();
    }
    format!("Basic {}", String::from_utf8(out).unwrap())
}

fn jenkins_headers(t: ResponseTemplate) -> ResponseTemplate {
    t.insert_header("x-jenkins", "2.462.3")
        .insert_header("x-hudson", "1.395")
        .insert_header("x-jenkins-session", "4f0c6a1e")
        .insert_header("x-content-type-options", "nosniff")
        .insert_header("server", "Jetty(10.0.20)")
}

fn error_page(status: u16, message: &str) -> ResponseTemplate {
    jenkins_headers(ResponseTemplate::new(status)).insert_header("content-type", "text/html;charset=iso-8859-1").set_body_string(format!(
        "<html>\n<head>\n<meta http-equiv=\"Content-Type\" content=\"text/html;charset=utf-8\"/>\n<title>Error {status} {message}</title>\n</head>\n<body><h2>HTTP ERROR {status} {message}</h2>\n<table>\n<tr><th>URI:</th><td>/job/app/build</td></tr>\n<tr><th>STATUS:</th><td>{status}</td></tr>\n<tr><th>MESSAGE:</th><td>{message}</td></tr>\n<tr><th>SERVLET:</th><td>Stapler</td></tr>\n</table>\n</body>\n</html>\n"
    ))
}

fn client(server: &MockServer) -> Jenkins {
    Jenkins::new(&format!("{}/", server.uri()), USER, &Secret::new(TOKEN)).unwrap()
}

async fn root(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path("/api/json"))
        .and(header("authorization", basic().as_str()))
        .respond_with(jenkins_headers(ResponseTemplate::new(200)).set_body_json(serde_json::json!({
            "_class": "hudson.model.Hudson",
            "jobs": [
                {"_class": "org.jenkinsci.plugins.workflow.job.WorkflowJob", "name": "app", "url": format!("{}/job/app/", server.uri()), "color": "blue_anime", "lastBuild": {"_class": "org.jenkinsci.plugins.workflow.job.WorkflowRun", "number": 42}},
                {"_class": "hudson.model.FreeStyleProject", "name": "nightly", "url": format!("{}/job/nightly/", server.uri()), "color": "red", "lastBuild": {"_class": "hudson.model.FreeStyleBuild", "number": 7}},
                {"_class": "com.cloudbees.hudson.plugins.folder.Folder", "name": "team", "url": format!("{}/job/team/", server.uri())}
            ]
        })))
        .with_priority(1)
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .respond_with(
            error_page(401, "Unauthorized")
                .insert_header("www-authenticate", "Basic realm=\"Jenkins\""),
        )
        .with_priority(10)
        .mount(server)
        .await;
}

#[tokio::test]
async fn connect_shows_the_version_and_jobs() {
    let server = MockServer::start().await;
    root(&server).await;
    let j = client(&server);
    let s = j.check().await.unwrap();
    assert_eq!(s.version.as_deref(), Some("2.462.3"));
    assert_eq!((s.user.as_str(), s.jobs), (USER, 3));
    let jobs = j.jobs(None).await.unwrap();
    assert_eq!(jobs[0].last_build, Some(42));
    assert_eq!(jobs[1].color.as_deref(), Some("red"));
    assert_eq!(jobs[2].last_build, None);
}

#[tokio::test]
async fn a_wrong_token_is_a_clear_401_without_the_token() {
    let server = MockServer::start().await;
    root(&server).await;
    let j = Jenkins::new(&server.uri(), USER, &Secret::new("revoked-token-value")).unwrap();
    let e = j.check().await.unwrap_err();
    assert!(e.why.contains("rejected the user or API token (401"), "{e}");
    assert!(e.fix.contains("API Token"), "{e}");
    assert!(!format!("{e:?}").contains("revoked-token-value"));
}

#[tokio::test]
async fn builds_missing_jobs_and_forbidden_folders() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/job/app/api/json"))
        .and(query_param("tree", "builds[number,result,building,timestamp,duration,url]{0,5}"))
        .respond_with(jenkins_headers(ResponseTemplate::new(200)).set_body_json(serde_json::json!({
            "_class": "org.jenkinsci.plugins.workflow.job.WorkflowJob",
            "builds": [
                {"_class": "org.jenkinsci.plugins.workflow.job.WorkflowRun", "building": true, "duration": 0, "number": 42, "result": null, "timestamp": 1732665000123i64, "url": "http://jenkins/job/app/42/"},
                {"_class": "org.jenkinsci.plugins.workflow.job.WorkflowRun", "building": false, "duration": 95311, "number": 41, "result": "FAILURE", "timestamp": 1732661000456i64, "url": "http://jenkins/job/app/41/"}
            ]
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/job/gone/api/json"))
        .respond_with(error_page(404, "Not Found"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/job/secret/job/app/api/json"))
        .respond_with(error_page(403, "Access Denied").set_body_string("<html><head><title>Access Denied [Jenkins]</title></head><body>deployer is missing the Job/Read permission</body></html>"))
        .mount(&server)
        .await;
    let j = client(&server);
    let b = j.builds("app", 5).await.unwrap();
    assert!(b[0].building && b[0].result.is_none());
    assert_eq!(
        (b[1].number, b[1].result.as_deref(), b[1].duration_ms),
        (41, Some("FAILURE"), 95311)
    );
    let e = j.builds("gone", 5).await.unwrap_err();
    assert!(
        e.why.contains("job gone does not exist") && e.why.contains("404"),
        "{e}"
    );
    let e = j.builds("secret/app", 5).await.unwrap_err();
    assert!(e.why.contains("403 Access Denied"), "{e}");
}

#[tokio::test]
async fn the_stage_view_of_a_pipeline_run() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/job/app/42/wfapi/describe"))
        .respond_with(jenkins_headers(ResponseTemplate::new(200)).set_body_json(serde_json::json!({
            "_links": {"self": {"href": "/job/app/42/wfapi/describe"}, "changesets": {"href": "/job/app/42/wfapi/changesets"}},
            "id": "42", "name": "#42", "status": "IN_PROGRESS", "startTimeMillis": 1732665000123i64, "endTimeMillis": 0,
            "durationMillis": 61000, "queueDurationMillis": 7, "pauseDurationMillis": 0,
            "stages": [
                {"_links": {"self": {"href": "/job/app/42/execution/node/6/wfapi/describe"}}, "id": "6", "name": "Checkout", "execNode": "", "status": "SUCCESS", "startTimeMillis": 1732665000200i64, "durationMillis": 2100, "pauseDurationMillis": 0},
                {"_links": {"self": {"href": "/job/app/42/execution/node/14/wfapi/describe"}}, "id": "14", "name": "Build", "execNode": "", "status": "SUCCESS", "startTimeMillis": 1732665002300i64, "durationMillis": 41000, "pauseDurationMillis": 0},
                {"_links": {"self": {"href": "/job/app/42/execution/node/27/wfapi/describe"}}, "id": "27", "name": "Test", "execNode": "", "status": "IN_PROGRESS", "startTimeMillis": 1732665043300i64, "durationMillis": 17800, "pauseDurationMillis": 0}
            ]
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/job/nightly/7/wfapi/describe"))
        .respond_with(error_page(404, "Not Found"))
        .mount(&server)
        .await;
    let j = client(&server);
    let v = j.stages("app", 42).await.unwrap();
    assert_eq!(v.status, "IN_PROGRESS");
    assert_eq!(
        v.stages
            .iter()
            .map(|s| (s.name.as_str(), s.status.as_str()))
            .collect::<Vec<_>>(),
        [
            ("Checkout", "SUCCESS"),
            ("Build", "SUCCESS"),
            ("Test", "IN_PROGRESS")
        ]
    );
    assert_eq!(v.stages[1].duration_ms, 41000);
    let e = j.stages("nightly", 7).await.unwrap_err();
    assert!(e.why.contains("Pipeline job"), "{e}");
}

#[tokio::test]
async fn the_console_log_is_streamed_from_offsets() {
    let server = MockServer::start().await;
    let parts = [
        (
            "Started by user deployer\n[Pipeline] Start of Pipeline\n",
            true,
        ),
        ("[Pipeline] stage\n[Pipeline] { (Build)\n", true),
        // Nothing new yet: the same offset is asked again.
        ("", true),
        ("[Pipeline] End of Pipeline\nFinished: SUCCESS\n", false),
    ];
    // Where each read starts and the X-Text-Size it answers.
    let mut starts = Vec::new();
    let mut sizes = Vec::new();
    let mut offset = 0usize;
    for (text, _) in &parts {
        starts.push(offset);
        offset += text.len();
        sizes.push(offset);
    }
    for (i, (text, more)) in parts.iter().enumerate() {
        let mut t = jenkins_headers(ResponseTemplate::new(200))
            .insert_header("content-type", "text/plain;charset=UTF-8")
            .insert_header("x-text-size", sizes[i].to_string().as_str())
            .set_body_string(*text);
        if *more {
            t = t.insert_header("x-more-data", "true");
        }
        Mock::given(method("GET"))
            .and(path("/job/app/42/logText/progressiveText"))
            .and(query_param("start", starts[i].to_string().as_str()))
            .respond_with(t)
            .up_to_n_times(1)
            .with_priority(i as u8 + 1)
            .expect(1)
            .mount(&server)
            .await;
    }
    let j = client(&server);
    let first = j.log("app", 42, 0).await.unwrap();
    assert_eq!((first.next_offset, first.more), (sizes[0] as u64, true));
    let mut got = first.text.clone();
    let mut ends = Vec::new();
    let end = j
        .follow_log(
            "app",
            42,
            first.next_offset,
            Duration::from_millis(10),
            &CancellationToken::new(),
            &mut |c| {
                got.push_str(&c.text);
                ends.push(c.more);
            },
        )
        .await
        .unwrap();
    assert_eq!(end, *sizes.last().unwrap() as u64);
    assert_eq!(got, parts.iter().map(|p| p.0).collect::<String>());
    assert_eq!(ends.last(), Some(&false));
}

#[tokio::test]
async fn a_build_is_started_with_the_crumb_and_its_session_cookie() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/crumbIssuer/api/json"))
        .and(header("authorization", basic().as_str()))
        .respond_with(
            jenkins_headers(ResponseTemplate::new(200))
                .insert_header(
                    "set-cookie",
                    "JSESSIONID.4f0c6a1e=node01x8k2v1n7z9q1.node0; Path=/; HttpOnly",
                )
                .set_body_json(serde_json::json!({
                    "_class": "hudson.security.csrf.DefaultCrumbIssuer",
                    "crumb": "3f4e7c1c0e6b2a9d8f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a",
                    "crumbRequestField": "Jenkins-Crumb"
                })),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/job/app/build"))
        .and(header(
            "jenkins-crumb",
            "3f4e7c1c0e6b2a9d8f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a",
        ))
        .and(header(
            "cookie",
            "JSESSIONID.4f0c6a1e=node01x8k2v1n7z9q1.node0",
        ))
        .respond_with(jenkins_headers(ResponseTemplate::new(201)).insert_header(
            "location",
            format!("{}/queue/item/1234/", server.uri()).as_str(),
        ))
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    // Without the crumb Jenkins says 403 No valid crumb.
    Mock::given(method("POST"))
        .and(path("/job/app/build"))
        .respond_with(error_page(
            403,
            "No valid crumb was included in the request",
        ))
        .with_priority(10)
        .mount(&server)
        .await;
    let queued = client(&server).build("app").await.unwrap();
    assert_eq!(queued, Some(format!("{}/queue/item/1234/", server.uri())));
}

#[tokio::test]
async fn a_jenkins_that_answers_403_without_a_crumb_is_explained() {
    // The crumb issuer is unreachable through a proxy (404) so no crumb is sent, and Jenkins
    // refuses the POST.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/crumbIssuer/api/json"))
        .respond_with(error_page(404, "Not Found"))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/job/app/build"))
        .respond_with(error_page(
            403,
            "No valid crumb was included in the request",
        ))
        .mount(&server)
        .await;
    let e = client(&server).build("app").await.unwrap_err();
    assert_eq!(e.what, "Could not start the Jenkins build");
    assert!(e.why.contains("without a valid CSRF crumb"), "{e}");
    let reqs = server.received_requests().await.unwrap();
    let post = reqs.iter().find(|r| r.method.as_str() == "POST").unwrap();
    assert!(post.headers.get("jenkins-crumb").is_none());
}

#[tokio::test]
async fn no_crumb_issuer_means_a_plain_post_and_a_missing_job_is_named() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/crumbIssuer/api/json"))
        .respond_with(error_page(404, "Not Found"))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/job/app/build"))
        .and(header_exists("authorization"))
        .respond_with(jenkins_headers(ResponseTemplate::new(201)))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/job/missing/build"))
        .respond_with(error_page(404, "Not Found"))
        .mount(&server)
        .await;
    let j = client(&server);
    assert_eq!(j.build("app").await.unwrap(), None);
    let e = j.build("missing").await.unwrap_err();
    assert!(e.why.contains("job missing does not exist"), "{e}");
}

/// A wiremock responder that serves a finished build's whole console from `?start=`, as
/// Jenkins does (one answer with everything from there), and counts the bytes it sent.
struct Console(Vec<u8>, std::sync::Arc<std::sync::atomic::AtomicU64>);

impl wiremock::Respond for Console {
    fn respond(&self, req: &wiremock::Request) -> ResponseTemplate {
        let start: usize = req.url.query_pairs().find(|(k, _)| k == "start").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
        let rest = self.0[start.min(self.0.len())..].to_vec();
        self.1.fetch_add(rest.len() as u64, std::sync::atomic::Ordering::Relaxed);
        jenkins_headers(ResponseTemplate::new(200))
            .insert_header("content-type", "text/plain;charset=UTF-8")
            .insert_header("x-text-size", self.0.len().to_string().as_str())
            .set_body_bytes(rest)
    }
}

#[tokio::test]
async fn a_long_console_log_is_read_a_bounded_chunk_at_a_time_and_nothing_is_lost() {
    let server = MockServer::start().await;
    let mut log = Vec::new();
    let mut i = 0;
    while log.len() < 3 * slipway_ci::CONSOLE_CHUNK_LIMIT + 12345 {
        log.extend_from_slice(format!("[Pipeline] step {i}: compiling crate number {i} — ✓\n").as_bytes());
        i += 1;
    }
    let sent = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    Mock::given(method("GET"))
        .and(path("/job/app/9/logText/progressiveText"))
        .respond_with(Console(log.clone(), sent.clone()))
        .mount(&server)
        .await;
    let j = client(&server);
    let first = j.log("app", 9, 0).await.unwrap();
    assert!(first.text.len() <= slipway_ci::CONSOLE_CHUNK_LIMIT, "{} bytes in one chunk", first.text.len());
    assert!(first.text.ends_with('\n') && first.more, "a chunk ends at a whole line and says there is more");
    assert_eq!(first.next_offset, first.text.len() as u64, "the next read starts where this one ended");
    // Without --follow: the whole log, chunk by chunk, none over the limit.
    let mut got = String::new();
    let mut chunks = 0;
    let end = j
        .read_log("app", 9, 0, &mut |c| {
            assert!(c.text.len() <= slipway_ci::CONSOLE_CHUNK_LIMIT);
            got.push_str(&c.text);
            chunks += 1;
        })
        .await
        .unwrap();
    assert_eq!(got.as_bytes(), &log[..], "every byte, in order");
    assert_eq!(end, log.len() as u64);
    assert!(chunks >= 4, "{chunks} chunks");
    // Following a finished build reads the same chunks and stops.
    let mut followed = String::new();
    j.follow_log("app", 9, 0, Duration::from_millis(10), &CancellationToken::new(), &mut |c| followed.push_str(&c.text)).await.unwrap();
    assert_eq!(followed.as_bytes(), &log[..]);
    println!("console log of {} bytes read in {chunks} chunks of at most {} bytes", log.len(), slipway_ci::CONSOLE_CHUNK_LIMIT);
}
