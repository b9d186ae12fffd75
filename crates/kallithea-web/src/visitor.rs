//! Who is asking: the session from the `kallithea` cookie and the signed-in user, or an
//! anonymous visitor. Computed once per request by the extractor.

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use kallithea_core::session::Session;
use kallithea_core::user::UserRow;
use kallithea_core::{Actor, user};

use crate::client::Client;
use crate::{AppState, WebError};

pub const COOKIE: &str = "kallithea";

/// The visitor of a page.
#[derive(Clone, Debug)]
pub struct Visitor {
    pub session: Option<Session>,
    pub user: Option<UserRow>,
    pub actor: Actor,
    pub client: Client,
}

pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

impl Visitor {
    pub async fn from_headers(
        state: &AppState,
        headers: &HeaderMap,
        client: Client,
    ) -> Result<Self, WebError> {
        let err = |e| WebError::new(e, &state.web.prefix);
        let session = match cookie_value(headers, COOKIE) {
            Some(c) => kallithea_core::session::load(&state.svc, &c)
                .await
                .map_err(err)?,
            None => None,
        };
        let user = match session.as_ref().and_then(|s| s.user_id) {
            Some(id) => user::get(&state.svc, id)
                .await
                .map_err(err)?
                .filter(|u| u.active),
            None => None,
        };
        // An account used from outside its IP allow-list counts as nobody here (the sign-in
        // layer shows why on pages; this covers every other way in).
        let user = match user {
            Some(u) => kallithea_core::account::ip_allowed(&state.svc, u.id, client.addr)
                .await
                .map_err(err)?
                .then_some(u),
            None => None,
        };
        let actor = user.as_ref().map_or(Actor::Anonymous, user::actor_of);
        Ok(Self {
            session,
            user,
            actor,
            client,
        })
    }

    pub fn csrf_token(&self) -> String {
        self.session
            .as_ref()
            .map(|s| s.csrf_token.clone())
            .unwrap_or_default()
    }

    /// The CSRF token as a page's forms carry it: masked afresh for every page.
    pub fn csrf_token_for_page(&self) -> String {
        match &self.session {
            Some(s) if !s.csrf_token.is_empty() => kallithea_core::token::masked(&s.csrf_token),
            _ => String::new(),
        }
    }
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = WebError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // Usually computed already by `proxy_auth::apply`.
        if let Some(v) = parts.extensions.get::<Visitor>() {
            return Ok(v.clone());
        }
        let client = match parts.extensions.get::<Client>() {
            Some(c) => c.clone(),
            None => Client::from_request_parts(parts, state)
                .await
                .unwrap_or_else(|never| match never {}),
        };
        Visitor::from_headers(state, &parts.headers, client).await
    }
}

/// A `Set-Cookie` value for the session cookie.
pub fn session_cookie(state: &AppState, https: bool, value: &str, max_age: Option<i64>) -> String {
    let path = if state.web.prefix.is_empty() {
        "/"
    } else {
        &state.web.prefix
    };
    let mut c = format!("{COOKIE}={value}; Path={path}; HttpOnly; SameSite=Lax");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if state.web.secure_cookies || https {
        c.push_str("; Secure");
    }
    c
}
