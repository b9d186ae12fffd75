//! Behind a reverse proxy: a real nginx (Debian's) started per test with its configuration in
//! a temporary folder, signing people in with HTTP basic auth and handing the user name over
//! in `Remote-User`; forwarded scheme and addresses; sub-folder hosting; and the refusals that
//! keep the identity header from being forged.

use std::net::{IpAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

const NGINX: &str = "/usr/sbin/nginx";

/// A running nginx with its own folder, stopped on drop.
struct Nginx {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Nginx {
    /// Starts nginx with `server_body` inside its `server { }` block. `users` go to the basic
    /// auth file `htpasswd` in its folder.
    fn start(server_body: &str, users: &[(&str, &str)]) -> Self {
        assert!(
            Path::new(NGINX).exists(),
            "nginx is needed (Debian package nginx-light; scripts/test.sh installs it)"
        );
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display().to_string();
        let htpasswd: String = users
            .iter()
            .map(|(u, p)| format!("{u}:{{PLAIN}}{p}\n"))
            .collect();
        std::fs::write(dir.path().join("htpasswd"), htpasswd).unwrap();
        // Workers may run as another user: let them read the folder.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(
            dir.path().join("htpasswd"),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        let port = free_port();
        let body = server_body.replace("{dir}", &d);
        let conf = format!(
            "daemon off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log info;\n\
             events {{ worker_connections 128; }}\n\
             http {{\n  access_log {d}/access.log;\n\
             client_body_temp_path {d}/body; proxy_temp_path {d}/proxy;\n\
             fastcgi_temp_path {d}/fastcgi; uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;\n\
             client_max_body_size 0;\n\
             server {{\n    listen 127.0.0.1:{port};\n{body}\n  }}\n}}\n"
        );
        std::fs::write(dir.path().join("nginx.conf"), conf).unwrap();
        let child = Command::new(NGINX)
            .args(["-p", &d, "-c", &format!("{d}/nginx.conf")])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("nginx starts");
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "nginx did not listen: {}",
                std::fs::read_to_string(dir.path().join("error.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { child, port, dir }
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The URL with basic-auth credentials, for git.
    fn git_url(&self, user: &str, pw: &str, path: &str) -> String {
        format!("http://{user}:{pw}@127.0.0.1:{}{path}", self.port)
    }

    #[allow(dead_code)]
    fn folder(&self) -> PathBuf {
        self.dir.path().to_owned()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// nginx checks basic auth and passes the user on, deleting whatever the client sent.
fn auth_proxy(backend_port: u16, scheme: &str) -> String {
    format!(
        "    location / {{
      auth_basic \"Kallithea\";
      auth_basic_user_file {{dir}}/htpasswd;
      proxy_set_header Remote-User $remote_user;
      proxy_set_header Authorization \"\";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto {scheme};
      proxy_request_buffering off;
      proxy_buffering off;
      proxy_http_version 1.1;
      proxy_pass http://127.0.0.1:{backend_port};
    }}"
    )
}

/// Enables the container plugin after internal, with the given extra settings.
fn enable_container(admin: &Browser, extra: &[(&str, &str)]) {
    let mut f = vec![
        ("auth_plugins", "internal,container"),
        ("auth_container_header", "REMOTE_USER"),
        ("auth_container_clean_username", "True"),
    ];
    f.extend_from_slice(extra);
    let r = admin.post("/_admin/auth", &f);
    let status = r.status();
    let page = r.text().unwrap();
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Authentication settings saved."), "{page}");
}

fn signed_in_as(page: &str) -> Option<String> {
    let marker = "class=\"user\" title=\"My account\">";
    let at = page.find(marker)? + marker.len();
    Some(page[at..].split('<').next()?.to_owned())
}

#[test]
fn nginx_signs_people_in_and_git_acts_as_them() {
    let s = Server::start();
    let admin = s.admin();
    enable_container(&admin, &[]);
    s.create_repo(&admin, "proxied", false);

    let ng = Nginx::start(&auth_proxy(s.port, "$scheme"), &[("alice", "alice-pw")]);
    // No credentials: nginx asks for them.
    assert_eq!(Browser::new(&ng.base()).get("/").status(), 401);

    // With them, the page shows alice signed in, and her account now exists.
    let alice = Browser::with(
        &ng.base(),
        None,
        &[("authorization", "Basic YWxpY2U6YWxpY2UtcHc=")],
    );
    let (status, page) = alice.get_text("/");
    assert_eq!(status, 200, "{page}");
    assert_eq!(signed_in_as(&page).as_deref(), Some("alice"), "{page}");
    let (_, users) = admin.get_text("/_admin/users");
    assert!(users.contains(">alice</a>"), "{users}");
    // A form works through the proxy (the session carries a CSRF token).
    let (status, page) = alice.get_text("/_admin/my_account/api_keys");
    assert_eq!(status, 200, "{page}");

    // Push and clone through nginx act as alice.
    let r = admin.post(
        "/proxied/settings/permissions",
        &[("username", "alice"), ("permission", "repository.write")],
    );
    assert!(r.status().is_success() || r.status().is_redirection());
    let work = tempfile::tempdir().unwrap();
    let src = source_repo(work.path());
    git_ok(
        &src,
        &[
            "push",
            "-q",
            &ng.git_url("alice", "alice-pw", "/proxied"),
            "main",
        ],
    );
    let (_, summary) = admin.get_text("/proxied");
    assert!(
        summary.contains("<strong>alice</strong> pushed"),
        "the push is alice's: {summary}"
    );
    // Pages reach the browser gzipped through nginx, as Kallithea sent them.
    let gzip = Browser::with(
        &ng.base(),
        None,
        &[
            ("authorization", "Basic YWxpY2U6YWxpY2UtcHc="),
            ("accept-encoding", "gzip"),
        ],
    );
    let r = gzip.get("/proxied");
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "content-encoding"), "gzip");
    let page = gunzip(&r.bytes().unwrap());
    assert!(page.contains("<strong>alice</strong> pushed"), "{page}");
    let clone = work.path().join("clone");
    git_ok(
        work.path(),
        &[
            "clone",
            "-q",
            &ng.git_url("alice", "alice-pw", "/proxied"),
            clone.to_str().unwrap(),
        ],
    );
    assert!(clone.join("README.md").exists());
    // A wrong password never reaches us.
    let out = git(
        work.path(),
        &["ls-remote", &ng.git_url("alice", "wrong", "/proxied")],
    );
    assert!(!out.status.success());
}

#[test]
fn accounts_from_the_proxy_wait_for_activation_when_the_default_says_so() {
    let s = Server::start();
    let admin = s.admin();
    enable_container(&admin, &[]);
    let r = admin.post(
        "/_admin/permissions",
        &defaults(&[("default_extern_activate", "hg.extern_activate.manual")]),
    );
    assert_eq!(r.status(), 200);
    let ng = Nginx::start(&auth_proxy(s.port, "$scheme"), &[("bob", "bob-pw")]);
    let bob = Browser::with(
        &ng.base(),
        None,
        &[("authorization", "Basic Ym9iOmJvYi1wdw==")],
    );
    let (status, page) = bob.get_text("/");
    assert_eq!(status, 403, "{page}");
    assert!(
        page.contains("has been created and is waiting for an administrator to activate it"),
        "{page}"
    );
    // Git through the proxy is refused the same way.
    let work = tempfile::tempdir().unwrap();
    s.create_repo(&admin, "r", false);
    let out = git(
        work.path(),
        &["ls-remote", &ng.git_url("bob", "bob-pw", "/r")],
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("waiting for an administrator"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The admin activates bob: he is in.
    let id = user_id(&admin, "bob");
    let r = admin.post(
        &format!("/_admin/users/{id}"),
        &[("email", "bob@example.com"), ("active", "True")],
    );
    assert_eq!(r.status(), 200);
    let (status, page) = bob.get_text("/");
    assert_eq!(status, 200, "{page}");
    assert_eq!(signed_in_as(&page).as_deref(), Some("bob"));

    // Deactivated again: refused with a different sentence.
    let r = admin.post(
        &format!("/_admin/users/{id}"),
        &[("email", "bob@example.com")],
    );
    assert_eq!(r.status(), 200);
    let fresh = Browser::with(
        &ng.base(),
        None,
        &[("authorization", "Basic Ym9iOmJvYi1wdw==")],
    );
    let (status, page) = fresh.get_text("/");
    assert_eq!(status, 403, "{page}");
    assert!(page.contains("is disabled"), "{page}");
}

#[test]
fn identity_headers_count_only_from_trusted_proxies_with_the_secret() {
    let secret = "a-long-proxy-secret-1234";
    let s = Server::start_with(Options {
        extra_config: vec![
            "trusted_proxies=127.0.0.1".into(),
            format!("proxy_secret={secret}"),
        ],
        ..Options::default()
    });
    let admin = s.admin();
    enable_container(&admin, &[]);
    let who = |local: &str, headers: &[(&str, &str)]| {
        let ip: IpAddr = local.parse().unwrap();
        let b = Browser::with(&s.base, Some(ip), headers);
        let (status, page) = b.get_text("/");
        (status, signed_in_as(&page), page)
    };
    let secret_header = ("x-kallithea-proxy-secret", secret);

    // From 127.0.0.2, which is not trusted: nobody is signed in, and the attempt is logged.
    let (status, user, _) = who("127.0.0.2", &[("remote-user", "admin"), secret_header]);
    assert_eq!((status, user), (200, None));
    // From the trusted address without the secret, or with a wrong one: nobody.
    let (_, user, _) = who("127.0.0.1", &[("remote-user", "admin")]);
    assert_eq!(user, None);
    let (_, user, _) = who(
        "127.0.0.1",
        &[
            ("remote-user", "admin"),
            ("x-kallithea-proxy-secret", "a-long-proxy-secret-WRONG"),
        ],
    );
    assert_eq!(user, None);
    // The underscore spelling is refused outright, even with the secret.
    let (status, user, page) = who("127.0.0.1", &[("remote_user", "admin"), secret_header]);
    assert_eq!((status, user), (400, None));
    assert!(page.contains("spelled with underscores"), "{page}");
    // Trusted address and the right secret: signed in, cleaned of its domain.
    let (status, user, _) = who(
        "127.0.0.1",
        &[("remote-user", "CORP\\carol"), secret_header],
    );
    assert_eq!((status, user.as_deref()), (200, Some("carol")));
    // Profile headers, when configured, fill the account at each sign-in.
    enable_container(
        &admin,
        &[
            ("auth_container_email_header", "HTTP_X_EMAIL"),
            ("auth_container_firstname_header", "HTTP_X_FIRST"),
        ],
    );
    let (_, user, _) = who(
        "127.0.0.1",
        &[
            ("remote-user", "dora@EXAMPLE.COM"),
            ("x-email", "dora@example.com"),
            ("x-first", "Dora"),
            secret_header,
        ],
    );
    assert_eq!(user.as_deref(), Some("dora"));
    let (_, users) = admin.get_text("/_admin/users");
    assert!(
        users.contains("dora@example.com") && users.contains("Dora"),
        "{users}"
    );
    // The name must be a valid user name.
    let (status, user, page) = who("127.0.0.1", &[("remote-user", "../etc"), secret_header]);
    assert_eq!((status, user), (403, None), "{page}");
    assert!(page.contains("not a valid user name"), "{page}");
    // Git with the forged header from an untrusted address is anonymous: pushing needs credentials.
    s.create_repo(&admin, "r", false);
    let work = tempfile::tempdir().unwrap();
    let src = source_repo(work.path());
    let out = Command::new("git")
        .args([
            "-c",
            "http.extraHeader=Remote-User: admin",
            "push",
            &s.anon_git_url("r"),
            "HEAD",
        ])
        .current_dir(&src)
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .unwrap();
    assert!(!out.status.success(), "no secret: refused");
    let log = s.log();
    assert!(
        log.contains("ignored identity header") && log.contains("127.0.0.2"),
        "{log}"
    );
    assert!(log.contains("without the right proxy secret"), "{log}");
}

#[test]
fn auth_settings_page_validates_and_is_for_admins_only() {
    let s = Server::start();
    let admin = s.admin();
    let (status, page) = admin.get_text("/_admin/auth");
    assert_eq!(status, 200);
    assert!(
        page.contains("kallithea.lib.auth_modules.auth_internal"),
        "{page}"
    );
    assert!(
        page.contains("kallithea.lib.auth_modules.auth_container"),
        "{page}"
    );
    for (fields, says) in [
        (
            vec![("auth_plugins", "")],
            "At least one authentication plugin",
        ),
        (
            vec![("auth_plugins", "internal,evil")],
            "There is no authentication plugin",
        ),
        (
            vec![("auth_plugins", "kallithea.lib.auth_modules.auth_ldap")],
            "not available in this version yet",
        ),
        (
            vec![
                ("auth_plugins", "internal,container"),
                ("auth_container_header", "X-User: x"),
            ],
            "is not a header name",
        ),
        (
            vec![
                ("auth_plugins", "container"),
                ("auth_container_header", "HTTP_COOKIE"),
            ],
            "a header clients send themselves",
        ),
    ] {
        let r = admin.post("/_admin/auth", &fields);
        assert_eq!(r.status(), 400);
        let page = r.text().unwrap();
        assert!(page.contains(says), "{says}: {page}");
    }
    // Nothing was saved: container is still not in use.
    let (_, page) = admin.get_text("/_admin/auth");
    assert!(!page.contains("Plugin: container"), "{page}");
    // Kallithea's module names are accepted; the settings form appears with its defaults.
    enable_container(&admin, &[]);
    let (_, page) = admin.get_text("/_admin/auth");
    assert!(page.contains("Plugin: container"), "{page}");
    assert!(page.contains("value=\"REMOTE_USER\""), "{page}");

    s.add_user(&admin, "dave", "dave-pass-1");
    let dave = Browser::new(&s.base);
    dave.login("dave", "dave-pass-1");
    assert_eq!(dave.get("/_admin/auth").status(), 403);
    assert_eq!(
        dave.post("/_admin/auth", &[("auth_plugins", "container")])
            .status(),
        403
    );
    assert_eq!(Browser::new(&s.base).get("/_admin/auth").status(), 303);

    // With only the container plugin, passwords no longer sign anyone in.
    let r = admin.post("/_admin/auth", &[("auth_plugins", "container")]);
    assert_eq!(r.status(), 200);
    assert_eq!(
        Browser::new(&s.base).login("dave", "dave-pass-1").status(),
        401
    );
}

/// Every link, image, script and form target on a page.
fn links(page: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["href=\"", "src=\"", "action=\""] {
        let mut rest = page;
        while let Some(at) = rest.find(attr) {
            rest = &rest[at + attr.len()..];
            let end = rest.find('"').unwrap_or(0);
            out.push(rest[..end].replace("&amp;", "&").replace("&#x2F;", "/"));
        }
    }
    out
}

#[test]
fn in_a_sub_folder_no_link_leaves_the_prefix() {
    let s = Server::start_with(Options {
        extra_config: vec![
            "filter-with=proxy-prefix".into(),
            "prefix=/kallithea".into(),
        ],
        ..Options::default()
    });
    let ng = Nginx::start(
        &format!(
            "    location /kallithea/ {{
      proxy_set_header Host $http_host;
      proxy_pass http://127.0.0.1:{};
    }}
    location / {{ return 404 \"outside the prefix\\n\"; }}",
            s.port
        ),
        &[],
    );
    let base = format!("{}/kallithea", ng.base());
    let admin = Browser::new(&base);
    assert_eq!(admin.login(ADMIN, ADMIN_PW).status(), 303);
    let r = admin.post(
        "/_admin/repos",
        &[
            ("repo_name", "sub"),
            ("repo_type", "git"),
            ("repo_description", "d"),
        ],
    );
    assert_eq!(r.status(), 303);
    let loc = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(loc.starts_with("/kallithea/"), "redirect {loc}");
    let work = tempfile::tempdir().unwrap();
    let src = source_repo(work.path());
    let url = format!(
        "http://{ADMIN}:{ADMIN_PW}@127.0.0.1:{}/kallithea/sub",
        ng.port
    );
    git_ok(&src, &["push", "-q", &url, "main", "feature", "--tags"]);

    let anon = Browser::new(&base);
    let mut seen = std::collections::BTreeSet::new();
    for page in [
        "/",
        "/sub",
        "/sub/changelog",
        "/sub/files/main/",
        "/sub/files/main/README.md",
    ] {
        for who in [&admin, &anon] {
            let (status, html) = who.get_text(page);
            assert_eq!(status, 200, "{page}: {html}");
            for l in links(&html) {
                if l.starts_with('#') || l.starts_with("data:") || l.starts_with("mailto:") {
                    continue;
                }
                let path = if let Some(rest) = l.strip_prefix(&ng.base()) {
                    rest.to_owned()
                } else if l.starts_with("http://") || l.starts_with("https://") {
                    panic!("{page} links to another site: {l}");
                } else if l.starts_with('/') {
                    l.clone()
                } else {
                    // Relative: against the page's own URL.
                    let page_url = format!("/kallithea{page}");
                    if l.starts_with('?') {
                        format!("{}{l}", page_url.split('?').next().unwrap())
                    } else {
                        format!("{}{l}", &page_url[..=page_url.rfind('/').unwrap()])
                    }
                };
                assert!(
                    path.starts_with("/kallithea/") || path == "/kallithea",
                    "{page} has a link outside the prefix: {l}"
                );
                seen.insert(path);
            }
        }
    }
    assert!(seen.len() > 20, "{seen:?}");
    // Follow them: each answers through the prefix (POST-only targets answer 405 to GET).
    for path in &seen {
        let r = admin.get(path.strip_prefix("/kallithea").unwrap());
        let status = r.status().as_u16();
        if let Some(loc) = r.headers().get("location") {
            let loc = loc.to_str().unwrap();
            assert!(loc.starts_with("/kallithea"), "{path} redirects to {loc}");
        }
        assert!(
            status < 400 || status == 405,
            "{path}: {status} {}",
            r.text().unwrap_or_default()
        );
    }
    // Feeds link into the prefix with the proxy's address.
    for feed in ["/sub/feed/rss", "/sub/feed/atom"] {
        let (status, xml) = anon.get_text(feed);
        assert_eq!(status, 200);
        let own = format!("http://127.0.0.1:{}/kallithea/sub/changeset/", ng.port);
        assert!(xml.contains(&own), "{feed}: {xml}");
        assert!(
            !xml.contains(&format!("127.0.0.1:{}/sub", ng.port)),
            "{feed}: {xml}"
        );
    }
    // The session cookie is scoped to the prefix.
    let r = Browser::new(&base).get("/_admin/login");
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.contains("Path=/kallithea;"), "{cookie}");
    // The clone URL on the summary is the proxy's.
    let (_, summary) = anon.get_text("/sub");
    assert!(
        summary.contains(&format!("http://127.0.0.1:{}/kallithea/sub", ng.port)),
        "{summary}"
    );
}

#[test]
fn hsts_and_secure_cookies_behind_a_proxy_that_says_https() {
    let s = Server::start_with(Options {
        extra_config: vec![
            "url_scheme_variable=HTTP_X_FORWARDED_PROTO".into(),
            "remote_addr_variable=HTTP_X_FORWARDED_FOR".into(),
            "use_htsts=true".into(),
            "trusted_proxies=127.0.0.1".into(),
        ],
        ..Options::default()
    });
    let ng = Nginx::start(
        &format!(
            "    location / {{
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-Proto https;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_pass http://127.0.0.1:{};
    }}",
            s.port
        ),
        &[],
    );
    let via = Browser::new(&ng.base());
    let r = via.get("/_admin/login");
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["strict-transport-security"],
        "max-age=8640000; includeSubDomains"
    );
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.contains("; Secure"), "{cookie}");
    let (_, summary) = via.get_text("/");
    assert!(!summary.contains("http://127.0.0.1"), "{summary}");

    // Straight to the server: plain HTTP, no HSTS, no Secure.
    let r = Browser::new(&s.base).get("/_admin/login");
    assert!(r.headers().get("strict-transport-security").is_none());
    assert!(
        !r.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Secure")
    );
    // A client that claims https itself, from an untrusted address, is not believed.
    let r = Browser::with(
        &s.base,
        Some("127.0.0.2".parse().unwrap()),
        &[("x-forwarded-proto", "https")],
    )
    .get("/_admin/login");
    assert!(r.headers().get("strict-transport-security").is_none());
}

