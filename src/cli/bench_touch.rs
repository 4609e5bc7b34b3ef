//! `ptv-sync bench touch`: the writes the 18-month touch adds to a stable catalogue. The
//! real planner (validate once, then `plan::plan` each simulated day with the default
//! `[organization.touch]` and a daily schedule) runs over years of days against a state
//! whose last-write times it updates for every touch it plans; no HTTP, since what is
//! measured is how many writes the plan asks for, and when.

use crate::model::{Action, ItemKind, SourceId};
use crate::plan::touch::{TouchPolicy, ptv_archives_at};
use crate::plan::{PlanOptions, TouchOptions, plan};
use crate::store::PlanRow;
use crate::synth::{Shape, generate};
use crate::validate::{ValidateOptions, validate};
use chrono::{DateTime, TimeDelta, Utc};
use std::collections::HashMap;
use std::time::Duration;

/// What the touch did over the simulated days.
pub(super) struct TouchFigures {
    pub items: usize,
    pub touchable: usize,
    pub days: usize,
    pub total: usize,
    pub max_per_day: usize,
    /// Touches a day over the last simulated year (the steady state).
    pub per_day_last_year: f64,
    /// Items whose age passed 18 months at any run: PTV would have archived them.
    pub would_be_archived: usize,
    pub window_days: f64,
}

pub(super) fn bench_touch(items: usize, years: usize) -> TouchFigures {
    let docs = generate(Shape::new(items, 5));
    let snapshot = docs.snapshot();
    let v = validate(&snapshot, &ValidateOptions::default());
    let policy = TouchPolicy::default();
    let start: DateTime<Utc> = "2027-01-01T02:00:00Z".parse().expect("a valid time");
    let mut opts = PlanOptions {
        now: Some(start),
        touch: Some(TouchOptions {
            policy,
            every: Duration::from_secs(86_400),
        }),
        ..PlanOptions::default()
    };
    // The first sync pushes everything at `start`.
    let mut rows: Vec<PlanRow> = plan(&v, &[], &opts)
        .steps
        .iter()
        .map(|s| PlanRow::pushed(s.kind, s.id.clone(), s.fingerprint, Some(start)))
        .collect();
    let index: HashMap<(ItemKind, SourceId), usize> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| ((r.kind, r.source_id.clone()), i))
        .collect();
    let touchable = rows
        .iter()
        .filter(|r| matches!(r.kind, ItemKind::Service | ItemKind::Channel))
        .count();
    let days = years * 365;
    let mut per_day = Vec::with_capacity(days);
    let mut late = std::collections::HashSet::new();
    for day in 1..=days {
        let now = start + TimeDelta::days(i64::try_from(day).unwrap_or(i64::MAX));
        for r in rows
            .iter()
            .filter(|r| matches!(r.kind, ItemKind::Service | ItemKind::Channel))
        {
            if r.last_pushed_at
                .and_then(ptv_archives_at)
                .is_some_and(|at| at < now)
            {
                late.insert((r.kind, r.source_id.clone()));
            }
        }
        opts.now = Some(now);
        let p = plan(&v, &rows, &opts);
        let mut n = 0;
        for s in p.steps.iter().filter(|s| s.action == Action::Touch) {
            if let Some(i) = index.get(&(s.kind, s.id.clone())) {
                rows[*i].last_pushed_at = Some(now);
                n += 1;
            }
        }
        per_day.push(n);
    }
    let last_year = &per_day[per_day.len().saturating_sub(365)..];
    TouchFigures {
        items: v.present.len(),
        touchable,
        days,
        total: per_day.iter().sum(),
        max_per_day: per_day.iter().copied().max().unwrap_or(0),
        per_day_last_year: last_year.iter().sum::<usize>() as f64 / last_year.len().max(1) as f64,
        would_be_archived: late.len(),
        window_days: policy.window.as_secs_f64() / 86_400.0,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_small_catalogue_is_touched_in_time_and_never_in_a_burst() {
        let f = super::bench_touch(100, 2);
        assert_eq!(f.would_be_archived, 0);
        let ideal = f.touchable as f64 / f.window_days;
        assert!(
            (f.max_per_day as f64) <= 2.0 * ideal + 1.0,
            "{} a day",
            f.max_per_day
        );
        assert!(
            f.total >= f.touchable,
            "each item at least once in two years"
        );
    }
}
