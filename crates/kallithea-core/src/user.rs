//! Users: the `default` (anonymous) user, creating accounts, and checking passwords and API
//! keys with throttling.

use kallithea_db::user::{NewUser, User};

use kallithea_model::{UserId, UserName};

use crate::token::{new_api_key, secrets_equal};
use crate::{Actor, Error, ErrorKind, Result, Services, now, password};

/// The name of Kallithea's anonymous user.
pub const DEFAULT_USER: &str = "default";

pub use kallithea_db::user::User as UserRow;

/// The `default` user. It always exists after `db-create`.
pub async fn default_user(tx: &mut Tx) -> Result<User> {
    kallithea_db::user::find_by_name(tx, DEFAULT_USER)
        .await?
        .ok_or_else(|| {
            Error::internal(
                "loading the default user",
                "the database has no `default` user; run db-create",
            )
        })
}

pub fn actor_of(u: &User) -> Actor {
    Actor::User {
        id: u.id,
        username: u.username.clone(),
        admin: u.admin,
    }
}

/// What creating an account needs.
#[derive(Debug, Clone)]
pub struct NewAccount<'a> {
    pub username: &'a str,
    pub password: &'a str,
    pub email: &'a str,
    pub firstname: &'a str,
    pub lastname: &'a str,
    pub admin: bool,
    pub active: bool,
}

/// Creates an internal account with a fresh API key.
/// Checks a new account's fields without touching the database.
pub fn validate_new_account(a: &NewAccount<'_>) -> Result<UserName> {
    let name = UserName::parse(a.username)?;
    if name.as_str().eq_ignore_ascii_case(DEFAULT_USER) {
        return Err(Error::invalid("The user name \"default\" is reserved."));
    }
    for (field, value, max) in [
        ("email", a.email, 255),
        ("first name", a.firstname, 255),
        ("last name", a.lastname, 255),
    ] {
        if value.chars().count() > max {
            return Err(Error::invalid(format!(
                "The {field} is too long (at most {max} characters)."
            )));
        }
        if value.chars().any(char::is_control) {
            return Err(Error::invalid(format!(
                "The {field} may not contain control characters."
            )));
        }
    }
    if !a.email.is_empty() && !a.email.contains('@') {
        return Err(Error::invalid(format!(
            "\"{}\" is not an email address.",
            a.email
        )));
    }
    if a.password.is_empty() {
        return Err(Error::invalid("The password must not be empty."));
    }
    if a.password.chars().any(|c| c == '\0') {
        return Err(Error::invalid(
            "The password may not contain NUL characters.",
        ));
    }
    Ok(name)
}

/// Hashes a password on a blocking thread, a few at a time (call before opening a write
/// transaction: hashing takes a while).
pub async fn hash_password(svc: &Services, pw: &str) -> Result<String> {
    let _permit = svc
        .hashing
        .acquire()
        .await
        .map_err(|e| Error::internal("waiting to hash", e))?;
    let pw = pw.to_owned();
    tokio::task::spawn_blocking(move || password::hash(&pw))
        .await
        .map_err(|e| Error::internal("hashing a password", e))
}

/// Creates an account whose password was hashed already ([`hash_password`]).
pub async fn create_with_hash(tx: &mut Tx, a: &NewAccount<'_>, hash: &str) -> Result<UserId> {
    let name = validate_new_account(a)?;
    if kallithea_db::user::find_by_name(tx, name.as_str())
        .await?
        .is_some()
    {
        return Err(Error::new(
            ErrorKind::NameTaken,
            format!("The user name \"{name}\" is already taken."),
        ));
    }
    Ok(kallithea_db::user::insert(
        tx,
        &NewUser {
            username: name.as_str(),
            password: hash,
            email: a.email,
            firstname: a.firstname,
            lastname: a.lastname,
            active: a.active,
            admin: a.admin,
            api_key: &new_api_key(),
            extern_type: "internal",
            created_on: now(),
        },
    )
    .await?)
}

/// Creates an internal account (hashing its password while the transaction waits: for
/// setup; requests use [`hash_password`] first, then [`create_with_hash`]).
pub async fn create(svc: &Services, tx: &mut Tx, a: &NewAccount<'_>) -> Result<UserId> {
    validate_new_account(a)?;
    let hash = hash_password(svc, a.password).await?;
    create_with_hash(tx, a, &hash).await
}

