//! The main flow on PostgreSQL and MariaDB (SQLite is what every other test uses).

use crate::support::*;

fn full_flow(kind: DbKind) {
    let mut s = Server::start_with(Options {
        db: kind,
        ..Options::default()
    });
    let admin = s.admin();
    s.create_repo(&admin, "Ünïcode repo", false);
    let r = admin.post("/_admin/repos", &[("repo_name", "ÜNÏCODE REPO")]);
    assert_eq!(r.status(), 409, "{kind:?}: unique regardless of case");
    s.add_user(&admin, "dora", "dora-pass-1");
    // Bytes PostgreSQL refuses in text are refused before they reach it.
    assert_eq!(admin.get("/x%00y").status(), 404, "{kind:?}");
    let r = admin.post(
        "/_admin/users",
        &[
            ("username", "nul"),
            ("password", "p"),
            ("password_confirmation", "p"),
            ("firstname", "a\u{0}b"),
        ],
    );
    assert_eq!(r.status(), 400, "{kind:?}");
    assert!(r.text().unwrap().contains("control characters"));
    let r = admin.post(
        "/_admin/login",
        &[("username", "ad\u{0}min"), ("password", "x")],
    );
    assert_eq!(r.status(), 401, "{kind:?}");
    let src = source_repo(s.dir.path());
    git_ok(
        &src,
        &[
            "push",
            "-q",
            &s.git_url(ADMIN, ADMIN_PW, "Ünïcode-repo"),
            "--all",
        ],
    );
    git_ok(
        &src,
        &[
            "push",
            "-q",
            &s.git_url(ADMIN, ADMIN_PW, "Ünïcode-repo"),
            "--tags",
        ],
    );
    assert_eq!(
        remote_refs(&src, &s.anon_git_url("Ünïcode-repo")),
        local_refs(&src)
    );
    let r = admin.post(
        "/%C3%9Cn%C3%AFcode-repo/settings",
        &[
            ("repo_name", "renamed"),
            ("repo_description", "déjà vu <b>"),
        ],
    );
    assert_eq!(r.status(), 303, "{kind:?}");
    s.restart();
    let admin = s.admin();
    let (_, page) = admin.get_text("/renamed");
    assert!(
        page.contains("déjà vu &lt;b&gt;") || page.contains("déjà vu &#60;b&#62;"),
        "{kind:?}: {page}"
    );
    assert!(
        page.contains("pushed"),
        "{kind:?}: journal kept; log: {}",
        s.log()
    );
    assert_eq!(s.db_kind(), kind);
    let dora = Browser::new(&s.base);
    assert_eq!(dora.login("dora", "dora-pass-1").status(), 303, "{kind:?}");
    assert!(
        git(
            s.dir.path(),
            &["clone", "-q", &s.anon_git_url("renamed"), "copy"]
        )
        .status
        .success()
    );
    permissions_flow(kind, &s, &admin, &dora);
}

