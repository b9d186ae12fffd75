//! Git over HTTP with the real git client: push, clone, permissions, credentials, streaming.

use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::support::*;

fn clone(dir: &Path, url: &str, into: &str) -> std::process::Output {
    git(dir, &["clone", "-q", url, into])
}

#[test]
fn push_branches_and_tags_then_clone_gives_the_same_refs() {
    let s = Server::start();
    let admin = s.admin();
    s.create_repo(&admin, "project", false);
    let src = source_repo(s.dir.path());
    let url = s.git_url(ADMIN, ADMIN_PW, "project");
    git_ok(&src, &["push", "-q", &url, "main"]);
    git_ok(&src, &["push", "-q", &url, "--all"]);
    git_ok(&src, &["push", "-q", &url, "--tags"]);
    assert_eq!(
        remote_refs(&src, &s.anon_git_url("project")),
        local_refs(&src)
    );

    let out = clone(s.dir.path(), &s.anon_git_url("project"), "copy");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let copy = s.dir.path().join("copy");
    assert_eq!(
        git_ok(&copy, &["rev-parse", "--abbrev-ref", "HEAD"]).trim(),
        "main"
    );
    assert_eq!(
        git_ok(&copy, &["rev-parse", "HEAD"]),
        git_ok(&src, &["rev-parse", "main"])
    );
    assert_eq!(
        std::fs::read_to_string(copy.join("README.md")).unwrap(),
        "# Hello\n"
    );

    // The journal and the last change come from the hook.
    let (_, page) = admin.get_text("/project");
    assert!(page.contains("pushed"), "{page}");
    assert!(
        page.contains("tag v1.0") || page.contains("tag v2.0"),
        "{page}"
    );
    // A push of tags alone names them, without counting no changesets.
    assert!(
        page.contains("pushed tag v1.0, tag v2.0") && !page.contains("pushed 0 changesets"),
        "{page}"
    );
}

#[test]
fn the_first_pushed_branch_becomes_head_of_an_empty_repository() {
    let s = Server::start();
    let admin = s.admin();
    s.create_repo(&admin, "fresh", false);
    let src = source_repo(s.dir.path());
    git_ok(
        &src,
        &[
            "push",
            "-q",
            &s.git_url(ADMIN, ADMIN_PW, "fresh"),
            "feature",
        ],
    );
    let out = clone(s.dir.path(), &s.anon_git_url("fresh"), "copy");
    assert!(out.status.success());
    assert_eq!(
        git_ok(
            &s.dir.path().join("copy"),
            &["rev-parse", "--abbrev-ref", "HEAD"]
        )
        .trim(),
        "feature"
    );
}

#[test]
fn pushing_several_branches_into_an_empty_repository_prefers_main() {
    let s = Server::start();
    let admin = s.admin();
    s.create_repo(&admin, "multi", false);
    let src = source_repo(s.dir.path());
    git_ok(&src, &["branch", "aaa-first-alphabetically"]);
    git_ok(
        &src,
        &["push", "-q", &s.git_url(ADMIN, ADMIN_PW, "multi"), "--all"],
    );
    let out = git(
        s.dir.path(),
        &["clone", "-q", &s.anon_git_url("multi"), "copy"],
    );
    assert!(out.status.success());
    assert_eq!(
        git_ok(
            &s.dir.path().join("copy"),
            &["rev-parse", "--abbrev-ref", "HEAD"]
        )
        .trim(),
        "main"
    );
    // The journal counts every changeset the push brought, shared by branches or not.
    let (_, page) = admin.get_text("/multi");
    assert!(page.contains("pushed 3 changesets"), "{page}");

    // A branch whose name is not UTF-8 (git allows it) is pushed and recorded.
    std::fs::write(src.join("more.txt"), "more\n").unwrap();
    git_ok(&src, &["add", "."]);
    git_ok(&src, &["commit", "-q", "-m", "on a latin-1 branch"]);
    let name = std::ffi::OsStr::from_bytes(b"refs/heads/caf\xe9");
    let url = s.git_url(ADMIN, ADMIN_PW, "multi");
    let mut spec = std::ffi::OsString::from("HEAD:");
    spec.push(name);
    let out = std::process::Command::new("git")
        .args(["push", "-q", &url])
        .arg(&spec)
        .current_dir(&src)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && !err.contains("error"), "{err}");
    let (_, page) = admin.get_text("/multi");
    assert!(page.contains("pushed 1 changeset"), "{page}");
    // Each links to what it brought.
    let pushed = git_ok(&src, &["rev-parse", "HEAD"]).trim().to_owned();
    assert!(
        page.contains(&format!(
            "pushed 1 changeset, created branch caf\u{FFFD}: <a class=\"mono\" href=\"/multi/changeset/{pushed}\">{}</a>",
            &pushed[..12]
        )),
        "{page}"
    );

    // A branch made where a changeset already is brings none, and says what it did.
    git_ok(&src, &["push", "-q", &url, "main:refs/heads/same-place"]);
    let (_, page) = admin.get_text("/multi");
    assert!(
        page.contains("created branch same-place") && !page.contains("pushed 0"),
        "{page}"
    );
    git_ok(&src, &["push", "-q", &url, ":refs/heads/same-place"]);
    let (_, page) = admin.get_text("/multi");
    assert!(page.contains("deleted branch same-place"), "{page}");
}

