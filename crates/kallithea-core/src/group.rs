//! Repository groups: nested folders of repositories (`team/tools/repo`), with their own
//! permissions. Creating a top-level group is for site admins; a subgroup needs admin on its
//! parent; a repository inside a group needs write on it. Moving or renaming a group renames
//! every repository and group below it, on disk and in the database, all or nothing. A group
//! is deleted only when empty.

use kallithea_db::repo::Repo;
use kallithea_db::repo_group::{GroupGrant, RepoGroup};
use kallithea_model::{GroupId, PermLevel, RepoName};

use crate::permission::Permissions;
use crate::{Actor, Error, ErrorKind, Result, Services, now};

pub use kallithea_db::repo_group::RepoGroup as GroupRow;

/// Which children "apply to children" reaches (Kallithea's `recursive`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApplyTo {
    /// Only the group itself.
    None,
    /// The group and every repository below it.
    Repos,
    /// The group and every group below it.
    Groups,
    /// Everything below.
    All,
}

impl ApplyTo {
    pub fn parse(s: &str) -> Result<Self> {
        match s.trim() {
            "" | "none" => Ok(Self::None),
            "repos" => Ok(Self::Repos),
            "groups" => Ok(Self::Groups),
            "all" => Ok(Self::All),
            other => Err(Error::invalid(format!(
                "\"{other}\" is not a choice for applying to children: use none, repos, groups or all."
            ))),
        }
    }
}

/// What follows `prefix` (a group path and `/`) in `name`: exact, or ignoring ASCII case
/// (names below a group are made from its path, so other differences do not occur). Never
/// cuts inside a character.
fn below<'a>(name: &'a str, prefix: &str) -> Option<&'a str> {
    if let Some(rest) = name.strip_prefix(prefix) {
        return Some(rest);
    }
    let head = name.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &name[prefix.len()..])
}

fn not_found(what: &str) -> Error {
    Error::not_found(format!("There is no repository group \"{what}\"."))
}

/// The actor's level on a group, with the refusal rule of [`crate::repo::denied`].
fn require(perms: &Permissions, g: &RepoGroup, need: PermLevel) -> Result<PermLevel> {
    let level = perms.group(g);
    if level < need {
        // Like private repositories: someone who may not read a group is not told it exists.
        if !level.can_read() && perms.actor().user_id().is_some() {
            return Err(not_found(&g.name));
        }
        return Err(crate::repo::denied(perms.actor()));
    }
    Ok(level)
}

/// Finds a group by path (routing only; every use checks permissions).
pub async fn find(svc: &Services, name: &str) -> Result<Option<RepoGroup>> {
    // A path no group can have (control characters, `..`) is never looked up.
    if RepoName::parse(name).is_err() {
        return Ok(None);
    }
    let mut tx = svc.db.read().await?;
    let g = kallithea_db::repo_group::find_by_name(&mut tx, name).await?;
    tx.commit().await?;
    Ok(g)
}

/// A group by id or path, for forms and the API (`-1` and empty mean the top level).
pub async fn resolve(svc: &Services, id_or_name: &str) -> Result<Option<RepoGroup>> {
    let v = id_or_name.trim();
    if v.is_empty() || v == "-1" {
        return Ok(None);
    }
    let mut tx = svc.db.read().await?;
    let g = match v.parse::<i64>() {
        Ok(id) => kallithea_db::repo_group::get(&mut tx, GroupId(id)).await?,
        Err(_) if RepoName::parse(v).is_err() => None,
        Err(_) => kallithea_db::repo_group::find_by_name(&mut tx, v).await?,
    };
    tx.commit().await?;
    // A form or API argument naming no group is bad input, not a missing page.
    g.map(Some)
        .ok_or_else(|| Error::invalid(format!("There is no repository group \"{v}\".")))
}

