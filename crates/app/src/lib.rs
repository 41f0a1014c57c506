//! The service layer both front ends call (the `slipway` CLI and the desktop shell): it wires
//! the providers to the core, owns the store, the event bus, the keychain and the sandbox.
//! Architecture invariant: every user action goes through a method of [`Slipway`]; the CLI and
//! the Tauri commands only parse input and print or forward output.

pub mod board;
pub mod config;
pub mod deploy;
pub mod ecr;
pub mod export;
pub mod insights;
pub mod integrations;
pub mod keychain;
pub mod launch;
pub mod pipeline;
pub mod provision;
pub mod sandbox;

use slipway_aws::sandbox::{Emulator, SandboxConfig};
use slipway_core::audit::{AuditAction, AuditDraft};
use slipway_core::connections::*;
use slipway_core::events::{Event, EventBus, EventEnvelope, Journal};
use slipway_core::providers::*;
use slipway_core::sandbox::SandboxStatus;
use slipway_core::secrets::{Secret, SecretRef, SecretStore, SecretStoreKind};
use slipway_core::settings::Settings;
use slipway_core::store::Store;
use slipway_core::{now_ms, UserError};
use std::path::PathBuf;
use std::sync::Arc;

/// The external systems, each behind its core trait, so tests can swap any of them.
#[derive(Clone)]
pub struct Providers {
    pub aws: Arc<dyn AwsProvider>,
    pub git_host: Arc<dyn GitHostProvider>,
    pub registry: Arc<dyn RegistryProvider>,
    pub engine: Arc<dyn EngineProvider>,
    pub cluster: Arc<dyn ClusterProvider>,
}

impl Default for Providers {
    fn default() -> Self {
        Self {
            aws: Arc::new(slipway_aws::Aws),
            git_host: Arc::new(slipway_git_host::GitHub),
            registry: Arc::new(slipway_docker::Docker),
            engine: Arc::new(slipway_docker::Docker),
            cluster: Arc::new(slipway_kube::Kube),
        }
    }
}

pub struct Options {
    /// `--data-dir`; None uses SLIPWAY_DATA_DIR or the OS convention.
    pub data_dir: Option<PathBuf>,
    pub secrets: Arc<dyn SecretStore>,
    pub providers: Providers,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            data_dir: None,
            secrets: Arc::new(keychain::Keychain),
            providers: Providers::default(),
        }
    }
}

pub struct Slipway {
    store: Store,
    journal: Journal,
    secrets: Arc<dyn SecretStore>,
    p: Providers,
    sandbox: Emulator,
    data_dir: PathBuf,
    /// Cancels the provisioning operation under way, if any.
    provisioning: std::sync::Mutex<Option<tokio_util::sync::CancellationToken>>,
    /// Pipeline runs under way in this process.
    runs: pipeline::Runs,
    /// Deploys under way in this process.
    deploys: deploy::Deploys,
    /// Branches watched for new commits in this process (kept in the store, resumed on open).
    watches: integrations::Watches,
}

impl Slipway {
    pub async fn open(opts: Options) -> Result<Arc<Self>, UserError> {
        let data_dir = slipway_core::paths::data_dir(opts.data_dir)?;
        let store = Store::open(&data_dir)?;
        let settings = store.settings().await?;
        let secrets = choose_secret_store(opts.secrets, &settings, &data_dir)?;
        let sandbox = Emulator::new(SandboxConfig::new(
            data_dir.join("sandbox"),
            settings.sandbox_port,
        ));
        let journal = Journal {
            bus: EventBus::default(),
            store: store.clone(),
        };
        let app = Arc::new(Self {
            store,
            journal,
            secrets,
            p: opts.providers,
            sandbox,
            data_dir,
            provisioning: std::sync::Mutex::new(None),
            runs: pipeline::Runs::default(),
            deploys: deploy::Deploys::default(),
            watches: integrations::Watches::default(),
        });
        // One project: what earlier versions kept under the default project moves to it
        // (`slipway doctor` says what could not).
        match app.adopt_default_project(true).await {
            Ok(None) => {}
            Ok(Some(notice)) => tracing::warn!(%notice, "data kept under the old default project"),
            Err(e) => tracing::warn!(error = %e, "could not move the old default project's data"),
        }
        Ok(app)
    }

