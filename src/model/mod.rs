//! The version-neutral model of what the source says should exist in PTV.

mod kind;

pub use kind::{ApiVersion, ChannelType, ItemKind};
