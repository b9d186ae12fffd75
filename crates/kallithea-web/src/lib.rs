//! Everything HTTP: the router, the visitor (session or HTTP Basic), CSRF, pages rendered
//! from typed views, and Git's smart HTTP protocol. Handlers are thin: they extract input,
//! call one `kallithea-core` function and render.
//!
//! Compatibility with Kallithea's URLs and form field names is decided here and nowhere else.

mod account_pages;
mod api;
mod auth_pages;
mod browse_pages;
pub mod client;
mod compare_pages;
mod compress;
mod csrf;
mod diff;
mod error;
mod form;
mod fragments;
mod git_http;
mod graph;
mod group_pages;
mod highlight;
mod markup;
mod message;
mod page_policy;
mod pages;
mod proxy_auth;
mod repo_data;
mod repo_pages;
mod settings_pages;
mod signup_pages;
pub mod tls;
mod user_pages;
mod view;
mod visitor;

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use kallithea_core::Services;

pub use error::WebError;

/// Web settings from the configuration file.
#[derive(Clone, Debug)]
pub struct WebConfig {
    /// Path prefix when hosted in a sub-folder (`/kallithea`), empty at the root.
    pub prefix: String,
    /// Mark cookies `Secure` (when served over HTTPS).
    pub secure_cookies: bool,
    /// Show error details to loopback clients.
    pub debug: bool,
    /// Total diff size (bytes) above which a changeset's diffs are cut (`cut_off_limit`).
    pub cut_off_limit: usize,
    /// Link for `#123` in messages, with `{id}` (or Kallithea's `\1`) and `{repo}`
    /// (`issue_server_link`).
    pub issue_server_link: Option<String>,
    /// Reverse proxies, forwarded headers and HTTPS.
    pub proxy: client::ProxyConfig,
    /// The site's public address without a trailing slash (`canonical_url`), for links that
    /// leave the page: clone URLs, feeds and emails.
    pub canonical_url: Option<String>,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            prefix: String::new(),
            secure_cookies: false,
            debug: false,
            cut_off_limit: 256_000,
            issue_server_link: None,
            proxy: client::ProxyConfig::default(),
            canonical_url: None,
        }
    }
}

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    pub svc: Arc<Services>,
    pub web: Arc<WebConfig>,
    /// Limits how many git processes serve clients at once.
    pub git_slots: Arc<tokio::sync::Semaphore>,
}

impl AppState {
    pub fn new(svc: Arc<Services>, web: WebConfig) -> Self {
        Self {
            svc,
            web: Arc::new(web),
            git_slots: Arc::new(tokio::sync::Semaphore::new(64)),
        }
    }
}

