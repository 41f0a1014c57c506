//! Pipelines: a project's services (detected from its repository), runs of the stages
//! Checkout, Build, Test, Push and Deploy over a [`engine::ContainerEngine`], and their logs.

pub mod confine;
pub mod compose;
pub mod config;
pub mod dburl;
pub mod detect;
pub mod engine;
pub mod project;
pub mod run;
pub mod logs;
pub mod local;
pub mod runner;
pub mod testing;
