//! Response compression: pages, stylesheets, scripts, JSON, feeds and raw text go out gzipped
//! to clients that accept it (a highlighted source file is about ten times smaller). Git and
//! Mercurial protocol responses, archives and images are left as they are: they are
//! compressed already or the client does not ask.
//!
//! Compressing a page that holds a secret and also echoes text from the URL lets an attacker
//! who can watch the response sizes guess the secret (BREACH). The CSRF token is therefore
//! masked afresh on every page, handlers mark pages showing other secrets (API keys) with
//! [`KeepUncompressed`], and requests a browser says come from another site (where an
//! attacker's page would make them) are answered uncompressed: a proxy that signs people in
//! with Basic or Kerberos credentials sends those along even on such requests.

use axum::http::{HeaderMap, header};
use tower_http::compression::predicate::{Predicate, SizeAbove};
use tower_http::compression::{CompressionLayer, CompressionLevel};

/// A response extension: send this response uncompressed (it shows a secret).
#[derive(Clone, Copy, Debug)]
pub struct KeepUncompressed;

/// Bodies smaller than this gain too little from compression.
const MIN_BYTES: u16 = 1024;

/// Content types worth compressing.
const TEXT_TYPES: &[&str] = &[
    "text/html",
    "text/css",
    "text/plain",
    "text/javascript",
    "text/xml",
    "application/javascript",
    "application/json",
    "application/xml",
    "application/rss+xml",
    "application/atom+xml",
];

#[derive(Clone, Copy, Debug)]
struct TextWithoutSecrets;

impl Predicate for TextWithoutSecrets {
    fn should_compress<B: axum::body::HttpBody>(&self, response: &axum::http::Response<B>) -> bool {
        response.extensions().get::<KeepUncompressed>().is_none() && is_text(response.headers())
    }
}

fn is_text(headers: &HeaderMap) -> bool {
    let Some(ct) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = ct.split(';').next().unwrap_or("").trim();
    TEXT_TYPES.iter().any(|t| t.eq_ignore_ascii_case(essence))
}

/// Removes `Accept-Encoding` from requests marked `Sec-Fetch-Site: cross-site`, so that
/// their answers are not compressed. Runs before [`layer`] sees the request.
pub async fn not_for_cross_site(mut req: axum::extract::Request) -> axum::extract::Request {
    let cross_site = req
        .headers()
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"cross-site"));
    if cross_site {
        req.headers_mut().remove(header::ACCEPT_ENCODING);
    }
    req
}

/// The layer: gzip at a fast level (most of the gain for little of the time).
pub fn layer() -> CompressionLayer<impl Predicate> {
    CompressionLayer::new()
        .quality(CompressionLevel::Fastest)
        .compress_when(SizeAbove::new(MIN_BYTES).and(TextWithoutSecrets))
}
