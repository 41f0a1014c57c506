//! Container engine and registries: detects the Docker engine (bollard, DOCKER_HOST or the
//! default socket), logs in to registries with a real /v2/ handshake, and reads
//! ~/.docker/config.json. Implements [`EngineProvider`] and [`RegistryProvider`].

pub mod config;
pub mod engine;
pub mod registry;

use async_trait::async_trait;
use slipway_core::connections::{DockerConfigEntry, Identity};
use slipway_core::providers::{EngineProvider, RegistryProvider};
use slipway_core::secrets::Secret;
use slipway_core::UserError;

pub use engine::DockerEngine;

#[derive(Default, Clone)]
pub struct Docker;

/// The engine address in use: DOCKER_HOST, else the platform default socket.
pub fn docker_host() -> String {
    std::env::var("DOCKER_HOST").ok().filter(|s| !s.is_empty()).unwrap_or_else(|| if cfg!(windows) { "npipe:////./pipe/docker_engine" } else { "unix:///var/run/docker.sock" }.into())
}

/// Connects to the engine and negotiates the API version (engine 20.10 speaks 1.41).
pub async fn connect() -> Result<bollard::Docker, UserError> {
    let host = docker_host();
    let not_running = |why: String| {
        UserError::new(
            "Docker engine not available",
            why,
            "Start Docker (Docker Desktop, or `sudo systemctl start docker`), or set DOCKER_HOST to the engine's address",
        )
    };
    let docker = bollard::Docker::connect_with_local_defaults().map_err(|e| not_running(format!("cannot use {host}: {e}")))?;
    docker.negotiate_version().await.map_err(|e| {
        let msg = e.to_string();
        if msg.contains("Permission denied") || msg.contains("permission denied") {
            UserError::new(
                "Docker engine not available",
                format!("no permission to use {host}"),
                "Add your user to the docker group (`sudo usermod -aG docker $USER`, then log in again)",
            )
        } else {
            not_running(format!("nothing answers at {host} ({msg})"))
        }
    })
}

#[async_trait]
impl EngineProvider for Docker {
    async fn check(&self) -> Result<Identity, UserError> {
        let docker = connect().await?;
        let v = docker.version().await.map_err(|e| {
            UserError::new("Docker engine check failed", format!("the engine at {} did not report its version: {e}", docker_host()), "Restart the Docker engine and try again")
        })?;
        Ok(Identity::Docker {
            host: docker_host(),
            version: v.version.unwrap_or_default(),
            api_version: v.api_version.unwrap_or_default(),
            os: format!("{}/{}", v.os.unwrap_or_default(), v.arch.unwrap_or_default()),
        })
    }
}

#[async_trait]
impl RegistryProvider for Docker {
    async fn login(&self, registry: &str, username: &str, password: &Secret) -> Result<(), UserError> {
        registry::login(registry, username, password).await
    }

    fn docker_config_entries(&self) -> Result<Vec<DockerConfigEntry>, UserError> {
        config::DockerConfig::load_default()?.entries()
    }

    fn docker_config_credentials(&self, registry: &str) -> Result<Option<(String, Secret)>, UserError> {
        config::DockerConfig::load_default()?.credentials(registry)
    }
}
