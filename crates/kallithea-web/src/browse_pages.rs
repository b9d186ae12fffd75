//! Repository browsing pages: summary, changelog, changeset (with raw diff, patch and
//! download), files, raw content, branches and tags. Each handler opens the repository with
//! read access and renders one view.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use kallithea_core::browse::{self, ChangeKind, Changeset, EntryKind, Node, RefInfo, RefLabels};
use kallithea_core::repo::{self, RepoAccess, RepoRow};
use kallithea_model::PermLevel;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};

use crate::pages::{layout, web_err};
use crate::repo_pages::{Head, base_url, clone_url, open, pushed_changesets, summarize_action};

/// Changesets of a push linked from the summary's activity; the rest are counted.
const JOURNAL_CHANGESETS: usize = 3;
use crate::view::{
    self, ChangelogPage, ChangesetPage, ChangesetRow, Crumb, DirRow, FileDiffView, FilesPage,
    JournalItem, LineRow, RefRow, RefsPage, RepoHeader, SummaryPage, SwitchItem, Switcher, render,
};
use crate::{AppState, WebError, diff, graph, markup, message};

/// Characters escaped in one URL path segment (a revision such as `feature/x`).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');
/// Characters escaped in a path inside the repository (slashes kept).
const PATH: &AsciiSet = &SEGMENT.remove(b'/');

/// A file name's own bytes are what a link carries: `caf%E9.txt` for a Latin-1 name
/// (`browse::name_to_bytes`).
pub fn seg(s: &str) -> String {
    percent_encoding::percent_encode(&browse::name_to_bytes(s), SEGMENT).to_string()
}
pub fn path_enc(s: &str) -> String {
    percent_encoding::percent_encode(&browse::name_to_bytes(s), PATH).to_string()
}

/// Query parameters as pairs.
pub fn query_pairs(q: Option<&str>) -> Vec<(String, String)> {
    crate::csrf::serde_urlencoded_pairs(q.unwrap_or("").as_bytes())
}

pub(crate) fn param<'a>(q: &'a [(String, String)], name: &str) -> Option<&'a str> {
    q.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn num(q: &[(String, String)], name: &str, default: usize, max: usize) -> usize {
    param(q, name)
        .and_then(|v| v.parse::<usize>().ok())
        .map_or(default, |n| n.clamp(1, max))
}

pub(crate) fn header(access: &RepoAccess, tab: &'static str) -> RepoHeader {
    RepoHeader {
        name: access.repo().name.clone(),
        is_admin: access.level().is_admin(),
        tab,
        private: access.repo().private,
    }
}

