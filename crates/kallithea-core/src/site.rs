//! Site settings kept in the database, at Kallithea's keys: the title and HTTP realm
//! (`/_admin/settings/global`) and how pages look (`/_admin/settings/visual`). Kept in memory
//! ([`Services::site`]) and reloaded on save.

use std::collections::HashMap;
use std::sync::Arc;

use crate::{Actor, Error, Result, Services};

/// The settings pages use.
#[derive(Clone, Debug)]
pub struct SiteSettings {
    pub title: String,
    pub realm: String,
    /// Repositories per page on the home page.
    pub dashboard_items: u32,
    /// Rows per page in admin lists.
    pub admin_grid_items: u32,
    pub show_version: bool,
    pub use_gravatar: bool,
    /// With `{email}`, `{md5email}`, `{size}`.
    pub gravatar_url: String,
    /// With `{scheme}`, `{user}`, `{netloc}`, `{prefix}`, `{repo}`, `{repoid}`.
    pub clone_uri_tmpl: String,
}

pub const DEFAULT_CLONE_URI_TMPL: &str = "{scheme}://{user}@{netloc}{prefix}/{repo}";
pub const DEFAULT_GRAVATAR_URL: &str =
    "https://secure.gravatar.com/avatar/{md5email}?d=identicon&s={size}";

impl Default for SiteSettings {
    fn default() -> Self {
        Self {
            title: String::new(),
            realm: "Kallithea".into(),
            dashboard_items: 100,
            admin_grid_items: 25,
            show_version: true,
            use_gravatar: false,
            gravatar_url: DEFAULT_GRAVATAR_URL.into(),
            clone_uri_tmpl: DEFAULT_CLONE_URI_TMPL.into(),
        }
    }
}

fn truthy(v: &str) -> bool {
    matches!(
        v.trim().to_ascii_lowercase().as_str(),
        "true" | "on" | "1" | "yes"
    )
}

const KEYS: &[&str] = &[
    "title",
    "realm",
    "dashboard_items",
    "admin_grid_items",
    "show_version",
    "use_gravatar",
    "gravatar_url",
    "clone_uri_tmpl",
];

/// Reads the settings into [`Services::site`].
pub async fn reload(svc: &Services) -> Result<()> {
    let mut tx = svc.db.read().await?;
    let mut m = HashMap::new();
    for k in KEYS {
        if let Some(v) = kallithea_db::setting::get(&mut tx, k).await? {
            m.insert(*k, v);
        }
    }
    tx.commit().await?;
    let d = SiteSettings::default();
    let num = |k: &str, dflt: u32| {
        m.get(k)
            .and_then(|v| v.trim().parse().ok())
            .filter(|n| (1..=10_000).contains(n))
            .unwrap_or(dflt)
    };
    let text = |k: &str, dflt: &str| {
        m.get(k)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| dflt.to_owned())
    };
    let s = SiteSettings {
        title: m
            .get("title")
            .map(|t| t.trim().to_owned())
            .unwrap_or_default(),
        realm: text("realm", &d.realm),
        dashboard_items: num("dashboard_items", d.dashboard_items),
        admin_grid_items: num("admin_grid_items", d.admin_grid_items),
        show_version: m.get("show_version").is_none_or(|v| truthy(v)),
        use_gravatar: m.get("use_gravatar").is_some_and(|v| truthy(v)),
        gravatar_url: text("gravatar_url", &d.gravatar_url),
        clone_uri_tmpl: text("clone_uri_tmpl", &d.clone_uri_tmpl),
    };
    *svc.site.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(s);
    Ok(())
}

pub fn current(svc: &Services) -> Arc<SiteSettings> {
    svc.site.read().unwrap_or_else(|p| p.into_inner()).clone()
}

fn require_admin(actor: &Actor) -> Result<()> {
    if actor.is_admin() {
        Ok(())
    } else {
        Err(crate::repo::denied(actor))
    }
}

fn one_line(label: &str, v: &str, max: usize) -> Result<String> {
    let v = v.trim();
    if v.chars().count() > max || v.chars().any(char::is_control) {
        return Err(Error::invalid(format!(
            "The {label} must be one line of at most {max} characters."
        )));
    }
    Ok(v.to_owned())
}

