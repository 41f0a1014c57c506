//! Provisioning: the blueprint, plans, and the executor that applies and destroys them through
//! a [`CloudDriver`]. The AWS driver lives in slipway-aws; tests drive it against moto.

pub mod blueprint;
pub mod cloudinit;
pub mod cost;
pub mod executor;
#[cfg(test)]
pub mod fake;
pub mod model;
pub mod plan;

pub use blueprint::{Blueprint, NodeSubnets};
pub use model::*;
