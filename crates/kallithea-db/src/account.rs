//! What belongs to one account besides its row: extra API keys (`user_api_keys`), extra email
//! addresses (`user_email_map`) and the IP allow-list (`user_ip_map`).

use kallithea_model::UserId;
use sqlx::Row;

use crate::conn::{sql, text_column};
use crate::{Result, Tx};

/// An extra API key. `expires` is a Unix time, or -1 for never (Kallithea's convention).
#[derive(Clone, Debug)]
pub struct ApiKey {
    pub api_key: String,
    pub user_id: UserId,
    pub description: String,
    pub expires: i64,
    pub created_on: i64,
}

pub async fn add_api_key(tx: &mut Tx, k: &ApiKey) -> Result<()> {
    tx.execute(
        sqlx::query(&sql!(tx, "INSERT INTO user_api_keys (user_id, api_key, description, expires, created_on) VALUES (?, ?, ?, ?, ?)"))
            .bind(k.user_id.0)
            .bind(k.api_key.clone())
            .bind(k.description.clone())
            .bind(k.expires)
            .bind(k.created_on),
    )
    .await?;
    Ok(())
}

pub async fn api_keys(tx: &mut Tx, user: UserId) -> Result<Vec<ApiKey>> {
    let rows = tx
        .fetch_all(
            sqlx::query(&sql!(tx, "SELECT api_key, user_id, description, expires, created_on FROM user_api_keys WHERE user_id = ? ORDER BY created_on, user_api_key_id"))
                .bind(user.0),
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(ApiKey {
                api_key: r.try_get(0)?,
                user_id: UserId(r.try_get(1)?),
                description: text_column(r, 2)?.unwrap_or_default(),
                expires: r.try_get(3)?,
                created_on: r.try_get(4)?,
            })
        })
        .collect()
}

/// The owner of an extra key that has not expired at `now`.
pub async fn user_of_api_key(tx: &mut Tx, key: &str, now: i64) -> Result<Option<UserId>> {
    let row = tx
        .fetch_optional(
            sqlx::query(&sql!(tx, "SELECT user_id FROM user_api_keys WHERE api_key = ? AND (expires = -1 OR expires > ?)"))
                .bind(key.to_owned())
                .bind(now),
        )
        .await?;
    row.map(|r| Ok(UserId(r.try_get(0)?))).transpose()
}

/// Deletes one of a user's extra keys; false when it was not theirs.
pub async fn delete_api_key(tx: &mut Tx, user: UserId, key: &str) -> Result<bool> {
    let n = tx
        .execute(
            sqlx::query(&sql!(
                tx,
                "DELETE FROM user_api_keys WHERE user_id = ? AND api_key = ?"
            ))
            .bind(user.0)
            .bind(key.to_owned()),
        )
        .await?;
    Ok(n > 0)
}

/// `(id, address)` of a user's extra email addresses.
pub async fn emails(tx: &mut Tx, user: UserId) -> Result<Vec<(i64, String)>> {
    let rows = tx
        .fetch_all(
            sqlx::query(&sql!(
                tx,
                "SELECT email_id, email FROM user_email_map WHERE user_id = ? ORDER BY email_lower"
            ))
            .bind(user.0),
        )
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
}

pub async fn add_email(tx: &mut Tx, user: UserId, email: &str) -> Result<()> {
    tx.execute(
        sqlx::query(&sql!(
            tx,
            "INSERT INTO user_email_map (user_id, email, email_lower) VALUES (?, ?, ?)"
        ))
        .bind(user.0)
        .bind(email.to_owned())
        .bind(email.to_lowercase()),
    )
    .await?;
    Ok(())
}

/// Deletes one of a user's extra addresses; false when it was not theirs.
pub async fn delete_email(tx: &mut Tx, user: UserId, id: i64) -> Result<bool> {
    let n = tx
        .execute(
            sqlx::query(&sql!(
                tx,
                "DELETE FROM user_email_map WHERE user_id = ? AND email_id = ?"
            ))
            .bind(user.0)
            .bind(id),
        )
        .await?;
    Ok(n > 0)
}

/// Whether any account uses this address, as its main or an extra one.
pub async fn email_in_use(tx: &mut Tx, email: &str) -> Result<bool> {
    let lower = email.to_lowercase();
    let extra = tx
        .fetch_optional(
            sqlx::query(&sql!(
                tx,
                "SELECT email_id FROM user_email_map WHERE email_lower = ?"
            ))
            .bind(lower.clone()),
        )
        .await?
        .is_some();
    let main = tx
        .fetch_optional(
            sqlx::query(&sql!(
                tx,
                "SELECT user_id FROM users WHERE LOWER(email) = ?"
            ))
            .bind(lower),
        )
        .await?
        .is_some();
    Ok(extra || main)
}

/// `(id, address or range)` of a user's IP allow-list.
pub async fn ips(tx: &mut Tx, user: UserId) -> Result<Vec<(i64, String)>> {
    let rows = tx
        .fetch_all(
            sqlx::query(&sql!(
                tx,
                "SELECT ip_id, ip_addr FROM user_ip_map WHERE user_id = ? AND active <> 0 ORDER BY ip_id"
            ))
            .bind(user.0),
        )
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
}

pub async fn add_ip(tx: &mut Tx, user: UserId, range: &str) -> Result<()> {
    tx.execute(
        sqlx::query(&sql!(
            tx,
            "INSERT INTO user_ip_map (user_id, ip_addr, active) VALUES (?, ?, 1)"
        ))
        .bind(user.0)
        .bind(range.to_owned()),
    )
    .await?;
    Ok(())
}

pub async fn delete_ip(tx: &mut Tx, user: UserId, id: i64) -> Result<bool> {
    let n = tx
        .execute(
            sqlx::query(&sql!(
                tx,
                "DELETE FROM user_ip_map WHERE user_id = ? AND ip_id = ?"
            ))
            .bind(user.0)
            .bind(id),
        )
        .await?;
    Ok(n > 0)
}
