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
    /// Requests that got a point, and requests answered with a 429.
    allowed: u64,
    refused: u64,
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
        Self { capacity, rate: capacity / window, tokens: capacity, last: Instant::now(), allowed: 0, refused: 0 }
    }

    /// Refill up to now.
    fn refill(&mut self) {
        let now = Instant::now();
        self.tokens = (self.tokens + now.duration_since(self.last).as_secs_f64() * self.rate).min(self.capacity);
        self.last = now;
    }

    /// Take a point for one request.
    pub fn take(&mut self) -> Taken {
        self.refill();
        let allowed = self.tokens >= 1.0;
        if allowed {
            self.tokens -= 1.0;
            self.allowed += 1;
        } else {
            self.refused += 1;
        }
        Taken { allowed, ..self.state() }
    }

    /// The bucket as it stands (refilled up to now), taking nothing.
    pub fn peek(&mut self) -> Taken {
        self.refill();
        self.state()
    }

    /// How many requests got a point and how many were refused, so far.
    pub fn counts(&self) -> (u64, u64) {
        (self.allowed, self.refused)
    }

    /// The headers' numbers; `allowed` says whether a point is there now.
    fn state(&self) -> Taken {
        let allowed = self.tokens >= 1.0;
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
        assert_eq!(b.counts(), (3, 1));
        assert_eq!(b.peek().remaining, 0);
        assert_eq!(b.counts(), (3, 1), "peeking takes nothing");
    }
}
