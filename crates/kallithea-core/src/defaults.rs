//! The default permissions (`/_admin/permissions`): what the `default` user holds, which is
//! what anonymous visitors get and the floor for everyone. Kallithea 0.7's fields and values.

use kallithea_model::PermLevel;

use crate::user::DEFAULT_USER;
use crate::{Actor, Error, Result, Services};

/// One setting: its form field, the permission-name prefix it sets, and the allowed values.
pub struct Setting {
    pub field: &'static str,
    pub prefix: &'static str,
    pub choices: &'static [&'static str],
}

/// Kallithea's default-permission fields, in page order.
pub const SETTINGS: &[Setting] = &[
    Setting {
        field: "default_repo_perm",
        prefix: "repository.",
        choices: &["repository.none", "repository.read", "repository.write"],
    },
    Setting {
        field: "default_group_perm",
        prefix: "group.",
        choices: &["group.none", "group.read", "group.write", "group.admin"],
    },
    Setting {
        field: "default_user_group_perm",
        prefix: "usergroup.",
        choices: &[
            "usergroup.none",
            "usergroup.read",
            "usergroup.write",
            "usergroup.admin",
        ],
    },
    Setting {
        field: "default_repo_create",
        prefix: "hg.create.",
        choices: &["hg.create.none", "hg.create.repository"],
    },
    Setting {
        field: "default_user_group_create",
        prefix: "hg.usergroup.create.",
        choices: &["hg.usergroup.create.false", "hg.usergroup.create.true"],
    },
    Setting {
        field: "default_fork",
        prefix: "hg.fork.",
        choices: &["hg.fork.none", "hg.fork.repository"],
    },
    Setting {
        field: "default_register",
        prefix: "hg.register.",
        choices: &[
            "hg.register.none",
            "hg.register.manual_activate",
            "hg.register.auto_activate",
        ],
    },
    Setting {
        field: "default_extern_activate",
        prefix: "hg.extern_activate.",
        choices: &["hg.extern_activate.manual", "hg.extern_activate.auto"],
    },
];

