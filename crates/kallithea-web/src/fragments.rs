//! HTML fragments that Kallithea's pages fetched into themselves: a changeset's counts of
//! removed, changed and added files (`/{repo}/changelog_details/{cs}`) and the authors of a
//! file (`/{repo}/authors/{rev}/{path}`, behind the file page's "Authors" button). Each is a
//! piece of markup with no page around it, read with the same permission as the pages; the
//! authors come as a whole page to a browser that opens the link itself (no `X-Partial-XHR`).

use askama::Template;
use axum::response::{IntoResponse, Response};
use kallithea_core::browse::{self, ChangeKind};
use kallithea_core::repo::RepoRow;
use kallithea_model::PermLevel;

use crate::pages::{avatar_url, web_err};
use crate::repo_pages::{Head, open};
use crate::view::render;
use crate::{AppState, WebError};

/// Past this many changed files, the counts stand alone without the names (as in Kallithea).
pub const DETAILS_NAMES_CUT_OFF: usize = 60;

/// One group of changed files.
pub struct ChangeCount {
    pub class: &'static str,
    pub label: &'static str,
    pub count: usize,
    /// The names, one per line, for the tooltip; empty past [`DETAILS_NAMES_CUT_OFF`].
    pub names: String,
}

#[derive(Template)]
#[template(path = "fragment_changeset_details.html")]
pub struct ChangesetDetails {
    pub groups: Vec<ChangeCount>,
    pub total: usize,
    pub cut: bool,
}

pub struct AuthorRow {
    pub name: String,
    pub email: String,
    pub changesets: usize,
    pub avatar: Option<String>,
}

#[derive(Template)]
#[template(path = "fragment_authors.html")]
pub struct AuthorsFragment {
    pub authors: Vec<AuthorRow>,
    pub more: bool,
    pub read: usize,
}

/// The authors as a page of their own, for a browser that followed the link itself.
#[derive(Template)]
#[template(path = "authors_page.html")]
pub struct AuthorsPage {
    pub layout: crate::view::Layout,
    pub repo: crate::view::RepoHeader,
    pub path: String,
    pub file_href: String,
    /// The fragment, rendered (and escaped) by its own template.
    pub authors: String,
}

/// GET /{repo}/changelog_details/{cs}: how many files the changeset removed, changed and
/// added, with their names as tooltips.
pub async fn changeset_details(
    state: &AppState,
    head: &Head,
    row: RepoRow,
    rev: &str,
) -> Result<Response, WebError> {
    let (_, access) = open(state, head, row, PermLevel::Read).await?;
    // The same diff the changeset page reads (and caches by id); only the counts are used.
    let cs = browse::changeset(
        &state.svc,
        &access,
        rev,
        Default::default(),
        state.web.cut_off_limit,
        false,
    )
    .await
    .map_err(web_err(state))?;
    let total = cs.changes.len();
    let cut = total > DETAILS_NAMES_CUT_OFF;
    let group = |class, label, kinds: &[ChangeKind]| {
        let files: Vec<&str> = cs
            .changes
            .iter()
            .filter(|c| kinds.contains(&c.kind))
            .map(|c| c.path.as_str())
            .collect();
        ChangeCount {
            class,
            label,
            count: files.len(),
            names: if cut { String::new() } else { files.join("\n") },
        }
    };
    Ok(render(&ChangesetDetails {
        groups: vec![
            group("removed", "Removed", &[ChangeKind::Deleted]),
            group(
                "changed",
                "Changed",
                &[ChangeKind::Modified, ChangeKind::Renamed],
            ),
            group("added", "Added", &[ChangeKind::Added, ChangeKind::Copied]),
        ],
        total,
        cut,
    })
    .into_response())
}

/// GET /{repo}/authors/{rev}/{path}: who changed the file or folder, most changesets first.
pub async fn file_authors(
    state: &AppState,
    head: &Head,
    row: RepoRow,
    rev: &str,
    path: &str,
) -> Result<Response, WebError> {
    let (visitor, access) = open(state, head, row, PermLevel::Read).await?;
    let path = path.trim_matches('/');
    let found = browse::file_authors(&state.svc, &access, rev, path)
        .await
        .map_err(web_err(state))?;
    let site = kallithea_core::site::current(&state.svc);
    let authors = found
        .authors
        .into_iter()
        .map(|(p, changesets)| AuthorRow {
            avatar: (site.use_gravatar && !p.email.is_empty())
                .then(|| avatar_url(&site.gravatar_url, &p.email, 20)),
            name: p.name,
            email: p.email,
            changesets,
        })
        .collect();
    let list = AuthorsFragment {
        authors,
        more: found.more,
        read: browse::MAX_AUTHOR_HISTORY,
    };
    // The file page's script asks for the piece alone, as Kallithea's did.
    if head.headers.contains_key("x-partial-xhr") {
        return Ok(render(&list).into_response());
    }
    let page = AuthorsPage {
        layout: crate::pages::layout(state, &visitor),
        repo: crate::browse_pages::header(&access, "files"),
        file_href: format!(
            "{}/{}/files/{}/{}",
            state.web.prefix,
            access.repo().name,
            crate::browse_pages::seg(rev),
            crate::browse_pages::path_enc(path)
        ),
        path: path.to_owned(),
        authors: list.render().unwrap_or_default(),
    };
    Ok(render(&page).into_response())
}
