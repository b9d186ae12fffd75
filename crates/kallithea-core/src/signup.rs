//! Self-registration (as the `hg.register.*` default permission allows) and password reset by
//! an emailed link. Reset links are signed with a server secret over the account's id, email,
//! current password hash and the time the link was made: they stop working after
//! [`RESET_LIFETIME`] seconds and once the password changes, so each works once.

use kallithea_model::UserName;

use crate::token::{random_hex, secrets_equal, sha256_hex};
use crate::user::{DEFAULT_USER, NewAccount};
use crate::{Error, ErrorKind, Result, Services, now};

/// How long a reset link works.
pub const RESET_LIFETIME: i64 = 24 * 3600;

/// What the `hg.register.*` default allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Registration {
    Disabled,
    ManualActivation,
    AutoActivation,
}

pub async fn registration(svc: &Services) -> Result<Registration> {
    let mut tx = svc.db.read().await?;
    let d = crate::user::default_user(&mut tx).await?;
    let perms = kallithea_db::user::global_perms(&mut tx, d.id).await?;
    tx.commit().await?;
    Ok(if perms.iter().any(|p| p == "hg.register.auto_activate") {
        Registration::AutoActivation
    } else if perms.iter().any(|p| p == "hg.register.manual_activate") {
        Registration::ManualActivation
    } else {
        Registration::Disabled
    })
}

/// Registers an account; returns whether it is active now.
pub async fn register(svc: &Services, a: &NewAccount<'_>, confirmation: &str) -> Result<bool> {
    let active = match registration(svc).await? {
        Registration::Disabled => {
            return Err(Error::forbidden(
                "Registration is turned off on this server: ask an administrator for an account.",
            ));
        }
        Registration::ManualActivation => false,
        Registration::AutoActivation => true,
    };
    if a.password != confirmation {
        return Err(Error::invalid("The two passwords do not match."));
    }
    if a.email.trim().is_empty() {
        return Err(Error::invalid("An email address is needed to register."));
    }
    let account = NewAccount {
        admin: false,
        active,
        email: a.email.trim(),
        ..a.clone()
    };
    crate::user::validate_new_account(&account)?;
    // Hash before taking the write lock: nobody waits on a stranger's password.
    let hash = crate::user::hash_password(svc, a.password).await?;
    let mut tx = svc.db.write().await?;
    if kallithea_db::account::email_in_use(&mut tx, a.email.trim()).await? {
        return Err(Error::new(
            ErrorKind::NameTaken,
            format!("The email address {} is already in use.", a.email.trim()),
        ));
    }
    crate::user::create_with_hash(&mut tx, &account, &hash).await?;
    tx.commit().await?;
    Ok(active)
}

/// The secret reset links are signed with, made on first use and kept in the database.
async fn reset_secret(svc: &Services) -> Result<String> {
    let mut tx = svc.db.read().await?;
    let existing = kallithea_db::setting::get(&mut tx, "password_reset_secret").await?;
    tx.commit().await?;
    if let Some(s) = existing.filter(|s| s.len() >= 32) {
        return Ok(s);
    }
    let mut tx = svc.db.write().await?;
    let s = match kallithea_db::setting::get(&mut tx, "password_reset_secret").await? {
        Some(s) if s.len() >= 32 => s,
        _ => {
            let s = random_hex(32);
            kallithea_db::setting::set(&mut tx, "password_reset_secret", &s).await?;
            s
        }
    };
    tx.commit().await?;
    Ok(s)
}

fn sign(secret: &str, u: &kallithea_db::user::User, timestamp: i64) -> String {
    sha256_hex(&format!(
        "{secret}\n{}\n{}\n{}\n{timestamp}\n{secret}",
        u.id.0,
        u.email.to_lowercase(),
        u.password
    ))
}

/// Sends a reset link to the account with this address, if there is one and it may sign in
/// with a password. Says nothing about whether there was: the caller shows the same page.
/// Checks the address typed on the reset form.
pub fn check_reset_email(email: &str) -> Result<()> {
    let email = email.trim();
    if email.is_empty()
        || !email.contains('@')
        || email.chars().any(char::is_control)
        || email.len() > 255
    {
        return Err(Error::invalid("Enter the email address of your account."));
    }
    Ok(())
}

pub async fn request_reset(svc: &Services, email: &str, base_url: &str) -> Result<()> {
    check_reset_email(email)?;
    let email = email.trim();
    let mut tx = svc.db.read().await?;
    let found = kallithea_db::user::list(&mut tx)
        .await?
        .into_iter()
        .find(|u| u.email.eq_ignore_ascii_case(email));
    tx.commit().await?;
    // Accounts signed in by a plugin (no password of ours) cannot reset one.
    let Some(u) =
        found.filter(|u| u.active && u.username != DEFAULT_USER && u.password != "!external")
    else {
        tracing::info!("password reset asked for {email}, which no active internal account has");
        return Ok(());
    };
    let t = now();
    let token = sign(&reset_secret(svc).await?, &u, t);
    let enc = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    let link = format!(
        "{base_url}/_admin/password_reset_confirmation?email={}&timestamp={t}&token={token}",
        enc(&u.email)
    );
    let body = format!(
        "Someone asked to reset the password of the account \"{}\".\n\n\
         To choose a new password, open this link within 24 hours:\n\n{link}\n\n\
         If you did not ask for this, ignore this message; your password stays as it is.\n",
        u.username
    );
    crate::mail::send(&svc.config.mail, &u.email, "Password reset link", &body).await
}

/// Checks a reset link's fields; returns the account.
pub async fn check_reset(
    svc: &Services,
    email: &str,
    timestamp: &str,
    token: &str,
) -> Result<kallithea_db::user::User> {
    let invalid = || {
        Error::invalid(
            "This password reset link is not valid: it has expired, was used already, or was changed. Ask for a new one.",
        )
    };
    let t: i64 = timestamp.trim().parse().map_err(|_| invalid())?;
    if t > now() + 60 || now() - t > RESET_LIFETIME {
        return Err(invalid());
    }
    let mut tx = svc.db.read().await?;
    let found = kallithea_db::user::list(&mut tx)
        .await?
        .into_iter()
        .find(|u| u.email.eq_ignore_ascii_case(email.trim()));
    tx.commit().await?;
    let u = found.filter(|u| u.active).ok_or_else(invalid)?;
    let expected = sign(&reset_secret(svc).await?, &u, t);
    if !secrets_equal(&expected, token.trim()) {
        return Err(invalid());
    }
    Ok(u)
}

/// Sets a new password from a valid link; every session of the account ends.
pub async fn reset_password(
    svc: &Services,
    email: &str,
    timestamp: &str,
    token: &str,
    password: &str,
    confirmation: &str,
) -> Result<UserName> {
    let u = check_reset(svc, email, timestamp, token).await?;
    if password != confirmation {
        return Err(Error::invalid("The two passwords do not match."));
    }
    crate::user::set_password_and_end_sessions(svc, u.id, password).await?;
    Ok(UserName::parse(&u.username)?)
}
