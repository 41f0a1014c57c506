//! Provisioning: the blueprint, plans, and the executor that applies and destroys them through
//! a [`CloudDriver`]. The AWS driver lives in slipway-aws; tests drive it against moto.

pub mod blueprint;
pub mod cloudinit;
pub mod cost;
pub mod model;

pub use blueprint::Blueprint;
pub use model::*;
