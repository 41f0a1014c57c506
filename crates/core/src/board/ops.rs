//! Operations on a [`BoardState`]: every change people and automation make, each validated
//! first. A refused operation returns a `UserError` (what, why, next) and leaves the state as it
//! was; an accepted one records its history (a [`CardMove`] per column change, a
//! [`ScopeChange`] per change to what a sprint holds).

use std::collections::HashSet;

use super::dates;
use super::model::*;
use crate::pipeline::project::is_id;
use crate::UserError;

/// The longest title a card or epic may have.
pub const MAX_TITLE: usize = 255;
/// The largest estimate a card may have.
pub const MAX_POINTS: u32 = 1000;
/// The largest card, epic or sprint number a board holds (a file with more is refused, so
/// "the next number" never overflows).
pub const MAX_NUMBER: u32 = 999_999_999;

/// To do, In progress, In review, Done.
pub fn default_columns() -> Vec<Column> {
    let c = |id: &str, name: &str, order: u32, category: ColumnCategory| Column { id: id.into(), name: name.into(), order, category, wip_limit: None };
    vec![
        c("todo", "To do", 0, ColumnCategory::Todo),
        c("in-progress", "In progress", 1, ColumnCategory::InProgress),
        c("in-review", "In review", 2, ColumnCategory::InProgress),
        c("done", "Done", 3, ColumnCategory::Done),
    ]
}

/// The card key prefix of a project: its first letter and the next consonants, up to three,
/// in capitals (`slipway` -> `SLP`, `shop` -> `SHP`, `sample-app` -> `SMP`).
pub fn key_prefix_for(project: &str) -> String {
    let letters: Vec<char> = project.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_uppercase()).collect();
    let Some((&first, rest)) = letters.split_first() else { return "CARD".into() };
    let mut p = String::from(first);
    for &c in rest.iter().filter(|c| !"AEIOU".contains(**c)) {
        if p.len() == 3 {
            break;
        }
        p.push(c);
    }
    for &c in rest {
        if p.len() >= 3 {
            break;
        }
        if !p[1..].contains(c) {
            p.push(c);
        }
    }
    if !first.is_ascii_alphabetic() {
        p.insert(0, 'P');
    }
    p
}

/// Splits `SLP-12` into (`SLP`, 12).
pub fn split_key(key: &str) -> Option<(&str, u32)> {
    let (p, n) = key.rsplit_once('-')?;
    let valid_prefix = p.starts_with(|c: char| c.is_ascii_alphabetic()) && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid_prefix || n.is_empty() || !n.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let n: u32 = n.parse().ok()?;
    (n <= MAX_NUMBER).then_some((p, n))
}

fn refused(what: &str, why: impl Into<String>, fix: impl Into<String>) -> UserError {
    UserError::new(what, why, fix)
}

