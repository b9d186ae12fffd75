//! Git's smart HTTP protocol (v0 and v2): `info/refs`, `git-upload-pack`, `git-receive-pack`.
//!
//! Authentication (HTTP Basic with a password or an API key) and the read/write check happen
//! here, before any process starts; then the request body is streamed into
//! `git <service> --stateless-rpc` and its output streamed back, never buffered whole.

use async_compression::tokio::bufread::GzipDecoder;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use futures_util::TryStreamExt;
use kallithea_core::git_service::Service;
use kallithea_core::hooks::{ENV_IP, ENV_USER};

use crate::client::Client;
use crate::proxy_auth::ProxyUser;
use kallithea_core::permission::Permissions;
use kallithea_core::repo::{self, RepoRow};
use kallithea_core::{Actor, ErrorKind, user};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio_util::io::StreamReader;

use crate::AppState;

fn text(status: StatusCode, msg: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{msg}\n"),
    )
        .into_response()
}

pub fn not_found() -> Response {
    text(StatusCode::NOT_FOUND, "Repository not found.")
}

/// 401 with the site's realm (`/_admin/settings/global`; it has no quotes or backslashes).
fn ask_for_credentials(realm: &str, msg: &str) -> Response {
    let mut r = text(StatusCode::UNAUTHORIZED, msg);
    let value = HeaderValue::from_str(&format!("Basic realm=\"{realm}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("Basic realm=\"Kallithea\""));
    r.headers_mut().insert(header::WWW_AUTHENTICATE, value);
    r
}

/// Who the request is from: nobody (no credentials), a user, or a failure to report.
async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    proxy_user: Option<&ProxyUser>,
    client: &Client,
) -> Result<Actor, Response> {
    // A user the trusted proxy signed in (`proxy_auth`) comes first: the proxy may also have
    // passed on the Authorization header it checked.
    if let Some(ProxyUser(u)) = proxy_user {
        return Ok(user::actor_of(u));
    }
    let Some(auth) = headers.get(header::AUTHORIZATION) else {
        return Ok(Actor::Anonymous);
    };
    let creds = auth
        .to_str()
        .ok()
        .and_then(|v| {
            v.strip_prefix("Basic ")
                .or_else(|| v.strip_prefix("basic "))
        })
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|b| String::from_utf8(b).ok());
    let Some((username, secret)) = creds.as_deref().and_then(|c| c.split_once(':')) else {
        return Err(ask_for_credentials(
            &kallithea_core::site::current(&state.svc).realm,
            "Malformed Authorization header: use HTTP Basic.",
        ));
    };
    // An API key works as the password.
    if let Ok(Some(u)) = user::authenticate_api_key(&state.svc, secret).await
        && (username.is_empty() || u.username.eq_ignore_ascii_case(username))
    {
        return Ok(user::actor_of(&u));
    }
    match user::authenticate_password(&state.svc, username, secret, &client.addr.to_string()).await
    {
        Ok(u) => Ok(user::actor_of(&u)),
        Err(e) if e.kind == ErrorKind::Throttled => {
            Err(text(StatusCode::TOO_MANY_REQUESTS, &e.message))
        }
        Err(e) if e.kind == ErrorKind::AuthFailed => Err(ask_for_credentials(
            &kallithea_core::site::current(&state.svc).realm,
            &format!("Authentication failed: {}", e.message),
        )),
        Err(e) => Err(text(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("Authentication could not be checked: {}", e.message),
        )),
    }
}

