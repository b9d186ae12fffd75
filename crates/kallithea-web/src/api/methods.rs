//! The API's methods, with Kallithea 0.7's names, arguments, result shapes and messages. Each
//! one checks permissions through the core functions the pages use. Kallithea's methods for
//! features this version does not have yet answer an error that says so.

use kallithea_core::repo::{self, RepoRef, RepoRow};
use kallithea_core::user::{self, NewAccount, UserRow};
use kallithea_core::{Error, ErrorKind, account, group, user_group};
use kallithea_model::PermLevel;
use serde_json::{Map, Value, json};

use super::args::{Args, Spec};
use super::{Caller, Outcome};
use crate::AppState;

/// Methods Kallithea has whose feature this version does not have yet.
const NOT_YET: &[&str] = &[
    "fork_repo",
    "get_gist",
    "get_gists",
    "create_gist",
    "delete_gist",
    "get_pullrequest",
    "comment_pullrequest",
    "edit_reviewers",
];

/// Every method this version answers, with its arguments (`true`: required).
fn spec(method: &str) -> Option<&'static [Spec]> {
    Some(match method {
        "test" => &[("args", true)],
        "get_ip" | "show_ip" => &[("userid", false)],
        "get_server_info" => &[],
        "get_user" => &[("userid", false)],
        "get_users" => &[],
        "create_user" => &[
            ("username", true),
            ("email", true),
            ("password", false),
            ("firstname", false),
            ("lastname", false),
            ("active", false),
            ("admin", false),
            ("extern_type", false),
            ("extern_name", false),
        ],
        "update_user" => &[
            ("userid", true),
            ("username", false),
            ("email", false),
            ("password", false),
            ("firstname", false),
            ("lastname", false),
            ("active", false),
            ("admin", false),
            ("extern_type", false),
            ("extern_name", false),
        ],
        "delete_user" => &[("userid", true)],
        "get_repo" => &[
            ("repoid", true),
            ("with_revision_names", false),
            ("with_pullrequests", false),
        ],
        "get_repos" => &[],
        "create_repo" => &[
            ("repo_name", true),
            ("owner", false),
            ("repo_type", false),
            ("description", false),
            ("private", false),
            ("clone_uri", false),
            ("landing_rev", false),
            ("enable_statistics", false),
            ("enable_downloads", false),
            ("copy_permissions", false),
        ],
        "delete_repo" => &[("repoid", true), ("forks", false)],
        "grant_user_permission" => &[("repoid", true), ("userid", true), ("perm", true)],
        "revoke_user_permission" => &[("repoid", true), ("userid", true)],
        "get_user_groups" => &[],
        "create_user_group" => &[
            ("group_name", true),
            ("description", false),
            ("owner", false),
            ("active", false),
        ],
        "add_user_to_user_group" => &[("usergroupid", true), ("userid", true)],
        "remove_user_from_user_group" => &[("usergroupid", true), ("userid", true)],
        "get_repo_groups" => &[],
        "create_repo_group" => &[
            ("group_name", true),
            ("description", false),
            ("owner", false),
            ("parent", false),
            ("copy_permissions", false),
        ],
        "get_changesets" => &[
            ("repoid", true),
            ("start", false),
            ("end", false),
            ("start_date", false),
            ("end_date", false),
            ("branch_name", false),
            ("reverse", false),
            ("with_file_list", false),
            ("max_revisions", false),
        ],
        "get_changeset" => &[("repoid", true), ("raw_id", true), ("with_reviews", false)],
        "rescan_repos" => &[("remove_obsolete", false)],
        "pull" => &[("repoid", true), ("clone_uri", false)],
        "invalidate_cache" => &[("repoid", true)],
        "get_user_group" => &[("usergroupid", true)],
        "update_user_group" => &[
            ("usergroupid", true),
            ("group_name", false),
            ("description", false),
            ("owner", false),
            ("active", false),
        ],
        "delete_user_group" => &[("usergroupid", true)],
        "update_repo" => &[
            ("repoid", true),
            ("name", false),
            ("owner", false),
            ("group", false),
            ("description", false),
            ("private", false),
            ("clone_uri", false),
            ("landing_rev", false),
            ("enable_statistics", false),
            ("enable_downloads", false),
        ],
        "grant_user_group_permission" => &[("repoid", true), ("usergroupid", true), ("perm", true)],
        "revoke_user_group_permission" => &[("repoid", true), ("usergroupid", true)],
        "get_repo_group" => &[("repogroupid", true)],
        "update_repo_group" => &[
            ("repogroupid", true),
            ("group_name", false),
            ("description", false),
            ("owner", false),
            ("parent", false),
        ],
        "delete_repo_group" => &[("repogroupid", true)],
        "grant_user_permission_to_repo_group" => &[
            ("repogroupid", true),
            ("userid", true),
            ("perm", true),
            ("apply_to_children", false),
        ],
        "revoke_user_permission_from_repo_group" => &[
            ("repogroupid", true),
            ("userid", true),
            ("apply_to_children", false),
        ],
        "grant_user_group_permission_to_repo_group" => &[
            ("repogroupid", true),
            ("usergroupid", true),
            ("perm", true),
            ("apply_to_children", false),
        ],
        "revoke_user_group_permission_from_repo_group" => &[
            ("repogroupid", true),
            ("usergroupid", true),
            ("apply_to_children", false),
        ],
        "get_repo_nodes" => &[
            ("repoid", true),
            ("revision", true),
            ("root_path", true),
            ("ret_type", false),
        ],
        _ => return None,
    })
}

