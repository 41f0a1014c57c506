//! The sandbox emulator: Slipway installs (into a virtualenv it manages), starts, watches and
//! stops its own moto server on a free loopback port, so the whole app works with no account.
//! The process outlives a CLI invocation and the desktop app (so `slipway sandbox up` then
//! `slipway doctor` works, and a restarted app finds what it created); its PID, port and instance
//! id are kept in `<dir>/moto.json`, and a later Slipway adopts it. A new emulator listens on the
//! port the last one used when it is free (`<dir>/last-port`), so addresses stay put.

use serde::{Deserialize, Serialize};
use slipway_core::sandbox::{SandboxState, SandboxStatus};
use slipway_core::UserError;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

/// The moto release the sandbox runs (measured working here).
pub const MOTO_SPEC: &str = "moto[server]==5.2.5";

#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Folder for the pid file, the log and (by default) the virtualenv.
    pub dir: PathBuf,
    /// The virtualenv with moto installed; `<dir>/venv` unless SLIPWAY_SANDBOX_VENV is set.
    pub venv: PathBuf,
    /// Port to listen on; None picks a free loopback port.
    pub port: Option<u16>,
    /// How long to wait for the server to answer after start.
    pub ready_timeout: Duration,
}

impl SandboxConfig {
    pub fn new(dir: PathBuf, port: Option<u16>) -> Self {
        let venv = std::env::var_os("SLIPWAY_SANDBOX_VENV").map(PathBuf::from).unwrap_or_else(|| dir.join("venv"));
        Self { dir, venv, port, ready_timeout: Duration::from_secs(30) }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct PidFile {
    pid: u32,
    port: u16,
    /// Made at start (older files have none).
    #[serde(default)]
    instance: Option<String>,
}

pub struct Emulator {
    cfg: SandboxConfig,
    child: Mutex<Option<tokio::process::Child>>,
    /// One start at a time: a second start (the app's auto start and the user's "Use the
    /// sandbox" at the same moment) waits, then finds the first one's emulator answering,
    /// instead of starting another on the same port.
    starting: tokio::sync::Mutex<()>,
}

/// Process checks and signals: Unix signals (with /proc where Linux has it), and `tasklist` /
/// `taskkill` on Windows.
#[cfg(unix)]
mod process {
    pub fn exists(pid: u32) -> bool {
        // SAFETY: kill with signal 0 only checks that the process exists.
        i32::try_from(pid).is_ok_and(|p| unsafe { libc::kill(p, 0) } == 0)
    }
    pub fn terminate(pid: u32) {
        // SAFETY: signalling a PID the caller verified is our moto server.
        if let Ok(p) = i32::try_from(pid) {
            unsafe { libc::kill(p, libc::SIGTERM) };
        }
    }
    pub fn kill(pid: u32) {
        // SAFETY: as above.
        if let Ok(p) = i32::try_from(pid) {
            unsafe { libc::kill(p, libc::SIGKILL) };
        }
    }
}

#[cfg(windows)]
mod process {
    fn tasklist(pid: u32) -> String {
        std::process::Command::new("tasklist")
            .args(["/FI", &format!("PID eq {pid}"), "/NH", "/FO", "CSV", "/V"])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default()
    }
    pub fn exists(pid: u32) -> bool {
        tasklist(pid).contains(&format!("\"{pid}\""))
    }
    pub fn terminate(pid: u32) {
        let _ = std::process::Command::new("taskkill").args(["/PID", &pid.to_string()]).output();
    }
    pub fn kill(pid: u32) {
        let _ = std::process::Command::new("taskkill").args(["/F", "/PID", &pid.to_string()]).output();
    }
}

fn alive(pid: u32) -> bool {
    if !process::exists(pid) {
        return false;
    }
    // A zombie or a recycled PID is not our emulator.
    match std::fs::read(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let s = String::from_utf8_lossy(&stat);
            let state = s.rsplit(')').next().and_then(|r| r.split_whitespace().next()).unwrap_or("");
            if state == "Z" {
                return false;
            }
        }
        Err(_) => return cfg!(not(target_os = "linux")),
    }
    std::fs::read(format!("/proc/{pid}/cmdline")).map(|c| String::from_utf8_lossy(&c).contains("moto")).unwrap_or(false)
}

/// The process is gone or only a zombie: it has really finished exiting (while it is exiting its
/// cmdline already reads empty, so `alive` says false before the process is done).
fn finished(pid: u32) -> bool {
    if !process::exists(pid) {
        return true;
    }
    match std::fs::read(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let s = String::from_utf8_lossy(&stat);
            matches!(s.rsplit(')').next().and_then(|r| r.split_whitespace().next()), Some("Z" | "X"))
        }
        Err(_) => true,
    }
}

