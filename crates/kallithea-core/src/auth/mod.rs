//! Authentication plugins: the one trait every way of signing in implements, the built-in
//! plugins (`internal`: passwords kept here; `container`: a name handed over by a trusted
//! reverse proxy), their settings as Kallithea stores them (`auth_plugins` and
//! `auth_<plugin>_<setting>` in the `settings` table), and making or updating the local
//! account of a user a plugin vouches for.
//!
//! Which peers may hand over a name is decided by the web layer (trusted proxies and the
//! proxy secret); plugins only read what they are given.

mod container;
mod internal;

use std::collections::HashMap;
use std::sync::Arc;

use kallithea_db::user::{NewUser, User};
use kallithea_model::UserName;

use crate::token::new_api_key;
use crate::user::DEFAULT_USER;
use crate::{Actor, Error, ErrorKind, Result, Services, now};

pub use container::Container;
pub use internal::Internal;

/// How a setting is shown and checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SettingKind {
    /// A checkbox, stored as `True` or `False` (Kallithea's spelling).
    Bool,
    /// The name of a request header, in WSGI form (`REMOTE_USER`, `HTTP_X_FORWARDED_USER`)
    /// or as a header name (`X-Forwarded-User`); empty means unused unless `required`.
    HeaderName,
}

/// One setting a plugin declares; the admin form is generated from these.
#[derive(Clone, Copy, Debug)]
pub struct SettingSpec {
    pub name: &'static str,
    pub label: &'static str,
    pub description: &'static str,
    pub kind: SettingKind,
    pub default: &'static str,
    pub required: bool,
}

/// What a plugin knows about a user it vouches for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExternalUser {
    pub username: String,
    /// `None` when the plugin does not manage the field.
    pub email: Option<String>,
    pub firstname: Option<String>,
    pub lastname: Option<String>,
}

/// A plugin's settings, with defaults filled in, keyed by the short name (`header`).
#[derive(Clone, Debug, Default)]
pub struct PluginSettings(HashMap<String, String>);

impl PluginSettings {
    pub fn get(&self, name: &str) -> &str {
        self.0.get(name).map_or("", String::as_str)
    }
    pub fn flag(&self, name: &str) -> bool {
        is_true(self.get(name))
    }
}

fn is_true(v: &str) -> bool {
    matches!(
        v.trim().to_ascii_lowercase().as_str(),
        "true" | "on" | "yes" | "1"
    )
}

/// A way of signing in. Plugins declare their settings; those that take the user from the
/// request (`container`) implement [`AuthPlugin::identify`], those that check passwords say
/// so with [`AuthPlugin::checks_passwords`].
pub trait AuthPlugin: Send + Sync + std::fmt::Debug {
    /// Short name: `internal`, `container`. Settings are stored as `auth_<name>_<setting>`.
    fn name(&self) -> &'static str;
    /// What the admin can set, besides `enabled` (which every plugin has).
    fn settings(&self) -> &'static [SettingSpec];
    /// Whether the sign-in form and HTTP Basic passwords go through this plugin.
    fn checks_passwords(&self) -> bool {
        false
    }
    /// The request headers (lower-case names) this plugin reads, for refusing their
    /// underscore spellings.
    fn identity_headers(&self, _settings: &PluginSettings) -> Vec<String> {
        Vec::new()
    }
    /// Who the request is from, read through `header` (lower-case header name → value).
    /// Only called for requests from a trusted proxy.
    fn identify(
        &self,
        _settings: &PluginSettings,
        _header: &dyn Fn(&str) -> Option<String>,
    ) -> Option<ExternalUser> {
        None
    }
}

/// Every built-in plugin, in the order the admin page lists them.
pub fn available() -> [&'static dyn AuthPlugin; 2] {
    [&Internal, &Container]
}

/// Kallithea's plugins that this version does not have yet.
const NOT_YET: &[&str] = &["ldap", "pam", "crowd"];

const MODULE_PREFIX: &str = "kallithea.lib.auth_modules.auth_";

/// Kallithea's module name of a plugin (`kallithea.lib.auth_modules.auth_container`).
pub fn module_name(p: &dyn AuthPlugin) -> String {
    format!("{MODULE_PREFIX}{}", p.name())
}

