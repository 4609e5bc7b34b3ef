//! ptv-sync keeps an organisation's organisations, services and service channels in the
//! Finnish Service Catalogue (PTV) in step with its own source system.
//!
//! Data flows source → model → validate → plan → apply → ptv → store; `pipeline` walks
//! source to plan, `apply` applies a prepared plan, `startup` builds the store, PTV
//! clients and engines from the configuration; `daemon` schedules runs, `cli` is the
//! command line, `sim` is the faithful PTV everything is tested against.

pub mod apply;
pub mod certificate;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod db_url;
pub mod fingerprint;
pub mod model;
pub mod monitoring;
pub mod parallel;
pub mod pipeline;
pub mod plan;
pub mod ptv;
pub mod secret;
pub mod sim;
pub mod source;
pub mod startup;
pub mod store;
pub mod synth;
pub mod telemetry;
pub mod validate;
