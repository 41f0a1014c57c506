//! The pipeline's [`ContainerEngine`] on a real Docker engine, through bollard.
//!
//! Builds use the classic builder (API 1.41, no BuildKit session) with the context sent as a
//! tar stream that honours `.dockerignore`. Output of builds, pushes and containers goes to the
//! [`LogSink`] as the engine sent it. Every failure is a [`UserError`]; when the engine stops
//! answering (refused, socket gone, broken pipe, or no answer to a short call within a few
//! seconds) the error is "Docker engine not available" and names the address.

use async_trait::async_trait;
use bollard::errors::Error as BError;
use bollard::exec::{CreateExecOptions, StartExecOptions, StartExecResults};
use bollard::models::{
    ContainerCreateBody, ContainerInspectResponse, EndpointSettings, HealthConfig, HealthStatusEnum, HostConfig,
    NetworkCreateRequest, NetworkingConfig, PortBinding,
};
use bollard::query_parameters::{
    BuildImageOptionsBuilder, BuilderVersion, CreateContainerOptionsBuilder, DownloadFromContainerOptionsBuilder,
    ListContainersOptionsBuilder, ListNetworksOptionsBuilder, LogsOptionsBuilder, PushImageOptionsBuilder,
    CreateImageOptionsBuilder, RemoveContainerOptionsBuilder, TagImageOptionsBuilder, UploadToContainerOptionsBuilder,
    WaitContainerOptionsBuilder,
};
use bollard::auth::DockerCredentials;
use bytes::Bytes;
use futures::StreamExt;
use slipway_core::error::error_chain;
use slipway_core::pipeline::engine::{
    BuildRequest, ContainerEngine, ContainerSpec, ContainerState, Health, Labels, LogSink, RegistryAuth,
};
use slipway_core::UserError;
use std::collections::HashMap;
use std::future::Future;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Calls that only read state (ping, inspect, list, image lookups).
const QUICK: Duration = Duration::from_secs(5);
/// Calls that change state but must still finish promptly (create, start, upload, remove).
const CHANGE: Duration = Duration::from_secs(30);

const START_FIX: &str =
    "Start Docker (Docker Desktop, or `sudo systemctl start docker`), or set DOCKER_HOST to the engine's address";

/// A Docker engine as the pipeline's container engine.
pub struct DockerEngine {
    docker: bollard::Docker,
    /// The address shown in errors (DOCKER_HOST, or the one given to [`DockerEngine::from_client_at`]).
    host: String,
}

/// The outcome of one engine call: the engine's own error, or (outer) the engine is gone.
type Call<T> = Result<Result<T, BError>, UserError>;

impl DockerEngine {
    /// Connects to DOCKER_HOST (or the default socket) and negotiates the API version.
    pub async fn connect() -> Result<Self, UserError> {
        Ok(Self { docker: crate::connect().await?, host: crate::docker_host() })
    }

    /// Wraps a client made elsewhere; errors name DOCKER_HOST (or the default socket).
    pub fn from_client(docker: bollard::Docker) -> Self {
        Self::from_client_at(docker, crate::docker_host())
    }

    /// Wraps a client made elsewhere that talks to `host` (the address errors name).
    pub fn from_client_at(docker: bollard::Docker, host: impl Into<String>) -> Self {
        Self { docker, host: host.into() }
    }

    /// The bollard client, for calls the trait does not cover.
    pub fn client(&self) -> &bollard::Docker {
        &self.docker
    }

    fn unavailable(&self, detail: impl std::fmt::Display) -> UserError {
        UserError::new("Docker engine not available", format!("nothing answers at {} ({detail})", self.host), START_FIX)
    }

    /// The engine could not be reached, or the connection to it broke.
    fn lost(&self, e: &BError) -> UserError {
        if is_permission(e) {
            return UserError::new(
                "Docker engine not available",
                format!("no permission to use {}", self.host),
                "Add your user to the docker group (`sudo usermod -aG docker $USER`, then log in again)",
            );
        }
        match e {
            BError::RequestTimeoutError => self.unavailable("no answer in time"),
            _ => self.unavailable(transport_detail(e)),
        }
    }

    /// Maps an engine error: a lost engine becomes "Docker engine not available", an error the
    /// engine answered with keeps the engine's own message.
    fn fail(&self, what: &str, fix: &str, e: BError) -> UserError {
        if is_unavailable(&e) {
            return self.lost(&e);
        }
        let why = match e {
            BError::DockerResponseServerError { message, .. } if !message.is_empty() => message,
            BError::DockerStreamError { error } => error,
            other => error_chain(&other),
        };
        UserError::new(what, why, fix)
    }

    /// Runs a call that must not hang; a lost or silent engine is the outer error.
    async fn timed<T>(&self, limit: Duration, fut: impl Future<Output = Result<T, BError>>) -> Call<T> {
        match tokio::time::timeout(limit, fut).await {
            Err(_) => Err(self.unavailable(format!("no answer within {} s", limit.as_secs()))),
            Ok(Err(e)) if is_unavailable(&e) => Err(self.lost(&e)),
            Ok(r) => Ok(r),
        }
    }

    /// Like [`timed`](Self::timed), with every engine error mapped to `what` / `fix`.
    async fn timed_or<T>(
        &self,
        limit: Duration,
        what: &str,
        fix: &str,
        fut: impl Future<Output = Result<T, BError>>,
    ) -> Result<T, UserError> {
        self.timed(limit, fut).await?.map_err(|e| self.fail(what, fix, e))
    }

    async fn state_of(&self, id: &str) -> Call<ContainerState> {
        Ok(self.timed(QUICK, self.docker.inspect_container(id, None)).await?.map(to_state))
    }

    /// The state, and, when the container was killed (137) less than 30 s ago without the engine
    /// having reported an OOM kill yet, the time (Unix seconds) it started.
    async fn state_and_oom_pending(&self, id: &str) -> Call<(ContainerState, Option<i64>)> {
        Ok(self.timed(QUICK, self.docker.inspect_container(id, None)).await?.map(|c| {
            let finished = c.state.as_ref().and_then(|s| s.finished_at.as_deref()).and_then(unix_seconds);
            let started = c.state.as_ref().and_then(|s| s.started_at.as_deref()).and_then(unix_seconds);
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
            let state = to_state(c);
            let pending = state.exit_code == Some(137) && !state.oom_killed && finished.is_some_and(|f| (now - f).abs() < 30);
            (state, if pending { Some(started.unwrap_or(now - 3600)) } else { None })
        }))
    }

    /// Whether the engine logged an `oom` event for the container since `since` (Unix seconds).
    /// The event log keeps it even where the engine's state loses it: Docker 20.10 sets
    /// OOMKilled on the OOM event and can then clear it again when it handles the exit.
    async fn oom_event_since(&self, id: &str, since: i64) -> bool {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
        let filters: HashMap<&str, Vec<&str>> = HashMap::from([("container", vec![id]), ("event", vec!["oom"]), ("type", vec!["container"])]);
        let opts = bollard::query_parameters::EventsOptionsBuilder::default()
            .since(&(since - 1).to_string())
            .until(&(now + 1).to_string())
            .filters(&filters)
            .build();
        let events = self.docker.events(Some(opts)).take(1).collect::<Vec<_>>();
        matches!(tokio::time::timeout(QUICK, events).await, Ok(v) if v.iter().any(|e| e.is_ok()))
    }

