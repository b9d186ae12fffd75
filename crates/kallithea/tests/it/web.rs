//! Pages, sign-in, sessions and CSRF, as a browser sees them.

use crate::support::*;

#[test]
fn a_post_without_a_valid_csrf_token_is_refused_and_changes_nothing() {
    let s = Server::start();
    let admin = s.admin();
    for fields in [
        vec![("repo_name", "sneaky")],
        vec![
            ("repo_name", "sneaky"),
            ("_session_csrf_secret_token", "0000"),
        ],
    ] {
        let r = admin.post_raw("/_admin/repos", &fields);
        assert_eq!(r.status(), 403);
        assert!(r.text().unwrap().contains("security token"));
    }
    assert!(!s.repos.join("sneaky").exists());
    let (_, home) = admin.get_text("/");
    assert!(!home.contains("sneaky"));
    // Sign-in itself needs the token.
    let r = Browser::new(&s.base).post_raw(
        "/_admin/login",
        &[("username", ADMIN), ("password", ADMIN_PW)],
    );
    assert_eq!(r.status(), 403);
}

#[test]
fn only_get_head_and_post_are_accepted() {
    let s = Server::start();
    let c = reqwest::blocking::Client::new();
    let r = c.delete(s.url("/_admin/repos")).send().unwrap();
    assert_eq!(r.status(), 405);
}

#[test]
fn sign_in_rotates_the_session_and_sign_out_ends_it() {
    let s = Server::start();
    let b = Browser::new(&s.base);
    let before = b.token();
    let r = b.login(ADMIN, ADMIN_PW);
    assert_eq!(r.status(), 303);
    let set_cookie = r
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"),
        "{set_cookie}"
    );
    let after = b.token();
    assert_ne!(before, after, "a new session (and token) after sign-in");
    let (_, home) = b.get_text("/");
    assert!(home.contains("Sign out"));
    assert_eq!(b.post("/_admin/logout", &[]).status(), 303);
    let (_, home) = b.get_text("/");
    assert!(home.contains("Sign in") && !home.contains("Sign out"));
}

#[test]
fn wrong_password_shows_a_message_and_came_from_stays_local() {
    let s = Server::start();
    let b = Browser::new(&s.base);
    let r = b.login(ADMIN, "nope");
    assert_eq!(r.status(), 401);
    assert!(r.text().unwrap().contains("Invalid user name or password."));
    for (came_from, want) in [
        ("/_admin/my_account/api_keys", "/_admin/my_account/api_keys"),
        ("http://evil.example/", "/"),
        ("//evil.example/", "/"),
    ] {
        let token = b.token();
        let r = b.post_raw(
            &format!(
                "/_admin/login?came_from={}",
                came_from.replace(':', "%3A").replace('/', "%2F")
            ),
            &[
                ("_session_csrf_secret_token", &token),
                ("username", ADMIN),
                ("password", ADMIN_PW),
            ],
        );
        assert_eq!(r.status(), 303);
        let loc = r
            .headers()
            .get("location")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        assert_eq!(loc, want, "came_from={came_from}");
        b.post("/_admin/logout", &[]);
    }
}

#[test]
fn repeated_failed_sign_ins_are_throttled_per_account() {
    let s = Server::start_with(Options {
        extra_config: vec!["login_attempts=3".into()],
        ..Options::default()
    });
    let b = Browser::new(&s.base);
    for _ in 0..3 {
        assert_eq!(b.login(ADMIN, "wrong").status(), 401);
    }
    let r = b.login(ADMIN, ADMIN_PW);
    assert_eq!(r.status(), 429);
    assert!(
        r.text()
            .unwrap()
            .contains("Too many failed sign-in attempts")
    );
}

