//! User groups: `users_groups`, `users_groups_members`, and their grants on repositories
//! (`users_group_repo_to_perm`). Grants on repository groups are in `repo_group`.

use kallithea_model::{PermLevel, RepoId, UserGroupId, UserId};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::conn::{sql, text_column};
use crate::{Result, Tx};

/// A row of `users_groups`, with the owner's name.
#[derive(Clone, Debug)]
pub struct UserGroup {
    pub id: UserGroupId,
    pub name: String,
    pub description: String,
    pub active: bool,
    pub owner_id: UserId,
    pub owner_name: String,
    pub created_on: i64,
}

const SELECT: &str = "SELECT g.users_group_id, g.users_group_name, g.user_group_description, g.users_group_active, g.owner_id, u.username, g.created_on FROM users_groups g JOIN users u ON u.user_id = g.owner_id";

fn from_row(r: &AnyRow) -> Result<UserGroup> {
    Ok(UserGroup {
        id: UserGroupId(r.try_get(0)?),
        name: r.try_get(1)?,
        description: text_column(r, 2)?.unwrap_or_default(),
        active: r.try_get::<i64, _>(3)? != 0,
        owner_id: UserId(r.try_get(4)?),
        owner_name: r.try_get(5)?,
        created_on: r.try_get(6)?,
    })
}

pub async fn insert(
    tx: &mut Tx,
    name: &str,
    description: &str,
    active: bool,
    owner: UserId,
    now: i64,
) -> Result<UserGroupId> {
    let id = tx
        .insert_returning_id(
            &sql!(tx, "INSERT INTO users_groups (users_group_name, users_group_name_lower, user_group_description, users_group_active, owner_id, created_on) VALUES (?, ?, ?, ?, ?, ?)"),
            "users_group_id",
            |q| {
                q.bind(name.to_owned())
                    .bind(name.to_lowercase())
                    .bind(description.to_owned())
                    .bind(i64::from(active))
                    .bind(owner.0)
                    .bind(now)
            },
        )
        .await?;
    Ok(UserGroupId(id))
}