fn auth_failed() -> Error {
    Error::new(ErrorKind::AuthFailed, "Invalid user name or password.")
}

/// Checks a user name and password (for the sign-in form and HTTP Basic). Each attempt
/// counts towards the throttle of the account and the client address before the password is
/// checked; a right password gives it back. Password checks run a few at a time.
pub async fn authenticate_password(
    svc: &Services,
    username: &str,
    pw: &str,
    client_addr: &str,
) -> Result<User> {
    let valid_name =
        UserName::parse(username).is_ok() && !username.eq_ignore_ascii_case(DEFAULT_USER);
    // Names that cannot exist are counted against the address only.
    let account_key = if valid_name { username } else { "" };
    if svc
        .throttle
        .begin_attempt(account_key, client_addr)
        .is_err()
    {
        return Err(Error::new(
            ErrorKind::Throttled,
            "Too many failed sign-in attempts. Wait a few minutes and try again.",
        ));
    }
    // Passwords are checked only while the internal plugin is active.
    let internal = crate::auth::current(svc).is_active("internal");
    let found = if valid_name && internal {
        let mut tx = svc.db.read().await?;
        let found = kallithea_db::user::find_by_name(&mut tx, username).await?;
        tx.commit().await?;
        found
    } else {
        None
    };
    // Without a user, check against a dummy hash so timing does not reveal which names exist.
    let stored = found
        .as_ref()
        .map_or_else(|| DUMMY_HASH.to_owned(), |u| u.password.clone());
    let ok = verify_limited(svc, pw, &stored).await? && found.is_some();
    let Some(user) = found.filter(|_| ok) else {
        return Err(auth_failed());
    };
    if !user.active {
        return Err(Error::new(
            ErrorKind::AuthFailed,
            "This account is disabled.",
        ));
    }
    svc.throttle.succeeded(account_key, client_addr);
    if password::needs_rehash(&user.password) {
        let _permit = svc
            .hashing
            .acquire()
            .await
            .map_err(|e| Error::internal("waiting to hash", e))?;
        let pw = pw.to_owned();
        if let Ok(hash) = tokio::task::spawn_blocking(move || password::hash(&pw)).await {
            let mut tx = svc.db.write().await?;
            kallithea_db::user::set_password(&mut tx, user.id, &hash).await?;
            tx.commit().await?;
        }
    }
    Ok(user)
}

/// An argon2id hash of a random password, checked when the user does not exist.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$Zr5cGq4f3gq0p2NvZ4u2W1ZrW9m0c2m0y7o1Jt1bq2A";

/// Verifies on a blocking thread, at most a few at a time (each argon2 check holds 19 MiB).
async fn verify_limited(svc: &Services, pw: &str, stored: &str) -> Result<bool> {
    let _permit = svc
        .hashing
        .acquire()
        .await
        .map_err(|e| Error::internal("waiting to check a password", e))?;
    let (pw, stored) = (pw.to_owned(), stored.to_owned());
    tokio::task::spawn_blocking(move || password::verify(&pw, &stored))
        .await
        .map_err(|e| Error::internal("checking a password", e))
}

/// Finds the active user owning an API key.
pub async fn authenticate_api_key(svc: &Services, key: &str) -> Result<Option<User>> {
    if key.len() < 20 || key.len() > 128 || !key.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Ok(None);
    }
    let mut tx = svc.db.read().await?;
    let mut found = kallithea_db::user::find_by_api_key(&mut tx, key)
        .await?
        .filter(|u| secrets_equal(&u.api_key, key));
    // Or one of the extra keys that has not expired.
    if found.is_none()
        && let Some(id) = kallithea_db::account::user_of_api_key(&mut tx, key, now()).await?
    {
        found = kallithea_db::user::get(&mut tx, id).await?;
    }
    tx.commit().await?;
    Ok(found.filter(|u| u.active && u.username != DEFAULT_USER))
}

pub async fn get(svc: &Services, id: UserId) -> Result<Option<User>> {
    let mut tx = svc.db.read().await?;
    let u = kallithea_db::user::get(&mut tx, id).await?;
    tx.commit().await?;
    Ok(u)
}

