//! The command line: first start, db-create, db-upgrade, config-create, repo-scan, bad config.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::support::*;

#[test]
fn first_start_in_an_empty_folder_sets_up_and_prints_the_admin_password() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .args(["serve", "--port", "0"])
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut password = None;
    let mut base = None;
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if let Some(rest) =
            line.strip_prefix("Created admin account: user name \"admin\", password \"")
        {
            password = Some(rest.split('"').next().unwrap().to_owned());
        }
        if let Some(url) = line.strip_prefix("Serving on ") {
            base = Some(url.trim_end_matches('/').to_owned());
            break;
        }
    }
    let (password, base) = (
        password.expect("admin password printed"),
        base.expect("serving"),
    );
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    for f in ["my.ini", "kallithea.db", "repos"] {
        assert!(dir.path().join(f).exists(), "{f} created");
    }
    let b = Browser::new(&base);
    assert_eq!(b.login("admin", &password).status(), 303);
    let (_, home) = b.get_text("/");
    assert!(
        home.contains("Sign out") && home.contains(">admin<"),
        "{home}"
    );
    child.kill().unwrap();
    child.wait().unwrap();

    // A second start reuses my.ini and creates nobody.
    let out = Command::new(BIN)
        .args(["serve", "--port", "0"])
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut child = out;
    let first = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .next()
        .unwrap()
        .unwrap();
    assert!(first.starts_with("Serving on "), "{first}");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn db_create_on_an_existing_database_never_waits_for_input() {
    let s = Server::start();
    let args = [
        "db-create",
        "-c",
        "my.ini",
        "--user",
        "x",
        "--password",
        "y",
        "--email",
        "e@x",
        "--repos",
        "repos",
    ];
    let out = run_bin(s.dir.path(), &args);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("already exists") && err.contains("--force-yes"),
        "{err}"
    );

    let mut keep = args.to_vec();
    keep.push("--force-no");
    let out = run_bin(s.dir.path(), &keep);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("Kept the existing database"));
    // The admin still signs in with the old password.
    assert_eq!(Browser::new(&s.base).login(ADMIN, ADMIN_PW).status(), 303);
}

#[test]
fn db_upgrade_is_idempotent() {
    let s = Server::start();
    for _ in 0..2 {
        let out = run_bin(s.dir.path(), &["db-upgrade", "-c", "my.ini"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("0 migrations applied"));
    }
}

#[test]
fn config_create_refuses_to_overwrite_without_force() {
    let dir = tempfile::tempdir().unwrap();
    assert!(
        run_bin(dir.path(), &["config-create", "my.ini", "port=5123"])
            .status
            .success()
    );
    let text = std::fs::read_to_string(dir.path().join("my.ini")).unwrap();
    assert!(text.contains("port = 5123"));
    let out = run_bin(dir.path(), &["config-create", "my.ini"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"));
    assert!(
        run_bin(dir.path(), &["config-create", "my.ini", "--force"])
            .status
            .success()
    );
}

#[test]
fn a_bad_config_value_stops_start_up_naming_key_value_and_expectation() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "[server:main]\nport = eighty\n",
            "`[server:main] port`",
            "\"eighty\"",
        ),
        (
            "[app:main]\nsqlalchemy.url = oracle://x\n",
            "`sqlalchemy.url`",
            "\"oracle://x\"",
        ),
        ("[app:main]\ndebug = maybe\n", "`debug`", "true or false"),
        (
            "[app:main]\nfilter-with = proxy-prefix\n[filter:proxy-prefix]\nprefix = nope\n",
            "prefix`",
            "a path starting with /",
        ),
    ];
    for (ini, key, detail) in cases {
        std::fs::write(dir.path().join("bad.ini"), ini).unwrap();
        let out = run_bin(dir.path(), &["serve", "-c", "bad.ini", "--port", "0"]);
        assert!(!out.status.success(), "{ini}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(key) && err.contains(detail), "{ini} → {err}");
    }
}

#[test]
fn repo_scan_registers_repositories_found_on_disk() {
    let s = Server::start();
    git_ok(&s.repos, &["init", "-q", "--bare", "found-on-disk"]);
    // One with history and no commit-graph, as a repository copied from elsewhere.
    let src = source_repo(s.dir.path());
    git_ok(
        &s.repos,
        &[
            "clone",
            "-q",
            "--bare",
            src.to_str().unwrap(),
            "with-history",
        ],
    );
    let graph = s.repos.join("with-history/objects/info");
    assert!(!graph.join("commit-graph").exists() && !graph.join("commit-graphs").exists());
    let out = run_bin(s.dir.path(), &["repo-scan", "-c", "my.ini"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("added found-on-disk") && said.contains("added with-history"));
    // Its commit-graph is written (the empty one has nothing to write).
    assert!(
        said.contains("Writing commit-graphs for 1 repository") && said.contains("1 written."),
        "{said}"
    );
    assert!(graph.join("commit-graphs/commit-graph-chain").is_file());
    let (_, home) = Browser::new(&s.base).get_text("/");
    assert!(home.contains("found-on-disk"));
    assert!(
        s.repos.join("found-on-disk/hooks/post-receive").is_file(),
        "hooks installed"
    );
}

#[test]
fn repo_scan_refreshes_our_hooks_and_leaves_foreign_ones_alone() {
    let s = Server::start();
    let admin = s.admin();
    s.create_repo(&admin, "ours", false);
    s.create_repo(&admin, "theirs", false);
    let ours = s.repos.join("ours/hooks/post-receive");
    let theirs = s.repos.join("theirs/hooks/post-receive");
    std::fs::write(
        &ours,
        "#!/bin/sh\n# Installed by Kallithea: stale\nexec /old/path/kallithea hook post-receive\n",
    )
    .unwrap();
    std::fs::write(&theirs, "#!/bin/sh\necho custom\n").unwrap();
    let out = run_bin(s.dir.path(), &["repo-scan", "-c", "my.ini"]);
    assert!(out.status.success());
    let text = std::fs::read_to_string(&ours).unwrap();
    assert!(text.contains(BIN) && !text.contains("/old/path"), "{text}");
    assert_eq!(
        std::fs::read_to_string(&theirs).unwrap(),
        "#!/bin/sh\necho custom\n"
    );
}

#[test]
fn http_platform_port_chooses_the_port_when_no_port_option_is_given() {
    let s = Server::start();
    // Find a free port, then let IIS's variable pick it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(BIN)
        .args(["serve", "-c", "my.ini"])
        .current_dir(s.dir.path())
        .env("HTTP_PLATFORM_PORT", port.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let first = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .next()
        .unwrap()
        .unwrap();
    assert_eq!(first, format!("Serving on http://127.0.0.1:{port}/"));
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn serve_refuses_a_database_that_is_not_set_up() {
    let dir = tempfile::tempdir().unwrap();
    assert!(
        run_bin(dir.path(), &["config-create", "my.ini"])
            .status
            .success()
    );
    let out = run_bin(dir.path(), &["serve", "-c", "my.ini", "--port", "0"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("run `kallithea db-create"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
