//! The service layer with its real providers: the sandbox emulator, the keychain (a real
//! Secret Service from the test environment), the registry, and a GitHub stand-in.

use slipway_app::keychain::Keychain;
use slipway_app::{Options, Slipway};
use slipway_core::connections::*;
use slipway_core::events::Event;
use slipway_core::secrets::{Secret, SecretStore};
use slipway_core::settings::Settings;
use slipway_testkit::env;
use std::sync::Arc;

async fn open(dir: &std::path::Path) -> Arc<Slipway> {
    std::env::set_var("SLIPWAY_SANDBOX_VENV", env("SLIPWAY_MOTO_VENV"));
    env("DBUS_SESSION_BUS_ADDRESS");
    Slipway::open(Options {
        data_dir: Some(dir.to_path_buf()),
        ..Default::default()
    })
    .await
    .unwrap()
}

/// Stops the sandbox a test started, even when the test fails.
struct StopSandbox(Arc<Slipway>);
impl Drop for StopSandbox {
    fn drop(&mut self) {
        let app = self.0.clone();
        std::thread::spawn(move || {
            tokio::runtime::Runtime::new()
                .unwrap()
                .block_on(app.sandbox_stop())
                .ok()
        })
        .join()
        .ok();
    }
}

#[tokio::test]
async fn sandbox_connect_regions_and_doctor() {
    let d = slipway_testkit::data_dir();
    let app = open(d.path()).await;
    let _guard = StopSandbox(app.clone());
    let mut events = app.subscribe();

    let st = app
        .connect_aws(AwsConnectInput::Sandbox { region: None })
        .await
        .unwrap();
    assert_eq!(st.state, ConnectionState::Connected);
    let Some(Identity::Aws {
        account,
        endpoint,
        region,
        source,
        ..
    }) = st.identity.clone()
    else {
        panic!("{st:?}")
    };
    assert_eq!(account, "123456789012");
    assert_eq!(region, "us-east-1");
    assert_eq!(source, AwsSource::Sandbox);
    // A new blueprint lets only this machine in (SSH, Jenkins): the sandbox is local.
    assert_eq!(app.blueprint(None).await.unwrap().admin_cidr, "127.0.0.1/32");
    let endpoint = endpoint.expect("the sandbox endpoint is shown");
    assert_eq!(Some(endpoint.clone()), app.sandbox_status().endpoint);

    let regions = app.aws_regions().await.unwrap();
    assert!(regions.contains(&"eu-west-1".to_string()));
    let st = app.set_aws_region("eu-west-1".into()).await.unwrap();
    assert!(matches!(st.identity, Some(Identity::Aws { ref region, .. }) if region == "eu-west-1"));
    let e = app.set_aws_region("xx-nowhere-9".into()).await.unwrap_err();
    assert_eq!(e.what, "Unknown AWS region");
    let report = app.doctor().await.unwrap();
    let aws = report
        .connections
        .iter()
        .find(|c| c.kind == ConnectionKind::Aws)
        .unwrap();
    assert_eq!(aws.state, ConnectionState::Connected);
    assert!(
        matches!(aws.identity, Some(Identity::Aws { ref region, .. }) if region == "eu-west-1"),
        "a refused region must not be stored"
    );
    assert_eq!(report.connections.len(), 5);

    // The events told the story: sandbox starting, running, a connection checked.
    let mut seen = vec![];
    while let Ok(e) = events.try_recv() {
        seen.push(e.event);
    }
    assert!(seen.iter().any(|e| matches!(e, Event::SandboxChanged { state } if state.endpoint.as_deref() == Some(endpoint.as_str()))));
    assert!(seen.iter().any(|e| matches!(e, Event::ConnectionChecked { status } if status.state == ConnectionState::Connected)));

    // The sandbox stops: the check fails, says how to fix it, and keeps the last good identity.
    app.sandbox_stop().await.unwrap();
    let st = app.check_connection(ConnectionKind::Aws).await.unwrap();
    assert_eq!(st.state, ConnectionState::Failed);
    assert!(
        st.error
            .as_ref()
            .unwrap()
            .fix
            .contains("slipway sandbox up"),
        "{st:?}"
    );
    assert!(st.identity.is_some());
}

