//! Schema migrations: a numbered list, applied in order, recorded in `kallithea_schema`.
//! Idempotent: applying twice changes nothing.

use crate::{Backend, Db, Result};

/// Each migration is a list of DDL statements with the tokens of [`Backend::ddl`]. Long text
/// columns are written `{text}`.
const MIGRATIONS: &[&[&str]] = &[
    // 1: users, sessions, repositories, grants, journal, settings.
    &[
        "CREATE TABLE users (
            user_id {pk},
            username VARCHAR(255) NOT NULL,
            username_lower VARCHAR(255) NOT NULL,
            password VARCHAR(255) NOT NULL,
            email VARCHAR(255) NOT NULL,
            firstname VARCHAR(255) NOT NULL,
            lastname VARCHAR(255) NOT NULL,
            active BIGINT NOT NULL,
            admin BIGINT NOT NULL,
            api_key VARCHAR(255) NOT NULL,
            extern_type VARCHAR(255) NOT NULL,
            extern_name VARCHAR(255) NOT NULL,
            created_on BIGINT NOT NULL,
            last_login BIGINT NULL,
            CONSTRAINT uq_users_username UNIQUE (username_lower),
            CONSTRAINT uq_users_api_key UNIQUE (api_key)
        ){opts}",
        "CREATE TABLE user_to_perm (
            id {pk},
            user_id BIGINT NOT NULL,
            permission VARCHAR(64) NOT NULL,
            CONSTRAINT uq_user_to_perm UNIQUE (user_id, permission),
            CONSTRAINT fk_user_to_perm_user FOREIGN KEY (user_id) REFERENCES users (user_id) ON DELETE CASCADE
        ){opts}",
        "CREATE TABLE user_sessions (
            session_id VARCHAR(64) NOT NULL PRIMARY KEY,
            user_id BIGINT NULL,
            csrf_token VARCHAR(64) NOT NULL,
            created_on BIGINT NOT NULL,
            expires_on BIGINT NOT NULL,
            CONSTRAINT fk_user_sessions_user FOREIGN KEY (user_id) REFERENCES users (user_id) ON DELETE CASCADE
        ){opts}",
        "CREATE TABLE repositories (
            repo_id {pk},
            repo_name VARCHAR(255) NOT NULL,
            repo_name_lower VARCHAR(255) NOT NULL,
            repo_type VARCHAR(16) NOT NULL,
            owner_id BIGINT NOT NULL,
            description {text} NOT NULL,
            private BIGINT NOT NULL,
            landing_rev VARCHAR(255) NOT NULL,
            enable_downloads BIGINT NOT NULL,
            clone_uri {text} NULL,
            created_on BIGINT NOT NULL,
            updated_on BIGINT NOT NULL,
            last_change BIGINT NOT NULL,
            CONSTRAINT uq_repositories_name UNIQUE (repo_name_lower),
            CONSTRAINT fk_repositories_owner FOREIGN KEY (owner_id) REFERENCES users (user_id)
        ){opts}",
        "CREATE TABLE repo_to_perm (
            id {pk},
            user_id BIGINT NOT NULL,
            repo_id BIGINT NOT NULL,
            permission VARCHAR(64) NOT NULL,
            CONSTRAINT uq_repo_to_perm UNIQUE (user_id, repo_id),
            CONSTRAINT fk_repo_to_perm_user FOREIGN KEY (user_id) REFERENCES users (user_id) ON DELETE CASCADE,
            CONSTRAINT fk_repo_to_perm_repo FOREIGN KEY (repo_id) REFERENCES repositories (repo_id) ON DELETE CASCADE
        ){opts}",
        "CREATE TABLE user_logs (
            user_log_id {pk},
            user_id BIGINT NULL,
            username VARCHAR(255) NOT NULL,
            repo_id BIGINT NULL,
            repository_name VARCHAR(255) NOT NULL,
            action {text} NOT NULL,
            action_date BIGINT NOT NULL,
            user_ip VARCHAR(64) NOT NULL
        ){opts}",
        "CREATE INDEX ix_user_logs_repo ON user_logs (repo_id, action_date)",
        "CREATE TABLE settings (
            app_settings_name VARCHAR(255) NOT NULL PRIMARY KEY,
            app_settings_value {text} NOT NULL
        ){opts}",
    ],
    // 2: repository groups (Kallithea's `groups`; renamed, GROUPS is reserved in MySQL 8),
    // user groups and their grants.
    &[
        "CREATE TABLE repo_groups (
            group_id {pk},
            group_name VARCHAR(255) NOT NULL,
            group_name_lower VARCHAR(255) NOT NULL,
            group_parent_id BIGINT NULL,
            group_description {text} NOT NULL,
            owner_id BIGINT NOT NULL,
            created_on BIGINT NOT NULL,
            CONSTRAINT uq_repo_groups_name UNIQUE (group_name_lower),
            CONSTRAINT fk_repo_groups_parent FOREIGN KEY (group_parent_id) REFERENCES repo_groups (group_id),
            CONSTRAINT fk_repo_groups_owner FOREIGN KEY (owner_id) REFERENCES users (user_id)
        ){opts}",
        "ALTER TABLE repositories ADD COLUMN group_id BIGINT NULL",
        "CREATE INDEX ix_repositories_group ON repositories (group_id)",
        "CREATE TABLE user_repo_group_to_perm (
            id {pk},
            user_id BIGINT NOT NULL,
            group_id BIGINT NOT NULL,
            permission VARCHAR(64) NOT NULL,
            CONSTRAINT uq_user_repo_group_to_perm UNIQUE (user_id, group_id),
            CONSTRAINT fk_urgp_user FOREIGN KEY (user_id) REFERENCES users (user_id) ON DELETE CASCADE,
            CONSTRAINT fk_urgp_group FOREIGN KEY (group_id) REFERENCES repo_groups (group_id) ON DELETE CASCADE
        ){opts}",
        "CREATE TABLE users_groups (
            users_group_id {pk},
            users_group_name VARCHAR(255) NOT NULL,
            users_group_name_lower VARCHAR(255) NOT NULL,
            user_group_description {text} NOT NULL,
            users_group_active BIGINT NOT NULL,
            owner_id BIGINT NOT NULL,
            created_on BIGINT NOT NULL,
            CONSTRAINT uq_users_groups_name UNIQUE (users_group_name_lower),
            CONSTRAINT fk_users_groups_owner FOREIGN KEY (owner_id) REFERENCES users (user_id)
        ){opts}",
        "CREATE TABLE users_groups_members (
            users_group_member_id {pk},
            users_group_id BIGINT NOT NULL,
            user_id BIGINT NOT NULL,
            CONSTRAINT uq_users_groups_members UNIQUE (users_group_id, user_id),
            CONSTRAINT fk_ugm_group FOREIGN KEY (users_group_id) REFERENCES users_groups (users_group_id) ON DELETE CASCADE,
            CONSTRAINT fk_ugm_user FOREIGN KEY (user_id) REFERENCES users (user_id) ON DELETE CASCADE
        ){opts}",
        "CREATE TABLE users_group_repo_to_perm (
            id {pk},
            users_group_id BIGINT NOT NULL,
            repo_id BIGINT NOT NULL,
            permission VARCHAR(64) NOT NULL,
            CONSTRAINT uq_users_group_repo_to_perm UNIQUE (users_group_id, repo_id),
            CONSTRAINT fk_ugrp_group FOREIGN KEY (users_group_id) REFERENCES users_groups (users_group_id) ON DELETE CASCADE,
            CONSTRAINT fk_ugrp_repo FOREIGN KEY (repo_id) REFERENCES repositories (repo_id) ON DELETE CASCADE
        ){opts}",
        "CREATE TABLE users_group_repo_group_to_perm (
            id {pk},
            users_group_id BIGINT NOT NULL,
            group_id BIGINT NOT NULL,
            permission VARCHAR(64) NOT NULL,
            CONSTRAINT uq_users_group_repo_group_to_perm UNIQUE (users_group_id, group_id),
            CONSTRAINT fk_ugrgp_ugroup FOREIGN KEY (users_group_id) REFERENCES users_groups (users_group_id) ON DELETE CASCADE,
            CONSTRAINT fk_ugrgp_group FOREIGN KEY (group_id) REFERENCES repo_groups (group_id) ON DELETE CASCADE
        ){opts}",
    ],
    // 3: more API keys, extra email addresses, IP allow-lists, SSH keys, watched repositories.
    &[
        "CREATE TABLE user_api_keys (
            user_api_key_id {pk},
            user_id BIGINT NOT NULL,
            api_key VARCHAR(255) NOT NULL,
            description {text} NOT NULL,
            expires BIGINT NOT NULL,
            created_on BIGINT NOT NULL,
            CONSTRAINT uq_user_api_keys_key UNIQUE (api_key),
            CONSTRAINT fk_user_api_keys_user FOREIGN KEY (user_id) REFERENCES users (user_id) ON DELETE CASCADE
        ){opts}",
        "CREATE TABLE user_email_map (
            email_id {pk},
            user_id BIGINT NOT NULL,
            email VARCHAR(255) NOT NULL,
            email_lower VARCHAR(255) NOT NULL,
            CONSTRAINT uq_user_email_map_email UNIQUE (email_lower),
            CONSTRAINT fk_user_email_map_user FOREIGN KEY (user_id) REFERENCES users (user_id) ON DELETE CASCADE
        ){opts}",
        "CREATE TABLE user_ip_map (
            ip_id {pk},
            user_id BIGINT NOT NULL,
            ip_addr VARCHAR(64) NOT NULL,
            active BIGINT NOT NULL,
            CONSTRAINT uq_user_ip_map UNIQUE (user_id, ip_addr),
            CONSTRAINT fk_user_ip_map_user FOREIGN KEY (user_id) REFERENCES users (user_id) ON DELETE CASCADE
        ){opts}",
        "CREATE TABLE user_ssh_keys (
            user_ssh_key_id {pk},
            user_id BIGINT NOT NULL,
            public_key {text} NOT NULL,
            description {text} NOT NULL,
            fingerprint VARCHAR(255) NOT NULL,
            created_on BIGINT NOT NULL,
            last_seen BIGINT NULL,
            CONSTRAINT uq_user_ssh_keys_fingerprint UNIQUE (fingerprint),
            CONSTRAINT fk_user_ssh_keys_user FOREIGN KEY (user_id) REFERENCES users (user_id) ON DELETE CASCADE
        ){opts}",
        "CREATE TABLE user_followings (
            user_following_id {pk},
            user_id BIGINT NOT NULL,
            follows_repository_id BIGINT NOT NULL,
            follows_from BIGINT NOT NULL,
            CONSTRAINT uq_user_followings UNIQUE (user_id, follows_repository_id),
            CONSTRAINT fk_user_followings_user FOREIGN KEY (user_id) REFERENCES users (user_id) ON DELETE CASCADE,
            CONSTRAINT fk_user_followings_repo FOREIGN KEY (follows_repository_id) REFERENCES repositories (repo_id) ON DELETE CASCADE
        ){opts}",
    ],
    // 4: who may read, write or administer a user group.
    &[
        "CREATE TABLE user_user_group_to_perm (
            user_user_group_to_perm_id {pk},
            user_id BIGINT NOT NULL,
            user_group_id BIGINT NOT NULL,
            permission VARCHAR(64) NOT NULL,
            CONSTRAINT uq_user_user_group_to_perm UNIQUE (user_id, user_group_id),
            CONSTRAINT fk_uugp_user FOREIGN KEY (user_id) REFERENCES users (user_id) ON DELETE CASCADE,
            CONSTRAINT fk_uugp_group FOREIGN KEY (user_group_id) REFERENCES users_groups (users_group_id) ON DELETE CASCADE
        ){opts}",
        "CREATE TABLE user_group_user_group_to_perm (
            user_group_user_group_to_perm_id {pk},
            target_user_group_id BIGINT NOT NULL,
            user_group_id BIGINT NOT NULL,
            permission VARCHAR(64) NOT NULL,
            CONSTRAINT uq_user_group_user_group_to_perm UNIQUE (target_user_group_id, user_group_id),
            CONSTRAINT fk_ugugp_target FOREIGN KEY (target_user_group_id) REFERENCES users_groups (users_group_id) ON DELETE CASCADE,
            CONSTRAINT fk_ugugp_group FOREIGN KEY (user_group_id) REFERENCES users_groups (users_group_id) ON DELETE CASCADE
        ){opts}",
    ],
];

