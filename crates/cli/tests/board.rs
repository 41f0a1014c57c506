//! `slipway board` end to end: printing the board, cards and sprints, the burndown, export and
//! import round trips, and a malformed CSV refused with its line while the board stays as it
//! was. The board needs no part of the test environment.

use std::path::Path;
use std::process::{Command, Output, Stdio};

fn slipway(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_slipway"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// Runs a command that must succeed; returns its stdout.
fn ok(data: &Path, args: &[&str]) -> String {
    let o = slipway(data, args);
    assert!(o.status.success(), "slipway {}: {}", args.join(" "), text(&o));
    String::from_utf8(o.stdout).unwrap()
}

fn board_json(data: &Path, project: &str) -> serde_json::Value {
    serde_json::from_str(&ok(data, &["board", "--project", project, "--json"])).unwrap()
}

#[test]
fn the_board_prints_its_columns_and_cards_and_refuses_bad_moves() {
    let d = slipway_testkit::data_dir();
    let p = d.path();
    let out = ok(p, &["board", "--project", "shop"]);
    assert!(out.starts_with("Board shop (SHP-), automation on"), "{out}");
    for col in ["To do (0 cards, 0 pts)", "In progress", "In review", "Done"] {
        assert!(out.contains(col), "{col} missing: {out}");
    }
    ok(p, &["board", "--project", "shop", "epic", "add", "Checkout"]);
    let out = ok(p, &["board", "--project", "shop", "card", "add", "Card form", "--points", "5", "--epic", "checkout", "--assignee", "ana", "--label", "ui", "--type", "story"]);
    assert_eq!(out.trim(), "SHP-2 Card form added (todo)");
    ok(p, &["board", "--project", "shop", "card", "add", "Receipt mail", "--points", "3", "--column", "In progress"]);
    ok(p, &["board", "--project", "shop", "card", "move", "SHP-2", "in review"]);
    ok(p, &["board", "--project", "shop", "card", "edit", "3", "--title", "Receipt e-mail", "--points", "none"]);

    let out = ok(p, &["board", "--project", "shop"]);
    let line = out.lines().find(|l| l.contains("SHP-2")).unwrap();
    for part in ["SHP-2", "Card form", "5 pts", "Checkout", "@ana"] {
        assert!(line.contains(part), "{part} missing from {line:?}");
    }
    let review = out.split("In review").nth(1).unwrap().split("Done").next().unwrap();
    assert!(review.contains("SHP-2"), "{out}");
    assert!(out.contains("In progress (1 card, 0 pts)"), "{out}");
    assert!(out.lines().any(|l| l.contains("SHP-3") && l.contains("Receipt e-mail") && l.contains(" - ")), "{out}");

    let b = board_json(p, "shop");
    assert_eq!(b["board"]["project"], "shop");
    assert_eq!(b["cards"].as_array().unwrap().len(), 2);
    assert_eq!(b["cards"][1]["key"], "SHP-2");
    assert_eq!(b["cards"][1]["column"], "in-review");
    assert_eq!(b["cards"][1]["labels"], serde_json::json!(["ui"]));

    // Bad input: what, why, next; exit 1; nothing changed.
    let o = slipway(p, &["board", "--project", "shop", "card", "move", "SHP-2", "Blocked"]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("error: Card not moved"), "{err}");
    assert!(err.contains("why: there is no column \"Blocked\" on board shop (columns: To do, In progress, In review, Done)"), "{err}");
    assert!(err.contains("next: Use one of the columns' names or ids"), "{err}");
    let o = slipway(p, &["board", "--project", "shop", "card", "add", "X", "--points", "lots"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("'lots' is not a number of story points"), "{}", text(&o));
    assert_eq!(board_json(p, "shop"), b);

    // The history says who moved what.
    let out = ok(p, &["board", "--project", "shop", "card", "show", "SHP-2"]);
    assert!(out.contains("To do -> In review") && out.contains("by user"), "{out}");
    ok(p, &["board", "--project", "shop", "card", "rm", "SHP-3"]);
    assert_eq!(board_json(p, "shop")["cards"].as_array().unwrap().len(), 1);
    // With a single board, --project can be left out.
    assert!(ok(p, &["board"]).starts_with("Board shop"));
}

#[test]
fn sprints_burndown_velocity_and_the_automation_switch() {
    let d = slipway_testkit::data_dir();
    let p = d.path();
    ok(p, &["board", "--project", "shop", "sprint", "add", "Sprint A", "--start", "2026-03-02", "--end", "2026-03-06", "--goal", "Pay"]);
    ok(p, &["board", "--project", "shop", "card", "add", "A", "--points", "5", "--sprint", "Sprint A"]);
    ok(p, &["board", "--project", "shop", "card", "add", "B", "--points", "3", "--sprint", "1"]);
    let out = ok(p, &["board", "--project", "shop", "sprint", "start"]);
    assert!(out.contains("Sprint A (active) 2026-03-02 to 2026-03-06"), "{out}");
    ok(p, &["board", "--project", "shop", "card", "move", "SHP-1", "done"]);
    let bd: serde_json::Value = serde_json::from_str(&ok(p, &["board", "--project", "shop", "burndown", "--json"])).unwrap();
    assert_eq!((bd["committed"].as_u64(), bd["completed"].as_u64(), bd["remaining"].as_u64()), (Some(8), Some(5), Some(3)));
    assert_eq!(bd["days"].as_array().unwrap().len(), 5);
    assert_eq!(bd["days"][0]["ideal"], 8.0);
    assert_eq!(bd["days"][4]["ideal"], 0.0);
    let out = ok(p, &["board", "--project", "shop", "burndown"]);
    assert!(out.starts_with("Sprint A (active), 2026-03-02 to 2026-03-06: committed 8, completed 5, remaining 3"), "{out}");
    let out = ok(p, &["board", "--project", "shop", "sprint", "close"]);
    assert!(out.contains("Sprint A (closed)"), "{out}");
    let v: serde_json::Value = serde_json::from_str(&ok(p, &["board", "--project", "shop", "velocity", "--json"])).unwrap();
    assert_eq!(v, serde_json::json!([{"sprint": 1, "name": "Sprint A", "committed": 8, "completed": 5}]));
    assert_eq!(board_json(p, "shop")["cards"][0]["sprint"], serde_json::Value::Null, "the unfinished card went to the backlog");

    assert_eq!(ok(p, &["board", "--project", "shop", "automation", "off"]).trim(), "Automation is off on board shop");
    assert_eq!(board_json(p, "shop")["board"]["automation"], false);
    ok(p, &["board", "--project", "shop", "automation", "on"]);
    let o = slipway(p, &["board", "--project", "shop", "automation", "maybe"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("'maybe' is not on or off"), "{}", text(&o));
}

#[test]
fn export_and_import_round_trip_and_a_malformed_csv_names_its_line_and_changes_nothing() {
    let d = slipway_testkit::data_dir();
    let p = d.path();
    ok(p, &["board", "--project", "shop", "epic", "add", "Checkout"]);
    ok(p, &["board", "--project", "shop", "sprint", "add", "--start", "2026-03-02", "--end", "2026-03-13"]);
    ok(p, &["board", "--project", "shop", "card", "add", "Card form", "--points", "5", "--epic", "SHP-1", "--label", "ui", "--label", "pay", "--sprint", "1", "--description", "Line 1\nLine \"2\", with a comma"]);
    ok(p, &["board", "--project", "shop", "card", "add", "Done thing", "--column", "done", "--link", "https://example.com/x"]);

    // JSON: the whole board, into another project and back.
    let json_file = p.join("shop.json");
    ok(p, &["board", "--project", "shop", "export", "--format", "json", "-o", json_file.to_str().unwrap()]);
    let out = ok(p, &["board", "--project", "copy", "import", json_file.to_str().unwrap()]);
    assert!(out.contains("2 cards added") && out.contains("1 epics added"), "{out}");
    let (shop, copy) = (board_json(p, "shop"), board_json(p, "copy"));
    assert_eq!(shop["cards"], copy["cards"]);
    assert_eq!(shop["sprints"], copy["sprints"]);

    // CSV with Jira's columns: into a new project, the same issues; into the same, no change.
    let csv = ok(p, &["board", "--project", "shop", "export", "--format", "csv"]);
    assert!(csv.starts_with("Issue key,Issue Type,Summary,Description,Status,Story Points,Assignee,Labels,Labels,Epic Link,Epic Name,Sprint,Created,Updated\n"), "{csv}");
    let csv_file = p.join("shop.csv");
    std::fs::write(&csv_file, &csv).unwrap();
    let r: serde_json::Value = serde_json::from_str(&ok(p, &["board", "--project", "shop", "import", csv_file.to_str().unwrap(), "--json"])).unwrap();
    assert_eq!((r["cardsCreated"].as_u64(), r["cardsUpdated"].as_u64()), (Some(0), Some(0)), "{r}");
    assert_eq!(board_json(p, "shop"), shop);
    ok(p, &["board", "--project", "fresh", "import", csv_file.to_str().unwrap()]);
    let fresh = board_json(p, "fresh");
    let fields = |b: &serde_json::Value| {
        b["cards"].as_array().unwrap().iter().map(|c| (c["title"].clone(), c["description"].clone(), c["column"].clone(), c["points"].clone(), c["labels"].clone())).collect::<Vec<_>>()
    };
    assert_eq!(fields(&fresh), fields(&shop));
    assert_eq!(fresh["epics"][0]["title"], "Checkout");
    assert_eq!(fresh["sprints"][0]["name"], "Sprint 1");

    // A malformed CSV: exit 1, the line and the field named, the board unchanged.
    let before = ok(p, &["board", "--project", "shop", "export", "--format", "json"]);
    let bad = p.join("bad.csv");
    std::fs::write(&bad, "Issue key,Summary,Story Points,Status\n,New card,3,To do\nSHP-2,Card form,8,Done\n,Third,abc,To do\n,Fourth,1,Blocked\n").unwrap();
    let o = slipway(p, &["board", "--project", "shop", "import", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("error: Import refused: the board is unchanged"), "{err}");
    assert!(err.contains("why: line 4: Story Points \"abc\" is not a number; line 5: Status \"Blocked\" is not a column of this board"), "{err}");
    assert!(err.contains("next: Fix the 2 lines named (from line 4)"), "{err}");
    assert_eq!(ok(p, &["board", "--project", "shop", "export", "--format", "json"]), before);
    // --json prints the error as JSON too.
    let o = slipway(p, &["board", "--project", "shop", "import", bad.to_str().unwrap(), "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["error"]["why"].as_str().unwrap().starts_with("line 4: "), "{v}");
    // A file of neither kind.
    let o = slipway(p, &["board", "--project", "shop", "import", p.join("notes.txt").to_str().unwrap()]);
    assert!(text(&o).contains("does not end in .json or .csv"), "{}", text(&o));
    assert_eq!(ok(p, &["board", "--project", "shop", "export", "--format", "json"]), before);
}