#[test]
fn with_anonymous_access_off_every_page_needs_a_user() {
    let s = Server::start_with(Options {
        public_access: false,
        ..Options::default()
    });
    let anon = Browser::new(&s.base);
    for path in [
        "/",
        "/_admin/users",
        "/nonexistent/page",
        "/_admin/my_account",
    ] {
        let r = anon.get(path);
        assert_eq!(r.status(), 303, "{path}");
        let loc = r.headers()["location"].to_str().unwrap();
        assert!(loc.starts_with("/_admin/login?came_from="), "{path}: {loc}");
    }
    assert_eq!(anon.get("/_admin/login").status(), 200);
    assert_eq!(anon.get("/_admin/static/style.css").status(), 200);
    // A script asking for JSON is told to sign in, in JSON, rather than sent to a page.
    let script = Browser::with(&s.base, None, &[("accept", "application/json")]);
    let r = script.get("/some/repo/nodelist/main/");
    assert_eq!(r.status(), 401);
    assert!(header(&r, "content-type").starts_with("application/json"));
    let j: serde_json::Value = serde_json::from_str(&r.text().unwrap()).unwrap();
    assert_eq!(j["error"], "Sign in to continue.");
    let admin = s.admin();
    assert_eq!(admin.get("/").status(), 200);
}

