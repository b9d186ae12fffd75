//! `/_admin/register` and the password reset pages (`/_admin/password_reset`,
//! `/_admin/password_reset_confirmation`), with Kallithea's paths and field names. Open to
//! visitors who are not signed in, even with anonymous access off.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use kallithea_core::signup::{self, Registration};
use kallithea_core::user::NewAccount;
use kallithea_core::{Error, ErrorKind};

use crate::form::Form;
use crate::pages::{ensure_session, layout, web_err, with_cookie};
use crate::view::{PasswordResetConfirmPage, PasswordResetPage, RegisterPage, render};
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

/// A refusal shown on the form, or an error page.
fn refusal(state: &AppState, e: Error) -> Result<(StatusCode, String), WebError> {
    match e.kind {
        ErrorKind::InvalidInput | ErrorKind::NameTaken | ErrorKind::Forbidden => {
            Ok((crate::error::status_of(e.kind), e.message))
        }
        _ => Err(web_err(state)(e)),
    }
}

async fn register_page(
    state: &AppState,
    mut v: Visitor,
    f: &Fields,
    error: Option<(StatusCode, String)>,
    notice: Option<String>,
) -> Result<Response, WebError> {
    let mode = signup::registration(&state.svc)
        .await
        .map_err(web_err(state))?;
    if mode == Registration::Disabled && notice.is_none() {
        return Err(web_err(state)(Error::forbidden(
            "Registration is turned off on this server: ask an administrator for an account.",
        )));
    }
    let cookie = ensure_session(state, &mut v).await?;
    let status = error.as_ref().map_or(StatusCode::OK, |(s, _)| *s);
    let page = RegisterPage {
        layout: layout(state, &v),
        manual: mode == Registration::ManualActivation,
        username: field(f, "username"),
        email: field(f, "email"),
        firstname: field(f, "firstname"),
        lastname: field(f, "lastname"),
        error: error.map(|(_, m)| m),
        notice,
    };
    Ok(with_cookie(cookie, (status, render(&page))))
}

/// GET /_admin/register
pub async fn register_form(
    State(state): State<AppState>,
    v: Visitor,
) -> Result<Response, WebError> {
    register_page(&state, v, &Vec::new(), None, None).await
}

/// POST /_admin/register
pub async fn register(
    State(state): State<AppState>,
    v: Visitor,
    Form(f): Form<Fields>,
) -> Result<Response, WebError> {
    let username = field(&f, "username");
    let password = field(&f, "password");
    let email = field(&f, "email");
    let firstname = field(&f, "firstname");
    let lastname = field(&f, "lastname");
    let account = NewAccount {
        username: username.trim(),
        password: &password,
        email: &email,
        firstname: &firstname,
        lastname: &lastname,
        admin: false,
        active: false,
    };
    match signup::register(&state.svc, &account, &field(&f, "password_confirmation")).await {
        Ok(true) => Ok(Redirect::to(&format!("{}/_admin/login", state.web.prefix)).into_response()),
        Ok(false) => {
            let notice = "Your account was created. An administrator must activate it before you can sign in.";
            register_page(&state, v, &f, None, Some(notice.into())).await
        }
        Err(e) => {
            let shown = refusal(&state, e)?;
            register_page(&state, v, &f, Some(shown), None).await
        }
    }
}

async fn reset_page(
    state: &AppState,
    mut v: Visitor,
    error: Option<(StatusCode, String)>,
    notice: Option<String>,
) -> Result<Response, WebError> {
    let cookie = ensure_session(state, &mut v).await?;
    let status = error.as_ref().map_or(StatusCode::OK, |(s, _)| *s);
    let page = PasswordResetPage {
        layout: layout(state, &v),
        error: error.map(|(_, m)| m),
        notice,
    };
    Ok(with_cookie(cookie, (status, render(&page))))
}

/// GET /_admin/password_reset
pub async fn reset_form(State(state): State<AppState>, v: Visitor) -> Result<Response, WebError> {
    reset_page(&state, v, None, None).await
}