#[tokio::test]
async fn a_failed_github_check_stores_nothing_and_keeps_the_last_good_one() {
    let gh = slipway_testkit::github_stand_in("ghp_good_token_for_tests_1", "octocat").await;
    let d = slipway_testkit::data_dir();
    let app = open(d.path()).await;
    let r = app.secret_ref(ConnectionKind::Github);
    Keychain.delete(&r).unwrap();

    let e = app
        .connect_github(GithubConnectInput {
            token: Some(Secret::new("ghp_wrong")),
            base_url: Some(gh.uri()),
        })
        .await
        .unwrap_err();
    assert!(e.why.contains("401 Bad credentials"), "{e}");
    assert_eq!(
        app.connections().await.unwrap()[1].state,
        ConnectionState::NotConfigured
    );
    assert!(
        Keychain.get(&r).unwrap().is_none(),
        "a refused token must not reach the keychain"
    );

    let st = app
        .connect_github(GithubConnectInput {
            token: Some(Secret::new("ghp_good_token_for_tests_1")),
            base_url: Some(gh.uri()),
        })
        .await
        .unwrap();
    assert!(
        matches!(st.identity, Some(Identity::Github { ref login, ref scopes, .. }) if login == "octocat" && scopes == &["repo", "workflow"])
    );
    assert_eq!(
        Keychain.get(&r).unwrap().unwrap().expose(),
        "ghp_good_token_for_tests_1"
    );

    // A later bad token: refused, and the good connection and its token stay.
    app.connect_github(GithubConnectInput {
        token: Some(Secret::new("ghp_other_wrong")),
        base_url: Some(gh.uri()),
    })
    .await
    .unwrap_err();
    let now = app.check_connection(ConnectionKind::Github).await.unwrap();
    assert_eq!(now.state, ConnectionState::Connected);
    assert_eq!(
        Keychain.get(&r).unwrap().unwrap().expose(),
        "ghp_good_token_for_tests_1"
    );

    app.disconnect(ConnectionKind::Github).await.unwrap();
    assert!(Keychain.get(&r).unwrap().is_none());
}

#[tokio::test]
async fn registry_login_with_the_test_registry() {
    let d = slipway_testkit::data_dir();
    let app = open(d.path()).await;
    let reg = env("SLIPWAY_TEST_REGISTRY");
    let user = env("SLIPWAY_TEST_REGISTRY_USER");
    let e = app
        .connect_registry(RegistryConnectInput {
            registry: reg.clone(),
            username: user.clone(),
            password: Some(Secret::new("nope")),
        })
        .await
        .unwrap_err();
    assert!(e.why.contains("401"), "{e}");
    assert_eq!(
        app.connections().await.unwrap()[2].state,
        ConnectionState::NotConfigured
    );
    let st = app
        .connect_registry(RegistryConnectInput {
            registry: reg.clone(),
            username: user.clone(),
            password: Some(Secret::new(env("SLIPWAY_TEST_REGISTRY_PASSWORD"))),
        })
        .await
        .unwrap();
    assert_eq!(st.state, ConnectionState::Connected);
    assert_eq!(
        app.check_connection(ConnectionKind::Registry)
            .await
            .unwrap()
            .state,
        ConnectionState::Connected
    );
    app.disconnect(ConnectionKind::Registry).await.unwrap();
}

#[tokio::test]
async fn without_a_keychain_nothing_is_stored() {
    let gh = slipway_testkit::github_stand_in("ghp_good_token_for_tests_2", "octocat").await;
    let d = slipway_testkit::data_dir();
    std::env::set_var(
        "DBUS_SESSION_BUS_ADDRESS",
        "unix:path=/nonexistent/slipway-test-bus",
    );
    let app = Slipway::open(Options {
        data_dir: Some(d.path().to_path_buf()),
        ..Default::default()
    })
    .await
    .unwrap();
    let e = app
        .connect_github(GithubConnectInput {
            token: Some(Secret::new("ghp_good_token_for_tests_2")),
            base_url: Some(gh.uri()),
        })
        .await
        .unwrap_err();
    assert_eq!(e.what, "Could not save to the keychain");
    assert!(e.fix.contains("Unlock your keyring"), "{e}");
    assert_eq!(
        app.connections().await.unwrap()[1].state,
        ConnectionState::NotConfigured
    );
}

