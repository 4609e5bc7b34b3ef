//! State shared by every request of one simulator. Each lock is held only for a
//! bounded, synchronous piece of work and never across an `.await`.
//!
//! Time: the simulator has its own clock, real time plus an offset tests move
//! (`/_sim/clock`). Every timestamp the catalogue records comes from it, and taking
//! the catalogue lock first runs PTV's automatic archiving up to that moment, so a
//! test that moves the clock sees its effect on the next request.

use super::auth::Auth;
use super::config::{Faults, SimConfig};
use super::dice::{FaultState, Plan};
use super::stats::SimStats;
use super::store::{Catalogue, Entity, PublishingStatus, SimKind};
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};

pub(crate) struct Shared {
    pub auth: Auth,
    pub api_keys: HashSet<String>,
    catalogue: Mutex<Catalogue>,
    /// How far the sim clock runs ahead of (or behind) real time.
    clock_offset: Mutex<TimeDelta>,
    stats: Mutex<SimStats>,
    faults: Mutex<FaultState>,
    in_flight: Mutex<HashMap<String, usize>>,
}

impl Shared {
    pub fn new(config: SimConfig) -> Self {
        let mut catalogue = Catalogue::default();
        let now = Utc::now();
        catalogue.sweep(now);
        for org in &config.organizations {
            let names: BTreeMap<String, String> = org
                .languages
                .iter()
                .map(|lang| (lang.clone(), org.name.clone()))
                .collect();
            let body = json!({
                "id": org.id,
                "organizationType": org.organization_type,
                "areaType": org.area_type,
                "municipality": org.municipality,
                "organizationNames": org.languages.iter()
                    .map(|l| json!({"type": "Name", "language": l, "value": org.name}))
                    .collect::<Vec<_>>(),
                "publishingStatus": "Published",
            });
            catalogue.put(Entity {
                kind: SimKind::Organization,
                id: org.id,
                org: None,
                source: None,
                external: None,
                status: PublishingStatus::Published,
                versions: 1,
                names,
                languages: org.languages.clone(),
                area_type: Some(org.area_type.clone()),
                visible_for_all: true,
                body,
                api: "seed",
                connections: Vec::new(),
                locked_by: None,
                modified: now,
                modified_by: "seed".to_owned(),
                archived_at: None,
                archiving_type: None,
            });
        }
        Shared {
            auth: Auth::new(config.users, config.token_lifetime, config.token_style),
            api_keys: config.api_keys.into_iter().collect(),
            catalogue: Mutex::new(catalogue),
            clock_offset: Mutex::new(TimeDelta::zero()),
            stats: Mutex::new(SimStats::default()),
            faults: Mutex::new(FaultState::new(config.faults)),
            in_flight: Mutex::new(HashMap::new()),
        }
    }

    /// The catalogue, swept for automatic archiving up to the sim clock's now, which
    /// also stamps every save made under this guard.
    pub fn catalogue(&self) -> MutexGuard<'_, Catalogue> {
        let mut cat = self.catalogue.lock().expect("catalogue poisoned");
        // Read the clock under the lock, so stamps never go backwards between writers.
        cat.sweep(self.now());
        cat
    }

    /// The sim clock.
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + *self.clock_offset.lock().expect("clock poisoned")
    }

    /// Moves the sim clock by `by` (negative: back), then sweeps; answers the new now.
    pub fn advance_clock(&self, by: TimeDelta) -> DateTime<Utc> {
        {
            let mut offset = self.clock_offset.lock().expect("clock poisoned");
            *offset += by;
        }
        self.catalogue().now()
    }

    /// Sets the sim clock to `at`, then sweeps; answers the new now.
    pub fn set_clock(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        {
            let mut offset = self.clock_offset.lock().expect("clock poisoned");
            *offset = at - Utc::now();
        }
        self.catalogue().now()
    }

    pub fn stats(&self) -> MutexGuard<'_, SimStats> {
        self.stats.lock().expect("stats poisoned")
    }

    pub fn set_faults(&self, faults: Faults) {
        *self.faults.lock().expect("faults poisoned") = FaultState::new(faults);
    }

    pub fn faults(&self) -> Faults {
        self.faults.lock().expect("faults poisoned").faults.clone()
    }

    /// Rolls the dice for one request (see [`FaultState::roll`]).
    pub fn plan(&self, write: bool, may_fail: bool) -> Plan {
        self.faults
            .lock()
            .expect("faults poisoned")
            .roll(write, may_fail)
    }

    /// Counts a request of `user` in; answers how many of theirs are now in flight.
    pub fn enter(&self, user: &str) -> usize {
        let now = {
            let mut map = self.in_flight.lock().expect("in-flight poisoned");
            let n = map.entry(user.to_owned()).or_default();
            *n += 1;
            *n
        };
        let mut stats = self.stats();
        stats.max_in_flight = stats.max_in_flight.max(now);
        now
    }

    pub fn leave(&self, user: &str) {
        let mut map = self.in_flight.lock().expect("in-flight poisoned");
        if let Some(n) = map.get_mut(user) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                map.remove(user);
            }
        }
    }

    pub fn fault(&self, kind: &str) {
        self.stats().fault(kind);
    }

    pub fn record(&self, method: &str, template: String, status: u16) {
        *self
            .stats()
            .requests
            .entry((method.to_owned(), template, status))
            .or_default() += 1;
    }

    pub fn write_applied(&self) {
        self.stats().writes_applied += 1;
    }
}
