//! Reading a repository for the pages: summary, changelog, changeset, files, raw content,
//! branches and tags. Every function takes a [`RepoAccess`] (read is required) and runs the
//! VCS work on a blocking thread. Unknown revisions and paths are `NotFound` with a sentence
//! saying what was not found.

use std::collections::HashMap;
use std::sync::Arc;

use kallithea_model::PermLevel;
pub use kallithea_vcs::read::valid_path;
pub use kallithea_vcs::read::{
    ChangeKind, Changeset, ChangesetId, DiffOptions, EntryKind, FileChange, FileContent, Node,
    PathItem, PathList, Person, RefDetails, RefInfo, RefKind, TreeEntry,
};
pub use kallithea_vcs::text::{name_from_url, name_shown, name_to_bytes};
use kallithea_vcs::{Repo, VcsRead};

use crate::repo::RepoAccess;
use crate::{Error, Result, Services};

/// Largest page of changesets.
pub const MAX_PAGE_SIZE: usize = 2000;

fn open(svc: &Services, access: &RepoAccess) -> Result<Repo> {
    access.require(PermLevel::Read)?;
    Ok(Repo::open_git(&svc.store.path(&access.name()?))?)
}

/// Runs VCS work on a blocking thread, inside the request's log span (so failures logged there
/// carry the request id).
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || span.in_scope(f))
        .await
        .map_err(|e| Error::internal("reading a repository", e))?
}

fn rev_not_found(rev: &str, repo: &str) -> Error {
    Error::not_found(format!(
        "There is no revision \"{rev}\" in repository {repo}."
    ))
}

/// Resolves a revision from a URL, or says it does not exist (uncached; for callers that
/// already run on a blocking thread).
fn resolve(repo: &Repo, rev: &str, repo_name: &str) -> Result<ChangesetId> {
    repo.resolve(rev)?
        .ok_or_else(|| rev_not_found(rev, repo_name))
}

/// Branches, tags and the default branch, as of one refs fingerprint.
#[derive(Debug)]
pub struct RepoRefs {
    pub branches: Vec<RefInfo>,
    pub tags: Vec<RefInfo>,
    pub default_branch: Option<RefInfo>,
    /// The names of the branches and tags on each changeset they name.
    labels: RefLabels,
    /// Branch names that are tag names too (sorted): a bare name means the tag.
    shadowed_branches: Vec<String>,
}

crate::weigh_fields! {
    RepoRefs { branches, tags, default_branch, labels, shadowed_branches }
}

impl RepoRefs {
    fn new(branches: Vec<RefInfo>, tags: Vec<RefInfo>, default_branch: Option<RefInfo>) -> Self {
        let tag_names: std::collections::HashSet<&str> =
            tags.iter().map(|t| t.name.as_str()).collect();
        let mut shadowed_branches: Vec<String> = branches
            .iter()
            .filter(|b| tag_names.contains(b.name.as_str()))
            .map(|b| b.name.clone())
            .collect();
        shadowed_branches.sort();
        Self {
            labels: labels(&branches, &tags),
            branches,
            tags,
            default_branch,
            shadowed_branches,
        }
    }

    /// How to name a branch in a URL: its name, or `refs/heads/{name}` when a tag has the
    /// same name (git, and so [`Opened::resolve`], reads a bare name as the tag).
    pub fn branch_rev<'a>(&self, name: &'a str) -> std::borrow::Cow<'a, str> {
        match self
            .shadowed_branches
            .binary_search_by(|b| b.as_str().cmp(name))
        {
            Ok(_) => format!("refs/heads/{name}").into(),
            Err(_) => name.into(),
        }
    }

    /// The labels of some changesets (the ones a page shows).
    fn labels_of<'a>(&self, ids: impl IntoIterator<Item = &'a ChangesetId>) -> RefLabels {
        ids.into_iter()
            .filter_map(|id| Some((id.clone(), self.labels.get(id)?.clone())))
            .collect()
    }
}

/// A repository opened for one request: the backend, its refs (cached by fingerprint) and
/// the keys that scope cached results to it.
struct Opened {
    repo: Repo,
    repo_id: i64,
    name: String,
    refs: Arc<RepoRefs>,
    fingerprint: String,
}

async fn opened(svc: &Services, access: &RepoAccess) -> Result<Opened> {
    let repo = open(svc, access)?;
    let r = repo.clone();
    let fingerprint = blocking(move || Ok(r.refs_fingerprint()?)).await?;
    let fingerprint = format!("{fingerprint}-{}", access.repo().last_change);
    let repo_id = access.repo().id.0;
    let key = format!("refs:{repo_id}:{fingerprint}");
    let refs = match svc.cache.get::<RepoRefs>(&key) {
        Some(r) => r,
        None => {
            let r = repo.clone();
            let refs = Arc::new(
                blocking(move || {
                    let (branches, tags, default_branch) = r.refs_snapshot()?;
                    Ok(RepoRefs::new(branches, tags, default_branch))
                })
                .await?,
            );
            svc.cache.put(key, refs.clone());
            refs
        }
    };
    Ok(Opened {
        repo,
        repo_id,
        name: access.repo().name.clone(),
        refs,
        fingerprint,
    })
}

impl Opened {
    /// `d` when history comes in date order, `l` in plain log order: part of the keys of
    /// cached history, which changes order when a commit-graph is written (asked only by
    /// pages that show history).
    fn order(&self) -> char {
        if self.repo.date_ordered() { 'd' } else { 'l' }
    }

