//! Connections: the accounts and engines Slipway talks to, what the wizard sends to check one,
//! and the status each check produces. Identity and status never carry a secret.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::secrets::{Secret, SecretRef};
use crate::UserError;

/// The five things `slipway doctor` reports on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum ConnectionKind {
    Aws,
    Github,
    Registry,
    Docker,
    Kubernetes,
}

impl ConnectionKind {
    pub const ALL: [ConnectionKind; 5] =
        [Self::Aws, Self::Github, Self::Registry, Self::Docker, Self::Kubernetes];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Aws => "aws",
            Self::Github => "github",
            Self::Registry => "registry",
            Self::Docker => "docker",
            Self::Kubernetes => "kubernetes",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Aws => "AWS",
            Self::Github => "GitHub",
            Self::Registry => "Container registry",
            Self::Docker => "Docker engine",
            Self::Kubernetes => "Kubernetes",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Where AWS credentials come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "source", rename_all = "camelCase")]
#[ts(export)]
pub enum AwsSource {
    /// The local AWS emulator Slipway runs itself.
    Sandbox,
    /// A named profile from ~/.aws/config or ~/.aws/credentials (SSO and credential_process too).
    Profile { name: String },
    /// Keys typed into the wizard; the secret key is in the keychain.
    #[serde(rename_all = "camelCase")]
    StaticKeys { access_key_id: String },
    /// Whatever the environment provides (AWS_* variables, instance roles...).
    Environment,
}

/// What the wizard sends to connect AWS.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(tag = "source", rename_all = "camelCase")]
#[ts(export)]
pub enum AwsConnectInput {
    #[serde(rename_all = "camelCase")]
    Sandbox { region: Option<String> },
    #[serde(rename_all = "camelCase")]
    Profile { name: String, region: Option<String> },
    #[serde(rename_all = "camelCase")]
    StaticKeys {
        access_key_id: String,
        secret_access_key: Secret,
        session_token: Option<Secret>,
        region: Option<String>,
        /// A custom endpoint (an emulator or a VPC endpoint); None means AWS itself.
        endpoint: Option<String>,
    },
    #[serde(rename_all = "camelCase")]
    Environment { region: Option<String> },
}

/// What the wizard sends to connect GitHub.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct GithubConnectInput {
    /// The token; None means "use the gh CLI's token".
    pub token: Option<Secret>,
    /// The API base URL; None means https://api.github.com (set it for GitHub Enterprise).
    pub base_url: Option<String>,
}

/// What the wizard sends to connect a container registry.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct RegistryConnectInput {
    /// `docker.io` for Docker Hub, or a host[:port] / URL of any registry.
    pub registry: String,
    pub username: String,
    /// None means "use the credentials in ~/.docker/config.json for this registry".
    pub password: Option<Secret>,
}

/// Who a check says you are, per kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "lowercase")]
#[ts(export)]
pub enum Identity {
    #[serde(rename_all = "camelCase")]
    Aws {
        account: String,
        arn: String,
        user_id: String,
        region: String,
        /// The endpoint in use when it is not AWS itself (the sandbox, AWS_ENDPOINT_URL...).
        endpoint: Option<String>,
        source: AwsSource,
    },
    #[serde(rename_all = "camelCase")]
    Github { login: String, name: Option<String>, scopes: Vec<String>, base_url: String },
    #[serde(rename_all = "camelCase")]
    Registry { registry: String, username: String, from_docker_config: bool },
    #[serde(rename_all = "camelCase")]
    Docker { host: String, version: String, api_version: String, os: String },
    #[serde(rename_all = "camelCase")]
    Kubernetes { context: String, server: String, version: String },
}

impl Identity {
    pub fn kind(&self) -> ConnectionKind {
        match self {
            Identity::Aws { .. } => ConnectionKind::Aws,
            Identity::Github { .. } => ConnectionKind::Github,
            Identity::Registry { .. } => ConnectionKind::Registry,
            Identity::Docker { .. } => ConnectionKind::Docker,
            Identity::Kubernetes { .. } => ConnectionKind::Kubernetes,
        }
    }

