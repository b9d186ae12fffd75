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
