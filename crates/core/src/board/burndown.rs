//! Burndown and velocity, computed from the history. The state of every card at any moment is
//! found by starting from the cards as they are now and undoing, newest first, every move and
//! scope change after that moment: so cards added, removed, re-estimated or deleted in the
//! middle of a sprint count exactly when they did.

use std::collections::HashMap;

use super::dates::{self, DAY_MS};
use super::model::*;
use crate::UserError;

/// A card as it was at some moment, for one sprint.
#[derive(Debug, Clone, Default)]
struct CardAt {
    in_sprint: bool,
    points: Option<u32>,
    /// None: it did not exist (not created yet, or deleted).
    column: Option<String>,
}

/// Every card's state (for `sprint`) just after `cutoff` (events at or before it applied; with
/// `strict`, events at `cutoff` undone too).
fn state_at(s: &BoardState, sprint: u32, cutoff: i64, strict: bool) -> HashMap<String, CardAt> {
    let mut at: HashMap<String, CardAt> = s
        .cards
        .iter()
        .map(|c| (c.key.clone(), CardAt { in_sprint: c.sprint == Some(sprint), points: c.points, column: Some(c.column.clone()) }))
        .collect();
    let after = |t: i64| if strict { t >= cutoff } else { t > cutoff };
    for m in s.moves.iter().rev().filter(|m| after(m.at)) {
        at.entry(m.card.clone()).or_default().column = m.from.clone();
    }
    for c in s.scope.iter().rev().filter(|c| after(c.at)) {
        let e = at.entry(c.card.clone()).or_default();
        if c.sprint == sprint {
            match c.kind {
                ScopeChangeKind::Added => e.in_sprint = false,
                ScopeChangeKind::Removed => {
                    e.in_sprint = true;
                    e.points = c.points_before;
                }
                ScopeChangeKind::Points => e.points = c.points_before,
            }
        } else if c.kind == ScopeChangeKind::Points {
            e.points = c.points_before;
        }
    }
    at
}

/// (remaining, done) points of the sprint's cards in a state.
fn tally(s: &BoardState, cards: &HashMap<String, CardAt>) -> (u32, u32) {
    let (mut remaining, mut done) = (0, 0);
    for c in cards.values().filter(|c| c.in_sprint) {
        let Some(col) = &c.column else { continue };
        let p = c.points.unwrap_or(0);
        if s.category_of(col) == Some(ColumnCategory::Done) {
            done += p;
        } else {
            remaining += p;
        }
    }
    (remaining, done)
}

fn sprint_days(sp: &Sprint) -> Result<(i64, i64), UserError> {
    let missing = || UserError::new("No burndown", format!("{} has no dates", sp.name), "Give it a start and an end date (YYYY-MM-DD), or start it");
    let start = sp.start.as_deref().and_then(dates::parse_date).ok_or_else(missing)?;
    let end = sp.end.as_deref().and_then(dates::parse_date).ok_or_else(missing)?;
    Ok((start, end.max(start)))
}

/// When the sprint's committed scope is taken: when it was started, else the start of its
/// first day.
fn start_moment(sp: &Sprint, start_day: i64) -> i64 {
    sp.started_at.unwrap_or(start_day * DAY_MS)
}

