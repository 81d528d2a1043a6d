//! Twitch's Helix rate limit: a token bucket per client id and user.
//!
//! The bucket holds `capacity` points and refills continuously, so an empty
//! bucket is full again after `window`. Each request takes one point; with
//! none left the answer is a 429. Every answer carries `Ratelimit-Limit`,
//! `Ratelimit-Remaining` and `Ratelimit-Reset` (Unix seconds when the
//! bucket is full again). Public so other local servers (the test suite's)
//! keep the same bucket.

use std::time::{Duration, Instant};

/// One bucket.
#[derive(Debug, Clone)]
pub struct Bucket {
    capacity: f64,
    rate: f64,
    tokens: f64,
    last: Instant,
}

/// What a request learned from its bucket.
#[derive(Debug, Clone, Copy)]
pub struct Taken {
    /// A point was available (and is now spent).
    pub allowed: bool,
    /// `Ratelimit-Limit`
    pub limit: u64,
    /// `Ratelimit-Remaining`
    pub remaining: u64,
    /// `Ratelimit-Reset`
    pub reset: u64,
}

impl Bucket {
    /// A full bucket of `capacity` points refilled over `window`.
    pub fn new(capacity: u32, window: Duration) -> Self {
        let capacity = f64::from(capacity.max(1));
        let window = window.as_secs_f64().max(0.001);
        Self { capacity, rate: capacity / window, tokens: capacity, last: Instant::now() }
    }

    /// Take a point for one request.
    pub fn take(&mut self) -> Taken {
        let now = Instant::now();
        self.tokens = (self.tokens + now.duration_since(self.last).as_secs_f64() * self.rate).min(self.capacity);
        self.last = now;
        let allowed = self.tokens >= 1.0;
        if allowed {
            self.tokens -= 1.0;
        }
        let unix = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs_f64();
        Taken {
            allowed,
            limit: self.capacity as u64,
            remaining: self.tokens.floor() as u64,
            reset: (unix + (self.capacity - self.tokens) / self.rate).ceil() as u64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_down_then_refuses() {
        let mut b = Bucket::new(3, Duration::from_secs(3600));
        let r: Vec<_> = (0..4).map(|_| b.take()).collect();
        assert_eq!(r.iter().map(|t| t.remaining).collect::<Vec<_>>(), [2, 1, 0, 0]);
        assert!(r[..3].iter().all(|t| t.allowed));
        assert!(!r[3].allowed);
        assert!(r[3].reset > 0);
    }
}