pub(crate) fn row(c: &Changeset, labels: &RefLabels) -> ChangesetRow {
    ChangesetRow {
        id: c.id.0.clone(),
        short: c.id.short().to_owned(),
        summary: c.summary().to_owned(),
        author: c.author.name.clone(),
        age: view::age(c.author_time),
        date: view::date(c.author_time),
        labels: labels
            .get(&c.id)
            .map(|l| l[..l.len().min(view::ROW_LABELS)].to_vec())
            .unwrap_or_default(),
        more_labels: labels
            .get(&c.id)
            .map_or(0, |l| l.len().saturating_sub(view::ROW_LABELS)),
        merge: c.parents.len() > 1,
        parents: c
            .parents
            .iter()
            .map(|p| p.0.as_str())
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// Branches and tags listed in the switcher; the branch and tag pages list them all.
const SWITCHER_MAX: usize = 100;

fn switcher(
    label: String,
    repo_href: String,
    refs: &browse::RepoRefs,
    current: &str,
    href: impl Fn(&str) -> String,
) -> Switcher {
    let (branches, tags) = (&refs.branches, &refs.tags);
    // A branch that shares its name with a tag is linked by its full name.
    let item = |r: &RefInfo, rev: &str| SwitchItem {
        name: r.name.clone(),
        href: href(rev),
        current: r.name == current || rev == current,
    };
    let branch = |r: &RefInfo| item(r, &refs.branch_rev(&r.name));
    let tag = |r: &RefInfo| item(r, &r.name);
    let more = |list: &[RefInfo], page: &str| {
        (list.len() > SWITCHER_MAX).then(|| (list.len(), format!("{repo_href}/{page}")))
    };
    // The first ones by name, and the one shown now wherever it falls.
    let listed = |list: &[RefInfo], item: &dyn Fn(&RefInfo) -> SwitchItem| {
        let mut items: Vec<SwitchItem> = list.iter().take(SWITCHER_MAX).map(item).collect();
        if let Some(r) = list.iter().skip(SWITCHER_MAX).find(|r| r.name == current) {
            items.push(item(r));
        }
        items
    };
    Switcher {
        label,
        branches: listed(branches, &branch),
        tags: listed(tags, &tag),
        more_branches: more(branches, "branches"),
        more_tags: more(tags, "tags"),
    }
}

/// GET /{repo} — summary: clone URL, counts, latest changesets, README, activity.
pub async fn summary(
    state: &AppState,
    headers: &Head,
    row_: RepoRow,
) -> Result<Response, WebError> {
    let (v, access) = open(state, headers, row_, PermLevel::Read).await?;
    // The repository's part (refs, history, the README rendered) and the database's (journal,
    // watching) are done at the same time.
    let from_repo = async {
        let mut data = browse::summary(&state.svc, &access).await?;
        let readme = match data.readme.take() {
            Some((name, f)) => {
                let rev = data
                    .default_branch
                    .as_ref()
                    .map_or("HEAD", |b| b.name.as_str());
                let base = link_base(state, &access.repo().name, rev, "");
                readme_view(state, name, f, base).await
            }
            None => (None, None, None),
        };
        Ok::<_, kallithea_core::Error>((data, readme))
    };
    let from_db = async {
        let journal = repo::journal_entries(&state.svc, &access, 10).await?;
        let watching = match &v.user {
            Some(_) => Some(repo::is_watching(&state.svc, &access).await?),
            None => None,
        };
        Ok::<_, kallithea_core::Error>((journal, watching))
    };
    let ((data, readme), (journal, watching)) =
        tokio::try_join!(from_repo, from_db).map_err(web_err(state))?;
    let (readme_name, readme_html, readme_text) = readme;
    let r = access.repo();
    let base = base_url(state, headers);
    let user = v.user.as_ref().map(|u| u.username.as_str());
    let labels = RefLabels::new();
    let page = SummaryPage {
        pick: false,
        watching,
        repo_id: access.repo().id.0,
        layout: layout(state, &v),
        repo: header(&access, "summary"),
        empty: data.default_branch.is_none(),
        downloads: match (&data.default_branch, r.enable_downloads) {
            (Some(b), true) => [".zip", ".tar.gz", ".tar.bz2"]
                .iter()
                .map(|ext| {
                    (
                        format!("{}{ext}", b.name),
                        format!(
                            "{}/{}/archive/{}{ext}",
                            state.web.prefix,
                            r.name,
                            seg(&b.name)
                        ),
                    )
                })
                .collect(),
            _ => Vec::new(),
        },
        recent: data.recent.iter().map(|c| row(c, &labels)).collect(),
        default_branch: data.default_branch.map(|b| b.name),
        branch_count: data.branch_count,
        tag_count: data.tag_count,
        readme_name,
        readme_html,
        readme_text,
        name: r.name.clone(),
        description: r.description.clone(),
        clone_url: clone_url(state, &base, user, &r.name, r.id.0),
        clone_url_id: clone_url(state, &base, user, &format!("_{}", r.id.0), r.id.0),
        last_change: view::age(r.last_change),
        owner: r.owner_name.clone(),
        journal: journal
            .into_iter()
            .map(|e| {
                let (ids, more) = pushed_changesets(&e.action, JOURNAL_CHANGESETS);
                JournalItem {
                    username: e.username,
                    action: summarize_action(&e.action),
                    when: view::age(e.action_date),
                    changesets: ids
                        .into_iter()
                        .map(|id| {
                            (
                                id[..12].to_owned(),
                                format!("{}/{}/changeset/{id}", state.web.prefix, r.name),
                            )
                        })
                        .collect(),
                    more,
                }
            })
            .collect(),
    };
    let r = render(&page).into_response();
    Ok(r)
}

/// GET /{repo}/changelog[?branch=&page=&size=] and /{repo}/changelog/{rev}/{path}.
pub async fn changelog(
    state: &AppState,
    headers: &Head,
    row_: RepoRow,
    query: Option<&str>,
    rev_path: Option<(String, String)>,
) -> Result<Response, WebError> {
    let (v, access) = open(state, headers, row_, PermLevel::Read).await?;
    let q = query_pairs(query);
    let page = num(&q, "page", 1, 1_000_000);
    let size = num(&q, "size", 100, browse::MAX_PAGE_SIZE);
    if page.saturating_mul(size) > MAX_CHANGELOG_DEPTH {
        return Err(web_err(state)(kallithea_core::Error::invalid(format!(
            "Pages go back at most {MAX_CHANGELOG_DEPTH} changesets: open an older changeset and follow its history from there."
        ))));
    }
    let (rev, path) = match &rev_path {
        Some((r, p)) => (Some(r.clone()), (!p.is_empty()).then(|| p.clone())),
        None => (
            param(&q, "branch")
                .filter(|b| !b.is_empty())
                .map(str::to_owned),
            None,
        ),
    };
    let log = browse::changelog(
        &state.svc,
        &access,
        rev.as_deref(),
        path.as_deref(),
        page,
        size,
    )
    .await
    .map_err(web_err(state))?;
    let name = access.repo().name.clone();
    let prefix = &state.web.prefix;
    let base = match &path {
        Some(p) => format!(
            "{prefix}/{name}/changelog/{}/{}",
            seg(&log.rev),
            path_enc(p)
        ),
        None => format!("{prefix}/{name}/changelog"),
    };
    let branch_q = if path.is_none() && rev.is_some() {
        format!("branch={}&", seg(&log.rev))
    } else {
        String::new()
    };
    let href = |p: usize| format!("{base}?{branch_q}page={p}&size={size}");
    let layout_rows: Vec<(&str, Vec<&str>)> = log
        .changesets
        .iter()
        .map(|c| {
            (
                c.id.0.as_str(),
                c.parents.iter().map(|p| p.0.as_str()).collect(),
            )
        })
        .collect();
    let graph_svg = graph::svg(&graph::layout(&layout_rows));
    let page_view = ChangelogPage {
        pick: true,
        layout: layout(state, &v),
        repo: header(&access, "changelog"),
        switcher: switcher(
            if log.rev.is_empty() {
                "Branch".into()
            } else {
                format!("Branch or tag: {}", log.rev)
            },
            format!("{prefix}/{name}"),
            &log.refs,
            &log.rev,
            // A file's history stays the file's at the other branch or tag.
            |r| match &path {
                Some(p) => format!("{prefix}/{name}/changelog/{}/{}", seg(r), path_enc(p)),
                None => format!("{prefix}/{name}/changelog?branch={}", seg(r)),
            },
        ),
        path,
        empty: log.changesets.is_empty(),
        past_end: (log.changesets.is_empty() && page > 1).then(|| href(1)),
        rows: log.changesets.iter().map(|c| row(c, &log.labels)).collect(),
        graph: graph_svg,
        prev_href: (page > 1).then(|| href(page - 1)),
        next_href: log.has_next.then(|| href(page + 1)),
    };
    Ok(render(&page_view).into_response())
}

fn kind_name(k: ChangeKind) -> &'static str {
    match k {
        ChangeKind::Added => "added",
        ChangeKind::Modified => "modified",
        ChangeKind::Deleted => "deleted",
        ChangeKind::Renamed => "renamed",
        ChangeKind::Copied => "copied",
    }
}

/// GET /{repo}/changeset/{rev}[?diff=sidebyside&ignorews=1&context=N&fulldiff=1]
pub async fn changeset(
    state: &AppState,
    headers: &Head,
    row_: RepoRow,
    rev: &str,
    query: Option<&str>,
) -> Result<Response, WebError> {
    let (v, access) = open(state, headers, row_, PermLevel::Read).await?;
    let q = query_pairs(query);
    let choice = diff::DiffChoice::from_query(&q, param(&q, "diff") == Some("sidebyside"));
    let cs = browse::changeset(
        &state.svc,
        &access,
        rev,
        choice.opts(),
        state.web.cut_off_limit,
        choice.full,
    )
    .await
    .map_err(web_err(state))?;
    let c = &cs.changeset;
    let name = access.repo().name.clone();
    let key = format!(
        "diffview:{}:{}:{}",
        access.repo().id.0,
        cs.changeset.id.0,
        choice.key()
    );
    let files = file_views(state, key, cs.changes.clone(), choice.side_by_side).await;
    let page = ChangesetPage {
        layout: layout(state, &v),
        repo: header(&access, "changelog"),
        id: c.id.0.clone(),
        short: c.id.short().to_owned(),
        message_html: message::render(
            &c.message,
            &message::Links {
                repo: &name,
                issue_link: state.web.issue_server_link.as_deref(),
                changesets: &format!("{}/{name}/changeset/", state.web.prefix),
            },
        ),
        author: format!("{} <{}>", c.author.name, c.author.email),
        author_date: format!("{} ({})", view::date(c.author_time), c.author_offset),
        committer: format!(
            "{} <{}>, {}",
            c.committer.name,
            c.committer.email,
            view::date(c.commit_time)
        ),
        parents: c.parents.iter().map(|p| p.0.clone()).collect(),
        children: cs.children.iter().map(|p| p.0.clone()).collect(),
        labels: cs.labels[..cs.labels.len().min(view::PAGE_LABELS)].to_vec(),
        more_labels: cs.labels.len().saturating_sub(view::PAGE_LABELS),
        files,
        nav: choice.nav(
            &format!("{}/{name}/changeset/{}", state.web.prefix, c.id.0),
            None,
            &[],
        ),
        cut: cs.cut,
        // Deleted files link to where they were: the first parent.
        base_id: c.parents.first().map(|p| p.0.clone()).unwrap_or_default(),
        merge: c.parents.len() > 1,
    };
    let turn = page.files.turn.clone();
    Ok(page_holding(render(&page), turn))
}

/// Diffs larger than this in total are rendered a few at a time ([`file_views`]).
const HEAVY_DIFF_BYTES: usize = 1024 * 1024;

/// The diff tables of a changeset or comparison, highlighted, built on a blocking thread and
/// remembered under `key` (which names the changesets and options).
pub(crate) async fn file_views(
    state: &AppState,
    key: String,
    changes: Vec<browse::FileChange>,
    side: bool,
) -> view::DiffViews {
    // A diff of megabytes takes a hundred or more to render, and its page can be hundreds
    // of megabytes: only a few are built at once (the caller holds the turn until its page
    // is written), so many such requests queue instead of filling the memory.
    let size: usize = changes.iter().map(|c| c.patch.len()).sum();
    let turn = if size > HEAVY_DIFF_BYTES {
        static HEAVY: std::sync::LazyLock<std::sync::Arc<tokio::sync::Semaphore>> =
            std::sync::LazyLock::new(|| {
                std::sync::Arc::new(tokio::sync::Semaphore::new(crate::highlight::cores()))
            });
        HEAVY
            .clone()
            .acquire_owned()
            .await
            .ok()
            .map(std::sync::Arc::new)
    } else {
        None
    };
    if let Some(list) = state.svc.cache.get::<Vec<FileDiffView>>(&key) {
        return view::DiffViews { list, turn };
    }
    let building = turn.clone();
    let views = tokio::task::spawn_blocking(move || {
        let _turn = building;
        build_file_views(&changes, side)
    })
    .await
    .unwrap_or_default();
    let list = std::sync::Arc::new(views);
    state.svc.cache.put(key, list.clone());
    view::DiffViews { list, turn }
}

/// A diff as two texts to highlight, the new side (context and added lines) and the old side
/// (context and removed lines), so constructs spanning lines colour right. Only removed lines
/// are shown from the old side, so it ends at the last of them.
fn diff_sides(rows: &[diff::DiffRow]) -> [String; 2] {
    use diff::RowKind::{Added, Context, Removed};
    let side = |rows: &[diff::DiffRow], keep: &[diff::RowKind]| {
        rows.iter()
            .filter(|r| keep.contains(&r.kind))
            .map(|r| r.text.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    };
    let old_end = rows
        .iter()
        .rposition(|r| r.kind == Removed)
        .map_or(0, |i| i + 1);
    [
        side(rows, &[Context, Added]),
        side(&rows[..old_end], &[Context, Removed]),
    ]
}

/// Puts the highlighted sides of [`diff_sides`] back on the rows; rows keep plain text where
/// highlighting does not apply.
fn apply_highlight(
    rows: &mut [diff::DiffRow],
    new_html: Option<Vec<String>>,
    old_html: Option<Vec<String>>,
) {
    use diff::RowKind::{Added, Context, Removed};
    let Some(new_html) = new_html else {
        return;
    };
    let (mut n, mut o) = (0, 0);
    for r in rows.iter_mut() {
        match r.kind {
            Added => {
                r.html = new_html.get(n).cloned();
                n += 1;
            }
            Context => {
                r.html = new_html.get(n).cloned();
                n += 1;
                o += 1;
            }
            Removed => {
                r.html = old_html.as_ref().and_then(|h| h.get(o).cloned());
                o += 1;
            }
            _ => {}
        }
    }
}

/// The diff tables, with every file's two sides highlighted at once across the cores.
fn build_file_views(changes: &[browse::FileChange], side: bool) -> Vec<FileDiffView> {
    let mut all_rows: Vec<Vec<diff::DiffRow>> =
        changes.iter().map(|f| diff::unified(&f.patch)).collect();
    let sides: Vec<[String; 2]> = all_rows.iter().map(|rows| diff_sides(rows)).collect();
    let jobs: Vec<(&str, &str)> = changes
        .iter()
        .zip(&sides)
        .flat_map(|(f, [new, old])| {
            [
                (f.path.as_str(), new.as_str()),
                (f.path.as_str(), old.as_str()),
            ]
        })
        .collect();
    let mut highlighted = crate::highlight::lines_each(&jobs).into_iter();
    for rows in &mut all_rows {
        let (new_html, old_html) = (highlighted.next().flatten(), highlighted.next().flatten());
        apply_highlight(rows, new_html, old_html);
    }
    changes
        .iter()
        .zip(all_rows)
        .enumerate()
        .map(|(i, (f, rows))| {
            let side_rows = if side {
                diff::side_by_side(&rows)
            } else {
                Vec::new()
            };
            FileDiffView {
                anchor: format!("f{}", i + 1),
                path: f.path.clone(),
                old_path: f.old_path.clone(),
                kind: kind_name(f.kind),
                added: f.added,
                removed: f.removed,
                binary: f.binary,
                cut: !f.binary
                    && !f.too_large
                    && !f.whitespace_only
                    && f.patch.is_empty()
                    && (f.added + f.removed) > 0,
                too_large: f.too_large,
                whitespace_only: f.whitespace_only,
                mode_change: f.mode_change.clone(),
                rows,
                side: side_rows,
            }
        })
        .collect()
}

/// What `/changeset-diff`, `/changeset-patch` and `/changeset-download` give.
#[derive(Clone, Copy)]
pub enum ChangesetText {
    Diff,
    Patch,
    Download,
}

pub async fn changeset_text(
    state: &AppState,
    headers: &Head,
    row_: RepoRow,
    rev: &str,
    kind: ChangesetText,
) -> Result<Response, WebError> {
    let (_, access) = open(state, headers, row_, PermLevel::Read).await?;
    let (id, text) = browse::changeset_text(
        &state.svc,
        &access,
        rev,
        matches!(kind, ChangesetText::Patch),
    )
    .await
    .map_err(web_err(state))?;
    let download = matches!(kind, ChangesetText::Download).then(|| format!("{}.diff", id.short()));
    Ok(diff_text_response(text, download.as_deref()))
}

/// A diff or patch as plain text that a browser only shows (never runs), or as a download
/// named `download` (made of ids and fixed text only).
pub(crate) fn diff_text_response(text: Vec<u8>, download: Option<&str>) -> Response {
    let mut resp = (StatusCode::OK, text).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Some(name) = download
        && let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
    {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}

/// How far back changelog pages go (page × size).
const MAX_CHANGELOG_DEPTH: usize = 1_000_000;

/// Keeps a git slot for as long as a response body streams.
/// A page that holds the turn its diffs took ([`view::DiffViews::turn`]) until it is sent.
pub(crate) fn page_holding(
    page: axum::response::Html<String>,
    turn: Option<std::sync::Arc<tokio::sync::OwnedSemaphorePermit>>,
) -> Response {
    let Some(turn) = turn else {
        return page.into_response();
    };
    let once = futures_util::stream::once(async move {
        Ok::<_, std::io::Error>(axum::body::Bytes::from(page.0))
    });
    let mut r = Response::new(axum::body::Body::from_stream(hold(once, turn)));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r
}

/// A stream that keeps `slot` (a turn, a permit) until it ends or is dropped.
fn hold<S: futures_util::Stream, G: Send + 'static>(
    stream: S,
    slot: G,
) -> impl futures_util::Stream<Item = S::Item> {
    futures_util::StreamExt::map(stream, move |item| {
        let _ = &slot;
        item
    })
}

async fn git_slot(state: &AppState) -> Result<tokio::sync::OwnedSemaphorePermit, WebError> {
    match tokio::time::timeout(
        std::time::Duration::from_secs(60),
        state.git_slots.clone().acquire_owned(),
    )
    .await
    {
        Ok(Ok(p)) => Ok(p),
        _ => Err(web_err(state)(kallithea_core::Error::new(
            kallithea_core::ErrorKind::Throttled,
            "The server is busy: too many downloads are running. Try again in a moment.",
        ))),
    }
}

/// Largest file shown on a page.
const SHOW_LIMIT: usize = 512 * 1024;

fn image_type(path: &str) -> Option<&'static str> {
    let ext = path.rsplit('.').next()?.to_ascii_lowercase();
    Some(match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "bmp" => "image/bmp",
        "svg" => "image/svg+xml",
        _ => return None,
    })
}

