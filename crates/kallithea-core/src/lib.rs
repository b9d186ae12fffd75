//! The domain: users and sign-in, sessions, repositories, permissions, push hooks and the
//! journal. Nothing here knows HTTP, HTML or JSON.
//!
//! Every use case is a function taking the [`Services`] context first and the acting user
//! (`actor`) second. Transactions start here; `kallithea-db` only runs queries.

pub mod account;
pub mod auth;
pub mod browse;
pub mod cache;
pub mod defaults;
pub mod error;
pub mod git_service;
pub mod group;
pub mod hooks;
pub mod mail;
pub mod password;
pub mod permission;
pub mod repo;
pub mod session;
pub mod setup;
pub mod signup;
pub mod site;
pub mod ssh_key;
pub mod throttle;
pub mod token;
pub mod user;
pub mod user_group;

use std::path::PathBuf;

pub use error::{Error, ErrorKind, Result};
pub use kallithea_db::Db;
pub use kallithea_vcs::{HookInstall, RepoStore};
pub use permission::Actor;

/// Settings the domain needs from the configuration file.
#[derive(Clone, Debug)]
pub struct CoreConfig {
    /// Session lifetime in seconds (Kallithea's `session.timeout`, default 30 days).
    pub session_lifetime: i64,
    /// Failed sign-ins allowed per account and per address within the window.
    pub login_attempts: u32,
    /// The throttling window in seconds.
    pub login_window: u64,
    /// Where made archives are kept by changeset id (`archive_cache_dir`); `None`: not kept.
    pub archive_cache_dir: Option<PathBuf>,
    /// How to send email (password reset links).
    pub mail: mail::MailConfig,
}

impl Default for CoreConfig {
    fn default() -> Self {
        Self {
            session_lifetime: 30 * 24 * 3600,
            login_attempts: 10,
            login_window: 300,
            archive_cache_dir: None,
            mail: mail::MailConfig::default(),
        }
    }
}

/// The application context every use case receives.
#[derive(Debug)]
pub struct Services {
    pub db: Db,
    pub store: RepoStore,
    pub hooks: HookInstall,
    pub config: CoreConfig,
    pub throttle: throttle::LoginThrottle,
    /// Limits concurrent password hashing (CPU and 19 MiB of memory each).
    pub hashing: tokio::sync::Semaphore,
    /// Diffs being made at once (each can take seconds and hundreds of megabytes; a visitor
    /// asking for many variants of a big one waits instead of filling the memory).
    pub diffs: tokio::sync::Semaphore,
    /// reStructuredText documents rendered at once (each is a docutils process of up to
    /// seconds: many at once would fill the blocking threads).
    pub documents: tokio::sync::Semaphore,
    /// Results derived from immutable changesets, and ref lists by refs fingerprint.
    pub cache: cache::Cache,
    /// The authentication plugins in use and their settings (`auth::reload` fills it).
    pub auth: std::sync::RwLock<std::sync::Arc<auth::AuthConfig>>,
    /// Site settings (`site::reload` fills it).
    pub site: std::sync::RwLock<std::sync::Arc<site::SiteSettings>>,
}

impl Services {
    pub fn new(db: Db, repos_root: PathBuf, hooks: HookInstall, config: CoreConfig) -> Self {
        let throttle = throttle::LoginThrottle::new(config.login_attempts, config.login_window);
        Self {
            db,
            store: RepoStore::new(repos_root),
            hooks,
            config,
            throttle,
            hashing: tokio::sync::Semaphore::new(4),
            diffs: tokio::sync::Semaphore::new(4),
            documents: tokio::sync::Semaphore::new(2),
            cache: cache::Cache::new(4096, 256 * 1024 * 1024),
            auth: std::sync::RwLock::default(),
            site: std::sync::RwLock::default(),
        }
    }
}

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
