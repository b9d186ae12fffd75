//! Repositories: create, list what an actor may see, open with a required level, edit,
//! rename, delete (moved aside on disk), and per-user grants.

use kallithea_db::Tx;
use kallithea_db::journal::Entry;
use kallithea_db::repo::{Grant, NewRepo, Repo, RepoUpdate};
use kallithea_model::{PermLevel, RepoId, RepoKind, RepoName};

use crate::permission::Permissions;
use crate::{Actor, Error, ErrorKind, Result, Services, now};

pub use kallithea_db::repo::Repo as RepoRow;

/// Proof that an actor holds a level on a repository. Only this module builds it, after
/// asking [`Permissions`]; operations that change a repository take it.
#[derive(Clone, Debug)]
pub struct RepoAccess {
    repo: Repo,
    level: PermLevel,
    actor: Actor,
}

impl RepoAccess {
    pub fn repo(&self) -> &Repo {
        &self.repo
    }
    pub fn level(&self) -> PermLevel {
        self.level
    }
    pub fn actor(&self) -> &Actor {
        &self.actor
    }
    /// The validated name; a row whose name no longer validates is an internal error.
    pub fn name(&self) -> Result<RepoName> {
        RepoName::parse(&self.repo.name).map_err(|e| {
            Error::internal(
                "reading a stored repository name",
                format!("{:?}: {e}", self.repo.name),
            )
        })
    }
    pub(crate) fn require(&self, need: PermLevel) -> Result<()> {
        if self.level >= need {
            Ok(())
        } else {
            Err(denied(&self.actor))
        }
    }
}

/// Kallithea's denial rule, in one place: anonymous visitors are asked to sign in, signed-in
/// users are refused.
pub fn denied(actor: &Actor) -> Error {
    match actor {
        Actor::Anonymous => Error::new(
            ErrorKind::LoginRequired,
            "Please sign in to access this page.",
        ),
        Actor::User { .. } => {
            Error::forbidden("You do not have permission to access this repository.")
        }
    }
}

/// The fields of the create form (Kallithea's names).
#[derive(Clone, Debug, Default)]
pub struct CreateForm {
    pub repo_name: String,
    pub repo_type: String,
    pub repo_description: String,
    pub repo_private: bool,
    pub repo_group: String,
    pub repo_landing_rev: String,
    pub clone_uri: String,
}

/// Kallithea's landing revision: `rev:tip`, `rev:<id>`, `branch:<name>`, `tag:<name>` or
/// `book:<name>`; a bare name means `branch:<name>`.
fn validate_landing_rev(rev: &str) -> Result<String> {
    let rev = rev.trim();
    if rev.is_empty() {
        return Ok("rev:tip".to_owned());
    }
    let (kind, name) = rev.split_once(':').unwrap_or(("branch", rev));
    let valid =
        matches!(kind, "rev" | "branch" | "tag" | "book") && kallithea_vcs::read::valid_rev(name);
    if !valid {
        return Err(Error::invalid(format!(
            "\"{rev}\" is not a valid landing revision: use rev:tip, branch:<name> or tag:<name>."
        )));
    }
    Ok(format!("{kind}:{name}"))
}

fn validate_description(d: &str) -> Result<&str> {
    if d.chars().count() > 10_000 {
        return Err(Error::invalid(
            "The description is too long (at most 10,000 characters).",
        ));
    }
    Ok(d)
}