    /// Where a connection's secret lives in the keychain.
    pub fn secret_ref(&self, kind: ConnectionKind) -> SecretRef {
        SecretRef::for_connection(self.store.instance_id(), kind.as_str())
    }

    pub fn data_dir(&self) -> &std::path::Path {
        &self.data_dir
    }

    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<EventEnvelope> {
        self.journal.bus.subscribe()
    }

    /// The event bus itself (tests stand in for a provider's progress through it).
    pub fn bus(&self) -> &EventBus {
        &self.journal.bus
    }

    /// Emits an event to subscribers and records it in the store's event log.
    async fn emit(&self, event: Event) {
        self.journal.emit(event).await;
    }

    async fn progress(&self, task: &str, message: String) {
        self.emit(Event::Progress {
            task: task.into(),
            message,
        })
        .await;
    }

    // ----- settings -------------------------------------------------------------------------

    pub async fn settings(&self) -> Result<Settings, UserError> {
        Ok(self.store.settings().await?)
    }

    pub async fn save_settings(&self, s: Settings) -> Result<Settings, UserError> {
        s.validate()?;
        self.store.save_settings(&s).await?;
        self.emit(Event::SettingsChanged).await;
        Ok(s)
    }

    // ----- connections: shared bookkeeping --------------------------------------------------

    async fn status(&self, kind: ConnectionKind) -> Result<ConnectionStatus, UserError> {
        Ok(self
            .store
            .connection(kind)
            .await?
            .map(|s| s.status())
            .unwrap_or_else(|| ConnectionStatus::not_configured(kind)))
    }

    /// Saves a connection whose check just passed: the secret into the keychain first (if that
    /// fails, nothing is stored), then the configuration and identity into the store.
    async fn save_good(
        &self,
        kind: ConnectionKind,
        config: serde_json::Value,
        secret: Option<&Secret>,
        identity: Identity,
    ) -> Result<ConnectionStatus, UserError> {
        let r = self.secret_ref(kind);
        match secret {
            Some(s) => self.secrets.put(&r, s)?,
            None => {
                // An older connection of this kind may have left a secret behind.
                let had_secret = self
                    .store
                    .connection(kind)
                    .await?
                    .and_then(|c| c.secret)
                    .is_some();
                if had_secret {
                    if let Err(e) = self.secrets.delete(&r) {
                        tracing::warn!(why = %e.why, "could not remove an old secret from the keychain");
                    }
                }
            }
        }
        let now = now_ms();
        let saved = SavedConnection {
            kind,
            config,
            secret: secret.map(|_| r),
            identity: Some(identity),
            last_error: None,
            checked_at: Some(now),
            last_ok_at: Some(now),
        };
        self.store.save_connection(&saved).await?;
        let mut audit = AuditDraft::new(AuditAction::Connect, kind.as_str(), "connected", kind.label());
        audit.identity = saved.identity.as_ref().map(|i| format!("{}: {}", kind.as_str(), i.summary()));
        self.record_audit(audit).await;
        let status = saved.status();
        self.emit(Event::ConnectionChecked {
            status: status.clone(),
        })
        .await;
        Ok(status)
    }

    /// Records the outcome of re-checking a saved connection (keeps the last good identity).
    async fn record_check(
        &self,
        kind: ConnectionKind,
        result: Result<Identity, UserError>,
    ) -> Result<ConnectionStatus, UserError> {
        let now = now_ms();
        let mut saved = self
            .store
            .connection(kind)
            .await?
            .unwrap_or(SavedConnection {
                kind,
                config: serde_json::json!({}),
                secret: None,
                identity: None,
                last_error: None,
                checked_at: None,
                last_ok_at: None,
            });
        saved.checked_at = Some(now);
        match result {
            Ok(id) => {
                saved.identity = Some(id);
                saved.last_error = None;
                saved.last_ok_at = Some(now);
            }
            Err(e) => saved.last_error = Some(e),
        }
        self.store.save_connection(&saved).await?;
        let status = saved.status();
        self.emit(Event::ConnectionChecked {
            status: status.clone(),
        })
        .await;
        Ok(status)
    }