    /// A branch or tag name from the cached lists; anything else asks git once (full ids are
    /// remembered for good, other forms for this refs fingerprint).
    async fn resolve(&self, svc: &Services, rev: &str) -> Result<ChangesetId> {
        // Tags first, as git itself reads a name. A tag may name a tree or a blob, which is
        // no changeset (branches always name commits).
        if let Some(t) = self.refs.tags.iter().find(|r| r.name == rev) {
            let key = format!("commit?:{}:{}", self.repo_id, t.target);
            let is_commit = match svc.cache.get::<bool>(&key) {
                Some(known) => *known,
                None => {
                    let (repo, id) = (self.repo.clone(), t.target.clone());
                    let known = blocking(move || match repo.changeset(&id) {
                        Ok(_) => Ok(true),
                        Err(kallithea_vcs::Error::NotFound(_)) => Ok(false),
                        Err(e) => Err(e.into()),
                    })
                    .await?;
                    svc.cache.put(key, Arc::new(known));
                    known
                }
            };
            return match is_commit {
                true => Ok(t.target.clone()),
                false => Err(rev_not_found(rev, &self.name)),
            };
        }
        if let Some(b) = self.refs.branches.iter().find(|r| r.name == rev) {
            return Ok(b.target.clone());
        }
        let full = rev.len() == 40 && rev.bytes().all(|b| b.is_ascii_hexdigit());
        let key = if full {
            format!("rev:{}:{rev}", self.repo_id)
        } else {
            format!("rev:{}:{}:{rev}", self.repo_id, self.fingerprint)
        };
        if let Some(id) = svc.cache.get::<ChangesetId>(&key) {
            return Ok((*id).clone());
        }
        let (repo, r, name) = (self.repo.clone(), rev.to_owned(), self.name.clone());
        let id = blocking(move || resolve(&repo, &r, &name)).await?;
        svc.cache.put(key, Arc::new(id.clone()));
        Ok(id)
    }

    /// The two ends of a diff; a `from` that [`names_nothing`] is `None`.
    async fn resolve_pair(
        &self,
        svc: &Services,
        from: &str,
        to: &str,
    ) -> Result<(Option<ChangesetId>, ChangesetId)> {
        let from_id = match names_nothing(from) {
            true => None,
            false => Some(self.resolve(svc, from).await?),
        };
        Ok((from_id, self.resolve(svc, to).await?))
    }

    /// `f` on a blocking thread, remembered under `key` (which must name everything the
    /// result depends on: immutable ids, or the refs fingerprint).
    /// [`Opened::cached`] for diffs: at most [`Services::diffs`] are made at once.
    async fn cached_diff<T: Send + Sync + crate::cache::Weigh + 'static>(
        &self,
        svc: &Services,
        key: String,
        f: impl FnOnce(Repo) -> Result<T> + Send + 'static,
    ) -> Result<Arc<T>> {
        if let Some(v) = svc.cache.get::<T>(&format!("{}:{key}", self.repo_id)) {
            return Ok(v);
        }
        let _turn = svc
            .diffs
            .acquire()
            .await
            .map_err(|e| Error::internal("waiting to make a diff", e))?;
        self.cached(svc, key, f).await
    }

    async fn cached<T: Send + Sync + crate::cache::Weigh + 'static>(
        &self,
        svc: &Services,
        key: String,
        f: impl FnOnce(Repo) -> Result<T> + Send + 'static,
    ) -> Result<Arc<T>> {
        let key = format!("{}:{key}", self.repo_id);
        if let Some(v) = svc.cache.get::<T>(&key) {
            return Ok(v);
        }
        let repo = self.repo.clone();
        let v = Arc::new(blocking(move || f(repo)).await?);
        svc.cache.put(key, v.clone());
        Ok(v)
    }
}

/// Branch and tag names by the changeset they point at.
pub type RefLabels = HashMap<ChangesetId, Vec<String>>;

fn labels(branches: &[RefInfo], tags: &[RefInfo]) -> RefLabels {
    let mut m: RefLabels = HashMap::new();
    for r in branches.iter().chain(tags) {
        m.entry(r.target.clone()).or_default().push(r.name.clone());
    }
    m
}

/// What the summary page shows.
#[derive(Debug)]
pub struct Summary {
    pub default_branch: Option<RefInfo>,
    pub branch_count: usize,
    pub tag_count: usize,
    pub recent: Vec<Changeset>,
    /// The README at the default branch: its name and (at most 512 KiB of) content.
    pub readme: Option<(String, FileContent)>,
}

/// README names in order of preference.
fn readme_rank(name: &str) -> Option<usize> {
    let lower = name.to_ascii_lowercase();
    [
        "readme.md",
        "readme.markdown",
        "readme.rst",
        "readme.txt",
        "readme",
    ]
    .iter()
    .position(|n| *n == lower)
}

pub async fn summary(svc: &Services, access: &RepoAccess) -> Result<Summary> {
    let o = opened(svc, access).await?;
    let default_branch = o.refs.default_branch.clone();
    let (recent, readme) = match &default_branch {
        Some(b) => {
            let tip = b.target.clone();
            let t = tip.clone();
            let recent = o.cached(svc, format!("log:{}:{tip}::0:10", o.order()), move |r| {
                Ok(r.history(&t, None, 0, 10)?)
            });
            let t = tip.clone();
            let readme = o.cached(svc, format!("readme:{tip}"), move |repo| {
                let Some(Node::Dir(entries)) = repo.node(&t, "", 0)? else {
                    return Ok(None);
                };
                let best = entries
                    .iter()
                    .filter(|e| e.kind == EntryKind::File)
                    .filter_map(|e| {
                        readme_rank(&e.name).map(|r| (r, e.name.clone(), e.object.clone()))
                    })
                    .min();
                // The listing names the blob: read it by id (one git call less).
                Ok(match best {
                    Some((_, name, object)) => match repo.blob(&object, 512 * 1024)? {
                        Some(f) if !f.binary => Some((name, f)),
                        _ => None,
                    },
                    None => None,
                })
            });
            // Both at once: each runs on its own blocking thread.
            let (recent, readme) = tokio::try_join!(recent, readme)?;
            ((*recent).clone(), (*readme).clone())
        }
        None => (Vec::new(), None),
    };
    Ok(Summary {
        default_branch,
        branch_count: o.refs.branches.len(),
        tag_count: o.refs.tags.len(),
        recent,
        readme,
    })
}

