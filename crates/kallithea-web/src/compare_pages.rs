//! Diffs between any two revisions: the compare page (`/compare/{org}...{other}`, tip to tip or
//! from the common ancestor with `merge=1`), changeset ranges (`/changeset/{first}...{last}`)
//! and one path's diff (`/diff/{path}?diff1=&diff2=`, side by side at `/diff-2way/{path}`,
//! as text with `diff=raw` or `diff=download`).

use axum::response::{IntoResponse, Redirect, Response};
use kallithea_core::browse::{self, CompareDiff, RefLabels};
use kallithea_core::repo::RepoRow;
use kallithea_model::PermLevel;

use crate::browse_pages::{
    diff_text_response, file_views, header, page_holding, param, path_enc, query_pairs, row, seg,
};
use crate::diff::DiffChoice;
use crate::pages::{layout, web_err};
use crate::repo_pages::{Head, open};
use crate::view::{self, PathDiffPage, render};
use crate::{AppState, WebError};

/// A compare side as written in a URL: Kallithea's `branch@name`, `tag@name`, `rev@id`, or a
/// bare revision.
fn compare_side(s: &str) -> &str {
    for p in ["branch@", "tag@", "rev@", "book@"] {
        if let Some(rest) = s.strip_prefix(p) {
            return rest;
        }
    }
    s
}

/// GET /{repo}/compare[?org=&other=] and /{repo}/compare/{org}...{other}[?merge=1]: the
/// changesets `other` has and `org` lacks, and the diff from `org` (or, with `merge=1`, from
/// their common ancestor) to `other`.
pub async fn compare(
    state: &AppState,
    headers: &Head,
    row_: RepoRow,
    spec: Option<&str>,
    query: Option<&str>,
) -> Result<Response, WebError> {
    let (v, access) = open(state, headers, row_, PermLevel::Read).await?;
    let name = access.repo().name.clone();
    let prefix = state.web.prefix.clone();
    let q = query_pairs(query);
    if spec.is_none()
        && let (Some(o), Some(t)) = (param(&q, "org"), param(&q, "other"))
    {
        // The form's other choices (kind of diff, layout) come along.
        let keep: Vec<String> = ["merge", "diff"]
            .iter()
            .filter_map(|k| {
                Some(format!(
                    "{k}={}",
                    seg(param(&q, k).filter(|v| !v.is_empty())?)
                ))
            })
            .collect();
        let query = match keep.is_empty() {
            true => String::new(),
            false => format!("?{}", keep.join("&")),
        };
        return Ok(Redirect::to(&format!(
            "{prefix}/{name}/compare/{}...{}{query}",
            seg(o),
            seg(t)
        ))
        .into_response());
    }
    let choice = DiffChoice::from_query(&q, param(&q, "diff") == Some("sidebyside"));
    let refs = browse::refs(&state.svc, &access)
        .await
        .map_err(web_err(state))?;
    let choices: Vec<String> = refs
        .branches
        .iter()
        .chain(&refs.tags)
        .map(|r| r.name.clone())
        .collect();
    // The form starts from the default branch, against the first other branch.
    let default = refs.default_branch.as_ref().map(|b| b.name.clone());
    let org_name = default
        .or_else(|| choices.first().cloned())
        .unwrap_or_default();
    let other_name = choices
        .iter()
        .find(|c| **c != org_name)
        .unwrap_or(&org_name)
        .clone();
    let mut page = blank(
        layout(state, &v),
        header(&access, "changelog"),
        org_name,
        other_name,
    );
    page.choices = choices;
    let Some(spec) = spec else {
        return Ok(render(&page).into_response());
    };
    let Some((org, other)) = spec.split_once("...") else {
        return Err(web_err(state)(kallithea_core::Error::not_found(format!(
            "\"{spec}\" is not a comparison: write it as <from>...<to>, for example main...feature."
        ))));
    };
    let (org, other) = (compare_side(org), compare_side(other));
    let how = match param(&q, "merge").is_some_and(|m| !m.is_empty() && m != "0") {
        true => CompareDiff::FromAncestor,
        false => CompareDiff::Tips,
    };
    let c = browse::compare(
        &state.svc,
        &access,
        org,
        other,
        how,
        choice.opts(),
        state.web.cut_off_limit,
        choice.full,
    )
    .await
    .map_err(web_err(state))?;
    let here = format!("{prefix}/{name}/compare/{}...{}", seg(org), seg(other));
    let merge_pair = [("merge", "1".to_owned())];
    let (keep, toggled) = match how {
        CompareDiff::FromAncestor => (&merge_pair[..], &merge_pair[..0]),
        CompareDiff::Tips => (&merge_pair[..0], &merge_pair[..]),
    };
    let toggled = choice.nav(&here, None, toggled);
    let other_diff_href = match choice.side_by_side {
        true => toggled.side_href,
        false => toggled.unified_href,
    };
    page.compared = true;
    page.org_name = org.to_owned();
    page.other_name = other.to_owned();
    page.from_ancestor = how == CompareDiff::FromAncestor;
    page.other_diff_href = other_diff_href;
    page.swapped_href = choice
        .nav(
            &format!("{prefix}/{name}/compare/{}...{}", seg(other), seg(org)),
            None,
            keep,
        )
        .unified_href;
    page.nav = choice.nav(&here, None, keep);
    fill(
        state,
        &access,
        &mut page,
        c,
        &format!("{how:?}:{}", choice.key()),
    )
    .await;
    let turn = page.files.turn.clone();
    Ok(page_holding(render(&page), turn))
}

