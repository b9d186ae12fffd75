//! In-process reading of a Git repository with gix: refs, commits, trees, blob sizes and
//! small blobs, and history walked in the order `git log` gives. These are the reads every
//! page makes; doing them without starting `git` is what keeps cold pages near the cost of
//! the git command itself. Everything else (path-limited history, diffs, blame, archives)
//! stays with the `git` command line in [`crate::git_read`].
//!
//! Only ids (never user text) reach this module: revisions were resolved and paths checked
//! by [`crate::read::valid_path`] before.

use std::collections::{BinaryHeap, HashSet};
use std::path::Path;

use gix::ObjectId;
use gix::objs::{CommitRef, Kind, TagRef, TreeRef};

use crate::read::{Changeset, ChangesetId, EntryKind, Person, RefInfo, RefKind, TreeEntry};
use crate::{Error, Result};

/// Blobs larger than this are not read into memory here (the caller streams a prefix).
pub(crate) const MAX_IN_MEMORY_BLOB: u64 = 64 * 1024 * 1024;

/// Tags are peeled at most this deep (a tag of a tag of ... a commit).
const MAX_PEEL: usize = 8;

fn odb_error(context: &str, e: impl std::fmt::Display) -> Error {
    Error::Objects(format!("{context}: {e}"))
}

/// An opened repository for in-process reads (cheap to open; one per request).
pub(crate) struct Objects {
    repo: gix::Repository,
}

/// An object reached by following tags, and the first tag on the way (if any).
struct Peeled {
    id: ObjectId,
    kind: Kind,
    data: Vec<u8>,
    tag: Option<Vec<u8>>,
}

/// What a path names in a tree.
pub(crate) struct PathEntry {
    pub kind: EntryKind,
    pub object: ObjectId,
    /// For files and symlinks.
    pub size: Option<u64>,
}

/// A commit's metadata with what the walk needs.
struct Entry {
    time: i64,
    order: std::cmp::Reverse<u64>,
    changeset: Changeset,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        (self.time, self.order) == (other.time, other.order)
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    /// Newest commit time first; among equal times, the one queued first (as git does).
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.time, self.order).cmp(&(other.time, other.order))
    }
}

/// `+HHMM` as `+HH:MM` (the form `git log --format=%aI` gives).
fn offset_with_colon(tz: &str) -> String {
    let tz = tz.trim();
    if tz.len() == 5 && (tz.starts_with('+') || tz.starts_with('-')) {
        format!("{}:{}", &tz[..3], &tz[3..])
    } else {
        "+00:00".to_owned()
    }
}

fn person(sig: &gix::actor::SignatureRef<'_>) -> Person {
    let sig = sig.trim();
    Person {
        name: String::from_utf8_lossy(sig.name).into_owned(),
        email: String::from_utf8_lossy(sig.email).into_owned(),
    }
}

/// The subject as git gives it for `%(contents:subject)`: the first paragraph on one line.
fn subject(message: &[u8]) -> String {
    let text = String::from_utf8_lossy(message);
    text.trim_start_matches('\n')
        .split("\n\n")
        .next()
        .unwrap_or("")
        .lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join(" ")
}

impl Objects {
    pub(crate) fn open(path: &Path) -> Result<Self> {
        let repo = gix::open_opts(path, gix::open::Options::isolated())
            .map_err(|e| odb_error("opening the repository", e))?;
        Ok(Self { repo })
    }

    fn id(hex: &str) -> Result<ObjectId> {
        ObjectId::from_hex(hex.as_bytes()).map_err(|e| odb_error("reading an object id", e))
    }

    /// An object's kind and data, or `None` when the repository does not have it.
    fn object(&self, id: ObjectId) -> Result<Option<(Kind, Vec<u8>)>> {
        match self.repo.try_find_object(id) {
            Ok(Some(mut o)) => Ok(Some((o.kind, std::mem::take(&mut o.data)))),
            Ok(None) => Ok(None),
            Err(e) => Err(odb_error("reading an object", e)),
        }
    }

    /// Follows annotated tags to the object they name; the first tag met is returned too.
    fn peel(&self, mut id: ObjectId) -> Result<Option<Peeled>> {
        let mut first_tag = None;
        for _ in 0..MAX_PEEL {
            let Some((kind, data)) = self.object(id)? else {
                return Ok(None);
            };
            if kind != Kind::Tag {
                return Ok(Some(Peeled {
                    id,
                    kind,
                    data,
                    tag: first_tag,
                }));
            }
            let tag = TagRef::from_bytes(&data, self.repo.object_hash())
                .map_err(|e| odb_error("reading a tag", e))?;
            id = tag.target();
            if first_tag.is_none() {
                first_tag = Some(data.clone());
            }
        }
        Ok(None)
    }

