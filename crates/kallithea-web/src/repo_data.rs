//! JSON that scripts read, at the URLs Kallithea's own pages fetched it from: every path
//! below a folder (the file finder), branches and tags (ref selectors), a changeset with its
//! parents or children, and a file's history (revision selectors). The same read permission
//! as the pages; errors are `{"error": sentence}` with the page's status.

use axum::Json;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use kallithea_core::browse::{self, Changeset, EntryKind};
use kallithea_core::repo::RepoRow;
use kallithea_model::PermLevel;
use serde_json::{Value, json};

use crate::pages::web_err;
use crate::repo_pages::{Head, open};
use crate::{AppState, WebError};

/// The most changesets a file history lists (the rest are counted as `"more": true`).
pub const MAX_HISTORY: usize = 1000;

fn json_err(state: &AppState) -> impl Fn(kallithea_core::Error) -> WebError + '_ {
    move |e| web_err(state)(e).json()
}

/// JSON the browser must ask for again each time (refs move).
fn answer(body: Value) -> Response {
    ([(header::CACHE_CONTROL, "private, no-cache")], Json(body)).into_response()
}

/// A changeset as Kallithea's scripts knew it; the date in the author's own offset.
fn changeset_json(c: &Changeset) -> Value {
    let date = chrono::DateTime::from_timestamp(c.author_time, 0)
        .zip(c.author_offset.parse::<chrono::FixedOffset>().ok())
        .map(|(t, o)| t.with_timezone(&o).to_rfc3339());
    json!({
        "short_id": c.id.short(),
        "raw_id": c.id.0,
        "message": c.message,
        "date": date,
        "author": format!("{} <{}>", c.author.name, c.author.email),
        "parents": c.parents.iter().map(|p| p.0.as_str()).collect::<Vec<_>>(),
    })
}

/// The repository opened for reading, errors as JSON.
async fn readable(
    state: &AppState,
    head: &Head,
    row: RepoRow,
) -> Result<kallithea_core::repo::RepoAccess, WebError> {
    let (_, access) = open(state, head, row, PermLevel::Read)
        .await
        .map_err(WebError::json)?;
    Ok(access)
}

/// GET /{repo}/nodelist/{rev}/{path}: every folder and file below the folder, each as
/// `{"name": path, "type": "dir"|"file"}`, with `"truncated"` past
/// [`browse::MAX_NODE_LIST`].
pub async fn nodelist(
    state: &AppState,
    head: &Head,
    row: RepoRow,
    rev: &str,
    path: &str,
) -> Result<Response, WebError> {
    let access = readable(state, head, row).await?;
    let (id, list) = browse::node_list(&state.svc, &access, rev, path)
        .await
        .map_err(json_err(state))?;
    /// One path, written straight out (a big repository has 100,000).
    #[derive(serde::Serialize)]
    struct NodeJson<'a> {
        name: &'a str,
        #[serde(rename = "type")]
        kind: &'static str,
    }
    #[derive(serde::Serialize)]
    struct NodeList<'a> {
        revision: &'a str,
        nodes: Vec<NodeJson<'a>>,
        truncated: bool,
    }
    let body = NodeList {
        revision: &id.0,
        nodes: list
            .paths
            .iter()
            .map(|p| NodeJson {
                name: &p.path,
                kind: if p.kind == EntryKind::Dir {
                    "dir"
                } else {
                    "file"
                },
            })
            .collect(),
        truncated: list.truncated,
    };
    Ok(([(header::CACHE_CONTROL, "private, no-cache")], Json(body)).into_response())
}

/// GET /{repo}/refs-data: branches and tags, grouped as Kallithea's selectors read them.
pub async fn refs_data(state: &AppState, head: &Head, row: RepoRow) -> Result<Response, WebError> {
    let access = readable(state, head, row).await?;
    let refs = browse::refs(&state.svc, &access)
        .await
        .map_err(json_err(state))?;
    let group = |text: &str, kind: &str, list: &[browse::RefInfo]| {
        let children: Vec<Value> = list
            .iter()
            .map(|r| json!({"id": r.target.0, "text": r.name, "type": kind}))
            .collect();
        json!({"text": text, "children": children})
    };
    let mut results = Vec::new();
    if !refs.branches.is_empty() {
        results.push(group("Branch", "branch", &refs.branches));
    }
    if !refs.tags.is_empty() {
        results.push(group("Tag", "tag", &refs.tags));
    }
    Ok(answer(json!({"more": false, "results": results})))
}

