//! Kubernetes checks against the real control plane from the test environment.

use slipway_core::connections::Identity;
use slipway_core::providers::ClusterProvider;
use slipway_kube::Kube;
use slipway_testkit::env;

#[tokio::test]
async fn the_test_cluster_answers_with_its_version() {
    let kc = env("SLIPWAY_TEST_KUBECONFIG");
    match Kube.check(Some(kc.into()), None).await.unwrap() {
        Identity::Kubernetes { context, server, version } => {
            assert_eq!(context, "slipway-test");
            assert!(server.starts_with("https://"), "{server}");
            assert!(version.starts_with("v1."), "{version}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_forbidden_identity_is_reported_as_rbac() {
    let kc = env("SLIPWAY_TEST_KUBECONFIG_FORBIDDEN");
    let e = Kube.check(Some(kc.into()), None).await.unwrap_err();
    assert!(e.why.contains("forbidden by RBAC"), "{e}");
    assert!(e.fix.contains("cluster admin"), "{e}");
}