/// Handles one smart-HTTP request for a resolved repository. `op` is `refs`,
/// `git-upload-pack` or `git-receive-pack`.
pub async fn serve(state: &AppState, row: RepoRow, op: &str, req: Request) -> Response {
    let query = req.uri().query().unwrap_or("").to_owned();
    let (service, advertise) = match (req.method(), op) {
        (&Method::GET, "refs") => {
            let svc = query
                .split('&')
                .find_map(|kv| kv.strip_prefix("service="))
                .and_then(Service::parse);
            match svc {
                Some(s) => (s, true),
                None => {
                    return text(
                        StatusCode::FORBIDDEN,
                        "Only the smart HTTP protocol is supported: use a git client newer than 1.6.6.",
                    );
                }
            }
        }
        (&Method::POST, name) if Service::parse(name).is_some() => {
            (Service::parse(name).expect("checked"), false)
        }
        _ => {
            return text(
                StatusCode::METHOD_NOT_ALLOWED,
                "Use GET for info/refs and POST for the service endpoints.",
            );
        }
    };
    if row.repo_type != "git" {
        return text(StatusCode::NOT_FOUND, "This is not a Git repository.");
    }
    let client = Client::from_request(state, &req);
    let proxy_user = req.extensions().get::<ProxyUser>().cloned();
    let actor = match authenticate(state, req.headers(), proxy_user.as_ref(), &client).await {
        Ok(a) => a,
        Err(resp) => return resp,
    };
    tracing::Span::current().record("user", actor.username());
    if let Some(id) = actor.user_id() {
        match kallithea_core::account::ip_allowed(&state.svc, id, client.addr).await {
            Ok(true) => {}
            Ok(false) => {
                return text(
                    StatusCode::FORBIDDEN,
                    &format!(
                        "User {} may not connect from the address {}.",
                        actor.username(),
                        client.addr
                    ),
                );
            }
            Err(e) => return text(StatusCode::INTERNAL_SERVER_ERROR, &e.message),
        }
    }
    let perms = match Permissions::load(&state.svc, &actor).await {
        Ok(p) => p,
        Err(e) => return text(StatusCode::INTERNAL_SERVER_ERROR, &e.message),
    };
    let repo_name = row.name.clone();
    let need = if service.is_write() {
        kallithea_model::PermLevel::Write
    } else {
        kallithea_model::PermLevel::Read
    };
    let access = match repo::open(&perms, row, need) {
        Ok(a) => a,
        Err(e) if e.kind == ErrorKind::LoginRequired => {
            return ask_for_credentials(
                &kallithea_core::site::current(&state.svc).realm,
                if service.is_write() {
                    "Pushing needs a user name and password."
                } else {
                    "This repository needs a user name and password."
                },
            );
        }
        Err(_) => {
            let what = if service.is_write() {
                "push to"
            } else {
                "read"
            };
            return text(
                StatusCode::FORBIDDEN,
                &format!(
                    "User {} may not {what} repository {}.",
                    actor.username(),
                    repo_name
                ),
            );
        }
    };
    let protocol = req
        .headers()
        .get("git-protocol")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let env = vec![
        (ENV_USER, actor.username().to_owned()),
        (ENV_IP, client.addr.to_string()),
    ];
    if !advertise {
        let want = format!("application/x-{}-request", service.name());
        let ct = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if ct != want {
            return text(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                &format!("Expected Content-Type {want}."),
            );
        }
    }
    let slot = match tokio::time::timeout(
        std::time::Duration::from_secs(60),
        state.git_slots.clone().acquire_owned(),
    )
    .await
    {
        Ok(Ok(p)) => p,
        _ => {
            return text(
                StatusCode::SERVICE_UNAVAILABLE,
                "Too many Git operations are running; try again in a moment.",
            );
        }
    };
    let mut child = match kallithea_core::git_service::spawn(
        &state.svc,
        &access,
        service,
        advertise,
        protocol.as_deref(),
        &env,
    ) {
        Ok(c) => c,
        Err(e) if e.kind == ErrorKind::NotFound => return text(StatusCode::NOT_FOUND, &e.message),
        Err(e) => {
            tracing::error!("starting git: {e}");
            return text(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The Git service could not be started.",
            );
        }
    };

    let (Some(mut stdin), Some(stdout), Some(mut stderr)) =
        (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        return text(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The Git service could not be started.",
        );
    };
    let gzip = req
        .headers()
        .get(header::CONTENT_ENCODING)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"gzip"));
    let body_stream = req
        .into_body()
        .into_data_stream()
        .map_err(std::io::Error::other);
    let reader = StreamReader::new(body_stream);
    tokio::spawn(async move {
        let _slot = slot;
        // stderr is read while git runs (so it never blocks on a full pipe), keeping 64 KiB.
        let stderr_task = tokio::spawn(async move {
            let mut kept = Vec::new();
            let _ = (&mut stderr).take(64 * 1024).read_to_end(&mut kept).await;
            let _ = tokio::io::copy(&mut stderr, &mut tokio::io::sink()).await;
            kept
        });
        if !advertise {
            let input: Box<dyn AsyncRead + Send + Unpin> = if gzip {
                Box::new(GzipDecoder::new(reader))
            } else {
                Box::new(reader)
            };
            if let Err(e) = copy_with_idle_timeout(input, &mut stdin).await {
                tracing::warn!("git request body ended early: {e}");
            }
        }
        drop(stdin);
        let status = child.wait().await;
        let err = String::from_utf8_lossy(&stderr_task.await.unwrap_or_default())
            .trim()
            .to_owned();
        match status {
            Ok(s) if !s.success() => {
                tracing::warn!(status = %s, stderr = %err, "git service exited with an error")
            }
            Err(e) => tracing::warn!("waiting for git: {e}"),
            _ => {}
        }
    });
    let mut prefix = Vec::new();
    if advertise && !protocol.as_deref().is_some_and(|p| p.contains("version=2")) {
        let line = format!("# service={}\n", service.name());
        prefix.extend_from_slice(format!("{:04x}{line}0000", line.len() + 4).as_bytes());
    }
    let head = futures_util::stream::once(async move {
        Ok::<_, std::io::Error>(axum::body::Bytes::from(prefix))
    });
    let body = Body::from_stream(futures_util::StreamExt::chain(
        head,
        stream_with_idle_timeout(stdout),
    ));
    let kind = if advertise { "advertisement" } else { "result" };
    let mut resp = Response::new(body);
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&format!("application/x-{}-{kind}", service.name())) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, max-age=0, must-revalidate"),
    );
    h.insert(
        header::EXPIRES,
        HeaderValue::from_static("Fri, 01 Jan 1980 00:00:00 GMT"),
    );
    resp
}

