//! ptv-sync keeps an organisation's organisations, services and service channels in the
//! Finnish Service Catalogue (PTV) in step with its own source system.
//!
//! Data flows source → model → validate → plan → apply → ptv → store; `pipeline` walks
//! source to plan, `apply` applies a prepared plan, `startup` builds the store, PTV
//! clients and engines from the configuration; `daemon` schedules runs, `cli` is the
//! command line, `sim` is the faithful PTV everything is tested against.
//!
//! `sim` and `synth` (the data generator) exist only with the default `sim` feature: the
//! tests, the demo and the benchmarks need them, a production daemon does not.

pub mod adopt;
pub mod apply;
pub mod certificate;
pub mod cli;
pub mod clock;
pub mod config;
pub mod daemon;
pub mod db_url;
pub mod drift;
pub mod export;
pub mod fingerprint;
pub mod model;
pub mod monitoring;
pub mod parallel;
pub mod pipeline;
pub mod plan;
pub mod ptv;
pub mod readiness;
pub mod secret;
#[cfg(feature = "sim")]
pub mod sim;
pub mod source;
pub mod startup;
pub mod store;
#[cfg(feature = "sim")]
pub mod synth;
pub mod telemetry;
pub mod validate;
