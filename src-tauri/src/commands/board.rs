//! The Board page and the Sprint view. `project` is the board's project id (None: the only one);
//! cards and epics are named by key (`SHP-12`), sprints by number. Changes come back as
//! `boardChanged` events too (also those automation makes), so the page refetches the board.

use slipway_app::Slipway;
use slipway_core::board::*;
use slipway_core::UserError;
use std::sync::Arc;
use tauri::State;

type App<'a> = State<'a, Arc<Slipway>>;

fn num(n: Option<u32>) -> Option<String> {
    n.map(|n| n.to_string())
}

/// Every project that has (or could have) a board.
#[tauri::command]
pub async fn board_projects(app: App<'_>) -> Result<Vec<String>, UserError> {
    app.board_projects().await
}

#[tauri::command]
pub async fn get_board(app: App<'_>, project: Option<String>) -> Result<BoardData, UserError> {
    app.board(project.as_deref()).await
}

/// The moves and scope changes of one card, or of the whole board (the card drawer's history).
#[tauri::command]
pub async fn board_history(
    app: App<'_>,
    project: Option<String>,
    card: Option<String>,
) -> Result<BoardHistory, UserError> {
    app.board_history(project.as_deref(), card.as_deref()).await
}

#[tauri::command]
pub async fn create_card(
    app: App<'_>,
    project: Option<String>,
    input: CardInput,
) -> Result<Card, UserError> {
    app.create_card(project.as_deref(), input).await
}

/// Replaces a card's editable fields (a `column` in the input moves it too).
#[tauri::command]
pub async fn update_card(
    app: App<'_>,
    project: Option<String>,
    card: String,
    input: CardInput,
) -> Result<Card, UserError> {
    app.update_card(project.as_deref(), &card, input).await
}

/// Drag and drop: to `column` (id), at `position` from the top (None: the bottom).
#[tauri::command]
pub async fn move_card(
    app: App<'_>,
    project: Option<String>,
    card: String,
    column: String,
    position: Option<u32>,
) -> Result<Card, UserError> {
    app.move_card(project.as_deref(), &card, &column, position)
        .await
}

#[tauri::command]
pub async fn delete_card(
    app: App<'_>,
    project: Option<String>,
    card: String,
) -> Result<String, UserError> {
    app.delete_card(project.as_deref(), &card).await
}

#[tauri::command]
pub async fn create_epic(
    app: App<'_>,
    project: Option<String>,
    input: EpicInput,
) -> Result<Epic, UserError> {
    app.create_epic(project.as_deref(), input).await
}

#[tauri::command]
pub async fn update_epic(
    app: App<'_>,
    project: Option<String>,
    epic: String,
    input: EpicInput,
) -> Result<Epic, UserError> {
    app.update_epic(project.as_deref(), &epic, input).await
}

#[tauri::command]
pub async fn delete_epic(
    app: App<'_>,
    project: Option<String>,
    epic: String,
) -> Result<(), UserError> {
    app.delete_epic(project.as_deref(), &epic).await
}

#[tauri::command]
pub async fn create_sprint(
    app: App<'_>,
    project: Option<String>,
    input: SprintInput,
) -> Result<Sprint, UserError> {
    app.create_sprint(project.as_deref(), input).await
}

#[tauri::command]
pub async fn update_sprint(
    app: App<'_>,
    project: Option<String>,
    sprint: u32,
    input: SprintInput,
) -> Result<Sprint, UserError> {
    app.update_sprint(project.as_deref(), &sprint.to_string(), input)
        .await
}

/// Starts `sprint` (None: the oldest planned one); `start`/`end` (YYYY-MM-DD) replace its dates.
#[tauri::command]
pub async fn start_sprint(
    app: App<'_>,
    project: Option<String>,
    sprint: Option<u32>,
    start: Option<String>,
    end: Option<String>,
) -> Result<Sprint, UserError> {
    app.start_sprint(project.as_deref(), num(sprint).as_deref(), start, end)
        .await
}

/// Closes `sprint` (None: the active one); unfinished cards go to `carryTo` or the backlog.
#[tauri::command]
pub async fn close_sprint(
    app: App<'_>,
    project: Option<String>,
    sprint: Option<u32>,
    carry_to: Option<u32>,
) -> Result<Sprint, UserError> {
    app.close_sprint(
        project.as_deref(),
        num(sprint).as_deref(),
        num(carry_to).as_deref(),
    )
    .await
}

#[tauri::command]
pub async fn delete_sprint(
    app: App<'_>,
    project: Option<String>,
    sprint: u32,
) -> Result<(), UserError> {
    app.delete_sprint(project.as_deref(), &sprint.to_string())
        .await
}

/// `sprint` None: the active sprint, else the last closed one.
#[tauri::command]
pub async fn burndown(
    app: App<'_>,
    project: Option<String>,
    sprint: Option<u32>,
) -> Result<Burndown, UserError> {
    app.burndown(project.as_deref(), num(sprint).as_deref())
        .await
}

#[tauri::command]
pub async fn velocity(app: App<'_>, project: Option<String>) -> Result<Vec<Velocity>, UserError> {
    app.velocity(project.as_deref()).await
}

#[tauri::command]
pub async fn set_board_columns(
    app: App<'_>,
    project: Option<String>,
    columns: Vec<Column>,
) -> Result<Board, UserError> {
    app.set_board_columns(project.as_deref(), columns).await
}

#[tauri::command]
pub async fn set_board_automation(
    app: App<'_>,
    project: Option<String>,
    on: bool,
) -> Result<Board, UserError> {
    app.set_board_automation(project.as_deref(), on).await
}

/// The board as text: JSON (everything) or CSV (Jira's column names); the UI saves it.
#[tauri::command]
pub async fn export_board(
    app: App<'_>,
    project: Option<String>,
    format: BoardFormat,
) -> Result<String, UserError> {
    app.export_board(project.as_deref(), format).await
}

/// A file's text: JSON replaces the board, CSV merges its issues; any bad line refuses it all.
#[tauri::command]
pub async fn import_board(
    app: App<'_>,
    project: Option<String>,
    format: BoardFormat,
    text: String,
) -> Result<ImportReport, UserError> {
    app.import_board(project.as_deref(), format, text).await
}
