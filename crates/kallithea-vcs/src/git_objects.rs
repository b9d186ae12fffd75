//! In-process reading of a Git repository with gix: refs, commits, trees, blob sizes and
//! small blobs, and history walked in the order `git log` gives. These are the reads every
//! page makes; doing them without starting `git` is what keeps cold pages near the cost of
//! the git command itself. Everything else (path-limited history, diffs, blame, archives)
//! stays with the `git` command line in [`crate::git_read`].
//!
//! Only ids (never user text) reach this module: revisions were resolved and paths checked
//! by [`crate::read::valid_path`] before.

use std::collections::{BinaryHeap, HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use gix::ObjectId;
use gix::objs::tree::EntryRef;
use gix::objs::{Kind, TagRef, TreeRef};

use crate::git_commit::{CommitFields, Ident};

use crate::read::{
    Changeset, ChangesetId, EntryKind, LastChange, PathItem, PathList, Person, RefDetails, RefInfo,
    RefKind, TreeEntry,
};
use crate::{Error, Result};

/// Blobs larger than this are not read into memory here (the caller streams a prefix).
pub(crate) const MAX_IN_MEMORY_BLOB: u64 = 64 * 1024 * 1024;

/// How far commit clocks may disagree (seconds) when history is cut by time.
const CLOCK_SKEW: i64 = 86_400;

/// Most tree entries [`Objects::paths`] reads.
const MAX_PATHS_READ: usize = 1_000_000;
/// Most bytes of paths [`Objects::paths`] lists.
const MAX_PATH_BYTES: usize = 16 * 1024 * 1024;
/// Deepest folder [`Objects::paths`] enters.
const MAX_PATHS_DEPTH: usize = 256;

/// How many commits beyond twice a history page the date-order walk may look at.
const DATE_ORDER_LOOKAHEAD: usize = 10_000;

/// Tags are peeled at most this deep (a tag of a tag of ... a commit).
const MAX_PEEL: usize = 8;

fn odb_error(context: &str, e: impl std::fmt::Display) -> Error {
    Error::Objects(format!("{context}: {e}"))
}

/// An opened repository for in-process reads (one per call, made from a handle kept in
/// [`KEPT`]).
pub(crate) struct Objects {
    repo: gix::Repository,
    /// The folder it was opened by (its key in [`KEPT`]).
    path: std::path::PathBuf,
}

/// Repositories opened before, by folder: a handle (config read, pack indexes mapped, object
/// caches warm) is kept and shared by the requests that follow. gix
/// re-reads refs that changed on disk and looks for new packs when an object is missing,
/// so a push shows at once. A folder replaced by another (a new repository under the same
/// name) is told apart by its inode; handles unused for a while are dropped so that
/// deleted repositories do not stay mapped.
static KEPT: std::sync::Mutex<Option<HashMap<std::path::PathBuf, Kept>>> =
    std::sync::Mutex::new(None);

/// Most repositories kept open at once.
const MAX_KEPT: usize = 64;
/// Handles unused this long are dropped.
const KEPT_IDLE: std::time::Duration = std::time::Duration::from_secs(30 * 60);

/// Drops the kept handles of repositories at or below `path` (moved, renamed or deleted).
pub(crate) fn forget_under(path: &Path) {
    if let Some(kept) = KEPT.lock().unwrap_or_else(|p| p.into_inner()).as_mut() {
        kept.retain(|p, _| !p.starts_with(path));
    }
}

struct Kept {
    repo: gix::ThreadSafeRepository,
    identity: u64,
    used: std::time::Instant,
    /// The commit-graph as last opened, and the stamp of its files then. Opening it maps
    /// and checks its files, and the first reads fault their pages in: on a big repository
    /// that cost more than the walk itself, so it is kept until the files change.
    graph: KeptGraph,
}

/// Time, size and inode of the commit-graph files: git writes a new graph (or chain) to a
/// new file and renames it into place.
type GraphStamp = [Option<(std::time::SystemTime, u64, u64)>; 2];

type KeptGraph = Option<(GraphStamp, Option<Arc<gix::commitgraph::Graph>>)>;

fn kept_graph<'a>(
    kept: &'a mut Option<HashMap<std::path::PathBuf, Kept>>,
    path: &Path,
) -> Option<&'a mut KeptGraph> {
    kept.as_mut()?.get_mut(path).map(|k| &mut k.graph)
}

fn graph_stamp(git_dir: &Path) -> GraphStamp {
    let stamp = |p: &Path| {
        let m = std::fs::metadata(p).ok()?;
        #[cfg(unix)]
        let ino = std::os::unix::fs::MetadataExt::ino(&m);
        #[cfg(not(unix))]
        let ino = 0;
        Some((m.modified().ok()?, m.len(), ino))
    };
    let info = git_dir.join("objects/info");
    [
        stamp(&info.join("commit-graph")),
        stamp(&info.join("commit-graphs/commit-graph-chain")),
    ]
}

/// What tells a repository folder from another one later created at the same path.
fn identity(path: &Path) -> u64 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(path).map_or(0, |m| m.ino() ^ (m.dev() << 32))
    }
    #[cfg(not(unix))]
    {
        std::fs::metadata(path)
            .and_then(|m| m.created())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos() as u64)
    }
}

/// An object reached by following tags, and the first tag on the way (if any).
struct Peeled {
    id: ObjectId,
    kind: Kind,
    data: Vec<u8>,
    tag: Option<Vec<u8>>,
}

/// One entry of a tree as stored.
pub(crate) struct TreeItem {
    pub name: Vec<u8>,
    pub mode: gix::objs::tree::EntryMode,
    pub id: ObjectId,
}

/// What a path names in a tree.
pub(crate) struct PathEntry {
    pub kind: EntryKind,
    pub object: ObjectId,
    /// For files and symlinks.
    pub size: Option<u64>,
}

/// Where a walk places a commit: by commit time, then (for equal times) by generation from
/// the commit-graph, so a child comes before its parent even when both carry the same
/// second (a rebase and a merge made by a script). Commits missing from the graph are newer
/// than it and count as the highest generation.
type WalkKey = (i64, u32);

/// A commit queued by a walk: its place, when it was reached, and what the walk read of it.
struct Entry<T> {
    key: WalkKey,
    order: std::cmp::Reverse<u64>,
    commit: T,
}

impl<T> PartialEq for Entry<T> {
    fn eq(&self, other: &Self) -> bool {
        (self.key, self.order) == (other.key, other.order)
    }
}
impl<T> Eq for Entry<T> {}
impl<T> PartialOrd for Entry<T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for Entry<T> {
    /// Newest commit time first; among equal times the highest generation, then the one
    /// queued first (as git does).
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.key, self.order).cmp(&(other.key, other.order))
    }
}

/// A commit's place in history, and the changeset when it was read whole.
struct Links {
    id: ObjectId,
    time: i64,
    parents: Vec<ObjectId>,
    changeset: Option<Changeset>,
}

/// Commits reachable from `starts` in `git log`'s order (newest commit time first, ties in
/// the order they were reached), except that among equal times children come first where
/// the commit-graph gives generations ([`WalkKey`]). `load` reads a commit's time and what `visit` needs of it
/// (`None`: not a commit, left out); `visit` names the parents to go on through, or `None`
/// to stop.
fn walk_by<T>(
    starts: &[ObjectId],
    mut load: impl FnMut(ObjectId) -> Result<Option<(WalkKey, T)>>,
    mut visit: impl FnMut(T) -> Result<Option<Vec<ObjectId>>>,
) -> Result<()> {
    let mut seen: HashSet<ObjectId> = HashSet::new();
    let mut queue = BinaryHeap::new();
    let mut order = 0u64;
    let mut push = |id: ObjectId, queue: &mut BinaryHeap<Entry<T>>| -> Result<()> {
        if !seen.insert(id) {
            return Ok(());
        }
        let Some((key, commit)) = load(id)? else {
            return Ok(());
        };
        order += 1;
        queue.push(Entry {
            key,
            order: std::cmp::Reverse(order),
            commit,
        });
        Ok(())
    };
    for id in starts {
        push(*id, &mut queue)?;
    }
    while let Some(entry) = queue.pop() {
        let Some(parents) = visit(entry.commit)? else {
            break;
        };
        for p in parents {
            push(p, &mut queue)?;
        }
    }
    Ok(())
}

/// `+HHMM` as `+HH:MM` (the form `git log --format=%aI` gives).
fn offset_with_colon(tz: &str) -> String {
    let tz = tz.trim();
    if tz.len() == 5 && tz.is_ascii() && (tz.starts_with('+') || tz.starts_with('-')) {
        format!("{}:{}", &tz[..3], &tz[3..])
    } else {
        "+00:00".to_owned()
    }
}

