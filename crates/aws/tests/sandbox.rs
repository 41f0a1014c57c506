//! The sandbox emulator process: install (reusing the test environment's virtualenv), start on
//! a free port, adopt, stop by PID.

use slipway_aws::sandbox::{Emulator, SandboxConfig};
use slipway_core::sandbox::SandboxStatus;

fn config(dir: &std::path::Path, port: Option<u16>) -> SandboxConfig {
    let mut c = SandboxConfig::new(dir.to_path_buf(), port);
    c.venv = slipway_testkit::env("SLIPWAY_MOTO_VENV").into();
    c
}

/// The PIDs of emulator processes listening on `port` (by their command line).
fn emulators_on(port: u16) -> Vec<u32> {
    let want = format!("\0-p\0{port}\0");
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| String::from_utf8_lossy(&c).contains(&want)))
        .collect()
}

/// The desktop's auto start and the user's "Use the sandbox" can start it at the same moment:
/// both get the one emulator, and no second one is left on the side (or fails on its port).
#[tokio::test]
async fn two_starts_at_once_share_one_emulator() {
    let d = slipway_testkit::data_dir();
    let emu = Emulator::new(config(d.path(), None));
    let (a, b) = tokio::join!(emu.start(&|_| {}), emu.start(&|_| {}));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!((a.status, b.status), (SandboxStatus::Running, SandboxStatus::Running));
    assert_eq!(a.pid, b.pid);
    let port: u16 = a.endpoint.as_deref().unwrap().rsplit(':').next().unwrap().parse().unwrap();
    assert_eq!(emulators_on(port), vec![a.pid.unwrap()], "one emulator on port {port}");
    emu.stop().await.unwrap();
}

#[tokio::test]
async fn start_adopt_and_stop() {
    let d = slipway_testkit::data_dir();
    let emu = Emulator::new(config(d.path(), None));
    assert_eq!(emu.status().status, SandboxStatus::Stopped);
    let st = emu.start(&|_| {}).await.unwrap();
    assert_eq!(st.status, SandboxStatus::Running);
    let ep = st.endpoint.clone().unwrap();
    assert!(ep.starts_with("http://127.0.0.1:"), "{ep}");
    let pid = st.pid.unwrap();
    assert!(reqwest::get(format!("{ep}/moto-api/data.json")).await.unwrap().status().is_success());

    // Starting again is a no-op; a second manager on the same folder adopts the process.
    assert_eq!(emu.start(&|_| {}).await.unwrap().pid, Some(pid));
    let other = Emulator::new(config(d.path(), None));
    assert_eq!(other.status().pid, Some(pid));

    let st = other.stop().await.unwrap();
    assert_eq!(st.status, SandboxStatus::Stopped);
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists() || std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default().contains(") Z"));
    assert_eq!(emu.status().status, SandboxStatus::Stopped);
}

#[tokio::test]
async fn a_busy_port_is_a_clear_error() {
    let d = slipway_testkit::data_dir();
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port();
    let e = Emulator::new(config(d.path(), Some(port))).start(&|_| {}).await.unwrap_err();
    assert!(e.why.contains(&format!("port {port}")), "{e}");
    assert!(e.fix.contains("Settings"), "{e}");
}

#[tokio::test]
async fn a_broken_virtualenv_is_reported_not_hung() {
    let d = slipway_testkit::data_dir();
    let venv = d.path().join("venv");
    std::fs::create_dir_all(venv.join("bin")).unwrap();
    std::fs::write(venv.join("bin/moto_server"), "#!/bin/sh\necho 'ModuleNotFoundError: No module named moto' >&2\nexit 1\n").unwrap();
    std::process::Command::new("chmod").arg("+x").arg(venv.join("bin/moto_server")).status().unwrap();
    let mut c = SandboxConfig::new(d.path().to_path_buf(), None);
    c.venv = venv;
    let e = Emulator::new(c).start(&|_| {}).await.unwrap_err();
    assert!(e.why.contains("exited"), "{e}");
    assert!(e.why.contains("No module named moto"), "{e}");
}