/// Finds and runs a method.
pub async fn call(
    state: &AppState,
    caller: &Caller,
    method: &str,
    raw: Map<String, Value>,
) -> Outcome {
    if method.starts_with('_') {
        return Err("Method not allowed".into());
    }
    if NOT_YET.contains(&method) {
        return Err(format!(
            "The method `{method}` is not available in this version yet: its feature has not been built."
        ));
    }
    let Some(spec) = spec(method) else {
        return Err(format!("No such method: {method}"));
    };
    let a = Args::check(raw, spec)?;
    match method {
        "test" => test(caller, &a),
        "get_ip" | "show_ip" => get_ip(state, caller, &a).await,
        "get_server_info" => get_server_info(caller),
        "get_user" => get_user(state, caller, &a).await,
        "get_users" => get_users(state, caller).await,
        "create_user" => create_user(state, caller, &a).await,
        "update_user" => update_user(state, caller, &a).await,
        "delete_user" => delete_user(state, caller, &a).await,
        "get_repo" => get_repo(state, caller, &a).await,
        "get_repos" => get_repos(state, caller).await,
        "create_repo" => create_repo(state, caller, &a).await,
        "delete_repo" => delete_repo(state, caller, &a).await,
        "grant_user_permission" => grant_user_permission(state, caller, &a, true).await,
        "revoke_user_permission" => grant_user_permission(state, caller, &a, false).await,
        "get_user_groups" => get_user_groups(state, caller).await,
        "create_user_group" => create_user_group(state, caller, &a).await,
        "add_user_to_user_group" => user_group_member(state, caller, &a, true).await,
        "remove_user_from_user_group" => user_group_member(state, caller, &a, false).await,
        "get_repo_groups" => get_repo_groups(state, caller).await,
        "create_repo_group" => create_repo_group(state, caller, &a).await,
        "get_changesets" => get_changesets(state, caller, &a).await,
        "get_changeset" => get_changeset(state, caller, &a).await,
        "rescan_repos" => rescan_repos(state, caller, &a).await,
        "pull" => pull(state, caller, &a).await,
        "invalidate_cache" => invalidate_cache(state, caller, &a).await,
        "get_user_group" => get_user_group(state, caller, &a).await,
        "update_user_group" => update_user_group(state, caller, &a).await,
        "delete_user_group" => delete_user_group(state, caller, &a).await,
        "update_repo" => update_repo(state, caller, &a).await,
        "grant_user_group_permission" => user_group_repo_grant(state, caller, &a, true).await,
        "revoke_user_group_permission" => user_group_repo_grant(state, caller, &a, false).await,
        "get_repo_group" => get_repo_group(state, caller, &a).await,
        "update_repo_group" => update_repo_group(state, caller, &a).await,
        "delete_repo_group" => delete_repo_group(state, caller, &a).await,
        "grant_user_permission_to_repo_group" => group_grant(state, caller, &a, false, true).await,
        "revoke_user_permission_from_repo_group" => {
            group_grant(state, caller, &a, false, false).await
        }
        "grant_user_group_permission_to_repo_group" => {
            group_grant(state, caller, &a, true, true).await
        }
        "revoke_user_group_permission_from_repo_group" => {
            group_grant(state, caller, &a, true, false).await
        }
        "get_repo_nodes" => get_repo_nodes(state, caller, &a).await,
        _ => Err(format!("No such method: {method}")),
    }
}

/// The `owner` argument: `None` when absent; only site admins may name one (Kallithea's
/// message otherwise).
async fn owner_arg(state: &AppState, caller: &Caller, a: &Args) -> Result<Option<UserRow>, String> {
    let Some(key) = a.opt_id_or_name("owner")? else {
        return Ok(None);
    };
    let u = user_or_error(state, &key).await?;
    if caller.is_admin() {
        return Ok(Some(u));
    }
    if u.id == caller.user.id {
        // Naming oneself asks for nothing an admin must grant.
        return Ok(None);
    }
    Err("Only Kallithea admin can specify `owner` param".into())
}

async fn give(
    state: &AppState,
    caller: &Caller,
    what: user::Owned,
    owner: Option<UserRow>,
) -> Result<(), String> {
    match owner {
        Some(o) => user::set_owner(&state.svc, &user::actor_of(&caller.user), what, o.id)
            .await
            .map_err(core),
        None => Ok(()),
    }
}

/// A core refusal or failure as an API error: sentences for users; internal details stay in
/// the log (the request id names them).
fn core(e: Error) -> String {
    match e.kind {
        ErrorKind::Internal => format!(
            "Internal server error (request {})",
            crate::client::request_id().unwrap_or_default()
        ),
        _ => e.message,
    }
}

fn iso(t: i64) -> Value {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| Value::String(d.format("%Y-%m-%dT%H:%M:%S").to_string()))
        .unwrap_or(Value::Null)
}

fn test(caller: &Caller, a: &Args) -> Outcome {
    caller.require_admin()?;
    Ok(a.opt_str("args")?.map_or(Value::Null, Value::String))
}

fn get_server_info(caller: &Caller) -> Outcome {
    caller.require_admin()?;
    Ok(json!({
        "kallithea_version": env!("CARGO_PKG_VERSION"),
        "py_version": null,
        "implementation": "Kallithea in Rust",
        "platform": std::env::consts::OS,
        "arch": std::env::consts::ARCH,
        "modules": [],
    }))
}

async fn user_or_error(state: &AppState, key: &str) -> Result<UserRow, String> {
    user::find_by_id_or_name(&state.svc, key)
        .await
        .map_err(core)?
        .ok_or_else(|| format!("user `{key}` does not exist"))
}

async fn get_ip(state: &AppState, caller: &Caller, a: &Args) -> Outcome {
    caller.require_admin()?;
    let u = match a.opt_id_or_name("userid")? {
        Some(k) => user_or_error(state, &k).await?,
        None => caller.user.clone(),
    };
    let ips = account::own_ips(&state.svc, u.id).await.map_err(core)?;
    Ok(json!({
        "server_ip_addr": caller.client.addr.to_string(),
        "user_ips": ips.into_iter().map(|(_, r)| ip_entry(&r)).collect::<Vec<_>>(),
    }))
}

fn ip_entry(range: &str) -> Value {
    let (start, end) = match account::parse_range(range) {
        Ok(n) => (n.network().to_string(), n.broadcast().to_string()),
        Err(_) => (String::new(), String::new()),
    };
    json!({"ip_addr": range, "ip_range": [start, end]})
}

/// Kallithea's `User.get_api_data()`; with `details`, the fields only the user themselves
/// (or, in Kallithea, an admin) sees. API keys are only ever shown to their owner.
async fn user_data(state: &AppState, caller: &Caller, u: &UserRow, details: bool) -> Outcome {
    let extra = account::emails(&state.svc, u.id).await.map_err(core)?;
    let mut emails = vec![u.email.clone()];
    emails.extend(extra.into_iter().map(|(_, e)| e));
    let mut d = json!({
        "user_id": u.id.0,
        "username": u.username,
        "firstname": u.firstname,
        "lastname": u.lastname,
        "email": u.email,
        "emails": emails,
        "active": u.active,
        "admin": u.admin,
    });
    if details {
        let ips = account::own_ips(&state.svc, u.id).await.map_err(core)?;
        let o = d.as_object_mut().expect("object");
        o.insert("extern_type".into(), json!(u.extern_type));
        let extern_name = user::extern_name(&state.svc, u.id).await.map_err(core)?;
        o.insert("extern_name".into(), json!(extern_name));
        o.insert("last_login".into(), u.last_login.map_or(Value::Null, iso));
        o.insert(
            "ip_addresses".into(),
            json!(ips.into_iter().map(|(_, r)| r).collect::<Vec<_>>()),
        );
        if caller.user.id == u.id {
            let keys = account::api_keys(&state.svc, u.id).await.map_err(core)?;
            let mut all = vec![u.api_key.clone()];
            all.extend(keys.into_iter().map(|k| k.api_key));
            o.insert("api_key".into(), json!(u.api_key));
            o.insert("api_keys".into(), json!(all));
        }
    }
    Ok(d)
}