    fn parse_commit(&self, id: ObjectId, data: &[u8]) -> Result<Changeset> {
        let c = CommitRef::from_bytes(data, self.repo.object_hash())
            .map_err(|e| odb_error("reading a commit", e))?;
        let author = c
            .author()
            .map_err(|e| odb_error("reading a commit's author", e))?;
        let committer = c
            .committer()
            .map_err(|e| odb_error("reading a commit's committer", e))?;
        let tz = author.time.trim().split(' ').nth(1).unwrap_or("");
        Ok(Changeset {
            id: ChangesetId(id.to_string()),
            parents: c.parents().map(|p| ChangesetId(p.to_string())).collect(),
            author: person(&author),
            author_time: author.seconds(),
            author_offset: offset_with_colon(tz),
            committer: person(&committer),
            commit_time: committer.seconds(),
            message: String::from_utf8_lossy(c.message).trim_end().to_owned(),
        })
    }

    /// The commit an id names (peeling tags), or `None` when it names no commit.
    pub(crate) fn commit(&self, hex: &str) -> Result<Option<Changeset>> {
        let Some(Peeled { id, kind, data, .. }) = self.peel(Self::id(hex)?)? else {
            return Ok(None);
        };
        if kind != Kind::Commit {
            return Ok(None);
        }
        Ok(Some(self.parse_commit(id, &data)?))
    }

    /// True when the repository has no branch.
    pub(crate) fn has_no_branches(&self) -> Result<bool> {
        let refs = self
            .repo
            .references()
            .map_err(|e| odb_error("reading refs", e))?;
        let mut branches = refs
            .local_branches()
            .map_err(|e| odb_error("reading branches", e))?;
        Ok(branches.next().is_none())
    }

    /// Branches and tags with the commit each names, newest first (by the tagger's date for
    /// annotated tags, as `git for-each-ref --sort=-creatordate`); refs that do not name a
    /// commit are left out.
    pub(crate) fn refs(&self) -> Result<(Vec<RefInfo>, Vec<RefInfo>)> {
        let platform = self
            .repo
            .references()
            .map_err(|e| odb_error("reading refs", e))?;
        let mut lists: [Vec<(i64, RefInfo)>; 2] = [Vec::new(), Vec::new()];
        for (slot, kind) in [(0, RefKind::Branch), (1, RefKind::Tag)] {
            let iter = match kind {
                RefKind::Branch => platform.local_branches(),
                RefKind::Tag => platform.tags(),
            }
            .map_err(|e| odb_error("reading refs", e))?;
            for r in iter {
                let Ok(r) = r else { continue };
                let Some(target) = r.target().try_id().map(ToOwned::to_owned) else {
                    continue;
                };
                let name = String::from_utf8_lossy(r.name().shorten()).into_owned();
                let Some(Peeled {
                    id,
                    kind: kind_found,
                    data,
                    tag,
                }) = self.peel(target)?
                else {
                    continue;
                };
                if kind_found != Kind::Commit {
                    continue;
                }
                let cs = self.parse_commit(id, &data)?;
                let (created, summary) = match &tag {
                    Some(tag_data) => {
                        let t = TagRef::from_bytes(tag_data, self.repo.object_hash())
                            .map_err(|e| odb_error("reading a tag", e))?;
                        let created = t
                            .tagger()
                            .ok()
                            .flatten()
                            .map_or(cs.commit_time, |s| s.seconds());
                        (created, subject(t.message))
                    }
                    None => (cs.commit_time, subject(cs.message.as_bytes())),
                };
                lists[slot].push((
                    created,
                    RefInfo {
                        name,
                        kind,
                        target: cs.id.clone(),
                        time: cs.commit_time,
                        summary,
                    },
                ));
            }
        }
        let [mut branches, mut tags] = lists;
        for list in [&mut branches, &mut tags] {
            list.sort_by(|(ta, a), (tb, b)| tb.cmp(ta).then_with(|| a.name.cmp(&b.name)));
        }
        Ok((
            branches.into_iter().map(|(_, r)| r).collect(),
            tags.into_iter().map(|(_, r)| r).collect(),
        ))
    }