/// GET /{repo}/files, /{repo}/files/{rev}, /{repo}/files/{rev}/{path}
pub async fn files(
    state: &AppState,
    headers: &Head,
    row_: RepoRow,
    rev: Option<&str>,
    path: &str,
    query: Option<&str>,
) -> Result<Response, WebError> {
    let (v, access) = open(state, headers, row_, PermLevel::Read).await?;
    let name = access.repo().name.clone();
    let prefix = state.web.prefix.clone();
    let Some(rev) = rev else {
        let summary = browse::summary(&state.svc, &access)
            .await
            .map_err(web_err(state))?;
        return match summary.default_branch {
            Some(b) => Ok(
                Redirect::to(&format!("{prefix}/{name}/files/{}/", seg(&b.name))).into_response(),
            ),
            // An empty repository: its summary says how to push the first files.
            None => Ok(Redirect::to(&format!("{prefix}/{name}")).into_response()),
        };
    };
    let path = path.trim_matches('/').to_owned();
    let q = query_pairs(query);
    // Kallithea's `?annotate=1` on a file's page: the annotate page.
    if param(&q, "annotate").is_some_and(|a| ["1", "true", "True", "on"].contains(&a))
        && browse::valid_path(&path)
    {
        return Ok(Redirect::to(&format!(
            "{prefix}/{name}/annotate/{}/{}",
            seg(rev),
            path_enc(&path)
        ))
        .into_response());
    }
    let nv = match browse::node(&state.svc, &access, rev, &path, SHOW_LIMIT).await {
        Ok(nv) => nv,
        Err(e) => {
            let missing = e.kind == kallithea_core::ErrorKind::NotFound && !path.is_empty();
            let mut err = web_err(state)(e);
            // The revision is there but not the path (the switcher offers every branch): the
            // nearest folder above it that is.
            if missing {
                let mut folder = path.as_str();
                while !folder.is_empty() {
                    folder = folder.rsplit_once('/').map_or("", |p| p.0);
                    if let Ok(found) = browse::node(&state.svc, &access, rev, folder, 0).await
                        && matches!(found.node, Node::Dir(_))
                    {
                        let shown = if folder.is_empty() {
                            name.as_str()
                        } else {
                            folder
                        };
                        err = err.instead(
                            format!("Browse {shown} at {rev}"),
                            format!("{prefix}/{name}/files/{}/{}", seg(rev), path_enc(folder)),
                        );
                        break;
                    }
                }
            }
            return Err(err);
        }
    };
    let files_href = |p: &str| format!("{prefix}/{name}/files/{}/{}", seg(rev), path_enc(p));
    let mut crumbs = vec![Crumb {
        name: name.clone(),
        href: files_href(""),
    }];
    let mut acc = String::new();
    for part in path.split('/').filter(|p| !p.is_empty()) {
        if !acc.is_empty() {
            acc.push('/');
        }
        acc.push_str(part);
        crumbs.push(Crumb {
            name: part.to_owned(),
            href: files_href(&acc),
        });
    }
    let mut page = FilesPage {
        layout: layout(state, &v),
        repo: header(&access, "files"),
        switcher: switcher(
            format!("Revision: {rev}"),
            format!("{prefix}/{name}"),
            &nv.refs,
            rev,
            |r| format!("{prefix}/{name}/files/{}/{}", seg(r), path_enc(&path)),
        ),
        rev: nv.id.0.clone(),
        short: nv.id.short().to_owned(),
        crumbs,
        path: path.clone(),
        dir: None,
        dir_total: 0,
        dir_from: 0,
        dir_to: 0,
        dir_prev: None,
        dir_next: None,
        last_incomplete: false,
        nodelist_href: format!("{prefix}/{name}/nodelist/{}/{}", nv.id.0, path_enc(&path)),
        files_base: files_href(""),
        source: Default::default(),
        rendered: None,
        image_href: None,
        raw_href: format!("{prefix}/{name}/raw/{}/{}", nv.id.0, path_enc(&path)),
        download_href: format!("{prefix}/{name}/rawfile/{}/{}", nv.id.0, path_enc(&path)),
        history_href: format!("{prefix}/{name}/changelog/{}/{}", seg(rev), path_enc(&path)),
        annotate_href: format!("{prefix}/{name}/annotate/{}/{}", seg(rev), path_enc(&path)),
        authors_href: format!("{prefix}/{name}/authors/{}/{}", nv.id.0, path_enc(&path)),
        size: String::new(),
        binary: false,
        symlink: false,
        link_target: None,
        annotatable: false,
        truncated: false,
        shown: String::new(),
        submodule: false,
        show_source: param(&q, "source") == Some("1"),
    };
    match nv.node {
        Node::Dir(entries) => {
            // A folder of thousands of entries is listed a page at a time.
            let pages = entries.len().div_ceil(view::DIR_PAGE).max(1);
            let at = num(&q, "page", 1, pages);
            let here = files_href(&path);
            let page_href = |n: usize| match n {
                1 => here.clone(),
                n => format!("{here}?page={n}"),
            };
            if pages > 1 {
                page.dir_total = entries.len();
                page.dir_from = (at - 1) * view::DIR_PAGE + 1;
                page.dir_to = entries.len().min(at * view::DIR_PAGE);
                page.dir_prev = (at > 1).then(|| page_href(at - 1));
                page.dir_next = (at < pages).then(|| page_href(at + 1));
            }
            let entries =
                &entries[(at - 1) * view::DIR_PAGE..entries.len().min(at * view::DIR_PAGE)];
            let names: Vec<String> = entries.iter().map(|e| e.name.clone()).collect();
            let last = browse::last_changes(&state.svc, &access, &nv.id, &path, at, names)
                .await
                .map_err(web_err(state))?;
            page.last_incomplete = entries
                .iter()
                .any(|e| e.kind != EntryKind::Submodule && !last.contains_key(&e.name));
            let child = |n: &str| {
                if path.is_empty() {
                    n.to_owned()
                } else {
                    format!("{path}/{n}")
                }
            };
            page.dir = Some(
                entries
                    .iter()
                    .map(|e| DirRow {
                        href: files_href(&child(&e.name)),
                        name: e.name.clone(),
                        kind: match e.kind {
                            EntryKind::Dir => "dir",
                            EntryKind::Submodule => "submodule",
                            EntryKind::Symlink => "symlink",
                            EntryKind::File => "file",
                        },
                        size: e.size.map(view::human_size).unwrap_or_default(),
                        last: last.get(&e.name).map(|l| {
                            (
                                format!(
                                    "{}/{}/changeset/{}",
                                    state.web.prefix,
                                    access.repo().name,
                                    l.id.0
                                ),
                                view::age(l.author_time),
                                l.summary.clone(),
                            )
                        }),
                    })
                    .collect(),
            );
        }
        Node::Submodule => page.submodule = true,
        Node::File(f) => {
            page.size = view::human_size(f.size);
            page.truncated = f.truncated;
            page.shown = view::human_size(f.bytes.len() as u64);
            page.symlink = f.symlink;
            page.annotatable = !f.binary
                && !f.symlink
                && f.size <= browse::MAX_ANNOTATE_BYTES
                && image_type(&path).is_none();
            if f.symlink {
                let target = f.text().into_owned();
                let folder = path.rsplit_once('/').map_or("", |p| p.0);
                let href = link_target_path(folder, &target).map(|p| files_href(&p));
                page.link_target = Some((target, href));
            } else if image_type(&path).is_some() {
                page.image_href = Some(page.raw_href.clone());
            } else if f.binary {
                page.binary = true;
            } else {
                let text = f.text();
                // What is rendered depends only on the content (and, for highlighting, the
                // file's name), so it is remembered by content id: the same file at another
                // changeset, or in a fork, is not rendered again.
                let content = &f.content_id;
                // Relative links in a document point from its folder (only documents need it).
                let base =
                    || link_base(state, &name, rev, path.rsplit_once('/').map_or("", |p| p.0));
                if markup::is_markdown(&path) && !f.truncated {
                    let base = base();
                    let (s, key, t) = (
                        state.clone(),
                        markdown_key(&f, &base),
                        text.clone().into_owned(),
                    );
                    page.rendered =
                        tokio::task::spawn_blocking(move || markdown_of(&s, key, &t, &base))
                            .await
                            .ok()
                            .flatten();
                } else if markup::is_rst(&path) && !f.truncated {
                    page.rendered = rst_of(state, &f, text.clone().into_owned(), base()).await;
                }
                // Highlighting and rendering the lines is the costly part of a file page.
                let key = format!("src:{content}:{}:{path}", f.bytes.len());
                let source = match state.svc.cache.get::<String>(&key) {
                    Some(html) => html,
                    None => {
                        let (p, t) = (path.clone(), text.into_owned());
                        let html = std::sync::Arc::new(
                            tokio::task::spawn_blocking(move || source_table(&p, &t))
                                .await
                                .unwrap_or_default(),
                        );
                        state.svc.cache.put_sized(key, html.clone(), html.len());
                        html
                    }
                };
                page.source = source;
            }
        }
    }
    Ok(render(&page).into_response())
}