    async fn remove_container_quietly(&self, id: &str) {
        let opts = RemoveContainerOptionsBuilder::default().force(true).v(true).build();
        let _ = tokio::time::timeout(CHANGE, self.docker.remove_container(id, Some(opts))).await;
    }

    /// Pulls an image (public, or from a registry the engine is logged in to).
    async fn pull(&self, image: &str) -> Result<(), UserError> {
        let (repo, tag) = split_reference(image);
        let opts = CreateImageOptionsBuilder::default().from_image(&repo).tag(&tag).build();
        let mut stream = self.docker.create_image(Some(opts), None, None);
        while let Some(item) = stream.next().await {
            if let Err(e) = item {
                if matches!(&e, BError::DockerResponseServerError { .. } | BError::DockerStreamError { .. }) {
                    return Err(UserError::new(
                        format!("Image {image} is not available"),
                        format!("it is not on the engine at {} and pulling it failed: {}", self.host, error_chain(&e)),
                        format!("Build it, or pull it yourself (`docker pull {image}`) from a registry this machine can reach, then run again"),
                    ));
                }
                return Err(self.fail("Pulling an image failed", "Try again", e));
            }
        }
        Ok(())
    }

    async fn create_and_start(&self, spec: &ContainerSpec) -> Result<String, UserError> {
        let what = "Container could not be started";
        let body = container_body(spec);
        let mut opts = CreateContainerOptionsBuilder::default();
        if let Some(n) = &spec.name {
            opts = opts.name(n);
        }
        let created = match self.timed(CHANGE, self.docker.create_container(Some(opts.build()), body)).await? {
            Ok(c) => c,
            Err(BError::DockerResponseServerError { status_code: 409, message }) => {
                let name = spec.name.clone().unwrap_or_default();
                return Err(UserError::new(
                    "Container name already in use",
                    format!("a container named '{name}' already exists on the engine at {} ({message})", self.host),
                    format!("Remove the old container (`docker rm -f {name}`) or pick another name"),
                ));
            }
            Err(BError::DockerResponseServerError { status_code: 404, message }) => {
                return Err(UserError::new(
                    what,
                    message,
                    format!("Build or pull the image '{}' (and create the network, if one is named) first", spec.image),
                ))
            }
            Err(e) => return Err(self.fail(what, "Check the container settings, then try again", e)),
        };
        let id = created.id;
        if !spec.files.is_empty() {
            let result = match files_tar(&spec.files) {
                Ok(tar) => {
                    let opts = UploadToContainerOptionsBuilder::default().path("/").build();
                    self.timed_or(
                        CHANGE,
                        "Files could not be placed in the container",
                        "Check the file paths (absolute paths in the container), then try again",
                        self.docker.upload_to_container(&id, Some(opts), bollard::body_full(tar.into())),
                    )
                    .await
                }
                Err(e) => Err(e),
            };
            if let Err(e) = result {
                self.remove_container_quietly(&id).await;
                return Err(e);
            }
        }
        if let Err(e) = self
            .timed_or(CHANGE, what, "Check the command, ports and image, then try again", self.docker.start_container(&id, None))
            .await
        {
            self.remove_container_quietly(&id).await;
            return Err(e);
        }
        Ok(id)
    }

    fn logs_error(&self, id: &str, e: BError) -> UserError {
        if status_of(&e) == Some(404) {
            return UserError::new("Container logs not available", format!("there is no container '{id}'"), "It may have been removed; run it again");
        }
        self.fail("Container logs not available", "Try again", e)
    }

    /// The engine (20.10 at least) ends a followed log when the container's logger closes, and
    /// output flushed at exit (a last line without a newline, on stdout or stderr) can land in
    /// the log after that. Once the container has stopped, read the end of the log again and
    /// write whatever comes after the last frame the follow delivered.
    async fn write_missed_tail(&self, id: &str, last: Option<LogFrame>, out: &dyn LogSink) -> Result<(), UserError> {
        let opts = WaitContainerOptionsBuilder::default().condition("not-running").build();
        match tokio::time::timeout(QUICK, self.docker.wait_container(id, Some(opts)).next()).await {
            Ok(Some(Ok(_))) | Ok(Some(Err(BError::DockerContainerWaitError { .. }))) => {}
            Ok(Some(Err(e))) if is_unavailable(&e) => return Err(self.lost(&e)),
            _ => return Ok(()), // still running (or gone): nothing more to add
        }
        let Some(last) = last else {
            // The follow saw nothing: the whole log is what it missed.
            let opts = LogsOptionsBuilder::default().stdout(true).stderr(true).timestamps(true).build();
            let mut stream = self.docker.logs(id, Some(opts));
            while let Some(frame) = stream.next().await {
                match frame {
                    Ok(f) => out.write(LogFrame::from(f).payload()),
                    Err(e) if status_of(&e) == Some(404) => return Ok(()), // removed meanwhile
                    Err(e) => return Err(self.logs_error(id, e)),
                }
            }
            return Ok(());
        };
        let mut tail = 64usize;
        loop {
            let opts = LogsOptionsBuilder::default().stdout(true).stderr(true).timestamps(true).tail(&tail.to_string()).build();
            let frames: Vec<LogFrame> = match tokio::time::timeout(CHANGE, self.docker.logs(id, Some(opts)).collect::<Vec<_>>()).await {
                Ok(v) => match v.into_iter().map(|f| f.map(LogFrame::from)).collect::<Result<_, _>>() {
                    Ok(frames) => frames,
                    Err(e) if status_of(&e) == Some(404) => return Ok(()), // removed meanwhile
                    Err(e) => return Err(self.logs_error(id, e)),
                },
                Err(_) => return Err(self.unavailable(format!("no answer within {} s", CHANGE.as_secs()))),
            };
            let whole_log = frames.len() < tail;
            if let Some(i) = frames.iter().rposition(|f| *f == last) {
                for f in &frames[i + 1..] {
                    out.write(f.payload());
                }
                return Ok(());
            }
            if whole_log || tail >= 4096 {
                return Ok(()); // the last frame seen is not in the log any more (rotated): add nothing
            }
            tail *= 8;
        }
    }

    /// The network named exactly `name` (inspect also matches id prefixes), if any.
    async fn network_named(&self, name: &str) -> Result<Option<bollard::models::NetworkInspect>, UserError> {
        match self.timed(QUICK, self.docker.inspect_network(name, None)).await? {
            Ok(n) if n.name.as_deref() == Some(name) => Ok(Some(n)),
            Ok(_) => Ok(None),
            Err(BError::DockerResponseServerError { status_code: 404, .. }) => Ok(None),
            Err(e) => Err(self.fail("Network could not be created", "Try again", e)),
        }
    }