    /// Changesets reachable from `starts`, newest commit time first with ties in the order
    /// they were reached: the order of `git log` without options. `keep` decides, for each
    /// changeset in that order, whether to go on (`false` stops the walk).
    fn walk(&self, starts: &[ObjectId], mut keep: impl FnMut(Changeset) -> bool) -> Result<()> {
        let mut seen: HashSet<ObjectId> = HashSet::new();
        let mut queue = BinaryHeap::new();
        let mut order = 0u64;
        let mut push = |id: ObjectId, queue: &mut BinaryHeap<Entry>| -> Result<()> {
            if !seen.insert(id) {
                return Ok(());
            }
            let Some((Kind::Commit, data)) = self.object(id)? else {
                return Ok(());
            };
            let changeset = self.parse_commit(id, &data)?;
            order += 1;
            queue.push(Entry {
                time: changeset.commit_time,
                order: std::cmp::Reverse(order),
                changeset,
            });
            Ok(())
        };
        for id in starts {
            push(*id, &mut queue)?;
        }
        while let Some(entry) = queue.pop() {
            for p in &entry.changeset.parents {
                push(Self::id(&p.0)?, &mut queue)?;
            }
            if !keep(entry.changeset) {
                break;
            }
        }
        Ok(())
    }

    /// A page of history from `start`: `limit` changesets after skipping `skip`.
    pub(crate) fn history(&self, start: &str, skip: usize, limit: usize) -> Result<Vec<Changeset>> {
        let mut out = Vec::new();
        if limit == 0 {
            return Ok(out);
        }
        let mut skipped = 0;
        self.walk(&[Self::id(start)?], |cs| {
            if skipped < skip {
                skipped += 1;
                return true;
            }
            out.push(cs);
            out.len() < limit
        })?;
        Ok(out)
    }

    /// Changesets on branches whose parent is `id`, looking at most `budget` changesets
    /// back from the branch tips and no further back than `id`'s own commit time.
    pub(crate) fn children(
        &self,
        id: &str,
        limit: usize,
        budget: usize,
    ) -> Result<Vec<ChangesetId>> {
        let Some(parent) = self.commit(id)? else {
            return Ok(Vec::new());
        };
        let branches = self.branch_tips()?;
        let mut found = Vec::new();
        let mut visited = 0;
        self.walk(&branches, |cs| {
            visited += 1;
            if cs.commit_time < parent.commit_time || cs.id == parent.id {
                return visited < budget;
            }
            if cs.parents.contains(&parent.id) && !found.contains(&cs.id) {
                found.push(cs.id);
            }
            found.len() < limit && visited < budget
        })?;
        Ok(found)
    }

    /// The commit ids branches point at (tags are not followed).
    fn branch_tips(&self) -> Result<Vec<ObjectId>> {
        let platform = self
            .repo
            .references()
            .map_err(|e| odb_error("reading refs", e))?;
        let mut tips = Vec::new();
        for r in platform
            .local_branches()
            .map_err(|e| odb_error("reading branches", e))?
            .flatten()
        {
            if let Some(id) = r.target().try_id() {
                tips.push(id.to_owned());
            }
        }
        Ok(tips)
    }

    /// The tree of a commit.
    fn commit_tree(&self, commit: &str) -> Result<Option<ObjectId>> {
        let Some(Peeled {
            kind: Kind::Commit,
            data,
            ..
        }) = self.peel(Self::id(commit)?)?
        else {
            return Ok(None);
        };
        let c = CommitRef::from_bytes(&data, self.repo.object_hash())
            .map_err(|e| odb_error("reading a commit", e))?;
        Ok(Some(c.tree()))
    }

    /// What `path` ("" = the root folder) names at a commit: its kind, object id and, for
    /// files and symlinks, size.
    pub(crate) fn entry(&self, commit: &str, path: &str) -> Result<Option<PathEntry>> {
        let Some(mut tree) = self.commit_tree(commit)? else {
            return Ok(None);
        };
        if path.is_empty() {
            return Ok(Some(PathEntry {
                kind: EntryKind::Dir,
                object: tree,
                size: None,
            }));
        }
        let mut parts = path.split('/').peekable();
        while let Some(part) = parts.next() {
            let Some((Kind::Tree, data)) = self.object(tree)? else {
                return Ok(None);
            };
            let t = TreeRef::from_bytes(&data, self.repo.object_hash())
                .map_err(|e| odb_error("reading a tree", e))?;
            let Some(e) = t.entries.iter().find(|e| e.filename == part.as_bytes()) else {
                return Ok(None);
            };
            let oid = e.oid.to_owned();
            if parts.peek().is_none() {
                let kind = entry_kind(e.mode);
                let size = match kind {
                    EntryKind::File | EntryKind::Symlink => Some(self.size(oid)?),
                    _ => None,
                };
                return Ok(Some(PathEntry {
                    kind,
                    object: oid,
                    size,
                }));
            }
            if !e.mode.is_tree() {
                return Ok(None);
            }
            tree = oid;
        }
        Ok(None)
    }