/// One page of history.
#[derive(Debug)]
pub struct Changelog {
    /// The revision the page starts from, as asked (branch name or id).
    pub rev: String,
    pub changesets: Vec<Changeset>,
    pub has_next: bool,
    pub labels: RefLabels,
    pub refs: Arc<RepoRefs>,
}

/// A page of the changelog from `rev` (the default branch when `None`), optionally only the
/// changesets that touch `path`. Pages count from 1.
pub async fn changelog(
    svc: &Services,
    access: &RepoAccess,
    rev: Option<&str>,
    path: Option<&str>,
    page: usize,
    size: usize,
) -> Result<Changelog> {
    let o = opened(svc, access).await?;
    let size = size.clamp(1, MAX_PAGE_SIZE);
    let skip = page.saturating_sub(1).saturating_mul(size);
    let (rev, start) = match rev {
        Some(r) => (r.to_owned(), Some(o.resolve(svc, r).await?)),
        None => match &o.refs.default_branch {
            Some(b) => (b.name.clone(), Some(b.target.clone())),
            None => (String::new(), None),
        },
    };
    let mut changesets = match start {
        Some(id) => {
            let p = path.map(str::to_owned);
            let key = format!(
                "log:{}:{id}:{}:{skip}:{}",
                o.order(),
                p.as_deref().unwrap_or(""),
                size + 1
            );
            (*o.cached(svc, key, move |r| {
                Ok(r.history(&id, p.as_deref(), skip, size + 1)?)
            })
            .await?)
                .clone()
        }
        None => Vec::new(),
    };
    let has_next = changesets.len() > size;
    changesets.truncate(size);
    Ok(Changelog {
        rev,
        labels: o.refs.labels_of(changesets.iter().map(|c| &c.id)),
        changesets,
        has_next,
        refs: o.refs.clone(),
    })
}

/// The most files whose diffs one page shows (each costs its table, however small).
pub const MAX_SHOWN_DIFFS: usize = 500;

/// Keeps patches, in order, while they fit in `cut_off` bytes together and number at most
/// [`MAX_SHOWN_DIFFS`], and drops the rest (a large one does not hide the small ones after
/// it); true when any were dropped.
fn cut_patches(changes: &mut [FileChange], cut_off: usize) -> bool {
    let mut total = 0usize;
    let mut shown = 0usize;
    let mut cut = false;
    for c in changes.iter_mut().filter(|c| !c.patch.is_empty()) {
        if total + c.patch.len() > cut_off || shown == MAX_SHOWN_DIFFS {
            c.patch.clear();
            cut = true;
        } else {
            total += c.patch.len();
            shown += 1;
        }
    }
    cut
}

/// A changeset with its parents and children (for the data Kallithea's scripts fetched).
#[derive(Debug)]
pub struct ChangesetFamily {
    pub changeset: Changeset,
    pub parents: Vec<Changeset>,
    /// Children among the branch tips' history (at most 20, as on the changeset page).
    pub children: Vec<Changeset>,
}

/// A changeset's metadata, and its parents' and children's, without any diff.
pub async fn changeset_family(
    svc: &Services,
    access: &RepoAccess,
    rev: &str,
) -> Result<ChangesetFamily> {
    let o = opened(svc, access).await?;
    let id = o.resolve(svc, rev).await?;
    let i = id.clone();
    // Children appear as history grows: keyed by the refs, not the id alone.
    let all = o
        .cached(svc, format!("family:{}:{id}", o.fingerprint), move |r| {
            let children = r.children(&i, 20)?;
            let changeset = r.changeset(&i)?;
            let parents = changeset
                .parents
                .iter()
                .map(|p| r.changeset(p))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            let children = children
                .iter()
                .map(|c| r.changeset(c))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            Ok((changeset, (parents, children)))
        })
        .await?;
    let (changeset, (parents, children)) = (*all).clone();
    Ok(ChangesetFamily {
        changeset,
        parents,
        children,
    })
}

/// Everything the changeset page shows.
#[derive(Debug)]
pub struct ChangesetView {
    pub changeset: Changeset,
    pub children: Vec<ChangesetId>,
    pub labels: Vec<String>,
    pub changes: Vec<FileChange>,
    /// True when patches were dropped to stay under the size limit.
    pub cut: bool,
}

/// A changeset with its diff; patches beyond `cut_off` bytes in total are left out unless
/// `full` is set.
pub async fn changeset(
    svc: &Services,
    access: &RepoAccess,
    rev: &str,
    opts: DiffOptions,
    cut_off: usize,
    full: bool,
) -> Result<ChangesetView> {
    let o = opened(svc, access).await?;
    let id = o.resolve(svc, rev).await?;
    let i = id.clone();
    let key = format!("cs:{id}:{}:{}", opts.context, opts.ignore_whitespace);
    let data = o.cached_diff(svc, key, move |r| {
        Ok((r.changeset(&i)?, r.changes(&i, opts)?))
    });
    // Children appear as history grows: keyed by the refs, not the id alone. Found while
    // the diff is made.
    let i = id.clone();
    let children = o.cached(svc, format!("children:{}:{id}", o.fingerprint), move |r| {
        Ok(r.children(&i, 20)?)
    });
    let (data, children) = tokio::try_join!(data, children)?;
    let (changeset, mut changes) = (*data).clone();
    let labels = o.refs.labels.get(&id).cloned().unwrap_or_default();
    let cut = !full && cut_patches(&mut changes, cut_off);
    Ok(ChangesetView {
        changeset,
        children: (*children).clone(),
        labels,
        changes,
        cut,
    })
}

