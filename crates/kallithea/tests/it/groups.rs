//! Repository groups, user groups, and the permission matrix over every kind of visitor.

use crate::support::*;

/// A group's id, from the "Add subgroup" link its page shows to admins.
fn group_id(admin: &Browser, path: &str) -> String {
    let (status, page) = admin.get_text(&format!("/{path}"));
    assert_eq!(status, 200, "{path}: {page}");
    let marker = "repo_groups/new?parent_group=";
    let at = page
        .find(marker)
        .unwrap_or_else(|| panic!("{path}: {page}"))
        + marker.len();
    page[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect()
}

fn add_group(b: &Browser, name: &str, parent: &str) -> reqwest::blocking::Response {
    b.post(
        "/_admin/repo_groups",
        &[
            ("group_name", name),
            ("group_description", "a group"),
            ("parent_group_id", parent),
        ],
    )
}

fn add_repo(b: &Browser, name: &str, group: &str, private: bool) -> reqwest::blocking::Response {
    let mut f = vec![
        ("repo_name", name),
        ("repo_type", "git"),
        ("repo_group", group),
    ];
    if private {
        f.push(("repo_private", "True"));
    }
    b.post("/_admin/repos", &f)
}

fn location(r: &reqwest::blocking::Response) -> String {
    r.headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

#[test]
fn groups_nest_move_rename_and_delete_only_when_empty() {
    let s = Server::start();
    let admin = s.admin();
    let r = add_group(&admin, "Team", "-1");
    assert_eq!((r.status().as_u16(), location(&r)), (303, "/Team".into()));
    let team = group_id(&admin, "Team");
    let r = add_group(&admin, "tools", &team);
    assert_eq!(location(&r), "/Team/tools");
    let tools = group_id(&admin, "Team/tools");
    assert!(s.repos.join("Team/tools").is_dir());

    // Names are unique across repositories and groups, regardless of case.
    assert_eq!(add_group(&admin, "team", "-1").status(), 409);
    assert_eq!(add_repo(&admin, "TEAM", "-1", false).status(), 409);
    // A group that does not exist is refused with a sentence.
    let r = add_repo(&admin, "x", "99999", false);
    assert_eq!(r.status(), 400);
    assert!(r.text().unwrap().contains("There is no repository group"));

    let r = add_repo(&admin, "app", &tools, false);
    assert_eq!(
        (r.status().as_u16(), location(&r)),
        (303, "/Team/tools/app".into())
    );
    assert!(s.repos.join("Team/tools/app/HEAD").is_file());
    let work = tempfile::tempdir().unwrap();
    let src = source_repo(work.path());
    git_ok(
        &src,
        &[
            "push",
            "-q",
            &s.git_url(ADMIN, ADMIN_PW, "Team/tools/app"),
            "main",
        ],
    );

    // Group pages list what is inside; the home page lists top-level groups.
    let (_, page) = admin.get_text("/Team");
    assert!(page.contains("href=\"/Team/tools\""), "{page}");
    let (_, page) = admin.get_text("/Team/tools");
    assert!(page.contains("href=\"/Team/tools/app\""), "{page}");
    let (_, page) = admin.get_text("/");
    assert!(page.contains("href=\"/Team\""), "{page}");
    let (_, page) = admin.get_text("/_admin/repo_groups/Team/tools");
    assert!(page.contains("Team/tools/app"), "{page}");

    // Rename and move to the top level: everything below follows, on disk too.
    let r = admin.post(
        "/_admin/repo_groups/Team/tools",
        &[
            ("group_name", "kit"),
            ("group_description", "moved"),
            ("parent_group_id", "-1"),
        ],
    );
    assert_eq!(
        (r.status().as_u16(), location(&r)),
        (303, "/_admin/repo_groups/kit/edit".into())
    );
    assert_eq!(admin.get("/kit/app").status(), 200);
    assert_eq!(admin.get("/Team/tools/app").status(), 404);
    assert!(s.repos.join("kit/app/HEAD").is_file() && !s.repos.join("Team/tools").exists());
    let clone = work.path().join("clone");
    git_ok(
        work.path(),
        &[
            "clone",
            "-q",
            &s.git_url(ADMIN, ADMIN_PW, "kit/app"),
            clone.to_str().unwrap(),
        ],
    );
    assert!(clone.join("README.md").exists());

    // No cycles.
    let r = add_group(&admin, "sub", &team);
    assert_eq!(r.status(), 303);
    let sub = group_id(&admin, "Team/sub");
    let r = admin.post(
        "/_admin/repo_groups/Team",
        &[("group_name", "Team"), ("parent_group_id", &sub)],
    );
    assert_eq!(r.status(), 400);
    assert!(r.text().unwrap().contains("cannot move into itself"));

    // A repository moves between groups from its settings.
    let r = admin.post(
        "/kit/app/settings",
        &[
            ("repo_name", "kit/app"),
            ("repo_group", &team),
            ("repo_landing_rev", "rev:tip"),
        ],
    );
    assert_eq!(
        (r.status().as_u16(), location(&r)),
        (303, "/Team/app/settings".into())
    );
    assert!(s.repos.join("Team/app/HEAD").is_file());

    // Delete: refused while not empty, then fine.
    let r = admin.post("/_admin/repo_groups/Team/delete", &[]);
    assert_eq!(r.status(), 400);
    let page = r.text().unwrap();
    assert!(
        page.contains("still contains 1 repository and 1 group"),
        "{page}"
    );
    let r = admin.post("/_admin/repo_groups/kit/delete", &[]);
    assert_eq!(location(&r), "/_admin/repo_groups");
    assert_eq!(admin.get("/kit").status(), 404);
    assert!(!s.repos.join("kit").exists());

    // Only site admins make top-level groups.
    s.add_user(&admin, "eve", "eve-pass-1");
    let eve = Browser::new(&s.base);
    eve.login("eve", "eve-pass-1");
    assert_eq!(add_group(&eve, "mine", "-1").status(), 403);
    assert_eq!(eve.get("/_admin/repo_groups/Team/edit").status(), 403);
}

#[test]
fn group_admins_writers_and_user_groups_get_what_they_are_given() {
    let s = Server::start();
    let admin = s.admin();
    for u in ["gadmin", "writer", "dev", "auditor"] {
        s.add_user(&admin, u, &format!("{u}-pass-1"));
    }
    let login = |u: &str| {
        let b = Browser::new(&s.base);
        assert_eq!(b.login(u, &format!("{u}-pass-1")).status(), 303);
        b
    };
    assert_eq!(add_group(&admin, "team", "-1").status(), 303);
    let team = group_id(&admin, "team");
    assert_eq!(add_repo(&admin, "secret", &team, true).status(), 303);
    let grant = |who: &str, kind: &str, level: &str, recursive: &str| {
        let r = admin.post(
            "/_admin/repo_groups/team/edit/permissions",
            &[
                ("obj_type", kind),
                ("name", who),
                ("permission", level),
                ("recursive", recursive),
            ],
        );
        let status = r.status();
        (status.as_u16(), r.text().unwrap())
    };
    assert_eq!(grant("gadmin", "user", "group.admin", "none").0, 200);
    assert_eq!(grant("writer", "user", "group.write", "none").0, 200);
    let (status, page) = grant("nobody", "user", "group.read", "none");
    assert_eq!(status, 400);
    assert!(page.contains("There is no user named"), "{page}");
    let (status, _) = grant("writer", "user", "group.superuser", "none");
    assert_eq!(status, 400);

    // The group admin manages the group, adds subgroups and repositories, not top-level ones.
    let g = login("gadmin");
    assert_eq!(g.get("/_admin/repo_groups/team/edit").status(), 200);
    assert_eq!(add_group(&g, "sub", &team).status(), 303);
    assert_eq!(add_group(&g, "top", "-1").status(), 403);
    assert_eq!(add_repo(&g, "made-by-gadmin", &team, false).status(), 303);
    // Group admin is not repository admin: the private repository stays closed.
    assert_eq!(g.get("/team/secret").status(), 403);

    // A writer may add repositories to the group, not administer it.
    let w = login("writer");
    assert_eq!(add_repo(&w, "by-writer", &team, false).status(), 303);
    assert_eq!(w.get("/_admin/repo_groups/team/edit").status(), 403);
    assert_eq!(add_group(&w, "nope", &team).status(), 403);

    // Apply to children: read on the group and on every repository below, private ones too.
    assert_eq!(grant("auditor", "user", "group.read", "repos").0, 200);
    let a = login("auditor");
    assert_eq!(a.get("/team/secret").status(), 200);
    assert!(a.get_text("/").1.contains("href=\"/team/secret\""));
    // Revoking with the same reach takes it away again.
    let r = admin.post(
        "/_admin/repo_groups/team/edit/permissions/delete",
        &[
            ("obj_type", "user"),
            ("name", "auditor"),
            ("recursive", "repos"),
        ],
    );
    assert_eq!(r.status(), 200);
    assert_eq!(a.get("/team/secret").status(), 403);

    // User groups: members get the group's grant while the group is active.
    let r = admin.post(
        "/_admin/user_groups",
        &[("users_group_name", "devs"), ("users_group_active", "True")],
    );
    assert_eq!(r.status(), 303);
    let edit = location(&r);
    let id = edit
        .trim_start_matches("/_admin/user_groups/")
        .trim_end_matches("/edit")
        .to_owned();
    let r = admin.post(
        &format!("/_admin/user_groups/{id}/edit/members"),
        &[("username", "dev"), ("action", "add")],
    );
    assert_eq!(r.status(), 200);
    assert!(r.text().unwrap().contains("<li>dev"));
    let r = admin.post(
        &format!("/_admin/user_groups/{id}/edit/members"),
        &[("username", "ghost"), ("action", "add")],
    );
    assert_eq!(r.status(), 400);
    let r = admin.post(
        "/team/secret/settings/permissions",
        &[("user_group", "devs"), ("permission", "repository.write")],
    );
    assert!(r.status().is_redirection(), "{}", r.status());
    let work = tempfile::tempdir().unwrap();
    let src = source_repo(work.path());
    git_ok(
        &src,
        &[
            "push",
            "-q",
            &s.git_url("dev", "dev-pass-1", "team/secret"),
            "main",
        ],
    );
    // Deactivated: the members lose it.
    let r = admin.post(
        &format!("/_admin/user_groups/{id}"),
        &[("users_group_name", "devs"), ("user_group_description", "")],
    );
    assert_eq!(r.status(), 200);
    let out = git(
        &src,
        &[
            "push",
            "-q",
            &s.git_url("dev", "dev-pass-1", "team/secret"),
            "main:other",
        ],
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("may not"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Duplicate names are refused; ordinary users cannot create user groups by default.
    let r = admin.post("/_admin/user_groups", &[("users_group_name", "DEVS")]);
    assert_eq!(r.status(), 409);
    assert_eq!(
        w.post("/_admin/user_groups", &[("users_group_name", "x")])
            .status(),
        403
    );
    assert_eq!(
        w.get(&format!("/_admin/user_groups/{id}/edit")).status(),
        403
    );
    // Deleting the group removes its grants.
    let r = admin.post(&format!("/_admin/user_groups/{id}/delete"), &[]);
    assert_eq!(location(&r), "/_admin/user_groups");
    let (_, settings) = admin.get_text("/team/secret/settings");
    assert!(!settings.contains("devs"), "{settings}");
}

/// What one visitor can do with one repository.
#[derive(Debug, PartialEq, Eq)]
struct Cell {
    listed: bool,
    summary: u16,
    clone: bool,
    push: bool,
    settings: u16,
}

#[test]
fn permission_matrix_over_visitors_and_repositories() {
    let s = Server::start();
    let admin = s.admin();
    for u in ["reader", "writer", "repoadmin", "groupadmin"] {
        s.add_user(&admin, u, &format!("{u}-pass-1"));
    }
    assert_eq!(add_group(&admin, "grp", "-1").status(), 303);
    let grp = group_id(&admin, "grp");
    assert_eq!(add_repo(&admin, "pub", "-1", false).status(), 303);
    assert_eq!(add_repo(&admin, "priv", "-1", true).status(), 303);
    assert_eq!(add_repo(&admin, "inside", &grp, false).status(), 303);
    let work = tempfile::tempdir().unwrap();
    let src = source_repo(work.path());
    for r in ["pub", "priv", "grp/inside"] {
        git_ok(
            &src,
            &["push", "-q", &s.git_url(ADMIN, ADMIN_PW, r), "main"],
        );
        for (user, level) in [
            ("reader", "read"),
            ("writer", "write"),
            ("repoadmin", "admin"),
        ] {
            let resp = admin.post(
                &format!("/{r}/settings/permissions"),
                &[
                    ("username", user),
                    ("permission", &format!("repository.{level}")),
                ],
            );
            assert!(resp.status().is_redirection());
        }
    }
    let r = admin.post(
        "/_admin/repo_groups/grp/edit/permissions",
        &[
            ("obj_type", "user"),
            ("name", "groupadmin"),
            ("permission", "group.admin"),
            ("recursive", "all"),
        ],
    );
    assert_eq!(r.status(), 200);

    let visitors: [(&str, Option<&str>); 6] = [
        ("anonymous", None),
        ("reader", Some("reader-pass-1")),
        ("writer", Some("writer-pass-1")),
        ("repoadmin", Some("repoadmin-pass-1")),
        ("groupadmin", Some("groupadmin-pass-1")),
        (ADMIN, Some(ADMIN_PW)),
    ];
    let cell = |listed, summary, clone, push, settings| Cell {
        listed,
        summary,
        clone,
        push,
        settings,
    };
    // Anonymous visitors are sent to sign in (303) where they may not look.
    let expected = |who: &str, repo: &str| -> Cell {
        match (who, repo) {
            ("anonymous", "priv") => cell(false, 303, false, false, 303),
            ("anonymous", _) => cell(true, 200, true, false, 303),
            ("reader", _) => cell(true, 200, true, false, 403),
            ("writer", _) => cell(true, 200, true, true, 403),
            ("repoadmin", _) => cell(true, 200, true, true, 200),
            ("groupadmin", "priv") => cell(false, 403, false, false, 403),
            ("groupadmin", "pub") => cell(true, 200, true, false, 403),
            // "Apply to children" made the group admin admin of the repository inside.
            ("groupadmin", _) => cell(true, 200, true, true, 200),
            (_, _) => cell(true, 200, true, true, 200),
        }
    };
    let mut failures = Vec::new();
    for (who, pw) in visitors {
        let b = Browser::new(&s.base);
        if let Some(pw) = pw {
            assert_eq!(b.login(who, pw).status(), 303, "{who}");
        }
        let (_, home) = b.get_text("/");
        for repo in ["pub", "priv", "grp/inside"] {
            let url = match pw {
                Some(pw) => s.git_url(who, pw, repo),
                None => s.anon_git_url(repo),
            };
            let dest = work
                .path()
                .join(format!("c-{who}-{}", repo.replace('/', "-")));
            let cloned = git(work.path(), &["clone", "-q", &url, dest.to_str().unwrap()])
                .status
                .success();
            let pushed = git(
                &src,
                &["push", "-q", &url, &format!("main:refs/heads/by-{who}")],
            )
            .status
            .success();
            let got = Cell {
                listed: home.contains(&format!("href=\"/{repo}\"")),
                summary: b.get(&format!("/{repo}")).status().as_u16(),
                clone: cloned,
                push: pushed,
                settings: b.get(&format!("/{repo}/settings")).status().as_u16(),
            };
            let want = expected(who, repo.rsplit('/').next().unwrap());
            if got != want {
                failures.push(format!("{who} on {repo}: got {got:?}, want {want:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn user_group_permissions_decide_who_sees_and_manages_a_user_group() {
    let s = Server::start();
    let admin = s.admin();
    s.add_user(&admin, "bob", "bob-pass-1");
    let r = admin.post(
        "/_admin/user_groups",
        &[("users_group_name", "devs"), ("users_group_active", "True")],
    );
    let id = location(&r)
        .trim_start_matches("/_admin/user_groups/")
        .trim_end_matches("/edit")
        .to_owned();
    let edit = format!("/_admin/user_groups/{id}/edit");
    let bob = Browser::new(&s.base);
    bob.login("bob", "bob-pass-1");
    // Everyone may read it by default (usergroup.read), nobody but its admins manage it.
    assert!(bob.get_text("/_admin/user_groups").1.contains(">devs</a>"));
    assert_eq!(bob.get(&edit).status(), 403);
    let grant = |who: &str, level: &str| {
        admin.post(
            &format!("{edit}/perms"),
            &[("obj_type", "user"), ("name", who), ("permission", level)],
        )
    };
    let r = grant("bob", "usergroup.admin");
    assert_eq!(r.status(), 200);
    assert!(r.text().unwrap().contains("usergroup.admin"));
    assert_eq!(bob.get(&edit).status(), 200);
    let r = bob.post(
        &format!("{edit}/members"),
        &[("username", "bob"), ("action", "add")],
    );
    assert_eq!(r.status(), 200);
    assert_eq!(grant("bob", "usergroup.owner").status(), 400);
    assert_eq!(grant("ghost", "usergroup.read").status(), 400);
    let r = admin.post(
        &format!("{edit}/perms/delete"),
        &[("obj_type", "user"), ("name", "bob")],
    );
    assert_eq!(r.status(), 200);
    assert_eq!(bob.get(&edit).status(), 403);

    // With the default at none (applied to existing groups), bob neither sees it nor can
    // hand it access to his repository.
    let r = admin.post(
        "/_admin/permissions",
        &[
            defaults(&[("default_user_group_perm", "usergroup.none")]),
            vec![("overwrite_default_user_group", "true")],
        ]
        .concat(),
    );
    assert_eq!(r.status(), 200);
    assert!(!bob.get_text("/_admin/user_groups").1.contains(">devs</a>"));
    assert_eq!(add_repo(&bob, "bobs", "-1", false).status(), 303);
    let r = bob.post(
        "/bobs/settings/permissions",
        &[("user_group", "devs"), ("permission", "repository.write")],
    );
    assert_eq!(r.status(), 400);
    assert!(r.text().unwrap().contains("There is no user group named"));
    // The admin still can.
    let r = admin.post(
        "/bobs/settings/permissions",
        &[("user_group", "devs"), ("permission", "repository.write")],
    );
    assert!(r.status().is_redirection());
}

#[test]
fn renaming_a_group_with_letters_whose_lower_case_changes_length_keeps_disk_and_database_together()
{
    let s = Server::start();
    let admin = s.admin();
    // U+212A KELVIN SIGN lower-cases to a one-byte `k`; U+0130 to two characters.
    for (i, name) in ["\u{212A}elvin", "\u{130}stanbul"].iter().enumerate() {
        let r = add_group(&admin, name, "-1");
        assert_eq!(r.status(), 303, "{name}");
        let path = location(&r);
        assert!(
            path.starts_with("/%"),
            "non-ASCII letters are percent-encoded: {path}"
        );
        let gid = group_id(&admin, path.trim_start_matches('/'));
        assert_eq!(add_repo(&admin, "inside", &gid, false).status(), 303);
        let target = format!("moved{i}");
        let r = admin.post(
            &format!("/_admin/repo_groups{path}"),
            &[("group_name", target.as_str()), ("parent_group_id", "-1")],
        );
        assert_eq!(r.status(), 303, "{name}");
        assert_eq!(
            admin.get(&format!("/{target}/inside")).status(),
            200,
            "{name}"
        );
        assert!(
            s.repos.join(&target).join("inside/HEAD").is_file(),
            "{name}"
        );
    }
}