    /// An object's size without reading it.
    pub(crate) fn size(&self, id: ObjectId) -> Result<u64> {
        self.repo
            .find_header(id)
            .map(|h| h.size())
            .map_err(|e| odb_error("reading an object's size", e))
    }

    /// A folder's entries, folders first, then by name (as bytes).
    pub(crate) fn list(&self, tree: ObjectId) -> Result<Vec<TreeEntry>> {
        let Some((Kind::Tree, data)) = self.object(tree)? else {
            return Ok(Vec::new());
        };
        let t = TreeRef::from_bytes(&data, self.repo.object_hash())
            .map_err(|e| odb_error("reading a tree", e))?;
        let mut entries = Vec::with_capacity(t.entries.len());
        for e in &t.entries {
            let kind = entry_kind(e.mode);
            let oid = e.oid.to_owned();
            let size = match kind {
                EntryKind::File | EntryKind::Symlink => Some(self.size(oid)?),
                _ => None,
            };
            entries.push(TreeEntry {
                name: String::from_utf8_lossy(e.filename).into_owned(),
                object: oid.to_string(),
                kind,
                size,
                executable: e.mode.is_executable(),
            });
        }
        entries.sort_by(|a, b| {
            (a.kind.min(EntryKind::File), &a.name).cmp(&(b.kind.min(EntryKind::File), &b.name))
        });
        Ok(entries)
    }

    /// A blob's content (callers check its size first), or `None` when it is not a blob.
    pub(crate) fn blob(&self, id: ObjectId) -> Result<Option<Vec<u8>>> {
        match self.object(id)? {
            Some((Kind::Blob, data)) => Ok(Some(data)),
            _ => Ok(None),
        }
    }

    pub(crate) fn parse_id(hex: &str) -> Result<ObjectId> {
        Self::id(hex)
    }
}