#[test]
fn api_key_page_shows_the_users_key_and_needs_sign_in() {
    let s = Server::start();
    let anon = Browser::new(&s.base);
    let r = anon.get("/_admin/my_account/api_keys");
    assert_eq!(r.status(), 303);
    assert!(
        r.headers()
            .get("location")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("/_admin/login?came_from=")
    );
    let admin = s.admin();
    let (status, page) = admin.get_text("/_admin/my_account/api_keys");
    assert_eq!(status, 200);
    let key = page
        .split("id=\"api_key\" class=\"mono wide\" readonly value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    assert_eq!(key.len(), 40, "{key}");
}

#[test]
fn html_in_descriptions_renders_inert() {
    let s = Server::start();
    let admin = s.admin();
    let r = admin.post(
        "/_admin/repos",
        &[
            ("repo_name", "xss"),
            ("repo_description", "<script>alert(1)</script>"),
        ],
    );
    assert_eq!(r.status(), 303);
    for page in ["/", "/xss"] {
        let (_, body) = admin.get_text(page);
        assert!(!body.contains("<script>alert(1)"), "{page}");
        assert!(
            body.contains("&lt;script&gt;alert(1)&lt;/script&gt;")
                || body.contains("&#60;script&#62;"),
            "{page}: {body}"
        );
    }
}

#[test]
fn private_repositories_are_listed_only_for_those_who_may_read_them() {
    let s = Server::start();
    let admin = s.admin();
    s.create_repo(&admin, "open", false);
    s.create_repo(&admin, "secret", true);
    s.add_user(&admin, "bob", "bob-pass-1");
    let anon = Browser::new(&s.base);
    let (_, home) = anon.get_text("/");
    assert!(home.contains("href=\"/open\"") && !home.contains("href=\"/secret\""));
    assert_eq!(
        anon.get("/secret").status(),
        303,
        "anonymous is sent to sign in"
    );
    let bob = Browser::new(&s.base);
    bob.login("bob", "bob-pass-1");
    let (_, home) = bob.get_text("/");
    assert!(!home.contains("href=\"/secret\""));
    assert_eq!(
        bob.get("/secret").status(),
        403,
        "signed-in user is refused"
    );
    let r = admin.post(
        "/secret/settings/permissions",
        &[("username", "bob"), ("permission", "repository.read")],
    );
    assert_eq!(r.status(), 303);
    let (_, home) = bob.get_text("/");
    assert!(home.contains("href=\"/secret\""));
    assert_eq!(bob.get("/secret").status(), 200);
    assert_eq!(
        bob.get("/secret/settings").status(),
        403,
        "read is not admin"
    );
}

#[test]
fn with_anonymous_access_off_pages_need_sign_in() {
    let s = Server::start_with(Options {
        public_access: false,
        ..Options::default()
    });
    let anon = Browser::new(&s.base);
    let r = anon.get("/");
    assert_eq!(r.status(), 303);
    assert!(
        r.headers()
            .get("location")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("/_admin/login")
    );
    assert_eq!(anon.get("/_admin/login").status(), 200);
    assert_eq!(anon.get("/_admin/static/style.css").status(), 200);
}

#[test]
fn unknown_pages_get_a_404_that_says_what_was_not_found() {
    let s = Server::start();
    let (status, body) = Browser::new(&s.base).get_text("/no/such/repo");
    assert_eq!(status, 404);
    assert!(body.contains("There is no page at /no/such/repo"), "{body}");
}

#[test]
fn failed_sign_ins_are_also_throttled_per_client_address() {
    let s = Server::start_with(Options {
        extra_config: vec!["login_attempts=3".into()],
        ..Options::default()
    });
    let admin = s.admin();
    s.add_user(&admin, "erin", "erin-pass-1");
    let b = Browser::new(&s.base);
    // An address gets five times an account's attempts (offices and proxies share one).
    for i in 0..15 {
        assert_eq!(b.login(&format!("x{i}"), "wrong").status(), 401);
    }
    // Another account, same address: refused too.
    assert_eq!(b.login("erin", "erin-pass-1").status(), 429);
}

#[test]
fn gits_first_request_without_credentials_does_not_count_as_a_failure() {
    let s = Server::start_with(Options {
        extra_config: vec!["login_attempts=2".into()],
        ..Options::default()
    });
    let admin = s.admin();
    s.create_repo(&admin, "closed", true);
    for _ in 0..5 {
        let r = reqwest::blocking::get(s.url("/closed/info/refs?service=git-upload-pack")).unwrap();
        assert_eq!(r.status(), 401);
    }
    let out = git(
        s.dir.path(),
        &["clone", "-q", &s.git_url(ADMIN, ADMIN_PW, "closed"), "copy"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn everything_is_served_under_the_proxy_prefix_and_nothing_outside_it() {
    let s = Server::start_with(Options {
        extra_config: vec!["filter-with=proxy-prefix".into()],
        ..Options::default()
    });
    assert!(s.base.ends_with("/kallithea"), "{}", s.base);
    let root = s.base.trim_end_matches("/kallithea").to_owned();
    let (status, home) = Browser::new(&s.base).get_text("/");
    assert_eq!(status, 200);
    assert!(
        home.contains("href=\"/kallithea/_admin/static/style.css\"")
            && home.contains("href=\"/kallithea/_admin/login\"")
    );
    let admin = Browser::new(&s.base);
    let r = admin.login(ADMIN, ADMIN_PW);
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers().get("location").unwrap(), "/kallithea/");
    assert!(
        r.headers()
            .get("set-cookie")
            .unwrap()
            .to_str()
            .unwrap()
            .contains("Path=/kallithea")
    );
    let r = admin.post("/_admin/repos", &[("repo_name", "sub")]);
    assert_eq!(r.headers().get("location").unwrap(), "/kallithea/sub");
    let src = source_repo(s.dir.path());
    git_ok(
        &src,
        &["push", "-q", &s.git_url(ADMIN, ADMIN_PW, "sub"), "--all"],
    );
    assert_eq!(remote_refs(&src, &s.anon_git_url("sub")).len(), 2);
    let (_, page) = admin.get_text("/sub");
    assert!(
        page.contains("/kallithea/sub\""),
        "clone URL under the prefix: {page}"
    );
    let c = reqwest::blocking::Client::new();
    for outside in ["/", "/sub", "/kallitheasub", "/_admin/login"] {
        assert_eq!(
            c.get(format!("{root}{outside}")).send().unwrap().status(),
            404,
            "{outside}"
        );
    }
}

#[test]
fn sign_out_by_get_shows_a_button_and_signs_nobody_out() {
    let s = Server::start();
    let admin = s.admin();
    let (status, page) = admin.get_text("/_admin/logout");
    assert_eq!(status, 200);
    assert!(page.contains("<button type=\"submit\">Sign out</button>"));
    let (_, home) = admin.get_text("/");
    assert!(home.contains("Sign out"), "still signed in");
}

#[test]
fn only_git_itself_skips_the_csrf_token_at_a_git_address() {
    let s = Server::start();
    let admin = s.admin();
    for (name, parent) in [("g", "-1"), ("git-receive-pack", "1")] {
        let r = admin.post(
            "/_admin/repo_groups",
            &[
                ("group_name", name),
                ("group_description", "x"),
                ("parent_group_id", parent),
            ],
        );
        assert_eq!(r.status(), 303, "{name}");
    }
    // A group's page whose path ends like git's service: a POST without a token, with no
    // content type or one a script may send, is refused like any other.
    let url = s.url("/_admin/repo_groups/g/git-receive-pack");
    let body = "group_name=hijacked&group_description=CSRF&parent_group_id=-1";
    for (ctype, status) in [
        (None, 415),
        (Some(""), 415),
        (Some("application/octet-stream"), 415),
        (Some("text/plain"), 403),
    ] {
        let mut req = admin.client().post(&url).body(body);
        if let Some(t) = ctype {
            req = req.header("content-type", t);
        }
        let r = req.send().unwrap();
        assert_eq!(r.status(), status, "{ctype:?}");
    }
    let (_, groups) = admin.get_text("/_admin/repo_groups");
    assert!(!groups.contains("hijacked"), "{groups}");
}
