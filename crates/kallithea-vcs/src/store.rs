//! [`RepoStore`]: the repository root folder and the only mapping from a repository name to
//! its path. Creating, renaming, moving aside and scanning repositories happen here.

use std::fs;
use std::path::{Path, PathBuf};

use kallithea_model::{RepoKind, RepoName};

use crate::cmd::GitCommand;
use crate::{Error, Result};

/// The words that mark a hook as ours.
const HOOK_MARKER: &str = "Installed by Kallithea";

/// What the hooks installed into each Git repository run.
#[derive(Clone, Debug)]
pub struct HookInstall {
    /// Absolute path of the `kallithea` executable.
    pub executable: PathBuf,
    /// Absolute path of `my.ini`.
    pub config: PathBuf,
}

impl HookInstall {
    fn post_receive_script(&self) -> String {
        format!(
            "#!/bin/sh\n# {HOOK_MARKER}: reports pushes to it (journal, last change, HEAD of a new repository).\nexec {} hook post-receive --config {}\n",
            shell_quote(&self.executable.to_string_lossy()),
            shell_quote(&self.config.to_string_lossy()),
        )
    }
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// Folders that look like repositories but were not taken, with the reason.
pub type Skipped = Vec<(PathBuf, String)>;

/// A repository found on disk by [`RepoStore::scan`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScannedRepo {
    pub name: RepoName,
    pub kind: RepoKind,
}

/// The folder holding every repository, named by its full name.
#[derive(Clone, Debug)]
pub struct RepoStore {
    root: PathBuf,
}

impl RepoStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The folder of a repository. `RepoName` cannot contain `..` or empty parts, so the path
    /// stays under the root.
    pub fn path(&self, name: &RepoName) -> PathBuf {
        self.root.join(name.as_str())
    }

    /// The repository name of a folder under the root (used by hooks, which only know their
    /// working directory).
    pub fn name_of(&self, path: &Path) -> Option<RepoName> {
        let root = fs::canonicalize(&self.root).ok()?;
        let path = fs::canonicalize(path).ok()?;
        let rel = path.strip_prefix(&root).ok()?;
        RepoName::parse(&rel.to_string_lossy()).ok()
    }

    pub fn exists(&self, name: &RepoName) -> bool {
        self.path(name).exists()
    }

    /// Creates an empty bare Git repository with our hooks.
    pub fn create_git(&self, name: &RepoName, hooks: &HookInstall) -> Result<PathBuf> {
        let path = self.path(name);
        if path.exists() {
            return Err(Error::AlreadyExists(path));
        }
        let parent = path.parent().unwrap_or(&self.root);
        fs::create_dir_all(parent)
            .map_err(|e| Error::io(format!("creating {}", parent.display()), e))?;
        let result = GitCommand::new("init")
            .arg("--bare")
            .arg("--quiet")
            .path(&path)
            .run(parent)
            .and_then(|_| self.install_git_hooks(&path, hooks));
        if let Err(e) = result {
            // Leave nothing half-made behind.
            let _ = fs::remove_dir_all(&path);
            return Err(e);
        }
        Ok(path)
    }

    /// Erases a repository this request has just created and could not finish (never use it
    /// for a repository people have pushed to: those are moved aside).
    pub fn discard_new(&self, name: &RepoName) -> Result<()> {
        let path = self.path(name);
        crate::git_objects::forget_under(&path);
        fs::remove_dir_all(&path).map_err(|e| Error::io(format!("removing {}", path.display()), e))
    }

    /// Writes (or rewrites) the hooks of a Git repository.
    pub fn install_git_hooks(&self, repo: &Path, hooks: &HookInstall) -> Result<()> {
        let dir = repo.join("hooks");
        fs::create_dir_all(&dir).map_err(|e| Error::io("creating hooks folder", e))?;
        let file = dir.join("post-receive");
        let tmp = dir.join(".post-receive.tmp");
        fs::write(&tmp, hooks.post_receive_script())
            .map_err(|e| Error::io(format!("writing {}", tmp.display()), e))?;
        set_executable(&tmp)?;
        fs::rename(&tmp, &file).map_err(|e| Error::io(format!("installing {}", file.display()), e))
    }

    /// Rewrites the post-receive hook when it is missing or one of ours; a hook someone else
    /// wrote is left alone.
    pub fn refresh_git_hooks(&self, repo: &Path, hooks: &HookInstall) -> Result<()> {
        match fs::read_to_string(repo.join("hooks").join("post-receive")) {
            Ok(text) if !text.contains(HOOK_MARKER) => {
                tracing::warn!(repo = %repo.display(), "leaving a post-receive hook that Kallithea did not write");
                Ok(())
            }
            _ => self.install_git_hooks(repo, hooks),
        }
    }

    /// Renames a repository folder, creating missing parent folders.
    pub fn rename(&self, from: &RepoName, to: &RepoName) -> Result<()> {
        let src = self.path(from);
        let dst = self.path(to);
        if !src.exists() {
            return Err(Error::NotFound(src));
        }
        if dst.exists() && !same_file_ignoring_case(&src, &dst) {
            return Err(Error::AlreadyExists(dst));
        }
        if let Some(parent) = dst.parent() {
            fs::create_dir_all(parent).map_err(|e| Error::io("creating parent folder", e))?;
        }
        crate::git_objects::forget_under(&src);
        fs::rename(&src, &dst).map_err(|e| Error::io(format!("renaming {}", src.display()), e))
    }

    /// Makes the folder of a repository group (and its parents).
    pub fn create_group_dir(&self, name: &RepoName) -> Result<()> {
        let path = self.path(name);
        fs::create_dir_all(&path).map_err(|e| Error::io(format!("creating {}", path.display()), e))
    }

    /// Removes the folder of a deleted group when it is empty; anything left in it (such as
    /// moved-aside repositories) is kept by moving the folder aside instead.
    pub fn remove_group_dir(&self, name: &RepoName) -> Result<()> {
        let path = self.path(name);
        if !path.exists() {
            return Ok(());
        }
        match fs::remove_dir(&path) {
            Ok(()) => Ok(()),
            Err(_) => self.move_aside(name).map(|_| ()),
        }
    }

    /// Moves a deleted repository aside, as Kallithea does: the folder becomes
    /// `rm__<YYYYmmdd_HHMMSS_micro>__<name>` beside where it was. Returns the new path.
    pub fn move_aside(&self, name: &RepoName) -> Result<PathBuf> {
        let src = self.path(name);
        if !src.exists() {
            return Err(Error::NotFound(src));
        }
        let stamp = chrono::Utc::now().format("%Y%m%d_%H%M%S_%6f");
        let dst = src.with_file_name(format!("rm__{stamp}__{}", name.base_name()));
        crate::git_objects::forget_under(&src);
        fs::rename(&src, &dst)
            .map_err(|e| Error::io(format!("moving {} aside", src.display()), e))?;
        Ok(dst)
    }

    /// Finds repositories under the root (skipping moved-aside ones); repositories whose
    /// folder name cannot be a repository name are listed in `skipped` with the reason.
    pub fn scan(&self) -> Result<Vec<ScannedRepo>> {
        Ok(self.scan_with_skipped()?.0)
    }

    pub fn scan_with_skipped(&self) -> Result<(Vec<ScannedRepo>, Skipped)> {
        let mut found = Vec::new();
        let mut skipped = Vec::new();
        self.scan_dir(&self.root, &mut found, &mut skipped)?;
        found.sort_by(|a, b| a.name.cmp(&b.name));
        Ok((found, skipped))
    }

    fn scan_dir(
        &self,
        dir: &Path,
        found: &mut Vec<ScannedRepo>,
        skipped: &mut Vec<(PathBuf, String)>,
    ) -> Result<()> {
        let entries =
            fs::read_dir(dir).map_err(|e| Error::io(format!("reading {}", dir.display()), e))?;
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(ft) = entry.file_type() else { continue };
            if !ft.is_dir() || entry.file_name().to_string_lossy().starts_with("rm__") {
                continue;
            }
            if path.join(".git").exists() {
                skipped.push((
                    path.clone(),
                    "a working copy, not a bare repository: clone it with --bare".to_owned(),
                ));
                continue;
            }
            let kind = if path.join(".hg").is_dir() {
                Some(RepoKind::Hg)
            } else if path.join("HEAD").is_file()
                && path.join("objects").is_dir()
                && path.join("refs").is_dir()
            {
                Some(RepoKind::Git)
            } else {
                None
            };
            match kind {
                Some(kind) => {
                    let rel = path.strip_prefix(&self.root).unwrap_or(&path);
                    match RepoName::parse(&rel.to_string_lossy()) {
                        Ok(name) => found.push(ScannedRepo { name, kind }),
                        Err(e) => skipped.push((path.clone(), e.to_string())),
                    }
                }
                None => self.scan_dir(&path, found, skipped)?,
            }
        }
        Ok(())
    }
}