/// A compare page with nothing compared yet.
fn blank(
    layout: view::Layout,
    repo: view::RepoHeader,
    org_name: String,
    other_name: String,
) -> view::ComparePage {
    view::ComparePage {
        pick: false,
        layout,
        repo,
        org_name,
        other_name,
        choices: Vec::new(),
        compared: false,
        range: false,
        org_short: String::new(),
        id: String::new(),
        short: String::new(),
        rows: Vec::new(),
        more: false,
        files: Default::default(),
        nav: Default::default(),
        cut: false,
        base_id: String::new(),
        from_ancestor: false,
        other_diff_href: String::new(),
        swapped_href: String::new(),
        merge: false,
    }
}

/// Puts a comparison's changesets and diff on the page.
async fn fill(
    state: &AppState,
    access: &kallithea_core::repo::RepoAccess,
    page: &mut view::ComparePage,
    c: browse::Comparison,
    choice_key: &str,
) {
    let labels = RefLabels::new();
    page.org_short = c.org.as_ref().map_or("", |o| o.short()).to_owned();
    page.id = c.other.0.clone();
    page.short = c.other.short().to_owned();
    page.rows = c.changesets.iter().map(|cs| row(cs, &labels)).collect();
    page.more = c.more;
    page.base_id = c.diff_from.as_ref().map_or("", |f| f.0.as_str()).to_owned();
    let key = format!(
        "cmpview:{}:{}:{}:{choice_key}",
        access.repo().id.0,
        c.org.as_ref().map_or("-", |o| o.0.as_str()),
        c.other.0,
    );
    page.files = file_views(state, key, c.changes, page.nav.side_by_side).await;
    page.cut = c.cut;
}

/// GET /{repo}/changeset/{first}...{last}: the changesets from `first` to `last`, both
/// included, with the diff they make together (from `first`'s parent).
pub async fn changeset_range(
    state: &AppState,
    headers: &Head,
    row_: RepoRow,
    first: &str,
    last: &str,
    query: Option<&str>,
) -> Result<Response, WebError> {
    let (v, access) = open(state, headers, row_, PermLevel::Read).await?;
    let q = query_pairs(query);
    let choice = DiffChoice::from_query(&q, param(&q, "diff") == Some("sidebyside"));
    let c = browse::changeset_range(
        &state.svc,
        &access,
        first,
        last,
        choice.opts(),
        state.web.cut_off_limit,
        choice.full,
    )
    .await
    .map_err(web_err(state))?;
    let name = access.repo().name.clone();
    // Picked the other way round (a child older than its parent, on the changelog): the
    // same range, written from its first changeset.
    let Some(c) = c else {
        let turned = format!(
            "{}/{name}/changeset/{}...{}{}",
            state.web.prefix,
            seg(last),
            seg(first),
            query.map(|q| format!("?{q}")).unwrap_or_default()
        );
        return Ok(Redirect::to(&turned).into_response());
    };
    let here = format!(
        "{}/{name}/changeset/{}...{}",
        state.web.prefix,
        seg(first),
        seg(last)
    );
    let mut page = blank(
        layout(state, &v),
        header(&access, "changelog"),
        first.to_owned(),
        last.to_owned(),
    );
    page.compared = true;
    page.range = true;
    page.nav = choice.nav(&here, None, &[]);
    fill(
        state,
        &access,
        &mut page,
        c,
        &format!("range:{}", choice.key()),
    )
    .await;
    let turn = page.files.turn.clone();
    Ok(page_holding(render(&page), turn))
}

