//! One integration-test binary (one link instead of one per file).

mod client;
mod sim;
mod store;