fn same_file_ignoring_case(a: &Path, b: &Path) -> bool {
    a.to_string_lossy().to_lowercase() == b.to_string_lossy().to_lowercase()
}

#[cfg(unix)]
fn set_executable(p: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(p, fs::Permissions::from_mode(0o755))
        .map_err(|e| Error::io("chmod hook", e))
}

#[cfg(not(unix))]
fn set_executable(_: &Path) -> Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hooks() -> HookInstall {
        HookInstall {
            executable: "/usr/bin/kallithea".into(),
            config: "/srv/it's/my.ini".into(),
        }
    }

    #[test]
    fn create_scan_rename_and_move_aside() {
        let tmp = tempfile::tempdir().unwrap();
        let store = RepoStore::new(tmp.path());
        let name = RepoName::parse("team/app").unwrap();
        let path = store.create_git(&name, &hooks()).unwrap();
        assert!(path.join("HEAD").is_file());
        let hook = fs::read_to_string(path.join("hooks/post-receive")).unwrap();
        assert!(hook.contains("'/srv/it'\\''s/my.ini'"), "{hook}");
        assert!(matches!(
            store.create_git(&name, &hooks()),
            Err(Error::AlreadyExists(_))
        ));
        assert_eq!(
            store.scan().unwrap(),
            vec![ScannedRepo {
                name: name.clone(),
                kind: RepoKind::Git
            }]
        );
        assert_eq!(store.name_of(&path), Some(name.clone()));

        let renamed = RepoName::parse("other").unwrap();
        store.rename(&name, &renamed).unwrap();
        assert!(!store.exists(&name) && store.exists(&renamed));
        let aside = store.move_aside(&renamed).unwrap();
        assert!(
            aside
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("rm__")
        );
        assert!(store.scan().unwrap().is_empty());
    }
}