async fn get_user(state: &AppState, caller: &Caller, a: &Args) -> Outcome {
    let u = match a.opt_id_or_name("userid")? {
        Some(k) => {
            let u = user_or_error(state, &k).await?;
            if !caller.is_admin() && u.id != caller.user.id {
                return Err("userid is not the same as your user".into());
            }
            u
        }
        None => caller.user.clone(),
    };
    let mut d = user_data(state, caller, &u, true).await?;
    let perms = kallithea_core::permission::Permissions::load(&state.svc, &user::actor_of(&u))
        .await
        .map_err(core)?;
    let repos = repo::list_visible(&state.svc, &perms).await.map_err(core)?;
    let groups = group::list_visible(&state.svc, &perms)
        .await
        .map_err(core)?;
    let mut global: Vec<String> = kallithea_core::defaults::effective_global(&state.svc, &u)
        .await
        .map_err(core)?;
    global.sort();
    d.as_object_mut().expect("object").insert(
        "permissions".into(),
        json!({
            "global": global,
            "repositories": repos.iter().map(|(r, l)| (r.name.clone(), json!(l.repo_perm_name()))).collect::<Map<_, _>>(),
            "repositories_groups": groups.iter().map(|(g, l)| (g.name.clone(), json!(l.group_perm_name()))).collect::<Map<_, _>>(),
        }),
    );
    Ok(d)
}

async fn get_users(state: &AppState, caller: &Caller) -> Outcome {
    caller.require_admin()?;
    let users = user::list_accounts(&state.svc, &user::actor_of(&caller.user))
        .await
        .map_err(core)?;
    let mut out = Vec::new();
    for u in users.iter().filter(|u| u.username != user::DEFAULT_USER) {
        out.push(user_data(state, caller, u, false).await?);
    }
    Ok(Value::Array(out))
}

async fn create_user(state: &AppState, caller: &Caller, a: &Args) -> Outcome {
    caller.require_admin()?;
    let username = a.str("username")?;
    let email = a.str("email")?;
    let password = a.opt_str("password")?.unwrap_or_default();
    let firstname = a.opt_str("firstname")?.unwrap_or_default();
    let lastname = a.opt_str("lastname")?.unwrap_or_default();
    let extern_type = a
        .opt_str("extern_type")?
        .unwrap_or_else(|| "internal".into());
    let extern_name = a.opt_str("extern_name")?.unwrap_or_default();
    kallithea_core::auth::find(&extern_type).map_err(core)?;
    if user::find_by_id_or_name(&state.svc, &username)
        .await
        .map_err(core)?
        .is_some()
    {
        return Err(format!("user `{username}` already exist"));
    }
    // Kallithea allows an empty password for external accounts; internal ones need one.
    let password = if password.is_empty() {
        kallithea_core::token::random_hex(16)
    } else {
        password
    };
    let id = user::admin_create(
        &state.svc,
        &user::actor_of(&caller.user),
        &NewAccount {
            username: &username,
            password: &password,
            email: &email,
            firstname: &firstname,
            lastname: &lastname,
            admin: a.bool_or("admin", false)?,
            active: a.bool_or("active", true)?,
        },
    )
    .await
    .map_err(|e| match e.kind {
        ErrorKind::NameTaken => format!("user `{username}` already exist"),
        _ => core(e),
    })?;
    if extern_type != "internal" || !extern_name.is_empty() {
        user::admin_set_extern(
            &state.svc,
            &user::actor_of(&caller.user),
            id,
            &extern_type,
            &extern_name,
        )
        .await
        .map_err(core)?;
    }
    let u = user_or_error(state, &id.0.to_string()).await?;
    Ok(json!({
        "msg": format!("created new user `{}`", u.username),
        "user": user_data(state, caller, &u, false).await?,
    }))
}

async fn update_user(state: &AppState, caller: &Caller, a: &Args) -> Outcome {
    caller.require_admin()?;
    let key = a.id_or_name("userid")?;
    let u = user_or_error(state, &key).await?;
    if let Some(n) = a.opt_str("username")?
        && n != u.username
    {
        user::admin_rename(&state.svc, &user::actor_of(&caller.user), u.id, &n)
            .await
            .map_err(|e| match e.kind {
                ErrorKind::NameTaken => format!("user `{n}` already exist"),
                _ => core(e),
            })?;
    }
    if a.has("extern_type") || a.has("extern_name") {
        let t = a.opt_str("extern_type")?.unwrap_or(u.extern_type.clone());
        let n = match a.opt_str("extern_name")? {
            Some(n) => n,
            None => user::extern_name(&state.svc, u.id).await.map_err(core)?,
        };
        user::admin_set_extern(&state.svc, &user::actor_of(&caller.user), u.id, &t, &n)
            .await
            .map_err(core)?;
    }
    let email = a.opt_str("email")?.unwrap_or(u.email.clone());
    let firstname = a.opt_str("firstname")?.unwrap_or(u.firstname.clone());
    let lastname = a.opt_str("lastname")?.unwrap_or(u.lastname.clone());
    let password = a.opt_str("password")?;
    user::admin_update(
        &state.svc,
        &user::actor_of(&caller.user),
        u.id,
        &user::AccountEdit {
            email: &email,
            firstname: &firstname,
            lastname: &lastname,
            active: a.opt_bool("active")?.unwrap_or(u.active),
            admin: a.opt_bool("admin")?.unwrap_or(u.admin),
            password: password.as_deref().filter(|p| !p.is_empty()),
        },
    )
    .await
    .map_err(core)?;
    let u = user_or_error(state, &u.id.0.to_string()).await?;
    Ok(json!({
        "msg": format!("updated user ID:{} {}", u.id.0, u.username),
        "user": user_data(state, caller, &u, false).await?,
    }))
}

async fn delete_user(state: &AppState, caller: &Caller, a: &Args) -> Outcome {
    caller.require_admin()?;
    let key = a.id_or_name("userid")?;
    let u = user_or_error(state, &key).await?;
    user::admin_delete(&state.svc, &user::actor_of(&caller.user), u.id, false)
        .await
        .map_err(core)?;
    Ok(json!({
        "msg": format!("deleted user ID:{} {}", u.id.0, u.username),
        "user": Value::Null,
    }))
}

/// A repository the caller may read, by id or name; others are reported as missing.
async fn readable_repo(state: &AppState, caller: &Caller, key: &str) -> Result<RepoRow, String> {
    let missing = || format!("repository `{key}` does not exist");
    let found = match key.parse::<i64>() {
        Ok(id) => repo::find(&state.svc, RepoRef::Id(kallithea_model::RepoId(id)))
            .await
            .map_err(core)?,
        Err(_) => None,
    };
    let found = match found {
        Some(r) => Some(r),
        None if kallithea_model::RepoName::parse(key).is_ok() => {
            repo::find(&state.svc, RepoRef::Name(key))
                .await
                .map_err(core)?
        }
        None => None,
    };
    found
        .filter(|r| caller.perms.repo(r).can_read())
        .ok_or_else(missing)
}

