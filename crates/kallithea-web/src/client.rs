//! Who is on the other end of a request: the client's address and scheme as this server saw
//! them or, from a trusted reverse proxy only, as the proxy reports them
//! (`remote_addr_variable`, `url_scheme_variable`); whether the request came through such a
//! proxy (so identity headers may be believed); and the request id every log line and error
//! page carries. `layer` computes this once per request, runs proxy sign-in
//! ([`crate::proxy_auth`]), sends anonymous visitors to the sign-in page when anonymous access
//! is off, adds HSTS, and turns a panic into an error page with the request id.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::FutureExt;
use kallithea_core::token::secrets_equal;
use tracing::Instrument;

use crate::AppState;

/// How far to trust the peer: the proxies allowed to speak for clients, and what they send.
#[derive(Clone, Debug)]
pub struct ProxyConfig {
    /// Addresses and ranges of reverse proxies whose headers are believed (default loopback).
    pub trusted: Vec<ipnet::IpNet>,
    /// A header (lower-case name) and value the proxy must also send, when configured.
    pub secret: Option<(String, String)>,
    /// Lower-case header carrying the client address (`remote_addr_variable`), if any.
    pub remote_addr_header: Option<String>,
    /// Lower-case header carrying `http` or `https` (`url_scheme_variable`), if any.
    pub scheme_header: Option<String>,
    /// Every request counts as HTTPS (`force_https`).
    pub force_https: bool,
    /// Send `Strict-Transport-Security` on HTTPS requests (`use_htsts`).
    pub use_hsts: bool,
    /// This server terminates TLS itself.
    pub native_tls: bool,
}

impl Default for ProxyConfig {
    fn default() -> Self {
        Self {
            trusted: vec![
                "127.0.0.0/8".parse().expect("valid net"),
                "::1/128".parse().expect("valid net"),
            ],
            secret: None,
            remote_addr_header: None,
            scheme_header: None,
            force_https: false,
            use_hsts: false,
            native_tls: false,
        }
    }
}

/// The request's origin, as far as it can be trusted.
#[derive(Clone, Debug)]
pub struct Client {
    /// The TCP peer (a proxy, or the client itself).
    pub peer: SocketAddr,
    /// The client's address: the peer's, or what a trusted proxy reports.
    pub addr: IpAddr,
    /// Whether the client used HTTPS (to us or to the proxy in front).
    pub https: bool,
    /// The peer is a trusted proxy and sent the proxy secret (when one is configured).
    pub trusted: bool,
    /// Names this request in logs and on error pages.
    pub request_id: String,
}

/// What error pages need to know about the request being served.
#[derive(Clone, Debug)]
struct RequestTag {
    id: String,
    show_details: bool,
}

tokio::task_local! {
    static REQUEST: RequestTag;
}

/// The current request's id, if called while serving one.
pub fn request_id() -> Option<String> {
    REQUEST.try_with(|t| t.id.clone()).ok()
}

/// Whether error details may be shown: `debug = true` and the client is on this machine (as
/// far as a trusted proxy's `remote_addr_variable` says, behind a proxy).
pub fn show_details() -> bool {
    REQUEST.try_with(|t| t.show_details).unwrap_or(false)
}

/// Every value of a header joined with `,` (a proxy that appends adds its own line after
/// whatever the client sent, so the last value is the proxy's).
fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    let all: Vec<String> = headers
        .get_all(name)
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_owned())
        .filter(|v| !v.is_empty())
        .collect();
    (!all.is_empty()).then(|| all.join(","))
}

/// `1.2.3.4`, `1.2.3.4:5678`, `[::1]:80` or `::1` → the address.
fn parse_addr(s: &str) -> Option<IpAddr> {
    let s = s.trim();
    s.parse::<IpAddr>()
        .ok()
        .or_else(|| s.parse::<SocketAddr>().ok().map(|a| a.ip()))
        .or_else(|| {
            s.strip_prefix('[')
                .and_then(|r| r.split_once(']'))
                .and_then(|(a, _)| a.parse().ok())
        })
}

