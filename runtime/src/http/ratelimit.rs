//! Client-side rate limiting from Twitch's `Ratelimit-*` headers, and the
//! retry policy for 429s, 5xx and transport errors.
//!
//! Twitch keeps one token bucket per client id and token (the app token's
//! bucket and each user's are separate). Every response says how many points
//! are left (`Ratelimit-Remaining`), the size (`Ratelimit-Limit`) and when the
//! bucket is full again (`Ratelimit-Reset`, Unix seconds). Requests from
//! many tasks share what those headers say: each reserves a point before it
//! is sent, and when none is left they wait for the refill instead of
//! sending requests Twitch would refuse.
//!
//! The bucket refills continuously, so an empty bucket has a point again
//! after `window / limit` (75 ms on Twitch), not at the reset. Other
//! processes with the same client id and token draw from the same bucket
//! unseen: each answer's `Ratelimit-Remaining` shows what they left, but
//! the refill between answers is theirs too. A limiter that counts on the
//! whole refill is refused K - 1 requests of every K when K processes share
//! an empty bucket; so a 429 on an empty bucket halves the share of the
//! refill this limiter counts on, and the share grows back over a few
//! windows without 429s (as TCP paces to a link it shares). A process alone
//! is never refused and keeps the whole refill. BENCHMARKS.md has numbers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How failed requests are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Retries after a transport error or a 5xx (for idempotent requests,
    /// unless [`retry_non_idempotent`](Self::retry_non_idempotent)).
    pub max_retries: u32,
    /// The wait between retries after transport errors and 5xx.
    pub backoff: crate::base::types::Backoff,
    /// Retries after a 429 whose reset time is waited out.
    pub max_rate_limit_retries: u32,
    /// Keep a client-side account of each bucket and wait for its refill.
    pub limiter: bool,
    /// Assume other processes may draw from the same bucket (several
    /// processes of one service with one client id and token): after a 429
    /// on an empty bucket the limiter halves the share of the refill it
    /// takes, and grows it back over a bucket's window while no 429 comes.
    /// With it off, each process takes the whole refill for itself, and K
    /// processes on one bucket are refused K - 1 requests of every K once it
    /// is empty. On by default; it changes nothing for a process alone.
    pub share_bucket: bool,
    /// Retry requests to endpoints that are not idempotent (sending a chat
    /// message, banning, creating a reward, a poll, a clip) after a 5xx or
    /// a transport error too. Off by default: Twitch may have done what was
    /// asked before the error, and a retry would do it twice. Requests that
    /// provably never reached Twitch (the connection could not be made) and
    /// 429s (refused before anything was done) are retried either way.
    pub retry_non_idempotent: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 3,
            backoff: crate::base::types::Backoff { initial: Duration::from_millis(250), max: Duration::from_secs(8) },
            max_rate_limit_retries: 3,
            limiter: true,
            share_bucket: true,
            retry_non_idempotent: false,
        }
    }
}

impl RetryPolicy {
    /// No retries and no client-side limiter: every outcome reaches the caller.
    pub fn none() -> Self {
        Self { max_retries: 0, max_rate_limit_retries: 0, limiter: false, ..Self::default() }
    }

    /// With this many retries after transport errors and 5xx.
    pub fn max_retries(mut self, n: u32) -> Self {
        self.max_retries = n;
        self
    }

    /// With this first backoff.
    pub fn base_delay(mut self, d: Duration) -> Self {
        self.backoff.initial = d;
        self
    }

    /// Retry non-idempotent requests after 5xx and transport errors too
    /// (see [`RetryPolicy::retry_non_idempotent`]).
    pub fn retry_non_idempotent(mut self, on: bool) -> Self {
        self.retry_non_idempotent = on;
        self
    }

    /// With this many retries after a 429 on an empty bucket.
    pub fn max_rate_limit_retries(mut self, n: u32) -> Self {
        self.max_rate_limit_retries = n;
        self
    }

    /// Whether the limiter paces to a share of the bucket when other
    /// processes draw from it (see [`RetryPolicy::share_bucket`]).
    pub fn share_bucket(mut self, on: bool) -> Self {
        self.share_bucket = on;
        self
    }

    /// With or without the client-side limiter.
    pub fn limiter(mut self, on: bool) -> Self {
        self.limiter = on;
        self
    }
}