#[tokio::test]
async fn settings_are_validated_before_saving() {
    let d = slipway_testkit::data_dir();
    let app = open(d.path()).await;
    let bad = Settings {
        default_region: "Mars".into(),
        ..Settings::default()
    };
    let e = app.save_settings(bad).await.unwrap_err();
    assert!(e.why.contains("'Mars' is not an AWS region name"), "{e}");
    assert_eq!(app.settings().await.unwrap(), Settings::default());
    let good = Settings {
        default_region: "eu-central-1".into(),
        sandbox_auto_start: false,
        sandbox_port: None,
        run_log_retention_days: 30,
        ..Settings::default()
    };
    app.save_settings(good.clone()).await.unwrap();
    assert_eq!(app.settings().await.unwrap(), good);
}

#[tokio::test]
async fn static_keys_live_in_the_keychain_and_are_used_from_there() {
    let moto = env("SLIPWAY_TEST_MOTO_URL");
    let d = slipway_testkit::data_dir();
    let app = open(d.path()).await;
    let st = app
        .connect_aws(AwsConnectInput::StaticKeys {
            access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
            secret_access_key: Secret::new("static-secret-for-keychain-test"),
            session_token: None,
            region: Some("us-west-2".into()),
            endpoint: Some(moto.clone()),
        })
        .await
        .unwrap();
    assert!(
        matches!(st.identity, Some(Identity::Aws { ref endpoint, .. }) if endpoint.as_deref() == Some(moto.as_str()))
    );
    // An endpoint of its own is an emulator: the admin address is this machine's.
    assert_eq!(app.blueprint(None).await.unwrap().admin_cidr, "127.0.0.1/32");
    let r = app.secret_ref(ConnectionKind::Aws);
    assert!(Keychain
        .get(&r)
        .unwrap()
        .unwrap()
        .expose()
        .contains("static-secret-for-keychain-test"));
    // The re-check reads the key back from the keychain.
    assert_eq!(
        app.check_connection(ConnectionKind::Aws)
            .await
            .unwrap()
            .state,
        ConnectionState::Connected
    );
    // Malformed key ids are refused before any call.
    let e = app
        .connect_aws(AwsConnectInput::StaticKeys {
            access_key_id: "not a key".into(),
            secret_access_key: Secret::new("x"),
            session_token: None,
            region: None,
            endpoint: None,
        })
        .await
        .unwrap_err();
    assert!(e.why.contains("16 to 128 letters and digits"), "{e}");
    app.disconnect(ConnectionKind::Aws).await.unwrap();
    assert!(Keychain.get(&r).unwrap().is_none());
}

/// A keyring of its own (the test environment's keyring component in a private folder), so
/// locking it cannot disturb the tests that share the main one.
struct PrivateKeyring {
    dir: tempfile::TempDir,
    address: String,
}

impl PrivateKeyring {
    fn script(name: &str) -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../scripts")
            .join(name)
    }

    fn up() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("slipway-keyring-")
            .tempdir()
            .unwrap();
        let st = std::process::Command::new(Self::script("testenv.sh"))
            .args(["up", "keyring"])
            .env("TESTENV_DIR", dir.path())
            .status()
            .unwrap();
        assert!(st.success(), "private keyring did not start");
        let address = format!("unix:path={}/keyring/bus", dir.path().display());
        Self { dir, address }
    }

    fn lock(&self) {
        let st = std::process::Command::new(Self::script("testenv/keyring-lock.sh"))
            .env("TESTENV_DIR", self.dir.path())
            .env("SLIPWAY_TEST_DBUS_ADDRESS", &self.address)
            .status()
            .unwrap();
        assert!(st.success(), "could not lock the private keyring");
    }
}