/// Finds a plugin by short name or by any module path ending in `.lib.auth_modules.auth_<name>`
/// (Kallithea's and RhodeCode's spellings).
pub fn find(name: &str) -> Result<&'static dyn AuthPlugin> {
    let name = name.trim();
    let short = name
        .split_once(".lib.auth_modules.auth_")
        .map_or(name, |(_, s)| s);
    if let Some(p) = available().into_iter().find(|p| p.name() == short) {
        return Ok(p);
    }
    if NOT_YET.contains(&short) {
        return Err(Error::invalid(format!(
            "The authentication plugin \"{short}\" is not available in this version yet."
        )));
    }
    let names: Vec<&str> = available().iter().map(|p| p.name()).collect();
    Err(Error::invalid(format!(
        "There is no authentication plugin \"{name}\"; available: {}.",
        names.join(", ")
    )))
}

/// The stored key of a plugin setting.
pub fn setting_key(p: &dyn AuthPlugin, name: &str) -> String {
    format!("auth_{}_{name}", p.name())
}

/// The plugins in use, in order, and every plugin's settings. Kept in memory
/// ([`Services::auth`]) and replaced when an admin saves.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// Listed in `auth_plugins`, in order (including ones whose `enabled` is off).
    pub listed: Vec<&'static dyn AuthPlugin>,
    stored: HashMap<String, String>,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            listed: vec![&Internal],
            stored: HashMap::new(),
        }
    }
}

impl AuthConfig {
    /// A plugin's settings with defaults for what was never saved; `enabled` defaults to on
    /// for a listed plugin.
    pub fn settings_of(&self, p: &dyn AuthPlugin) -> PluginSettings {
        let mut m = HashMap::new();
        let enabled = self
            .stored
            .get(&setting_key(p, "enabled"))
            .is_none_or(|v| is_true(v));
        m.insert(
            "enabled".to_owned(),
            if enabled { "True" } else { "False" }.to_owned(),
        );
        for s in p.settings() {
            let v = self
                .stored
                .get(&setting_key(p, s.name))
                .cloned()
                .unwrap_or_else(|| s.default.to_owned());
            m.insert(s.name.to_owned(), v);
        }
        PluginSettings(m)
    }

