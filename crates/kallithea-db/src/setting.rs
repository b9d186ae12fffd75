//! The `settings` table: named site settings stored as text.

use crate::conn::sql;
use crate::{Result, Tx};

pub async fn get(tx: &mut Tx, name: &str) -> Result<Option<String>> {
    let row = tx
        .fetch_optional(
            sqlx::query(&sql!(
                tx,
                "SELECT app_settings_value FROM settings WHERE app_settings_name = ?"
            ))
            .bind(name.to_owned()),
        )
        .await?;
    match row {
        Some(r) => crate::conn::text_column(&r, 0),
        None => Ok(None),
    }
}

pub async fn set(tx: &mut Tx, name: &str, value: &str) -> Result<()> {
    tx.execute(
        sqlx::query(&sql!(
            tx,
            "DELETE FROM settings WHERE app_settings_name = ?"
        ))
        .bind(name.to_owned()),
    )
    .await?;
    tx.execute(
        sqlx::query(&sql!(
            tx,
            "INSERT INTO settings (app_settings_name, app_settings_value) VALUES (?, ?)"
        ))
        .bind(name.to_owned())
        .bind(value.to_owned()),
    )
    .await?;
    Ok(())
}

/// Every setting whose name starts with `prefix` (`auth_`).
pub async fn with_prefix(tx: &mut Tx, prefix: &str) -> Result<Vec<(String, String)>> {
    let rows = tx
        .fetch_all(
            sqlx::query(&sql!(
                tx,
                "SELECT app_settings_name, app_settings_value FROM settings WHERE app_settings_name LIKE ?"
            ))
            .bind(format!("{prefix}%")),
        )
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let name = crate::conn::text_column(r, 0)?.unwrap_or_default();
        // LIKE treats `_` as a wildcard: keep exact prefixes only.
        if name.starts_with(prefix) {
            out.push((name, crate::conn::text_column(r, 1)?.unwrap_or_default()));
        }
    }
    Ok(out)
}
