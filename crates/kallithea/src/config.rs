//! Reading Kallithea's `my.ini`: `[server:main]` host and port, `[app:main]` settings with
//! `%(here)s` interpolation, and `[filter:proxy-prefix] prefix`. Unknown keys are warned
//! about; a bad value stops start-up naming the key, the value and what was expected.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// The parsed configuration.
#[derive(Clone, Debug)]
pub struct Config {
    pub path: PathBuf,
    pub host: String,
    pub port: u16,
    /// A sqlx URL derived from `sqlalchemy.url`.
    pub database_url: String,
    pub debug: bool,
    pub session_lifetime: i64,
    pub secure_cookies: bool,
    pub prefix: String,
    pub login_attempts: u32,
    pub cut_off_limit: usize,
    pub issue_server_link: Option<String>,
    pub archive_cache_dir: Option<PathBuf>,
    /// Reverse proxies whose forwarded and identity headers are believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Header name (lower case) and value a trusted proxy must also send.
    pub proxy_secret: Option<(String, String)>,
    /// Lower-case header names from `remote_addr_variable` and `url_scheme_variable`.
    pub remote_addr_header: Option<String>,
    pub scheme_header: Option<String>,
    pub force_https: bool,
    pub use_htsts: bool,
    /// Also write the log here (`log_file`).
    pub log_file: Option<PathBuf>,
    /// Serve HTTPS with this certificate chain and key (`tls_certificate`, `tls_key`).
    pub tls: Option<(PathBuf, PathBuf)>,
    /// `smtp_*`, `app_email_from`, `email_prefix`.
    pub mail: kallithea_core::mail::MailConfig,
    /// The site's public address (`canonical_url`), without a trailing slash.
    pub canonical_url: Option<String>,
}

/// Keys of `[app:main]` Kallithea users have in their files that we read or knowingly ignore.
const KNOWN_APP_KEYS: &[&str] = &[
    "sqlalchemy.url",
    "debug",
    "session.timeout",
    "session.secure",
    "session.key",
    "session.httponly",
    "session.secret",
    "session.type",
    "session.data_dir",
    "session.lock_dir",
    "login_attempts",
    "use",
    "filter-with",
    "cache_dir",
    "index_dir",
    "archive_cache_dir",
    "app_instance_uuid",
    "static_files",
    "lang",
    "i18n.enabled",
    "i18n.lang",
    "full_stack",
    "instance_id",
    "cut_off_limit",
    "commit_parse_limit",
    "git_hook_interpreter",
    "git_path",
    "show_sha_length",
    "show_revision_number",
    "canonical_url",
    "default_encoding",
    "hgencoding",
    "rss_cut_off_limit",
    "rss_items_per_page",
    "rss_include_diff",
    "sqlalchemy.pool_recycle",
    "ssh_enabled",
    "email_to",
    "error_email_from",
    "app_email_from",
    "smtp_server",
    "smtp_port",
    "smtp_username",
    "smtp_password",
    "smtp_use_tls",
    "smtp_use_ssl",
    "email_prefix",
    "errorpage.enabled",
    "url_scheme_variable",
    "remote_addr_variable",
    "force_https",
    "use_htsts",
    "auth_ret_code",
    "beaker.cache.data_dir",
    "beaker.cache.lock_dir",
    "beaker.cache.regions",
    "beaker.cache.long_term.type",
    "beaker.cache.long_term.expire",
    "beaker.cache.long_term.key_length",
    "beaker.cache.long_term_file.type",
    "beaker.cache.long_term_file.expire",
    "beaker.cache.long_term_file.key_length",
    "bugtracker",
    "issue_pat",
    "issue_server_link",
    "issue_sub",
    "allow_repo_location_change",
    "allow_custom_hooks_settings",
    "gist_alias_url",
    "use_celery",
    "ssh_authorized_keys",
    "kallithea_cli_path",
    "ssh_locale",
    "trace_errors.smtp_server",
    "trusted_proxies",
    "proxy_secret",
    "proxy_secret_header",
    "log_file",
    "tls_certificate",
    "tls_key",
];

fn bad(key: &str, value: &str, expected: &str) -> anyhow::Error {
    anyhow::anyhow!("invalid value {value:?} for `{key}`: expected {expected}")
}

fn parse_bool(key: &str, v: &str) -> Result<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Ok(true),
        "false" | "no" | "off" | "0" | "" => Ok(false),
        _ => Err(bad(key, v, "true or false")),
    }
}

