//! What the Test stage reads after a suite: `go test -json` turned into a JUnit-shaped
//! [`TestReport`], Go cover profiles as [`Coverage`], the coverage gate, and a database's
//! failing schema script named by its file and line in the repository.

use std::collections::BTreeMap;

use super::run::{Coverage, TestCase, TestReport};
use crate::UserError;

/// Turns the event stream of `go test -json` into a report: one case per test (subtests
/// included), with the test's output as the failure text.
pub fn go_test_report(service: &str, json: &[u8]) -> Result<TestReport, UserError> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Ev {
        action: String,
        #[serde(default)]
        package: String,
        #[serde(default)]
        test: Option<String>,
        #[serde(default)]
        output: Option<String>,
        #[serde(default)]
        elapsed: Option<f64>,
    }
    let text = String::from_utf8_lossy(json);
    let mut cases: Vec<TestCase> = vec![];
    let mut output: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut saw = false;
    // A package that fails to build reports no test: it counts as an error case.
    let mut pkg_fail: Vec<(String, String)> = vec![];
    let mut pkg_out: BTreeMap<String, String> = BTreeMap::new();
    for line in text.lines() {
        let Ok(ev) = serde_json::from_str::<Ev>(line) else { continue };
        saw = true;
        match (&ev.test, ev.action.as_str()) {
            (Some(t), "output") => output.entry((ev.package.clone(), t.clone())).or_default().push_str(ev.output.as_deref().unwrap_or("")),
            (None, "output") => pkg_out.entry(ev.package.clone()).or_default().push_str(ev.output.as_deref().unwrap_or("")),
            (Some(t), a @ ("pass" | "fail" | "skip")) => {
                let out = output.remove(&(ev.package.clone(), t.clone())).unwrap_or_default();
                cases.push(TestCase {
                    suite: ev.package.clone(),
                    name: t.clone(),
                    class_name: ev.package.clone(),
                    outcome: match a {
                        "pass" => "passed",
                        "fail" => "failed",
                        _ => "skipped",
                    }
                    .into(),
                    seconds: ev.elapsed.unwrap_or(0.0),
                    message: (a == "fail").then(|| out.trim().to_string()).filter(|m| !m.is_empty()),
                });
            }
            (None, "fail") => pkg_fail.push((ev.package.clone(), pkg_out.get(&ev.package).cloned().unwrap_or_default())),
            _ => {}
        }
    }
    if !saw {
        return Err(UserError::new(
            format!("The test report of {service} could not be read"),
            "go-test.json holds no `go test -json` event",
            "Check that `go test -json ./...` runs in the image (the Test stage's log shows why it did not)",
        ));
    }
    for (pkg, out) in pkg_fail {
        if !cases.iter().any(|c| c.suite == pkg) {
            cases.push(TestCase { suite: pkg.clone(), name: "(package)".into(), class_name: pkg, outcome: "error".into(), seconds: 0.0, message: Some(out.trim().to_string()) });
        }
    }
    let mut r = TestReport { service: service.into(), total: 0, passed: 0, failed: 0, errors: 0, skipped: 0, seconds: 0.0, cases };
    for c in &r.cases {
        r.total += 1;
        r.seconds += c.seconds;
        match c.outcome.as_str() {
            "passed" => r.passed += 1,
            "failed" => r.failed += 1,
            "error" => r.errors += 1,
            _ => r.skipped += 1,
        }
    }
    Ok(r)
}

/// A Go cover profile (`-coverprofile`) as statement coverage.
pub fn go_coverage(service: &str, profile: &[u8]) -> Option<Coverage> {
    let text = String::from_utf8_lossy(profile);
    let (mut total, mut covered) = (0u32, 0u32);
    let mut seen: BTreeMap<String, (u32, bool)> = BTreeMap::new();
    for l in text.lines().filter(|l| !l.starts_with("mode:")) {
        let mut parts = l.rsplitn(3, ' ');
        let (Some(count), Some(stmts), Some(block)) = (parts.next(), parts.next(), parts.next()) else { continue };
        let (Ok(count), Ok(stmts)) = (count.parse::<u64>(), stmts.parse::<u32>()) else { continue };
        let e = seen.entry(block.to_string()).or_insert((stmts, false));
        e.1 |= count > 0;
    }
    for (stmts, hit) in seen.values() {
        total += stmts;
        if *hit {
            covered += stmts;
        }
    }
    (total > 0).then(|| Coverage { service: service.into(), line_rate: covered as f64 / total as f64, lines_covered: covered, lines_valid: total })
}

/// The coverage gate: an error when a threshold is set and the tests covered less (or left no
/// coverage report).
pub fn coverage_gate(service: &str, min: Option<u32>, coverage: Option<&Coverage>) -> Result<(), UserError> {
    let Some(min) = min else { return Ok(()) };
    match coverage {
        None => Err(UserError::new(
            format!("Coverage of {service} is unknown"),
            format!("a coverage of at least {min}% is required and the tests wrote no coverage report"),
            "Write Cobertura XML to /reports/coverage.xml (pytest-cov, jest --coverage), or remove `coverage` for this service in slipway.toml",
        )),
        Some(c) if c.line_rate * 100.0 + 1e-9 < min as f64 => Err(UserError::new(
            format!("Coverage of {service} is below its threshold"),
            format!("the tests covered {:.1}% of the lines ({} of {}); at least {min}% is required", c.line_rate * 100.0, c.lines_covered, c.lines_valid),
            "Add tests for the uncovered code, or lower `coverage` for this service in slipway.toml",
        )),
        Some(_) => Ok(()),
    }
}

