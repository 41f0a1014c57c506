//! `slipway project`, `run`, `runs`, `show-run` and `logs` as a user types them, on the test
//! environment's real dockerd: a project added from a repository, a run shown live, its logs
//! read back (also while it runs, with --follow), and bad input refused with what/why/next.

mod common;
use common::*;

use slipway_testkit::commit_all;

fn repo(test: &str) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(d.path().join("svc")).unwrap();
    std::fs::write(d.path().join("svc/Dockerfile"), "FROM slipway/busybox:latest\n").unwrap();
    std::fs::write(d.path().join("slipway.toml"), format!("[services.svc]\ntest = {test:?}\n")).unwrap();
    commit_all(d.path(), "first");
    d
}

const JUNIT: &str = "mkdir -p /reports && echo '<testsuite name=\"s\"><testcase name=\"t\"/></testsuite>' > /reports/junit.xml";

#[test]
fn add_run_list_and_read_the_logs() {
    slipway_testkit::env("DOCKER_HOST");
    let data = slipway_testkit::data_dir();
    let d = data.path();
    let r = repo(&format!("for i in 1 2 3; do echo line $i; sleep 0.3; done; {JUNIT}"));
    let o = slipway(d, &["project", "add", r.path().to_str().unwrap(), "--id", "cli-demo"], None);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("service svc"), "{}", text(&o));

    // `logs --follow` started while the run goes reads every line and ends with the step.
    let o = slipway(d, &["run", "--until", "test"], None);
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    for needle in ["checkout  running", "test      succeeded", "run cli-demo-1 succeeded", "tests svc"] {
        assert!(out.contains(needle), "{needle} missing: {out}");
    }
    assert!(out.contains("push      skipped") && out.contains("deploy    skipped"), "{out}");

    let o = slipway(d, &["runs"], None);
    assert!(text(&o).contains("cli-demo-1") && text(&o).contains("[+++--]"), "{}", text(&o));
    let o = slipway(d, &["logs", "cli-demo-1", "--stage", "test", "--step", "svc"], None);
    assert_eq!(String::from_utf8_lossy(&o.stdout), "line 1\nline 2\nline 3\n");
    let o = slipway(d, &["show-run", "cli-demo-1", "--json"], None);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["status"], "succeeded");
    assert_eq!(v["artifacts"]["tests"][0]["passed"], 1);

    // Follow a second run from another process while it runs.
    let mut run = command(d, &["rerun", "cli-demo-1"]).spawn().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !d.join("runs/cli-demo-2").exists() {
        assert!(std::time::Instant::now() < deadline, "the re-run never started");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let o = slipway(d, &["logs", "cli-demo-2", "--stage", "test", "--step", "svc", "--follow"], None);
    assert_eq!(String::from_utf8_lossy(&o.stdout), "line 1\nline 2\nline 3\n", "{}", text(&o));
    assert!(run.wait().unwrap().success());
}

#[test]
fn bad_input_is_refused_with_what_why_and_next() {
    let data = slipway_testkit::data_dir();
    let d = data.path();
    let o = slipway(d, &["project", "add", "/nonexistent/repo"], None);
    assert_eq!(o.status.code(), Some(1));
    let out = text(&o);
    assert!(out.contains("is not a folder") && out.contains("next:") || out.contains("Check the repository path"), "{out}");
    let o = slipway(d, &["run"], None);
    assert!(text(&o).contains("No project") && text(&o).contains("slipway project add"), "{}", text(&o));
    let o = slipway(d, &["logs", "nope-1"], None);
    assert!(text(&o).contains("Run not found"), "{}", text(&o));
    let r = repo(JUNIT);
    assert!(slipway(d, &["project", "add", r.path().to_str().unwrap(), "--id", "x"], None).status.success());
    let o = slipway(d, &["run", "--until", "launch"], None);
    assert!(text(&o).contains("'launch' is not a stage"), "{}", text(&o));
    let o = slipway(d, &["project", "add", r.path().to_str().unwrap(), "--id", "Bad Id"], None);
    assert!(text(&o).contains("is not a short name"), "{}", text(&o));
    let o = slipway(d, &["runs", "--json"], None);
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "[]", "nothing ran");
}