pub async fn record_login(svc: &Services, id: UserId) -> Result<()> {
    let mut tx = svc.db.write().await?;
    kallithea_db::user::set_last_login(&mut tx, id, now()).await?;
    tx.commit().await?;
    Ok(())
}

pub use kallithea_db::Tx;

/// Every account, by name.
pub async fn list(tx: &mut Tx) -> Result<Vec<User>> {
    Ok(kallithea_db::user::list(tx).await?)
}

/// An admin creates an account (`/_admin/users`).
pub async fn admin_create(svc: &Services, actor: &Actor, a: &NewAccount<'_>) -> Result<UserId> {
    if !actor.is_admin() {
        return Err(crate::repo::denied(actor));
    }
    validate_new_account(a)?;
    let hash = hash_password(svc, a.password).await?;
    let mut tx = svc.db.write().await?;
    let id = create_with_hash(&mut tx, a, &hash).await?;
    tx.commit().await?;
    Ok(id)
}

/// Changes a user's password after checking the current one, and ends the user's other
/// sessions (the one given by `keep_cookie` stays signed in).
pub async fn change_password(
    svc: &Services,
    user: &User,
    current: &str,
    new: &str,
    confirmation: &str,
    keep_cookie: &str,
    client_addr: &str,
) -> Result<()> {
    if new != confirmation {
        return Err(Error::invalid("The two new passwords do not match."));
    }
    if new.len() < 6 {
        return Err(Error::invalid(
            "The new password must be at least 6 characters long.",
        ));
    }
    if new.contains('\0') {
        return Err(Error::invalid(
            "The password may not contain NUL characters.",
        ));
    }
    // The current password is checked like a sign-in (throttled).
    authenticate_password(svc, &user.username, current, client_addr)
        .await
        .map_err(|e| {
            if e.kind == ErrorKind::AuthFailed {
                Error::invalid("The current password is wrong.")
            } else {
                e
            }
        })?;
    let hash = hash_password(svc, new).await?;
    let mut tx = svc.db.write().await?;
    kallithea_db::user::set_password(&mut tx, user.id, &hash).await?;
    kallithea_db::session::delete_for_user_except(
        &mut tx,
        user.id,
        &crate::token::sha256_hex(keep_cookie),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Sets a new password without the current one (a reset link vouched for the person) and ends
/// every session of the account.
pub async fn set_password_and_end_sessions(svc: &Services, id: UserId, new: &str) -> Result<()> {
    if new.len() < 6 {
        return Err(Error::invalid(
            "The new password must be at least 6 characters long.",
        ));
    }
    if new.contains('\0') {
        return Err(Error::invalid(
            "The password may not contain NUL characters.",
        ));
    }
    let hash = hash_password(svc, new).await?;
    let mut tx = svc.db.write().await?;
    kallithea_db::user::set_password(&mut tx, id, &hash).await?;
    kallithea_db::user::end_sessions(&mut tx, id).await?;
    tx.commit().await?;
    Ok(())
}

fn require_admin(actor: &Actor) -> Result<()> {
    if actor.is_admin() {
        Ok(())
    } else {
        Err(crate::repo::denied(actor))
    }
}

/// Every account but the `default` user (site admins only).
pub async fn list_accounts(svc: &Services, actor: &Actor) -> Result<Vec<User>> {
    require_admin(actor)?;
    let mut tx = svc.db.read().await?;
    let users = kallithea_db::user::list(&mut tx).await?;
    tx.commit().await?;
    Ok(users
        .into_iter()
        .filter(|u| u.username != DEFAULT_USER)
        .collect())
}

/// One account for the admin edit page.
pub async fn account(svc: &Services, actor: &Actor, id: UserId) -> Result<User> {
    require_admin(actor)?;
    get(svc, id)
        .await?
        .filter(|u| u.username != DEFAULT_USER)
        .ok_or_else(|| Error::not_found(format!("There is no user with id {id}.")))
}

/// What an admin may change on an account.
#[derive(Debug, Clone)]
pub struct AccountEdit<'a> {
    pub email: &'a str,
    pub firstname: &'a str,
    pub lastname: &'a str,
    pub active: bool,
    pub admin: bool,
    /// A new password, when given.
    pub password: Option<&'a str>,
}

const LAST_ADMIN: &str = "There must be at least one active site administrator.";

/// An admin edits an account. A deactivated account, or one whose password an admin set, is
/// signed out everywhere. The last active admin cannot lose the role or be deactivated.
pub async fn admin_update(
    svc: &Services,
    actor: &Actor,
    id: UserId,
    e: &AccountEdit<'_>,
) -> Result<()> {
    let target = account(svc, actor, id).await?;
    let check = NewAccount {
        username: &target.username,
        password: e.password.unwrap_or("unchanged"),
        email: e.email,
        firstname: e.firstname,
        lastname: e.lastname,
        admin: e.admin,
        active: e.active,
    };
    validate_new_account(&check)?;
    let hash = match e.password {
        Some(pw) => {
            let _permit = svc
                .hashing
                .acquire()
                .await
                .map_err(|err| Error::internal("waiting to hash", err))?;
            let pw = pw.to_owned();
            Some(
                tokio::task::spawn_blocking(move || password::hash(&pw))
                    .await
                    .map_err(|err| Error::internal("hashing", err))?,
            )
        }
        None => None,
    };
    let mut tx = svc.db.write().await?;
    let loses_admin = target.admin && target.active && !(e.admin && e.active);
    if loses_admin && kallithea_db::user::count_active_admins(&mut tx).await? <= 1 {
        return Err(Error::invalid(LAST_ADMIN));
    }
    kallithea_db::user::update(
        &mut tx,
        id,
        &kallithea_db::user::UserUpdate {
            email: e.email,
            firstname: e.firstname,
            lastname: e.lastname,
            active: e.active,
            admin: e.admin,
        },
    )
    .await?;
    if let Some(h) = &hash {
        kallithea_db::user::set_password(&mut tx, id, h).await?;
    }
    if !e.active || hash.is_some() {
        kallithea_db::user::end_sessions(&mut tx, id).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// An admin deletes an account. Its repositories go to the admin when `take_repos`, else
/// the deletion is refused while it owns any. Nobody deletes themselves or the last admin.
pub async fn admin_delete(
    svc: &Services,
    actor: &Actor,
    id: UserId,
    take_repos: bool,
) -> Result<()> {
    let target = account(svc, actor, id).await?;
    if actor.user_id() == Some(id) {
        return Err(Error::invalid("You cannot delete your own account."));
    }
    let Some(me) = actor.user_id() else {
        return Err(crate::repo::denied(actor));
    };
    let mut tx = svc.db.write().await?;
    if target.admin && target.active && kallithea_db::user::count_active_admins(&mut tx).await? <= 1
    {
        return Err(Error::invalid(LAST_ADMIN));
    }
    let owned = kallithea_db::repo::count_owned(&mut tx, id).await?;
    if owned > 0 {
        if !take_repos {
            return Err(Error::invalid(format!(
                "{} owns {owned} repositor{}: choose to take them over, or delete them first.",
                target.username,
                if owned == 1 { "y" } else { "ies" }
            )));
        }
        kallithea_db::repo::transfer_owned(&mut tx, id, me).await?;
    }
    // Repository groups and user groups they own pass to the admin deleting them.
    kallithea_db::repo_group::transfer_owned(&mut tx, id, me).await?;
    kallithea_db::user_group::transfer_owned(&mut tx, id, me).await?;
    kallithea_db::user::delete(&mut tx, id).await?;
    tx.commit().await?;
    Ok(())
}

/// Gives a user a new main API key (the old one stops working at once).
pub async fn reset_api_key(svc: &Services, user: UserId) -> Result<String> {
    let key = new_api_key();
    let mut tx = svc.db.write().await?;
    kallithea_db::user::set_api_key(&mut tx, user, &key).await?;
    tx.commit().await?;
    Ok(key)
}

/// Whether anonymous visitors may browse at all (the `default` user is active).
pub async fn anonymous_access(svc: &Services) -> Result<bool> {
    let mut tx = svc.db.read().await?;
    let d = default_user(&mut tx).await?;
    tx.commit().await?;
    Ok(d.active)
}

/// A user by numeric id or by name (the API's `userid`); never the `default` user.
pub async fn find_by_id_or_name(svc: &Services, key: &str) -> Result<Option<User>> {
    let mut tx = svc.db.read().await?;
    let by_id = match key.trim().parse::<i64>() {
        Ok(id) => kallithea_db::user::get(&mut tx, UserId(id)).await?,
        Err(_) => None,
    };
    let found = match by_id {
        Some(u) => Some(u),
        None if UserName::parse(key.trim()).is_ok() => {
            kallithea_db::user::find_by_name(&mut tx, key.trim()).await?
        }
        None => None,
    };
    tx.commit().await?;
    Ok(found.filter(|u| u.username != DEFAULT_USER))
}

/// A site admin renames an account; names stay unique regardless of case.
pub async fn admin_rename(svc: &Services, actor: &Actor, id: UserId, new_name: &str) -> Result<()> {
    require_admin(actor)?;
    let name = UserName::parse(new_name.trim())?;
    if name.as_str().eq_ignore_ascii_case(DEFAULT_USER) {
        return Err(Error::invalid("The user name \"default\" is reserved."));
    }
    let mut tx = svc.db.write().await?;
    let target = kallithea_db::user::get(&mut tx, id)
        .await?
        .filter(|u| u.username != DEFAULT_USER)
        .ok_or_else(|| Error::not_found(format!("There is no user with id \"{id}\".")))?;
    if let Some(other) = kallithea_db::user::find_by_name(&mut tx, name.as_str()).await?
        && other.id != target.id
    {
        return Err(Error::new(
            ErrorKind::NameTaken,
            format!("The user name \"{name}\" is already taken."),
        ));
    }
    kallithea_db::user::rename(&mut tx, id, name.as_str()).await?;
    tx.commit().await?;
    Ok(())
}

/// What changes hands with [`set_owner`].
#[derive(Clone, Copy, Debug)]
pub enum Owned {
    Repo(kallithea_model::RepoId),
    Group(kallithea_model::GroupId),
    UserGroup(kallithea_model::UserGroupId),
}

/// A site admin gives a repository, repository group or user group to another (active) user.
pub async fn set_owner(svc: &Services, actor: &Actor, what: Owned, owner: UserId) -> Result<()> {
    require_admin(actor)?;
    let mut tx = svc.db.write().await?;
    let new = kallithea_db::user::get(&mut tx, owner)
        .await?
        .filter(|u| u.username != DEFAULT_USER)
        .ok_or_else(|| Error::invalid(format!("There is no user with id \"{owner}\".")))?;
    let (table, col, id) = match what {
        Owned::Repo(r) => ("repositories", "repo_id", r.0),
        Owned::Group(g) => ("repo_groups", "group_id", g.0),
        Owned::UserGroup(g) => ("users_groups", "users_group_id", g.0),
    };
    kallithea_db::user::set_owner(&mut tx, table, col, id, new.id).await?;
    tx.commit().await?;
    Ok(())
}

/// A site admin sets how an account signs in: `internal` (a password here) or the name of an
/// authentication plugin (`container`), with the account's name there. Accounts of a plugin
/// get an unusable password.
pub async fn admin_set_extern(
    svc: &Services,
    actor: &Actor,
    id: UserId,
    extern_type: &str,
    extern_name: &str,
) -> Result<()> {
    require_admin(actor)?;
    let plugin = crate::auth::find(extern_type)?;
    let name = extern_name.trim();
    if name.chars().count() > 255 || name.chars().any(char::is_control) {
        return Err(Error::invalid(
            "extern_name must be one line of at most 255 characters.",
        ));
    }
    let mut tx = svc.db.write().await?;
    let u = kallithea_db::user::get(&mut tx, id)
        .await?
        .filter(|u| u.username != DEFAULT_USER)
        .ok_or_else(|| Error::not_found(format!("There is no user with id \"{id}\".")))?;
    let name = if name.is_empty() {
        u.username.as_str()
    } else {
        name
    };
    kallithea_db::user::set_extern(&mut tx, id, plugin.name(), name).await?;
    if plugin.name() != "internal" {
        kallithea_db::user::set_password(&mut tx, id, "!external").await?;
        kallithea_db::user::end_sessions(&mut tx, id).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// An account's name in its external source.
pub async fn extern_name(svc: &Services, id: UserId) -> Result<String> {
    let mut tx = svc.db.read().await?;
    let n = kallithea_db::user::extern_name(&mut tx, id).await?;
    tx.commit().await?;
    Ok(n)
}
