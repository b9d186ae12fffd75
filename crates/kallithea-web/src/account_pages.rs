//! `/_admin/my_account` (profile, email addresses, API keys; the password page is in `pages`)
//! and the IP allow-lists admins keep at `/_admin/users/{id}/edit/ips` and
//! `/_admin/permissions/ips`. Kallithea's paths and field names.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use kallithea_core::user::UserRow;
use kallithea_core::{Error, ErrorKind, account, user};
use kallithea_model::UserId;

use crate::form::Form;
use crate::pages::{layout, require_user, web_err};
use crate::view::{ApiKeyItem, ApiKeysPage, EmailsPage, IpsPage, ProfilePage, render};
use crate::visitor::Visitor;
use crate::{AppState, WebError};

type Fields = Vec<(String, String)>;

fn field(f: &Fields, name: &str) -> String {
    f.iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

fn me<'a>(state: &AppState, v: &'a Visitor, path: &str) -> Result<&'a UserRow, WebError> {
    require_user(state, v, path)?;
    v.user
        .as_ref()
        .ok_or_else(|| web_err(state)(Error::new(ErrorKind::LoginRequired, "")))
}

/// A refusal a form shows: its status (400, or 409 for a taken name) and sentence.
type Problem = (StatusCode, String);

/// A refusal the form can show (bad input, taken name), or an error page.
fn shown(e: Error) -> Result<Problem, Error> {
    if matches!(e.kind, ErrorKind::InvalidInput | ErrorKind::NameTaken) {
        Ok((crate::error::status_of(e.kind), e.message))
    } else {
        Err(e)
    }
}

fn status(error: &Option<Problem>) -> StatusCode {
    error.as_ref().map_or(StatusCode::OK, |(s, _)| *s)
}

fn message(error: &Option<Problem>) -> Option<String> {
    error.as_ref().map(|(_, m)| m.clone())
}

async fn profile_page(
    state: &AppState,
    v: &Visitor,
    error: Option<Problem>,
    notice: Option<String>,
) -> Result<Response, WebError> {
    let u = me(state, v, "/_admin/my_account")?;
    // Show what is saved now (the visitor was loaded before a save).
    let u = user::get(&state.svc, u.id)
        .await
        .map_err(web_err(state))?
        .unwrap_or_else(|| u.clone());
    let page = ProfilePage {
        layout: layout(state, v),
        username: u.username,
        firstname: u.firstname,
        lastname: u.lastname,
        email: u.email,
        error: message(&error),
        notice,
    };
    Ok((status(&error), render(&page)).into_response())
}

/// GET /_admin/my_account
pub async fn profile(State(state): State<AppState>, v: Visitor) -> Result<Response, WebError> {
    profile_page(&state, &v, None, None).await
}

/// POST /_admin/my_account — `firstname`, `lastname`, `email`.
pub async fn save_profile(
    State(state): State<AppState>,
    v: Visitor,
    Form(f): Form<Fields>,
) -> Result<Response, WebError> {
    let u = me(&state, &v, "/_admin/my_account")?;
    let r = account::update_profile(
        &state.svc,
        u,
        &field(&f, "firstname"),
        &field(&f, "lastname"),
        &field(&f, "email"),
    )
    .await;
    match r {
        Ok(()) => profile_page(&state, &v, None, Some("Your account was saved.".into())).await,
        Err(e) => {
            let msg = shown(e).map_err(web_err(&state))?;
            profile_page(&state, &v, Some(msg), None).await
        }
    }
}

async fn emails_page(
    state: &AppState,
    v: &Visitor,
    error: Option<Problem>,
    notice: Option<String>,
) -> Result<Response, WebError> {
    let u = me(state, v, "/_admin/my_account/emails")?;
    let emails = account::emails(&state.svc, u.id)
        .await
        .map_err(web_err(state))?;
    let page = EmailsPage {
        layout: layout(state, v),
        main: u.email.clone(),
        emails,
        error: message(&error),
        notice,
    };
    Ok((status(&error), render(&page)).into_response())
}

