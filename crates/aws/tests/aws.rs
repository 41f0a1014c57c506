//! The AWS provider against the real AWS emulator (moto server) and the fault proxy from the
//! test environment; STS error answers that moto cannot give come from a stand-in with the
//! shapes STS really sends.

use slipway_aws::Aws;
use slipway_core::connections::{AwsSource, Identity};
use slipway_core::providers::{AwsProvider, AwsTarget};
use slipway_testkit::env;

mod common;
use common::static_target;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer};


#[tokio::test]
async fn whoami_and_regions_against_the_emulator() {
    let moto = env("SLIPWAY_TEST_MOTO_URL");
    let id = Aws.whoami(&static_target(&moto, "eu-west-1")).await.unwrap();
    match id {
        Identity::Aws { account, arn, region, endpoint, .. } => {
            assert_eq!(account, "123456789012");
            assert!(arn.starts_with("arn:aws:"), "{arn}");
            assert_eq!(region, "eu-west-1");
            assert_eq!(endpoint.as_deref(), Some(moto.as_str()));
        }
        other => panic!("{other:?}"),
    }
    let regions = Aws.regions(&static_target(&moto, "us-east-1")).await.unwrap();
    for r in ["us-east-1", "eu-west-1", "ap-southeast-2"] {
        assert!(regions.iter().any(|x| x == r), "{r} missing from {regions:?}");
    }
}

#[tokio::test]
async fn unknown_regions_are_refused_with_the_list() {
    let moto = env("SLIPWAY_TEST_MOTO_URL");
    let e = Aws.whoami(&static_target(&moto, "xx-nowhere-9")).await.unwrap_err();
    assert_eq!(e.what, "Unknown AWS region");
    assert!(e.why.contains("'xx-nowhere-9' is not one of the"), "{e}");
    let e = Aws.whoami(&static_target(&moto, "Frankfurt")).await.unwrap_err();
    assert!(e.why.contains("not an AWS region code"), "{e}");
}

#[tokio::test]
async fn wrong_keys_say_which_part_is_wrong() {
    let server = MockServer::start().await;
    Mock::given(method("POST")).respond_with(slipway_testkit::sts_invalid_client_token()).mount(&server).await;
    let e = Aws.whoami(&static_target(&server.uri(), "us-east-1")).await.unwrap_err();
    assert!(e.why.contains("does not recognise the access key id"), "{e}");
    assert!(e.fix.contains("access key id and secret access key"), "{e}");
    assert!(!e.to_string().contains("wJalrXUtnFEMI"), "secret leaked into {e}");

    let server = MockServer::start().await;
    Mock::given(method("POST")).respond_with(slipway_testkit::sts_signature_mismatch()).mount(&server).await;
    let e = Aws.whoami(&static_target(&server.uri(), "us-east-1")).await.unwrap_err();
    assert!(e.why.contains("secret access key does not match"), "{e}");
}

#[tokio::test]
async fn an_unreachable_endpoint_is_named() {
    let ep = format!("http://127.0.0.1:{}", slipway_testkit::closed_port());
    let e = Aws.whoami(&static_target(&ep, "us-east-1")).await.unwrap_err();
    assert!(e.why.contains(&format!("cannot reach {ep}")), "{e}");
    assert!(e.fix.contains(&ep), "{e}");
}

#[tokio::test]
async fn throttling_is_retried_and_persistent_throttling_is_reported() {
    let proxy = env("SLIPWAY_TEST_PROXY_URL");
    let client = reqwest::Client::new();
    let rules = format!("{proxy}/__proxy__/rules");
    // Tests share the proxy: touch only this account's rules (other tests use their own accounts).
    let mine = format!("{rules}?account=123456789012");
    client.delete(&mine).send().await.unwrap().error_for_status().unwrap();
    // Two throttled answers, then through: the SDK's retries absorb them.
    client
        .post(&rules)
        .json(&serde_json::json!({"service": "sts", "action": "GetCallerIdentity", "account": "123456789012", "fault": "throttle", "count": 2}))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
    let id = Aws.whoami(&static_target(&proxy, "us-east-1")).await.unwrap();
    assert!(matches!(id, Identity::Aws { ref account, .. } if account == "123456789012"));
    // Throttled every time: a clear error, no hang.
    client.delete(&mine).send().await.unwrap();
    client
        .post(&rules)
        .json(&serde_json::json!({"service": "sts", "action": "GetCallerIdentity", "account": "123456789012", "fault": "throttle"}))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
    let e = Aws.whoami(&static_target(&proxy, "us-east-1")).await.unwrap_err();
    client.delete(&mine).send().await.unwrap();
    assert!(e.why.contains("throttling"), "{e}");
}

