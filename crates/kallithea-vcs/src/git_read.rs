//! The Git backend of [`VcsRead`]: refs, commits, history pages, trees and files are read
//! in-process ([`crate::git_objects`], gix); path-limited history, diffs, blame, patches and
//! archives through the `git` command line (one process per call). Every revision reaching
//! git has been resolved to a full id or checked by [`crate::read::valid_rev`]; every path by
//! [`crate::read::valid_path`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::cmd::GitCommand;
use crate::git::is_object_id;
use crate::git_objects::{MAX_IN_MEMORY_BLOB, Objects};
use crate::read::{AnnotatedLine, ArchiveFormat, LastChange};
use crate::read::{
    Changeset, ChangesetId, DiffOptions, EntryKind, FileChange, FileContent, Node, PathList,
    Person, RefDetails, RefInfo, RefKind, VcsRead, looks_binary,
};
use crate::{Error, Result};

/// A bare Git repository on disk.
#[derive(Clone, Debug)]
pub struct GitRepo {
    path: PathBuf,
}

/// Field and record separators for `git log` output (a message cannot contain NUL).
const FORMAT: &str = "--format=%H%x1f%P%x1f%an%x1f%ae%x1f%at%x1f%aI%x1f%cn%x1f%ce%x1f%ct%x1f%B";