fn free_port() -> Result<u16, UserError> {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).map_err(|e| {
        UserError::new("Sandbox could not start", format!("no free loopback port: {e}"), "Close some programs, or set a sandbox port in Settings")
    })
}

/// Whether the emulator answers: its dashboard page, which costs nothing. (`/moto-api/data.json`
/// dumps every resource it holds: with a few hundred it took minutes, and a busy sandbox was taken
/// for a dead one and replaced by an empty one.)
async fn answers(port: u16) -> bool {
    let Ok(client) = reqwest::Client::builder().timeout(Duration::from_secs(3)).no_proxy().build() else { return false };
    client.get(format!("http://127.0.0.1:{port}/moto-api/")).send().await.is_ok_and(|r| r.status().is_success())
}

fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let v: Vec<&str> = text.lines().collect();
    v[v.len().saturating_sub(lines)..].join("\n")
}

impl Emulator {
    pub fn new(cfg: SandboxConfig) -> Self {
        Self { cfg, child: Mutex::new(None), starting: tokio::sync::Mutex::new(()) }
    }

    pub fn config(&self) -> &SandboxConfig {
        &self.cfg
    }

    fn pid_path(&self) -> PathBuf {
        self.cfg.dir.join("moto.json")
    }

    fn log_path(&self) -> PathBuf {
        self.cfg.dir.join("moto.log")
    }

    fn last_port_path(&self) -> PathBuf {
        self.cfg.dir.join("last-port")
    }

    /// The port the previous emulator of this data folder listened on.
    fn last_port(&self) -> Option<u16> {
        std::fs::read_to_string(self.last_port_path()).ok()?.trim().parse().ok()
    }

    fn read_pid(&self) -> Option<PidFile> {
        std::fs::read(self.pid_path()).ok().and_then(|b| serde_json::from_slice(&b).ok())
    }

    fn running(&self) -> Option<PidFile> {
        if let Some(child) = self.child.lock().expect("sandbox lock").as_mut() {
            if let Ok(Some(_)) = child.try_wait() {
                return None; // our child exited
            }
        }
        self.read_pid().filter(|p| alive(p.pid))
    }

    /// The current state, from the pid file and the process table (no network call).
    pub fn status(&self) -> SandboxState {
        match self.running() {
            Some(p) => SandboxState {
                status: SandboxStatus::Running,
                endpoint: Some(format!("http://127.0.0.1:{}", p.port)),
                pid: Some(p.pid),
                error: None,
                instance: p.instance,
            },
            None => SandboxState::stopped(),
        }
    }

    /// The moto_server binary, installing moto into the virtualenv first if it is missing.
    pub async fn ensure_installed(&self, progress: &(dyn Fn(String) + Send + Sync)) -> Result<PathBuf, UserError> {
        let bin = self.cfg.venv.join("bin/moto_server");
        if bin.exists() {
            return Ok(bin);
        }
        std::fs::create_dir_all(&self.cfg.dir).map_err(|e| {
            UserError::new("Sandbox could not be installed", format!("cannot create {}: {e}", self.cfg.dir.display()), "Check the data folder's permissions")
        })?;
        progress(format!("Creating a Python virtualenv at {}", self.cfg.venv.display()));
        let out = tokio::process::Command::new("python3").arg("-m").arg("venv").arg(&self.cfg.venv).output().await.map_err(|e| {
            UserError::new(
                "Sandbox could not be installed",
                format!("python3 could not be run: {e}"),
                "Install Python 3 with venv support (Debian/Ubuntu: `apt install python3 python3-venv`)",
            )
        })?;
        if !out.status.success() {
            return Err(UserError::new(
                "Sandbox could not be installed",
                format!("python3 -m venv failed: {}", String::from_utf8_lossy(&out.stderr).trim()),
                "Install Python's venv module (Debian/Ubuntu: `apt install python3-venv`) and try again",
            ));
        }
        progress(format!("Installing {MOTO_SPEC} (about 20 s)"));
        let out = tokio::process::Command::new(self.cfg.venv.join("bin/pip"))
            .args(["install", "--disable-pip-version-check", "-q", MOTO_SPEC])
            .output()
            .await
            .map_err(|e| UserError::new("Sandbox could not be installed", format!("pip could not be run: {e}"), "Delete the sandbox folder and try again"))?;
        if !out.status.success() || !bin.exists() {
            return Err(UserError::new(
                "Sandbox could not be installed",
                format!("pip install {MOTO_SPEC} failed: {}", String::from_utf8_lossy(&out.stderr).trim()),
                "Check that this machine can reach PyPI (or its mirror), then try again",
            ));
        }
        progress("Sandbox emulator installed".into());
        Ok(bin)
    }

