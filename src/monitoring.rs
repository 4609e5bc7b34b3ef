//! The Prometheus exposition as operators expect it from an exporter (`node_exporter` is the
//! model): every metric described (`# HELP`), counters and only counters end in `_total`,
//! the run duration a histogram with fixed buckets, every per-organisation series present
//! from the start (zero), and a `ptv_sync_build_info`. The names below are the contract the
//! alert rules and dashboard in `config/monitoring/` rely on; a unit test checks both.

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};

/// What a metric is, as Prometheus types it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricType {
    Counter,
    Gauge,
    Histogram,
}

/// One exported metric: its name, type and help text.
#[derive(Debug, Clone, Copy)]
pub struct MetricDef {
    pub name: &'static str,
    pub kind: MetricType,
    pub help: &'static str,
}

const fn def(name: &'static str, kind: MetricType, help: &'static str) -> MetricDef {
    MetricDef { name, kind, help }
}

pub const BUILD_INFO: &str = "ptv_sync_build_info";
pub const RUNS: &str = "ptv_sync_runs_total";
pub const RUNS_FAILED: &str = "ptv_sync_runs_failed_total";
pub const GUARD_TRIPS: &str = "ptv_sync_guard_trips_total";
pub const ITEMS_DONE: &str = "ptv_sync_items_total";
pub const WRITES: &str = "ptv_sync_writes_total";
pub const HTTP_RESPONSES: &str = "ptv_sync_http_responses_total";
pub const LOGINS: &str = "ptv_sync_logins_total";
pub const RUN_DURATION: &str = "ptv_sync_run_duration_seconds";
pub const ITEMS_BY_STATE: &str = "ptv_sync_tracked_items";
pub const LAST_SUCCESS: &str = "ptv_sync_last_success_timestamp_seconds";
pub const MAX_AGE: &str = "ptv_sync_max_age_seconds";
pub const TOKEN_EXPIRY: &str = "ptv_sync_token_expiry_timestamp_seconds";
pub const CLIENT_CERT_EXPIRY: &str = "ptv_sync_client_certificate_expiry_timestamp_seconds";
pub const DRIFTED: &str = "ptv_sync_drifted_items";
pub const DRIFT_READS: &str = "ptv_sync_drift_reads_total";
pub const OLDEST_WRITE_AGE: &str = "ptv_sync_oldest_write_age_seconds";

/// Every metric the daemon exports.
pub const METRICS: [MetricDef; 17] = [
    def(
        BUILD_INFO,
        MetricType::Gauge,
        "Always 1; the labels name the running ptv-sync version.",
    ),
    def(
        RUNS,
        MetricType::Counter,
        "Sync runs finished, by outcome (ok, partial, guard_tripped, ...).",
    ),
    def(
        RUNS_FAILED,
        MetricType::Counter,
        "Sync runs that ended in a fatal error (source unreadable, PTV or the state store unreachable).",
    ),
    def(
        GUARD_TRIPS,
        MetricType::Counter,
        "Runs whose archive phase the mass-archive guard skipped.",
    ),
    def(
        ITEMS_DONE,
        MetricType::Counter,
        "Items handled by runs, by kind, planned action and outcome.",
    ),
    def(
        WRITES,
        MetricType::Counter,
        "Writes to PTV, by kind, action and outcome class.",
    ),
    def(
        HTTP_RESPONSES,
        MetricType::Counter,
        "HTTP responses from PTV by status code (\"none\": no response).",
    ),
    def(
        LOGINS,
        MetricType::Counter,
        "Logins to PTV made by this process.",
    ),
    def(
        RUN_DURATION,
        MetricType::Histogram,
        "Duration of successful sync runs in seconds.",
    ),
    def(
        ITEMS_BY_STATE,
        MetricType::Gauge,
        "Items in the state store by state (live, archived, failed, needs_person, drifted, not_in_ptv).",
    ),
    def(
        LAST_SUCCESS,
        MetricType::Gauge,
        "Unix time of the last successful run; 0 if there was none.",
    ),
    def(
        MAX_AGE,
        MetricType::Gauge,
        "The configured max_age in seconds: a success older than this is overdue.",
    ),
    def(
        TOKEN_EXPIRY,
        MetricType::Gauge,
        "Unix time the current PTV token expires; 0 before the first login.",
    ),
    def(
        CLIENT_CERT_EXPIRY,
        MetricType::Gauge,
        "Unix time the configured TLS client certificate expires (only with client_cert).",
    ),
    def(
        DRIFTED,
        MetricType::Gauge,
        "Items the drift check found changed in PTV (a person's edit, an archive, a removed connection) and not yet sent again.",
    ),
    def(
        DRIFT_READS,
        MetricType::Counter,
        "HTTP requests made by drift checks (reading back what PTV holds).",
    ),
    def(
        OLDEST_WRITE_AGE,
        MetricType::Gauge,
        "Seconds since the oldest last write of a live service or channel; PTV archives what is unsaved for 18 months (touch.after re-sends it first). 0 when there is none.",
    ),
];