/// Every group the actor may read, with the actor's level, by path.
pub async fn list_visible(
    svc: &Services,
    perms: &Permissions,
) -> Result<Vec<(RepoGroup, PermLevel)>> {
    let mut tx = svc.db.read().await?;
    let all = kallithea_db::repo_group::list(&mut tx).await?;
    tx.commit().await?;
    Ok(all
        .into_iter()
        .map(|g| {
            let l = perms.group(&g);
            (g, l)
        })
        .filter(|(_, l)| l.can_read())
        .collect())
}

/// What a group page shows: the group, the actor's level, and the subgroups and repositories
/// directly inside that the actor may read.
pub struct GroupPage {
    pub group: RepoGroup,
    pub level: PermLevel,
    pub parents: Vec<RepoGroup>,
    pub groups: Vec<RepoGroup>,
    pub repos: Vec<(Repo, PermLevel)>,
}

pub async fn page(svc: &Services, perms: &Permissions, g: RepoGroup) -> Result<GroupPage> {
    let level = require(perms, &g, PermLevel::Read)?;
    let mut tx = svc.db.read().await?;
    let all_groups = kallithea_db::repo_group::list(&mut tx).await?;
    let repos = kallithea_db::repo::list(&mut tx).await?;
    tx.commit().await?;
    let mut parents = Vec::new();
    let mut cur = g.parent_id;
    while let Some(p) = cur.and_then(|id| all_groups.iter().find(|x| x.id == id)) {
        parents.insert(0, p.clone());
        cur = p.parent_id;
    }
    let groups = all_groups
        .into_iter()
        .filter(|x| x.parent_id == Some(g.id) && perms.group(x).can_read())
        .collect();
    let repos = repos
        .into_iter()
        .filter(|r| r.group_id == Some(g.id))
        .map(|r| {
            let l = perms.repo(&r);
            (r, l)
        })
        .filter(|(_, l)| l.can_read())
        .collect();
    Ok(GroupPage {
        group: g,
        level,
        parents,
        groups,
        repos,
    })
}

/// What the create and edit forms send (Kallithea's field names).
#[derive(Clone, Debug, Default)]
pub struct GroupForm {
    /// One path part (slugged like repository names), or a full path for the API.
    pub group_name: String,
    pub group_description: String,
    /// The parent group's id (`-1` or empty: top level).
    pub parent_group_id: String,
    /// Copy the parent's grants to the new group.
    pub copy_permissions: bool,
}

fn check_description(d: &str) -> Result<&str> {
    if d.chars().count() > 10_000 {
        return Err(Error::invalid(
            "The description is too long (at most 10,000 characters).",
        ));
    }
    Ok(d)
}

/// Where a group may go: admin on the parent, or site admin for the top level.
fn may_create_in(perms: &Permissions, parent: Option<&RepoGroup>) -> Result<()> {
    match parent {
        None if perms.actor().is_admin() => Ok(()),
        None => Err(Error::forbidden(
            "Only site administrators can create top-level repository groups.",
        )),
        Some(p) if perms.group(p).is_admin() => Ok(()),
        Some(p) => Err(Error::forbidden(format!(
            "You need admin permission on the group \"{}\" to create a group in it.",
            p.name
        ))),
    }
}

fn full_name(parent: Option<&RepoGroup>, raw: &str) -> Result<RepoName> {
    let parent_name = parent.map(|p| RepoName::parse(&p.name)).transpose()?;
    let base = raw.trim().rsplit('/').next().unwrap_or("").to_owned();
    if base.trim().is_empty() {
        return Err(Error::invalid("The group name must not be empty."));
    }
    Ok(RepoName::from_user_input(parent_name.as_ref(), &base)?)
}

/// Whether a repository or group already has this path.
async fn path_taken(svc: &Services, tx: &mut crate::user::Tx, name: &RepoName) -> Result<bool> {
    Ok(kallithea_db::repo_group::find_by_name(tx, name.as_str())
        .await?
        .is_some()
        || kallithea_db::repo::find_by_name(tx, name.as_str())
            .await?
            .is_some()
        || svc.store.exists(name))
}