/// The name a schema script gets in `/docker-entrypoint-initdb.d`: its position (scripts run in
/// name order) and its own file name.
pub fn placed_name(index: usize, repo_path: &str) -> String {
    let base = repo_path.rsplit('/').next().unwrap_or(repo_path);
    format!("{:02}-{base}", index + 1)
}

/// Finds a schema error in a database container's log and names the repository file and line:
/// MariaDB/MySQL (`ERROR 1064 (42000) at line 3: ...` after `running /docker-entrypoint-initdb.d/01-x.sql`)
/// and PostgreSQL (`psql:/docker-entrypoint-initdb.d/01-x.sql:3: ERROR:  ...`).
pub fn schema_error(log: &str, scripts: &[String]) -> Option<String> {
    let repo_of = |placed: &str| -> String {
        let base = placed.rsplit('/').next().unwrap_or(placed);
        scripts.iter().enumerate().find(|(i, p)| placed_name(*i, p) == base).map(|(_, p)| p.clone()).unwrap_or_else(|| base.to_string())
    };
    let mut current: Option<String> = None;
    for l in log.lines() {
        if let Some(i) = l.find("running /docker-entrypoint-initdb.d/") {
            current = Some(l[i + "running ".len()..].trim().to_string());
        }
        if let Some(i) = l.find("psql:/docker-entrypoint-initdb.d/") {
            let rest = &l[i + 5..];
            let mut parts = rest.splitn(3, ':');
            if let (Some(file), Some(line), Some(msg)) = (parts.next(), parts.next(), parts.next()) {
                if line.chars().all(|c| c.is_ascii_digit()) {
                    return Some(format!("{} line {line}: {}", repo_of(file), msg.trim()));
                }
            }
        }
        if l.contains("ERROR ") && l.contains(" at line ") {
            let msg_start = l.find("ERROR ").unwrap_or(0);
            let msg = &l[msg_start..];
            let line: String = msg.split(" at line ").nth(1).unwrap_or("").chars().take_while(|c| c.is_ascii_digit()).collect();
            let text = msg.split_once(": ").map(|(_, t)| t).unwrap_or(msg);
            let file = current.as_deref().map(repo_of).unwrap_or_else(|| scripts.first().cloned().unwrap_or_default());
            return Some(format!("{file} line {line}: {}", text.trim()));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_test_json_becomes_junit_counts_with_failure_text() {
        let r = go_test_report("api", include_bytes!("../../tests/fixtures/go-test.json")).unwrap();
        assert_eq!((r.total, r.passed, r.failed, r.skipped, r.errors), (3, 1, 1, 1, 0));
        let div = r.cases.iter().find(|c| c.name == "TestDiv").unwrap();
        assert!(div.message.as_deref().unwrap().contains("Div(4, 2) = 2, want 3"), "{div:?}");
        assert_eq!(div.suite, "example.com/calc/calc");
        assert!(go_test_report("api", b"no json here\n").is_err());
        let build_failed = br#"{"Action":"output","Package":"x/y","Output":"y.go:3:1: syntax error\n"}
{"Action":"fail","Package":"x/y","Elapsed":0}"#;
        let r = go_test_report("api", build_failed).unwrap();
        assert_eq!((r.total, r.errors), (1, 1));
        assert!(r.cases[0].message.as_deref().unwrap().contains("syntax error"));
    }

    #[test]
    fn go_cover_profile_and_the_gate() {
        let c = go_coverage("api", include_bytes!("../../tests/fixtures/go-cover.out")).unwrap();
        assert_eq!((c.lines_covered, c.lines_valid), (3, 4));
        assert!(coverage_gate("api", Some(70), Some(&c)).is_ok());
        let e = coverage_gate("api", Some(80), Some(&c)).unwrap_err();
        assert!(e.why.contains("75.0%") && e.why.contains("80%"), "{e}");
        assert!(coverage_gate("api", None, None).is_ok());
        assert!(coverage_gate("api", Some(10), None).unwrap_err().why.contains("no coverage report"));
    }

    #[test]
    fn schema_errors_name_the_repository_file_and_line() {
        let scripts = vec!["database/Create.sql".to_string(), "database/Seed.sql".to_string()];
        assert_eq!(placed_name(1, "database/Seed.sql"), "02-Seed.sql");
        let maria = "2024-01-01 10:00:00+00:00 [Entrypoint]: running /docker-entrypoint-initdb.d/01-Create.sql\n2024-01-01 10:00:00+00:00 [Entrypoint]: running /docker-entrypoint-initdb.d/02-Seed.sql\nERROR 1064 (42000) at line 3: You have an error in your SQL syntax; check the manual near 'INSRT INTO' at line 1\n";
        assert_eq!(schema_error(maria, &scripts).unwrap(), "database/Seed.sql line 3: You have an error in your SQL syntax; check the manual near 'INSRT INTO' at line 1");
        let pg = "psql:/docker-entrypoint-initdb.d/01-Create.sql:7: ERROR:  syntax error at or near \"TABL\"\n";
        assert_eq!(schema_error(pg, &scripts).unwrap(), "database/Create.sql line 7: ERROR:  syntax error at or near \"TABL\"");
        assert!(schema_error("all good\n", &scripts).is_none());
    }
}
