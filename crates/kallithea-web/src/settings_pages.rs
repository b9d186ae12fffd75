//! `/_admin/settings/global`, `/visual` and `/vcs`: site settings for admins, with Kallithea's
//! field names; refused values are shown again with the reason and change nothing.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use kallithea_core::{Error, ErrorKind, site};

use crate::form::Form;
use crate::pages::{checked, layout, require_user, web_err};
use crate::view::{SiteSettingsPage, render};
use crate::visitor::Visitor;
use crate::{AppState, WebError};

type Fields = Vec<(String, String)>;

fn field(f: &Fields, name: &str) -> Option<String> {
    f.iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

fn page(
    state: &AppState,
    v: &Visitor,
    tab: &'static str,
    input: Option<&Fields>,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Response, WebError> {
    if !v.actor.is_admin() {
        return Err(web_err(state)(kallithea_core::repo::denied(&v.actor)));
    }
    let s = site::current(&state.svc);
    let get = |k: &str, saved: String| input.and_then(|f| field(f, k)).unwrap_or(saved);
    let flag = |k: &str, saved: bool| input.map_or(saved, |f| checked(&field(f, k)));
    let view = SiteSettingsPage {
        layout: layout(state, v),
        tab,
        title: get("title", s.title.clone()),
        realm: get("realm", s.realm.clone()),
        dashboard_items: get("dashboard_items", s.dashboard_items.to_string()),
        admin_grid_items: get("admin_grid_items", s.admin_grid_items.to_string()),
        show_version: flag("show_version", s.show_version),
        use_gravatar: flag("use_gravatar", s.use_gravatar),
        gravatar_url: get("gravatar_url", s.gravatar_url.clone()),
        clone_uri_tmpl: get("clone_uri_tmpl", s.clone_uri_tmpl.clone()),
        root: state.svc.store.root().display().to_string(),
        error: error.clone(),
        notice,
    };
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    Ok((status, render(&view)).into_response())
}

/// GET /_admin/settings
pub async fn index(State(state): State<AppState>) -> Redirect {
    Redirect::to(&format!("{}/_admin/settings/global", state.web.prefix))
}

fn answer(
    state: &AppState,
    v: &Visitor,
    tab: &'static str,
    f: &Fields,
    r: kallithea_core::Result<()>,
) -> Result<Response, WebError> {
    match r {
        Ok(()) => page(state, v, tab, None, None, Some("Settings saved.".into())),
        Err(e) if e.kind == ErrorKind::InvalidInput => {
            page(state, v, tab, Some(f), Some(e.message), None)
        }
        Err(e) => Err(web_err(state)(e)),
    }
}

/// GET /_admin/settings/global
pub async fn global(State(state): State<AppState>, v: Visitor) -> Result<Response, WebError> {
    require_user(&state, &v, "/_admin/settings/global")?;
    page(&state, &v, "global", None, None, None)
}

/// POST /_admin/settings/global — `title`, `realm`.
pub async fn save_global(
    State(state): State<AppState>,
    v: Visitor,
    Form(f): Form<Fields>,
) -> Result<Response, WebError> {
    require_user(&state, &v, "/_admin/settings/global")?;
    let r = site::save_global(
        &state.svc,
        &v.actor,
        &field(&f, "title").unwrap_or_default(),
        &field(&f, "realm").unwrap_or_default(),
    )
    .await;
    answer(&state, &v, "global", &f, r)
}

/// GET /_admin/settings/visual
pub async fn visual(State(state): State<AppState>, v: Visitor) -> Result<Response, WebError> {
    require_user(&state, &v, "/_admin/settings/visual")?;
    page(&state, &v, "visual", None, None, None)
}

/// POST /_admin/settings/visual
pub async fn save_visual(
    State(state): State<AppState>,
    v: Visitor,
    Form(f): Form<Fields>,
) -> Result<Response, WebError> {
    require_user(&state, &v, "/_admin/settings/visual")?;
    let form = site::VisualForm {
        dashboard_items: field(&f, "dashboard_items").unwrap_or_default(),
        admin_grid_items: field(&f, "admin_grid_items").unwrap_or_default(),
        show_version: checked(&field(&f, "show_version")),
        use_gravatar: checked(&field(&f, "use_gravatar")),
        gravatar_url: field(&f, "gravatar_url").unwrap_or_default(),
        clone_uri_tmpl: field(&f, "clone_uri_tmpl").unwrap_or_default(),
    };
    let r = site::save_visual(&state.svc, &v.actor, &form).await;
    answer(&state, &v, "visual", &f, r)
}

/// GET /_admin/settings/vcs
pub async fn vcs(State(state): State<AppState>, v: Visitor) -> Result<Response, WebError> {
    require_user(&state, &v, "/_admin/settings/vcs")?;
    page(&state, &v, "vcs", None, None, None)
}

/// POST /_admin/settings/vcs — the repository folder cannot be changed from the web.
pub async fn save_vcs(
    State(state): State<AppState>,
    v: Visitor,
    Form(f): Form<Fields>,
) -> Result<Response, WebError> {
    require_user(&state, &v, "/_admin/settings/vcs")?;
    let root = state.svc.store.root().display().to_string();
    let r = match field(&f, "paths_root_path") {
        Some(p) if p.trim() != root => Err(Error::invalid(
            "The repository folder cannot be changed from the web: stop the server, move the folder, and follow docs/upgrades-and-backup.md.",
        )),
        _ if !v.actor.is_admin() => Err(kallithea_core::repo::denied(&v.actor)),
        _ => Ok(()),
    };
    answer(&state, &v, "vcs", &f, r)
}