/// The burndown of a sprint: for each day from its start to its end, the points of its cards
/// outside done columns at the end of that day (None for days to come, and for days before it
/// was started), the ideal line from
/// the committed points down to 0, and the scope added and removed that day after the start.
/// A closed sprint's last state is the one just before it closed.
pub fn burndown(s: &BoardState, sprint: u32, now: i64) -> Result<Burndown, UserError> {
    let sp = s
        .sprints
        .iter()
        .find(|x| x.number == sprint)
        .ok_or_else(|| UserError::new("No burndown", format!("there is no sprint {sprint} on board {}", s.board.project), "Pick a sprint of this board"))?;
    let (start_day, end_day) = sprint_days(sp)?;
    let started = start_moment(sp, start_day);
    let (committed, _) = match sp.state {
        SprintState::Planned => tally(s, &state_at(s, sprint, now, false)),
        _ => tally(s, &state_at(s, sprint, started, false)),
    };
    // The last moment that counts: now, or just before the close.
    let (last, strict) = match (sp.state, sp.closed_at) {
        (SprintState::Closed, Some(c)) => (c, true),
        _ => (now, false),
    };
    let n = end_day - start_day;
    let mut days = Vec::new();
    for (i, day) in (start_day..=end_day).enumerate() {
        let ideal = if n == 0 { 0.0 } else { committed as f64 * (n - i as i64) as f64 / n as f64 };
        let eod = (day + 1) * DAY_MS - 1;
        // Nothing is known before the day it started (a sprint started after its first day).
        let remaining = if sp.state == SprintState::Planned || day > dates::day_of_ms(last) || day < dates::day_of_ms(started) {
            None
        } else {
            let (cut, st) = if eod >= last { (last, strict) } else { (eod, false) };
            Some(tally(s, &state_at(s, sprint, cut, st)).0)
        };
        days.push(BurndownDay { date: dates::format_date(day), remaining, ideal, scope_added: 0, scope_removed: 0 });
    }
    let mut scope_changes = vec![];
    if sp.state != SprintState::Planned {
        for c in s.scope.iter().filter(|c| c.sprint == sprint && c.at > started && (!strict || c.at < last)) {
            let (added, removed) = match c.kind {
                ScopeChangeKind::Added => (c.points_after.unwrap_or(0), 0),
                ScopeChangeKind::Removed => (0, c.points_before.unwrap_or(0)),
                ScopeChangeKind::Points => {
                    let (b, a) = (c.points_before.unwrap_or(0), c.points_after.unwrap_or(0));
                    (a.saturating_sub(b), b.saturating_sub(a))
                }
            };
            let day = dates::day_of_ms(c.at).clamp(start_day, end_day);
            let d = &mut days[(day - start_day) as usize];
            d.scope_added += added;
            d.scope_removed += removed;
            scope_changes.push(c.clone());
        }
    }
    let (remaining, completed) = if sp.state == SprintState::Planned { (committed, 0) } else { tally(s, &state_at(s, sprint, last, strict)) };
    Ok(Burndown {
        sprint,
        name: sp.name.clone(),
        state: sp.state,
        start: dates::format_date(start_day),
        end: dates::format_date(end_day),
        committed,
        completed,
        remaining,
        scope_added: days.iter().map(|d| d.scope_added).sum(),
        scope_removed: days.iter().map(|d| d.scope_removed).sum(),
        days,
        scope_changes,
    })
}

