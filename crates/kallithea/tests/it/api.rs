//! The JSON-RPC API over HTTP on the real binary: the envelope and its protocol errors, each
//! method's success and refusals, and result shapes pinned by snapshots in `api_snapshots/`
//! (ids, keys and times redacted; `UPDATE_SNAPSHOTS=1` rewrites them).

use serde_json::{Value, json};

use crate::support::*;

fn raw(s: &Server, body: &str) -> Value {
    let r = reqwest::blocking::Client::new()
        .post(s.url("/_admin/api"))
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .unwrap();
    assert_eq!(r.status(), 200, "the API always answers 200");
    r.json().unwrap()
}

fn call(s: &Server, key: &str, method: &str, args: Value) -> Value {
    let v = raw(
        s,
        &json!({"id": 7, "api_key": key, "method": method, "args": args}).to_string(),
    );
    assert_eq!(v["id"], 7, "{v}");
    v
}

fn ok(s: &Server, key: &str, method: &str, args: Value) -> Value {
    let v = call(s, key, method, args);
    assert!(v["error"].is_null(), "{method}: {v}");
    v["result"].clone()
}

fn err(s: &Server, key: &str, method: &str, args: Value) -> String {
    let v = call(s, key, method, args);
    assert!(v["result"].is_null(), "{method}: {v}");
    v["error"]
        .as_str()
        .unwrap_or_else(|| panic!("{v}"))
        .to_owned()
}

fn api_key(b: &Browser) -> String {
    let (_, page) = b.get_text("/_admin/my_account/api_keys");
    page.split("readonly value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned()
}

/// Replaces what changes between runs (ids, keys, times, hashes) so shapes can be compared.
fn redact(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    let volatile = k.ends_with("_id")
                        || matches!(
                            k.as_str(),
                            "created_on"
                                | "last_login"
                                | "api_key"
                                | "date"
                                | "raw_id"
                                | "short_id"
                                | "server_ip_addr"
                                | "kallithea_version"
                                | "platform"
                                | "arch"
                        );
                    let v = if volatile && !v.is_null() {
                        json!("<redacted>")
                    } else if k == "api_keys" || k == "parents" {
                        json!(["<redacted>"])
                    } else {
                        redact(v)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(redact).collect()),
        other => other.clone(),
    }
}

fn snapshot(name: &str, v: &Value) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/it/api_snapshots")
        .join(format!("{name}.json"));
    let text = serde_json::to_string_pretty(&redact(v)).unwrap() + "\n";
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() || !path.exists() {
        std::fs::write(&path, &text).unwrap();
        assert!(
            std::env::var_os("UPDATE_SNAPSHOTS").is_some(),
            "snapshot {name} was missing; written, check it in"
        );
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        text, want,
        "snapshot {name} changed (UPDATE_SNAPSHOTS=1 to accept)"
    );
}

