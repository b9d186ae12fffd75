//! My account (profile, email addresses, API keys) and IP allow-lists.

use crate::support::*;

fn extra_keys(b: &Browser) -> Vec<String> {
    let (_, page) = b.get_text("/_admin/my_account/api_keys");
    page.split("<code class=\"api-key\">")
        .skip(1)
        .map(|s| s.split('<').next().unwrap().to_owned())
        .collect()
}

#[test]
fn profile_and_email_addresses() {
    let s = Server::start();
    let admin = s.admin();
    s.add_user(&admin, "bob", "bob-pass-1");
    let bob = Browser::new(&s.base);
    bob.login("bob", "bob-pass-1");
    let r = bob.post(
        "/_admin/my_account",
        &[
            ("firstname", "Bob"),
            ("lastname", "Builder"),
            ("email", "bob@example.com"),
        ],
    );
    assert_eq!(r.status(), 200);
    let page = r.text().unwrap();
    assert!(
        page.contains("Your account was saved.") && page.contains("value=\"Builder\""),
        "{page}"
    );
    let r = bob.post("/_admin/my_account", &[("email", "not an address")]);
    assert_eq!(r.status(), 400);
    assert!(r.text().unwrap().contains("is not an email address"));
    let r = bob.post("/_admin/my_account", &[("email", "ADMIN@example.com")]);
    assert_eq!(r.status(), 409, "the admin's address");

    let r = bob.post(
        "/_admin/my_account/emails",
        &[("new_email", "bob@work.example")],
    );
    assert_eq!(r.status(), 200);
    let page = r.text().unwrap();
    assert!(page.contains("bob@work.example"), "{page}");
    for (bad, status) in [
        ("admin@example.com", 409),
        ("BOB@WORK.EXAMPLE", 409),
        ("nope", 400),
    ] {
        assert_eq!(
            bob.post("/_admin/my_account/emails", &[("new_email", bad)])
                .status(),
            status,
            "{bad}"
        );
    }
    let id = page
        .split("name=\"del_email_id\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    // Nobody removes another person's address.
    let r = admin.post("/_admin/my_account/emails/delete", &[("del_email_id", &id)]);
    assert_eq!(r.status(), 400);
    let r = bob.post("/_admin/my_account/emails/delete", &[("del_email_id", &id)]);
    assert_eq!(r.status(), 200);
    assert!(!r.text().unwrap().contains("bob@work.example"));
    assert_eq!(
        Browser::new(&s.base).get("/_admin/my_account").status(),
        303
    );
}

#[test]
fn several_api_keys_with_descriptions_and_expiry() {
    let s = Server::start();
    let admin = s.admin();
    s.create_repo(&admin, "keyed", true);
    let r = admin.post(
        "/_admin/my_account/api_keys",
        &[("description", "CI <robot>"), ("lifetime", "-1")],
    );
    assert_eq!(r.status(), 303);
    let r = admin.post(
        "/_admin/my_account/api_keys",
        &[("description", "short"), ("lifetime", "5")],
    );
    assert_eq!(r.status(), 303);
    let r = admin.post("/_admin/my_account/api_keys", &[("lifetime", "7")]);
    assert_eq!(r.status(), 400);
    assert!(r.text().unwrap().contains("is not a lifetime"));
    let (_, page) = admin.get_text("/_admin/my_account/api_keys");
    assert!(
        page.contains("CI &#60;robot&#62;") && page.contains("never"),
        "{page}"
    );
    let keys = extra_keys(&admin);
    assert_eq!(keys.len(), 2);
    let ls = |key: &str| {
        git(
            s.dir.path(),
            &["ls-remote", &s.git_url(ADMIN, key, "keyed")],
        )
        .status
        .success()
    };
    assert!(ls(&keys[0]) && ls(&keys[1]), "extra keys work as passwords");

    // An expired key stops working (made to expire by changing the database underneath).
    let db = s.dir.path().join("kallithea.db");
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('UPDATE user_api_keys SET expires=1 WHERE api_key=?', (sys.argv[2],)); c.commit()",
            db.to_str().unwrap(),
            &keys[1],
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!ls(&keys[1]), "expired");
    let (_, page) = admin.get_text("/_admin/my_account/api_keys");
    assert!(page.contains("expired 1970-01-01"), "{page}");

    // Deleting a key: only one's own.
    s.add_user(&admin, "eve", "eve-pass-1");
    let eve = Browser::new(&s.base);
    eve.login("eve", "eve-pass-1");
    let r = eve.post(
        "/_admin/my_account/api_keys/delete",
        &[("del_api_key", &keys[0])],
    );
    assert_eq!(r.status(), 400);
    assert!(ls(&keys[0]));
    let r = admin.post(
        "/_admin/my_account/api_keys/delete",
        &[("del_api_key", &keys[0])],
    );
    assert_eq!(r.status(), 303);
    assert!(!ls(&keys[0]));
    assert_eq!(extra_keys(&admin).len(), 1);
}

