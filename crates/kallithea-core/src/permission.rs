//! The one place permissions are computed (Kallithea 0.7's model).
//!
//! [`repo_level`] is a pure function of the facts; [`Permissions`] loads those facts for one
//! actor once and answers for any repository. Every surface (pages, Git over HTTP, later the
//! API and SSH) asks here and never re-derives a rule.

use std::collections::HashMap;

use kallithea_db::repo::Repo;
use kallithea_db::repo_group::RepoGroup;
use kallithea_model::{GroupId, PermLevel, RepoId, UserGroupId, UserId};

use crate::{Result, Services};

/// Who is acting: an anonymous visitor (served as Kallithea's `default` user) or a signed-in
/// user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    Anonymous,
    User {
        id: UserId,
        username: String,
        admin: bool,
    },
}

impl Actor {
    pub fn user_id(&self) -> Option<UserId> {
        match self {
            Self::User { id, .. } => Some(*id),
            Self::Anonymous => None,
        }
    }
    pub fn is_admin(&self) -> bool {
        matches!(self, Self::User { admin: true, .. })
    }
    pub fn username(&self) -> &str {
        match self {
            Self::User { username, .. } => username,
            Self::Anonymous => "default",
        }
    }
}

/// The facts about one repository that decide an actor's level on it.
#[derive(Clone, Copy, Debug, Default)]
pub struct RepoFacts {
    pub owner: Option<UserId>,
    pub private: bool,
    /// The `default` user's grant on this repository.
    pub default_grant: Option<PermLevel>,
    /// The actor's own explicit grant.
    pub user_grant: Option<PermLevel>,
    /// The highest grant among the actor's active user groups (the Permissions issue fills it).
    pub user_group_grant: Option<PermLevel>,
}

/// An actor's level on a repository.
///
/// * anonymous visitors get the `default` user's grant, and nothing when anonymous access is
///   off (the `default` user is inactive);
/// * site admins and owners get admin;
/// * others start from the `default` user's grant (none on a private repository), then user
///   group grants and the user's own grant can only raise it: the highest weight wins.
///
/// The `default` user's grant counts as at most write: anonymous visitors never administer.
pub fn repo_level(actor: &Actor, anonymous_enabled: bool, repo: &RepoFacts) -> PermLevel {
    let default = repo
        .default_grant
        .unwrap_or(PermLevel::None)
        .min(PermLevel::Write);
    match actor {
        Actor::Anonymous => {
            if !anonymous_enabled || repo.private {
                PermLevel::None
            } else {
                default
            }
        }
        Actor::User { id, admin, .. } => {
            if *admin || repo.owner == Some(*id) {
                return PermLevel::Admin;
            }
            let base = if repo.private {
                PermLevel::None
            } else {
                default
            };
            [Some(base), repo.user_group_grant, repo.user_grant]
                .into_iter()
                .flatten()
                .max()
                .unwrap_or(PermLevel::None)
        }
    }
}

/// The facts about one repository group that decide an actor's level on it.
#[derive(Clone, Copy, Debug, Default)]
pub struct GroupFacts {
    pub owner: Option<UserId>,
    /// The `default` user's grant on this group.
    pub default_grant: Option<PermLevel>,
    /// The actor's own explicit grant.
    pub user_grant: Option<PermLevel>,
    /// The highest grant among the actor's active user groups.
    pub user_group_grant: Option<PermLevel>,
}

/// An actor's level on a repository group or a user group (Kallithea: the default user's grant, then user
/// group grants, then the user's own, highest wins; admins and the owner get admin).
/// Anonymous visitors get at most read: nobody administers or fills a group without signing
/// in. Levels on groups do not flow to the repositories inside; "apply to children" copies
/// grants when they are set.
pub fn group_level(actor: &Actor, anonymous_enabled: bool, g: &GroupFacts) -> PermLevel {
    let default = g.default_grant.unwrap_or(PermLevel::None);
    match actor {
        Actor::Anonymous => {
            if anonymous_enabled {
                default.min(PermLevel::Read)
            } else {
                PermLevel::None
            }
        }
        Actor::User { id, admin, .. } => {
            if *admin || g.owner == Some(*id) {
                return PermLevel::Admin;
            }
            [Some(default), g.user_group_grant, g.user_grant]
                .into_iter()
                .flatten()
                .max()
                .unwrap_or(PermLevel::None)
        }
    }
}

/// The facts for one actor, loaded once per request.
#[derive(Debug)]
pub struct Permissions {
    actor: Actor,
    anonymous_enabled: bool,
    default_grants: HashMap<RepoId, PermLevel>,
    user_grants: HashMap<RepoId, PermLevel>,
    /// The highest grant of the actor's active user groups, per repository.
    user_group_grants: HashMap<RepoId, PermLevel>,
    group_default: HashMap<GroupId, PermLevel>,
    group_user: HashMap<GroupId, PermLevel>,
    group_user_group: HashMap<GroupId, PermLevel>,
    /// The actor's active user groups.
    user_groups: Vec<UserGroupId>,
    ug_default: HashMap<UserGroupId, PermLevel>,
    ug_user: HashMap<UserGroupId, PermLevel>,
    ug_user_group: HashMap<UserGroupId, PermLevel>,
    /// Global permission names of the `default` user and of the actor, together.
    global: Vec<String>,
}

fn bump<K: std::hash::Hash + Eq>(m: &mut HashMap<K, PermLevel>, k: K, l: PermLevel) {
    let e = m.entry(k).or_insert(l);
    if l > *e {
        *e = l;
    }
}