    /// Emits a failed check of new input (nothing stored) and returns the error.
    async fn refuse<T>(&self, kind: ConnectionKind, e: UserError) -> Result<T, UserError> {
        let mut status = self.status(kind).await?;
        // The stored state is untouched; the event carries this attempt's error for the UI.
        status.error = Some(e.clone());
        self.emit(Event::ConnectionChecked { status }).await;
        Err(e)
    }

    // ----- AWS -------------------------------------------------------------------------------

    pub fn aws_profiles(&self) -> Result<Vec<AwsProfile>, UserError> {
        self.p.aws.profiles()
    }

    async fn default_region(
        &self,
        explicit: Option<String>,
        profile: Option<&str>,
    ) -> Result<String, UserError> {
        if let Some(r) = explicit.filter(|r| !r.trim().is_empty()) {
            return Ok(r.trim().to_string());
        }
        if let Some(name) = profile {
            if let Some(r) = self
                .p
                .aws
                .profiles()
                .ok()
                .and_then(|ps| ps.into_iter().find(|p| p.name == name))
                .and_then(|p| p.region)
            {
                return Ok(r);
            }
        }
        if let Ok(r) = std::env::var("AWS_REGION").or_else(|_| std::env::var("AWS_DEFAULT_REGION"))
        {
            if !r.is_empty() {
                return Ok(r);
            }
        }
        Ok(self.settings().await?.default_region)
    }

    /// Starts the sandbox if needed and returns its endpoint.
    async fn sandbox_endpoint(&self, start: bool) -> Result<String, UserError> {
        let st = if start {
            self.sandbox_start().await?
        } else {
            self.sandbox.status()
        };
        match (st.status, st.endpoint) {
            (SandboxStatus::Running, Some(ep)) => Ok(ep),
            _ => Err(st.error.unwrap_or_else(|| {
                UserError::new(
                    "The sandbox is not running",
                    "the local AWS emulator is stopped",
                    "Start it on the Connect page, or run `slipway sandbox up`",
                )
            })),
        }
    }