    /// One line a person reads: "account 123456789012 (arn:aws:iam::...)".
    pub fn summary(&self) -> String {
        match self {
            Identity::Aws { account, arn, region, endpoint, .. } => {
                let mut s = format!("account {account} as {arn} in {region}");
                if let Some(ep) = endpoint {
                    s.push_str(&format!(" via {ep}"));
                }
                s
            }
            Identity::Github { login, scopes, base_url, .. } => {
                let scopes = if scopes.is_empty() { "no scopes listed".to_string() } else { scopes.join(", ") };
                format!("{login} on {base_url} (scopes: {scopes})")
            }
            Identity::Registry { registry, username, .. } => format!("{username} at {registry}"),
            Identity::Docker { host, version, api_version, .. } => {
                format!("Docker {version} (API {api_version}) at {host}")
            }
            Identity::Kubernetes { context, server, version } => {
                format!("context {context} at {server} (Kubernetes {version})")
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum ConnectionState {
    /// The last check passed.
    Connected,
    /// The last check failed; `identity` still shows the last good one, if any.
    Failed,
    /// Nothing configured yet.
    NotConfigured,
}

/// The state of one connection, as the Connect page and `slipway doctor` show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ConnectionStatus {
    pub kind: ConnectionKind,
    pub state: ConnectionState,
    /// The last identity a check confirmed (kept when a later check fails).
    pub identity: Option<Identity>,
    /// The error of the last check, when it failed.
    pub error: Option<UserError>,
    /// When the last check ran (ms since epoch).
    #[ts(type = "number | null")]
    pub checked_at: Option<i64>,
}

impl ConnectionStatus {
    pub fn not_configured(kind: ConnectionKind) -> Self {
        Self { kind, state: ConnectionState::NotConfigured, identity: None, error: None, checked_at: None }
    }
}

/// A saved connection, as the store keeps it: configuration and a reference to the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SavedConnection {
    pub kind: ConnectionKind,
    /// Non-secret configuration (profile name, base URL, registry host, username...).
    pub config: serde_json::Value,
    pub secret: Option<SecretRef>,
    pub identity: Option<Identity>,
    pub last_error: Option<UserError>,
    pub checked_at: Option<i64>,
    pub last_ok_at: Option<i64>,
}

impl SavedConnection {
    pub fn status(&self) -> ConnectionStatus {
        let state = if self.last_error.is_some() {
            ConnectionState::Failed
        } else if self.identity.is_some() {
            ConnectionState::Connected
        } else {
            ConnectionState::NotConfigured
        };
        ConnectionStatus {
            kind: self.kind,
            state,
            identity: self.identity.clone(),
            error: self.last_error.clone(),
            checked_at: self.checked_at,
        }
    }
}

/// A profile found in ~/.aws/config or ~/.aws/credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct AwsProfile {
    pub name: String,
    pub region: Option<String>,
    pub kind: AwsProfileKind,
    /// The file(s) it was found in.
    pub files: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum AwsProfileKind {
    StaticKeys,
    Sso,
    CredentialProcess,
    AssumeRole,
    Other,
}

/// A registry with credentials in ~/.docker/config.json.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct DockerConfigEntry {
    pub registry: String,
    pub username: Option<String>,
    /// The credential helper that holds the password, when not inline.
    pub helper: Option<String>,
}

/// Everything `slipway doctor` reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct DoctorReport {
    pub connections: Vec<ConnectionStatus>,
    pub sandbox: crate::sandbox::SandboxState,
    pub data_dir: String,
    pub store_schema_version: u32,
    /// Where secrets are kept, and whether that store works right now.
    pub secrets: SecretsStatus,
    /// What needs the user's attention without being a failure (data an earlier version kept
    /// under the old default project, and how to handle it).
    #[serde(default)]
    pub notices: Vec<UserError>,
}

/// The secret store in use, checked live (a probe written, read back and removed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct SecretsStatus {
    /// None: a store other than the keychain or the file (a test's).
    pub kind: Option<crate::secrets::SecretStoreKind>,
    pub location: String,
    pub ok: bool,
    pub error: Option<UserError>,
    /// Said about the file store every time: it is not encrypted.
    pub warning: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_keys_input_parses_from_the_ui_shape_and_hides_the_secret() {
        let json = r#"{"source":"staticKeys","accessKeyId":"AKIAEXAMPLE","secretAccessKey":"s3cr3t-value","sessionToken":null,"region":"eu-west-1","endpoint":null}"#;
        let input: AwsConnectInput = serde_json::from_str(json).unwrap();
        match &input {
            AwsConnectInput::StaticKeys { access_key_id, secret_access_key, region, .. } => {
                assert_eq!(access_key_id, "AKIAEXAMPLE");
                assert_eq!(secret_access_key.expose(), "s3cr3t-value");
                assert_eq!(region.as_deref(), Some("eu-west-1"));
            }
            other => panic!("parsed as {other:?}"),
        }
        let back = serde_json::to_string(&input).unwrap();
        assert!(!back.contains("s3cr3t-value"), "{back}");
        assert!(!format!("{input:?}").contains("s3cr3t-value"));
    }

    #[test]
    fn saved_connection_status_keeps_the_last_good_identity_on_failure() {
        let id = Identity::Github { login: "octo".into(), name: None, scopes: vec!["repo".into()], base_url: "https://api.github.com".into() };
        let saved = SavedConnection {
            kind: ConnectionKind::Github,
            config: serde_json::json!({}),
            secret: None,
            identity: Some(id.clone()),
            last_error: Some(UserError::new("GitHub check failed", "401 Bad credentials", "Create a new token")),
            checked_at: Some(1),
            last_ok_at: Some(0),
        };
        let st = saved.status();
        assert_eq!(st.state, ConnectionState::Failed);
        assert_eq!(st.identity, Some(id));
    }

    #[test]
    fn kinds_round_trip_through_their_names() {
        for k in ConnectionKind::ALL {
            assert_eq!(ConnectionKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(ConnectionKind::parse("gitlab"), None);
    }
}