/// Creates a Git repository: the row, the `default` user's grant, the folder and its hooks.
/// Nothing is left behind when any step fails.
pub async fn create(svc: &Services, perms: &Permissions, form: &CreateForm) -> Result<Repo> {
    let actor = perms.actor();
    let Some(owner) = actor.user_id() else {
        return Err(denied(actor));
    };
    // Kallithea's rule: write on the group, or `hg.create.repository` for the top level.
    let group = crate::group::resolve(svc, &form.repo_group).await?;
    match &group {
        None if !perms.can_create_repo() => {
            return Err(Error::forbidden(
                "You do not have permission to create repositories at the top level.",
            ));
        }
        Some(g) if !perms.group(g).can_write() => {
            return Err(Error::forbidden(format!(
                "You do not have permission to create repositories in the group \"{}\".",
                g.name
            )));
        }
        _ => {}
    }
    match RepoKind::parse(form.repo_type.trim()).unwrap_or(RepoKind::Git) {
        RepoKind::Git => {}
        RepoKind::Hg => {
            return Err(Error::invalid(
                "Mercurial repositories are not supported yet.",
            ));
        }
    }
    if !form.repo_type.trim().is_empty() && RepoKind::parse(form.repo_type.trim()).is_none() {
        return Err(Error::invalid(format!(
            "Unknown repository type \"{}\".",
            form.repo_type
        )));
    }
    let clone_uri = form.clone_uri.trim();
    if !clone_uri.is_empty() && !kallithea_vcs::git::valid_remote_url(clone_uri) {
        return Err(Error::invalid(
            "The clone URL must start with http:// or https://.",
        ));
    }
    let group_path = group
        .as_ref()
        .map(|g| RepoName::parse(&g.name))
        .transpose()?;
    let base = form.repo_name.trim().rsplit('/').next().unwrap_or("");
    let name = RepoName::from_user_input(group_path.as_ref(), base)?;
    let landing_rev = validate_landing_rev(&form.repo_landing_rev)?;
    let description = validate_description(&form.repo_description)?;

    if !clone_uri.is_empty() && !actor.is_admin() {
        return Err(Error::forbidden(
            "Only site administrators can create a repository from a remote URL.",
        ));
    }
    let taken = || taken_sentence(&name);
    let mut tx = svc.db.read().await?;
    let exists = kallithea_db::repo::find_by_name(&mut tx, name.as_str())
        .await?
        .is_some();
    tx.commit().await?;
    if exists {
        return Err(taken());
    }
    if svc.store.exists(&name) {
        return Err(Error::new(
            ErrorKind::NameTaken,
            format!(
                "A folder named {name} already exists in the repository store; run repo-scan to register it."
            ),
        ));
    }

    // The folder first, outside any transaction: a slow clone must not hold the database.
    // Another request racing for the same name fails here, in `create_git`.
    let store = svc.store.clone();
    let hooks = svc.hooks.clone();
    let n = name.clone();
    let remote = clone_uri.to_owned();
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || -> Result<()> {
        let _in_request = span.enter();
        let path = store.create_git(&n, &hooks).map_err(|e| match e {
            kallithea_vcs::Error::AlreadyExists(_) => taken_sentence(&n),
            other => other.into(),
        })?;
        if !remote.is_empty()
            && let Err(e) = kallithea_vcs::git::fetch_from_remote(&path, &remote)
        {
            let _ = store.discard_new(&n);
            return Err(clone_failed(&remote, e));
        }
        Ok(())
    })
    .await
    .map_err(|e| Error::internal("creating a repository", e))??;

    let recorded = async {
        let mut tx = svc.db.write().await?;
        if kallithea_db::repo::find_by_name(&mut tx, name.as_str())
            .await?
            .is_some()
            || kallithea_db::repo_group::find_by_name(&mut tx, name.as_str())
                .await?
                .is_some()
        {
            return Err(taken());
        }
        let id = kallithea_db::repo::insert(
            &mut tx,
            &NewRepo {
                name: name.as_str(),
                repo_type: "git",
                owner_id: owner,
                description,
                private: form.repo_private,
                landing_rev: &landing_rev,
                enable_downloads: false,
                clone_uri: (!clone_uri.is_empty()).then_some(clone_uri),
                group_id: group.as_ref().map(|g| g.id),
                now: now(),
            },
        )
        .await?;
        let default = crate::user::default_user(&mut tx).await?;
        let default_level = if form.repo_private {
            PermLevel::None
        } else {
            default_repo_perm(&mut tx, &default).await?
        };
        kallithea_db::repo::set_grant(&mut tx, id, default.id, default_level).await?;
        let action = if actor.is_admin() {
            "admin_created_repo"
        } else {
            "user_created_repo"
        };
        journal(&mut tx, actor, Some(id), name.as_str(), action, "").await?;
        tx.commit().await?;
        Ok(id)
    }
    .await;
    let id = match recorded {
        Ok(id) => id,
        Err(e) => {
            // Nobody can have pushed to a repository the database does not know yet.
            let _ = svc.store.discard_new(&name);
            return Err(e);
        }
    };
    let mut tx = svc.db.read().await?;
    let repo = kallithea_db::repo::get(&mut tx, id)
        .await?
        .ok_or_else(|| Error::not_found("The new repository vanished."))?;
    tx.commit().await?;
    Ok(repo)
}