    fn check_network_labels(&self, name: &str, found: Option<&HashMap<String, String>>, want: &Labels) -> Result<(), UserError> {
        let empty = HashMap::new();
        let found = found.unwrap_or(&empty);
        let differs: Vec<String> =
            want.iter().filter(|(k, v)| found.get(*k) != Some(*v)).map(|(k, v)| format!("{k}={v}")).collect();
        if differs.is_empty() {
            Ok(())
        } else {
            Err(UserError::new(
                "Network name already in use",
                format!("a network named '{name}' exists on the engine without the labels {}", differs.join(", ")),
                format!("Remove it (`docker network rm {name}`) or pick another name"),
            ))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Error classification

/// Is this the transport failing (engine gone, socket missing, connection cut mid-stream, no
/// answer), as opposed to an answer from the engine?
fn is_unavailable(e: &BError) -> bool {
    matches!(
        e,
        BError::HyperLegacyError { .. }
            | BError::HyperResponseError { .. }
            | BError::IOError { .. }
            | BError::SocketNotFoundError(_)
            | BError::RequestTimeoutError
    )
}

/// Was the engine's socket refused for lack of permission?
fn is_permission(e: &BError) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(x) = cur {
        if x.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::PermissionDenied) {
            return true;
        }
        cur = x.source();
    }
    false
}

/// The words of a transport error, with the underlying OS error when there is one.
fn transport_detail(e: &BError) -> String {
    let mut text = error_chain(e);
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(x) = cur {
        if let Some(io) = x.downcast_ref::<std::io::Error>() {
            let kind = io.kind().to_string();
            if !text.contains(&kind) && !text.contains(&io.to_string()) {
                text.push_str(&format!(": {io}"));
            }
        }
        cur = x.source();
    }
    text
}

fn status_of(e: &BError) -> Option<u16> {
    match e {
        BError::DockerResponseServerError { status_code, .. } => Some(*status_code),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Mapping

fn to_state(c: ContainerInspectResponse) -> ContainerState {
    let state = c.state.unwrap_or_default();
    let running = state.running.unwrap_or(false);
    let never_started = state.started_at.as_deref().is_none_or(|s| s.starts_with("0001-01-01"));
    let health = match state.health.and_then(|h| h.status) {
        Some(HealthStatusEnum::STARTING) => Health::Starting,
        Some(HealthStatusEnum::HEALTHY) => Health::Healthy,
        Some(HealthStatusEnum::UNHEALTHY) => Health::Unhealthy,
        _ => Health::None,
    };
    let mut ports = Vec::new();
    for (key, bindings) in c.network_settings.and_then(|n| n.ports).unwrap_or_default() {
        let Some(cport) = key.split('/').next().and_then(|p| p.parse::<u16>().ok()) else { continue };
        for b in bindings.unwrap_or_default() {
            let loopback = matches!(b.host_ip.as_deref(), Some("127.0.0.1") | Some("") | None);
            if let (true, Some(h)) = (loopback, b.host_port.and_then(|p| p.parse::<u16>().ok())) {
                ports.push((cport, h));
            }
        }
    }
    ports.sort_unstable();
    ports.dedup();
    ContainerState {
        id: c.id.unwrap_or_default(),
        name: c.name.unwrap_or_default().trim_start_matches('/').to_string(),
        running,
        exit_code: if running || never_started { None } else { state.exit_code },
        oom_killed: state.oom_killed.unwrap_or(false),
        health,
        ports,
        labels: c.config.and_then(|c| c.labels).unwrap_or_default().into_iter().collect(),
    }
}

/// `2024-05-01T12:34:56.123456789Z` -> seconds since the Unix epoch (UTC times only).
fn unix_seconds(t: &str) -> Option<i64> {
    let num = |a: usize, b: usize| t.get(a..b)?.parse::<i64>().ok();
    if !t.ends_with('Z') || t.get(4..5) != Some("-") || t.get(10..11) != Some("T") {
        return None;
    }
    let (y, m, d) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hh, mm, ss) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss)
}

fn container_body(spec: &ContainerSpec) -> ContainerCreateBody {
    let mut port_bindings: HashMap<String, Option<Vec<PortBinding>>> = HashMap::new();
    for (cport, hport) in &spec.publish {
        let binding = PortBinding {
            host_ip: Some("127.0.0.1".into()),
            host_port: Some(if *hport == 0 { String::new() } else { hport.to_string() }),
        };
        port_bindings.entry(format!("{cport}/tcp")).or_insert_with(|| Some(Vec::new())).get_or_insert_with(Vec::new).push(binding);
    }
    let mut exposed: Vec<String> = port_bindings.keys().cloned().collect();
    exposed.sort();
    let healthcheck = spec.healthcheck.as_ref().map(|h| {
        let mut test = h.test.clone();
        if !matches!(test.first().map(String::as_str), Some("CMD" | "CMD-SHELL" | "NONE")) {
            test.insert(0, "CMD".into());
        }
        // The engine refuses intervals under 1 ms.
        let interval = (h.interval_ms.max(1) as i64).saturating_mul(1_000_000);
        let ns = |ms: u64| (ms > 0).then(|| (ms as i64).saturating_mul(1_000_000));
        HealthConfig { test: Some(test), interval: Some(interval), retries: Some(h.retries as i64), timeout: ns(h.timeout_ms), start_period: ns(h.start_period_ms), ..Default::default() }
    });
    let networking_config = spec.network.as_ref().map(|net| NetworkingConfig {
        endpoints_config: Some(HashMap::from([(
            net.clone(),
            EndpointSettings {
                aliases: if spec.aliases.is_empty() { None } else { Some(spec.aliases.clone()) },
                ..Default::default()
            },
        )])),
    });
    ContainerCreateBody {
        image: Some(spec.image.clone()),
        // With an entrypoint of its own, the image's CMD is not used (like `docker run
        // --entrypoint`): an empty list says so explicitly.
        cmd: match (&spec.entrypoint, &spec.cmd) {
            (Some(_), None) => Some(vec![]),
            (_, c) => c.clone(),
        },
        entrypoint: spec.entrypoint.clone(),
        env: Some(spec.env.iter().map(|(k, v)| format!("{k}={v}")).collect()),
        labels: Some(spec.labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
        exposed_ports: if exposed.is_empty() { None } else { Some(exposed) },
        healthcheck,
        tty: Some(false),
        attach_stdout: Some(false),
        attach_stderr: Some(false),
        host_config: Some(HostConfig {
            port_bindings: if port_bindings.is_empty() { None } else { Some(port_bindings) },
            binds: if spec.mounts.is_empty() { None } else { Some(spec.mounts.iter().map(|(h, c)| format!("{h}:{c}")).collect()) },
            memory: spec.memory_bytes,
            network_mode: spec.network.clone(),
            ..Default::default()
        }),
        networking_config,
        ..Default::default()
    }
}

fn label_filters(labels: &Labels) -> HashMap<String, Vec<String>> {
    HashMap::from([("label".to_string(), labels.iter().map(|(k, v)| format!("{k}={v}")).collect())])
}

/// `host:port/name:tag` -> (`host:port/name`, `tag`); a digest reference keeps its digest.
fn split_reference(image: &str) -> (String, String) {
    if let Some((name, digest)) = image.split_once('@') {
        return (name.to_string(), digest.to_string());
    }
    let last_slash = image.rfind('/').map(|i| i + 1).unwrap_or(0);
    match image[last_slash..].rfind(':') {
        Some(i) => (image[..last_slash + i].to_string(), image[last_slash + i + 1..].to_string()),
        None => (image.to_string(), "latest".to_string()),
    }
}

/// The registry host of a reference (`docker.io` when it names none).
fn registry_of(image: &str) -> String {
    match image.split_once('/') {
        Some((first, _)) if first.contains('.') || first.contains(':') || first == "localhost" => first.to_string(),
        _ => "docker.io".to_string(),
    }
}

/// `latest: digest: sha256:... size: 527` -> `sha256:...`.
fn digest_in(status: &str) -> Option<String> {
    let rest = &status[status.find("digest: ")? + "digest: ".len()..];
    let d = rest.split_whitespace().next()?;
    d.starts_with("sha256:").then(|| d.to_string())
}

// ---------------------------------------------------------------------------------------------
// Tar: files for a container, the build context, reading one file back

fn files_tar(files: &[(String, Vec<u8>)]) -> Result<Vec<u8>, UserError> {
    let bad = |e: std::io::Error| UserError::new("Files could not be placed in the container", e.to_string(), "Check the file paths");
    let mut b = tar::Builder::new(Vec::new());
    for (path, content) in files {
        let rel = path.trim_start_matches('/');
        if rel.is_empty() || rel.split('/').any(|s| s == "..") {
            return Err(UserError::new(
                "Files could not be placed in the container",
                format!("'{path}' is not a file path"),
                "Give each file an absolute path in the container, such as /etc/app/config.json",
            ));
        }
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_size(content.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0));
        b.append_data(&mut h, rel, content.as_slice()).map_err(bad)?;
    }
    b.into_inner().map_err(bad)
}

/// Extracts the bytes of the single file in a download archive. `Err(link)` for a symlink.
fn file_in_tar(archive: &[u8]) -> std::io::Result<FileInTar> {
    let mut ar = tar::Archive::new(archive);
    let mut entries = ar.entries()?;
    let Some(entry) = entries.next() else { return Ok(FileInTar::Missing) };
    let mut entry = entry?;
    match entry.header().entry_type() {
        tar::EntryType::Regular | tar::EntryType::Continuous => {
            let mut buf = Vec::with_capacity(entry.size() as usize);
            entry.read_to_end(&mut buf)?;
            Ok(FileInTar::File(buf))
        }
        tar::EntryType::Symlink => Ok(FileInTar::Link(entry.link_name()?.map(|p| p.to_string_lossy().into_owned()).unwrap_or_default())),
        tar::EntryType::Directory => Ok(FileInTar::Directory),
        _ => Ok(FileInTar::Missing),
    }
}

enum FileInTar {
    File(Vec<u8>),
    Link(String),
    Directory,
    Missing,
}

/// `.dockerignore` rules: patterns matched against paths relative to the context root (and
/// their parent folders), `*`, `?`, `[...]` and `**`, `!` re-includes, the last match wins.
#[derive(Debug, Default)]
pub struct DockerIgnore {
    rules: Vec<(bool, Vec<String>)>,
}

impl DockerIgnore {
    pub fn parse(text: &str) -> Self {
        let mut rules = Vec::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (negate, pat) = match line.strip_prefix('!') {
                Some(p) => (true, p.trim()),
                None => (false, line),
            };
            let segs: Vec<String> =
                pat.split('/').filter(|s| !s.is_empty() && *s != ".").map(str::to_string).collect();
            // Clean `a/../b` as filepath.Clean does.
            let mut clean: Vec<String> = Vec::new();
            for s in segs {
                if s == ".." {
                    clean.pop();
                } else {
                    clean.push(s);
                }
            }
            if !clean.is_empty() {
                rules.push((negate, clean));
            }
        }
        Self { rules }
    }

