//! The `user_followings` table: repositories a user watches.

use kallithea_model::{RepoId, UserId};
use sqlx::Row;

use crate::conn::sql;
use crate::{Result, Tx};

pub async fn is_following(tx: &mut Tx, user: UserId, repo: RepoId) -> Result<bool> {
    Ok(tx
        .fetch_optional(
            sqlx::query(&sql!(tx, "SELECT user_following_id FROM user_followings WHERE user_id = ? AND follows_repository_id = ?"))
                .bind(user.0)
                .bind(repo.0),
        )
        .await?
        .is_some())
}

pub async fn follow(tx: &mut Tx, user: UserId, repo: RepoId, now: i64) -> Result<()> {
    tx.execute(
        sqlx::query(&sql!(tx, "INSERT INTO user_followings (user_id, follows_repository_id, follows_from) VALUES (?, ?, ?)"))
            .bind(user.0)
            .bind(repo.0)
            .bind(now),
    )
    .await?;
    Ok(())
}

pub async fn unfollow(tx: &mut Tx, user: UserId, repo: RepoId) -> Result<()> {
    tx.execute(
        sqlx::query(&sql!(
            tx,
            "DELETE FROM user_followings WHERE user_id = ? AND follows_repository_id = ?"
        ))
        .bind(user.0)
        .bind(repo.0),
    )
    .await?;
    Ok(())
}

pub async fn followed_repos(tx: &mut Tx, user: UserId) -> Result<Vec<RepoId>> {
    let rows = tx
        .fetch_all(
            sqlx::query(&sql!(
                tx,
                "SELECT follows_repository_id FROM user_followings WHERE user_id = ?"
            ))
            .bind(user.0),
        )
        .await?;
    rows.iter().map(|r| Ok(RepoId(r.try_get(0)?))).collect()
}

/// The users who watch a repository, by name.
pub async fn followers(tx: &mut Tx, repo: RepoId) -> Result<Vec<UserId>> {
    let rows = tx
        .fetch_all(
            sqlx::query(&sql!(tx, "SELECT f.user_id FROM user_followings f JOIN users u ON u.user_id = f.user_id WHERE f.follows_repository_id = ? ORDER BY u.username_lower"))
                .bind(repo.0),
        )
        .await?;
    rows.iter().map(|r| Ok(UserId(r.try_get(0)?))).collect()
}
