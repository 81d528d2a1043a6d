//! Small helpers: random ids, the time as Twitch writes it, URL encoding, hex.

use std::time::{SystemTime, UNIX_EPOCH};

use ring::rand::{SecureRandom, SystemRandom};
use twitch::Timestamp;

/// `n` random bytes. The system RNG does not fail on supported platforms;
/// if it ever does, the clock keeps ids distinct enough for a mock.
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    if SystemRandom::new().fill(&mut bytes).is_err() {
        let t = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_nanos().to_le_bytes();
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = t[i % t.len()] ^ (i as u8).wrapping_mul(31);
        }
    }
    bytes
}

/// A random version-4 UUID, as Twitch uses for subscription and message ids.
pub(crate) fn uuid() -> String {
    let mut b = random_bytes::<16>();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex(&b);
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

/// A random lowercase alphanumeric string, the look of Twitch's tokens.
pub(crate) fn token(len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = String::with_capacity(len);
    while out.len() < len {
        for b in random_bytes::<32>() {
            // 252 = 7 * 36: rejecting above keeps the choice uniform.
            if b < 252 && out.len() < len {
                out.push(ALPHABET[(b % 36) as usize] as char);
            }
        }
    }
    out
}

/// Random uppercase letters, for device user codes.
pub(crate) fn user_code() -> String {
    random_bytes::<8>().iter().map(|b| (b'A' + b % 26) as char).collect()
}

/// Lowercase hex of some bytes.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Bytes from lowercase or uppercase hex; `None` when malformed.
pub(crate) fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

/// Now, in RFC 3339 with nanoseconds (`2023-07-19T14:56:51.634234626Z`), as Twitch writes times.
pub(crate) fn now_rfc3339() -> String {
    Timestamp::now().to_rfc3339_nanos()
}

pub(crate) use twitch_runtime::query::parse_pairs;

/// Pairs into an encoded query string (or URL fragment).
pub(crate) fn encode_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut q = twitch_runtime::Query::new();
    for (k, v) in pairs {
        q.push_dynamic(k, v);
    }
    q.encode()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_encoding() {
        assert_eq!(uuid().len(), 36);
        assert_ne!(uuid(), uuid());
        assert_eq!(token(30).len(), 30);
        assert_eq!(encode_pairs([("scope", "chat:read x")]), "scope=chat%3Aread%20x");
        assert_eq!(unhex(&hex(&[1, 255])).unwrap(), vec![1, 255]);
        assert!(unhex("zz").is_none());
    }
}