/// The longest wait a `Ratelimit-Reset` header can ask for; Twitch's
/// buckets refill within a minute, so anything further is a bad header.
pub const MAX_WAIT: Duration = Duration::from_secs(3600);

/// `secs` as a duration in `0..=max` (NaN counts as zero).
fn clamped_secs(secs: f64, max: Duration) -> Duration {
    Duration::try_from_secs_f64(secs.clamp(0.0, max.as_secs_f64())).unwrap_or(Duration::ZERO)
}

fn now_secs() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs_f64()
}

#[derive(Debug, Default)]
struct Bucket {
    limit: u64,
    remaining: u64,
    /// Unix seconds when the bucket is full again.
    reset_at: u64,
    /// Points reserved by requests sent but not answered yet.
    in_flight: u64,
    /// When `remaining` was last read (Unix seconds).
    updated_at: f64,
    /// Refill rate in points per second, estimated from the headers.
    rate: f64,
    /// The share of the refill this limiter counts on, in
    /// `MIN_SHARE..=1`: halved by a 429 on an empty bucket, grown back
    /// while none comes (see the module's documentation).
    share: f64,
    /// When `share` was last grown, and last cut (Unix seconds).
    grown_at: f64,
    cut_at: f64,
    /// Callers waiting for a point get one in the order they came (tokio's
    /// mutex is fair), so none waits long while later ones go first.
    queue: Arc<tokio::sync::Mutex<()>>,
}

/// The smallest share of the refill a limiter counts on. What others leave
/// unused still shows in the answers' `Ratelimit-Remaining` and is spent;
/// the share only paces the wait for points that no answer reported yet.
const MIN_SHARE: f64 = 1.0 / 64.0;

/// How many of the bucket's windows a share takes to grow from nothing
/// back to the whole refill.
const SHARE_GROWTH_WINDOWS: f64 = 4.0;

impl Bucket {
    fn new() -> Self {
        Self { share: 1.0, ..Self::default() }
    }

    /// Points in the bucket now: what was left, plus what refilled since.
    fn available(&self, now: f64) -> u64 {
        self.counted(now, 1.0)
    }

    /// The points of [`Bucket::available`] this limiter counts on: its
    /// share of them. What was left and what refilled are shared alike:
    /// every process on the bucket reads the same `remaining`.
    fn mine(&self, now: f64) -> u64 {
        self.counted(now, self.share)
    }

    fn counted(&self, now: f64, share: f64) -> u64 {
        if now >= self.reset_at as f64 {
            return (self.limit as f64 * share).floor() as u64;
        }
        // Float-to-int casts saturate, so do the sums (header values are untrusted).
        let refilled = (now - self.updated_at).max(0.0) * self.rate;
        ((self.remaining as f64 + refilled).min(self.limit as f64) * share).floor() as u64
    }
}

/// What the headers of a response said.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateHeaders {
    /// `Ratelimit-Limit`
    pub limit: Option<u64>,
    /// `Ratelimit-Remaining`
    pub remaining: Option<u64>,
    /// `Ratelimit-Reset`
    pub reset_at: Option<u64>,
}

impl RateHeaders {
    /// Read the three headers.
    pub fn from_headers(h: &reqwest::header::HeaderMap) -> Self {
        let get = |n: &str| h.get(n).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok());
        Self { limit: get("Ratelimit-Limit"), remaining: get("Ratelimit-Remaining"), reset_at: get("Ratelimit-Reset") }
    }

    /// Time until the reset, from now, at most [`MAX_WAIT`].
    pub fn wait(&self) -> Option<Duration> {
        self.reset_at.map(|r| clamped_secs(r as f64 - now_secs(), MAX_WAIT))
    }

    /// How long one point takes to refill, from the headers: the missing
    /// points come back by the reset (at least 5 ms, at most a minute).
    pub fn point_interval(&self) -> Option<Duration> {
        let (limit, reset) = (self.limit?, self.wait()?);
        let missing = limit.saturating_sub(self.remaining.unwrap_or(0)).max(1);
        Some(
            (reset / u32::try_from(missing).unwrap_or(u32::MAX))
                .clamp(Duration::from_millis(5), Duration::from_secs(60)),
        )
    }
}

