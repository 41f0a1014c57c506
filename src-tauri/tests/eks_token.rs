//! The desktop binary signs EKS tokens itself: the kubeconfig context Slipway writes for an EKS
//! cluster runs `slipway-desktop eks-token ...`, so a desktop install needs no `slipway` or `aws`
//! on PATH. This runs the built desktop binary as kubectl would.

use slipway_app::{Options, Slipway};
use slipway_core::connections::AwsConnectInput;
use slipway_core::secrets::Secret;
use slipway_testkit::env;
use std::process::Command;

#[tokio::test]
async fn the_desktop_binary_answers_eks_token_without_a_window() {
    let d = slipway_testkit::data_dir();
    let app = Slipway::open(Options { data_dir: Some(d.path().to_path_buf()), ..Default::default() }).await.unwrap();
    app.connect_aws(AwsConnectInput::StaticKeys {
        access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
        secret_access_key: Secret::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        session_token: None,
        region: Some("eu-west-1".into()),
        endpoint: Some(env("SLIPWAY_TEST_MOTO_URL")),
    })
    .await
    .unwrap();
    drop(app);

    let bin = env!("CARGO_BIN_EXE_slipway-desktop");
    let out = Command::new(bin)
        .args(["eks-token", "--cluster", "shop-eks", "--region", "eu-west-1", "--data-dir"])
        .arg(d.path())
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env("PATH", "/nonexistent") // nothing on PATH: no `slipway`, no `aws`
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let cred: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(cred["kind"], "ExecCredential");
    let token = cred["status"]["token"].as_str().unwrap();
    assert!(token.starts_with("k8s-aws-v1."), "{token}");
    assert!(!stdout.contains("wJalrXUtnFEMI"), "the secret key never leaves the process");

    // Without --cluster: a usage error that says what to do, and still no window.
    let out = Command::new(bin).arg("eks-token").env_remove("DISPLAY").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("eks-token needs --cluster NAME"));
}
