//! URLs that start with a repository name (`/{repo}/...`, or `/_{id}/...`): the name is
//! resolved against the database (longest match, any case), then the rest of the path picks
//! the page: summary, settings, or Git's smart HTTP.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::response::{IntoResponse, Redirect, Response};
use kallithea_core::Error;
use kallithea_core::permission::Permissions;
use kallithea_core::repo::{self, RepoAccess, RepoRef, RepoRow, SettingsForm};
use kallithea_model::{PermLevel, RepoId};

use crate::browse_pages::{self, ChangesetText};
use crate::client::Client;
use crate::compare_pages;
use crate::csrf::serde_urlencoded_pairs;
use crate::pages::{checked, layout, web_err};
use crate::repo_data::{self, Family};
use crate::view::{GrantItem, RepoHeader, SettingsPage, render};
use crate::visitor::Visitor;
use crate::{AppState, WebError, git_http};

fn not_found(state: &AppState, path: &str) -> WebError {
    WebError::new(
        Error::not_found(format!("There is no page at {path}.")),
        &state.web.prefix,
    )
}

/// Splits a decoded path into the repository and the rest, by asking the database.
async fn resolve(state: &AppState, segs: &[String]) -> Result<Option<(RepoRow, usize)>, WebError> {
    if let Some(id) = segs
        .first()
        .and_then(|s| s.strip_prefix('_'))
        .map(|d| d.strip_suffix(".git").unwrap_or(d))
        .and_then(|d| d.parse::<i64>().ok())
    {
        let r = repo::find(&state.svc, RepoRef::Id(RepoId(id)))
            .await
            .map_err(web_err(state))?;
        return Ok(r.map(|r| (r, 1)));
    }
    for n in (1..=segs.len().min(16)).rev() {
        let mut name = segs[..n].join("/");
        if (n == segs.len()
            || segs[n..]
                .first()
                .is_some_and(|s| s == "info" || s.starts_with("git-")))
            && let Some(stripped) = name.strip_suffix(".git")
        {
            name = stripped.to_owned();
        }
        // Only names that could exist reach the database (no NUL bytes or other oddities).
        if kallithea_model::RepoName::parse(&name).is_err() {
            continue;
        }
        if let Some(r) = repo::find(&state.svc, RepoRef::Name(&name))
            .await
            .map_err(web_err(state))?
        {
            return Ok(Some((r, n)));
        }
    }
    Ok(None)
}

/// Every request no fixed route took.
pub async fn dispatch(State(state): State<AppState>, req: Request) -> Response {
    let json = crate::error::wants_json(req.headers());
    match dispatch_inner(&state, req).await {
        Ok(r) => r,
        Err(e) if json => e.json().into_response(),
        Err(e) => e.into_response(),
    }
}

/// What page handlers need of the request besides its path: headers, the client and, when
/// `proxy_auth::apply` has computed it, the visitor.
pub(crate) struct Head {
    /// The page as requested (prefix, path and query), to return to after signing in.
    pub came_from: String,
    pub headers: HeaderMap,
    pub client: Client,
    pub visitor: Option<Visitor>,
}

impl Head {
    fn of(state: &AppState, req: &Request) -> Self {
        let path = req.uri().path();
        Self {
            came_from: match req.uri().query() {
                Some(q) => format!("{}{path}?{q}", state.web.prefix),
                None => format!("{}{path}", state.web.prefix),
            },
            headers: req.headers().clone(),
            client: Client::from_request(state, req),
            visitor: req.extensions().get::<Visitor>().cloned(),
        }
    }
}