/// The path in the repository a symbolic link in `folder` points at, if it stays inside.
fn link_target_path(folder: &str, target: &str) -> Option<String> {
    if target.starts_with('/') || target.contains('\0') {
        return None;
    }
    let mut parts: Vec<&str> = folder.split('/').filter(|p| !p.is_empty()).collect();
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// A README as the summary shows it: its name, and its HTML when it is Markdown or
/// reStructuredText (rendered on a blocking thread), else its text.
async fn readme_view(
    state: &AppState,
    name: String,
    f: browse::FileContent,
    base: markup::LinkBase,
) -> (Option<String>, Option<String>, Option<String>) {
    let text = f.text().into_owned();
    if markup::is_markdown(&name) {
        let (s, key, t) = (state.clone(), markdown_key(&f, &base), text.clone());
        match tokio::task::spawn_blocking(move || markdown_of(&s, key, &t, &base)).await {
            Ok(Some(html)) => (Some(name), Some(html), None),
            _ => (Some(name), None, Some(text)),
        }
    } else if markup::is_rst(&name) {
        match rst_of(state, &f, text.clone(), base).await {
            Some(html) => (Some(name), Some(html), None),
            None => (Some(name), None, Some(text)),
        }
    } else {
        (Some(name), None, Some(text))
    }
}

/// A reStructuredText file rendered by docutils and cleaned, kept by content id; `None` when
/// docutils is not installed or fails.
async fn rst_of(
    state: &AppState,
    f: &browse::FileContent,
    text: String,
    base: markup::LinkBase,
) -> Option<String> {
    let key = format!("rst:{}:{}", f.content_id, f.bytes.len());
    let html = browse::render_rst(&state.svc, key, text).await?;
    tokio::task::spawn_blocking(move || markup::sanitize(&html, Some(&base)))
        .await
        .ok()
        .flatten()
}

/// Where a Markdown file's rendering is kept: by content id, the length read (a page that
/// cuts the file shows another text) and where its relative links point.
fn markdown_key(f: &browse::FileContent, base: &markup::LinkBase) -> String {
    format!("md:{}:{}:{}", f.content_id, f.bytes.len(), base.key())
}

/// Relative links of a document in folder `dir` at `rev`: images to its raw files, links to
/// their pages, at the same revision.
fn link_base(state: &AppState, repo: &str, rev: &str, dir: &str) -> markup::LinkBase {
    let at = |kind: &str| format!("{}/{repo}/{kind}/{}/", state.web.prefix, seg(rev));
    markup::LinkBase {
        files: at("files"),
        raw: at("raw"),
        dir: dir.to_owned(),
    }
}

/// A Markdown file rendered (a long one costs milliseconds) and kept under `key`; `None` when
/// it nests too deeply to be shown.
fn markdown_of(
    state: &AppState,
    key: String,
    text: &str,
    base: &markup::LinkBase,
) -> Option<String> {
    match state.svc.cache.get::<Option<String>>(&key) {
        Some(html) => (*html).clone(),
        None => {
            let html = markup::markdown(text, Some(base));
            state.svc.cache.put(key, std::sync::Arc::new(html.clone()));
            html
        }
    }
}

/// A file's lines, highlighted where a syntax fits, as the numbered table.
fn source_table(path: &str, text: &str) -> String {
    let highlighted = crate::highlight::lines(path, text);
    let table = view::SourceTable {
        lines: text
            .lines()
            .enumerate()
            .map(|(i, l)| LineRow {
                no: i + 1,
                text: l.to_owned(),
                html: highlighted.as_ref().and_then(|h| h.get(i).cloned()),
            })
            .collect(),
    };
    render(&table).0
}

/// A `Content-Disposition` file name: ASCII kept, the rest in RFC 5987 form.
pub(crate) fn disposition(kind: &str, path: &str) -> String {
    // `filename*` is UTF-8: bytes of the name that are not are sent as U+FFFD.
    let name = browse::name_shown(path.rsplit('/').next().unwrap_or("file"));
    let name = name.as_ref();
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!(
        "{kind}; filename=\"{ascii}\"; filename*=UTF-8''{}",
        seg(name)
    )
}

/// GET /{repo}/raw/{rev}/{path} and /{repo}/rawfile/{rev}/{path}: the file's bytes, streamed.
/// Never served as something a browser runs: text is `text/plain`, only images are shown
/// inline (SVG under a sandboxing CSP), everything else is a download; always `nosniff`.
pub async fn raw(
    state: &AppState,
    headers: &Head,
    row_: RepoRow,
    rev: &str,
    path: &str,
    attachment: bool,
) -> Result<Response, WebError> {
    let (_, access) = open(state, headers, row_, PermLevel::Read).await?;
    let path = path.trim_matches('/');
    if path.is_empty() {
        return Err(web_err(state)(kallithea_core::Error::not_found(
            "Give the path of a file after the revision.",
        )));
    }
    let nv = browse::node(&state.svc, &access, rev, path, 8000)
        .await
        .map_err(web_err(state))?;
    // Text that does not start as UTF-8 is not labelled so: the browser picks the encoding.
    let (binary, utf8) = match &nv.node {
        Node::File(f) => (
            f.binary,
            // (A character cut at the end of the prefix read is no error.)
            match std::str::from_utf8(&f.bytes) {
                Ok(_) => true,
                Err(e) => e.error_len().is_none(),
            },
        ),
        _ => {
            return Err(web_err(state)(kallithea_core::Error::not_found(format!(
                "\"{path}\" is a folder, not a file."
            ))));
        }
    };
    let slot = git_slot(state).await?;
    let (_, size, mut child) = browse::file_stream(&state.svc, &access, &nv.id.0, path)
        .await
        .map_err(web_err(state))?;
    let Some(stdout) = child.stdout.take() else {
        return Err(web_err(state)(kallithea_core::Error::internal(
            "reading a file",
            "no output",
        )));
    };
    tokio::spawn(async move {
        let _ = child.wait().await;
    });
    let body = axum::body::Body::from_stream(hold(tokio_util::io::ReaderStream::new(stdout), slot));
    let mut resp = Response::new(body);
    let h = resp.headers_mut();
    let image = image_type(path);
    let (ctype, inline) = match (attachment, image, binary) {
        (true, _, _) => ("application/octet-stream", false),
        (false, Some(t), _) => (t, true),
        (false, None, false) if utf8 => ("text/plain; charset=utf-8", true),
        (false, None, false) => ("text/plain", true),
        (false, None, true) => ("application/octet-stream", false),
    };
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox",
        ),
    );
    if let Ok(v) = HeaderValue::from_str(&disposition(
        if inline { "inline" } else { "attachment" },
        path,
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    // Content at a full changeset id never changes.
    if rev == nv.id.0 {
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, max-age=86400, immutable"),
        );
    }
    Ok(resp)
}