impl Drop for PrivateKeyring {
    fn drop(&mut self) {
        let _ = std::process::Command::new(Self::script("testenv.sh"))
            .args(["down", "keyring"])
            .env("TESTENV_DIR", self.dir.path())
            .status();
    }
}

#[tokio::test]
async fn a_locked_keychain_is_reported_and_nothing_is_stored() {
    let gh = slipway_testkit::github_stand_in("ghp_good_token_for_tests_3", "octocat").await;
    let keyring = PrivateKeyring::up();
    keyring.lock();
    std::env::set_var("DBUS_SESSION_BUS_ADDRESS", &keyring.address);
    let d = slipway_testkit::data_dir();
    let app = Slipway::open(Options {
        data_dir: Some(d.path().to_path_buf()),
        ..Default::default()
    })
    .await
    .unwrap();
    let e = app
        .connect_github(GithubConnectInput {
            token: Some(Secret::new("ghp_good_token_for_tests_3")),
            base_url: Some(gh.uri()),
        })
        .await
        .unwrap_err();
    assert_eq!(e.what, "Could not save to the keychain");
    assert!(e.why.contains("locked"), "{e}");
    assert!(e.fix.contains("Unlock"), "{e}");
    assert_eq!(
        app.connections().await.unwrap()[1].state,
        ConnectionState::NotConfigured
    );
}

#[tokio::test]
async fn pushes_go_to_ecr_with_a_login_from_aws_once_the_repositories_are_applied() {
    use slipway_core::provision::Blueprint;
    let moto = env("SLIPWAY_TEST_MOTO_URL");
    // A moto account of its own for what apply creates.
    std::env::set_var("SLIPWAY_MOTO_ACCOUNT_ID", slipway_testkit::moto_account());
    let d = slipway_testkit::data_dir();
    let app = open(d.path()).await;
    assert!(app.ecr_registry_target("shop").await.unwrap().is_none(), "no AWS connection, no ECR");
    app.connect_aws(AwsConnectInput::StaticKeys {
        access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
        secret_access_key: Secret::new("static-secret-for-ecr-test"),
        session_token: None,
        region: Some("us-east-1".into()),
        endpoint: Some(moto.clone()),
    })
    .await
    .unwrap();
    assert!(app.ecr_registry_target("shop").await.unwrap().is_none(), "nothing applied yet");

    let bp = app.blueprint(Some("shop")).await.unwrap();
    app.save_blueprint(Blueprint { services: vec!["web".into()], ..bp }).await.unwrap();
    app.apply(Some("shop")).await.unwrap();
    let t = app.ecr_registry_target("shop").await.unwrap().expect("the applied repositories are where pushes go");
    assert!(t.server.ends_with(".dkr.ecr.us-east-1.amazonaws.com") && !t.server.contains("://"), "{}", t.server);
    assert_eq!(t.namespace, None, "images go to <registry>/<project>-<service>");
    let auth = t.auth.expect("a login");
    assert_eq!((auth.server.as_str(), auth.username.as_str()), (t.server.as_str(), "AWS"));
    let password = auth.password.expose().to_string();
    assert!(!password.is_empty());
    let repo = app.resources(Some("shop")).await.unwrap().into_iter().find(|o| o.logical_id.as_deref() == Some("ecr-web")).unwrap();
    assert!(repo.attrs["uri"].as_str().unwrap().ends_with(".dkr.ecr.us-east-1.amazonaws.com/shop-web"), "{}", repo.attrs);

    // The login lives in memory only: not in the store, the logs or any file of the data folder.
    for entry in slipway_testkit::files_under(d.path()) {
        let bytes = std::fs::read(&entry).unwrap_or_default();
        assert!(!String::from_utf8_lossy(&bytes).contains(&password), "{} holds the ECR password", entry.display());
    }
    app.destroy(Some("shop")).await.unwrap();
    assert!(app.ecr_registry_target("shop").await.unwrap().is_none(), "destroyed: no repositories");
}