    /// Starts the emulator (installing it first if needed) and waits until it answers.
    /// Already running: returns its state, starts nothing.
    pub async fn start(&self, progress: &(dyn Fn(String) + Send + Sync)) -> Result<SandboxState, UserError> {
        let _one_at_a_time = self.starting.lock().await;
        if let Some(p) = self.running() {
            if answers(p.port).await {
                return Ok(self.status());
            }
        }
        let bin = self.ensure_installed(progress).await?;
        let port = match self.cfg.port {
            Some(p) => p,
            None => match self.last_port().filter(|p| std::net::TcpListener::bind(("127.0.0.1", *p)).is_ok()) {
                Some(p) => p,
                None => free_port()?,
            },
        };
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_err() {
            return Err(UserError::new(
                "Sandbox could not start",
                format!("port {port} on 127.0.0.1 is in use by another program"),
                "Pick another sandbox port in Settings, or leave it empty to use a free one",
            ));
        }
        let _ = std::fs::create_dir_all(&self.cfg.dir);
        let log = std::fs::File::create(self.log_path()).map_err(|e| {
            UserError::new("Sandbox could not start", format!("cannot write {}: {e}", self.log_path().display()), "Check the data folder's permissions")
        })?;
        progress(format!("Starting the AWS emulator on 127.0.0.1:{port}"));
        let mut cmd = tokio::process::Command::new(&bin);
        cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
            .stdin(std::process::Stdio::null())
            .stdout(log.try_clone().map_err(|e| UserError::new("Sandbox could not start", e.to_string(), "Try again"))?)
            .stderr(log)
            .kill_on_drop(false);
        // Its own process group: a Ctrl-C in the terminal that started Slipway does not reach it.
        #[cfg(unix)]
        cmd.process_group(0);
        #[cfg(windows)]
        cmd.creation_flags(0x0000_0200); // CREATE_NEW_PROCESS_GROUP
        let mut child = cmd.spawn().map_err(|e| {
            UserError::new("Sandbox could not start", format!("{} could not be run: {e}", bin.display()), "Delete the sandbox's venv folder so it is reinstalled, then try again")
        })?;
        let pid = child.id().unwrap_or_default();
        let pf = PidFile { pid, port, instance: Some(slipway_core::secrets::random_hex(8)) };
        let _ = std::fs::write(self.last_port_path(), port.to_string());
        std::fs::write(self.pid_path(), serde_json::to_vec(&pf).expect("pid file json"))
            .map_err(|e| UserError::new("Sandbox could not start", e.to_string(), "Check the data folder's permissions"))?;
        let deadline = tokio::time::Instant::now() + self.cfg.ready_timeout;
        loop {
            if let Ok(Some(st)) = child.try_wait() {
                let _ = std::fs::remove_file(self.pid_path());
                return Err(UserError::new(
                    "Sandbox could not start",
                    format!("the emulator exited ({st}): {}", tail(&self.log_path(), 5)),
                    format!("Read {} for details; delete the sandbox's venv folder to reinstall it", self.log_path().display()),
                ));
            }
            if answers(port).await {
                break;
            }
            if tokio::time::Instant::now() > deadline {
                let _ = child.start_kill();
                let _ = std::fs::remove_file(self.pid_path());
                return Err(UserError::new(
                    "Sandbox could not start",
                    format!("the emulator did not answer on port {port} within {} s", self.cfg.ready_timeout.as_secs()),
                    format!("Read {} for details, then try again", self.log_path().display()),
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        *self.child.lock().expect("sandbox lock") = Some(child);
        progress(format!("AWS emulator running at http://127.0.0.1:{port}"));
        Ok(self.status())
    }

    /// Stops the emulator by its PID (SIGTERM, then SIGKILL after 5 s). Not running: no-op.
    pub async fn stop(&self) -> Result<SandboxState, UserError> {
        if let Some(p) = self.running() {
            process::terminate(p.pid);
            let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
            loop {
                let exited = {
                    let mut guard = self.child.lock().expect("sandbox lock");
                    match guard.as_mut() {
                        Some(c) => matches!(c.try_wait(), Ok(Some(_))),
                        None => finished(p.pid),
                    }
                };
                if exited {
                    break;
                }
                if tokio::time::Instant::now() > deadline {
                    process::kill(p.pid);
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        *self.child.lock().expect("sandbox lock") = None;
        let _ = std::fs::remove_file(self.pid_path());
        Ok(self.status())
    }

    /// Resolves when the emulator stops running (checked twice a second).
    pub async fn wait_stopped(&self) {
        while self.running().is_some() {
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}