#[test]
fn ip_allow_lists_limit_where_an_account_can_be_used() {
    let s = Server::start();
    let admin = s.admin();
    s.add_user(&admin, "bob", "bob-pass-1");
    s.create_repo(&admin, "r", true);
    let r = admin.post(
        "/r/settings/permissions",
        &[("username", "bob"), ("permission", "repository.read")],
    );
    assert!(r.status().is_redirection());
    let id = user_id(&admin, "bob");
    let list = format!("/_admin/users/{id}/edit/ips");
    for (bad, status) in [("not-an-ip", 400), ("10.0.0.0/99", 400)] {
        let r = admin.post(&list, &[("new_ip", bad)]);
        assert_eq!(r.status(), status, "{bad}");
    }
    let r = admin.post(&list, &[("new_ip", "10.1.2.3/8")]);
    assert_eq!(r.status(), 200);
    let page = r.text().unwrap();
    assert!(
        page.contains("<code>10.0.0.0/8</code>"),
        "stored as the network: {page}"
    );
    assert_eq!(admin.post(&list, &[("new_ip", "10.0.0.0/8")]).status(), 409);

    // Bob connects from 127.0.0.1: refused everywhere, with a sentence.
    let bob = Browser::new(&s.base);
    let r = bob.login("bob", "bob-pass-1");
    assert_eq!(r.status(), 403);
    assert!(
        r.text()
            .unwrap()
            .contains("may not be used from the address 127.0.0.1")
    );
    let out = git(
        s.dir.path(),
        &["ls-remote", &s.git_url("bob", "bob-pass-1", "r")],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("may not connect from the address"));

    // Adding this machine lets him in.
    assert_eq!(admin.post(&list, &[("new_ip", "127.0.0.1")]).status(), 200);
    assert_eq!(bob.login("bob", "bob-pass-1").status(), 303);
    assert!(
        git(
            s.dir.path(),
            &["ls-remote", &s.git_url("bob", "bob-pass-1", "r")]
        )
        .status
        .success()
    );
    // Only admins edit lists.
    assert_eq!(bob.get(&list).status(), 403);
    assert_eq!(
        bob.post("/_admin/permissions/ips", &[("new_ip", "127.0.0.1")])
            .status(),
        403
    );

    // The list for everyone adds to each account's own: an address on it admits bob too, and
    // removing his own entries leaves only the global one.
    let r = admin.post("/_admin/permissions/ips", &[("new_ip", "127.0.0.0/8")]);
    assert_eq!(r.status(), 200);
    let (_, page) = admin.get_text(&list);
    for id in page
        .split("name=\"del_ip_id\" value=\"")
        .skip(1)
        .map(|x| x.split('"').next().unwrap().to_owned())
        .collect::<Vec<_>>()
    {
        assert_eq!(
            admin
                .post(&format!("{list}/delete"), &[("del_ip_id", &id)])
                .status(),
            200
        );
    }
    assert_eq!(
        Browser::new(&s.base).login("bob", "bob-pass-1").status(),
        303
    );
    let r = admin.post("/_admin/permissions/ips/delete", &[("del_ip_id", "99999")]);
    assert_eq!(r.status(), 400);
}

#[test]
fn ssh_keys_are_checked_and_stored() {
    let s = Server::start();
    let admin = s.admin();
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("id");
    let out = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "me@laptop", "-f"])
        .arg(&key)
        .output()
        .expect("ssh-keygen runs (Debian package openssh-client)");
    assert!(out.status.success());
    let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
    let fp = String::from_utf8(
        std::process::Command::new("ssh-keygen")
            .args(["-l", "-E", "sha256", "-f"])
            .arg(key.with_extension("pub"))
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let fp = fp.split_whitespace().nth(1).unwrap().to_owned(); // SHA256:...

    let r = admin.post(
        "/_admin/my_account/ssh_keys",
        &[("public_key", &public), ("description", "")],
    );
    assert_eq!(r.status(), 200);
    let page = r.text().unwrap();
    assert!(
        page.contains(&fp),
        "same fingerprint as ssh-keygen: {fp} {page}"
    );
    assert!(
        page.contains("me@laptop"),
        "the comment is the default description"
    );
    // The same key again, for anyone, is refused.
    s.add_user(&admin, "bob", "bob-pass-1");
    let bob = Browser::new(&s.base);
    bob.login("bob", "bob-pass-1");
    let r = bob.post("/_admin/my_account/ssh_keys", &[("public_key", &public)]);
    assert_eq!(r.status(), 409);
    // A private key, garbage, a truncated key: refused with a sentence.
    let private = std::fs::read_to_string(&key).unwrap();
    for (bad, says) in [
        (private.as_str(), "private key"),
        ("hello", "key type and a base64 part"),
        (&public[..40], "cut short"),
    ] {
        let r = bob.post("/_admin/my_account/ssh_keys", &[("public_key", bad)]);
        assert_eq!(r.status(), 400, "{bad}");
        assert!(r.text().unwrap().contains(says), "{says}");
    }
    let raw_fp = fp.trim_start_matches("SHA256:");
    let r = bob.post(
        "/_admin/my_account/ssh_keys/delete",
        &[("del_public_key_fingerprint", raw_fp)],
    );
    assert_eq!(r.status(), 400, "not his");
    let r = admin.post(
        "/_admin/my_account/ssh_keys/delete",
        &[("del_public_key_fingerprint", raw_fp)],
    );
    assert_eq!(r.status(), 200);
    assert!(!r.text().unwrap().contains(&fp));
}

