//! One's own account (`/_admin/my_account`): profile, extra email addresses and API keys with
//! a description and an expiry; and IP allow-lists, which site admins set per user and for
//! everyone (on the `default` user) and which every way in (pages, Git, the API) checks.

use std::net::IpAddr;

use kallithea_db::account::ApiKey;
use kallithea_db::user::User;
use kallithea_model::UserId;

use crate::token::new_api_key;
use crate::{Actor, Error, ErrorKind, Result, Services, now};

fn check_text(field: &str, v: &str) -> Result<String> {
    let v = v.trim();
    if v.chars().count() > 255 {
        return Err(Error::invalid(format!(
            "The {field} is too long (at most 255 characters)."
        )));
    }
    if v.chars().any(char::is_control) {
        return Err(Error::invalid(format!(
            "The {field} may not contain control characters."
        )));
    }
    Ok(v.to_owned())
}

fn check_email(v: &str) -> Result<String> {
    let v = check_text("email", v)?;
    let valid = v
        .split_once('@')
        .is_some_and(|(a, d)| !a.is_empty() && d.contains('.') && !d.starts_with('.'))
        && !v.contains(char::is_whitespace);
    if !valid {
        return Err(Error::invalid(format!("\"{v}\" is not an email address.")));
    }
    Ok(v)
}