#[test]
fn a_project_in_a_folder_of_a_repository_runs_from_that_folder() {
    slipway_testkit::env("DOCKER_HOST");
    let data = slipway_testkit::data_dir();
    let d = data.path();
    let r = tempfile::tempdir().unwrap();
    let app = r.path().join("examples/demo");
    std::fs::create_dir_all(app.join("svc")).unwrap();
    std::fs::write(app.join("svc/Dockerfile"), "FROM slipway/busybox:latest\nCOPY marker /marker\n").unwrap();
    std::fs::write(app.join("svc/marker"), "from the folder\n").unwrap();
    std::fs::write(app.join("slipway.toml"), format!("[services.svc]\ntest = {:?}\n", format!("cat /marker; {JUNIT}"))).unwrap();
    std::fs::write(r.path().join("README"), "the repository root\n").unwrap();
    commit_all(r.path(), "nested");
    let o = slipway(d, &["project", "add", app.to_str().unwrap()], None);
    assert!(text(&o).contains("project demo") && text(&o).contains("folder examples/demo"), "{}", text(&o));
    let o = slipway(d, &["run", "--until", "test"], None);
    assert!(o.status.success(), "{}", text(&o));
    let o = slipway(d, &["logs", "demo-1", "--stage", "test", "--step", "svc"], None);
    assert_eq!(String::from_utf8_lossy(&o.stdout), "from the folder\n");
}

#[test]
fn a_run_killed_with_its_terminal_is_marked_interrupted_and_its_containers_go() {
    slipway_testkit::env("DOCKER_HOST");
    let data = slipway_testkit::data_dir();
    let d = data.path();
    let r = repo("sleep 120");
    assert!(slipway(d, &["project", "add", r.path().to_str().unwrap(), "--id", "killed"], None).status.success());
    let mut run = command(d, &["run"]).spawn().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let running = || {
        let o = std::process::Command::new("docker").args(["ps", "-q", "--filter", "label=slipway.run=killed-1", "--filter", "label=slipway.stage=test"]).output().unwrap();
        !String::from_utf8_lossy(&o.stdout).trim().is_empty()
    };
    while !running() {
        assert!(std::time::Instant::now() < deadline, "the test container never started");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    run.kill().unwrap(); // SIGKILL: no cleanup runs in that process
    run.wait().unwrap();
    assert!(running(), "the container outlives the killed process");
    let o = slipway(d, &["runs"], None);
    assert!(text(&o).contains("killed-1") && text(&o).contains("failed") && text(&o).contains("Run interrupted"), "{}", text(&o));
    assert!(!running(), "the interrupted run's containers were removed");
}

#[test]
fn ctrl_c_cancels_a_run_and_its_containers_go() {
    slipway_testkit::env("DOCKER_HOST");
    let data = slipway_testkit::data_dir();
    let d = data.path();
    let r = repo("sleep 120");
    assert!(slipway(d, &["project", "add", r.path().to_str().unwrap(), "--id", "ctrlc"], None).status.success());
    let run = command(d, &["run"]).spawn().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let running = || {
        let o = std::process::Command::new("docker").args(["ps", "-aq", "--filter", "label=slipway.run=ctrlc-1"]).output().unwrap();
        !String::from_utf8_lossy(&o.stdout).trim().is_empty()
    };
    while !running() {
        assert!(std::time::Instant::now() < deadline, "the test container never started");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    // SAFETY: signalling the child we started.
    unsafe { libc::kill(run.id() as i32, libc::SIGINT) };
    let started = std::time::Instant::now();
    let o = run.wait_with_output().unwrap();
    let out = text(&o);
    assert!(started.elapsed() < std::time::Duration::from_secs(60), "Ctrl-C took {:?}", started.elapsed());
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("cancelled"), "{out}");
    assert!(!running(), "the cancelled run's containers were removed before the CLI exited");
    let o = slipway(d, &["show-run", "ctrlc-1", "--json"], None);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["status"], "cancelled", "{v}");
    println!("slipway run stopped by SIGINT after {:?}: run cancelled, its containers removed", started.elapsed());
}
