//! The `repo_groups` table (Kallithea's `groups`), repositories' `group_id`, and the grants
//! on groups: `user_repo_group_to_perm` and `users_group_repo_group_to_perm`.

use kallithea_model::{GroupId, PermLevel, RepoId, UserGroupId, UserId};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::conn::{sql, text_column};
use crate::{Result, Tx};

/// A row of `repo_groups`, with the owner's name.
#[derive(Clone, Debug)]
pub struct RepoGroup {
    pub id: GroupId,
    /// The full path, such as `team/tools`.
    pub name: String,
    pub parent_id: Option<GroupId>,
    pub description: String,
    pub owner_id: UserId,
    pub owner_name: String,
    pub created_on: i64,
}

const SELECT: &str = "SELECT g.group_id, g.group_name, g.group_parent_id, g.group_description, g.owner_id, u.username, g.created_on FROM repo_groups g JOIN users u ON u.user_id = g.owner_id";

fn from_row(r: &AnyRow) -> Result<RepoGroup> {
    Ok(RepoGroup {
        id: GroupId(r.try_get(0)?),
        name: r.try_get(1)?,
        parent_id: r.try_get::<Option<i64>, _>(2)?.map(GroupId),
        description: text_column(r, 3)?.unwrap_or_default(),
        owner_id: UserId(r.try_get(4)?),
        owner_name: r.try_get(5)?,
        created_on: r.try_get(6)?,
    })
}

pub async fn insert(
    tx: &mut Tx,
    name: &str,
    parent: Option<GroupId>,
    description: &str,
    owner: UserId,
    now: i64,
) -> Result<GroupId> {
    let id = tx
        .insert_returning_id(
            &sql!(tx, "INSERT INTO repo_groups (group_name, group_name_lower, group_parent_id, group_description, owner_id, created_on) VALUES (?, ?, ?, ?, ?, ?)"),
            "group_id",
            |q| {
                q.bind(name.to_owned())
                    .bind(name.to_lowercase())
                    .bind(parent.map(|p| p.0))
                    .bind(description.to_owned())
                    .bind(owner.0)
                    .bind(now)
            },
        )
        .await?;
    Ok(GroupId(id))
}

