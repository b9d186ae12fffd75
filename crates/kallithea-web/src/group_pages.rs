//! Repository groups (`/_admin/repo_groups...`, and a group's page at `/{group}`) and user
//! groups (`/_admin/user_groups...`), at Kallithea's paths and with its field names.

use axum::extract::{Path, Query, Request, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use kallithea_core::group::{self, ApplyTo, Grantee, GroupForm, GroupRow};
use kallithea_core::permission::Permissions;
use kallithea_core::user_group::{self, UserGroupForm, UserGroupRow};
use kallithea_core::{Error, ErrorKind};
use kallithea_model::PermLevel;
use serde::Deserialize;

use crate::form::Form;
use crate::pages::{checked, layout, require_user, web_err};
use crate::view::{
    self, GrantRow, GroupEditPage, GroupItem, GroupNewPage, GroupPage, GroupsPage, ParentChoice,
    RepoItem, UserGroupEditPage, UserGroupItem, UserGroupsPage, render,
};
use crate::visitor::Visitor;
use crate::{AppState, WebError};

async fn perms_of(state: &AppState, v: &Visitor) -> Result<Permissions, WebError> {
    Permissions::load(&state.svc, &v.actor)
        .await
        .map_err(web_err(state))
}

fn item(g: &GroupRow) -> GroupItem {
    GroupItem {
        name: g.name.clone(),
        description: g.description.clone(),
        owner: g.owner_name.clone(),
    }
}

/// GET /_admin/repo_groups
pub async fn index(State(state): State<AppState>, v: Visitor) -> Result<Response, WebError> {
    let perms = perms_of(&state, &v).await?;
    let groups = group::list_visible(&state.svc, &perms)
        .await
        .map_err(web_err(&state))?;
    let can_create = v.actor.is_admin() || groups.iter().any(|(_, l)| *l == PermLevel::Admin);
    let page = GroupsPage {
        layout: layout(&state, &v),
        groups: groups.iter().map(|(g, _)| item(g)).collect(),
        can_create,
    };
    Ok(render(&page).into_response())
}

/// Where the actor may put a new group or repository: the top level (when `top`) and the
/// groups where they hold at least `need`.
async fn parent_choices(
    state: &AppState,
    perms: &Permissions,
    top: bool,
    need: PermLevel,
) -> Result<Vec<ParentChoice>, WebError> {
    let mut out = Vec::new();
    if top {
        out.push(ParentChoice {
            id: -1,
            name: "(top level)".into(),
        });
    }
    for (g, l) in group::list_visible(&state.svc, perms)
        .await
        .map_err(web_err(state))?
    {
        if l >= need {
            out.push(ParentChoice {
                id: g.id.0,
                name: g.name,
            });
        }
    }
    Ok(out)
}

#[derive(Deserialize, Default)]
pub struct ParentQuery {
    #[serde(default)]
    parent_group: Option<String>,
}

fn parse_parent(raw: &Option<String>) -> i64 {
    raw.as_deref()
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or(-1)
}

/// GET /_admin/repo_groups/new
pub async fn new_form(
    State(state): State<AppState>,
    v: Visitor,
    Query(q): Query<ParentQuery>,
) -> Result<Response, WebError> {
    require_user(&state, &v, "/_admin/repo_groups/new")?;
    let perms = perms_of(&state, &v).await?;
    let parents = parent_choices(&state, &perms, v.actor.is_admin(), PermLevel::Admin).await?;
    if parents.is_empty() {
        return Err(web_err(&state)(Error::forbidden(
            "You do not have permission to create repository groups.",
        )));
    }
    let page = GroupNewPage {
        layout: layout(&state, &v),
        parents,
        group_name: String::new(),
        group_description: String::new(),
        parent_group_id: parse_parent(&q.parent_group),
        error: None,
    };
    Ok(render(&page).into_response())
}

#[derive(Deserialize, Default)]
pub struct GroupFields {
    #[serde(default)]
    group_name: String,
    #[serde(default)]
    group_description: String,
    #[serde(default)]
    parent_group_id: String,
    #[serde(default)]
    group_copy_permissions: Option<String>,
}

/// POST /_admin/repo_groups
pub async fn create(
    State(state): State<AppState>,
    v: Visitor,
    Form(f): Form<GroupFields>,
) -> Result<Response, WebError> {
    require_user(&state, &v, "/_admin/repo_groups/new")?;
    let perms = perms_of(&state, &v).await?;
    let form = GroupForm {
        group_name: f.group_name.clone(),
        group_description: f.group_description.clone(),
        parent_group_id: f.parent_group_id.clone(),
        copy_permissions: checked(&f.group_copy_permissions),
    };
    match group::create(&state.svc, &perms, &form).await {
        Ok(g) => Ok(Redirect::to(&format!("{}/{}", state.web.prefix, g.name)).into_response()),
        Err(e) if matches!(e.kind, ErrorKind::InvalidInput | ErrorKind::NameTaken) => {
            let parents =
                parent_choices(&state, &perms, v.actor.is_admin(), PermLevel::Admin).await?;
            let page = GroupNewPage {
                layout: layout(&state, &v),
                parents,
                group_name: f.group_name,
                group_description: f.group_description,
                parent_group_id: parse_parent(&Some(f.parent_group_id)),
                error: Some(e.message.clone()),
            };
            Ok((crate::error::status_of(e.kind), render(&page)).into_response())
        }
        Err(e) => Err(web_err(&state)(e)),
    }
}

/// A group's page (`/{group}` and `/_admin/repo_groups/{group}`).
pub async fn show(state: &AppState, v: &Visitor, g: GroupRow) -> Result<Response, WebError> {
    let perms = perms_of(state, v).await?;
    let back = format!("{}/{}", state.web.prefix, g.name);
    let p = group::page(&state.svc, &perms, g)
        .await
        .map_err(|e| web_err(state)(e).came_from(&back))?;
    let page = GroupPage {
        layout: layout(state, v),
        id: p.group.id.0,
        name: p.group.name.clone(),
        description: p.group.description.clone(),
        parents: p
            .parents
            .iter()
            .map(|x| {
                (
                    x.name.clone(),
                    x.name.rsplit('/').next().unwrap_or(&x.name).to_owned(),
                )
            })
            .collect(),
        groups: p.groups.iter().map(item).collect(),
        repos: p
            .repos
            .into_iter()
            .map(|(r, _)| RepoItem {
                last_change: view::age(r.last_change),
                name: r.name,
                description: r.description,
                private: r.private,
                owner: r.owner_name,
            })
            .collect(),
        is_admin: p.level.is_admin(),
        can_write: p.level.can_write(),
    };
    Ok(render(&page).into_response())
}

async fn edit_page(
    state: &AppState,
    v: &Visitor,
    g: &GroupRow,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Response, WebError> {
    let perms = perms_of(state, v).await?;
    let grants = group::grants(&state.svc, &perms, g)
        .await
        .map_err(web_err(state))?;
    let mut parents = parent_choices(state, &perms, true, PermLevel::Admin).await?;
    // A group cannot go inside itself.
    let own = format!("{}/", g.name.to_lowercase());
    parents.retain(|p| p.id != g.id.0 && !p.name.to_lowercase().starts_with(&own));
    if !v.actor.is_admin() && g.parent_id.is_none() {
        // Staying at the top level needs no right; the choice must be offered.
        parents.retain(|p| p.id != -1);
        parents.insert(
            0,
            ParentChoice {
                id: -1,
                name: "(top level)".into(),
            },
        );
    } else if !v.actor.is_admin() {
        parents.retain(|p| p.id != -1);
    }
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let page = GroupEditPage {
        layout: layout(state, v),
        name: g.name.clone(),
        base_name: g.name.rsplit('/').next().unwrap_or(&g.name).to_owned(),
        description: g.description.clone(),
        parent_group_id: g.parent_id.map_or(-1, |p| p.0),
        parents,
        grants: grants
            .into_iter()
            .map(|x| GrantRow {
                kind: if x.user_id.is_some() {
                    "user"
                } else {
                    "user_group"
                },
                name: x.name,
                level: x.level.group_perm_name().to_owned(),
            })
            .collect(),
        error,
        notice,
    };
    Ok((status, render(&page)).into_response())
}

fn decode(seg: &str) -> String {
    percent_encoding::percent_decode_str(seg)
        .decode_utf8_lossy()
        .into_owned()
}

fn field(form: &[(String, String)], name: &str) -> String {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

/// Everything under `/_admin/repo_groups/{group...}`: the group page, `/edit`, and the POSTs
/// to save, delete, grant and revoke.
pub async fn dispatch(
    State(state): State<AppState>,
    Path(rest): Path<String>,
    v: Visitor,
    req: Request,
) -> Result<Response, WebError> {
    let segs: Vec<String> = rest
        .split('/')
        .filter(|s| !s.is_empty())
        .map(decode)
        .collect();
    let method = req.method().clone();
    let (name_parts, action): (&[String], &str) = match segs.as_slice() {
        [head @ .., a, b, c] if a == "edit" && b == "permissions" && c == "delete" => {
            (head, "revoke")
        }
        [head @ .., a, b] if a == "edit" && b == "permissions" => (head, "grant"),
        [head @ .., a] if a == "edit" => (head, "edit"),
        [head @ .., a] if a == "delete" && method == Method::POST => (head, "delete"),
        all => (all, "show"),
    };
    let name = name_parts.join("/");
    let not_found = || {
        web_err(&state)(Error::not_found(format!(
            "There is no repository group \"{name}\"."
        )))
    };
    let g = group::find(&state.svc, &name)
        .await
        .map_err(web_err(&state))?
        .ok_or_else(not_found)?;
    let path = format!("/_admin/repo_groups/{}/edit", g.name);
    let bytes = axum::body::to_bytes(req.into_body(), 1024 * 1024)
        .await
        .unwrap_or_default();
    let form = crate::csrf::serde_urlencoded_pairs(&bytes);
    match (method, action) {
        (Method::GET | Method::HEAD, "show") => show(&state, &v, g).await,
        (Method::GET | Method::HEAD, "edit") => {
            require_user(&state, &v, &path)?;
            edit_page(&state, &v, &g, None, None).await
        }
        (Method::POST, "show") => {
            require_user(&state, &v, &path)?;
            let perms = perms_of(&state, &v).await?;
            let f = GroupForm {
                group_name: field(&form, "group_name"),
                group_description: field(&form, "group_description"),
                parent_group_id: field(&form, "parent_group_id"),
                copy_permissions: false,
            };
            let (svc, task_g, task_f) = (state.svc.clone(), g.clone(), f.clone());
            let updated =
                crate::to_the_end(
                    async move { group::update(&svc, &perms, &task_g, &task_f).await },
                )
                .await;
            match updated {
                Ok(new) => Ok(Redirect::to(&format!(
                    "{}/_admin/repo_groups/{}/edit",
                    state.web.prefix, new.name
                ))
                .into_response()),
                Err(e) if matches!(e.kind, ErrorKind::InvalidInput | ErrorKind::NameTaken) => {
                    edit_page(&state, &v, &g, Some(e.message), None).await
                }
                Err(e) => Err(web_err(&state)(e)),
            }
        }
        (Method::POST, "delete") => {
            require_user(&state, &v, &path)?;
            let perms = perms_of(&state, &v).await?;
            match group::delete(&state.svc, &perms, &g).await {
                Ok(()) => Ok(
                    Redirect::to(&format!("{}/_admin/repo_groups", state.web.prefix))
                        .into_response(),
                ),
                Err(e) if e.kind == ErrorKind::InvalidInput => {
                    edit_page(&state, &v, &g, Some(e.message), None).await
                }
                Err(e) => Err(web_err(&state)(e)),
            }
        }
        (Method::POST, "grant" | "revoke") => {
            require_user(&state, &v, &path)?;
            let perms = perms_of(&state, &v).await?;
            let who_name = field(&form, "name");
            let who = match field(&form, "obj_type").as_str() {
                "user_group" => Grantee::UserGroup(who_name),
                _ => Grantee::User(who_name),
            };
            let result = match ApplyTo::parse(&field(&form, "recursive")) {
                Ok(apply) => {
                    let level = (action == "grant").then(|| field(&form, "permission"));
                    group::set_grant(&state.svc, &perms, &g, &who, level.as_deref(), apply).await
                }
                Err(e) => Err(e),
            };
            match result {
                Ok(()) => edit_page(&state, &v, &g, None, Some("Permissions saved.".into())).await,
                Err(e) if e.kind == ErrorKind::InvalidInput => {
                    edit_page(&state, &v, &g, Some(e.message), None).await
                }
                Err(e) => Err(web_err(&state)(e)),
            }
        }
        _ => Err(not_found()),
    }
}

fn ug_item(g: &UserGroupRow) -> UserGroupItem {
    UserGroupItem {
        id: g.id.0,
        name: g.name.clone(),
        description: g.description.clone(),
        active: g.active,
        owner: g.owner_name.clone(),
    }
}

async fn user_groups_page(
    state: &AppState,
    v: &Visitor,
    error: Option<(ErrorKind, String)>,
    name_input: String,
) -> Result<Response, WebError> {
    let perms = perms_of(state, v).await?;
    let groups = user_group::list_visible(&state.svc, &perms)
        .await
        .map_err(web_err(state))?;
    let status = error
        .as_ref()
        .map_or(StatusCode::OK, |(k, _)| crate::error::status_of(*k));
    let page = UserGroupsPage {
        layout: layout(state, v),
        groups: groups.iter().map(ug_item).collect(),
        can_create: perms.can_create_user_group(),
        error: error.map(|(_, m)| m),
        name_input,
    };
    Ok((status, render(&page)).into_response())
}

/// GET /_admin/user_groups
pub async fn user_groups(State(state): State<AppState>, v: Visitor) -> Result<Response, WebError> {
    require_user(&state, &v, "/_admin/user_groups")?;
    user_groups_page(&state, &v, None, String::new()).await
}

#[derive(Deserialize, Default)]
pub struct UserGroupFields {
    #[serde(default)]
    users_group_name: String,
    #[serde(default)]
    user_group_description: String,
    #[serde(default)]
    users_group_active: Option<String>,
}

impl UserGroupFields {
    fn form(&self) -> UserGroupForm {
        UserGroupForm {
            users_group_name: self.users_group_name.clone(),
            user_group_description: self.user_group_description.clone(),
            users_group_active: checked(&self.users_group_active),
        }
    }
}

/// POST /_admin/user_groups
pub async fn create_user_group(
    State(state): State<AppState>,
    v: Visitor,
    Form(f): Form<UserGroupFields>,
) -> Result<Response, WebError> {
    require_user(&state, &v, "/_admin/user_groups")?;
    let perms = perms_of(&state, &v).await?;
    match user_group::create(&state.svc, &perms, &f.form()).await {
        Ok(g) => Ok(Redirect::to(&format!(
            "{}/_admin/user_groups/{}/edit",
            state.web.prefix, g.id
        ))
        .into_response()),
        Err(e) if matches!(e.kind, ErrorKind::InvalidInput | ErrorKind::NameTaken) => {
            user_groups_page(&state, &v, Some((e.kind, e.message)), f.users_group_name).await
        }
        Err(e) => Err(web_err(&state)(e)),
    }
}

async fn user_group_edit(
    state: &AppState,
    v: &Visitor,
    id: &str,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Response, WebError> {
    let perms = perms_of(state, v).await?;
    let (g, members) = user_group::get(&state.svc, &perms, id)
        .await
        .map_err(web_err(state))?;
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let grants = user_group::grants(&state.svc, &perms, &g)
        .await
        .map_err(web_err(state))?;
    let page = UserGroupEditPage {
        layout: layout(state, v),
        group: ug_item(&g),
        members: members.into_iter().map(|(_, n)| n).collect(),
        grants: grants
            .into_iter()
            .map(|x| GrantRow {
                kind: if x.user_id.is_some() {
                    "user"
                } else {
                    "user_group"
                },
                name: x.name,
                level: x.level.user_group_perm_name().to_owned(),
            })
            .collect(),
        error,
        notice,
    };
    Ok((status, render(&page)).into_response())
}

/// The user group of a URL, for a signed-in visitor who may manage it.
async fn managed_user_group(
    state: &AppState,
    v: &Visitor,
    id: &str,
) -> Result<(Permissions, UserGroupRow), WebError> {
    require_user(state, v, &format!("/_admin/user_groups/{id}/edit"))?;
    let perms = perms_of(state, v).await?;
    let (g, _) = user_group::get(&state.svc, &perms, id)
        .await
        .map_err(web_err(state))?;
    Ok((perms, g))
}

/// GET /_admin/user_groups/{id}/edit
pub async fn edit_user_group(
    State(state): State<AppState>,
    Path(id): Path<String>,
    v: Visitor,
) -> Result<Response, WebError> {
    require_user(&state, &v, &format!("/_admin/user_groups/{id}/edit"))?;
    user_group_edit(&state, &v, &id, None, None).await
}

/// POST /_admin/user_groups/{id}
pub async fn update_user_group(
    State(state): State<AppState>,
    Path(id): Path<String>,
    v: Visitor,
    Form(f): Form<UserGroupFields>,
) -> Result<Response, WebError> {
    let (perms, g) = managed_user_group(&state, &v, &id).await?;
    match user_group::update(&state.svc, &perms, &g, &f.form()).await {
        Ok(()) => user_group_edit(&state, &v, &id, None, Some("User group saved.".into())).await,
        Err(e) if matches!(e.kind, ErrorKind::InvalidInput | ErrorKind::NameTaken) => {
            user_group_edit(&state, &v, &id, Some(e.message), None).await
        }
        Err(e) => Err(web_err(&state)(e)),
    }
}

/// POST /_admin/user_groups/{id}/delete
pub async fn delete_user_group(
    State(state): State<AppState>,
    Path(id): Path<String>,
    v: Visitor,
) -> Result<Response, WebError> {
    let (perms, g) = managed_user_group(&state, &v, &id).await?;
    user_group::delete(&state.svc, &perms, &g)
        .await
        .map_err(web_err(&state))?;
    Ok(Redirect::to(&format!("{}/_admin/user_groups", state.web.prefix)).into_response())
}

#[derive(Deserialize, Default)]
pub struct MemberFields {
    #[serde(default)]
    username: String,
    #[serde(default)]
    action: String,
}

/// POST /_admin/user_groups/{id}/edit/members — `action` is `add` or `remove`.
pub async fn members(
    State(state): State<AppState>,
    Path(id): Path<String>,
    v: Visitor,
    Form(f): Form<MemberFields>,
) -> Result<Response, WebError> {
    let (perms, g) = managed_user_group(&state, &v, &id).await?;
    let add = match f.action.as_str() {
        "add" => true,
        "remove" => false,
        other => {
            return user_group_edit(
                &state,
                &v,
                &id,
                Some(format!("\"{other}\" is not an action: use add or remove.")),
                None,
            )
            .await;
        }
    };
    match user_group::set_member(&state.svc, &perms, &g, &f.username, add).await {
        Ok(()) => user_group_edit(&state, &v, &id, None, Some("Members saved.".into())).await,
        Err(e) if e.kind == ErrorKind::InvalidInput => {
            user_group_edit(&state, &v, &id, Some(e.message), None).await
        }
        Err(e) => Err(web_err(&state)(e)),
    }
}

#[derive(Deserialize, Default)]
pub struct UserGroupGrantFields {
    #[serde(default)]
    obj_type: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    permission: String,
}

async fn user_group_grant(
    state: &AppState,
    v: &Visitor,
    id: &str,
    f: &UserGroupGrantFields,
    revoke: bool,
) -> Result<Response, WebError> {
    let (perms, g) = managed_user_group(state, v, id).await?;
    let who = match f.obj_type.as_str() {
        "user_group" => Grantee::UserGroup(f.name.clone()),
        _ => Grantee::User(f.name.clone()),
    };
    let level = (!revoke).then_some(f.permission.as_str());
    match user_group::set_grant(&state.svc, &perms, &g, &who, level).await {
        Ok(()) => user_group_edit(state, v, id, None, Some("Permissions saved.".into())).await,
        Err(e) if e.kind == ErrorKind::InvalidInput => {
            user_group_edit(state, v, id, Some(e.message), None).await
        }
        Err(e) => Err(web_err(state)(e)),
    }
}

/// POST /_admin/user_groups/{id}/edit/perms — `obj_type` (user or user_group), `name`,
/// `permission` (`usergroup.*`).
pub async fn user_group_perms(
    State(state): State<AppState>,
    Path(id): Path<String>,
    v: Visitor,
    Form(f): Form<UserGroupGrantFields>,
) -> Result<Response, WebError> {
    user_group_grant(&state, &v, &id, &f, false).await
}

/// POST /_admin/user_groups/{id}/edit/perms/delete
pub async fn user_group_perms_delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    v: Visitor,
    Form(f): Form<UserGroupGrantFields>,
) -> Result<Response, WebError> {
    user_group_grant(&state, &v, &id, &f, true).await
}