/// GET /_admin/my_account/emails
pub async fn emails(State(state): State<AppState>, v: Visitor) -> Result<Response, WebError> {
    emails_page(&state, &v, None, None).await
}

/// POST /_admin/my_account/emails — `new_email`.
pub async fn add_email(
    State(state): State<AppState>,
    v: Visitor,
    Form(f): Form<Fields>,
) -> Result<Response, WebError> {
    let u = me(&state, &v, "/_admin/my_account/emails")?;
    match account::add_email(&state.svc, u.id, &field(&f, "new_email")).await {
        Ok(()) => emails_page(&state, &v, None, Some("Address added.".into())).await,
        Err(e) => {
            let msg = shown(e).map_err(web_err(&state))?;
            emails_page(&state, &v, Some(msg), None).await
        }
    }
}

/// POST /_admin/my_account/emails/delete — `del_email_id`.
pub async fn delete_email(
    State(state): State<AppState>,
    v: Visitor,
    Form(f): Form<Fields>,
) -> Result<Response, WebError> {
    let u = me(&state, &v, "/_admin/my_account/emails")?;
    match account::delete_email(&state.svc, u.id, &field(&f, "del_email_id")).await {
        Ok(()) => emails_page(&state, &v, None, Some("Address removed.".into())).await,
        Err(e) => {
            let msg = shown(e).map_err(web_err(&state))?;
            emails_page(&state, &v, Some(msg), None).await
        }
    }
}

fn expiry(t: i64) -> String {
    if t == -1 {
        return "never".into();
    }
    let when = chrono::DateTime::from_timestamp(t, 0)
        .map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default();
    if t <= kallithea_core::now() {
        format!("expired {when}")
    } else {
        when
    }
}

/// Whose keys a page shows: one's own (`None`) or, for admins, a user's.
async fn key_owner(
    state: &AppState,
    v: &Visitor,
    user: Option<&str>,
) -> Result<(UserRow, Option<String>, String), WebError> {
    match user {
        None => {
            let u = me(state, v, "/_admin/my_account/api_keys")?;
            let fresh = user::get(&state.svc, u.id)
                .await
                .map_err(web_err(state))?
                .unwrap_or_else(|| u.clone());
            Ok((
                fresh,
                None,
                format!("{}/_admin/my_account/api_keys", state.web.prefix),
            ))
        }
        Some(raw) => {
            require_user(state, v, &format!("/_admin/users/{raw}/edit/api_keys"))?;
            let id = raw.parse::<i64>().map(UserId).map_err(|_| {
                web_err(state)(Error::not_found(format!(
                    "There is no user with id \"{raw}\"."
                )))
            })?;
            let u = user::account(&state.svc, &v.actor, id)
                .await
                .map_err(web_err(state))?;
            let name = u.username.clone();
            Ok((
                u,
                Some(name),
                format!("{}/_admin/users/{raw}/edit/api_keys", state.web.prefix),
            ))
        }
    }
}

async fn keys_page(
    state: &AppState,
    v: &Visitor,
    user: Option<&str>,
    error: Option<Problem>,
    notice: Option<String>,
) -> Result<Response, WebError> {
    let (owner, whose, action) = key_owner(state, v, user).await?;
    let keys = account::api_keys(&state.svc, owner.id)
        .await
        .map_err(web_err(state))?;
    let page = ApiKeysPage {
        layout: layout(state, v),
        whose,
        action,
        api_key: owner.api_key,
        keys: keys
            .into_iter()
            .map(|k| ApiKeyItem {
                key: k.api_key,
                description: k.description,
                expires: expiry(k.expires),
            })
            .collect(),
        lifetimes: account::LIFETIMES.to_vec(),
        error: message(&error),
        notice,
    };
    Ok((
        status(&error),
        [(header::CACHE_CONTROL, "no-store")],
        axum::Extension(crate::compress::KeepUncompressed),
        render(&page),
    )
        .into_response())
}

