//! `slipway board`: the Kanban board of a project (columns with their cards), its cards, epics
//! and sprints, the burndown and velocity, export and import (JSON, or CSV with Jira's column
//! names), and the automation switch.

use clap::{Args, Subcommand};
use slipway_app::Slipway;
use slipway_core::board::*;
use slipway_core::UserError;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Args)]
pub struct BoardArgs {
    /// The project whose board it is (default: the only one).
    #[arg(long, global = true)]
    pub project: Option<String>,
    #[command(subcommand)]
    pub cmd: Option<BoardCmd>,
}

#[derive(Subcommand)]
pub enum BoardCmd {
    /// Add, move, edit, remove or show a card.
    #[command(subcommand)]
    Card(CardCmd),
    /// Add, list or remove epics.
    #[command(subcommand)]
    Epic(EpicCmd),
    /// Add, start, close or list sprints.
    #[command(subcommand)]
    Sprint(SprintCmd),
    /// A sprint's remaining points per day against the ideal line (default: the active sprint,
    /// else the last closed one).
    Burndown {
        /// The sprint's number or name.
        #[arg(long)]
        sprint: Option<String>,
    },
    /// Committed and completed points of every closed sprint.
    Velocity,
    /// The moves of one card (or of all), with who or what moved it and why.
    History { card: Option<String> },
    /// Write the board as JSON (everything, with history) or CSV (Jira's column names).
    Export {
        #[arg(long, default_value = "json")]
        format: String,
        /// The file to write (default: standard output).
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Read a JSON export (replaces the board) or a CSV (merges its issues in). Nothing changes
    /// if any line is wrong.
    Import {
        file: PathBuf,
        /// json or csv (default: from the file's extension).
        #[arg(long)]
        format: Option<String>,
    },
    /// Let plans, applies, pipeline runs and deploys move cards (on), or not (off).
    Automation { state: String },
}

#[derive(Args)]
pub struct CardFields {
    /// Markdown.
    #[arg(long)]
    description: Option<String>,
    /// story, task or bug.
    #[arg(long = "type")]
    kind: Option<String>,
    /// Story points (`none` clears them).
    #[arg(long)]
    points: Option<String>,
    /// An epic's key or title (`none` clears it).
    #[arg(long)]
    epic: Option<String>,
    /// `none` clears it.
    #[arg(long)]
    assignee: Option<String>,
    /// Repeatable; for edit, replaces the labels (`--label none` clears them).
    #[arg(long = "label")]
    labels: Vec<String>,
    /// A sprint's number or name (`none` or `backlog`: no sprint).
    #[arg(long)]
    sprint: Option<String>,
    /// A column's name or id.
    #[arg(long)]
    column: Option<String>,
    /// KIND:TARGET (run:shop-3, resource:slipway/vpc, revision:shop/staging/2) or a URL;
    /// repeatable; for edit, added to the card's links.
    #[arg(long = "link")]
    links: Vec<String>,
}

#[derive(Subcommand)]
pub enum CardCmd {
    /// Add a card (to the first column unless --column).
    Add {
        title: String,
        #[command(flatten)]
        fields: CardFields,
    },
    /// Move a card to a column, at the bottom (or at --position, 0 = top).
    Move {
        card: String,
        column: String,
        #[arg(long)]
        position: Option<u32>,
    },
    /// Change a card: only the fields given change.
    Edit {
        card: String,
        #[arg(long)]
        title: Option<String>,
        #[command(flatten)]
        fields: CardFields,
    },
    /// Delete a card (its history stays).
    Rm { card: String },
    /// One card in full, with its history.
    Show { card: String },
}

#[derive(Subcommand)]
pub enum EpicCmd {
    Add {
        title: String,
        #[arg(long, default_value = "")]
        description: String,
        #[arg(long)]
        color: Option<String>,
    },
    List,
    /// Delete an epic (its cards stay, without an epic).
    Rm { epic: String },
}

#[derive(Subcommand)]
pub enum SprintCmd {
    /// Plan a sprint.
    Add {
        /// Default: "Sprint N".
        name: Option<String>,
        #[arg(long, default_value = "")]
        goal: String,
        /// YYYY-MM-DD.
        #[arg(long)]
        start: Option<String>,
        /// YYYY-MM-DD.
        #[arg(long)]
        end: Option<String>,
    },
    /// Start a sprint (default: the oldest planned one); the cards it holds are the commitment.
    Start {
        sprint: Option<String>,
        /// YYYY-MM-DD (default: the sprint's own, else today).
        #[arg(long)]
        start: Option<String>,
        /// YYYY-MM-DD (default: the sprint's own).
        #[arg(long)]
        end: Option<String>,
    },
    /// Close the active sprint; unfinished cards go to --carry-to (a planned sprint) or the backlog.
    Close {
        sprint: Option<String>,
        #[arg(long)]
        carry_to: Option<String>,
    },
    List,
}

fn invalid(why: impl Into<String>, fix: impl Into<String>) -> UserError {
    UserError::new("Invalid command", why, fix)
}

fn is_none_word(s: &str) -> bool {
    matches!(s.trim().to_ascii_lowercase().as_str(), "none" | "-" | "")
}

fn parse_kind(s: &str) -> Result<CardKind, UserError> {
    match s.trim().to_ascii_lowercase().as_str() {
        "story" => Ok(CardKind::Story),
        "task" => Ok(CardKind::Task),
        "bug" => Ok(CardKind::Bug),
        _ => Err(invalid(format!("'{s}' is not a card type"), "Use story, task or bug")),
    }
}

fn parse_points(s: &str) -> Result<Option<u32>, UserError> {
    if is_none_word(s) {
        return Ok(None);
    }
    s.trim().parse().map(Some).map_err(|_| invalid(format!("'{s}' is not a number of story points"), "Use a whole number (0, 1, 2, 3, 5, 8...) or none"))
}

fn parse_link(s: &str) -> Result<CardLink, UserError> {
    if s.starts_with("http://") || s.starts_with("https://") {
        return Ok(CardLink { kind: LinkKind::Url, target: s.into(), label: None });
    }
    let (kind, target) = s.split_once(':').ok_or_else(|| invalid(format!("'{s}' is not KIND:TARGET or a URL"), "Write it like run:shop-3, resource:slipway/vpc, revision:shop/staging/2 or https://..."))?;
    let kind = match kind {
        "run" => LinkKind::Run,
        "resource" => LinkKind::Resource,
        "revision" => LinkKind::Revision,
        "url" => LinkKind::Url,
        _ => return Err(invalid(format!("'{kind}' is not a link kind"), "Use run, resource, revision or url")),
    };
    Ok(CardLink { kind, target: target.into(), label: None })
}

fn parse_on_off(s: &str) -> Result<bool, UserError> {
    match s.to_ascii_lowercase().as_str() {
        "on" | "true" | "yes" => Ok(true),
        "off" | "false" | "no" => Ok(false),
        _ => Err(invalid(format!("'{s}' is not on or off"), "Use `slipway board automation on` or `off`")),
    }
}

fn parse_format(s: &str) -> Result<BoardFormat, UserError> {
    BoardFormat::parse(s).ok_or_else(|| invalid(format!("'{s}' is not a board format"), "Use json or csv"))
}

/// A sprint reference from the command line: None for `none`/`backlog`.
fn sprint_ref(b: &BoardData, s: &str) -> Result<Option<u32>, UserError> {
    if is_none_word(s) || s.eq_ignore_ascii_case("backlog") {
        return Ok(None);
    }
    let t = s.trim().trim_start_matches('#');
    b.sprints
        .iter()
        .find(|x| t.parse::<u32>().ok() == Some(x.number) || x.name.eq_ignore_ascii_case(t))
        .map(|x| Some(x.number))
        .ok_or_else(|| invalid(format!("there is no sprint '{s}'"), "Use a sprint's number or name (`slipway board sprint list`), or none"))
}

fn find_card<'a>(b: &'a BoardData, s: &str) -> Result<&'a Card, UserError> {
    let t = s.trim().trim_start_matches('#');
    b.cards
        .iter()
        .find(|c| c.key.eq_ignore_ascii_case(t) || t.parse::<u32>().ok() == Some(c.number))
        .ok_or_else(|| UserError::new("Card not found", format!("there is no card \"{s}\" on board {}", b.board.project), "Use a card's key (like SLP-12) or number; `slipway board` lists them"))
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}...", s.chars().take(n - 3).collect::<String>())
    }
}

