//! The shared vocabulary of Kallithea: typed ids, validated names and permission levels.
//!
//! Nothing here does I/O. Every other crate speaks these types, so a change here rebuilds
//! everything: keep it small and reviewed.

pub mod id;
pub mod name;
pub mod perm;

pub use id::{GroupId, RepoId, UserGroupId, UserId};
pub use name::{NameError, RepoName, UserName};
pub use perm::{GlobalPerms, PermLevel, RepoKind};