    async fn target_from_input(
        &self,
        input: &AwsConnectInput,
    ) -> Result<(AwsTarget, serde_json::Value, Option<Secret>), UserError> {
        Ok(match input {
            AwsConnectInput::Sandbox { region } => {
                let region = self.default_region(region.clone(), None).await?;
                let endpoint = self.sandbox_endpoint(true).await?;
                (
                    AwsTarget {
                        source: AwsSource::Sandbox,
                        region: region.clone(),
                        endpoint: Some(endpoint),
                        keys: None,
                    },
                    serde_json::json!({"source": "sandbox", "region": region}),
                    None,
                )
            }
            AwsConnectInput::Profile { name, region } => {
                let known = self.p.aws.profiles()?;
                if !known.iter().any(|p| &p.name == name) {
                    let names: Vec<_> = known.iter().map(|p| p.name.as_str()).collect();
                    return Err(UserError::new(
                        "AWS profile not found",
                        format!("there is no profile '{name}' in ~/.aws/config or ~/.aws/credentials (found: {})", if names.is_empty() { "none".into() } else { names.join(", ") }),
                        "Pick one of the listed profiles, or create it with `aws configure --profile NAME`",
                    ));
                }
                let region = self.default_region(region.clone(), Some(name)).await?;
                (
                    AwsTarget {
                        source: AwsSource::Profile { name: name.clone() },
                        region: region.clone(),
                        endpoint: None,
                        keys: None,
                    },
                    serde_json::json!({"source": "profile", "name": name, "region": region}),
                    None,
                )
            }
            AwsConnectInput::StaticKeys {
                access_key_id,
                secret_access_key,
                session_token,
                region,
                endpoint,
            } => {
                let id = access_key_id.trim();
                if id.len() < 16 || id.len() > 128 || !id.chars().all(|c| c.is_ascii_alphanumeric())
                {
                    return Err(UserError::new(
                        "AWS keys not valid",
                        "the access key id must be 16 to 128 letters and digits (it looks like AKIA...)",
                        "Copy the access key id again from the IAM console",
                    ));
                }
                if secret_access_key.is_empty() {
                    return Err(UserError::new(
                        "AWS keys not valid",
                        "the secret access key is empty",
                        "Paste the secret access key that came with the key id",
                    ));
                }
                let region = self.default_region(region.clone(), None).await?;
                let endpoint = endpoint.clone().filter(|e| !e.trim().is_empty());
                if let Some(ep) = &endpoint {
                    if !(ep.starts_with("http://") || ep.starts_with("https://")) {
                        return Err(UserError::new("AWS endpoint not valid", format!("'{ep}' is not an http(s) URL"), "Enter a URL such as https://vpce-123.ec2.us-east-1.vpce.amazonaws.com, or leave it empty for AWS"));
                    }
                }
                // The secret key and the session token go to the keychain together.
                let bundle = Secret::new(
                    serde_json::json!({"secretAccessKey": secret_access_key.expose(), "sessionToken": session_token.as_ref().map(|t| t.expose())}).to_string(),
                );
                (
                    AwsTarget {
                        source: AwsSource::StaticKeys {
                            access_key_id: id.to_string(),
                        },
                        region: region.clone(),
                        endpoint: endpoint.clone(),
                        keys: Some(AwsKeys {
                            access_key_id: id.to_string(),
                            secret_access_key: secret_access_key.clone(),
                            session_token: session_token.clone(),
                        }),
                    },
                    serde_json::json!({"source": "staticKeys", "accessKeyId": id, "region": region, "endpoint": endpoint}),
                    Some(bundle),
                )
            }
            AwsConnectInput::Environment { region } => {
                let region = self.default_region(region.clone(), None).await?;
                (
                    AwsTarget {
                        source: AwsSource::Environment,
                        region: region.clone(),
                        endpoint: None,
                        keys: None,
                    },
                    serde_json::json!({"source": "environment", "region": region}),
                    None,
                )
            }
        })
    }

    /// The target of the saved AWS connection, with keys from the keychain.
    pub async fn aws_target(&self) -> Result<AwsTarget, UserError> {
        let saved = self
            .store
            .connection(ConnectionKind::Aws)
            .await?
            .ok_or_else(|| {
                UserError::new(
                    "AWS is not connected",
                    "no AWS connection has been set up",
                    "Connect AWS on the Connect page, or run `slipway connect aws --sandbox`",
                )
            })?;
        let c = &saved.config;
        let s = |k: &str| c[k].as_str().map(str::to_string);
        let region = s("region").unwrap_or_else(|| "us-east-1".into());
        Ok(match c["source"].as_str() {
            Some("sandbox") => AwsTarget {
                source: AwsSource::Sandbox,
                region,
                endpoint: Some(self.sandbox_endpoint(false).await?),
                keys: None,
            },
            Some("profile") => AwsTarget {
                source: AwsSource::Profile {
                    name: s("name").unwrap_or_default(),
                },
                region,
                endpoint: None,
                keys: None,
            },
            Some("staticKeys") => {
                let id = s("accessKeyId").unwrap_or_default();
                let r = saved
                    .secret
                    .clone()
                    .unwrap_or_else(|| self.secret_ref(ConnectionKind::Aws));
                let bundle = self.secrets.get(&r)?.ok_or_else(|| {
                    UserError::new(
                        "AWS keys missing",
                        "the secret access key is no longer in the keychain",
                        "Enter the keys again on the Connect page",
                    )
                })?;
                let v: serde_json::Value =
                    serde_json::from_str(bundle.expose()).unwrap_or_default();
                AwsTarget {
                    source: AwsSource::StaticKeys {
                        access_key_id: id.clone(),
                    },
                    region,
                    endpoint: s("endpoint"),
                    keys: Some(AwsKeys {
                        access_key_id: id,
                        secret_access_key: Secret::new(
                            v["secretAccessKey"].as_str().unwrap_or_default(),
                        ),
                        session_token: v["sessionToken"].as_str().map(Secret::new),
                    }),
                }
            }
            _ => AwsTarget {
                source: AwsSource::Environment,
                region,
                endpoint: None,
                keys: None,
            },
        })
    }