#[test]
fn the_envelope_and_its_protocol_errors() {
    let s = Server::start();
    let admin = s.admin();
    let key = api_key(&admin);
    let e = |body: &str| raw(&s, body)["error"].as_str().unwrap_or("").to_owned();
    assert_eq!(e(""), "Content-Length is 0");
    assert!(e("{not json").starts_with("JSON parse error ERR:"));
    assert!(e("[1,2]").starts_with("Incorrect JSON query"));
    assert_eq!(
        e(r#"{"id":1,"method":"test","args":{}}"#),
        "Incorrect JSON query missing 'api_key'"
    );
    assert_eq!(
        e(&format!(r#"{{"id":1,"api_key":"{key}","args":{{}}}}"#)),
        "Incorrect JSON query missing 'method'"
    );
    assert_eq!(err(&s, "not-a-key", "test", json!({})), "Invalid API key");
    assert_eq!(
        err(&s, &key, "no_such_thing", json!({})),
        "No such method: no_such_thing"
    );
    assert_eq!(err(&s, &key, "_private", json!({})), "Method not allowed");
    assert_eq!(
        err(&s, &key, "test", json!({})),
        "Missing non optional `args` arg in JSON DATA"
    );
    assert_eq!(
        err(&s, &key, "get_repos", json!({"zeta": 1, "alpha": 2})),
        "Unknown `alpha`, `zeta` arg in JSON DATA"
    );
    // `args` that is not an object counts as none.
    let v = raw(
        &s,
        &json!({"id": "x", "api_key": key, "method": "get_repos", "args": [1]}).to_string(),
    );
    assert_eq!(v["result"], json!([]));
    assert_eq!(v["id"], "x");
    // Wrong types are refused with a sentence.
    assert_eq!(
        err(&s, &key, "get_repo", json!({"repoid": [1]})),
        "`repoid` must be a name or a numeric id"
    );
    assert_eq!(
        err(
            &s,
            &key,
            "create_repo",
            json!({"repo_name": "x", "private": "maybe"})
        ),
        "`private` must be true or false"
    );
    // Too large.
    let big = format!(
        r#"{{"id":1,"api_key":"{key}","method":"test","args":{{"args":"{}"}}}}"#,
        "x".repeat(1_100_000)
    );
    assert!(e(&big).contains("larger than the API accepts"));
    // Features not built yet say so.
    assert!(
        err(&s, &key, "create_gist", json!({}))
            .contains("`create_gist` is not available in this version yet")
    );
    // Echo, for admins only.
    assert_eq!(
        ok(&s, &key, "test", json!({"args": "hello"})),
        json!("hello")
    );
    s.add_user(&admin, "bob", "bob-pass-1");
    let bob = Browser::new(&s.base);
    bob.login("bob", "bob-pass-1");
    let bob_key = api_key(&bob);
    assert!(err(&s, &bob_key, "test", json!({"args": "x"})).contains("site administrators"));
}

#[test]
fn users_through_the_api() {
    let s = Server::start();
    let admin = s.admin();
    let key = api_key(&admin);
    let created = ok(
        &s,
        &key,
        "create_user",
        json!({"username": "carol", "email": "carol@example.com", "password": "carol-pass-1", "firstname": "Carol"}),
    );
    snapshot("create_user", &created);
    assert_eq!(
        err(
            &s,
            &key,
            "create_user",
            json!({"username": "carol", "email": "c2@example.com"})
        ),
        "user `carol` already exist"
    );
    assert!(
        err(
            &s,
            &key,
            "create_user",
            json!({"username": "bad/name", "email": "b@example.com"})
        )
        .contains("User names may contain only")
    );
    let carol = Browser::new(&s.base);
    assert_eq!(carol.login("carol", "carol-pass-1").status(), 303);
    let carol_key = api_key(&carol);

    // get_user: oneself with keys and permissions; an admin sees others without their keys.
    let me = ok(&s, &carol_key, "get_user", json!({}));
    snapshot("get_user_self", &me);
    assert_eq!(me["api_key"], json!(carol_key));
    assert!(
        me["permissions"]["global"]
            .as_array()
            .unwrap()
            .contains(&json!("repository.read"))
    );
    let seen = ok(&s, &key, "get_user", json!({"userid": "carol"}));
    assert!(
        seen.get("api_key").is_none() && seen.get("api_keys").is_none(),
        "{seen}"
    );
    assert_eq!(
        err(&s, &carol_key, "get_user", json!({"userid": "admin"})),
        "userid is not the same as your user"
    );
    assert_eq!(
        err(&s, &key, "get_user", json!({"userid": "ghost"})),
        "user `ghost` does not exist"
    );
    let all = ok(&s, &key, "get_users", json!({}));
    snapshot("get_users", &all);
    let text = all.to_string();
    assert!(
        !text.contains("$argon2") && !text.contains(&carol_key) && !text.contains(&key),
        "no secrets"
    );
    assert!(err(&s, &carol_key, "get_users", json!({})).contains("site administrators"));

    let upd = ok(
        &s,
        &key,
        "update_user",
        json!({"userid": "carol", "lastname": "C", "active": false}),
    );
    snapshot("update_user", &upd);
    assert_eq!(upd["user"]["active"], json!(false));
    assert_eq!(
        err(&s, &carol_key, "get_user", json!({})),
        "Invalid API key",
        "inactive users are refused"
    );
    ok(
        &s,
        &key,
        "update_user",
        json!({"userid": "carol", "active": true}),
    );
    let del = ok(&s, &key, "delete_user", json!({"userid": "carol"}));
    assert!(del["msg"].as_str().unwrap().starts_with("deleted user ID:"));
    assert!(err(&s, &key, "delete_user", json!({"userid": "admin"})).contains("your own account"));

    // get_ip: the caller's address and allow-list.
    let ip = ok(&s, &key, "get_ip", json!({}));
    snapshot("get_ip", &ip);
    snapshot(
        "get_server_info",
        &ok(&s, &key, "get_server_info", json!({})),
    );
    // Accounts of a sign-in plugin, and its name there.
    let ext = ok(
        &s,
        &key,
        "create_user",
        json!({"username": "win", "email": "win@example.com", "extern_type": "container", "extern_name": "CORP\\win"}),
    );
    assert_eq!(ext["user"]["username"], json!("win"));
    let w = ok(&s, &key, "get_user", json!({"userid": "win"}));
    assert_eq!(
        (w["extern_type"].clone(), w["extern_name"].clone()),
        (json!("container"), json!("CORP\\win"))
    );
    assert!(
        err(
            &s,
            &key,
            "create_user",
            json!({"username": "l", "email": "l@example.com", "extern_type": "ldap"})
        )
        .contains("not available in this version yet")
    );
    ok(
        &s,
        &key,
        "update_user",
        json!({"userid": "win", "extern_name": "win@CORP"}),
    );
    assert_eq!(
        ok(&s, &key, "get_user", json!({"userid": "win"}))["extern_name"],
        json!("win@CORP")
    );
    assert_eq!(ip["server_ip_addr"], json!("127.0.0.1"));
    admin.post("/_admin/permissions/ips", &[("new_ip", "10.0.0.0/8")]);
    assert_eq!(
        err(&s, &key, "get_ip", json!({})),
        "Invalid API key",
        "outside the allow-list"
    );
}

#[test]
fn repositories_groups_and_changesets_through_the_api() {
    let s = Server::start();
    let admin = s.admin();
    let key = api_key(&admin);
    s.add_user(&admin, "bob", "bob-pass-1");
    let bob = Browser::new(&s.base);
    bob.login("bob", "bob-pass-1");
    let bob_key = api_key(&bob);

    let g = ok(
        &s,
        &key,
        "create_repo_group",
        json!({"group_name": "team", "description": "Team"}),
    );
    snapshot("create_repo_group", &g);
    assert_eq!(
        err(&s, &key, "create_repo_group", json!({"group_name": "team"})),
        "repo group `team` already exist"
    );
    let r = ok(
        &s,
        &key,
        "create_repo",
        json!({"repo_name": "team/app", "description": "the app"}),
    );
    snapshot("create_repo", &r);
    assert_eq!(
        err(&s, &key, "create_repo", json!({"repo_name": "nogroup/app"})),
        "repo group `nogroup` not found"
    );
    assert_eq!(
        err(&s, &key, "create_repo", json!({"repo_name": "team/app"})),
        "repo `team/app` already exist"
    );
    ok(
        &s,
        &key,
        "create_repo",
        json!({"repo_name": "secret", "private": true}),
    );
    assert!(
        err(
            &s,
            &bob_key,
            "create_repo",
            json!({"repo_name": "team/bobs"})
        )
        .contains("permission to create repositories in the group")
    );

    let work = tempfile::tempdir().unwrap();
    let src = source_repo(work.path());
    git_ok(
        &src,
        &[
            "push",
            "-q",
            &s.git_url(ADMIN, ADMIN_PW, "team/app"),
            "main",
        ],
    );

    let repo = ok(
        &s,
        &key,
        "get_repo",
        json!({"repoid": "team/app", "with_revision_names": true}),
    );
    snapshot("get_repo", &repo);
    assert!(repo["branches"]["main"].is_string(), "{repo}");
    let groups = ok(&s, &key, "get_repo_groups", json!({}));
    snapshot("get_repo_groups", &groups);
    // Private repositories are invisible to others, in lists and by name.
    let names = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| r["repo_name"].as_str().unwrap().to_owned())
            .collect()
    };
    let repos = ok(&s, &key, "get_repos", json!({}));
    snapshot("get_repos", &repos);
    assert_eq!(names(&repos), vec!["secret", "team/app"]);
    assert_eq!(
        names(&ok(&s, &bob_key, "get_repos", json!({}))),
        vec!["team/app"]
    );
    assert_eq!(
        err(&s, &bob_key, "get_repo", json!({"repoid": "secret"})),
        "repository `secret` does not exist"
    );

    // Grants.
    let gr = ok(
        &s,
        &key,
        "grant_user_permission",
        json!({"repoid": "secret", "userid": "bob", "perm": "repository.write"}),
    );
    assert_eq!(
        gr["msg"],
        json!("Granted perm: `repository.write` for user: `bob` in repo: `secret`")
    );
    assert_eq!(
        names(&ok(&s, &bob_key, "get_repos", json!({}))),
        vec!["secret", "team/app"]
    );
    assert_eq!(
        err(
            &s,
            &key,
            "grant_user_permission",
            json!({"repoid": "secret", "userid": "bob", "perm": "repository.owner"})
        ),
        "permission `repository.owner` does not exist"
    );
    assert!(
        err(
            &s,
            &bob_key,
            "grant_user_permission",
            json!({"repoid": "secret", "userid": "bob", "perm": "repository.admin"})
        )
        .contains("site administrators")
    );
    ok(
        &s,
        &key,
        "revoke_user_permission",
        json!({"repoid": "secret", "userid": "bob"}),
    );
    assert_eq!(
        err(&s, &bob_key, "get_repo", json!({"repoid": "secret"})),
        "repository `secret` does not exist"
    );

    // User groups.
    let ug = ok(
        &s,
        &key,
        "create_user_group",
        json!({"group_name": "devs", "description": "Developers"}),
    );
    snapshot("create_user_group", &ug);
    let add = ok(
        &s,
        &key,
        "add_user_to_user_group",
        json!({"usergroupid": "devs", "userid": "bob"}),
    );
    assert_eq!(add["success"], json!(true));
    let again = ok(
        &s,
        &key,
        "add_user_to_user_group",
        json!({"usergroupid": "devs", "userid": "bob"}),
    );
    assert_eq!(again["success"], json!(false));
    let rm = ok(
        &s,
        &key,
        "remove_user_from_user_group",
        json!({"usergroupid": "devs", "userid": "bob"}),
    );
    assert_eq!(rm["success"], json!(true));
    snapshot(
        "get_user_groups",
        &ok(&s, &key, "get_user_groups", json!({})),
    );
    assert!(
        err(
            &s,
            &bob_key,
            "create_user_group",
            json!({"group_name": "mine"})
        )
        .contains("permission to create user groups")
    );

    // Changesets.
    let log = ok(
        &s,
        &key,
        "get_changesets",
        json!({"repoid": "team/app", "with_file_list": true}),
    );
    snapshot("get_changesets", &log);
    let log = log.as_array().unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0]["message"], json!("first"), "oldest first");
    let newest = log[1]["raw_id"].as_str().unwrap().to_owned();
    let cs = ok(
        &s,
        &key,
        "get_changeset",
        json!({"repoid": "team/app", "raw_id": newest, "with_reviews": true}),
    );
    assert_eq!(cs["reviews"], json!([]));
    snapshot("get_changeset", &cs);
    assert_eq!(cs["added"], json!(["main.txt"]));
    assert_eq!(
        err(
            &s,
            &key,
            "get_changeset",
            json!({"repoid": "team/app", "raw_id": "0123456789abcdef0123"})
        ),
        "Changeset 0123456789abcdef0123 does not exist"
    );
    assert_eq!(
        err(&s, &key, "get_changesets", json!({"repoid": "secret"})),
        "Repository is empty"
    );

    let d = ok(&s, &key, "delete_repo", json!({"repoid": "secret"}));
    assert_eq!(d["msg"], json!("Deleted repository `secret`"));
    assert_eq!(
        err(&s, &key, "delete_repo", json!({"repoid": "secret"})),
        "repository `secret` does not exist"
    );
}

