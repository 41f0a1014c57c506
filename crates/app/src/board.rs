//! The board as the front ends see it: the board of a project, its cards, epics, sprints and
//! columns, burndown and velocity, export and import; and the automation hooks the plan, apply,
//! pipeline and deploy code calls so the work moves the cards. Every change is one store
//! transaction (`Store::update_board`) and is announced as a `boardChanged` event. A hook never
//! fails the work that called it: a problem is logged as a warning.

use slipway_core::board::automation::{self, ApplyTracker, GroupMove};
use slipway_core::board::exchange;
use slipway_core::board::*;
use slipway_core::deploy::Revision;
use slipway_core::events::Event;
use slipway_core::pipeline::run::Run;
use slipway_core::provision::plan::Plan;
use slipway_core::provision::ResourceSpec;
use slipway_core::{now_ms, UserError};

use crate::provision::DEFAULT_PROJECT;
use crate::Slipway;

impl Slipway {
    // ----- which board ----------------------------------------------------------------------

    /// Every project that has a board or could have one (pipeline projects), by name.
    pub async fn board_projects(&self) -> Result<Vec<String>, UserError> {
        let mut all = self.store.board_projects().await?;
        all.extend(self.store.projects().await?.into_iter().map(|p| p.id));
        all.sort();
        all.dedup();
        Ok(all)
    }

    /// The board to use: the one named, else the only project there is (with a board or a
    /// pipeline), else `slipway` (the default blueprint's project) when there is none.
    pub async fn board_project(&self, project: Option<&str>) -> Result<String, UserError> {
        if let Some(p) = project.map(str::trim).filter(|p| !p.is_empty()) {
            if p.len() > 100 || p.chars().any(|c| c.is_control() || c == '/') {
                return Err(UserError::new(
                    "Invalid project",
                    format!("\"{p}\" is not a project id"),
                    "Use the project's id, as `slipway project list` shows it",
                ));
            }
            return Ok(p.to_string());
        }
        let all = self.board_projects().await?;
        match all.len() {
            0 => Ok(DEFAULT_PROJECT.to_string()),
            1 => Ok(all[0].clone()),
            _ => Err(UserError::new(
                "Which board?",
                format!(
                    "there are {} projects with boards: {}",
                    all.len(),
                    all.join(", ")
                ),
                "Name one with --project",
            )),
        }
    }

    async fn board_state(&self, project: &str) -> Result<BoardState, UserError> {
        Ok(self
            .store
            .board(project)
            .await?
            .unwrap_or_else(|| BoardState::new(project, now_ms())))
    }