#[test]
fn protocol_v0_and_v2_and_the_dot_git_and_id_urls_all_work() {
    let s = Server::start();
    let admin = s.admin();
    s.create_repo(&admin, "proto", false);
    let src = source_repo(s.dir.path());
    git_ok(
        &src,
        &[
            "-c",
            "protocol.version=0",
            "push",
            "-q",
            &s.git_url(ADMIN, ADMIN_PW, "proto.git"),
            "main",
        ],
    );
    git_ok(
        &src,
        &[
            "-c",
            "protocol.version=2",
            "push",
            "-q",
            &s.git_url(ADMIN, ADMIN_PW, "proto"),
            "--all",
        ],
    );
    let want = git_ok(&src, &["rev-parse", "main"]);
    for (i, (version, path)) in [
        ("0", "proto"),
        ("2", "proto"),
        ("2", "proto.git"),
        ("2", "_1"),
        ("0", "_1"),
    ]
    .iter()
    .enumerate()
    {
        let into = format!("c{i}");
        let out = git(
            s.dir.path(),
            &[
                "-c",
                &format!("protocol.version={version}"),
                "clone",
                "-q",
                &s.anon_git_url(path),
                &into,
            ],
        );
        assert!(
            out.status.success(),
            "v{version} {path}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            git_ok(&s.dir.path().join(&into), &["rev-parse", "HEAD"]),
            want
        );
    }
}

#[test]
fn anonymous_clone_follows_the_default_grant() {
    let s = Server::start();
    let admin = s.admin();
    s.create_repo(&admin, "public", false);
    s.create_repo(&admin, "hidden", true);
    let src = source_repo(s.dir.path());
    for r in ["public", "hidden"] {
        git_ok(
            &src,
            &["push", "-q", &s.git_url(ADMIN, ADMIN_PW, r), "--all"],
        );
    }
    assert!(
        clone(s.dir.path(), &s.anon_git_url("public"), "a")
            .status
            .success()
    );
    let out = clone(s.dir.path(), &s.anon_git_url("hidden"), "b");
    assert!(!out.status.success());
    // Without credentials git is asked for them (401), which it cannot give here.
    let r = reqwest::blocking::get(s.url("/hidden/info/refs?service=git-upload-pack")).unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers().get("www-authenticate").is_some());
    // Setting the default grant to none closes the public one too.
    let r = admin.post(
        "/public/settings/permissions",
        &[("username", "default"), ("permission", "repository.none")],
    );
    assert_eq!(r.status(), 303);
    assert!(
        !clone(s.dir.path(), &s.anon_git_url("public"), "c")
            .status
            .success()
    );
}

#[test]
fn with_anonymous_access_off_every_clone_needs_credentials() {
    let s = Server::start_with(Options {
        public_access: false,
        ..Options::default()
    });
    let admin = s.admin();
    s.create_repo(&admin, "closed", false);
    let src = source_repo(s.dir.path());
    git_ok(
        &src,
        &["push", "-q", &s.git_url(ADMIN, ADMIN_PW, "closed"), "--all"],
    );
    assert!(
        !clone(s.dir.path(), &s.anon_git_url("closed"), "a")
            .status
            .success()
    );
    assert!(
        clone(s.dir.path(), &s.git_url(ADMIN, ADMIN_PW, "closed"), "b")
            .status
            .success()
    );
}

