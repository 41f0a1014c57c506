//! The traits each external system is reached through. Implementations live in their own
//! crates (slipway-aws, slipway-docker, slipway-kube, slipway-git-host); the app wires them.
//! To add a provider: implement the trait in a new crate and register it in slipway-app.

use async_trait::async_trait;
use std::path::PathBuf;

use crate::connections::{AwsProfile, AwsSource, DockerConfigEntry, Identity};
use crate::secrets::Secret;
use crate::UserError;

/// Static AWS keys, resolved from the keychain just before a call.
#[derive(Debug, Clone)]
pub struct AwsKeys {
    pub access_key_id: String,
    pub secret_access_key: Secret,
    pub session_token: Option<Secret>,
}

/// Everything needed to make an AWS call: where the credentials come from, the region, the
/// endpoint (None = AWS itself, unless AWS_ENDPOINT_URL is set).
#[derive(Debug, Clone)]
pub struct AwsTarget {
    pub source: AwsSource,
    pub region: String,
    pub endpoint: Option<String>,
    pub keys: Option<AwsKeys>,
}

#[async_trait]
pub trait AwsProvider: Send + Sync {
    /// Profiles from ~/.aws/config and ~/.aws/credentials (or AWS_CONFIG_FILE /
    /// AWS_SHARED_CREDENTIALS_FILE). A malformed file is an error naming the file and line.
    fn profiles(&self) -> Result<Vec<AwsProfile>, UserError>;
    /// STS GetCallerIdentity: who these credentials are.
    async fn whoami(&self, target: &AwsTarget) -> Result<Identity, UserError>;
    /// EC2 DescribeRegions: the regions the account can use.
    async fn regions(&self, target: &AwsTarget) -> Result<Vec<String>, UserError>;
}

#[async_trait]
pub trait GitHostProvider: Send + Sync {
    /// GET /user with the token; the identity includes the token's scopes.
    async fn whoami(&self, base_url: &str, token: &Secret) -> Result<Identity, UserError>;
    /// The token the `gh` CLI is logged in with, if any.
    fn cli_token(&self, host: &str) -> Option<Secret>;
}

#[async_trait]
pub trait RegistryProvider: Send + Sync {
    /// A real login against the registry's /v2/ endpoint (Basic or Bearer token flow).
    async fn login(&self, registry: &str, username: &str, password: &Secret) -> Result<(), UserError>;
    /// Registries with credentials in ~/.docker/config.json.
    fn docker_config_entries(&self) -> Result<Vec<DockerConfigEntry>, UserError>;
    /// The username and password for `registry` from ~/.docker/config.json (inline or helper).
    fn docker_config_credentials(&self, registry: &str) -> Result<Option<(String, Secret)>, UserError>;
}

#[async_trait]
pub trait EngineProvider: Send + Sync {
    /// Detects the container engine (DOCKER_HOST or the default socket) and reports its version.
    async fn check(&self) -> Result<Identity, UserError>;
}

#[async_trait]
pub trait ClusterProvider: Send + Sync {
    /// Loads a kubeconfig (KUBECONFIG or ~/.kube/config unless `path` is given), picks the
    /// context (current unless named), and asks the server its version.
    async fn check(&self, path: Option<PathBuf>, context: Option<String>) -> Result<Identity, UserError>;
}

/// True for strings shaped like an AWS region code (`us-east-1`, `ap-southeast-2`,
/// `us-gov-west-1`, `cn-north-1`). Whether the region exists is asked of AWS itself.
pub fn is_region_name(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    if parts.len() < 3 || parts.len() > 4 {
        return false;
    }
    let last = parts[parts.len() - 1];
    parts[..parts.len() - 1].iter().all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && !last.is_empty()
        && last.chars().all(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    #[test]
    fn region_names() {
        for ok in ["us-east-1", "eu-west-2", "ap-southeast-2", "us-gov-west-1", "cn-north-1"] {
            assert!(super::is_region_name(ok), "{ok}");
        }
        for bad in ["", "us-east", "US-EAST-1", "useast1", "us-east-1a", "mars-1", "us--1"] {
            assert!(!super::is_region_name(bad), "{bad}");
        }
    }
}