fn repo_data(r: &RepoRow) -> Value {
    json!({
        "repo_id": r.id.0,
        "repo_name": r.name,
        "repo_type": r.repo_type,
        "clone_uri": r.clone_uri.as_deref().map(repo::redact_url),
        "private": r.private,
        "created_on": iso(r.created_on),
        "description": r.description,
        "landing_rev": r.landing_rev,
        "owner": r.owner_name,
        "fork_of": Value::Null,
        "enable_statistics": false,
        "enable_downloads": r.enable_downloads,
        "last_changeset": Value::Null,
    })
}

async fn get_repo(state: &AppState, caller: &Caller, a: &Args) -> Outcome {
    let key = a.id_or_name("repoid")?;
    let r = readable_repo(state, caller, &key).await?;
    let with_names = a.bool_or("with_revision_names", false)?;
    let access = repo::open(&caller.perms, r.clone(), PermLevel::Read).map_err(core)?;
    let mut d = repo_data(&r);
    let o = d.as_object_mut().expect("object");
    let mut members = Vec::new();
    if caller.perms.repo(&r).is_admin() {
        for g in repo::grants(&state.svc, &access).await.map_err(core)? {
            members.push(
                json!({"name": g.username, "type": "user", "permission": g.level.repo_perm_name()}),
            );
        }
        for g in repo::user_group_grants(&state.svc, &access)
            .await
            .map_err(core)?
        {
            members.push(json!({"name": g.name, "type": "user_group", "permission": g.level.repo_perm_name()}));
        }
    }
    o.insert("members".into(), Value::Array(members));
    let mut followers = Vec::new();
    for u in repo::followers(&state.svc, &access).await.map_err(core)? {
        followers.push(user_data(state, caller, &u, false).await?);
    }
    o.insert("followers".into(), Value::Array(followers));
    // The default branch's newest changeset (null for an empty repository).
    let last = kallithea_core::browse::changelog(&state.svc, &access, None, None, 1, 1)
        .await
        .ok()
        .and_then(|l| l.changesets.first().map(|c| changeset_data(c, None)));
    o.insert("last_changeset".into(), last.unwrap_or(Value::Null));
    if with_names {
        let refs = kallithea_core::browse::refs(&state.svc, &access)
            .await
            .map_err(core)?;
        let map = |refs: &[kallithea_core::browse::RefInfo]| {
            refs.iter()
                .map(|r| (r.name.clone(), json!(r.target.to_string())))
                .collect::<Map<_, _>>()
        };
        o.insert("branches".into(), Value::Object(map(&refs.branches)));
        o.insert("tags".into(), Value::Object(map(&refs.tags)));
        o.insert("bookmarks".into(), json!({}));
    }
    if a.bool_or("with_pullrequests", false)? {
        o.insert("pull_requests".into(), json!([]));
    }
    Ok(d)
}

async fn get_repos(state: &AppState, caller: &Caller) -> Outcome {
    let repos = repo::list_visible(&state.svc, &caller.perms)
        .await
        .map_err(core)?;
    Ok(Value::Array(
        repos.iter().map(|(r, _)| repo_data(r)).collect(),
    ))
}

async fn create_repo(state: &AppState, caller: &Caller, a: &Args) -> Outcome {
    let full = a.str("repo_name")?;
    let owner = owner_arg(state, caller, a).await?;
    let repo_type = a.opt_str("repo_type")?.unwrap_or_else(|| "git".into());
    let (group_path, base) = match full.rsplit_once('/') {
        Some((g, b)) => (Some(g.to_owned()), b.to_owned()),
        None => (None, full.clone()),
    };
    let group_id = match &group_path {
        Some(g) => match group::find(&state.svc, g).await.map_err(core)? {
            Some(found) => found.id.0.to_string(),
            None => return Err(format!("repo group `{g}` not found")),
        },
        None => "-1".into(),
    };
    let form = repo::CreateForm {
        repo_name: base,
        repo_type,
        repo_description: a.opt_str("description")?.unwrap_or_default(),
        repo_private: a.bool_or("private", false)?,
        repo_group: group_id,
        repo_landing_rev: a
            .opt_str("landing_rev")?
            .unwrap_or_else(|| "rev:tip".into()),
        clone_uri: a.opt_str("clone_uri")?.unwrap_or_default(),
    };
    let _ = a.opt_bool("enable_statistics")?;
    let _ = a.opt_bool("enable_downloads")?;
    let _ = a.opt_bool("copy_permissions")?;
    let r = repo::create(&state.svc, &caller.perms, &form)
        .await
        .map_err(|e| match e.kind {
            ErrorKind::NameTaken => format!("repo `{full}` already exist"),
            _ => core(e),
        })?;
    give(state, caller, user::Owned::Repo(r.id), owner).await?;
    Ok(json!({
        "msg": format!("Created new repository `{}`", r.name),
        "success": true,
        "task": Value::Null,
    }))
}

async fn delete_repo(state: &AppState, caller: &Caller, a: &Args) -> Outcome {
    let key = a.id_or_name("repoid")?;
    let r = readable_repo(state, caller, &key).await?;
    if let Some(f) = a.opt_str("forks")?
        && !f.is_empty()
        && f != "detach"
        && f != "delete"
    {
        return Err(format!("`forks` must be detach or delete, not `{f}`"));
    }
    let access = repo::open(&caller.perms, r.clone(), PermLevel::Admin).map_err(core)?;
    let svc = state.svc.clone();
    crate::to_the_end(async move { repo::delete(&svc, &access).await })
        .await
        .map_err(core)?;
    Ok(json!({"msg": format!("Deleted repository `{}`", r.name), "success": true}))
}

async fn grant_user_permission(
    state: &AppState,
    caller: &Caller,
    a: &Args,
    grant: bool,
) -> Outcome {
    caller.require_admin()?;
    let r = readable_repo(state, caller, &a.id_or_name("repoid")?).await?;
    let u = user_or_error(state, &a.id_or_name("userid")?).await?;
    let access = repo::open(&caller.perms, r.clone(), PermLevel::Admin).map_err(core)?;
    if grant {
        let perm = a.str("perm")?;
        if PermLevel::from_repo_perm_name(&perm).is_none() || !perm.starts_with("repository.") {
            return Err(format!("permission `{perm}` does not exist"));
        }
        repo::set_grant(&state.svc, &access, &u.username, &perm)
            .await
            .map_err(core)?;
        Ok(json!({
            "msg": format!("Granted perm: `{perm}` for user: `{}` in repo: `{}`", u.username, r.name),
            "success": true,
        }))
    } else {
        repo::revoke_grant(&state.svc, &access, &u.username)
            .await
            .map_err(core)?;
        Ok(json!({
            "msg": format!("Revoked perm for user: `{}` in repo: `{}`", u.username, r.name),
            "success": true,
        }))
    }
}

fn user_group_data(g: &user_group::UserGroupRow, members: Option<Vec<Value>>) -> Value {
    let mut d = json!({
        "users_group_id": g.id.0,
        "group_name": g.name,
        "group_description": g.description,
        "active": g.active,
        "owner": g.owner_name,
    });
    if let Some(m) = members {
        d.as_object_mut()
            .expect("object")
            .insert("members".into(), Value::Array(m));
    }
    d
}

