//! "Now" for the engine and the daemon: every time the pipeline plans with, the applier
//! stamps rows, audit entries and run records with, and the daemon schedules by, comes
//! from one injectable [`Clock`], so that tests can run years of schedule in seconds
//! against a simulator whose clock they move. A leaf: imports nothing of ours.
//!
//! Not through it, on purpose: the PTV client's token expiry and retry waits, the
//! daemon's heartbeat and watchdog, and certificate checks. Those measure the real
//! world (a token PTV issued, systemd's patience), not the catalogue's calendar.

use chrono::{DateTime, TimeDelta, Utc};
use std::sync::{Arc, Mutex};

/// A source of the current time.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// How the engine and the daemon hold their clock.
pub type SharedClock = Arc<dyn Clock>;

/// The system's wall clock, what production runs on.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// The wall clock, shared.
#[must_use]
pub fn system() -> SharedClock {
    Arc::new(SystemClock)
}

/// A clock that stands still until it is set or moved (tests).
#[derive(Debug)]
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    #[must_use]
    pub fn new(at: DateTime<Utc>) -> Self {
        ManualClock(Mutex::new(at))
    }

    pub fn set(&self, at: DateTime<Utc>) {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = at;
    }

    pub fn advance(&self, by: TimeDelta) {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let t0 = DateTime::parse_from_rfc3339("2027-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let c = ManualClock::new(t0);
        assert_eq!(c.now(), t0);
        c.advance(TimeDelta::days(2));
        assert_eq!(c.now(), t0 + TimeDelta::days(2));
        c.set(t0);
        assert_eq!(c.now(), t0);
        assert!((SystemClock.now() - Utc::now()).num_seconds().abs() < 5);
    }
}