async fn dispatch_inner(state: &AppState, req: Request) -> Result<Response, WebError> {
    // Any path prefix has already been removed (`crate::strip_prefix`).
    let raw_path = req.uri().path().to_owned();
    let path = raw_path.as_str();
    let decoded = percent_encoding::percent_decode_str(path)
        .decode_utf8_lossy()
        .into_owned();
    // Split first, then decode each part: `feature%2Fx` stays one part (a branch name).
    // Bytes that are not UTF-8 are kept as a file name holds them (`caf%E9.txt`).
    let segs: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            let bytes: Vec<u8> = percent_encoding::percent_decode_str(s).collect();
            kallithea_core::browse::name_from_url(&bytes).into_owned()
        })
        .collect();
    if segs.is_empty() {
        return Err(not_found(state, &raw_path));
    }
    let Some((repo_row, used)) = resolve(state, &segs).await? else {
        if crate::csrf::is_git_path(path) {
            return Ok(git_http::not_found());
        }
        // A repository group's page lives at its path too.
        if matches!(*req.method(), Method::GET | Method::HEAD)
            && let Some(g) = kallithea_core::group::find(&state.svc, &segs.join("/"))
                .await
                .map_err(web_err(state))?
        {
            let client = Client::from_request(state, &req);
            let v = match req.extensions().get::<Visitor>() {
                Some(v) => v.clone(),
                None => Visitor::from_headers(state, req.headers(), client).await?,
            };
            return crate::group_pages::show(state, &v, g).await;
        }
        if matches!(*req.method(), Method::GET | Method::HEAD)
            && let Some(answer) = changeset_info(state, &Head::of(state, &req), &segs).await
        {
            return answer;
        }
        return Err(not_found(state, &decoded));
    };
    let rest: Vec<&str> = segs[used..].iter().map(String::as_str).collect();
    let method = req.method().clone();
    let query = req.uri().query().map(str::to_owned);
    let q = query.as_deref();
    let get = matches!(method, Method::GET | Method::HEAD);
    let rest_path = |from: usize| rest.get(from..).map(|p| p.join("/")).unwrap_or_default();
    let head = Head::of(state, &req);
    let h = &head;
    match (&method, rest.as_slice()) {
        (_, ["info", "refs"]) | (_, ["git-upload-pack"]) | (_, ["git-receive-pack"]) => {
            Ok(git_http::serve(state, repo_row, rest[rest.len() - 1], req).await)
        }
        (_, [] | ["summary"]) if get => browse_pages::summary(state, h, repo_row).await,
        (_, ["changelog"]) if get => browse_pages::changelog(state, h, repo_row, q, None).await,
        (_, ["changelog", rev, ..]) if get => {
            browse_pages::changelog(
                state,
                h,
                repo_row,
                q,
                Some(((*rev).to_owned(), rest_path(2))),
            )
            .await
        }
        (_, ["changeset", rev]) if get && !rev.contains("...") && rev.contains("..") => {
            Err(web_err(state)(Error::not_found(format!(
                "There is no revision \"{rev}\": a range of changesets is written with three \
                 dots, such as {}.",
                rev.replacen("..", "...", 1)
            ))))
        }
        (_, ["changeset", rev]) if get => match rev.split_once("...") {
            Some((first, last)) => {
                compare_pages::changeset_range(state, h, repo_row, first, last, q).await
            }
            None => browse_pages::changeset(state, h, repo_row, rev, q).await,
        },
        (_, ["changeset-diff" | "raw-changeset", rev]) if get => {
            browse_pages::changeset_text(state, h, repo_row, rev, ChangesetText::Diff).await
        }
        (_, ["changeset-patch", rev]) if get => {
            browse_pages::changeset_text(state, h, repo_row, rev, ChangesetText::Patch).await
        }
        (_, ["changeset-download", rev]) if get => {
            browse_pages::changeset_text(state, h, repo_row, rev, ChangesetText::Download).await
        }
        (_, ["files"]) if get => browse_pages::files(state, h, repo_row, None, "", q).await,
        (_, ["files", rev, ..]) if get => {
            browse_pages::files(state, h, repo_row, Some(rev), &rest_path(2), q).await
        }
        (_, ["raw", rev, _, ..]) if get => {
            browse_pages::raw(state, h, repo_row, rev, &rest_path(2), false).await
        }
        (_, ["rawfile", rev, _, ..]) if get => {
            browse_pages::raw(state, h, repo_row, rev, &rest_path(2), true).await
        }
        (_, ["annotate", rev, _, ..]) if get => {
            browse_pages::annotate(state, h, repo_row, rev, &rest_path(2)).await
        }
        (_, ["archive", file]) if get => {
            browse_pages::archive(state, h, repo_row, file, method == Method::HEAD).await
        }
        (_, ["compare"]) if get => compare_pages::compare(state, h, repo_row, None, q).await,
        (_, ["compare", spec]) if get => {
            compare_pages::compare(state, h, repo_row, Some(spec), q).await
        }
        (_, ["diff", _, ..]) if get => {
            compare_pages::path_diff(state, h, repo_row, &rest_path(1), q, false).await
        }
        (_, ["diff-2way", _, ..]) if get => {
            compare_pages::path_diff(state, h, repo_row, &rest_path(1), q, true).await
        }
        (_, ["nodelist", rev]) if get => repo_data::nodelist(state, h, repo_row, rev, "").await,
        (_, ["nodelist", rev, ..]) if get => {
            repo_data::nodelist(state, h, repo_row, rev, &rest_path(2)).await
        }
        (_, ["refs-data"]) if get => repo_data::refs_data(state, h, repo_row).await,
        (_, ["repo_size"]) if get => repo_data::repo_size(state, h, repo_row).await,
        (_, ["changeset_parents", rev]) if get => {
            repo_data::changeset(state, h, repo_row, rev, Family::Parents).await
        }
        (_, ["changeset_children", rev]) if get => {
            repo_data::changeset(state, h, repo_row, rev, Family::Children).await
        }
        (_, ["changelog_details", rev]) if get => {
            crate::fragments::changeset_details(state, h, repo_row, rev).await
        }
        (_, ["authors", rev, ..]) if get => {
            crate::fragments::file_authors(state, h, repo_row, rev, &rest_path(2)).await
        }
        (_, ["history", rev, _, ..]) if get => {
            repo_data::history(state, h, repo_row, rev, &rest_path(2)).await
        }
        (_, ["feed", "rss"]) if get => browse_pages::feed(state, h, repo_row, false).await,
        (_, ["feed", "atom"]) if get => browse_pages::feed(state, h, repo_row, true).await,
        (_, ["branches"]) if get => browse_pages::refs(state, h, repo_row, false).await,
        (_, ["tags"]) if get => browse_pages::refs(state, h, repo_row, true).await,
        (_, ["settings"]) if get => settings_page(state, h, repo_row, None, None).await,
        (&Method::POST, ["settings"]) => settings_update(state, h, repo_row, req).await,
        (&Method::POST, ["settings", "delete"]) => settings_delete(state, h, repo_row, req).await,
        (&Method::POST, ["settings", "permissions"]) => {
            settings_grant(state, h, repo_row, req).await
        }
        // A repository named `changeset_info` has no page here: Kallithea's URL.
        _ if get => match changeset_info(state, h, &segs).await {
            Some(answer) => answer,
            None => Err(not_found(state, &decoded)),
        },
        _ => Err(not_found(state, &decoded)),
    }
}

