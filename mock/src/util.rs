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
    data_encoding::HEXLOWER.encode(bytes)
}

/// Bytes from lowercase or uppercase hex; `None` when malformed.
pub(crate) fn unhex(s: &str) -> Option<Vec<u8>> {
    data_encoding::HEXLOWER_PERMISSIVE.decode(s.as_bytes()).ok()
}

/// Now, in RFC 3339 with nanoseconds (`2023-07-19T14:56:51.634234626Z`), as Twitch writes times.
pub(crate) fn now_rfc3339() -> String {
    Timestamp::now().to_rfc3339_nanos()
}

/// A query string or form body into decoded pairs. Not the client's code:
/// an encoding bug on the client's side cannot hide behind a decoder with
/// the same bug.
pub(crate) fn parse_pairs(s: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(s.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

/// Pairs into an encoded query string (or URL fragment).
pub(crate) fn encode_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_encoding() {
        assert_eq!(uuid().len(), 36);
        assert_ne!(uuid(), uuid());
        assert_eq!(token(30).len(), 30);
        assert_eq!(encode_pairs([("scope", "chat:read x")]), "scope=chat%3Aread+x");
        assert_eq!(
            parse_pairs("scope=chat%3Aread+x&a"),
            [("scope".into(), "chat:read x".into()), ("a".into(), String::new())]
        );
        assert_eq!(unhex(&hex(&[1, 255])).unwrap(), vec![1, 255]);
        assert!(unhex("zz").is_none());
    }
}
