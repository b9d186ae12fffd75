//! The `repositories` and `repo_to_perm` tables.

use kallithea_model::{GroupId, PermLevel, RepoId, UserId};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::conn::{sql, text_column};
use crate::{Error, Result, Tx};

/// A row of `repositories`, with the owner's name.
#[derive(Clone, Debug)]
pub struct Repo {
    pub id: RepoId,
    pub name: String,
    pub repo_type: String,
    pub owner_id: UserId,
    pub owner_name: String,
    pub description: String,
    pub private: bool,
    pub landing_rev: String,
    pub enable_downloads: bool,
    pub clone_uri: Option<String>,
    pub created_on: i64,
    pub updated_on: i64,
    pub last_change: i64,
    /// The repository group it is in (its name's parent path), if any.
    pub group_id: Option<GroupId>,
}

/// What inserting a repository needs.
#[derive(Clone, Debug)]
pub struct NewRepo<'a> {
    pub name: &'a str,
    pub repo_type: &'a str,
    pub owner_id: UserId,
    pub description: &'a str,
    pub private: bool,
    pub landing_rev: &'a str,
    pub enable_downloads: bool,
    pub clone_uri: Option<&'a str>,
    pub group_id: Option<GroupId>,
    pub now: i64,
}

/// The editable fields of a repository.
#[derive(Clone, Debug)]
pub struct RepoUpdate<'a> {
    pub description: &'a str,
    pub private: bool,
    pub landing_rev: &'a str,
    pub enable_downloads: bool,
    pub now: i64,
}

const SELECT: &str = "SELECT r.repo_id, r.repo_name, r.repo_type, r.owner_id, u.username, r.description, r.private, r.landing_rev, r.enable_downloads, r.clone_uri, r.created_on, r.updated_on, r.last_change, r.group_id FROM repositories r JOIN users u ON u.user_id = r.owner_id";

fn from_row(r: &AnyRow) -> Result<Repo> {
    Ok(Repo {
        id: RepoId(r.try_get(0)?),
        name: r.try_get(1)?,
        repo_type: r.try_get(2)?,
        owner_id: UserId(r.try_get(3)?),
        owner_name: r.try_get(4)?,
        description: text_column(r, 5)?.unwrap_or_default(),
        private: r.try_get::<i64, _>(6)? != 0,
        landing_rev: r.try_get(7)?,
        enable_downloads: r.try_get::<i64, _>(8)? != 0,
        clone_uri: text_column(r, 9)?,
        created_on: r.try_get(10)?,
        updated_on: r.try_get(11)?,
        last_change: r.try_get(12)?,
        group_id: r.try_get::<Option<i64>, _>(13)?.map(GroupId),
    })
}