    pub fn has_negations(&self) -> bool {
        self.rules.iter().any(|(n, _)| *n)
    }

    /// Is `rel` (slash-separated, relative to the context root) left out of the context?
    pub fn excludes(&self, rel: &str) -> bool {
        let parts: Vec<&str> = rel.split('/').filter(|s| !s.is_empty()).collect();
        let mut excluded = false;
        for (negate, pat) in &self.rules {
            if *negate != excluded {
                continue; // cannot change the outcome
            }
            let pat: Vec<&str> = pat.iter().map(String::as_str).collect();
            if (1..=parts.len()).any(|n| match_path(&pat, &parts[..n])) {
                excluded = !negate;
            }
        }
        excluded
    }
}

fn match_path(pat: &[&str], path: &[&str]) -> bool {
    match pat.split_first() {
        None => path.is_empty(),
        Some((&"**", rest)) => (0..=path.len()).any(|i| match_path(rest, &path[i..])),
        Some((p, rest)) => !path.is_empty() && match_segment(p.as_bytes(), path[0].as_bytes()) && match_path(rest, &path[1..]),
    }
}

/// Shell-style match of one path segment: `*`, `?`, `[a-z]`, `[^x]`/`[!x]`, `\` escapes.
fn match_segment(p: &[u8], s: &[u8]) -> bool {
    match p.first() {
        None => s.is_empty(),
        Some(b'*') => (0..=s.len()).any(|i| match_segment(&p[1..], &s[i..])),
        Some(b'?') => !s.is_empty() && match_segment(&p[1..], &s[1..]),
        Some(b'[') => {
            let Some(&c) = s.first() else { return false };
            let mut i = 1;
            let negate = matches!(p.get(1), Some(b'^') | Some(b'!'));
            if negate {
                i += 1;
            }
            let mut hit = false;
            let mut first = true;
            while i < p.len() && (p[i] != b']' || first) {
                first = false;
                let lo = if p[i] == b'\\' && i + 1 < p.len() {
                    i += 1;
                    p[i]
                } else {
                    p[i]
                };
                if i + 2 < p.len() && p[i + 1] == b'-' && p[i + 2] != b']' {
                    if lo <= c && c <= p[i + 2] {
                        hit = true;
                    }
                    i += 3;
                } else {
                    if lo == c {
                        hit = true;
                    }
                    i += 1;
                }
            }
            if i >= p.len() {
                return false; // unterminated class matches nothing, like Go's ErrBadPattern
            }
            hit != negate && match_segment(&p[i + 1..], &s[1..])
        }
        Some(b'\\') if p.len() > 1 => !s.is_empty() && s[0] == p[1] && match_segment(&p[2..], &s[1..]),
        Some(&c) => !s.is_empty() && s[0] == c && match_segment(&p[1..], &s[1..]),
    }
}

