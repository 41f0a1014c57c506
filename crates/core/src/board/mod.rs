//! The board: Kanban columns, cards with story points, epics, sprints, and the history of every
//! move and scope change, from which the burndown and velocity are computed. Plans, applies,
//! pipeline runs and deploys create and move cards through [`automation`]; people do through the
//! same operations ([`ops`]). Everything here is pure: the store loads a [`BoardState`], an
//! operation changes it (or refuses with a `UserError` and changes nothing), and the store writes
//! the difference back in one transaction.

pub mod automation;
pub mod burndown;
pub mod dates;
pub mod exchange;
pub mod model;
pub mod ops;

pub use burndown::{burndown, velocity};
pub use ops::{default_columns, key_prefix_for};
pub use model::*;
