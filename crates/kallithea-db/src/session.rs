//! The `user_sessions` table: server-side sessions keyed by a hash of the cookie value.

use kallithea_model::UserId;
use sqlx::Row;

use crate::conn::sql;
use crate::{Result, Tx};

/// A row of `user_sessions`.
#[derive(Clone, Debug)]
pub struct Session {
    pub id_hash: String,
    pub user_id: Option<UserId>,
    pub csrf_token: String,
    pub expires_on: i64,
}

pub async fn insert(tx: &mut Tx, s: &Session, now: i64) -> Result<()> {
    tx.execute(
        sqlx::query(&sql!(tx, "INSERT INTO user_sessions (session_id, user_id, csrf_token, created_on, expires_on) VALUES (?, ?, ?, ?, ?)"))
            .bind(s.id_hash.clone())
            .bind(s.user_id.map(|u| u.0))
            .bind(s.csrf_token.clone())
            .bind(now)
            .bind(s.expires_on),
    )
    .await?;
    Ok(())
}

pub async fn get(tx: &mut Tx, id_hash: &str, now: i64) -> Result<Option<Session>> {
    let row = tx
        .fetch_optional(
            sqlx::query(&sql!(tx, "SELECT session_id, user_id, csrf_token, expires_on FROM user_sessions WHERE session_id = ? AND expires_on > ?"))
                .bind(id_hash.to_owned())
                .bind(now),
        )
        .await?;
    row.map(|r| {
        Ok(Session {
            id_hash: r.try_get(0)?,
            user_id: r.try_get::<Option<i64>, _>(1)?.map(UserId),
            csrf_token: r.try_get(2)?,
            expires_on: r.try_get(3)?,
        })
    })
    .transpose()
}

pub async fn delete(tx: &mut Tx, id_hash: &str) -> Result<()> {
    tx.execute(
        sqlx::query(&sql!(tx, "DELETE FROM user_sessions WHERE session_id = ?"))
            .bind(id_hash.to_owned()),
    )
    .await?;
    Ok(())
}

pub async fn delete_expired(tx: &mut Tx, now: i64) -> Result<u64> {
    tx.execute(sqlx::query(&sql!(tx, "DELETE FROM user_sessions WHERE expires_on <= ?")).bind(now))
        .await
}

/// Ends every session of a user but one (after a password change).
pub async fn delete_for_user_except(tx: &mut Tx, user: UserId, keep_hash: &str) -> Result<u64> {
    tx.execute(
        sqlx::query(&sql!(
            tx,
            "DELETE FROM user_sessions WHERE user_id = ? AND session_id <> ?"
        ))
        .bind(user.0)
        .bind(keep_hash.to_owned()),
    )
    .await
}
