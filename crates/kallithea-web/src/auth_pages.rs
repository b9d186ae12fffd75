//! `/_admin/auth`: the authentication plugins in use, in order, and each plugin's settings as
//! a form generated from what the plugin declares (Kallithea's field names:
//! `auth_plugins`, `auth_<plugin>_<setting>`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kallithea_core::ErrorKind;
use kallithea_core::auth::{self, SettingKind};

use crate::form::Form;
use crate::pages::{layout, require_user, web_err};
use crate::view::{AuthField, AuthPluginItem, AuthSection, AuthSettingsPage, render};
use crate::visitor::Visitor;
use crate::{AppState, WebError};

fn page(
    state: &AppState,
    v: &Visitor,
    plugins_value: Option<String>,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Response, WebError> {
    let cfg = auth::for_admin(&state.svc, &v.actor).map_err(web_err(state))?;
    let listed: Vec<&str> = cfg.listed.iter().map(|p| p.name()).collect();
    let sections = cfg
        .listed
        .iter()
        .map(|p| {
            let s = cfg.settings_of(*p);
            let mut fields = vec![AuthField {
                key: auth::setting_key(*p, "enabled"),
                label: "Enabled",
                description: "Turn this plugin off without removing it from the list.",
                is_bool: true,
                value: String::new(),
                checked: s.flag("enabled"),
            }];
            fields.extend(p.settings().iter().map(|spec| AuthField {
                key: auth::setting_key(*p, spec.name),
                label: spec.label,
                description: spec.description,
                is_bool: spec.kind == SettingKind::Bool,
                value: s.get(spec.name).to_owned(),
                checked: s.flag(spec.name),
            }));
            AuthSection {
                name: p.name(),
                fields,
            }
        })
        .collect();
    let view = AuthSettingsPage {
        layout: layout(state, v),
        plugins_value: plugins_value.unwrap_or_else(|| {
            cfg.listed
                .iter()
                .map(|p| auth::module_name(*p))
                .collect::<Vec<_>>()
                .join(",")
        }),
        available: auth::available()
            .iter()
            .map(|p| AuthPluginItem {
                module: auth::module_name(*p),
                listed: listed.contains(&p.name()),
            })
            .collect(),
        not_yet: vec!["ldap", "crowd", "pam"],
        sections,
        error: error.clone(),
        notice,
    };
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    Ok((status, render(&view)).into_response())
}

/// GET /_admin/auth
pub async fn index(State(state): State<AppState>, v: Visitor) -> Result<Response, WebError> {
    require_user(&state, &v, "/_admin/auth")?;
    page(&state, &v, None, None, None)
}

/// POST /_admin/auth — all or nothing; a refused form is shown again with the reason.
pub async fn save(
    State(state): State<AppState>,
    v: Visitor,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    require_user(&state, &v, "/_admin/auth")?;
    let plugins = fields
        .iter()
        .find(|(k, _)| k == "auth_plugins")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let change = auth::Change {
        plugins: plugins.clone(),
        fields: fields
            .into_iter()
            .filter(|(k, _)| k.starts_with("auth_"))
            .collect(),
    };
    match auth::save(&state.svc, &v.actor, &change).await {
        Ok(()) => page(
            &state,
            &v,
            None,
            None,
            Some("Authentication settings saved.".into()),
        ),
        Err(e) if e.kind == ErrorKind::InvalidInput => {
            page(&state, &v, Some(plugins), Some(e.message), None)
        }
        Err(e) => Err(web_err(&state)(e)),
    }
}