/// How a commit's text is written: UTF-8, unless its `encoding` header names another
/// encoding (as in repositories converted from older systems). git shows such commits
/// converted to UTF-8, and so do we; without the header (or with one it does not know),
/// text that is not UTF-8 is read as `default_encoding` says ([`crate::text`]).
#[derive(Clone, Copy)]
struct CommitText(Option<&'static encoding_rs::Encoding>);

impl CommitText {
    fn of(commit: &CommitFields<'_>) -> Self {
        Self(
            commit
                .encoding
                .and_then(|label| encoding_rs::Encoding::for_label(label.trim_ascii()))
                .filter(|e| *e != encoding_rs::UTF_8),
        )
    }

    fn decode(self, bytes: &[u8]) -> String {
        match self.0 {
            Some(encoding) => encoding.decode_without_bom_handling(bytes).0.into_owned(),
            None => crate::text::decode(bytes).into_owned(),
        }
    }
}

fn person(ident: &Ident<'_>, text: CommitText) -> Person {
    Person {
        name: text.decode(ident.name),
        email: text.decode(ident.email),
    }
}

/// The subject as git gives it for `%(contents:subject)`: the first paragraph on one line,
/// read as commit messages are (`default_encoding`).
fn subject(message: &[u8]) -> String {
    let text = crate::text::decode(message);
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
        let id = identity(path);
        let now = std::time::Instant::now();
        {
            let mut kept = KEPT.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(k) = kept.get_or_insert_with(HashMap::new).get_mut(path)
                && k.identity == id
            {
                k.used = now;
                return Ok(Self {
                    repo: k.repo.to_thread_local(),
                    path: path.to_owned(),
                });
            }
        }
        // Opened outside the lock: other repositories are not kept waiting.
        let shared = gix::ThreadSafeRepository::open_opts(path, gix::open::Options::isolated())
            .map_err(|e| odb_error("opening the repository", e))?;
        let repo = shared.to_thread_local();
        let mut kept = KEPT.lock().unwrap_or_else(|p| p.into_inner());
        let kept = kept.get_or_insert_with(HashMap::new);
        kept.retain(|_, k| now.duration_since(k.used) < KEPT_IDLE);
        if kept.len() >= MAX_KEPT
            && let Some(oldest) = kept
                .iter()
                .min_by_key(|(_, k)| k.used)
                .map(|(p, _)| p.clone())
        {
            kept.remove(&oldest);
        }
        kept.insert(
            path.to_owned(),
            Kept {
                repo: shared,
                identity: id,
                used: now,
                graph: None,
            },
        );
        Ok(Self {
            repo,
            path: path.to_owned(),
        })
    }

    /// The repository's commit-graph, if it has one, opened once per version of its files.
    fn commit_graph(&self) -> Option<Arc<gix::commitgraph::Graph>> {
        // Windows cannot replace or delete a file while it is mapped: git could then never
        // write a new graph. There it is opened for each walk, as gix does.
        if cfg!(windows) {
            return self.repo.commit_graph().ok().map(Arc::new);
        }
        let stamp = graph_stamp(self.repo.git_dir());
        if stamp == [None, None] {
            return None;
        }
        {
            let mut kept = KEPT.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(Some((s, g))) = kept_graph(&mut kept, &self.path)
                && *s == stamp
            {
                return g.clone();
            }
        }
        let graph = self.repo.commit_graph().ok().map(Arc::new);
        let mut kept = KEPT.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(slot) = kept_graph(&mut kept, &self.path) {
            *slot = Some((stamp, graph.clone()));
        }
        graph
    }

    fn id(hex: &str) -> Result<ObjectId> {
        ObjectId::from_hex(hex.as_bytes()).map_err(|e| odb_error("reading an object id", e))
    }

    /// The repository's folder.
    pub(crate) fn git_dir(&self) -> &Path {
        self.repo.git_dir()
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
            let tag = TagRef::from_bytes(&data).map_err(|e| odb_error("reading a tag", e))?;
            id = tag.target();
            if first_tag.is_none() {
                first_tag = Some(data.clone());
            }
        }
        Ok(None)
    }

    fn parse_commit(&self, id: ObjectId, data: &[u8]) -> Result<Changeset> {
        let c = CommitFields::parse(data);
        let text = CommitText::of(&c);
        Ok(Changeset {
            id: ChangesetId(id.to_string()),
            parents: c
                .parents
                .iter()
                .map(|p| ChangesetId(p.to_string()))
                .collect(),
            author: person(&c.author, text),
            author_time: c.author.seconds,
            author_offset: offset_with_colon(&String::from_utf8_lossy(c.author.offset)),
            committer: person(&c.committer, text),
            commit_time: c.committer.seconds,
            message: text.decode(c.message).trim_end().to_owned(),
        })
    }

    /// The commit an id names (peeling tags), or `None` when it names no commit.
    pub(crate) fn commit(&self, hex: &str) -> Result<Option<Changeset>> {
        // An id of another hash's length names nothing here.
        let Ok(id) = Self::id(hex) else {
            return Ok(None);
        };
        let Some(Peeled { id, kind, data, .. }) = self.peel(id)? else {
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

    fn references(&self, kind: RefKind) -> Result<Vec<gix::refs::Reference>> {
        let platform = self
            .repo
            .references()
            .map_err(|e| odb_error("reading refs", e))?;
        let iter = match kind {
            RefKind::Branch => platform.local_branches(),
            RefKind::Tag => platform.tags(),
        }
        .map_err(|e| odb_error("reading refs", e))?;
        // Refs that cannot be read (broken files) are left out, as git leaves them out.
        Ok(iter.flatten().map(|r| r.detach()).collect())
    }

    /// Branches and tags by name with what each names, without reading objects where the
    /// refs say it: packed refs carry the peeled id of annotated tags (and a packed tag
    /// without one is not annotated), so only loose tags are looked at. A lightweight tag
    /// of a tree or blob is listed with that object (pages then say there is no such
    /// changeset); annotated tags are followed to what they finally name.
    pub(crate) fn refs(&self) -> Result<(Vec<RefInfo>, Vec<RefInfo>)> {
        // Called when the refs on disk changed: gix notices a new `packed-refs` by its time,
        // which can miss a rewrite within one tick, so it is read again here. (No file is
        // fine: then there are no packed refs.)
        let _ = self.repo.refs.force_refresh_packed_buffer();
        let loose_tags = loose_ref_names(&self.repo.git_dir().join("refs/tags"));
        let mut lists: [Vec<RefInfo>; 2] = [Vec::new(), Vec::new()];
        for (slot, kind) in [(0, RefKind::Branch), (1, RefKind::Tag)] {
            for r in self.references(kind)? {
                let Some(direct) = r.target.try_id().map(ToOwned::to_owned) else {
                    continue;
                };
                let name = String::from_utf8_lossy(r.name.shorten()).into_owned();
                let target = match (kind, r.peeled) {
                    // git keeps branches on commits.
                    (RefKind::Branch, _) => direct,
                    (RefKind::Tag, Some(peeled)) => peeled,
                    (RefKind::Tag, None) if !loose_tags.contains(&name) => direct,
                    (RefKind::Tag, None) => match self.kind_of(direct)? {
                        Some(Kind::Tag) => match self.peel(direct)? {
                            Some(p) => p.id,
                            None => continue,
                        },
                        Some(_) => direct,
                        None => continue,
                    },
                };
                lists[slot].push(RefInfo {
                    name,
                    kind,
                    target: ChangesetId(target.to_string()),
                });
            }
            lists[slot].sort_by(|a, b| a.name.cmp(&b.name));
        }
        let [branches, tags] = lists;
        Ok((branches, tags))
    }

    /// An object's kind without reading it, `None` when missing.
    fn kind_of(&self, id: ObjectId) -> Result<Option<Kind>> {
        match self.repo.try_find_header(id) {
            Ok(h) => Ok(h.map(|h| h.kind())),
            Err(e) => Err(odb_error("reading an object's kind", e)),
        }
    }

    /// Branches or tags with the commit each names, its time and first line, newest first
    /// (by the tagger's date for annotated tags, as `git for-each-ref --sort=-creatordate`);
    /// refs that do not name a commit are left out.
    pub(crate) fn ref_details(&self, kind: RefKind) -> Result<Vec<RefDetails>> {
        let mut list: Vec<(i64, RefDetails)> = Vec::new();
        for r in self.references(kind)? {
            let Some(target) = r.target.try_id().map(ToOwned::to_owned) else {
                continue;
            };
            let Some(Peeled {
                id,
                kind: Kind::Commit,
                data,
                tag,
            }) = self.peel(target)?
            else {
                continue;
            };
            let cs = self.parse_commit(id, &data)?;
            let (created, summary) = match &tag {
                Some(tag_data) => {
                    let t =
                        TagRef::from_bytes(tag_data).map_err(|e| odb_error("reading a tag", e))?;
                    let created = t
                        .tagger()
                        .ok()
                        .flatten()
                        .map_or(cs.commit_time, |s| s.seconds());
                    (created, subject(t.message))
                }
                None => (cs.commit_time, subject(cs.message.as_bytes())),
            };
            list.push((
                created,
                RefDetails {
                    info: RefInfo {
                        name: String::from_utf8_lossy(r.name.shorten()).into_owned(),
                        kind,
                        target: cs.id.clone(),
                    },
                    time: created,
                    summary,
                },
            ));
        }
        list.sort_by(|(ta, a), (tb, b)| tb.cmp(ta).then_with(|| a.info.name.cmp(&b.info.name)));
        Ok(list.into_iter().map(|(_, r)| r).collect())
    }

    fn parent_ids(cs: &Changeset) -> Result<Vec<ObjectId>> {
        cs.parents.iter().map(|p| Self::id(&p.0)).collect()
    }

    /// Commits reachable from `start` as `git log --date-order` gives them: newest commit
    /// time first (ties in the order they became ready), but never a commit before all its
    /// children, so the changelog graph never draws a parent above a child, even when
    /// committers' clocks disagree. The children are known by generation: every child of a
    /// commit has a higher one, so a commit is ready once the commits of its generation and
    /// above have been looked at and all its children shown (git's own incremental walk).
    /// Commits newer than the commit-graph count as the highest generation.
    ///
    /// gix gives topological levels, not git's corrected dates: a history merged in from
    /// elsewhere (low levels, recent dates) would make the walk look at most of the other
    /// history first. At most `budget` commits are looked at ahead of those shown; past it a
    /// commit is shown once its children that were looked at are (as plain `git log` does).
    /// `visit` is given each commit in turn and names its parents to go on, or `None` to stop.
    fn walk_date_order(
        &self,
        start: ObjectId,
        graph: &gix::commitgraph::Graph,
        mut budget: usize,
        visit: &mut dyn FnMut(Links) -> Result<Option<Vec<ObjectId>>>,
    ) -> Result<()> {
        /// What the walk knows of a commit: its place, how many of its children that were
        /// looked at are not shown yet, and whether its parents are counted.
        struct Known {
            key: WalkKey,
            waiting: u32,
            counted: bool,
            /// Until the commit is shown.
            links: Option<Links>,
        }
        type Heap<K> = BinaryHeap<(K, std::cmp::Reverse<u64>, ObjectId)>;
        struct Walk<'a> {
            objects: &'a Objects,
            graph: &'a gix::commitgraph::Graph,
            known: gix::hashtable::HashMap<ObjectId, Known>,
            /// Commits found whose parents are not counted yet, highest generation first.
            explore: Heap<u32>,
            /// Commits whose children have all been shown, newest first.
            ready: Heap<i64>,
            order: u64,
        }
        impl Walk<'_> {
            fn tick(&mut self) -> std::cmp::Reverse<u64> {
                self.order += 1;
                std::cmp::Reverse(self.order)
            }
            /// Reads a commit into `known`; false when it is no commit.
            fn load(&mut self, id: ObjectId) -> Result<bool> {
                let Some((key, links)) = self.objects.links(Some(self.graph), id, true)? else {
                    return Ok(false);
                };
                let known = Known {
                    key,
                    waiting: 0,
                    counted: false,
                    links: Some(links),
                };
                self.known.insert(id, known);
                Ok(true)
            }
            /// Counts a commit's parents as waiting for it (once).
            fn count(&mut self, id: ObjectId) -> Result<()> {
                let Some(k) = self.known.get_mut(&id).filter(|k| !k.counted) else {
                    return Ok(());
                };
                k.counted = true;
                let parents = k
                    .links
                    .as_ref()
                    .map(|l| l.parents.clone())
                    .unwrap_or_default();
                for p in parents {
                    if let Some(k) = self.known.get_mut(&p) {
                        k.waiting += 1;
                    } else if self.load(p)? {
                        let tick = self.tick();
                        if let Some(k) = self.known.get_mut(&p) {
                            k.waiting = 1;
                            self.explore.push((k.key.1, tick, p));
                        }
                    }
                }
                Ok(())
            }
            /// Counts the parents of the commits found at generation `at` or above, while
            /// the budget lasts.
            fn explore_down_to(&mut self, at: u32, budget: &mut usize) -> Result<()> {
                while *budget > 0 && self.explore.peek().is_some_and(|(g, _, _)| *g >= at) {
                    let Some((_, _, id)) = self.explore.pop() else {
                        break;
                    };
                    *budget -= 1;
                    self.count(id)?;
                }
                Ok(())
            }
        }
        let mut walk = Walk {
            objects: self,
            graph,
            known: Default::default(),
            explore: BinaryHeap::new(),
            ready: BinaryHeap::new(),
            order: 0,
        };
        if !walk.load(start)? {
            return Ok(());
        }
        let key = walk.known[&start].key;
        let tick = walk.tick();
        walk.ready.push((key.0, tick, start));
        while let Some((_, _, id)) = walk.ready.pop() {
            let Some(generation) = walk.known.get(&id).map(|k| k.key.1) else {
                continue;
            };
            // Everything that could be a child of its parents is counted first.
            walk.explore_down_to(generation, &mut budget)?;
            walk.count(id)?;
            let Some(links) = walk.known.get_mut(&id).and_then(|k| k.links.take()) else {
                continue;
            };
            let Some(parents) = visit(links)? else {
                break;
            };
            for p in parents {
                let Some(generation) = walk.known.get(&p).map(|k| k.key.1) else {
                    continue;
                };
                // Every child of `p` has a higher generation: once those are counted, `p`
                // waits only for children not shown yet.
                walk.explore_down_to(generation, &mut budget)?;
                let tick = walk.tick();
                if let Some(k) = walk.known.get_mut(&p) {
                    k.waiting = k.waiting.saturating_sub(1);
                    if k.waiting == 0 {
                        walk.ready.push((k.key.0, tick, p));
                    }
                }
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
        // A tag names the changeset it was made on.
        let start = match self.peel(Self::id(start)?)? {
            Some(p) if p.kind == Kind::Commit => p.id,
            _ => return Ok(out),
        };
        // Skipped changesets are only placed in order: the commit-graph gives their times
        // and parents without reading them.
        let graph = self.commit_graph();
        let graph = graph.as_deref();
        let mut index = 0;
        let mut visit = |links: Links| -> Result<Option<Vec<ObjectId>>> {
            if index >= skip {
                let changeset = match links.changeset {
                    Some(cs) => cs,
                    None => match self.object(links.id)? {
                        Some((Kind::Commit, data)) => self.parse_commit(links.id, &data)?,
                        _ => return Ok(None),
                    },
                };
                out.push(changeset);
            }
            index += 1;
            Ok((out.len() < limit).then_some(links.parents))
        };
        match graph {
            // Generations make the children-first order cheap to keep.
            // Looking ahead a little past the page is what keeping the order costs.
            Some(g) => {
                let budget = 2 * (skip + limit) + DATE_ORDER_LOOKAHEAD;
                self.walk_date_order(start, g, budget, &mut visit)?
            }
            None => walk_by(&[start], |id| self.links(None, id, true), visit)?,
        }
        Ok(out)
    }

    /// Changesets on branches whose parent is `id`, looking at most `budget` changesets
    /// back from the branch tips and no further back than a day before `id`'s commit time.
    /// Times and parents come from the commit-graph file where it lists a commit (no object
    /// to read); commits newer than the file are read.
    pub(crate) fn children(
        &self,
        id: &str,
        limit: usize,
        budget: usize,
    ) -> Result<Vec<ChangesetId>> {
        let Some(parent) = self.commit(id)? else {
            return Ok(Vec::new());
        };
        let parent_id = Self::id(&parent.id.0)?;
        let graph = self.commit_graph();
        let graph = graph.as_deref();
        let branches = self.branch_tips()?;
        let mut found = Vec::new();
        let mut visited = 0;
        walk_by(
            &branches,
            |id| self.links(graph, id, false),
            |Links {
                 id, time, parents, ..
             }| {
                visited += 1;
                if parents.contains(&parent_id) && !found.contains(&id) {
                    found.push(id);
                }
                // Newest first: once the walk is a day (for clocks that disagree) older than
                // the parent, no child can follow.
                let past = time.saturating_add(CLOCK_SKEW) < parent.commit_time;
                Ok((found.len() < limit && visited < budget && !past).then_some(parents))
            },
        )?;
        Ok(found
            .into_iter()
            .map(|id| ChangesetId(id.to_string()))
            .collect())
    }

    /// A commit's committer time and parents (`None`: not a commit), with its place for
    /// [`walk_by`]. When the commit had to be read, its changeset comes along if `full`.
    fn links(
        &self,
        graph: Option<&gix::commitgraph::Graph>,
        id: ObjectId,
        full: bool,
    ) -> Result<Option<(WalkKey, Links)>> {
        if let Some((graph, c)) = graph.and_then(|g| Some((g, g.commit_by_id(id)?))) {
            let parents: std::result::Result<Vec<ObjectId>, _> = c
                .iter_parents()
                .map(|p| p.map(|pos| graph.id_at(pos).to_owned()))
                .collect();
            if let (Ok(parents), Ok(time)) = (parents, i64::try_from(c.committer_timestamp())) {
                let links = Links {
                    id,
                    time,
                    parents,
                    changeset: None,
                };
                return Ok(Some(((time, c.generation()), links)));
            }
        }
        let Some((Kind::Commit, data)) = self.object(id)? else {
            return Ok(None);
        };
        let links = if full {
            let cs = self.parse_commit(id, &data)?;
            Links {
                id,
                time: cs.commit_time,
                parents: Self::parent_ids(&cs)?,
                changeset: Some(cs),
            }
        } else {
            let c = CommitFields::parse(&data);
            Links {
                id,
                time: c.committer.seconds,
                parents: c.parents,
                changeset: None,
            }
        };
        Ok(Some(((links.time, u32::MAX), links)))
    }

    /// For each of `names` in the folder `dir`, the newest changeset that changed it, as
    /// `git log --name-only -- <dir>` finds it: history simplified by the folder (a merge
    /// whose folder equals a parent's is followed through that parent only), merges naming
    /// no files. At most `budget` changesets are looked at; names not found are left out.
    pub(crate) fn last_changes(
        &self,
        start: &str,
        dir: &str,
        names: &[String],
        budget: usize,
    ) -> Result<HashMap<String, LastChange>> {
        let mut found: HashMap<String, LastChange> = HashMap::new();
        let wanted: HashSet<&str> = names.iter().map(String::as_str).collect();
        let mut folders: HashMap<ObjectId, Option<ObjectId>> = HashMap::new();
        let mut visited = 0;
        // Folder entries compared: a folder of thousands of files costs per commit.
        let mut compared = 0usize;
        // The commit-graph gives each commit's parents and root tree: only the commits that
        // last changed a name are read.
        let graph = self.commit_graph();
        let graph = graph.as_deref();
        walk_by(
            &[Self::id(start)?],
            |id| self.links(graph, id, false),
            |links| {
                visited += 1;
                let (id, parents) = (links.id, links.parents);
                let mine = self.folder_of(graph, &mut folders, id, dir)?;
                let mut theirs = Vec::with_capacity(parents.len());
                for p in &parents {
                    theirs.push(self.folder_of(graph, &mut folders, *p, dir)?);
                }
                let follow = match theirs.iter().position(|t| *t == mine) {
                    // Nothing changed in the folder through that parent: only it is followed
                    // (git simplifies history only when a folder is named).
                    Some(same) if parents.len() > 1 && !dir.is_empty() => vec![parents[same]],
                    _ => parents.clone(),
                };
                if parents.len() <= 1 && theirs.first().copied().flatten() != mine {
                    let before = theirs.first().copied().flatten();
                    let (mut changed, entries) = self.changed_names(before, mine)?;
                    compared += entries;
                    changed.retain(|n| !found.contains_key(n) && wanted.contains(n.as_str()));
                    if !changed.is_empty() {
                        let Some((Kind::Commit, data)) = self.object(id)? else {
                            return Ok(None);
                        };
                        let cs = self.parse_commit(id, &data)?;
                        let summary = subject(cs.message.as_bytes());
                        for name in changed {
                            let change = LastChange {
                                id: cs.id.clone(),
                                author_time: cs.author_time,
                                summary: summary.clone(),
                            };
                            found.insert(name, change);
                        }
                    }
                }
                let more = visited < budget && compared < MAX_LAST_CHANGE_ENTRIES;
                Ok((found.len() < names.len() && more).then_some(follow))
            },
        )?;
        Ok(found)
    }

    /// The tree of folder `dir` at a commit (remembered in `cache`), `None` when absent.
    fn folder_of(
        &self,
        graph: Option<&gix::commitgraph::Graph>,
        cache: &mut HashMap<ObjectId, Option<ObjectId>>,
        commit: ObjectId,
        dir: &str,
    ) -> Result<Option<ObjectId>> {
        if let Some(t) = cache.get(&commit) {
            return Ok(*t);
        }
        let root = match graph.and_then(|g| g.commit_by_id(commit)) {
            Some(c) => Some(c.root_tree_id().to_owned()),
            None => self.commit_tree(&commit.to_string())?,
        };
        let tree = match root {
            Some(root) => self.subtree(root, dir)?,
            None => None,
        };
        cache.insert(commit, tree);
        Ok(tree)
    }

    /// A tree's entries in stored order, or `None` when `id` names no tree.
    pub(crate) fn tree_entries(&self, id: ObjectId) -> Result<Option<Vec<TreeItem>>> {
        let Some((Kind::Tree, data)) = self.object(id)? else {
            return Ok(None);
        };
        let t = TreeRef::from_bytes(&data).map_err(|e| odb_error("reading a tree", e))?;
        Ok(Some(
            t.entries
                .iter()
                .map(|e| TreeItem {
                    name: e.filename.to_vec(),
                    mode: e.mode,
                    id: e.oid.to_owned(),
                })
                .collect(),
        ))
    }

    /// The entry named `name` in a tree, if any.
    fn child(&self, tree: ObjectId, name: &str) -> Result<Option<TreeItem>> {
        let Some((Kind::Tree, data)) = self.object(tree)? else {
            return Ok(None);
        };
        let t = TreeRef::from_bytes(&data).map_err(|e| odb_error("reading a tree", e))?;
        let name = crate::text::name_to_bytes(name);
        Ok(t.entries
            .iter()
            .find(|e| e.filename == &*name)
            .map(|e| TreeItem {
                name: e.filename.to_vec(),
                mode: e.mode,
                id: e.oid.to_owned(),
            }))
    }

    /// The tree at `path` below `tree` ("" = itself).
    fn subtree(&self, mut tree: ObjectId, path: &str) -> Result<Option<ObjectId>> {
        for part in path.split('/').filter(|p| !p.is_empty()) {
            match self.child(tree, part)? {
                Some(i) if i.mode.is_tree() => tree = i.id,
                _ => return Ok(None),
            }
        }
        Ok(Some(tree))
    }

    /// Walks the entries of two versions of a folder side by side in git's order (both are
    /// stored in it), without copying either: `each` is given every name with its entry in
    /// each version (`None` where absent; a name that is a file in one and a folder in the
    /// other comes twice) and returns false to stop. Returns how many entries there were, or
    /// `None` when an id names no tree.
    pub(crate) fn tree_pairs(
        &self,
        before: Option<ObjectId>,
        after: Option<ObjectId>,
        mut each: impl FnMut(Option<&EntryRef<'_>>, Option<&EntryRef<'_>>) -> Result<bool>,
    ) -> Result<Option<usize>> {
        let data = |tree: Option<ObjectId>| -> Result<Option<Vec<u8>>> {
            Ok(match tree {
                Some(t) => match self.object(t)? {
                    Some((Kind::Tree, data)) => Some(data),
                    _ => None,
                },
                None => Some(Vec::new()),
            })
        };
        let (Some(old_data), Some(new_data)) = (data(before)?, data(after)?) else {
            return Ok(None);
        };
        let parse = |d| TreeRef::from_bytes(d).map_err(|e| odb_error("reading a tree", e));
        let (old, new) = (parse(&old_data)?, parse(&new_data)?);
        let entries = old.entries.len() + new.entries.len();
        let (mut o, mut n) = (old.entries.iter().peekable(), new.entries.iter().peekable());
        loop {
            let go_on = match (o.peek(), n.peek()) {
                (None, None) => break,
                (Some(_), None) => each(o.next(), None)?,
                (None, Some(_)) => each(None, n.next())?,
                (Some(a), Some(b)) => match git_order(a, b) {
                    std::cmp::Ordering::Less => each(o.next(), None)?,
                    std::cmp::Ordering::Greater => each(None, n.next())?,
                    std::cmp::Ordering::Equal => each(o.next(), n.next())?,
                },
            };
            if !go_on {
                break;
            }
        }
        Ok(Some(entries))
    }

    /// The names whose entries differ between two versions of a folder (either may be
    /// absent), and how many entries were compared.
    fn changed_names(
        &self,
        before: Option<ObjectId>,
        after: Option<ObjectId>,
    ) -> Result<(Vec<String>, usize)> {
        let mut changed = Vec::new();
        let entries = self
            .tree_pairs(before, after, |a, b| {
                let differs = match (a, b) {
                    (Some(a), Some(b)) => a.oid != b.oid || a.mode != b.mode,
                    _ => true,
                };
                if let Some(e) = b.or(a).filter(|_| differs) {
                    changed.push(crate::text::name_from_bytes(e.filename).into_owned());
                }
                Ok(true)
            })?
            .unwrap_or(0);
        // A name that changed between file and folder sorts in two places.
        changed.sort();
        changed.dedup();
        Ok((changed, entries))
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
    pub(crate) fn commit_tree(&self, commit: &str) -> Result<Option<ObjectId>> {
        let Some(Peeled {
            kind: Kind::Commit,
            data,
            ..
        }) = self.peel(Self::id(commit)?)?
        else {
            return Ok(None);
        };
        // A commit without a valid tree has no files to show (git refuses it too).
        Ok(CommitFields::parse(&data).tree)
    }

    /// What `path` ("" = the root folder) names at a commit: its kind, object id and, for
    /// files and symlinks, size.
    pub(crate) fn entry(&self, commit: &str, path: &str) -> Result<Option<PathEntry>> {
        let Some(root) = self.commit_tree(commit)? else {
            return Ok(None);
        };
        if path.is_empty() {
            return Ok(Some(PathEntry {
                kind: EntryKind::Dir,
                object: root,
                size: None,
            }));
        }
        let (folder, name) = path.rsplit_once('/').unwrap_or(("", path));
        if name.is_empty() {
            return Ok(None);
        }
        let Some(item) = (match self.subtree(root, folder)? {
            Some(tree) => self.child(tree, name)?,
            None => None,
        }) else {
            return Ok(None);
        };
        let kind = entry_kind(item.mode);
        let size = match kind {
            EntryKind::File | EntryKind::Symlink => Some(self.size(item.id)?),
            _ => None,
        };
        Ok(Some(PathEntry {
            kind,
            object: item.id,
            size,
        }))
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
        let items = self.tree_entries(tree)?.unwrap_or_default();
        let mut entries = Vec::with_capacity(items.len());
        for i in items {
            let kind = entry_kind(i.mode);
            let size = match kind {
                EntryKind::File | EntryKind::Symlink => Some(self.size(i.id)?),
                _ => None,
            };
            entries.push(TreeEntry {
                name: crate::text::name_from_bytes(&i.name).into_owned(),
                object: i.id.to_string(),
                kind,
                size,
                executable: i.mode.is_executable(),
            });
        }
        entries.sort_by(|a, b| {
            (a.kind.min(EntryKind::File), &a.name).cmp(&(b.kind.min(EntryKind::File), &b.name))
        });
        Ok(entries)
    }

    /// Every folder and file below `tree`, with paths that start with `dir` (the folder's own
    /// path, "" for the root): depth first, each folder before what it holds, in stored
    /// order. At most `limit` are listed; the walk also stops after reading
    /// [`MAX_PATHS_READ`] entries (submodules and skipped ones included), past
    /// [`MAX_PATH_BYTES`] of listed paths, and does not go deeper than
    /// [`MAX_PATHS_DEPTH`] or into paths longer than [`crate::read::MAX_PATH_LEN`]: a tree
    /// that names the same subtree many times, or nests long names deeply, costs no more
    /// than an honest one. Each cut sets `truncated`.
    pub(crate) fn paths(&self, tree: ObjectId, dir: &str, limit: usize) -> Result<PathList> {
        let mut list = PathList::default();
        let top = self.tree_entries(tree)?.unwrap_or_default();
        // Entries read (counted as each tree is read) and bytes of paths listed.
        let (mut read, mut bytes) = (top.len(), 0usize);
        let mut stack: Vec<(String, std::vec::IntoIter<TreeItem>)> =
            vec![(dir.to_owned(), top.into_iter())];
        while let Some((folder, items)) = stack.last_mut() {
            let Some(item) = items.next() else {
                stack.pop();
                continue;
            };
            if read > MAX_PATHS_READ || list.paths.len() == limit || bytes > MAX_PATH_BYTES {
                list.truncated = true;
                break;
            }
            let kind = entry_kind(item.mode);
            let name = crate::text::name_from_bytes(&item.name);
            let length = folder.len() + 1 + name.len();
            if kind == EntryKind::Submodule || length > crate::read::MAX_PATH_LEN {
                list.truncated |= kind != EntryKind::Submodule;
                continue;
            }
            let path = match folder.is_empty() {
                true => name.into_owned(),
                false => format!("{folder}/{name}"),
            };
            bytes += path.len();
            if kind == EntryKind::Dir {
                if stack.len() < MAX_PATHS_DEPTH {
                    let inside = self.tree_entries(item.id)?.unwrap_or_default();
                    read += inside.len();
                    stack.push((path.clone(), inside.into_iter()));
                } else {
                    list.truncated = true;
                }
            }
            list.paths.push(PathItem { path, kind });
        }
        Ok(list)
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

/// Names of the loose refs under a folder (`a/b` for `folder/a/b`).
fn loose_ref_names(folder: &Path) -> HashSet<String> {
    let mut names = HashSet::new();
    let mut dirs = vec![folder.to_owned()];
    while let Some(d) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                dirs.push(path);
            } else if let Ok(rel) = path.strip_prefix(folder) {
                names.insert(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    names
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

/// How many folder entries a look for last changes compares, over all the commits it walks:
/// a folder of 5,000 files reaches it after 200 commits, one of 50 files never before the
/// commit budget.
const MAX_LAST_CHANGE_ENTRIES: usize = 2_000_000;

/// How git orders tree entries: by name, a folder's name read as if it ended in `/`.
fn git_order(a: &EntryRef<'_>, b: &EntryRef<'_>) -> std::cmp::Ordering {
    let (an, bn): (&[u8], &[u8]) = (a.filename.as_ref(), b.filename.as_ref());
    let common = an.len().min(bn.len());
    an[..common].cmp(&bn[..common]).then_with(|| {
        let next = |name: &[u8], tree: bool| name.get(common).copied().or(tree.then_some(b'/'));
        next(an, a.mode.is_tree()).cmp(&next(bn, b.mode.is_tree()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::test_git::git;

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
        // A folder changed on a side branch, by a merge that keeps main's version, and by
        // a change that is later undone.
        let write = |path: &str, text: &str| {
            let p = w.join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        };
        write("sub/a.txt", "a");
        write("sub/deep/b.txt", "b");
        write("sub/c.txt", "c");
        commit("add sub", same);
        git(&w, &["checkout", "-q", "-b", "side"], same);
        write("sub/a.txt", "a on side");
        commit("side edits a", same);
        git(&w, &["checkout", "-q", "main"], same);
        write("sub/deep/b.txt", "b on main");
        commit("main edits deep b", same);
        git(
            &w,
            &[
                "merge",
                "-q",
                "--no-ff",
                "-s",
                "ours",
                "-m",
                "Merge side, keeping ours",
                "side",
            ],
            same,
        );
        write("sub/c.txt", "c changed");
        commit("change c", same);
        write("sub/c.txt", "c");
        commit("undo c", same);
        // Names that sort differently as a file and as a folder (`x` before `x-y` and
        // `x.z`, `x/` after them).
        write("sub/x", "file");
        write("sub/x-y", "1");
        write("sub/x.z", "1");
        commit("x as a file", same);
        std::fs::remove_file(w.join("sub/x")).unwrap();
        write("sub/x/inner", "now a folder");
        write("sub/x.z", "2");
        commit("x becomes a folder", same);
        write("sub/x-y", "2");
        commit("x-y alone", same);
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
        let for_each_ref = |sort: &str, prefix: &str| {
            let out = git(
                &bare,
                &["for-each-ref", sort, "--format=%(refname:short)", prefix],
                "",
            );
            String::from_utf8(out)
                .unwrap()
                .lines()
                .filter(|n| *n != "tree-tag")
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(&branches),
            for_each_ref("--sort=refname", "refs/heads/")
        );
        assert_eq!(branches.len(), 6);
        assert_eq!(
            names(&tags),
            ["light", "tree-tag", "v1", "v1-again"],
            "a tree tag is listed as the refs say"
        );
        let v1 = String::from_utf8(git(&bare, &["rev-parse", "v1^{commit}"], "")).unwrap();
        assert_eq!(
            tags[2].target.0,
            v1.trim(),
            "annotated tags name their changeset"
        );
        assert_eq!(tags[3].target, tags[2].target, "a tag of a tag too");
        let tree = String::from_utf8(git(&bare, &["rev-parse", "main^{tree}"], "")).unwrap();
        assert_eq!(tags[1].target.0, tree.trim());
        assert!(objects.commit(&tags[1].target.0).unwrap().is_none());
        // The same from loose refs (no peeled ids to read).
        let loose = t.path().join("loose.git");
        git(
            t.path(),
            &[
                "clone",
                "-q",
                "--bare",
                "--no-local",
                "bare.git",
                "loose.git",
            ],
            "",
        );
        std::fs::remove_file(loose.join("packed-refs")).ok();
        for r in &branches {
            let p = loose.join("refs/heads").join(&r.name);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, format!("{}\n", r.target)).unwrap();
        }
        for name in ["v1", "v1-again", "light", "tree-tag"] {
            let id = String::from_utf8(git(&bare, &["rev-parse", name], "")).unwrap();
            std::fs::create_dir_all(loose.join("refs/tags")).unwrap();
            std::fs::write(loose.join("refs/tags").join(name), id).unwrap();
        }
        assert_eq!(
            Objects::open(&loose).unwrap().refs().unwrap(),
            (branches.clone(), tags.clone())
        );

        // With times and first lines, newest first: as `git for-each-ref --sort=-creatordate`.
        let dated = objects.ref_details(RefKind::Branch).unwrap();
        let dated_names: Vec<String> = dated.iter().map(|r| r.info.name.clone()).collect();
        assert_eq!(
            dated_names,
            for_each_ref("--sort=-creatordate", "refs/heads/")
        );
        let dated = objects.ref_details(RefKind::Tag).unwrap();
        let dated_names: Vec<String> = dated.iter().map(|r| r.info.name.clone()).collect();
        assert_eq!(dated_names, ["v1-again", "v1", "light"]);
        assert_eq!(dated[1].summary, "release one continued");
        assert_eq!(dated[1].info.target.0, v1.trim());
        // Each dated as git dates it: an annotated tag by its tagger, not its changeset.
        let git_dates = String::from_utf8(git(
            &bare,
            &[
                "for-each-ref",
                "--format=%(refname:short) %(creatordate:unix)",
                "refs/tags/",
            ],
            "",
        ))
        .unwrap();
        for r in &dated {
            let want = git_dates
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{} ", r.info.name)))
                .unwrap();
            assert_eq!(r.time.to_string(), want, "{}", r.info.name);
        }

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
            let size = e.size.map_or("-".to_owned(), |n| n.to_string());
            assert!(line.contains(&format!(" {size}\t")), "{line}");
        }
        assert!(objects.entry(tip, "4.txt/x").unwrap().is_none());
        assert!(objects.entry(tip, "missing").unwrap().is_none());

        // A child whose clock is behind its parent's is still its child.
        let skewed = from_git
            .iter()
            .find(|c| c.message == "older clock")
            .unwrap();
        let kids = objects.children(&skewed.parents[0].0, 20, 1000).unwrap();
        assert!(kids.contains(&skewed.id), "{kids:?}");

        // History from an annotated tag's own id starts at its changeset.
        let v1_tag = String::from_utf8(git(&bare, &["rev-parse", "v1"], "")).unwrap();
        assert_eq!(
            objects.history(v1_tag.trim(), 0, 1).unwrap()[0].id.0,
            v1.trim()
        );

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
        // The same through a commit-graph file, and a child made after the file was written
        // (read from its object).
        git(&bare, &["commit-graph", "write", "--reachable"], "");
        assert!(bare.join("objects/info/commit-graph").exists());
        let date_order = crate::git_read::tests_support::git_log_in(&repo, tip, "--date-order");
        assert_eq!(
            objects.history(tip, 0, 1000).unwrap(),
            date_order,
            "history in git log --date-order's order through the commit-graph"
        );
        assert_eq!(objects.history(tip, 5, 3).unwrap(), date_order[5..8]);
        let mut kids = objects.children(&root.id.0, 20, 1000).unwrap();
        kids.sort();
        assert_eq!(kids, expected, "through the commit-graph");
        let late = String::from_utf8(git(
            &bare,
            &[
                "commit-tree",
                &format!("{}^{{tree}}", root.id.0),
                "-p",
                &root.id.0,
                "-m",
                "late",
            ],
            "",
        ))
        .unwrap();
        git(&bare, &["update-ref", "refs/heads/late", late.trim()], "");
        let kids = objects.children(&root.id.0, 20, 1000).unwrap();
        assert_eq!(kids.len(), 3, "{kids:?}");
        assert!(kids.contains(&ChangesetId(late.trim().to_owned())));
        // The graph is kept open, and opened again when git writes a new one.
        let late_id = Objects::id(late.trim()).unwrap();
        let kept = objects.commit_graph().expect("a graph");
        assert!(kept.commit_by_id(late_id).is_none());
        assert!(Arc::ptr_eq(&kept, &objects.commit_graph().unwrap()), "kept");
        git(&bare, &["commit-graph", "write", "--reachable"], "");
        let fresh = objects.commit_graph().expect("a graph");
        assert!(
            fresh.commit_by_id(late_id).is_some(),
            "the new file is read"
        );
        let kids = objects.children(&root.id.0, 20, 1000).unwrap();
        assert_eq!(kids.len(), 3, "{kids:?}");
        // A commit in a legacy encoding reads as git shows it: converted to UTF-8.
        let tree = String::from_utf8(git(
            &bare,
            &["rev-parse", &format!("{}^{{tree}}", root.id.0)],
            "",
        ))
        .unwrap();
        let mut raw = format!(
            "tree {}\nauthor Ren\u{0} Dupont <r@example.com> 1700000000 +0100\ncommitter C <c@example.com> 1700000000 +0100\nencoding ISO-8859-1\n\nD\u{0}j\u{0} vu: caf\u{0}\n",
            tree.trim()
        )
        .into_bytes();
        // Latin-1 bytes where the placeholders are: é (0xE9) and à (0xE0).
        let latin1 = [0xE9u8, 0xE9, 0xE0, 0xE9];
        let mut next = latin1.iter();
        for b in raw.iter_mut() {
            if *b == 0 {
                *b = *next.next().unwrap();
            }
        }
        let file = bare.join("latin1-commit");
        std::fs::write(&file, &raw).unwrap();
        let legacy = String::from_utf8(git(
            &bare,
            &["hash-object", "-t", "commit", "-w", file.to_str().unwrap()],
            "",
        ))
        .unwrap();
        let cs = objects.commit(legacy.trim()).unwrap().unwrap();
        assert_eq!(cs.author.name, "René Dupont");
        assert_eq!(cs.message, "Déjà vu: café");
        let shown = String::from_utf8(git(
            &bare,
            &["log", "-1", "--format=%an%n%B", legacy.trim()],
            "",
        ))
        .unwrap();
        assert_eq!(
            shown.trim_end(),
            format!("{}\n{}", cs.author.name, cs.message)
        );

        // A graph file that lists a commit answers for it: the skewed child is still found.
        let kids = objects.children(&skewed.parents[0].0, 20, 1000).unwrap();
        assert!(kids.contains(&skewed.id), "{kids:?}");
        assert!(
            objects.commit(&tree.to_string()).unwrap().is_none(),
            "a tree is no changeset"
        );

        // Last changes of a folder's entries: as `git log --name-only -- <folder>` says,
        // through the commit-graph file and without it.
        for with_graph in [true, false] {
            if !with_graph {
                std::fs::remove_file(bare.join("objects/info/commit-graph")).unwrap();
            }
            last_changes_agree_with_git(&objects, &repo, tip, &listed);
        }
        let sub = objects
            .last_changes(tip, "sub", &["a.txt".into(), "c.txt".into()], 2000)
            .unwrap();
        assert_eq!(
            sub["a.txt"].summary, "add sub",
            "the side edit was not kept"
        );
        assert_eq!(sub["c.txt"].summary, "undo c");
        // The budget bounds the walk.
        assert!(
            objects
                .last_changes(tip, "", &names_of(&listed), 1)
                .unwrap()
                .len()
                < listed.len()
        );
    }

    #[test]
    fn kept_handles_see_pushes_and_replaced_repositories() {
        let t = fixture();
        let (w, bare) = (t.path().join("w"), t.path().join("bare.git"));
        let date = "2024-03-01T00:00:00Z";
        let tip = |objects: &Objects| {
            objects
                .refs()
                .unwrap()
                .0
                .into_iter()
                .find(|b| b.name == "main")
                .unwrap()
                .target
        };
        let before = tip(&Objects::open(&bare).unwrap());
        // A push with a pack (many objects) and one with loose objects.
        for (i, many) in [(0, true), (1, false)] {
            let files = if many { 200 } else { 1 };
            for f in 0..files {
                std::fs::write(w.join(format!("pushed-{i}-{f}.txt")), format!("{i} {f}")).unwrap();
            }
            git(&w, &["add", "-A"], date);
            git(&w, &["commit", "-q", "-m", &format!("pushed {i}")], date);
            git(&w, &["push", "-q", bare.to_str().unwrap(), "main"], date);
            let objects = Objects::open(&bare).unwrap();
            let now = tip(&objects);
            assert_ne!(now, before);
            let top = objects.history(&now.0, 0, 1).unwrap();
            assert_eq!(top[0].message, format!("pushed {i}"));
            let root = objects.entry(&now.0, "").unwrap().unwrap();
            assert!(
                objects
                    .list(root.object)
                    .unwrap()
                    .iter()
                    .any(|e| e.name == format!("pushed-{i}-0.txt"))
            );
        }
        // Another repository at the same path.
        std::fs::remove_dir_all(&bare).unwrap();
        git(t.path(), &["init", "-q", "--bare", "bare.git"], date);
        let objects = Objects::open(&bare).unwrap();
        assert!(objects.has_no_branches().unwrap());
        forget_under(t.path());
        assert!(
            KEPT.lock()
                .unwrap()
                .as_ref()
                .unwrap()
                .keys()
                .all(|p| !p.starts_with(t.path()))
        );
    }

    #[test]
    fn a_packed_refs_rewrite_within_one_tick_is_seen() {
        use crate::read::VcsRead;
        let t = fixture();
        let bare = t.path().join("bare.git");
        let date = "2024-03-01T00:00:00Z";
        git(&bare, &["pack-refs", "--all"], date);
        let rev = |r: &str| String::from_utf8(git(&bare, &["rev-parse", r], date)).unwrap();
        let (main, older) = (rev("main"), rev("main~1"));
        let objects = Objects::open(&bare).unwrap();
        let tip = |objects: &Objects| {
            let (branches, _) = objects.refs().unwrap();
            branches
                .into_iter()
                .find(|b| b.name == "main")
                .unwrap()
                .target
                .0
        };
        assert_eq!(tip(&objects), main.trim());
        let repo = crate::git_read::GitRepo::new(&bare);
        let before = repo.refs_fingerprint().unwrap();
        // Same size, same modification time, other content: only the inode differs.
        let packed = bare.join("packed-refs");
        let old = std::fs::metadata(&packed).unwrap().modified().unwrap();
        let text = std::fs::read_to_string(&packed).unwrap();
        let rewritten = text.replace(main.trim(), older.trim());
        assert_eq!(rewritten.len(), text.len());
        std::fs::write(bare.join("packed-refs.new"), rewritten).unwrap();
        std::fs::rename(bare.join("packed-refs.new"), &packed).unwrap();
        std::fs::File::options()
            .write(true)
            .open(&packed)
            .unwrap()
            .set_modified(old)
            .unwrap();
        assert_eq!(std::fs::metadata(&packed).unwrap().modified().unwrap(), old);
        assert_ne!(repo.refs_fingerprint().unwrap(), before);
        assert_eq!(
            tip(&objects),
            older.trim(),
            "the kept handle reads the new file"
        );
    }

    fn last_changes_agree_with_git(
        objects: &Objects,
        repo: &crate::git_read::GitRepo,
        tip: &str,
        listed: &[TreeEntry],
    ) {
        for (dir, names) in [
            (
                "",
                listed.iter().map(|e| e.name.clone()).collect::<Vec<_>>(),
            ),
            (
                "sub",
                ["a.txt", "deep", "c.txt", "gone", "x", "x-y", "x.z"]
                    .map(String::from)
                    .to_vec(),
            ),
            ("sub/deep", vec!["b.txt".into()]),
        ] {
            let mine = objects.last_changes(tip, dir, &names, 2000).unwrap();
            let theirs = crate::git_read::tests_support::last_changes_by_git(
                repo,
                &ChangesetId(tip.to_owned()),
                dir,
                &names,
                2000,
            )
            .unwrap();
            assert_eq!(mine, theirs, "{dir}");
            assert!(!mine.is_empty());
        }
    }

    /// Committers' clocks that disagree: a side branch made "before" the commit it starts
    /// from. `git log` shows the parent before that child; with a commit-graph the history
    /// keeps children first, as `git log --date-order` does, page by page.
    #[test]
    fn history_keeps_children_before_parents_when_clocks_disagree() {
        let t = tempfile::tempdir().unwrap();
        let w = t.path().join("w");
        std::fs::create_dir(&w).unwrap();
        git(&w, &["init", "-q"], "");
        let commit = |msg: &str, date: &str| {
            std::fs::write(w.join(format!("{msg}.txt")), msg).unwrap();
            std::fs::write(w.join("all.txt"), msg).unwrap();
            git(&w, &["add", "-A"], date);
            git(&w, &["commit", "-q", "-m", msg], date);
        };
        commit("root", "2019-01-01T00:00:00Z");
        commit("a", "2020-01-01T00:00:00Z");
        git(&w, &["checkout", "-q", "-b", "old"], "");
        commit("c-from-a-but-older", "2010-01-01T00:00:00Z");
        commit("d-older-still", "2009-06-01T00:00:00Z");
        git(&w, &["checkout", "-q", "main"], "");
        commit("b", "2021-01-01T00:00:00Z");
        // The merge changes all.txt against both parents, so a file's history goes down
        // both sides.
        let merged = "2022-01-01T00:00:00Z";
        git(
            &w,
            &["merge", "-q", "-s", "ours", "-m", "merge old", "old"],
            merged,
        );
        std::fs::write(w.join("all.txt"), "merged").unwrap();
        git(
            &w,
            &["commit", "-q", "--amend", "-a", "-m", "merge old"],
            merged,
        );
        git(&w, &["clone", "-q", "--bare", ".", "../bare.git"], "");
        let bare = t.path().join("bare.git");
        let repo = crate::git_read::GitRepo::new(&bare);
        let objects = Objects::open(&bare).unwrap();
        let tip = String::from_utf8(git(&bare, &["rev-parse", "main"], "")).unwrap();
        let tip = tip.trim();
        let subjects =
            |l: &[Changeset]| l.iter().map(|c| c.summary().to_owned()).collect::<Vec<_>>();
        use crate::git_read::tests_support::{git_log, git_log_in};
        // Without a commit-graph: git log's own order, parent "a" above its child.
        assert_eq!(
            subjects(&objects.history(tip, 0, 100).unwrap()),
            subjects(&git_log(&repo, tip))
        );
        let at = |l: &[String], s: &str| l.iter().position(|x| x == s).unwrap();
        let plain = subjects(&git_log(&repo, tip));
        assert!(
            at(&plain, "a") < at(&plain, "c-from-a-but-older"),
            "{plain:?}"
        );
        // With one: children first.
        git(&bare, &["commit-graph", "write", "--reachable"], "");
        let want = subjects(&git_log_in(&repo, tip, "--date-order"));
        assert!(at(&want, "d-older-still") < at(&want, "a"), "{want:?}");
        assert_eq!(subjects(&objects.history(tip, 0, 100).unwrap()), want);
        // A file's history (through git) in the same order.
        use crate::read::VcsRead;
        let of_file = repo
            .history(&ChangesetId(tip.to_owned()), Some("all.txt"), 0, 100)
            .unwrap();
        assert_eq!(subjects(&of_file), want, "every changeset changed all.txt");
        for skip in 0..want.len() {
            assert_eq!(
                subjects(&objects.history(tip, skip, 2).unwrap()),
                want[skip..(skip + 2).min(want.len())],
                "page from {skip}"
            );
        }
        // A commit made after the graph was written is placed by the same rule.
        git(&w, &["checkout", "-q", "old"], "");
        commit("e-on-old", "2008-01-01T00:00:00Z");
        git(&w, &["push", "-q", "../bare.git", "old"], "");
        let old_tip = String::from_utf8(git(&bare, &["rev-parse", "old"], "")).unwrap();
        assert_eq!(
            subjects(&objects.history(old_tip.trim(), 0, 100).unwrap()),
            subjects(&git_log_in(&repo, old_tip.trim(), "--date-order"))
        );
    }

    /// Equal times are broken in the order commits became ready, as git does; a history
    /// merged in from elsewhere is walked within the budget, every commit listed once.
    #[test]
    fn date_order_ties_and_the_look_ahead_budget() {
        let t = tempfile::tempdir().unwrap();
        let w = t.path().join("w");
        std::fs::create_dir(&w).unwrap();
        let same = "2020-01-01T00:00:00Z";
        git(&w, &["init", "-q"], same);
        let empty = |msg: &str, date: &str| {
            git(&w, &["commit", "-q", "--allow-empty", "-m", msg], date);
        };
        empty("r", same);
        git(&w, &["checkout", "-q", "-b", "x"], same);
        empty("A", same);
        git(&w, &["checkout", "-q", "main"], same);
        empty("B", same);
        git(&w, &["merge", "-q", "--no-ff", "-m", "M", "x"], same);
        for i in 0..60 {
            empty(&format!("main {i}"), &format!("2021-01-01T00:{i:02}:00Z"));
        }
        // A history from elsewhere: low generations, recent dates.
        git(&w, &["checkout", "-q", "--orphan", "other"], same);
        empty("other root", "2022-01-01T00:00:00Z");
        git(&w, &["checkout", "-q", "main"], same);
        git(
            &w,
            &[
                "merge",
                "-q",
                "--allow-unrelated-histories",
                "-m",
                "merge other",
                "other",
            ],
            "2022-01-02T00:00:00Z",
        );
        git(&w, &["commit-graph", "write", "--reachable"], same);
        let repo = crate::git_read::GitRepo::new(&w.join(".git"));
        let objects = Objects::open(&w.join(".git")).unwrap();
        let tip = String::from_utf8(git(&w, &["rev-parse", "main"], "")).unwrap();
        let tip = tip.trim();
        let subjects =
            |l: &[Changeset]| l.iter().map(|c| c.summary().to_owned()).collect::<Vec<_>>();
        let want = subjects(&crate::git_read::tests_support::git_log_in(
            &repo,
            tip,
            "--date-order",
        ));
        assert!(
            want.ends_with(&["M", "B", "A", "r"].map(String::from)),
            "{want:?}"
        );
        assert_eq!(subjects(&objects.history(tip, 0, 1000).unwrap()), want);
        // With almost no budget: every commit once, the page's first ones in order.
        let graph = objects.commit_graph().unwrap();
        for budget in [0, 1, 5] {
            let mut seen = Vec::new();
            objects
                .walk_date_order(Objects::id(tip).unwrap(), &graph, budget, &mut |l| {
                    seen.push(l.id);
                    Ok(Some(l.parents))
                })
                .unwrap();
            let unique: HashSet<ObjectId> = seen.iter().copied().collect();
            assert_eq!(unique.len(), seen.len(), "budget {budget}: no commit twice");
            assert_eq!(seen.len(), want.len(), "budget {budget}: every commit");
        }
    }

    #[test]
    fn path_lists_agree_with_git_ls_tree() {
        let t = fixture();
        let bare = t.path().join("bare.git");
        let repo = crate::read::Repo::open_git(&bare).unwrap();
        let tip = String::from_utf8(git(&bare, &["rev-parse", "main"], "")).unwrap();
        let tip = ChangesetId(tip.trim().to_owned());
        let ls_tree = |args: &[&str]| -> Vec<String> {
            let mut all = vec!["ls-tree", "-r", "-t", "--name-only", "main"];
            all.extend_from_slice(args);
            String::from_utf8(git(&bare, &all, ""))
                .unwrap()
                .lines()
                .map(str::to_owned)
                .collect()
        };
        let paths = |l: &PathList| l.paths.iter().map(|p| p.path.clone()).collect::<Vec<_>>();
        use crate::read::VcsRead;
        let whole = repo.paths(&tip, "", 1000).unwrap().unwrap();
        assert_eq!(paths(&whole), ls_tree(&[]));
        assert!(!whole.truncated);
        let kind = |p: &str| whole.paths.iter().find(|i| i.path == p).unwrap().kind;
        assert_eq!(kind("sub/x"), EntryKind::Dir);
        assert_eq!(kind("sub/x/inner"), EntryKind::File);
        // A folder lists what lies below it, not itself.
        let sub = repo.paths(&tip, "sub", 1000).unwrap().unwrap();
        // (`git ls-tree -t` names the folder too.)
        let below: Vec<String> = ls_tree(&["sub/"])
            .into_iter()
            .filter(|p| p != "sub")
            .collect();
        assert_eq!(paths(&sub), below);
        assert!(paths(&sub).contains(&"sub/deep/b.txt".to_owned()));
        // Cut at the limit, and said so; exactly the limit is not cut.
        let cut = repo.paths(&tip, "sub", 3).unwrap().unwrap();
        assert_eq!(paths(&cut), below[..3]);
        assert!(cut.truncated);
        let exact = repo.paths(&tip, "sub", below.len()).unwrap().unwrap();
        assert!(!exact.truncated);
        // A file, a missing folder and a hostile path are no folder.
        assert_eq!(repo.paths(&tip, "sub/a.txt", 10).unwrap(), None);
        assert_eq!(repo.paths(&tip, "nope", 10).unwrap(), None);
        assert_eq!(repo.paths(&tip, "../sub", 10).unwrap(), None);
    }

    #[test]
    fn path_lists_of_hostile_trees_stay_bounded() {
        use crate::test_git::mktree;
        let t = tempfile::tempdir().unwrap();
        let bare = t.path().join("b.git");
        git(t.path(), &["init", "-q", "--bare", "b.git"], "");
        let objects = Objects::open(&bare).unwrap();
        let blob = String::from_utf8(git(&bare, &["hash-object", "-w", "--stdin"], "")).unwrap();
        let blob = blob.trim();
        let tree = |lines: Vec<String>| Objects::parse_id(&mktree(&bare, &lines)).unwrap();
        let time = std::time::Instant::now();

        // One tree of 3,000 submodules, named by 500 folders: 1.5 million entries to read.
        let commit = "1111111111111111111111111111111111111111";
        let links = tree(
            (0..3000)
                .map(|i| format!("160000 commit {commit}\tm{i}"))
                .collect(),
        );
        let root = tree(
            (0..500)
                .map(|i| format!("040000 tree {links}\td{i:03}"))
                .collect(),
        );
        let l = objects.paths(root, "", 100_000).unwrap();
        assert!(l.truncated, "the walk stops after reading its budget");
        assert!(
            l.paths.len() < 500 && l.paths.len() > 300,
            "{}",
            l.paths.len()
        );
        assert!(l.paths.iter().all(|p| p.kind == EntryKind::Dir));

        // Folders nested 300 deep: listed 256 deep.
        let mut deep = tree(vec![format!("100644 blob {blob}\tleaf")]);
        for _ in 0..300 {
            deep = tree(vec![format!("040000 tree {deep}\td")]);
        }
        let l = objects.paths(deep, "", 100_000).unwrap();
        assert!(l.truncated);
        assert_eq!(l.paths.len(), MAX_PATHS_DEPTH);
        assert!(l.paths.iter().all(|p| p.kind == EntryKind::Dir));

        // Long names, each folder naming the next twice: paths past 4,096 bytes are left out,
        // and so is all they hold.
        let long = "n".repeat(250);
        let mut wide = tree(vec![format!("100644 blob {blob}\tleaf")]);
        for _ in 0..40 {
            wide = tree(vec![
                format!("040000 tree {wide}\t{long}1"),
                format!("040000 tree {wide}\t{long}2"),
            ]);
        }
        let l = objects.paths(wide, "", 100_000).unwrap();
        assert!(l.truncated);
        assert!(
            l.paths
                .iter()
                .all(|p| p.path.len() <= crate::read::MAX_PATH_LEN)
        );
        assert!(!l.paths.is_empty() && l.paths.len() < 100_000);
        assert!(
            time.elapsed() < std::time::Duration::from_secs(20),
            "bounded work: {:?}",
            time.elapsed()
        );
    }

    fn names_of(entries: &[TreeEntry]) -> Vec<String> {
        entries.iter().map(|e| e.name.clone()).collect()
    }
}