/// GET /{repo}/branches and /{repo}/tags
pub async fn refs(
    state: &AppState,
    headers: &Head,
    row_: RepoRow,
    tags: bool,
) -> Result<Response, WebError> {
    let (v, access) = open(state, headers, row_, PermLevel::Read).await?;
    let kind = if tags {
        browse::RefKind::Tag
    } else {
        browse::RefKind::Branch
    };
    let list = browse::ref_details(&state.svc, &access, kind)
        .await
        .map_err(web_err(state))?;
    let known = browse::refs(&state.svc, &access)
        .await
        .map_err(web_err(state))?;
    let name = access.repo().name.clone();
    let prefix = &state.web.prefix;
    let page = RefsPage {
        layout: layout(state, &v),
        repo: header(&access, if tags { "tags" } else { "branches" }),
        title: if tags { "Tags" } else { "Branches" },
        rows: list
            .into_iter()
            .map(|r| {
                let rev = match tags {
                    true => r.info.name.as_str().into(),
                    false => known.branch_rev(&r.info.name),
                };
                RefRow {
                    changelog_href: format!("{prefix}/{name}/changelog?branch={}", seg(&rev)),
                    files_href: format!("{prefix}/{name}/files/{}/", seg(&rev)),
                    short: r.info.target.short().to_owned(),
                    id: r.info.target.0,
                    summary: r.summary,
                    age: view::age(r.time),
                    name: r.info.name,
                }
            })
            .collect(),
    };
    Ok(render(&page).into_response())
}