fn taken(name: &RepoName) -> Error {
    Error::new(
        ErrorKind::NameTaken,
        format!("A repository or group named {name} already exists."),
    )
}

/// The `default` user's level for new groups (`group.*` among its global permissions).
pub(crate) async fn default_group_level(
    tx: &mut crate::user::Tx,
    default: &kallithea_db::user::User,
) -> Result<PermLevel> {
    let perms = kallithea_db::user::global_perms(tx, default.id).await?;
    Ok(perms
        .iter()
        .filter(|p| p.starts_with("group."))
        .filter_map(|p| PermLevel::from_group_perm_name(p))
        .max()
        .unwrap_or(PermLevel::Read))
}

/// Creates a group (its folder too).
pub async fn create(svc: &Services, perms: &Permissions, form: &GroupForm) -> Result<RepoGroup> {
    let Some(owner) = perms.actor().user_id() else {
        return Err(crate::repo::denied(perms.actor()));
    };
    let parent = resolve(svc, &form.parent_group_id).await?;
    may_create_in(perms, parent.as_ref())?;
    let name = full_name(parent.as_ref(), &form.group_name)?;
    let description = check_description(&form.group_description)?;
    let mut tx = svc.db.write().await?;
    if path_taken(svc, &mut tx, &name).await? {
        return Err(taken(&name));
    }
    let id = kallithea_db::repo_group::insert(
        &mut tx,
        name.as_str(),
        parent.as_ref().map(|p| p.id),
        description,
        owner,
        now(),
    )
    .await?;
    let default = crate::user::default_user(&mut tx).await?;
    let level = default_group_level(&mut tx, &default).await?;
    kallithea_db::repo_group::set_user_grant(&mut tx, id, default.id, level).await?;
    if form.copy_permissions
        && let Some(p) = &parent
    {
        for g in kallithea_db::repo_group::grants_for_group(&mut tx, p.id).await? {
            match (g.user_id, g.user_group_id) {
                (Some(u), _) => {
                    kallithea_db::repo_group::set_user_grant(&mut tx, id, u, g.level).await?
                }
                (None, Some(ug)) => {
                    kallithea_db::repo_group::set_user_group_grant(&mut tx, id, ug, g.level).await?
                }
                _ => {}
            }
        }
    }
    svc.store.create_group_dir(&name)?;
    if let Err(e) = tx.commit().await {
        let _ = svc.store.remove_group_dir(&name);
        return Err(e.into());
    }
    let mut tx = svc.db.read().await?;
    let g = kallithea_db::repo_group::get(&mut tx, id)
        .await?
        .ok_or_else(|| not_found(name.as_str()))?;
    tx.commit().await?;
    Ok(g)
}

