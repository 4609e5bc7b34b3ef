//! Cron schedules. The `cron` crate takes 6 or 7 fields, seconds first, and counts
//! day-of-week 1 as *Sunday* (crontab: Monday). Numeric weekdays are therefore refused
//! with the named equivalent, and 5-field crontab lines with their 6-field form.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use std::str::FromStr;

#[derive(Debug, Clone)]
pub struct Schedule {
    pub expr: String,
    pub tz: Tz,
    inner: cron::Schedule,
}

const DAYS: [&str; 8] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"];

/// Rewrites a crontab day-of-week field (0/7 = Sunday, 1 = Monday) with day names.
fn named_days(field: &str) -> String {
    let mut out = String::new();
    let mut num = String::new();
    for c in field.chars().chain(std::iter::once('\0')) {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        if !num.is_empty() {
            let n: usize = num.parse().unwrap_or(8);
            out.push_str(DAYS.get(n).copied().unwrap_or("?"));
            num.clear();
        }
        if c != '\0' {
            out.push(c);
        }
    }
    out
}

impl Schedule {
    pub fn parse(expr: &str, tz: Tz) -> Result<Self, String> {
        let fields: Vec<&str> = expr.split_whitespace().collect();
        if fields.len() == 5 {
            let mut six = vec!["0".to_owned()];
            six.extend(fields[..4].iter().map(|s| (*s).to_owned()));
            six.push(named_days(fields[4]));
            return Err(format!(
                "'{expr}' has 5 fields (crontab style); ptv-sync takes 6 with seconds first: write \"{}\"",
                six.join(" ")
            ));
        }
        if !(6..=7).contains(&fields.len()) {
            return Err(format!(
                "'{expr}' has {} fields; write 6 (sec min hour day month weekday), e.g. \"0 0 2 * * *\" for 02:00 daily",
                fields.len()
            ));
        }
        let dow = fields[5];
        if dow.chars().any(|c| c.is_ascii_digit()) {
            let mut fixed: Vec<String> = fields.iter().map(|s| (*s).to_owned()).collect();
            fixed[5] = named_days(dow);
            return Err(format!(
                "'{expr}': write weekdays as names (the cron library counts 1 as Sunday, crontab as Monday); if you meant crontab's numbering, write \"{}\"",
                fixed.join(" ")
            ));
        }
        let inner = cron::Schedule::from_str(expr).map_err(|e| format!("'{expr}': {e}"))?;
        if inner.upcoming(tz).next().is_none() {
            return Err(format!("'{expr}' never fires"));
        }
        Ok(Schedule {
            expr: expr.to_owned(),
            tz,
            inner,
        })
    }

    #[must_use]
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.inner
            .after(&after.with_timezone(&self.tz))
            .next()
            .map(|t| t.with_timezone(&Utc))
    }

    #[must_use]
    pub fn upcoming(&self, n: usize) -> Vec<DateTime<Tz>> {
        self.inner.upcoming(self.tz).take(n).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_fields_get_six_field_advice_with_named_days() {
        let e = Schedule::parse("30 2 * * 1-5", chrono_tz::Europe::Helsinki).unwrap_err();
        assert!(e.contains("\"0 30 2 * * MON-FRI\""), "{e}");
    }

    #[test]
    fn numeric_weekdays_are_refused() {
        let e = Schedule::parse("0 0 2 * * 1", chrono_tz::Europe::Helsinki).unwrap_err();
        assert!(e.contains("0 0 2 * * MON"), "{e}");
    }

    #[test]
    fn fires_in_local_time() {
        let s = Schedule::parse("0 0 2 * * *", chrono_tz::Europe::Helsinki).unwrap();
        let next = s.upcoming(3);
        assert_eq!(next.len(), 3);
        assert!(
            next.iter()
                .all(|t| t.format("%H:%M").to_string() == "02:00")
        );
    }
}
