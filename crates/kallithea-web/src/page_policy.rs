//! The Content-Security-Policy every HTML page carries: a second wall behind escaping. Pages
//! run only the server's own script and style sheets, embed nothing, post forms only here,
//! and cannot be framed by other sites. Images may come from anywhere, as READMEs show
//! badges from other hosts. Responses that set their own policy (raw files) keep it.
//!
//! And what may keep a copy: a response that says nothing else (pages, raw files at a branch,
//! archives, feeds) is for the one visitor only and asked for again each time, as pages
//! carry the session's CSRF token and may show a private repository.

use axum::http::{HeaderValue, header};
use axum::response::Response;

const HTML_POLICY: &str = "default-src 'self'; img-src * data:; style-src 'self'; \
    script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
    frame-ancestors 'self'";

/// Adds the policy to an HTML response that has none, and the cache policy to any.
pub async fn add(mut response: Response) -> Response {
    if !response.headers().contains_key(header::CACHE_CONTROL) {
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-cache"),
        );
    }
    let html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if html
        && !response
            .headers()
            .contains_key(header::CONTENT_SECURITY_POLICY)
    {
        response.headers_mut().insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(HTML_POLICY),
        );
    }
    response
}