fn taken_sentence(name: &RepoName) -> Error {
    Error::new(
        ErrorKind::NameTaken,
        format!("Repository named {name} already exists."),
    )
}

/// A sentence for a failed clone, without any password the URL carried.
fn clone_failed(url: &str, e: kallithea_vcs::Error) -> Error {
    let shown = redact_url(url);
    let detail = match e {
        kallithea_vcs::Error::CommandFailed { stderr, .. } => stderr
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("git failed")
            .replace(url, &shown),
        other => return Error::internal("cloning a repository", other),
    };
    Error::invalid(format!("Could not clone from {shown}: {detail}"))
}

/// `https://user:secret@host/x` → `https://user@host/x`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = rest.split_once('/').map_or((rest, ""), |(a, p)| (a, p));
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{scheme}://{user}@{host}/{path}")
        }
        None => url.to_owned(),
    }
}

async fn default_repo_perm(tx: &mut Tx, default: &kallithea_db::user::User) -> Result<PermLevel> {
    let perms = kallithea_db::user::global_perms(tx, default.id).await?;
    Ok(perms
        .iter()
        .filter_map(|p| PermLevel::from_repo_perm_name(p).filter(|_| p.starts_with("repository.")))
        .max()
        .unwrap_or(PermLevel::Read))
}

/// Records an archive download in the journal (`user_downloaded_archive:<file>`), as
/// Kallithea does.
pub async fn record_download(
    svc: &Services,
    access: &RepoAccess,
    file_name: &str,
    ip: &str,
) -> Result<()> {
    let mut tx = svc.db.write().await?;
    let r = access.repo();
    let action = format!("user_downloaded_archive:{file_name}");
    journal(&mut tx, access.actor(), Some(r.id), &r.name, &action, ip).await?;
    tx.commit().await?;
    Ok(())
}

async fn journal(
    tx: &mut Tx,
    actor: &Actor,
    repo: Option<RepoId>,
    repo_name: &str,
    action: &str,
    ip: &str,
) -> Result<()> {
    kallithea_db::journal::insert(
        tx,
        &Entry {
            user_id: actor.user_id(),
            username: actor.username().to_owned(),
            repo_id: repo,
            repository_name: repo_name.to_owned(),
            action: action.to_owned(),
            action_date: now(),
            user_ip: ip.to_owned(),
        },
    )
    .await?;
    Ok(())
}

/// The repositories the actor may read, with the actor's level on each.
pub async fn list_visible(svc: &Services, perms: &Permissions) -> Result<Vec<(Repo, PermLevel)>> {
    let mut tx = svc.db.read().await?;
    let all = kallithea_db::repo::list(&mut tx).await?;
    tx.commit().await?;
    Ok(all
        .into_iter()
        .map(|r| {
            let l = perms.repo(&r);
            (r, l)
        })
        .filter(|(_, l)| l.can_read())
        .collect())
}

/// How a URL names a repository.
pub enum RepoRef<'a> {
    Name(&'a str),
    Id(RepoId),
}

/// Finds a repository without checking permissions (routing only: the result is used to
/// split a URL, and every use goes through [`open`]).
pub async fn find(svc: &Services, r: RepoRef<'_>) -> Result<Option<Repo>> {
    let mut tx = svc.db.read().await?;
    let found = match r {
        RepoRef::Name(n) => kallithea_db::repo::find_by_name(&mut tx, n).await?,
        RepoRef::Id(id) => kallithea_db::repo::get(&mut tx, id).await?,
    };
    tx.commit().await?;
    Ok(found)
}