macro_rules! json {
    ($v:expr) => {
        outln!("{}", serde_json::to_string_pretty(&$v).expect("json"))
    };
}

fn when(ms: i64) -> String {
    dates::format_timestamp(ms)
}

/// The board, column by column: key, title, points, epic, assignee.
pub fn print_board(b: &BoardData) {
    let auto = if b.board.automation { "automation on" } else { "automation off" };
    outln!("Board {} ({}-), {}", b.board.project, b.board.key_prefix, auto);
    for s in b.sprints.iter().filter(|s| s.state == SprintState::Active) {
        let goal = if s.goal.is_empty() { String::new() } else { format!(": {}", s.goal) };
        outln!("{} active, {} to {}{goal}", s.name, s.start.as_deref().unwrap_or("?"), s.end.as_deref().unwrap_or("?"));
    }
    let epic = |k: &Option<String>| k.as_ref().and_then(|k| b.epics.iter().find(|e| &e.key == k)).map(|e| e.title.clone()).unwrap_or_default();
    for col in &b.board.columns {
        let cards: Vec<&Card> = b.cards.iter().filter(|c| c.column == col.id).collect();
        let points: u32 = cards.iter().filter_map(|c| c.points).sum();
        let wip = col.wip_limit.map(|l| format!(", limit {l}")).unwrap_or_default();
        outln!();
        outln!("{} ({} card{}, {points} pts{wip})", col.name, cards.len(), if cards.len() == 1 { "" } else { "s" });
        if cards.is_empty() {
            outln!("  -");
        }
        for c in cards {
            let pts = c.points.map(|p| format!("{p} pts")).unwrap_or_else(|| "-".into());
            let who = c.assignee.as_ref().map(|a| format!("@{a}")).unwrap_or_default();
            let by = if c.created_by == Actor::Automation { " [auto]" } else { "" };
            outln!("  {:<9} {:<48} {:>6}  {:<24} {who}{by}", c.key, truncate(&c.title, 48), pts, truncate(&epic(&c.epic), 24));
        }
    }
}