/// Committed and completed points of every closed sprint, by number.
pub fn velocity(s: &BoardState) -> Vec<Velocity> {
    let mut closed: Vec<&Sprint> = s.sprints.iter().filter(|x| x.state == SprintState::Closed).collect();
    closed.sort_by_key(|x| x.number);
    closed
        .into_iter()
        .map(|sp| {
            let start_day = sp.start.as_deref().and_then(dates::parse_date).unwrap_or(0);
            let (committed, _) = tally(s, &state_at(s, sp.number, start_moment(sp, start_day), false));
            let completed = match sp.closed_at {
                Some(c) => tally(s, &state_at(s, sp.number, c, true)).1,
                None => 0,
            };
            Velocity { sprint: sp.number, name: sp.name.clone(), committed, completed }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;

    /// Noon UTC of a day of March 2026 (the sprint runs from the 2nd to the 6th).
    fn at(day: u32, hour: i64) -> i64 {
        dates::days_from_civil(2026, 3, day) * DAY_MS + hour * H
    }

    fn card(title: &str, points: u32, sprint: Option<u32>) -> CardInput {
        CardInput { title: title.into(), points: Some(points), sprint, ..Default::default() }
    }

    fn remaining(b: &Burndown) -> Vec<Option<u32>> {
        b.days.iter().map(|d| d.remaining).collect()
    }

    /// A five-day sprint with 5 + 3 + 2 = 10 points committed.
    fn sprint() -> (BoardState, [String; 3]) {
        let mut b = BoardState::new("shop", at(1, 9));
        let s = b.add_sprint(SprintInput { start: Some("2026-03-02".into()), end: Some("2026-03-06".into()), ..Default::default() }, at(1, 9)).unwrap();
        let a = b.add_card(card("A", 5, Some(s)), Actor::User, at(1, 10)).unwrap();
        let c = b.add_card(card("B", 3, Some(s)), Actor::User, at(1, 10)).unwrap();
        let d = b.add_card(card("C", 2, Some(s)), Actor::User, at(1, 10)).unwrap();
        b.add_card(card("Not in the sprint", 8, None), Actor::User, at(1, 10)).unwrap();
        b.start_sprint("1", None, None, at(2, 9)).unwrap();
        (b, [a, c, d])
    }

    #[test]
    fn remaining_per_day_against_the_ideal_line() {
        let (mut b, [a, c, _]) = sprint();
        b.move_card(&a, "in-progress", None, Actor::User, None, at(2, 10)).unwrap();
        b.move_card(&a, "done", None, Actor::User, None, at(3, 15)).unwrap();
        b.move_card(&c, "done", None, Actor::Automation, Some("deployed".into()), at(4, 11)).unwrap();
        let bd = burndown(&b, 1, at(4, 18)).unwrap();
        assert_eq!((bd.start.as_str(), bd.end.as_str(), bd.committed), ("2026-03-02", "2026-03-06", 10));
        assert_eq!(remaining(&bd), [Some(10), Some(5), Some(2), None, None], "days to come have no value yet");
        let ideal: Vec<f64> = bd.days.iter().map(|d| d.ideal).collect();
        assert_eq!(ideal, [10.0, 7.5, 5.0, 2.5, 0.0]);
        assert_eq!((bd.completed, bd.remaining, bd.scope_added, bd.scope_removed), (8, 2, 0, 0));
        // A move back out of done raises the remaining points again.
        b.move_card(&a, "In review", None, Actor::User, None, at(5, 9)).unwrap();
        assert_eq!(remaining(&burndown(&b, 1, at(5, 10)).unwrap()), [Some(10), Some(5), Some(2), Some(7), None]);
    }

    #[test]
    fn scope_added_and_removed_mid_sprint_moves_the_remaining_but_not_the_ideal_line() {
        let (mut b, [a, c, d]) = sprint();
        // Day 2: A done (-5). Day 3: a new card of 4 joins (+4) and the backlog card of 8 is
        // pulled in (+8). Day 4: B leaves (-3), C is re-estimated 2 -> 6 (+4). Day 5: the
        // pulled-in card is deleted (-8).
        b.move_card(&a, "done", None, Actor::User, None, at(2, 16)).unwrap();
        let e = b.add_card(card("E", 4, Some(1)), Actor::User, at(3, 10)).unwrap();
        let pulled = b.cards.iter().find(|c| c.title == "Not in the sprint").unwrap().key.clone();
        b.update_card(&pulled, card("Not in the sprint", 8, Some(1)), Actor::User, at(3, 11)).unwrap();
        b.update_card(&c, card("B", 3, None), Actor::User, at(4, 10)).unwrap();
        b.update_card(&d, card("C", 6, Some(1)), Actor::User, at(4, 12)).unwrap();
        b.delete_card(&pulled, Actor::User, at(5, 9)).unwrap();
        let bd = burndown(&b, 1, at(6, 20)).unwrap();
        assert_eq!(bd.committed, 10, "the commitment is what the sprint held when it started");
        assert_eq!(remaining(&bd), [Some(5), Some(17), Some(18), Some(10), Some(10)]);
        let added: Vec<u32> = bd.days.iter().map(|d| d.scope_added).collect();
        let removed: Vec<u32> = bd.days.iter().map(|d| d.scope_removed).collect();
        assert_eq!(added, [0, 12, 4, 0, 0]);
        assert_eq!(removed, [0, 0, 3, 8, 0]);
        assert_eq!((bd.scope_added, bd.scope_removed), (16, 11));
        assert_eq!(bd.scope_changes.len(), 5);
        assert_eq!(bd.scope_changes[0].card, e);
        assert_eq!(bd.days[0].ideal, 10.0);
        assert_eq!(bd.days[4].ideal, 0.0);
        assert_eq!((bd.remaining, bd.completed), (10, 5));
    }

    #[test]
    fn a_closed_sprint_ends_as_it_was_before_unfinished_cards_left_and_velocity_counts_it() {
        let (mut b, [a, c, _]) = sprint();
        b.move_card(&a, "done", None, Actor::User, None, at(3, 10)).unwrap();
        b.move_card(&c, "done", None, Actor::User, None, at(5, 10)).unwrap();
        b.add_sprint(SprintInput::default(), at(5, 11)).unwrap();
        let carried = b.close_sprint("1", Some("2"), Actor::User, at(6, 17)).unwrap();
        assert_eq!(carried.len(), 1);
        // After the close, cards move on without changing the closed sprint's numbers.
        b.move_card(&carried[0], "done", None, Actor::User, None, at(9, 10)).unwrap();
        let bd = burndown(&b, 1, at(12, 0)).unwrap();
        assert_eq!(bd.state, SprintState::Closed);
        assert_eq!(remaining(&bd), [Some(10), Some(5), Some(5), Some(2), Some(2)]);
        assert_eq!((bd.committed, bd.completed, bd.remaining, bd.scope_removed), (10, 8, 2, 0), "leaving at the close is not a scope change");
        assert_eq!(velocity(&b), [Velocity { sprint: 1, name: "Sprint 1".into(), committed: 10, completed: 8 }]);

        // Sprint 2 starts with the carried card (2 points) and finishes it.
        b.update_sprint("2", SprintInput { name: None, goal: String::new(), start: Some("2026-03-09".into()), end: Some("2026-03-13".into()) }, at(8, 0)).unwrap();
        b.start_sprint("2", None, None, at(9, 8)).unwrap();
        b.close_sprint("2", None, Actor::User, at(13, 17)).unwrap();
        let v = velocity(&b);
        assert_eq!(v.iter().map(|x| (x.sprint, x.committed, x.completed)).collect::<Vec<_>>(), [(1, 10, 8), (2, 2, 2)]);
    }

    #[test]
    fn planned_sprints_and_sprints_without_dates() {
        let mut b = BoardState::new("shop", 0);
        b.add_sprint(SprintInput::default(), 0).unwrap();
        let e = burndown(&b, 1, 0).unwrap_err();
        assert!(e.why.contains("has no dates"), "{e}");
        assert!(burndown(&b, 7, 0).unwrap_err().why.contains("no sprint 7"));
        b.update_sprint("1", SprintInput { start: Some("2026-03-02".into()), end: Some("2026-03-03".into()), ..Default::default() }, 1).unwrap();
        b.add_card(card("A", 3, Some(1)), Actor::User, 2).unwrap();
        let bd = burndown(&b, 1, 3).unwrap();
        assert_eq!((bd.committed, remaining(&bd)), (3, vec![None, None]));
        assert_eq!(bd.days.iter().map(|d| d.ideal).collect::<Vec<_>>(), [3.0, 0.0]);
        assert!(velocity(&b).is_empty());
        // Started two days late: the days before are unknown, not zero.
        b.start_sprint("1", Some("2026-03-02".into()), Some("2026-03-05".into()), at(4, 9)).unwrap();
        let bd = burndown(&b, 1, at(4, 10)).unwrap();
        assert_eq!(remaining(&bd), [None, None, Some(3), None]);
        assert_eq!(bd.committed, 3);
    }
}