async fn keys_add(
    state: &AppState,
    v: &Visitor,
    user: Option<&str>,
    f: &Fields,
) -> Result<Response, WebError> {
    let (owner, _, action) = key_owner(state, v, user).await?;
    let lifetime = match field(f, "lifetime") {
        l if l.trim().is_empty() => "-1".to_owned(),
        l => l,
    };
    match account::add_api_key(&state.svc, owner.id, &field(f, "description"), &lifetime).await {
        Ok(_) => Ok(Redirect::to(&action).into_response()),
        Err(e) => {
            let msg = shown(e).map_err(web_err(state))?;
            keys_page(state, v, user, Some(msg), None).await
        }
    }
}

async fn keys_delete(
    state: &AppState,
    v: &Visitor,
    user: Option<&str>,
    f: &Fields,
) -> Result<Response, WebError> {
    let (owner, _, action) = key_owner(state, v, user).await?;
    let result = if !field(f, "del_api_key_builtin").is_empty() {
        user::reset_api_key(&state.svc, owner.id).await.map(|_| ())
    } else {
        account::delete_api_key(&state.svc, owner.id, &field(f, "del_api_key")).await
    };
    match result {
        Ok(()) => Ok(Redirect::to(&action).into_response()),
        Err(e) => {
            let msg = shown(e).map_err(web_err(state))?;
            keys_page(state, v, user, Some(msg), None).await
        }
    }
}

/// GET /_admin/users/{id}/edit/api_keys
pub async fn user_api_keys(
    State(state): State<AppState>,
    Path(id): Path<String>,
    v: Visitor,
) -> Result<Response, WebError> {
    keys_page(&state, &v, Some(&id), None, None).await
}

/// POST /_admin/users/{id}/edit/api_keys
pub async fn add_user_api_key(
    State(state): State<AppState>,
    Path(id): Path<String>,
    v: Visitor,
    Form(f): Form<Fields>,
) -> Result<Response, WebError> {
    keys_add(&state, &v, Some(&id), &f).await
}

/// POST /_admin/users/{id}/edit/api_keys/delete
pub async fn delete_user_api_key(
    State(state): State<AppState>,
    Path(id): Path<String>,
    v: Visitor,
    Form(f): Form<Fields>,
) -> Result<Response, WebError> {
    keys_delete(&state, &v, Some(&id), &f).await
}

/// GET /_admin/my_account/api_keys
pub async fn api_keys(State(state): State<AppState>, v: Visitor) -> Result<Response, WebError> {
    keys_page(&state, &v, None, None, None).await
}

/// POST /_admin/my_account/api_keys — a new key with `description` and `lifetime` (minutes,
/// -1 for never).
pub async fn add_api_key(
    State(state): State<AppState>,
    v: Visitor,
    Form(f): Form<Fields>,
) -> Result<Response, WebError> {
    keys_add(&state, &v, None, &f).await
}

/// POST /_admin/my_account/api_keys/delete — `del_api_key`, or `del_api_key_builtin` to
/// replace the main key.
pub async fn delete_api_key(
    State(state): State<AppState>,
    v: Visitor,
    Form(f): Form<Fields>,
) -> Result<Response, WebError> {
    keys_delete(&state, &v, None, &f).await
}

/// Whose allow-list a URL names: a user (by id) or everyone.
async fn ip_list_of(
    state: &AppState,
    v: &Visitor,
    id: Option<&str>,
) -> Result<(Option<UserId>, String, String), WebError> {
    match id {
        None => {
            require_user(state, v, "/_admin/permissions/ips")?;
            Ok((
                None,
                "everyone".into(),
                format!("{}/_admin/permissions/ips", state.web.prefix),
            ))
        }
        Some(raw) => {
            require_user(state, v, &format!("/_admin/users/{raw}/edit/ips"))?;
            let uid = raw.parse::<i64>().map(UserId).map_err(|_| {
                web_err(state)(Error::not_found(format!(
                    "There is no user with id \"{raw}\"."
                )))
            })?;
            let u = user::account(&state.svc, &v.actor, uid)
                .await
                .map_err(web_err(state))?;
            Ok((
                Some(uid),
                u.username,
                format!("{}/_admin/users/{raw}/edit/ips", state.web.prefix),
            ))
        }
    }
}

