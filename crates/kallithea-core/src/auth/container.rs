//! The `container` plugin: the user name comes from a header that the reverse proxy in front
//! (IIS, nginx, Apache) sets after signing the person in. Kallithea's settings and meaning,
//! except that there is no fallback header unless one is set (Kallithea's default,
//! `HTTP_X_FORWARDED_USER`, is a header any client can send).

use super::{AuthPlugin, ExternalUser, PluginSettings, SettingKind, SettingSpec, header_name};

#[derive(Debug)]
pub struct Container;

const SETTINGS: &[SettingSpec] = &[
    SettingSpec {
        name: "header",
        label: "Username header",
        description: "Request header the proxy puts the user name in: a WSGI name such as REMOTE_USER (the header Remote-User) or HTTP_X_FORWARDED_USER (X-Forwarded-User), or a header name.",
        kind: SettingKind::HeaderName,
        default: "REMOTE_USER",
        required: true,
    },
    SettingSpec {
        name: "fallback_header",
        label: "Fallback header",
        description: "Header read when the username header is missing or empty; leave empty unless your proxy sets it.",
        kind: SettingKind::HeaderName,
        default: "",
        required: false,
    },
    SettingSpec {
        name: "clean_username",
        label: "Clean username",
        description: "Keep only what is before @ (a Kerberos realm) and after the last \\ (a Windows domain): DOMAIN\\bob and bob@REALM both become bob.",
        kind: SettingKind::Bool,
        default: "True",
        required: false,
    },
    SettingSpec {
        name: "email_header",
        label: "Email header",
        description: "Optional header with the user's email address; when set, it updates the account at every sign-in.",
        kind: SettingKind::HeaderName,
        default: "",
        required: false,
    },
    SettingSpec {
        name: "firstname_header",
        label: "First name header",
        description: "Optional header with the user's first name.",
        kind: SettingKind::HeaderName,
        default: "",
        required: false,
    },
    SettingSpec {
        name: "lastname_header",
        label: "Last name header",
        description: "Optional header with the user's last name.",
        kind: SettingKind::HeaderName,
        default: "",
        required: false,
    },
];

/// `DOMAIN\bob` and `bob@REALM` → `bob` (Kallithea's rule: before the first `@`, then after
/// the last `\`).
pub fn clean_username(name: &str) -> &str {
    let before_at = name.split('@').next().unwrap_or(name);
    before_at.rsplit('\\').next().unwrap_or(before_at)
}

impl AuthPlugin for Container {
    fn name(&self) -> &'static str {
        "container"
    }
    fn settings(&self) -> &'static [SettingSpec] {
        SETTINGS
    }
    fn identity_headers(&self, s: &PluginSettings) -> Vec<String> {
        [
            "header",
            "fallback_header",
            "email_header",
            "firstname_header",
            "lastname_header",
        ]
        .iter()
        .map(|k| s.get(k))
        .filter(|v| !v.trim().is_empty())
        .map(header_name)
        .collect()
    }
    fn identify(
        &self,
        s: &PluginSettings,
        header: &dyn Fn(&str) -> Option<String>,
    ) -> Option<ExternalUser> {
        let read = |key: &str| {
            let setting = s.get(key).trim();
            if setting.is_empty() {
                return None;
            }
            header(&header_name(setting))
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let raw = read("header").or_else(|| read("fallback_header"))?;
        let username = if s.flag("clean_username") {
            clean_username(&raw).trim().to_owned()
        } else {
            raw
        };
        if username.is_empty() {
            return None;
        }
        Some(ExternalUser {
            username,
            email: read("email_header"),
            firstname: read("firstname_header"),
            lastname: read("lastname_header"),
        })
    }
}
