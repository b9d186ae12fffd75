//! Creating, naming, editing, renaming and deleting repositories.

use crate::support::*;

#[test]
fn names_are_normalised_like_kallithea() {
    let s = Server::start();
    let admin = s.admin();
    let r = admin.post(
        "/_admin/repos",
        &[("repo_name", "My New Repo!"), ("repo_type", "git")],
    );
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers().get("location").unwrap(), "/My-New-Repo");
    assert!(s.repos.join("My-New-Repo/HEAD").is_file());
}

#[test]
fn each_bad_name_is_refused_with_its_reason_and_nothing_is_written() {
    let s = Server::start();
    let admin = s.admin();
    let before = listing(&s.repos);
    let cases = [
        ("", "must not be empty"),
        ("..", "may not contain \"..\""),
        ("a..b", "may not contain \"..\""),
        (".hidden", "may not start with \".\""),
        ("_admin", "\"_admin\" is reserved"),
        ("_42", "reserved for permanent repository links"),
        ("project.git", "may not end with \".git\""),
        ("bad\u{1}name", "control characters"),
    ];
    for (name, reason) in cases {
        let r = admin.post(
            "/_admin/repos",
            &[("repo_name", name), ("repo_type", "git")],
        );
        assert_eq!(r.status(), 400, "{name:?}");
        let body = r.text().unwrap();
        assert!(
            body.contains(&reason.replace('"', "&#34;")) || body.contains(reason),
            "{name:?}: wanted {reason:?} in {body}"
        );
    }
    assert_eq!(listing(&s.repos), before, "nothing on disk");
    let (_, home) = admin.get_text("/");
    assert!(home.contains("There are no repositories"));
}

#[test]
fn names_are_unique_regardless_of_case() {
    let s = Server::start();
    let admin = s.admin();
    s.create_repo(&admin, "Project", false);
    let r = admin.post("/_admin/repos", &[("repo_name", "PROJECT")]);
    assert_eq!(r.status(), 409);
    assert!(r.text().unwrap().contains("already exists"));
    assert!(!s.repos.join("PROJECT").exists());
}

#[test]
fn unsupported_choices_are_refused_with_a_sentence() {
    let s = Server::start();
    let admin = s.admin();
    for (fields, msg) in [
        (
            vec![("repo_name", "h"), ("repo_type", "hg")],
            "Mercurial repositories are not supported yet",
        ),
        (
            vec![("repo_name", "h"), ("repo_type", "svn")],
            "Unknown repository type",
        ),
        (
            vec![("repo_name", "h"), ("repo_group", "7")],
            "There is no repository group",
        ),
        (
            vec![("repo_name", "h"), ("clone_uri", "file:///etc")],
            "must start with http:// or https://",
        ),
        (
            vec![("repo_name", "h"), ("clone_uri", "ssh://host/x")],
            "must start with http:// or https://",
        ),
        (
            vec![
                ("repo_name", "h"),
                ("clone_uri", "--upload-pack=touch /tmp/x"),
            ],
            "must start with http:// or https://",
        ),
        (
            vec![("repo_name", "h"), ("repo_landing_rev", "--output=/tmp/x")],
            "is not a valid landing revision",
        ),
    ] {
        let r = admin.post("/_admin/repos", &fields);
        assert_eq!(r.status(), 400);
        assert!(r.text().unwrap().contains(msg), "{msg}");
    }
    assert!(!s.repos.join("h").exists());
}

#[test]
fn signed_in_users_may_create_by_default_and_own_what_they_create() {
    // Kallithea's default permissions give the `default` user `hg.create.repository`.
    let s = Server::start();
    let admin = s.admin();
    s.add_user(&admin, "carol", "carol-pass-1");
    s.create_repo(&admin, "admins", false);
    let carol = Browser::new(&s.base);
    carol.login("carol", "carol-pass-1");
    let r = carol.post("/_admin/repos", &[("repo_name", "mine")]);
    assert_eq!(r.status(), 303);
    assert!(s.repos.join("mine/HEAD").is_file());
    assert_eq!(
        carol.get("/mine/settings").status(),
        200,
        "the owner administers it"
    );
    assert_eq!(carol.get("/admins/settings").status(), 403);
    let anon = Browser::new(&s.base);
    let r = anon.get("/_admin/create_repository");
    assert_eq!(r.status(), 303, "anonymous visitors are sent to sign in");
    let token = anon.token();
    let r = anon.post_raw(
        "/_admin/repos",
        &[
            ("_session_csrf_secret_token", &token),
            ("repo_name", "anon"),
        ],
    );
    assert_eq!(r.status(), 303);
    assert!(!s.repos.join("anon").exists());
}

