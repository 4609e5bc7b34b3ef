//! The 18-month touch. PTV archives a service or channel nobody saved for 18 months
//! (reference §5), and ptv-sync writes only what changed, so an item that stays the
//! same in the source must be re-sent now and then: a `touch` re-sends the last pushed
//! payload, which resets PTV's clock. Organisations are exempt and never touched;
//! connection sets ride with their service (a connection write does not reset PTV's
//! clock, §3.4).
//!
//! # Spreading
//!
//! An item is *due* once its last write is [`TouchPolicy::after`] old, and must be sent
//! before its *deadline*, `after + window` after that write. Each run sends the oldest
//! due items, as many as the smallest steady rate that still meets every deadline given
//! the runs left before it ([`touches_this_run`]): a catalogue that became due all at
//! once is sent at about `items / window` per run-day, never in a burst, and an item at
//! or past its deadline is always sent. Missed runs only raise the rate as deadlines
//! come near.

use chrono::{DateTime, Months, TimeDelta, Utc};
use serde::Serialize;
use std::time::Duration;

/// PTV's automatic archiving: services and channels unsaved this long.
pub const PTV_ARCHIVES_AFTER_MONTHS: u32 = 18;
/// PTV warns this long after the last save; so does `status`.
pub const WARN_AFTER_MONTHS: u32 = 15;
/// A month as configuration durations count it (humantime's: 30.44 days).
pub const MONTH: Duration = Duration::from_secs(2_630_016);
/// The longest `touch.after`: a month short of PTV's 18.
pub const MAX_AFTER: Duration = Duration::from_secs(MONTH.as_secs() * 17);
/// What the default window leaves before PTV's 18 months.
pub const MARGIN: Duration = MONTH;
/// What a configured `after + window` must leave at least: late runs and failed writes
/// still need time.
pub const MIN_MARGIN: Duration = Duration::from_secs(14 * 86_400);

/// When a long-unchanged item is re-sent ([organization.touch]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TouchPolicy {
    /// A service or channel whose last write is this old is due.
    pub after: Duration,
    /// Due items are spread over this long; `after + window` stays two weeks short of 18
    /// months (by default a month).
    pub window: Duration,
}

impl Default for TouchPolicy {
    fn default() -> Self {
        let after = MONTH * 12;
        TouchPolicy {
            after,
            window: TouchPolicy::default_window(after),
        }
    }
}

impl TouchPolicy {
    /// 18 months less `after` and a month's margin (a day at least).
    #[must_use]
    pub fn default_window(after: Duration) -> Duration {
        (MONTH * PTV_ARCHIVES_AFTER_MONTHS)
            .saturating_sub(after)
            .saturating_sub(MARGIN)
            .max(Duration::from_secs(86_400))
    }

    /// Checks a configured policy; the message names what to change.
    pub fn new(after: Duration, window: Option<Duration>) -> Result<Self, (&'static str, String)> {
        let day = Duration::from_secs(86_400);
        if after < day || after > MAX_AFTER {
            return Err((
                "after",
                format!(
                    "{} is out of range: give 1d to 17months; PTV archives what is unsaved for 18 months, so items must be touched well before",
                    show(after)
                ),
            ));
        }
        let window = window.unwrap_or_else(|| Self::default_window(after));
        let limit = (MONTH * PTV_ARCHIVES_AFTER_MONTHS).saturating_sub(MIN_MARGIN);
        if window < day || after + window > limit {
            return Err((
                "window",
                format!(
                    "{} is out of range: give at least 1d, and at most {} with after = {} (after + window must stay two weeks short of PTV's 18 months)",
                    show(window),
                    show(limit.saturating_sub(after).max(day)),
                    show(after)
                ),
            ));
        }
        Ok(TouchPolicy { after, window })
    }

    fn after_delta(&self) -> TimeDelta {
        TimeDelta::from_std(self.after).unwrap_or(TimeDelta::MAX)
    }

    /// Whether an item last written at `last` is due at `now`. An item never written
    /// by us (adopted) is due: when PTV last saw a save is unknown.
    #[must_use]
    pub fn is_due(&self, last: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
        last.is_none_or(|t| now - t >= self.after_delta())
    }

    /// By when an item last written at `last` must have been touched.
    #[must_use]
    pub fn deadline(&self, last: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
        let span = TimeDelta::from_std(self.after + self.window).ok()?;
        last.map(|t| t + span)
    }
}