async fn get_user_groups(state: &AppState, caller: &Caller) -> Outcome {
    let groups = user_group::list_visible(&state.svc, &caller.perms)
        .await
        .map_err(core)?;
    Ok(Value::Array(
        groups.iter().map(|g| user_group_data(g, None)).collect(),
    ))
}

async fn create_user_group(state: &AppState, caller: &Caller, a: &Args) -> Outcome {
    let name = a.str("group_name")?;
    let owner = owner_arg(state, caller, a).await?;
    let g = user_group::create(
        &state.svc,
        &caller.perms,
        &user_group::UserGroupForm {
            users_group_name: name.clone(),
            user_group_description: a.opt_str("description")?.unwrap_or_default(),
            users_group_active: a.bool_or("active", true)?,
        },
    )
    .await
    .map_err(|e| match e.kind {
        ErrorKind::NameTaken => format!("user group `{name}` already exist"),
        _ => core(e),
    })?;
    let g = match owner {
        Some(o) if o.id != g.owner_id => {
            give(state, caller, user::Owned::UserGroup(g.id), Some(o.clone())).await?;
            user_group::UserGroupRow {
                owner_id: o.id,
                owner_name: o.username,
                ..g
            }
        }
        _ => g,
    };
    Ok(json!({
        "msg": format!("created new user group `{}`", g.name),
        "user_group": user_group_data(&g, Some(Vec::new())),
    }))
}

async fn user_group_member(state: &AppState, caller: &Caller, a: &Args, add: bool) -> Outcome {
    let g = readable_user_group(state, caller, a).await?;
    let u = user_or_error(state, &a.id_or_name("userid")?).await?;
    let (_, members) = user_group::get(&state.svc, &caller.perms, &g.id.0.to_string())
        .await
        .map_err(core)?;
    let was = members.iter().any(|(id, _)| *id == u.id);
    user_group::set_member(&state.svc, &caller.perms, &g, &u.username, add)
        .await
        .map_err(core)?;
    Ok(if add {
        json!({
            "success": !was,
            "msg": if was {
                "User is already in that group".to_owned()
            } else {
                format!("added member `{}` to user group `{}`", u.username, g.name)
            },
        })
    } else {
        json!({
            "success": was,
            "msg": if was {
                format!("removed member `{}` from user group `{}`", u.username, g.name)
            } else {
                "User wasn't in group".to_owned()
            },
        })
    })
}

fn repo_group_data(g: &group::GroupRow, all: &[group::GroupRow], repos: &[RepoRow]) -> Value {
    json!({
        "group_id": g.id.0,
        "group_name": g.name,
        "group_description": g.description,
        "parent_group": g.parent_id.and_then(|p| all.iter().find(|x| x.id == p)).map(|p| p.name.clone()),
        "repositories": repos.iter().filter(|r| r.group_id == Some(g.id)).map(|r| r.name.clone()).collect::<Vec<_>>(),
        "owner": g.owner_name,
    })
}

async fn get_repo_groups(state: &AppState, caller: &Caller) -> Outcome {
    caller.require_admin()?;
    let groups: Vec<_> = group::list_visible(&state.svc, &caller.perms)
        .await
        .map_err(core)?
        .into_iter()
        .map(|(g, _)| g)
        .collect();
    let repos: Vec<_> = repo::list_visible(&state.svc, &caller.perms)
        .await
        .map_err(core)?
        .into_iter()
        .map(|(r, _)| r)
        .collect();
    Ok(Value::Array(
        groups
            .iter()
            .map(|g| repo_group_data(g, &groups, &repos))
            .collect(),
    ))
}

async fn create_repo_group(state: &AppState, caller: &Caller, a: &Args) -> Outcome {
    caller.require_admin()?;
    let name = a.str("group_name")?;
    let owner = owner_arg(state, caller, a).await?;
    let parent = match a.opt_id_or_name("parent")? {
        Some(p) => match group::resolve(&state.svc, &p).await {
            Ok(Some(g)) => g.id.0.to_string(),
            _ => return Err(format!("repository group `{p}` does not exist")),
        },
        None => "-1".into(),
    };
    let g = group::create(
        &state.svc,
        &caller.perms,
        &group::GroupForm {
            group_name: name.clone(),
            group_description: a.opt_str("description")?.unwrap_or_default(),
            parent_group_id: parent,
            copy_permissions: a.bool_or("copy_permissions", false)?,
        },
    )
    .await
    .map_err(|e| match e.kind {
        ErrorKind::NameTaken => format!("repo group `{name}` already exist"),
        _ => core(e),
    })?;
    let g = match owner {
        Some(o) if o.id != g.owner_id => {
            give(state, caller, user::Owned::Group(g.id), Some(o.clone())).await?;
            group::GroupRow {
                owner_id: o.id,
                owner_name: o.username,
                ..g
            }
        }
        _ => g,
    };
    let groups: Vec<_> = group::list_visible(&state.svc, &caller.perms)
        .await
        .map_err(core)?
        .into_iter()
        .map(|(g, _)| g)
        .collect();
    Ok(json!({
        "msg": format!("created new repo group `{}`", g.name),
        "repo_group": repo_group_data(&g, &groups, &[]),
    }))
}

fn changeset_data(c: &kallithea_core::browse::Changeset, files: Option<Value>) -> Value {
    let mut d = json!({
        "short_id": c.id.to_string().chars().take(12).collect::<String>(),
        "raw_id": c.id.to_string(),
        "revision": Value::Null,
        "message": c.message,
        "date": iso(c.author_time),
        "author": format!("{} <{}>", c.author.name, c.author.email),
    });
    if let Some(Value::Object(f)) = files {
        d.as_object_mut().expect("object").extend(f);
    }
    d
}

