//! Site administration of accounts: `/_admin/users` (list), `/_admin/users/{id}/edit`,
//! `POST /_admin/users/{id}` (save) and `POST /_admin/users/{id}/delete`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use kallithea_core::user::{self, AccountEdit, UserRow as Account};
use kallithea_core::{Error, ErrorKind};
use kallithea_model::UserId;
use serde::Deserialize;

use crate::form::Form;
use crate::pages::{checked, layout, require_user, web_err};
use crate::view::{self, UserEditPage, UserRow, UsersPage, render};
use crate::visitor::Visitor;
use crate::{AppState, WebError};

fn parse_id(state: &AppState, raw: &str) -> Result<UserId, WebError> {
    raw.parse::<i64>().map(UserId).map_err(|_| {
        web_err(state)(Error::not_found(format!(
            "There is no user with id \"{raw}\"."
        )))
    })
}

/// GET /_admin/users
pub async fn index(State(state): State<AppState>, v: Visitor) -> Result<Response, WebError> {
    require_user(&state, &v, "/_admin/users")?;
    let users = user::list_accounts(&state.svc, &v.actor)
        .await
        .map_err(web_err(&state))?;
    let page = UsersPage {
        layout: layout(&state, &v),
        users: users
            .into_iter()
            .map(|u| UserRow {
                id: u.id.0,
                name: format!("{} {}", u.firstname, u.lastname).trim().to_owned(),
                username: u.username,
                email: u.email,
                active: u.active,
                admin: u.admin,
                last_login: u
                    .last_login
                    .map(view::age)
                    .unwrap_or_else(|| "never".into()),
            })
            .collect(),
    };
    Ok(render(&page).into_response())
}

async fn edit_page(
    state: &AppState,
    v: &Visitor,
    u: &Account,
    error: Option<String>,
    notice: Option<String>,
) -> Result<UserEditPage, WebError> {
    let global = kallithea_core::defaults::user_global(&state.svc, &v.actor, u.id)
        .await
        .map_err(web_err(state))?;
    Ok(UserEditPage {
        create_repo: global.create_repo,
        create_user_group: global.create_user_group,
        fork: global.fork,
        layout: layout(state, v),
        id: u.id.0,
        username: u.username.clone(),
        firstname: u.firstname.clone(),
        lastname: u.lastname.clone(),
        email: u.email.clone(),
        active: u.active,
        admin: u.admin,
        error,
        notice,
    })
}

/// GET /_admin/users/{id}/edit
pub async fn edit(
    State(state): State<AppState>,
    v: Visitor,
    Path(raw): Path<String>,
) -> Result<Response, WebError> {
    require_user(&state, &v, "/_admin/users")?;
    let id = parse_id(&state, &raw)?;
    let u = user::account(&state.svc, &v.actor, id)
        .await
        .map_err(web_err(&state))?;
    Ok(render(&edit_page(&state, &v, &u, None, None).await?).into_response())
}

#[derive(Deserialize, Default)]
pub struct EditFields {
    #[serde(default)]
    firstname: String,
    #[serde(default)]
    lastname: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    active: Option<String>,
    #[serde(default)]
    admin: Option<String>,
}

/// POST /_admin/users/{id}
pub async fn update(
    State(state): State<AppState>,
    v: Visitor,
    Path(raw): Path<String>,
    Form(f): Form<EditFields>,
) -> Result<Response, WebError> {
    require_user(&state, &v, "/_admin/users")?;
    let id = parse_id(&state, &raw)?;
    let edit = AccountEdit {
        email: f.email.trim(),
        firstname: f.firstname.trim(),
        lastname: f.lastname.trim(),
        active: checked(&f.active),
        admin: checked(&f.admin),
        password: Some(f.password.as_str()).filter(|p| !p.is_empty()),
    };
    let result = user::admin_update(&state.svc, &v.actor, id, &edit).await;
    let u = user::account(&state.svc, &v.actor, id)
        .await
        .map_err(web_err(&state))?;
    match result {
        Ok(()) => Ok(
            render(&edit_page(&state, &v, &u, None, Some("Saved.".into())).await?).into_response(),
        ),
        Err(e) if matches!(e.kind, ErrorKind::InvalidInput | ErrorKind::NameTaken) => Ok((
            StatusCode::BAD_REQUEST,
            render(&edit_page(&state, &v, &u, Some(e.message), None).await?),
        )
            .into_response()),
        Err(e) => Err(web_err(&state)(e)),
    }
}

#[derive(Deserialize, Default)]
pub struct DeleteFields {
    #[serde(default)]
    user_repos: String,
}