#[test]
fn more_management_methods_through_the_api() {
    let s = Server::start();
    let admin = s.admin();
    let key = api_key(&admin);
    s.add_user(&admin, "bob", "bob-pass-1");
    let bob = Browser::new(&s.base);
    bob.login("bob", "bob-pass-1");
    let bob_key = api_key(&bob);

    // rescan_repos: a repository made on disk is added; one whose folder went is removed.
    let work = tempfile::tempdir().unwrap();
    let src = source_repo(work.path());
    let bare = s.repos.join("ondisk");
    git_ok(
        work.path(),
        &["init", "-q", "--bare", "-b", "main", bare.to_str().unwrap()],
    );
    git_ok(
        &src,
        &["push", "-q", bare.to_str().unwrap(), "main", "feature"],
    );
    let scan = ok(&s, &key, "rescan_repos", json!({}));
    assert_eq!(scan, json!({"added": ["ondisk"], "removed": []}));
    ok(&s, &key, "create_repo", json!({"repo_name": "doomed"}));
    std::fs::remove_dir_all(s.repos.join("doomed")).unwrap();
    let scan = ok(&s, &key, "rescan_repos", json!({"remove_obsolete": true}));
    assert_eq!(scan, json!({"added": [], "removed": ["doomed"]}));
    assert!(err(&s, &bob_key, "rescan_repos", json!({})).contains("site administrators"));
    assert_eq!(
        ok(&s, &key, "invalidate_cache", json!({"repoid": "ondisk"}))["repository"],
        json!("ondisk")
    );

    // get_repo_nodes.
    let all = ok(
        &s,
        &key,
        "get_repo_nodes",
        json!({"repoid": "ondisk", "revision": "feature", "root_path": "/"}),
    );
    assert_eq!(
        all,
        json!([{"name": "README.md", "type": "file"}, {"name": "feature.txt", "type": "file"}])
    );
    assert_eq!(
        ok(
            &s,
            &key,
            "get_repo_nodes",
            json!({"repoid": "ondisk", "revision": "main", "root_path": "", "ret_type": "dirs"})
        ),
        json!([])
    );
    assert_eq!(
        err(
            &s,
            &key,
            "get_repo_nodes",
            json!({"repoid": "ondisk", "revision": "main", "root_path": "", "ret_type": "some"})
        ),
        "ret_type must be one of all,dirs,files"
    );
    assert_eq!(
        err(
            &s,
            &key,
            "get_repo_nodes",
            json!({"repoid": "ondisk", "revision": "nope", "root_path": ""})
        ),
        "failed to get repo: `ondisk` nodes"
    );

    // Repository groups: update, grants with apply_to_children, delete only when empty.
    ok(&s, &key, "create_repo_group", json!({"group_name": "team"}));
    ok(
        &s,
        &key,
        "create_repo_group",
        json!({"group_name": "sub", "parent": "team"}),
    );
    let g = ok(
        &s,
        &key,
        "get_repo_group",
        json!({"repogroupid": "team/sub"}),
    );
    snapshot("get_repo_group", &g);
    assert_eq!(g["parent_group"], json!("team"));
    let upd = ok(
        &s,
        &key,
        "update_repo_group",
        json!({"repogroupid": "team/sub", "group_name": "tools", "parent": ""}),
    );
    assert_eq!(upd["repo_group"]["group_name"], json!("tools"));
    assert_eq!(
        err(
            &s,
            &key,
            "get_repo_group",
            json!({"repogroupid": "team/sub"})
        ),
        "repository group `team/sub` does not exist"
    );
    let up = ok(
        &s,
        &key,
        "update_repo",
        json!({"repoid": "ondisk", "name": "renamed", "group": "tools", "private": true, "description": "moved", "clone_uri": "https://example.com/upstream.git"}),
    );
    snapshot("update_repo", &up);
    assert_eq!(
        up["repository"]["clone_uri"],
        json!("https://example.com/upstream.git")
    );
    assert!(
        err(
            &s,
            &key,
            "update_repo",
            json!({"repoid": "tools/renamed", "clone_uri": "ftp://example.com/x"})
        )
        .contains("http:// or https://")
    );
    // Watchers are the repository's followers; the newest changeset is its last.
    let (_, page) = admin.get_text("/tools/renamed");
    let rid = page
        .split("name=\"follows_repository_id\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    admin.post(
        "/_admin/toggle_following",
        &[("follows_repository_id", &rid)],
    );
    let got = ok(&s, &key, "get_repo", json!({"repoid": "tools/renamed"}));
    assert_eq!(got["followers"][0]["username"], json!("admin"));
    assert_eq!(got["last_changeset"]["message"], json!("main work"));
    assert_eq!(up["repository"]["repo_name"], json!("tools/renamed"));
    assert!(s.repos.join("tools/renamed/HEAD").is_file());
    assert!(
        err(
            &s,
            &key,
            "delete_repo_group",
            json!({"repogroupid": "tools"})
        )
        .contains("still contains 1 repository")
    );
    let gr = ok(
        &s,
        &key,
        "grant_user_permission_to_repo_group",
        json!({"repogroupid": "tools", "userid": "bob", "perm": "group.read", "apply_to_children": "repos"}),
    );
    assert_eq!(
        gr["msg"],
        json!("Granted perm: `group.read` for user: `bob` in repo group: `tools`")
    );
    assert_eq!(
        ok(&s, &bob_key, "get_repo", json!({"repoid": "tools/renamed"}))["private"],
        json!(true)
    );
    assert_eq!(
        err(
            &s,
            &key,
            "grant_user_permission_to_repo_group",
            json!({"repogroupid": "tools", "userid": "bob", "perm": "group.read", "apply_to_children": "everything"})
        ),
        "\"everything\" is not a choice for applying to children: use none, repos, groups or all."
    );
    ok(
        &s,
        &key,
        "revoke_user_permission_from_repo_group",
        json!({"repogroupid": "tools", "userid": "bob", "apply_to_children": "repos"}),
    );
    assert_eq!(
        err(&s, &bob_key, "get_repo", json!({"repoid": "tools/renamed"})),
        "repository `tools/renamed` does not exist"
    );

    // User groups: get, update, grants on repositories and groups, delete only when unassigned.
    ok(&s, &key, "create_user_group", json!({"group_name": "devs"}));
    ok(
        &s,
        &key,
        "add_user_to_user_group",
        json!({"usergroupid": "devs", "userid": "bob"}),
    );
    let ug = ok(&s, &key, "get_user_group", json!({"usergroupid": "devs"}));
    snapshot("get_user_group", &ug);
    assert_eq!(ug["members"][0]["username"], json!("bob"));
    let ug = ok(
        &s,
        &key,
        "update_user_group",
        json!({"usergroupid": "devs", "description": "Developers", "active": true}),
    );
    assert_eq!(ug["user_group"]["group_description"], json!("Developers"));
    let g2 = ok(
        &s,
        &key,
        "grant_user_group_permission",
        json!({"repoid": "tools/renamed", "usergroupid": "devs", "perm": "repository.write"}),
    );
    assert_eq!(
        g2["msg"],
        json!("Granted perm: `repository.write` for user group: `devs` in repo: `tools/renamed`")
    );
    git_ok(
        &src,
        &[
            "push",
            "-q",
            &s.git_url("bob", "bob-pass-1", "tools/renamed"),
            "main:from-bob",
        ],
    );
    ok(
        &s,
        &key,
        "grant_user_group_permission_to_repo_group",
        json!({"repogroupid": "tools", "usergroupid": "devs", "perm": "group.write"}),
    );
    assert!(
        err(
            &s,
            &key,
            "delete_user_group",
            json!({"usergroupid": "devs"})
        )
        .contains("User Group assigned to 2")
    );
    ok(
        &s,
        &key,
        "revoke_user_group_permission",
        json!({"repoid": "tools/renamed", "usergroupid": "devs"}),
    );
    ok(
        &s,
        &key,
        "revoke_user_group_permission_from_repo_group",
        json!({"repogroupid": "tools", "usergroupid": "devs"}),
    );
    let d = ok(
        &s,
        &key,
        "delete_user_group",
        json!({"usergroupid": "devs"}),
    );
    assert!(
        d["msg"]
            .as_str()
            .unwrap()
            .starts_with("deleted user group ID:")
    );
    // Emptied, the group can go.
    ok(&s, &key, "delete_repo", json!({"repoid": "tools/renamed"}));
    ok(
        &s,
        &key,
        "delete_repo_group",
        json!({"repogroupid": "tools"}),
    );
    assert!(
        err(
            &s,
            &bob_key,
            "get_repo_group",
            json!({"repogroupid": "team"})
        )
        .contains("site administrators")
    );
}