fn trim_opt(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

impl BoardState {
    /// A new board with the default columns and automation on.
    pub fn new(project: &str, now: i64) -> Self {
        Self {
            board: Board {
                project: project.into(),
                name: project.into(),
                key_prefix: key_prefix_for(project),
                columns: default_columns(),
                automation: true,
                next_number: 1,
                created_at: now,
                updated_at: now,
            },
            cards: vec![],
            epics: vec![],
            sprints: vec![],
            moves: vec![],
            scope: vec![],
        }
    }

    /// The board without its history.
    pub fn data(&self) -> BoardData {
        BoardData { board: self.board.clone(), cards: self.cards.clone(), epics: self.epics.clone(), sprints: self.sprints.clone() }
    }

    /// The history of one card (by key), or of the whole board.
    pub fn history(&self, card: Option<&str>) -> BoardHistory {
        let keep = |k: &str| card.is_none_or(|c| c == k);
        BoardHistory {
            moves: self.moves.iter().filter(|m| keep(&m.card)).cloned().collect(),
            scope: self.scope.iter().filter(|s| keep(&s.card)).cloned().collect(),
        }
    }

    // ----- lookups ------------------------------------------------------------------------

    fn column_names(&self) -> String {
        self.board.columns.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ")
    }

    pub fn column_by_id(&self, id: &str) -> Option<&Column> {
        self.board.columns.iter().find(|c| c.id == id)
    }

    /// A column by id or name (names ignore case).
    pub fn find_column(&self, id_or_name: &str) -> Option<&Column> {
        let s = id_or_name.trim();
        self.column_by_id(s).or_else(|| self.board.columns.iter().find(|c| c.name.eq_ignore_ascii_case(s) || c.id.eq_ignore_ascii_case(s)))
    }

    /// A column by id or name, or an error listing the columns.
    pub fn column(&self, id_or_name: &str, what: &str) -> Result<&Column, UserError> {
        self.find_column(id_or_name).ok_or_else(|| {
            refused(
                what,
                format!("there is no column \"{}\" on board {} (columns: {})", id_or_name.trim(), self.board.project, self.column_names()),
                "Use one of the columns' names or ids",
            )
        })
    }

    /// The category of a column id (None for a column that no longer exists).
    pub fn category_of(&self, column: &str) -> Option<ColumnCategory> {
        self.column_by_id(column).map(|c| c.category)
    }

    pub fn is_done(&self, card: &Card) -> bool {
        self.category_of(&card.column) == Some(ColumnCategory::Done)
    }

    /// The leftmost column of a category.
    pub fn first_column(&self, category: ColumnCategory) -> Option<&Column> {
        self.board.columns.iter().filter(|c| c.category == category).min_by_key(|c| c.order)
    }

    fn card_index(&self, key: &str) -> Option<usize> {
        self.cards.iter().position(|c| c.key == key)
    }

    /// A card by key (`SLP-12`, any case) or number (`12`).
    pub fn find_card(&self, key_or_number: &str) -> Option<&Card> {
        let s = key_or_number.trim();
        if let Ok(n) = s.trim_start_matches('#').parse::<u32>() {
            return self.cards.iter().find(|c| c.number == n);
        }
        self.cards.iter().find(|c| c.key.eq_ignore_ascii_case(s))
    }

    pub fn card(&self, key_or_number: &str, what: &str) -> Result<&Card, UserError> {
        self.find_card(key_or_number).ok_or_else(|| {
            refused(what, format!("there is no card \"{}\" on board {}", key_or_number.trim(), self.board.project), "Use a card's key (like SLP-12) or number; `slipway board` lists them")
        })
    }

    /// An epic by key (`SLP-3`), number, or title (any case).
    pub fn find_epic(&self, s: &str) -> Option<&Epic> {
        let s = s.trim();
        if let Ok(n) = s.trim_start_matches('#').parse::<u32>() {
            return self.epics.iter().find(|e| e.number == n);
        }
        self.epics.iter().find(|e| e.key.eq_ignore_ascii_case(s)).or_else(|| self.epics.iter().find(|e| e.title.eq_ignore_ascii_case(s)))
    }

    pub fn epic(&self, s: &str, what: &str) -> Result<&Epic, UserError> {
        self.find_epic(s).ok_or_else(|| {
            let names: Vec<String> = self.epics.iter().map(|e| format!("{} {}", e.key, e.title)).collect();
            refused(
                what,
                format!("there is no epic \"{}\" on board {} (epics: {})", s.trim(), self.board.project, if names.is_empty() { "none".into() } else { names.join(", ") }),
                "Use an epic's key or title, or create it first",
            )
        })
    }

    /// A sprint by number or name (any case).
    pub fn find_sprint(&self, s: &str) -> Option<&Sprint> {
        let s = s.trim();
        if let Ok(n) = s.trim_start_matches('#').parse::<u32>() {
            return self.sprints.iter().find(|x| x.number == n);
        }
        self.sprints.iter().find(|x| x.name.eq_ignore_ascii_case(s))
    }

    pub fn sprint(&self, s: &str, what: &str) -> Result<&Sprint, UserError> {
        self.find_sprint(s).ok_or_else(|| {
            let names: Vec<String> = self.sprints.iter().map(|x| format!("{} ({})", x.name, x.state.as_str())).collect();
            refused(
                what,
                format!("there is no sprint \"{}\" on board {} (sprints: {})", s.trim(), self.board.project, if names.is_empty() { "none".into() } else { names.join(", ") }),
                "Use a sprint's number or name, or add it first",
            )
        })
    }

    fn sprint_by_number(&self, n: u32) -> Option<&Sprint> {
        self.sprints.iter().find(|s| s.number == n)
    }

    pub fn active_sprint(&self) -> Option<&Sprint> {
        self.sprints.iter().find(|s| s.state == SprintState::Active)
    }

    fn number_taken(&self, n: u32) -> bool {
        self.cards.iter().any(|c| c.number == n) || self.epics.iter().any(|e| e.number == n)
    }

    /// The next free number (and moves the counter past it), or `wanted` when it is free.
    pub(crate) fn take_number(&mut self, wanted: Option<u32>) -> u32 {
        let n = match wanted {
            Some(w) if w > 0 && !self.number_taken(w) => w,
            _ => {
                let mut n = self.board.next_number.max(1);
                while self.number_taken(n) {
                    n += 1;
                }
                n
            }
        };
        self.board.next_number = self.board.next_number.max(n.saturating_add(1));
        n
    }

    fn key_of(&self, number: u32) -> String {
        format!("{}-{number}", self.board.key_prefix)
    }

    fn cards_in(&self, column: &str) -> usize {
        self.cards.iter().filter(|c| c.column == column).count()
    }

    /// Ranks 0..n within each column, in the current order; then cards sorted by column
    /// order and rank.
    fn normalize_ranks(&mut self) {
        let order = |s: &BoardState, col: &str| s.column_by_id(col).map(|c| c.order).unwrap_or(u32::MAX);
        let mut idx: Vec<(u32, u32, usize)> = self.cards.iter().enumerate().map(|(i, c)| (order(self, &c.column), c.rank, i)).collect();
        idx.sort();
        let mut sorted: Vec<Card> = idx.iter().map(|&(_, _, i)| self.cards[i].clone()).collect();
        let mut last: Option<String> = None;
        let mut r = 0;
        for c in &mut sorted {
            if last.as_deref() != Some(c.column.as_str()) {
                last = Some(c.column.clone());
                r = 0;
            }
            c.rank = r;
            r += 1;
        }
        self.cards = sorted;
    }

    fn touch(&mut self, now: i64) {
        self.board.updated_at = now;
    }

    fn record_move(&mut self, card: &str, from: Option<String>, to: Option<String>, by: Actor, note: Option<String>, at: i64) {
        self.moves.push(CardMove { card: card.into(), from, to, at, by, note });
    }

    #[allow(clippy::too_many_arguments)]
    fn record_scope(&mut self, card: &str, sprint: u32, kind: ScopeChangeKind, before: Option<u32>, after: Option<u32>, by: Actor, at: i64) {
        self.scope.push(ScopeChange { card: card.into(), sprint, kind, points_before: before, points_after: after, at, by });
    }

    /// Records what a change of sprint and points means for the sprints involved.
    #[allow(clippy::too_many_arguments)]
    fn record_sprint_change(&mut self, card: &str, old_sprint: Option<u32>, old_points: Option<u32>, new_sprint: Option<u32>, new_points: Option<u32>, by: Actor, at: i64) {
        if old_sprint == new_sprint {
            if let Some(s) = new_sprint {
                if old_points != new_points {
                    self.record_scope(card, s, ScopeChangeKind::Points, old_points, new_points, by, at);
                }
            }
            return;
        }
        if let Some(s) = old_sprint {
            self.record_scope(card, s, ScopeChangeKind::Removed, old_points, None, by, at);
        }
        if let Some(s) = new_sprint {
            self.record_scope(card, s, ScopeChangeKind::Added, None, new_points, by, at);
        }
    }

    // ----- validation of inputs -----------------------------------------------------------

    fn check_title(title: &str, what: &str) -> Result<String, UserError> {
        let t = title.trim();
        if t.is_empty() {
            return Err(refused(what, "the title is empty", "Give it a title"));
        }
        if t.chars().count() > MAX_TITLE {
            return Err(refused(what, format!("the title is {} characters long", t.chars().count()), format!("Keep it to {MAX_TITLE} characters; put the rest in the description")));
        }
        Ok(t.to_string())
    }

    /// Checks a card's fields (the sprint only when it changes) and returns them cleaned up.
    fn check_card_input(&self, mut input: CardInput, what: &str, current_sprint: Option<u32>) -> Result<CardInput, UserError> {
        input.title = Self::check_title(&input.title, what)?;
        if let Some(p) = input.points {
            if p > MAX_POINTS {
                return Err(refused(what, format!("{p} story points is more than {MAX_POINTS}"), "Split the work into smaller cards"));
            }
        }
        if let Some(e) = &input.epic {
            input.epic = Some(self.epic(e, what)?.key.clone());
        }
        if let Some(s) = input.sprint {
            let sp = self.sprint_by_number(s).ok_or_else(|| self.sprint(&s.to_string(), what).unwrap_err())?;
            if sp.state == SprintState::Closed && current_sprint != Some(s) {
                return Err(refused(what, format!("{} is closed", sp.name), "Put the card in a planned or the active sprint, or in the backlog"));
            }
        }
        input.assignee = trim_opt(input.assignee);
        let mut labels: Vec<String> = vec![];
        for l in input.labels.iter().flat_map(|l| l.split_whitespace()) {
            if !labels.iter().any(|x| x == l) {
                labels.push(l.to_string());
            }
        }
        input.labels = labels;
        for l in &input.links {
            if l.target.trim().is_empty() {
                return Err(refused(what, "a link has no target", "Give every link a target (a run id, a resource, a revision or a URL)"));
            }
            if l.kind == LinkKind::Url && !(l.target.starts_with("http://") || l.target.starts_with("https://")) {
                return Err(refused(what, format!("\"{}\" is not an http(s) URL", l.target), "Write the link as https://..."));
            }
        }
        Ok(input)
    }

    // ----- cards --------------------------------------------------------------------------

    /// Adds a card at the bottom of its column (the first column when none is given).
    pub fn add_card(&mut self, input: CardInput, by: Actor, now: i64) -> Result<String, UserError> {
        self.add_card_as(input, None, None, by, None, now)
    }

    /// Adds a card with a wanted number (kept when free), an automation key and a note.
    pub(crate) fn add_card_as(
        &mut self,
        input: CardInput,
        number: Option<u32>,
        automation_key: Option<String>,
        by: Actor,
        note: Option<String>,
        now: i64,
    ) -> Result<String, UserError> {
        const WHAT: &str = "Card not added";
        let input = self.check_card_input(input, WHAT, None)?;
        let column = match &input.column {
            Some(c) => self.column(c, WHAT)?.clone(),
            None => self.board.columns.iter().min_by_key(|c| c.order).cloned().expect("a board has columns"),
        };
        if by == Actor::User {
            self.check_wip(&column, WHAT)?;
        }
        let number = self.take_number(number);
        let key = self.key_of(number);
        let rank = self.cards_in(&column.id) as u32;
        self.cards.push(Card {
            key: key.clone(),
            number,
            kind: input.kind,
            title: input.title,
            description: input.description,
            epic: input.epic,
            sprint: input.sprint,
            points: input.points,
            assignee: input.assignee,
            labels: input.labels,
            links: input.links,
            column: column.id.clone(),
            rank,
            created_by: by,
            automation_key,
            created_at: now,
            updated_at: now,
        });
        self.record_move(&key, None, Some(column.id), by, note, now);
        if let Some(s) = input.sprint {
            self.record_scope(&key, s, ScopeChangeKind::Added, None, input.points, by, now);
        }
        self.normalize_ranks();
        self.touch(now);
        Ok(key)
    }

    fn check_wip(&self, column: &Column, what: &str) -> Result<(), UserError> {
        if let Some(limit) = column.wip_limit {
            if self.cards_in(&column.id) as u32 >= limit {
                return Err(refused(
                    what,
                    format!("{} already holds {limit} cards, its work-in-progress limit", column.name),
                    format!("Finish or move a card out of {} first, or raise its limit", column.name),
                ));
            }
        }
        Ok(())
    }

    /// Replaces a card's editable fields; a `column` in the input moves it too.
    pub fn update_card(&mut self, key: &str, input: CardInput, by: Actor, now: i64) -> Result<String, UserError> {
        const WHAT: &str = "Card not saved";
        let key = self.card(key, WHAT)?.key.clone();
        let i = self.card_index(&key).expect("found above");
        let old = self.cards[i].clone();
        let input = self.check_card_input(input, WHAT, old.sprint)?;
        let target = match &input.column {
            Some(c) => Some(self.column(c, WHAT)?.id.clone()),
            None => None,
        };
        if let Some(t) = &target {
            if *t != old.column && by == Actor::User {
                let col = self.column_by_id(t).expect("resolved").clone();
                self.check_wip(&col, WHAT)?;
            }
        }
        let c = &mut self.cards[i];
        c.title = input.title;
        c.description = input.description;
        c.kind = input.kind;
        c.epic = input.epic;
        c.sprint = input.sprint;
        c.points = input.points;
        c.assignee = input.assignee;
        c.labels = input.labels;
        c.links = input.links;
        let changed = *c != old;
        if changed {
            c.updated_at = now;
        }
        let (ns, np) = (c.sprint, c.points);
        self.record_sprint_change(&key, old.sprint, old.points, ns, np, by, now);
        if let Some(t) = target.filter(|t| *t != old.column) {
            self.move_card_inner(&key, &t, None, by, None, now, false)?;
        }
        if changed {
            self.touch(now);
        }
        Ok(key)
    }

    /// Moves a card to a column (any case of its name or id), at `position` from the top (the
    /// bottom when None). People's moves respect the column's WIP limit.
    pub fn move_card(&mut self, key: &str, column: &str, position: Option<u32>, by: Actor, note: Option<String>, now: i64) -> Result<String, UserError> {
        const WHAT: &str = "Card not moved";
        let key = self.card(key, WHAT)?.key.clone();
        let to = self.column(column, WHAT)?.id.clone();
        self.move_card_inner(&key, &to, position, by, note, now, by == Actor::User)?;
        Ok(key)
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn move_card_inner(&mut self, key: &str, to: &str, position: Option<u32>, by: Actor, note: Option<String>, now: i64, enforce_wip: bool) -> Result<(), UserError> {
        let i = self.card_index(key).expect("caller resolved the key");
        let from = self.cards[i].column.clone();
        if from != to && enforce_wip {
            let col = self.column_by_id(to).expect("caller resolved the column").clone();
            self.check_wip(&col, "Card not moved")?;
        }
        // Order of the target column without the card, then the card at its place.
        let mut others: Vec<usize> = (0..self.cards.len()).filter(|&j| j != i && self.cards[j].column == to).collect();
        others.sort_by_key(|&j| self.cards[j].rank);
        let at = position.map(|p| (p as usize).min(others.len())).unwrap_or(others.len());
        others.insert(at, i);
        for (r, &j) in others.iter().enumerate() {
            self.cards[j].rank = r as u32;
        }
        self.cards[i].column = to.to_string();
        if from != to {
            self.cards[i].updated_at = now;
            self.record_move(key, Some(from), Some(to.to_string()), by, note, now);
        }
        self.normalize_ranks();
        self.touch(now);
        Ok(())
    }

    /// Deletes a card (its history stays: the burndown still knows it left).
    pub fn delete_card(&mut self, key: &str, by: Actor, now: i64) -> Result<String, UserError> {
        let key = self.card(key, "Card not deleted")?.key.clone();
        let i = self.card_index(&key).expect("found above");
        let c = self.cards.remove(i);
        self.record_move(&key, Some(c.column.clone()), None, by, None, now);
        if let Some(s) = c.sprint {
            self.record_scope(&key, s, ScopeChangeKind::Removed, c.points, None, by, now);
        }
        self.normalize_ranks();
        self.touch(now);
        Ok(key)
    }

    // ----- epics --------------------------------------------------------------------------

    pub fn add_epic(&mut self, input: EpicInput, by: Actor, now: i64) -> Result<String, UserError> {
        self.add_epic_as(input, None, None, by, now)
    }

    pub(crate) fn add_epic_as(&mut self, input: EpicInput, number: Option<u32>, automation_key: Option<String>, by: Actor, now: i64) -> Result<String, UserError> {
        let title = Self::check_title(&input.title, "Epic not added")?;
        let number = self.take_number(number);
        let key = self.key_of(number);
        self.epics.push(Epic {
            key: key.clone(),
            number,
            title,
            description: input.description,
            color: trim_opt(input.color),
            done: input.done,
            created_by: by,
            automation_key,
            created_at: now,
            updated_at: now,
        });
        self.touch(now);
        Ok(key)
    }

    pub fn update_epic(&mut self, key: &str, input: EpicInput, now: i64) -> Result<String, UserError> {
        const WHAT: &str = "Epic not saved";
        let key = self.epic(key, WHAT)?.key.clone();
        let title = Self::check_title(&input.title, WHAT)?;
        let e = self.epics.iter_mut().find(|e| e.key == key).expect("found above");
        let old = e.clone();
        e.title = title;
        e.description = input.description;
        e.color = trim_opt(input.color);
        e.done = input.done;
        if *e != old {
            e.updated_at = now;
            self.touch(now);
        }
        Ok(key)
    }

    /// Deletes an epic; its cards stay, without an epic. Returns the cards touched.
    pub fn delete_epic(&mut self, key: &str, now: i64) -> Result<Vec<String>, UserError> {
        let key = self.epic(key, "Epic not deleted")?.key.clone();
        self.epics.retain(|e| e.key != key);
        let mut touched = vec![];
        for c in self.cards.iter_mut().filter(|c| c.epic.as_deref() == Some(key.as_str())) {
            c.epic = None;
            c.updated_at = now;
            touched.push(c.key.clone());
        }
        self.touch(now);
        Ok(touched)
    }

    // ----- sprints ------------------------------------------------------------------------

    fn check_sprint_fields(&self, number: u32, input: &SprintInput, what: &str) -> Result<(String, Option<String>, Option<String>), UserError> {
        let name = trim_opt(input.name.clone()).unwrap_or_else(|| format!("Sprint {number}"));
        if name.chars().count() > MAX_TITLE {
            return Err(refused(what, "the name is too long", format!("Keep it to {MAX_TITLE} characters")));
        }
        if name.parse::<u32>().is_ok() {
            return Err(refused(what, format!("\"{name}\" is only a number"), "Give it a name with a word in it, like \"Sprint 3\""));
        }
        if self.sprints.iter().any(|s| s.number != number && s.name.eq_ignore_ascii_case(&name)) {
            return Err(refused(what, format!("there is already a sprint named \"{name}\""), "Pick another name"));
        }
        let date = |v: &Option<String>, which: &str| -> Result<Option<String>, UserError> {
            match trim_opt(v.clone()) {
                None => Ok(None),
                Some(d) => match dates::parse_date(&d) {
                    Some(days) => Ok(Some(dates::format_date(days))),
                    None => Err(refused(what, format!("the {which} date \"{d}\" is not a date"), "Write dates as YYYY-MM-DD")),
                },
            }
        };
        let (start, end) = (date(&input.start, "start")?, date(&input.end, "end")?);
        if let (Some(s), Some(e)) = (&start, &end) {
            if e < s {
                return Err(refused(what, format!("it would end ({e}) before it starts ({s})"), "Give an end date on or after the start date"));
            }
        }
        Ok((name, start, end))
    }

    /// Adds a planned sprint; returns its number.
    pub fn add_sprint(&mut self, input: SprintInput, now: i64) -> Result<u32, UserError> {
        let number = self.sprints.iter().map(|s| s.number).max().unwrap_or(0).saturating_add(1);
        if number > MAX_NUMBER {
            return Err(refused("Sprint not added", format!("the board already has sprint number {MAX_NUMBER}"), "Delete old sprints first"));
        }
        let (name, start, end) = self.check_sprint_fields(number, &input, "Sprint not added")?;
        self.sprints.push(Sprint { number, name, goal: input.goal.trim().to_string(), start, end, state: SprintState::Planned, started_at: None, closed_at: None });
        self.touch(now);
        Ok(number)
    }

    pub fn update_sprint(&mut self, sprint: &str, input: SprintInput, now: i64) -> Result<u32, UserError> {
        const WHAT: &str = "Sprint not saved";
        let number = self.sprint(sprint, WHAT)?.number;
        let (name, start, end) = self.check_sprint_fields(number, &input, WHAT)?;
        let s = self.sprints.iter_mut().find(|s| s.number == number).expect("found above");
        if s.state == SprintState::Closed && (start != s.start || end != s.end) {
            return Err(refused(WHAT, format!("{} is closed", s.name), "A closed sprint's dates stay as they were"));
        }
        s.name = name;
        s.goal = input.goal.trim().to_string();
        s.start = start;
        s.end = end;
        self.touch(now);
        Ok(number)
    }

    /// Starts a planned sprint (dates given here replace its own; both must be known). Its
    /// committed scope is what it holds now.
    pub fn start_sprint(&mut self, sprint: &str, start: Option<String>, end: Option<String>, now: i64) -> Result<u32, UserError> {
        const WHAT: &str = "Sprint not started";
        let s = self.sprint(sprint, WHAT)?.clone();
        if s.state != SprintState::Planned {
            return Err(refused(WHAT, format!("{} is {}", s.name, s.state.as_str()), "Start a planned sprint"));
        }
        if let Some(a) = self.active_sprint() {
            return Err(refused(WHAT, format!("{} is still active", a.name), format!("Close {} first", a.name)));
        }
        let input = SprintInput {
            name: Some(s.name.clone()),
            goal: s.goal.clone(),
            start: start.or(s.start.clone()).or_else(|| Some(dates::format_date(dates::day_of_ms(now)))),
            end: end.or(s.end.clone()),
        };
        let (_, start, end) = self.check_sprint_fields(s.number, &input, WHAT)?;
        if end.is_none() {
            return Err(refused(WHAT, format!("{} has no end date", s.name), "Give the end date (YYYY-MM-DD)"));
        }
        let sp = self.sprints.iter_mut().find(|x| x.number == s.number).expect("found above");
        sp.start = start;
        sp.end = end;
        sp.state = SprintState::Active;
        sp.started_at = Some(now);
        self.touch(now);
        Ok(s.number)
    }

    /// Closes the active sprint: its unfinished cards go to the planned sprint `carry_to`, or
    /// to the backlog. Returns the cards that left it.
    pub fn close_sprint(&mut self, sprint: &str, carry_to: Option<&str>, by: Actor, now: i64) -> Result<Vec<String>, UserError> {
        const WHAT: &str = "Sprint not closed";
        let s = self.sprint(sprint, WHAT)?.clone();
        if s.state != SprintState::Active {
            return Err(refused(WHAT, format!("{} is {}", s.name, s.state.as_str()), "Close the active sprint"));
        }
        let to = match carry_to {
            Some(t) => {
                let t = self.sprint(t, WHAT)?;
                if t.state != SprintState::Planned {
                    return Err(refused(WHAT, format!("unfinished cards cannot go to {}: it is {}", t.name, t.state.as_str()), "Name a planned sprint, or leave them to the backlog"));
                }
                Some(t.number)
            }
            None => None,
        };
        let open: Vec<(String, Option<u32>)> = self.cards.iter().filter(|c| c.sprint == Some(s.number) && !self.is_done(c)).map(|c| (c.key.clone(), c.points)).collect();
        for (key, points) in &open {
            let i = self.card_index(key).expect("listed above");
            self.cards[i].sprint = to;
            self.cards[i].updated_at = now;
            self.record_sprint_change(key, Some(s.number), *points, to, *points, by, now);
        }
        let sp = self.sprints.iter_mut().find(|x| x.number == s.number).expect("found above");
        sp.state = SprintState::Closed;
        sp.closed_at = Some(now);
        self.touch(now);
        Ok(open.into_iter().map(|(k, _)| k).collect())
    }

    /// Deletes a sprint that is not active; its cards go to the backlog.
    pub fn delete_sprint(&mut self, sprint: &str, by: Actor, now: i64) -> Result<Vec<String>, UserError> {
        const WHAT: &str = "Sprint not deleted";
        let s = self.sprint(sprint, WHAT)?.clone();
        if s.state == SprintState::Active {
            return Err(refused(WHAT, format!("{} is active", s.name), "Close it first"));
        }
        let keys: Vec<(String, Option<u32>)> = self.cards.iter().filter(|c| c.sprint == Some(s.number)).map(|c| (c.key.clone(), c.points)).collect();
        for (key, points) in &keys {
            let i = self.card_index(key).expect("listed above");
            self.cards[i].sprint = None;
            self.cards[i].updated_at = now;
            self.record_sprint_change(key, Some(s.number), *points, None, *points, by, now);
        }
        self.sprints.retain(|x| x.number != s.number);
        self.touch(now);
        Ok(keys.into_iter().map(|(k, _)| k).collect())
    }

    // ----- the board itself ---------------------------------------------------------------

    fn check_columns(columns: &[Column], what: &str) -> Result<(), UserError> {
        if columns.is_empty() {
            return Err(refused(what, "there are no columns", "Keep at least a to-do and a done column"));
        }
        let mut ids = HashSet::new();
        let mut names = HashSet::new();
        for c in columns {
            if !is_id(&c.id) {
                return Err(refused(what, format!("\"{}\" is not a column id", c.id), "Use lowercase letters, digits and dashes (up to 40), starting with a letter"));
            }
            if !ids.insert(c.id.as_str()) {
                return Err(refused(what, format!("two columns have the id \"{}\"", c.id), "Give every column its own id"));
            }
            let n = c.name.trim();
            if n.is_empty() || n.chars().count() > 60 {
                return Err(refused(what, format!("column \"{}\" needs a name of 1 to 60 characters", c.id), "Name it"));
            }
            if !names.insert(n.to_lowercase()) {
                return Err(refused(what, format!("two columns are named \"{n}\""), "Give every column its own name"));
            }
            if c.wip_limit == Some(0) {
                return Err(refused(what, format!("column {n} has a WIP limit of 0"), "Use a limit of 1 or more, or none"));
            }
        }
        if !columns.iter().any(|c| c.category == ColumnCategory::Done) {
            return Err(refused(what, "no column is a done column", "Mark one column (usually the last) as done: the burndown counts cards there as finished"));
        }
        if columns.iter().all(|c| c.category == ColumnCategory::Done) {
            return Err(refused(what, "every column is a done column", "Keep at least one column for work not finished"));
        }
        Ok(())
    }

    /// Replaces the columns (in the order given). A column that still holds cards cannot go.
    pub fn set_columns(&mut self, columns: Vec<Column>, now: i64) -> Result<(), UserError> {
        const WHAT: &str = "Columns not saved";
        let mut columns: Vec<Column> = columns.into_iter().map(|mut c| {
            c.id = c.id.trim().to_string();
            c.name = c.name.trim().to_string();
            c
        }).collect();
        Self::check_columns(&columns, WHAT)?;
        for old in &self.board.columns {
            let n = self.cards_in(&old.id);
            if n > 0 && !columns.iter().any(|c| c.id == old.id) {
                return Err(refused(WHAT, format!("column {} still holds {n} card{}", old.name, if n == 1 { "" } else { "s" }), format!("Move the cards out of {} first", old.name)));
            }
        }
        for (i, c) in columns.iter_mut().enumerate() {
            c.order = i as u32;
        }
        self.board.columns = columns;
        self.normalize_ranks();
        self.touch(now);
        Ok(())
    }

    pub fn set_automation(&mut self, on: bool, now: i64) {
        self.board.automation = on;
        self.touch(now);
    }

    /// Checks a whole state (what a JSON import brings): columns, unique keys and numbers,
    /// every reference (column, epic, sprint), one active sprint at most. Fixes the number
    /// counter and the ranks.
    pub fn validate(&mut self) -> Result<(), UserError> {
        const WHAT: &str = "Import refused: the board is unchanged";
        const FIX: &str = "Fix the file (or export the board again) and import it again; nothing was imported";
        let bad = |why: String| refused(WHAT, why, FIX);
        Self::check_columns(&self.board.columns, WHAT).map_err(|e| bad(e.why))?;
        self.board.columns.sort_by_key(|c| c.order);
        for (i, c) in self.board.columns.iter_mut().enumerate() {
            c.order = i as u32;
        }
        if self.board.key_prefix.is_empty() || !self.board.key_prefix.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(bad(format!("\"{}\" is not a key prefix", self.board.key_prefix)));
        }
        let mut keys = HashSet::new();
        let mut numbers = HashSet::new();
        for (key, number) in self.cards.iter().map(|c| (&c.key, c.number)).chain(self.epics.iter().map(|e| (&e.key, e.number))) {
            if !keys.insert(key.clone()) {
                return Err(bad(format!("the key {key} is used twice")));
            }
            if !numbers.insert(number) {
                return Err(bad(format!("the number {number} is used twice ({key})")));
            }
        }
        let mut sprint_numbers = HashSet::new();
        for s in &self.sprints {
            if !sprint_numbers.insert(s.number) {
                return Err(bad(format!("sprint number {} is used twice", s.number)));
            }
        }
        if self.sprints.iter().filter(|s| s.state == SprintState::Active).count() > 1 {
            return Err(bad("more than one sprint is active".into()));
        }
        for c in &self.cards {
            if c.title.trim().is_empty() {
                return Err(bad(format!("card {} has no title", c.key)));
            }
            if self.column_by_id(&c.column).is_none() {
                return Err(bad(format!("card {} is in column \"{}\", which the board does not have", c.key, c.column)));
            }
            if let Some(e) = &c.epic {
                if !self.epics.iter().any(|x| &x.key == e) {
                    return Err(bad(format!("card {} belongs to epic {e}, which is not in the file", c.key)));
                }
            }
            if let Some(s) = c.sprint {
                if !sprint_numbers.contains(&s) {
                    return Err(bad(format!("card {} is in sprint {s}, which is not in the file", c.key)));
                }
            }
            if c.points.is_some_and(|p| p > MAX_POINTS) {
                return Err(bad(format!("card {} has more than {MAX_POINTS} points", c.key)));
            }
        }
        let max = numbers.into_iter().chain(sprint_numbers).chain([self.board.next_number.saturating_sub(1)]).max().unwrap_or(0);
        if max > MAX_NUMBER {
            return Err(bad(format!("the number {max} is larger than a board's largest ({MAX_NUMBER})")));
        }
        self.board.next_number = self.board.next_number.max(max + 1);
        self.normalize_ranks();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(title: &str, points: Option<u32>) -> CardInput {
        CardInput { title: title.into(), points, ..Default::default() }
    }

    #[test]
    fn key_prefixes() {
        assert_eq!(key_prefix_for("slipway"), "SLP");
        assert_eq!(key_prefix_for("shop"), "SHP");
        assert_eq!(key_prefix_for("sample-app"), "SMP");
        assert_eq!(key_prefix_for("aei"), "AEI");
        assert_eq!(key_prefix_for("x"), "X");
        assert_eq!(key_prefix_for("9lives"), "P9LV");
        assert_eq!(key_prefix_for(""), "CARD");
        assert_eq!(split_key("SLP-12"), Some(("SLP", 12)));
        assert_eq!(split_key("SLP-"), None);
        assert_eq!(split_key("12"), None);
    }

    #[test]
    fn cards_get_keys_ranks_and_history() {
        let mut b = BoardState::new("slipway", 1);
        let a = b.add_card(card("First", Some(3)), Actor::User, 10).unwrap();
        let c = b.add_card(CardInput { column: Some("In Progress".into()), ..card("Second", None) }, Actor::User, 11).unwrap();
        let d = b.add_card(card("Third", Some(1)), Actor::User, 12).unwrap();
        assert_eq!((a.as_str(), c.as_str(), d.as_str()), ("SLP-1", "SLP-2", "SLP-3"));
        assert_eq!(b.find_card("2").unwrap().column, "in-progress");
        assert_eq!(b.find_card("slp-3").unwrap().rank, 1);
        // Move to the top of In progress.
        b.move_card("SLP-3", "in-progress", Some(0), Actor::User, None, 20).unwrap();
        let col: Vec<(&str, u32)> = b.cards.iter().filter(|c| c.column == "in-progress").map(|c| (c.key.as_str(), c.rank)).collect();
        assert_eq!(col, [("SLP-3", 0), ("SLP-2", 1)]);
        assert_eq!(b.find_card("SLP-1").unwrap().rank, 0, "ranks close up in the column it left");
        let m = b.moves.last().unwrap();
        assert_eq!((m.from.as_deref(), m.to.as_deref(), m.at, m.by), (Some("todo"), Some("in-progress"), 20, Actor::User));
        // Reordering within a column is not a move.
        let n = b.moves.len();
        b.move_card("SLP-2", "in-progress", Some(0), Actor::User, None, 21).unwrap();
        assert_eq!(b.moves.len(), n);
        b.delete_card("SLP-1", Actor::User, 30).unwrap();
        assert_eq!(b.moves.last().unwrap().to, None);
        assert!(b.find_card("SLP-1").is_none());
        assert_eq!(b.add_card(card("Fourth", None), Actor::User, 31).unwrap(), "SLP-4", "numbers are never reused");
    }

    #[test]
    fn moves_are_validated_and_a_refused_move_changes_nothing() {
        let mut b = BoardState::new("shop", 1);
        b.add_card(card("A", None), Actor::User, 2).unwrap();
        let before = b.clone();
        let e = b.move_card("SHP-1", "Blocked", None, Actor::User, None, 3).unwrap_err();
        assert_eq!(e.what, "Card not moved");
        assert!(e.why.contains("no column \"Blocked\"") && e.why.contains("To do, In progress, In review, Done"), "{e}");
        let e = b.move_card("SHP-9", "done", None, Actor::User, None, 3).unwrap_err();
        assert!(e.why.contains("no card \"SHP-9\""), "{e}");
        assert_eq!(b, before);

        // WIP limit: people are stopped, automation is not.
        let mut cols = default_columns();
        cols[1].wip_limit = Some(1);
        b.set_columns(cols, 4).unwrap();
        b.add_card(card("B", None), Actor::User, 5).unwrap();
        b.move_card("SHP-1", "in-progress", None, Actor::User, None, 6).unwrap();
        let e = b.move_card("SHP-2", "in-progress", None, Actor::User, None, 7).unwrap_err();
        assert!(e.why.contains("work-in-progress limit"), "{e}");
        b.move_card("SHP-2", "in-progress", None, Actor::Automation, Some("apply".into()), 8).unwrap();
        assert_eq!(b.moves.last().unwrap().by, Actor::Automation);
    }

    #[test]
    fn card_inputs_are_checked() {
        let mut b = BoardState::new("shop", 1);
        let e = b.add_card(card("  ", None), Actor::User, 2).unwrap_err();
        assert!(e.why.contains("title is empty"));
        let e = b.add_card(CardInput { epic: Some("Nope".into()), ..card("A", None) }, Actor::User, 2).unwrap_err();
        assert!(e.why.contains("no epic \"Nope\""), "{e}");
        let e = b.add_card(CardInput { sprint: Some(4), ..card("A", None) }, Actor::User, 2).unwrap_err();
        assert!(e.why.contains("no sprint \"4\""), "{e}");
        let e = b.add_card(CardInput { links: vec![CardLink { kind: LinkKind::Url, target: "ftp://x".into(), label: None }], ..card("A", None) }, Actor::User, 2).unwrap_err();
        assert!(e.why.contains("not an http(s) URL"), "{e}");
        let e = b.add_card(card("A", Some(5000)), Actor::User, 2).unwrap_err();
        assert!(e.why.contains("more than 1000"), "{e}");
        assert!(b.cards.is_empty() && b.moves.is_empty());
        let epic = b.add_epic(EpicInput { title: "Checkout".into(), ..Default::default() }, Actor::User, 3).unwrap();
        let k = b.add_card(CardInput { epic: Some("checkout".into()), labels: vec!["a b".into(), "a".into()], ..card("A", None) }, Actor::User, 4).unwrap();
        let c = b.find_card(&k).unwrap();
        assert_eq!(c.epic.as_deref(), Some(epic.as_str()));
        assert_eq!(c.labels, ["a", "b"]);
        assert_eq!(b.delete_epic(&epic, 5).unwrap(), std::slice::from_ref(&k));
        assert_eq!(b.find_card(&k).unwrap().epic, None);
    }

    #[test]
    fn sprints_start_close_and_carry_unfinished_cards() {
        let mut b = BoardState::new("shop", 1);
        let s1 = b.add_sprint(SprintInput { goal: "Ship it".into(), start: Some("2026-03-02".into()), end: Some("2026-03-13".into()), ..Default::default() }, 2).unwrap();
        let s2 = b.add_sprint(SprintInput::default(), 2).unwrap();
        assert_eq!(b.find_sprint("sprint 2").unwrap().number, s2);
        let e = b.add_sprint(SprintInput { start: Some("2026-03-10".into()), end: Some("2026-03-01".into()), ..Default::default() }, 2).unwrap_err();
        assert!(e.why.contains("before it starts"), "{e}");
        let e = b.add_sprint(SprintInput { name: Some("Sprint 1".into()), ..Default::default() }, 2).unwrap_err();
        assert!(e.why.contains("already a sprint"), "{e}");
        let a = b.add_card(CardInput { sprint: Some(s1), ..card("A", Some(3)) }, Actor::User, 3).unwrap();
        let c = b.add_card(CardInput { sprint: Some(s1), ..card("B", Some(2)) }, Actor::User, 3).unwrap();
        b.start_sprint("1", None, None, 4).unwrap();
        let e = b.start_sprint("2", None, None, 5).unwrap_err();
        assert!(e.why.contains("still active"), "{e}");
        b.move_card(&a, "done", None, Actor::User, None, 6).unwrap();
        let e = b.close_sprint("1", Some("Sprint 1"), Actor::User, 7).unwrap_err();
        assert!(e.why.contains("it is active"), "{e}");
        assert_eq!(b.close_sprint("1", Some("2"), Actor::User, 8).unwrap(), std::slice::from_ref(&c));
        assert_eq!(b.find_card(&c).unwrap().sprint, Some(s2));
        assert_eq!(b.find_card(&a).unwrap().sprint, Some(s1), "done cards stay in the closed sprint");
        assert_eq!(b.find_sprint("1").unwrap().state, SprintState::Closed);
        let e = b.update_card(&c, CardInput { sprint: Some(s1), ..card("B", Some(2)) }, Actor::User, 9).unwrap_err();
        assert!(e.why.contains("is closed"), "{e}");
        let e = b.start_sprint("2", None, None, 9).unwrap_err();
        assert!(e.why.contains("no end date"), "{e}");
        b.start_sprint("2", Some("2026-03-16".into()), Some("2026-03-27".into()), 10).unwrap();
        let kinds: Vec<(u32, ScopeChangeKind)> = b.scope.iter().map(|s| (s.sprint, s.kind)).collect();
        assert_eq!(kinds, [(1, ScopeChangeKind::Added), (1, ScopeChangeKind::Added), (1, ScopeChangeKind::Removed), (2, ScopeChangeKind::Added)]);
    }

    #[test]
    fn columns_are_configurable_but_keep_a_done_column_and_their_cards() {
        let mut b = BoardState::new("shop", 1);
        b.add_card(CardInput { column: Some("In review".into()), ..card("A", None) }, Actor::User, 2).unwrap();
        let mut cols = default_columns();
        cols.retain(|c| c.id != "in-review");
        let e = b.set_columns(cols.clone(), 3).unwrap_err();
        assert!(e.why.contains("In review still holds 1 card"), "{e}");
        for c in &mut cols {
            c.category = ColumnCategory::Todo;
        }
        assert!(b.set_columns(cols, 3).unwrap_err().why.contains("no column is a done column"));
        let mut cols = default_columns();
        cols.push(Column { id: "Bad Id".into(), name: "X".into(), order: 9, category: ColumnCategory::Todo, wip_limit: None });
        assert!(b.set_columns(cols, 3).unwrap_err().why.contains("not a column id"));
        let mut cols = default_columns();
        cols.insert(0, Column { id: "backlog".into(), name: "Backlog".into(), order: 0, category: ColumnCategory::Todo, wip_limit: None });
        b.set_columns(cols, 3).unwrap();
        assert_eq!(b.board.columns.iter().map(|c| c.order).collect::<Vec<_>>(), [0, 1, 2, 3, 4]);
        assert_eq!(b.first_column(ColumnCategory::Todo).unwrap().id, "backlog");
    }
}