#[test]
fn an_unexpected_failure_shows_a_request_id_that_names_the_log_lines() {
    let s = Server::start_with(Options {
        extra_config: vec![
            "log_file=%(here)s/logs/kallithea.log".into(),
            "debug=true".into(),
            "remote_addr_variable=HTTP_X_FORWARDED_FOR".into(),
        ],
        ..Options::default()
    });
    let admin = s.admin();
    s.create_repo(&admin, "broken", false);
    let work = tempfile::tempdir().unwrap();
    let src = source_repo(work.path());
    git_ok(
        &src,
        &["push", "-q", &s.git_url(ADMIN, ADMIN_PW, "broken"), "main"],
    );
    // Damage the repository on disk behind the server's back.
    let objects = s.repos.join("broken").join("objects");
    for dir in std::fs::read_dir(&objects).unwrap() {
        let dir = dir.unwrap().path();
        if dir.is_dir() {
            for f in std::fs::read_dir(&dir).unwrap() {
                let f = f.unwrap().path();
                std::fs::write(&f, b"garbage").ok();
            }
        }
    }
    // With debug on, a client on this machine sees what went wrong underneath...
    let (status, page) = Browser::new(&s.base).get_text("/broken/changelog");
    assert_eq!(status, 500, "{page}");
    assert!(
        page.contains("reading the repository failed"),
        "details for loopback: {page}"
    );
    // ...a client elsewhere (as the trusted proxy reports) does not, but gets the request id.
    let remote = Browser::with(&s.base, None, &[("x-forwarded-for", "192.0.2.10")]);
    assert!(remote.login(ADMIN, ADMIN_PW).status().is_redirection());
    let (status, page) = remote.get_text("/broken/changelog");
    assert_eq!(status, 500, "{page}");
    assert!(
        !page.contains("reading the repository failed") && !page.contains("inflate"),
        "no details: {page}"
    );
    let marker = "Request id: <code>";
    let at = page.find(marker).expect("request id shown") + marker.len();
    let id = &page[at..at + 12];
    let log = std::fs::read_to_string(s.dir.path().join("logs/kallithea.log")).unwrap();
    let line = log
        .lines()
        .find(|l| l.contains(id) && l.contains("ERROR"))
        .unwrap_or_else(|| panic!("{id} in the log file: {log}"));
    assert!(
        line.contains("GET") && line.contains("/broken/changelog"),
        "{line}"
    );
    assert!(line.contains("client=192.0.2.10"), "{line}");
    assert!(
        line.contains("user=\"admin\"") && !line.contains("user=\"admin\" user"),
        "{line}"
    );
    assert!(!log.contains("\x1b["), "no colour codes in the file");
}