/// The changeset as text: `patch` (`git format-patch`) or the plain diff.
pub async fn changeset_text(
    svc: &Services,
    access: &RepoAccess,
    rev: &str,
    as_patch: bool,
) -> Result<(ChangesetId, Vec<u8>)> {
    let repo = open(svc, access)?;
    let name = access.repo().name.clone();
    let rev = rev.to_owned();
    blocking(move || {
        let id = resolve(&repo, &rev, &name)?;
        let text = if as_patch {
            repo.patch(&id)?
        } else {
            repo.raw_diff(&id)?
        };
        Ok((id, text))
    })
    .await
}

/// A file or folder at a revision.
#[derive(Debug)]
pub struct NodeView {
    pub id: ChangesetId,
    pub node: Node,
    pub refs: Arc<RepoRefs>,
}

pub async fn node(
    svc: &Services,
    access: &RepoAccess,
    rev: &str,
    path: &str,
    max_bytes: usize,
) -> Result<NodeView> {
    let o = opened(svc, access).await?;
    let id = o.resolve(svc, rev).await?;
    let path = path.trim_matches('/').to_owned();
    let (i, p) = (id.clone(), path.clone());
    let node = o
        .cached(svc, format!("node:{id}:{max_bytes}:{path}"), move |r| {
            Ok(r.node(&i, &p, max_bytes)?)
        })
        .await?;
    let node = (*node).clone().ok_or_else(|| {
        Error::not_found(format!(
            "There is no file or folder \"{path}\" at revision {rev} of repository {}.",
            o.name
        ))
    })?;
    Ok(NodeView {
        id,
        node,
        refs: o.refs.clone(),
    })
}

/// The most paths [`node_list`] gives: enough for the file finder of any repository people
/// browse, small enough to send at once (about 5 MB of JSON).
pub const MAX_NODE_LIST: usize = 100_000;

/// Every folder and file below a folder at a revision (for the file finder).
pub async fn node_list(
    svc: &Services,
    access: &RepoAccess,
    rev: &str,
    path: &str,
) -> Result<(ChangesetId, Arc<PathList>)> {
    let o = opened(svc, access).await?;
    let id = o.resolve(svc, rev).await?;
    let path = path.trim_matches('/').to_owned();
    let (i, p, name, r) = (id.clone(), path.clone(), o.name.clone(), rev.to_owned());
    // A walk of a big tree takes a while and megabytes: it waits its turn, as diffs do.
    let list = o
        .cached_diff(svc, format!("paths:{id}:{path}"), move |repo| {
            repo.paths(&i, &p, MAX_NODE_LIST)?.ok_or_else(|| {
                Error::not_found(format!(
                    "There is no folder \"{p}\" at revision {r} of repository {name}."
                ))
            })
        })
        .await?;
    Ok((id, list))
}

/// A file's whole content as a stream: the resolved id, the file's size and a `git` child
/// whose stdout is the content.
pub async fn file_stream(
    svc: &Services,
    access: &RepoAccess,
    rev: &str,
    path: &str,
) -> Result<(ChangesetId, u64, tokio::process::Child)> {
    let repo = open(svc, access)?;
    let name = access.repo().name.clone();
    let (rev, path) = (rev.to_owned(), path.trim_matches('/').to_owned());
    let (id, size, path) = blocking(move || {
        let id = resolve(&repo, &rev, &name)?;
        match repo.node(&id, &path, 0)? {
            Some(Node::File(f)) => Ok((id, f.size, path)),
            Some(_) => Err(Error::not_found(format!(
                "\"{path}\" is a folder, not a file."
            ))),
            None => Err(Error::not_found(format!(
                "There is no file \"{path}\" at revision {rev} of repository {name}."
            ))),
        }
    })
    .await?;
    let Repo::Git(g) = open(svc, access)?;
    let child = g.spawn_blob(&id, &path)?;
    Ok((id, size, child))
}

/// Branches and tags by name.
pub async fn refs(svc: &Services, access: &RepoAccess) -> Result<Arc<RepoRefs>> {
    Ok(opened(svc, access).await?.refs)
}

/// Branches or tags with their changesets' times and first lines, newest first (kept for the
/// refs as they are on disk).
pub async fn ref_details(
    svc: &Services,
    access: &RepoAccess,
    kind: RefKind,
) -> Result<Vec<RefDetails>> {
    let o = opened(svc, access).await?;
    let key = format!("refdetails:{}:{kind:?}", o.fingerprint);
    Ok((*o
        .cached(svc, key, move |r| Ok(r.ref_details(kind)?))
        .await?)
        .clone())
}

pub use kallithea_vcs::read::{AnnotatedLine, ArchiveFormat, LastChange};

/// Largest file annotated (bytes); bigger ones are refused with a sentence.
pub const MAX_ANNOTATE_BYTES: u64 = 1024 * 1024;

