//! Turning domain errors into responses, in one place: an HTML page with a status and a
//! sentence, or a redirect to the sign-in page for anonymous visitors; for the JSON data
//! URLs, `{"error": sentence}` with the same status.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use kallithea_core::{Error, ErrorKind};

use crate::view::{ErrorPage, render};

/// An error on its way to becoming a response. `came_from` is where to return after signing in.
#[derive(Debug)]
pub struct WebError {
    pub error: Error,
    pub prefix: String,
    pub came_from: Option<String>,
    /// Answer with JSON rather than a page (and never redirect).
    pub json: bool,
    /// What the page adds, seldom present (boxed: errors travel in every handler's `Result`).
    pub extra: Option<Box<Extra>>,
}

/// What an error page may add to the message.
#[derive(Debug, Default)]
pub struct Extra {
    /// Shown on the page (only with `debug = true`, to clients on this machine).
    pub shown_detail: Option<Box<str>>,
    /// A page that may be what the visitor wanted: its link text and address.
    pub instead: Option<(String, String)>,
}

impl WebError {
    pub fn new(error: Error, prefix: &str) -> Self {
        Self {
            error,
            prefix: prefix.to_owned(),
            came_from: None,
            extra: None,
            json: false,
        }
    }
    /// Makes the error a JSON answer (for URLs that scripts read).
    pub fn json(mut self) -> Self {
        self.json = true;
        self
    }
    /// [`WebError::json`] when the request asked for JSON rather than a page.
    pub fn json_if_asked(self, headers: &axum::http::HeaderMap) -> Self {
        match wants_json(headers) {
            true => self.json(),
            false => self,
        }
    }
    /// Shows `detail` on the page when `show` (debug mode and a loopback client).
    pub fn with_detail(mut self, show: bool, detail: &str) -> Self {
        if show {
            self.extra.get_or_insert_default().shown_detail = Some(detail.into());
        }
        self
    }
    /// Offers another page on the error page.
    pub fn instead(mut self, text: String, href: String) -> Self {
        self.extra.get_or_insert_default().instead = Some((text, href));
        self
    }

    pub fn came_from(mut self, path: &str) -> Self {
        self.came_from = Some(path.to_owned());
        self
    }
}

/// True when the request's `Accept` names JSON and not HTML (a script's `fetch`, not a
/// browser following a link).
pub fn wants_json(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .fold((false, false), |(json, html), v| {
            (
                json || v.contains("application/json"),
                html || v.contains("text/html"),
            )
        })
        == (true, false)
}

pub fn status_of(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::LoginRequired | ErrorKind::AuthFailed => StatusCode::UNAUTHORIZED,
        ErrorKind::Throttled => StatusCode::TOO_MANY_REQUESTS,
        ErrorKind::InvalidInput => StatusCode::BAD_REQUEST,
        ErrorKind::NameTaken => StatusCode::CONFLICT,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        if self.json {
            let status = status_of(self.error.kind);
            let request_id = match self.error.kind {
                ErrorKind::Internal => crate::client::request_id(),
                _ => None,
            };
            let mut body = serde_json::json!({"error": self.error.message});
            if let Some(id) = request_id {
                body["request_id"] = id.into();
            }
            return (
                status,
                [(header::CACHE_CONTROL, "no-store")],
                axum::Json(body),
            )
                .into_response();
        }
        if self.error.kind == ErrorKind::LoginRequired {
            let back = self
                .came_from
                .unwrap_or_else(|| format!("{}/", self.prefix));
            let enc =
                percent_encoding::utf8_percent_encode(&back, percent_encoding::NON_ALPHANUMERIC);
            return Redirect::to(&format!("{}/_admin/login?came_from={enc}", self.prefix))
                .into_response();
        }
        let status = status_of(self.error.kind);
        let internal = self.error.kind == ErrorKind::Internal;
        // Internal errors name the request, so an admin can find it in the log.
        let request_id = if internal {
            crate::client::request_id()
        } else {
            None
        };
        let Extra {
            shown_detail,
            instead,
        } = self.extra.map(|e| *e).unwrap_or_default();
        let shown_detail = shown_detail.or_else(|| {
            crate::client::show_details()
                .then_some(self.error.detail)
                .flatten()
        });
        let page = ErrorPage {
            prefix: self.prefix,
            status: status.as_u16(),
            reason: status.canonical_reason().unwrap_or("Error").to_owned(),
            message: self.error.message,
            request_id,
            detail: shown_detail,
            instead,
        };
        (status, [(header::CACHE_CONTROL, "no-store")], render(&page)).into_response()
    }
}