    pub async fn connect_aws(&self, input: AwsConnectInput) -> Result<ConnectionStatus, UserError> {
        let (target, config, secret) = match self.target_from_input(&input).await {
            Ok(t) => t,
            Err(e) => return self.refuse(ConnectionKind::Aws, e).await,
        };
        self.progress(
            "connect",
            format!(
                "Checking AWS credentials ({})",
                source_label(&target.source)
            ),
        )
        .await;
        match self.p.aws.whoami(&target).await {
            Ok(id) => {
                self.save_good(ConnectionKind::Aws, config, secret.as_ref(), id)
                    .await
            }
            Err(e) => self.refuse(ConnectionKind::Aws, e).await,
        }
    }

    pub async fn aws_regions(&self) -> Result<Vec<String>, UserError> {
        let target = self.aws_target().await?;
        self.p.aws.regions(&target).await
    }

    /// Changes the region of the AWS connection after checking the account has it.
    pub async fn set_aws_region(&self, region: String) -> Result<ConnectionStatus, UserError> {
        let mut target = self.aws_target().await?;
        let regions = self.p.aws.regions(&target).await?;
        if !regions.contains(&region) {
            return Err(slipway_aws::unknown_region(&region, &regions));
        }
        target.region = region.clone();
        let id = self.p.aws.whoami(&target).await?;
        let mut saved = self
            .store
            .connection(ConnectionKind::Aws)
            .await?
            .expect("checked by aws_target");
        saved.config["region"] = serde_json::Value::String(region);
        saved.identity = Some(id);
        saved.last_error = None;
        saved.checked_at = Some(now_ms());
        saved.last_ok_at = saved.checked_at;
        self.store.save_connection(&saved).await?;
        let st = saved.status();
        self.emit(Event::ConnectionChecked { status: st.clone() })
            .await;
        Ok(st)
    }

    // ----- GitHub ----------------------------------------------------------------------------

    pub fn github_cli_token_available(&self, base_url: Option<&str>) -> bool {
        let base = slipway_git_host::normalize_base_url(base_url)
            .unwrap_or_else(|_| slipway_git_host::GITHUB_API.into());
        self.p
            .git_host
            .cli_token(&slipway_git_host::gh_host(&base))
            .is_some()
    }

    pub async fn connect_github(
        &self,
        input: GithubConnectInput,
    ) -> Result<ConnectionStatus, UserError> {
        let base = match slipway_git_host::normalize_base_url(input.base_url.as_deref()) {
            Ok(b) => b,
            Err(e) => return self.refuse(ConnectionKind::Github, e).await,
        };
        let (token, from_cli) = match input.token {
            Some(t) => (t, false),
            None => match self.p.git_host.cli_token(&slipway_git_host::gh_host(&base)) {
                Some(t) => (t, true),
                None => {
                    let e = UserError::new(
                        "No GitHub token",
                        "no token was entered and the gh CLI is not logged in",
                        "Paste a personal access token, or run `gh auth login` first",
                    );
                    return self.refuse(ConnectionKind::Github, e).await;
                }
            },
        };
        self.progress("connect", format!("Checking the GitHub token at {base}"))
            .await;
        match self.p.git_host.whoami(&base, &token).await {
            Ok(id) => {
                let config = serde_json::json!({"baseUrl": base, "fromGhCli": from_cli});
                // A gh CLI token stays in gh's own store; we keep only the fact we use it.
                let secret = if from_cli { None } else { Some(&token) };
                self.save_good(ConnectionKind::Github, config, secret, id)
                    .await
            }
            Err(e) => self.refuse(ConnectionKind::Github, e).await,
        }
    }