/// GET /{repo}/repo_size: how much disk the repository takes, as a string for people
/// (`"18.3 MiB"`; `"more than …"` when it has too many files to count them all).
pub async fn repo_size(state: &AppState, head: &Head, row: RepoRow) -> Result<Response, WebError> {
    let access = readable(state, head, row).await?;
    let (bytes, complete) = browse::disk_size(&state.svc, &access)
        .await
        .map_err(json_err(state))?;
    let size = crate::view::human_size(bytes);
    Ok(answer(json!(if complete {
        size
    } else {
        format!("more than {size}")
    })))
}

/// Which part of a changeset's family to give.
#[derive(Clone, Copy)]
pub enum Family {
    Itself,
    Parents,
    Children,
}

/// GET /changeset_info/{repo}/{rev}, /{repo}/changeset_parents/{rev} and
/// /{repo}/changeset_children/{rev}.
pub async fn changeset(
    state: &AppState,
    head: &Head,
    row: RepoRow,
    rev: &str,
    part: Family,
) -> Result<Response, WebError> {
    let access = readable(state, head, row).await?;
    let f = browse::changeset_family(&state.svc, &access, rev)
        .await
        .map_err(json_err(state))?;
    let list = |l: &[Changeset]| -> Value {
        json!({"results": l.iter().map(changeset_json).collect::<Vec<_>>()})
    };
    Ok(answer(match part {
        Family::Itself => changeset_json(&f.changeset),
        Family::Parents => list(&f.parents),
        Family::Children => list(&f.children),
    }))
}

/// GET /{repo}/history/{rev}/{path}: the changesets that changed a file (newest first, at
/// most [`MAX_HISTORY`]), then the branches and tags, grouped for a revision selector.
pub async fn history(
    state: &AppState,
    head: &Head,
    row: RepoRow,
    rev: &str,
    path: &str,
) -> Result<Response, WebError> {
    let access = readable(state, head, row).await?;
    let path = path.trim_matches('/');
    // Only a file has a history here, as in Kallithea.
    let node = browse::node(&state.svc, &access, rev, path, 0)
        .await
        .map_err(json_err(state))?;
    if !matches!(node.node, browse::Node::File(_)) {
        return Err(json_err(state)(kallithea_core::Error::not_found(format!(
            "\"{path}\" is not a file at revision {rev}."
        ))));
    }
    let log = browse::changelog(
        &state.svc,
        &access,
        Some(&node.id.0),
        Some(path),
        1,
        MAX_HISTORY,
    )
    .await
    .map_err(json_err(state))?;
    let changesets: Vec<Value> = log
        .changesets
        .iter()
        .map(|c| json!({"id": c.id.0, "text": format!("{} {}", c.id.short(), c.summary())}))
        .collect();
    let refs = |list: &[browse::RefInfo]| -> Vec<Value> {
        list.iter()
            .map(|r| json!({"id": r.target.0, "text": r.name}))
            .collect()
    };
    Ok(answer(json!({
        "more": log.has_next,
        "results": [
            {"text": "Changesets", "children": changesets},
            {"text": "Branches", "children": refs(&log.refs.branches)},
            {"text": "Tags", "children": refs(&log.refs.tags)},
        ],
    })))
}

#[cfg(test)]
mod tests {
    use super::changeset_json;
    use kallithea_core::browse::{Changeset, ChangesetId};

    #[test]
    fn dates_are_in_the_offset_git_wrote() {
        let at = |offset: &str| {
            let c = Changeset {
                id: ChangesetId("a".repeat(40)),
                parents: Vec::new(),
                author: Default::default(),
                author_time: 1_704_157_445,
                author_offset: offset.to_owned(),
                committer: Default::default(),
                commit_time: 0,
                message: String::new(),
            };
            changeset_json(&c)["date"].clone()
        };
        assert_eq!(at("+05:30"), "2024-01-02T06:34:05+05:30");
        assert_eq!(at("-08:00"), "2024-01-01T17:04:05-08:00");
        assert_eq!(at("+00:00"), "2024-01-02T01:04:05+00:00");
        assert_eq!(at("junk"), serde_json::Value::Null);
        assert_eq!(at(""), serde_json::Value::Null);
    }
}
