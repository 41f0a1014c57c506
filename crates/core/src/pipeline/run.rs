//! A pipeline run as stored and shown: its stages with status and timings, its artifacts (test
//! reports, coverage, image digests, the deployed URL), and the parsers for JUnit XML and
//! Cobertura coverage.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::UserError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum StageName {
    Checkout,
    Build,
    Test,
    Push,
    Deploy,
}

impl StageName {
    pub const ALL: [StageName; 5] = [StageName::Checkout, StageName::Build, StageName::Test, StageName::Push, StageName::Deploy];

    pub fn as_str(self) -> &'static str {
        match self {
            StageName::Checkout => "checkout",
            StageName::Build => "build",
            StageName::Test => "test",
            StageName::Push => "push",
            StageName::Deploy => "deploy",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|n| n.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum Status {
    Queued,
    Running,
    Succeeded,
    Failed,
    Skipped,
    Cancelled,
}

impl Status {
    pub fn is_final(self) -> bool {
        matches!(self, Status::Succeeded | Status::Failed | Status::Skipped | Status::Cancelled)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Running => "running",
            Status::Succeeded => "succeeded",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
            Status::Cancelled => "cancelled",
        }
    }
}

/// One log inside a stage: a service's build, a test container, the database... Its bytes are
/// in `<data dir>/runs/<run id>/<stage>/<name>.log`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct StepRun {
    pub name: String,
    pub status: Status,
    #[ts(type = "number | null")]
    pub started_at: Option<i64>,
    #[ts(type = "number | null")]
    pub finished_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct StageRun {
    pub name: StageName,
    pub status: Status,
    #[ts(type = "number | null")]
    pub started_at: Option<i64>,
    #[ts(type = "number | null")]
    pub finished_at: Option<i64>,
    pub steps: Vec<StepRun>,
    pub error: Option<UserError>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "camelCase")]