/// Series that exist only once they happen: an HTTP status code is known when PTV answers
/// with it, a certificate's expiry when `client_cert` is configured.
pub const ON_FIRST_EVENT: [&str; 2] = [HTTP_RESPONSES, CLIENT_CERT_EXPIRY];

/// Run durations range from a second (nothing changed) to an hour (a first sync of
/// thousands of items at PTV's rate limits).
pub const RUN_DURATION_BUCKETS: [f64; 12] = [
    1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0,
];

/// Outcomes a run ends with, each pre-registered at zero.
pub const RUN_OUTCOMES: [&str; 3] = ["ok", "partial", "guard_tripped"];

/// The exporter with the run-duration histogram's buckets.
#[must_use]
pub fn builder() -> PrometheusBuilder {
    PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full(RUN_DURATION.to_owned()),
            &RUN_DURATION_BUCKETS,
        )
        .expect("the bucket list is not empty")
}

/// Describes every metric and sets `ptv_sync_build_info`; call once the recorder is in place.
pub fn describe() {
    for m in METRICS {
        match m.kind {
            MetricType::Counter => metrics::describe_counter!(m.name, m.help),
            MetricType::Gauge => metrics::describe_gauge!(m.name, m.help),
            MetricType::Histogram => {
                metrics::describe_histogram!(m.name, metrics::Unit::Seconds, m.help);
            }
        }
    }
    metrics::gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
}