/// A self-signed certificate for localhost and 127.0.0.1, made with the openssl command.
fn self_signed(dir: &Path) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let out = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
        ])
        .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl runs (Debian package openssl)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (cert, key)
}

fn curl(args: &[&str]) -> std::process::Output {
    Command::new("curl")
        .args(["-sS", "-D", "-", "-o", "/dev/null"])
        .args(args)
        .output()
        .expect("curl runs")
}

#[test]
fn native_tls_serves_https_with_secure_cookies_and_git() {
    let certs = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed(certs.path());
    let s = Server::start_with(Options {
        extra_config: vec![
            format!("tls_certificate={}", cert.display()),
            format!("tls_key={}", key.display()),
            "use_htsts=true".into(),
        ],
        ..Options::default()
    });
    assert!(s.base.starts_with("https://"), "{}", s.base);
    let cacert = cert.display().to_string();
    let out = curl(&["--cacert", &cacert, &s.url("/_admin/login")]);
    let head = String::from_utf8_lossy(&out.stdout).to_ascii_lowercase();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        head.starts_with("http/2 200") || head.starts_with("http/1.1 200"),
        "{head}"
    );
    assert!(
        head.contains("strict-transport-security: max-age=8640000"),
        "{head}"
    );
    assert!(
        head.contains("set-cookie: kallithea=") && head.contains("; secure"),
        "{head}"
    );
    // Plain HTTP on the TLS port gets nowhere.
    let plain = s.url("/").replacen("https://", "http://", 1);
    let out = curl(&["--max-time", "5", &plain]);
    assert!(!String::from_utf8_lossy(&out.stdout).contains(" 200"));

    // Git over HTTPS, trusting our certificate.
    let bare = s.repos.join("secure");
    let work = tempfile::tempdir().unwrap();
    let src = source_repo(work.path());
    git_ok(
        work.path(),
        &["init", "-q", "--bare", "-b", "main", bare.to_str().unwrap()],
    );
    git_ok(&src, &["push", "-q", bare.to_str().unwrap(), "main"]);
    let out = run_bin(s.dir.path(), &["repo-scan", "-c", "my.ini"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let clone = work.path().join("clone");
    let out = Command::new("git")
        .args(["clone", "-q", &s.url("/secure"), clone.to_str().unwrap()])
        .env("GIT_SSL_CAINFO", &cert)
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(clone.join("README.md").exists());
}

#[test]
fn a_bad_certificate_stops_start_up_with_a_sentence() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("not-a-cert.pem"), "hello").unwrap();
    let out = run_bin(
        dir.path(),
        &[
            "config-create",
            "my.ini",
            "tls_certificate=not-a-cert.pem",
            "tls_key=not-a-cert.pem",
        ],
    );
    assert!(out.status.success());
    let out = run_bin(dir.path(), &["serve", "-c", "my.ini", "--port", "0"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not-a-cert.pem") && err.contains("tls_certificate"),
        "{err}"
    );
    let out = run_bin(
        dir.path(),
        &["config-create", "my.ini", "tls_key=k.pem", "--force"],
    );
    assert!(!out.status.success(), "key without certificate refused");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("tls_key is set but tls_certificate is not")
    );
}