/// POST /_admin/users/{id}/delete — `user_repos=detach` gives their repositories to the admin.
pub async fn delete(
    State(state): State<AppState>,
    v: Visitor,
    Path(raw): Path<String>,
    Form(f): Form<DeleteFields>,
) -> Result<Response, WebError> {
    require_user(&state, &v, "/_admin/users")?;
    let id = parse_id(&state, &raw)?;
    match user::admin_delete(&state.svc, &v.actor, id, f.user_repos == "detach").await {
        Ok(()) => Ok(Redirect::to(&format!("{}/_admin/users", state.web.prefix)).into_response()),
        Err(e) if e.kind == ErrorKind::InvalidInput => {
            let u = user::account(&state.svc, &v.actor, id)
                .await
                .map_err(web_err(&state))?;
            Ok((
                StatusCode::BAD_REQUEST,
                render(&edit_page(&state, &v, &u, Some(e.message), None).await?),
            )
                .into_response())
        }
        Err(e) => Err(web_err(&state)(e)),
    }
}

fn label(field: &str) -> &'static str {
    match field {
        "default_repo_perm" => "Default repository permission",
        "default_group_perm" => "Default repository group permission",
        "default_user_group_perm" => "Default user group permission",
        "default_repo_create" => "Creating top-level repositories",
        "default_user_group_create" => "Creating user groups",
        "default_fork" => "Forking repositories",
        "default_register" => "Registration",
        "default_extern_activate" => "Accounts from external sign-in",
        _ => "",
    }
}

async fn permissions_page(
    state: &AppState,
    v: &Visitor,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Response, WebError> {
    let d = kallithea_core::defaults::load(&state.svc, &v.actor)
        .await
        .map_err(web_err(state))?;
    let page = view::PermissionsPage {
        layout: layout(state, v),
        anonymous: d.anonymous,
        settings: kallithea_core::defaults::SETTINGS
            .iter()
            .map(|s| view::DefaultSetting {
                field: s.field,
                label: label(s.field),
                choices: s.choices.iter().map(|c| (*c).to_owned()).collect(),
                value: d
                    .values
                    .iter()
                    .find(|(f, _)| *f == s.field)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default(),
            })
            .collect(),
        notice,
        error: error.clone(),
    };
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    Ok((status, render(&page)).into_response())
}

/// GET /_admin/permissions
pub async fn permissions(State(state): State<AppState>, v: Visitor) -> Result<Response, WebError> {
    require_user(&state, &v, "/_admin/permissions")?;
    permissions_page(&state, &v, None, None).await
}

/// POST /_admin/permissions — Kallithea's field names.
pub async fn save_permissions(
    State(state): State<AppState>,
    v: Visitor,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    require_user(&state, &v, "/_admin/permissions")?;
    let get = |k: &str| fields.iter().find(|(f, _)| f == k).map(|(_, v)| v.clone());
    let change = kallithea_core::defaults::Change {
        anonymous: checked(&get("anonymous")),
        overwrite_default_repo: checked(&get("overwrite_default_repo")),
        overwrite_default_group: checked(&get("overwrite_default_group")),
        overwrite_default_user_group: checked(&get("overwrite_default_user_group")),
        values: fields.clone(),
    };
    match kallithea_core::defaults::save(&state.svc, &v.actor, &change).await {
        Ok(()) => {
            permissions_page(&state, &v, None, Some("Default permissions saved.".into())).await
        }
        Err(e) if e.kind == ErrorKind::InvalidInput => {
            permissions_page(&state, &v, Some(e.message), None).await
        }
        Err(e) => Err(web_err(&state)(e)),
    }
}

/// POST /_admin/users/{id}/edit/permissions — global permissions on top of the defaults
/// (`create_repo_perm`, `create_user_group_perm`, `fork_repo_perm` checkboxes).
pub async fn save_global(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    v: Visitor,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    require_user(&state, &v, &format!("/_admin/users/{raw}/edit"))?;
    let id = parse_id(&state, &raw)?;
    let get = |k: &str| fields.iter().find(|(f, _)| f == k).map(|(_, v)| v.clone());
    let g = kallithea_core::defaults::UserGlobal {
        create_repo: checked(&get("create_repo_perm")),
        create_user_group: checked(&get("create_user_group_perm")),
        fork: checked(&get("fork_repo_perm")),
    };
    kallithea_core::defaults::set_user_global(&state.svc, &v.actor, id, g)
        .await
        .map_err(web_err(&state))?;
    let u = user::account(&state.svc, &v.actor, id)
        .await
        .map_err(web_err(&state))?;
    Ok(
        render(&edit_page(&state, &v, &u, None, Some("Permissions saved.".into())).await?)
            .into_response(),
    )
}
