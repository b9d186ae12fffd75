//! Site pages: the repository list, sign-in and sign-out, the CSRF token for scripts,
//! creating a repository and the API key page.

use crate::form::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use kallithea_core::permission::Permissions;
use kallithea_core::repo::{self, CreateForm};
use kallithea_core::{Error, ErrorKind, session, user};
use serde::Deserialize;

use crate::view::{self, CreateRepoPage, HomePage, Layout, LoginPage, RepoItem, render};
use crate::visitor::{Visitor, session_cookie};
use crate::{AppState, WebError};

pub(crate) fn layout(state: &AppState, v: &Visitor) -> Layout {
    let site = kallithea_core::site::current(&state.svc);
    Layout {
        prefix: state.web.prefix.clone(),
        username: v.user.as_ref().map(|u| u.username.clone()),
        is_admin: v.actor.is_admin(),
        csrf_token: v.csrf_token_for_page(),
        site_title: if site.title.is_empty() {
            "Kallithea".into()
        } else {
            site.title.clone()
        },
        avatar: v
            .user
            .as_ref()
            .filter(|u| site.use_gravatar && !u.email.is_empty())
            .map(|u| avatar_url(&site.gravatar_url, &u.email, 20)),
        version: site.show_version.then_some(env!("CARGO_PKG_VERSION")),
    }
}

/// An avatar URL from Kallithea's template (`{email}`, `{md5email}`, `{size}`).
pub(crate) fn avatar_url(tmpl: &str, email: &str, size: u32) -> String {
    use md5::Digest;
    let e = email.trim().to_lowercase();
    let md5 = hex_lower(&md5::Md5::digest(e.as_bytes()));
    let enc: String =
        percent_encoding::utf8_percent_encode(&e, percent_encoding::NON_ALPHANUMERIC).to_string();
    tmpl.replace("{email}", &enc)
        .replace("{md5email}", &md5)
        .replace("{size}", &size.to_string())
}

fn hex_lower(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub(crate) fn web_err(state: &AppState) -> impl Fn(Error) -> WebError + '_ {
    move |e| WebError::new(e, &state.web.prefix)
}

/// Makes sure the visitor has a session (so forms can carry a CSRF token); returns the
/// `Set-Cookie` header to send when one was created.
pub(crate) async fn ensure_session(
    state: &AppState,
    v: &mut Visitor,
) -> Result<Option<String>, WebError> {
    if v.session.is_some() {
        return Ok(None);
    }
    let s = session::start(&state.svc, None)
        .await
        .map_err(web_err(state))?;
    let cookie = session_cookie(state, v.client.https, &s.cookie, None);
    v.session = Some(s);
    Ok(Some(cookie))
}

