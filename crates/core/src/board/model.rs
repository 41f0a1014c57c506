//! The board's data: columns, cards, epics, sprints, and the history every burndown is computed
//! from (column moves and sprint scope changes). These are the types the Board page and the
//! Sprint view receive; they derive `TS` and land in `ui/src/bindings/`.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Who made a change: a person (the UI, the CLI, an import) or Slipway's automation (a plan,
/// an apply, a pipeline run, a deploy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum Actor {
    #[default]
    User,
    Automation,
}

impl Actor {
    pub fn as_str(self) -> &'static str {
        match self {
            Actor::User => "user",
            Actor::Automation => "automation",
        }
    }
}

/// What a column means, like Jira's status categories: the burndown counts every card outside
/// a `done` column as remaining, and automation moves cards to the first column (by order) of
/// the category it wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum ColumnCategory {
    Todo,
    InProgress,
    Done,
}

/// One column of a board.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Column {
    /// Stable id: lowercase letters, digits and dashes (`todo`, `in-progress`).
    pub id: String,
    /// What people see ("In review").
    pub name: String,
    /// Left to right, from 0.
    pub order: u32,
    pub category: ColumnCategory,
    /// At most this many cards (people's moves are refused above it; automation's are not).
    pub wip_limit: Option<u32>,
}

/// A project's board (one per project; its id is the project id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Board {
    /// The project id (a pipeline project, or a blueprint's project such as `slipway`).
    pub project: String,
    /// The display name (the project id unless renamed).
    pub name: String,
    /// Card keys are `<prefix>-<number>`, e.g. `SLP-12`.
    pub key_prefix: String,
    /// By `order`, left to right. Default: To do, In progress, In review, Done.
    pub columns: Vec<Column>,
    /// Plans, applies, pipeline runs and deploys create and move cards (off: nothing moves).
    pub automation: bool,
    /// The number the next card or epic gets.
    pub next_number: u32,
    #[ts(type = "number")]
    pub created_at: i64,
    #[ts(type = "number")]
    pub updated_at: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum CardKind {
    Story,
    #[default]
    Task,
    Bug,
}

impl CardKind {
    /// Jira's name for it ("Issue Type").
    pub fn jira(self) -> &'static str {
        match self {
            CardKind::Story => "Story",
            CardKind::Task => "Task",
            CardKind::Bug => "Bug",
        }
    }
}

/// What a card links to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum LinkKind {
    /// A pipeline run; `target` is the run id (`shop-12`).
    Run,
    /// A provisioned resource; `target` is `<blueprint project>/<logical id>` (`slipway/vpc`).
    Resource,
    /// A deploy revision; `target` is `<project>/<environment>/<number>` (`shop/staging/4`).
    Revision,
    /// Anything else; `target` is a URL.
    Url,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct CardLink {
    pub kind: LinkKind,
    pub target: String,
    /// What to show instead of the target ("run shop-12", "VPC shop-vpc").
    pub label: Option<String>,
}

/// A card on the board.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Card {
    /// `<prefix>-<number>` (`SLP-12`): the card's id, unique on its board.
    pub key: String,
    pub number: u32,
    pub kind: CardKind,
    pub title: String,
    /// Markdown.
    pub description: String,
    /// The epic's key.
    pub epic: Option<String>,
    /// The sprint's number; None: the backlog.
    pub sprint: Option<u32>,
    pub points: Option<u32>,
    pub assignee: Option<String>,
    pub labels: Vec<String>,
    pub links: Vec<CardLink>,
    /// The column's id.
    pub column: String,
    /// Position within its column, from 0 (top).
    pub rank: u32,
    pub created_by: Actor,
    /// Set on cards automation made (`provision:<project>:network`, `pipeline:<project>:test`,
    /// `deploy:<project>:<environment>`): how automation finds its card again.
    pub automation_key: Option<String>,
    #[ts(type = "number")]
    pub created_at: i64,
    #[ts(type = "number")]
    pub updated_at: i64,
}

/// An epic: a group of cards (numbered from the same sequence as cards).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Epic {
    pub key: String,
    pub number: u32,
    pub title: String,
    /// Markdown.
    pub description: String,
    /// A CSS color for its swimlane and badges.
    pub color: Option<String>,
    pub done: bool,
    pub created_by: Actor,
    pub automation_key: Option<String>,
    #[ts(type = "number")]
    pub created_at: i64,
    #[ts(type = "number")]
    pub updated_at: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum SprintState {
    Planned,
    Active,
    Closed,
}

impl SprintState {
    pub fn as_str(self) -> &'static str {
        match self {
            SprintState::Planned => "planned",
            SprintState::Active => "active",
            SprintState::Closed => "closed",
        }
    }
}

/// A sprint; cards join it through `Card::sprint`. At most one is active.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Sprint {
    /// From 1, per board.
    pub number: u32,
    pub name: String,
    pub goal: String,
    /// First day, `YYYY-MM-DD` (required to start it).
    pub start: Option<String>,
    /// Last day, `YYYY-MM-DD` (required to start it).
    pub end: Option<String>,
    pub state: SprintState,
    /// When it was started: the committed scope is what it held at that moment.
    #[ts(type = "number | null")]
    pub started_at: Option<i64>,
    /// When it was closed: its final state is the one just before (unfinished cards leave it then).
    #[ts(type = "number | null")]
    pub closed_at: Option<i64>,
}