impl Client {
    pub fn of(cfg: &ProxyConfig, peer: SocketAddr, headers: &HeaderMap) -> Self {
        let peer_ip = peer.ip().to_canonical();
        let listed = cfg.trusted.iter().any(|n| n.contains(&peer_ip));
        let secret_ok = match &cfg.secret {
            None => true,
            Some((name, value)) => headers
                .get(name.as_str())
                .is_some_and(|v| secrets_equal(&String::from_utf8_lossy(v.as_bytes()), value)),
        };
        if listed && !secret_ok {
            tracing::warn!(
                %peer,
                "request from a trusted proxy address without the right proxy secret: its forwarded and identity headers are ignored"
            );
        }
        let trusted = listed && secret_ok;
        // With several proxies appending, the rightmost address is the one our proxy saw.
        let addr = cfg
            .remote_addr_header
            .as_deref()
            .filter(|_| trusted)
            .and_then(|h| header_text(headers, h))
            .and_then(|v| v.rsplit(',').next().and_then(parse_addr))
            .map_or(peer_ip, |a| a.to_canonical());
        let https = cfg.native_tls
            || cfg.force_https
            || cfg
                .scheme_header
                .as_deref()
                .filter(|_| trusted)
                .and_then(|h| header_text(headers, h))
                .is_some_and(|v| {
                    v.rsplit(',')
                        .next()
                        .is_some_and(|s| s.trim().eq_ignore_ascii_case("https"))
                });
        Self {
            peer,
            addr,
            https,
            trusted,
            request_id: kallithea_core::token::random_hex(6),
        }
    }

    /// The client of a request that went through [`layer`] (or the bare peer otherwise).
    pub fn from_request(state: &AppState, req: &Request) -> Self {
        if let Some(c) = req.extensions().get::<Client>() {
            return c.clone();
        }
        let peer = req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)), |c| c.0);
        Client::of(&state.web.proxy, peer, req.headers())
    }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Client>()
            .cloned()
            .unwrap_or_else(|| {
                let peer = parts
                    .extensions
                    .get::<ConnectInfo<SocketAddr>>()
                    .map_or(SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)), |c| c.0);
                Client::of(&ProxyConfig::default(), peer, &parts.headers)
            }))
    }
}