    async fn github_token(&self, saved: &SavedConnection) -> Result<Secret, UserError> {
        let base = saved.config["baseUrl"]
            .as_str()
            .unwrap_or(slipway_git_host::GITHUB_API);
        if saved.config["fromGhCli"].as_bool() == Some(true) {
            return self
                .p
                .git_host
                .cli_token(&slipway_git_host::gh_host(base))
                .ok_or_else(|| {
                    UserError::new(
                        "GitHub token missing",
                        "the gh CLI is no longer logged in",
                        "Run `gh auth login`, or paste a token on the Connect page",
                    )
                });
        }
        self.secrets
            .get(
                &saved
                    .secret
                    .clone()
                    .unwrap_or_else(|| self.secret_ref(ConnectionKind::Github)),
            )?
            .ok_or_else(|| {
                UserError::new(
                    "GitHub token missing",
                    "the token is no longer in the keychain",
                    "Paste the token again on the Connect page",
                )
            })
    }

    // ----- registry --------------------------------------------------------------------------

    pub fn docker_config_entries(&self) -> Result<Vec<DockerConfigEntry>, UserError> {
        self.p.registry.docker_config_entries()
    }

    pub async fn connect_registry(
        &self,
        input: RegistryConnectInput,
    ) -> Result<ConnectionStatus, UserError> {
        let registry = input.registry.trim().to_string();
        let registry = if registry.is_empty() {
            "docker.io".to_string()
        } else {
            registry
        };
        let (username, password, from_cfg) = match input.password {
            Some(p) => (input.username.trim().to_string(), p, false),
            None => match self.p.registry.docker_config_credentials(&registry) {
                Ok(Some((u, p))) => (u, p, true),
                Ok(None) => {
                    let e = UserError::new(
                        "No registry credentials",
                        format!("no password was entered and ~/.docker/config.json has none for {registry}"),
                        format!("Enter the username and password, or run `docker login {registry}` first"),
                    );
                    return self.refuse(ConnectionKind::Registry, e).await;
                }
                Err(e) => return self.refuse(ConnectionKind::Registry, e).await,
            },
        };
        self.progress("connect", format!("Logging in to {registry} as {username}"))
            .await;
        match self.p.registry.login(&registry, &username, &password).await {
            Ok(()) => {
                let id = Identity::Registry {
                    registry: registry.clone(),
                    username: username.clone(),
                    from_docker_config: from_cfg,
                };
                let config = serde_json::json!({"registry": registry, "username": username, "fromDockerConfig": from_cfg});
                let secret = if from_cfg { None } else { Some(&password) };
                self.save_good(ConnectionKind::Registry, config, secret, id)
                    .await
            }
            Err(e) => self.refuse(ConnectionKind::Registry, e).await,
        }
    }

