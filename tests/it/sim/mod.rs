//! The PTV simulator, exercised over HTTP. Tests named `rule_NN_…` show rule NN of
//! `reference.md` §12.

mod auth;
mod channel_rules;
mod clock;
mod connections;
mod control;
mod faults;
mod identity;
mod lifecycle;
mod organization_rules;
mod put_semantics;
mod service_rules;
mod support;
mod ui;
mod v12;