pub async fn insert(tx: &mut Tx, r: &NewRepo<'_>) -> Result<RepoId> {
    let id = tx
        .insert_returning_id(
            &sql!(tx, "INSERT INTO repositories (repo_name, repo_name_lower, repo_type, owner_id, description, private, landing_rev, enable_downloads, clone_uri, created_on, updated_on, last_change, group_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
            "repo_id",
            |q| {
                q.bind(r.name.to_owned())
                    .bind(r.name.to_lowercase())
                    .bind(r.repo_type.to_owned())
                    .bind(r.owner_id.0)
                    .bind(r.description.to_owned())
                    .bind(i64::from(r.private))
                    .bind(r.landing_rev.to_owned())
                    .bind(i64::from(r.enable_downloads))
                    .bind(r.clone_uri.map(str::to_owned))
                    .bind(r.now)
                    .bind(r.now)
                    .bind(r.now)
                    .bind(r.group_id.map(|g| g.0))
            },
        )
        .await?;
    Ok(RepoId(id))
}

pub async fn get(tx: &mut Tx, id: RepoId) -> Result<Option<Repo>> {
    let q = format!("{SELECT} WHERE r.repo_id = ?");
    let row = tx
        .fetch_optional(sqlx::query(&sql!(tx, &q)).bind(id.0))
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Looks a repository up by full name, ignoring case.
pub async fn find_by_name(tx: &mut Tx, name: &str) -> Result<Option<Repo>> {
    let q = format!("{SELECT} WHERE r.repo_name_lower = ?");
    let row = tx
        .fetch_optional(sqlx::query(&sql!(tx, &q)).bind(name.to_lowercase()))
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Every repository, by name. Visibility is decided by the caller.
pub async fn list(tx: &mut Tx) -> Result<Vec<Repo>> {
    let q = format!("{SELECT} ORDER BY r.repo_name_lower");
    let rows = tx.fetch_all(sqlx::query(&q)).await?;
    rows.iter().map(from_row).collect()
}

pub async fn update(tx: &mut Tx, id: RepoId, u: &RepoUpdate<'_>) -> Result<()> {
    let n = tx
        .execute(
            sqlx::query(&sql!(tx, "UPDATE repositories SET description = ?, private = ?, landing_rev = ?, enable_downloads = ?, updated_on = ? WHERE repo_id = ?"))
                .bind(u.description.to_owned())
                .bind(i64::from(u.private))
                .bind(u.landing_rev.to_owned())
                .bind(i64::from(u.enable_downloads))
                .bind(u.now)
                .bind(id.0),
        )
        .await?;
    if n == 0 { Err(Error::NotFound) } else { Ok(()) }
}

pub async fn rename(tx: &mut Tx, id: RepoId, new_name: &str, now: i64) -> Result<()> {
    tx.execute(
        sqlx::query(&sql!(tx, "UPDATE repositories SET repo_name = ?, repo_name_lower = ?, updated_on = ? WHERE repo_id = ?"))
            .bind(new_name.to_owned())
            .bind(new_name.to_lowercase())
            .bind(now)
            .bind(id.0),
    )
    .await?;
    Ok(())
}

pub async fn set_last_change(tx: &mut Tx, id: RepoId, at: i64) -> Result<()> {
    tx.execute(
        sqlx::query(&sql!(
            tx,
            "UPDATE repositories SET last_change = ? WHERE repo_id = ?"
        ))
        .bind(at)
        .bind(id.0),
    )
    .await?;
    Ok(())
}

pub async fn delete(tx: &mut Tx, id: RepoId) -> Result<()> {
    for t in [
        "repo_to_perm",
        "users_group_repo_to_perm",
        "user_followings",
    ] {
        let col = if t == "user_followings" {
            "follows_repository_id"
        } else {
            "repo_id"
        };
        let q = format!("DELETE FROM {t} WHERE {col} = ?");
        tx.execute(sqlx::query(&sql!(tx, &q)).bind(id.0)).await?;
    }
    tx.execute(sqlx::query(&sql!(tx, "DELETE FROM repositories WHERE repo_id = ?")).bind(id.0))
        .await?;
    Ok(())
}

/// A user's explicit grant on a repository.
#[derive(Clone, Debug)]
pub struct Grant {
    pub user_id: UserId,
    pub username: String,
    pub level: PermLevel,
}

/// Sets (or replaces) a user's grant on a repository.
pub async fn set_grant(tx: &mut Tx, repo: RepoId, user: UserId, level: PermLevel) -> Result<()> {
    tx.execute(
        sqlx::query(&sql!(
            tx,
            "DELETE FROM repo_to_perm WHERE repo_id = ? AND user_id = ?"
        ))
        .bind(repo.0)
        .bind(user.0),
    )
    .await?;
    tx.execute(
        sqlx::query(&sql!(
            tx,
            "INSERT INTO repo_to_perm (user_id, repo_id, permission) VALUES (?, ?, ?)"
        ))
        .bind(user.0)
        .bind(repo.0)
        .bind(level.repo_perm_name()),
    )
    .await?;
    Ok(())
}

pub async fn remove_grant(tx: &mut Tx, repo: RepoId, user: UserId) -> Result<()> {
    tx.execute(
        sqlx::query(&sql!(
            tx,
            "DELETE FROM repo_to_perm WHERE repo_id = ? AND user_id = ?"
        ))
        .bind(repo.0)
        .bind(user.0),
    )
    .await?;
    Ok(())
}

/// Every grant on one repository.
pub async fn grants_for_repo(tx: &mut Tx, repo: RepoId) -> Result<Vec<Grant>> {
    let rows = tx
        .fetch_all(
            sqlx::query(&sql!(tx, "SELECT p.user_id, u.username, p.permission FROM repo_to_perm p JOIN users u ON u.user_id = p.user_id WHERE p.repo_id = ? ORDER BY u.username_lower"))
                .bind(repo.0),
        )
        .await?;
    rows.iter().map(grant_from_row).collect()
}

/// The grants one user (and the `default` user) hold on every repository: what the
/// permission function needs to filter a list in one query.
pub async fn grants_for_users(tx: &mut Tx, users: &[UserId]) -> Result<Vec<(RepoId, Grant)>> {
    let ids: Vec<i64> = users.iter().map(|u| u.0).collect();
    let rows = tx
        .fetch_all_in(
            "SELECT p.user_id, u.username, p.permission, p.repo_id FROM repo_to_perm p JOIN users u ON u.user_id = p.user_id WHERE p.user_id IN ({ids})",
            &ids,
        )
        .await?;
    rows.iter()
        .map(|r| Ok((RepoId(r.try_get(3)?), grant_from_row(r)?)))
        .collect()
}

fn grant_from_row(r: &AnyRow) -> Result<Grant> {
    let perm: String = r.try_get(2)?;
    Ok(Grant {
        user_id: UserId(r.try_get(0)?),
        username: r.try_get(1)?,
        level: PermLevel::from_repo_perm_name(&perm).unwrap_or(PermLevel::None),
    })
}

/// How many repositories a user owns.
pub async fn count_owned(tx: &mut Tx, owner: UserId) -> Result<i64> {
    let row = tx
        .fetch_optional(
            sqlx::query(&sql!(
                tx,
                "SELECT COUNT(*) FROM repositories WHERE owner_id = ?"
            ))
            .bind(owner.0),
        )
        .await?;
    Ok(row
        .map(|r| r.try_get::<i64, _>(0))
        .transpose()?
        .unwrap_or(0))
}

/// Gives every repository of one user to another.
pub async fn transfer_owned(tx: &mut Tx, from: UserId, to: UserId) -> Result<u64> {
    tx.execute(
        sqlx::query(&sql!(
            tx,
            "UPDATE repositories SET owner_id = ? WHERE owner_id = ?"
        ))
        .bind(to.0)
        .bind(from.0),
    )
    .await
}

/// Sets (or clears) the address a repository was cloned from.
pub async fn set_clone_uri(tx: &mut Tx, id: RepoId, uri: Option<&str>) -> Result<()> {
    tx.execute(
        sqlx::query(&sql!(
            tx,
            "UPDATE repositories SET clone_uri = ? WHERE repo_id = ?"
        ))
        .bind(uri.map(str::to_owned))
        .bind(id.0),
    )
    .await?;
    Ok(())
}