    /// Runs a person's change on the board and announces the cards it touched.
    async fn board_change<T: Send + 'static>(
        &self,
        project: Option<&str>,
        f: impl FnOnce(&mut BoardState, i64) -> Result<(T, Vec<String>), UserError> + Send + 'static,
    ) -> Result<T, UserError> {
        let project = self.board_project(project).await?;
        let (out, cards) = self
            .store
            .update_board(&project, move |b| f(b, now_ms()))
            .await?;
        self.emit(Event::BoardChanged {
            project,
            cards,
            by: Actor::User,
        })
        .await;
        Ok(out)
    }

    // ----- reading --------------------------------------------------------------------------

    /// The board without its history (a new board when the project has none yet).
    pub async fn board(&self, project: Option<&str>) -> Result<BoardData, UserError> {
        let project = self.board_project(project).await?;
        Ok(self.board_state(&project).await?.data())
    }

    /// The moves and scope changes of one card (by key or number), or of the whole board.
    pub async fn board_history(
        &self,
        project: Option<&str>,
        card: Option<&str>,
    ) -> Result<BoardHistory, UserError> {
        let project = self.board_project(project).await?;
        let s = self.board_state(&project).await?;
        let key = match card {
            Some(c) => Some(
                s.card(c, "No history")
                    .map(|c| c.key.clone())
                    .or_else(|e| {
                        if s.moves.iter().any(|m| m.card == c) {
                            Ok(c.to_string())
                        } else {
                            Err(e)
                        }
                    })?,
            ),
            None => None,
        };
        Ok(s.history(key.as_deref()))
    }

    /// A sprint's burndown: the one named (number or name), else the active one, else the
    /// newest closed one.
    pub async fn burndown(
        &self,
        project: Option<&str>,
        sprint: Option<&str>,
    ) -> Result<Burndown, UserError> {
        let project = self.board_project(project).await?;
        let s = self.board_state(&project).await?;
        let number = match sprint {
            Some(x) => s.sprint(x, "No burndown")?.number,
            None => s
                .active_sprint()
                .or_else(|| {
                    s.sprints
                        .iter()
                        .filter(|x| x.state == SprintState::Closed)
                        .max_by_key(|x| x.number)
                })
                .map(|x| x.number)
                .ok_or_else(|| {
                    UserError::new(
                        "No burndown",
                        format!("board {project} has no active or closed sprint"),
                        "Start a sprint first (`slipway board sprint start`)",
                    )
                })?,
        };
        burndown(&s, number, now_ms())
    }

    /// Committed and completed points of every closed sprint.
    pub async fn velocity(&self, project: Option<&str>) -> Result<Vec<Velocity>, UserError> {
        let project = self.board_project(project).await?;
        Ok(velocity(&self.board_state(&project).await?))
    }

    // ----- cards ----------------------------------------------------------------------------

    pub async fn create_card(
        &self,
        project: Option<&str>,
        input: CardInput,
    ) -> Result<Card, UserError> {
        self.board_change(project, move |b, now| {
            let key = b.add_card(input, Actor::User, now)?;
            Ok((b.find_card(&key).cloned().expect("just added"), vec![key]))
        })
        .await
    }

    /// Replaces a card's editable fields (a `column` in the input moves it too).
    pub async fn update_card(
        &self,
        project: Option<&str>,
        key: &str,
        input: CardInput,
    ) -> Result<Card, UserError> {
        let key = key.to_string();
        self.board_change(project, move |b, now| {
            let key = b.update_card(&key, input, Actor::User, now)?;
            Ok((b.find_card(&key).cloned().expect("just saved"), vec![key]))
        })
        .await
    }

    /// Moves a card to a column (id or name), at `position` from the top (the bottom when None).
    pub async fn move_card(
        &self,
        project: Option<&str>,
        key: &str,
        column: &str,
        position: Option<u32>,
    ) -> Result<Card, UserError> {
        let (key, column) = (key.to_string(), column.to_string());
        self.board_change(project, move |b, now| {
            let key = b.move_card(&key, &column, position, Actor::User, None, now)?;
            Ok((b.find_card(&key).cloned().expect("just moved"), vec![key]))
        })
        .await
    }

    /// Deletes a card; returns its key.
    pub async fn delete_card(&self, project: Option<&str>, key: &str) -> Result<String, UserError> {
        let key = key.to_string();
        self.board_change(project, move |b, now| {
            let key = b.delete_card(&key, Actor::User, now)?;
            Ok((key.clone(), vec![key]))
        })
        .await
    }

    // ----- epics ----------------------------------------------------------------------------

    pub async fn create_epic(
        &self,
        project: Option<&str>,
        input: EpicInput,
    ) -> Result<Epic, UserError> {
        self.board_change(project, move |b, now| {
            let key = b.add_epic(input, Actor::User, now)?;
            Ok((b.find_epic(&key).cloned().expect("just added"), vec![]))
        })
        .await
    }

    pub async fn update_epic(
        &self,
        project: Option<&str>,
        key: &str,
        input: EpicInput,
    ) -> Result<Epic, UserError> {
        let key = key.to_string();
        self.board_change(project, move |b, now| {
            let key = b.update_epic(&key, input, now)?;
            Ok((b.find_epic(&key).cloned().expect("just saved"), vec![]))
        })
        .await
    }

    /// Deletes an epic; its cards stay, without an epic.
    pub async fn delete_epic(&self, project: Option<&str>, key: &str) -> Result<(), UserError> {
        let key = key.to_string();
        self.board_change(project, move |b, now| Ok(((), b.delete_epic(&key, now)?)))
            .await
    }

    // ----- sprints --------------------------------------------------------------------------

    pub async fn create_sprint(
        &self,
        project: Option<&str>,
        input: SprintInput,
    ) -> Result<Sprint, UserError> {
        self.board_change(project, move |b, now| {
            let n = b.add_sprint(input, now)?;
            Ok((
                b.find_sprint(&n.to_string()).cloned().expect("just added"),
                vec![],
            ))
        })
        .await
    }

    /// Changes a sprint's name, goal or dates (by number or name).
    pub async fn update_sprint(
        &self,
        project: Option<&str>,
        sprint: &str,
        input: SprintInput,
    ) -> Result<Sprint, UserError> {
        let sprint = sprint.to_string();
        self.board_change(project, move |b, now| {
            let n = b.update_sprint(&sprint, input, now)?;
            Ok((
                b.find_sprint(&n.to_string()).cloned().expect("just saved"),
                vec![],
            ))
        })
        .await
    }

    /// Starts a sprint (the oldest planned one when None); dates given replace its own.
    pub async fn start_sprint(
        &self,
        project: Option<&str>,
        sprint: Option<&str>,
        start: Option<String>,
        end: Option<String>,
    ) -> Result<Sprint, UserError> {
        let sprint = sprint.map(str::to_string);
        self.board_change(project, move |b, now| {
            let which = match sprint {
                Some(s) => s,
                None => b
                    .sprints
                    .iter()
                    .filter(|s| s.state == SprintState::Planned)
                    .min_by_key(|s| s.number)
                    .map(|s| s.number.to_string())
                    .ok_or_else(|| {
                        UserError::new(
                            "Sprint not started",
                            "there is no planned sprint",
                            "Add one first (`slipway board sprint add`)",
                        )
                    })?,
            };
            let n = b.start_sprint(&which, start, end, now)?;
            Ok((
                b.find_sprint(&n.to_string())
                    .cloned()
                    .expect("just started"),
                vec![],
            ))
        })
        .await
    }

    /// Closes a sprint (the active one when None); its unfinished cards go to `carry_to` (a
    /// planned sprint) or the backlog.
    pub async fn close_sprint(
        &self,
        project: Option<&str>,
        sprint: Option<&str>,
        carry_to: Option<&str>,
    ) -> Result<Sprint, UserError> {
        let (sprint, carry_to) = (sprint.map(str::to_string), carry_to.map(str::to_string));
        self.board_change(project, move |b, now| {
            let which = match sprint {
                Some(s) => s,
                None => b
                    .active_sprint()
                    .map(|s| s.number.to_string())
                    .ok_or_else(|| {
                        UserError::new(
                            "Sprint not closed",
                            "no sprint is active",
                            "Name the sprint to close",
                        )
                    })?,
            };
            let number = b.sprint(&which, "Sprint not closed")?.number;
            let moved = b.close_sprint(&which, carry_to.as_deref(), Actor::User, now)?;
            Ok((
                b.find_sprint(&number.to_string())
                    .cloned()
                    .expect("just closed"),
                moved,
            ))
        })
        .await
    }

    /// Deletes a sprint that is not active; its cards go to the backlog.
    pub async fn delete_sprint(
        &self,
        project: Option<&str>,
        sprint: &str,
    ) -> Result<(), UserError> {
        let sprint = sprint.to_string();
        self.board_change(project, move |b, now| {
            Ok(((), b.delete_sprint(&sprint, Actor::User, now)?))
        })
        .await
    }

    // ----- the board itself -----------------------------------------------------------------

    /// Replaces the columns (in the order given); a column holding cards cannot go.
    pub async fn set_board_columns(
        &self,
        project: Option<&str>,
        columns: Vec<Column>,
    ) -> Result<Board, UserError> {
        self.board_change(project, move |b, now| {
            b.set_columns(columns, now)?;
            Ok((b.board.clone(), vec![]))
        })
        .await
    }

    /// Turns the board's automation on or off (off: plans, applies, runs and deploys move nothing).
    pub async fn set_board_automation(
        &self,
        project: Option<&str>,
        on: bool,
    ) -> Result<Board, UserError> {
        self.board_change(project, move |b, now| {
            b.set_automation(on, now);
            Ok((b.board.clone(), vec![]))
        })
        .await
    }

    /// The board as JSON (everything, with history) or CSV (issues, Jira's column names).
    pub async fn export_board(
        &self,
        project: Option<&str>,
        format: BoardFormat,
    ) -> Result<String, UserError> {
        let project = self.board_project(project).await?;
        let s = self.board_state(&project).await?;
        Ok(match format {
            BoardFormat::Json => exchange::export_json(&s),
            BoardFormat::Csv => exchange::export_csv(&s),
        })
    }

    /// Imports a file: JSON replaces the board, CSV merges its issues in. Everything is checked
    /// first; on any error nothing changes and the error names the line.
    pub async fn import_board(
        &self,
        project: Option<&str>,
        format: BoardFormat,
        text: String,
    ) -> Result<ImportReport, UserError> {
        self.board_change(project, move |b, now| {
            let (next, report) = match format {
                BoardFormat::Json => exchange::import_json(b, &text)?,
                BoardFormat::Csv => exchange::import_csv(b, &text, now)?,
            };
            *b = next;
            Ok((report, vec![]))
        })
        .await
    }

    // ----- automation hooks -----------------------------------------------------------------

    /// Runs an automation rule on a board (nothing when its automation is off); announces the
    /// cards it touched; logs instead of failing.
    async fn automate(
        &self,
        project: &str,
        why: &str,
        f: impl FnOnce(&mut BoardState, i64) -> Vec<String> + Send + 'static,
    ) {
        let r = self
            .store
            .update_board(project, move |b| {
                Ok(if b.board.automation {
                    f(b, now_ms())
                } else {
                    vec![]
                })
            })
            .await;
        match r {
            Ok(cards) if !cards.is_empty() => {
                self.emit(Event::BoardChanged {
                    project: project.to_string(),
                    cards,
                    by: Actor::Automation,
                })
                .await
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(project, why, error = %e, "the board automation could not update the board")
            }
        }
    }

    /// After a plan: the provisioning epic and a card per resource group.
    pub async fn board_after_plan(&self, project: &str, specs: &[ResourceSpec], plan: &Plan) {
        let (p, specs, plan) = (project.to_string(), specs.to_vec(), plan.clone());
        self.automate(project, "plan", move |b, now| {
            automation::on_plan(b, &p, &specs, Some(&plan), now)
        })
        .await;
    }

    /// When an apply starts: the provisioning cards exist (a plan may never have run).
    pub async fn board_apply_started(&self, project: &str, specs: &[ResourceSpec]) {
        let (p, specs) = (project.to_string(), specs.to_vec());
        self.automate(project, "apply", move |b, now| {
            automation::on_plan(b, &p, &specs, None, now)
        })
        .await;
    }

    /// During an apply: a resource group's card moves.
    pub async fn board_group_move(&self, project: &str, specs: &[ResourceSpec], mv: GroupMove) {
        let (p, specs) = (project.to_string(), specs.to_vec());
        self.automate(project, "apply", move |b, now| {
            automation::on_group_move(b, &p, &specs, &mv, now)
        })
        .await;
    }

    /// Feeds an apply's progress events to the board while `work` runs (so cards move as
    /// resources come up), then moves what is left to Done when the apply succeeded.
    pub async fn with_board_tracking<T>(
        &self,
        project: &str,
        specs: &[ResourceSpec],
        work: impl std::future::Future<Output = Result<T, UserError>>,
    ) -> Result<T, UserError> {
        self.board_apply_started(project, specs).await;
        let mut rx = self.subscribe();
        let mut tracker = ApplyTracker::new(project, specs);
        let finished = tokio_util::sync::CancellationToken::new();
        let work = async {
            let r = work.await;
            finished.cancel();
            r
        };
        let watch = async {
            let mut moves: Vec<GroupMove> = vec![];
            loop {
                tokio::select! {
                    biased;
                    ev = rx.recv() => match ev {
                        Ok(env) => {
                            if let Event::ResourceProgress(p) = &env.event {
                                if let Some(m) = tracker.observe(p) {
                                    self.board_group_move(project, specs, m).await;
                                }
                            }
                        }
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => tracing::debug!(skipped = n, "board tracking lagged"),
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                    },
                    _ = finished.cancelled() => break,
                }
            }
            loop {
                match rx.try_recv() {
                    Ok(env) => {
                        if let Event::ResourceProgress(p) = &env.event {
                            moves.extend(tracker.observe(p));
                        }
                    }
                    Err(tokio::sync::broadcast::error::TryRecvError::Lagged(_)) => continue,
                    Err(_) => break,
                }
            }
            for m in moves {
                self.board_group_move(project, specs, m).await;
            }
        };
        let (r, ()) = tokio::join!(work, watch);
        if r.is_ok() {
            for m in tracker.finish() {
                self.board_group_move(project, specs, m).await;
            }
        }
        r
    }

    /// After a pipeline run: cards for failed stages, closed when the stage passes again.
    pub async fn board_after_run(&self, run: &Run, local_deploy: bool) {
        let r = run.clone();
        self.automate(&run.project, "pipeline run", move |b, now| {
            automation::on_run_finished(b, &r, local_deploy, now)
        })
        .await;
    }

    /// A project's committed secrets: a card listing them, moved to Done once they are in the
    /// keychain.
    pub async fn board_committed_secrets(&self, project: &str, secrets: &[slipway_core::pipeline::project::CommittedSecret], moved: bool) {
        let (p, list) = (project.to_string(), secrets.to_vec());
        self.automate(project, "committed secrets", move |b, now| {
            automation::on_committed_secrets(b, &p, &list, moved, now)
        })
        .await;
    }

    /// A deploy revision began or ended.
    pub async fn board_on_revision(&self, rev: &Revision) {
        let r = rev.clone();
        self.automate(&rev.project, "deploy", move |b, now| {
            automation::on_revision(b, &r, now)
        })
        .await;
    }
}