/// Kallithea put one repository URL before the name: /changeset_info/{repo}/{rev}. Taken
/// only where no page of a repository or group has the path.
async fn changeset_info(
    state: &AppState,
    head: &Head,
    segs: &[String],
) -> Option<Result<Response, WebError>> {
    let [first, name @ .., rev] = segs else {
        return None;
    };
    if first != "changeset_info" || name.is_empty() {
        return None;
    }
    match resolve(state, name).await {
        Ok(Some((repo_row, used))) if used == name.len() => {
            Some(repo_data::changeset(state, head, repo_row, rev, Family::Itself).await)
        }
        Ok(_) => None,
        Err(e) => Some(Err(e)),
    }
}

pub(crate) async fn open(
    state: &AppState,
    head: &Head,
    row: RepoRow,
    need: PermLevel,
) -> Result<(Visitor, RepoAccess), WebError> {
    let v = match &head.visitor {
        Some(v) => v.clone(),
        None => Visitor::from_headers(state, &head.headers, head.client.clone()).await?,
    };
    let perms = Permissions::load(&state.svc, &v.actor)
        .await
        .map_err(web_err(state))?;
    // Back to the page asked for, as asked for: an id URL (`/_2/files/...`) stays one, so a
    // visitor who may not see the repository does not learn its name.
    let access =
        repo::open(&perms, row, need).map_err(|e| web_err(state)(e).came_from(&head.came_from))?;
    Ok((v, access))
}