#[tokio::test]
async fn profiles_with_credential_process_and_aws_endpoint_url() {
    let moto = env("SLIPWAY_TEST_MOTO_URL");
    let d = tempfile::tempdir().unwrap();
    let script = d.path().join("creds.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\necho '{\"Version\":1,\"AccessKeyId\":\"AKIAPROCESSEXAMPLE1\",\"SecretAccessKey\":\"process-secret\"}'\n",
    )
    .unwrap();
    std::process::Command::new("chmod").arg("+x").arg(&script).status().unwrap();
    let config = d.path().join("config");
    std::fs::write(&config, format!("[profile proc]\nregion = eu-west-2\ncredential_process = {}\n", script.display())).unwrap();
    std::env::set_var("AWS_CONFIG_FILE", &config);
    std::env::set_var("AWS_SHARED_CREDENTIALS_FILE", d.path().join("credentials"));
    std::env::set_var("AWS_ENDPOINT_URL", &moto);
    let profiles = Aws.profiles().unwrap();
    assert_eq!(profiles.len(), 1);
    assert_eq!(profiles[0].region.as_deref(), Some("eu-west-2"));
    let target = AwsTarget { source: AwsSource::Profile { name: "proc".into() }, region: "eu-west-2".into(), endpoint: None, keys: None };
    match Aws.whoami(&target).await.unwrap() {
        Identity::Aws { account, endpoint, .. } => {
            assert_eq!(account, "123456789012");
            assert_eq!(endpoint.as_deref(), Some(moto.as_str()), "an AWS_ENDPOINT_URL endpoint must be shown");
        }
        other => panic!("{other:?}"),
    }
    // A profile whose process fails: the error names the profile.
    std::fs::write(&config, "[profile broken]\ncredential_process = /nonexistent/helper\n").unwrap();
    let target = AwsTarget { source: AwsSource::Profile { name: "broken".into() }, region: "us-east-1".into(), endpoint: None, keys: None };
    let e = Aws.whoami(&target).await.unwrap_err();
    assert!(e.why.contains("credentials could not be loaded"), "{e}");
    assert!(e.why.contains("/nonexistent/helper"), "{e}");
    assert!(e.fix.contains("profile 'broken'"), "{e}");
}

#[tokio::test]
async fn the_admin_address_is_the_public_ip_the_service_reports_and_nothing_when_it_cannot_be_had() {
    use slipway_aws::public_ip::detect_admin_cidr;
    use std::time::Duration;
    use wiremock::ResponseTemplate;
    let quick = Duration::from_millis(500);
    let server = MockServer::start().await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(200).set_body_string("198.51.100.9\n")).mount(&server).await;
    assert_eq!(detect_admin_cidr(&server.uri(), quick).await.as_deref(), Some("198.51.100.9/32"));

    // An error page, a captive portal's HTML, an answer slower than the timeout, no server at all:
    // no address (the blueprint then asks the user), never a wider range.
    let failing = MockServer::start().await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(503).set_body_string("198.51.100.9")).mount(&failing).await;
    assert_eq!(detect_admin_cidr(&failing.uri(), quick).await, None);
    let portal = MockServer::start().await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(200).set_body_string("<html>log in</html>")).mount(&portal).await;
    assert_eq!(detect_admin_cidr(&portal.uri(), quick).await, None);
    let slow = MockServer::start().await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(200).set_body_string("198.51.100.9").set_delay(Duration::from_secs(3))).mount(&slow).await;
    let started = std::time::Instant::now();
    assert_eq!(detect_admin_cidr(&slow.uri(), quick).await, None);
    assert!(started.elapsed() < Duration::from_secs(2), "the timeout was not kept: {:?}", started.elapsed());
    assert_eq!(detect_admin_cidr(&format!("http://127.0.0.1:{}", slipway_testkit::closed_port()), quick).await, None);
}

#[tokio::test]
async fn the_ecr_login_comes_from_get_authorization_token() {
    // The emulator hands out a token of the real shape (base64 "AWS:<password>") for its
    // default account; its registry is not real, so nothing can be pushed to it here.
    let moto = env("SLIPWAY_TEST_MOTO_URL");
    let (server, auth) = slipway_aws::ecr::registry_login(&static_target(&moto, "eu-west-1"), "eu-west-1").await.unwrap();
    assert_eq!(server, "123456789012.dkr.ecr.eu-west-1.amazonaws.com");
    assert_eq!(auth.server, server);
    assert_eq!(auth.username, "AWS");
    assert_eq!(auth.password.expose(), "123456789012-auth-token");
    assert!(!format!("{auth:?}").contains("auth-token"), "the password prints redacted: {auth:?}");

    // No emulator there: a UserError saying what failed, not a panic or an empty login.
    let nowhere = format!("http://127.0.0.1:{}", slipway_testkit::closed_port());
    let e = slipway_aws::ecr::registry_login(&static_target(&nowhere, "eu-west-1"), "eu-west-1").await.unwrap_err();
    assert!(e.what.contains("ECR login"), "{e}");
}