/// How long a transfer may stall (no bytes either way) before it is abandoned.
const IDLE: std::time::Duration = std::time::Duration::from_secs(300);

/// Copies the request body into git, giving up when the client sends nothing for [`IDLE`].
async fn copy_with_idle_timeout(
    mut input: impl AsyncRead + Unpin,
    stdin: &mut tokio::process::ChildStdin,
) -> std::io::Result<()> {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = tokio::time::timeout(IDLE, input.read(&mut buf))
            .await
            .map_err(|_| {
                std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "client sent nothing for 5 minutes",
                )
            })??;
        if n == 0 {
            return Ok(());
        }
        tokio::time::timeout(IDLE, stdin.write_all(&buf[..n]))
            .await
            .map_err(|_| {
                std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "git read nothing for 5 minutes",
                )
            })??;
    }
}

/// git's output as a body stream that ends with an error when git is silent for [`IDLE`]
/// (the client then sees the connection close, and git stops on the closed pipe).
fn stream_with_idle_timeout(
    stdout: tokio::process::ChildStdout,
) -> impl futures_util::Stream<Item = std::io::Result<axum::body::Bytes>> {
    futures_util::stream::unfold(Some(stdout), |state| async move {
        let mut out = state?;
        let mut buf = vec![0u8; 64 * 1024];
        match tokio::time::timeout(IDLE, out.read(&mut buf)).await {
            Ok(Ok(0)) => None,
            Ok(Ok(n)) => {
                buf.truncate(n);
                Some((Ok(axum::body::Bytes::from(buf)), Some(out)))
            }
            Ok(Err(e)) => Some((Err(e), None)),
            Err(_) => Some((
                Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "git was silent for 5 minutes",
                )),
                None,
            )),
        }
    })
}