/// GET /{repo}/annotate/{rev}/{path}: each line with the changeset that last changed it,
/// shaded by age.
pub async fn annotate(
    state: &AppState,
    headers: &Head,
    row_: RepoRow,
    rev: &str,
    path: &str,
) -> Result<Response, WebError> {
    let (v, access) = open(state, headers, row_, PermLevel::Read).await?;
    let path = path.trim_matches('/').to_owned();
    // Not highlighted: on two cores highlighting a long file takes as long as git blame
    // itself, and the page is for who changed what.
    let (id, lines) = browse::annotate(&state.svc, &access, rev, &path)
        .await
        .map_err(web_err(state))?;
    let newest = lines.iter().map(|l| l.time).max().unwrap_or(0);
    let oldest = lines.iter().map(|l| l.time).min().unwrap_or(0);
    let name = access.repo().name.clone();
    let mut prev: Option<&str> = None;
    let rows = lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let first = prev != Some(l.id.0.as_str());
            prev = Some(l.id.0.as_str());
            // Shaded within the file's own history: its newest line 0, its oldest 5.
            let span = (newest - oldest).max(1);
            let shade = u8::try_from((newest - l.time).clamp(0, span) * 5 / span).unwrap_or(5);
            view::AnnotateRow {
                no: i + 1,
                first,
                id: l.id.0.clone(),
                short: l.id.short().to_owned(),
                author: l.author.clone(),
                summary: l.summary.clone(),
                age: view::age(l.time),
                shade,
                text: l.text.clone(),
            }
        })
        .collect();
    let page = view::AnnotatePage {
        layout: layout(state, &v),
        repo: header(&access, "files"),
        files_href: format!(
            "{}/{name}/files/{}/{}",
            state.web.prefix,
            seg(rev),
            path_enc(&path)
        ),
        path,
        rev: id.0.clone(),
        short: id.short().to_owned(),
        rows,
    };
    Ok(render(&page).into_response())
}