/// Who last changed each line of a file.
pub async fn annotate(
    svc: &Services,
    access: &RepoAccess,
    rev: &str,
    path: &str,
) -> Result<(ChangesetId, Vec<AnnotatedLine>)> {
    let o = opened(svc, access).await?;
    let id = o.resolve(svc, rev).await?;
    let path = path.trim_matches('/').to_owned();
    let name = o.name.clone();
    let (i, p, r) = (id.clone(), path.clone(), rev.to_owned());
    let lines = o
        .cached(svc, format!("blame:{id}:{path}"), move |repo| {
            let missing = || {
                Error::not_found(format!(
                    "There is no file \"{p}\" at revision {r} of repository {name}."
                ))
            };
            match repo.node(&i, &p, 8000)?.ok_or_else(missing)? {
                Node::File(f) if f.binary => Err(Error::invalid(format!(
                    "\"{p}\" is a binary file: it cannot be annotated."
                ))),
                Node::File(f) if f.symlink => Err(Error::invalid(format!(
                    "\"{p}\" is a symbolic link: it cannot be annotated."
                ))),
                Node::File(f) if f.size > MAX_ANNOTATE_BYTES => Err(Error::invalid(format!(
                    "\"{p}\" is too large to annotate (more than 1 MiB)."
                ))),
                Node::File(_) => repo.annotate(&i, &p)?.ok_or_else(missing),
                _ => Err(Error::not_found(format!(
                    "\"{p}\" is a folder, not a file."
                ))),
            }
        })
        .await?;
    Ok((id, (*lines).clone()))
}

/// The most archives kept in `archive_cache_dir`; past it, archives are made each time.
pub const MAX_CACHED_ARCHIVES: usize = 1000;

/// Where an archive's bytes come from.
pub enum ArchiveBody {
    /// Made before and kept in the archive cache (`archive_cache_dir`).
    Cached(tokio::fs::File),
    /// Being made by `git archive`; with a cache, the bytes are also written to `tee`.
    Fresh {
        child: Box<tokio::process::Child>,
        tee: Option<CacheWriter>,
    },
}

/// Writes an archive into the cache as it streams: a temporary file renamed into place only
/// when git finished successfully, and removed otherwise (also when the download stops).
pub struct CacheWriter {
    tmp: std::path::PathBuf,
    dest: std::path::PathBuf,
    file: Option<tokio::fs::File>,
}

impl CacheWriter {
    pub async fn write(&mut self, chunk: &[u8]) {
        use tokio::io::AsyncWriteExt;
        let failed = match self.file.as_mut() {
            Some(f) => f.write_all(chunk).await.is_err(),
            None => false,
        };
        if failed {
            self.file = None;
        }
    }

    /// Keeps the file when `ok`, else drops it.
    pub async fn finish(mut self, ok: bool) {
        use tokio::io::AsyncWriteExt;
        if let (true, Some(mut f)) = (ok, self.file.take())
            && f.flush().await.is_ok()
            && f.sync_all().await.is_ok()
        {
            let _ = tokio::fs::rename(&self.tmp, &self.dest).await;
        }
    }
}

impl Drop for CacheWriter {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.tmp);
    }
}

/// The name an archive of `rev` downloads as (what a `HEAD` request needs), without making
/// it: refused as [`archive`] refuses.
pub async fn archive_name(
    svc: &Services,
    access: &RepoAccess,
    rev: &str,
    format: ArchiveFormat,
) -> Result<String> {
    let (_, _, base) = archive_base(svc, access, rev).await?;
    Ok(format!("{base}{}", format.extension()))
}

/// The repository, the changeset and the archive's folder name, once downloads are allowed.
async fn archive_base(
    svc: &Services,
    access: &RepoAccess,
    rev: &str,
) -> Result<(Opened, ChangesetId, String)> {
    if !access.repo().enable_downloads {
        return Err(Error::forbidden(
            "Downloads are disabled for this repository: an administrator can allow them in its settings.",
        ));
    }
    let o = opened(svc, access).await?;
    let id = o.resolve(svc, rev).await?;
    // Kallithea's naming: the repository name with `/` as `_`, then the short id.
    let base = format!("{}-{}", o.name.replace('/', "_"), id.short());
    Ok((o, id, base))
}

/// An archive download: the file name to offer and where the bytes come from. Refused when
/// the repository has downloads turned off. Archives are kept by changeset id when
/// `archive_cache_dir` is set, as Kallithea does.
pub async fn archive(
    svc: &Services,
    access: &RepoAccess,
    rev: &str,
    format: ArchiveFormat,
) -> Result<(String, ArchiveBody)> {
    let (o, id, base) = archive_base(svc, access, rev).await?;
    let file_name = format!("{base}{}", format.extension());
    let cache = svc.config.archive_cache_dir.as_ref().map(|dir| {
        // The name is part of the key: the archive's folder carries it, and renames change it.
        let name_key = &crate::token::sha256_hex(&o.name)[..12];
        let stored = format!(
            "{}-{}-{name_key}{}",
            access.repo().id.0,
            id.0,
            format.extension()
        );
        (
            dir.join(&stored),
            dir.join(format!(".{stored}.{}.tmp", crate::token::random_hex(6))),
        )
    });
    if let Some((dest, _)) = &cache
        && let Ok(f) = tokio::fs::File::open(dest).await
    {
        return Ok((file_name, ArchiveBody::Cached(f)));
    }
    let Repo::Git(g) = &o.repo;
    let child = g.spawn_archive(&id, format, &base)?;
    let full = match &svc.config.archive_cache_dir {
        Some(dir) => std::fs::read_dir(dir)
            .map(|rd| rd.take(MAX_CACHED_ARCHIVES).count() >= MAX_CACHED_ARCHIVES)
            .unwrap_or(false),
        None => true,
    };
    let tee = match cache.filter(|_| !full) {
        Some((dest, tmp)) => {
            let _ = tokio::fs::create_dir_all(dest.parent().unwrap_or(&dest)).await;
            match tokio::fs::File::create(&tmp).await {
                Ok(f) => Some(CacheWriter {
                    tmp,
                    dest,
                    file: Some(f),
                }),
                Err(e) => {
                    tracing::warn!("archive cache not writable ({}): {e}", tmp.display());
                    None
                }
            }
        }
        None => None,
    };
    Ok((
        file_name,
        ArchiveBody::Fresh {
            child: Box::new(child),
            tee,
        },
    ))
}

