//! The `user_ssh_keys` table.

use kallithea_model::UserId;
use sqlx::Row;

use crate::conn::{sql, text_column};
use crate::{Result, Tx};

#[derive(Clone, Debug)]
pub struct SshKeyRow {
    pub user_id: UserId,
    pub public_key: String,
    pub description: String,
    pub fingerprint: String,
    pub created_on: i64,
}

pub async fn insert(
    tx: &mut Tx,
    user: UserId,
    public_key: &str,
    description: &str,
    fingerprint: &str,
    now: i64,
) -> Result<()> {
    tx.execute(
        sqlx::query(&sql!(tx, "INSERT INTO user_ssh_keys (user_id, public_key, description, fingerprint, created_on) VALUES (?, ?, ?, ?, ?)"))
            .bind(user.0)
            .bind(public_key.to_owned())
            .bind(description.to_owned())
            .bind(fingerprint.to_owned())
            .bind(now),
    )
    .await?;
    Ok(())
}

pub async fn list(tx: &mut Tx, user: UserId) -> Result<Vec<SshKeyRow>> {
    let rows = tx
        .fetch_all(
            sqlx::query(&sql!(tx, "SELECT user_id, public_key, description, fingerprint, created_on FROM user_ssh_keys WHERE user_id = ? ORDER BY created_on, user_ssh_key_id"))
                .bind(user.0),
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(SshKeyRow {
                user_id: UserId(r.try_get(0)?),
                public_key: text_column(r, 1)?.unwrap_or_default(),
                description: text_column(r, 2)?.unwrap_or_default(),
                fingerprint: r.try_get(3)?,
                created_on: r.try_get(4)?,
            })
        })
        .collect()
}

pub async fn exists(tx: &mut Tx, fingerprint: &str) -> Result<bool> {
    Ok(tx
        .fetch_optional(
            sqlx::query(&sql!(
                tx,
                "SELECT user_ssh_key_id FROM user_ssh_keys WHERE fingerprint = ?"
            ))
            .bind(fingerprint.to_owned()),
        )
        .await?
        .is_some())
}

pub async fn delete(tx: &mut Tx, user: UserId, fingerprint: &str) -> Result<bool> {
    let n = tx
        .execute(
            sqlx::query(&sql!(
                tx,
                "DELETE FROM user_ssh_keys WHERE user_id = ? AND fingerprint = ?"
            ))
            .bind(user.0)
            .bind(fingerprint.to_owned()),
        )
        .await?;
    Ok(n > 0)
}
