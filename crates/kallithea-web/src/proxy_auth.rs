//! Signing in whoever the reverse proxy says the request is from (the `container` plugin and
//! any plugin that reads the request), and the rule that with anonymous access off every page
//! but sign-in and static files needs a user.
//!
//! Identity headers count only from a trusted proxy ([`Client::trusted`]); from anyone else
//! they are ignored and logged. A header spelled with underscores where the identity header
//! has dashes (`Remote_User` for `Remote-User`) is refused outright, because servers that map
//! headers to `HTTP_*` variables cannot tell the two apart.
//!
//! For pages, a session that already has a signed-in user is kept (as in Kallithea, so an
//! admin can still sign in with a password); otherwise the proxy's user gets a new session.
//! For Git's endpoints the user is handed to `git_http` without a session.

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kallithea_core::auth::{self, AuthPlugin, ExternalUser};
use kallithea_core::user::UserRow;
use kallithea_core::{Error, ErrorKind, session, user};

use crate::client::Client;
use crate::visitor::{COOKIE, Visitor, cookie_value, session_cookie};
use crate::{AppState, WebError};

/// The user a trusted proxy signed in, for Git's endpoints.
#[derive(Clone, Debug)]
pub struct ProxyUser(pub UserRow);

fn page_error(state: &AppState, e: Error) -> Response {
    WebError::new(e, &state.web.prefix).into_response()
}

fn git_refusal(msg: &str) -> Response {
    (
        StatusCode::FORBIDDEN,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{msg}\n"),
    )
        .into_response()
}

/// Paths served to everyone, signed in or not.
fn is_public(path: &str) -> bool {
    path.starts_with("/_admin/static/")
        || path == "/_admin/login"
        || path == "/_admin/logout"
        || path == "/_admin/session_csrf_secret_token"
        || path == "/_admin/register"
        || path == "/_admin/password_reset"
        || path == "/_admin/password_reset_confirmation"
}

/// Replaces the session cookie in the request, so handlers see the session just made.
fn replace_session_cookie(req: &mut Request, value: &str) {
    let others: Vec<String> = req
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .map(str::trim)
        .filter(|kv| !kv.is_empty() && kv.split_once('=').is_none_or(|(k, _)| k != COOKIE))
        .map(str::to_owned)
        .collect();
    let mut all = others;
    all.push(format!("{COOKIE}={value}"));
    req.headers_mut().remove(header::COOKIE);
    if let Ok(v) = HeaderValue::from_str(&all.join("; ")) {
        req.headers_mut().insert(header::COOKIE, v);
    }
}