async fn ips_page(
    state: &AppState,
    v: &Visitor,
    id: Option<&str>,
    error: Option<Problem>,
    notice: Option<String>,
) -> Result<Response, WebError> {
    let (uid, whose, action) = ip_list_of(state, v, id).await?;
    let ips = account::ips(&state.svc, &v.actor, uid)
        .await
        .map_err(web_err(state))?;
    let page = IpsPage {
        layout: layout(state, v),
        whose,
        global: uid.is_none(),
        action,
        ips,
        error: message(&error),
        notice,
    };
    Ok((status(&error), render(&page)).into_response())
}

async fn ips_change(
    state: &AppState,
    v: &Visitor,
    id: Option<&str>,
    f: &Fields,
    delete: bool,
) -> Result<Response, WebError> {
    let (uid, _, _) = ip_list_of(state, v, id).await?;
    let r = if delete {
        account::delete_ip(&state.svc, &v.actor, uid, &field(f, "del_ip_id")).await
    } else {
        account::add_ip(&state.svc, &v.actor, uid, &field(f, "new_ip")).await
    };
    match r {
        Ok(()) => ips_page(state, v, id, None, Some("The list was saved.".into())).await,
        Err(e) => {
            let msg = shown(e).map_err(web_err(state))?;
            ips_page(state, v, id, Some(msg), None).await
        }
    }
}

/// GET /_admin/users/{id}/edit/ips
pub async fn user_ips(
    State(state): State<AppState>,
    Path(id): Path<String>,
    v: Visitor,
) -> Result<Response, WebError> {
    ips_page(&state, &v, Some(&id), None, None).await
}

/// POST /_admin/users/{id}/edit/ips — `new_ip`.
pub async fn add_user_ip(
    State(state): State<AppState>,
    Path(id): Path<String>,
    v: Visitor,
    Form(f): Form<Fields>,
) -> Result<Response, WebError> {
    ips_change(&state, &v, Some(&id), &f, false).await
}

/// POST /_admin/users/{id}/edit/ips/delete — `del_ip_id`.
pub async fn delete_user_ip(
    State(state): State<AppState>,
    Path(id): Path<String>,
    v: Visitor,
    Form(f): Form<Fields>,
) -> Result<Response, WebError> {
    ips_change(&state, &v, Some(&id), &f, true).await
}

/// GET /_admin/permissions/ips — the list for everyone.
pub async fn global_ips(State(state): State<AppState>, v: Visitor) -> Result<Response, WebError> {
    ips_page(&state, &v, None, None, None).await
}

/// POST /_admin/permissions/ips
pub async fn add_global_ip(
    State(state): State<AppState>,
    v: Visitor,
    Form(f): Form<Fields>,
) -> Result<Response, WebError> {
    ips_change(&state, &v, None, &f, false).await
}

/// POST /_admin/permissions/ips/delete
pub async fn delete_global_ip(
    State(state): State<AppState>,
    v: Visitor,
    Form(f): Form<Fields>,
) -> Result<Response, WebError> {
    ips_change(&state, &v, None, &f, true).await
}

async fn ssh_page(
    state: &AppState,
    v: &Visitor,
    error: Option<Problem>,
    notice: Option<String>,
) -> Result<Response, WebError> {
    let u = me(state, v, "/_admin/my_account/ssh_keys")?;
    let keys = kallithea_core::ssh_key::list(&state.svc, u.id)
        .await
        .map_err(web_err(state))?;
    let page = crate::view::SshKeysPage {
        layout: layout(state, v),
        keys: keys
            .into_iter()
            .map(|k| crate::view::SshKeyItem {
                fingerprint: k.fingerprint,
                key_type: k.key_type,
                description: k.description,
            })
            .collect(),
        error: message(&error),
        notice,
    };
    Ok((status(&error), render(&page)).into_response())
}