/// Writes the build context as a tar to `w`: regular files, folders and symlinks (stored as
/// links, never followed), owned by root, minus what `.dockerignore` leaves out. The Dockerfile
/// and `.dockerignore` are always sent, as the docker CLI does.
pub fn write_context<W: std::io::Write>(root: &Path, dockerfile: &str, w: W) -> std::io::Result<W> {
    let ignore = match std::fs::read_to_string(root.join(".dockerignore")) {
        Ok(t) => DockerIgnore::parse(&t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => DockerIgnore::default(),
        Err(e) => return Err(e),
    };
    let keep: Vec<String> = vec![dockerfile.trim_start_matches("./").to_string(), ".dockerignore".to_string()];
    let mut b = tar::Builder::new(w);
    b.follow_symlinks(false);
    add_dir(&mut b, root, "", &ignore, &keep)?;
    b.into_inner()
}

fn add_dir<W: std::io::Write>(
    b: &mut tar::Builder<W>,
    dir: &Path,
    rel: &str,
    ignore: &DockerIgnore,
    keep: &[String],
) -> std::io::Result<()> {
    let at = |p: &Path, e: std::io::Error| std::io::Error::new(e.kind(), format!("{}: {e}", p.display()));
    let mut entries: Vec<_> = std::fs::read_dir(dir).and_then(|d| d.collect::<Result<_, _>>()).map_err(|e| at(dir, e))?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name().to_string_lossy().into_owned();
        let path = if rel.is_empty() { name.clone() } else { format!("{rel}/{name}") };
        let meta = std::fs::symlink_metadata(e.path()).map_err(|x| at(&e.path(), x))?;
        let excluded = ignore.excludes(&path) && !keep.contains(&path);
        let mut h = tar::Header::new_gnu();
        h.set_metadata_in_mode(&meta, tar::HeaderMode::Complete);
        h.set_uid(0);
        h.set_gid(0);
        let _ = h.set_username("");
        let _ = h.set_groupname("");
        let ft = meta.file_type();
        if ft.is_dir() {
            if excluded && !ignore.has_negations() {
                continue;
            }
            if !excluded {
                h.set_size(0);
                b.append_data(&mut h, format!("{path}/"), std::io::empty())?;
            }
            add_dir(b, &e.path(), &path, ignore, keep)?;
        } else if excluded {
            continue;
        } else if ft.is_symlink() {
            let target = std::fs::read_link(e.path()).map_err(|x| at(&e.path(), x))?;
            h.set_size(0);
            b.append_link(&mut h, &path, target)?;
        } else if ft.is_file() {
            let f = std::fs::File::open(e.path()).map_err(|x| at(&e.path(), x))?;
            b.append_data(&mut h, &path, f)?;
        }
        // Sockets, fifos and devices are not part of a build context.
    }
    Ok(())
}

/// One frame of a log read with timestamps: which stream, and `<RFC 3339 time> <bytes>`.
#[derive(PartialEq, Eq)]
struct LogFrame {
    stream: u8,
    raw: Bytes,
}

impl From<bollard::container::LogOutput> for LogFrame {
    fn from(o: bollard::container::LogOutput) -> Self {
        use bollard::container::LogOutput as L;
        let (stream, raw) = match o {
            L::StdIn { message } => (0, message),
            L::StdOut { message } => (1, message),
            L::StdErr { message } => (2, message),
            L::Console { message } => (3, message),
        };
        Self { stream, raw }
    }
}

impl LogFrame {
    /// The bytes the container wrote (the engine's timestamp and its space taken off).
    fn payload(&self) -> &[u8] {
        let head = &self.raw[..self.raw.len().min(48)];
        match head.iter().position(|b| *b == b' ') {
            Some(i) if i >= 20 && head[0].is_ascii_digit() => &self.raw[i + 1..],
            _ => &self.raw,
        }
    }
}

/// A `Write` that hands the tar to the request body in chunks (bounded: the tar is never held
/// whole in memory).
struct ChannelWriter {
    tx: tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
    buf: Vec<u8>,
}

const CHUNK: usize = 256 * 1024;

impl ChannelWriter {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the engine stopped reading the build context"))
    }
}

impl std::io::Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

fn write_line(out: &dyn LogSink, text: &str) {
    if text.ends_with('\n') {
        out.write(text.as_bytes());
    } else {
        let mut v = Vec::with_capacity(text.len() + 1);
        v.extend_from_slice(text.as_bytes());
        v.push(b'\n');
        out.write(&v);
    }
}

fn build_context_error(why: String) -> UserError {
    UserError::new("Image build failed", why, "Check the build context folder and the Dockerfile path")
}

// ---------------------------------------------------------------------------------------------

#[async_trait]
impl ContainerEngine for DockerEngine {
    async fn ping(&self) -> Result<(), UserError> {
        self.timed(QUICK, self.docker.ping()).await?.map(|_| ()).map_err(|e| self.unavailable(error_chain(&e)))
    }

