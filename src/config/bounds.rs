//! Limits on numbers and durations, checked at load: a value that passes here cannot
//! panic or overflow later (tokio's semaphore, token expiry arithmetic, timers), and an
//! absurd one is most likely a typo. Each limit is far beyond any sensible setting.

use super::duration::Human;
use std::time::Duration;

pub const DAY: Duration = Duration::from_secs(86_400);

/// A duration within `min..=max`, or `default` when absent.
pub fn duration(
    value: Option<Human>,
    default: Duration,
    min: Duration,
    max: Duration,
) -> Result<Duration, String> {
    let d = value.map_or(default, |h| h.0);
    if d < min || d > max {
        return Err(format!(
            "{} is out of range: give a duration from {} to {}",
            show(d),
            show(min),
            show(max)
        ));
    }
    Ok(d)
}

/// A count within `1..=max`, or `default` when absent; 0 means 1 (as it always did).
pub fn count(value: Option<usize>, default: usize, max: usize) -> Result<usize, String> {
    let n = value.unwrap_or(default).max(1);
    if n > max {
        return Err(format!("{n} is out of range: give 1 to {max}"));
    }
    Ok(n)
}

/// A number within `min..=max`, or `default` when absent.
pub fn within<T: PartialOrd + std::fmt::Display + Copy>(
    value: Option<T>,
    default: T,
    min: T,
    max: T,
) -> Result<T, String> {
    let n = value.unwrap_or(default);
    if n < min || n > max {
        return Err(format!("{n} is out of range: give {min} to {max}"));
    }
    Ok(n)
}

/// A byte size: a number of bytes or "64KiB", "16MiB", "1GiB".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size(pub u64);

impl<'de> serde::Deserialize<'de> for Size {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Bytes(u64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Bytes(b) => Ok(Size(b)),
            Raw::Text(t) => parse_size(&t).map(Size).map_err(serde::de::Error::custom),
        }
    }
}

pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("'{s}' is not a size; write e.g. 65536, 64KiB, 16MiB or 1GiB"))?;
    let per_unit: u64 = match unit.trim() {
        "" | "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        other => {
            return Err(format!(
                "unknown unit '{other}' in '{s}'; use KiB, MiB or GiB"
            ));
        }
    };
    n.checked_mul(per_unit)
        .ok_or_else(|| format!("'{s}' is too large a size"))
}

fn show(d: Duration) -> String {
    let s = d.as_secs();
    if d.subsec_millis() != 0 || s == 0 {
        format!("{}ms", d.as_millis())
    } else if s.is_multiple_of(86_400) {
        format!("{}d", s / 86_400)
    } else if s.is_multiple_of(3600) {
        format!("{}h", s / 3600)
    } else if s.is_multiple_of(60) {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_ranges() {
        assert_eq!(parse_size("64KiB"), Ok(65_536));
        assert_eq!(parse_size("2048"), Ok(2048));
        assert!(parse_size("1TB").is_err());
        assert!(parse_size("99999999999999999GiB").is_err());
        assert_eq!(count(Some(0), 4, 10), Ok(1));
        assert!(count(Some(11), 4, 10).is_err());
        let e = duration(Some(Human(DAY * 400)), DAY, Duration::ZERO, DAY * 365).unwrap_err();
        assert!(e.contains("400d") && e.contains("365d"), "{e}");
    }
}
