//! What the runtime's retries share: the backoff between tries, and the
//! boxed future its traits return.

use std::time::Duration;

/// Exponential backoff with jitter, for every retry the library makes
/// (HTTP requests, reconnects, re-subscriptions, shard attaches): try `n`
/// (counted from 0) waits a random time between half and all of
/// `initial · 2ⁿ`, capped at `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The first wait.
    pub initial: Duration,
    /// The longest wait.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self { initial: Duration::from_millis(500), max: Duration::from_secs(30) }
    }
}

impl Backoff {
    /// The wait before try `attempt` (0 for the first retry).
    pub fn delay(&self, attempt: u32) -> Duration {
        let capped = self.initial.saturating_mul(1u32 << attempt.min(16)).min(self.max);
        let mut b = [0u8; 4];
        // Without randomness (it does not fail on supported platforms) the full wait is used.
        let jitter = match ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b) {
            Ok(()) => f64::from(u32::from_le_bytes(b)) / f64::from(u32::MAX),
            Err(_) => 1.0,
        };
        capped / 2 + (capped / 2).mul_f64(jitter)
    }
}

/// A boxed, sendable future (what the runtime's traits return).
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_within_bounds() {
        let b = Backoff { initial: Duration::from_millis(100), max: Duration::from_secs(1) };
        for (attempt, full) in [(0, 100), (1, 200), (2, 400), (3, 800), (4, 1000), (40, 1000)] {
            let d = b.delay(attempt);
            let full = Duration::from_millis(full);
            assert!(d >= full / 2 && d <= full, "attempt {attempt}: {d:?}");
        }
    }
}
