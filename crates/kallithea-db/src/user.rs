//! The `users` and `user_to_perm` tables.

use kallithea_model::UserId;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::conn::sql;
use crate::{Result, Tx};

/// A row of `users`.
#[derive(Clone, Debug)]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub password: String,
    pub email: String,
    pub firstname: String,
    pub lastname: String,
    pub active: bool,
    pub admin: bool,
    pub api_key: String,
    pub extern_type: String,
    pub created_on: i64,
    pub last_login: Option<i64>,
}

/// What inserting a user needs.
#[derive(Clone, Debug)]
pub struct NewUser<'a> {
    pub username: &'a str,
    pub password: &'a str,
    pub email: &'a str,
    pub firstname: &'a str,
    pub lastname: &'a str,
    pub active: bool,
    pub admin: bool,
    pub api_key: &'a str,
    pub extern_type: &'a str,
    pub created_on: i64,
}

const COLUMNS: &str = "user_id, username, password, email, firstname, lastname, active, admin, api_key, extern_type, created_on, last_login";

fn from_row(r: &AnyRow) -> Result<User> {
    Ok(User {
        id: UserId(r.try_get("user_id")?),
        username: r.try_get("username")?,
        password: r.try_get("password")?,
        email: r.try_get("email")?,
        firstname: r.try_get("firstname")?,
        lastname: r.try_get("lastname")?,
        active: r.try_get::<i64, _>("active")? != 0,
        admin: r.try_get::<i64, _>("admin")? != 0,
        api_key: r.try_get("api_key")?,
        extern_type: r.try_get("extern_type")?,
        created_on: r.try_get("created_on")?,
        last_login: r.try_get("last_login")?,
    })
}