/// The current defaults: anonymous access and the chosen value of each setting.
#[derive(Debug, Clone)]
pub struct Defaults {
    pub anonymous: bool,
    pub values: Vec<(&'static str, String)>,
}

fn value_for(perms: &[String], s: &Setting) -> String {
    // `hg.usergroup.create.` also starts with `hg.` names of other kinds: match choices exactly.
    perms
        .iter()
        .find(|p| s.choices.contains(&p.as_str()))
        .cloned()
        .unwrap_or_else(|| s.choices[0].to_owned())
}

pub async fn load(svc: &Services, actor: &Actor) -> Result<Defaults> {
    if !actor.is_admin() {
        return Err(crate::repo::denied(actor));
    }
    let mut tx = svc.db.read().await?;
    let d = crate::user::default_user(&mut tx).await?;
    let perms = kallithea_db::user::global_perms(&mut tx, d.id).await?;
    tx.commit().await?;
    Ok(Defaults {
        anonymous: d.active,
        values: SETTINGS
            .iter()
            .map(|s| (s.field, value_for(&perms, s)))
            .collect(),
    })
}

/// What the form sent.
#[derive(Debug, Clone, Default)]
pub struct Change {
    pub anonymous: bool,
    pub values: Vec<(String, String)>,
    /// Apply the default repository permission to every existing public repository.
    pub overwrite_default_repo: bool,
    /// Apply the default group permission to every existing repository group.
    pub overwrite_default_group: bool,
    /// Apply the default user group permission to every existing user group.
    pub overwrite_default_user_group: bool,
}

/// Saves the defaults; with `overwrite_default_repo`, every public repository's `default`
/// grant becomes the new default repository permission.
pub async fn save(svc: &Services, actor: &Actor, change: &Change) -> Result<()> {
    if !actor.is_admin() {
        return Err(crate::repo::denied(actor));
    }
    let mut chosen = Vec::new();
    for s in SETTINGS {
        let v = change
            .values
            .iter()
            .find(|(k, _)| k == s.field)
            .map(|(_, v)| v.trim());
        let Some(v) = v else {
            return Err(Error::invalid(format!(
                "The form is missing the field {}.",
                s.field
            )));
        };
        if !s.choices.contains(&v) {
            return Err(Error::invalid(format!(
                "\"{v}\" is not a choice for {}: use one of {}.",
                s.field,
                s.choices.join(", ")
            )));
        }
        chosen.push((s, v.to_owned()));
    }
    let mut tx = svc.db.write().await?;
    let d = kallithea_db::user::find_by_name(&mut tx, DEFAULT_USER)
        .await?
        .ok_or_else(|| Error::internal("default permissions", "no default user"))?;
    kallithea_db::user::set_active(&mut tx, d.id, change.anonymous).await?;
    for (s, v) in &chosen {
        // Remove only this setting's names (`hg.` prefixes overlap between settings).
        for c in s.choices {
            kallithea_db::user::remove_global_perm(&mut tx, d.id, c).await?;
        }
        kallithea_db::user::add_global_perm(&mut tx, d.id, v).await?;
    }
    if change.overwrite_default_repo {
        let level = chosen
            .iter()
            .find(|(s, _)| s.field == "default_repo_perm")
            .and_then(|(_, v)| PermLevel::from_repo_perm_name(v))
            .unwrap_or(PermLevel::Read);
        for r in kallithea_db::repo::list(&mut tx).await? {
            if !r.private {
                kallithea_db::repo::set_grant(&mut tx, r.id, d.id, level).await?;
            }
        }
    }
    if change.overwrite_default_group {
        let level = chosen
            .iter()
            .find(|(s, _)| s.field == "default_group_perm")
            .and_then(|(_, v)| PermLevel::from_group_perm_name(v))
            .unwrap_or(PermLevel::Read);
        for g in kallithea_db::repo_group::list(&mut tx).await? {
            kallithea_db::repo_group::set_user_grant(&mut tx, g.id, d.id, level).await?;
        }
    }
    if change.overwrite_default_user_group {
        let level = chosen
            .iter()
            .find(|(s, _)| s.field == "default_user_group_perm")
            .and_then(|(_, v)| PermLevel::from_user_group_perm_name(v))
            .unwrap_or(PermLevel::Read);
        for g in kallithea_db::user_group::list(&mut tx).await? {
            kallithea_db::user_group::set_user_grant_on(&mut tx, g.id, d.id, Some(level)).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// The global permissions a site admin can give one user on top of the defaults (they can
/// only add: the highest of the user's and the `default` user's wins).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UserGlobal {
    pub create_repo: bool,
    pub create_user_group: bool,
    pub fork: bool,
}

const USER_GLOBAL: [(&str, &str, &str); 3] = [
    ("hg.create.", "hg.create.repository", "hg.create.none"),
    (
        "hg.usergroup.create.",
        "hg.usergroup.create.true",
        "hg.usergroup.create.false",
    ),
    ("hg.fork.", "hg.fork.repository", "hg.fork.none"),
];

pub async fn user_global(
    svc: &Services,
    actor: &Actor,
    user: kallithea_model::UserId,
) -> Result<UserGlobal> {
    if !actor.is_admin() {
        return Err(crate::repo::denied(actor));
    }
    let mut tx = svc.db.read().await?;
    let perms = kallithea_db::user::global_perms(&mut tx, user).await?;
    tx.commit().await?;
    let has = |p: &str| perms.iter().any(|x| x == p);
    Ok(UserGlobal {
        create_repo: has(USER_GLOBAL[0].1),
        create_user_group: has(USER_GLOBAL[1].1),
        fork: has(USER_GLOBAL[2].1),
    })
}

pub async fn set_user_global(
    svc: &Services,
    actor: &Actor,
    user: kallithea_model::UserId,
    g: UserGlobal,
) -> Result<()> {
    if !actor.is_admin() {
        return Err(crate::repo::denied(actor));
    }
    let mut tx = svc.db.write().await?;
    let target = kallithea_db::user::get(&mut tx, user)
        .await?
        .filter(|u| u.username != DEFAULT_USER)
        .ok_or_else(|| Error::not_found(format!("There is no user with id \"{user}\".")))?;
    for ((_, yes, no), on) in USER_GLOBAL
        .iter()
        .zip([g.create_repo, g.create_user_group, g.fork])
    {
        kallithea_db::user::remove_global_perm(&mut tx, target.id, yes).await?;
        kallithea_db::user::remove_global_perm(&mut tx, target.id, no).await?;
        if on {
            kallithea_db::user::add_global_perm(&mut tx, target.id, yes).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// A user's effective global permissions, Kallithea's way: site admins have `hg.admin`; others
/// the union of the `default` user's and their own, keeping the highest of each kind.
pub async fn effective_global(svc: &Services, u: &kallithea_db::user::User) -> Result<Vec<String>> {
    if u.admin {
        return Ok(vec!["hg.admin".to_owned()]);
    }
    let mut tx = svc.db.read().await?;
    let d = crate::user::default_user(&mut tx).await?;
    let mut all = kallithea_db::user::global_perms(&mut tx, d.id).await?;
    all.extend(kallithea_db::user::global_perms(&mut tx, u.id).await?);
    tx.commit().await?;
    let mut out: Vec<String> = Vec::new();
    for s in SETTINGS {
        // The choices are listed from lowest to highest.
        if let Some(best) = s.choices.iter().rev().find(|c| all.iter().any(|p| p == *c)) {
            out.push((*best).to_owned());
        }
    }
    Ok(out)
}
