//! Reading repositories, independent of the backend: the types pages are built from and
//! [`VcsRead`], which each backend implements. [`Repo`] is the closed set of backends.
//!
//! Every revision and path that came from outside is checked here ([`valid_rev`],
//! [`valid_path`]) before a backend sees it.

use std::path::Path;

use crate::{Error, Result};

/// A full changeset id (hex).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChangesetId(pub String);

impl ChangesetId {
    pub fn short(&self) -> &str {
        &self.0[..self.0.len().min(12)]
    }
}

impl std::fmt::Display for ChangesetId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Person {
    pub name: String,
    pub email: String,
}

/// One changeset's metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Changeset {
    pub id: ChangesetId,
    pub parents: Vec<ChangesetId>,
    pub author: Person,
    /// Unix time and the author's own UTC offset as `+HH:MM`.
    pub author_time: i64,
    pub author_offset: String,
    pub committer: Person,
    pub commit_time: i64,
    pub message: String,
}

impl Changeset {
    /// The first line of the message.
    pub fn summary(&self) -> &str {
        self.message.lines().next().unwrap_or("")
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefKind {
    Branch,
    Tag,
}

/// A branch or tag and the changeset it names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefInfo {
    pub name: String,
    pub kind: RefKind,
    pub target: ChangesetId,
}

/// A branch or tag with its changeset's time and first line, for the branch and tag lists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefDetails {
    pub info: RefInfo,
    /// When an annotated tag was made, or else the target changeset's commit time (what the
    /// list is sorted by, newest first).
    pub time: i64,
    /// First line of the annotated tag's message, or else of the target changeset's.
    pub summary: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum EntryKind {
    Dir,
    Submodule,
    File,
    Symlink,
}

/// One entry of a directory listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TreeEntry {
    pub name: String,
    /// The object the entry names (a blob, tree or, for submodules, a commit).
    pub object: String,
    pub kind: EntryKind,
    /// Size in bytes, for files and symlinks.
    pub size: Option<u64>,
    pub executable: bool,
}

/// What a path names at a changeset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    Dir(Vec<TreeEntry>),
    File(FileContent),
    Submodule,
}

/// A file's content, cut at a limit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileContent {
    /// The content's own id in the repository (Git's blob id): equal ids, equal content, at
    /// whatever changeset or path.
    pub content_id: String,
    pub size: u64,
    /// At most the requested number of bytes.
    pub bytes: Vec<u8>,
    pub truncated: bool,
    pub binary: bool,
    pub symlink: bool,
}

impl FileContent {
    /// The bytes as text: UTF-8, else as `default_encoding` says ([`crate::text`]).
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        crate::text::decode(&self.bytes)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    Added,
    Modified,
    Deleted,
    Renamed,
    Copied,
}

/// One file changed by a changeset, with its part of the patch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileChange {
    pub path: String,
    pub old_path: Option<String>,
    pub kind: ChangeKind,
    pub added: u64,
    pub removed: u64,
    pub binary: bool,
    /// The unified diff of this file (hunks only, from the first `@@`); empty for binary files.
    pub patch: String,
    /// The patch is beyond what the server reads for a page (see the raw diff instead).
    pub too_large: bool,
    /// The file's mode before and after (`100644`, `100755`), when it changed.
    pub mode_change: Option<(String, String)>,
    /// Whitespace is ignored and nothing else changed in this file (no patch).
    pub whitespace_only: bool,
}

/// One line of an annotated file, with the changeset that last changed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnnotatedLine {
    pub id: ChangesetId,
    pub author: String,
    pub time: i64,
    pub summary: String,
    pub text: String,
}

/// A folder or file somewhere below a folder, named by its path from the root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathItem {
    pub path: String,
    /// [`EntryKind::Dir`], [`EntryKind::File`] or [`EntryKind::Symlink`] (submodules are
    /// left out).
    pub kind: EntryKind,
}

/// Every folder and file below a folder, a folder before what it holds, as the repository
/// stores them (by name); cut at a limit.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct PathList {
    pub paths: Vec<PathItem>,
    /// True when there were more than the limit.
    pub truncated: bool,
}

/// Archive formats offered for download.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArchiveFormat {
    Zip,
    TarGz,
    /// Made as a tar by git and compressed by the caller (git has no bzip2 of its own).
    TarBz2,
    Tar,
}

