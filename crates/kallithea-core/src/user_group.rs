//! User groups: named sets of users that receive grants together. Site admins and holders of
//! `hg.usergroup.create.true` create them; the owner and site admins manage them. Only active
//! groups give their members anything.

use kallithea_db::user_group::UserGroup;
use kallithea_model::{UserGroupId, UserName};

use crate::permission::Permissions;
use crate::{Error, ErrorKind, Result, Services, now};

pub use kallithea_db::user_group::UserGroup as UserGroupRow;

fn not_found(id: &str) -> Error {
    Error::not_found(format!("There is no user group \"{id}\"."))
}

/// Admin on a user group (site admins, the owner, `usergroup.admin` grants) manages it.
fn may_manage(perms: &Permissions, g: &UserGroup) -> Result<()> {
    if perms.user_group(g).is_admin() {
        return Ok(());
    }
    Err(crate::repo::denied(perms.actor()))
}

/// A user group the actor may hand grants to (read on it is needed, as in Kallithea); one
/// they cannot read is reported as missing.
pub async fn usable(svc: &Services, perms: &Permissions, name: &str) -> Result<UserGroup> {
    let missing = || Error::invalid(format!("There is no user group named \"{}\".", name.trim()));
    let mut tx = svc.db.read().await?;
    let g = kallithea_db::user_group::find_by_name(&mut tx, name.trim()).await?;
    tx.commit().await?;
    g.filter(|g| perms.user_group(g).can_read())
        .ok_or_else(missing)
}

/// Group names follow user-name rules (letters, digits, `.`, `_`, `-`, spaces allowed
/// inside), at most 255 characters.
fn check_name(raw: &str) -> Result<String> {
    let n = raw.trim();
    if n.is_empty() {
        return Err(Error::invalid("The user group name must not be empty."));
    }
    if n.chars().count() > 255 {
        return Err(Error::invalid(
            "The user group name is too long (at most 255 characters).",
        ));
    }
    if n.chars().any(|c| c.is_control() || "/\\<>\"'&".contains(c)) {
        return Err(Error::invalid(format!(
            "\"{n}\" is not a valid user group name: no slashes, quotes, angle brackets or control characters."
        )));
    }
    Ok(n.to_owned())
}

fn check_description(d: &str) -> Result<&str> {
    if d.chars().count() > 10_000 {
        return Err(Error::invalid(
            "The description is too long (at most 10,000 characters).",
        ));
    }
    Ok(d)
}

/// The groups the actor may read (`usergroup.read` or more).
pub async fn list_visible(svc: &Services, perms: &Permissions) -> Result<Vec<UserGroup>> {
    if perms.actor().user_id().is_none() {
        return Err(crate::repo::denied(perms.actor()));
    }
    let mut tx = svc.db.read().await?;
    let all = kallithea_db::user_group::list(&mut tx).await?;
    tx.commit().await?;
    Ok(all
        .into_iter()
        .filter(|g| perms.user_group(g).can_read())
        .collect())
}

/// The grants on a user group (admin on it needed).
pub async fn grants(
    svc: &Services,
    perms: &Permissions,
    g: &UserGroup,
) -> Result<Vec<kallithea_db::user_group::UserGroupGrant>> {
    may_manage(perms, g)?;
    let mut tx = svc.db.read().await?;
    let out = kallithea_db::user_group::grants_on(&mut tx, g.id).await?;
    tx.commit().await?;
    Ok(out)
}

/// Sets (`Some`) or revokes (`None`) a grant on a user group, to a user or a user group.
pub async fn set_grant(
    svc: &Services,
    perms: &Permissions,
    g: &UserGroup,
    who: &crate::group::Grantee,
    level: Option<&str>,
) -> Result<()> {
    may_manage(perms, g)?;
    let level = match level {
        Some(l) => Some(kallithea_model::PermLevel::from_user_group_perm_name(l.trim()).ok_or_else(
            || {
                Error::invalid(format!(
                    "\"{l}\" is not a permission level: use usergroup.none, usergroup.read, usergroup.write or usergroup.admin."
                ))
            },
        )?),
        None => None,
    };
    let target = match who {
        crate::group::Grantee::UserGroup(n) => Some(usable(svc, perms, n).await?.id),
        crate::group::Grantee::User(_) => None,
    };
    let mut tx = svc.db.write().await?;
    match (who, target) {
        (crate::group::Grantee::User(n), _) => {
            let u = kallithea_db::user::find_by_name(&mut tx, n.trim())
                .await?
                .ok_or_else(|| {
                    Error::invalid(format!("There is no user named \"{}\".", n.trim()))
                })?;
            kallithea_db::user_group::set_user_grant_on(&mut tx, g.id, u.id, level).await?;
        }
        (_, Some(other)) => {
            kallithea_db::user_group::set_group_grant_on(&mut tx, g.id, other, level).await?;
        }
        _ => {}
    }
    tx.commit().await?;
    Ok(())
}

