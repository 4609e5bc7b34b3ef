//! Retry policy (exponential backoff with jitter, via `backon`) and the per-organisation
//! concurrency limiter that halves itself when PTV answers 429 (AIMD).

use backon::{BackoffBuilder, ExponentialBuilder};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How transient failures (timeouts, connection errors, 429, 5xx) are retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 = never retry).
    pub max_attempts: u32,
    /// Delay before the first retry; doubles on each further retry.
    pub min_delay: Duration,
    /// Cap on any one computed delay.
    pub max_delay: Duration,
    /// Cap on how long a `Retry-After` header may make us wait.
    pub max_retry_after: Duration,
    /// Random jitter on each delay, so that many clients do not retry in step.
    pub jitter: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            min_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(120),
            jitter: true,
        }
    }
}

impl RetryPolicy {
    /// The delays between attempts: `max_attempts - 1` of them.
    pub(crate) fn delays(&self) -> impl Iterator<Item = Duration> + Send + use<> {
        let mut b = ExponentialBuilder::new()
            .with_min_delay(self.min_delay)
            .with_max_delay(self.max_delay)
            .with_max_times(self.max_attempts.saturating_sub(1) as usize);
        if self.jitter {
            b = b.with_jitter();
        }
        b.build()
    }

    /// The delay to use when the server asked for `retry_after`: honoured up to
    /// `max_retry_after`, never shorter than the computed backoff.
    pub(crate) fn with_retry_after(
        &self,
        computed: Duration,
        retry_after: Option<Duration>,
    ) -> Duration {
        match retry_after {
            Some(ra) => ra.min(self.max_retry_after).max(computed),
            None => computed,
        }
    }
}

/// Parses a `Retry-After` header: delta-seconds or an HTTP date.
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let delta = when.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(delta.to_std().unwrap_or(Duration::ZERO))
}

/// Requests in flight for one organisation: at most `max`, halved on each 429 (down to
/// one) and grown back by one after a window of successes (additive increase,
/// multiplicative decrease).
pub(crate) struct Limiter {
    sem: Arc<Semaphore>,
    max: usize,
    state: Arc<Mutex<LimitState>>,
}

struct LimitState {
    limit: usize,
    /// Permits to retire as they come back, after a decrease.
    debt: usize,
    successes: usize,
}

/// One request slot; returned (or retired, after a decrease) on drop.
pub(crate) struct Slot {
    permit: Option<OwnedSemaphorePermit>,
    state: Arc<Mutex<LimitState>>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let Some(permit) = self.permit.take() else {
            return;
        };
        let mut st = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if st.debt > 0 {
            st.debt -= 1;
            permit.forget();
        }
    }
}

impl Limiter {
    pub(crate) fn new(max: usize) -> Self {
        let max = max.max(1);
        Limiter {
            sem: Arc::new(Semaphore::new(max)),
            max,
            state: Arc::new(Mutex::new(LimitState {
                limit: max,
                debt: 0,
                successes: 0,
            })),
        }
    }

    pub(crate) async fn acquire(&self) -> Slot {
        let permit = Arc::clone(&self.sem)
            .acquire_owned()
            .await
            .expect("the limiter's semaphore is never closed");
        Slot {
            permit: Some(permit),
            state: Arc::clone(&self.state),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LimitState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// PTV said 429: halve the limit.
    pub(crate) fn throttled(&self) {
        let mut st = self.lock();
        let new = (st.limit / 2).max(1);
        st.debt += st.limit - new;
        st.limit = new;
        st.successes = 0;
        // Retire idle permits now rather than when they next come back.
        while st.debt > 0 {
            match self.sem.try_acquire() {
                Ok(p) => {
                    p.forget();
                    st.debt -= 1;
                }
                Err(_) => break,
            }
        }
    }

    /// A request succeeded: after `limit` successes in a row, allow one more in flight.
    pub(crate) fn succeeded(&self) {
        let mut st = self.lock();
        if st.limit >= self.max {
            return;
        }
        st.successes += 1;
        if st.successes >= st.limit {
            st.successes = 0;
            st.limit += 1;
            if st.debt > 0 {
                st.debt -= 1;
            } else {
                self.sem.add_permits(1);
            }
        }
    }

    /// The current limit on requests in flight.
    pub(crate) fn limit(&self) -> usize {
        self.lock().limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_count_and_cap() {
        let p = RetryPolicy {
            max_attempts: 4,
            min_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(25),
            max_retry_after: Duration::from_secs(1),
            jitter: false,
        };
        let d: Vec<_> = p.delays().collect();
        assert_eq!(
            d,
            vec![
                Duration::from_millis(10),
                Duration::from_millis(20),
                Duration::from_millis(25)
            ]
        );
        assert_eq!(
            p.with_retry_after(Duration::from_millis(10), Some(Duration::from_secs(9))),
            Duration::from_secs(1)
        );
        assert_eq!(
            p.with_retry_after(Duration::from_millis(10), None),
            Duration::from_millis(10)
        );
    }

    #[test]
    fn retry_after_parses_seconds_and_dates() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[tokio::test]
    async fn limiter_halves_on_429_and_grows_back() {
        let l = Limiter::new(4);
        let held: Vec<_> = futures::future::join_all((0..4).map(|_| l.acquire())).await;
        l.throttled();
        assert_eq!(l.limit(), 2);
        drop(held);
        // Two permits were retired: only two can be held at once now.
        let a = l.acquire().await;
        let b = l.acquire().await;
        let third = tokio::time::timeout(Duration::from_millis(20), l.acquire()).await;
        assert!(
            third.is_err(),
            "a third slot must wait while the limit is 2"
        );
        drop((a, b));
        l.succeeded();
        l.succeeded();
        assert_eq!(l.limit(), 3);
        let held: Vec<_> = futures::future::join_all((0..3).map(|_| l.acquire())).await;
        assert_eq!(held.len(), 3);
        l.throttled();
        l.throttled();
        l.throttled();
        assert_eq!(l.limit(), 1);
    }
}