/// A card changed column (`from` None: it was created; `to` None: it was deleted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct CardMove {
    pub card: String,
    pub from: Option<String>,
    pub to: Option<String>,
    #[ts(type = "number")]
    pub at: i64,
    pub by: Actor,
    /// Why, for automation ("resources ready: 5 of 5", "test failed in run shop-4").
    pub note: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum ScopeChangeKind {
    /// The card joined the sprint (created in it, or moved in).
    Added,
    /// The card left the sprint (moved out, deleted, or unfinished when the sprint closed).
    Removed,
    /// The card's points changed while it was in the sprint.
    Points,
}

/// A change to what a sprint holds: the burndown replays these, so scope added in the middle
/// of a sprint raises the remaining points and shows as scope added on its day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ScopeChange {
    pub card: String,
    pub sprint: u32,
    pub kind: ScopeChangeKind,
    /// The card's points before the change (None for `added`).
    pub points_before: Option<u32>,
    /// The card's points after the change (None for `removed`).
    pub points_after: Option<u32>,
    #[ts(type = "number")]
    pub at: i64,
    pub by: Actor,
}

/// Everything a board holds, history included: what the store keeps, what a JSON export
/// carries, and what every board operation works on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct BoardState {
    pub board: Board,
    /// By column order, then rank.
    pub cards: Vec<Card>,
    pub epics: Vec<Epic>,
    pub sprints: Vec<Sprint>,
    /// Oldest first.
    pub moves: Vec<CardMove>,
    /// Oldest first.
    pub scope: Vec<ScopeChange>,
}

/// What the Board page shows: the board without its history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct BoardData {
    pub board: Board,
    /// By column order, then rank.
    pub cards: Vec<Card>,
    pub epics: Vec<Epic>,
    pub sprints: Vec<Sprint>,
}

/// A board's history (of one card, or all), oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct BoardHistory {
    pub moves: Vec<CardMove>,
    pub scope: Vec<ScopeChange>,
}

/// A new card, or a card's editable fields (an edit replaces them all; a `column` moves it).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
#[ts(export)]
pub struct CardInput {
    pub title: String,
    /// Markdown.
    pub description: String,
    pub kind: CardKind,
    /// An epic's key.
    pub epic: Option<String>,
    /// A sprint's number; None: the backlog.
    pub sprint: Option<u32>,
    pub points: Option<u32>,
    pub assignee: Option<String>,
    pub labels: Vec<String>,
    pub links: Vec<CardLink>,
    /// A column id or name; None: the first column for a new card, unchanged for an edit.
    pub column: Option<String>,
}

/// A new epic, or an epic's editable fields.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
#[ts(export)]
pub struct EpicInput {
    pub title: String,
    pub description: String,
    pub color: Option<String>,
    pub done: bool,
}

/// A new sprint, or a sprint's editable fields.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
#[ts(export)]
pub struct SprintInput {
    /// None: "Sprint <number>".
    pub name: Option<String>,
    pub goal: String,
    /// `YYYY-MM-DD`.
    pub start: Option<String>,
    /// `YYYY-MM-DD`.
    pub end: Option<String>,
}

/// One day of a sprint's burndown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct BurndownDay {
    /// `YYYY-MM-DD` (days are UTC days).
    pub date: String,
    /// Points of the sprint's cards outside a done column at the end of the day; None for days
    /// still to come (and for days before a late start).
    pub remaining: Option<u32>,
    /// The ideal line: the committed points on the first day down to 0 on the last.
    pub ideal: f64,
    /// Points that joined the sprint that day after it started (new cards, raised estimates).
    pub scope_added: u32,
    /// Points that left it that day (cards moved out or deleted, lowered estimates).
    pub scope_removed: u32,
}

/// A sprint's burndown: remaining points per day against the ideal line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Burndown {
    pub sprint: u32,
    pub name: String,
    pub state: SprintState,
    pub start: String,
    pub end: String,
    /// Points outside done columns when the sprint started.
    pub committed: u32,
    /// Points done by the end (or by now).
    pub completed: u32,
    /// Points not done by the end (or now).
    pub remaining: u32,
    pub scope_added: u32,
    pub scope_removed: u32,
    pub days: Vec<BurndownDay>,
    /// Every change of scope after the start, oldest first.
    pub scope_changes: Vec<ScopeChange>,
}

/// One closed sprint's velocity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Velocity {
    pub sprint: u32,
    pub name: String,
    /// Points outside done columns when it started.
    pub committed: u32,
    /// Points of its cards in done columns when it closed.
    pub completed: u32,
}

/// The file formats of export and import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum BoardFormat {
    /// The whole board with its history (`BoardState` plus a version); round-trips exactly.
    Json,
    /// Issues only, with Jira's column names (see `board::exchange`).
    Csv,
}

impl BoardFormat {
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "json" => Some(Self::Json),
            "csv" => Some(Self::Csv),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Csv => "csv",
        }
    }
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ImportReport {
    pub project: String,
    pub format: Option<BoardFormat>,
    pub cards_created: u32,
    pub cards_updated: u32,
    pub epics_created: u32,
    pub epics_updated: u32,
    pub sprints_created: u32,
    /// CSV columns Slipway does not read (Jira exports carry many).
    pub ignored_columns: Vec<String>,
}