/// Removes a deleted repository's archives from `archive_cache_dir` (best effort: a file
/// left behind is never served again, repository ids not being reused).
pub(crate) fn forget_archives(svc: &Services, repo_id: i64) {
    let Some(dir) = &svc.config.archive_cache_dir else {
        return;
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let prefix = format!("{repo_id}-");
    for e in entries.flatten() {
        if e.file_name().to_string_lossy().starts_with(&prefix)
            && let Err(err) = std::fs::remove_file(e.path())
        {
            tracing::warn!("could not remove {}: {err}", e.path().display());
        }
    }
}

/// The most changesets a comparison lists.
pub const MAX_COMPARE: usize = 1000;

/// What `/compare` shows: the changesets `other` has that `org` lacks, and a diff to
/// `other` (patches past `cut_off` bytes left out unless `full`).
#[derive(Debug)]
pub struct Comparison {
    /// `None` when the comparison starts before the first changeset.
    pub org: Option<ChangesetId>,
    pub other: ChangesetId,
    /// Where the diff starts: `org` itself, or the common ancestor of both (`None`: from
    /// nothing, every file added).
    pub diff_from: Option<ChangesetId>,
    pub changesets: Vec<Changeset>,
    /// True when more than [`MAX_COMPARE`] changesets differ (the list is cut).
    pub more: bool,
    pub changes: Vec<FileChange>,
    pub cut: bool,
}

/// Where a comparison's diff starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompareDiff {
    /// From `org` itself: what differs between the two (Kallithea's default).
    Tips,
    /// From the newest changeset both descend from: what merging `other` into `org` would
    /// bring (Kallithea's `merge=1`, a pull request's diff).
    FromAncestor,
}

/// Compares two revisions.
#[allow(clippy::too_many_arguments)]
pub async fn compare(
    svc: &Services,
    access: &RepoAccess,
    org: &str,
    other: &str,
    how: CompareDiff,
    opts: DiffOptions,
    cut_off: usize,
    full: bool,
) -> Result<Comparison> {
    let o = opened(svc, access).await?;
    let org_id = o.resolve(svc, org).await?;
    let other_id = o.resolve(svc, other).await?;
    let hide = vec![org_id.clone()];
    compare_ids(
        svc,
        &o,
        Some(org_id),
        hide,
        other_id,
        how,
        opts,
        cut_off,
        full,
    )
    .await
}

/// A range of changesets, `first` to `last` with both included (`/changeset/{first}...{last}`):
/// `first` and the changesets `last` has that `first` has not, with the diff from `first`'s
/// parent. `None` when the two are the other way round (`last`
/// comes before `first`); a range between unrelated changesets is refused.
pub async fn changeset_range(
    svc: &Services,
    access: &RepoAccess,
    first: &str,
    last: &str,
    opts: DiffOptions,
    cut_off: usize,
    full: bool,
) -> Result<Option<Comparison>> {
    let o = opened(svc, access).await?;
    let first_id = o.resolve(svc, first).await?;
    let last_id = o.resolve(svc, last).await?;
    // A range runs from a changeset to one that descends from it.
    let (f, l) = (first_id.clone(), last_id.clone());
    let known = o
        .cached(svc, format!("range:{first_id}:{last_id}"), move |r| {
            let base = r.common_ancestor(&f, &l)?;
            let order = match base {
                Some(b) if b == f => 1u8,
                Some(b) if b == l => 2,
                _ => 0,
            };
            Ok((order, r.changeset(&f)?.parents))
        })
        .await?;
    let (order, parents) = (*known).clone();
    // Written the other way round (the newer first): the caller may turn it.
    if order == 2 {
        return Ok(None);
    }
    if order == 0 {
        return Err(Error::invalid(format!(
            "{first} does not come before {last}: a range runs from a changeset to one of \
             its descendants. To see how two branches differ, compare them: \
             compare/{first}...{last}."
        )));
    }
    // `first` and what `last` adds to it: nothing `first`'s parents already had (a merge's
    // second side included). The diff runs from its first parent.
    compare_ids(
        svc,
        &o,
        parents.first().cloned(),
        parents,
        last_id,
        CompareDiff::Tips,
        opts,
        cut_off,
        full,
    )
    .await
    .map(Some)
}