/// Who the request-reading plugins say this is: `Err` for a refused request, `Ok(None)` when
/// nobody is named (or the peer may not name anyone).
fn identify(
    client: &Client,
    req: &Request,
    cfg: &auth::AuthConfig,
) -> Result<Option<(&'static dyn AuthPlugin, ExternalUser)>, String> {
    let cfg_plugins = cfg.request_plugins();
    if cfg_plugins.is_empty() {
        return Ok(None);
    }
    let mut named = Vec::new();
    for (p, s) in &cfg_plugins {
        for h in p.identity_headers(s) {
            for name in req.headers().keys() {
                let n = name.as_str();
                if n.contains('_') && n.replace('_', "-") == h {
                    tracing::warn!(
                        peer = %client.peer,
                        "refused a request carrying {n}, an underscore spelling of the identity header {h}"
                    );
                    return Err(format!(
                        "This request carries the header \"{n}\", the identity header \"{h}\" spelled with underscores. Such requests are refused: the proxy in front must not pass this header on."
                    ));
                }
            }
            if req.headers().get_all(h.as_str()).iter().count() > 1 {
                tracing::warn!(peer = %client.peer, "refused a request carrying {h} more than once");
                return Err(format!(
                    "This request carries the identity header \"{h}\" more than once. Such requests are refused."
                ));
            }
            if req.headers().contains_key(h.as_str()) {
                named.push(h);
            }
        }
    }
    if !client.trusted {
        if !named.is_empty() {
            tracing::warn!(
                peer = %client.peer,
                "ignored identity header(s) {} from a peer that is not a trusted proxy (or sent no proxy secret)",
                named.join(", ")
            );
        }
        return Ok(None);
    }
    let read = |name: &str| {
        req.headers()
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    Ok(cfg_plugins
        .iter()
        .find_map(|(p, s)| p.identify(s, &read).map(|e| (*p, e))))
}

/// See the module documentation. Returns the `Set-Cookie` value of a session it started, or
/// the response that ends the request.
pub async fn apply(
    state: &AppState,
    client: &Client,
    req: &mut Request,
) -> Result<Option<HeaderValue>, Response> {
    let path = match state.web.prefix.as_str() {
        "" => req.uri().path().to_owned(),
        p => req
            .uri()
            .path()
            .strip_prefix(p)
            .unwrap_or(req.uri().path())
            .to_owned(),
    };
    if path.starts_with("/_admin/static/") {
        return Ok(None);
    }
    let cfg = auth::current(&state.svc);
    let git = crate::csrf::is_git_request(req.method(), &path, req.headers());
    let named = match identify(client, req, &cfg) {
        Ok(n) => n,
        Err(msg) if git => return Err(git_refusal(&msg)),
        Err(msg) => return Err(page_error(state, Error::invalid(msg))),
    };
    // The API names its user by API key only.
    if crate::csrf::is_api_path(&path) {
        return Ok(None);
    }
    if git {
        if let Some((plugin, ext)) = named {
            match auth::sign_in_external(&state.svc, plugin, &ext, false).await {
                Ok(u) => {
                    req.extensions_mut().insert(ProxyUser(u));
                }
                Err(e) => return Err(git_refusal(&e.message)),
            }
        }
        return Ok(None);
    }
    let mut visitor = Visitor::from_headers(state, req.headers(), client.clone())
        .await
        .map_err(IntoResponse::into_response)?;
    let mut set_cookie = None;
    if let Some((plugin, ext)) = named
        && visitor.user.is_none()
    {
        let u = auth::sign_in_external(&state.svc, plugin, &ext, true)
            .await
            .map_err(|e| page_error(state, e))?;
        let old = cookie_value(req.headers(), COOKIE);
        let s = session::rotate(&state.svc, old.as_deref(), Some(u.id))
            .await
            .map_err(|e| page_error(state, e))?;
        replace_session_cookie(req, &s.cookie);
        set_cookie =
            HeaderValue::from_str(&session_cookie(state, client.https, &s.cookie, None)).ok();
        visitor.actor = user::actor_of(&u);
        visitor.session = Some(s);
        visitor.user = Some(u);
    }
    if visitor.user.is_none() && !is_public(&path) && !git {
        let open = user::anonymous_access(&state.svc)
            .await
            .map_err(|e| page_error(state, e))?;
        if !open {
            let back = match req.uri().query() {
                Some(q) => format!("{}{path}?{q}", state.web.prefix),
                None => format!("{}{path}", state.web.prefix),
            };
            return Err(WebError::new(
                Error::new(ErrorKind::LoginRequired, "Sign in to continue."),
                &state.web.prefix,
            )
            .came_from(&back)
            .json_if_asked(req.headers())
            .into_response());
        }
    }
    if let Some(u) = &visitor.user {
        tracing::Span::current().record("user", u.username.as_str());
    } else if let Some(id) = visitor.session.as_ref().and_then(|s| s.user_id) {
        // Signed in, yet nobody: say so when the address is not allowed for the account.
        if let Some(u) = user::get(&state.svc, id)
            .await
            .map_err(|e| page_error(state, e))?
            .filter(|u| u.active)
        {
            tracing::warn!(user = %u.username, addr = %client.addr, "refused: address not on the allow-list");
            return Err(page_error(
                state,
                Error::forbidden(format!(
                    "The account {} may not be used from the address {}.",
                    u.username, client.addr
                )),
            ));
        }
    }
    req.extensions_mut().insert(visitor);
    Ok(set_cookie)
}