fn print_card(b: &BoardData, c: &Card, h: &BoardHistory) {
    let col = b.board.columns.iter().find(|x| x.id == c.column).map(|x| x.name.clone()).unwrap_or(c.column.clone());
    outln!("{} {} ({:?}, {col})", c.key, c.title, c.kind);
    let epic = c.epic.as_ref().and_then(|k| b.epics.iter().find(|e| &e.key == k)).map(|e| format!("{} {}", e.key, e.title));
    let sprint = c.sprint.and_then(|n| b.sprints.iter().find(|s| s.number == n)).map(|s| s.name.clone());
    outln!("  points {}  epic {}  sprint {}  assignee {}", c.points.map(|p| p.to_string()).unwrap_or("-".into()), epic.unwrap_or("-".into()), sprint.unwrap_or("backlog".into()), c.assignee.as_deref().unwrap_or("-"));
    if !c.labels.is_empty() {
        outln!("  labels {}", c.labels.join(" "));
    }
    for l in &c.links {
        outln!("  link {:?} {}{}", l.kind, l.target, l.label.as_ref().map(|x| format!(" ({x})")).unwrap_or_default());
    }
    outln!("  created {} by {}", when(c.created_at), c.created_by.as_str());
    if !c.description.is_empty() {
        outln!();
        for line in c.description.lines() {
            outln!("  {line}");
        }
    }
    outln!();
    print_history(b, h);
}