    /// Listed and enabled plugins, in order, with their settings.
    pub fn active(&self) -> impl Iterator<Item = (&'static dyn AuthPlugin, PluginSettings)> + '_ {
        self.listed
            .iter()
            .map(|p| (*p, self.settings_of(*p)))
            .filter(|(_, s)| s.flag("enabled"))
    }

    pub fn is_active(&self, name: &str) -> bool {
        self.active().any(|(p, _)| p.name() == name)
    }

    /// The active plugins that take the user from the request.
    pub fn request_plugins(&self) -> Vec<(&'static dyn AuthPlugin, PluginSettings)> {
        self.active()
            .filter(|(p, s)| !p.identity_headers(s).is_empty())
            .collect()
    }
}

/// Reads the settings from the database into [`Services::auth`]. Called at start-up and after
/// every save.
pub async fn reload(svc: &Services) -> Result<()> {
    let mut tx = svc.db.read().await?;
    let stored: HashMap<String, String> = kallithea_db::setting::with_prefix(&mut tx, "auth_")
        .await?
        .into_iter()
        .collect();
    tx.commit().await?;
    let mut listed = Vec::new();
    match stored.get("auth_plugins") {
        Some(list) => {
            for item in list.split(',').filter(|s| !s.trim().is_empty()) {
                match find(item) {
                    Ok(p)
                        if !listed
                            .iter()
                            .any(|l: &&dyn AuthPlugin| l.name() == p.name()) =>
                    {
                        listed.push(p);
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!("auth_plugins: {}", e.message),
                }
            }
        }
        None => listed.push(&Internal as &dyn AuthPlugin),
    }
    let cfg = AuthConfig { listed, stored };
    *svc.auth.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(cfg);
    Ok(())
}

/// The settings, for the admin page.
pub fn for_admin(svc: &Services, actor: &Actor) -> Result<Arc<AuthConfig>> {
    if !actor.is_admin() {
        return Err(crate::repo::denied(actor));
    }
    Ok(current(svc))
}

/// The settings in use.
pub fn current(svc: &Services) -> Arc<AuthConfig> {
    svc.auth.read().unwrap_or_else(|p| p.into_inner()).clone()
}

/// `REMOTE_USER` → `remote-user`, `HTTP_X_FORWARDED_USER` → `x-forwarded-user`,
/// `X-Forwarded-User` → `x-forwarded-user`: the lower-case HTTP header a WSGI name means.
pub fn header_name(setting: &str) -> String {
    let s = setting.trim();
    let s = if s.len() > 5 && s[..5].eq_ignore_ascii_case("HTTP_") {
        &s[5..]
    } else {
        s
    };
    s.replace('_', "-").to_ascii_lowercase()
}

/// Headers a browser or git sends itself; none of them can carry a proxy's identity.
const CLIENT_HEADERS: &[&str] = &[
    "authorization",
    "cookie",
    "host",
    "content-type",
    "content-length",
    "user-agent",
    "accept",
];

fn check_header_setting(label: &str, v: &str, required: bool) -> Result<String> {
    let v = v.trim();
    if v.is_empty() {
        if required {
            return Err(Error::invalid(format!("{label} must not be empty.")));
        }
        return Ok(String::new());
    }
    if v.len() > 100
        || !v
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(Error::invalid(format!(
            "{label}: \"{v}\" is not a header name (letters, digits, - and _ only, such as REMOTE_USER or X-Forwarded-User)."
        )));
    }
    if CLIENT_HEADERS.contains(&header_name(v).as_str()) {
        return Err(Error::invalid(format!(
            "{label}: \"{v}\" is a header clients send themselves; use the header your proxy sets."
        )));
    }
    Ok(v.to_owned())
}

/// What the admin form sent: the plugin list and `auth_<plugin>_<setting>` fields.
#[derive(Debug, Clone, Default)]
pub struct Change {
    pub plugins: String,
    pub fields: Vec<(String, String)>,
}

/// Saves the plugin list and the settings of the listed plugins, all or nothing.
pub async fn save(svc: &Services, actor: &Actor, change: &Change) -> Result<()> {
    if !actor.is_admin() {
        return Err(crate::repo::denied(actor));
    }
    let mut listed: Vec<&'static dyn AuthPlugin> = Vec::new();
    for item in change.plugins.split(',').filter(|s| !s.trim().is_empty()) {
        let p = find(item)?;
        if !listed.iter().any(|l| l.name() == p.name()) {
            listed.push(p);
        }
    }
    if listed.is_empty() {
        return Err(Error::invalid(
            "At least one authentication plugin must be enabled (internal lets people sign in with passwords).",
        ));
    }
    let field = |k: &str| {
        change
            .fields
            .iter()
            .rev()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
    };
    let mut values: Vec<(String, String)> = Vec::new();
    for p in &listed {
        let key = setting_key(*p, "enabled");
        // A plugin shown on the form sends its checkbox; one just added to the list has no
        // field yet and starts enabled.
        let enabled = match field(&key) {
            Some(v) => is_true(v),
            None => !change
                .fields
                .iter()
                .any(|(n, _)| n == &format!("{key}_shown")),
        };
        values.push((key, if enabled { "True" } else { "False" }.to_owned()));
        for s in p.settings() {
            let key = setting_key(*p, s.name);
            let v = match (s.kind, field(&key)) {
                (SettingKind::Bool, v) => {
                    let shown = change
                        .fields
                        .iter()
                        .any(|(n, _)| n == &format!("{key}_shown"));
                    let on = match v {
                        Some(v) => is_true(v),
                        None if shown => false,
                        None => is_true(current(svc).settings_of(*p).get(s.name)),
                    };
                    if on { "True" } else { "False" }.to_owned()
                }
                (SettingKind::HeaderName, Some(v)) => check_header_setting(s.label, v, s.required)?,
                (SettingKind::HeaderName, None) => {
                    current(svc).settings_of(*p).get(s.name).to_owned()
                }
            };
            values.push((key, v));
        }
    }
    let modules: Vec<String> = listed.iter().map(|p| module_name(*p)).collect();
    values.push(("auth_plugins".to_owned(), modules.join(",")));
    let mut tx = svc.db.write().await?;
    for (k, v) in &values {
        kallithea_db::setting::set(&mut tx, k, v).await?;
    }
    tx.commit().await?;
    reload(svc).await
}

fn check_field(label: &str, v: &str) -> Option<String> {
    let v = v.trim();
    (!v.is_empty() && v.chars().count() <= 255 && !v.chars().any(char::is_control))
        .then(|| v.to_owned())
        .filter(|_| label != "email" || v.contains('@'))
}

/// The account of a user a plugin vouches for: found by name (ignoring case), or made on
/// first sight with the default permissions, active or awaiting activation as the
/// `hg.extern_activate` default says. Fields the plugin manages are updated. An inactive
/// account is refused with a sentence that says whether it awaits activation.
pub async fn sign_in_external(
    svc: &Services,
    plugin: &dyn AuthPlugin,
    ext: &ExternalUser,
    record_login: bool,
) -> Result<User> {
    let name = UserName::parse(&ext.username).map_err(|e| {
        Error::new(
            ErrorKind::Forbidden,
            format!(
                "The proxy signed you in as \"{}\", which is not a valid user name here: {e}",
                ext.username
            ),
        )
    })?;
    if name.as_str().eq_ignore_ascii_case(DEFAULT_USER) {
        return Err(Error::new(
            ErrorKind::Forbidden,
            "The proxy signed you in as \"default\", a name reserved for anonymous visitors.",
        ));
    }
    let email = ext.email.as_deref().and_then(|v| check_field("email", v));
    let firstname = ext
        .firstname
        .as_deref()
        .and_then(|v| check_field("first name", v));
    let lastname = ext
        .lastname
        .as_deref()
        .and_then(|v| check_field("last name", v));

    let mut tx = svc.db.read().await?;
    let found = kallithea_db::user::find_by_name(&mut tx, name.as_str()).await?;
    tx.commit().await?;
    let user = match found {
        Some(u) => {
            // As in Kallithea, a plugin signs in only the accounts it made: a proxy must not
            // be able to become an account that signs in with a password here (such as the
            // first admin), whatever domain or realm `clean_username` took away.
            if u.extern_type != plugin.name() {
                tracing::warn!(
                    "{} named the account {}, which signs in through {}; refused",
                    plugin.name(),
                    u.username,
                    u.extern_type
                );
                return Err(Error::new(
                    ErrorKind::Forbidden,
                    format!(
                        "The account \"{}\" signs in with {} here, not through the proxy. Sign in at the sign-in page, or ask an administrator.",
                        u.username,
                        if u.extern_type == "internal" {
                            "a password".to_owned()
                        } else {
                            format!("the {} plugin", u.extern_type)
                        }
                    ),
                ));
            }
            if !u.active {
                return Err(inactive(&u));
            }
            let changed = email.as_ref().is_some_and(|e| *e != u.email)
                || firstname.as_ref().is_some_and(|f| *f != u.firstname)
                || lastname.as_ref().is_some_and(|l| *l != u.lastname);
            if changed || record_login {
                let mut tx = svc.db.write().await?;
                if changed {
                    kallithea_db::user::update(
                        &mut tx,
                        u.id,
                        &kallithea_db::user::UserUpdate {
                            email: email.as_deref().unwrap_or(&u.email),
                            firstname: firstname.as_deref().unwrap_or(&u.firstname),
                            lastname: lastname.as_deref().unwrap_or(&u.lastname),
                            active: u.active,
                            admin: u.admin,
                        },
                    )
                    .await?;
                }
                if record_login {
                    kallithea_db::user::set_last_login(&mut tx, u.id, now()).await?;
                }
                let u = kallithea_db::user::get(&mut tx, u.id).await?.unwrap_or(u);
                tx.commit().await?;
                u
            } else {
                u
            }
        }
        None => {
            let mut tx = svc.db.write().await?;
            let default = crate::user::default_user(&mut tx).await?;
            let active = kallithea_db::user::global_perms(&mut tx, default.id)
                .await?
                .iter()
                .any(|p| p == "hg.extern_activate.auto");
            let inserted = kallithea_db::user::insert(
                &mut tx,
                &NewUser {
                    username: name.as_str(),
                    // Never matches a password: this account signs in through its plugin.
                    password: "!external",
                    email: email.as_deref().unwrap_or(""),
                    firstname: firstname.as_deref().unwrap_or(name.as_str()),
                    lastname: lastname.as_deref().unwrap_or(""),
                    active,
                    admin: false,
                    api_key: &new_api_key(),
                    extern_type: plugin.name(),
                    created_on: now(),
                },
            )
            .await;
            let id = match inserted {
                Ok(id) => id,
                // Another request made the same account a moment ago.
                Err(kallithea_db::Error::Conflict) => {
                    drop(tx);
                    return Box::pin(sign_in_external(svc, plugin, ext, record_login)).await;
                }
                Err(e) => return Err(e.into()),
            };
            if active && record_login {
                kallithea_db::user::set_last_login(&mut tx, id, now()).await?;
            }
            let u = kallithea_db::user::get(&mut tx, id)
                .await?
                .ok_or_else(|| Error::internal("reading a new account", "not found"))?;
            tx.commit().await?;
            tracing::info!(
                "account {} created for a user signed in by the {} plugin ({})",
                u.username,
                plugin.name(),
                if active {
                    "active"
                } else {
                    "awaiting activation"
                }
            );
            if !active {
                return Err(inactive(&u));
            }
            u
        }
    };
    Ok(user)
}

fn inactive(u: &User) -> Error {
    let msg = if u.last_login.is_none() && u.extern_type != "internal" {
        format!(
            "Your account \"{}\" has been created and is waiting for an administrator to activate it.",
            u.username
        )
    } else {
        format!(
            "The account \"{}\" is disabled. Ask an administrator to enable it.",
            u.username
        )
    };
    Error::new(ErrorKind::Forbidden, msg)
}

#[cfg(test)]
mod tests;