/// Renames, moves and describes a group; everything below follows. Admin on the group is
/// needed, and on the new parent (site admin for the top level) when it moves. A group cannot
/// move into itself or below itself.
pub async fn update(
    svc: &Services,
    perms: &Permissions,
    g: &RepoGroup,
    form: &GroupForm,
) -> Result<RepoGroup> {
    require(perms, g, PermLevel::Admin)?;
    let description = check_description(&form.group_description)?;
    let new_parent = resolve(svc, &form.parent_group_id).await?;
    if let Some(p) = &new_parent {
        let own = g.name.to_lowercase();
        let theirs = p.name.to_lowercase();
        if p.id == g.id || theirs.starts_with(&format!("{own}/")) {
            return Err(Error::invalid(format!(
                "The group \"{}\" cannot move into itself or into one of its own subgroups.",
                g.name
            )));
        }
    }
    if new_parent.as_ref().map(|p| p.id) != g.parent_id {
        may_create_in(perms, new_parent.as_ref())?;
    }
    let raw = if form.group_name.trim().is_empty() {
        g.name.rsplit('/').next().unwrap_or(&g.name).to_owned()
    } else {
        form.group_name.clone()
    };
    let new = full_name(new_parent.as_ref(), &raw)?;
    let old = RepoName::parse(&g.name)?;
    let mut tx = svc.db.write().await?;
    if new.folded() != old.folded() && path_taken(svc, &mut tx, &new).await? {
        return Err(taken(&new));
    }
    kallithea_db::repo_group::update(
        &mut tx,
        g.id,
        new.as_str(),
        new_parent.as_ref().map(|p| p.id),
        description,
    )
    .await?;
    if new != old {
        // Every path below the group changes prefix.
        let prefix = format!("{}/", old.as_str());
        for sub in kallithea_db::repo_group::list(&mut tx).await? {
            if let Some(rest) = below(&sub.name, &prefix) {
                let n = format!("{}/{rest}", new.as_str());
                kallithea_db::repo_group::set_name(&mut tx, sub.id, &n).await?;
            }
        }
        for r in kallithea_db::repo::list(&mut tx).await? {
            if let Some(rest) = below(&r.name, &prefix) {
                let n = format!("{}/{rest}", new.as_str());
                kallithea_db::repo::rename(&mut tx, r.id, &n, now()).await?;
            }
        }
        if svc.store.exists(&old) {
            svc.store.rename(&old, &new)?;
        } else {
            svc.store.create_group_dir(&new)?;
        }
    }
    if let Err(e) = tx.commit().await {
        if new != old {
            let _ = svc.store.rename(&new, &old);
        }
        return Err(e.into());
    }
    let mut tx = svc.db.read().await?;
    let g = kallithea_db::repo_group::get(&mut tx, g.id)
        .await?
        .ok_or_else(|| not_found(new.as_str()))?;
    tx.commit().await?;
    Ok(g)
}

/// Deletes an empty group.
pub async fn delete(svc: &Services, perms: &Permissions, g: &RepoGroup) -> Result<()> {
    require(perms, g, PermLevel::Admin)?;
    let name = RepoName::parse(&g.name)?;
    let mut tx = svc.db.write().await?;
    let (repos, groups) = kallithea_db::repo_group::count_children(&mut tx, g.id).await?;
    if repos > 0 || groups > 0 {
        return Err(Error::invalid(format!(
            "The group \"{}\" still contains {repos} repositor{} and {groups} group{}: move or delete them first.",
            g.name,
            if repos == 1 { "y" } else { "ies" },
            if groups == 1 { "" } else { "s" },
        )));
    }
    kallithea_db::repo_group::delete(&mut tx, g.id).await?;
    tx.commit().await?;
    svc.store.remove_group_dir(&name)?;
    Ok(())
}

/// The grants on a group (admin on it needed).
pub async fn grants(svc: &Services, perms: &Permissions, g: &RepoGroup) -> Result<Vec<GroupGrant>> {
    require(perms, g, PermLevel::Admin)?;
    let mut tx = svc.db.read().await?;
    let out = kallithea_db::repo_group::grants_for_group(&mut tx, g.id).await?;
    tx.commit().await?;
    Ok(out)
}

/// Who a grant is for.
#[derive(Clone, Debug)]
pub enum Grantee {
    User(String),
    UserGroup(String),
}