pub async fn get(tx: &mut Tx, id: GroupId) -> Result<Option<RepoGroup>> {
    let q = format!("{SELECT} WHERE g.group_id = ?");
    let row = tx
        .fetch_optional(sqlx::query(&sql!(tx, &q)).bind(id.0))
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Looks a group up by full path, ignoring case.
pub async fn find_by_name(tx: &mut Tx, name: &str) -> Result<Option<RepoGroup>> {
    let q = format!("{SELECT} WHERE g.group_name_lower = ?");
    let row = tx
        .fetch_optional(sqlx::query(&sql!(tx, &q)).bind(name.to_lowercase()))
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Every group, by path.
pub async fn list(tx: &mut Tx) -> Result<Vec<RepoGroup>> {
    let q = format!("{SELECT} ORDER BY g.group_name_lower");
    let rows = tx.fetch_all(sqlx::query(&q)).await?;
    rows.iter().map(from_row).collect()
}

/// Sets a group's path, parent and description.
pub async fn update(
    tx: &mut Tx,
    id: GroupId,
    name: &str,
    parent: Option<GroupId>,
    description: &str,
) -> Result<()> {
    tx.execute(
        sqlx::query(&sql!(tx, "UPDATE repo_groups SET group_name = ?, group_name_lower = ?, group_parent_id = ?, group_description = ? WHERE group_id = ?"))
            .bind(name.to_owned())
            .bind(name.to_lowercase())
            .bind(parent.map(|p| p.0))
            .bind(description.to_owned())
            .bind(id.0),
    )
    .await?;
    Ok(())
}

/// Only a path change (a descendant of a moved group).
pub async fn set_name(tx: &mut Tx, id: GroupId, name: &str) -> Result<()> {
    tx.execute(
        sqlx::query(&sql!(
            tx,
            "UPDATE repo_groups SET group_name = ?, group_name_lower = ? WHERE group_id = ?"
        ))
        .bind(name.to_owned())
        .bind(name.to_lowercase())
        .bind(id.0),
    )
    .await?;
    Ok(())
}

pub async fn delete(tx: &mut Tx, id: GroupId) -> Result<()> {
    for t in ["user_repo_group_to_perm", "users_group_repo_group_to_perm"] {
        let q = format!("DELETE FROM {t} WHERE group_id = ?");
        tx.execute(sqlx::query(&sql!(tx, &q)).bind(id.0)).await?;
    }
    tx.execute(sqlx::query(&sql!(tx, "DELETE FROM repo_groups WHERE group_id = ?")).bind(id.0))
        .await?;
    Ok(())
}

/// How many repositories and subgroups are directly in a group.
pub async fn count_children(tx: &mut Tx, id: GroupId) -> Result<(i64, i64)> {
    let repos = tx
        .fetch_optional(
            sqlx::query(&sql!(
                tx,
                "SELECT COUNT(*) FROM repositories WHERE group_id = ?"
            ))
            .bind(id.0),
        )
        .await?
        .map(|r| r.try_get::<i64, _>(0))
        .transpose()?
        .unwrap_or(0);
    let groups = tx
        .fetch_optional(
            sqlx::query(&sql!(
                tx,
                "SELECT COUNT(*) FROM repo_groups WHERE group_parent_id = ?"
            ))
            .bind(id.0),
        )
        .await?
        .map(|r| r.try_get::<i64, _>(0))
        .transpose()?
        .unwrap_or(0);
    Ok((repos, groups))
}

/// Puts a repository in a group (or at the top level).
pub async fn set_repo_group(tx: &mut Tx, repo: RepoId, group: Option<GroupId>) -> Result<()> {
    tx.execute(
        sqlx::query(&sql!(
            tx,
            "UPDATE repositories SET group_id = ? WHERE repo_id = ?"
        ))
        .bind(group.map(|g| g.0))
        .bind(repo.0),
    )
    .await?;
    Ok(())
}

/// `(repository, group)` for every repository in some group.
pub async fn repo_memberships(tx: &mut Tx) -> Result<Vec<(RepoId, GroupId)>> {
    let rows = tx
        .fetch_all(sqlx::query(
            "SELECT repo_id, group_id FROM repositories WHERE group_id IS NOT NULL",
        ))
        .await?;
    rows.iter()
        .map(|r| Ok((RepoId(r.try_get(0)?), GroupId(r.try_get(1)?))))
        .collect()
}

/// A grant on a group, to a user or to a user group.
#[derive(Clone, Debug)]
pub struct GroupGrant {
    pub group_id: GroupId,
    pub user_id: Option<UserId>,
    pub user_group_id: Option<UserGroupId>,
    /// The user's or user group's name.
    pub name: String,
    pub level: PermLevel,
}

fn level_of(s: &str) -> PermLevel {
    PermLevel::from_group_perm_name(s).unwrap_or(PermLevel::None)
}

pub async fn set_user_grant(
    tx: &mut Tx,
    group: GroupId,
    user: UserId,
    level: PermLevel,
) -> Result<()> {
    remove_user_grant(tx, group, user).await?;
    tx.execute(
        sqlx::query(&sql!(
            tx,
            "INSERT INTO user_repo_group_to_perm (user_id, group_id, permission) VALUES (?, ?, ?)"
        ))
        .bind(user.0)
        .bind(group.0)
        .bind(level.group_perm_name()),
    )
    .await?;
    Ok(())
}

pub async fn remove_user_grant(tx: &mut Tx, group: GroupId, user: UserId) -> Result<()> {
    tx.execute(
        sqlx::query(&sql!(
            tx,
            "DELETE FROM user_repo_group_to_perm WHERE group_id = ? AND user_id = ?"
        ))
        .bind(group.0)
        .bind(user.0),
    )
    .await?;
    Ok(())
}

pub async fn set_user_group_grant(
    tx: &mut Tx,
    group: GroupId,
    ug: UserGroupId,
    level: PermLevel,
) -> Result<()> {
    remove_user_group_grant(tx, group, ug).await?;
    tx.execute(
        sqlx::query(&sql!(
            tx,
            "INSERT INTO users_group_repo_group_to_perm (users_group_id, group_id, permission) VALUES (?, ?, ?)"
        ))
        .bind(ug.0)
        .bind(group.0)
        .bind(level.group_perm_name()),
    )
    .await?;
    Ok(())
}

pub async fn remove_user_group_grant(tx: &mut Tx, group: GroupId, ug: UserGroupId) -> Result<()> {
    tx.execute(
        sqlx::query(&sql!(
            tx,
            "DELETE FROM users_group_repo_group_to_perm WHERE group_id = ? AND users_group_id = ?"
        ))
        .bind(group.0)
        .bind(ug.0),
    )
    .await?;
    Ok(())
}

/// Every grant on one group: users first, then user groups, each by name.
pub async fn grants_for_group(tx: &mut Tx, group: GroupId) -> Result<Vec<GroupGrant>> {
    let mut out = Vec::new();
    let rows = tx
        .fetch_all(
            sqlx::query(&sql!(tx, "SELECT p.user_id, u.username, p.permission FROM user_repo_group_to_perm p JOIN users u ON u.user_id = p.user_id WHERE p.group_id = ? ORDER BY u.username_lower"))
                .bind(group.0),
        )
        .await?;
    for r in &rows {
        out.push(GroupGrant {
            group_id: group,
            user_id: Some(UserId(r.try_get(0)?)),
            user_group_id: None,
            name: r.try_get(1)?,
            level: level_of(&r.try_get::<String, _>(2)?),
        });
    }
    let rows = tx
        .fetch_all(
            sqlx::query(&sql!(tx, "SELECT p.users_group_id, g.users_group_name, p.permission FROM users_group_repo_group_to_perm p JOIN users_groups g ON g.users_group_id = p.users_group_id WHERE p.group_id = ? ORDER BY g.users_group_name_lower"))
                .bind(group.0),
        )
        .await?;
    for r in &rows {
        out.push(GroupGrant {
            group_id: group,
            user_id: None,
            user_group_id: Some(UserGroupId(r.try_get(0)?)),
            name: r.try_get(1)?,
            level: level_of(&r.try_get::<String, _>(2)?),
        });
    }
    Ok(out)
}

/// The group grants held by some users (the actor and the `default` user) and by some user
/// groups (the actor's active ones): what the permission function needs, in two queries.
pub async fn grants_for(
    tx: &mut Tx,
    users: &[UserId],
    user_groups: &[UserGroupId],
) -> Result<Vec<GroupGrant>> {
    let mut out = Vec::new();
    if !users.is_empty() {
        let ids: Vec<i64> = users.iter().map(|x| x.0).collect();
        let rows = tx
            .fetch_all_in(
                "SELECT p.group_id, p.user_id, p.permission FROM user_repo_group_to_perm p WHERE p.user_id IN ({ids})",
                &ids,
            )
            .await?;
        for r in rows {
            out.push(GroupGrant {
                group_id: GroupId(r.try_get(0)?),
                user_id: Some(UserId(r.try_get(1)?)),
                user_group_id: None,
                name: String::new(),
                level: level_of(&r.try_get::<String, _>(2)?),
            });
        }
    }
    if !user_groups.is_empty() {
        let ids: Vec<i64> = user_groups.iter().map(|x| x.0).collect();
        let rows = tx
            .fetch_all_in(
                "SELECT p.group_id, p.users_group_id, p.permission FROM users_group_repo_group_to_perm p WHERE p.users_group_id IN ({ids})",
                &ids,
            )
            .await?;
        for r in rows {
            out.push(GroupGrant {
                group_id: GroupId(r.try_get(0)?),
                user_id: None,
                user_group_id: Some(UserGroupId(r.try_get(1)?)),
                name: String::new(),
                level: level_of(&r.try_get::<String, _>(2)?),
            });
        }
    }
    Ok(out)
}

/// Gives every group of one user to another.
pub async fn transfer_owned(tx: &mut Tx, from: UserId, to: UserId) -> Result<u64> {
    tx.execute(
        sqlx::query(&sql!(
            tx,
            "UPDATE repo_groups SET owner_id = ? WHERE owner_id = ?"
        ))
        .bind(to.0)
        .bind(from.0),
    )
    .await
}