fn print_history(b: &BoardData, h: &BoardHistory) {
    let name = |id: &Option<String>| match id {
        Some(id) => b.board.columns.iter().find(|x| &x.id == id).map(|x| x.name.clone()).unwrap_or(id.clone()),
        None => "-".into(),
    };
    for m in &h.moves {
        let what = match (&m.from, &m.to) {
            (None, Some(_)) => format!("created in {}", name(&m.to)),
            (Some(_), None) => "deleted".to_string(),
            _ => format!("{} -> {}", name(&m.from), name(&m.to)),
        };
        outln!("{}  {:<9} {:<32} by {}{}", when(m.at), m.card, what, m.by.as_str(), m.note.as_ref().map(|n| format!(": {n}")).unwrap_or_default());
    }
}

fn print_burndown(bd: &Burndown) {
    outln!(
        "{} ({}), {} to {}: committed {}, completed {}, remaining {}, scope +{} -{}",
        bd.name,
        bd.state.as_str(),
        bd.start,
        bd.end,
        bd.committed,
        bd.completed,
        bd.remaining,
        bd.scope_added,
        bd.scope_removed
    );
    let top = bd.days.iter().filter_map(|d| d.remaining).chain([bd.committed]).max().unwrap_or(0).max(1) as f64;
    outln!("{:<10}  {:>9}  {:>6}  {:<9}", "date", "remaining", "ideal", "scope");
    for d in &bd.days {
        let scope = match (d.scope_added, d.scope_removed) {
            (0, 0) => String::new(),
            (a, 0) => format!("+{a}"),
            (0, r) => format!("-{r}"),
            (a, r) => format!("+{a} -{r}"),
        };
        let (rem, bar) = match d.remaining {
            Some(r) => (r.to_string(), "#".repeat((r as f64 / top * 40.0).round() as usize)),
            None => ("".into(), String::new()),
        };
        outln!("{:<10}  {:>9}  {:>6.1}  {:<9} {bar}", d.date, rem, d.ideal, scope);
    }
}

