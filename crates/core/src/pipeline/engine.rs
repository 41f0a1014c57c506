//! The container engine as the pipeline sees it. Implemented by `slipway-docker` (bollard) for
//! a real Docker engine; the runner and the local deploy target only ever call this trait.
//!
//! Output of builds, pushes and containers is handed to a [`LogSink`] as raw bytes, exactly as
//! the engine produced them (no re-encoding, no added prefixes), so a stored log equals what the
//! container wrote, byte for byte.

use async_trait::async_trait;
use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::secrets::Secret;
use crate::UserError;

/// Where raw output goes. `write` must be cheap and never block on a slow reader.
pub trait LogSink: Send + Sync {
    fn write(&self, bytes: &[u8]);
}

/// A sink that drops everything (for calls whose output nobody keeps).
pub struct NoLog;
impl LogSink for NoLog {
    fn write(&self, _: &[u8]) {}
}

/// Labels put on everything the pipeline creates, so a run's containers and networks can be
/// found and removed even after a crash: `slipway.run=<run id>`, `slipway.project=<id>`, ...
pub type Labels = BTreeMap<String, String>;

#[derive(Debug, Clone)]
pub struct BuildRequest {
    /// The build context folder on this machine (sent to the engine as a tar stream).
    pub context: PathBuf,
    /// The Dockerfile's path relative to the context.
    pub dockerfile: String,
    /// Image references to tag the result with, e.g. `sample-backend:3f2c1a9`.
    pub tags: Vec<String>,
    pub build_args: BTreeMap<String, String>,
    pub labels: Labels,
}

#[derive(Debug, Clone, Default)]
pub struct ContainerSpec {
    /// Container name (unique on the engine); None lets the engine pick.
    pub name: Option<String>,
    pub image: String,
    /// None keeps the image's CMD.
    pub cmd: Option<Vec<String>>,
    /// Replaces the image's ENTRYPOINT (and, as with `docker run --entrypoint`, its CMD: only
    /// `cmd` follows it). None keeps the image's.
    pub entrypoint: Option<Vec<String>>,
    /// Folders of this machine mounted into the container: (host path, container path).
    pub mounts: Vec<(String, String)>,
    pub env: BTreeMap<String, String>,
    /// A user-defined network to join, with these DNS aliases on it.
    pub network: Option<String>,
    pub aliases: Vec<String>,
    /// Container port -> host port on 127.0.0.1 (0 = any free port).
    pub publish: Vec<(u16, u16)>,
    pub labels: Labels,
    /// Files to place in the container before it starts: path in the container -> content.
    pub files: Vec<(String, Vec<u8>)>,
    /// Health check command (CMD form), run every `interval_ms`.
    pub healthcheck: Option<HealthCheck>,
    pub memory_bytes: Option<i64>,
}

#[derive(Debug, Clone, Default)]
pub struct HealthCheck {
    pub test: Vec<String>,
    pub interval_ms: u64,
    pub retries: u32,
    /// How long one check may take (0: the engine's default, 30 s).
    pub timeout_ms: u64,
    /// Failures in this first period do not count (0: none).
    pub start_period_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    /// No health check defined.
    None,
    Starting,
    Healthy,
    Unhealthy,
}

#[derive(Debug, Clone)]
pub struct ContainerState {
    pub id: String,
    pub name: String,
    pub running: bool,
    pub exit_code: Option<i64>,
    pub oom_killed: bool,
    pub health: Health,
    /// Container port -> host port on 127.0.0.1, as published.
    pub ports: Vec<(u16, u16)>,
    pub labels: Labels,
}

/// Registry credentials for a push, resolved from the keychain just before the call.
#[derive(Debug, Clone)]
pub struct RegistryAuth {
    pub server: String,
    pub username: String,
    pub password: Secret,
}

#[async_trait]
pub trait ContainerEngine: Send + Sync {
    /// Is the engine answering? The error says where it was looked for and how to start it.
    async fn ping(&self) -> Result<(), UserError>;
    /// Builds an image, streaming the build output to `out`. Returns the image id. A failing
    /// Dockerfile step is an error whose `why` holds the engine's message.
    async fn build(&self, req: BuildRequest, out: &dyn LogSink) -> Result<String, UserError>;
    /// Does this image exist locally?
    async fn image_exists(&self, image: &str) -> Result<bool, UserError>;
    /// Adds a tag to a local image (`source` -> `target`, both full references).
    async fn tag(&self, source: &str, target: &str) -> Result<(), UserError>;
    /// Pushes `image` (a full reference with registry and tag), streaming progress to `out`.
    /// Returns the manifest digest (`sha256:...`) the registry reported.
    async fn push(&self, image: &str, auth: Option<&RegistryAuth>, out: &dyn LogSink) -> Result<String, UserError>;
    /// Creates a user-defined bridge network (no error if it exists with the same labels).
    async fn create_network(&self, name: &str, labels: &Labels) -> Result<(), UserError>;
    /// Creates and starts a container. Returns its id.
    async fn run(&self, spec: &ContainerSpec) -> Result<String, UserError>;
    /// Follows the container's stdout and stderr from its start until it exits, writing the raw
    /// bytes to `out` in the order the engine delivers them.
    async fn follow_logs(&self, id: &str, out: &dyn LogSink) -> Result<(), UserError>;
    /// Waits for the container to exit; returns its exit code.
    async fn wait(&self, id: &str) -> Result<i64, UserError>;
    async fn inspect(&self, id: &str) -> Result<ContainerState, UserError>;
    /// Reads one file out of a container (running or exited). None when it does not exist.
    async fn read_file(&self, id: &str, path: &str) -> Result<Option<Vec<u8>>, UserError>;
    /// Runs a command in a running container; returns (exit code, combined output).
    async fn exec(&self, id: &str, cmd: &[String]) -> Result<(i64, Vec<u8>), UserError>;
    /// Containers carrying every given label (running or not).
    async fn list(&self, labels: &Labels) -> Result<Vec<ContainerState>, UserError>;
    /// Force-removes every container, then every network, carrying all the given labels.
    /// Returns the names removed.
    async fn remove_labelled(&self, labels: &Labels) -> Result<Vec<String>, UserError>;
}