/// `/_admin/settings/global`: `title`, `realm`.
pub async fn save_global(svc: &Services, actor: &Actor, title: &str, realm: &str) -> Result<()> {
    require_admin(actor)?;
    let title = one_line("title", title, 255)?;
    let realm = one_line("realm", realm, 255)?;
    if realm.is_empty() || realm.contains('"') || realm.contains('\\') {
        return Err(Error::invalid(
            "The realm must not be empty and may not contain quotes or backslashes (it goes into the HTTP authentication header).",
        ));
    }
    let mut tx = svc.db.write().await?;
    kallithea_db::setting::set(&mut tx, "title", &title).await?;
    kallithea_db::setting::set(&mut tx, "realm", &realm).await?;
    tx.commit().await?;
    reload(svc).await
}

/// What the visual settings form sends (Kallithea's fields).
#[derive(Clone, Debug, Default)]
pub struct VisualForm {
    pub dashboard_items: String,
    pub admin_grid_items: String,
    pub show_version: bool,
    pub use_gravatar: bool,
    pub gravatar_url: String,
    pub clone_uri_tmpl: String,
}

fn count(label: &str, v: &str) -> Result<u32> {
    v.trim()
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=10_000).contains(n))
        .ok_or_else(|| {
            Error::invalid(format!(
                "{label} must be a whole number from 1 to 10000, not \"{}\".",
                v.trim()
            ))
        })
}

/// `/_admin/settings/visual`.
pub async fn save_visual(svc: &Services, actor: &Actor, f: &VisualForm) -> Result<()> {
    require_admin(actor)?;
    let dashboard = count("Repositories per page", &f.dashboard_items)?;
    let grid = count("Rows per page in admin lists", &f.admin_grid_items)?;
    let gravatar_url = one_line("avatar URL", &f.gravatar_url, 1000)?;
    if !gravatar_url.is_empty()
        && !gravatar_url.starts_with("https://")
        && !gravatar_url.starts_with("http://")
    {
        return Err(Error::invalid(
            "The avatar URL must start with http:// or https:// (use {email}, {md5email} and {size}).",
        ));
    }
    let tmpl = one_line("clone URL template", &f.clone_uri_tmpl, 1000)?;
    if !(tmpl.is_empty() || tmpl.contains("{repo}") || tmpl.contains("{repoid}")) {
        return Err(Error::invalid(
            "The clone URL template must contain {repo} or {repoid}.",
        ));
    }
    let mut tx = svc.db.write().await?;
    let b = |x: bool| if x { "True" } else { "False" };
    for (k, v) in [
        ("dashboard_items", dashboard.to_string()),
        ("admin_grid_items", grid.to_string()),
        ("show_version", b(f.show_version).to_owned()),
        ("use_gravatar", b(f.use_gravatar).to_owned()),
        ("gravatar_url", gravatar_url),
        ("clone_uri_tmpl", tmpl),
    ] {
        kallithea_db::setting::set(&mut tx, k, &v).await?;
    }
    tx.commit().await?;
    reload(svc).await
}

/// A clone URL from Kallithea's template.
pub fn clone_url(
    tmpl: &str,
    scheme: &str,
    user: Option<&str>,
    netloc: &str,
    prefix: &str,
    repo: &str,
    repoid: i64,
) -> String {
    let t = if tmpl.is_empty() {
        DEFAULT_CLONE_URI_TMPL
    } else {
        tmpl
    };
    let with_user = match user {
        Some(u) => t.replace("{user}", u),
        // Without a user, `{user}@` goes away entirely.
        None => t.replace("{user}@", "").replace("{user}", ""),
    };
    with_user
        .replace("{scheme}", scheme)
        .replace("{netloc}", netloc)
        .replace("{prefix}", prefix)
        .replace("{repoid}", &repoid.to_string())
        .replace("{repo}", repo)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clone_url_templates() {
        assert_eq!(
            clone_url(
                DEFAULT_CLONE_URI_TMPL,
                "https",
                Some("bob"),
                "git.example.com",
                "/k",
                "team/app",
                7
            ),
            "https://bob@git.example.com/k/team/app"
        );
        assert_eq!(
            clone_url(DEFAULT_CLONE_URI_TMPL, "http", None, "h:5000", "", "app", 7),
            "http://h:5000/app"
        );
        assert_eq!(
            clone_url(
                "ssh://git@{netloc}/_{repoid}",
                "http",
                Some("x"),
                "h",
                "",
                "app",
                7
            ),
            "ssh://git@h/_7"
        );
    }
}