impl Config {
    pub fn load(path: &Path) -> Result<Self> {
        let path = std::fs::canonicalize(path)
            .with_context(|| format!("cannot read the configuration file {}", path.display()))?;
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let here = path
            .parent()
            .unwrap_or(Path::new("/"))
            .to_string_lossy()
            .into_owned();
        let ini = ini::Ini::load_from_str(&text)
            .with_context(|| format!("{} is not a valid INI file", path.display()))?;
        let get = |section: &str, key: &str| -> Option<String> {
            ini.section(Some(section))
                .and_then(|s| s.get(key))
                .map(|v| v.replace("%(here)s", &here))
        };
        if let Some(app) = ini.section(Some("app:main")) {
            for (k, _) in app.iter() {
                if !KNOWN_APP_KEYS.contains(&k) && !k.starts_with("handler_") {
                    tracing::warn!(
                        "unknown key `{k}` in [app:main] of {} is ignored",
                        path.display()
                    );
                }
            }
        }
        let host = get("server:main", "host").unwrap_or_else(|| "127.0.0.1".into());
        let port = match get("server:main", "port") {
            Some(p) => p
                .trim()
                .parse()
                .map_err(|_| bad("[server:main] port", &p, "a port number from 0 to 65535"))?,
            None => 5000,
        };
        let url = get("app:main", "sqlalchemy.url")
            .unwrap_or_else(|| format!("sqlite:///{here}/kallithea.db"));
        let database_url = sqlalchemy_to_sqlx(&url).map_err(|e| bad("sqlalchemy.url", &url, &e))?;
        let debug = parse_bool("debug", &get("app:main", "debug").unwrap_or_default())?;
        let session_lifetime = match get("app:main", "session.timeout") {
            Some(v) => v
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| bad("session.timeout", &v, "a number of seconds"))?,
            None => 30 * 24 * 3600,
        };
        let secure_cookies = parse_bool(
            "session.secure",
            &get("app:main", "session.secure").unwrap_or_default(),
        )?;
        let login_attempts = match get("app:main", "login_attempts") {
            Some(v) => v
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| bad("login_attempts", &v, "a positive number"))?,
            None => 10,
        };
        let prefix = match get("app:main", "filter-with").as_deref().map(str::trim) {
            Some("proxy-prefix") => {
                let p = get("filter:proxy-prefix", "prefix").unwrap_or_default();
                let p = p.trim().trim_end_matches('/').to_owned();
                if !p.is_empty() && (!p.starts_with('/') || p.contains(['?', '#', ' ', '\\'])) {
                    bail!(bad(
                        "[filter:proxy-prefix] prefix",
                        &p,
                        "a path starting with / such as /kallithea"
                    ));
                }
                p
            }
            _ => String::new(),
        };
        let cut_off_limit = match get("app:main", "cut_off_limit") {
            Some(v) => v
                .trim()
                .parse::<usize>()
                .map_err(|_| bad("cut_off_limit", &v, "a number of bytes"))?,
            None => 256_000,
        };
        // Process-wide, like Kallithea's: how repository text that is not UTF-8 is read.
        if let Some(v) = get("app:main", "default_encoding") {
            kallithea_vcs::text::set_encodings(&v).map_err(|e| anyhow::anyhow!(e))?;
        }
        let issue_server_link = get("app:main", "issue_server_link")
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty());
        if let Some(link) = &issue_server_link
            && !(link.starts_with("http://") || link.starts_with("https://"))
        {
            bail!(bad(
                "issue_server_link",
                link,
                "an http:// or https:// URL with {id} where the issue number goes"
            ));
        }
        // Paths relative to the folder of my.ini.
        let path_key = |key: &str| {
            get("app:main", key)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .map(|v| {
                    let p = PathBuf::from(&v);
                    if p.is_absolute() {
                        p
                    } else {
                        Path::new(&here).join(p)
                    }
                })
        };
        let archive_cache_dir = path_key("archive_cache_dir");
        let trusted_proxies = match get("app:main", "trusted_proxies") {
            Some(v) => parse_nets(&v).map_err(|e| bad("trusted_proxies", &v, &e))?,
            None => parse_nets("127.0.0.0/8, ::1").expect("valid default"),
        };
        let proxy_secret = match get("app:main", "proxy_secret").map(|v| v.trim().to_owned()) {
            Some(v) if !v.is_empty() => {
                // Braces would be read as variables by IIS URL Rewrite (install-iis).
                if v.len() < 16 || v.chars().any(|c| c.is_control() || " {}".contains(c)) {
                    bail!(bad(
                        "proxy_secret",
                        "(hidden)",
                        "at least 16 characters without spaces or braces, the same value the proxy sends"
                    ));
                }
                let h = get("app:main", "proxy_secret_header")
                    .map(|h| h.trim().to_owned())
                    .filter(|h| !h.is_empty())
                    .unwrap_or_else(|| "X-Kallithea-Proxy-Secret".to_owned());
                Some((header_setting("proxy_secret_header", &h)?, v))
            }
            _ => None,
        };
        let remote_addr_header = match get("app:main", "remote_addr_variable") {
            Some(v) if !v.trim().is_empty() && v.trim() != "REMOTE_ADDR" => {
                Some(header_setting("remote_addr_variable", &v)?)
            }
            _ => None,
        };
        let scheme_header = match get("app:main", "url_scheme_variable") {
            Some(v) if !v.trim().is_empty() => Some(header_setting("url_scheme_variable", &v)?),
            _ => None,
        };
        let force_https = parse_bool(
            "force_https",
            &get("app:main", "force_https").unwrap_or_default(),
        )?;
        let use_htsts = parse_bool(
            "use_htsts",
            &get("app:main", "use_htsts").unwrap_or_default(),
        )?;
        let log_file = path_key("log_file");
        let tls = match (path_key("tls_certificate"), path_key("tls_key")) {
            (Some(c), Some(k)) => Some((c, k)),
            (None, None) => None,
            (Some(_), None) => {
                bail!("tls_certificate is set but tls_key is not: give both (PEM files) or neither")
            }
            (None, Some(_)) => {
                bail!("tls_key is set but tls_certificate is not: give both (PEM files) or neither")
            }
        };
        let text = |key: &str| {
            get("app:main", key)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let smtp_port = match text("smtp_port") {
            Some(p) => Some(
                p.parse::<u16>()
                    .map_err(|_| bad("smtp_port", &p, "a port number such as 25 or 587"))?,
            ),
            None => None,
        };
        let mail = kallithea_core::mail::MailConfig {
            server: text("smtp_server"),
            port: smtp_port,
            username: text("smtp_username"),
            password: text("smtp_password"),
            use_tls: parse_bool("smtp_use_tls", &text("smtp_use_tls").unwrap_or_default())?,
            use_ssl: parse_bool("smtp_use_ssl", &text("smtp_use_ssl").unwrap_or_default())?,
            from: text("app_email_from").unwrap_or_default(),
            prefix: text("email_prefix").unwrap_or_default(),
        };
        let canonical_url = match text("canonical_url") {
            Some(u) if u.starts_with("http://") || u.starts_with("https://") => {
                Some(u.trim_end_matches('/').to_owned())
            }
            Some(u) => bail!(bad(
                "canonical_url",
                &u,
                "the site's public address, such as https://git.example.com/kallithea"
            )),
            None => None,
        };
        Ok(Self {
            canonical_url,
            mail,
            log_file,
            tls,
            trusted_proxies,
            proxy_secret,
            remote_addr_header,
            scheme_header,
            force_https,
            use_htsts,
            archive_cache_dir,
            path,
            host,
            port,
            database_url,
            debug,
            session_lifetime,
            secure_cookies,
            prefix,
            login_attempts,
            cut_off_limit,
            issue_server_link,
        })
    }
}

