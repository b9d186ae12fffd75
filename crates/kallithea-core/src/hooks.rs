//! What happens after a push, whichever protocol carried it: called by the `post-receive`
//! hook installed in every Git repository (`kallithea hook post-receive`).
//!
//! It points HEAD of a repository that was empty at the first pushed branch, records the
//! push in the journal with the pushed changesets, and updates the last-change time.

use std::path::Path;

use kallithea_db::journal::Entry;
use kallithea_vcs::git;

use crate::{Error, Result, Services, now};

/// The most changeset ids one journal entry lists.
const MAX_LOGGED_REVS: usize = 1000;

/// Who pushed, passed by the server to the hook through the environment.
#[derive(Clone, Debug, Default)]
pub struct Pusher {
    pub username: Option<String>,
    pub ip: Option<String>,
}

/// Names of the environment variables the server sets for the hook.
pub const ENV_USER: &str = "KALLITHEA_HOOK_USER";
pub const ENV_IP: &str = "KALLITHEA_HOOK_IP";

/// One line of `post-receive` input: `<old> <new> <ref>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefUpdate {
    pub old: String,
    pub new: String,
    pub refname: String,
}

pub fn parse_ref_updates(input: &str) -> Vec<RefUpdate> {
    input
        .lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            let (old, new, refname) = (it.next()?, it.next()?, it.next()?);
            Some(RefUpdate {
                old: old.into(),
                new: new.into(),
                refname: refname.into(),
            })
        })
        .collect()
}

/// Handles a push into the repository at `repo_path`.
pub async fn post_receive(
    svc: &Services,
    repo_path: &Path,
    updates: &[RefUpdate],
    pusher: &Pusher,
) -> Result<()> {
    let Some(name) = svc.store.name_of(repo_path) else {
        return Err(Error::not_found(format!(
            "{} is not under the repository root",
            repo_path.display()
        )));
    };
    // Git work first, so the database is written in one short transaction.
    // A repository that was empty gets HEAD on the first pushed branch.
    // A repository that was empty gets HEAD on a pushed branch: `main` or `master` when pushed,
    // else the first one (Kallithea takes the first; `git push --all` sends them sorted).
    if !git::head_resolves(repo_path)? {
        let pushed: Vec<&str> = updates
            .iter()
            .filter(|u| !git::is_null_id(&u.new))
            .filter_map(|u| u.refname.strip_prefix("refs/heads/"))
            // A name that was not UTF-8 arrives changed and names no branch.
            .filter(|b| !b.contains(char::REPLACEMENT_CHARACTER))
            .collect();
        let pick = ["main", "master"]
            .into_iter()
            .find(|b| pushed.contains(b))
            .or_else(|| pushed.first().copied());
        if let Some(b) = pick {
            git::set_head_branch(repo_path, b)?;
        }
    }

    let mut revs: Vec<String> = Vec::new();
    // New branches are asked about together, after the loop.
    let mut created: Vec<(&str, &str)> = Vec::new();
    for u in updates {
        if let Some(branch) = u.refname.strip_prefix("refs/heads/") {
            if git::is_null_id(&u.new) {
                revs.push(format!("delete_branch=>{branch}"));
            } else if git::is_null_id(&u.old) {
                // Named too: a branch made at a changeset already there brings none.
                revs.push(format!("create_branch=>{branch}"));
                created.push((&u.new, &u.refname));
            } else {
                revs.extend(git::pushed_commits(
                    repo_path,
                    &u.old,
                    &u.new,
                    MAX_LOGGED_REVS,
                )?);
            }
        } else if let Some(tag) = u.refname.strip_prefix("refs/tags/") {
            revs.push(format!("tag=>{tag}"));
        }
    }
    revs.extend(git::new_branch_commits(
        repo_path,
        &created,
        MAX_LOGGED_REVS,
    )?);
    let mut tx = svc.db.write().await?;
    let Some(repo) = kallithea_db::repo::find_by_name(&mut tx, name.as_str()).await? else {
        return Err(Error::not_found(format!(
            "repository {name} is not in the database"
        )));
    };
    let user = match &pusher.username {
        Some(n) => kallithea_db::user::find_by_name(&mut tx, n).await?,
        None => None,
    };
    let t = now();
    kallithea_db::journal::insert(
        &mut tx,
        &Entry {
            user_id: user.as_ref().map(|u| u.id),
            username: user
                .as_ref()
                .map_or_else(|| "(local)".to_owned(), |u| u.username.clone()),
            repo_id: Some(repo.id),
            repository_name: repo.name.clone(),
            action: format!(
                "{}:{}",
                if user.is_some() { "push" } else { "push_local" },
                revs.join(",")
            ),
            action_date: t,
            user_ip: pusher.ip.clone().unwrap_or_default(),
        },
    )
    .await?;
    kallithea_db::repo::set_last_change(&mut tx, repo.id, t).await?;
    tx.commit().await?;
    // Housekeeping in the background: the pusher does not wait for it.
    if updates.iter().any(|u| !git::is_null_id(&u.new))
        && let Err(e) = git::start_commit_graph_write(repo_path)
    {
        tracing::warn!(error = %e, "could not start writing the commit-graph");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hook_input() {
        let z = "0".repeat(40);
        let a = "a".repeat(40);
        let got = parse_ref_updates(&format!(
            "{z} {a} refs/heads/main\n\n{a} {z} refs/tags/v1\n"
        ));
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].refname, "refs/heads/main");
        assert!(git::is_null_id(&got[1].new));
    }
}
