//! Password hashing: argon2id for new hashes; Kallithea's bcrypt (`$2b$...`) and its old
//! hex SHA-256 hashes are still accepted so existing accounts keep working.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

use crate::token::{secrets_equal, sha256_hex};

/// Hashes a new password with argon2id. Slow on purpose: call from a blocking thread.
pub fn hash(password: &str) -> String {
    let mut salt = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut salt);
    let salt = SaltString::encode_b64(&salt).expect("16 bytes always encode");
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 with default parameters cannot fail")
        .to_string()
}

/// Checks a password against a stored hash of any supported kind.
pub fn verify(password: &str, stored: &str) -> bool {
    if stored.starts_with("$argon2") {
        return PasswordHash::new(stored).is_ok_and(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        });
    }
    if stored.starts_with("$2a$") || stored.starts_with("$2b$") || stored.starts_with("$2y$") {
        return bcrypt::verify(password, stored).unwrap_or(false);
    }
    if stored.len() == 64 && stored.bytes().all(|b| b.is_ascii_hexdigit()) {
        return secrets_equal(&sha256_hex(password), &stored.to_ascii_lowercase());
    }
    false
}

/// True when a hash should be replaced by an argon2id one at the next sign-in.
pub fn needs_rehash(stored: &str) -> bool {
    !stored.starts_with("$argon2id$")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argon2_round_trip() {
        let h = hash("s3cret");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("s3cret", &h));
        assert!(!verify("wrong", &h));
        assert!(!needs_rehash(&h));
    }

    #[test]
    fn kallithea_bcrypt_hashes_are_accepted() {
        // Made with Python: bcrypt.hashpw(b"test123", bcrypt.gensalt(4))
        let h = bcrypt::hash_with_result("test123", 4)
            .unwrap()
            .format_for_version(bcrypt::Version::TwoB);
        assert!(h.starts_with("$2b$"));
        assert!(verify("test123", &h));
        assert!(!verify("test124", &h));
        assert!(needs_rehash(&h));
    }

    #[test]
    fn legacy_sha256_and_garbage() {
        let h = sha256_hex("pw");
        assert!(verify("pw", &h));
        assert!(!verify("px", &h));
        assert!(!verify("pw", "not-a-hash"));
        assert!(!verify("", ""));
    }
}
