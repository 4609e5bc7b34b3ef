//! A faithful in-memory PTV (v11 and v12 import APIs) for tests, the demo and
//! benchmarks. It enforces the rules of `reference.md` §12 with PTV's error shapes,
//! keeps one catalogue behind both API versions (a v11 GUID is the v12 contentId),
//! and injects faults on demand.
//!
//! Layout: [`config`] what a simulator starts with; `auth` tokens; `store` the
//! catalogue and its indexes; `engine` the version-neutral write rules; `v11` and
//! `v12` the two front ends; `catalogue` what PTV holds before we arrive; `dice` what
//! faults a request meets; `faults` injection middleware; `server` serving and the
//! [`SimHandle`]; `control` the `/_sim` surface; `ui` what a person does in PTV's
//! user interface. The simulator keeps its own clock (`state`), stamps every save with
//! it and runs PTV's automatic archiving (18 months unsaved) against it.

mod archived;
mod auth;
mod catalogue;
mod cli;
mod config;
mod control;
mod dice;
mod engine;
mod error;
mod faults;
mod login;
mod server;
mod state;
mod stats;
mod store;
mod ui;
mod v11;
mod v12;

pub use catalogue::{SeedError, SeedItem, parse_seed};
pub use cli::serve_cli;
pub use config::{Faults, SeedOrganization, SimConfig, SimUser, TokenStyle};
pub use server::{SimHandle, Simulator};
pub use stats::{NO_ANSWER, SimStats};
pub use store::{AUTO_ARCHIVE_MONTHS, ArchivingType, PublishingStatus, Scope, SimEntity, SimKind};
pub use ui::{UI_USER, UiError};