/// Every method and its arguments, as Kallithea names them.
const METHODS: &[(&str, &[&str])] = &[
    ("test", &["args"]),
    ("get_ip", &["userid"]),
    ("get_server_info", &[]),
    ("get_user", &["userid"]),
    ("get_users", &[]),
    (
        "create_user",
        &[
            "username",
            "email",
            "password",
            "firstname",
            "lastname",
            "active",
            "admin",
            "extern_type",
            "extern_name",
        ],
    ),
    (
        "update_user",
        &[
            "userid",
            "username",
            "email",
            "password",
            "firstname",
            "lastname",
            "active",
            "admin",
            "extern_type",
            "extern_name",
        ],
    ),
    ("delete_user", &["userid"]),
    (
        "get_repo",
        &["repoid", "with_revision_names", "with_pullrequests"],
    ),
    ("get_repos", &[]),
    (
        "get_repo_nodes",
        &["repoid", "revision", "root_path", "ret_type"],
    ),
    (
        "create_repo",
        &[
            "repo_name",
            "owner",
            "repo_type",
            "description",
            "private",
            "clone_uri",
            "landing_rev",
            "enable_statistics",
            "enable_downloads",
            "copy_permissions",
        ],
    ),
    (
        "update_repo",
        &[
            "repoid",
            "name",
            "owner",
            "group",
            "description",
            "private",
            "clone_uri",
            "landing_rev",
            "enable_statistics",
            "enable_downloads",
        ],
    ),
    ("delete_repo", &["repoid", "forks"]),
    ("grant_user_permission", &["repoid", "userid", "perm"]),
    ("revoke_user_permission", &["repoid", "userid"]),
    (
        "grant_user_group_permission",
        &["repoid", "usergroupid", "perm"],
    ),
    ("revoke_user_group_permission", &["repoid", "usergroupid"]),
    ("get_user_group", &["usergroupid"]),
    ("get_user_groups", &[]),
    (
        "create_user_group",
        &["group_name", "description", "owner", "active"],
    ),
    (
        "update_user_group",
        &[
            "usergroupid",
            "group_name",
            "description",
            "owner",
            "active",
        ],
    ),
    ("delete_user_group", &["usergroupid"]),
    ("add_user_to_user_group", &["usergroupid", "userid"]),
    ("remove_user_from_user_group", &["usergroupid", "userid"]),
    ("get_repo_group", &["repogroupid"]),
    ("get_repo_groups", &[]),
    (
        "create_repo_group",
        &[
            "group_name",
            "description",
            "owner",
            "parent",
            "copy_permissions",
        ],
    ),
    (
        "update_repo_group",
        &[
            "repogroupid",
            "group_name",
            "description",
            "owner",
            "parent",
        ],
    ),
    ("delete_repo_group", &["repogroupid"]),
    (
        "grant_user_permission_to_repo_group",
        &["repogroupid", "userid", "perm", "apply_to_children"],
    ),
    (
        "revoke_user_permission_from_repo_group",
        &["repogroupid", "userid", "apply_to_children"],
    ),
    (
        "grant_user_group_permission_to_repo_group",
        &["repogroupid", "usergroupid", "perm", "apply_to_children"],
    ),
    (
        "revoke_user_group_permission_from_repo_group",
        &["repogroupid", "usergroupid", "apply_to_children"],
    ),
    (
        "get_changesets",
        &[
            "repoid",
            "start",
            "end",
            "start_date",
            "end_date",
            "branch_name",
            "reverse",
            "with_file_list",
            "max_revisions",
        ],
    ),
    ("get_changeset", &["repoid", "raw_id", "with_reviews"]),
    ("rescan_repos", &["remove_obsolete"]),
    ("invalidate_cache", &["repoid"]),
    ("pull", &["repoid", "clone_uri"]),
];

