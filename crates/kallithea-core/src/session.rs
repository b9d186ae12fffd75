//! Server-side sessions: the cookie holds a random id, the database holds its SHA-256, the
//! signed-in user and the CSRF secret. A new id is issued at sign-in.

use kallithea_model::UserId;

use crate::token::{random_hex, sha256_hex};
use crate::{Result, Services, now};

/// A loaded session.
#[derive(Clone, Debug)]
pub struct Session {
    /// The value stored in the cookie.
    pub cookie: String,
    pub user_id: Option<UserId>,
    pub csrf_token: String,
}

/// How long a session without a user lives (it only carries a CSRF token for the sign-in form).
const ANONYMOUS_LIFETIME: i64 = 2 * 3600;

/// Starts a session (anonymous when `user` is `None`).
pub async fn start(svc: &Services, user: Option<UserId>) -> Result<Session> {
    let cookie = random_hex(32);
    let csrf_token = random_hex(20);
    let t = now();
    let mut tx = svc.db.write().await?;
    kallithea_db::session::insert(
        &mut tx,
        &kallithea_db::session::Session {
            id_hash: sha256_hex(&cookie),
            user_id: user,
            csrf_token: csrf_token.clone(),
            expires_on: t + if user.is_some() {
                svc.config.session_lifetime
            } else {
                ANONYMOUS_LIFETIME.min(svc.config.session_lifetime)
            },
        },
        t,
    )
    .await?;
    tx.commit().await?;
    Ok(Session {
        cookie,
        user_id: user,
        csrf_token,
    })
}

/// Loads the session named by a cookie value, if it exists and has not expired.
pub async fn load(svc: &Services, cookie: &str) -> Result<Option<Session>> {
    if cookie.len() != 64 || !cookie.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let mut tx = svc.db.read().await?;
    let s = kallithea_db::session::get(&mut tx, &sha256_hex(cookie), now()).await?;
    tx.commit().await?;
    Ok(s.map(|s| Session {
        cookie: cookie.to_owned(),
        user_id: s.user_id,
        csrf_token: s.csrf_token,
    }))
}

/// Ends a session.
pub async fn end(svc: &Services, cookie: &str) -> Result<()> {
    let mut tx = svc.db.write().await?;
    kallithea_db::session::delete(&mut tx, &sha256_hex(cookie)).await?;
    tx.commit().await?;
    Ok(())
}

/// Replaces a session by a new one for `user` (sign-in: the old id stops working).
pub async fn rotate(svc: &Services, old: Option<&str>, user: Option<UserId>) -> Result<Session> {
    if let Some(old) = old {
        end(svc, old).await?;
    }
    start(svc, user).await
}

/// Deletes expired sessions; run periodically.
pub async fn purge_expired(svc: &Services) -> Result<u64> {
    let mut tx = svc.db.write().await?;
    let n = kallithea_db::session::delete_expired(&mut tx, now()).await?;
    tx.commit().await?;
    Ok(n)
}