/// Saves one's first name, last name and email address.
pub async fn update_profile(
    svc: &Services,
    me: &User,
    firstname: &str,
    lastname: &str,
    email: &str,
) -> Result<()> {
    let firstname = check_text("first name", firstname)?;
    let lastname = check_text("last name", lastname)?;
    let email = if email.trim().is_empty() {
        String::new()
    } else {
        check_email(email)?
    };
    let mut tx = svc.db.write().await?;
    if !email.eq_ignore_ascii_case(&me.email)
        && !email.is_empty()
        && kallithea_db::account::email_in_use(&mut tx, &email).await?
    {
        return Err(Error::new(
            ErrorKind::NameTaken,
            format!("The email address {email} is already in use."),
        ));
    }
    kallithea_db::user::update(
        &mut tx,
        me.id,
        &kallithea_db::user::UserUpdate {
            email: &email,
            firstname: &firstname,
            lastname: &lastname,
            active: me.active,
            admin: me.admin,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn emails(svc: &Services, me: UserId) -> Result<Vec<(i64, String)>> {
    let mut tx = svc.db.read().await?;
    let e = kallithea_db::account::emails(&mut tx, me).await?;
    tx.commit().await?;
    Ok(e)
}

/// Adds an extra address; every address belongs to one account only.
pub async fn add_email(svc: &Services, me: UserId, email: &str) -> Result<()> {
    let email = check_email(email)?;
    let mut tx = svc.db.write().await?;
    if kallithea_db::account::email_in_use(&mut tx, &email).await? {
        return Err(Error::new(
            ErrorKind::NameTaken,
            format!("The email address {email} is already in use."),
        ));
    }
    kallithea_db::account::add_email(&mut tx, me, &email).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn delete_email(svc: &Services, me: UserId, id: &str) -> Result<()> {
    let id: i64 = id
        .trim()
        .parse()
        .map_err(|_| Error::invalid("Choose an address to remove."))?;
    let mut tx = svc.db.write().await?;
    if !kallithea_db::account::delete_email(&mut tx, me, id).await? {
        return Err(Error::invalid("That address is not one of yours."));
    }
    tx.commit().await?;
    Ok(())
}

pub async fn api_keys(svc: &Services, me: UserId) -> Result<Vec<ApiKey>> {
    let mut tx = svc.db.read().await?;
    let k = kallithea_db::account::api_keys(&mut tx, me).await?;
    tx.commit().await?;
    Ok(k)
}

/// Kallithea's lifetimes in minutes: -1 (forever), 5, 60, 1440 (a day), 43200 (a month).
pub const LIFETIMES: &[(i64, &str)] = &[
    (-1, "forever"),
    (5, "5 minutes"),
    (60, "1 hour"),
    (60 * 24, "1 day"),
    (60 * 24 * 30, "1 month"),
];

/// Makes an extra API key; returns it.
pub async fn add_api_key(
    svc: &Services,
    me: UserId,
    description: &str,
    lifetime_minutes: &str,
) -> Result<String> {
    let description = check_text("description", description)?;
    let lifetime: i64 = lifetime_minutes.trim().parse().unwrap_or(i64::MIN);
    if !LIFETIMES.iter().any(|(m, _)| *m == lifetime) {
        return Err(Error::invalid(format!(
            "\"{}\" is not a lifetime: use -1 (forever), 5, 60, 1440 or 43200 minutes.",
            lifetime_minutes.trim()
        )));
    }
    let key = new_api_key();
    let t = now();
    let mut tx = svc.db.write().await?;
    kallithea_db::account::add_api_key(
        &mut tx,
        &ApiKey {
            api_key: key.clone(),
            user_id: me,
            description,
            expires: if lifetime == -1 {
                -1
            } else {
                t + lifetime * 60
            },
            created_on: t,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(key)
}

pub async fn delete_api_key(svc: &Services, me: UserId, key: &str) -> Result<()> {
    let mut tx = svc.db.write().await?;
    if !kallithea_db::account::delete_api_key(&mut tx, me, key.trim()).await? {
        return Err(Error::invalid("That API key is not one of yours."));
    }
    tx.commit().await?;
    Ok(())
}

/// `10.0.0.0/8`, `192.168.1.7`, `::1` → a network (an address alone is that address).
pub fn parse_range(s: &str) -> Result<ipnet::IpNet> {
    let t = s.trim();
    t.parse::<ipnet::IpNet>()
        .map(|n| n.trunc())
        .or_else(|_| t.parse::<IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| {
            Error::invalid(format!(
                "\"{t}\" is not an address or range: use forms such as 192.168.1.7, 10.0.0.0/8 or ::1."
            ))
        })
}

/// Whether a user may come from `addr`: the allow-lists of the user and of the `default` user
/// together; when both are empty, from anywhere.
pub async fn ip_allowed(svc: &Services, user: UserId, addr: IpAddr) -> Result<bool> {
    let mut tx = svc.db.read().await?;
    let default = crate::user::default_user(&mut tx).await?;
    let mut ranges = kallithea_db::account::ips(&mut tx, default.id).await?;
    if user != default.id {
        ranges.extend(kallithea_db::account::ips(&mut tx, user).await?);
    }
    tx.commit().await?;
    if ranges.is_empty() {
        return Ok(true);
    }
    let addr = addr.to_canonical();
    Ok(ranges
        .iter()
        .filter_map(|(_, r)| parse_range(r).ok())
        .any(|n| n.contains(&addr)))
}

/// Whose allow-list an admin edits: a user, or everyone (`None`: the `default` user's).
async fn list_owner(tx: &mut crate::user::Tx, user: Option<UserId>) -> Result<UserId> {
    match user {
        Some(u) => Ok(u),
        None => Ok(crate::user::default_user(tx).await?.id),
    }
}

pub async fn ips(
    svc: &Services,
    actor: &Actor,
    user: Option<UserId>,
) -> Result<Vec<(i64, String)>> {
    if !actor.is_admin() {
        return Err(crate::repo::denied(actor));
    }
    let mut tx = svc.db.read().await?;
    let owner = list_owner(&mut tx, user).await?;
    let out = kallithea_db::account::ips(&mut tx, owner).await?;
    tx.commit().await?;
    Ok(out)
}

pub async fn add_ip(
    svc: &Services,
    actor: &Actor,
    user: Option<UserId>,
    range: &str,
) -> Result<()> {
    if !actor.is_admin() {
        return Err(crate::repo::denied(actor));
    }
    let net = parse_range(range)?;
    let mut tx = svc.db.write().await?;
    let owner = list_owner(&mut tx, user).await?;
    let text = net.to_string();
    if kallithea_db::account::ips(&mut tx, owner)
        .await?
        .iter()
        .any(|(_, r)| *r == text)
    {
        return Err(Error::new(
            ErrorKind::NameTaken,
            format!("{text} is already on the list."),
        ));
    }
    kallithea_db::account::add_ip(&mut tx, owner, &text).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn delete_ip(
    svc: &Services,
    actor: &Actor,
    user: Option<UserId>,
    id: &str,
) -> Result<()> {
    if !actor.is_admin() {
        return Err(crate::repo::denied(actor));
    }
    let id: i64 = id
        .trim()
        .parse()
        .map_err(|_| Error::invalid("Choose an entry to remove."))?;
    let mut tx = svc.db.write().await?;
    let owner = list_owner(&mut tx, user).await?;
    if !kallithea_db::account::delete_ip(&mut tx, owner, id).await? {
        return Err(Error::invalid("There is no such entry on this list."));
    }
    tx.commit().await?;
    Ok(())
}

/// A user's own allow-list, for showing it to them.
pub async fn own_ips(svc: &Services, me: UserId) -> Result<Vec<(i64, String)>> {
    let mut tx = svc.db.read().await?;
    let out = kallithea_db::account::ips(&mut tx, me).await?;
    tx.commit().await?;
    Ok(out)
}
