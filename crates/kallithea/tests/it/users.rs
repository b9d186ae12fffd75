//! Site administration of accounts.

use crate::support::*;

#[test]
fn admins_list_edit_deactivate_and_reset_accounts() {
    let s = Server::start();
    let admin = s.admin();
    s.add_user(&admin, "bob", "bob-pass-1");
    let id = user_id(&admin, "bob");
    let bob = Browser::new(&s.base);
    assert_eq!(bob.login("bob", "bob-pass-1").status(), 303);
    assert_eq!(
        bob.get("/_admin/users").status(),
        403,
        "not for ordinary users"
    );
    assert_eq!(
        Browser::new(&s.base).get("/_admin/users").status(),
        303,
        "anonymous: sign in"
    );

    let r = admin.post(
        &format!("/_admin/users/{id}"),
        &[
            ("firstname", "Bob"),
            ("lastname", "B"),
            ("email", "bob@example.com"),
        ],
    );
    assert_eq!(r.status(), 200, "saved without the active box: deactivated");
    assert!(
        !bob.get_text("/").1.contains("Sign out"),
        "the deactivated user is signed out"
    );
    let r = Browser::new(&s.base).login("bob", "bob-pass-1");
    assert_eq!(r.status(), 401);
    assert!(r.text().unwrap().contains("This account is disabled."));

    let r = admin.post(
        &format!("/_admin/users/{id}"),
        &[
            ("email", "bob@example.com"),
            ("active", "True"),
            ("password", "reset-pass-2"),
        ],
    );
    assert_eq!(r.status(), 200);
    assert_eq!(
        Browser::new(&s.base).login("bob", "reset-pass-2").status(),
        303
    );
    assert_eq!(
        Browser::new(&s.base).login("bob", "bob-pass-1").status(),
        401
    );

    for bad in ["/_admin/users/99999/edit", "/_admin/users/abc/edit"] {
        let (status, page) = admin.get_text(bad);
        assert_eq!(status, 404, "{bad}");
        assert!(page.contains("There is no user"), "{page}");
    }
}

#[test]
fn the_last_admin_stays_and_nobody_deletes_themselves() {
    let s = Server::start();
    let admin = s.admin();
    let me = user_id(&admin, ADMIN);
    let r = admin.post(
        &format!("/_admin/users/{me}"),
        &[("email", "admin@example.com"), ("active", "True")],
    );
    assert_eq!(r.status(), 400);
    assert!(
        r.text()
            .unwrap()
            .contains("at least one active site administrator")
    );
    let r = admin.post(
        &format!("/_admin/users/{me}"),
        &[("email", "admin@example.com"), ("admin", "True")],
    );
    assert_eq!(r.status(), 400, "nor deactivate the last admin");
    let r = admin.post(&format!("/_admin/users/{me}/delete"), &[]);
    assert_eq!(r.status(), 400);
    assert!(r.text().unwrap().contains("cannot delete your own account"));
    assert_eq!(
        Browser::new(&s.base).login(ADMIN, ADMIN_PW).status(),
        303,
        "still an admin"
    );
}

#[test]
fn deleting_a_user_who_owns_repositories_needs_a_choice() {
    let s = Server::start();
    let admin = s.admin();
    s.add_user(&admin, "carol", "carol-pass-1");
    let carol = Browser::new(&s.base);
    carol.login("carol", "carol-pass-1");
    assert_eq!(
        carol
            .post("/_admin/repos", &[("repo_name", "carols")])
            .status(),
        303
    );
    let id = user_id(&admin, "carol");
    let r = admin.post(&format!("/_admin/users/{id}/delete"), &[]);
    assert_eq!(r.status(), 400);
    assert!(r.text().unwrap().contains("carol owns 1 repository"));
    let r = admin.post(
        &format!("/_admin/users/{id}/delete"),
        &[("user_repos", "detach")],
    );
    assert_eq!(r.status(), 303);
    let (_, list) = admin.get_text("/_admin/users");
    assert!(!list.contains(">carol</a>"));
    let (_, page) = admin.get_text("/carols");
    assert!(page.contains("<dt>Owner</dt><dd>admin</dd>"), "{page}");
    assert!(
        !carol.get_text("/").1.contains("Sign out"),
        "her sessions are gone"
    );
}