/// GET /_admin/my_account/ssh_keys
pub async fn ssh_keys(State(state): State<AppState>, v: Visitor) -> Result<Response, WebError> {
    ssh_page(&state, &v, None, None).await
}

/// POST /_admin/my_account/ssh_keys — `public_key`, `description`.
pub async fn add_ssh_key(
    State(state): State<AppState>,
    v: Visitor,
    Form(f): Form<Fields>,
) -> Result<Response, WebError> {
    let u = me(&state, &v, "/_admin/my_account/ssh_keys")?;
    match kallithea_core::ssh_key::add(
        &state.svc,
        u.id,
        &field(&f, "description"),
        &field(&f, "public_key"),
    )
    .await
    {
        Ok(k) => {
            let notice = format!("SSH key SHA256:{} added.", k.fingerprint);
            ssh_page(&state, &v, None, Some(notice)).await
        }
        Err(e) => {
            let p = shown(e).map_err(web_err(&state))?;
            ssh_page(&state, &v, Some(p), None).await
        }
    }
}

/// POST /_admin/my_account/ssh_keys/delete — `del_public_key_fingerprint`.
pub async fn delete_ssh_key(
    State(state): State<AppState>,
    v: Visitor,
    Form(f): Form<Fields>,
) -> Result<Response, WebError> {
    let u = me(&state, &v, "/_admin/my_account/ssh_keys")?;
    match kallithea_core::ssh_key::delete(
        &state.svc,
        u.id,
        &field(&f, "del_public_key_fingerprint"),
    )
    .await
    {
        Ok(()) => ssh_page(&state, &v, None, Some("SSH key deleted.".into())).await,
        Err(e) => {
            let p = shown(e).map_err(web_err(&state))?;
            ssh_page(&state, &v, Some(p), None).await
        }
    }
}

/// GET /_admin/my_account/watched
pub async fn watched(State(state): State<AppState>, v: Visitor) -> Result<Response, WebError> {
    me(&state, &v, "/_admin/my_account/watched")?;
    let perms = kallithea_core::permission::Permissions::load(&state.svc, &v.actor)
        .await
        .map_err(web_err(&state))?;
    let repos = kallithea_core::repo::watched(&state.svc, &perms)
        .await
        .map_err(web_err(&state))?;
    let page = crate::view::WatchedPage {
        layout: layout(&state, &v),
        repos: repos
            .into_iter()
            .map(|r| crate::view::RepoItem {
                last_change: crate::view::age(r.last_change),
                name: r.name,
                description: r.description,
                private: r.private,
                owner: r.owner_name,
            })
            .collect(),
    };
    Ok(render(&page).into_response())
}

/// POST /_admin/toggle_following — `follows_repository_id`; back to the repository's page.
pub async fn toggle_following(
    State(state): State<AppState>,
    v: Visitor,
    Form(f): Form<Fields>,
) -> Result<Response, WebError> {
    require_user(&state, &v, "/")?;
    let raw = field(&f, "follows_repository_id");
    let missing = || {
        web_err(&state)(Error::invalid(format!(
            "There is no repository with id \"{raw}\"."
        )))
    };
    let id = raw.trim().parse::<i64>().map_err(|_| missing())?;
    let row = kallithea_core::repo::find(
        &state.svc,
        kallithea_core::repo::RepoRef::Id(kallithea_model::RepoId(id)),
    )
    .await
    .map_err(web_err(&state))?
    .ok_or_else(missing)?;
    let perms = kallithea_core::permission::Permissions::load(&state.svc, &v.actor)
        .await
        .map_err(web_err(&state))?;
    let access = kallithea_core::repo::open(&perms, row, kallithea_model::PermLevel::Read)
        .map_err(web_err(&state))?;
    kallithea_core::repo::toggle_watch(&state.svc, &access)
        .await
        .map_err(web_err(&state))?;
    Ok(Redirect::to(&format!("{}/{}", state.web.prefix, access.repo().name)).into_response())
}
