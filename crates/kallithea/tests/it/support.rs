//! Test helpers: a server started from the binary, a cookie-keeping browser, and `git`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

pub const ADMIN: &str = "admin";
pub const ADMIN_PW: &str = "admin-pass-1";
pub const BIN: &str = env!("CARGO_BIN_EXE_kallithea");

/// Which database a test server uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DbKind {
    Sqlite,
    Postgres,
    MySql,
}

/// A database created for one test and dropped afterwards.
pub struct TestDb {
    pub kind: DbKind,
    pub url: String,
    name: String,
}

fn env_url(var: &str) -> String {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => v,
        _ => {
            panic!("{var} is not set: the database tests need it (.ci/run sets it; see README.md)")
        }
    }
}

impl TestDb {
    pub fn new(kind: DbKind, dir: &Path) -> Self {
        let name = format!("kt_{}", &kallithea_test_id()[..12]);
        match kind {
            DbKind::Sqlite => Self {
                kind,
                url: format!("sqlite:///{}/kallithea.db", dir.display()),
                name,
            },
            DbKind::Postgres => {
                let server = env_url("KALLITHEA_TEST_POSTGRES_URL");
                let out = Command::new("psql")
                    .args([
                        server.as_str(),
                        "-v",
                        "ON_ERROR_STOP=1",
                        "-q",
                        "-c",
                        &format!("CREATE DATABASE {name}"),
                    ])
                    .output()
                    .expect("psql runs");
                assert!(
                    out.status.success(),
                    "creating {name}: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                Self {
                    kind,
                    url: sibling_db(&server, &name),
                    name,
                }
            }
            DbKind::MySql => {
                let server = env_url("KALLITHEA_TEST_MYSQL_URL");
                mysql(
                    &server,
                    &format!("CREATE DATABASE {name} CHARACTER SET utf8mb4"),
                );
                Self {
                    kind,
                    url: sibling_db(&server, &name),
                    name,
                }
            }
        }
    }
}

/// The URL of database `name` on the same server as `server`.
fn sibling_db(server: &str, name: &str) -> String {
    let base = server.rsplit_once('/').map_or(server, |(b, _)| b);
    format!("{base}/{name}")
}

fn mysql(server: &str, sql: &str) {
    // mysql://user[:pass]@host:port/db
    let rest = server.strip_prefix("mysql://").expect("mysql:// URL");
    let (auth, hostpart) = rest.split_once('@').expect("user@host");
    let (user, pass) = auth.split_once(':').unwrap_or((auth, ""));
    let hostport = hostpart.split('/').next().unwrap_or("127.0.0.1:3306");
    let (host, port) = hostport.split_once(':').unwrap_or((hostport, "3306"));
    let mut c = Command::new("mysql");
    c.args(["-h", host, "-P", port, "-u", user, "-e", sql]);
    if !pass.is_empty() {
        c.env("MYSQL_PWD", pass);
    }
    let out = c.output().expect("mysql client runs");
    assert!(
        out.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match self.kind {
            DbKind::Sqlite => {}
            DbKind::Postgres => {
                let server = env_url("KALLITHEA_TEST_POSTGRES_URL");
                let _ = Command::new("psql")
                    .args([
                        server.as_str(),
                        "-q",
                        "-c",
                        &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
                    ])
                    .output();
            }
            DbKind::MySql => {
                let server = env_url("KALLITHEA_TEST_MYSQL_URL");
                mysql(&server, &format!("DROP DATABASE IF EXISTS {}", self.name));
            }
        }
    }
}

/// A random id for names.
pub fn kallithea_test_id() -> String {
    let mut s = String::new();
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    s.push_str(&format!("{:x}{:x}", t, std::process::id()));
    let bytes: Vec<u8> = std::fs::read("/proc/sys/kernel/random/uuid").unwrap_or_default();
    s.push_str(String::from_utf8_lossy(&bytes).replace('-', "").trim());
    s.chars().rev().collect()
}