/// The buckets this client knows of, keyed by token identity.
#[derive(Debug, Default)]
pub struct Limiter {
    buckets: Mutex<HashMap<String, Bucket>>,
    /// Woken whenever a response updates a bucket.
    changed: tokio::sync::Notify,
}

impl Limiter {
    /// Reserve a point in `key`'s bucket, waiting (in line with the other
    /// callers) for the refill while there is none. A bucket whose size is
    /// not known yet lets the request through.
    /// Returns whether a point was reserved (pass it to [`Limiter::update`]).
    pub async fn acquire(&self, key: &str) -> bool {
        let queue = match self.buckets.lock() {
            Ok(mut b) => Arc::clone(&b.entry(key.to_owned()).or_insert_with(Bucket::new).queue),
            Err(_) => return false,
        };
        let _turn = queue.lock().await;
        loop {
            let notified = self.changed.notified();
            let wait = {
                let Ok(mut buckets) = self.buckets.lock() else { return false };
                let b = buckets.entry(key.to_owned()).or_insert_with(Bucket::new);
                match b.limit {
                    // Nothing known yet: let it through, but count it, so the
                    // first answer's `remaining` is read net of what is in flight.
                    0 => {
                        b.in_flight = b.in_flight.saturating_add(1);
                        return true;
                    }
                    _ => {
                        let now = now_secs();
                        let available = b.mine(now);
                        if available > b.in_flight {
                            b.in_flight = b.in_flight.saturating_add(1);
                            return true;
                        }
                        // Wait until the refill covers one more point (or the
                        // reset, or an answer that changes the picture).
                        let short = b.in_flight.saturating_add(1).saturating_sub(available) as f64;
                        let pace = b.rate * b.share;
                        let by_rate = if pace > 0.0 { short / pace } else { f64::MAX };
                        clamped_secs(by_rate.min(b.reset_at as f64 - now), Duration::from_secs(60))
                            .max(Duration::from_millis(5))
                    }
                }
            };
            tracing::debug!(bucket = key, wait_ms = wait.as_millis() as u64, "rate limit: waiting for the bucket");
            // Until the reset, or until an answer frees or refills points.
            let _ = tokio::time::timeout(wait, notified).await;
        }
    }

    /// Record a response's headers and release the point `acquire` reserved.
    pub fn update(&self, key: &str, h: RateHeaders, reserved: bool) {
        let Ok(mut buckets) = self.buckets.lock() else { return };
        if reserved && let Some(b) = buckets.get_mut(key) {
            b.in_flight = b.in_flight.saturating_sub(1);
        }
        // Only a response that states all three numbers sets the bucket.
        if let (Some(limit), Some(remaining), Some(reset)) = (h.limit, h.remaining, h.reset_at)
            && limit > 0
            && let Some(b) = buckets.get_mut(key)
        {
            // Every point taken moves the "full again" time later, so a reset
            // earlier than the one known is an answer overtaken by a later
            // one: ignore it. Answers with the same reset keep the lower count.
            let now = now_secs();
            let fresher = reset > b.reset_at || b.limit == 0;
            if fresher || reset == b.reset_at {
                b.remaining = if fresher { remaining } else { b.available(now).min(remaining) };
                b.updated_at = now;
                // Full again at `reset`: the missing points refill until then.
                if remaining < limit {
                    b.rate = (limit - remaining) as f64 / (reset as f64 - now).max(0.5);
                }
            }
            b.limit = limit;
            b.reset_at = b.reset_at.max(reset);
            if b.share < 1.0 && b.rate > 0.0 {
                let window = limit as f64 / b.rate;
                b.share = (b.share + (now - b.grown_at).max(0.0) / (window * SHARE_GROWTH_WINDOWS)).min(1.0);
                b.grown_at = now;
            }
        }
        drop(buckets);
        self.changed.notify_waiters();
    }