async fn get_changesets(state: &AppState, caller: &Caller, a: &Args) -> Outcome {
    let r = readable_repo(state, caller, &a.id_or_name("repoid")?).await?;
    let date = |k: &str| -> Result<Option<i64>, String> {
        match a.opt_str(k)? {
            None => Ok(None),
            Some(v) => chrono::NaiveDateTime::parse_from_str(v.trim(), "%Y-%m-%dT%H:%M:%S")
                .map(|d| Some(d.and_utc().timestamp()))
                .map_err(|_| format!("`{k}` must be a date and time such as 2024-01-31T12:00:00")),
        }
    };
    let (start_date, end_date) = (date("start_date")?, date("end_date")?);
    let start = a.opt_str("start")?.map(|v| v.trim().to_lowercase());
    if let Some(st) = &start
        && (st.len() < 4 || !st.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        return Err("`start` must be a changeset id (at least 4 hexadecimal digits)".into());
    }
    let access = repo::open(&caller.perms, r, PermLevel::Read).map_err(core)?;
    let max = a.opt_count("max_revisions")?.unwrap_or(100).clamp(1, 2000) as usize;
    let branch = a.opt_str("branch_name")?;
    // From `end` (or the branch, or the default branch) back through at most 2000 changesets.
    let from = a.opt_str("end")?.or(branch);
    let window = if start.is_some() || start_date.is_some() || end_date.is_some() {
        kallithea_core::browse::MAX_PAGE_SIZE
    } else {
        max
    };
    let log =
        kallithea_core::browse::changelog(&state.svc, &access, from.as_deref(), None, 1, window)
            .await
            .map_err(|e| match e.kind {
                ErrorKind::NotFound => "Repository is empty".to_owned(),
                _ => core(e),
            })?;
    if log.changesets.is_empty() {
        return Err("Repository is empty".into());
    }
    let mut picked = Vec::new();
    let mut reached_start = start.is_none();
    for c in &log.changesets {
        let in_dates = start_date.is_none_or(|d| c.author_time >= d)
            && end_date.is_none_or(|d| c.author_time <= d);
        if in_dates {
            picked.push(c);
        }
        if let Some(st) = &start
            && c.id.to_string().starts_with(st.as_str())
        {
            reached_start = true;
            break;
        }
    }
    if !reached_start {
        return Err(
            "`start` is not among the 2000 changesets before `end` on that line of history".into(),
        );
    }
    picked.truncate(max);
    let mut out: Vec<Value> = Vec::new();
    let with_files = a.bool_or("with_file_list", false)?;
    for c in picked {
        let files = if with_files {
            Some(file_lists(state, &access, &c.id.to_string()).await?)
        } else {
            None
        };
        out.push(changeset_data(c, files));
    }
    // Newest first is how history is read; `reverse` gives oldest first, as Kallithea does.
    if !a.bool_or("reverse", false)? {
        out.reverse();
    }
    Ok(Value::Array(out))
}

async fn file_lists(state: &AppState, access: &repo::RepoAccess, rev: &str) -> Outcome {
    let view = kallithea_core::browse::changeset(
        &state.svc,
        access,
        rev,
        kallithea_core::browse::DiffOptions::default(),
        usize::MAX,
        false,
    )
    .await
    .map_err(core)?;
    let (mut added, mut changed, mut removed) = (Vec::new(), Vec::new(), Vec::new());
    for f in view.changes {
        use kallithea_core::browse::ChangeKind;
        match f.kind {
            ChangeKind::Added => added.push(f.path),
            ChangeKind::Deleted => removed.push(f.path),
            _ => changed.push(f.path),
        }
    }
    Ok(json!({"added": added, "changed": changed, "removed": removed}))
}

async fn get_changeset(state: &AppState, caller: &Caller, a: &Args) -> Outcome {
    let r = readable_repo(state, caller, &a.id_or_name("repoid")?).await?;
    let raw = a.str("raw_id")?;
    // Reviews do not exist yet, so there are none to list.
    let with_reviews = a.bool_or("with_reviews", false)?;
    let access = repo::open(&caller.perms, r, PermLevel::Read).map_err(core)?;
    let view = kallithea_core::browse::changeset(
        &state.svc,
        &access,
        &raw,
        kallithea_core::browse::DiffOptions::default(),
        usize::MAX,
        false,
    )
    .await
    .map_err(|e| match e.kind {
        ErrorKind::NotFound => format!("Changeset {raw} does not exist"),
        _ => core(e),
    })?;
    let files = file_lists(state, &access, &view.changeset.id.to_string()).await?;
    let mut d = changeset_data(&view.changeset, Some(files));
    let o = d.as_object_mut().expect("object");
    o.insert(
        "parents".into(),
        json!(
            view.changeset
                .parents
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
        ),
    );
    if with_reviews {
        o.insert("reviews".into(), json!([]));
    }
    Ok(d)
}

/// A user group the caller may read, by id or name (`usergroupid`); others are missing.
async fn readable_user_group(
    state: &AppState,
    caller: &Caller,
    a: &Args,
) -> Result<user_group::UserGroupRow, String> {
    let key = a.id_or_name("usergroupid")?;
    user_group::list_visible(&state.svc, &caller.perms)
        .await
        .map_err(core)?
        .into_iter()
        .find(|g| g.id.0.to_string() == key || g.name.eq_ignore_ascii_case(&key))
        .ok_or_else(|| format!("user group `{key}` does not exist"))
}

async fn rescan_repos(state: &AppState, caller: &Caller, a: &Args) -> Outcome {
    caller.require_admin()?;
    let actor = user::actor_of(&caller.user);
    let removed = if a.bool_or("remove_obsolete", false)? {
        repo::remove_missing(&state.svc, &actor)
            .await
            .map_err(core)?
    } else {
        Vec::new()
    };
    let report = repo::scan(&state.svc, &actor).await.map_err(core)?;
    // The answer does not wait for the commit-graphs: they are written one at a time.
    let without_graph = report.without_graph.clone();
    if !without_graph.is_empty() {
        tokio::task::spawn_blocking(move || repo::write_commit_graphs(&without_graph));
    }
    Ok(json!({
        "added": report.added.iter().map(|n| n.to_string()).collect::<Vec<_>>(),
        "removed": removed,
    }))
}

async fn invalidate_cache(state: &AppState, caller: &Caller, a: &Args) -> Outcome {
    let key = a.id_or_name("repoid")?;
    let r = readable_repo(state, caller, &key).await?;
    if !caller.is_admin() && !caller.perms.repo(&r).can_write() {
        return Err(format!("repository `{key}` does not exist"));
    }
    // Cached pages are keyed by immutable changeset ids and ref lists by a fingerprint of
    // the refs on disk, so nothing can be stale; the call succeeds as Kallithea's does.
    Ok(json!({
        "msg": format!("Cache for repository `{}` was invalidated", r.name),
        "repository": r.name,
    }))
}

async fn get_user_group(state: &AppState, caller: &Caller, a: &Args) -> Outcome {
    let g = readable_user_group(state, caller, a).await?;
    let mut members = Vec::new();
    let mut perms = Vec::new();
    if caller.perms.user_group(&g).is_admin() {
        let (_, m) = user_group::get(&state.svc, &caller.perms, &g.id.0.to_string())
            .await
            .map_err(core)?;
        for (id, _) in m {
            if let Some(u) = user::find_by_id_or_name(&state.svc, &id.0.to_string())
                .await
                .map_err(core)?
            {
                members.push(user_data(state, caller, &u, false).await?);
            }
        }
        for x in user_group::grants(&state.svc, &caller.perms, &g)
            .await
            .map_err(core)?
        {
            perms.push(json!({
                "name": x.name,
                "type": if x.user_id.is_some() { "user" } else { "user_group" },
                "permission": x.level.user_group_perm_name(),
            }));
        }
    }
    let mut d = user_group_data(&g, Some(members));
    d.as_object_mut()
        .expect("object")
        .insert("permissions".into(), Value::Array(perms));
    Ok(d)
}