/// GET /{repo}/diff/{path}?diff1=&diff2= (and /{repo}/diff-2way/{path}, side by side): one
/// file's (or folder's) diff between two revisions. `diff=raw` gives it as text,
/// `diff=download` as a file; `show_rev=1` goes to the file at `diff1` (its annotation with
/// `annotate=1`). A missing `diff1` is `diff2`; `None` or an all-zero id is "before the first
/// changeset". Without `diff2` it sends the visitor to the file's page.
pub async fn path_diff(
    state: &AppState,
    headers: &Head,
    row_: RepoRow,
    path: &str,
    query: Option<&str>,
    side_by_side: bool,
) -> Result<Response, WebError> {
    let (v, access) = open(state, headers, row_, PermLevel::Read).await?;
    let name = access.repo().name.clone();
    let prefix = &state.web.prefix;
    let q = query_pairs(query);
    let path = path.trim_matches('/');
    if path.is_empty() {
        return Err(web_err(state)(kallithea_core::Error::not_found(
            "Give the path of a file after /diff/.",
        )));
    }
    // Nor is it sent on in a redirect: `..` parts and the like name no file.
    if !browse::valid_path(path) {
        return Err(web_err(state)(kallithea_core::Error::not_found(format!(
            "There is no file \"{path}\" in repository {name}."
        ))));
    }
    let to = param(&q, "diff2").unwrap_or("");
    let from = match param(&q, "diff1").unwrap_or("") {
        "" => to,
        f => f,
    };
    if param(&q, "show_rev").is_some_and(|s| !s.is_empty()) {
        let page = match param(&q, "annotate") {
            Some("1" | "true" | "True") => "annotate",
            _ => "files",
        };
        return Ok(Redirect::to(&format!(
            "{prefix}/{name}/{page}/{}/{}",
            seg(from),
            path_enc(path)
        ))
        .into_response());
    }
    if browse::names_nothing(to) {
        // No revisions chosen: the file's page, where its diff form is.
        return Ok(
            Redirect::to(&format!("{prefix}/{name}/files/tip/{}", path_enc(path))).into_response(),
        );
    }
    let choice = DiffChoice::from_query(&q, side_by_side);
    if let Some(action @ ("raw" | "download")) = param(&q, "diff") {
        let (from_id, to_id, text) =
            browse::path_diff_text(&state.svc, &access, from, to, path, choice.opts())
                .await
                .map_err(web_err(state))?;
        let download = (action == "download").then(|| {
            format!(
                "{}_vs_{}.diff",
                from_id.as_ref().map_or("0", |f| f.short()),
                to_id.short()
            )
        });
        return Ok(diff_text_response(text, download.as_deref()));
    }
    let d = browse::path_diff(
        &state.svc,
        &access,
        from,
        to,
        path,
        choice.opts(),
        state.web.cut_off_limit,
        choice.full,
    )
    .await
    .map_err(web_err(state))?;
    // Links name the resolved changesets: the page they lead to stays the same.
    let from_arg = d.from.as_ref().map_or("None", |f| f.0.as_str()).to_owned();
    let keep = [("diff1", from_arg.clone()), ("diff2", d.to.0.clone())];
    let p = path_enc(path);
    let nav = choice.nav(
        &format!("{prefix}/{name}/diff/{p}"),
        Some(&format!("{prefix}/{name}/diff-2way/{p}")),
        &keep,
    );
    let text_href = |action: &str| {
        format!(
            "{prefix}/{name}/diff/{p}?diff1={from_arg}&diff2={}&diff={action}{}{}",
            d.to.0,
            if choice.ignorews { "&ignorews=1" } else { "" },
            if choice.context != 3 {
                format!("&context={}", choice.context)
            } else {
                String::new()
            }
        )
    };
    let key = format!(
        "pathdiffview:{}:{from_arg}:{}:{}:{path}",
        access.repo().id.0,
        d.to.0,
        choice.key()
    );
    let page = PathDiffPage {
        layout: layout(state, &v),
        repo: header(&access, "files"),
        path: path.to_owned(),
        base_id: d.from.as_ref().map_or("", |f| f.0.as_str()).to_owned(),
        base_short: d.from.as_ref().map_or("", |f| f.short()).to_owned(),
        id: d.to.0.clone(),
        short: d.to.short().to_owned(),
        raw_href: text_href("raw"),
        download_href: text_href("download"),
        files: file_views(state, key, d.changes, side_by_side).await,
        nav,
        cut: d.cut,
        merge: false,
    };
    let turn = page.files.turn.clone();
    Ok(page_holding(render(&page), turn))
}
