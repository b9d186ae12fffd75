//! Kallithea's JSON-RPC API at `POST /_admin/api`: `{"id", "api_key", "method", "args"}` in,
//! `{"id", "result", "error"}` out, always with HTTP 200, as Kallithea 0.7 answers (and with
//! its messages for protocol errors and for missing or unknown arguments). The API key (the
//! main key or an unexpired extra one) names the user; inactive users and users outside their
//! IP allow-list are refused. Each method checks permissions through the same core functions
//! as the pages. Method bodies are in [`methods`].

mod args;
mod methods;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use kallithea_core::permission::Permissions;
use kallithea_core::user::{self, UserRow};
use serde_json::{Value, json};

use crate::AppState;
use crate::client::Client;

/// The largest request body read.
const BODY_LIMIT: usize = 1024 * 1024;

/// What a method returns: a result or an error sentence for the envelope.
pub type Outcome = Result<Value, String>;

/// The caller: the user the key names, their permissions and where they connect from.
pub struct Caller {
    pub user: UserRow,
    pub perms: Permissions,
    pub client: Client,
}

impl Caller {
    pub fn is_admin(&self) -> bool {
        self.user.admin
    }
    pub fn require_admin(&self) -> Result<(), String> {
        if self.is_admin() {
            Ok(())
        } else {
            Err("this method can only be used by site administrators".into())
        }
    }
}

fn envelope(id: &Value, outcome: Outcome) -> Response {
    let body = match outcome {
        Ok(result) => json!({"id": id, "result": result, "error": null}),
        Err(error) => json!({"id": id, "result": null, "error": error}),
    };
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// `POST /_admin/api`.
pub async fn endpoint(State(state): State<AppState>, req: Request) -> Response {
    let client = Client::from_request(&state, &req);
    let null = Value::Null;
    let body: Bytes = match axum::body::to_bytes(req.into_body(), BODY_LIMIT).await {
        Ok(b) => b,
        Err(_) => {
            return envelope(
                &null,
                Err(format!(
                    "The request body is larger than the API accepts ({BODY_LIMIT} bytes)."
                )),
            );
        }
    };
    if body.is_empty() {
        return envelope(&null, Err("Content-Length is 0".into()));
    }
    let parsed: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            let raw: String = String::from_utf8_lossy(&body).chars().take(200).collect();
            return envelope(&null, Err(format!("JSON parse error ERR:{e} RAW:{raw:?}")));
        }
    };
    let Some(obj) = parsed.as_object() else {
        return envelope(
            &null,
            Err("Incorrect JSON query: the body must be a JSON object with id, api_key, method and args".into()),
        );
    };
    let id = obj.get("id").cloned().unwrap_or(Value::Null);
    for key in ["api_key", "id", "method", "args"] {
        if !obj.contains_key(key) {
            return envelope(&id, Err(format!("Incorrect JSON query missing '{key}'")));
        }
    }
    let caller = match authenticate(&state, obj.get("api_key"), &client).await {
        Some(c) => c,
        None => return envelope(&id, Err("Invalid API key".into())),
    };
    let Some(method) = obj.get("method").and_then(Value::as_str) else {
        return envelope(
            &id,
            Err("No such method: the method must be a string".into()),
        );
    };
    tracing::Span::current().record("user", caller.user.username.as_str());
    // Kallithea treats `args` that is not an object as no arguments.
    let args = obj
        .get("args")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let outcome = methods::call(&state, &caller, method, args).await;
    envelope(&id, outcome)
}

async fn authenticate(state: &AppState, key: Option<&Value>, client: &Client) -> Option<Caller> {
    let key = key?.as_str()?;
    let user = user::authenticate_api_key(&state.svc, key).await.ok()??;
    let allowed = kallithea_core::account::ip_allowed(&state.svc, user.id, client.addr)
        .await
        .ok()?;
    if !allowed {
        tracing::warn!(user = %user.username, addr = %client.addr, "API call refused: address not on the allow-list");
        return None;
    }
    let perms = Permissions::load(&state.svc, &kallithea_core::user::actor_of(&user))
        .await
        .ok()?;
    Some(Caller {
        user,
        perms,
        client: client.clone(),
    })
}
