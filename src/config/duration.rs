//! Human durations in configuration: "90s", "15m", "24h", "2d", "500ms", and for long
//! spans "365days", "2weeks", "12months" (a month is humantime's 30.44 days).

use serde::{Deserialize, Deserializer};
use std::time::Duration;

pub fn parse(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("'{s}' is not a duration; write e.g. 30s, 15m, 24h or 2d"))?;
    let per_unit = match unit.trim() {
        "ms" => return Ok(Duration::from_millis(n)),
        "s" | "" => 1,
        "m" => 60,
        "h" => 3600,
        "d" | "day" | "days" => 86_400,
        "w" | "week" | "weeks" => 7 * 86_400,
        "month" | "months" => 2_630_016,
        other => {
            return Err(format!(
                "unknown unit '{other}' in '{s}'; use ms, s, m, h, d, weeks or months"
            ));
        }
    };
    // An overflow would wrap (or panic) silently; such a value is a typo anyway.
    n.checked_mul(per_unit)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("'{s}' is too long a duration"))
}

/// Deserialises a duration from "24h"-style strings (or a number of seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Human(pub Duration);

impl<'de> Deserialize<'de> for Human {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Secs(u64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Secs(s) => Ok(Human(Duration::from_secs(s))),
            Raw::Text(t) => parse(&t).map(Human).map_err(serde::de::Error::custom),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn units() {
        assert_eq!(parse("24h").unwrap(), Duration::from_secs(86_400));
        assert_eq!(parse("500ms").unwrap(), Duration::from_millis(500));
        assert!(parse("soon").is_err());
        assert_eq!(parse("365days").unwrap(), Duration::from_secs(365 * 86_400));
        assert_eq!(parse("2 weeks").unwrap(), Duration::from_secs(14 * 86_400));
        assert_eq!(
            parse("12months").unwrap(),
            Duration::from_secs(12 * 2_630_016)
        );
        assert!(parse("5y").is_err());
        // issue 16 item 7
        assert!(parse("999999999999999d").is_err());
    }
}
