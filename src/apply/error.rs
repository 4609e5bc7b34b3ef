//! How a step can fail ([`StepError`]), and how each failure is reported. Its own file so
//! that a step (`step`) and the commit of its result (`commit`) both use it without
//! importing each other.

use crate::model::{ItemKind, Outcome, SourceId};
use crate::ptv::PtvError;

/// Why a step did not complete.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// The item left the source while the run was under way.
    #[error("no longer in the source")]
    Gone,
    /// The process is shutting down: not attempted.
    #[error("shutting down")]
    ShuttingDown,
    /// An item it hangs under is not in PTV yet.
    #[error("waiting for {kind} '{id}', which is not in PTV yet")]
    Waiting { kind: ItemKind, id: SourceId },
    #[error("state store: {0}")]
    Store(#[from] crate::store::StoreError),
    /// PTV refused or did not answer; recorded on the item's row.
    #[error("{0}")]
    Ptv(PtvError),
    /// Not created: PTV already holds an unlinked item it would duplicate, or the
    /// catalogue could not be checked (see `existing`).
    #[error("{message}")]
    Held { outcome: Outcome, message: String },
}

impl StepError {
    /// How the step is reported.
    #[must_use]
    pub fn outcome(&self) -> Outcome {
        match self {
            StepError::Gone | StepError::ShuttingDown => Outcome::Skipped,
            StepError::Waiting { .. } => Outcome::Blocked,
            StepError::Ptv(e) if e.class() == crate::ptv::ErrorClass::NeedsPerson => {
                Outcome::NeedsPerson
            }
            StepError::Held { outcome, .. } => *outcome,
            StepError::Store(_) | StepError::Ptv(_) => Outcome::Failed,
        }
    }
}
