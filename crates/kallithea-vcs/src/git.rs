//! Git operations on a bare repository: reading refs for hooks, setting HEAD, and starting
//! the smart-protocol services.

use std::path::Path;

use crate::cmd::GitCommand;
use crate::{Error, Result};

/// The two smart-protocol services a client may ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    UploadPack,
    ReceivePack,
}

impl Service {
    /// From the URL or `?service=` value (`git-upload-pack`, `git-receive-pack`).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "git-upload-pack" => Some(Self::UploadPack),
            "git-receive-pack" => Some(Self::ReceivePack),
            _ => None,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Self::UploadPack => "git-upload-pack",
            Self::ReceivePack => "git-receive-pack",
        }
    }
    fn subcommand(self) -> &'static str {
        match self {
            Self::UploadPack => "upload-pack",
            Self::ReceivePack => "receive-pack",
        }
    }
    pub fn is_write(self) -> bool {
        self == Self::ReceivePack
    }
}

/// Checks a `Git-Protocol` header value (`version=2`, `version=2:object-format=sha1`):
/// only `key=value` items of safe characters pass, as Gitea does before setting
/// `GIT_PROTOCOL`.
pub fn valid_protocol_header(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 256
        && v.split(':').all(|item| {
            let (k, val) = item.split_once('=').unwrap_or((item, ""));
            !k.is_empty()
                && k.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                && val
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        })
}

/// Starts `git <service> --stateless-rpc [--advertise-refs] <repo>` with piped stdio.
/// `extra_env` carries what the hooks need (who pushed, from where).
pub fn spawn_service(
    repo: &Path,
    service: Service,
    advertise: bool,
    protocol: Option<&str>,
    extra_env: &[(&str, String)],
) -> Result<tokio::process::Child> {
    let mut c = GitCommand::new(service.subcommand()).arg("--stateless-rpc");
    if advertise {
        c = c.arg("--advertise-refs");
    }
    c = c.path(repo);
    if let Some(p) = protocol.filter(|p| valid_protocol_header(p)) {
        c = c.env("GIT_PROTOCOL", p);
    }
    for (k, v) in extra_env {
        c = c.env(k, v);
    }
    c.spawn_piped(repo)
}

/// Starts writing the repository's commit-graph file and returns at once. The file lists
/// every commit's parents and time, with a Bloom filter of the paths it changed: walks then
/// skip reading commits, and a file's history (`git log -- <path>`) skips most commits that
/// do not touch it. It is written in layers (`--split`), so after a push only the new commits
/// are added; while one write runs, its lock makes a second one give up (the next push
/// catches up).
pub fn start_commit_graph_write(repo: &Path) -> Result<()> {
    commit_graph_write().spawn_detached(repo)
}

/// [`start_commit_graph_write`], waiting for it to finish.
pub fn write_commit_graph(repo: &Path) -> Result<()> {
    commit_graph_write().run(repo).map(drop)
}

/// True when the repository has a commit-graph file (or a chain of them).
pub fn has_commit_graph(repo: &Path) -> bool {
    let info = repo.join("objects/info");
    info.join("commit-graph").is_file() || info.join("commit-graphs/commit-graph-chain").is_file()
}

fn commit_graph_write() -> GitCommand {
    GitCommand::new("commit-graph")
        .arg("write")
        .arg("--reachable")
        .arg("--split")
        .arg("--changed-paths")
        .arg("--no-progress")
}

/// True when HEAD points at a branch that exists.
pub fn head_resolves(repo: &Path) -> Result<bool> {
    let out = GitCommand::new("rev-parse")
        .arg("--verify")
        .arg("--quiet")
        .arg("HEAD")
        .run_unchecked(repo)?;
    Ok(out.status.success())
}

/// Points HEAD at `refs/heads/<branch>`.
pub fn set_head_branch(repo: &Path, branch: &str) -> Result<()> {
    let target = format!("refs/heads/{branch}");
    GitCommand::new("symbolic-ref")
        .arg("HEAD")
        .value(&target)?
        .run(repo)?;
    Ok(())
}

/// The branch HEAD names, whether or not it exists yet.
pub fn head_branch(repo: &Path) -> Result<Option<String>> {
    // HEAD of a bare repository is a small file `ref: refs/heads/<name>`: read it directly
    // (a process less on every page); anything unusual is left to git.
    if let Ok(text) = std::fs::read_to_string(repo.join("HEAD"))
        && let Some(name) = text.trim_end().strip_prefix("ref: refs/heads/")
        && !name.is_empty()
        && !name.contains(char::is_control)
    {
        return Ok(Some(name.to_owned()));
    }
    let out = GitCommand::new("symbolic-ref")
        .arg("--quiet")
        .arg("HEAD")
        .run_unchecked(repo)?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .trim()
        .strip_prefix("refs/heads/")
        .map(str::to_owned))
}

/// All branch refs (`refs/heads/...`).
pub fn branch_refs(repo: &Path) -> Result<Vec<String>> {
    let out = GitCommand::new("for-each-ref")
        .arg("--format=%(refname)")
        .arg("refs/heads/")
        .run(repo)?;
    Ok(String::from_utf8_lossy(&out)
        .lines()
        .map(str::to_owned)
        .collect())
}

/// The commits an update of a branch from `old` to `new` brought in: `old..new`, oldest
/// first, at most `limit` (the newest kept).
pub fn pushed_commits(repo: &Path, old: &str, new: &str, limit: usize) -> Result<Vec<String>> {
    for id in [old, new] {
        if !is_object_id(id) {
            return Err(Error::OptionLikeArgument(id.to_owned()));
        }
    }
    // `--max-count` keeps the newest, `--reverse` then lists them oldest first.
    let out = GitCommand::new("rev-list")
        .arg("--reverse")
        .arg_num("--max-count=", limit)
        .value(&format!("{old}..{new}"))?
        .run(repo)?;
    Ok(String::from_utf8_lossy(&out)
        .lines()
        .map(str::to_owned)
        .collect())
}