async fn update_user_group(state: &AppState, caller: &Caller, a: &Args) -> Outcome {
    let g = readable_user_group(state, caller, a).await?;
    let owner = owner_arg(state, caller, a).await?;
    let form = user_group::UserGroupForm {
        users_group_name: a.opt_str("group_name")?.unwrap_or(g.name.clone()),
        user_group_description: a.opt_str("description")?.unwrap_or(g.description.clone()),
        users_group_active: a.opt_bool("active")?.unwrap_or(g.active),
    };
    user_group::update(&state.svc, &caller.perms, &g, &form)
        .await
        .map_err(core)?;
    give(
        state,
        caller,
        user::Owned::UserGroup(g.id),
        owner.filter(|o| o.id != g.owner_id),
    )
    .await?;
    // Found again by id: the name may have changed.
    let g = user_group::list_visible(&state.svc, &caller.perms)
        .await
        .map_err(core)?
        .into_iter()
        .find(|x| x.id == g.id)
        .ok_or_else(|| format!("user group `{}` does not exist", form.users_group_name))?;
    Ok(json!({
        "msg": format!("updated user group ID:{} {}", g.id.0, g.name),
        "user_group": user_group_data(&g, None),
    }))
}

async fn delete_user_group(state: &AppState, caller: &Caller, a: &Args) -> Outcome {
    let g = readable_user_group(state, caller, a).await?;
    user_group::delete_unassigned(&state.svc, &caller.perms, &g)
        .await
        .map_err(core)?;
    Ok(json!({
        "msg": format!("deleted user group ID:{} {}", g.id.0, g.name),
        "user_group": Value::Null,
    }))
}

async fn update_repo(state: &AppState, caller: &Caller, a: &Args) -> Outcome {
    let key = a.id_or_name("repoid")?;
    let r = readable_repo(state, caller, &key).await?;
    let access = repo::open(&caller.perms, r.clone(), PermLevel::Admin).map_err(core)?;
    let owner = owner_arg(state, caller, a)
        .await?
        .filter(|o| o.id != r.owner_id);
    if let Some(c) = a.opt_str("clone_uri")?
        && Some(c.as_str()) != r.clone_uri.as_deref()
    {
        repo::set_clone_uri(&state.svc, &access, &c)
            .await
            .map_err(core)?;
    }
    let _ = a.opt_bool("enable_statistics")?;
    let group = match a.opt_id_or_name("group")? {
        Some(g) if g.is_empty() => Some("-1".to_owned()),
        Some(g) => match group::resolve(&state.svc, &g).await {
            Ok(Some(found)) => Some(found.id.0.to_string()),
            _ => return Err(format!("repository group `{g}` does not exist")),
        },
        None => None,
    };
    let form = repo::SettingsForm {
        repo_name: a.opt_str("name")?,
        repo_description: a.opt_str("description")?.unwrap_or(r.description.clone()),
        repo_private: a.opt_bool("private")?.unwrap_or(r.private),
        repo_landing_rev: a.opt_str("landing_rev")?.unwrap_or(r.landing_rev.clone()),
        repo_enable_downloads: a
            .opt_bool("enable_downloads")?
            .unwrap_or(r.enable_downloads),
        repo_group: group,
    };
    let (svc, actor, task_access, task_form) = (
        state.svc.clone(),
        user::actor_of(&caller.user),
        access.clone(),
        form.clone(),
    );
    let name = crate::to_the_end(async move {
        let perms = kallithea_core::permission::Permissions::load(&svc, &actor).await?;
        repo::update(&svc, &perms, &task_access, &task_form).await
    })
    .await
    .map_err(|e| match e.kind {
        ErrorKind::NameTaken => format!(
            "repo `{}` already exist",
            form.repo_name.clone().unwrap_or_default()
        ),
        _ => core(e),
    })?;
    give(state, caller, user::Owned::Repo(r.id), owner).await?;
    let updated = repo::find(&state.svc, RepoRef::Name(name.as_str()))
        .await
        .map_err(core)?
        .ok_or_else(|| format!("repository `{name}` does not exist"))?;
    Ok(json!({
        "msg": format!("updated repo ID:{} {}", updated.id.0, updated.name),
        "repository": repo_data(&updated),
    }))
}

async fn user_group_repo_grant(
    state: &AppState,
    caller: &Caller,
    a: &Args,
    grant: bool,
) -> Outcome {
    let r = readable_repo(state, caller, &a.id_or_name("repoid")?).await?;
    let g = readable_user_group(state, caller, a).await?;
    let access = repo::open(&caller.perms, r.clone(), PermLevel::Admin).map_err(core)?;
    let perm = if grant {
        let p = a.str("perm")?;
        if PermLevel::from_repo_perm_name(&p).is_none() || !p.starts_with("repository.") {
            return Err(format!("permission `{p}` does not exist"));
        }
        Some(p)
    } else {
        None
    };
    repo::set_user_group_grant(&state.svc, &caller.perms, &access, &g.name, perm.as_deref())
        .await
        .map_err(core)?;
    Ok(json!({
        "msg": match &perm {
            Some(p) => format!("Granted perm: `{p}` for user group: `{}` in repo: `{}`", g.name, r.name),
            None => format!("Revoked perm for user group: `{}` in repo: `{}`", g.name, r.name),
        },
        "success": true,
    }))
}

/// A repository group the caller may read, by id or path (`repogroupid`).
async fn readable_group(
    state: &AppState,
    caller: &Caller,
    a: &Args,
) -> Result<group::GroupRow, String> {
    let key = a.id_or_name("repogroupid")?;
    let missing = || format!("repository group `{key}` does not exist");
    let g = group::resolve(&state.svc, &key)
        .await
        .map_err(|_| missing())?;
    g.filter(|g| caller.perms.group(g).can_read())
        .ok_or_else(missing)
}

async fn group_listing(
    state: &AppState,
    caller: &Caller,
) -> Result<(Vec<group::GroupRow>, Vec<RepoRow>), String> {
    let groups = group::list_visible(&state.svc, &caller.perms)
        .await
        .map_err(core)?
        .into_iter()
        .map(|(g, _)| g)
        .collect();
    let repos = repo::list_visible(&state.svc, &caller.perms)
        .await
        .map_err(core)?
        .into_iter()
        .map(|(r, _)| r)
        .collect();
    Ok((groups, repos))
}

async fn get_repo_group(state: &AppState, caller: &Caller, a: &Args) -> Outcome {
    caller.require_admin()?;
    let g = readable_group(state, caller, a).await?;
    let (groups, repos) = group_listing(state, caller).await?;
    let mut d = repo_group_data(&g, &groups, &repos);
    let members: Vec<Value> = group::grants(&state.svc, &caller.perms, &g)
        .await
        .map_err(core)?
        .into_iter()
        .map(|x| {
            json!({
                "name": x.name,
                "type": if x.user_id.is_some() { "user" } else { "user_group" },
                "permission": x.level.group_perm_name(),
            })
        })
        .collect();
    d.as_object_mut()
        .expect("object")
        .insert("members".into(), Value::Array(members));
    Ok(d)
}

