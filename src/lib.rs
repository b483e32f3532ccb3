//! ferret: a high-throughput secret scanner.
//!
//! Data flows one way: a [`source`] hands bytes to the [`engine`], whose matches become
//! [`finding`]s, which pass [`suppress`]ion and are written by a [`report`]er.
//! [`scan`] wires the pipeline; [`cmd`] holds one module per command.

pub mod cli;
pub mod cmd;
pub mod config;
pub mod engine;
pub mod finding;
pub mod report;
pub mod rules;
pub mod scan;
pub mod source;
pub mod suppress;
pub mod trace;
