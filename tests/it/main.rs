//! One integration-test binary (one link instead of one per file).

mod adopt;
mod cli;
mod client;
mod config;
mod crash;
mod daemon;
mod drift;
mod engine;
mod export;
mod ha;
mod hardening;
mod ops;
mod plan;
mod readiness;
mod sim;
mod soak;
mod sources;
mod store;
mod support;
mod touch;
mod units;
mod validate;
