//! Problems found by trying the product as a new user, each pinned by a test.

use std::process::{Command, Stdio};

use crate::support::*;

#[test]
fn db_create_checks_its_arguments_before_deleting_anything() {
    let s = Server::start();
    let out = run_bin(
        s.dir.path(),
        &[
            "db-create",
            "-c",
            "my.ini",
            "--user",
            "admin",
            "--password",
            "x",
            "--email",
            "bad-email",
            "--repos",
            "repos",
            "--force-yes",
        ],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not an email address"));
    assert_eq!(
        Browser::new(&s.base).login(ADMIN, ADMIN_PW).status(),
        303,
        "the old database is intact"
    );
}

#[test]
fn repo_scan_keeps_a_hook_someone_else_wrote_in_a_new_repository() {
    let s = Server::start();
    git_ok(&s.repos, &["init", "-q", "--bare", "custom"]);
    std::fs::write(
        s.repos.join("custom/hooks/post-receive"),
        "#!/bin/sh\necho mine\n",
    )
    .unwrap();
    git_ok(&s.repos, &["init", "-q", "--bare", "odd.git"]);
    git_ok(&s.repos, &["init", "-q", "group/sub"]);
    let out = run_bin(s.dir.path(), &["repo-scan", "-c", "my.ini"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("added custom"), "{stdout}");
    assert!(
        stdout.contains("odd.git") && stdout.contains("may not end with \".git\""),
        "skipped with a reason: {stdout}"
    );
    assert!(stdout.contains("working copy"), "{stdout}");
    assert_eq!(
        std::fs::read_to_string(s.repos.join("custom/hooks/post-receive")).unwrap(),
        "#!/bin/sh\necho mine\n"
    );
}

#[test]
fn a_refused_settings_form_changes_nothing_and_keeps_what_was_typed() {
    let s = Server::start();
    let admin = s.admin();
    s.create_repo(&admin, "proj", false);
    s.create_repo(&admin, "taken", false);
    let r = admin.post(
        "/proj/settings",
        &[
            ("repo_name", "taken"),
            ("repo_description", "CHANGED"),
            ("repo_landing_rev", "rev:tip"),
        ],
    );
    assert_eq!(r.status(), 400);
    let body = r.text().unwrap();
    assert!(
        body.contains("already exists") && body.contains(">CHANGED</textarea>"),
        "{body}"
    );
    let (_, page) = admin.get_text("/proj");
    assert!(!page.contains("CHANGED"), "nothing saved");
    for bad in ["<script>", "branch:-x", "weird:main", "branch:nope"] {
        let r = admin.post("/proj/settings", &[("repo_landing_rev", bad)]);
        assert_eq!(r.status(), 400, "{bad}");
    }
}

#[test]
fn the_landing_branch_becomes_the_default_branch() {
    let s = Server::start();
    let admin = s.admin();
    s.create_repo(&admin, "lb", false);
    let src = source_repo(s.dir.path());
    git_ok(
        &src,
        &["push", "-q", &s.git_url(ADMIN, ADMIN_PW, "lb"), "--all"],
    );
    let r = admin.post("/lb/settings", &[("repo_landing_rev", "branch:feature")]);
    assert_eq!(r.status(), 303);
    assert!(
        git(s.dir.path(), &["clone", "-q", &s.anon_git_url("lb"), "c"])
            .status
            .success()
    );
    assert_eq!(
        git_ok(
            &s.dir.path().join("c"),
            &["rev-parse", "--abbrev-ref", "HEAD"]
        )
        .trim(),
        "feature"
    );
}

#[test]
fn a_repository_in_a_group_is_renamed_within_its_group() {
    let s = Server::start();
    git_ok(&s.repos, &["init", "-q", "--bare", "group/sub"]);
    assert!(
        run_bin(s.dir.path(), &["repo-scan", "-c", "my.ini"])
            .status
            .success()
    );
    let admin = s.admin();
    let r = admin.post(
        "/group/sub/settings",
        &[("repo_name", "renamed"), ("repo_landing_rev", "rev:tip")],
    );
    assert_eq!(r.status(), 303);
    assert_eq!(
        r.headers().get("location").unwrap(),
        "/group/renamed/settings"
    );
    assert!(s.repos.join("group/renamed/HEAD").is_file());
}

#[test]
fn password_change_checks_the_old_one_and_ends_other_sessions() {
    let s = Server::start();
    let here = s.admin();
    let elsewhere = s.admin();
    let change = |cur: &str, new: &str, again: &str| {
        here.post(
            "/_admin/my_account/password",
            &[
                ("current_password", cur),
                ("new_password", new),
                ("new_password_confirmation", again),
            ],
        )
    };
    let r = change("wrong", "new-pass-1", "new-pass-1");
    assert_eq!(r.status(), 400);
    assert!(r.text().unwrap().contains("current password is wrong"));
    assert_eq!(change(ADMIN_PW, "new-pass-1", "other").status(), 400);
    let r = change(ADMIN_PW, "new-pass-1", "new-pass-1");
    assert_eq!(r.status(), 200);
    assert!(r.text().unwrap().contains("Your password was changed"));
    assert!(
        here.get_text("/").1.contains("Sign out"),
        "this session stays"
    );
    assert!(
        !elsewhere.get_text("/").1.contains("Sign out"),
        "the other session ended"
    );
    assert_eq!(
        Browser::new(&s.base).login(ADMIN, "new-pass-1").status(),
        303
    );
    assert_eq!(Browser::new(&s.base).login(ADMIN, ADMIN_PW).status(), 401);
}

#[test]
fn odd_requests_get_sentences() {
    let s = Server::start();
    let admin = s.admin();
    s.create_repo(&admin, "pub", false);
    // A repeated field.
    let token = admin.token();
    let r = admin.post_raw(
        "/_admin/repos",
        &[
            ("_session_csrf_secret_token", &token),
            ("repo_name", "a"),
            ("repo_name", "b"),
        ],
    );
    assert_eq!(r.status(), 400);
    assert!(r.text().unwrap().contains("The form could not be read"));
    // Bytes that are not UTF-8.
    let r = admin.post("/_admin/repos", &[("repo_name", "\u{FFFD}\u{FFFD}")]);
    assert_eq!(r.status(), 400);
    // Any Authorization header on a public page is ignored by the pages.
    let c = reqwest::blocking::Client::new();
    for auth in ["Basic YWRtaW46d3Jvbmc=", "Bearer x"] {
        assert_eq!(
            c.get(s.url("/pub"))
                .header("authorization", auth)
                .send()
                .unwrap()
                .status(),
            200,
            "{auth}"
        );
    }
    // Git on a repository whose folder vanished.
    std::fs::remove_dir_all(s.repos.join("pub")).unwrap();
    let r = c
        .get(s.url("/pub/info/refs?service=git-upload-pack"))
        .send()
        .unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.text().unwrap().contains("folder is missing"));
}

#[test]
fn the_permanent_id_url_works_with_dot_git_too() {
    let s = Server::start();
    let admin = s.admin();
    s.create_repo(&admin, "idgit", false);
    let src = source_repo(s.dir.path());
    git_ok(
        &src,
        &["push", "-q", &s.git_url(ADMIN, ADMIN_PW, "_1.git"), "main"],
    );
    assert!(
        git(
            s.dir.path(),
            &["clone", "-q", &s.anon_git_url("_1.git"), "c"]
        )
        .status
        .success()
    );
}

#[test]
fn a_bad_http_platform_port_stops_start_up() {
    let s = Server::start();
    let out = Command::new(BIN)
        .args(["serve", "-c", "my.ini"])
        .current_dir(s.dir.path())
        .env("HTTP_PLATFORM_PORT", "abc")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("HTTP_PLATFORM_PORT"));
}

#[test]
fn a_client_that_never_finishes_its_headers_is_disconnected() {
    use std::io::{Read, Write};
    let s = Server::start();
    let mut conn = std::net::TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    conn.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap();
    conn.set_read_timeout(Some(std::time::Duration::from_secs(60)))
        .unwrap();
    let started = std::time::Instant::now();
    let mut buf = [0u8; 256];
    // The server closes the connection (read returns 0 or an error) well before a minute.
    let _ = conn.read(&mut buf);
    let waited = started.elapsed();
    assert!(
        waited < std::time::Duration::from_secs(45),
        "still connected after {waited:?}"
    );
    // And it still serves everyone else.
    assert_eq!(Browser::new(&s.base).get("/").status(), 200);
}