/// The changesets `other` has and none of `hide` has, and the diff from `org` (or from the
/// common ancestor) to `other`.
#[allow(clippy::too_many_arguments)]
async fn compare_ids(
    svc: &Services,
    o: &Opened,
    org: Option<ChangesetId>,
    hide: Vec<ChangesetId>,
    other: ChangesetId,
    how: CompareDiff,
    opts: DiffOptions,
    cut_off: usize,
    full: bool,
) -> Result<Comparison> {
    let hidden: Vec<&str> = hide.iter().map(|h| h.0.as_str()).collect();
    let key = format!(
        "cmp:{}:{}:{}:{other}:{how:?}:{}:{}",
        o.order(),
        org.as_ref().map_or("-", |o| o.0.as_str()),
        hidden.join(","),
        opts.context,
        opts.ignore_whitespace
    );
    let (a, b) = (org.clone(), other.clone());
    let data = o
        .cached_diff(svc, key, move |r| {
            let from = match (&a, how) {
                (Some(a), CompareDiff::FromAncestor) => r.common_ancestor(a, &b)?,
                (a, _) => a.clone(),
            };
            let changesets = r.between(&hide, &b, MAX_COMPARE + 1)?;
            let changes = r.diff(from.as_ref(), &b, None, opts)?;
            Ok((from, changesets, changes))
        })
        .await?;
    let (diff_from, mut changesets, mut changes) = (*data).clone();
    let more = changesets.len() > MAX_COMPARE;
    changesets.truncate(MAX_COMPARE);
    let cut = !full && cut_patches(&mut changes, cut_off);
    Ok(Comparison {
        org,
        other,
        diff_from,
        changesets,
        more,
        changes,
        cut,
    })
}

/// One path's diff between two revisions (`/diff/{path}?diff1=&diff2=`).
#[derive(Debug)]
pub struct PathDiff {
    /// `None`: from nothing (the file is added).
    pub from: Option<ChangesetId>,
    pub to: ChangesetId,
    pub changes: Vec<FileChange>,
    pub cut: bool,
}

/// Whether a revision from a `diff1`/`diff2` parameter means "before anything": empty, or
/// Kallithea's `None` and all-zero ids.
pub fn names_nothing(rev: &str) -> bool {
    rev.is_empty()
        || rev == "None"
        || ([12, 40, 64].contains(&rev.len()) && rev.bytes().all(|b| b == b'0'))
}

/// The diff of `path` (a file, or everything under a folder) from `from` to `to`; `from`
/// naming nothing ([`names_nothing`]) diffs from before the first changeset.
#[allow(clippy::too_many_arguments)]
pub async fn path_diff(
    svc: &Services,
    access: &RepoAccess,
    from: &str,
    to: &str,
    path: &str,
    opts: DiffOptions,
    cut_off: usize,
    full: bool,
) -> Result<PathDiff> {
    let o = opened(svc, access).await?;
    let (from_id, to_id) = o.resolve_pair(svc, from, to).await?;
    let key = format!(
        "pathdiff:{}:{to_id}:{}:{}:{path}",
        from_id.as_ref().map_or("-", |o| o.0.as_str()),
        opts.context,
        opts.ignore_whitespace
    );
    let (a, b, p) = (from_id.clone(), to_id.clone(), path.to_owned());
    let data = o
        .cached_diff(svc, key, move |r| {
            let changes = r.diff(a.as_ref(), &b, Some(&p), opts)?;
            // No changes: the same in both, or in neither.
            let exists = !changes.is_empty()
                || r.node(&b, &p, 0)?.is_some()
                || match &a {
                    Some(a) => r.node(a, &p, 0)?.is_some(),
                    None => false,
                };
            Ok((changes, exists))
        })
        .await?;
    let (mut changes, exists) = (*data).clone();
    if !exists {
        let at = match from_id {
            Some(_) if from != to => format!("{from} or {to}"),
            _ => to.to_owned(),
        };
        return Err(Error::not_found(format!(
            "There is no file or folder \"{path}\" at {at} in repository {}.",
            o.name
        )));
    }
    let cut = !full && cut_patches(&mut changes, cut_off);
    Ok(PathDiff {
        from: from_id,
        to: to_id,
        changes,
        cut,
    })
}

/// [`path_diff`] as plain unified diff text, with the changesets it runs between.
pub async fn path_diff_text(
    svc: &Services,
    access: &RepoAccess,
    from: &str,
    to: &str,
    path: &str,
    opts: DiffOptions,
) -> Result<(Option<ChangesetId>, ChangesetId, Vec<u8>)> {
    let o = opened(svc, access).await?;
    let (from_id, to_id) = o.resolve_pair(svc, from, to).await?;
    let (repo, p) = (o.repo.clone(), path.to_owned());
    let _turn = svc
        .diffs
        .acquire()
        .await
        .map_err(|e| Error::internal("waiting to make a diff", e))?;
    blocking(move || {
        let text = repo.diff_text(from_id.as_ref(), &to_id, Some(&p), opts)?;
        Ok((from_id, to_id, text))
    })
    .await
}

/// reStructuredText rendered by docutils (when installed), remembered under `key`, which must
/// name the content the text came from; at most two documents are rendered at once
/// (`Services::documents`). `None`: show the text as it is.
pub async fn render_rst(svc: &Services, key: String, text: String) -> Option<String> {
    if let Some(v) = svc.cache.get::<Option<String>>(&key) {
        return (*v).clone();
    }
    // Two at a time; the same document asked for meanwhile is found made.
    let _turn = svc.documents.acquire().await.ok()?;
    if let Some(v) = svc.cache.get::<Option<String>>(&key) {
        return (*v).clone();
    }
    let html = tokio::task::spawn_blocking(move || kallithea_vcs::markup::rst_to_html(&text))
        .await
        .ok()
        .flatten();
    svc.cache.put(key, Arc::new(html.clone()));
    html
}

/// How many changesets a folder listing looks back through for its "last change" column.
pub const LAST_CHANGE_BUDGET: usize = 2000;