async fn update_repo_group(state: &AppState, caller: &Caller, a: &Args) -> Outcome {
    caller.require_admin()?;
    let g = readable_group(state, caller, a).await?;
    let owner = owner_arg(state, caller, a)
        .await?
        .filter(|o| o.id != g.owner_id);
    let parent = match a.opt_id_or_name("parent")? {
        Some(p) if p.is_empty() || p == "-1" => "-1".to_owned(),
        Some(p) => match group::resolve(&state.svc, &p).await {
            Ok(Some(x)) => x.id.0.to_string(),
            _ => return Err(format!("repository group `{p}` does not exist")),
        },
        None => g.parent_id.map_or("-1".to_owned(), |p| p.0.to_string()),
    };
    let form = group::GroupForm {
        group_name: a.opt_str("group_name")?.unwrap_or_default(),
        group_description: a.opt_str("description")?.unwrap_or(g.description.clone()),
        parent_group_id: parent,
        copy_permissions: false,
    };
    let (svc, actor, task_g, task_form) = (
        state.svc.clone(),
        user::actor_of(&caller.user),
        g.clone(),
        form.clone(),
    );
    let updated = crate::to_the_end(async move {
        let perms = kallithea_core::permission::Permissions::load(&svc, &actor).await?;
        group::update(&svc, &perms, &task_g, &task_form).await
    })
    .await
    .map_err(core)?;
    give(state, caller, user::Owned::Group(g.id), owner.clone()).await?;
    let updated = match owner {
        Some(o) => group::GroupRow {
            owner_id: o.id,
            owner_name: o.username,
            ..updated
        },
        None => updated,
    };
    let (groups, repos) = group_listing(state, caller).await?;
    Ok(json!({
        "msg": format!("updated repository group ID:{} {}", updated.id.0, updated.name),
        "repo_group": repo_group_data(&updated, &groups, &repos),
    }))
}

async fn delete_repo_group(state: &AppState, caller: &Caller, a: &Args) -> Outcome {
    caller.require_admin()?;
    let g = readable_group(state, caller, a).await?;
    group::delete(&state.svc, &caller.perms, &g)
        .await
        .map_err(core)?;
    Ok(json!({
        "msg": format!("deleted repo group ID:{} {}", g.id.0, g.name),
        "repo_group": Value::Null,
    }))
}

async fn group_grant(
    state: &AppState,
    caller: &Caller,
    a: &Args,
    to_user_group: bool,
    grant: bool,
) -> Outcome {
    let g = readable_group(state, caller, a).await?;
    if !caller.perms.group(&g).is_admin() {
        return Err(format!(
            "repository group `{}` does not exist",
            a.id_or_name("repogroupid")?
        ));
    }
    let apply = group::ApplyTo::parse(&a.opt_str("apply_to_children")?.unwrap_or_default())
        .map_err(core)?;
    let (who, label) = if to_user_group {
        let ug = readable_user_group(state, caller, a).await?;
        (
            group::Grantee::UserGroup(ug.name.clone()),
            format!("user group: `{}`", ug.name),
        )
    } else {
        let u = user_or_error(state, &a.id_or_name("userid")?).await?;
        (
            group::Grantee::User(u.username.clone()),
            format!("user: `{}`", u.username),
        )
    };
    let perm = if grant {
        let p = a.str("perm")?;
        if PermLevel::from_group_perm_name(&p).is_none() || !p.starts_with("group.") {
            return Err(format!("permission `{p}` does not exist"));
        }
        Some(p)
    } else {
        None
    };
    group::set_grant(&state.svc, &caller.perms, &g, &who, perm.as_deref(), apply)
        .await
        .map_err(core)?;
    Ok(json!({
        "msg": match &perm {
            Some(p) => format!("Granted perm: `{p}` for {label} in repo group: `{}`", g.name),
            None => format!("Revoked perm for {label} in repo group: `{}`", g.name),
        },
        "success": true,
    }))
}

/// At most this many nodes in one `get_repo_nodes` answer.
const MAX_NODES: usize = 20_000;

async fn get_repo_nodes(state: &AppState, caller: &Caller, a: &Args) -> Outcome {
    let key = a.id_or_name("repoid")?;
    let r = readable_repo(state, caller, &key).await?;
    let rev = a.str("revision")?;
    let root = a.str("root_path")?.trim_matches('/').to_owned();
    let ret_type = a.opt_str("ret_type")?.unwrap_or_else(|| "all".into());
    if !matches!(ret_type.as_str(), "all" | "files" | "dirs") {
        return Err("ret_type must be one of all,dirs,files".into());
    }
    let access = repo::open(&caller.perms, r.clone(), PermLevel::Read).map_err(core)?;
    let (mut dirs, mut files) = (Vec::new(), Vec::new());
    let mut pending = vec![root.clone()];
    while let Some(dir) = pending.pop() {
        let view = kallithea_core::browse::node(&state.svc, &access, &rev, &dir, 0)
            .await
            .map_err(|e| match e.kind {
                ErrorKind::NotFound => format!("failed to get repo: `{}` nodes", r.name),
                _ => core(e),
            })?;
        let kallithea_core::browse::Node::Dir(entries) = view.node else {
            return Err(format!("failed to get repo: `{}` nodes", r.name));
        };
        for e in entries {
            let path = if dir.is_empty() {
                e.name.clone()
            } else {
                format!("{dir}/{}", e.name)
            };
            match e.kind {
                kallithea_core::browse::EntryKind::Dir => {
                    dirs.push(json!({"name": path, "type": "dir"}));
                    pending.push(path);
                }
                _ => files.push(json!({"name": path, "type": "file"})),
            }
            if dirs.len() + files.len() > MAX_NODES {
                return Err(format!(
                    "`{root}` holds more than {MAX_NODES} files and folders: ask for a deeper root_path"
                ));
            }
        }
    }
    let by_name = |v: &Value| v["name"].as_str().unwrap_or("").to_owned();
    dirs.sort_by_key(by_name);
    files.sort_by_key(by_name);
    Ok(Value::Array(match ret_type.as_str() {
        "files" => files,
        "dirs" => dirs,
        _ => dirs.into_iter().chain(files).collect(),
    }))
}

async fn pull(state: &AppState, caller: &Caller, a: &Args) -> Outcome {
    caller.require_admin()?;
    let key = a.id_or_name("repoid")?;
    let r = readable_repo(state, caller, &key).await?;
    let access = repo::open(&caller.perms, r.clone(), PermLevel::Admin).map_err(core)?;
    let from = repo::pull(&state.svc, &access, a.opt_str("clone_uri")?.as_deref())
        .await
        .map_err(core)?;
    Ok(json!({
        "msg": format!("Pulled from `{}`", r.name),
        "repository": r.name,
        "clone_uri": from,
    }))
}
