//! Reading a repository for the pages: summary, changelog, changeset, files, raw content,
//! branches and tags. Every function takes a [`RepoAccess`] (read is required) and runs the
//! VCS work on a blocking thread. Unknown revisions and paths are `NotFound` with a sentence
//! saying what was not found.

use std::collections::HashMap;

use kallithea_model::PermLevel;
pub use kallithea_vcs::read::{
    ChangeKind, Changeset, ChangesetId, DiffOptions, EntryKind, FileChange, FileContent, Node,
    RefInfo, RefKind, TreeEntry,
};
use kallithea_vcs::{Repo, VcsRead};

use crate::repo::RepoAccess;
use crate::{Error, Result, Services};

/// Largest page of changesets.
pub const MAX_PAGE_SIZE: usize = 2000;

fn open(svc: &Services, access: &RepoAccess) -> Result<Repo> {
    access.require(PermLevel::Read)?;
    Ok(Repo::open_git(&svc.store.path(&access.name()?))?)
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::internal("reading a repository", e))?
}

fn rev_not_found(rev: &str, repo: &str) -> Error {
    Error::not_found(format!(
        "There is no revision \"{rev}\" in repository {repo}."
    ))
}

/// Resolves a revision from a URL, or says it does not exist.
fn resolve(repo: &Repo, rev: &str, repo_name: &str) -> Result<ChangesetId> {
    repo.resolve(rev)?
        .ok_or_else(|| rev_not_found(rev, repo_name))
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
    let repo = open(svc, access)?;
    blocking(move || {
        let branches = repo.branches()?;
        let tags = repo.tags()?;
        let default_branch = repo.default_branch()?;
        let (recent, readme) = match &default_branch {
            Some(b) => {
                let recent = repo.history(&b.target, None, 0, 10)?;
                let readme = match repo.node(&b.target, "", 0)? {
                    Some(Node::Dir(entries)) => {
                        let best = entries
                            .iter()
                            .filter(|e| e.kind == EntryKind::File)
                            .filter_map(|e| readme_rank(&e.name).map(|r| (r, e.name.clone())))
                            .min();
                        match best {
                            Some((_, name)) => match repo.node(&b.target, &name, 512 * 1024)? {
                                Some(Node::File(f)) if !f.binary => Some((name, f)),
                                _ => None,
                            },
                            None => None,
                        }
                    }
                    _ => None,
                };
                (recent, readme)
            }
            None => (Vec::new(), None),
        };
        Ok(Summary {
            default_branch,
            branch_count: branches.len(),
            tag_count: tags.len(),
            recent,
            readme,
        })
    })
    .await
}

/// One page of history.
#[derive(Debug)]
pub struct Changelog {
    /// The revision the page starts from, as asked (branch name or id).
    pub rev: String,
    pub changesets: Vec<Changeset>,
    pub has_next: bool,
    pub labels: RefLabels,
    pub branches: Vec<RefInfo>,
    pub tags: Vec<RefInfo>,
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
    let repo = open(svc, access)?;
    let name = access.repo().name.clone();
    let (rev, path) = (rev.map(str::to_owned), path.map(str::to_owned));
    let size = size.clamp(1, MAX_PAGE_SIZE);
    let skip = page.saturating_sub(1).saturating_mul(size);
    blocking(move || {
        let branches = repo.branches()?;
        let tags = repo.tags()?;
        let (rev, start) = match rev {
            Some(r) => {
                let id = resolve(&repo, &r, &name)?;
                (r, Some(id))
            }
            None => match repo.default_branch()? {
                Some(b) => (b.name.clone(), Some(b.target)),
                None => (String::new(), None),
            },
        };
        let mut changesets = match &start {
            Some(id) => repo.history(id, path.as_deref(), skip, size + 1)?,
            None => Vec::new(),
        };
        let has_next = changesets.len() > size;
        changesets.truncate(size);
        Ok(Changelog {
            rev,
            changesets,
            has_next,
            labels: labels(&branches, &tags),
            branches,
            tags,
        })
    })
    .await
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
    let repo = open(svc, access)?;
    let name = access.repo().name.clone();
    let rev = rev.to_owned();
    blocking(move || {
        let id = resolve(&repo, &rev, &name)?;
        let changeset = repo.changeset(&id)?;
        let children = repo.children(&id, 20)?;
        let branches = repo.branches()?;
        let tags = repo.tags()?;
        let labels = labels(&branches, &tags).remove(&id).unwrap_or_default();
        let mut changes = repo.changes(&id, opts)?;
        let mut total = 0usize;
        let mut cut = false;
        if !full {
            for c in &mut changes {
                total += c.patch.len();
                if total > cut_off {
                    c.patch.clear();
                    cut = true;
                }
            }
        }
        Ok(ChangesetView {
            changeset,
            children,
            labels,
            changes,
            cut,
        })
    })
    .await
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
    pub branches: Vec<RefInfo>,
    pub tags: Vec<RefInfo>,
}