/// The newest changeset touching each of `names` in a folder at a changeset, as far as
/// [`LAST_CHANGE_BUDGET`] changesets back reach (entries changed longer ago are left out).
/// Kept by changeset id, folder and `part`, which names the part of the folder's listing
/// that `names` are.
pub async fn last_changes(
    svc: &Services,
    access: &RepoAccess,
    id: &ChangesetId,
    dir: &str,
    part: usize,
    names: Vec<String>,
) -> Result<Arc<std::collections::HashMap<String, LastChange>>> {
    let o = opened(svc, access).await?;
    let (i, d) = (id.clone(), dir.trim_matches('/').to_owned());
    o.cached(svc, format!("last:{id}:{part}:{d}"), move |r| {
        Ok(r.last_changes(&i, &d, &names, LAST_CHANGE_BUDGET)?)
    })
    .await
}

/// The most files and folders [`disk_size`] counts (a repository of many loose objects is
/// counted in part, and says so).
pub const MAX_SIZE_ENTRIES: usize = 200_000;

/// How much disk the repository's folder takes, and whether every file was counted (Kallithea
/// showed it on the summary). Kept while the refs stay the same.
pub async fn disk_size(svc: &Services, access: &RepoAccess) -> Result<(u64, bool)> {
    let o = opened(svc, access).await?;
    let key = format!("size:{}:{}", o.repo_id, o.fingerprint);
    if let Some(v) = svc.cache.get::<(u64, bool)>(&key) {
        return Ok(*v);
    }
    let root = svc.store.path(&access.name()?);
    let found = blocking(move || {
        let (mut bytes, mut seen) = (0u64, 0usize);
        let mut folders = vec![root];
        while let Some(dir) = folders.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in entries.flatten() {
                seen += 1;
                if seen > MAX_SIZE_ENTRIES {
                    return Ok((bytes, false));
                }
                // Links are not followed: only what the folder itself holds.
                match e.metadata() {
                    Ok(m) if m.is_dir() => folders.push(e.path()),
                    Ok(m) if m.is_file() => bytes += m.len(),
                    _ => {}
                }
            }
        }
        Ok((bytes, true))
    })
    .await?;
    svc.cache.put(key, Arc::new(found));
    Ok(found)
}

/// The most changesets [`file_authors`] reads back through a path's history.
pub const MAX_AUTHOR_HISTORY: usize = 1000;

/// Who changed a file or folder, as far back as [`MAX_AUTHOR_HISTORY`] changesets reach.
#[derive(Debug)]
pub struct FileAuthors {
    pub id: ChangesetId,
    /// Each author once, with how many of the changesets are theirs; most changesets first,
    /// then by name.
    pub authors: Vec<(Person, usize)>,
    /// The history goes back further than was read.
    pub more: bool,
}

/// The authors of the changesets that touched `path` up to `rev` (Kallithea's file page
/// showed them on request). An unknown path is not found, as for the file page.
pub async fn file_authors(
    svc: &Services,
    access: &RepoAccess,
    rev: &str,
    path: &str,
) -> Result<FileAuthors> {
    let nv = node(svc, access, rev, path, 0).await?;
    let o = opened(svc, access).await?;
    let (i, p) = (nv.id.clone(), path.trim_matches('/').to_owned());
    let key = format!("authors:{}:{}:{p}", o.order(), nv.id);
    let found = o
        .cached(svc, key, move |r| {
            let log = r.history(
                &i,
                Some(&p).filter(|p| !p.is_empty()).map(String::as_str),
                0,
                MAX_AUTHOR_HISTORY + 1,
            )?;
            let more = log.len() > MAX_AUTHOR_HISTORY;
            let mut counts: HashMap<&Person, usize> = HashMap::new();
            for c in log.iter().take(MAX_AUTHOR_HISTORY) {
                *counts.entry(&c.author).or_default() += 1;
            }
            let mut authors: Vec<(Person, usize)> =
                counts.into_iter().map(|(p, n)| (p.clone(), n)).collect();
            authors.sort_by(|a, b| {
                b.1.cmp(&a.1)
                    .then_with(|| a.0.name.cmp(&b.0.name))
                    .then_with(|| a.0.email.cmp(&b.0.email))
            });
            Ok((authors, more))
        })
        .await?;
    let (authors, more) = (*found).clone();
    Ok(FileAuthors {
        id: nv.id,
        authors,
        more,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(path: &str, patch_len: usize) -> FileChange {
        FileChange {
            path: path.to_owned(),
            old_path: None,
            kind: ChangeKind::Modified,
            added: 1,
            removed: 0,
            binary: false,
            patch: "x".repeat(patch_len),
            too_large: false,
            mode_change: None,
            whitespace_only: false,
        }
    }

    #[test]
    fn a_large_patch_does_not_hide_the_small_ones_after_it() {
        let mut files = vec![change("a", 10), change("big", 1000), change("z", 10)];
        assert!(cut_patches(&mut files, 100));
        let kept: Vec<usize> = files.iter().map(|f| f.patch.len()).collect();
        assert_eq!(kept, [10, 0, 10]);
        let mut small = vec![change("a", 10), change("b", 10)];
        assert!(!cut_patches(&mut small, 100));
        let mut many: Vec<FileChange> = (0..MAX_SHOWN_DIFFS + 5).map(|_| change("f", 1)).collect();
        assert!(cut_patches(&mut many, usize::MAX));
        assert_eq!(
            many.iter().filter(|f| !f.patch.is_empty()).count(),
            MAX_SHOWN_DIFFS
        );
    }

    #[test]
    fn only_kallithea_spellings_of_nothing_name_nothing() {
        for nothing in ["", "None", "000000000000", &"0".repeat(40)] {
            assert!(names_nothing(nothing), "{nothing}");
        }
        for something in ["0000000", "main", &"0".repeat(41)] {
            assert!(!names_nothing(something), "{something}");
        }
    }
}