impl ArchiveFormat {
    /// From the end of a URL: `.zip`, `.tar.gz` / `.tgz`, `.tar.bz2` / `.tbz2`, `.tar`.
    pub fn from_suffix(name: &str) -> Option<(&str, Self)> {
        for (suffix, f) in [
            (".zip", Self::Zip),
            (".tar.gz", Self::TarGz),
            (".tgz", Self::TarGz),
            (".tar.bz2", Self::TarBz2),
            (".tbz2", Self::TarBz2),
            (".tar", Self::Tar),
        ] {
            if let Some(rev) = name.strip_suffix(suffix) {
                return Some((rev, f));
            }
        }
        None
    }
    pub fn extension(self) -> &'static str {
        match self {
            Self::Zip => ".zip",
            Self::TarGz => ".tar.gz",
            Self::TarBz2 => ".tar.bz2",
            Self::Tar => ".tar",
        }
    }
    pub fn mime(self) -> &'static str {
        match self {
            Self::Zip => "application/zip",
            Self::TarGz => "application/gzip",
            Self::TarBz2 => "application/x-bzip2",
            Self::Tar => "application/x-tar",
        }
    }
}

/// Options for diffs.
#[derive(Clone, Copy, Debug)]
pub struct DiffOptions {
    pub context: u32,
    pub ignore_whitespace: bool,
}

impl Default for DiffOptions {
    fn default() -> Self {
        Self {
            context: 3,
            ignore_whitespace: false,
        }
    }
}

/// Read access every backend gives.
pub trait VcsRead {
    /// A value that changes whenever a branch, tag or the default branch changes (cheap: no
    /// process), to key caches of ref lists.
    fn refs_fingerprint(&self) -> Result<String>;
    /// True when the repository has no changesets.
    fn is_empty(&self) -> Result<bool>;
    /// The changeset a revision (branch, tag, full or short id) names, if any.
    fn resolve(&self, rev: &str) -> Result<Option<ChangesetId>>;
    /// Branches and tags by name, and the default branch: what every page needs, read
    /// without looking at the changesets (cost grows with the number of refs only).
    fn refs_snapshot(&self) -> Result<(Vec<RefInfo>, Vec<RefInfo>, Option<RefInfo>)>;
    /// Branches or tags with their changesets' times and first lines, newest first (by the
    /// tagger's date for annotated tags).
    fn ref_details(&self, kind: RefKind) -> Result<Vec<RefDetails>>;
    fn changeset(&self, id: &ChangesetId) -> Result<Changeset>;
    /// Changesets reachable from `start` (touching `path` when given), newest first.
    fn history(
        &self,
        start: &ChangesetId,
        path: Option<&str>,
        skip: usize,
        limit: usize,
    ) -> Result<Vec<Changeset>>;
    /// Children of a changeset among the branch tips (bounded work).
    fn children(&self, id: &ChangesetId, limit: usize) -> Result<Vec<ChangesetId>>;
    /// A file's content by its object id (from a [`TreeEntry`]); `None` when there is none.
    fn blob(&self, object: &str, max_bytes: usize) -> Result<Option<FileContent>>;
    /// What `path` ("" = root) names at a changeset; `None` when nothing.
    fn node(&self, id: &ChangesetId, path: &str, max_bytes: usize) -> Result<Option<Node>>;
    /// Every folder and file below the folder `dir` ("" = root) at a changeset, at most
    /// `limit`; `None` when `dir` is not a folder there.
    fn paths(&self, id: &ChangesetId, dir: &str, limit: usize) -> Result<Option<PathList>>;
    /// For each of `names` in the folder `dir` at a changeset, the newest changeset that
    /// touched it, looking back through at most `budget` changesets; names not found within
    /// the budget are left out.
    fn last_changes(
        &self,
        _id: &ChangesetId,
        _dir: &str,
        _names: &[String],
        _budget: usize,
    ) -> Result<std::collections::HashMap<String, LastChange>> {
        Ok(std::collections::HashMap::new())
    }
    /// Files changed by a changeset against its first parent.
    fn changes(&self, id: &ChangesetId, opts: DiffOptions) -> Result<Vec<FileChange>>;
    /// The changeset as a patch (`git format-patch` style).
    fn patch(&self, id: &ChangesetId) -> Result<Vec<u8>>;
    /// The changeset's diff against its first parent as plain unified diff text.
    fn raw_diff(&self, id: &ChangesetId) -> Result<Vec<u8>>;
    /// Who last changed each line of a file at a changeset; `None` when there is no such file.
    fn annotate(&self, id: &ChangesetId, path: &str) -> Result<Option<Vec<AnnotatedLine>>>;
    /// Changesets reachable from `head` and from none of `bases` (all of `head`'s history
    /// when there are none), in the order of [`VcsRead::history`], at most `limit`.
    fn between(
        &self,
        bases: &[ChangesetId],
        head: &ChangesetId,
        limit: usize,
    ) -> Result<Vec<Changeset>>;
    /// True when history comes in date order (never a changeset before its children); false
    /// when it comes as plain `git log` gives it. It can change (a commit-graph is written
    /// after a push), so results that depend on the order are kept under this too.
    fn date_ordered(&self) -> bool {
        false
    }
    /// The newest changeset both `a` and `b` descend from, if their histories meet.
    fn common_ancestor(&self, a: &ChangesetId, b: &ChangesetId) -> Result<Option<ChangesetId>>;
    /// The files changed from `from` to `to` (from nothing, every file added, when `from` is
    /// `None`), only `path` and what lies under it when given.
    fn diff(
        &self,
        from: Option<&ChangesetId>,
        to: &ChangesetId,
        path: Option<&str>,
        opts: DiffOptions,
    ) -> Result<Vec<FileChange>>;
    /// The same diff as plain unified diff text.
    fn diff_text(
        &self,
        from: Option<&ChangesetId>,
        to: &ChangesetId,
        path: Option<&str>,
        opts: DiffOptions,
    ) -> Result<Vec<u8>>;
}

