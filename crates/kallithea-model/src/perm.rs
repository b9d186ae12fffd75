//! Permission levels and Kallithea's permission names (`repository.read`, `hg.admin`, ...).
//!
//! The strings are what Kallithea stores and what its API returns; this is the one place
//! that converts between them and Rust values.

use std::fmt;

/// The access level on a repository (and later on groups and user groups).
/// Ordered by Kallithea's weights: the highest grant wins.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PermLevel {
    None,
    Read,
    Write,
    Admin,
}

impl PermLevel {
    pub const ALL: [PermLevel; 4] = [Self::None, Self::Read, Self::Write, Self::Admin];

    /// Kallithea's weight (`PERM_WEIGHTS` in its `model/db.py`).
    pub fn weight(self) -> u8 {
        match self {
            Self::None => 0,
            Self::Read => 1,
            Self::Write => 3,
            Self::Admin => 4,
        }
    }

    /// The short name used in forms: `none`, `read`, `write`, `admin`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Read => "read",
            Self::Write => "write",
            Self::Admin => "admin",
        }
    }

    /// The repository permission name, e.g. `repository.write`.
    pub fn repo_perm_name(self) -> &'static str {
        match self {
            Self::None => "repository.none",
            Self::Read => "repository.read",
            Self::Write => "repository.write",
            Self::Admin => "repository.admin",
        }
    }

    /// Parses `repository.read` (and the bare `read`).
    pub fn from_repo_perm_name(s: &str) -> Option<Self> {
        let short = s.strip_prefix("repository.").unwrap_or(s);
        Self::ALL.into_iter().find(|l| l.as_str() == short)
    }

    /// The repository-group permission name, e.g. `group.write`.
    pub fn group_perm_name(self) -> &'static str {
        match self {
            Self::None => "group.none",
            Self::Read => "group.read",
            Self::Write => "group.write",
            Self::Admin => "group.admin",
        }
    }

    /// Parses `group.read` (and the bare `read`).
    pub fn from_group_perm_name(s: &str) -> Option<Self> {
        let short = s.strip_prefix("group.").unwrap_or(s);
        Self::ALL.into_iter().find(|l| l.as_str() == short)
    }

    /// The user-group permission name, e.g. `usergroup.admin`.
    pub fn user_group_perm_name(self) -> &'static str {
        match self {
            Self::None => "usergroup.none",
            Self::Read => "usergroup.read",
            Self::Write => "usergroup.write",
            Self::Admin => "usergroup.admin",
        }
    }

    /// Parses `usergroup.read` (and the bare `read`).
    pub fn from_user_group_perm_name(s: &str) -> Option<Self> {
        let short = s.strip_prefix("usergroup.").unwrap_or(s);
        Self::ALL.into_iter().find(|l| l.as_str() == short)
    }

    pub fn can_read(self) -> bool {
        self >= Self::Read
    }
    pub fn can_write(self) -> bool {
        self >= Self::Write
    }
    pub fn is_admin(self) -> bool {
        self == Self::Admin
    }
}

impl fmt::Display for PermLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Global permissions as Kallithea names them; for now only what this release acts on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GlobalPerms {
    /// `hg.admin`
    pub admin: bool,
    /// The default repository permission given to the `default` user on new repositories.
    pub default_repo_perm: PermLevel,
    /// `hg.create.repository`
    pub create_repository: bool,
}

/// The kind of a repository.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RepoKind {
    Git,
    Hg,
}

impl RepoKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Git => "git",
            Self::Hg => "hg",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "git" => Some(Self::Git),
            "hg" => Some(Self::Hg),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_order_by_weight_and_round_trip() {
        for pair in PermLevel::ALL.windows(2) {
            assert!(pair[0] < pair[1]);
            assert!(pair[0].weight() < pair[1].weight());
        }
        for l in PermLevel::ALL {
            assert_eq!(PermLevel::from_repo_perm_name(l.repo_perm_name()), Some(l));
        }
        assert_eq!(PermLevel::from_repo_perm_name("repository.owner"), None);
    }
}