/// A running server and its folder.
pub struct Server {
    child: Option<Child>,
    pub base: String,
    pub port: u16,
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
    pub repos: PathBuf,
    pub db: TestDb,
    pub stderr_log: PathBuf,
}

pub struct Options {
    pub db: DbKind,
    pub public_access: bool,
    pub extra_config: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            db: DbKind::Sqlite,
            public_access: true,
            extra_config: Vec::new(),
        }
    }
}

pub fn run_bin(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("kallithea runs")
}

impl Server {
    pub fn start() -> Self {
        Self::start_with(Options::default())
    }

    /// The server account's `XDG_CONFIG_HOME`: what a test writes under `git/` there must
    /// not change what the server shows.
    pub fn xdg_config(&self) -> PathBuf {
        self.dir.path().join("xdg")
    }

    pub fn start_with(opts: Options) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = TestDb::new(opts.db, dir.path());
        let config = dir.path().join("my.ini");
        let mut args = vec![
            "config-create".to_owned(),
            config.display().to_string(),
            format!("sqlalchemy.url={}", db.url),
        ];
        args.extend(opts.extra_config);
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = run_bin(dir.path(), &a);
        assert!(
            out.status.success(),
            "config-create: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let repos = dir.path().join("repos");
        let access = if opts.public_access {
            "--public-access"
        } else {
            "--no-public-access"
        };
        let out = run_bin(
            dir.path(),
            &[
                "db-create",
                "-c",
                "my.ini",
                "--user",
                ADMIN,
                "--password",
                ADMIN_PW,
                "--email",
                "admin@example.com",
                "--repos",
                "repos",
                access,
            ],
        );
        assert!(
            out.status.success(),
            "db-create: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stderr_log = dir.path().join("server.log");
        let mut s = Self {
            child: None,
            base: String::new(),
            port: 0,
            dir,
            config,
            repos,
            db,
            stderr_log,
        };
        s.spawn();
        s
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.stderr_log)
            .expect("log file");
        let mut child = Command::new(BIN)
            .args([
                "serve",
                "-c",
                &self.config.display().to_string(),
                "--port",
                &self.port.to_string(),
            ])
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .env("KALLITHEA_LOG", "info,sqlx=warn")
            // The account's own git settings, which the server must not read (see
            // `xdg_config`).
            .env("XDG_CONFIG_HOME", self.xdg_config())
            .spawn()
            .expect("server starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let line = loop {
            match lines.next() {
                Some(Ok(l)) if l.starts_with("Serving on ") => break l,
                Some(Ok(_)) => continue,
                _ => panic!(
                    "server did not start: {}",
                    std::fs::read_to_string(&self.stderr_log).unwrap_or_default()
                ),
            }
        };
        let url = line
            .trim_start_matches("Serving on ")
            .trim_end_matches('/')
            .to_owned();
        self.port = url
            .rsplit(':')
            .next()
            .and_then(|p| p.split('/').next())
            .and_then(|p| p.parse().ok())
            .expect("port");
        self.base = url;
        self.child = Some(child);
    }

    /// Stops the server and starts it again on the same port and folder.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The repository URL with credentials in it, for git.
    pub fn git_url(&self, user: &str, password: &str, repo: &str) -> String {
        let with_creds = self
            .base
            .replacen("http://", &format!("http://{user}:{password}@"), 1);
        format!("{with_creds}/{repo}")
    }

    pub fn anon_git_url(&self, repo: &str) -> String {
        format!("{}/{repo}", self.base)
    }