/// Groups, user groups, grants, keys, addresses and allow-lists on this database.
fn permissions_flow(kind: DbKind, s: &Server, admin: &Browser, dora: &Browser) {
    let r = admin.post(
        "/_admin/repo_groups",
        &[("group_name", "Grüppe"), ("parent_group_id", "-1")],
    );
    assert_eq!(r.status(), 303, "{kind:?}");
    let (_, page) = admin.get_text("/Gr%C3%BCppe");
    let gid: String = page
        .split("parent_group=")
        .nth(1)
        .unwrap()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let r = admin.post(
        "/_admin/repos",
        &[
            ("repo_name", "inner"),
            ("repo_type", "git"),
            ("repo_group", &gid),
            ("repo_private", "True"),
        ],
    );
    assert_eq!(r.status(), 303, "{kind:?}");
    assert_eq!(dora.get("/Gr%C3%BCppe/inner").status(), 403, "{kind:?}");
    let r = admin.post(
        "/_admin/user_groups",
        &[
            ("users_group_name", "Ünits"),
            ("users_group_active", "True"),
        ],
    );
    assert_eq!(r.status(), 303, "{kind:?}");
    let ug = r.headers()["location"].to_str().unwrap().to_owned();
    let r = admin.post(
        &ug.replace("/edit", "/edit/members"),
        &[("username", "dora"), ("action", "add")],
    );
    assert_eq!(r.status(), 200, "{kind:?}");
    let r = admin.post(
        "/_admin/repo_groups/Gr%C3%BCppe/edit/permissions",
        &[
            ("obj_type", "user_group"),
            ("name", "Ünits"),
            ("permission", "group.read"),
            ("recursive", "repos"),
        ],
    );
    assert_eq!(r.status(), 200, "{kind:?}");
    assert_eq!(
        dora.get("/Gr%C3%BCppe/inner").status(),
        200,
        "{kind:?}: through the user group"
    );
    // Move the group: the repository follows.
    let r = admin.post(
        "/_admin/repo_groups/Gr%C3%BCppe",
        &[("group_name", "moved"), ("parent_group_id", "-1")],
    );
    assert_eq!(r.status(), 303, "{kind:?}");
    assert_eq!(dora.get("/moved/inner").status(), 200, "{kind:?}");
    // Keys, addresses, allow-lists, SSH keys, watching.
    let r = dora.post(
        "/_admin/my_account/api_keys",
        &[("description", "clé"), ("lifetime", "60")],
    );
    assert_eq!(r.status(), 303, "{kind:?}");
    let (_, keys) = dora.get_text("/_admin/my_account/api_keys");
    let key = keys
        .split("<code class=\"api-key\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    assert!(
        git(
            s.dir.path(),
            &["ls-remote", &s.git_url("dora", &key, "moved/inner")]
        )
        .status
        .success(),
        "{kind:?}"
    );
    let r = dora.post(
        "/_admin/my_account/emails",
        &[("new_email", "Dora@Example.org")],
    );
    assert_eq!(r.status(), 200, "{kind:?}");
    assert_eq!(
        admin
            .post(
                "/_admin/my_account/emails",
                &[("new_email", "dora@example.ORG")]
            )
            .status(),
        409,
        "{kind:?}: unique regardless of case"
    );
    let r = admin.post("/_admin/permissions/ips", &[("new_ip", "127.0.0.0/8")]);
    assert_eq!(r.status(), 200, "{kind:?}");
    assert_eq!(
        Browser::new(&s.base).login("dora", "dora-pass-1").status(),
        303,
        "{kind:?}"
    );
    let r = dora.post(
        "/_admin/my_account/ssh_keys",
        &[(
            "public_key",
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIP1NA2kBQIKe74afUXmIWD9ByDYQJqUwW44Y4gJOBRuo dora",
        )],
    );
    assert_eq!(r.status(), 200, "{kind:?}");
    let (_, page) = dora.get_text("/moved/inner");
    let rid = page
        .split("name=\"follows_repository_id\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(
        dora.post(
            "/_admin/toggle_following",
            &[("follows_repository_id", &rid)]
        )
        .status(),
        303
    );
    assert!(
        dora.get_text("/_admin/my_account/watched")
            .1
            .contains("moved/inner"),
        "{kind:?}"
    );
    // Deleting dora takes her memberships, keys and grants with her.
    let (_, list) = admin.get_text("/_admin/users");
    let id = {
        let end = list.find("/edit\">dora</a>").unwrap();
        let start = list[..end].rfind("/_admin/users/").unwrap() + "/_admin/users/".len();
        list[start..end].to_owned()
    };
    let r = admin.post(&format!("/_admin/users/{id}/delete"), &[]);
    assert!(
        r.status().is_redirection() || r.status().is_success(),
        "{kind:?}: {}",
        r.status()
    );
    assert!(
        !git(
            s.dir.path(),
            &["ls-remote", &s.git_url("dora", &key, "moved/inner")]
        )
        .status
        .success(),
        "{kind:?}"
    );
}

#[test]
fn full_flow_on_postgresql() {
    full_flow(DbKind::Postgres);
}

#[test]
fn full_flow_on_mariadb() {
    full_flow(DbKind::MySql);
}

#[test]
fn full_flow_on_sqlite() {
    full_flow(DbKind::Sqlite);
}
