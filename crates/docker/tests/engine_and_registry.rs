//! The Docker engine and a registry with htpasswd auth, both real (from the test environment).

use slipway_core::connections::Identity;
use slipway_core::providers::{EngineProvider, RegistryProvider};
use slipway_core::secrets::Secret;
use slipway_docker::Docker;
use slipway_testkit::env;

#[tokio::test]
async fn the_engine_reports_its_version() {
    env("DOCKER_HOST");
    match Docker.check().await.unwrap() {
        Identity::Docker { version, api_version, host, .. } => {
            assert!(!version.is_empty());
            assert!(api_version.starts_with("1."), "{api_version}");
            assert!(host.starts_with("unix://"), "{host}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_missing_engine_says_how_to_start_one() {
    std::env::set_var("DOCKER_HOST", "unix:///nonexistent/docker.sock");
    let e = Docker.check().await.unwrap_err();
    assert_eq!(e.what, "Docker engine not available");
    assert!(e.why.contains("/nonexistent/docker.sock"), "{e}");
    assert!(e.fix.contains("DOCKER_HOST"), "{e}");
}

#[tokio::test]
async fn registry_login_accepts_good_and_refuses_bad_credentials() {
    let reg = env("SLIPWAY_TEST_REGISTRY");
    let user = env("SLIPWAY_TEST_REGISTRY_USER");
    let pw = Secret::new(env("SLIPWAY_TEST_REGISTRY_PASSWORD"));
    Docker.login(&reg, &user, &pw).await.unwrap();
    let e = Docker.login(&reg, &user, &Secret::new("wrong-password")).await.unwrap_err();
    assert!(e.why.contains("refused the username or password (401"), "{e}");
    assert!(!e.to_string().contains("wrong-password"));
    let e = Docker.login(&reg, "nobody", &pw).await.unwrap_err();
    assert!(e.why.contains("401"), "{e}");
}