pub(crate) fn base_url(state: &AppState, head: &Head) -> String {
    base_url_of(state, &head.client, &head.headers)
}

/// The site's address for links that leave the page (clone URLs, feeds, emails):
/// `canonical_url` when set, otherwise the scheme and `Host` of the request.
pub(crate) fn base_url_of(state: &AppState, client: &Client, headers: &HeaderMap) -> String {
    if let Some(c) = &state.web.canonical_url {
        return c.clone();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let host: String = host
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(*c))
        .collect();
    let scheme = if state.web.secure_cookies || client.https {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}{}", state.web.prefix)
}

/// A clone URL from the site's template (`clone_uri_tmpl`) and the site's base URL.
pub(crate) fn clone_url(
    state: &AppState,
    base: &str,
    user: Option<&str>,
    repo: &str,
    repoid: i64,
) -> String {
    let (scheme, rest) = base.split_once("://").unwrap_or(("http", base));
    let (netloc, prefix) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let site = kallithea_core::site::current(&state.svc);
    kallithea_core::site::clone_url(
        &site.clone_uri_tmpl,
        scheme,
        user,
        netloc,
        prefix,
        repo,
        repoid,
    )
}

/// The newest `at_most` changeset ids a push brought (newest first; the action lists them
/// oldest first), and how many more there were. Only full ids are given.
pub(crate) fn pushed_changesets(action: &str, at_most: usize) -> (Vec<String>, usize) {
    let Some((kind, revs)) = action.split_once(':') else {
        return (Vec::new(), 0);
    };
    if !kind.starts_with("push") {
        return (Vec::new(), 0);
    }
    let ids: Vec<&str> = revs
        .split(',')
        .filter(|r| r.len() == 40 && r.bytes().all(|b| b.is_ascii_hexdigit()))
        .collect();
    let more = ids.len().saturating_sub(at_most);
    (
        ids.iter()
            .rev()
            .take(at_most)
            .map(|s| (*s).to_owned())
            .collect(),
        more,
    )
}

/// "push:a,b,c" → "pushed 3 changesets".
pub(crate) fn summarize_action(action: &str) -> String {
    match action.split_once(':') {
        Some((kind, revs)) if kind.starts_with("push") => {
            let n = revs
                .split(',')
                .filter(|r| !r.is_empty() && !r.contains("=>"))
                .count();
            let (mut tags, mut branches) = (Vec::new(), Vec::new());
            for r in revs.split(',').filter_map(|r| r.split_once("=>")) {
                match r {
                    ("tag", t) => tags.push(format!("tag {t}")),
                    ("delete_branch", b) => branches.push(format!("deleted branch {b}")),
                    ("create_branch", b) => branches.push(format!("created branch {b}")),
                    (k, v) => branches.push(format!("{} {v}", k.replace('_', " "))),
                }
            }
            let plural = if n == 1 { "" } else { "s" };
            let mut said = match (n, tags.is_empty()) {
                (0, true) => String::new(),
                // Only tags: no changesets to count.
                (0, false) => format!("pushed {}", tags.join(", ")),
                (n, true) => format!("pushed {n} changeset{plural}"),
                (n, false) => format!("pushed {n} changeset{plural} ({})", tags.join(", ")),
            };
            for b in branches {
                if !said.is_empty() {
                    said.push_str(", ");
                }
                said.push_str(&b);
            }
            if said.is_empty() {
                said.push_str("pushed nothing new");
            }
            said
        }
        Some(("user_downloaded_archive", file)) => format!("downloaded {file}"),
        _ => match action {
            "admin_created_repo" | "user_created_repo" => "created the repository".to_owned(),
            "admin_updated_repo" | "user_updated_repo" => "changed the settings".to_owned(),
            "admin_deleted_repo" | "user_deleted_repo" => "deleted the repository".to_owned(),
            other => other.replace('_', " "),
        },
    }
}