#[test]
fn a_new_api_key_replaces_the_old_one() {
    let s = Server::start();
    let admin = s.admin();
    s.create_repo(&admin, "keyed", true);
    let key = |b: &Browser| {
        let (_, page) = b.get_text("/_admin/my_account/api_keys");
        page.split("readonly value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_owned()
    };
    let old = key(&admin);
    let r = admin.post(
        "/_admin/my_account/api_keys/delete",
        &[("del_api_key_builtin", "1")],
    );
    assert_eq!(r.status(), 303);
    let new = key(&admin);
    assert_ne!(old, new);
    assert!(
        !git(
            s.dir.path(),
            &["ls-remote", &s.git_url(ADMIN, &old, "keyed")]
        )
        .status
        .success()
    );
    assert!(
        git(
            s.dir.path(),
            &["ls-remote", &s.git_url(ADMIN, &new, "keyed")]
        )
        .status
        .success()
    );
}

#[test]
fn default_permissions_decide_what_everyone_gets() {
    let s = Server::start();
    let admin = s.admin();
    s.add_user(&admin, "dave", "dave-pass-1");
    s.create_repo(&admin, "old", false);
    let (status, page) = admin.get_text("/_admin/permissions");
    assert_eq!(status, 200);
    assert!(
        page.contains("<option value=\"repository.read\" selected>"),
        "{page}"
    );
    let dave = Browser::new(&s.base);
    dave.login("dave", "dave-pass-1");
    assert_eq!(dave.get("/_admin/permissions").status(), 403);

    // Refused values change nothing.
    for bad in [
        defaults(&[("default_repo_perm", "repository.admin")]),
        defaults(&[("default_fork", "")]),
    ] {
        let r = admin.post("/_admin/permissions", &bad);
        assert_eq!(r.status(), 400);
    }

    // No repository creation for ordinary users; nothing readable by default.
    let r = admin.post(
        "/_admin/permissions",
        &[
            defaults(&[
                ("default_repo_create", "hg.create.none"),
                ("default_repo_perm", "repository.none"),
            ]),
            vec![("overwrite_default_repo", "true")],
        ]
        .concat(),
    );
    assert_eq!(r.status(), 200);
    assert!(r.text().unwrap().contains("Default permissions saved."));
    assert_eq!(
        dave.post("/_admin/repos", &[("repo_name", "mine")])
            .status(),
        403
    );
    assert_eq!(
        dave.get("/old").status(),
        403,
        "overwrite applied to the existing repository"
    );
    s.create_repo(&admin, "new", false);
    assert_eq!(
        dave.get("/new").status(),
        403,
        "new repositories get the new default"
    );
    assert_eq!(Browser::new(&s.base).get("/new").status(), 303);

    // Anonymous access off.
    let r = admin.post("/_admin/permissions", &defaults(&[("anonymous", "")]));
    assert_eq!(r.status(), 200);
    let r = Browser::new(&s.base).get("/");
    assert_eq!(r.status(), 303, "everyone must sign in");
}

#[test]
fn per_user_global_permissions_add_to_the_defaults() {
    let s = Server::start();
    let admin = s.admin();
    s.add_user(&admin, "frank", "frank-pass-1");
    let id = user_id(&admin, "frank");
    // Nobody may create top-level repositories or user groups by default here.
    let r = admin.post(
        "/_admin/permissions",
        &defaults(&[("default_repo_create", "hg.create.none")]),
    );
    assert_eq!(r.status(), 200);
    let frank = Browser::new(&s.base);
    frank.login("frank", "frank-pass-1");
    let create = |b: &Browser, name: &str| {
        b.post(
            "/_admin/repos",
            &[("repo_name", name), ("repo_type", "git")],
        )
        .status()
    };
    assert_eq!(create(&frank, "mine"), 403);
    assert_eq!(
        frank
            .post("/_admin/user_groups", &[("users_group_name", "g")])
            .status(),
        403
    );
    let r = admin.post(
        &format!("/_admin/users/{id}/edit/permissions"),
        &[
            ("create_repo_perm", "True"),
            ("create_user_group_perm", "True"),
        ],
    );
    assert_eq!(r.status(), 200);
    let page = r.text().unwrap();
    assert!(
        page.contains("name=\"create_repo_perm\" value=\"True\" checked"),
        "{page}"
    );
    assert!(
        !page.contains("name=\"fork_repo_perm\" value=\"True\" checked"),
        "{page}"
    );
    assert_eq!(create(&frank, "mine"), 303);
    assert_eq!(
        frank
            .post("/_admin/user_groups", &[("users_group_name", "g")])
            .status(),
        303
    );
    // Taken away again.
    let r = admin.post(&format!("/_admin/users/{id}/edit/permissions"), &[]);
    assert_eq!(r.status(), 200);
    assert_eq!(create(&frank, "mine2"), 403);
    assert_eq!(
        frank
            .post(
                &format!("/_admin/users/{id}/edit/permissions"),
                &[("create_repo_perm", "True")]
            )
            .status(),
        403,
        "only admins"
    );
}

#[test]
fn the_default_group_permission_can_be_applied_to_existing_groups() {
    let s = Server::start();
    let admin = s.admin();
    let r = admin.post(
        "/_admin/repo_groups",
        &[("group_name", "closed"), ("parent_group_id", "-1")],
    );
    assert_eq!(r.status(), 303);
    assert_eq!(Browser::new(&s.base).get("/closed").status(), 200);
    let r = admin.post(
        "/_admin/permissions",
        &[
            defaults(&[("default_group_perm", "group.none")]),
            vec![("overwrite_default_group", "true")],
        ]
        .concat(),
    );
    assert_eq!(r.status(), 200);
    assert_eq!(Browser::new(&s.base).get("/closed").status(), 303);
}