#[ts(export)]
pub enum Trigger {
    /// Started by a person (button or `slipway run`).
    Manual,
    /// Started again from an earlier run, at the same commit.
    #[serde(rename_all = "camelCase")]
    Rerun { of: String },
    /// Started by a new commit on the watched branch.
    #[serde(rename_all = "camelCase")]
    Commit { sha: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct TestCase {
    pub suite: String,
    pub name: String,
    pub class_name: String,
    /// "passed", "failed", "error" or "skipped".
    pub outcome: String,
    pub seconds: f64,
    /// The failure's message and text, when it failed.
    pub message: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct TestReport {
    pub service: String,
    pub total: u32,
    pub passed: u32,
    pub failed: u32,
    pub errors: u32,
    pub skipped: u32,
    pub seconds: f64,
    pub cases: Vec<TestCase>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Coverage {
    pub service: String,
    /// Lines covered over lines measured, 0 to 1.
    pub line_rate: f64,
    pub lines_covered: u32,
    pub lines_valid: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ImageArtifact {
    pub service: String,
    /// The local tag built (`<project>-<service>:<short sha>`).
    pub image: String,
    /// The pushed reference and the registry's digest, after Push.
    pub pushed: Option<String>,
    pub digest: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Artifacts {
    pub tests: Vec<TestReport>,
    pub coverage: Vec<Coverage>,
    pub images: Vec<ImageArtifact>,
    /// The deployed app's URL, after Deploy.
    pub url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Run {
    /// `<project>-<number>`, e.g. `sample-12`.
    pub id: String,
    pub project: String,
    pub number: u32,
    pub status: Status,
    pub trigger: Trigger,
    /// The branch, tag or commit asked for.
    pub git_ref: String,
    /// The commit it resolved to, after Checkout.
    pub commit: Option<String>,
    pub commit_message: Option<String>,
    /// The commit's time (its committer date, ms), for the lead time of changes.
    #[serde(default)]
    #[ts(type = "number | null")]
    pub commit_time: Option<i64>,
    #[ts(type = "number")]
    pub created_at: i64,
    #[ts(type = "number | null")]
    pub started_at: Option<i64>,
    #[ts(type = "number | null")]
    pub finished_at: Option<i64>,
    pub stages: Vec<StageRun>,
    pub artifacts: Artifacts,
    pub error: Option<UserError>,
    /// Stop after this stage (e.g. `test` for a run that never pushes); None runs all five.
    pub until: Option<StageName>,
    /// The process running it, so a later start can tell a run orphaned by a crash from one
    /// another Slipway process is running.
    pub owner_pid: Option<u32>,
}

impl Run {
    pub fn new(project: &str, number: u32, trigger: Trigger, git_ref: &str, until: Option<StageName>) -> Self {
        Run {
            id: format!("{project}-{number}"),
            project: project.into(),
            number,
            status: Status::Queued,
            trigger,
            git_ref: git_ref.into(),
            commit: None,
            commit_message: None,
            commit_time: None,
            created_at: crate::now_ms(),
            started_at: None,
            finished_at: None,
            stages: StageName::ALL
                .into_iter()
                .map(|name| StageRun { name, status: Status::Queued, started_at: None, finished_at: None, steps: vec![], error: None })
                .collect(),
            artifacts: Artifacts::default(),
            error: None,
            until,
            owner_pid: Some(std::process::id()),
        }
    }

    pub fn stage(&self, name: StageName) -> &StageRun {
        self.stages.iter().find(|s| s.name == name).expect("every run has all five stages")
    }

    pub fn stage_mut(&mut self, name: StageName) -> &mut StageRun {
        self.stages.iter_mut().find(|s| s.name == name).expect("every run has all five stages")
    }
}

// --- JUnit XML and Cobertura -----------------------------------------------------------------

fn report_error(service: &str, file: &str, why: String) -> UserError {
    UserError::new(
        format!("The test report of {service} could not be read"),
        format!("{file}: {why}"),
        "Make the test command write JUnit XML to /reports/junit.xml (pytest: --junitxml=/reports/junit.xml)",
    )
}

fn attr(e: &quick_xml::events::BytesStart, name: &str) -> Option<String> {
    e.attributes().flatten().find(|a| a.key.0 == name).and_then(|a| a.normalized_value(quick_xml::XmlVersion::Implicit1_0).ok().map(|v| v.into_owned()))
}

/// Parses JUnit XML (pytest, JUnit, Go's go-junit-report...): `<testsuites>` or a single
/// `<testsuite>`, with `<testcase>` elements holding `<failure>`, `<error>` or `<skipped>`.
pub fn parse_junit(service: &str, xml: &[u8]) -> Result<TestReport, UserError> {
    use quick_xml::events::Event as X;
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut buf = vec![];
    let mut report = TestReport { service: service.into(), total: 0, passed: 0, failed: 0, errors: 0, skipped: 0, seconds: 0.0, cases: vec![] };
    let mut suite = String::new();
    let mut current: Option<TestCase> = None;
    let mut in_message = false;
    let mut raw_text = String::new();
    let mut saw_root = false;
    loop {
        let ev = reader.read_event_into(&mut buf).map_err(|e| report_error(service, "junit.xml", format!("not valid XML at byte {}: {e}", reader.buffer_position())))?;
        match ev {
            X::Start(ref e) | X::Empty(ref e) => {
                let empty = matches!(ev, X::Empty(_));
                match e.name().0 {
                    "testsuites" => saw_root = true,
                    "testsuite" => {
                        saw_root = true;
                        suite = attr(e, "name").unwrap_or_default();
                    }
                    "testcase" => {
                        let case = TestCase {
                            suite: suite.clone(),
                            name: attr(e, "name").unwrap_or_default(),
                            class_name: attr(e, "classname").unwrap_or_default(),
                            outcome: "passed".into(),
                            seconds: attr(e, "time").and_then(|t| t.parse().ok()).unwrap_or(0.0),
                            message: None,
                        };
                        if empty {
                            report.cases.push(case);
                        } else {
                            current = Some(case);
                        }
                    }
                    tag @ ("failure" | "error" | "skipped") => {
                        if let Some(c) = current.as_mut() {
                            c.outcome = match tag {
                                "failure" => "failed",
                                "error" => "error",
                                _ => "skipped",
                            }
                            .into();
                            c.message = attr(e, "message");
                            in_message = !empty && tag != "skipped";
                        }
                    }
                    _ => {}
                }
            }
            X::Text(t) if in_message => raw_text.push_str(&t.into_inner()),
            X::CData(t) if in_message => raw_text.push_str(&t.into_inner()),
            X::GeneralRef(r) if in_message => {
                raw_text.push('&');
                raw_text.push_str(r.as_ref());
                raw_text.push(';');
            }
            X::End(e) => match e.name().0 {
                "testcase" => {
                    if let Some(c) = current.take() {
                        report.cases.push(c);
                    }
                }
                "failure" | "error" => {
                    in_message = false;
                    let text = quick_xml::escape::unescape(&raw_text).map(|t| t.into_owned()).unwrap_or_else(|_| raw_text.clone());
                    let text = text.trim();
                    if let (Some(c), false) = (current.as_mut(), text.is_empty()) {
                        let m = c.message.get_or_insert_with(String::new);
                        if !m.is_empty() {
                            m.push('\n');
                        }
                        m.push_str(text);
                    }
                    raw_text.clear();
                }
                _ => {}
            },
            X::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !saw_root {
        return Err(report_error(service, "junit.xml", "no <testsuite> or <testsuites> element".into()));
    }
    for c in &report.cases {
        report.total += 1;
        report.seconds += c.seconds;
        match c.outcome.as_str() {
            "passed" => report.passed += 1,
            "failed" => report.failed += 1,
            "error" => report.errors += 1,
            _ => report.skipped += 1,
        }
    }
    Ok(report)
}

/// Parses a Cobertura coverage report (pytest-cov's `--cov-report=xml`, coverage.py, JaCoCo's
/// converter...): the root `<coverage>` element's line-rate, lines-covered and lines-valid.
pub fn parse_cobertura(service: &str, xml: &[u8]) -> Result<Coverage, UserError> {
    use quick_xml::events::Event as X;
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut buf = vec![];
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(X::Start(e)) | Ok(X::Empty(e)) if e.name().0 == "coverage" => {
                let num = |n: &str| attr(&e, n).and_then(|v| v.parse::<f64>().ok());
                let covered = num("lines-covered").unwrap_or(0.0) as u32;
                let valid = num("lines-valid").unwrap_or(0.0) as u32;
                let rate = num("line-rate").unwrap_or(if valid > 0 { covered as f64 / valid as f64 } else { 0.0 });
                return Ok(Coverage { service: service.into(), line_rate: rate, lines_covered: covered, lines_valid: valid });
            }
            Ok(X::Eof) => break,
            Err(e) => {
                return Err(UserError::new(
                    format!("The coverage report of {service} could not be read"),
                    format!("coverage.xml is not valid XML: {e}"),
                    "Write Cobertura XML to /reports/coverage.xml (pytest: --cov-report=xml:/reports/coverage.xml), or remove the option",
                ))
            }
            _ => {}
        }
        buf.clear();
    }
    Err(UserError::new(
        format!("The coverage report of {service} could not be read"),
        "coverage.xml has no <coverage> element".to_string(),
        "Write Cobertura XML to /reports/coverage.xml",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PYTEST: &str = r#"<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" errors="0" failures="1" skipped="1" tests="4" time="0.31"><testcase classname="tests.test_api" name="test_items" time="0.10" /><testcase classname="tests.test_api" name="test_health" time="0.01"></testcase><testcase classname="tests.test_api" name="test_bad" time="0.20"><failure message="assert 1 == 2">def test_bad():
&gt;       assert 1 == 2
E       assert 1 == 2</failure></testcase><testcase classname="tests.test_api" name="test_later" time="0.00"><skipped type="pytest.skip" message="not yet">skip</skipped></testcase></testsuite></testsuites>"#;

    #[test]
    fn pytest_junit_is_counted_and_failures_keep_their_text() {
        let r = parse_junit("backend", PYTEST.as_bytes()).unwrap();
        assert_eq!((r.total, r.passed, r.failed, r.errors, r.skipped), (4, 2, 1, 0, 1));
        let bad = r.cases.iter().find(|c| c.name == "test_bad").unwrap();
        assert_eq!(bad.outcome, "failed");
        let m = bad.message.clone().unwrap();
        assert!(m.starts_with("assert 1 == 2\ndef test_bad():") && m.contains(">       assert 1 == 2"), "{m}");
        assert_eq!(r.cases[0].suite, "pytest");
        assert!((r.seconds - 0.31).abs() < 1e-9);
    }

    #[test]
    fn broken_reports_are_errors() {
        let e = parse_junit("backend", b"<testsuite><testcase></testsuite>").unwrap_err();
        assert!(e.why.contains("not valid XML"), "{e}");
        let e = parse_junit("backend", b"<html/>").unwrap_err();
        assert!(e.why.contains("no <testsuite>"), "{e}");
        assert!(e.fix.contains("--junitxml"), "{e}");
    }

    #[test]
    fn cobertura_rate() {
        let c = parse_cobertura("backend", br#"<?xml version="1.0" ?><coverage version="7.4" timestamp="1" lines-valid="40" lines-covered="30" line-rate="0.75" branches-covered="0"><packages/></coverage>"#).unwrap();
        assert_eq!((c.lines_valid, c.lines_covered), (40, 30));
        assert!((c.line_rate - 0.75).abs() < 1e-9);
        assert!(parse_cobertura("x", b"<nope/>").is_err());
    }

    #[test]
    fn runs_have_five_stages_in_order() {
        let r = Run::new("sample", 3, Trigger::Manual, "main", None);
        assert_eq!(r.id, "sample-3");
        assert_eq!(r.stages.iter().map(|s| s.name).collect::<Vec<_>>(), StageName::ALL);
        assert!(StageName::ALL.iter().all(|n| StageName::parse(n.as_str()) == Some(*n)));
    }
}