pub async fn insert(tx: &mut Tx, u: &NewUser<'_>) -> Result<UserId> {
    let id = tx
        .insert_returning_id(
            &sql!(tx, "INSERT INTO users (username, username_lower, password, email, firstname, lastname, active, admin, api_key, extern_type, extern_name, created_on) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
            "user_id",
            |q| {
                q.bind(u.username.to_owned())
                    .bind(u.username.to_lowercase())
                    .bind(u.password.to_owned())
                    .bind(u.email.to_owned())
                    .bind(u.firstname.to_owned())
                    .bind(u.lastname.to_owned())
                    .bind(i64::from(u.active))
                    .bind(i64::from(u.admin))
                    .bind(u.api_key.to_owned())
                    .bind(u.extern_type.to_owned())
                    .bind(u.username.to_owned())
                    .bind(u.created_on)
            },
        )
        .await?;
    Ok(UserId(id))
}

pub async fn get(tx: &mut Tx, id: UserId) -> Result<Option<User>> {
    let q = format!("SELECT {COLUMNS} FROM users WHERE user_id = ?");
    let row = tx
        .fetch_optional(sqlx::query(&sql!(tx, &q)).bind(id.0))
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Looks a user up by name, ignoring case.
pub async fn find_by_name(tx: &mut Tx, name: &str) -> Result<Option<User>> {
    let q = format!("SELECT {COLUMNS} FROM users WHERE username_lower = ?");
    let row = tx
        .fetch_optional(sqlx::query(&sql!(tx, &q)).bind(name.to_lowercase()))
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Every user holding this API key (at most one: the column is unique). The caller compares
/// the key again in constant time.
pub async fn find_by_api_key(tx: &mut Tx, key: &str) -> Result<Option<User>> {
    let q = format!("SELECT {COLUMNS} FROM users WHERE api_key = ?");
    let row = tx
        .fetch_optional(sqlx::query(&sql!(tx, &q)).bind(key.to_owned()))
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn list(tx: &mut Tx) -> Result<Vec<User>> {
    let q = format!("SELECT {COLUMNS} FROM users ORDER BY username_lower");
    let rows = tx.fetch_all(sqlx::query(&q)).await?;
    rows.iter().map(from_row).collect()
}

pub async fn set_password(tx: &mut Tx, id: UserId, hash: &str) -> Result<()> {
    tx.execute(
        sqlx::query(&sql!(tx, "UPDATE users SET password = ? WHERE user_id = ?"))
            .bind(hash.to_owned())
            .bind(id.0),
    )
    .await?;
    Ok(())
}

pub async fn set_last_login(tx: &mut Tx, id: UserId, at: i64) -> Result<()> {
    tx.execute(
        sqlx::query(&sql!(
            tx,
            "UPDATE users SET last_login = ? WHERE user_id = ?"
        ))
        .bind(at)
        .bind(id.0),
    )
    .await?;
    Ok(())
}

pub async fn set_active(tx: &mut Tx, id: UserId, active: bool) -> Result<()> {
    tx.execute(
        sqlx::query(&sql!(tx, "UPDATE users SET active = ? WHERE user_id = ?"))
            .bind(i64::from(active))
            .bind(id.0),
    )
    .await?;
    Ok(())
}

/// The global permission names held by a user (`hg.create.repository`, `repository.read`...).
pub async fn global_perms(tx: &mut Tx, id: UserId) -> Result<Vec<String>> {
    let rows = tx
        .fetch_all(
            sqlx::query(&sql!(
                tx,
                "SELECT permission FROM user_to_perm WHERE user_id = ? ORDER BY permission"
            ))
            .bind(id.0),
        )
        .await?;
    rows.iter()
        .map(|r| Ok(r.try_get::<String, _>(0)?))
        .collect()
}

/// Replaces the user's global permission of one kind (all names starting with `prefix`).
pub async fn set_global_perm(
    tx: &mut Tx,
    id: UserId,
    prefix: &str,
    permission: &str,
) -> Result<()> {
    tx.execute(
        sqlx::query(&sql!(
            tx,
            "DELETE FROM user_to_perm WHERE user_id = ? AND permission LIKE ?"
        ))
        .bind(id.0)
        .bind(format!("{prefix}%")),
    )
    .await?;
    add_global_perm(tx, id, permission).await
}

/// The fields an admin edits.
#[derive(Clone, Debug)]
pub struct UserUpdate<'a> {
    pub email: &'a str,
    pub firstname: &'a str,
    pub lastname: &'a str,
    pub active: bool,
    pub admin: bool,
}

pub async fn update(tx: &mut Tx, id: UserId, u: &UserUpdate<'_>) -> Result<()> {
    tx.execute(
        sqlx::query(&sql!(tx, "UPDATE users SET email = ?, firstname = ?, lastname = ?, active = ?, admin = ? WHERE user_id = ?"))
            .bind(u.email.to_owned())
            .bind(u.firstname.to_owned())
            .bind(u.lastname.to_owned())
            .bind(i64::from(u.active))
            .bind(i64::from(u.admin))
            .bind(id.0),
    )
    .await?;
    Ok(())
}

pub async fn set_api_key(tx: &mut Tx, id: UserId, key: &str) -> Result<()> {
    tx.execute(
        sqlx::query(&sql!(tx, "UPDATE users SET api_key = ? WHERE user_id = ?"))
            .bind(key.to_owned())
            .bind(id.0),
    )
    .await?;
    Ok(())
}

/// How many active site admins there are.
pub async fn count_active_admins(tx: &mut Tx) -> Result<i64> {
    let row = tx
        .fetch_optional(sqlx::query(
            "SELECT COUNT(*) FROM users WHERE admin = 1 AND active = 1",
        ))
        .await?;
    Ok(row
        .map(|r| r.try_get::<i64, _>(0))
        .transpose()?
        .unwrap_or(0))
}

/// Deletes a user and what hangs on it (sessions, grants, global permissions). Repositories
/// they own must have been given to someone else first.
pub async fn delete(tx: &mut Tx, id: UserId) -> Result<()> {
    for q in [
        "DELETE FROM user_sessions WHERE user_id = ?",
        "DELETE FROM repo_to_perm WHERE user_id = ?",
        "DELETE FROM user_to_perm WHERE user_id = ?",
        "DELETE FROM user_repo_group_to_perm WHERE user_id = ?",
        "DELETE FROM users_groups_members WHERE user_id = ?",
        "DELETE FROM user_api_keys WHERE user_id = ?",
        "DELETE FROM user_email_map WHERE user_id = ?",
        "DELETE FROM user_ip_map WHERE user_id = ?",
        "DELETE FROM user_ssh_keys WHERE user_id = ?",
        "DELETE FROM user_followings WHERE user_id = ?",
        "DELETE FROM user_user_group_to_perm WHERE user_id = ?",
        "DELETE FROM users WHERE user_id = ?",
    ] {
        tx.execute(sqlx::query(&sql!(tx, q)).bind(id.0)).await?;
    }
    Ok(())
}

/// Ends every session of a user.
pub async fn end_sessions(tx: &mut Tx, id: UserId) -> Result<()> {
    tx.execute(sqlx::query(&sql!(tx, "DELETE FROM user_sessions WHERE user_id = ?")).bind(id.0))
        .await?;
    Ok(())
}

pub async fn remove_global_perm(tx: &mut Tx, id: UserId, permission: &str) -> Result<()> {
    tx.execute(
        sqlx::query(&sql!(
            tx,
            "DELETE FROM user_to_perm WHERE user_id = ? AND permission = ?"
        ))
        .bind(id.0)
        .bind(permission.to_owned()),
    )
    .await?;
    Ok(())
}

pub async fn add_global_perm(tx: &mut Tx, id: UserId, permission: &str) -> Result<()> {
    tx.execute(
        sqlx::query(&sql!(
            tx,
            "INSERT INTO user_to_perm (user_id, permission) VALUES (?, ?)"
        ))
        .bind(id.0)
        .bind(permission.to_owned()),
    )
    .await?;
    Ok(())
}

/// Renames a user (and their `extern_name`).
pub async fn rename(tx: &mut Tx, id: UserId, new_name: &str) -> Result<()> {
    tx.execute(
        sqlx::query(&sql!(
            tx,
            "UPDATE users SET username = ?, username_lower = ?, extern_name = ? WHERE user_id = ?"
        ))
        .bind(new_name.to_owned())
        .bind(new_name.to_lowercase())
        .bind(new_name.to_owned())
        .bind(id.0),
    )
    .await?;
    Ok(())
}

/// Gives one object to a new owner: `table` is `repositories`, `repo_groups` or `users_groups`.
pub async fn set_owner(
    tx: &mut Tx,
    table: &str,
    id_column: &str,
    id: i64,
    owner: UserId,
) -> Result<()> {
    let allowed = matches!(
        (table, id_column),
        ("repositories", "repo_id")
            | ("repo_groups", "group_id")
            | ("users_groups", "users_group_id")
    );
    if !allowed {
        return Err(crate::Error::NotFound);
    }
    let q = format!("UPDATE {table} SET owner_id = ? WHERE {id_column} = ?");
    tx.execute(sqlx::query(&sql!(tx, &q)).bind(owner.0).bind(id))
        .await?;
    Ok(())
}

/// Sets how an account signs in (`internal`, `container`) and its name there.
pub async fn set_extern(
    tx: &mut Tx,
    id: UserId,
    extern_type: &str,
    extern_name: &str,
) -> Result<()> {
    tx.execute(
        sqlx::query(&sql!(
            tx,
            "UPDATE users SET extern_type = ?, extern_name = ? WHERE user_id = ?"
        ))
        .bind(extern_type.to_owned())
        .bind(extern_name.to_owned())
        .bind(id.0),
    )
    .await?;
    Ok(())
}

/// The name in the external source of an account.
pub async fn extern_name(tx: &mut Tx, id: UserId) -> Result<String> {
    let row = tx
        .fetch_optional(
            sqlx::query(&sql!(tx, "SELECT extern_name FROM users WHERE user_id = ?")).bind(id.0),
        )
        .await?;
    Ok(row
        .map(|r| r.try_get::<String, _>(0))
        .transpose()?
        .unwrap_or_default())
}