/// Sets (`Some`) or revokes (`None`) a grant on a group and, as `apply` says, on the groups
/// and repositories below it (`group.write` becomes `repository.write` there), all at once.
pub async fn set_grant(
    svc: &Services,
    perms: &Permissions,
    g: &RepoGroup,
    who: &Grantee,
    level: Option<&str>,
    apply: ApplyTo,
) -> Result<()> {
    require(perms, g, PermLevel::Admin)?;
    let level = match level {
        Some(l) => Some(PermLevel::from_group_perm_name(l.trim()).ok_or_else(|| {
            Error::invalid(format!(
                "\"{l}\" is not a permission level: use group.none, group.read, group.write or group.admin."
            ))
        })?),
        None => None,
    };
    let mut tx = svc.db.write().await?;
    enum Target {
        User(kallithea_model::UserId),
        Group(kallithea_model::UserGroupId),
    }
    let target = match who {
        Grantee::User(n) => Target::User(
            kallithea_db::user::find_by_name(&mut tx, n.trim())
                .await?
                .ok_or_else(|| Error::invalid(format!("There is no user named \"{}\".", n.trim())))?
                .id,
        ),
        Grantee::UserGroup(n) => {
            let found = kallithea_db::user_group::find_by_name(&mut tx, n.trim())
                .await?
                .filter(|ug| perms.user_group(ug).can_read());
            Target::Group(
                found
                    .ok_or_else(|| {
                        Error::invalid(format!("There is no user group named \"{}\".", n.trim()))
                    })?
                    .id,
            )
        }
    };
    let prefix = format!("{}/", g.name);
    let mut groups = vec![g.id];
    let mut repos = Vec::new();
    if matches!(apply, ApplyTo::Groups | ApplyTo::All) {
        for sub in kallithea_db::repo_group::list(&mut tx).await? {
            if below(&sub.name, &prefix).is_some() {
                groups.push(sub.id);
            }
        }
    }
    if matches!(apply, ApplyTo::Repos | ApplyTo::All) {
        for r in kallithea_db::repo::list(&mut tx).await? {
            if below(&r.name, &prefix).is_some() {
                repos.push(r.id);
            }
        }
    }
    for id in groups {
        match (&target, level) {
            (Target::User(u), Some(l)) => {
                kallithea_db::repo_group::set_user_grant(&mut tx, id, *u, l).await?
            }
            (Target::User(u), None) => {
                kallithea_db::repo_group::remove_user_grant(&mut tx, id, *u).await?
            }
            (Target::Group(ug), Some(l)) => {
                kallithea_db::repo_group::set_user_group_grant(&mut tx, id, *ug, l).await?
            }
            (Target::Group(ug), None) => {
                kallithea_db::repo_group::remove_user_group_grant(&mut tx, id, *ug).await?
            }
        }
    }
    for id in repos {
        match (&target, level) {
            (Target::User(u), Some(l)) => kallithea_db::repo::set_grant(&mut tx, id, *u, l).await?,
            (Target::User(u), None) => kallithea_db::repo::remove_grant(&mut tx, id, *u).await?,
            (Target::Group(ug), Some(l)) => {
                kallithea_db::user_group::set_repo_grant(&mut tx, id, *ug, l).await?
            }
            (Target::Group(ug), None) => {
                kallithea_db::user_group::remove_repo_grant(&mut tx, id, *ug).await?
            }
        }
    }
    tx.commit().await?;
    Ok(())
}

/// The group for the parent path of a repository found on disk, made (with its parents) when
/// missing, owned by `owner`. For `repo-scan`.
pub(crate) async fn ensure_path(
    tx: &mut crate::user::Tx,
    path: &RepoName,
    owner: &Actor,
    default_level: PermLevel,
    default_user: kallithea_model::UserId,
) -> Result<GroupId> {
    let Some(owner_id) = owner.user_id() else {
        return Err(crate::repo::denied(owner));
    };
    let mut parent: Option<GroupId> = None;
    let mut so_far = String::new();
    for part in path.as_str().split('/') {
        if !so_far.is_empty() {
            so_far.push('/');
        }
        so_far.push_str(part);
        parent = Some(
            match kallithea_db::repo_group::find_by_name(tx, &so_far).await? {
                Some(g) => g.id,
                None => {
                    let id =
                        kallithea_db::repo_group::insert(tx, &so_far, parent, "", owner_id, now())
                            .await?;
                    kallithea_db::repo_group::set_user_grant(tx, id, default_user, default_level)
                        .await?;
                    id
                }
            },
        );
    }
    parent.ok_or_else(|| Error::invalid("A group path must not be empty."))
}