/// The whole application. With a path prefix (`[filter:proxy-prefix]`), everything is served
/// under it and anything else is not found.
pub fn app(state: AppState) -> Router {
    let routes = Router::new()
        .route("/", get(pages::home))
        .route("/_admin/login", get(pages::login_form).post(pages::login))
        .route(
            "/_admin/logout",
            get(pages::logout_form).post(pages::logout),
        )
        .route("/_admin/session_csrf_secret_token", get(pages::csrf_token))
        .route("/_admin/api", axum::routing::post(api::endpoint))
        .route(
            "/_admin/register",
            get(signup_pages::register_form).post(signup_pages::register),
        )
        .route(
            "/_admin/password_reset",
            get(signup_pages::reset_form).post(signup_pages::reset),
        )
        .route(
            "/_admin/password_reset_confirmation",
            get(signup_pages::confirm_form).post(signup_pages::confirm),
        )
        .route("/_admin/create_repository", get(pages::create_repo_form))
        .route(
            "/_admin/repos",
            get(pages::repos_index).post(pages::create_repo),
        )
        .route(
            "/_admin/my_account/api_keys",
            get(account_pages::api_keys).post(account_pages::add_api_key),
        )
        .route(
            "/_admin/my_account/api_keys/delete",
            axum::routing::post(account_pages::delete_api_key),
        )
        .route(
            "/_admin/my_account/ssh_keys",
            get(account_pages::ssh_keys).post(account_pages::add_ssh_key),
        )
        .route(
            "/_admin/my_account/ssh_keys/delete",
            axum::routing::post(account_pages::delete_ssh_key),
        )
        .route("/_admin/my_account/watched", get(account_pages::watched))
        .route(
            "/_admin/toggle_following",
            axum::routing::post(account_pages::toggle_following),
        )
        .route(
            "/_admin/my_account/emails",
            get(account_pages::emails).post(account_pages::add_email),
        )
        .route(
            "/_admin/my_account/emails/delete",
            axum::routing::post(account_pages::delete_email),
        )
        .route(
            "/_admin/my_account/password",
            get(pages::password_form).post(pages::change_password),
        )
        .route(
            "/_admin/my_account",
            get(account_pages::profile).post(account_pages::save_profile),
        )
        .route(
            "/_admin/users/{id}/edit/permissions",
            axum::routing::post(user_pages::save_global),
        )
        .route(
            "/_admin/users/{id}/edit/api_keys",
            get(account_pages::user_api_keys).post(account_pages::add_user_api_key),
        )
        .route(
            "/_admin/users/{id}/edit/api_keys/delete",
            axum::routing::post(account_pages::delete_user_api_key),
        )
        .route(
            "/_admin/users/{id}/edit/ips",
            get(account_pages::user_ips).post(account_pages::add_user_ip),
        )
        .route(
            "/_admin/users/{id}/edit/ips/delete",
            axum::routing::post(account_pages::delete_user_ip),
        )
        .route(
            "/_admin/permissions/ips",
            get(account_pages::global_ips).post(account_pages::add_global_ip),
        )
        .route(
            "/_admin/permissions/ips/delete",
            axum::routing::post(account_pages::delete_global_ip),
        )
        .route("/_admin/users/new", get(pages::new_user_form))
        .route(
            "/_admin/users",
            get(user_pages::index).post(pages::create_user),
        )
        .route("/_admin/users/{id}/edit", get(user_pages::edit))
        .route(
            "/_admin/permissions",
            get(user_pages::permissions).post(user_pages::save_permissions),
        )
        .route(
            "/_admin/users/{id}",
            axum::routing::post(user_pages::update),
        )
        .route(
            "/_admin/users/{id}/delete",
            axum::routing::post(user_pages::delete),
        )
        .route(
            "/_admin/auth",
            get(auth_pages::index).post(auth_pages::save),
        )
        .route(
            "/_admin/repo_groups",
            get(group_pages::index).post(group_pages::create),
        )
        .route("/_admin/repo_groups/new", get(group_pages::new_form))
        .route(
            "/_admin/repo_groups/{*rest}",
            get(group_pages::dispatch).post(group_pages::dispatch),
        )
        .route(
            "/_admin/user_groups",
            get(group_pages::user_groups).post(group_pages::create_user_group),
        )
        .route(
            "/_admin/user_groups/{id}/edit",
            get(group_pages::edit_user_group),
        )
        .route(
            "/_admin/user_groups/{id}",
            axum::routing::post(group_pages::update_user_group),
        )
        .route(
            "/_admin/user_groups/{id}/delete",
            axum::routing::post(group_pages::delete_user_group),
        )
        .route(
            "/_admin/user_groups/{id}/edit/perms",
            axum::routing::post(group_pages::user_group_perms),
        )
        .route(
            "/_admin/user_groups/{id}/edit/perms/delete",
            axum::routing::post(group_pages::user_group_perms_delete),
        )
        .route(
            "/_admin/user_groups/{id}/edit/members",
            axum::routing::post(group_pages::members),
        )
        .route("/_admin/settings", get(settings_pages::index))
        .route(
            "/_admin/settings/global",
            get(settings_pages::global).post(settings_pages::save_global),
        )
        .route(
            "/_admin/settings/visual",
            get(settings_pages::visual).post(settings_pages::save_visual),
        )
        .route(
            "/_admin/settings/vcs",
            get(settings_pages::vcs).post(settings_pages::save_vcs),
        )
        .route("/_admin/static/style.css", get(pages::stylesheet))
        .route("/_admin/static/highlight.css", get(pages::highlight_css))
        .route("/_admin/static/kallithea.js", get(pages::script))
        .fallback(repo_pages::dispatch)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            csrf::guard,
        ))
        .with_state(state.clone());
    let routes = if state.web.prefix.is_empty() {
        routes
    } else {
        let prefix: Arc<str> = Arc::from(state.web.prefix.as_str());
        Router::new()
            .fallback_service(routes)
            .layer(axum::middleware::map_request_with_state(
                prefix,
                strip_prefix,
            ))
    };
    routes
        .layer(axum::middleware::from_fn_with_state(state, client::layer))
        .layer(axum::middleware::map_response(page_policy::add))
        .layer(compress::layer())
        .layer(axum::middleware::map_request(compress::not_for_cross_site))
}