/// The schema version this build expects.
pub fn latest_version() -> i64 {
    MIGRATIONS.len() as i64
}

/// The version the database is at (0 when it has no schema yet).
pub async fn current_version(db: &Db) -> Result<i64> {
    let mut tx = db.write().await?;
    tx.raw(&db.backend().ddl(
        "CREATE TABLE IF NOT EXISTS kallithea_schema (version BIGINT NOT NULL PRIMARY KEY, applied_on BIGINT NOT NULL){opts}",
    ))
    .await?;
    let row = tx
        .fetch_optional(sqlx::query("SELECT MAX(version) FROM kallithea_schema"))
        .await?;
    tx.commit().await?;
    use sqlx::Row;
    Ok(row
        .and_then(|r| r.try_get::<Option<i64>, _>(0).ok().flatten())
        .unwrap_or(0))
}

/// Applies every migration not yet applied; returns how many ran.
pub async fn upgrade(db: &Db, now: i64) -> Result<usize> {
    let current = current_version(db).await?;
    let mut applied = 0;
    for (i, statements) in MIGRATIONS.iter().enumerate() {
        let version = i as i64 + 1;
        if version <= current {
            continue;
        }
        // MySQL commits DDL implicitly, so each migration records itself last.
        let mut tx = db.write().await?;
        for s in *statements {
            tx.raw(&db.backend().ddl(s)).await?;
        }
        let sql = db
            .backend()
            .sql("INSERT INTO kallithea_schema (version, applied_on) VALUES (?, ?)");
        tx.execute(sqlx::query(&sql).bind(version).bind(now))
            .await?;
        tx.commit().await?;
        tracing::info!(version, "applied database migration");
        applied += 1;
    }
    Ok(applied)
}

/// Whether a backend needs anything special: kept for callers that print the backend.
pub fn describe(b: Backend) -> &'static str {
    match b {
        Backend::Sqlite => "SQLite",
        Backend::Postgres => "PostgreSQL",
        Backend::MySql => "MySQL/MariaDB",
    }
}

/// Drops every table of ours (for `db-create --force-yes`).
pub async fn drop_all(db: &Db) -> Result<()> {
    let mut tx = db.write().await?;
    for t in [
        "user_group_user_group_to_perm",
        "user_user_group_to_perm",
        "user_followings",
        "user_ssh_keys",
        "user_ip_map",
        "user_email_map",
        "user_api_keys",
        "users_group_repo_group_to_perm",
        "users_group_repo_to_perm",
        "users_groups_members",
        "users_groups",
        "user_repo_group_to_perm",
        "user_logs",
        "repo_to_perm",
        "repositories",
        "repo_groups",
        "user_sessions",
        "user_to_perm",
        "settings",
        "users",
        "kallithea_schema",
    ] {
        tx.raw(&format!("DROP TABLE IF EXISTS {t}")).await?;
    }
    tx.commit().await
}