/// A duration as configuration writes it, roughly.
fn show(d: Duration) -> String {
    let s = d.as_secs();
    if s >= MONTH.as_secs() && s.is_multiple_of(MONTH.as_secs()) {
        format!("{}months", s / MONTH.as_secs())
    } else if s.is_multiple_of(86_400) {
        format!("{}d", s / 86_400)
    } else {
        format!("{s}s")
    }
}

/// When PTV archives an item last saved at `last` (18 calendar months later).
#[must_use]
pub fn ptv_archives_at(last: DateTime<Utc>) -> Option<DateTime<Utc>> {
    last.checked_add_months(Months::new(PTV_ARCHIVES_AFTER_MONTHS))
}

/// Whether an item last saved at `last` is past PTV's 15-month warning at `now`.
#[must_use]
pub fn past_warning(last: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    last.checked_add_months(Months::new(WARN_AFTER_MONTHS))
        .is_some_and(|t| t <= now)
}

/// How many of the due items to send this run. `due` holds their last writes, oldest
/// first (`None`, never written, first of all); `every` is the time between scheduled
/// runs. The answer is the smallest per-run count that, kept up, sends every item by its
/// deadline: the most, over every prefix of `due`, of the prefix's length over the runs
/// left before its last item's deadline. An item at or past its deadline has one run
/// left (this one), so it is always sent.
#[must_use]
pub fn touches_this_run(
    due: &[Option<DateTime<Utc>>],
    policy: &TouchPolicy,
    now: DateTime<Utc>,
    every: Duration,
) -> usize {
    let every = every.as_secs().max(1);
    let mut rate = 0usize;
    for (i, last) in due.iter().enumerate() {
        let runs_left = match policy.deadline(*last) {
            Some(d) if d > now => usize::try_from((d - now).num_seconds().unsigned_abs() / every)
                .unwrap_or(usize::MAX)
                .saturating_add(1),
            _ => 1,
        };
        rate = rate.max((i + 1).div_ceil(runs_left));
    }
    rate.min(due.len())
}

/// What the state says about the age of an organisation's writes (`status`, the
/// run's warning): services and channels PTV holds live.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct WriteAges {
    /// The oldest last write and whose it is.
    pub oldest: Option<OldWrite>,
    /// Items due for a touch now.
    pub due: usize,
    /// Items last written more than 15 months ago (PTV's warning), oldest first.
    pub past_warning: Vec<OldWrite>,
}

/// One item's last write.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OldWrite {
    pub kind: crate::model::ItemKind,
    pub id: String,
    pub last_written: DateTime<Utc>,
    /// When PTV archives it unless it is written before.
    pub ptv_archives_at: Option<DateTime<Utc>>,
}

