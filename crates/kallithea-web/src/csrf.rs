//! CSRF protection for every state-changing request, in one middleware: a POST must carry
//! the session's secret in the form field `_session_csrf_secret_token` (Kallithea's name).
//! Pages carry it masked, differently each time (see `kallithea_core::token::masked`), so
//! compressing them cannot leak it; the plain secret is accepted too.
//! Git's smart-HTTP endpoints are exempt (they authenticate each request with HTTP Basic).
//! Methods other than GET, HEAD and POST are refused.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use kallithea_core::token::matches_secret;
use kallithea_core::{Error, ErrorKind};

use crate::AppState;
use crate::visitor::{COOKIE, cookie_value};

pub const FIELD: &str = "_session_csrf_secret_token";
/// The largest form we read.
const FORM_LIMIT: usize = 1024 * 1024;

/// The JSON-RPC API authenticates every call with an API key, like Git with HTTP Basic.
pub fn is_api_path(path: &str) -> bool {
    path == "/_admin/api"
}

/// A request of Git's smart HTTP protocol: `GET .../info/refs`, or a `POST` to a service
/// with the service's own request type, which git always sends. No form can send it, and a
/// script on another site cannot either without the server's leave (it is no CORS-safelisted
/// type), so skipping the CSRF token is safe. Anything else, a POST with no content type
/// included, needs the token.
pub fn is_git_request(method: &Method, path: &str, headers: &axum::http::HeaderMap) -> bool {
    match *method {
        Method::GET | Method::HEAD => path.ends_with("/info/refs"),
        Method::POST => {
            let essence = content_type(headers).unwrap_or_default();
            ["git-upload-pack", "git-receive-pack"]
                .iter()
                .any(|service| {
                    path.ends_with(&format!("/{service}"))
                        && essence == format!("application/x-{service}-request")
                })
        }
        _ => false,
    }
}

/// The request's media type without parameters, lower case.
fn content_type(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|ct| ct.split(';').next())
        .map(|e| e.trim().to_ascii_lowercase())
}

/// A content type an HTML form can send.
fn is_form_type(headers: &axum::http::HeaderMap) -> bool {
    matches!(
        content_type(headers).as_deref(),
        Some("application/x-www-form-urlencoded" | "multipart/form-data" | "text/plain")
    )
}

pub fn is_git_path(path: &str) -> bool {
    path.ends_with("/info/refs")
        || path.ends_with("/git-upload-pack")
        || path.ends_with("/git-receive-pack")
}

fn refuse(state: &AppState, status: StatusCode, msg: &str) -> Response {
    let kind = if status == StatusCode::FORBIDDEN {
        ErrorKind::Forbidden
    } else {
        ErrorKind::InvalidInput
    };
    let mut r = crate::WebError::new(Error::new(kind, msg), &state.web.prefix).into_response();
    *r.status_mut() = status;
    r
}

pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    if is_git_request(req.method(), &path, req.headers()) || is_api_path(&path) {
        return next.run(req).await;
    }
    match *req.method() {
        Method::GET | Method::HEAD => return next.run(req).await,
        Method::POST => {}
        _ => {
            return refuse(
                &state,
                StatusCode::METHOD_NOT_ALLOWED,
                "Only GET and POST requests are accepted here.",
            );
        }
    }
    // At git's address with a type neither git nor a form sends: a confused client, told so.
    if (path.ends_with("/git-upload-pack") || path.ends_with("/git-receive-pack"))
        && !is_form_type(req.headers())
    {
        return refuse(
            &state,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Git's smart HTTP protocol sends application/x-git-upload-pack-request or application/x-git-receive-pack-request here.",
        );
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, FORM_LIMIT).await else {
        return refuse(
            &state,
            StatusCode::PAYLOAD_TOO_LARGE,
            "The form is too large.",
        );
    };
    let sent = form_urlencoded_value(&bytes, FIELD);
    let expected = match cookie_value(&parts.headers, COOKIE) {
        Some(c) => kallithea_core::session::load(&state.svc, &c)
            .await
            .ok()
            .flatten()
            .map(|s| s.csrf_token),
        None => None,
    };
    let ok = matches!((&sent, &expected), (Some(s), Some(e)) if matches_secret(s, e));
    if !ok {
        tracing::warn!(path = %path, "POST refused: missing or wrong CSRF token");
        return refuse(
            &state,
            StatusCode::FORBIDDEN,
            "The form's security token is missing or out of date (CSRF protection). Reload the page and try again.",
        );
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

fn form_urlencoded_value(body: &[u8], name: &str) -> Option<String> {
    serde_urlencoded_pairs(body)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// Decodes `application/x-www-form-urlencoded` pairs.
pub fn serde_urlencoded_pairs(body: &[u8]) -> Vec<(String, String)> {
    body.split(|b| *b == b'&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = match p.iter().position(|b| *b == b'=') {
                Some(i) => (&p[..i], &p[i + 1..]),
                None => (p, &[][..]),
            };
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &[u8]) -> String {
    let plus: Vec<u8> = s
        .iter()
        .map(|b| if *b == b'+' { b' ' } else { *b })
        .collect();
    percent_encoding::percent_decode(&plus)
        .decode_utf8_lossy()
        .into_owned()
}
