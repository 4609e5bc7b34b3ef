//! The one vocabulary of what happens to an item. The planner's steps, a run's report and
//! recorded run items, the audit log and the metrics all speak it, so a value is spelt the
//! same in a plan's JSON, in the database and in a label.

use super::stored_enum;

stored_enum! {
    /// What ptv-sync does, or decides not to do, to one item. The planner uses the first
    /// nine; a connection set's write is recorded as `Connections`, and the last three are
    /// the audit log's records of what a person asked for.
    #[derive(PartialOrd, Ord)]
    pub enum Action {
        Create => "create",
        Update => "update",
        Restore => "restore",
        Archive => "archive",
        Unchanged => "unchanged",
        /// Invalid in the source: not sent, not archived.
        Invalid => "invalid",
        /// Failed terminally before with this same content: waits for a change, the
        /// cool-down or `--full`.
        Held => "held",
        /// Gone from the source but protected: kept in PTV.
        Protected => "protected",
        /// Unchanged, but not written for so long that PTV would archive it: re-sent as it
        /// was last pushed (`plan::touch`).
        Touch => "touch",
        /// A service's connection set written as a whole.
        Connections => "connections",
        /// An item PTV already held, linked to its source document (`ptv-sync adopt`).
        Adopt => "adopt",
        /// `ptv-sync protect`: no write to PTV, recorded for who did it.
        Protect => "protect",
        Unprotect => "unprotect",
    }
}

impl Action {
    /// Does a planned step with this action write to PTV?
    #[must_use]
    pub fn writes(self) -> bool {
        matches!(
            self,
            Action::Create
                | Action::Update
                | Action::Restore
                | Action::Archive
                | Action::Touch
                | Action::Connections
        )
    }
}

stored_enum! {
    /// How one item's step ended, in a run's report and in its recorded run items.
    #[derive(PartialOrd, Ord)]
    pub enum Outcome {
        Ok => "ok",
        Failed => "failed",
        /// Needs a person (Modified or locked in PTV's UI, rights).
        NeedsPerson => "needs_person",
        /// Waiting for an item it depends on.
        Blocked => "blocked",
        /// Not attempted: dry run, guard trip or shutdown.
        Skipped => "skipped",
    }
}

#[cfg(test)]
mod tests {
    use super::Action;

    #[test]
    fn only_writes_write() {
        let writing: Vec<_> = Action::ALL.into_iter().filter(|a| a.writes()).collect();
        assert_eq!(
            writing,
            [
                Action::Create,
                Action::Update,
                Action::Restore,
                Action::Archive,
                Action::Touch,
                Action::Connections
            ]
        );
    }
}