/// Opens a repository for an actor that needs at least `need` on it.
pub fn open(perms: &Permissions, repo: Repo, need: PermLevel) -> Result<RepoAccess> {
    let level = perms.repo(&repo);
    let access = RepoAccess {
        repo,
        level,
        actor: perms.actor().clone(),
    };
    if !level.can_read() && need > PermLevel::None {
        // Do not tell strangers a private repository exists, beyond Kallithea's rule.
        return Err(denied(perms.actor()));
    }
    access.require(need)?;
    Ok(access)
}

/// The editable settings (Kallithea's field names). `repo_name` renames when it differs.
#[derive(Clone, Debug, Default)]
pub struct SettingsForm {
    pub repo_name: Option<String>,
    pub repo_description: String,
    pub repo_private: bool,
    pub repo_landing_rev: String,
    pub repo_enable_downloads: bool,
    /// Move to this group (id; `-1`: the top level); `None` keeps the group.
    pub repo_group: Option<String>,
}

/// Saves the settings, renaming on disk too when the name changed: all of it or nothing.
/// A landing revision `branch:<name>` also makes that branch the repository's default
/// (Git's HEAD), so clones check it out. Returns the (possibly new) name.
pub async fn update(
    svc: &Services,
    perms: &Permissions,
    access: &RepoAccess,
    form: &SettingsForm,
) -> Result<RepoName> {
    access.require(PermLevel::Admin)?;
    let landing_rev = validate_landing_rev(&form.repo_landing_rev)?;
    let description = validate_description(&form.repo_description)?;
    let repo = access.repo();
    let old = access.name()?;
    // Moving to another group needs what creating there needs.
    let (group_id, group_path) = match form.repo_group.as_deref() {
        Some(g) => {
            let target = crate::group::resolve(svc, g).await?;
            if target.as_ref().map(|t| t.id) != repo.group_id {
                match &target {
                    None if !perms.can_create_repo() => {
                        return Err(Error::forbidden(
                            "You do not have permission to put repositories at the top level.",
                        ));
                    }
                    Some(t) if !perms.group(t).can_write() => {
                        return Err(Error::forbidden(format!(
                            "You do not have permission to put repositories in the group \"{}\".",
                            t.name
                        )));
                    }
                    _ => {}
                }
            }
            let path = target
                .as_ref()
                .map(|t| RepoName::parse(&t.name))
                .transpose()?;
            (target.map(|t| t.id), path)
        }
        None => (repo.group_id, old.parent()),
    };
    // The name typed is the last path part; the group decides the rest.
    let base = match form
        .repo_name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        Some(raw) => raw.rsplit('/').next().unwrap_or(raw).to_owned(),
        None => old.base_name().to_owned(),
    };
    let new = if base == old.base_name() && group_path == old.parent() {
        old.clone()
    } else {
        RepoName::from_user_input(group_path.as_ref(), &base)?
    };
    let head_branch = landing_rev.strip_prefix("branch:").map(str::to_owned);
    if let Some(b) = &head_branch {
        let path = svc.store.path(&old);
        let branch = b.clone();
        let exists = tokio::task::spawn_blocking(move || {
            kallithea_vcs::git::branch_refs(&path)
                .map(|refs| refs.contains(&format!("refs/heads/{branch}")))
        })
        .await
        .map_err(|e| Error::internal("reading branches", e))??;
        if !exists {
            return Err(Error::invalid(format!(
                "There is no branch \"{b}\" to use as the landing revision."
            )));
        }
    }
    let mut tx = svc.db.write().await?;
    if new != old {
        if let Some(other) = kallithea_db::repo::find_by_name(&mut tx, new.as_str()).await?
            && other.id != repo.id
        {
            return Err(taken_sentence(&new));
        }
        if kallithea_db::repo_group::find_by_name(&mut tx, new.as_str())
            .await?
            .is_some()
        {
            return Err(taken_sentence(&new));
        }
        if svc.store.exists(&new) && new.folded() != old.folded() {
            return Err(Error::new(
                ErrorKind::NameTaken,
                format!("A folder named {new} already exists in the repository store."),
            ));
        }
        kallithea_db::repo::rename(&mut tx, repo.id, new.as_str(), now()).await?;
    }
    if group_id != repo.group_id {
        kallithea_db::repo_group::set_repo_group(&mut tx, repo.id, group_id).await?;
    }
    kallithea_db::repo::update(
        &mut tx,
        repo.id,
        &RepoUpdate {
            description,
            private: form.repo_private,
            landing_rev: &landing_rev,
            enable_downloads: form.repo_enable_downloads,
            now: now(),
        },
    )
    .await?;
    if form.repo_private != repo.private {
        let default = crate::user::default_user(&mut tx).await?;
        let level = if form.repo_private {
            PermLevel::None
        } else {
            default_repo_perm(&mut tx, &default).await?
        };
        kallithea_db::repo::set_grant(&mut tx, repo.id, default.id, level).await?;
    }
    let action = if access.actor().is_admin() {
        "admin_updated_repo"
    } else {
        "user_updated_repo"
    };
    journal(
        &mut tx,
        access.actor(),
        Some(repo.id),
        new.as_str(),
        action,
        "",
    )
    .await?;
    if new != old {
        svc.store.rename(&old, &new)?;
    }
    if let Err(e) = tx.commit().await {
        if new != old {
            let _ = svc.store.rename(&new, &old);
        }
        return Err(e.into());
    }
    if let Some(b) = head_branch {
        let path = svc.store.path(&new);
        tokio::task::spawn_blocking(move || kallithea_vcs::git::set_head_branch(&path, &b))
            .await
            .map_err(|e| Error::internal("setting the default branch", e))??;
    }
    Ok(new)
}