#[test]
fn every_method_answers_hostile_arguments_and_strangers_with_a_sentence() {
    let s = Server::start();
    let admin = s.admin();
    let key = api_key(&admin);
    s.add_user(&admin, "bob", "bob-pass-1");
    let bob = Browser::new(&s.base);
    bob.login("bob", "bob-pass-1");
    let bob_key = api_key(&bob);
    ok(&s, &key, "create_repo", json!({"repo_name": "r"}));
    ok(&s, &key, "create_repo_group", json!({"group_name": "g"}));
    ok(&s, &key, "create_user_group", json!({"group_name": "ug"}));
    let hostile = [
        json!([1]),
        json!({"a": 1}),
        json!(1.5),
        json!("../../etc/passwd"),
        json!("--output=x"),
        json!("x\u{0}y"),
    ];
    for (method, names) in METHODS {
        for value in &hostile {
            let args: serde_json::Map<String, Value> = names
                .iter()
                .map(|n| ((*n).to_owned(), value.clone()))
                .collect();
            for k in [&key, &bob_key] {
                let v = call(&s, k, method, Value::Object(args.clone()));
                let text = v.to_string();
                assert!(
                    !text.contains("Internal server error"),
                    "{method} {value}: {v}"
                );
                if !names.is_empty() && !value.is_string() {
                    assert!(v["error"].is_string(), "{method} with {value}: {v}");
                }
            }
        }
        // An argument the method does not take.
        let e = err(&s, &key, method, json!({"surely_not_an_argument": 1}));
        assert!(
            e.contains("`surely_not_an_argument`") || e.starts_with("Missing non optional"),
            "{method}: {e}"
        );
    }
    // Nothing was changed by the hostile calls: the three objects are still there, alone.
    assert_eq!(
        ok(&s, &key, "get_repos", json!({}))
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        ok(&s, &key, "get_repo_groups", json!({}))
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        ok(&s, &key, "get_user_groups", json!({}))
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        ok(&s, &key, "get_users", json!({}))
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Strangers: bob may not use what needs site admin or admin on the object.
    for (method, args) in [
        ("get_users", json!({})),
        ("get_ip", json!({})),
        ("get_server_info", json!({})),
        (
            "create_user",
            json!({"username": "x", "email": "x@example.com"}),
        ),
        ("update_user", json!({"userid": "admin", "admin": false})),
        ("delete_user", json!({"userid": "admin"})),
        ("update_repo", json!({"repoid": "r", "description": "mine"})),
        ("delete_repo", json!({"repoid": "r"})),
        (
            "grant_user_permission",
            json!({"repoid": "r", "userid": "bob", "perm": "repository.admin"}),
        ),
        (
            "grant_user_group_permission",
            json!({"repoid": "r", "usergroupid": "ug", "perm": "repository.admin"}),
        ),
        (
            "update_user_group",
            json!({"usergroupid": "ug", "description": "x"}),
        ),
        ("delete_user_group", json!({"usergroupid": "ug"})),
        (
            "add_user_to_user_group",
            json!({"usergroupid": "ug", "userid": "bob"}),
        ),
        ("get_repo_group", json!({"repogroupid": "g"})),
        (
            "update_repo_group",
            json!({"repogroupid": "g", "description": "x"}),
        ),
        ("delete_repo_group", json!({"repogroupid": "g"})),
        ("create_repo_group", json!({"group_name": "mine"})),
        (
            "grant_user_permission_to_repo_group",
            json!({"repogroupid": "g", "userid": "bob", "perm": "group.admin"}),
        ),
        ("rescan_repos", json!({})),
        ("invalidate_cache", json!({"repoid": "r"})),
        ("create_repo", json!({"repo_name": "g/x"})),
        ("create_repo", json!({"repo_name": "x", "owner": "admin"})),
    ] {
        let e = err(&s, &bob_key, method, args.clone());
        assert!(!e.is_empty() && !e.contains("Internal"), "{method}: {e}");
    }
    assert_eq!(
        ok(&s, &key, "get_repo", json!({"repoid": "r"}))["description"],
        json!("")
    );
}

#[test]
fn owners_renames_and_changeset_ranges() {
    let s = Server::start();
    let admin = s.admin();
    let key = api_key(&admin);
    ok(
        &s,
        &key,
        "create_user",
        json!({"username": "dan", "email": "dan@example.com", "password": "dan-pass-1"}),
    );
    let r = ok(
        &s,
        &key,
        "create_repo",
        json!({"repo_name": "dans", "owner": "dan"}),
    );
    assert_eq!(r["success"], json!(true));
    assert_eq!(
        ok(&s, &key, "get_repo", json!({"repoid": "dans"}))["owner"],
        json!("dan")
    );
    let g = ok(
        &s,
        &key,
        "create_repo_group",
        json!({"group_name": "dgroup", "owner": "dan"}),
    );
    assert_eq!(g["repo_group"]["owner"], json!("dan"));
    let ug = ok(
        &s,
        &key,
        "create_user_group",
        json!({"group_name": "dteam", "owner": "dan"}),
    );
    assert_eq!(ug["user_group"]["owner"], json!("dan"));
    let up = ok(
        &s,
        &key,
        "update_repo",
        json!({"repoid": "dans", "owner": "admin"}),
    );
    assert_eq!(up["repository"]["owner"], json!("admin"));
    // Renaming a user.
    let renamed = ok(
        &s,
        &key,
        "update_user",
        json!({"userid": "dan", "username": "daniel"}),
    );
    assert_eq!(renamed["user"]["username"], json!("daniel"));
    assert_eq!(
        Browser::new(&s.base).login("daniel", "dan-pass-1").status(),
        303
    );
    assert_eq!(
        err(
            &s,
            &key,
            "update_user",
            json!({"userid": "daniel", "username": "ADMIN"})
        ),
        "user `ADMIN` already exist"
    );

    // Changeset ranges on a linear history of three.
    let work = tempfile::tempdir().unwrap();
    let src = source_repo(work.path());
    git_ok(
        &src,
        &[
            "push",
            "-q",
            &s.git_url(ADMIN, ADMIN_PW, "dans"),
            "main",
            "feature",
        ],
    );
    let all = ok(
        &s,
        &key,
        "get_changesets",
        json!({"repoid": "dans", "branch_name": "feature"}),
    );
    let ids: Vec<String> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["raw_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 2);
    let from_second = ok(
        &s,
        &key,
        "get_changesets",
        json!({"repoid": "dans", "end": ids[1], "start": &ids[1][..8]}),
    );
    assert_eq!(from_second.as_array().unwrap().len(), 1);
    let newest_first = ok(
        &s,
        &key,
        "get_changesets",
        json!({"repoid": "dans", "branch_name": "feature", "reverse": true}),
    );
    assert_eq!(newest_first[0]["raw_id"], json!(ids[1]));
    let none = ok(
        &s,
        &key,
        "get_changesets",
        json!({"repoid": "dans", "start_date": "2100-01-01T00:00:00"}),
    );
    assert_eq!(none, json!([]));
    assert_eq!(
        err(
            &s,
            &key,
            "get_changesets",
            json!({"repoid": "dans", "start_date": "yesterday"})
        ),
        "`start_date` must be a date and time such as 2024-01-31T12:00:00"
    );
    assert!(
        err(
            &s,
            &key,
            "get_changesets",
            json!({"repoid": "dans", "start": "zz"})
        )
        .contains("changeset id")
    );
    assert!(
        err(
            &s,
            &key,
            "get_changesets",
            json!({"repoid": "dans", "start": "ffffffff"})
        )
        .contains("is not among")
    );
}

#[test]
fn pull_brings_a_mirror_up_to_date() {
    let s = Server::start();
    let admin = s.admin();
    let key = api_key(&admin);
    ok(&s, &key, "create_repo", json!({"repo_name": "upstream"}));
    let work = tempfile::tempdir().unwrap();
    let src = source_repo(work.path());
    git_ok(
        &src,
        &[
            "push",
            "-q",
            &s.git_url(ADMIN, ADMIN_PW, "upstream"),
            "main",
        ],
    );
    let upstream_url = s.anon_git_url("upstream");
    ok(
        &s,
        &key,
        "create_repo",
        json!({"repo_name": "mirror", "clone_uri": upstream_url}),
    );
    let before = ok(&s, &key, "get_changesets", json!({"repoid": "mirror"}));
    assert_eq!(before.as_array().unwrap().len(), 2);
    // Upstream moves on; pull brings the mirror along.
    std::fs::write(src.join("new.txt"), "new\n").unwrap();
    git_ok(&src, &["add", "."]);
    git_ok(&src, &["commit", "-q", "-m", "newer work"]);
    git_ok(
        &src,
        &[
            "push",
            "-q",
            &s.git_url(ADMIN, ADMIN_PW, "upstream"),
            "main",
        ],
    );
    let r = ok(&s, &key, "pull", json!({"repoid": "mirror"}));
    assert_eq!(r["msg"], json!("Pulled from `mirror`"));
    let after = ok(&s, &key, "get_changesets", json!({"repoid": "mirror"}));
    assert_eq!(
        after.as_array().unwrap().last().unwrap()["message"],
        json!("newer work")
    );
    // A repository without a remote, a bad URL, a stranger: refused with a sentence.
    assert!(
        err(&s, &key, "pull", json!({"repoid": "upstream"})).contains("has no remote to pull from")
    );
    assert!(
        err(
            &s,
            &key,
            "pull",
            json!({"repoid": "mirror", "clone_uri": "file:///etc"})
        )
        .contains("http:// or https://")
    );
    assert!(
        err(
            &s,
            &key,
            "pull",
            json!({"repoid": "mirror", "clone_uri": "http://127.0.0.1:1/nothing"})
        )
        .contains("Could not clone from")
    );
    s.add_user(&admin, "bob", "bob-pass-1");
    let bob = Browser::new(&s.base);
    bob.login("bob", "bob-pass-1");
    assert!(
        err(&s, &api_key(&bob), "pull", json!({"repoid": "mirror"}))
            .contains("site administrators")
    );
}