/// The commits that branches created by a push brought in (oldest first, at most `limit`,
/// the newest kept): what any of `created` (new id, ref name) reaches that no other branch
/// reaches. Asked once for all of them: a commit on several new branches counts once, and
/// a push of thousands of branches costs one walk, not one per branch.
pub fn new_branch_commits(
    repo: &Path,
    created: &[(&str, &str)],
    limit: usize,
) -> Result<Vec<String>> {
    if created.is_empty() {
        return Ok(Vec::new());
    }
    let refs = GitCommand::new("for-each-ref")
        .arg("--format=%(objectname) %(refname)")
        .arg("refs/heads/")
        .run(repo)?;
    let refs = String::from_utf8_lossy(&refs);
    // One id a line (an empty line would end the list early). Excluded ids are written
    // `^<id>`: git before 2.42 takes no options such as `--not` on its standard input.
    let mut input = String::new();
    for (id, _) in created {
        if !is_object_id(id) {
            return Err(Error::OptionLikeArgument((*id).to_owned()));
        }
        input.push_str(id);
        input.push('\n');
    }
    // A branch is one of the created ones by name and id: names that were not UTF-8 may
    // read alike here.
    let created_set: std::collections::HashSet<(&str, &str)> = created.iter().copied().collect();
    let mut others: Vec<&str> = refs
        .lines()
        .filter_map(|l| l.split_once(' '))
        .filter(|&(id, name)| !created_set.contains(&(id, name)))
        .map(|(id, _)| id)
        .filter(|id| is_object_id(id))
        .collect();
    others.sort_unstable();
    others.dedup();
    for id in others {
        input.push('^');
        input.push_str(id);
        input.push('\n');
    }
    let out = GitCommand::new("rev-list")
        .arg("--reverse")
        .arg_num("--max-count=", limit)
        .arg("--stdin")
        .run_with_input(repo, input.as_bytes())?;
    Ok(String::from_utf8_lossy(&out)
        .lines()
        .map(str::to_owned)
        .collect())
}

/// A full hexadecimal object id (SHA-1 or SHA-256).
pub fn is_object_id(s: &str) -> bool {
    (s.len() == 40 || s.len() == 64) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The all-zero id git uses for "no object" in hook input.
pub fn is_null_id(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b == b'0')
}

/// How long a fetch from another server may take.
pub const REMOTE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);

/// Checks a remote URL for [`fetch_from_remote`]: only `http://` and `https://`, no spaces or
/// control characters.
pub fn valid_remote_url(url: &str) -> bool {
    (url.starts_with("http://") || url.starts_with("https://"))
        && url.len() <= 2048
        && !url.chars().any(|c| c.is_control() || c.is_whitespace())
}

/// Fills a new bare repository with every branch and tag of a remote over HTTP(S) and points
/// HEAD where the remote's HEAD points. Other transports (file, ssh, ext) are refused by git
/// itself through `protocol.allow`; redirects are not followed; a transfer slower than
/// 1 kB/s for a minute, or longer than [`REMOTE_TIMEOUT`], is stopped.
pub fn fetch_from_remote(repo: &Path, url: &str) -> Result<()> {
    if !valid_remote_url(url) {
        return Err(Error::OptionLikeArgument(url.to_owned()));
    }
    let restrict = |c: GitCommand| {
        c.env("GIT_PROTOCOL_FROM_USER", "0")
            .env("GIT_CONFIG_COUNT", "6")
            .env("GIT_CONFIG_KEY_0", "protocol.allow")
            .env("GIT_CONFIG_VALUE_0", "never")
            .env("GIT_CONFIG_KEY_1", "protocol.http.allow")
            .env("GIT_CONFIG_VALUE_1", "always")
            .env("GIT_CONFIG_KEY_2", "protocol.https.allow")
            .env("GIT_CONFIG_VALUE_2", "always")
            .env("GIT_CONFIG_KEY_3", "http.followRedirects")
            .env("GIT_CONFIG_VALUE_3", "false")
            .env("GIT_CONFIG_KEY_4", "http.lowSpeedLimit")
            .env("GIT_CONFIG_VALUE_4", "1000")
            .env("GIT_CONFIG_KEY_5", "http.lowSpeedTime")
            .env("GIT_CONFIG_VALUE_5", "60")
    };
    restrict(
        GitCommand::new("fetch")
            .arg("--quiet")
            .arg("--no-write-fetch-head")
            .arg("--")
            .value(url)?
            .arg("+refs/heads/*:refs/heads/*")
            .arg("+refs/tags/*:refs/tags/*"),
    )
    .run_with_timeout(repo, REMOTE_TIMEOUT)?;
    let out = restrict(
        GitCommand::new("ls-remote")
            .arg("--symref")
            .arg("--")
            .value(url)?
            .arg("HEAD"),
    )
    .run_with_timeout(repo, REMOTE_TIMEOUT)?;
    let text = String::from_utf8_lossy(&out);
    if let Some(branch) = text
        .lines()
        .find_map(|l| l.strip_prefix("ref: refs/heads/"))
        .and_then(|rest| rest.split('\t').next())
    {
        set_head_branch(repo, branch)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_header_validation() {
        assert!(valid_protocol_header("version=2"));
        assert!(valid_protocol_header("version=2:object-format=sha1"));
        assert!(!valid_protocol_header("version=2\nX=1"));
        assert!(!valid_protocol_header("version=$(id)"));
        assert!(!valid_protocol_header(""));
    }
}