/// GET /{repo}/archive/{rev}.zip|.tar.gz|.tgz|.tar.bz2|.tbz2|.tar: the tree as an archive,
/// streamed, and the download recorded in the journal (as Kallithea does).
pub async fn archive(
    state: &AppState,
    headers: &Head,
    row_: RepoRow,
    file: &str,
    head_only: bool,
) -> Result<Response, WebError> {
    let (_, access) = open(state, headers, row_, PermLevel::Read).await?;
    let Some((rev, format)) = browse::ArchiveFormat::from_suffix(file) else {
        return Err(web_err(state)(kallithea_core::Error::not_found(format!(
            "\"{file}\" is not an archive this server makes: use .zip, .tar.gz, .tar.bz2 or .tar."
        ))));
    };
    let headers_for = |h: &mut axum::http::HeaderMap, name: &str| {
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(format.mime()),
        );
        h.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        if let Ok(v) = HeaderValue::from_str(&disposition("attachment", name)) {
            h.insert(header::CONTENT_DISPOSITION, v);
        }
    };
    // A HEAD request learns what it would get, without an archive made or a download noted.
    if head_only {
        let name = browse::archive_name(&state.svc, &access, rev, format)
            .await
            .map_err(web_err(state))?;
        let mut resp = Response::new(axum::body::Body::empty());
        headers_for(resp.headers_mut(), &name);
        return Ok(resp);
    }
    let slot = git_slot(state).await?;
    let (name, source) = browse::archive(&state.svc, &access, rev, format)
        .await
        .map_err(web_err(state))?;
    // Journalled as Kallithea does, without making the download wait for the database.
    let (svc, acc, file, ip) = (
        state.svc.clone(),
        access.clone(),
        name.clone(),
        headers.client.addr.to_string(),
    );
    tokio::spawn(async move {
        if let Err(e) = repo::record_download(&svc, &acc, &file, &ip).await {
            tracing::warn!(error = %e, "could not record an archive download");
        }
    });
    let body = match source {
        browse::ArchiveBody::Cached(file) => axum::body::Body::from_stream(
            tokio_util::io::ReaderStream::with_capacity(file, 256 * 1024),
        ),
        browse::ArchiveBody::Fresh { mut child, tee } => {
            let Some(stdout) = child.stdout.take() else {
                return Err(web_err(state)(kallithea_core::Error::internal(
                    "making an archive",
                    "no output",
                )));
            };
            // git has no bzip2: its tar is compressed here, as it streams.
            let bzip2 = (format == browse::ArchiveFormat::TarBz2)
                .then(|| bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default()));
            axum::body::Body::from_stream(hold(archive_stream(stdout, *child, bzip2, tee), slot))
        }
    };
    let mut resp = Response::new(body);
    headers_for(resp.headers_mut(), &name);
    Ok(resp)
}