#[test]
fn push_needs_write_and_a_reader_is_told_why() {
    let s = Server::start();
    let admin = s.admin();
    s.create_repo(&admin, "guarded", false);
    s.add_user(&admin, "bob", "bob-pass-1");
    let src = source_repo(s.dir.path());
    git_ok(
        &src,
        &["push", "-q", &s.git_url(ADMIN, ADMIN_PW, "guarded"), "main"],
    );
    let before = remote_refs(&src, &s.anon_git_url("guarded"));

    let err = git_fails(
        &src,
        &[
            "push",
            "-q",
            &s.git_url("bob", "bob-pass-1", "guarded"),
            "feature",
        ],
    );
    assert!(err.contains("403") || err.contains("may not push"), "{err}");
    assert_eq!(
        remote_refs(&src, &s.anon_git_url("guarded")),
        before,
        "nothing changed"
    );
    let r = reqwest::blocking::Client::new()
        .get(s.url("/guarded/info/refs?service=git-receive-pack"))
        .basic_auth("bob", Some("bob-pass-1"))
        .send()
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(
        r.text()
            .unwrap()
            .contains("User bob may not push to repository guarded.")
    );

    assert_eq!(
        admin
            .post(
                "/guarded/settings/permissions",
                &[("username", "bob"), ("permission", "repository.write")]
            )
            .status(),
        303
    );
    git_ok(
        &src,
        &[
            "push",
            "-q",
            &s.git_url("bob", "bob-pass-1", "guarded"),
            "feature",
        ],
    );
    assert_eq!(remote_refs(&src, &s.anon_git_url("guarded")).len(), 2);
    // Anonymous push is asked for credentials.
    let r = reqwest::blocking::get(s.url("/guarded/info/refs?service=git-receive-pack")).unwrap();
    assert_eq!(r.status(), 401);
}

#[test]
fn a_wrong_password_gets_401_and_an_api_key_works_as_password() {
    let s = Server::start();
    let admin = s.admin();
    s.create_repo(&admin, "keyed", true);
    let r = reqwest::blocking::Client::new()
        .get(s.url("/keyed/info/refs?service=git-upload-pack"))
        .basic_auth(ADMIN, Some("wrong"))
        .send()
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.text().unwrap().contains("Authentication failed"));
    let err = git_fails(
        s.dir.path(),
        &["clone", "-q", &s.git_url(ADMIN, "wrong", "keyed"), "x"],
    );
    assert!(
        err.contains("Authentication failed") || err.contains("401"),
        "{err}"
    );

    let (_, page) = admin.get_text("/_admin/my_account/api_keys");
    let key = page
        .split("readonly value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let src = source_repo(s.dir.path());
    git_ok(
        &src,
        &["push", "-q", &s.git_url(ADMIN, &key, "keyed"), "--all"],
    );
    assert!(
        clone(s.dir.path(), &s.git_url(ADMIN, &key, "keyed"), "y")
            .status
            .success()
    );
}

#[test]
fn the_dumb_protocol_and_unknown_services_are_refused_with_a_message() {
    let s = Server::start();
    let admin = s.admin();
    s.create_repo(&admin, "smart", false);
    let c = reqwest::blocking::Client::new();
    let r = c.get(s.url("/smart/info/refs")).send().unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.text().unwrap().contains("smart HTTP"));
    let r = c
        .get(s.url("/smart/info/refs?service=git-upload-archive"))
        .send()
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = c
        .post(s.url("/smart/git-upload-pack"))
        .header("content-type", "application/octet-stream")
        .body("0000")
        .send()
        .unwrap();
    assert_eq!(r.status(), 415);
    // A type an HTML form can send is a cross-site request until it proves otherwise.
    let r = c
        .post(s.url("/smart/git-upload-pack"))
        .header("content-type", "text/plain")
        .body("0000")
        .send()
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = c
        .get(s.url("/nothing-here/info/refs?service=git-upload-pack"))
        .send()
        .unwrap();
    assert_eq!(r.status(), 404);
}

fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[test]
fn a_200_mb_push_streams_through_without_growing_the_server() {
    let s = Server::start();
    let admin = s.admin();
    s.create_repo(&admin, "big", false);
    let work = work_tree(s.dir.path(), "bigsrc");
    // 200 MB that does not compress.
    let mut data = vec![0u8; 200 * 1024 * 1024];
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for chunk in data.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
    }
    std::fs::write(work.join("blob.bin"), &data).unwrap();
    drop(data);
    git_ok(&work, &["add", "."]);
    git_ok(&work, &["commit", "-q", "-m", "big"]);
    let before = peak_rss_kib(s.pid());
    git_ok(
        &work,
        &[
            "-c",
            "http.postBuffer=1048576",
            "push",
            "-q",
            &s.git_url(ADMIN, ADMIN_PW, "big"),
            "main",
        ],
    );
    let after = peak_rss_kib(s.pid());
    let grew_mib = (after.saturating_sub(before)) / 1024;
    assert!(
        grew_mib < 64,
        "server peak memory grew by {grew_mib} MiB during a 200 MB push"
    );
    assert_eq!(
        remote_refs(&work, &s.anon_git_url("big")),
        local_refs(&work)
    );
}