    /// A 429 on an empty bucket (already passed to [`Limiter::update`]):
    /// points this limiter counted on went to another process. With
    /// `share`, halve the share of the refill it counts on, at most once
    /// per point it would have had (a burst of refusals is one signal).
    pub fn refused(&self, key: &str, share: bool) {
        let Ok(mut buckets) = self.buckets.lock() else { return };
        let Some(b) = buckets.get_mut(key) else { return };
        let now = now_secs();
        b.remaining = 0;
        b.updated_at = now;
        let pace = b.rate * b.share;
        if share && b.share > MIN_SHARE && (pace <= 0.0 || now - b.cut_at >= 1.0 / pace) {
            b.share = (b.share / 2.0).max(MIN_SHARE);
            (b.cut_at, b.grown_at) = (now, now);
            tracing::debug!(bucket = key, share = b.share, "rate limit: another process draws from this bucket");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Limiter {
        /// The share of `key`'s refill this limiter counts on.
        fn share(&self, key: &str) -> f64 {
            self.buckets.lock().unwrap().get(key).map_or(1.0, |b| b.share)
        }
    }

    fn headers(limit: u64, remaining: u64, reset_at: u64) -> RateHeaders {
        RateHeaders { limit: Some(limit), remaining: Some(remaining), reset_at: Some(reset_at) }
    }

    /// Header values are the server's: extreme ones are clamped, never
    /// overflowed (a panic in debug builds, wrong accounting in release).
    #[tokio::test]
    async fn extreme_headers_do_not_overflow() {
        let soon = now_secs() as u64 + 30;
        // The first answer sets an enormous refill rate; the second, a
        // fresher one saying the bucket is full, keeps it.
        for (first, second) in [
            (headers(u64::MAX, 0, soon), headers(u64::MAX, u64::MAX, soon + 1)),
            (headers(u64::MAX, 0, u64::MAX - 1), headers(u64::MAX, u64::MAX, u64::MAX)),
            (headers(u64::MAX, u64::MAX - 1, 0), headers(1, u64::MAX, 0)),
        ] {
            let l = Limiter::default();
            let within = |f| tokio::time::timeout(Duration::from_secs(5), f);
            assert_eq!(within(l.acquire("k")).await, Ok(true));
            l.update("k", first, true);
            assert_eq!(within(l.acquire("k")).await, Ok(true), "after {first:?}");
            std::thread::sleep(Duration::from_millis(20));
            l.update("k", second, true);
            // A full bucket this large has room: the next request goes at once.
            assert_eq!(within(l.acquire("k")).await, Ok(true), "{first:?} then {second:?}");
        }
    }

    #[tokio::test]
    async fn a_429_halves_the_share_once_per_point_and_quiet_time_grows_it_back() {
        let l = Limiter::default();
        let k = "app";
        assert!(l.acquire(k).await);
        // 2000 points missing, full again in 100 s: 20 points a second.
        let reset = now_secs() as u64 + 100;
        l.update(k, headers(2000, 0, reset), true);
        l.refused(k, false);
        assert_eq!(l.share(k), 1.0, "without sharing the share stays whole");
        l.refused(k, true);
        assert_eq!(l.share(k), 0.5);
        l.refused(k, true);
        assert_eq!(l.share(k), 0.5, "a burst of refusals is one signal");
        // Past a point of the halved pace (0.1 s), the next one counts.
        l.buckets.lock().unwrap().get_mut(k).unwrap().cut_at -= 0.2;
        l.refused(k, true);
        assert_eq!(l.share(k), 0.25);
        for _ in 0..20 {
            l.buckets.lock().unwrap().get_mut(k).unwrap().cut_at -= 10.0;
            l.refused(k, true);
        }
        assert_eq!(l.share(k), MIN_SHARE);
        // The share counts on a part of what is left, too.
        {
            let mut g = l.buckets.lock().unwrap();
            let b = g.get_mut(k).unwrap();
            (b.remaining, b.updated_at) = (16, now_secs());
            assert_eq!(b.mine(b.updated_at), 0);
            b.share = 0.25;
            assert_eq!(b.mine(b.updated_at), 4);
            // A window (100 s) without 429s: grown by a quarter of the whole.
            b.grown_at -= 100.0;
        }
        l.update(k, headers(2000, 0, reset), false);
        assert!((l.share(k) - 0.5).abs() < 0.05, "{}", l.share(k));
    }

    #[test]
    fn a_reset_far_away_gives_a_finite_wait() {
        for reset in [u64::MAX, u64::MAX / 2, 1 << 60] {
            let w = RateHeaders { reset_at: Some(reset), ..RateHeaders::default() }.wait();
            assert!(w.is_some_and(|w| w <= MAX_WAIT), "{w:?}");
        }
        assert_eq!(RateHeaders { reset_at: Some(0), ..RateHeaders::default() }.wait(), Some(Duration::ZERO));
    }
}