    /// The server's log so far (stderr).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr_log).unwrap_or_default()
    }

    pub fn db_kind(&self) -> DbKind {
        self.db.kind
    }

    /// Signs in as admin and returns the browser.
    pub fn admin(&self) -> Browser {
        let b = Browser::new(&self.base);
        let r = b.login(ADMIN, ADMIN_PW);
        assert_eq!(r.status(), 303, "admin login");
        b
    }

    /// Adds a user through the admin page.
    pub fn add_user(&self, admin: &Browser, name: &str, password: &str) {
        let r = admin.post(
            "/_admin/users",
            &[
                ("username", name),
                ("password", password),
                ("password_confirmation", password),
                ("email", "x@example.com"),
                ("active", "True"),
            ],
        );
        assert_eq!(r.status(), 200, "add user {name}");
    }

    /// Creates a repository as admin through the form; panics unless it worked.
    pub fn create_repo(&self, admin: &Browser, name: &str, private: bool) {
        let mut f = vec![
            ("repo_name", name),
            ("repo_type", "git"),
            ("repo_description", "a test repository"),
            ("repo_group", "-1"),
        ];
        if private {
            f.push(("repo_private", "True"));
        }
        let r = admin.post("/_admin/repos", &f);
        assert_eq!(
            r.status(),
            303,
            "create {name}: {}",
            r.text().unwrap_or_default()
        );
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// An HTTP client that keeps cookies and does not follow redirects.
pub struct Browser {
    http: reqwest::blocking::Client,
    base: String,
}

impl Browser {
    pub fn new(base: &str) -> Self {
        let http = reqwest::blocking::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(60))
            .build()
            .expect("client");
        Self {
            http,
            base: base.to_owned(),
        }
    }

    /// A client that connects from `local` (such as 127.0.0.2) and sends `headers` with
    /// every request.
    pub fn with(base: &str, local: Option<std::net::IpAddr>, headers: &[(&str, &str)]) -> Self {
        let mut h = reqwest::header::HeaderMap::new();
        for (k, v) in headers {
            h.append(
                reqwest::header::HeaderName::from_bytes(k.as_bytes()).expect("header name"),
                v.parse().expect("header value"),
            );
        }
        let http = reqwest::blocking::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(60))
            .local_address(local)
            .default_headers(h)
            .build()
            .expect("client");
        Self {
            http,
            base: base.to_owned(),
        }
    }

    pub fn get(&self, path: &str) -> reqwest::blocking::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .expect("GET")
    }

    /// The underlying client (with this browser's cookies), for requests of any shape.
    pub fn client(&self) -> &reqwest::blocking::Client {
        &self.http
    }

    pub fn get_text(&self, path: &str) -> (u16, String) {
        let r = self.get(path);
        (r.status().as_u16(), r.text().unwrap_or_default())
    }

    pub fn token(&self) -> String {
        self.get("/_admin/session_csrf_secret_token")
            .text()
            .expect("token")
    }

    /// POSTs a form with the session's CSRF token added.
    pub fn post(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::blocking::Response {
        let token = self.token();
        let mut all: Vec<(&str, &str)> = vec![("_session_csrf_secret_token", &token)];
        all.extend_from_slice(fields);
        self.post_raw(path, &all)
    }

    /// POSTs exactly the given fields.
    pub fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::blocking::Response {
        let body: String = fields
            .iter()
            .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
            .collect::<Vec<_>>()
            .join("&");
        self.http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .expect("POST")
    }

    pub fn login(&self, user: &str, password: &str) -> reqwest::blocking::Response {
        self.post(
            "/_admin/login",
            &[("username", user), ("password", password)],
        )
    }
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Runs git with a clean, fixed environment (fixed author and dates; no prompts).
pub fn git(dir: &Path, args: &[&str]) -> Output {
    Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_ASKPASS", "/bin/false")
        .env("GIT_AUTHOR_NAME", "Test Author")
        .env("GIT_AUTHOR_EMAIL", "author@example.com")
        .env("GIT_AUTHOR_DATE", "2024-01-02T03:04:05Z")
        .env("GIT_COMMITTER_NAME", "Test Author")
        .env("GIT_COMMITTER_EMAIL", "author@example.com")
        .env("GIT_COMMITTER_DATE", "2024-01-02T03:04:05Z")
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .output()
        .expect("git runs")
}

/// Runs git and returns stdout; panics with stderr on failure.
pub fn git_ok(dir: &Path, args: &[&str]) -> String {
    let out = git(dir, args);
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs git expecting failure; returns stderr.
pub fn git_fails(dir: &Path, args: &[&str]) -> String {
    let out = git(dir, args);
    assert!(!out.status.success(), "git {args:?} unexpectedly worked");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A new, empty working repository `parent/name` on branch `main`.
pub fn work_tree(parent: &Path, name: &str) -> PathBuf {
    let dir = parent.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    git_ok(&dir, &["init", "-q", "-b", "main"]);
    dir
}

/// A working repository with branches `main` and `feature`, a lightweight tag `v1.0` and an
/// annotated tag `v2.0`.
pub fn source_repo(parent: &Path) -> PathBuf {
    let dir = work_tree(parent, "source");
    std::fs::write(dir.join("README.md"), "# Hello\n").unwrap();
    git_ok(&dir, &["add", "."]);
    git_ok(&dir, &["commit", "-q", "-m", "first"]);
    git_ok(&dir, &["tag", "v1.0"]);
    git_ok(&dir, &["checkout", "-q", "-b", "feature"]);
    std::fs::write(dir.join("feature.txt"), "feature\n").unwrap();
    git_ok(&dir, &["add", "."]);
    git_ok(&dir, &["commit", "-q", "-m", "feature work"]);
    git_ok(&dir, &["checkout", "-q", "main"]);
    std::fs::write(dir.join("main.txt"), "main\n").unwrap();
    git_ok(&dir, &["add", "."]);
    git_ok(&dir, &["commit", "-q", "-m", "main work"]);
    git_ok(&dir, &["tag", "-a", "v2.0", "-m", "release 2"]);
    dir
}

/// `git show-ref` of a local repository (sorted lines "<id> <ref>").
pub fn local_refs(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = git_ok(dir, &["show-ref", "--heads", "--tags"])
        .lines()
        .map(str::to_owned)
        .collect();
    v.sort();
    v
}

/// `git ls-remote` of a URL, branch and tag refs only, sorted, peeled entries dropped.
pub fn remote_refs(dir: &Path, url: &str) -> Vec<String> {
    let mut v: Vec<String> = git_ok(dir, &["ls-remote", "--heads", "--tags", url])
        .lines()
        .filter(|l| !l.ends_with("^{}"))
        .map(|l| l.replace('\t', " "))
        .collect();
    v.sort();
    v
}

/// Names in a folder (sorted), for checking that nothing was written.
pub fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// The id of a user, from the admin's user list.
pub fn user_id(admin: &Browser, name: &str) -> String {
    let (_, list) = admin.get_text("/_admin/users");
    let marker = format!("/edit\">{name}</a>");
    let end = list
        .find(&marker)
        .unwrap_or_else(|| panic!("{name} listed: {list}"));
    let start = list[..end].rfind("/_admin/users/").unwrap() + "/_admin/users/".len();
    list[start..end].to_owned()
}

/// Every field of the default-permissions form, with `overrides` (an empty value drops the field).
pub fn defaults(overrides: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    let mut f = vec![
        ("anonymous", "True"),
        ("default_repo_perm", "repository.read"),
        ("default_group_perm", "group.read"),
        ("default_user_group_perm", "usergroup.read"),
        ("default_repo_create", "hg.create.repository"),
        ("default_user_group_create", "hg.usergroup.create.false"),
        ("default_fork", "hg.fork.repository"),
        ("default_register", "hg.register.manual_activate"),
        ("default_extern_activate", "hg.extern_activate.auto"),
    ];
    for (k, v) in overrides {
        f.retain(|(key, _)| key != k);
        if !v.is_empty() {
            f.push((k, v));
        }
    }
    f
}

/// A gzip body unpacked as text.
pub fn gunzip(bytes: &[u8]) -> String {
    use std::io::Read;
    let mut out = String::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_string(&mut out)
        .expect("a gzip body");
    out
}

/// A response header as text, empty when absent.
pub fn header(r: &reqwest::blocking::Response, name: &str) -> String {
    r.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}