/// Creates an organisation's series at zero, so that a rate or an alert sees them before the
/// first event (a counter that appears only when it first counts hides that first event).
pub fn register_org(org: &crate::model::OrgName, max_age: std::time::Duration) {
    use crate::model::ItemKind;
    use crate::model::{Action, Outcome};
    let org = org.to_string();
    for outcome in RUN_OUTCOMES {
        metrics::counter!(RUNS, "org" => org.clone(), "outcome" => outcome).absolute(0);
    }
    for name in [RUNS_FAILED, GUARD_TRIPS, LOGINS] {
        metrics::counter!(name, "org" => org.clone()).absolute(0);
    }
    for kind in ItemKind::ALL {
        for action in [
            Action::Create,
            Action::Update,
            Action::Restore,
            Action::Archive,
            Action::Touch,
        ] {
            for outcome in [Outcome::Ok, Outcome::Failed, Outcome::NeedsPerson] {
                metrics::counter!(ITEMS_DONE, "org" => org.clone(), "kind" => kind.as_str(), "action" => action.as_str(), "outcome" => outcome.as_str()).absolute(0);
            }
            metrics::counter!(WRITES, "org" => org.clone(), "kind" => kind.as_str(), "action" => action.as_str(), "outcome" => "ok").absolute(0);
        }
    }
    for state in crate::apply::STATE_LABELS {
        metrics::gauge!(ITEMS_BY_STATE, "org" => org.clone(), "state" => state).increment(0.0);
    }
    for name in [LAST_SUCCESS, TOKEN_EXPIRY, DRIFTED, OLDEST_WRITE_AGE] {
        metrics::gauge!(name, "org" => org.clone()).increment(0.0);
    }
    metrics::counter!(DRIFT_READS, "org" => org.clone()).absolute(0);
    metrics::gauge!(MAX_AGE, "org" => org.clone()).set(max_age.as_secs_f64());
    // Registering the histogram renders its buckets at zero.
    let _ = metrics::histogram!(RUN_DURATION, "org" => org);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};

    /// The exposition an idle daemon with one organisation renders.
    fn rendered() -> String {
        let recorder = builder().build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, || {
            describe();
            register_org(
                &crate::model::OrgName::parse("espoo").unwrap(),
                std::time::Duration::from_secs(86_400),
            );
        });
        handle.render()
    }

    /// `# TYPE` lines by metric family.
    fn types(text: &str) -> BTreeMap<String, String> {
        text.lines()
            .filter_map(|l| l.strip_prefix("# TYPE "))
            .map(|l| {
                let (n, t) = l.split_once(' ').expect("TYPE name kind");
                (n.to_owned(), t.to_owned())
            })
            .collect()
    }

    #[test]
    fn the_exposition_parses_and_every_metric_is_described_typed_and_present() {
        let text = rendered();
        let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned())))
            .expect("Prometheus text format");
        let types = types(&text);
        for m in METRICS {
            if ON_FIRST_EVENT.contains(&m.name) {
                continue;
            }
            assert_eq!(
                scrape.docs.get(m.name).map(String::as_str),
                Some(m.help),
                "# HELP for {}\n{text}",
                m.name
            );
            let expected = match m.kind {
                MetricType::Counter => "counter",
                MetricType::Gauge => "gauge",
                MetricType::Histogram => "histogram",
            };
            assert_eq!(
                types.get(m.name).map(String::as_str),
                Some(expected),
                "{text}"
            );
            assert!(
                scrape.samples.iter().any(|s| s.metric == m.name),
                "{} has no series before the first run:\n{text}",
                m.name
            );
        }
        let buckets = scrape
            .samples
            .iter()
            .find_map(|s| match &s.value {
                prometheus_parse::Value::Histogram(b) if s.metric == RUN_DURATION => Some(b.len()),
                _ => None,
            })
            .expect("run duration is a histogram");
        assert_eq!(buckets, RUN_DURATION_BUCKETS.len() + 1, "+Inf included");
        assert!(text.contains("ptv_sync_build_info{version=\""), "{text}");
    }

    #[test]
    fn counters_and_only_counters_end_in_total_and_no_family_has_two_types() {
        let text = rendered();
        let types = types(&text);
        let mut families = BTreeSet::new();
        for (name, kind) in &types {
            assert_eq!(
                kind == "counter",
                name.ends_with("_total"),
                "{name} is a {kind}"
            );
            let family = name.strip_suffix("_total").unwrap_or(name);
            assert!(
                families.insert(family.to_owned()),
                "{family} is both a gauge and a counter"
            );
        }
        assert_eq!(
            types.len(),
            METRICS.len() - ON_FIRST_EVENT.len(),
            "{types:?}"
        );
    }

    /// Every `ptv_sync_*` name an alert rule or a dashboard panel queries, with the
    /// histogram's `_bucket`/`_sum`/`_count` series mapped to the histogram.
    fn queried_names(text: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let mut rest = text;
        while let Some(at) = rest.find("ptv_sync_") {
            let tail = &rest[at..];
            let end = tail
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(tail.len());
            let name = &tail[..end];
            let base = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|s| name.strip_suffix(s))
                .filter(|b| *b == RUN_DURATION)
                .unwrap_or(name);
            out.insert(base.to_owned());
            rest = &tail[end..];
        }
        out
    }

    #[test]
    fn every_alert_rule_and_dashboard_query_names_an_exported_metric() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/monitoring");
        let rules: serde_json::Value = serde_norway::from_str(
            &std::fs::read_to_string(root.join("alerts.yml")).expect("alerts.yml"),
        )
        .expect("alerts.yml is YAML");
        let exported: BTreeSet<&str> = METRICS.iter().map(|m| m.name).collect();
        let mut alerts = 0;
        for group in rules["groups"].as_array().expect("groups") {
            for rule in group["rules"].as_array().expect("rules") {
                let expr = rule["expr"].as_str().expect("expr");
                let names = queried_names(expr);
                assert!(!names.is_empty(), "{expr} queries no ptv-sync metric");
                for n in names {
                    assert!(exported.contains(n.as_str()), "alert {rule} queries {n}");
                }
                assert!(rule["annotations"]["summary"].is_string(), "{rule}");
                alerts += 1;
            }
        }
        assert!(alerts >= 5, "{alerts} alert rules");
        let dashboard = std::fs::read_to_string(root.join("grafana-dashboard.json"))
            .expect("grafana-dashboard.json");
        let parsed: serde_json::Value =
            serde_json::from_str(&dashboard).expect("the dashboard is JSON");
        assert!(parsed["panels"].as_array().is_some_and(|p| !p.is_empty()));
        for n in queried_names(&dashboard) {
            assert!(exported.contains(n.as_str()), "the dashboard queries {n}");
        }
    }
}
