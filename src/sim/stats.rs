//! Counters for assertions: requests by method, route template and status, logins, the
//! highest concurrency seen, injected faults by kind and applied writes.

use serde::ser::{Serialize, SerializeStruct, Serializer};
use std::collections::BTreeMap;

/// The status recorded for a request whose connection was dropped without an answer.
pub const NO_ANSWER: u16 = 0;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimStats {
    /// (method, route template such as `/api/v11/Service/{id}`, status) → count;
    /// status [`NO_ANSWER`] for dropped connections.
    pub requests: BTreeMap<(String, String, u16), u64>,
    pub logins: u64,
    pub failed_logins: u64,
    /// The most requests of one user in flight at once.
    pub max_in_flight: usize,
    /// `error`, `lost_response`, `rate_limit`, `in_flight`, `drop`, `drop_after_apply`,
    /// `latency`.
    pub faults_injected: BTreeMap<String, u64>,
    /// Writes that changed the catalogue, lost responses included.
    pub writes_applied: u64,
}

impl SimStats {
    /// Requests to `template` with `method`, whatever their status.
    #[must_use]
    pub fn count(&self, method: &str, template: &str) -> u64 {
        self.requests
            .iter()
            .filter(|((m, t, _), _)| m.eq_ignore_ascii_case(method) && t == template)
            .map(|(_, n)| n)
            .sum()
    }

    /// Requests to `template` with `method` answered `status`.
    #[must_use]
    pub fn count_status(&self, method: &str, template: &str, status: u16) -> u64 {
        self.requests
            .get(&(method.to_ascii_uppercase(), template.to_owned(), status))
            .copied()
            .unwrap_or(0)
    }

    /// Every request that was not a read, whatever its outcome.
    #[must_use]
    pub fn total_writes(&self) -> u64 {
        self.requests
            .iter()
            .filter(|((m, _, _), _)| m != "GET" && m != "HEAD")
            .map(|(_, n)| n)
            .sum()
    }

    /// Every request with this status.
    #[must_use]
    pub fn with_status(&self, status: u16) -> u64 {
        self.requests
            .iter()
            .filter(|((_, _, s), _)| *s == status)
            .map(|(_, n)| n)
            .sum()
    }

    #[must_use]
    pub fn faults(&self, kind: &str) -> u64 {
        self.faults_injected.get(kind).copied().unwrap_or(0)
    }

    pub(crate) fn fault(&mut self, kind: &str) {
        *self.faults_injected.entry(kind.to_owned()).or_default() += 1;
    }
}

/// JSON cannot key maps by tuples, so requests serialise as a list of rows.
impl Serialize for SimStats {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(serde::Serialize)]
        struct Row<'a> {
            method: &'a str,
            path: &'a str,
            status: u16,
            count: u64,
        }
        let rows: Vec<Row<'_>> = self
            .requests
            .iter()
            .map(|((method, path, status), count)| Row {
                method,
                path,
                status: *status,
                count: *count,
            })
            .collect();
        let mut st = s.serialize_struct("SimStats", 6)?;
        st.serialize_field("requests", &rows)?;
        st.serialize_field("logins", &self.logins)?;
        st.serialize_field("failedLogins", &self.failed_logins)?;
        st.serialize_field("maxInFlight", &self.max_in_flight)?;
        st.serialize_field("faultsInjected", &self.faults_injected)?;
        st.serialize_field("writesApplied", &self.writes_applied)?;
        st.end()
    }
}
