//! SSH public keys people register for later use over SSH: parsed and checked the way
//! OpenSSH reads an `authorized_keys` line (type, base64 blob whose first string repeats the
//! type, the right number of fields), with weak and obsolete kinds refused, and stored with
//! Kallithea's fingerprint (unpadded base64 of the blob's SHA-256, as `ssh-keygen -l` shows
//! after `SHA256:`).

use base64::Engine;
use kallithea_model::UserId;
use sha2::{Digest, Sha256};

use crate::{Error, ErrorKind, Result, Services, now};

/// Key types and how many strings follow the type in the blob.
const TYPES: &[(&str, usize)] = &[
    ("ssh-ed25519", 1),
    ("ssh-rsa", 2),
    ("ecdsa-sha2-nistp256", 2),
    ("ecdsa-sha2-nistp384", 2),
    ("ecdsa-sha2-nistp521", 2),
    ("sk-ssh-ed25519@openssh.com", 2),
    ("sk-ecdsa-sha2-nistp256@openssh.com", 3),
];

/// A checked public key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey {
    pub key_type: String,
    /// `type base64` without the comment, as stored.
    pub line: String,
    pub comment: String,
    pub fingerprint: String,
}

fn bad(why: &str) -> Error {
    Error::invalid(format!("This is not a usable SSH public key: {why}."))
}

/// Parses one public key as `ssh-keygen` prints it (`type base64 [comment]`).
pub fn parse(text: &str) -> Result<PublicKey> {
    let text = text.trim();
    if text.is_empty() {
        return Err(bad("the key is missing"));
    }
    if text.contains("PRIVATE KEY") {
        return Err(bad(
            "this is a private key; paste the .pub file instead and keep the private key secret",
        ));
    }
    if text.lines().count() > 1 {
        return Err(bad("give one key, on one line"));
    }
    let mut parts = text
        .splitn(3, char::is_whitespace)
        .filter(|p| !p.is_empty());
    let (Some(key_type), Some(b64)) = (parts.next(), parts.next()) else {
        return Err(bad(
            "it needs a key type and a base64 part, such as ssh-ed25519 AAAAC3Nz...",
        ));
    };
    let comment = text
        .split_whitespace()
        .skip(2)
        .collect::<Vec<_>>()
        .join(" ");
    if key_type == "ssh-dss" {
        return Err(bad(
            "DSA keys are obsolete and OpenSSH no longer accepts them; make an ed25519 key",
        ));
    }
    let Some(&(_, fields)) = TYPES.iter().find(|(t, _)| *t == key_type) else {
        return Err(bad(
            "it must start with a key type such as ssh-ed25519, ssh-rsa or ecdsa-sha2-nistp256 (options before the key are not accepted)",
        ));
    };
    if !b64
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b))
    {
        return Err(bad("the base64 part has characters base64 does not use"));
    }
    let blob = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|_| bad("the base64 part cannot be decoded (is it cut short?)"))?;
    let mut strings: Vec<&[u8]> = Vec::new();
    let mut rest = blob.as_slice();
    while !rest.is_empty() {
        if rest.len() < 4 {
            return Err(bad("the key data is cut short"));
        }
        let n = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        rest = &rest[4..];
        if rest.len() < n {
            return Err(bad("the key data is cut short"));
        }
        strings.push(&rest[..n]);
        rest = &rest[n..];
    }
    if strings.len() != fields + 1 {
        return Err(bad(&format!(
            "the key data does not have the parts of a {key_type} key"
        )));
    }
    if strings[0] != key_type.as_bytes() {
        return Err(bad(&format!(
            "it says {key_type} but the key data says {}",
            String::from_utf8_lossy(strings[0])
        )));
    }
    if key_type == "ssh-rsa" {
        let n = strings[2];
        let significant = n.iter().skip_while(|b| **b == 0).count();
        let bits = significant * 8
            - n.iter()
                .find(|b| **b != 0)
                .map_or(0, |b| b.leading_zeros() as usize);
        if bits < 2048 {
            return Err(bad(&format!(
                "this RSA key has {bits} bits; use at least 2048 (or an ed25519 key)"
            )));
        }
    }
    if key_type == "ssh-ed25519" && strings[1].len() != 32 {
        return Err(bad("an ed25519 key has 32 bytes"));
    }
    let fingerprint =
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(Sha256::digest(&blob));
    Ok(PublicKey {
        key_type: key_type.to_owned(),
        line: format!("{key_type} {b64}"),
        comment,
        fingerprint,
    })
}