/// `127.0.0.1, 10.0.0.0/8 ::1` → networks (an address alone is that one address).
fn parse_nets(v: &str) -> std::result::Result<Vec<ipnet::IpNet>, String> {
    v.split([',', ' ', '\t'])
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<ipnet::IpNet>()
                .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| {
                    format!("addresses or ranges such as 127.0.0.1, 10.0.0.0/8 or ::1 (\"{s}\" is neither)")
                })
        })
        .collect()
}

/// A WSGI variable (`HTTP_X_FORWARDED_PROTO`) or header name → the lower-case header name.
fn header_setting(key: &str, v: &str) -> Result<String> {
    let t = v.trim();
    if t.is_empty()
        || t.len() > 100
        || !t
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        bail!(bad(
            key,
            v,
            "a header as a WSGI name such as HTTP_X_FORWARDED_PROTO, or a header name"
        ));
    }
    Ok(kallithea_core::auth::header_name(t))
}

/// Turns SQLAlchemy's URL forms into sqlx's: `sqlite:///rel.db`, `sqlite:////abs.db`,
/// `postgresql+psycopg2://...`, `mysql+pymysql://...?charset=utf8mb4`.
pub fn sqlalchemy_to_sqlx(url: &str) -> std::result::Result<String, String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or("a URL such as sqlite:///path/kallithea.db")?;
    let base = scheme.split('+').next().unwrap_or(scheme);
    match base {
        "sqlite" => {
            let path = rest
                .strip_prefix('/')
                .ok_or("sqlite:///path/to/kallithea.db")?;
            let path = path.split('?').next().unwrap_or(path);
            if path.is_empty() {
                return Err("a file path after sqlite:///".into());
            }
            let abs = if Path::new(path).is_absolute() {
                PathBuf::from(path)
            } else {
                std::env::current_dir()
                    .map_err(|e| e.to_string())?
                    .join(path)
            };
            Ok(format!("sqlite://{}?mode=rwc", abs.display()))
        }
        "postgres" | "postgresql" => Ok(format!(
            "postgres://{}",
            rest.split('?').next().unwrap_or(rest)
        )),
        "mysql" | "mariadb" => Ok(format!(
            "mysql://{}",
            rest.split('?').next().unwrap_or(rest)
        )),
        _ => Err("a sqlite://, postgresql:// or mysql:// URL".into()),
    }
}