pub async fn node(
    svc: &Services,
    access: &RepoAccess,
    rev: &str,
    path: &str,
    max_bytes: usize,
) -> Result<NodeView> {
    let repo = open(svc, access)?;
    let name = access.repo().name.clone();
    let (rev, path) = (rev.to_owned(), path.trim_matches('/').to_owned());
    blocking(move || {
        let id = resolve(&repo, &rev, &name)?;
        let node = repo.node(&id, &path, max_bytes)?.ok_or_else(|| {
            Error::not_found(format!(
                "There is no file or folder \"{path}\" at revision {rev} of repository {name}."
            ))
        })?;
        Ok(NodeView {
            id,
            node,
            branches: repo.branches()?,
            tags: repo.tags()?,
        })
    })
    .await
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

/// Branches and tags, newest first.
pub async fn refs(svc: &Services, access: &RepoAccess) -> Result<(Vec<RefInfo>, Vec<RefInfo>)> {
    let repo = open(svc, access)?;
    blocking(move || Ok((repo.branches()?, repo.tags()?))).await
}

pub use kallithea_vcs::read::{AnnotatedLine, ArchiveFormat};

/// Largest file annotated (bytes); bigger ones are refused with a sentence.
pub const MAX_ANNOTATE_BYTES: u64 = 1024 * 1024;

/// Who last changed each line of a file.
pub async fn annotate(
    svc: &Services,
    access: &RepoAccess,
    rev: &str,
    path: &str,
) -> Result<(ChangesetId, Vec<AnnotatedLine>)> {
    let repo = open(svc, access)?;
    let name = access.repo().name.clone();
    let (rev, path) = (rev.to_owned(), path.trim_matches('/').to_owned());
    blocking(move || {
        let id = resolve(&repo, &rev, &name)?;
        let missing = || {
            Error::not_found(format!(
                "There is no file \"{path}\" at revision {rev} of repository {name}."
            ))
        };
        match repo.node(&id, &path, 8000)?.ok_or_else(missing)? {
            Node::File(f) if f.binary => {
                return Err(Error::invalid(format!(
                    "\"{path}\" is a binary file: it cannot be annotated."
                )));
            }
            Node::File(f) if f.size > MAX_ANNOTATE_BYTES => {
                return Err(Error::invalid(format!(
                    "\"{path}\" is too large to annotate (more than 1 MiB)."
                )));
            }
            Node::File(_) => {}
            _ => {
                return Err(Error::not_found(format!(
                    "\"{path}\" is a folder, not a file."
                )));
            }
        }
        let lines = repo.annotate(&id, &path)?.ok_or_else(missing)?;
        Ok((id, lines))
    })
    .await
}

/// An archive download: the file name to offer, its format and a `git archive` child.
/// Refused when the repository has downloads turned off.
pub async fn archive(
    svc: &Services,
    access: &RepoAccess,
    rev: &str,
    format: ArchiveFormat,
) -> Result<(String, tokio::process::Child)> {
    if !access.repo().enable_downloads {
        return Err(Error::forbidden(
            "Downloads are disabled for this repository: an administrator can allow them in its settings.",
        ));
    }
    let repo = open(svc, access)?;
    let name = access.repo().name.clone();
    let rev_owned = rev.to_owned();
    let n = name.clone();
    let id = blocking(move || resolve(&repo, &rev_owned, &n)).await?;
    // Kallithea's naming: the repository name with `/` as `_`, then the short id.
    let base = format!("{}-{}", name.replace('/', "_"), id.short());
    let Repo::Git(g) = open(svc, access)?;
    let child = g.spawn_archive(&id, format, &base)?;
    Ok((format!("{base}{}", format.extension()), child))
}

/// The most changesets a comparison lists.
pub const MAX_COMPARE: usize = 1000;

/// What `/compare` shows: the changesets `other` has that `org` lacks, and the combined diff
/// from their common ancestor.
#[derive(Debug)]
pub struct Comparison {
    pub org: ChangesetId,
    pub other: ChangesetId,
    pub changesets: Vec<Changeset>,
    /// True when more than [`MAX_COMPARE`] changesets differ (the list is cut).
    pub more: bool,
    pub changes: Vec<FileChange>,
    pub cut: bool,
    pub branches: Vec<RefInfo>,
    pub tags: Vec<RefInfo>,
}

pub async fn compare(
    svc: &Services,
    access: &RepoAccess,
    org: &str,
    other: &str,
    opts: DiffOptions,
    cut_off: usize,
) -> Result<Comparison> {
    let repo = open(svc, access)?;
    let name = access.repo().name.clone();
    let (org, other) = (org.to_owned(), other.to_owned());
    blocking(move || {
        let org_id = resolve(&repo, &org, &name)?;
        let other_id = resolve(&repo, &other, &name)?;
        let mut changesets = repo.between(&org_id, &other_id, MAX_COMPARE + 1)?;
        let more = changesets.len() > MAX_COMPARE;
        changesets.truncate(MAX_COMPARE);
        let mut changes = repo.diff_from_ancestor(&org_id, &other_id, opts)?;
        let mut total = 0usize;
        let mut cut = false;
        for c in &mut changes {
            total += c.patch.len();
            if total > cut_off {
                c.patch.clear();
                cut = true;
            }
        }
        Ok(Comparison {
            org: org_id,
            other: other_id,
            changesets,
            more,
            changes,
            cut,
            branches: repo.branches()?,
            tags: repo.tags()?,
        })
    })
    .await
}
