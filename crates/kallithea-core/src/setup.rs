//! Creating and upgrading the database: schema, the `default` user with Kallithea's default
//! permissions, the first admin, and site settings.

use kallithea_model::UserId;

use crate::user::{DEFAULT_USER, NewAccount};
use crate::{Error, Result, Services, now};

/// Kallithea's `DEFAULT_USER_PERMISSIONS`, as (kind prefix, permission).
pub const DEFAULT_USER_PERMISSIONS: &[(&str, &str)] = &[
    ("repository.", "repository.read"),
    ("group.", "group.read"),
    ("usergroup.", "usergroup.read"),
    ("hg.create.", "hg.create.repository"),
    ("hg.fork.", "hg.fork.repository"),
    ("hg.register.", "hg.register.manual_activate"),
    ("hg.extern_activate.", "hg.extern_activate.auto"),
];

/// Whether the database already holds Kallithea's tables and users.
pub async fn is_initialised(svc: &Services) -> Result<bool> {
    if kallithea_db::migrate::current_version(&svc.db).await? == 0 {
        return Ok(false);
    }
    let mut tx = svc.db.read().await?;
    let found = kallithea_db::user::find_by_name(&mut tx, DEFAULT_USER)
        .await?
        .is_some();
    tx.commit().await?;
    Ok(found)
}

/// `Ok(())` when the schema is exactly what this build expects; otherwise a sentence saying
/// which command to run.
pub async fn check_version(svc: &Services) -> Result<()> {
    let current = kallithea_db::migrate::current_version(&svc.db).await?;
    let latest = kallithea_db::migrate::latest_version();
    if current < latest {
        return Err(Error::invalid(format!(
            "the database schema is at version {current} and this build needs {latest}: run `kallithea db-upgrade`"
        )));
    }
    if current > latest {
        return Err(Error::invalid(format!(
            "the database schema (version {current}) is newer than this build understands (version {latest}): run a newer kallithea"
        )));
    }
    Ok(())
}

/// Applies pending migrations; returns how many ran.
pub async fn upgrade(svc: &Services) -> Result<usize> {
    Ok(kallithea_db::migrate::upgrade(&svc.db, now()).await?)
}

/// Creates the schema, the `default` user and the first admin. `public_access` decides
/// whether anonymous visitors may read what the `default` user may.
pub async fn create(svc: &Services, admin: &NewAccount<'_>, public_access: bool) -> Result<UserId> {
    upgrade(svc).await?;
    let mut tx = svc.db.write().await?;
    if kallithea_db::user::find_by_name(&mut tx, DEFAULT_USER)
        .await?
        .is_some()
    {
        return Err(Error::invalid("The database is already set up."));
    }
    let default_id = kallithea_db::user::insert(
        &mut tx,
        &kallithea_db::user::NewUser {
            username: DEFAULT_USER,
            password: "",
            email: "anonymous@kallithea.local",
            firstname: "Anonymous",
            lastname: "User",
            active: public_access,
            admin: false,
            api_key: &crate::token::new_api_key(),
            extern_type: "internal",
            created_on: now(),
        },
    )
    .await?;
    for (prefix, perm) in DEFAULT_USER_PERMISSIONS {
        kallithea_db::user::set_global_perm(&mut tx, default_id, prefix, perm).await?;
    }
    let admin_id = crate::user::create(
        svc,
        &mut tx,
        &NewAccount {
            admin: true,
            active: true,
            ..admin.clone()
        },
    )
    .await?;
    kallithea_db::setting::set(&mut tx, "title", "Kallithea").await?;
    kallithea_db::setting::set(&mut tx, "realm", "Kallithea").await?;
    kallithea_db::setting::set(
        &mut tx,
        "auth_plugins",
        "kallithea.lib.auth_modules.auth_internal",
    )
    .await?;
    kallithea_db::setting::set(&mut tx, "auth_internal_enabled", "True").await?;
    tx.commit().await?;
    Ok(admin_id)
}

/// Turns anonymous access on or off (the `default` user's active flag).
pub async fn set_public_access(svc: &Services, on: bool) -> Result<()> {
    let mut tx = svc.db.write().await?;
    let d = crate::user::default_user(&mut tx).await?;
    kallithea_db::user::set_active(&mut tx, d.id, on).await?;
    tx.commit().await?;
    Ok(())
}

/// Deletes everything in the database (`db-create --force-yes` on an existing one).
pub async fn destroy(svc: &Services) -> Result<()> {
    Ok(kallithea_db::migrate::drop_all(&svc.db).await?)
}

/// The repository root recorded by `db-create`.
pub async fn repos_root(db: &kallithea_db::Db) -> Result<Option<String>> {
    let mut tx = db.read().await?;
    let v = kallithea_db::setting::get(&mut tx, "repos_root").await?;
    tx.commit().await?;
    Ok(v)
}

pub async fn set_repos_root(svc: &Services, root: &str) -> Result<()> {
    let mut tx = svc.db.write().await?;
    kallithea_db::setting::set(&mut tx, "repos_root", root).await?;
    tx.commit().await?;
    Ok(())
}
