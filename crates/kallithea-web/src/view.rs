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
    /// The site's title (`/_admin/settings/global`), or Kallithea.
    pub site_title: String,
    /// The signed-in user's avatar, when avatars are on.
    pub avatar: Option<String>,
    /// Shown in the footer when `show_version` is on.
    pub version: Option<&'static str>,
}

pub fn render<T: Template>(t: &T) -> Html<String> {
    match t.render() {
        Ok(s) => Html(shown_names(s)),
        Err(e) => {
            tracing::error!("template error: {e}");
            Html(
                "<!doctype html><title>Error</title><p>The page could not be rendered.</p>"
                    .to_owned(),
            )
        }
    }
}

/// A file name's bytes that are not UTF-8 travel as private-use characters
/// (`kallithea_core::browse::name_from_bytes`); links carry them percent-encoded, and
/// wherever they are left in a page they are text for people, shown as U+FFFD.
fn shown_names(page: String) -> String {
    // Each such character starts with the byte 0xF4, rare in a page.
    if !page.as_bytes().contains(&0xF4) {
        return page;
    }
    match kallithea_core::browse::name_shown(&page) {
        std::borrow::Cow::Borrowed(_) => page,
        std::borrow::Cow::Owned(shown) => shown,
    }
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub prefix: String,
    pub status: u16,
    pub reason: String,
    pub message: String,
    pub request_id: Option<String>,
    pub detail: Option<Box<str>>,
    pub instead: Option<(String, String)>,
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
    /// Top-level repository groups the visitor may see.
    pub groups: Vec<GroupItem>,
    pub repos: Vec<RepoItem>,
    /// This page and how many there are.
    pub page: usize,
    pub pages: usize,
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
    /// Where the repository may go (`-1`: the top level).
    pub groups: Vec<ParentChoice>,
    pub repo_group: i64,
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
    /// Whose keys (`None`: one's own).
    pub whose: Option<String>,
    /// The list's URL; forms post here and to `.../delete`.
    pub action: String,
    pub api_key: String,
    pub keys: Vec<ApiKeyItem>,
    pub lifetimes: Vec<(i64, &'static str)>,
    pub error: Option<String>,
    pub notice: Option<String>,
}

pub struct ApiKeyItem {
    pub key: String,
    pub description: String,
    pub expires: String,
}

#[derive(Template)]
#[template(path = "account_profile.html")]
pub struct ProfilePage {
    pub layout: Layout,
    pub username: String,
    pub firstname: String,
    pub lastname: String,
    pub email: String,
    pub error: Option<String>,
    pub notice: Option<String>,
}

#[derive(Template)]
#[template(path = "account_emails.html")]
pub struct EmailsPage {
    pub layout: Layout,
    pub main: String,
    pub emails: Vec<(i64, String)>,
    pub error: Option<String>,
    pub notice: Option<String>,
}

#[derive(Template)]
#[template(path = "ips.html")]
pub struct IpsPage {
    pub layout: Layout,
    pub whose: String,
    pub global: bool,
    /// The form's address (the list's URL).
    pub action: String,
    pub ips: Vec<(i64, String)>,
    pub error: Option<String>,
    pub notice: Option<String>,
}

pub struct JournalItem {
    pub username: String,
    pub action: String,
    pub when: String,
    /// A push's newest changesets (short id, page), and how many more it brought.
    pub changesets: Vec<(String, String)>,
    pub more: usize,
}

#[derive(Template)]
#[template(path = "summary.html")]
pub struct SummaryPage {
    pub layout: Layout,
    pub repo: RepoHeader,
    pub recent: Vec<ChangesetRow>,
    pub default_branch: Option<String>,
    pub branch_count: usize,
    pub tag_count: usize,
    pub readme_name: Option<String>,
    pub readme_html: Option<String>,
    pub readme_text: Option<String>,
    pub empty: bool,
    /// Archive links (name, href) when downloads are on.
    pub downloads: Vec<(String, String)>,
    pub name: String,
    pub description: String,
    pub clone_url: String,
    pub clone_url_id: String,
    pub last_change: String,
    pub owner: String,
    pub journal: Vec<JournalItem>,
    /// `Some(watching)` for signed-in visitors.
    pub watching: Option<bool>,
    pub repo_id: i64,
    /// Rows carry checkboxes for picking a range of changesets (the changelog).
    pub pick: bool,
}

pub struct GrantItem {
    pub username: String,
    pub level: String,
}

#[derive(Template)]
#[template(path = "settings.html")]
pub struct SettingsPage {
    pub layout: Layout,
    pub repo: RepoHeader,
    pub name: String,
    pub name_input: String,
    pub description: String,
    pub private: bool,
    pub landing_rev: String,
    pub enable_downloads: bool,
    pub grants: Vec<GrantItem>,
    pub group_grants: Vec<GrantItem>,
    /// Groups the repository may move to (`-1`: top level), and its current one.
    pub groups: Vec<ParentChoice>,
    pub repo_group: i64,
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

/// The header every repository page shares: name, tabs, and whether to show Settings.
#[derive(Clone, Debug)]
pub struct RepoHeader {
    pub name: String,
    pub is_admin: bool,
    /// Which tab is active: summary, changelog, files, branches, tags, settings.
    pub tab: &'static str,
    pub private: bool,
}

/// A branch or tag to switch to, with the link that does it.
pub struct SwitchItem {
    pub name: String,
    pub href: String,
    pub current: bool,
}

/// The branch and tag switcher (a disclosure list of links; works without JavaScript).
pub struct Switcher {
    pub label: String,
    pub branches: Vec<SwitchItem>,
    pub tags: Vec<SwitchItem>,
    /// When not all are listed: how many there are and the page that lists them.
    pub more_branches: Option<(usize, String)>,
    pub more_tags: Option<(usize, String)>,
}

/// One changeset in a list.
pub struct ChangesetRow {
    pub id: String,
    pub short: String,
    pub summary: String,
    pub author: String,
    pub age: String,
    pub date: String,
    /// At most [`ROW_LABELS`] branch and tag names; `more_labels` counts the rest.
    pub labels: Vec<String>,
    pub more_labels: usize,
    pub merge: bool,
    /// The parents' ids, space-separated (the changelog's script tells ranges from them).
    pub parents: String,
}

/// Branch and tag names shown on a changeset's row (a changeset may carry thousands).
pub const ROW_LABELS: usize = 10;

/// Branch and tag names shown on a changeset's page.
pub const PAGE_LABELS: usize = 100;

#[derive(Template)]
#[template(path = "changelog.html")]
pub struct ChangelogPage {
    pub layout: Layout,
    pub repo: RepoHeader,
    pub switcher: Switcher,
    pub path: Option<String>,
    pub rows: Vec<ChangesetRow>,
    /// SVG of the commit graph for the visible page.
    pub graph: String,
    pub prev_href: Option<String>,
    pub next_href: Option<String>,
    pub empty: bool,
    /// An empty page past the end of the history: the first page's address.
    pub past_end: Option<String>,
    /// Rows carry checkboxes for picking a range of changesets (the changelog).
    pub pick: bool,
}

/// The diff tables of a page, shared with the cache, and (for a large diff) the turn that
/// lets it be built, rendered and sent: held by the thread building the tables (even when
/// the visitor has gone) and by the page until it is sent, so only a few pages of hundreds
/// of megabytes exist at once.
#[derive(Default)]
pub struct DiffViews {
    pub list: std::sync::Arc<Vec<FileDiffView>>,
    pub turn: Option<std::sync::Arc<tokio::sync::OwnedSemaphorePermit>>,
}

impl std::ops::Deref for DiffViews {
    type Target = [FileDiffView];
    fn deref(&self) -> &[FileDiffView] {
        &self.list
    }
}

impl<'a> IntoIterator for &'a DiffViews {
    type Item = &'a FileDiffView;
    type IntoIter = std::slice::Iter<'a, FileDiffView>;
    fn into_iter(self) -> Self::IntoIter {
        self.list.iter()
    }
}

#[derive(Clone, Debug)]
pub struct FileDiffView {
    pub anchor: String,
    pub path: String,
    pub old_path: Option<String>,
    pub kind: &'static str,
    pub added: u64,
    pub removed: u64,
    pub binary: bool,
    /// Left out to keep the page small: shown with `fulldiff=1`.
    pub cut: bool,
    /// Beyond what the server reads for a page: only the raw diff has it.
    pub too_large: bool,
    /// Whitespace is ignored, and that is all that changed.
    pub whitespace_only: bool,
    pub mode_change: Option<(String, String)>,
    pub rows: Vec<crate::diff::DiffRow>,
    pub side: Vec<crate::diff::SideRow>,
}

kallithea_core::weigh_fields! {
    FileDiffView { anchor, path, old_path, mode_change, rows, side }
}

#[derive(Template)]
#[template(path = "changeset.html")]
pub struct ChangesetPage {
    pub layout: Layout,
    pub repo: RepoHeader,
    pub id: String,
    pub short: String,
    pub message_html: String,
    pub author: String,
    pub author_date: String,
    pub committer: String,
    pub parents: Vec<String>,
    pub children: Vec<String>,
    /// At most [`PAGE_LABELS`]; `more_labels` counts the rest.
    pub labels: Vec<String>,
    pub more_labels: usize,
    pub files: DiffViews,
    pub nav: crate::diff::DiffNav,
    pub cut: bool,
    /// The first parent, where deleted files are linked (empty for a first changeset).
    pub base_id: String,
    /// A merge: its diff is against the first parent only.
    pub merge: bool,
}

pub struct Crumb {
    pub name: String,
    pub href: String,
}

/// Changed files named in a diff's file list (a changeset may change tens of thousands).
pub const LISTED_FILES: usize = 2000;

/// Entries listed on one page of a folder.
pub const DIR_PAGE: usize = 1000;

pub struct DirRow {
    pub name: String,
    pub href: String,
    pub kind: &'static str,
    pub size: String,
    /// The newest changeset touching the entry, when found within the look-back budget:
    /// its link, age and first line.
    pub last: Option<(String, String, String)>,
}

pub struct LineRow {
    pub no: usize,
    pub text: String,
    /// Highlighted HTML of the line (escaped by the highlighter), when highlighting applies.
    pub html: Option<String>,
}

/// A file's numbered lines: rendered once per changeset and path and kept, since a long file
/// takes milliseconds to render.
#[derive(Template)]
#[template(path = "file_lines.html")]
pub struct SourceTable {
    pub lines: Vec<LineRow>,
}

#[derive(Template)]
#[template(path = "files.html")]
pub struct FilesPage {
    pub layout: Layout,
    pub repo: RepoHeader,
    pub switcher: Switcher,
    pub rev: String,
    pub short: String,
    pub crumbs: Vec<Crumb>,
    pub path: String,
    pub dir: Option<Vec<DirRow>>,
    /// A folder of more than [`DIR_PAGE`] entries: how many it has, and links to the
    /// neighbouring pages of its listing.
    pub dir_total: usize,
    /// The first and last entry shown, counted from 1.
    pub dir_from: usize,
    pub dir_to: usize,
    pub dir_prev: Option<String>,
    pub dir_next: Option<String>,
    /// Some entries were last changed before the look-back for last changes reached.
    pub last_incomplete: bool,
    /// Where the file finder reads the paths below this folder, and where a found path's
    /// page is (the path appended).
    pub nodelist_href: String,
    pub files_base: String,
    /// The numbered lines ([`SourceTable`], already rendered).
    pub source: std::sync::Arc<String>,
    pub rendered: Option<String>,
    pub image_href: Option<String>,
    pub raw_href: String,
    pub download_href: String,
    pub history_href: String,
    pub annotate_href: String,
    pub authors_href: String,
    pub size: String,
    /// A symbolic link: its target is shown as text, and there is nothing to annotate.
    pub symlink: bool,
    /// A symbolic link's target as written, and the files page it names when that lies in the
    /// repository.
    pub link_target: Option<(String, Option<String>)>,
    /// Offered only for what the annotate page will show (text, not too large).
    pub annotatable: bool,
    pub binary: bool,
    pub truncated: bool,
    /// How much of a cut file is shown.
    pub shown: String,
    pub submodule: bool,
    pub show_source: bool,
}

pub struct RefRow {
    pub name: String,
    pub changelog_href: String,
    pub files_href: String,
    pub id: String,
    pub short: String,
    pub summary: String,
    pub age: String,
}

#[derive(Template)]
#[template(path = "refs.html")]
pub struct RefsPage {
    pub layout: Layout,
    pub repo: RepoHeader,
    pub title: &'static str,
    pub rows: Vec<RefRow>,
}

/// A size in bytes for people.
pub fn human_size(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = UNITS[0];
    for u in &UNITS[1..] {
        if v < 1024.0 {
            break;
        }
        v /= 1024.0;
        unit = u;
    }
    format!("{v:.1} {unit}")
}

/// A Unix time as `YYYY-MM-DD HH:MM` UTC.
pub fn date(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map_or_else(String::new, |d| d.format("%Y-%m-%d %H:%M UTC").to_string())
}

pub struct AnnotateRow {
    pub no: usize,
    /// Set on the first line of each run of lines from the same changeset.
    pub first: bool,
    pub id: String,
    pub short: String,
    pub author: String,
    pub summary: String,
    pub age: String,
    /// 0 (the file's newest line) to 5 (its oldest), for shading.
    pub shade: u8,
    pub text: String,
}

#[derive(Template)]
#[template(path = "annotate.html")]
pub struct AnnotatePage {
    pub layout: Layout,
    pub repo: RepoHeader,
    pub path: String,
    pub rev: String,
    pub short: String,
    pub files_href: String,
    pub rows: Vec<AnnotateRow>,
}

#[derive(Template)]
#[template(path = "password.html")]
pub struct PasswordPage {
    pub layout: Layout,
    pub error: Option<String>,
    pub notice: Option<String>,
}

#[derive(Template)]
#[template(path = "compare.html")]
pub struct ComparePage {
    pub layout: Layout,
    pub repo: RepoHeader,
    /// Branch and tag names offered in the form.
    pub choices: Vec<String>,
    pub org_name: String,
    pub other_name: String,
    pub compared: bool,
    /// `/changeset/{first}...{last}`: the changesets from `org_name` to `other_name`, both
    /// included.
    pub range: bool,
    /// Empty when the comparison starts before the first changeset.
    pub org_short: String,
    /// The `other` side: files link to it.
    pub id: String,
    pub short: String,
    pub rows: Vec<ChangesetRow>,
    pub more: bool,
    pub files: DiffViews,
    pub nav: crate::diff::DiffNav,
    pub cut: bool,
    /// Where the diff starts, where deleted files are linked (empty: from nothing).
    pub base_id: String,
    /// The diff starts at the common ancestor (`merge=1`), not at `org`.
    pub from_ancestor: bool,
    /// The same comparison with the other kind of diff (empty for ranges).
    pub other_diff_href: String,
    /// The comparison the other way round (empty for ranges).
    pub swapped_href: String,
    /// Always false (the template shared with changesets asks).
    pub merge: bool,
    /// Rows carry checkboxes for picking a range of changesets (the changelog).
    pub pick: bool,
}

#[derive(Template)]
#[template(path = "path_diff.html")]
pub struct PathDiffPage {
    pub layout: Layout,
    pub repo: RepoHeader,
    pub path: String,
    /// Where the diff starts; empty when from nothing.
    pub base_id: String,
    pub base_short: String,
    /// Where it ends.
    pub id: String,
    pub short: String,
    pub files: DiffViews,
    pub nav: crate::diff::DiffNav,
    pub cut: bool,
    pub raw_href: String,
    pub download_href: String,
    /// Always false (the template shared with changesets asks).
    pub merge: bool,
}

pub struct FeedEntry {
    pub title: String,
    pub link: String,
    pub author: String,
    pub email: String,
    pub rfc2822: String,
    pub rfc3339: String,
    /// As text (Atom's `type="text"` content).
    pub message: String,
    /// As HTML (RSS descriptions are HTML).
    pub message_html: String,
}

#[derive(Template)]
#[template(path = "feed_rss.xml")]
pub struct RssFeed {
    pub title: String,
    pub link: String,
    pub self_href: String,
    pub description: String,
    pub entries: Vec<FeedEntry>,
}

#[derive(Template)]
#[template(path = "feed_atom.xml")]
pub struct AtomFeed {
    pub title: String,
    pub link: String,
    pub self_href: String,
    pub description: String,
    pub updated: String,
    pub entries: Vec<FeedEntry>,
}

pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub name: String,
    pub email: String,
    pub active: bool,
    pub admin: bool,
    pub last_login: String,
}

#[derive(Template)]
#[template(path = "users.html")]
pub struct UsersPage {
    pub layout: Layout,
    pub users: Vec<UserRow>,
}

#[derive(Template)]
#[template(path = "user_edit.html")]
pub struct UserEditPage {
    pub layout: Layout,
    pub create_repo: bool,
    pub create_user_group: bool,
    pub fork: bool,
    pub id: i64,
    pub username: String,
    pub firstname: String,
    pub lastname: String,
    pub email: String,
    pub active: bool,
    pub admin: bool,
    pub error: Option<String>,
    pub notice: Option<String>,
}

pub struct DefaultSetting {
    pub field: &'static str,
    pub label: &'static str,
    pub choices: Vec<String>,
    pub value: String,
}

#[derive(Template)]
#[template(path = "permissions.html")]
pub struct PermissionsPage {
    pub layout: Layout,
    pub anonymous: bool,
    pub settings: Vec<DefaultSetting>,
    pub error: Option<String>,
    pub notice: Option<String>,
}

pub struct AuthPluginItem {
    pub module: String,
    pub listed: bool,
}

pub struct AuthField {
    pub key: String,
    pub label: &'static str,
    pub description: &'static str,
    pub is_bool: bool,
    pub value: String,
    pub checked: bool,
}

pub struct AuthSection {
    pub name: &'static str,
    pub fields: Vec<AuthField>,
}

#[derive(Template)]
#[template(path = "auth_settings.html")]
pub struct AuthSettingsPage {
    pub layout: Layout,
    pub plugins_value: String,
    pub available: Vec<AuthPluginItem>,
    pub not_yet: Vec<&'static str>,
    pub sections: Vec<AuthSection>,
    pub error: Option<String>,
    pub notice: Option<String>,
}

/// A group in a list: path, description, the actor's level.
pub struct GroupItem {
    pub name: String,
    pub description: String,
    pub owner: String,
}

#[derive(Template)]
#[template(path = "groups.html")]
pub struct GroupsPage {
    pub layout: Layout,
    pub groups: Vec<GroupItem>,
    pub can_create: bool,
}

#[derive(Template)]
#[template(path = "group.html")]
pub struct GroupPage {
    pub layout: Layout,
    pub name: String,
    pub description: String,
    /// `(path, last part)` of each ancestor, outermost first.
    pub parents: Vec<(String, String)>,
    pub groups: Vec<GroupItem>,
    pub repos: Vec<RepoItem>,
    pub is_admin: bool,
    pub can_write: bool,
    pub id: i64,
}

/// A choice of parent group in a form: id (`-1` for the top level) and path.
pub struct ParentChoice {
    pub id: i64,
    pub name: String,
}

#[derive(Template)]
#[template(path = "group_new.html")]
pub struct GroupNewPage {
    pub layout: Layout,
    pub parents: Vec<ParentChoice>,
    pub group_name: String,
    pub group_description: String,
    pub parent_group_id: i64,
    pub error: Option<String>,
}

pub struct GrantRow {
    pub kind: &'static str,
    pub name: String,
    pub level: String,
}

#[derive(Template)]
#[template(path = "group_edit.html")]
pub struct GroupEditPage {
    pub layout: Layout,
    pub name: String,
    pub base_name: String,
    pub description: String,
    pub parents: Vec<ParentChoice>,
    pub parent_group_id: i64,
    pub grants: Vec<GrantRow>,
    pub error: Option<String>,
    pub notice: Option<String>,
}

pub struct UserGroupItem {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub active: bool,
    pub owner: String,
}

#[derive(Template)]
#[template(path = "user_groups.html")]
pub struct UserGroupsPage {
    pub layout: Layout,
    pub groups: Vec<UserGroupItem>,
    pub can_create: bool,
    pub error: Option<String>,
    pub name_input: String,
}

#[derive(Template)]
#[template(path = "user_group_edit.html")]
pub struct UserGroupEditPage {
    pub layout: Layout,
    pub group: UserGroupItem,
    pub members: Vec<String>,
    pub grants: Vec<GrantRow>,
    pub error: Option<String>,
    pub notice: Option<String>,
}

#[derive(Template)]
#[template(path = "register.html")]
pub struct RegisterPage {
    pub layout: Layout,
    pub manual: bool,
    pub username: String,
    pub email: String,
    pub firstname: String,
    pub lastname: String,
    pub error: Option<String>,
    pub notice: Option<String>,
}

#[derive(Template)]
#[template(path = "password_reset.html")]
pub struct PasswordResetPage {
    pub layout: Layout,
    pub error: Option<String>,
    pub notice: Option<String>,
}

#[derive(Template)]
#[template(path = "password_reset_confirm.html")]
pub struct PasswordResetConfirmPage {
    pub layout: Layout,
    pub valid: bool,
    pub username: String,
    pub email: String,
    pub timestamp: String,
    pub token: String,
    pub error: Option<String>,
}

pub struct SshKeyItem {
    pub fingerprint: String,
    pub key_type: String,
    pub description: String,
}

#[derive(Template)]
#[template(path = "account_ssh_keys.html")]
pub struct SshKeysPage {
    pub layout: Layout,
    pub keys: Vec<SshKeyItem>,
    pub error: Option<String>,
    pub notice: Option<String>,
}

#[derive(Template)]
#[template(path = "account_watched.html")]
pub struct WatchedPage {
    pub layout: Layout,
    pub repos: Vec<RepoItem>,
}

#[derive(Template)]
#[template(path = "site_settings.html")]
pub struct SiteSettingsPage {
    pub layout: Layout,
    pub tab: &'static str,
    pub title: String,
    pub realm: String,
    pub dashboard_items: String,
    pub admin_grid_items: String,
    pub show_version: bool,
    pub use_gravatar: bool,
    pub gravatar_url: String,
    pub clone_uri_tmpl: String,
    pub root: String,
    pub error: Option<String>,
    pub notice: Option<String>,
}