pub(crate) fn with_cookie(cookie: Option<String>, resp: impl IntoResponse) -> Response {
    let mut r = resp.into_response();
    if let Some(c) = cookie
        && let Ok(v) = c.parse()
    {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

/// GET / — the repositories the visitor may see.
#[derive(Deserialize, Default)]
pub struct HomeQuery {
    #[serde(default)]
    page: Option<String>,
}

pub async fn home(
    State(state): State<AppState>,
    v: Visitor,
    Query(q): Query<HomeQuery>,
) -> Result<Response, WebError> {
    let perms = Permissions::load(&state.svc, &v.actor)
        .await
        .map_err(web_err(&state))?;
    if v.user.is_none() && !perms.anonymous_enabled() {
        return Err(WebError::new(
            Error::new(ErrorKind::LoginRequired, ""),
            &state.web.prefix,
        ));
    }
    let repos = repo::list_visible(&state.svc, &perms)
        .await
        .map_err(web_err(&state))?;
    let groups = kallithea_core::group::list_visible(&state.svc, &perms)
        .await
        .map_err(web_err(&state))?;
    // `dashboard_items` repositories per page (`/_admin/settings/visual`).
    let per_page = kallithea_core::site::current(&state.svc)
        .dashboard_items
        .max(1) as usize;
    let pages = repos.len().div_ceil(per_page).max(1);
    let page_no = q
        .page
        .as_deref()
        .and_then(|p| p.trim().parse::<usize>().ok())
        .unwrap_or(1)
        .clamp(1, pages);
    let repos: Vec<_> = repos
        .into_iter()
        .skip((page_no - 1) * per_page)
        .take(per_page)
        .collect();
    let page = HomePage {
        page: page_no,
        pages,
        layout: layout(&state, &v),
        groups: groups
            .into_iter()
            .filter(|(g, _)| g.parent_id.is_none())
            .map(|(g, _)| crate::view::GroupItem {
                name: g.name,
                description: g.description,
                owner: g.owner_name,
            })
            .collect(),
        can_create: perms.can_create_repo(),
        repos: repos
            .into_iter()
            .map(|(r, _)| RepoItem {
                last_change: view::age(r.last_change),
                name: r.name,
                description: r.description,
                private: r.private,
                owner: r.owner_name,
            })
            .collect(),
    };
    Ok(render(&page).into_response())
}

#[derive(Deserialize, Default)]
pub struct CameFrom {
    #[serde(default)]
    came_from: String,
}

/// Only local paths are accepted as `came_from`, so sign-in cannot redirect elsewhere.
fn safe_came_from(state: &AppState, raw: &str) -> String {
    let home = format!("{}/", state.web.prefix);
    if raw.starts_with('/')
        && !raw.starts_with("//")
        && !raw.contains('\\')
        && !raw.chars().any(char::is_control)
    {
        raw.to_owned()
    } else {
        home
    }
}

/// GET /_admin/login
pub async fn login_form(
    State(state): State<AppState>,
    mut v: Visitor,
    Query(q): Query<CameFrom>,
) -> Result<Response, WebError> {
    let came_from = safe_came_from(&state, &q.came_from);
    if v.user.is_some() {
        return Ok(Redirect::to(&came_from).into_response());
    }
    let cookie = ensure_session(&state, &mut v).await?;
    let page = LoginPage {
        layout: layout(&state, &v),
        came_from,
        username: String::new(),
        error: None,
    };
    Ok(with_cookie(cookie, render(&page)))
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

/// POST /_admin/login — checks the password, then starts a new session for the user.
pub async fn login(
    State(state): State<AppState>,
    v: Visitor,
    Query(q): Query<CameFrom>,
    Form(f): Form<LoginForm>,
) -> Result<Response, WebError> {
    let came_from = safe_came_from(&state, &q.came_from);
    match user::authenticate_password(
        &state.svc,
        f.username.trim(),
        &f.password,
        &v.client.addr.to_string(),
    )
    .await
    {
        Ok(u)
            if !kallithea_core::account::ip_allowed(&state.svc, u.id, v.client.addr)
                .await
                .map_err(web_err(&state))? =>
        {
            let page = LoginPage {
                layout: layout(&state, &v),
                came_from,
                username: f.username,
                error: Some(format!(
                    "The account {} may not be used from the address {}.",
                    u.username, v.client.addr
                )),
            };
            Ok((StatusCode::FORBIDDEN, render(&page)).into_response())
        }
        Ok(u) => {
            let old = v.session.as_ref().map(|s| s.cookie.clone());
            let s = session::rotate(&state.svc, old.as_deref(), Some(u.id))
                .await
                .map_err(web_err(&state))?;
            user::record_login(&state.svc, u.id)
                .await
                .map_err(web_err(&state))?;
            let cookie = session_cookie(&state, v.client.https, &s.cookie, None);
            Ok(with_cookie(Some(cookie), Redirect::to(&came_from)))
        }
        Err(e) if matches!(e.kind, ErrorKind::AuthFailed | ErrorKind::Throttled) => {
            let status = crate::error::status_of(e.kind);
            let page = LoginPage {
                layout: layout(&state, &v),
                came_from,
                username: f.username,
                error: Some(e.message),
            };
            Ok((status, render(&page)).into_response())
        }
        Err(e) => Err(web_err(&state)(e)),
    }
}

/// GET /_admin/logout — a page with the sign-out button (signing out is a POST, so other
/// sites cannot sign people out).
pub async fn logout_form(State(state): State<AppState>, v: Visitor) -> Response {
    let page = crate::view::LogoutPage {
        layout: layout(&state, &v),
    };
    render(&page).into_response()
}

/// POST /_admin/logout — ends the session.
pub async fn logout(State(state): State<AppState>, v: Visitor) -> Result<Response, WebError> {
    if let Some(s) = &v.session {
        session::end(&state.svc, &s.cookie)
            .await
            .map_err(web_err(&state))?;
    }
    let cookie = session_cookie(&state, v.client.https, "", Some(0));
    Ok(with_cookie(
        Some(cookie),
        Redirect::to(&format!("{}/", state.web.prefix)),
    ))
}

/// GET /_admin/session_csrf_secret_token — the session's CSRF token as text, for scripts.
pub async fn csrf_token(
    State(state): State<AppState>,
    mut v: Visitor,
) -> Result<Response, WebError> {
    let cookie = ensure_session(&state, &mut v).await?;
    Ok(with_cookie(
        cookie,
        (
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            v.csrf_token(),
        ),
    ))
}

pub(crate) fn require_user(state: &AppState, v: &Visitor, path: &str) -> Result<(), WebError> {
    if v.user.is_none() {
        return Err(
            WebError::new(Error::new(ErrorKind::LoginRequired, ""), &state.web.prefix)
                .came_from(&format!("{}{path}", state.web.prefix)),
        );
    }
    Ok(())
}

/// GET /_admin/create_repository
/// Where the actor may create a repository: the top level with `hg.create.repository`, and
/// groups where they hold write.
pub(crate) async fn repo_places(
    state: &AppState,
    perms: &Permissions,
) -> Result<Vec<crate::view::ParentChoice>, WebError> {
    let mut out = Vec::new();
    if perms.can_create_repo() {
        out.push(crate::view::ParentChoice {
            id: -1,
            name: "(top level)".into(),
        });
    }
    for (g, l) in kallithea_core::group::list_visible(&state.svc, perms)
        .await
        .map_err(web_err(state))?
    {
        if l.can_write() {
            out.push(crate::view::ParentChoice {
                id: g.id.0,
                name: g.name,
            });
        }
    }
    Ok(out)
}

#[derive(Deserialize, Default)]
pub struct CreateQuery {
    #[serde(default)]
    parent_group: Option<String>,
}

pub async fn create_repo_form(
    State(state): State<AppState>,
    v: Visitor,
    Query(q): Query<CreateQuery>,
) -> Result<Response, WebError> {
    require_user(&state, &v, "/_admin/create_repository")?;
    let perms = Permissions::load(&state.svc, &v.actor)
        .await
        .map_err(web_err(&state))?;
    let groups = repo_places(&state, &perms).await?;
    if groups.is_empty() {
        return Err(web_err(&state)(Error::forbidden(
            "You do not have permission to create repositories.",
        )));
    }
    let page = CreateRepoPage {
        layout: layout(&state, &v),
        repo_group: q
            .parent_group
            .as_deref()
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or(groups[0].id),
        groups,
        repo_name: String::new(),
        repo_description: String::new(),
        repo_private: false,
        repo_landing_rev: "rev:tip".into(),
        clone_uri: String::new(),
        error: None,
    };
    Ok(render(&page).into_response())
}

/// GET /_admin/repos — Kallithea's admin list; ours is the home page.
pub async fn repos_index(State(state): State<AppState>) -> Redirect {
    Redirect::to(&format!("{}/", state.web.prefix))
}

#[derive(Deserialize, Default)]
pub struct CreateRepoFields {
    #[serde(default)]
    repo_name: String,
    #[serde(default)]
    repo_type: String,
    #[serde(default)]
    repo_description: String,
    #[serde(default)]
    repo_private: Option<String>,
    #[serde(default)]
    repo_group: String,
    #[serde(default)]
    repo_landing_rev: String,
    #[serde(default)]
    clone_uri: String,
}

pub(crate) fn checked(v: &Option<String>) -> bool {
    v.as_deref()
        .is_some_and(|s| matches!(s.to_ascii_lowercase().as_str(), "true" | "on" | "1" | "yes"))
}

/// POST /_admin/repos — creates a repository from Kallithea's form fields.
pub async fn create_repo(
    State(state): State<AppState>,
    v: Visitor,
    Form(f): Form<CreateRepoFields>,
) -> Result<Response, WebError> {
    require_user(&state, &v, "/_admin/create_repository")?;
    let perms = Permissions::load(&state.svc, &v.actor)
        .await
        .map_err(web_err(&state))?;
    let form = CreateForm {
        repo_name: f.repo_name.clone(),
        repo_type: f.repo_type,
        repo_description: f.repo_description.clone(),
        repo_private: checked(&f.repo_private),
        repo_group: f.repo_group,
        repo_landing_rev: f.repo_landing_rev.clone(),
        clone_uri: f.clone_uri.clone(),
    };
    // Finish even if the client goes away, so no half-made repository is left behind.
    let (svc, task_form) = (state.svc.clone(), form.clone());
    let created = tokio::spawn(async move { repo::create(&svc, &perms, &task_form).await })
        .await
        .map_err(|e| web_err(&state)(Error::internal("creating a repository", e)))?;
    match created {
        Ok(r) => Ok(Redirect::to(&format!("{}/{}", state.web.prefix, r.name)).into_response()),
        Err(e) if matches!(e.kind, ErrorKind::InvalidInput | ErrorKind::NameTaken) => {
            let perms = Permissions::load(&state.svc, &v.actor)
                .await
                .map_err(web_err(&state))?;
            let page = CreateRepoPage {
                layout: layout(&state, &v),
                groups: repo_places(&state, &perms).await?,
                repo_group: form.repo_group.trim().parse().unwrap_or(-1),
                repo_name: f.repo_name,
                repo_description: f.repo_description,
                repo_private: form.repo_private,
                repo_landing_rev: f.repo_landing_rev,
                // Never echo a password back into the page.
                clone_uri: repo::redact_url(&f.clone_uri),
                error: Some(e.message.clone()),
            };
            Ok((crate::error::status_of(e.kind), render(&page)).into_response())
        }
        Err(e) => Err(web_err(&state)(e)),
    }
}

/// GET /_admin/static/style.css
pub async fn stylesheet(_h: HeaderMap) -> Response {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../static/style.css"),
    )
        .into_response()
}

fn new_user_page(
    state: &AppState,
    v: &Visitor,
    f: NewUserFields,
    error: Option<String>,
    notice: Option<String>,
) -> crate::view::NewUserPage {
    crate::view::NewUserPage {
        layout: layout(state, v),
        username: f.username,
        email: f.email,
        firstname: f.firstname,
        lastname: f.lastname,
        error,
        notice,
    }
}

/// GET /_admin/users/new
pub async fn new_user_form(
    State(state): State<AppState>,
    v: Visitor,
) -> Result<Response, WebError> {
    require_user(&state, &v, "/_admin/users/new")?;
    if !v.actor.is_admin() {
        return Err(web_err(&state)(Error::forbidden(
            "Only site administrators can add users.",
        )));
    }
    Ok(render(&new_user_page(
        &state,
        &v,
        NewUserFields::default(),
        None,
        None,
    ))
    .into_response())
}

#[derive(Deserialize, Default)]
pub struct NewUserFields {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirmation: String,
    #[serde(default)]
    firstname: String,
    #[serde(default)]
    lastname: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    active: Option<String>,
    #[serde(default)]
    admin: Option<String>,
}

/// POST /_admin/users — an admin adds an account (Kallithea's field names).
pub async fn create_user(
    State(state): State<AppState>,
    v: Visitor,
    Form(f): Form<NewUserFields>,
) -> Result<Response, WebError> {
    require_user(&state, &v, "/_admin/users/new")?;
    if !v.actor.is_admin() {
        return Err(web_err(&state)(Error::forbidden(
            "Only site administrators can add users.",
        )));
    }
    if f.password != f.password_confirmation {
        let page = new_user_page(
            &state,
            &v,
            f,
            Some("The two passwords do not match.".into()),
            None,
        );
        return Ok((StatusCode::BAD_REQUEST, render(&page)).into_response());
    }
    let account = user::NewAccount {
        username: f.username.trim(),
        password: &f.password,
        email: f.email.trim(),
        firstname: f.firstname.trim(),
        lastname: f.lastname.trim(),
        admin: checked(&f.admin),
        active: checked(&f.active),
    };
    match user::admin_create(&state.svc, &v.actor, &account).await {
        Ok(_) => {
            let notice = format!("User {} was added.", f.username.trim());
            Ok(render(&new_user_page(
                &state,
                &v,
                NewUserFields::default(),
                None,
                Some(notice),
            ))
            .into_response())
        }
        Err(e) if matches!(e.kind, ErrorKind::InvalidInput | ErrorKind::NameTaken) => {
            let status = crate::error::status_of(e.kind);
            Ok((
                status,
                render(&new_user_page(&state, &v, f, Some(e.message), None)),
            )
                .into_response())
        }
        Err(e) => Err(web_err(&state)(e)),
    }
}

/// GET /_admin/my_account/password
pub async fn password_form(
    State(state): State<AppState>,
    v: Visitor,
) -> Result<Response, WebError> {
    require_user(&state, &v, "/_admin/my_account/password")?;
    let page = crate::view::PasswordPage {
        layout: layout(&state, &v),
        error: None,
        notice: None,
    };
    Ok(render(&page).into_response())
}

#[derive(Deserialize)]
pub struct PasswordFields {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    new_password_confirmation: String,
}

/// POST /_admin/my_account/password — Kallithea's field names; other sessions end.
pub async fn change_password(
    State(state): State<AppState>,
    v: Visitor,
    Form(f): Form<PasswordFields>,
) -> Result<Response, WebError> {
    require_user(&state, &v, "/_admin/my_account/password")?;
    let (Some(user), Some(session)) = (&v.user, &v.session) else {
        return Err(web_err(&state)(Error::new(ErrorKind::LoginRequired, "")));
    };
    let result = user::change_password(
        &state.svc,
        user,
        &f.current_password,
        &f.new_password,
        &f.new_password_confirmation,
        &session.cookie,
        &v.client.addr.to_string(),
    )
    .await;
    let (status, error, notice) = match result {
        Ok(()) => (
            StatusCode::OK,
            None,
            Some("Your password was changed. Other sessions were signed out.".to_owned()),
        ),
        Err(e) if e.kind == ErrorKind::Internal => return Err(web_err(&state)(e)),
        Err(e) => (crate::error::status_of(e.kind), Some(e.message), None),
    };
    let page = crate::view::PasswordPage {
        layout: layout(&state, &v),
        error,
        notice,
    };
    Ok((status, render(&page)).into_response())
}

/// GET /_admin/static/highlight.css — colours for highlighted code.
pub async fn highlight_css() -> Response {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        crate::highlight::stylesheet(),
    )
        .into_response()
}

/// GET /_admin/static/kallithea.js — the little JavaScript the pages use (line selection).
pub async fn script() -> Response {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../static/kallithea.js"),
    )
        .into_response()
}