#[test]
fn sign_in_throttling_counts_the_client_the_proxy_reports() {
    let s = Server::start_with(Options {
        extra_config: vec![
            "login_attempts=1".into(),
            "remote_addr_variable=HTTP_X_FORWARDED_FOR".into(),
        ],
        ..Options::default()
    });
    // Both "clients" come through the same proxy address (127.0.0.1).
    let a = Browser::with(&s.base, None, &[("x-forwarded-for", "192.0.2.1")]);
    let b = Browser::with(&s.base, None, &[("x-forwarded-for", "10.9.8.7, 192.0.2.2")]);
    let mut statuses = Vec::new();
    for i in 0..6 {
        statuses.push(a.login(&format!("ghost{i}"), "wrong").status().as_u16());
    }
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
    assert_eq!(
        b.login("ghost9", "wrong").status(),
        401,
        "another client is not blocked"
    );
    assert_eq!(b.login(ADMIN, ADMIN_PW).status(), 303);
}

#[test]
fn the_proxy_cannot_become_an_account_that_signs_in_with_a_password() {
    let s = Server::start();
    let admin = s.admin();
    enable_container(&admin, &[]);
    for name in ["admin", "OTHERDOMAIN\\admin", "Admin@ANYREALM"] {
        let b = Browser::with(&s.base, None, &[("remote-user", name)]);
        let (status, page) = b.get_text("/");
        assert_eq!(status, 403, "{name}: {page}");
        assert!(page.contains("signs in with a password here"), "{page}");
        assert_eq!(signed_in_as(&page), None);
    }
    // Git too.
    s.create_repo(&admin, "r", true);
    let out = Command::new("git")
        .args([
            "-c",
            "http.extraHeader=Remote-User: admin",
            "ls-remote",
            &s.anon_git_url("r"),
        ])
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .unwrap();
    assert!(!out.status.success());
    // Two identity header lines in one request are refused (sent by hand: HTTP clients merge).
    use std::io::{Read, Write};
    let mut tcp = std::net::TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    tcp.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nRemote-User: zed\r\nRemote-User: admin\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    tcp.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("more than once"), "{answer}");
}