/// GET /{repo}/feed/rss and /{repo}/feed/atom: the latest changesets of the default branch.
pub async fn feed(
    state: &AppState,
    headers: &Head,
    row_: RepoRow,
    atom: bool,
) -> Result<Response, WebError> {
    let (_, access) = open(state, headers, row_, PermLevel::Read).await?;
    let log = browse::changelog(&state.svc, &access, None, None, 1, 10)
        .await
        .map_err(web_err(state))?;
    let r = access.repo();
    let base = base_url(state, headers);
    let link = format!("{base}/{}", r.name);
    let stamp = |t: i64| chrono::DateTime::from_timestamp(t, 0).unwrap_or_default();
    // XML cannot carry most control characters, even escaped.
    let clean = |s: &str| -> String {
        s.chars()
            .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
            .collect()
    };
    let entries: Vec<view::FeedEntry> = log
        .changesets
        .iter()
        .map(|c| view::FeedEntry {
            title: clean(&format!("{}: {}", c.author.name, c.summary())),
            link: format!("{link}/changeset/{}", c.id.0),
            author: clean(&c.author.name),
            email: clean(&c.author.email),
            rfc2822: stamp(c.commit_time).to_rfc2822(),
            rfc3339: stamp(c.commit_time).to_rfc3339(),
            message: clean(&c.message),
            // RSS readers show an item's description as HTML: the message is made HTML
            // here, and the template escapes that HTML once more for XML.
            message_html: crate::message::render(
                &clean(&c.message),
                &crate::message::Links {
                    repo: &r.name,
                    issue_link: state.web.issue_server_link.as_deref(),
                    changesets: &format!("{link}/changeset/"),
                },
            ),
        })
        .collect();
    let title = format!("{} changes", r.name);
    let description = if r.description.is_empty() {
        format!("Latest changesets of {}", r.name)
    } else {
        clean(&r.description)
    };
    let (body, ctype) = if atom {
        let updated = log
            .changesets
            .first()
            .map_or(r.last_change, |c| c.commit_time);
        let feed = view::AtomFeed {
            title,
            link: link.clone(),
            self_href: format!("{link}/feed/atom"),
            description,
            updated: stamp(updated).to_rfc3339(),
            entries,
        };
        (feed.render(), "application/atom+xml; charset=utf-8")
    } else {
        let feed = view::RssFeed {
            title,
            link: link.clone(),
            self_href: format!("{link}/feed/rss"),
            // Readers take an RSS description for HTML, as they do an item's.
            description: crate::message::escape_html(&description),
            entries,
        };
        (feed.render(), "application/rss+xml; charset=utf-8")
    };
    let body =
        body.map_err(|e| web_err(state)(kallithea_core::Error::internal("rendering a feed", e)))?;
    Ok((
        [
            (header::CONTENT_TYPE, ctype),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response())
}

/// An archive as git writes it, compressed with bzip2 on the way when `bzip2` is given, and
/// copied into the archive cache when `tee` is; the copy is kept only when git succeeded and
/// the whole archive was sent. When git fails, the response is cut short. The compressor is
/// written to and never flushed before the end, so the same archive always gives the same
/// bytes (an encoder that flushes whenever git is slower than the client ends a bzip2 block
/// there).
/// The bzip2 encoder of a streamed archive.
type Bz2 = bzip2::write::BzEncoder<Vec<u8>>;

/// Runs CPU-bound work (compressing an archive: about 0.1 s per 900 KB block) on a blocking
/// thread, so the runtime's few workers keep serving other requests meanwhile.
async fn off_the_runtime<T: Send + 'static>(
    f: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> std::io::Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(std::io::Error::other)?
}

fn archive_stream(
    stdout: tokio::process::ChildStdout,
    child: tokio::process::Child,
    bzip2: Option<Bz2>,
    tee: Option<browse::CacheWriter>,
) -> impl futures_util::Stream<Item = std::io::Result<axum::body::Bytes>> {
    use tokio::io::AsyncReadExt;
    struct Run {
        out: tokio::process::ChildStdout,
        child: tokio::process::Child,
        bzip2: Option<Bz2>,
        tee: Option<browse::CacheWriter>,
    }
    let run = Run {
        out: stdout,
        child,
        bzip2,
        tee,
    };
    futures_util::stream::unfold(Some(run), |state| async move {
        let mut run = state?;
        let mut buf = vec![0u8; 64 * 1024];
        let chunk = match run.out.read(&mut buf).await {
            Ok(0) => {
                let mut ok = run.child.wait().await.is_ok_and(|s| s.success());
                let mut rest = Vec::new();
                if let Some(z) = run.bzip2.take() {
                    match off_the_runtime(move || z.finish()).await {
                        Ok(out) => rest = out,
                        Err(_) => ok = false,
                    }
                }
                if let Some(t) = run.tee.as_mut() {
                    t.write(&rest).await;
                }
                if let Some(t) = run.tee.take() {
                    t.finish(ok).await;
                }
                // An error ends the response without its last chunk, so the client reports
                // a broken download instead of saving a cut archive as if it were whole.
                return match ok {
                    true => (!rest.is_empty()).then(|| (Ok(axum::body::Bytes::from(rest)), None)),
                    false => Some((Err(std::io::Error::other("git archive failed")), None)),
                };
            }
            Ok(n) => {
                buf.truncate(n);
                match run.bzip2.take() {
                    Some(mut z) => {
                        let done = off_the_runtime(move || {
                            use std::io::Write;
                            z.write_all(&buf)?;
                            let out = std::mem::take(z.get_mut());
                            Ok((z, out))
                        })
                        .await;
                        match done {
                            Ok((z, out)) => {
                                run.bzip2 = Some(z);
                                out
                            }
                            Err(e) => return Some((Err(e), None)),
                        }
                    }
                    None => buf,
                }
            }
            Err(e) => return Some((Err(e), None)),
        };
        if let Some(t) = run.tee.as_mut() {
            t.write(&chunk).await;
        }
        Some((Ok(axum::body::Bytes::from(chunk)), Some(run)))
    })
}
