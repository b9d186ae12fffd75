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
            "Repository groups are not available yet",
        ),
        (
            vec![("repo_name", "h"), ("clone_uri", "http://example.com/x")],
            "from a remote URL is not available yet",
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
fn only_admins_may_create_repositories_and_anonymous_visitors_are_sent_to_sign_in() {
    let s = Server::start();
    let admin = s.admin();
    s.add_user(&admin, "carol", "carol-pass-1");
    let carol = Browser::new(&s.base);
    carol.login("carol", "carol-pass-1");
    let r = carol.post("/_admin/repos", &[("repo_name", "mine")]);
    assert_eq!(r.status(), 403);
    let anon = Browser::new(&s.base);
    let r = anon.get("/_admin/create_repository");
    assert_eq!(r.status(), 303);
    assert!(!s.repos.join("mine").exists());
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