impl GitRepo {
    pub fn new(path: &Path) -> Self {
        Self {
            path: path.to_owned(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The commit a revision names, as `git rev-parse` reads it (`--end-of-options`: never
    /// an option).
    fn rev_parse_commit(&self, rev: &str) -> Result<Option<ChangesetId>> {
        let spec = format!("{rev}^{{commit}}");
        let out = GitCommand::new("rev-parse")
            .arg("--verify")
            .arg("--quiet")
            .arg("--end-of-options")
            .value(&spec)?
            .run_unchecked(&self.path)?;
        if !out.status.success() {
            return Ok(None);
        }
        let id = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        Ok(is_object_id(&id).then_some(ChangesetId(id)))
    }

    fn run(&self, c: GitCommand) -> Result<Vec<u8>> {
        c.run(&self.path)
    }

    fn objects(&self) -> Result<Objects> {
        Objects::open(&self.path)
    }
}

/// The id of the empty tree, which git knows in every repository, in the hash of `like` (an
/// object id of the same repository): what a diff "from nothing" starts from.
fn empty_tree(like: &str) -> &'static str {
    if like.len() == 64 {
        "6ef19b41225c5369f1c104d45d8d85efa9b057b53b14b4b9b939dd74decc5321"
    } else {
        "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
    }
}

fn parse_log(out: &[u8]) -> Vec<Changeset> {
    String::from_utf8_lossy(out)
        .split('\0')
        .filter(|r| !r.trim().is_empty())
        .filter_map(|record| {
            let record = record.trim_start_matches('\n');
            let f: Vec<&str> = record.splitn(10, '\x1f').collect();
            if f.len() < 10 {
                return None;
            }
            let offset = f[5].get(19..).unwrap_or("").to_owned();
            Some(Changeset {
                id: ChangesetId(f[0].to_owned()),
                parents: f[1]
                    .split_whitespace()
                    .map(|p| ChangesetId(p.to_owned()))
                    .collect(),
                author: Person {
                    name: f[2].to_owned(),
                    email: f[3].to_owned(),
                },
                author_time: f[4].parse().unwrap_or(0),
                author_offset: if offset == "Z" {
                    "+00:00".to_owned()
                } else {
                    offset
                },
                committer: Person {
                    name: f[6].to_owned(),
                    email: f[7].to_owned(),
                },
                commit_time: f[8].parse().unwrap_or(0),
                message: f[9].trim_end().to_owned(),
            })
        })
        .collect()
}

impl VcsRead for GitRepo {
    /// Git updates a ref by renaming a lock file into place, which changes the modification
    /// time of the folder holding it; packed refs live in one file. So the times of `HEAD`,
    /// `packed-refs` and every folder under `refs/heads` and `refs/tags` change with any ref.
    fn refs_fingerprint(&self) -> Result<String> {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        let stamp = |p: &Path, h: &mut std::collections::hash_map::DefaultHasher| {
            if let Ok(m) = std::fs::metadata(p) {
                m.modified().ok().hash(h);
                m.len().hash(h);
                // git rewrites these files by renaming a new one over them: a new inode,
                // even within one tick of the clock.
                #[cfg(unix)]
                std::os::unix::fs::MetadataExt::ino(&m).hash(h);
            }
        };
        stamp(&self.path.join("HEAD"), &mut h);
        stamp(&self.path.join("packed-refs"), &mut h);
        let mut dirs = vec![self.path.join("refs/heads"), self.path.join("refs/tags")];
        while let Some(d) = dirs.pop() {
            stamp(&d, &mut h);
            if let Ok(rd) = std::fs::read_dir(&d) {
                for e in rd.flatten() {
                    let path = e.path();
                    if e.file_type().is_ok_and(|t| t.is_dir()) {
                        dirs.push(path);
                    } else {
                        // Loose refs too: a rewrite within the folder's time resolution still
                        // gives a new file (new inode), size or time.
                        path.hash(&mut h);
                        if let Ok(m) = e.metadata() {
                            m.modified().ok().hash(&mut h);
                            m.len().hash(&mut h);
                            #[cfg(unix)]
                            std::os::unix::fs::MetadataExt::ino(&m).hash(&mut h);
                        }
                    }
                }
            }
        }
        Ok(format!("{:016x}", h.finish()))
    }

    fn refs_snapshot(&self) -> Result<(Vec<RefInfo>, Vec<RefInfo>, Option<RefInfo>)> {
        let (branches, tags) = self.objects()?.refs()?;
        let head = crate::git::head_branch(&self.path)?;
        // HEAD naming no branch: main, master, or else the first by name.
        let named = |n: &str| branches.iter().find(|b| b.name == n).cloned();
        let default = head
            .and_then(|h| named(&h))
            .or_else(|| named("main"))
            .or_else(|| named("master"))
            .or_else(|| branches.first().cloned());
        Ok((branches, tags, default))
    }

    fn is_empty(&self) -> Result<bool> {
        self.objects()?.has_no_branches()
    }

    fn resolve(&self, rev: &str) -> Result<Option<ChangesetId>> {
        // A full id is looked up in-process; names and short ids are git's to read.
        if is_object_id(rev) {
            return Ok(self.objects()?.commit(rev)?.map(|c| c.id));
        }
        // git reads hex longer than an id as the id it starts with; that names nothing here.
        if rev.len() > 40 && rev.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let found = self.rev_parse_commit(rev)?;
        // Kallithea's name for the newest changeset, kept for old links: here the default
        // branch's head, unless a branch or tag is called `tip`.
        if found.is_none() && rev == "tip" {
            return self.rev_parse_commit("HEAD");
        }
        Ok(found)
    }

    fn ref_details(&self, kind: RefKind) -> Result<Vec<RefDetails>> {
        self.objects()?.ref_details(kind)
    }

    fn changeset(&self, id: &ChangesetId) -> Result<Changeset> {
        if !is_object_id(&id.0) {
            return Err(Error::OptionLikeArgument(id.0.clone()));
        }
        self.objects()?
            .commit(&id.0)?
            .ok_or_else(|| Error::NotFound(self.path.join(&id.0)))
    }

    fn history(
        &self,
        start: &ChangesetId,
        path: Option<&str>,
        skip: usize,
        limit: usize,
    ) -> Result<Vec<Changeset>> {
        if path.is_none() && is_object_id(&start.0) {
            return self.objects()?.history(&start.0, skip, limit);
        }
        let mut c = GitCommand::new("log")
            .arg("-z")
            .arg(FORMAT)
            .arg_num("--skip=", skip)
            .arg_num("--max-count=", limit);
        // In the changelog's order: children first where generations make that cheap
        // (without a commit-graph git would walk the whole history first).
        if self.date_ordered() {
            c = c.arg("--date-order");
        }
        if path.is_some() {
            // Parents as the file's history goes (the previous changeset that touched it),
            // so the graph joins the rows shown.
            c = c.arg("--parents");
        }
        c = c.arg("--end-of-options").value(&start.0)?;
        if let Some(p) = path {
            c = c.arg("--").value_after_dashdash(p);
        }
        Ok(parse_log(&self.run(c)?))
    }

    fn last_changes(
        &self,
        id: &ChangesetId,
        dir: &str,
        names: &[String],
        budget: usize,
    ) -> Result<HashMap<String, LastChange>> {
        if !is_object_id(&id.0) || !(dir.is_empty() || crate::read::valid_path(dir)) {
            return Ok(HashMap::new());
        }
        self.objects()?.last_changes(&id.0, dir, names, budget)
    }

    fn children(&self, id: &ChangesetId, limit: usize) -> Result<Vec<ChangesetId>> {
        // Changesets whose parent is `id`, among those reachable from branches: bounded to
        // `limit` results by walking at most 1000 changesets.
        if !is_object_id(&id.0) {
            return Ok(Vec::new());
        }
        self.objects()?.children(&id.0, limit, 1000)
    }

    fn node(&self, id: &ChangesetId, path: &str, max_bytes: usize) -> Result<Option<Node>> {
        if !is_object_id(&id.0) || !(path.is_empty() || crate::read::valid_path(path)) {
            return Ok(None);
        }
        let objects = self.objects()?;
        let Some(crate::git_objects::PathEntry { kind, object, size }) =
            objects.entry(&id.0, path)?
        else {
            return Ok(None);
        };
        match kind {
            EntryKind::Dir => Ok(Some(Node::Dir(objects.list(object)?))),
            EntryKind::Submodule => Ok(Some(Node::Submodule)),
            EntryKind::File | EntryKind::Symlink => Ok(self
                .read_blob(&objects, object, size.unwrap_or(0), max_bytes)?
                .map(|f| {
                    Node::File(FileContent {
                        symlink: kind == EntryKind::Symlink,
                        ..f
                    })
                })),
        }
    }

    fn paths(&self, id: &ChangesetId, dir: &str, limit: usize) -> Result<Option<PathList>> {
        if !is_object_id(&id.0) || !(dir.is_empty() || crate::read::valid_path(dir)) {
            return Ok(None);
        }
        let objects = self.objects()?;
        match objects.entry(&id.0, dir)? {
            Some(crate::git_objects::PathEntry {
                kind: EntryKind::Dir,
                object,
                ..
            }) => Ok(Some(objects.paths(object, dir, limit)?)),
            _ => Ok(None),
        }
    }

    fn between(
        &self,
        bases: &[ChangesetId],
        head: &ChangesetId,
        limit: usize,
    ) -> Result<Vec<Changeset>> {
        let mut c = GitCommand::new("log")
            .arg("-z")
            .arg(FORMAT)
            .arg_num("--max-count=", limit);
        if self.date_ordered() {
            c = c.arg("--date-order");
        }
        let mut c = c.arg("--end-of-options").value(&head.0)?;
        for b in bases {
            c = c.value(&format!("^{}", b.0))?;
        }
        Ok(parse_log(&self.run(c)?))
    }

    fn date_ordered(&self) -> bool {
        crate::git::has_commit_graph(&self.path)
    }

    fn common_ancestor(&self, a: &ChangesetId, b: &ChangesetId) -> Result<Option<ChangesetId>> {
        let out = GitCommand::new("merge-base")
            .arg("--end-of-options")
            .value(&a.0)?
            .value(&b.0)?
            .run_unchecked(&self.path)?;
        // No common ancestor: git answers 1 and prints nothing.
        let id = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        Ok(is_object_id(&id).then_some(ChangesetId(id)))
    }

    fn diff(
        &self,
        from: Option<&ChangesetId>,
        to: &ChangesetId,
        path: Option<&str>,
        opts: DiffOptions,
    ) -> Result<Vec<FileChange>> {
        let from = from.map_or_else(|| empty_tree(&to.0), |f| f.0.as_str());
        self.diff_with(
            |c| {
                let c = c.arg("--end-of-options").value(from)?.value(&to.0)?;
                Ok(match path {
                    Some(p) => c.arg("--").value_after_dashdash(p),
                    None => c,
                })
            },
            opts,
        )
    }

    fn diff_text(
        &self,
        from: Option<&ChangesetId>,
        to: &ChangesetId,
        path: Option<&str>,
        opts: DiffOptions,
    ) -> Result<Vec<u8>> {
        let from = from.map_or_else(|| empty_tree(&to.0), |f| f.0.as_str());
        let c = GitCommand::new("diff-tree")
            .arg("-p")
            .arg("-r")
            .arg("-M")
            .arg_num("-U", opts.context as usize)
            .arg("--no-color")
            .arg("--no-ext-diff")
            .arg("--no-textconv");
        let c = if opts.ignore_whitespace {
            c.arg("-w")
        } else {
            c
        };
        let c = c.arg("--end-of-options").value(from)?.value(&to.0)?;
        self.run_capped(match path {
            Some(p) => c.arg("--").value_after_dashdash(p),
            None => c,
        })
    }

    fn blob(&self, object: &str, max_bytes: usize) -> Result<Option<FileContent>> {
        if !is_object_id(object) {
            return Ok(None);
        }
        let objects = self.objects()?;
        let id = Objects::parse_id(object)?;
        let Ok(size) = objects.size(id) else {
            return Ok(None);
        };
        self.read_blob(&objects, id, size, max_bytes)
    }

    fn changes(&self, id: &ChangesetId, opts: DiffOptions) -> Result<Vec<FileChange>> {
        let cs = self.changeset(id)?;
        // Plain changesets are compared in-process; the rest (renames, whitespace ignored,
        // type changes, attributes, big files) by git.
        if !opts.ignore_whitespace {
            let objects = self.objects()?;
            let from = match cs.parents.first() {
                Some(p) => objects.commit_tree(&p.0)?,
                None => None,
            };
            if let Some(to) = objects.commit_tree(&id.0)?
                && (from.is_some() || cs.parents.is_empty())
                && let Some(files) = crate::git_diff::plain_changes(
                    &objects,
                    from,
                    to,
                    opts.context,
                    crate::git_patch::MAX_PATCH_BYTES,
                )?
            {
                return Ok(files);
            }
        }
        match cs.parents.first() {
            Some(p) => self.diff_pair(&p.0, &id.0, opts),
            None => self.diff_root(&id.0, opts),
        }
    }

    fn annotate(&self, id: &ChangesetId, path: &str) -> Result<Option<Vec<AnnotatedLine>>> {
        if !is_object_id(&id.0) || !crate::read::valid_path(path) {
            return Ok(None);
        }
        // Only regular files are annotated (not folders, symlinks or submodules).
        let entry = self.objects()?.entry(&id.0, path)?;
        if entry.is_none_or(|e| e.kind != EntryKind::File) {
            return Ok(None);
        }
        // blame reads `--` after `--end-of-options` as a revision; the id is a checked hex.
        let out = GitCommand::new("blame")
            .arg("--porcelain")
            .value(&id.0)?
            .arg("--")
            .value_after_dashdash(path)
            .run_with_timeout(&self.path, std::time::Duration::from_secs(120))?;
        Ok(Some(parse_blame(&out)))
    }

    fn raw_diff(&self, id: &ChangesetId) -> Result<Vec<u8>> {
        let cs = self.changeset(id)?;
        let c = GitCommand::new("diff-tree")
            .arg("-p")
            .arg("-r")
            .arg("-M")
            // A first changeset's diff would start with its id.
            .arg("--no-commit-id")
            .arg("--no-color")
            .arg("--no-ext-diff")
            .arg("--no-textconv");
        self.run_capped(match cs.parents.first() {
            Some(p) => c.arg("--end-of-options").value(&p.0)?.value(&id.0)?,
            None => c.arg("--root").arg("--end-of-options").value(&id.0)?,
        })
    }

    fn patch(&self, id: &ChangesetId) -> Result<Vec<u8>> {
        // format-patch skips merges (it would give an ancestor's patch): a merge is written
        // in the same mail form with its diff against the first parent.
        if self.changeset(id)?.parents.len() > 1 {
            return self.run_capped(
                GitCommand::new("log")
                    .arg("-1")
                    .arg("-m")
                    .arg("--first-parent")
                    .arg("-p")
                    .arg("--stat")
                    .arg("--pretty=email")
                    .arg("--no-color")
                    .arg("--no-ext-diff")
                    .arg("--no-textconv")
                    .arg("--end-of-options")
                    .value(&id.0)?,
            );
        }
        self.run_capped(
            GitCommand::new("format-patch")
                .arg("--stdout")
                .arg("--no-color")
                .arg("--no-signature")
                .arg("-1")
                .arg("--root")
                .arg("--end-of-options")
                .value(&id.0)?,
        )
    }
}

impl GitRepo {
    /// A blob of known size, at most `max_bytes` of it: read whole in-process when it is
    /// small or all of it is wanted, else git streams the first `max_bytes`.
    fn read_blob(
        &self,
        objects: &Objects,
        object: gix::ObjectId,
        size: u64,
        max_bytes: usize,
    ) -> Result<Option<FileContent>> {
        let mut bytes = if max_bytes == 0 {
            // Only the kind and size were asked for.
            Vec::new()
        } else if size <= (max_bytes as u64).clamp(SMALL_BLOB, MAX_IN_MEMORY_BLOB) {
            match objects.blob(object)? {
                Some(b) => b,
                None => return Ok(None),
            }
        } else {
            self.blob_prefix(&object.to_string(), max_bytes)?
        };
        bytes.truncate(max_bytes);
        bytes.shrink_to_fit();
        let binary = looks_binary(&bytes);
        Ok(Some(FileContent {
            content_id: object.to_string(),
            size,
            truncated: (bytes.len() as u64) < size,
            bytes,
            binary,
            symlink: false,
        }))
    }

    /// Runs a command whose whole output is sent as text; refused beyond MAX_TEXT_BYTES.
    fn run_capped(&self, c: GitCommand) -> Result<Vec<u8>> {
        let (out, complete) = c.run_limited(&self.path, MAX_TEXT_BYTES)?;
        if !complete {
            return Err(Error::TooLarge(MAX_TEXT_BYTES));
        }
        Ok(out)
    }

    /// The files changed between two trees (`from` → `to`, both checked ids), with patches.
    fn diff_pair(&self, from: &str, to: &str, opts: DiffOptions) -> Result<Vec<FileChange>> {
        self.diff_with(|c| c.arg("--end-of-options").value(from)?.value(to), opts)
    }

    /// The files of a first changeset, as added.
    fn diff_root(&self, id: &str, opts: DiffOptions) -> Result<Vec<FileChange>> {
        self.diff_with(|c| c.arg("--root").arg("--end-of-options").value(id), opts)
    }

    fn diff_with(
        &self,
        revs: impl Fn(GitCommand) -> Result<GitCommand>,
        opts: DiffOptions,
    ) -> Result<Vec<FileChange>> {
        let common = |c: GitCommand| {
            let c = c
                .arg("-r")
                .arg("-M")
                .arg("--no-color")
                .arg("--no-ext-diff")
                .arg("--no-textconv");
            if opts.ignore_whitespace {
                c.arg("-w")
            } else {
                c
            }
        };
        // One git, read as it writes: what happened to each file (`--raw`), the line counts
        // (`--numstat`), then the patch, kept within limits (`git_patch`).
        let c = revs(common(
            GitCommand::new("diff-tree")
                .arg("-z")
                .arg("--raw")
                .arg("--numstat")
                .arg("-p")
                .arg_num("-U", opts.context as usize),
        ))?;
        c.run_reading(&self.path, |out| {
            crate::git_patch::read_diff(out, opts.ignore_whitespace)
        })
    }

    /// Starts `git cat-file blob` for a file, to stream its whole content.
    pub fn spawn_blob(&self, id: &ChangesetId, path: &str) -> Result<tokio::process::Child> {
        if !crate::read::valid_path(path) || !is_object_id(&id.0) {
            return Err(Error::OptionLikeArgument(path.to_owned()));
        }
        GitCommand::new("cat-file")
            .arg("blob")
            .value(&format!("{}:{path}", id.0))?
            .spawn_piped(&self.path)
    }

    /// Starts `git archive` of a changeset, with every path under `<prefix>/`.
    pub fn spawn_archive(
        &self,
        id: &ChangesetId,
        format: ArchiveFormat,
        prefix: &str,
    ) -> Result<tokio::process::Child> {
        if !is_object_id(&id.0)
            || prefix.is_empty()
            || prefix.contains(['/', '\\'])
            || prefix.chars().any(char::is_control)
        {
            return Err(Error::OptionLikeArgument(prefix.to_owned()));
        }
        GitCommand::new("archive")
            .arg(match format {
                ArchiveFormat::Zip => "--format=zip",
                ArchiveFormat::TarGz => "--format=tar.gz",
                ArchiveFormat::Tar | ArchiveFormat::TarBz2 => "--format=tar",
            })
            .flag_value("--prefix=", &format!("{prefix}/"))
            .arg("--end-of-options")
            .value(&id.0)?
            .spawn_piped(&self.path)
    }

    fn blob_prefix(&self, spec: &str, max_bytes: usize) -> Result<Vec<u8>> {
        // Reads only the first bytes of a big blob.
        use std::io::Read;
        let mut child = GitCommand::new("cat-file")
            .arg("blob")
            .value(spec)?
            .spawn_std_stdout(&self.path)?;
        let mut buf = Vec::with_capacity(max_bytes);
        if let Some(out) = child.stdout.take() {
            let _ = out.take(max_bytes as u64).read_to_end(&mut buf);
        }
        let _ = child.kill();
        let _ = child.wait();
        Ok(buf)
    }
}

/// `git blame --porcelain`: a header `<id> <orig> <final> [<count>]`, then (the first time an id
/// appears) its `author`, `author-time`, `summary`..., then a tab and the line.
fn parse_blame(out: &[u8]) -> Vec<AnnotatedLine> {
    struct Info {
        author: String,
        time: i64,
        summary: String,
    }
    let text = crate::text::decode_lines(out);
    let mut infos: std::collections::HashMap<String, Info> = std::collections::HashMap::new();
    let mut lines = Vec::new();
    let mut current: Option<String> = None;
    for line in text.split('\n') {
        if let Some(content) = line.strip_prefix('\t') {
            if let Some(id) = &current {
                let info = infos.get(id);
                lines.push(AnnotatedLine {
                    id: ChangesetId(id.clone()),
                    author: info.map(|i| i.author.clone()).unwrap_or_default(),
                    time: info.map_or(0, |i| i.time),
                    summary: info.map(|i| i.summary.clone()).unwrap_or_default(),
                    text: content.to_owned(),
                });
            }
            continue;
        }
        let first = line.split(' ').next().unwrap_or("");
        if is_object_id(first) {
            current = Some(first.to_owned());
            infos.entry(first.to_owned()).or_insert(Info {
                author: String::new(),
                time: 0,
                summary: String::new(),
            });
        } else if let (Some(id), Some((key, value))) = (&current, line.split_once(' '))
            && let Some(info) = infos.get_mut(id)
        {
            match key {
                "author" => info.author = value.to_owned(),
                "author-time" => info.time = value.parse().unwrap_or(0),
                "summary" => info.summary = value.to_owned(),
                _ => {}
            }
        }
    }
    lines
}

/// Blobs up to this size are read whole in-process even when only a prefix is wanted.
const SMALL_BLOB: u64 = 1024 * 1024;

/// The most text a raw diff or patch download may have.
pub const MAX_TEXT_BYTES: usize = 64 * 1024 * 1024;

/// What the in-process reader's tests compare against: history as `git log` gives it.
#[cfg(test)]
pub(crate) mod tests_support {
    use super::*;

    pub(crate) fn git_log(repo: &GitRepo, tip: &str) -> Vec<Changeset> {
        git_log_in(repo, tip, "--default-order")
    }

    /// `git log` in an order such as `--date-order`.
    pub(crate) fn git_log_in(repo: &GitRepo, tip: &str, order: &'static str) -> Vec<Changeset> {
        let mut c = GitCommand::new("log").arg("-z").arg(FORMAT);
        if order != "--default-order" {
            c = c.arg(order);
        }
        let out = repo
            .run(c.arg("--end-of-options").value(tip).unwrap())
            .unwrap();
        parse_log(&out)
    }

    /// A changeset's files and patches as `git diff-tree` gives them.
    pub(crate) fn changes_by_git(
        repo: &GitRepo,
        cs: &Changeset,
        opts: DiffOptions,
    ) -> Vec<FileChange> {
        match cs.parents.first() {
            Some(p) => repo.diff_pair(&p.0, &cs.id.0, opts).unwrap(),
            None => repo.diff_root(&cs.id.0, opts).unwrap(),
        }
    }

    /// The folder's last changes as `git log --name-only` gives them.
    pub(crate) fn last_changes_by_git(
        repo: &GitRepo,
        id: &ChangesetId,
        dir: &str,
        names: &[String],
        budget: usize,
    ) -> Result<HashMap<String, LastChange>> {
        // One `git log --name-only` over the folder, newest first, read until every name has
        // its changeset or the budget (changesets, and 8 MiB of output) runs out.
        let mut c = GitCommand::new("log")
            .arg("-z")
            .arg("--format=%x1e%H%x1f%at%x1f%s")
            .arg("--name-only")
            .arg("--no-renames")
            .arg_num("--max-count=", budget)
            .arg("--end-of-options")
            .value(&id.0)?;
        if !dir.is_empty() {
            c = c.arg("--").value_after_dashdash(dir);
        }
        // Records are read as git writes them, and git is stopped as soon as every name has
        // its changeset (usually within the first few dozen changesets).
        use std::io::BufRead;
        let mut child = c.spawn_std_stdout(&repo.path)?;
        let Some(stdout) = child.stdout.take() else {
            return Ok(HashMap::new());
        };
        let mut reader = std::io::BufReader::new(stdout);
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        let mut found: HashMap<String, LastChange> = HashMap::new();
        let mut read_total = 0usize;
        let mut record = Vec::new();
        loop {
            record.clear();
            let n = reader.read_until(0x1e, &mut record).unwrap_or(0);
            if n == 0 {
                break;
            }
            read_total += n;
            if record.last() == Some(&0x1e) {
                record.pop();
            }
            if let Some(end) = record.iter().position(|b| *b == 0) {
                let header = String::from_utf8_lossy(&record[..end]);
                let mut h = header.splitn(3, '\x1f');
                if let (Some(hash), Some(time), Some(summary)) = (h.next(), h.next(), h.next()) {
                    for path in record[end + 1..]
                        .split(|b| *b == 0)
                        .map(|p| {
                            crate::text::name_from_bytes(p)
                                .trim_start_matches('\n')
                                .to_owned()
                        })
                        .filter(|p| !p.is_empty())
                    {
                        let Some(rest) = path.strip_prefix(&prefix) else {
                            continue;
                        };
                        let name = rest.split('/').next().unwrap_or(rest);
                        if !found.contains_key(name) && names.iter().any(|n| n == name) {
                            found.insert(
                                name.to_owned(),
                                LastChange {
                                    id: ChangesetId(hash.to_owned()),
                                    author_time: time.parse().unwrap_or(0),
                                    summary: summary.to_owned(),
                                },
                            );
                        }
                    }
                }
            }
            if found.len() == names.len() || read_total > 8 * 1024 * 1024 {
                break;
            }
        }
        drop(reader);
        let _ = child.kill();
        let _ = child.wait();
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::ChangeKind;
    use crate::read::Repo;

    /// Runs git in `dir` with a fixed author and date.
    fn g(dir: &Path, args: &[&'static str]) -> String {
        let mut c = GitCommand::new(args[0]);
        for a in &args[1..] {
            c = c.arg(a);
        }
        let c = c
            .env("GIT_AUTHOR_NAME", "Ann Author")
            .env("GIT_AUTHOR_EMAIL", "ann@example.com")
            .env("GIT_AUTHOR_DATE", "2024-01-02T03:04:05+02:00")
            .env("GIT_COMMITTER_NAME", "Cy Committer")
            .env("GIT_COMMITTER_EMAIL", "cy@example.com")
            .env("GIT_COMMITTER_DATE", "2024-01-02T03:04:05+02:00");
        String::from_utf8(c.run(dir).expect("git")).unwrap()
    }

    /// main: c1 (README, src/lib.rs, old.txt) → c2 (edit lib.rs, rename old→new, add bin,
    /// big file) ; branch `side` from c1 with one commit; tag v1 (annotated) on c1.
    fn fixture() -> (tempfile::TempDir, Repo) {
        let tmp = tempfile::tempdir().unwrap();
        let w = tmp.path().join("work");
        std::fs::create_dir_all(w.join("src")).unwrap();
        g(tmp.path(), &["init", "-q", "-b", "main", "work"]);
        std::fs::write(w.join("README.md"), "# Title\n").unwrap();
        std::fs::write(w.join("src/lib.rs"), "fn a() {}\nfn b() {}\n").unwrap();
        std::fs::write(w.join("old.txt"), "one\ntwo\nthree\nfour\nfive\n").unwrap();
        g(&w, &["add", "."]);
        g(&w, &["commit", "-q", "-m", "first\n\nbody line"]);
        g(&w, &["tag", "-a", "v1", "-m", "version 1"]);
        g(&w, &["checkout", "-q", "-b", "side"]);
        std::fs::write(w.join("side.txt"), "side\n").unwrap();
        g(&w, &["add", "."]);
        g(&w, &["commit", "-q", "-m", "side work"]);
        g(&w, &["checkout", "-q", "main"]);
        std::fs::write(w.join("src/lib.rs"), "fn a() {}\nfn c() {}\nfn d() {}\n").unwrap();
        g(&w, &["mv", "old.txt", "new.txt"]);
        std::fs::write(w.join("bin.dat"), [0u8, 1, 2, 3, 0, 255]).unwrap();
        std::fs::write(w.join("big.txt"), "x".repeat(10_000)).unwrap();
        g(&w, &["add", "."]);
        g(&w, &["commit", "-q", "-m", "second"]);
        g(tmp.path(), &["clone", "-q", "--bare", "work", "bare.git"]);
        let repo = Repo::open_git(&tmp.path().join("bare.git")).unwrap();
        (tmp, repo)
    }

    #[test]
    fn a_files_history_names_its_previous_change_as_parent() {
        let tmp = tempfile::tempdir().unwrap();
        let w = tmp.path().join("w");
        g(tmp.path(), &["init", "-q", "-b", "main", "w"]);
        for (file, text, msg) in [
            ("f", "1", "f one"),
            ("g", "1", "g one"),
            ("f", "2", "f two"),
        ] {
            std::fs::write(w.join(file), text).unwrap();
            g(&w, &["add", "."]);
            g(&w, &["commit", "-q", "-m", msg]);
        }
        let r = Repo::open_git(&w.join(".git")).unwrap();
        let main = r.resolve("main").unwrap().unwrap();
        let h = r.history(&main, Some("f"), 0, 10).unwrap();
        let summaries: Vec<&str> = h.iter().map(|c| c.summary()).collect();
        assert_eq!(summaries, ["f two", "f one"]);
        assert_eq!(
            h[0].parents,
            vec![h[1].id.clone()],
            "the graph joins the rows: the previous change of f, not \"g one\""
        );
    }

    #[test]
    fn refs_and_revisions() {
        let (_t, r) = fixture();
        assert!(!r.is_empty().unwrap());
        let main = r.resolve("main").unwrap().unwrap();
        let v1 = r.resolve("v1").unwrap().unwrap();
        assert_ne!(main, v1);
        assert_eq!(r.resolve(main.short()).unwrap(), Some(main.clone()));
        assert_eq!(r.resolve("nope").unwrap(), None);
        // A full id of another hash's length names nothing (and is no failure).
        assert_eq!(r.resolve(&"a".repeat(64)).unwrap(), None);
        assert_eq!(r.resolve(&"a".repeat(40)).unwrap(), None);
        for hostile in ["--output=/tmp/x", "-h", "main..side", "main:README.md"] {
            assert_eq!(r.resolve(hostile).unwrap(), None, "{hostile}");
        }
        let (branches, tags, default) = r.refs_snapshot().unwrap();
        let names: Vec<String> = branches.into_iter().map(|b| b.name).collect();
        assert_eq!(names, ["main", "side"]);
        assert_eq!(tags.len(), 1);
        assert_eq!(
            tags[0].target, v1,
            "annotated tags are peeled to their changeset"
        );
        assert_eq!(default.unwrap().name, "main");
        let dated = r.ref_details(RefKind::Tag).unwrap();
        assert_eq!(
            (dated[0].info.name.as_str(), &dated[0].info.target),
            ("v1", &v1)
        );
    }

    #[test]
    fn changesets_and_history() {
        let (_t, r) = fixture();
        let main = r.resolve("main").unwrap().unwrap();
        let cs = r.changeset(&main).unwrap();
        assert_eq!(cs.summary(), "second");
        assert_eq!(
            cs.author,
            Person {
                name: "Ann Author".into(),
                email: "ann@example.com".into()
            }
        );
        assert_eq!(cs.committer.name, "Cy Committer");
        assert_eq!(cs.author_time, 1_704_157_445);
        assert_eq!(cs.author_offset, "+02:00");
        assert_eq!(cs.parents.len(), 1);
        let all = r.history(&main, None, 0, 10).unwrap();
        assert_eq!(
            all.iter().map(|c| c.summary()).collect::<Vec<_>>(),
            ["second", "first"]
        );
        assert_eq!(all[1].message, "first\n\nbody line");
        assert_eq!(r.history(&main, None, 1, 10).unwrap().len(), 1);
        assert_eq!(r.history(&main, Some("README.md"), 0, 10).unwrap().len(), 1);
        assert!(
            r.history(&main, Some("../etc/passwd"), 0, 10)
                .unwrap()
                .is_empty()
        );
        let first = all[1].id.clone();
        let mut kids = r.children(&first, 10).unwrap();
        kids.sort();
        let mut want = vec![main.clone(), r.resolve("side").unwrap().unwrap()];
        want.sort();
        assert_eq!(kids, want);
    }

    #[test]
    fn trees_and_files() {
        let (_t, r) = fixture();
        let main = r.resolve("main").unwrap().unwrap();
        let Some(Node::Dir(root)) = r.node(&main, "", 1000).unwrap() else {
            panic!("root is a dir")
        };
        let names: Vec<&str> = root.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            names,
            ["src", "README.md", "big.txt", "bin.dat", "new.txt"],
            "folders first"
        );
        assert_eq!(root[1].size, Some(8));
        let Some(Node::File(f)) = r.node(&main, "src/lib.rs", 1000).unwrap() else {
            panic!("file")
        };
        assert_eq!(f.bytes, b"fn a() {}\nfn c() {}\nfn d() {}\n");
        assert!(!f.binary && !f.truncated);
        let Some(Node::File(b)) = r.node(&main, "bin.dat", 1000).unwrap() else {
            panic!("file")
        };
        assert!(b.binary);
        let Some(Node::File(big)) = r.node(&main, "big.txt", 100).unwrap() else {
            panic!("file")
        };
        assert!(big.truncated && big.bytes.len() == 100 && big.size == 10_000);
        let readme = root.iter().find(|e| e.name == "README.md").unwrap();
        assert_eq!(
            r.blob(&readme.object, 100).unwrap().unwrap().bytes,
            b"# Title\n"
        );
        let big_entry = root.iter().find(|e| e.name == "big.txt").unwrap();
        let cut = r.blob(&big_entry.object, 10).unwrap().unwrap();
        assert!(cut.truncated && cut.size == 10_000 && cut.bytes.len() == 10);
        assert_eq!(
            r.blob("0123456789012345678901234567890123456789", 10)
                .unwrap(),
            None
        );
        assert_eq!(r.blob("--output=x", 10).unwrap(), None);
        assert_eq!(r.node(&main, "missing", 10).unwrap(), None);
        assert_eq!(r.node(&main, "../x", 10).unwrap(), None);
        assert_eq!(r.node(&main, "-h", 10).unwrap(), None);
    }

    #[test]
    fn diffs_and_patches() {
        let (_t, r) = fixture();
        let main = r.resolve("main").unwrap().unwrap();
        let changes = r.changes(&main, DiffOptions::default()).unwrap();
        let by_path = |p: &str| {
            changes
                .iter()
                .find(|c| c.path == p)
                .unwrap_or_else(|| panic!("{p} in {changes:?}"))
        };
        let lib = by_path("src/lib.rs");
        assert_eq!(
            (lib.kind, lib.added, lib.removed),
            (ChangeKind::Modified, 2, 1)
        );
        assert!(
            lib.patch.starts_with("@@") && lib.patch.contains("+fn c() {}"),
            "{}",
            lib.patch
        );
        let renamed = by_path("new.txt");
        assert_eq!(
            (renamed.kind, renamed.old_path.as_deref()),
            (ChangeKind::Renamed, Some("old.txt"))
        );
        let bin = by_path("bin.dat");
        assert!(bin.binary && bin.kind == ChangeKind::Added);
        let root = r.history(&main, None, 1, 1).unwrap().remove(0);
        let first = r.changes(&root.id, DiffOptions::default()).unwrap();
        assert_eq!(first.len(), 3);
        assert!(first.iter().all(|c| c.kind == ChangeKind::Added));
        let patch = String::from_utf8(r.patch(&main).unwrap()).unwrap();
        assert!(
            patch.contains("Subject: [PATCH] second") && patch.contains("+fn d() {}"),
            "{patch}"
        );
    }

    #[test]
    fn annotate_names_the_last_change_of_each_line() {
        let (_t, r) = fixture();
        let main = r.resolve("main").unwrap().unwrap();
        let first = r.history(&main, None, 1, 1).unwrap().remove(0).id;
        let lines = r.annotate(&main, "src/lib.rs").unwrap().unwrap();
        assert_eq!(
            lines.iter().map(|l| l.text.as_str()).collect::<Vec<_>>(),
            ["fn a() {}", "fn c() {}", "fn d() {}"]
        );
        assert_eq!(
            lines[0].id, first,
            "unchanged line keeps its first changeset"
        );
        assert_eq!(lines[1].id, main);
        assert_eq!(lines[1].author, "Ann Author");
        assert_eq!(lines[1].summary, "second");
        assert_eq!(
            r.annotate(&main, "src").unwrap(),
            None,
            "folders are not annotated"
        );
        assert_eq!(r.annotate(&main, "nope").unwrap(), None);
        assert_eq!(r.annotate(&main, "-h").unwrap(), None);
    }

    #[tokio::test]
    async fn archives_stream_the_tree() {
        let (_t, r) = fixture();
        let main = r.resolve("main").unwrap().unwrap();
        let Repo::Git(g) = &r;
        let mut child = g
            .spawn_archive(&main, ArchiveFormat::Tar, "proj-123")
            .unwrap();
        let mut out = Vec::new();
        tokio::io::AsyncReadExt::read_to_end(child.stdout.as_mut().unwrap(), &mut out)
            .await
            .unwrap();
        let text = String::from_utf8_lossy(&out);
        assert!(text.contains("proj-123/src/lib.rs") && text.contains("fn d() {}"));
        assert!(g.spawn_archive(&main, ArchiveFormat::Zip, "../x").is_err());
        assert!(
            g.spawn_archive(&ChangesetId("--output=x".into()), ArchiveFormat::Zip, "p")
                .is_err()
        );
    }

    #[test]
    fn compare_lists_what_head_adds_and_diffs_from_either_base() {
        let (_t, r) = fixture();
        let main = r.resolve("main").unwrap().unwrap();
        let side = r.resolve("side").unwrap().unwrap();
        let v1 = r.resolve("v1").unwrap().unwrap();
        let paths = |files: Vec<FileChange>| files.into_iter().map(|f| f.path).collect::<Vec<_>>();
        let ahead = r.between(std::slice::from_ref(&main), &side, 10).unwrap();
        assert_eq!(
            ahead.iter().map(|c| c.summary()).collect::<Vec<_>>(),
            ["side work"]
        );
        assert!(
            r.between(std::slice::from_ref(&side), &side, 10)
                .unwrap()
                .is_empty()
        );
        assert_eq!(r.between(&[], &side, 10).unwrap().len(), 2, "all of side");
        let ancestor = r.common_ancestor(&main, &side).unwrap();
        assert_eq!(ancestor.as_ref(), Some(&v1));
        let opts = DiffOptions::default();
        assert_eq!(
            paths(r.diff(ancestor.as_ref(), &side, None, opts).unwrap()),
            ["side.txt"],
            "from the ancestor: only side's own change"
        );
        // Tip to tip: main's later changes show reversed.
        let direct = r.diff(Some(&main), &side, None, opts).unwrap();
        assert_eq!(
            paths(direct.clone()),
            ["big.txt", "bin.dat", "old.txt", "side.txt", "src/lib.rs"]
        );
        assert_eq!(direct[2].kind, ChangeKind::Renamed, "back from new.txt");
        // One file, and from nothing.
        let one = r.diff(Some(&v1), &main, Some("src/lib.rs"), opts).unwrap();
        assert_eq!(paths(one.clone()), ["src/lib.rs"]);
        assert!(one[0].patch.contains("+fn c() {}"));
        let added = r.diff(None, &v1, Some("README.md"), opts).unwrap();
        assert_eq!(added[0].kind, ChangeKind::Added);
        let text = r
            .diff_text(Some(&v1), &main, Some("src/lib.rs"), opts)
            .unwrap();
        let text = String::from_utf8(text).unwrap();
        assert!(
            text.starts_with("diff --git a/src/lib.rs b/src/lib.rs"),
            "{text}"
        );
        assert!(!text.contains("new.txt"));
        // A path that would be an option is data after `--`, and names nothing here.
        assert!(
            r.diff(Some(&v1), &main, Some("--output=x"), opts)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn patches_belong_to_their_files_with_ignored_whitespace_and_type_changes() {
        let tmp = tempfile::tempdir().unwrap();
        let w = tmp.path().join("w");
        g(tmp.path(), &["init", "-q", "-b", "main", "w"]);
        std::fs::write(w.join("a.txt"), "one two\n").unwrap();
        std::fs::write(w.join("b.txt"), "first\n").unwrap();
        std::fs::write(w.join("c.txt"), "link me\n").unwrap();
        g(&w, &["add", "."]);
        g(&w, &["commit", "-q", "-m", "one"]);
        std::fs::write(w.join("a.txt"), "one   two\n").unwrap();
        std::fs::write(w.join("b.txt"), "second\n").unwrap();
        std::fs::remove_file(w.join("c.txt")).unwrap();
        std::os::unix::fs::symlink("a.txt", w.join("c.txt")).unwrap();
        g(&w, &["add", "-A"]);
        g(&w, &["commit", "-q", "-m", "two"]);
        let r = Repo::open_git(&w.join(".git")).unwrap();
        let head = r.resolve("main").unwrap().unwrap();
        let ws = r
            .changes(
                &head,
                DiffOptions {
                    context: 3,
                    ignore_whitespace: true,
                },
            )
            .unwrap();
        let b = ws.iter().find(|f| f.path == "b.txt").unwrap();
        assert!(
            b.patch.contains("+second"),
            "b.txt keeps its own patch: {ws:?}"
        );
        assert!(
            ws.iter()
                .find(|f| f.path == "a.txt")
                .is_none_or(|a| !a.patch.contains("second"))
        );
        let all = r.changes(&head, DiffOptions::default()).unwrap();
        let c = all.iter().find(|f| f.path == "c.txt").unwrap();
        assert!(
            c.patch.contains("-link me") && c.patch.contains("+a.txt"),
            "both halves of the type change: {c:?}"
        );
        let b = all.iter().find(|f| f.path == "b.txt").unwrap();
        assert!(
            b.patch.contains("+second") && !b.patch.contains("a.txt"),
            "{b:?}"
        );
    }

    #[test]
    fn a_child_comes_before_its_parent_when_both_have_the_same_time() {
        // All commits made in the same second (g's fixed date): a feature rebased on main
        // and merged. The merge's first parent is an ancestor of its second.
        let tmp = tempfile::tempdir().unwrap();
        let w = tmp.path().join("w");
        g(tmp.path(), &["init", "-q", "-b", "main", "w"]);
        for (file, msg) in [("a", "A"), ("b", "B")] {
            std::fs::write(w.join(file), msg).unwrap();
            g(&w, &["add", "."]);
            g(&w, &["commit", "-q", "-m", "x"]);
        }
        g(&w, &["checkout", "-q", "-b", "f"]);
        std::fs::write(w.join("f"), "f").unwrap();
        g(&w, &["add", "."]);
        g(&w, &["commit", "-q", "-m", "feature"]);
        g(&w, &["checkout", "-q", "main"]);
        g(&w, &["merge", "-q", "--no-ff", "-m", "merge", "f"]);
        g(&w, &["commit-graph", "write", "--reachable"]);
        let r = Repo::open_git(&w.join(".git")).unwrap();
        let tip = ChangesetId(g(&w, &["rev-parse", "main"]).trim().to_owned());
        let ours: Vec<String> = r
            .history(&tip, None, 0, 10)
            .unwrap()
            .into_iter()
            .map(|c| c.id.0)
            .collect();
        let git: Vec<String> = g(&w, &["rev-list", "--date-order", "main"])
            .lines()
            .map(str::to_owned)
            .collect();
        assert_eq!(ours, git);
    }

    #[test]
    fn patches_of_names_git_quotes_are_found() {
        let tmp = tempfile::tempdir().unwrap();
        let w = tmp.path().join("w");
        g(tmp.path(), &["init", "-q", "-b", "main", "w"]);
        let names = ["café.txt", "tab\there", "quo\"te", "back\\slash"];
        for n in names {
            std::fs::write(w.join(n), "x\n").unwrap();
        }
        g(&w, &["add", "."]);
        g(&w, &["commit", "-q", "-m", "one"]);
        for n in names {
            std::fs::write(w.join(n), "x\ny\n").unwrap();
        }
        g(&w, &["commit", "-q", "-a", "-m", "two"]);
        let r = Repo::open_git(&w.join(".git")).unwrap();
        let two = r.resolve("main").unwrap().unwrap();
        // Ignoring whitespace, the diff is git's, with the names quoted in its headers.
        let opts = DiffOptions {
            context: 3,
            ignore_whitespace: true,
        };
        let files = r.changes(&two, opts).unwrap();
        assert_eq!(files.len(), 4);
        for f in &files {
            assert!(f.patch.contains("+y"), "{}: {:?}", f.path, f.patch);
        }
    }

    #[test]
    fn a_patch_past_the_limit_is_never_shown_in_part_nor_hides_the_next_and_modes_are_named() {
        let tmp = tempfile::tempdir().unwrap();
        let w = tmp.path().join("w");
        g(tmp.path(), &["init", "-q", "-b", "main", "w"]);
        std::fs::write(w.join("a.txt"), "small\n").unwrap();
        std::fs::write(w.join("m.txt"), "x\n").unwrap();
        g(&w, &["add", "."]);
        g(&w, &["commit", "-q", "-m", "one"]);
        // 18 MB of lines: more patch than a page keeps for one file, in the middle.
        std::fs::write(w.join("a.txt"), "small change\n").unwrap();
        let line = "0123456789abcdef0123456789abcdef\n";
        std::fs::write(w.join("m.txt"), line.repeat(18 * 1024 * 1024 / line.len())).unwrap();
        std::fs::write(w.join("z.txt"), "after\n").unwrap();
        g(&w, &["add", "."]);
        g(&w, &["commit", "-q", "-m", "two"]);
        g(&w, &["update-index", "--chmod=+x", "a.txt"]);
        g(&w, &["commit", "-q", "-m", "three"]);
        let r = Repo::open_git(&w.join(".git")).unwrap();
        let two = ChangesetId(g(&w, &["rev-parse", "HEAD~1"]).trim().to_owned());
        let files = r.changes(&two, DiffOptions::default()).unwrap();
        let f = |p: &str| files.iter().find(|f| f.path == p).unwrap();
        assert!(f("a.txt").patch.contains("+small change") && !f("a.txt").too_large);
        assert!(f("m.txt").too_large && f("m.txt").patch.is_empty());
        // The file after it is shown, and is known to be new.
        assert!(!f("z.txt").too_large && f("z.txt").patch.contains("+after"));
        assert_eq!(f("z.txt").kind, ChangeKind::Added);
        let three = r.resolve("main").unwrap().unwrap();
        let files = r.changes(&three, DiffOptions::default()).unwrap();
        assert_eq!(
            files[0].mode_change,
            Some(("100644".to_owned(), "100755".to_owned()))
        );
    }
}
