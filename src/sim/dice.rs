//! What the fault dice decide for one request, from the faults in force and a seedable
//! random source. The middleware in `faults` acts on the decision; `state` holds the dice.

use super::config::Faults;
use std::time::Duration;

/// What the dice decided for one request.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Plan {
    pub latency: Duration,
    pub rate_limited: bool,
    pub max_in_flight: Option<usize>,
    /// `Some(applied)`: answer 500, after applying the write when `applied`.
    pub error: Option<bool>,
    /// `Some(applied)`: close the connection, after applying the write when `applied`.
    pub drop: Option<bool>,
}

/// The faults in force and the random source they are rolled with.
pub(crate) struct FaultState {
    pub faults: Faults,
    rng: fastrand::Rng,
}

impl FaultState {
    pub fn new(faults: Faults) -> Self {
        let rng = faults
            .seed
            .map_or_else(fastrand::Rng::new, fastrand::Rng::with_seed);
        FaultState { faults, rng }
    }

    /// Rolls the dice for one request. Error and drop rolls happen only for writes
    /// when `may_fail` is set, so reads and logins never 5xx.
    pub fn roll(&mut self, write: bool, may_fail: bool) -> Plan {
        let FaultState { faults, rng } = self;
        let mut plan = Plan {
            latency: faults.latency,
            max_in_flight: faults.max_in_flight,
            rate_limited: faults.rate_limit_rate > 0.0 && rng.f64() < faults.rate_limit_rate,
            ..Plan::default()
        };
        if write && may_fail {
            if faults.error_rate > 0.0 && rng.f64() < faults.error_rate {
                plan.error = Some(rng.f64() < faults.lost_response_share);
            } else if faults.drop_rate > 0.0 && rng.f64() < faults.drop_rate {
                plan.drop = Some(rng.f64() < faults.drop_after_apply_share);
            }
        }
        plan
    }
}