/// The newest changeset that touched a path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LastChange {
    pub id: ChangesetId,
    pub author_time: i64,
    pub summary: String,
}

/// A repository of any supported kind.
#[derive(Clone, Debug)]
pub enum Repo {
    Git(crate::git_read::GitRepo),
}

impl Repo {
    pub fn open_git(path: &Path) -> Result<Self> {
        if !path.join("HEAD").is_file() {
            return Err(Error::NotFound(path.to_owned()));
        }
        Ok(Self::Git(crate::git_read::GitRepo::new(path)))
    }

    fn inner(&self) -> &dyn VcsRead {
        match self {
            Self::Git(g) => g,
        }
    }
}

impl VcsRead for Repo {
    fn refs_fingerprint(&self) -> Result<String> {
        self.inner().refs_fingerprint()
    }
    fn is_empty(&self) -> Result<bool> {
        self.inner().is_empty()
    }
    fn resolve(&self, rev: &str) -> Result<Option<ChangesetId>> {
        if !valid_rev(rev) {
            return Ok(None);
        }
        self.inner().resolve(rev)
    }
    fn refs_snapshot(&self) -> Result<(Vec<RefInfo>, Vec<RefInfo>, Option<RefInfo>)> {
        self.inner().refs_snapshot()
    }
    fn ref_details(&self, kind: RefKind) -> Result<Vec<RefDetails>> {
        self.inner().ref_details(kind)
    }
    fn changeset(&self, id: &ChangesetId) -> Result<Changeset> {
        self.inner().changeset(id)
    }
    fn history(
        &self,
        start: &ChangesetId,
        path: Option<&str>,
        skip: usize,
        limit: usize,
    ) -> Result<Vec<Changeset>> {
        if path.is_some_and(|p| !valid_path(p)) {
            return Ok(Vec::new());
        }
        self.inner().history(start, path, skip, limit)
    }
    fn children(&self, id: &ChangesetId, limit: usize) -> Result<Vec<ChangesetId>> {
        self.inner().children(id, limit)
    }
    fn node(&self, id: &ChangesetId, path: &str, max_bytes: usize) -> Result<Option<Node>> {
        if !path.is_empty() && !valid_path(path) {
            return Ok(None);
        }
        self.inner().node(id, path, max_bytes)
    }
    fn paths(&self, id: &ChangesetId, dir: &str, limit: usize) -> Result<Option<PathList>> {
        if !dir.is_empty() && !valid_path(dir) {
            return Ok(None);
        }
        self.inner().paths(id, dir, limit)
    }
    fn changes(&self, id: &ChangesetId, opts: DiffOptions) -> Result<Vec<FileChange>> {
        self.inner().changes(id, opts)
    }
    fn last_changes(
        &self,
        id: &ChangesetId,
        dir: &str,
        names: &[String],
        budget: usize,
    ) -> Result<std::collections::HashMap<String, LastChange>> {
        if !dir.is_empty() && !valid_path(dir) {
            return Ok(std::collections::HashMap::new());
        }
        self.inner().last_changes(id, dir, names, budget)
    }
    fn blob(&self, object: &str, max_bytes: usize) -> Result<Option<FileContent>> {
        if !crate::git::is_object_id(object) {
            return Ok(None);
        }
        self.inner().blob(object, max_bytes)
    }
    fn patch(&self, id: &ChangesetId) -> Result<Vec<u8>> {
        self.inner().patch(id)
    }
    fn raw_diff(&self, id: &ChangesetId) -> Result<Vec<u8>> {
        self.inner().raw_diff(id)
    }
    fn annotate(&self, id: &ChangesetId, path: &str) -> Result<Option<Vec<AnnotatedLine>>> {
        if !valid_path(path) {
            return Ok(None);
        }
        self.inner().annotate(id, path)
    }
    fn between(
        &self,
        bases: &[ChangesetId],
        head: &ChangesetId,
        limit: usize,
    ) -> Result<Vec<Changeset>> {
        self.inner().between(bases, head, limit)
    }
    fn date_ordered(&self) -> bool {
        self.inner().date_ordered()
    }
    fn common_ancestor(&self, a: &ChangesetId, b: &ChangesetId) -> Result<Option<ChangesetId>> {
        self.inner().common_ancestor(a, b)
    }
    fn diff(
        &self,
        from: Option<&ChangesetId>,
        to: &ChangesetId,
        path: Option<&str>,
        opts: DiffOptions,
    ) -> Result<Vec<FileChange>> {
        if path.is_some_and(|p| !valid_path(p)) {
            return Ok(Vec::new());
        }
        self.inner().diff(from, to, path, opts)
    }
    fn diff_text(
        &self,
        from: Option<&ChangesetId>,
        to: &ChangesetId,
        path: Option<&str>,
        opts: DiffOptions,
    ) -> Result<Vec<u8>> {
        if path.is_some_and(|p| !valid_path(p)) {
            return Ok(Vec::new());
        }
        self.inner().diff_text(from, to, path, opts)
    }
}