async fn settings_page(
    state: &AppState,
    headers: &Head,
    row: RepoRow,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Response, WebError> {
    settings_page_with(state, headers, row, error, notice, None).await
}

async fn settings_page_with(
    state: &AppState,
    headers: &Head,
    row: RepoRow,
    error: Option<String>,
    notice: Option<String>,
    input: Option<&SettingsForm>,
) -> Result<Response, WebError> {
    let (v, access) = open(state, headers, row, PermLevel::Admin).await?;
    let grants = repo::grants(&state.svc, &access)
        .await
        .map_err(web_err(state))?;
    let group_grants = repo::user_group_grants(&state.svc, &access)
        .await
        .map_err(web_err(state))?;
    let perms = kallithea_core::permission::Permissions::load(&state.svc, &v.actor)
        .await
        .map_err(web_err(state))?;
    let mut groups = crate::pages::repo_places(state, &perms).await?;
    let current = access.repo().group_id.map_or(-1, |g| g.0);
    if !groups.iter().any(|g| g.id == current) {
        let name = access
            .repo()
            .name
            .rsplit_once('/')
            .map_or("(top level)".to_owned(), |(p, _)| p.to_owned());
        groups.insert(0, crate::view::ParentChoice { id: current, name });
    }
    let r = access.repo();
    let status = if error.is_some() {
        axum::http::StatusCode::BAD_REQUEST
    } else {
        axum::http::StatusCode::OK
    };
    let page = SettingsPage {
        repo: RepoHeader {
            name: r.name.clone(),
            is_admin: true,
            tab: "settings",
            private: r.private,
        },
        layout: layout(state, &v),
        name: r.name.clone(),
        name_input: input
            .and_then(|f| f.repo_name.clone())
            .unwrap_or_else(|| r.name.clone()),
        description: input.map_or_else(|| r.description.clone(), |f| f.repo_description.clone()),
        private: input.map_or(r.private, |f| f.repo_private),
        landing_rev: input.map_or_else(|| r.landing_rev.clone(), |f| f.repo_landing_rev.clone()),
        enable_downloads: input.map_or(r.enable_downloads, |f| f.repo_enable_downloads),
        grants: grants
            .into_iter()
            .map(|g| GrantItem {
                username: g.username,
                level: g.level.to_string(),
            })
            .collect(),
        groups,
        repo_group: current,
        group_grants: group_grants
            .into_iter()
            .map(|g| GrantItem {
                username: g.name,
                level: g.level.to_string(),
            })
            .collect(),
        error,
        notice,
    };
    Ok((status, render(&page)).into_response())
}

async fn form_of(req: Request) -> Vec<(String, String)> {
    let bytes = axum::body::to_bytes(req.into_body(), 1024 * 1024)
        .await
        .unwrap_or_default();
    serde_urlencoded_pairs(&bytes)
}

fn field(form: &[(String, String)], name: &str) -> Option<String> {
    form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
}

/// POST /{repo}/settings — saves the settings, renaming when `repo_name` changed; a refused
/// form changes nothing and is shown again with what was typed.
async fn settings_update(
    state: &AppState,
    headers: &Head,
    row: RepoRow,
    req: Request,
) -> Result<Response, WebError> {
    let form = form_of(req).await;
    let (_, access) = open(state, headers, row.clone(), PermLevel::Admin).await?;
    let update = SettingsForm {
        repo_name: field(&form, "repo_name"),
        repo_description: field(&form, "repo_description").unwrap_or_default(),
        repo_private: checked(&field(&form, "repo_private")),
        repo_landing_rev: field(&form, "repo_landing_rev").unwrap_or_default(),
        repo_enable_downloads: checked(&field(&form, "repo_enable_downloads")),
        repo_group: field(&form, "repo_group"),
    };
    let perms = kallithea_core::permission::Permissions::load(&state.svc, access.actor())
        .await
        .map_err(web_err(state))?;
    let (svc, task_access, task_update) = (state.svc.clone(), access.clone(), update.clone());
    let updated =
        crate::to_the_end(
            async move { repo::update(&svc, &perms, &task_access, &task_update).await },
        )
        .await;
    match updated {
        Ok(name) => {
            Ok(Redirect::to(&format!("{}/{}/settings", state.web.prefix, name)).into_response())
        }
        Err(e) if e.kind == kallithea_core::ErrorKind::Internal => Err(web_err(state)(e)),
        Err(e) => {
            settings_page_with(state, headers, row, Some(e.message), None, Some(&update)).await
        }
    }
}

/// POST /{repo}/settings/delete
async fn settings_delete(
    state: &AppState,
    headers: &Head,
    row: RepoRow,
    req: Request,
) -> Result<Response, WebError> {
    let _ = form_of(req).await;
    let (_, access) = open(state, headers, row, PermLevel::Admin).await?;
    let svc = state.svc.clone();
    crate::to_the_end(async move { repo::delete(&svc, &access).await })
        .await
        .map_err(web_err(state))?;
    Ok(Redirect::to(&format!("{}/", state.web.prefix)).into_response())
}

/// POST /{repo}/settings/permissions — grants a level to a user.
async fn settings_grant(
    state: &AppState,
    headers: &Head,
    row: RepoRow,
    req: Request,
) -> Result<Response, WebError> {
    let form = form_of(req).await;
    let (_, access) = open(state, headers, row.clone(), PermLevel::Admin).await?;
    let user = field(&form, "username").unwrap_or_default();
    let user_group = field(&form, "user_group").unwrap_or_default();
    let level = field(&form, "permission").unwrap_or_default();
    let result = if !user_group.trim().is_empty() {
        let level = (level != "revoke").then_some(level.as_str());
        let perms = kallithea_core::permission::Permissions::load(&state.svc, access.actor())
            .await
            .map_err(web_err(state))?;
        repo::set_user_group_grant(&state.svc, &perms, &access, &user_group, level).await
    } else {
        repo::set_grant(&state.svc, &access, &user, &level).await
    };
    match result {
        Ok(()) => Ok(
            Redirect::to(&format!("{}/{}/settings", state.web.prefix, row.name)).into_response(),
        ),
        Err(e) => settings_page(state, headers, row, Some(e.message), None).await,
    }
}

#[cfg(test)]
mod tests {
    use super::{pushed_changesets, summarize_action};

    #[test]
    fn a_push_links_its_newest_changesets() {
        let (a, b, c, d) = (
            "a".repeat(40),
            "b".repeat(40),
            "c".repeat(40),
            "d".repeat(40),
        );
        let action = format!("push:{a},{b},{c},{d},tag=>v1,create_branch=>x,short");
        assert_eq!(
            pushed_changesets(&action, 3),
            (vec![d.clone(), c.clone(), b.clone()], 1)
        );
        assert_eq!(pushed_changesets(&format!("push:{a}"), 3), (vec![a], 0));
        assert_eq!(
            pushed_changesets("user_downloaded_archive:x", 3),
            (vec![], 0)
        );
    }

    #[test]
    fn pushes_are_told_by_what_they_brought() {
        for (action, said) in [
            ("push:a,b,c", "pushed 3 changesets"),
            ("push:a", "pushed 1 changeset"),
            ("push:tag=>v1,tag=>v2", "pushed tag v1, tag v2"),
            ("push:a,tag=>v1", "pushed 1 changeset (tag v1)"),
            ("push:create_branch=>feature", "created branch feature"),
            (
                "push:a,b,create_branch=>feature",
                "pushed 2 changesets, created branch feature",
            ),
            ("push:delete_branch=>old", "deleted branch old"),
            ("push:", "pushed nothing new"),
            ("user_downloaded_archive:r-123.zip", "downloaded r-123.zip"),
        ] {
            assert_eq!(summarize_action(action), said, "{action}");
        }
    }
}