/// Deletes a repository: the row goes, the folder is moved aside (`rm__...`), never erased.
pub async fn delete(svc: &Services, access: &RepoAccess) -> Result<()> {
    access.require(PermLevel::Admin)?;
    let name = access.name()?;
    let repo = access.repo();
    let mut tx = svc.db.write().await?;
    kallithea_db::repo::delete(&mut tx, repo.id).await?;
    journal(
        &mut tx,
        access.actor(),
        None,
        &repo.name,
        if access.actor().is_admin() {
            "admin_deleted_repo"
        } else {
            "user_deleted_repo"
        },
        "",
    )
    .await?;
    let moved = if svc.store.exists(&name) {
        Some(svc.store.move_aside(&name)?)
    } else {
        None
    };
    if let Err(e) = tx.commit().await {
        if let Some(m) = moved {
            let _ = std::fs::rename(m, svc.store.path(&name));
        }
        return Err(e.into());
    }
    crate::browse::forget_archives(svc, repo.id.0);
    Ok(())
}

/// Every explicit grant on the repository.
pub async fn grants(svc: &Services, access: &RepoAccess) -> Result<Vec<Grant>> {
    access.require(PermLevel::Admin)?;
    let mut tx = svc.db.read().await?;
    let g = kallithea_db::repo::grants_for_repo(&mut tx, access.repo().id).await?;
    tx.commit().await?;
    Ok(g)
}

/// Grants `level` to a user (by name); `default` sets the anonymous/everyone grant.
pub async fn set_grant(
    svc: &Services,
    access: &RepoAccess,
    username: &str,
    level: &str,
) -> Result<()> {
    access.require(PermLevel::Admin)?;
    let level = PermLevel::from_repo_perm_name(level.trim()).ok_or_else(|| {
        Error::invalid(format!(
            "\"{level}\" is not a permission level: use none, read, write or admin."
        ))
    })?;
    let mut tx = svc.db.write().await?;
    let user = kallithea_db::user::find_by_name(&mut tx, username.trim())
        .await?
        .ok_or_else(|| {
            Error::invalid(format!("There is no user named \"{}\".", username.trim()))
        })?;
    kallithea_db::repo::set_grant(&mut tx, access.repo().id, user.id, level).await?;
    tx.commit().await?;
    Ok(())
}