/// One stored key.
#[derive(Clone, Debug)]
pub struct StoredKey {
    pub fingerprint: String,
    pub description: String,
    pub key_type: String,
    pub created_on: i64,
}

pub async fn list(svc: &Services, user: UserId) -> Result<Vec<StoredKey>> {
    let mut tx = svc.db.read().await?;
    let rows = kallithea_db::ssh_key::list(&mut tx, user).await?;
    tx.commit().await?;
    Ok(rows
        .into_iter()
        .map(|r| StoredKey {
            key_type: r.public_key.split(' ').next().unwrap_or("").to_owned(),
            fingerprint: r.fingerprint,
            description: r.description,
            created_on: r.created_on,
        })
        .collect())
}

/// Adds a key to an account; a key can belong to one account only.
pub async fn add(
    svc: &Services,
    user: UserId,
    description: &str,
    public_key: &str,
) -> Result<StoredKey> {
    let key = parse(public_key)?;
    let description = description.trim();
    let description = if description.is_empty() {
        key.comment.clone()
    } else {
        description.to_owned()
    };
    if description.chars().count() > 255 || description.chars().any(char::is_control) {
        return Err(Error::invalid(
            "The description must be one line of at most 255 characters.",
        ));
    }
    let mut tx = svc.db.write().await?;
    if kallithea_db::ssh_key::exists(&mut tx, &key.fingerprint).await? {
        return Err(Error::new(
            ErrorKind::NameTaken,
            format!("The SSH key {} is already registered.", key.fingerprint),
        ));
    }
    let t = now();
    kallithea_db::ssh_key::insert(&mut tx, user, &key.line, &description, &key.fingerprint, t)
        .await?;
    tx.commit().await?;
    Ok(StoredKey {
        fingerprint: key.fingerprint,
        description,
        key_type: key.key_type,
        created_on: t,
    })
}

pub async fn delete(svc: &Services, user: UserId, fingerprint: &str) -> Result<()> {
    let mut tx = svc.db.write().await?;
    if !kallithea_db::ssh_key::delete(&mut tx, user, fingerprint.trim()).await? {
        return Err(Error::invalid("That SSH key is not one of yours."));
    }
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ED: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIP1NA2kBQIKe74afUXmIWD9ByDYQJqUwW44Y4gJOBRuo me@host";

    #[test]
    fn ed25519_parses_with_fingerprint_and_comment() {
        let k = parse(ED).unwrap();
        assert_eq!(k.key_type, "ssh-ed25519");
        assert_eq!(k.comment, "me@host");
        assert_eq!(k.line, ED.rsplit_once(' ').unwrap().0);
        assert_eq!(k.fingerprint.len(), 43);
    }

    #[test]
    fn bad_keys_are_refused_with_a_reason() {
        for (text, says) in [
            ("", "missing"),
            ("AAAAC3NzaC1lZDI1NTE5", "key type and a base64 part"),
            ("ssh-foo AAAA", "must start with a key type"),
            (
                "command=\"x\" ssh-ed25519 AAAA",
                "must start with a key type",
            ),
            ("ssh-dss AAAAB3NzaC1kc3M=", "obsolete"),
            ("ssh-ed25519 AAAA'B", "characters base64"),
            (
                "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIP1NA2kBQIKe74a",
                "cut short",
            ),
            (
                "ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIP1NA2kBQIKe74afUXmIWD9ByDYQJqUwW44Y4gJOBRuo",
                "parts of a ssh-rsa",
            ),
            ("-----BEGIN OPENSSH PRIVATE KEY-----", "private key"),
            (
                "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIP1NA2kBQIKe74afUXmIWD9ByDYQJqUwW44Y4gJOBRuo\nssh-ed25519 AAAA",
                "one key",
            ),
        ] {
            let e = parse(text).unwrap_err();
            assert!(e.message.contains(says), "{text:?}: {}", e.message);
        }
    }

    #[test]
    fn short_rsa_keys_are_refused() {
        // ssh-rsa with e=65537 and a 1024-bit modulus.
        let mut blob = Vec::new();
        for part in [b"ssh-rsa".to_vec(), vec![1, 0, 1], {
            let mut n = vec![0u8];
            n.extend(std::iter::repeat_n(0xC5, 128));
            n
        }] {
            blob.extend((part.len() as u32).to_be_bytes());
            blob.extend(part);
        }
        let text = format!(
            "ssh-rsa {}",
            base64::engine::general_purpose::STANDARD.encode(&blob)
        );
        let e = parse(&text).unwrap_err();
        assert!(e.message.contains("1024 bits"), "{}", e.message);
    }
}