pub async fn board(app: &Arc<Slipway>, json_out: bool, args: BoardArgs) -> Result<(), UserError> {
    let p = args.project.as_deref();
    let Some(cmd) = args.cmd else {
        let b = app.board(p).await?;
        if json_out {
            json!(b);
        } else {
            print_board(&b);
        }
        return Ok(());
    };
    match cmd {
        BoardCmd::Card(c) => card(app, json_out, p, c).await?,
        BoardCmd::Epic(EpicCmd::Add { title, description, color }) => {
            let e = app.create_epic(p, EpicInput { title, description, color, done: false }).await?;
            if json_out {
                json!(e);
            } else {
                outln!("{} {} added", e.key, e.title);
            }
        }
        BoardCmd::Epic(EpicCmd::List) => {
            let b = app.board(p).await?;
            if json_out {
                json!(b.epics);
            } else if b.epics.is_empty() {
                outln!("No epics yet: `slipway board epic add TITLE`.");
            }
            if !json_out {
                for e in &b.epics {
                    let n = b.cards.iter().filter(|c| c.epic.as_deref() == Some(e.key.as_str())).count();
                    outln!("{:<9} {:<48} {n} cards{}", e.key, e.title, if e.done { ", done" } else { "" });
                }
            }
        }
        BoardCmd::Epic(EpicCmd::Rm { epic }) => {
            app.delete_epic(p, &epic).await?;
            if !json_out {
                outln!("Epic {epic} deleted");
            }
        }
        BoardCmd::Sprint(s) => sprint(app, json_out, p, s).await?,
        BoardCmd::Burndown { sprint } => {
            let bd = app.burndown(p, sprint.as_deref()).await?;
            if json_out {
                json!(bd);
            } else {
                print_burndown(&bd);
            }
        }
        BoardCmd::Velocity => {
            let v = app.velocity(p).await?;
            if json_out {
                json!(v);
            } else if v.is_empty() {
                outln!("No closed sprint yet.");
            } else {
                outln!("{:<24} {:>9} {:>9}", "sprint", "committed", "completed");
                for x in v {
                    outln!("{:<24} {:>9} {:>9}", x.name, x.committed, x.completed);
                }
            }
        }
        BoardCmd::History { card } => {
            let h = app.board_history(p, card.as_deref()).await?;
            if json_out {
                json!(h);
            } else {
                print_history(&app.board(p).await?, &h);
            }
        }
        BoardCmd::Export { format, output } => {
            let text = app.export_board(p, parse_format(&format)?).await?;
            match output {
                Some(path) => {
                    std::fs::write(&path, &text).map_err(|e| UserError::new("Export failed", format!("cannot write {}: {e}", path.display()), "Check the folder exists and can be written"))?;
                    if !json_out {
                        outln!("Board {} written to {}", app.board_project(p).await?, path.display());
                    }
                }
                None => out!("{text}"),
            }
        }
        BoardCmd::Import { file, format } => {
            let format = match format {
                Some(f) => parse_format(&f)?,
                None => file.extension().and_then(|e| e.to_str()).and_then(BoardFormat::parse).ok_or_else(|| {
                    invalid(format!("{} does not end in .json or .csv", file.display()), "Say which it is with --format json or --format csv")
                })?,
            };
            let text = std::fs::read_to_string(&file).map_err(|e| UserError::new("Import failed", format!("cannot read {}: {e}", file.display()), "Check the path (and that it is a UTF-8 text file)"))?;
            let r = app.import_board(p, format, text).await?;
            if json_out {
                json!(r);
            } else {
                outln!(
                    "Imported {} into board {}: {} cards added, {} updated; {} epics added, {} updated; {} sprints added",
                    file.display(),
                    r.project,
                    r.cards_created,
                    r.cards_updated,
                    r.epics_created,
                    r.epics_updated,
                    r.sprints_created
                );
                if !r.ignored_columns.is_empty() {
                    outln!("Columns not read: {}", r.ignored_columns.join(", "));
                }
            }
        }
        BoardCmd::Automation { state } => {
            let b = app.set_board_automation(p, parse_on_off(&state)?).await?;
            if json_out {
                json!(b);
            } else {
                outln!("Automation is {} on board {}", if b.automation { "on" } else { "off" }, b.project);
            }
        }
    }
    Ok(())
}

