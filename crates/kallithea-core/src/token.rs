//! Random tokens (session ids, CSRF secrets, API keys), hashing and constant-time comparison.

use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// `bytes` random bytes, hex-encoded.
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

/// A new API key: 40 hex characters, the length Kallithea's keys have.
pub fn new_api_key() -> String {
    random_hex(20)
}

pub fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// Compares two secrets without leaking where they differ.
pub fn secrets_equal(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// A secret as written into a page: a fresh random pad and the secret's bytes XORed with it,
/// both hex-encoded. No two pages carry the same characters, so a compressed page that also
/// reflects an attacker's text gives nothing away about the secret (the BREACH attack).
pub fn masked(secret: &str) -> String {
    let mut pad = vec![0u8; secret.len()];
    rand::rng().fill_bytes(&mut pad);
    let xored: Vec<u8> = secret.bytes().zip(&pad).map(|(s, p)| s ^ p).collect();
    let mut out = hex::encode(pad);
    out.push_str(&hex::encode(xored));
    out
}

/// Whether `sent` is `secret`, either as it is (scripts read it from
/// `/_admin/session_csrf_secret_token`) or as [`masked`] wrote it. Constant-time in the
/// secret's bytes.
pub fn matches_secret(sent: &str, secret: &str) -> bool {
    if secret.is_empty() {
        return false;
    }
    if sent.len() == 4 * secret.len() {
        // Split as bytes: a form may send any text, and a character may straddle the middle.
        let (pad, xored) = sent.as_bytes().split_at(2 * secret.len());
        if let (Ok(pad), Ok(xored)) = (hex::decode(pad), hex::decode(xored)) {
            let unmasked: Vec<u8> = pad.iter().zip(&xored).map(|(p, x)| p ^ x).collect();
            return bool::from(unmasked.as_slice().ct_eq(secret.as_bytes()));
        }
    }
    secrets_equal(sent, secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_masked_secret_differs_each_time_and_still_matches() {
        let secret = random_hex(20);
        let (a, b) = (masked(&secret), masked(&secret));
        assert_ne!(a, b);
        assert_eq!(a.len(), 160);
        assert!(!a.contains(&secret));
        assert!(matches_secret(&a, &secret));
        assert!(matches_secret(&b, &secret));
        assert!(
            matches_secret(&secret, &secret),
            "the raw secret is accepted too"
        );
        assert!(!matches_secret(&masked(&random_hex(20)), &secret));
        let mut wrong = a.into_bytes();
        wrong[159] = if wrong[159] == b'0' { b'1' } else { b'0' };
        assert!(!matches_secret(
            std::str::from_utf8(&wrong).unwrap(),
            &secret
        ));
        assert!(!matches_secret("", ""));
        assert!(!matches_secret(&"g".repeat(160), &secret));
        // A character of two bytes across the middle: refused, not a panic.
        let straddling = format!("{}é{}", "a".repeat(79), "a".repeat(79));
        assert_eq!(straddling.len(), 160);
        assert!(!matches_secret(&straddling, &secret));
    }
}