/// The newest journal entries of a repository.
pub async fn journal_entries(
    svc: &Services,
    access: &RepoAccess,
    limit: i64,
) -> Result<Vec<Entry>> {
    let mut tx = svc.db.read().await?;
    let e = kallithea_db::journal::list_for_repo(&mut tx, access.repo().id, limit).await?;
    tx.commit().await?;
    Ok(e)
}

/// What a scan of the repository folder did.
#[derive(Debug, Default)]
pub struct ScanReport {
    pub added: Vec<RepoName>,
    /// Folders that look like repositories but cannot be registered, with the reason.
    pub skipped: Vec<(String, String)>,
    /// Added repositories without a commit-graph file (pushes write one; until then
    /// history pages read every commit they walk): see [`write_commit_graphs`].
    pub without_graph: Vec<std::path::PathBuf>,
}

/// Writes the commit-graph of each repository, one after the other (each can take a while
/// on a big history), and returns how many were written; a failure is logged and skipped.
pub fn write_commit_graphs(repos: &[std::path::PathBuf]) -> usize {
    repos
        .iter()
        .filter(|p| match kallithea_vcs::git::write_commit_graph(p) {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(repo = %p.display(), error = %e, "could not write the commit-graph");
                false
            }
        })
        .count()
}

/// Registers repositories found on disk that the database does not know, owned by `owner`.
pub async fn scan(svc: &Services, owner: &Actor) -> Result<ScanReport> {
    let Some(owner_id) = owner.user_id() else {
        return Err(denied(owner));
    };
    let (found, skipped) = svc.store.scan_with_skipped()?;
    let mut added = Vec::new();
    let mut skipped: Vec<(String, String)> = skipped
        .into_iter()
        .map(|(p, why)| (p.display().to_string(), why))
        .collect();
    let mut tx = svc.db.write().await?;
    let default = crate::user::default_user(&mut tx).await?;
    let default_level = default_repo_perm(&mut tx, &default).await?;
    let group_level = crate::group::default_group_level(&mut tx, &default).await?;
    for r in found {
        if r.kind != RepoKind::Git {
            skipped.push((
                r.name.to_string(),
                "a Mercurial repository: not supported yet".to_owned(),
            ));
            continue;
        }
        if kallithea_db::repo::find_by_name(&mut tx, r.name.as_str())
            .await?
            .is_some()
        {
            // Known: refresh our hook (the binary or my.ini may have moved), never a foreign one.
            svc.store
                .refresh_git_hooks(&svc.store.path(&r.name), &svc.hooks)?;
            continue;
        }
        let t = now();
        // Folders above a repository become repository groups, as in Kallithea.
        let group_id = match r.name.parent() {
            Some(p) => {
                Some(crate::group::ensure_path(&mut tx, &p, owner, group_level, default.id).await?)
            }
            None => None,
        };
        let id = kallithea_db::repo::insert(
            &mut tx,
            &NewRepo {
                name: r.name.as_str(),
                repo_type: "git",
                owner_id,
                description: "",
                private: false,
                landing_rev: "rev:tip",
                enable_downloads: false,
                clone_uri: None,
                group_id,
                now: t,
            },
        )
        .await?;
        kallithea_db::repo::set_grant(&mut tx, id, default.id, default_level).await?;
        svc.store
            .refresh_git_hooks(&svc.store.path(&r.name), &svc.hooks)?;
        added.push(r.name);
    }
    tx.commit().await?;
    let without_graph = added
        .iter()
        .map(|n| svc.store.path(n))
        .filter(|p| !kallithea_vcs::git::has_commit_graph(p))
        .filter(|p| {
            use kallithea_vcs::VcsRead;
            kallithea_vcs::Repo::open_git(p).is_ok_and(|r| r.is_empty().is_ok_and(|e| !e))
        })
        .collect();
    Ok(ScanReport {
        added,
        skipped,
        without_graph,
    })
}