impl WriteAges {
    #[must_use]
    pub fn of(rows: &[crate::store::PlanRow], policy: &TouchPolicy, now: DateTime<Utc>) -> Self {
        use crate::model::ItemKind;
        let mut ages = WriteAges::default();
        let live = rows.iter().filter(|r| {
            matches!(r.kind, ItemKind::Service | ItemKind::Channel)
                && r.remote == crate::store::RemoteState::Live
        });
        for r in live {
            if policy.is_due(r.last_pushed_at, now) {
                ages.due += 1;
            }
            let Some(at) = r.last_pushed_at else { continue };
            let write = || OldWrite {
                kind: r.kind,
                id: r.source_id.to_string(),
                last_written: at,
                ptv_archives_at: ptv_archives_at(at),
            };
            if ages.oldest.as_ref().is_none_or(|o| at < o.last_written) {
                ages.oldest = Some(write());
            }
            if past_warning(at, now) {
                ages.past_warning.push(write());
            }
        }
        ages.past_warning
            .sort_by(|a, b| (a.last_written, &a.id).cmp(&(b.last_written, &b.id)));
        ages
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: Duration = Duration::from_secs(86_400);

    fn t(days: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2027-01-01T02:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
            + TimeDelta::days(days)
    }

    #[test]
    fn the_default_is_twelve_months_spread_over_five() {
        let p = TouchPolicy::default();
        assert_eq!(p.after, MONTH * 12);
        assert_eq!(p.window, MONTH * 5);
        assert_eq!(TouchPolicy::new(MONTH * 12, None), Ok(p));
    }

    #[test]
    fn after_and_window_are_checked() {
        assert_eq!(TouchPolicy::new(MONTH * 18, None).unwrap_err().0, "after");
        assert_eq!(
            TouchPolicy::new(Duration::from_secs(3600), None)
                .unwrap_err()
                .0,
            "after"
        );
        assert!(TouchPolicy::new(MAX_AFTER, None).is_ok());
        assert_eq!(
            TouchPolicy::new(MONTH * 12, Some(MONTH * 6)).unwrap_err().0,
            "window"
        );
        assert_eq!(
            TouchPolicy::new(MONTH * 12, Some(DAY / 2)).unwrap_err().0,
            "window"
        );
        let short = TouchPolicy::new(DAY * 30, Some(DAY * 10)).unwrap();
        assert!(short.is_due(Some(t(0)), t(30)) && !short.is_due(Some(t(0)), t(29)));
        assert!(short.is_due(None, t(0)));
    }

    #[test]
    fn a_catalogue_due_at_once_is_spread_over_the_window() {
        let p = TouchPolicy::default();
        let window_days = p.window.as_secs() / 86_400; // 152
        let written = t(0);
        let start = written + TimeDelta::from_std(p.after).unwrap();
        let mut last = vec![Some(written); 3_000];
        let mut per_day = Vec::new();
        for day in 0..window_days as i64 + 5 {
            let now = start + TimeDelta::days(day);
            let mut due: Vec<usize> = (0..last.len())
                .filter(|i| p.is_due(last[*i], now))
                .collect();
            due.sort_by_key(|i| last[*i]);
            let lasts: Vec<_> = due.iter().map(|i| last[*i]).collect();
            let n = touches_this_run(&lasts, &p, now, DAY);
            for i in due.into_iter().take(n) {
                last[i] = Some(now);
            }
            per_day.push(n);
        }
        let ideal = 3_000_f64 / window_days as f64;
        assert!(
            per_day.iter().all(|n| (*n as f64) <= ideal.ceil() + 1.0),
            "{per_day:?}"
        );
        assert!(
            last.iter().all(|l| *l > Some(written)),
            "every item touched by its deadline"
        );
    }

    #[test]
    fn an_item_past_its_deadline_is_always_sent() {
        let p = TouchPolicy::new(DAY * 30, Some(DAY * 10)).unwrap();
        let late = vec![Some(t(0)), Some(t(1)), Some(t(20))];
        assert_eq!(touches_this_run(&late, &p, t(45), DAY), 2);
        assert_eq!(touches_this_run(&[], &p, t(45), DAY), 0);
        assert_eq!(touches_this_run(&[Some(t(0))], &p, t(30), DAY), 1);
    }

    #[test]
    fn write_ages_name_the_oldest_the_due_and_those_past_fifteen_months() {
        use crate::model::ItemKind;
        use crate::store::{ItemRecord, PlanRow, RemoteState};
        let row = |kind, id: &str, remote, last: Option<i64>| {
            let id = crate::model::SourceId::parse(id).unwrap();
            let mut r = ItemRecord::new("o", kind, &id, t(0));
            r.remote = remote;
            r.last_pushed_at = last.map(t);
            PlanRow::from(&r)
        };
        let rows = vec![
            row(ItemKind::Organization, "org", RemoteState::Live, Some(0)),
            row(ItemKind::Service, "old", RemoteState::Live, Some(10)),
            row(ItemKind::Channel, "older", RemoteState::Live, Some(5)),
            row(ItemKind::Service, "gone", RemoteState::Archived, Some(1)),
            row(ItemKind::Service, "new", RemoteState::Live, Some(400)),
        ];
        let now = t(10).checked_add_months(Months::new(15)).unwrap();
        let ages = WriteAges::of(&rows, &TouchPolicy::default(), now);
        assert_eq!(ages.oldest.as_ref().unwrap().id, "older");
        assert_eq!(ages.due, 2);
        let past: Vec<&str> = ages.past_warning.iter().map(|w| w.id.as_str()).collect();
        assert_eq!(past, ["older", "old"]);
        assert_eq!(
            ages.past_warning[1].ptv_archives_at,
            t(10).checked_add_months(Months::new(18))
        );
    }

    #[test]
    fn warnings_and_archiving_follow_calendar_months() {
        assert!(past_warning(
            t(0),
            t(0).checked_add_months(Months::new(15)).unwrap()
        ));
        assert!(!past_warning(t(0), t(400)));
        assert_eq!(
            ptv_archives_at(t(0)),
            t(0).checked_add_months(Months::new(18))
        );
    }
}