/// The text `config-create` writes. `overrides` are `key=value` pairs for `[app:main]`
/// (`host` and `port` go to `[server:main]`).
pub fn template(overrides: &[(String, String)]) -> String {
    let pick = |k: &str, d: &str| {
        overrides
            .iter()
            .rev()
            .find(|(key, _)| key == k)
            .map_or_else(|| d.to_owned(), |(_, v)| v.clone())
    };
    let mut s = format!(
        "# Kallithea configuration, in the layout of Kallithea's my.ini.\n\
         # %(here)s is the folder of this file.\n\n\
         [server:main]\n\
         # Address and port to listen on. `kallithea serve --port` and the environment variable\n\
         # HTTP_PLATFORM_PORT (IIS) take precedence over `port`.\n\
         host = {}\n\
         port = {}\n\n\
         [app:main]\n\
         # The database: sqlite:///%(here)s/kallithea.db, postgresql://user:pass@host/db or\n\
         # mysql://user:pass@host/db\n\
         sqlalchemy.url = {}\n\
         # Show error details to clients on this machine.\n\
         debug = {}\n\
         # Session lifetime in seconds.\n\
         session.timeout = {}\n\
         # Send the session cookie only over HTTPS.\n\
         session.secure = {}\n\
         # Archives made for download are kept here by changeset id (remove the line to not keep them).\n\
         archive_cache_dir = %(here)s/data/tarballcache\n\
         # Failed sign-ins allowed per account and per address within five minutes.\n\
         login_attempts = {}\n\
         # To serve under a sub-folder, uncomment both lines below and set the prefix.\n\
         #filter-with = proxy-prefix\n\n\
         [filter:proxy-prefix]\n\
         prefix = {}\n",
        pick("host", "127.0.0.1"),
        pick("port", "5000"),
        pick(
            "sqlalchemy.url",
            "sqlite:///%(here)s/kallithea.db?timeout=60"
        ),
        pick("debug", "false"),
        pick("session.timeout", "2592000"),
        pick("session.secure", "false"),
        pick("login_attempts", "10"),
        pick("prefix", "/kallithea"),
    );
    for (k, v) in overrides {
        if !matches!(
            k.as_str(),
            "host"
                | "port"
                | "sqlalchemy.url"
                | "debug"
                | "session.timeout"
                | "session.secure"
                | "login_attempts"
                | "prefix"
        ) {
            s = s.replacen(
                "[filter:proxy-prefix]",
                &format!("{k} = {v}\n\n[filter:proxy-prefix]"),
                1,
            );
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlalchemy_urls() {
        assert_eq!(
            sqlalchemy_to_sqlx("sqlite:////srv/k.db?timeout=60").unwrap(),
            "sqlite:///srv/k.db?mode=rwc"
        );
        assert_eq!(
            sqlalchemy_to_sqlx("postgresql+psycopg2://u:p@h/db").unwrap(),
            "postgres://u:p@h/db"
        );
        assert_eq!(
            sqlalchemy_to_sqlx("mysql://root@127.0.0.1/k?charset=utf8mb4").unwrap(),
            "mysql://root@127.0.0.1/k"
        );
        assert!(sqlalchemy_to_sqlx("oracle://x").is_err());
        assert!(sqlalchemy_to_sqlx("nonsense").is_err());
    }
}
