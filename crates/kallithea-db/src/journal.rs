//! The `user_logs` table: the journal of who did what to which repository.

use kallithea_model::{RepoId, UserId};
use sqlx::Row;

use crate::conn::sql;
use crate::{Result, Tx};

/// A journal entry, as written and as read.
#[derive(Clone, Debug)]
pub struct Entry {
    pub user_id: Option<UserId>,
    pub username: String,
    pub repo_id: Option<RepoId>,
    pub repository_name: String,
    pub action: String,
    pub action_date: i64,
    pub user_ip: String,
}

pub async fn insert(tx: &mut Tx, e: &Entry) -> Result<()> {
    tx.execute(
        sqlx::query(&sql!(tx, "INSERT INTO user_logs (user_id, username, repo_id, repository_name, action, action_date, user_ip) VALUES (?, ?, ?, ?, ?, ?, ?)"))
            .bind(e.user_id.map(|u| u.0))
            .bind(e.username.clone())
            .bind(e.repo_id.map(|r| r.0))
            .bind(e.repository_name.clone())
            .bind(e.action.clone())
            .bind(e.action_date)
            .bind(e.user_ip.clone()),
    )
    .await?;
    Ok(())
}

/// The newest entries of a repository.
pub async fn list_for_repo(tx: &mut Tx, repo: RepoId, limit: i64) -> Result<Vec<Entry>> {
    let rows = tx
        .fetch_all(
            sqlx::query(&sql!(tx, "SELECT user_id, username, repo_id, repository_name, action, action_date, user_ip FROM user_logs WHERE repo_id = ? ORDER BY action_date DESC, user_log_id DESC LIMIT ?"))
                .bind(repo.0)
                .bind(limit),
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Entry {
                user_id: r.try_get::<Option<i64>, _>(0)?.map(UserId),
                username: r.try_get(1)?,
                repo_id: r.try_get::<Option<i64>, _>(2)?.map(RepoId),
                repository_name: r.try_get(3)?,
                action: crate::conn::text_column(r, 4)?.unwrap_or_default(),
                action_date: r.try_get(5)?,
                user_ip: r.try_get(6)?,
            })
        })
        .collect()
}