#[test]
fn settings_edit_rename_and_delete() {
    let s = Server::start();
    let admin = s.admin();
    s.create_repo(&admin, "before", false);
    let r = admin.post(
        "/before/settings",
        &[
            ("repo_name", "after"),
            ("repo_description", "new words"),
            ("repo_landing_rev", "rev:tip"),
            ("repo_private", "True"),
        ],
    );
    assert_eq!(r.status(), 303, "{:?}", r.text());
    assert_eq!(r.headers().get("location").unwrap(), "/after/settings");
    assert!(s.repos.join("after/HEAD").is_file() && !s.repos.join("before").exists());
    assert_eq!(admin.get("/before").status(), 404);
    let (_, page) = admin.get_text("/after");
    assert!(page.contains("new words") && page.contains("private"));
    // The anonymous visitor no longer sees it.
    let (_, home) = Browser::new(&s.base).get_text("/");
    assert!(!home.contains("after"));

    // A rename onto a taken name is refused.
    s.create_repo(&admin, "taken", false);
    let r = admin.post("/after/settings", &[("repo_name", "TAKEN")]);
    assert_eq!(r.status(), 400);
    assert!(r.text().unwrap().contains("already exists"));

    let r = admin.post("/after/settings/delete", &[]);
    assert_eq!(r.status(), 303);
    assert_eq!(admin.get("/after").status(), 404);
    let moved: Vec<String> = listing(&s.repos)
        .into_iter()
        .filter(|n| n.starts_with("rm__") && n.ends_with("__after"))
        .collect();
    assert_eq!(
        moved.len(),
        1,
        "moved aside, not destroyed: {:?}",
        listing(&s.repos)
    );
    assert!(s.repos.join(&moved[0]).join("HEAD").is_file());
}

#[test]
fn a_repository_is_reachable_by_its_permanent_id() {
    let s = Server::start();
    let admin = s.admin();
    s.create_repo(&admin, "by-id", false);
    let (_, page) = admin.get_text("/by-id");
    let id_url = page
        .split("<code>")
        .nth(1)
        .unwrap()
        .split("</code>")
        .next()
        .unwrap()
        .to_owned();
    let id_path = id_url.rsplit('/').next().unwrap().to_owned();
    assert!(id_path.starts_with('_'), "{id_url}");
    let (status, page) = admin.get_text(&format!("/{id_path}"));
    assert_eq!(status, 200);
    assert!(page.contains("<h1>by-id"));
}

#[test]
fn a_restart_keeps_everything() {
    let mut s = Server::start();
    let admin = s.admin();
    s.create_repo(&admin, "durable", false);
    let src = source_repo(s.dir.path());
    git_ok(
        &src,
        &[
            "push",
            "-q",
            &s.git_url(ADMIN, ADMIN_PW, "durable"),
            "--all",
        ],
    );
    s.restart();
    let admin = s.admin();
    let (_, home) = admin.get_text("/");
    assert!(home.contains("durable"));
    assert_eq!(remote_refs(&src, &s.anon_git_url("durable")).len(), 2);
}

#[test]
fn a_repository_can_be_created_as_a_clone_of_a_remote_one() {
    let s = Server::start();
    let admin = s.admin();
    s.create_repo(&admin, "upstream", false);
    let src = source_repo(s.dir.path());
    git_ok(
        &src,
        &[
            "push",
            "-q",
            &s.git_url(ADMIN, ADMIN_PW, "upstream"),
            "feature",
        ],
    );
    git_ok(
        &src,
        &[
            "push",
            "-q",
            &s.git_url(ADMIN, ADMIN_PW, "upstream"),
            "--all",
        ],
    );
    git_ok(
        &src,
        &[
            "push",
            "-q",
            &s.git_url(ADMIN, ADMIN_PW, "upstream"),
            "--tags",
        ],
    );
    let r = admin.post(
        "/_admin/repos",
        &[
            ("repo_name", "downstream"),
            ("clone_uri", &s.anon_git_url("upstream")),
        ],
    );
    assert_eq!(r.status(), 303, "{:?}", r.text());
    assert_eq!(
        remote_refs(&src, &s.anon_git_url("downstream")),
        local_refs(&src)
    );
    let out = git(
        s.dir.path(),
        &["clone", "-q", &s.anon_git_url("downstream"), "copy"],
    );
    assert!(out.status.success());
    assert_eq!(
        git_ok(
            &s.dir.path().join("copy"),
            &["rev-parse", "--abbrev-ref", "HEAD"]
        )
        .trim(),
        "feature",
        "HEAD follows the remote's"
    );
}

#[test]
fn a_failed_clone_leaves_nothing_and_never_shows_the_password() {
    let s = Server::start();
    let admin = s.admin();
    let before = listing(&s.repos);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://someone:hunter2secret@127.0.0.1:{port}/nothing");
    let r = admin.post(
        "/_admin/repos",
        &[("repo_name", "broken"), ("clone_uri", &url)],
    );
    assert_eq!(r.status(), 400);
    let body = r.text().unwrap();
    assert!(
        body.contains("Could not clone from http://someone@127.0.0.1"),
        "{body}"
    );
    assert!(!body.contains("hunter2secret"));
    assert!(!s.log().contains("hunter2secret"), "not in the log either");
    assert_eq!(listing(&s.repos), before);
    let (_, home) = admin.get_text("/");
    assert!(!home.contains("href=\"/broken\""));
}