fn entry_kind(mode: gix::objs::tree::EntryMode) -> EntryKind {
    if mode.is_tree() {
        EntryKind::Dir
    } else if mode.is_commit() {
        EntryKind::Submodule
    } else if mode.is_link() {
        EntryKind::Symlink
    } else {
        EntryKind::File
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// git as a user runs it, to make the fixture and to say what the answers must be.
    #[allow(clippy::disallowed_methods)]
    fn git(dir: &Path, args: &[&str], date: &str) -> Vec<u8> {
        let out = std::process::Command::new("git")
            .args(["-c", "init.defaultBranch=main"])
            .args(args)
            .current_dir(dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_AUTHOR_NAME", " Ann  Author ")
            .env("GIT_AUTHOR_EMAIL", "ann@example.com")
            .env("GIT_AUTHOR_DATE", date)
            .env("GIT_COMMITTER_NAME", "Cy Committer")
            .env("GIT_COMMITTER_EMAIL", "cy@example.com")
            .env("GIT_COMMITTER_DATE", date)
            .output()
            .expect("git");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    /// A history with branches merged back, many commits at the same second (the order then
    /// depends on how the walk breaks ties), an annotated tag, a tag of a tag, a lightweight
    /// tag and a tag on a tree.
    fn fixture() -> tempfile::TempDir {
        let t = tempfile::tempdir().unwrap();
        let w = t.path().join("w");
        std::fs::create_dir(&w).unwrap();
        let same = "2024-01-02T03:04:05+05:30";
        git(&w, &["init", "-q"], same);
        let commit = |msg: &str, date: &str| {
            std::fs::write(w.join(format!("{}.txt", msg.len())), msg).unwrap();
            git(&w, &["add", "-A"], date);
            git(&w, &["commit", "-q", "-m", msg], date);
        };
        commit("root\n\nwith a body\nof two lines", same);
        for i in 0..4 {
            let b = format!("topic{i}");
            git(&w, &["checkout", "-q", "-b", &b], same);
            commit(&format!("on {b} one"), same);
            commit(&format!("on {b} two two"), "2024-01-02T04:00:00+00:00");
            git(&w, &["checkout", "-q", "main"], same);
            commit(&format!("main before merge {i}"), same);
            git(
                &w,
                &["merge", "-q", "--no-ff", "-m", &format!("Merge {b}"), &b],
                same,
            );
        }
        commit("older clock", "2023-12-31T00:00:00-08:00");
        git(
            &w,
            &[
                "tag",
                "-a",
                "-m",
                "release one\ncontinued\n\nbody",
                "v1",
                "HEAD~3",
            ],
            "2024-02-01T00:00:00Z",
        );
        git(
            &w,
            &["tag", "-a", "-m", "tag of a tag", "v1-again", "v1"],
            "2024-02-02T00:00:00Z",
        );
        git(&w, &["tag", "light", "HEAD~1"], same);
        git(&w, &["tag", "tree-tag", "HEAD^{tree}"], same);
        git(&w, &["clone", "-q", "--bare", ".", "../bare.git"], same);
        t
    }

    #[test]
    fn reads_agree_with_git() {
        let t = fixture();
        let bare = t.path().join("bare.git");
        let repo = crate::git_read::GitRepo::new(&bare);
        let objects = Objects::open(&bare).unwrap();

        // History: the same changesets in the same order as `git log`, page by page.
        let tip = String::from_utf8(git(&bare, &["rev-parse", "main"], "")).unwrap();
        let tip = tip.trim();
        let from_git = crate::git_read::tests_support::git_log(&repo, tip);
        assert!(from_git.len() > 15);
        assert_eq!(objects.history(tip, 0, 1000).unwrap(), from_git);
        assert_eq!(objects.history(tip, 5, 3).unwrap(), from_git[5..8]);
        assert!(objects.history(tip, 1000, 10).unwrap().is_empty());
        let root = from_git.last().unwrap();
        assert_eq!(root.message, "root\n\nwith a body\nof two lines");
        assert_eq!(root.author.name, "Ann  Author");
        assert_eq!(root.author_offset, "+05:30");

        // Refs: as `git for-each-ref --sort=-creatordate`, peeled to changesets.
        let (branches, tags) = objects.refs().unwrap();
        let names = |l: &[RefInfo]| l.iter().map(|r| r.name.clone()).collect::<Vec<_>>();
        let for_each_ref = |prefix: &str| {
            let out = git(
                &bare,
                &[
                    "for-each-ref",
                    "--sort=-creatordate",
                    "--format=%(refname:short)",
                    prefix,
                ],
                "",
            );
            String::from_utf8(out)
                .unwrap()
                .lines()
                .filter(|n| *n != "tree-tag")
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        assert_eq!(names(&branches), for_each_ref("refs/heads/"));
        assert_eq!(branches.len(), 5);
        assert_eq!(names(&tags), for_each_ref("refs/tags/"));
        assert_eq!(
            names(&tags),
            ["v1-again", "v1", "light"],
            "the tree tag is left out"
        );
        assert_eq!(tags[1].summary, "release one continued");
        assert_eq!(tags[0].target, tags[1].target);
        let v1 = String::from_utf8(git(&bare, &["rev-parse", "v1^{commit}"], "")).unwrap();
        assert_eq!(tags[1].target.0, v1.trim());

        // Trees and sizes, as `git ls-tree --long`.
        let root_entry = objects.entry(tip, "").unwrap().unwrap();
        assert_eq!(root_entry.kind, EntryKind::Dir);
        let tree = root_entry.object;
        let listed = objects.list(tree).unwrap();
        let ls = String::from_utf8(git(&bare, &["ls-tree", "--long", "main"], "")).unwrap();
        assert_eq!(listed.len(), ls.lines().count());
        for e in &listed {
            let line = ls
                .lines()
                .find(|l| l.ends_with(&format!("\t{}", e.name)))
                .unwrap();
            assert!(line.contains(&e.object));
            assert!(line.contains(&format!(" {}\t", e.size.unwrap())));
        }
        assert!(objects.entry(tip, "4.txt/x").unwrap().is_none());
        assert!(objects.entry(tip, "missing").unwrap().is_none());

        // Children: every changeset on a branch with the root as a parent, as git lists them.
        let parents =
            String::from_utf8(git(&bare, &["rev-list", "--parents", "--branches"], "")).unwrap();
        let mut expected: Vec<ChangesetId> = parents
            .lines()
            .filter(|l| l.split(' ').skip(1).any(|p| p == root.id.0))
            .map(|l| ChangesetId(l[..40].to_owned()))
            .collect();
        let mut kids = objects.children(&root.id.0, 20, 1000).unwrap();
        assert_eq!(kids.len(), 2);
        expected.sort();
        kids.sort();
        assert_eq!(kids, expected);
        assert!(
            objects.commit(&tree.to_string()).unwrap().is_none(),
            "a tree is no changeset"
        );
    }
}