/// Removes the configured prefix from the request path, or answers 404 for paths outside it
/// (`/kallitheafoo` is outside `/kallithea`).
async fn strip_prefix(
    axum::extract::State(prefix): axum::extract::State<Arc<str>>,
    mut req: axum::extract::Request,
) -> Result<axum::extract::Request, axum::response::Response> {
    use axum::response::IntoResponse;
    let path = req.uri().path();
    let rest = match path.strip_prefix(&*prefix) {
        Some("") => "/".to_owned(),
        Some(r) if r.starts_with('/') => r.to_owned(),
        _ => {
            let msg = format!("Not found: this server serves everything under {prefix}/\n");
            return Err((axum::http::StatusCode::NOT_FOUND, msg).into_response());
        }
    };
    let new = match req.uri().query() {
        Some(q) => format!("{rest}?{q}"),
        None => rest,
    };
    match new.parse() {
        Ok(uri) => {
            *req.uri_mut() = uri;
            Ok(req)
        }
        Err(_) => Err((axum::http::StatusCode::BAD_REQUEST, "Bad request path.\n").into_response()),
    }
}

/// Runs a change that touches the disk and the database together to its end even if the
/// client goes away (a dropped request must not stop between the two).
pub(crate) async fn to_the_end<T: Send + 'static>(
    f: impl std::future::Future<Output = kallithea_core::Result<T>> + Send + 'static,
) -> kallithea_core::Result<T> {
    tokio::spawn(f)
        .await
        .map_err(|e| kallithea_core::Error::internal("finishing a change", e))?
}

/// How long a client may take to send a request's headers (slow clients hold a connection).
const HEADER_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// How long a client may take for the TLS handshake.
const TLS_HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Serves the application on a bound listener until the process stops, over TLS when `tls`
/// is given. Each connection gets the peer address (for throttling and logs) and a limit on
/// how long its headers may take.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    tls: Option<Arc<tokio_rustls::rustls::ServerConfig>>,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use hyper_util::server::conn::auto::Builder;
    use hyper_util::service::TowerToHyperService;
    use tower::ServiceExt;

    // Prepare what the first pages would otherwise wait for (about 50 ms) before answering:
    // connections wait in the listener's queue meanwhile.
    let _ = tokio::task::spawn_blocking(highlight::warm_up).await;
    let app = app(state);
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    builder.http2().timer(TokioTimer::new());
    let builder = std::sync::Arc::new(builder);
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                // Out of file descriptors and the like: wait a little rather than spin.
                tracing::warn!("accepting a connection: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let svc =
            app.clone()
                .map_request(move |mut req: axum::http::Request<hyper::body::Incoming>| {
                    req.extensions_mut()
                        .insert(axum::extract::ConnectInfo(peer));
                    req
                });
        let builder = builder.clone();
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let result = match acceptor {
                None => {
                    builder
                        .serve_connection_with_upgrades(
                            TokioIo::new(stream),
                            TowerToHyperService::new(svc),
                        )
                        .await
                }
                Some(acceptor) => {
                    let tls =
                        match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream))
                            .await
                        {
                            Ok(Ok(s)) => s,
                            Ok(Err(e)) => {
                                tracing::debug!(%peer, "TLS handshake failed: {e}");
                                return;
                            }
                            Err(_) => {
                                tracing::debug!(%peer, "TLS handshake timed out");
                                return;
                            }
                        };
                    builder
                        .serve_connection_with_upgrades(
                            TokioIo::new(tls),
                            TowerToHyperService::new(svc),
                        )
                        .await
                }
            };
            if let Err(e) = result {
                tracing::debug!(%peer, "connection ended: {e}");
            }
        });
    }
}
