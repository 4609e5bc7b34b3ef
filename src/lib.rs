//! ptv-sync keeps an organisation's organisations, services and service channels in the
//! Finnish Service Catalogue (PTV) in step with its own source system.
//!
//! Data flows source → model → validate → plan → apply → ptv → store.

pub mod fingerprint;
pub mod model;
pub mod plan;
pub mod ptv;
pub mod secret;
pub mod sim;
pub mod source;
pub mod store;
pub mod validate;
