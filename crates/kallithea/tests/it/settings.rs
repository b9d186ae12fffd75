//! Site settings: `/_admin/settings/global`, `/visual`, `/vcs`.

use crate::support::*;

#[test]
fn global_settings_title_and_realm() {
    let s = Server::start();
    let admin = s.admin();
    s.create_repo(&admin, "closed", true);
    let r = admin.post(
        "/_admin/settings/global",
        &[("title", "Acme <Code>"), ("realm", "Acme Git")],
    );
    assert_eq!(r.status(), 200);
    let (_, home) = Browser::new(&s.base).get_text("/");
    assert!(
        home.contains("<title>Repositories · Kallithea</title>")
            || home.contains("Acme &#60;Code&#62;"),
        "{home}"
    );
    assert!(
        home.contains("class=\"brand\" href=\"/\">Acme &#60;Code&#62;</a>"),
        "{home}"
    );
    // Git hears the realm when asked for a password.
    let r = reqwest::blocking::get(format!(
        "{}/closed/info/refs?service=git-upload-pack",
        s.base
    ))
    .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["www-authenticate"], "Basic realm=\"Acme Git\"");
    // Refused values change nothing.
    for (title, realm) in [("x", "bad \"realm\""), ("x", ""), ("line\nbreak", "ok")] {
        let r = admin.post(
            "/_admin/settings/global",
            &[("title", title), ("realm", realm)],
        );
        assert_eq!(r.status(), 400, "{title:?} {realm:?}");
    }
    let r = reqwest::blocking::get(format!(
        "{}/closed/info/refs?service=git-upload-pack",
        s.base
    ))
    .unwrap();
    assert_eq!(r.headers()["www-authenticate"], "Basic realm=\"Acme Git\"");
    // Admins only.
    s.add_user(&admin, "bob", "bob-pass-1");
    let bob = Browser::new(&s.base);
    bob.login("bob", "bob-pass-1");
    for path in [
        "/_admin/settings/global",
        "/_admin/settings/visual",
        "/_admin/settings/vcs",
    ] {
        assert_eq!(bob.get(path).status(), 403, "{path}");
        assert_eq!(Browser::new(&s.base).get(path).status(), 303, "{path}");
    }
    assert_eq!(
        bob.post("/_admin/settings/global", &[("title", "x"), ("realm", "y")])
            .status(),
        403
    );
}

fn visual(b: &Browser, pairs: &[(&str, &str)]) -> reqwest::blocking::Response {
    let mut f = vec![
        ("dashboard_items", "100"),
        ("admin_grid_items", "25"),
        ("show_version", "True"),
        (
            "gravatar_url",
            "https://secure.gravatar.com/avatar/{md5email}?d=identicon&s={size}",
        ),
        (
            "clone_uri_tmpl",
            "{scheme}://{user}@{netloc}{prefix}/{repo}",
        ),
    ];
    for (k, v) in pairs {
        f.retain(|(key, _)| key != k);
        f.push((k, v));
    }
    b.post("/_admin/settings/visual", &f)
}

#[test]
fn visual_settings_page_size_avatars_clone_urls_and_version() {
    let s = Server::start();
    let admin = s.admin();
    for n in ["alpha", "beta", "gamma"] {
        s.create_repo(&admin, n, false);
    }
    assert_eq!(visual(&admin, &[("dashboard_items", "2")]).status(), 200);
    let (_, p1) = admin.get_text("/");
    assert!(
        p1.contains("href=\"/alpha\"")
            && p1.contains("href=\"/beta\"")
            && !p1.contains("href=\"/gamma\""),
        "{p1}"
    );
    assert!(
        p1.contains("Page 1 of 2") && p1.contains("href=\"/?page=2\""),
        "{p1}"
    );
    let (_, p2) = admin.get_text("/?page=2");
    assert!(
        p2.contains("href=\"/gamma\"") && !p2.contains("href=\"/alpha\""),
        "{p2}"
    );
    let (status, _) = admin.get_text("/?page=999");
    assert_eq!(status, 200, "out-of-range pages show the last one");

    for (k, v, says) in [
        ("dashboard_items", "0", "from 1 to 10000"),
        ("admin_grid_items", "lots", "from 1 to 10000"),
        (
            "gravatar_url",
            "javascript:alert(1)",
            "must start with http",
        ),
        (
            "clone_uri_tmpl",
            "{scheme}://{netloc}/",
            "must contain {repo}",
        ),
    ] {
        let r = visual(&admin, &[(k, v)]);
        assert_eq!(r.status(), 400, "{k}");
        assert!(r.text().unwrap().contains(says), "{says}");
    }

    // Avatars: the admin's address is admin@example.com.
    assert_eq!(visual(&admin, &[("use_gravatar", "True")]).status(), 200);
    let (_, page) = admin.get_text("/");
    assert!(
        page.contains("https://secure.gravatar.com/avatar/e64c7d89f26bd1972efa854d13d7dd61?d=identicon&#38;s=20"),
        "{page}"
    );
    // Clone URLs follow the template; no version in the footer.
    assert_eq!(
        visual(
            &admin,
            &[
                ("clone_uri_tmpl", "{scheme}://{netloc}{prefix}/_{repoid}"),
                ("show_version", "")
            ]
        )
        .status(),
        200
    );
    let (_, summary) = Browser::new(&s.base).get_text("/alpha");
    let port = s.port;
    assert!(
        summary.contains(&format!("value=\"http://127.0.0.1:{port}/_")),
        "{summary}"
    );
    assert!(!summary.contains("<footer"), "{summary}");

    // The VCS page shows the repository folder and refuses to move it.
    let (status, page) = admin.get_text("/_admin/settings/vcs");
    assert_eq!(status, 200);
    assert!(
        page.contains(&s.repos.canonicalize().unwrap().display().to_string()),
        "{page}"
    );
    let r = admin.post("/_admin/settings/vcs", &[("paths_root_path", "/tmp")]);
    assert_eq!(r.status(), 400);
    assert!(r.text().unwrap().contains("cannot be changed from the web"));
}