/// Redirects to names with non-ASCII letters: percent-encode those bytes, so every client
/// reads the `Location` header.
fn ascii_location(resp: &mut Response) {
    let Some(loc) = resp.headers().get(header::LOCATION) else {
        return;
    };
    if loc.as_bytes().is_ascii() {
        return;
    }
    let encoded: String = loc
        .as_bytes()
        .iter()
        .map(|b| {
            if b.is_ascii() {
                (*b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    if let Ok(v) = HeaderValue::from_str(&encoded) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
}

/// The error page for a request whose handling panicked (logged with the request's id).
fn panic_page(state: &AppState, panic: Box<dyn std::any::Any + Send>) -> Response {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".to_owned());
    tracing::error!("unhandled error: {what}");
    crate::WebError::new(
        kallithea_core::Error::new(
            kallithea_core::ErrorKind::Internal,
            "Something went wrong on our side.",
        ),
        &state.web.prefix,
    )
    .with_detail(show_details(), &what)
    .into_response()
}

/// Runs first for every request; see the module documentation.
pub async fn layer(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let client = Client::from_request(&state, &req);
    let span = tracing::info_span!(
        "request",
        id = %client.request_id,
        method = %req.method(),
        path = %req.uri().path(),
        client = %client.addr,
        user = tracing::field::Empty,
    );
    let tag = RequestTag {
        id: client.request_id.clone(),
        show_details: state.web.debug && client.addr.is_loopback(),
    };
    let hsts = client.https && state.web.proxy.use_hsts && !state.web.debug;
    let work = async move {
        req.extensions_mut().insert(client.clone());
        let applied =
            std::panic::AssertUnwindSafe(crate::proxy_auth::apply(&state, &client, &mut req))
                .catch_unwind()
                .await;
        let set_cookie = match applied {
            Ok(Ok(c)) => c,
            Ok(Err(resp)) => return resp,
            Err(panic) => return panic_page(&state, panic),
        };
        let mut resp = match std::panic::AssertUnwindSafe(next.run(req))
            .catch_unwind()
            .await
        {
            Ok(r) => r,
            Err(panic) => panic_page(&state, panic),
        };
        if let Some(c) = set_cookie {
            resp.headers_mut().append(header::SET_COOKIE, c);
        }
        ascii_location(&mut resp);
        resp
    };
    let mut resp = REQUEST.scope(tag, work.instrument(span)).await;
    if hsts {
        resp.headers_mut().insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=8640000; includeSubDomains"),
        );
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> ProxyConfig {
        ProxyConfig {
            remote_addr_header: Some("x-forwarded-for".into()),
            scheme_header: Some("x-forwarded-proto".into()),
            ..ProxyConfig::default()
        }
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn forwarded_headers_count_only_from_trusted_proxies() {
        let h = headers(&[
            ("x-forwarded-for", "6.6.6.6, 10.0.0.7"),
            ("x-forwarded-proto", "https"),
        ]);
        // A client-sent line before the proxy's own does not win.
        let appended = headers(&[
            ("x-forwarded-for", "127.0.0.1"),
            ("x-forwarded-for", "10.0.0.8"),
        ]);
        assert_eq!(
            Client::of(&cfg(), "127.0.0.1:4000".parse().unwrap(), &appended).addr,
            "10.0.0.8".parse::<IpAddr>().unwrap()
        );
        let local = Client::of(&cfg(), "127.0.0.1:4000".parse().unwrap(), &h);
        assert!(local.trusted);
        assert_eq!(local.addr, "10.0.0.7".parse::<IpAddr>().unwrap());
        assert!(local.https);
        let remote = Client::of(&cfg(), "192.0.2.9:4000".parse().unwrap(), &h);
        assert!(!remote.trusted);
        assert_eq!(remote.addr, "192.0.2.9".parse::<IpAddr>().unwrap());
        assert!(!remote.https);
        // IPv4-mapped IPv6 loopback is loopback.
        let mapped = Client::of(&cfg(), "[::ffff:127.0.0.1]:1".parse().unwrap(), &h);
        assert!(mapped.trusted);
    }

    #[test]
    fn proxy_secret_is_required_when_configured() {
        let mut c = cfg();
        c.secret = Some(("x-proxy-secret".into(), "s3cret".into()));
        let peer = "127.0.0.1:1".parse().unwrap();
        assert!(!Client::of(&c, peer, &headers(&[])).trusted);
        assert!(!Client::of(&c, peer, &headers(&[("x-proxy-secret", "wrong")])).trusted);
        assert!(Client::of(&c, peer, &headers(&[("x-proxy-secret", "s3cret")])).trusted);
    }

    #[test]
    fn addresses_with_ports_and_garbage() {
        assert_eq!(parse_addr("1.2.3.4:80"), Some("1.2.3.4".parse().unwrap()));
        assert_eq!(parse_addr("[::1]:80"), Some("::1".parse().unwrap()));
        assert_eq!(parse_addr("unknown"), None);
        let h = headers(&[("x-forwarded-for", "not an address")]);
        let c = Client::of(&cfg(), "127.0.0.1:1".parse().unwrap(), &h);
        assert_eq!(c.addr, "127.0.0.1".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn force_https_and_native_tls() {
        let mut c = ProxyConfig {
            force_https: true,
            ..ProxyConfig::default()
        };
        let peer = "192.0.2.1:1".parse().unwrap();
        assert!(Client::of(&c, peer, &HeaderMap::new()).https);
        c.force_https = false;
        assert!(!Client::of(&c, peer, &HeaderMap::new()).https);
        c.native_tls = true;
        assert!(Client::of(&c, peer, &HeaderMap::new()).https);
    }
}