pub async fn get(tx: &mut Tx, id: UserGroupId) -> Result<Option<UserGroup>> {
    let q = format!("{SELECT} WHERE g.users_group_id = ?");
    let row = tx
        .fetch_optional(sqlx::query(&sql!(tx, &q)).bind(id.0))
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Looks a user group up by name, ignoring case.
pub async fn find_by_name(tx: &mut Tx, name: &str) -> Result<Option<UserGroup>> {
    let q = format!("{SELECT} WHERE g.users_group_name_lower = ?");
    let row = tx
        .fetch_optional(sqlx::query(&sql!(tx, &q)).bind(name.to_lowercase()))
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn list(tx: &mut Tx) -> Result<Vec<UserGroup>> {
    let q = format!("{SELECT} ORDER BY g.users_group_name_lower");
    let rows = tx.fetch_all(sqlx::query(&q)).await?;
    rows.iter().map(from_row).collect()
}

pub async fn update(
    tx: &mut Tx,
    id: UserGroupId,
    name: &str,
    description: &str,
    active: bool,
) -> Result<()> {
    tx.execute(
        sqlx::query(&sql!(tx, "UPDATE users_groups SET users_group_name = ?, users_group_name_lower = ?, user_group_description = ?, users_group_active = ? WHERE users_group_id = ?"))
            .bind(name.to_owned())
            .bind(name.to_lowercase())
            .bind(description.to_owned())
            .bind(i64::from(active))
            .bind(id.0),
    )
    .await?;
    Ok(())
}

pub async fn delete(tx: &mut Tx, id: UserGroupId) -> Result<()> {
    for q in [
        "DELETE FROM users_groups_members WHERE users_group_id = ?",
        "DELETE FROM users_group_repo_to_perm WHERE users_group_id = ?",
        "DELETE FROM users_group_repo_group_to_perm WHERE users_group_id = ?",
        "DELETE FROM user_user_group_to_perm WHERE user_group_id = ?",
        "DELETE FROM user_group_user_group_to_perm WHERE user_group_id = ?",
        "DELETE FROM user_group_user_group_to_perm WHERE target_user_group_id = ?",
        "DELETE FROM users_groups WHERE users_group_id = ?",
    ] {
        tx.execute(sqlx::query(&sql!(tx, q)).bind(id.0)).await?;
    }
    Ok(())
}

/// Members as `(id, username)`, by name.
pub async fn members(tx: &mut Tx, id: UserGroupId) -> Result<Vec<(UserId, String)>> {
    let rows = tx
        .fetch_all(
            sqlx::query(&sql!(tx, "SELECT m.user_id, u.username FROM users_groups_members m JOIN users u ON u.user_id = m.user_id WHERE m.users_group_id = ? ORDER BY u.username_lower"))
                .bind(id.0),
        )
        .await?;
    rows.iter()
        .map(|r| Ok((UserId(r.try_get(0)?), r.try_get(1)?)))
        .collect()
}

pub async fn add_member(tx: &mut Tx, id: UserGroupId, user: UserId) -> Result<()> {
    remove_member(tx, id, user).await?;
    tx.execute(
        sqlx::query(&sql!(
            tx,
            "INSERT INTO users_groups_members (users_group_id, user_id) VALUES (?, ?)"
        ))
        .bind(id.0)
        .bind(user.0),
    )
    .await?;
    Ok(())
}

pub async fn remove_member(tx: &mut Tx, id: UserGroupId, user: UserId) -> Result<()> {
    tx.execute(
        sqlx::query(&sql!(
            tx,
            "DELETE FROM users_groups_members WHERE users_group_id = ? AND user_id = ?"
        ))
        .bind(id.0)
        .bind(user.0),
    )
    .await?;
    Ok(())
}

/// The active user groups a user is a member of.
pub async fn active_groups_of(tx: &mut Tx, user: UserId) -> Result<Vec<UserGroupId>> {
    let rows = tx
        .fetch_all(
            sqlx::query(&sql!(tx, "SELECT g.users_group_id FROM users_groups g JOIN users_groups_members m ON m.users_group_id = g.users_group_id WHERE m.user_id = ? AND g.users_group_active <> 0"))
                .bind(user.0),
        )
        .await?;
    rows.iter()
        .map(|r| Ok(UserGroupId(r.try_get(0)?)))
        .collect()
}

/// A user group's grant on a repository.
#[derive(Clone, Debug)]
pub struct RepoGrant {
    pub repo_id: RepoId,
    pub user_group_id: UserGroupId,
    pub name: String,
    pub level: PermLevel,
}

pub async fn set_repo_grant(
    tx: &mut Tx,
    repo: RepoId,
    ug: UserGroupId,
    level: PermLevel,
) -> Result<()> {
    remove_repo_grant(tx, repo, ug).await?;
    tx.execute(
        sqlx::query(&sql!(
            tx,
            "INSERT INTO users_group_repo_to_perm (users_group_id, repo_id, permission) VALUES (?, ?, ?)"
        ))
        .bind(ug.0)
        .bind(repo.0)
        .bind(level.repo_perm_name()),
    )
    .await?;
    Ok(())
}

pub async fn remove_repo_grant(tx: &mut Tx, repo: RepoId, ug: UserGroupId) -> Result<()> {
    tx.execute(
        sqlx::query(&sql!(
            tx,
            "DELETE FROM users_group_repo_to_perm WHERE repo_id = ? AND users_group_id = ?"
        ))
        .bind(repo.0)
        .bind(ug.0),
    )
    .await?;
    Ok(())
}

fn repo_grant(r: &AnyRow) -> Result<RepoGrant> {
    Ok(RepoGrant {
        repo_id: RepoId(r.try_get(0)?),
        user_group_id: UserGroupId(r.try_get(1)?),
        name: r.try_get(2)?,
        level: PermLevel::from_repo_perm_name(&r.try_get::<String, _>(3)?)
            .unwrap_or(PermLevel::None),
    })
}

/// The user-group grants on one repository.
pub async fn repo_grants_for_repo(tx: &mut Tx, repo: RepoId) -> Result<Vec<RepoGrant>> {
    let rows = tx
        .fetch_all(
            sqlx::query(&sql!(tx, "SELECT p.repo_id, p.users_group_id, g.users_group_name, p.permission FROM users_group_repo_to_perm p JOIN users_groups g ON g.users_group_id = p.users_group_id WHERE p.repo_id = ? ORDER BY g.users_group_name_lower"))
                .bind(repo.0),
        )
        .await?;
    rows.iter().map(repo_grant).collect()
}

/// The repository grants of some user groups.
pub async fn repo_grants_for(tx: &mut Tx, ugs: &[UserGroupId]) -> Result<Vec<RepoGrant>> {
    if ugs.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = ugs.iter().map(|x| x.0).collect();
    let rows = tx
        .fetch_all_in(
            "SELECT p.repo_id, p.users_group_id, g.users_group_name, p.permission FROM users_group_repo_to_perm p JOIN users_groups g ON g.users_group_id = p.users_group_id WHERE p.users_group_id IN ({ids})",
            &ids,
        )
        .await?;
    rows.iter().map(repo_grant).collect()
}

/// Gives every user group of one user to another.
pub async fn transfer_owned(tx: &mut Tx, from: UserId, to: UserId) -> Result<u64> {
    tx.execute(
        sqlx::query(&sql!(
            tx,
            "UPDATE users_groups SET owner_id = ? WHERE owner_id = ?"
        ))
        .bind(to.0)
        .bind(from.0),
    )
    .await
}

/// A grant on a user group, to a user or to another user group.
#[derive(Clone, Debug)]
pub struct UserGroupGrant {
    pub target: UserGroupId,
    pub user_id: Option<UserId>,
    pub user_group_id: Option<UserGroupId>,
    pub name: String,
    pub level: PermLevel,
}

fn ug_level(s: &str) -> PermLevel {
    PermLevel::from_user_group_perm_name(s).unwrap_or(PermLevel::None)
}

pub async fn set_user_grant_on(
    tx: &mut Tx,
    target: UserGroupId,
    user: UserId,
    level: Option<PermLevel>,
) -> Result<()> {
    tx.execute(
        sqlx::query(&sql!(
            tx,
            "DELETE FROM user_user_group_to_perm WHERE user_group_id = ? AND user_id = ?"
        ))
        .bind(target.0)
        .bind(user.0),
    )
    .await?;
    if let Some(l) = level {
        tx.execute(
            sqlx::query(&sql!(tx, "INSERT INTO user_user_group_to_perm (user_id, user_group_id, permission) VALUES (?, ?, ?)"))
                .bind(user.0)
                .bind(target.0)
                .bind(l.user_group_perm_name()),
        )
        .await?;
    }
    Ok(())
}

pub async fn set_group_grant_on(
    tx: &mut Tx,
    target: UserGroupId,
    group: UserGroupId,
    level: Option<PermLevel>,
) -> Result<()> {
    tx.execute(
        sqlx::query(&sql!(
            tx,
            "DELETE FROM user_group_user_group_to_perm WHERE target_user_group_id = ? AND user_group_id = ?"
        ))
        .bind(target.0)
        .bind(group.0),
    )
    .await?;
    if let Some(l) = level {
        tx.execute(
            sqlx::query(&sql!(tx, "INSERT INTO user_group_user_group_to_perm (target_user_group_id, user_group_id, permission) VALUES (?, ?, ?)"))
                .bind(target.0)
                .bind(group.0)
                .bind(l.user_group_perm_name()),
        )
        .await?;
    }
    Ok(())
}

/// Every grant on one user group, users first.
pub async fn grants_on(tx: &mut Tx, target: UserGroupId) -> Result<Vec<UserGroupGrant>> {
    let mut out = Vec::new();
    let rows = tx
        .fetch_all(
            sqlx::query(&sql!(tx, "SELECT p.user_id, u.username, p.permission FROM user_user_group_to_perm p JOIN users u ON u.user_id = p.user_id WHERE p.user_group_id = ? ORDER BY u.username_lower"))
                .bind(target.0),
        )
        .await?;
    for r in &rows {
        out.push(UserGroupGrant {
            target,
            user_id: Some(UserId(r.try_get(0)?)),
            user_group_id: None,
            name: r.try_get(1)?,
            level: ug_level(&r.try_get::<String, _>(2)?),
        });
    }
    let rows = tx
        .fetch_all(
            sqlx::query(&sql!(tx, "SELECT p.user_group_id, g.users_group_name, p.permission FROM user_group_user_group_to_perm p JOIN users_groups g ON g.users_group_id = p.user_group_id WHERE p.target_user_group_id = ? ORDER BY g.users_group_name_lower"))
                .bind(target.0),
        )
        .await?;
    for r in &rows {
        out.push(UserGroupGrant {
            target,
            user_id: None,
            user_group_id: Some(UserGroupId(r.try_get(0)?)),
            name: r.try_get(1)?,
            level: ug_level(&r.try_get::<String, _>(2)?),
        });
    }
    Ok(out)
}

/// The user-group grants held by some users and some user groups.
pub async fn grants_on_for(
    tx: &mut Tx,
    users: &[UserId],
    groups: &[UserGroupId],
) -> Result<Vec<UserGroupGrant>> {
    let mut out = Vec::new();
    if !users.is_empty() {
        let ids: Vec<i64> = users.iter().map(|x| x.0).collect();
        let rows = tx
            .fetch_all_in(
                "SELECT user_group_id, user_id, permission FROM user_user_group_to_perm WHERE user_id IN ({ids})",
                &ids,
            )
            .await?;
        for r in rows {
            out.push(UserGroupGrant {
                target: UserGroupId(r.try_get(0)?),
                user_id: Some(UserId(r.try_get(1)?)),
                user_group_id: None,
                name: String::new(),
                level: ug_level(&r.try_get::<String, _>(2)?),
            });
        }
    }
    if !groups.is_empty() {
        let ids: Vec<i64> = groups.iter().map(|x| x.0).collect();
        let rows = tx
            .fetch_all_in(
                "SELECT target_user_group_id, user_group_id, permission FROM user_group_user_group_to_perm WHERE user_group_id IN ({ids})",
                &ids,
            )
            .await?;
        for r in rows {
            out.push(UserGroupGrant {
                target: UserGroupId(r.try_get(0)?),
                user_id: None,
                user_group_id: Some(UserGroupId(r.try_get(1)?)),
                name: String::new(),
                level: ug_level(&r.try_get::<String, _>(2)?),
            });
        }
    }
    Ok(out)
}

/// How many repositories and repository groups a user group holds a grant on.
pub async fn assigned_count(tx: &mut Tx, id: UserGroupId) -> Result<i64> {
    let mut total = 0;
    for q in [
        "SELECT COUNT(*) FROM users_group_repo_to_perm WHERE users_group_id = ?",
        "SELECT COUNT(*) FROM users_group_repo_group_to_perm WHERE users_group_id = ?",
    ] {
        if let Some(r) = tx
            .fetch_optional(sqlx::query(&sql!(tx, q)).bind(id.0))
            .await?
        {
            total += r.try_get::<i64, _>(0)?;
        }
    }
    Ok(total)
}
