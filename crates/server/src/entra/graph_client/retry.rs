//! When to try Graph again: the statuses that mean "later", `Retry-After`, and the bounds
//! that keep a person at a kiosk from waiting minutes for an answer.

use std::time::Duration;

use reqwest::{StatusCode, header::HeaderMap};
use time::{OffsetDateTime, PrimitiveDateTime, macros::format_description};

/// How hard to try when Graph throttles (`429`) or is unavailable (`502`/`503`/`504`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries after the first.
    pub max_retries: u32,
    /// The longest single wait. A `Retry-After` beyond it is not waited for: the call
    /// fails at once and passes the `Retry-After` on.
    pub max_wait: Duration,
    /// All waits of one call together.
    pub budget: Duration,
    /// The first backoff when Graph names no `Retry-After`; doubled each retry, with jitter.
    pub base_backoff: Duration,
}

/// Three retries and at most 20 s of waiting: the person is looking at a spinner.
impl Default for RetryPolicy {
    fn default() -> Self {
        Self { max_retries: 3, max_wait: Duration::from_secs(10), budget: Duration::from_secs(20), base_backoff: Duration::from_millis(500) }
    }
}

impl RetryPolicy {
    /// How long to wait before retry number `retries + 1`, having waited `waited` so far,
    /// or `None` to give up.
    pub(super) fn next_wait(&self, retries: u32, waited: Duration, retry_after: Option<Duration>) -> Option<Duration> {
        if retries >= self.max_retries {
            return None;
        }
        let wait = match retry_after {
            Some(asked) if asked > self.max_wait => return None,
            Some(asked) => asked,
            None => self.backoff(retries),
        };
        (waited + wait <= self.budget).then_some(wait)
    }

    /// `base * 2^retries`, at most `max_wait`, then a random point in its upper half
    /// ("equal jitter"): many kiosks throttled at once do not come back in step.
    fn backoff(&self, retries: u32) -> Duration {
        let full = self.base_backoff.saturating_mul(2u32.saturating_pow(retries)).min(self.max_wait);
        let half = full / 2;
        let spread = u64::try_from(half.as_micros()).unwrap_or(u64::MAX);
        half + Duration::from_micros(if spread == 0 { 0 } else { rand::random::<u64>() % (spread + 1) })
    }
}

/// The statuses that mean "try again later" rather than "no".
pub(super) fn is_transient(status: StatusCode) -> bool {
    matches!(status, StatusCode::TOO_MANY_REQUESTS | StatusCode::BAD_GATEWAY | StatusCode::SERVICE_UNAVAILABLE | StatusCode::GATEWAY_TIMEOUT)
}

/// `Retry-After` as seconds or as an HTTP-date (RFC 9110 IMF-fixdate, e.g. `Wed, 21 Oct
/// 2015 07:28:00 GMT`), from `now`; a date in the past is zero.
pub(super) fn retry_after(headers: &HeaderMap, now: OffsetDateTime) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let format = format_description!("[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT");
    let at = PrimitiveDateTime::parse(value, format).ok()?.assume_utc();
    Some(Duration::try_from(at - now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use reqwest::header::{HeaderValue, RETRY_AFTER};
    use time::macros::datetime;

    use super::*;

    fn header(value: &str) -> HeaderMap {
        HeaderMap::from_iter([(RETRY_AFTER, HeaderValue::from_str(value).unwrap())])
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        let now = datetime!(2015-10-21 07:27:30 UTC);
        assert_eq!(retry_after(&header("7"), now), Some(Duration::from_secs(7)));
        assert_eq!(retry_after(&header(" 0 "), now), Some(Duration::ZERO));
        assert_eq!(retry_after(&header("Wed, 21 Oct 2015 07:28:00 GMT"), now), Some(Duration::from_secs(30)));
        assert_eq!(retry_after(&header("Wed, 21 Oct 2015 07:00:00 GMT"), now), Some(Duration::ZERO));
        assert_eq!(retry_after(&header("soon"), now), None);
        assert_eq!(retry_after(&header("-3"), now), None);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }

    #[test]
    fn waits_within_the_policy() {
        let policy = RetryPolicy::default();
        // Graph's own wait, while it fits.
        assert_eq!(policy.next_wait(0, Duration::ZERO, Some(Duration::from_secs(4))), Some(Duration::from_secs(4)));
        // Beyond one wait, beyond the budget, or out of retries: give up.
        assert_eq!(policy.next_wait(0, Duration::ZERO, Some(Duration::from_secs(11))), None);
        assert_eq!(policy.next_wait(2, Duration::from_secs(15), Some(Duration::from_secs(6))), None);
        assert_eq!(policy.next_wait(3, Duration::ZERO, Some(Duration::from_secs(1))), None);
        // Backoff: 500 ms, 1 s, 2 s, each jittered into its upper half.
        for (retries, full) in [(0, 500), (1, 1000), (2, 2000)] {
            let wait = policy.next_wait(retries, Duration::ZERO, None).unwrap();
            assert!(wait >= Duration::from_millis(full / 2) && wait <= Duration::from_millis(full), "{retries}: {wait:?}");
        }
        let long = RetryPolicy { max_retries: 40, ..policy };
        assert!(long.next_wait(39, Duration::ZERO, None).unwrap() <= policy.max_wait);
    }

    #[test]
    fn transient_statuses() {
        for status in [429, 502, 503, 504] {
            assert!(is_transient(StatusCode::from_u16(status).unwrap()), "{status}");
        }
        for status in [400, 401, 403, 404, 405, 409, 500, 501] {
            assert!(!is_transient(StatusCode::from_u16(status).unwrap()), "{status}");
        }
    }
}