#[test]
fn watching_repositories() {
    let s = Server::start();
    let admin = s.admin();
    s.create_repo(&admin, "watched", false);
    s.create_repo(&admin, "secret", true);
    let (_, page) = admin.get_text("/watched");
    assert!(page.contains(">Watch</button>"), "{page}");
    let id = page
        .split("name=\"follows_repository_id\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let r = admin.post(
        "/_admin/toggle_following",
        &[("follows_repository_id", &id)],
    );
    assert_eq!(r.headers()["location"], "/watched");
    assert!(admin.get_text("/watched").1.contains(">Unwatch</button>"));
    let (_, list) = admin.get_text("/_admin/my_account/watched");
    assert!(list.contains("href=\"/watched\""), "{list}");
    // Someone who cannot read a repository cannot watch it.
    s.add_user(&admin, "bob", "bob-pass-1");
    let bob = Browser::new(&s.base);
    bob.login("bob", "bob-pass-1");
    let (_, secret) = admin.get_text("/secret");
    let secret_id = secret
        .split("name=\"follows_repository_id\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(
        bob.post(
            "/_admin/toggle_following",
            &[("follows_repository_id", &secret_id)]
        )
        .status(),
        403
    );
    assert_eq!(
        bob.post(
            "/_admin/toggle_following",
            &[("follows_repository_id", "x")]
        )
        .status(),
        400
    );
    // Toggle again: no longer watched.
    admin.post(
        "/_admin/toggle_following",
        &[("follows_repository_id", &id)],
    );
    assert!(
        !admin
            .get_text("/_admin/my_account/watched")
            .1
            .contains("href=\"/watched\"")
    );
    // Anonymous visitors see no button.
    assert!(
        !Browser::new(&s.base)
            .get_text("/watched")
            .1
            .contains("toggle_following")
    );
}

#[test]
fn admins_manage_a_users_api_keys() {
    let s = Server::start();
    let admin = s.admin();
    s.add_user(&admin, "bob", "bob-pass-1");
    s.create_repo(&admin, "r", true);
    let r = admin.post(
        "/r/settings/permissions",
        &[("username", "bob"), ("permission", "repository.read")],
    );
    assert!(r.status().is_redirection());
    let id = user_id(&admin, "bob");
    let page_url = format!("/_admin/users/{id}/edit/api_keys");
    let r = admin.post(
        &page_url,
        &[("description", "for bob's CI"), ("lifetime", "-1")],
    );
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], page_url.as_str());
    let (status, page) = admin.get_text(&page_url);
    assert_eq!(status, 200);
    assert!(page.contains("API keys of bob"), "{page}");
    let key = page
        .split("<code class=\"api-key\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    assert!(
        git(s.dir.path(), &["ls-remote", &s.git_url("bob", &key, "r")])
            .status
            .success()
    );
    // Bob sees it among his own.
    let bob = Browser::new(&s.base);
    bob.login("bob", "bob-pass-1");
    assert!(bob.get_text("/_admin/my_account/api_keys").1.contains(&key));
    // Only admins.
    assert_eq!(bob.get(&page_url).status(), 403);
    assert_eq!(bob.post(&page_url, &[("description", "x")]).status(), 403);
    let r = admin.post(&format!("{page_url}/delete"), &[("del_api_key", &key)]);
    assert_eq!(r.status(), 303);
    assert!(
        !git(s.dir.path(), &["ls-remote", &s.git_url("bob", &key, "r")])
            .status
            .success()
    );
    assert_eq!(admin.get("/_admin/users/99999/edit/api_keys").status(), 404);
}