/// One group with its members, for someone who may manage it.
pub async fn get(
    svc: &Services,
    perms: &Permissions,
    id: &str,
) -> Result<(UserGroup, Vec<(kallithea_model::UserId, String)>)> {
    let gid = id.trim().parse::<i64>().map_err(|_| not_found(id))?;
    let mut tx = svc.db.read().await?;
    let g = kallithea_db::user_group::get(&mut tx, UserGroupId(gid))
        .await?
        .ok_or_else(|| not_found(id))?;
    let members = kallithea_db::user_group::members(&mut tx, g.id).await?;
    tx.commit().await?;
    may_manage(perms, &g)?;
    Ok((g, members))
}

/// What the forms send (Kallithea's field names).
#[derive(Clone, Debug, Default)]
pub struct UserGroupForm {
    pub users_group_name: String,
    pub user_group_description: String,
    pub users_group_active: bool,
}

pub async fn create(svc: &Services, perms: &Permissions, f: &UserGroupForm) -> Result<UserGroup> {
    let Some(owner) = perms.actor().user_id() else {
        return Err(crate::repo::denied(perms.actor()));
    };
    if !perms.can_create_user_group() {
        return Err(Error::forbidden(
            "You do not have permission to create user groups.",
        ));
    }
    let name = check_name(&f.users_group_name)?;
    let description = check_description(&f.user_group_description)?;
    let mut tx = svc.db.write().await?;
    if kallithea_db::user_group::find_by_name(&mut tx, &name)
        .await?
        .is_some()
    {
        return Err(Error::new(
            ErrorKind::NameTaken,
            format!("A user group named \"{name}\" already exists."),
        ));
    }
    let id = kallithea_db::user_group::insert(
        &mut tx,
        &name,
        description,
        f.users_group_active,
        owner,
        now(),
    )
    .await?;
    let g = kallithea_db::user_group::get(&mut tx, id)
        .await?
        .ok_or_else(|| not_found(&name))?;
    // The `default` user's grant follows "Default user group permission".
    let default = crate::user::default_user(&mut tx).await?;
    let level = kallithea_db::user::global_perms(&mut tx, default.id)
        .await?
        .iter()
        .filter(|p| p.starts_with("usergroup."))
        .filter_map(|p| kallithea_model::PermLevel::from_user_group_perm_name(p))
        .max()
        .unwrap_or(kallithea_model::PermLevel::Read);
    kallithea_db::user_group::set_user_grant_on(&mut tx, g.id, default.id, Some(level)).await?;
    tx.commit().await?;
    Ok(g)
}

pub async fn update(
    svc: &Services,
    perms: &Permissions,
    g: &UserGroup,
    f: &UserGroupForm,
) -> Result<()> {
    may_manage(perms, g)?;
    let name = check_name(&f.users_group_name)?;
    let description = check_description(&f.user_group_description)?;
    let mut tx = svc.db.write().await?;
    if let Some(other) = kallithea_db::user_group::find_by_name(&mut tx, &name).await?
        && other.id != g.id
    {
        return Err(Error::new(
            ErrorKind::NameTaken,
            format!("A user group named \"{name}\" already exists."),
        ));
    }
    kallithea_db::user_group::update(&mut tx, g.id, &name, description, f.users_group_active)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Deletes a group and its grants and memberships.
pub async fn delete(svc: &Services, perms: &Permissions, g: &UserGroup) -> Result<()> {
    may_manage(perms, g)?;
    let mut tx = svc.db.write().await?;
    kallithea_db::user_group::delete(&mut tx, g.id).await?;
    tx.commit().await?;
    Ok(())
}

/// Adds (`add`) or removes a member by user name.
pub async fn set_member(
    svc: &Services,
    perms: &Permissions,
    g: &UserGroup,
    username: &str,
    add: bool,
) -> Result<()> {
    may_manage(perms, g)?;
    let name = UserName::parse(username.trim())
        .map_err(|_| Error::invalid(format!("There is no user named \"{}\".", username.trim())))?;
    let mut tx = svc.db.write().await?;
    let u = kallithea_db::user::find_by_name(&mut tx, name.as_str())
        .await?
        .filter(|u| u.username != crate::user::DEFAULT_USER)
        .ok_or_else(|| Error::invalid(format!("There is no user named \"{name}\".")))?;
    if add {
        kallithea_db::user_group::add_member(&mut tx, g.id, u.id).await?;
    } else {
        kallithea_db::user_group::remove_member(&mut tx, g.id, u.id).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Deletes a user group only when no repository or repository group has granted it anything
/// (the API's rule, as in Kallithea).
pub async fn delete_unassigned(svc: &Services, perms: &Permissions, g: &UserGroup) -> Result<()> {
    may_manage(perms, g)?;
    let mut tx = svc.db.write().await?;
    let n = kallithea_db::user_group::assigned_count(&mut tx, g.id).await?;
    if n > 0 {
        return Err(Error::invalid(format!(
            "User Group assigned to {n} repositor{} or repository group{}: revoke its permissions first",
            if n == 1 { "y" } else { "ies" },
            if n == 1 { "" } else { "s" }
        )));
    }
    kallithea_db::user_group::delete(&mut tx, g.id).await?;
    tx.commit().await?;
    Ok(())
}