/// The longest path (bytes) a URL may name in a repository.
pub const MAX_PATH_LEN: usize = 4096;

/// A revision as a user may write it: a branch or tag name, or a (short) id. Never option-like,
/// never a range or a `rev:path` expression.
pub fn valid_rev(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 255
        && !s.starts_with('-')
        && !s.starts_with('.')
        && !s.contains("..")
        && !s.contains("@{")
        && !s.ends_with(".lock")
        && !s.chars().any(|c| c.is_control() || " ~^:?*[\\".contains(c))
}

/// A path inside a repository: relative, no empty, `.` or `..` parts, no NUL (which git
/// cannot store). Other control characters, newlines included, are valid file names in git;
/// paths reach git only as separate arguments after `--`, never in line-based input.
pub fn valid_path(p: &str) -> bool {
    !p.is_empty()
        && p.len() <= MAX_PATH_LEN
        && !p.contains('\0')
        && p.split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != "..")
}

/// Binary detection as git does it: a NUL byte in the first 8000 bytes.
pub fn looks_binary(bytes: &[u8]) -> bool {
    bytes.iter().take(8000).any(|b| *b == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_revisions_and_paths_are_refused() {
        for bad in [
            "",
            "-h",
            "--output=x",
            "a..b",
            "..",
            "HEAD@{1}",
            "x:y",
            "a b",
            "a\nb",
            "main~1",
            "v1^2",
            ".hidden",
            "x.lock",
        ] {
            assert!(!valid_rev(bad), "{bad:?}");
        }
        for good in ["main", "feature/x", "v1.0", "0123abcd", "release-2024_01"] {
            assert!(valid_rev(good), "{good:?}");
        }
        for bad in ["", "/abs", "a//b", "a/../b", "..", "./x", "a\0b"] {
            assert!(!valid_path(bad), "{bad:?}");
        }
        assert!(valid_path("src/main.rs"));
        assert!(valid_path("weird name (1).txt"));
        assert!(valid_path("new\nline.txt"));
    }
}