    async fn build(&self, req: BuildRequest, out: &dyn LogSink) -> Result<String, UserError> {
        const WHAT: &str = "Image build failed";
        let root = req
            .context
            .canonicalize()
            .map_err(|e| build_context_error(format!("the build context {} cannot be read: {e}", req.context.display())))?;
        let dockerfile = req.dockerfile.trim_start_matches("./").to_string();
        let df_path: PathBuf = root.join(&dockerfile);
        let inside = df_path.canonicalize().map(|p| p.starts_with(&root)).unwrap_or(false);
        if !df_path.is_file() || !inside {
            return Err(build_context_error(format!("there is no Dockerfile '{}' inside {}", req.dockerfile, root.display())));
        }

        let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
        let df_for_tar = dockerfile.clone();
        let tar_task = tokio::task::spawn_blocking(move || {
            let w = ChannelWriter { tx: tx.clone(), buf: Vec::with_capacity(CHUNK) };
            match write_context(&root, &df_for_tar, w) {
                Ok(mut w) => std::io::Write::flush(&mut w),
                Err(e) => {
                    let msg = e.to_string();
                    let _ = tx.blocking_send(Err(std::io::Error::other(msg)));
                    Err(e)
                }
            }
        });
        let body = bollard::body_try_stream(futures::stream::poll_fn(move |cx| rx.poll_recv(cx)));

        let args: HashMap<String, String> = req.build_args.clone().into_iter().collect();
        let labels: HashMap<String, String> = req.labels.clone().into_iter().collect();
        let mut opts = BuildImageOptionsBuilder::default()
            .dockerfile(&dockerfile)
            .buildargs(&args)
            .labels(&labels)
            .rm(true)
            .forcerm(true)
            .version(BuilderVersion::BuilderV1);
        if let Some(t) = req.tags.first() {
            opts = opts.t(t);
        }
        let mut stream = self.docker.build_image(opts.build(), None, Some(body));
        let mut image_id: Option<String> = None;
        let mut failure: Option<UserError> = None;
        while let Some(item) = stream.next().await {
            match item {
                Ok(info) => {
                    if let Some(s) = &info.stream {
                        out.write(s.as_bytes());
                        if image_id.is_none() {
                            if let Some(short) = s.trim().strip_prefix("Successfully built ") {
                                image_id = Some(short.trim().to_string());
                            }
                        }
                    }
                    if let Some(status) = &info.status {
                        // Pull progress ticks (current/total) are left out; the step lines stay.
                        if info.progress_detail.as_ref().and_then(|p| p.current).is_none() {
                            write_line(out, status);
                        }
                    }
                    if let Some(id) = info.aux.and_then(|a| a.id) {
                        image_id = Some(id);
                    }
                }
                Err(BError::DockerStreamError { error }) => {
                    write_line(out, &error);
                    failure = Some(UserError::new(WHAT, error, "Fix the failing Dockerfile step shown in the build log, then build again"));
                    break;
                }
                Err(e) => {
                    failure = Some(self.fail(WHAT, "Check the Dockerfile and the build context, then build again", e));
                    break;
                }
            }
        }
        drop(stream);
        // A context that could not be read also breaks the request: name the real cause.
        match (tar_task.await, failure) {
            (Ok(Err(e)), _) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                return Err(build_context_error(format!("the build context could not be read: {e}")))
            }
            (Err(e), _) => return Err(build_context_error(format!("the build context could not be read: {e}"))),
            (_, Some(f)) => return Err(f),
            (Ok(Err(e)), None) => return Err(build_context_error(format!("the build context could not be sent: {e}"))),
            (Ok(Ok(())), None) => {}
        }
        let Some(mut id) = image_id else {
            return Err(UserError::new(WHAT, "the engine finished the build without naming the image", "Build again; if it repeats, restart the Docker engine"));
        };
        if !id.starts_with("sha256:") {
            // A short id from "Successfully built": ask for the full one.
            let img = self.timed_or(QUICK, WHAT, "Build again", self.docker.inspect_image(&id)).await?;
            id = img.id.unwrap_or(id);
        }
        for t in req.tags.iter().skip(1) {
            self.tag(&id, t).await?;
        }
        Ok(id)
    }

    async fn image_exists(&self, image: &str) -> Result<bool, UserError> {
        match self.timed(QUICK, self.docker.inspect_image(image)).await? {
            Ok(_) => Ok(true),
            Err(e) if status_of(&e) == Some(404) => Ok(false),
            Err(e) => Err(self.fail("Image lookup failed", "Try again", e)),
        }
    }

    async fn tag(&self, source: &str, target: &str) -> Result<(), UserError> {
        let (repo, tag) = split_reference(target);
        let opts = TagImageOptionsBuilder::default().repo(&repo).tag(&tag).build();
        match self.timed(QUICK, self.docker.tag_image(source, Some(opts))).await? {
            Ok(()) => Ok(()),
            Err(e) if status_of(&e) == Some(404) => Err(UserError::new(
                "Image could not be tagged",
                format!("there is no image '{source}' on the engine"),
                "Build the image first",
            )),
            Err(e) => Err(self.fail("Image could not be tagged", &format!("Check that '{target}' is a valid image reference"), e)),
        }
    }

    async fn push(&self, image: &str, auth: Option<&RegistryAuth>, out: &dyn LogSink) -> Result<String, UserError> {
        const WHAT: &str = "Image push failed";
        let (name, tag) = split_reference(image);
        let registry = auth.map(|a| a.server.clone()).unwrap_or_else(|| registry_of(image));
        let creds = auth
            .map(|a| DockerCredentials {
                username: Some(a.username.clone()),
                password: Some(a.password.expose().to_string()),
                serveraddress: Some(a.server.clone()),
                ..Default::default()
            })
            .unwrap_or_default();
        let opts = PushImageOptionsBuilder::default().tag(&tag).build();
        let mut stream = self.docker.push_image(&name, Some(opts), Some(creds));
        let mut digest = None;
        while let Some(item) = stream.next().await {
            match item {
                Ok(info) => {
                    if let Some(status) = &info.status {
                        if info.progress_detail.as_ref().and_then(|p| p.current).is_none() {
                            write_line(out, status);
                        }
                        if let Some(d) = digest_in(status) {
                            digest = Some(d);
                        }
                    }
                }
                Err(BError::DockerStreamError { error }) => {
                    write_line(out, &error);
                    return Err(UserError::new(
                        WHAT,
                        format!("{registry} refused the push of {image}: {error}"),
                        "Check the registry connection (address, username and password or token) and that this account may push to the repository",
                    ));
                }
                Err(BError::DockerResponseServerError { status_code: 404, message }) => {
                    return Err(UserError::new(WHAT, message, format!("Build or tag the image '{image}' before pushing it")));
                }
                Err(e) => return Err(self.fail(WHAT, "Check the registry connection, then push again", e)),
            }
        }
        digest.ok_or_else(|| {
            UserError::new(
                WHAT,
                format!("the push of {image} to {registry} ended without a manifest digest"),
                "Check the registry connection, then push again",
            )
        })
    }

    async fn create_network(&self, name: &str, labels: &Labels) -> Result<(), UserError> {
        const WHAT: &str = "Network could not be created";
        if let Some(n) = self.network_named(name).await? {
            return self.check_network_labels(name, n.labels.as_ref(), labels);
        }
        let req = NetworkCreateRequest {
            name: name.to_string(),
            driver: Some("bridge".into()),
            labels: Some(labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
            ..Default::default()
        };
        let created = match self.timed(CHANGE, self.docker.create_network(req)).await? {
            Ok(c) => c.id,
            Err(e) if status_of(&e) == Some(409) => {
                let n = self.network_named(name).await?;
                return self.check_network_labels(name, n.as_ref().and_then(|n| n.labels.as_ref()), labels);
            }
            Err(e) => return Err(self.fail(WHAT, "Check the network name, then try again", e)),
        };
        // API 1.41 does not refuse a second network of the same name: if two callers raced,
        // keep the oldest and remove ours.
        let filters = HashMap::from([("name".to_string(), vec![name.to_string()])]);
        let opts = ListNetworksOptionsBuilder::default().filters(&filters).build();
        let mut same: Vec<_> = self
            .timed_or(QUICK, WHAT, "Try again", self.docker.list_networks(Some(opts)))
            .await?
            .into_iter()
            .filter(|n| n.name.as_deref() == Some(name))
            .collect();
        if same.len() > 1 {
            same.sort_by(|a, b| (a.created.as_ref().map(|c| c.to_string()), &a.id).cmp(&(b.created.as_ref().map(|c| c.to_string()), &b.id)));
            if same[0].id.as_deref() != Some(created.as_str()) {
                let _ = self.timed(CHANGE, self.docker.remove_network(&created)).await;
                return self.check_network_labels(name, same[0].labels.as_ref(), labels);
            }
        }
        Ok(())
    }

    async fn run(&self, spec: &ContainerSpec) -> Result<String, UserError> {
        // Like `docker run`: an image that is not on the engine is pulled first (the database
        // and NGINX images of a deployment, on a machine that never built them).
        if !self.image_exists(&spec.image).await? {
            self.pull(&spec.image).await?;
        }
        self.create_and_start(spec).await
    }

    async fn follow_logs(&self, id: &str, out: &dyn LogSink) -> Result<(), UserError> {
        // Timestamps let the tail check below find where the followed stream stopped; they are
        // taken off again before the bytes reach `out`.
        let opts = LogsOptionsBuilder::default().follow(true).stdout(true).stderr(true).timestamps(true).build();
        let mut stream = self.docker.logs(id, Some(opts));
        let mut last: Option<LogFrame> = None;
        while let Some(frame) = stream.next().await {
            match frame {
                Ok(f) => {
                    let f = LogFrame::from(f);
                    out.write(f.payload());
                    last = Some(f);
                }
                Err(e) => return Err(self.logs_error(id, e)),
            }
        }
        drop(stream);
        self.write_missed_tail(id, last, out).await
    }

    async fn wait(&self, id: &str) -> Result<i64, UserError> {
        const WHAT: &str = "Waiting for the container failed";
        let opts = WaitContainerOptionsBuilder::default().condition("not-running").build();
        let mut stream = self.docker.wait_container(id, Some(opts));
        match stream.next().await {
            Some(Ok(r)) => Ok(r.status_code),
            Some(Err(BError::DockerContainerWaitError { code, .. })) => Ok(code),
            Some(Err(e)) if status_of(&e) == Some(404) => {
                Err(UserError::new(WHAT, format!("there is no container '{id}'"), "It may have been removed; run it again"))
            }
            Some(Err(e)) => Err(self.fail(WHAT, "Try again", e)),
            None => Err(UserError::new(WHAT, format!("the engine ended the wait for '{id}' without an exit code"), "Try again")),
        }
    }

    async fn inspect(&self, id: &str) -> Result<ContainerState, UserError> {
        match self.state_and_oom_pending(id).await? {
            Ok((mut s, Some(started))) => {
                // The engine handles the kernel's OOM event apart from the exit, and under load
                // it can land a moment after the exit is visible, or (Docker 20.10) be cleared
                // again by the exit: the engine's state is asked again for up to 5 s (the OOM
                // event reaches the engine through containerd, late under load), and its event
                // log, so that a container just killed for memory is reported as such.
                let deadline = std::time::Instant::now() + Duration::from_secs(5);
                while std::time::Instant::now() < deadline {
                    if self.oom_event_since(id, started).await {
                        s.oom_killed = true;
                        return Ok(s);
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    match self.state_of(id).await? {
                        Ok(again) if again.oom_killed => return Ok(again),
                        Ok(again) => s = again,
                        Err(_) => break,
                    }
                }
                Ok(s)
            }
            Ok((s, None)) => Ok(s),
            Err(e) if status_of(&e) == Some(404) => {
                Err(UserError::new("Container not found", format!("there is no container '{id}' on the engine at {}", self.host), "It may have been removed; run it again"))
            }
            Err(e) => Err(self.fail("Container inspection failed", "Try again", e)),
        }
    }

    async fn read_file(&self, id: &str, path: &str) -> Result<Option<Vec<u8>>, UserError> {
        const WHAT: &str = "Reading a file from the container failed";
        let mut path = path.to_string();
        for _ in 0..8 {
            let opts = DownloadFromContainerOptionsBuilder::default().path(&path).build();
            let mut stream = self.docker.download_from_container(id, Some(opts));
            let mut archive = Vec::new();
            while let Some(chunk) = stream.next().await {
                match chunk {
                    Ok(b) => archive.extend_from_slice(&b),
                    Err(e) if status_of(&e) == Some(404) && archive.is_empty() => {
                        // No such path, or no such container: tell them apart.
                        return match self.state_of(id).await? {
                            Ok(_) => Ok(None),
                            Err(_) => Err(UserError::new(WHAT, format!("there is no container '{id}'"), "It may have been removed; run it again")),
                        };
                    }
                    Err(e) => return Err(self.fail(WHAT, "Try again", e)),
                }
            }
            match file_in_tar(&archive) {
                Ok(FileInTar::File(bytes)) => return Ok(Some(bytes)),
                Ok(FileInTar::Missing) => return Ok(None),
                Ok(FileInTar::Directory) => {
                    return Err(UserError::new(WHAT, format!("{path} is a folder, not a file"), "Give the path of a file"))
                }
                Ok(FileInTar::Link(target)) => {
                    path = if target.starts_with('/') {
                        target
                    } else {
                        let parent = path.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
                        format!("{parent}/{target}")
                    };
                }
                Err(e) => return Err(UserError::new(WHAT, format!("the engine sent an unreadable archive for {path}: {e}"), "Try again")),
            }
        }
        Err(UserError::new(WHAT, format!("{path}: too many levels of symbolic links"), "Give the path of a regular file"))
    }

    async fn exec(&self, id: &str, cmd: &[String]) -> Result<(i64, Vec<u8>), UserError> {
        const WHAT: &str = "Command in the container failed to start";
        let config = CreateExecOptions::<String> {
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            tty: Some(false),
            cmd: Some(cmd.to_vec()),
            ..Default::default()
        };
        let created = match self.timed(CHANGE, self.docker.create_exec(id, config)).await? {
            Ok(c) => c,
            Err(e) if status_of(&e) == Some(404) => {
                return Err(UserError::new(WHAT, format!("there is no container '{id}'"), "It may have been removed; run it again"))
            }
            Err(e) if status_of(&e) == Some(409) => {
                return Err(self.fail(WHAT, "The container has stopped; look at its logs for why", e));
            }
            Err(e) => return Err(self.fail(WHAT, "Try again", e)),
        };
        let opts = StartExecOptions { detach: false, tty: false, output_capacity: None };
        let started = self.timed_or(CHANGE, WHAT, "Try again", self.docker.start_exec(&created.id, Some(opts))).await?;
        let mut output = Vec::new();
        if let StartExecResults::Attached { output: mut stream, input } = started {
            drop(input);
            while let Some(frame) = stream.next().await {
                match frame {
                    Ok(f) => output.extend_from_slice(&f.into_bytes()),
                    Err(e) => return Err(self.fail("Command in the container failed", "Try again", e)),
                }
            }
        }
        // The output ends as the process exits; the exit code may trail by a moment.
        for attempt in 0..50 {
            let info = self
                .timed_or(QUICK, "Command in the container failed", "Try again", self.docker.inspect_exec(&created.id))
                .await?;
            if info.running != Some(true) {
                if let Some(code) = info.exit_code {
                    return Ok((code, output));
                }
            }
            tokio::time::sleep(Duration::from_millis(if attempt < 10 { 10 } else { 100 })).await;
        }
        Err(UserError::new("Command in the container failed", "the engine reported no exit code for the command", "Try again"))
    }

    async fn list(&self, labels: &Labels) -> Result<Vec<ContainerState>, UserError> {
        const WHAT: &str = "Listing containers failed";
        let opts = ListContainersOptionsBuilder::default().all(true).filters(&label_filters(labels)).build();
        let found = self.timed_or(QUICK, WHAT, "Try again", self.docker.list_containers(Some(opts))).await?;
        let mut out = Vec::with_capacity(found.len());
        for c in found {
            let Some(id) = c.id else { continue };
            match self.state_of(&id).await? {
                Ok(s) => out.push(s),
                Err(e) if status_of(&e) == Some(404) => {} // removed meanwhile
                Err(e) => return Err(self.fail(WHAT, "Try again", e)),
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    async fn remove_labelled(&self, labels: &Labels) -> Result<Vec<String>, UserError> {
        const WHAT: &str = "Removing containers and networks failed";
        if labels.is_empty() {
            return Err(UserError::new(WHAT, "no labels were given, which would match everything on the engine", "Pass the run's or project's labels"));
        }
        let filters = label_filters(labels);
        let opts = ListContainersOptionsBuilder::default().all(true).filters(&filters).build();
        // Listing gets the limit of a change: cleaning up runs when the engine is busiest (at
        // the end of runs, with builds of other runs going), and must not give up at 5 s.
        let containers = self.timed_or(CHANGE, WHAT, "Try again", self.docker.list_containers(Some(opts))).await?;
        let mut removed = Vec::new();
        let mut failed = Vec::new();
        let results = futures::stream::iter(containers.into_iter().filter_map(|c| {
            let id = c.id?;
            let name = c.names.and_then(|n| n.into_iter().next()).map(|n| n.trim_start_matches('/').to_string()).unwrap_or_else(|| id.clone());
            Some((id, name))
        }))
        .map(|(id, name)| async move {
            let opts = RemoveContainerOptionsBuilder::default().force(true).v(true).build();
            (name, self.timed(CHANGE, self.docker.remove_container(&id, Some(opts))).await)
        })
        .buffer_unordered(8)
        .collect::<Vec<_>>()
        .await;
        for (name, r) in results {
            match r? {
                Ok(()) => removed.push(name),
                Err(e) if matches!(status_of(&e), Some(404)) => {} // already gone
                Err(e) if matches!(status_of(&e), Some(409)) && e.to_string().contains("already in progress") => {}
                Err(e) => failed.push(format!("container {name}: {}", self.fail(WHAT, "", e).why)),
            }
        }
        let opts = ListNetworksOptionsBuilder::default().filters(&filters).build();
        let networks = self.timed_or(CHANGE, WHAT, "Try again", self.docker.list_networks(Some(opts))).await?;
        for n in networks {
            let (Some(id), name) = (n.id.clone(), n.name.clone().unwrap_or_default()) else { continue };
            match self.timed(CHANGE, self.docker.remove_network(&id)).await? {
                Ok(()) => removed.push(name),
                Err(e) if status_of(&e) == Some(404) => {}
                Err(e) => failed.push(format!("network {name}: {}", self.fail(WHAT, "", e).why)),
            }
        }
        if !failed.is_empty() {
            return Err(UserError::new(
                WHAT,
                format!("removed {} but not: {}", if removed.is_empty() { "nothing".to_string() } else { removed.join(", ") }, failed.join("; ")),
                "Disconnect or stop what still uses them (for example a container without these labels on the network), then clean up again",
            ));
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dockerignore_rules() {
        let ig = DockerIgnore::parse("# comment\n\nsecret.txt\n*.log\n!keep.log\nbuild/\n/tmp/**/x\n**/*.bak\ndocs\n!docs/README.md\n[ab]?.txt\n");
        assert!(ig.excludes("secret.txt"));
        assert!(!ig.excludes("sub/secret.txt"), "plain names match at the root only");
        assert!(ig.excludes("a.log"));
        assert!(!ig.excludes("keep.log"));
        assert!(!ig.excludes("sub/a.log"), "* does not cross folders");
        assert!(ig.excludes("build"));
        assert!(ig.excludes("build/out/app"), "a matched folder leaves out all below it");
        assert!(ig.excludes("tmp/x"));
        assert!(ig.excludes("tmp/a/b/x"));
        assert!(ig.excludes("deep/down/f.bak"));
        assert!(ig.excludes("f.bak"));
        assert!(ig.excludes("docs/guide.md"));
        assert!(!ig.excludes("docs/README.md"));
        assert!(ig.excludes("a1.txt"));
        assert!(!ig.excludes("c1.txt"));
        assert!(!ig.excludes("Dockerfile"));
        assert!(ig.has_negations());
        let ig = DockerIgnore::parse("*\n!src\n");
        assert!(ig.excludes("anything"));
        assert!(!ig.excludes("src/main.rs"));
    }

    #[test]
    fn segment_globs() {
        assert!(match_segment(b"*.rs", b"main.rs"));
        assert!(!match_segment(b"*.rs", b"main.rc"));
        assert!(match_segment(b"a?c", b"abc"));
        assert!(match_segment(b"[!a]bc", b"xbc"));
        assert!(!match_segment(b"[^a]bc", b"abc"));
        assert!(match_segment(b"[a-c]z", b"bz"));
        assert!(match_segment(b"\\*x", b"*x"));
        assert!(!match_segment(b"\\*x", b"ax"));
        assert!(!match_segment(b"[ab", b"a"));
    }

    #[test]
    fn references() {
        assert_eq!(split_reference("127.0.0.1:5000/app/web:3f2c"), ("127.0.0.1:5000/app/web".into(), "3f2c".into()));
        assert_eq!(split_reference("127.0.0.1:5000/web"), ("127.0.0.1:5000/web".into(), "latest".into()));
        assert_eq!(split_reference("web:1"), ("web".into(), "1".into()));
        assert_eq!(registry_of("127.0.0.1:5000/web:1"), "127.0.0.1:5000");
        assert_eq!(registry_of("library/web:1"), "docker.io");
        assert_eq!(registry_of("ghcr.io/o/web"), "ghcr.io");
        assert_eq!(digest_in("t1: digest: sha256:abc123 size: 527").as_deref(), Some("sha256:abc123"));
        assert_eq!(digest_in("Pushed"), None);
        assert_eq!(unix_seconds("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(unix_seconds("2024-02-29T12:34:56.123456789Z"), Some(1_709_210_096));
        assert_eq!(unix_seconds("0001-01-01T00:00:00Z"), Some(-62_135_596_800));
        assert_eq!(unix_seconds("garbage"), None);
    }

    #[cfg(unix)]
    #[test]
    fn context_tar_leaves_out_ignored_files_and_keeps_links() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("Dockerfile"), "FROM scratch\n").unwrap();
        std::fs::write(d.join(".dockerignore"), "secret.txt\nDockerfile\nnode_modules\n").unwrap();
        std::fs::write(d.join("secret.txt"), "x").unwrap();
        std::fs::write(d.join("app.txt"), "app").unwrap();
        std::fs::create_dir_all(d.join("node_modules/pkg")).unwrap();
        std::fs::write(d.join("node_modules/pkg/index.js"), "x").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", d.join("outside")).unwrap();
        let tar = write_context(d, "Dockerfile", Vec::new()).unwrap();
        let mut ar = tar::Archive::new(tar.as_slice());
        let mut names = Vec::new();
        for e in ar.entries().unwrap() {
            let e = e.unwrap();
            let kind = e.header().entry_type();
            names.push(format!("{}{}", e.path().unwrap().display(), if kind.is_symlink() { "@" } else { "" }));
            assert_eq!(e.header().uid().unwrap(), 0);
        }
        assert_eq!(names, vec![".dockerignore", "Dockerfile", "app.txt", "outside@"]);
    }
}