/// POST /_admin/password_reset — `email`. The answer is the same whether or not an account
/// has the address.
pub async fn reset(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    v: Visitor,
    Form(f): Form<Fields>,
) -> Result<Response, WebError> {
    // Each request counts as a failed sign-in from the address, so nobody floods mailboxes.
    let addr = v.client.addr.to_string();
    if state.svc.throttle.begin_attempt("", &addr).is_err() {
        return reset_page(
            &state,
            v,
            Some((
                StatusCode::TOO_MANY_REQUESTS,
                "Too many requests from your address. Wait a few minutes and try again.".into(),
            )),
            None,
        )
        .await;
    }
    // Links in mail never follow the request's Host header (a forged one would send the
    // token elsewhere): without canonical_url there is no reset by mail.
    let Some(base) = state.web.canonical_url.clone() else {
        tracing::warn!("password reset asked, but canonical_url is not set in my.ini");
        return reset_page(
            &state,
            v,
            Some((
                StatusCode::SERVICE_UNAVAILABLE,
                "Password reset by email is not set up on this server (the administrator must set canonical_url in my.ini). Ask an administrator to set a new password.".into(),
            )),
            None,
        )
        .await;
    };
    let _ = headers;
    let email = field(&f, "email");
    if let Err(e) = signup::check_reset_email(&email) {
        let shown = refusal(&state, e)?;
        return reset_page(&state, v, Some(shown), None).await;
    }
    // Sent in the background, so the answer takes as long whether or not the address has an
    // account.
    let svc = state.svc.clone();
    tokio::spawn(async move {
        if let Err(e) = signup::request_reset(&svc, &email, &base).await {
            tracing::warn!("password reset mail: {}", e.message);
        }
    });
    let notice = "If an account has this address, a link to choose a new password is on its way. It works for 24 hours.";
    reset_page(&state, v, None, Some(notice.into())).await
}

#[derive(serde::Deserialize, Default)]
pub struct ResetLink {
    #[serde(default)]
    email: String,
    #[serde(default)]
    timestamp: String,
    #[serde(default)]
    token: String,
}

async fn confirm_page(
    state: &AppState,
    mut v: Visitor,
    link: &ResetLink,
    error: Option<String>,
) -> Result<Response, WebError> {
    let checked = signup::check_reset(&state.svc, &link.email, &link.timestamp, &link.token).await;
    let cookie = ensure_session(state, &mut v).await?;
    let (valid, username, error) = match checked {
        Ok(u) => (true, u.username, error),
        Err(e) if e.kind == ErrorKind::InvalidInput => (false, String::new(), Some(e.message)),
        Err(e) => return Err(web_err(state)(e)),
    };
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let page = PasswordResetConfirmPage {
        layout: layout(state, &v),
        valid,
        username,
        email: link.email.clone(),
        timestamp: link.timestamp.clone(),
        token: link.token.clone(),
        error,
    };
    Ok(with_cookie(cookie, (status, render(&page))))
}

/// GET /_admin/password_reset_confirmation?email=&timestamp=&token=
pub async fn confirm_form(
    State(state): State<AppState>,
    v: Visitor,
    Query(link): Query<ResetLink>,
) -> Result<Response, WebError> {
    confirm_page(&state, v, &link, None).await
}

/// POST /_admin/password_reset_confirmation — the link's fields, `password`,
/// `password_confirmation`.
pub async fn confirm(
    State(state): State<AppState>,
    v: Visitor,
    Form(f): Form<Fields>,
) -> Result<Response, WebError> {
    let link = ResetLink {
        email: field(&f, "email"),
        timestamp: field(&f, "timestamp"),
        token: field(&f, "token"),
    };
    match signup::reset_password(
        &state.svc,
        &link.email,
        &link.timestamp,
        &link.token,
        &field(&f, "password"),
        &field(&f, "password_confirmation"),
    )
    .await
    {
        Ok(_) => Ok(Redirect::to(&format!("{}/_admin/login", state.web.prefix)).into_response()),
        Err(e) if e.kind == ErrorKind::InvalidInput => {
            confirm_page(&state, v, &link, Some(e.message)).await
        }
        Err(e) => Err(web_err(&state)(e)),
    }
}
