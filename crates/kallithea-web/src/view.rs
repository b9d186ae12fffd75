//! One typed view struct per page, rendered by askama (auto-escaped HTML).

use askama::Template;
use axum::response::Html;

/// What every page's layout needs.
#[derive(Clone, Debug, Default)]
pub struct Layout {
    pub prefix: String,
    pub username: Option<String>,
    pub is_admin: bool,
    pub csrf_token: String,
}

pub fn render<T: Template>(t: &T) -> Html<String> {
    match t.render() {
        Ok(s) => Html(s),
        Err(e) => {
            tracing::error!("template error: {e}");
            Html(
                "<!doctype html><title>Error</title><p>The page could not be rendered.</p>"
                    .to_owned(),
            )
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub prefix: String,
    pub status: u16,
    pub reason: String,
    pub message: String,
}

pub struct RepoItem {
    pub name: String,
    pub description: String,
    pub private: bool,
    pub last_change: String,
    pub owner: String,
}

#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage {
    pub layout: Layout,
    pub repos: Vec<RepoItem>,
    pub can_create: bool,
}

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub layout: Layout,
    pub came_from: String,
    pub username: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "create_repo.html")]
pub struct CreateRepoPage {
    pub layout: Layout,
    pub repo_name: String,
    pub repo_description: String,
    pub repo_private: bool,
    pub repo_landing_rev: String,
    pub clone_uri: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "api_keys.html")]
pub struct ApiKeysPage {
    pub layout: Layout,
    pub api_key: String,
}

pub struct JournalItem {
    pub username: String,
    pub action: String,
    pub when: String,
}

#[derive(Template)]
#[template(path = "summary.html")]
pub struct SummaryPage {
    pub layout: Layout,
    pub name: String,
    pub description: String,
    pub private: bool,
    pub clone_url: String,
    pub clone_url_id: String,
    pub last_change: String,
    pub owner: String,
    pub is_repo_admin: bool,
    pub journal: Vec<JournalItem>,
}

pub struct GrantItem {
    pub username: String,
    pub level: String,
}

#[derive(Template)]
#[template(path = "settings.html")]
pub struct SettingsPage {
    pub layout: Layout,
    pub name: String,
    pub description: String,
    pub private: bool,
    pub landing_rev: String,
    pub enable_downloads: bool,
    pub grants: Vec<GrantItem>,
    pub error: Option<String>,
    pub notice: Option<String>,
}

/// "3 minutes ago"-style age of a Unix time, with the UTC date for old ones.
pub fn age(t: i64) -> String {
    let d = kallithea_core::now() - t;
    match d {
        i64::MIN..=59 => "just now".to_owned(),
        60..=3599 => plural(d / 60, "minute"),
        3600..=86_399 => plural(d / 3600, "hour"),
        86_400..=2_591_999 => plural(d / 86_400, "day"),
        _ => chrono::DateTime::from_timestamp(t, 0)
            .map_or_else(String::new, |dt| dt.format("%Y-%m-%d").to_string()),
    }
}

fn plural(n: i64, unit: &str) -> String {
    format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" })
}

#[derive(Template)]
#[template(path = "user_new.html")]
pub struct NewUserPage {
    pub layout: Layout,
    pub username: String,
    pub email: String,
    pub firstname: String,
    pub lastname: String,
    pub error: Option<String>,
    pub notice: Option<String>,
}

#[derive(Template)]
#[template(path = "logout.html")]
pub struct LogoutPage {
    pub layout: Layout,
}
