//! Repositories on disk and the `git`/`hg` processes that serve them.
//!
//! This crate knows nothing of users, permissions, the database or HTTP: it is handed an
//! already-authorised request. It is the only crate that starts `git` or `hg` ([`cmd`]) and
//! the only one that turns a repository name into a filesystem path ([`RepoStore`]).

pub mod cmd;
pub mod error;
pub mod git;
mod git_commit;
mod git_diff;
mod git_objects;
mod git_patch;
pub mod git_read;
pub mod markup;
pub mod read;
pub mod store;
#[cfg(test)]
mod test_git;
pub mod text;

pub use error::{Error, Result};
pub use read::{Repo, VcsRead};
pub use store::{HookInstall, RepoStore, ScannedRepo};