/// The user groups' grants on the repository.
pub async fn user_group_grants(
    svc: &Services,
    access: &RepoAccess,
) -> Result<Vec<kallithea_db::user_group::RepoGrant>> {
    access.require(PermLevel::Admin)?;
    let mut tx = svc.db.read().await?;
    let g = kallithea_db::user_group::repo_grants_for_repo(&mut tx, access.repo().id).await?;
    tx.commit().await?;
    Ok(g)
}

/// Grants `level` on the repository to a user group (by name); `None` revokes its grant.
pub async fn set_user_group_grant(
    svc: &Services,
    perms: &Permissions,
    access: &RepoAccess,
    group: &str,
    level: Option<&str>,
) -> Result<()> {
    access.require(PermLevel::Admin)?;
    let level = match level {
        Some(l) => Some(PermLevel::from_repo_perm_name(l.trim()).ok_or_else(|| {
            Error::invalid(format!(
                "\"{l}\" is not a permission level: use none, read, write or admin."
            ))
        })?),
        None => None,
    };
    // Read on the user group is needed to hand it access (Kallithea's rule).
    let ug = crate::user_group::usable(svc, perms, group).await?;
    let mut tx = svc.db.write().await?;
    match level {
        Some(l) => {
            kallithea_db::user_group::set_repo_grant(&mut tx, access.repo().id, ug.id, l).await?
        }
        None => {
            kallithea_db::user_group::remove_repo_grant(&mut tx, access.repo().id, ug.id).await?
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Whether the actor watches the repository (`false` for anonymous visitors).
pub async fn is_watching(svc: &Services, access: &RepoAccess) -> Result<bool> {
    let Some(me) = access.actor().user_id() else {
        return Ok(false);
    };
    let mut tx = svc.db.read().await?;
    let w = kallithea_db::following::is_following(&mut tx, me, access.repo().id).await?;
    tx.commit().await?;
    Ok(w)
}

/// Starts or stops watching a repository the actor may read; returns whether they watch it now.
pub async fn toggle_watch(svc: &Services, access: &RepoAccess) -> Result<bool> {
    access.require(PermLevel::Read)?;
    let Some(me) = access.actor().user_id() else {
        return Err(denied(access.actor()));
    };
    let mut tx = svc.db.write().await?;
    let id = access.repo().id;
    let now_watching = if kallithea_db::following::is_following(&mut tx, me, id).await? {
        kallithea_db::following::unfollow(&mut tx, me, id).await?;
        false
    } else {
        kallithea_db::following::follow(&mut tx, me, id, now()).await?;
        true
    };
    tx.commit().await?;
    Ok(now_watching)
}

/// The repositories the actor watches and may still read.
pub async fn watched(svc: &Services, perms: &Permissions) -> Result<Vec<Repo>> {
    let Some(me) = perms.actor().user_id() else {
        return Err(denied(perms.actor()));
    };
    let mut tx = svc.db.read().await?;
    let ids = kallithea_db::following::followed_repos(&mut tx, me).await?;
    let all = kallithea_db::repo::list(&mut tx).await?;
    tx.commit().await?;
    Ok(all
        .into_iter()
        .filter(|r| ids.contains(&r.id) && perms.repo(r).can_read())
        .collect())
}

/// Removes a user's explicit grant on the repository (the `default` user's cannot go: set it
/// to none instead).
pub async fn revoke_grant(svc: &Services, access: &RepoAccess, username: &str) -> Result<()> {
    access.require(PermLevel::Admin)?;
    let mut tx = svc.db.write().await?;
    let user = kallithea_db::user::find_by_name(&mut tx, username.trim())
        .await?
        .ok_or_else(|| {
            Error::invalid(format!("There is no user named \"{}\".", username.trim()))
        })?;
    if user.username == crate::user::DEFAULT_USER {
        return Err(Error::invalid(
            "The default user's permission cannot be revoked; set it to none instead.",
        ));
    }
    kallithea_db::repo::remove_grant(&mut tx, access.repo().id, user.id).await?;
    tx.commit().await?;
    Ok(())
}

/// Removes the database entries of repositories whose folder is gone (`rescan_repos` with
/// `remove_obsolete`); returns their names.
pub async fn remove_missing(svc: &Services, actor: &Actor) -> Result<Vec<String>> {
    if !actor.is_admin() {
        return Err(denied(actor));
    }
    let mut tx = svc.db.write().await?;
    let mut removed = Vec::new();
    for r in kallithea_db::repo::list(&mut tx).await? {
        let gone = RepoName::parse(&r.name).map_or(true, |n| !svc.store.exists(&n));
        if gone {
            kallithea_db::repo::delete(&mut tx, r.id).await?;
            removed.push(r.name);
        }
    }
    tx.commit().await?;
    Ok(removed)
}

/// The users who watch a repository.
pub async fn followers(
    svc: &Services,
    access: &RepoAccess,
) -> Result<Vec<kallithea_db::user::User>> {
    access.require(PermLevel::Read)?;
    let mut tx = svc.db.read().await?;
    let mut out = Vec::new();
    for id in kallithea_db::following::followers(&mut tx, access.repo().id).await? {
        if let Some(u) = kallithea_db::user::get(&mut tx, id).await? {
            out.push(u);
        }
    }
    tx.commit().await?;
    Ok(out)
}

/// A site admin sets or clears the address a repository is cloned from (an `http(s)` URL).
pub async fn set_clone_uri(svc: &Services, access: &RepoAccess, uri: &str) -> Result<()> {
    access.require(PermLevel::Admin)?;
    if !access.actor().is_admin() {
        return Err(Error::forbidden(
            "Only site administrators can set the address a repository is cloned from.",
        ));
    }
    let uri = uri.trim();
    if !uri.is_empty() && !kallithea_vcs::git::valid_remote_url(uri) {
        return Err(Error::invalid(
            "The clone URL must start with http:// or https://.",
        ));
    }
    let mut tx = svc.db.write().await?;
    kallithea_db::repo::set_clone_uri(&mut tx, access.repo().id, (!uri.is_empty()).then_some(uri))
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Fetches every branch and tag from the repository's remote (or `uri`) into it, as
/// Kallithea's `pull` does; site admins only. Branches move to where the remote has them.
pub async fn pull(svc: &Services, access: &RepoAccess, uri: Option<&str>) -> Result<String> {
    access.require(PermLevel::Admin)?;
    if !access.actor().is_admin() {
        return Err(Error::forbidden(
            "Only site administrators can pull into a repository from a remote.",
        ));
    }
    let url = match uri.map(str::trim).filter(|u| !u.is_empty()) {
        Some(u) => u.to_owned(),
        None => access.repo().clone_uri.clone().ok_or_else(|| {
            Error::invalid(format!(
                "Repository {} has no remote to pull from: give clone_uri.",
                access.repo().name
            ))
        })?,
    };
    if !kallithea_vcs::git::valid_remote_url(&url) {
        return Err(Error::invalid(
            "The clone URL must start with http:// or https://.",
        ));
    }
    let path = svc.store.path(&access.name()?);
    let (u, span) = (url.clone(), tracing::Span::current());
    tokio::task::spawn_blocking(move || {
        let _in_request = span.enter();
        kallithea_vcs::git::fetch_from_remote(&path, &u)
    })
    .await
    .map_err(|e| Error::internal("pulling", e))?
    .map_err(|e| clone_failed(&url, e))?;
    let mut tx = svc.db.write().await?;
    kallithea_db::repo::set_last_change(&mut tx, access.repo().id, now()).await?;
    journal(
        &mut tx,
        access.actor(),
        Some(access.repo().id),
        &access.repo().name,
        "pull",
        "",
    )
    .await?;
    tx.commit().await?;
    Ok(redact_url(&url))
}