impl Permissions {
    /// Loads every grant of the actor and of the `default` user.
    pub async fn load(svc: &Services, actor: &Actor) -> Result<Self> {
        let mut tx = svc.db.read().await?;
        let default = crate::user::default_user(&mut tx).await?;
        let mut ids = vec![default.id];
        if let Some(u) = actor.user_id() {
            ids.push(u);
        }
        let grants = kallithea_db::repo::grants_for_users(&mut tx, &ids).await?;
        let mut global = kallithea_db::user::global_perms(&mut tx, default.id).await?;
        if let Some(u) = actor.user_id() {
            global.extend(kallithea_db::user::global_perms(&mut tx, u).await?);
        }
        let user_groups = match actor.user_id() {
            Some(u) => kallithea_db::user_group::active_groups_of(&mut tx, u).await?,
            None => Vec::new(),
        };
        let ug_repo = kallithea_db::user_group::repo_grants_for(&mut tx, &user_groups).await?;
        let group_grants =
            kallithea_db::repo_group::grants_for(&mut tx, &ids, &user_groups).await?;
        let ug_grants =
            kallithea_db::user_group::grants_on_for(&mut tx, &ids, &user_groups).await?;
        tx.commit().await?;
        let (mut ug_default, mut ug_user, mut ug_user_group) =
            (HashMap::new(), HashMap::new(), HashMap::new());
        for g in ug_grants {
            match g.user_id {
                Some(u) if u == default.id => bump(&mut ug_default, g.target, g.level),
                Some(_) => bump(&mut ug_user, g.target, g.level),
                None => bump(&mut ug_user_group, g.target, g.level),
            }
        }
        let mut user_group_grants = HashMap::new();
        for g in ug_repo {
            bump(&mut user_group_grants, g.repo_id, g.level);
        }
        let (mut group_default, mut group_user, mut group_user_group) =
            (HashMap::new(), HashMap::new(), HashMap::new());
        for g in group_grants {
            match g.user_id {
                Some(u) if u == default.id => bump(&mut group_default, g.group_id, g.level),
                Some(_) => bump(&mut group_user, g.group_id, g.level),
                None => bump(&mut group_user_group, g.group_id, g.level),
            }
        }
        let mut default_grants = HashMap::new();
        let mut user_grants = HashMap::new();
        for (repo, g) in grants {
            if g.user_id == default.id {
                default_grants.insert(repo, g.level);
            } else {
                user_grants.insert(repo, g.level);
            }
        }
        Ok(Self {
            actor: actor.clone(),
            anonymous_enabled: default.active,
            default_grants,
            user_grants,
            user_group_grants,
            group_default,
            group_user,
            group_user_group,
            user_groups,
            ug_default,
            ug_user,
            ug_user_group,
            global,
        })
    }

    /// The actor's level on a user group (the same rule as for repository groups).
    pub fn user_group(&self, g: &kallithea_db::user_group::UserGroup) -> PermLevel {
        let facts = GroupFacts {
            owner: Some(g.owner_id),
            default_grant: self.ug_default.get(&g.id).copied(),
            user_grant: self.ug_user.get(&g.id).copied(),
            user_group_grant: self.ug_user_group.get(&g.id).copied(),
        };
        group_level(&self.actor, self.anonymous_enabled, &facts)
    }

    /// The actor's level on a repository group.
    pub fn group(&self, g: &RepoGroup) -> PermLevel {
        let facts = GroupFacts {
            owner: Some(g.owner_id),
            default_grant: self.group_default.get(&g.id).copied(),
            user_grant: self.group_user.get(&g.id).copied(),
            user_group_grant: self.group_user_group.get(&g.id).copied(),
        };
        group_level(&self.actor, self.anonymous_enabled, &facts)
    }

    /// The actor's active user groups.
    pub fn user_groups(&self) -> &[UserGroupId] {
        &self.user_groups
    }

    /// Whether the actor may create user groups: site admins, and signed-in users holding
    /// `hg.usergroup.create.true` (themselves or through the `default` user).
    pub fn can_create_user_group(&self) -> bool {
        match &self.actor {
            Actor::Anonymous => false,
            Actor::User { admin: true, .. } => true,
            Actor::User { .. } => self.global.iter().any(|p| p == "hg.usergroup.create.true"),
        }
    }

    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    pub fn anonymous_enabled(&self) -> bool {
        self.anonymous_enabled
    }

    /// The actor's level on a repository.
    pub fn repo(&self, repo: &Repo) -> PermLevel {
        let facts = RepoFacts {
            owner: Some(repo.owner_id),
            private: repo.private,
            default_grant: self.default_grants.get(&repo.id).copied(),
            user_grant: self.user_grants.get(&repo.id).copied(),
            user_group_grant: self.user_group_grants.get(&repo.id).copied(),
        };
        repo_level(&self.actor, self.anonymous_enabled, &facts)
    }

    /// Whether the actor may create top-level repositories: site admins, and signed-in users
    /// when they or the `default` user hold `hg.create.repository` (Kallithea's default).
    pub fn can_create_repo(&self) -> bool {
        can_create_repo(&self.actor, &self.global)
    }
}

/// `hg.create.repository` for a signed-in actor, from the union of global permission names.
pub fn can_create_repo(actor: &Actor, global: &[String]) -> bool {
    match actor {
        Actor::Anonymous => false,
        Actor::User { admin: true, .. } => true,
        Actor::User { .. } => global.iter().any(|p| p == "hg.create.repository"),
    }
}

#[cfg(test)]
mod tests;