    /// The saved registry connection's server, username and password (from the keychain or
    /// ~/.docker/config.json), resolved just before use.
    fn registry_credentials(
        &self,
        saved: &SavedConnection,
    ) -> Result<(String, String, Secret), UserError> {
        let registry = saved.config["registry"]
            .as_str()
            .unwrap_or("docker.io")
            .to_string();
        if saved.config["fromDockerConfig"].as_bool() == Some(true) {
            let (u, p) = self
                .p
                .registry
                .docker_config_credentials(&registry)?
                .ok_or_else(|| {
                    UserError::new(
                        "Registry credentials missing",
                        format!("~/.docker/config.json no longer has credentials for {registry}"),
                        format!("Run `docker login {registry}` or enter them on the Connect page"),
                    )
                })?;
            return Ok((registry, u, p));
        }
        let pw = self
            .secrets
            .get(
                &saved
                    .secret
                    .clone()
                    .unwrap_or_else(|| self.secret_ref(ConnectionKind::Registry)),
            )?
            .ok_or_else(|| {
                UserError::new(
                    "Registry password missing",
                    "the password is no longer in the keychain",
                    "Enter it again on the Connect page",
                )
            })?;
        Ok((
            registry,
            saved.config["username"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            pw,
        ))
    }

    // ----- checks ----------------------------------------------------------------------------

    async fn run_check(
        &self,
        kind: ConnectionKind,
        saved: Option<&SavedConnection>,
    ) -> Result<Identity, UserError> {
        match kind {
            ConnectionKind::Aws => {
                let t = self.aws_target().await?;
                self.p.aws.whoami(&t).await
            }
            ConnectionKind::Github => {
                let saved = saved.ok_or_else(|| not_set_up(kind))?;
                let token = self.github_token(saved).await?;
                self.p
                    .git_host
                    .whoami(
                        saved.config["baseUrl"]
                            .as_str()
                            .unwrap_or(slipway_git_host::GITHUB_API),
                        &token,
                    )
                    .await
            }
            ConnectionKind::Registry => {
                let saved = saved.ok_or_else(|| not_set_up(kind))?;
                let (registry, user, pw) = self.registry_credentials(saved)?;
                self.p.registry.login(&registry, &user, &pw).await?;
                Ok(Identity::Registry {
                    registry,
                    username: user,
                    from_docker_config: saved.config["fromDockerConfig"].as_bool() == Some(true),
                })
            }
            ConnectionKind::Docker => self.p.engine.check().await,
            ConnectionKind::Kubernetes => {
                let cfg = saved.map(|s| s.config.clone()).unwrap_or_default();
                self.p
                    .cluster
                    .check(
                        cfg["kubeconfig"].as_str().map(PathBuf::from),
                        cfg["context"].as_str().map(str::to_string),
                    )
                    .await
            }
        }
    }

    /// Re-checks one connection live and records the outcome. Docker and Kubernetes are
    /// detected, so checking them is how they get connected.
    pub async fn check_connection(
        &self,
        kind: ConnectionKind,
    ) -> Result<ConnectionStatus, UserError> {
        let saved = self.store.connection(kind).await?;
        let detected = matches!(kind, ConnectionKind::Docker | ConnectionKind::Kubernetes);
        if saved.is_none() && !detected {
            return Ok(ConnectionStatus::not_configured(kind));
        }
        let result = self.run_check(kind, saved.as_ref()).await;
        if saved.is_none() && result.is_err() {
            // Nothing detected: report it, store nothing.
            let mut st = ConnectionStatus::not_configured(kind);
            st.error = result.err();
            st.checked_at = Some(now_ms());
            st.state = ConnectionState::Failed;
            self.emit(Event::ConnectionChecked { status: st.clone() })
                .await;
            return Ok(st);
        }
        self.record_check(kind, result).await
    }

    /// Checks that the secret store works now: a probe is written, read back and removed.
    /// Apply, launch and runs call it before they start, so a missing keychain is found before
    /// anything is created, never halfway through.
    pub fn check_secrets(&self) -> Result<(), UserError> {
        let probe = SecretRef::for_connection(self.store.instance_id(), "probe");
        let value = Secret::new(slipway_core::secrets::random_hex(8));
        self.secrets.put(&probe, &value)?;
        let back = self.secrets.get(&probe)?;
        self.secrets.delete(&probe)?;
        if back.as_ref() != Some(&value) {
            return Err(UserError::new(
                "The secret store does not keep secrets",
                format!("a value written to {} could not be read back", self.secrets.location()),
                "Unlock the keychain (or restart its service), or keep secrets in a file only you can read: `slipway settings set secret-store file`",
            ));
        }
        Ok(())
    }

    /// The secret store in use and whether it works (for `slipway doctor` and the Settings page).
    pub fn secrets_status(&self) -> SecretsStatus {
        let kind = self.secrets.kind();
        let result = self.check_secrets();
        SecretsStatus {
            kind,
            location: self.secrets.location(),
            ok: result.is_ok(),
            error: result.err(),
            warning: (kind == Some(SecretStoreKind::File)).then(|| {
                "secrets are kept in a file only this user can read; it is not encrypted, so anyone with access to this user's files can read them".to_string()
            }),
        }
    }

    /// Every connection's state, each checked live, concurrently.
    pub async fn doctor(&self) -> Result<DoctorReport, UserError> {
        let checks = ConnectionKind::ALL.map(|k| self.check_connection(k));
        let results = futures::future::join_all(checks).await;
        let mut connections = Vec::new();
        for r in results {
            connections.push(r?);
        }
        Ok(DoctorReport {
            connections,
            sandbox: self.sandbox.status(),
            data_dir: self.data_dir.display().to_string(),
            store_schema_version: self.store.schema_version().await?,
            secrets: self.secrets_status(),
            notices: self.adopt_default_project(false).await?.into_iter().collect(),
        })
    }

    /// Forgets a connection: its secret leaves the keychain and its record the store.
    pub async fn disconnect(&self, kind: ConnectionKind) -> Result<ConnectionStatus, UserError> {
        if let Some(saved) = self.store.connection(kind).await? {
            if let Some(r) = &saved.secret {
                self.secrets.delete(r)?;
            }
            self.store.delete_connection(kind).await?;
            let mut audit = AuditDraft::new(AuditAction::Disconnect, kind.as_str(), "disconnected", kind.label());
            audit.identity = saved.identity.as_ref().map(|i| format!("{}: {}", kind.as_str(), i.summary()));
            self.record_audit(audit).await;
        }
        let st = ConnectionStatus::not_configured(kind);
        self.emit(Event::ConnectionChecked { status: st.clone() })
            .await;
        Ok(st)
    }

    pub async fn connections(&self) -> Result<Vec<ConnectionStatus>, UserError> {
        let mut v = Vec::new();
        for k in ConnectionKind::ALL {
            v.push(self.status(k).await?);
        }
        Ok(v)
    }

    /// The newest events of the event log (for `slipway events` and the activity panel).
    pub async fn recent_events(&self, limit: u32) -> Result<Vec<serde_json::Value>, UserError> {
        Ok(self.store.recent_events(limit).await?)
    }
}

/// The secret store of this process: the OS keychain, unless the file store was chosen (the
/// `SLIPWAY_SECRET_STORE` variable, else the setting). A store given by a test is kept as is.
fn choose_secret_store(
    given: Arc<dyn SecretStore>,
    settings: &Settings,
    data_dir: &std::path::Path,
) -> Result<Arc<dyn SecretStore>, UserError> {
    if given.kind() != Some(SecretStoreKind::Keychain) {
        return Ok(given);
    }
    let choice = match std::env::var("SLIPWAY_SECRET_STORE") {
        Ok(v) if !v.trim().is_empty() => SecretStoreKind::parse(&v).ok_or_else(|| {
            UserError::new(
                "Unknown secret store",
                format!("SLIPWAY_SECRET_STORE is '{v}'"),
                "Set it to keychain or file, or unset it to use the setting",
            )
        })?,
        _ => settings.secret_store,
    };
    Ok(match choice {
        SecretStoreKind::Keychain => given,
        SecretStoreKind::File => {
            let path = data_dir.join("secrets.json");
            tracing::warn!(path = %path.display(), "secrets are kept in a file (not encrypted), as chosen");
            Arc::new(slipway_core::secrets::FileSecretStore::new(path))
        }
    })
}

fn not_set_up(kind: ConnectionKind) -> UserError {
    UserError::new(
        format!("{} is not connected", kind.label()),
        "it has not been set up",
        "Connect it on the Connect page, or with `slipway connect`",
    )
}

fn source_label(s: &AwsSource) -> String {
    match s {
        AwsSource::Sandbox => "sandbox".into(),
        AwsSource::Profile { name } => format!("profile {name}"),
        AwsSource::StaticKeys { access_key_id } => format!("access key {access_key_id}"),
        AwsSource::Environment => "environment".into(),
    }
}