async fn card(app: &Arc<Slipway>, json_out: bool, p: Option<&str>, cmd: CardCmd) -> Result<(), UserError> {
    let out = |c: &Card, verb: &str| {
        if json_out {
            json!(c);
        } else {
            outln!("{} {} {verb} ({})", c.key, c.title, c.column);
        }
    };
    match cmd {
        CardCmd::Add { title, fields: f } => {
            let b = app.board(p).await?;
            let input = CardInput {
                title,
                description: f.description.unwrap_or_default(),
                kind: f.kind.as_deref().map(parse_kind).transpose()?.unwrap_or_default(),
                epic: f.epic.filter(|e| !is_none_word(e)),
                sprint: f.sprint.as_deref().map(|s| sprint_ref(&b, s)).transpose()?.flatten(),
                points: f.points.as_deref().map(parse_points).transpose()?.flatten(),
                assignee: f.assignee.filter(|a| !is_none_word(a)),
                labels: f.labels.into_iter().filter(|l| !is_none_word(l)).collect(),
                links: f.links.iter().map(|l| parse_link(l)).collect::<Result<_, _>>()?,
                column: f.column,
            };
            out(&app.create_card(p, input).await?, "added");
        }
        CardCmd::Move { card, column, position } => out(&app.move_card(p, &card, &column, position).await?, "moved"),
        CardCmd::Edit { card, title, fields: f } => {
            let b = app.board(p).await?;
            let c = find_card(&b, &card)?.clone();
            let mut links = c.links.clone();
            for l in &f.links {
                links.push(parse_link(l)?);
            }
            let input = CardInput {
                title: title.unwrap_or(c.title.clone()),
                description: f.description.unwrap_or(c.description.clone()),
                kind: f.kind.as_deref().map(parse_kind).transpose()?.unwrap_or(c.kind),
                epic: match f.epic {
                    Some(e) if is_none_word(&e) => None,
                    Some(e) => Some(e),
                    None => c.epic.clone(),
                },
                sprint: match f.sprint {
                    Some(s) => sprint_ref(&b, &s)?,
                    None => c.sprint,
                },
                points: match f.points {
                    Some(x) => parse_points(&x)?,
                    None => c.points,
                },
                assignee: match f.assignee {
                    Some(a) if is_none_word(&a) => None,
                    Some(a) => Some(a),
                    None => c.assignee.clone(),
                },
                labels: if f.labels.is_empty() { c.labels.clone() } else { f.labels.into_iter().filter(|l| !is_none_word(l)).collect() },
                links,
                column: f.column,
            };
            out(&app.update_card(p, &c.key, input).await?, "saved");
        }
        CardCmd::Rm { card } => {
            let key = app.delete_card(p, &card).await?;
            if json_out {
                outln!("{}", serde_json::json!({ "deleted": key }));
            } else {
                outln!("{key} deleted");
            }
        }
        CardCmd::Show { card } => {
            let b = app.board(p).await?;
            let c = find_card(&b, &card)?;
            let h = app.board_history(p, Some(&c.key)).await?;
            if json_out {
                json!(serde_json::json!({ "card": c, "history": h }));
            } else {
                print_card(&b, c, &h);
            }
        }
    }
    Ok(())
}

async fn sprint(app: &Arc<Slipway>, json_out: bool, p: Option<&str>, cmd: SprintCmd) -> Result<(), UserError> {
    let out = |s: &Sprint| {
        if json_out {
            json!(s);
        } else {
            outln!("{} ({}) {} to {}", s.name, s.state.as_str(), s.start.as_deref().unwrap_or("?"), s.end.as_deref().unwrap_or("?"));
        }
    };
    match cmd {
        SprintCmd::Add { name, goal, start, end } => out(&app.create_sprint(p, SprintInput { name, goal, start, end }).await?),
        SprintCmd::Start { sprint, start, end } => out(&app.start_sprint(p, sprint.as_deref(), start, end).await?),
        SprintCmd::Close { sprint, carry_to } => out(&app.close_sprint(p, sprint.as_deref(), carry_to.as_deref()).await?),
        SprintCmd::List => {
            let b = app.board(p).await?;
            if json_out {
                json!(b.sprints);
                return Ok(());
            }
            if b.sprints.is_empty() {
                outln!("No sprints yet: `slipway board sprint add`.");
            }
            for s in &b.sprints {
                let cards: Vec<&Card> = b.cards.iter().filter(|c| c.sprint == Some(s.number)).collect();
                let pts: u32 = cards.iter().filter_map(|c| c.points).sum();
                outln!(
                    "{:<3} {:<24} {:<8} {} to {}  {} cards, {pts} pts{}",
                    s.number,
                    s.name,
                    s.state.as_str(),
                    s.start.as_deref().unwrap_or("?"),
                    s.end.as_deref().unwrap_or("?"),
                    cards.len(),
                    if s.goal.is_empty() { String::new() } else { format!("  goal: {}", s.goal) }
                );
            }
        }
    }
    Ok(())
}
