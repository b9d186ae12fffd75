//! The connection pool, transactions and the SQL dialect differences.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyArguments, AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyPool, Executor};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::{Error, Result};

/// Which database server we talk to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
    MySql,
}

impl Backend {
    pub fn from_url(url: &str) -> Result<Self> {
        let scheme = url.split(':').next().unwrap_or("");
        match scheme {
            "sqlite" => Ok(Self::Sqlite),
            "postgres" | "postgresql" => Ok(Self::Postgres),
            "mysql" | "mariadb" => Ok(Self::MySql),
            _ => Err(Error::BadUrl(url.to_owned())),
        }
    }

    /// Rewrites `?` placeholders to `$1, $2, ...` for PostgreSQL. Our SQL never has `?`
    /// inside string literals.
    pub fn sql<'a>(self, sql: &'a str) -> Cow<'a, str> {
        if self != Self::Postgres || !sql.contains('?') {
            return Cow::Borrowed(sql);
        }
        let mut out = String::with_capacity(sql.len() + 8);
        let mut n = 0;
        for c in sql.chars() {
            if c == '?' {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            } else {
                out.push(c);
            }
        }
        Cow::Owned(out)
    }

    /// Fills the DDL tokens `{pk}` (an auto-increment 64-bit primary key), `{text}` (long
    /// text) and `{opts}` (table options). On MySQL, names compare byte for byte (`_bin`).
    pub fn ddl(self, ddl: &str) -> String {
        let (pk, opts) = match self {
            Self::Sqlite => ("INTEGER PRIMARY KEY AUTOINCREMENT", ""),
            Self::Postgres => ("BIGSERIAL PRIMARY KEY", ""),
            Self::MySql => (
                "BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY",
                " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
            ),
        };
        let text = match self {
            Self::MySql => "LONGTEXT",
            _ => "TEXT",
        };
        ddl.replace("{pk}", pk)
            .replace("{text}", text)
            .replace("{opts}", opts)
    }
}

/// The database: a pool plus what kind of server it is.
#[derive(Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    /// SQLite allows one writer at a time; taking this before a write transaction avoids
    /// lock-upgrade failures between our own connections.
    write_lock: Arc<Mutex<()>>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("backend", &self.backend)
            .finish()
    }
}

impl Db {
    /// Connects to a sqlx-style URL (`sqlite:///abs/path?mode=rwc`, `postgres://...`,
    /// `mysql://...`). SQLite gets WAL mode and a busy timeout.
    pub async fn connect(url: &str) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)?;
        let url = match backend {
            Backend::Postgres if url.starts_with("postgresql") => {
                url.replacen("postgresql", "postgres", 1)
            }
            Backend::MySql if url.starts_with("mariadb") => url.replacen("mariadb", "mysql", 1),
            _ => url.to_owned(),
        };
        let mut opts = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(30));
        opts = match backend {
            Backend::Sqlite => opts.max_connections(4).after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute("PRAGMA busy_timeout = 10000").await?;
                    conn.execute("PRAGMA foreign_keys = ON").await?;
                    Ok(())
                })
            }),
            Backend::MySql => opts.max_connections(8).after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute("SET NAMES utf8mb4").await?;
                    Ok(())
                })
            }),
            Backend::Postgres => opts.max_connections(8),
        };
        let pool = opts.connect(&url).await?;
        if backend == Backend::Sqlite {
            pool.execute("PRAGMA journal_mode = WAL").await?;
        }
        Ok(Self {
            pool,
            backend,
            write_lock: Arc::new(Mutex::new(())),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A transaction for reading.
    pub async fn read(&self) -> Result<Tx> {
        Ok(Tx {
            tx: self.pool.begin().await?,
            backend: self.backend,
            _guard: None,
        })
    }

    /// A transaction that will write.
    pub async fn write(&self) -> Result<Tx> {
        let guard = match self.backend {
            Backend::Sqlite => Some(self.write_lock.clone().lock_owned().await),
            _ => None,
        };
        // SQLite: take the write lock at BEGIN, so a transaction that reads first cannot fail
        // later because another process (a push hook) wrote in between.
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            _ => self.pool.begin().await?,
        };
        Ok(Tx {
            tx,
            backend: self.backend,
            _guard: guard,
        })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// An open transaction; dropped without [`Tx::commit`] it rolls back.
pub struct Tx {
    tx: sqlx::Transaction<'static, Any>,
    backend: Backend,
    _guard: Option<OwnedMutexGuard<()>>,
}

pub(crate) type Query<'q> = sqlx::query::Query<'q, Any, AnyArguments<'q>>;

impl Tx {
    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub(crate) async fn execute(&mut self, q: Query<'_>) -> Result<u64> {
        Ok(q.execute(&mut *self.tx).await?.rows_affected())
    }

    pub(crate) async fn fetch_optional(&mut self, q: Query<'_>) -> Result<Option<AnyRow>> {
        Ok(q.fetch_optional(&mut *self.tx).await?)
    }

    pub(crate) async fn fetch_all(&mut self, q: Query<'_>) -> Result<Vec<AnyRow>> {
        Ok(q.fetch_all(&mut *self.tx).await?)
    }

    /// Runs a query whose `{ids}` stands for a list of `?` placeholders, one per id (for
    /// `... IN ({ids})`); no ids, no rows.
    pub(crate) async fn fetch_all_in(&mut self, sql: &str, ids: &[i64]) -> Result<Vec<AnyRow>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let marks = vec!["?"; ids.len()].join(", ");
        let sql = self.backend.sql(&sql.replace("{ids}", &marks)).into_owned();
        let mut query = sqlx::query(&sql);
        for id in ids {
            query = query.bind(*id);
        }
        self.fetch_all(query).await
    }

    /// Runs an INSERT and returns the new row's id (`pk` is the key column).
    pub(crate) async fn insert_returning_id(
        &mut self,
        sql: &str,
        pk: &str,
        bind: impl for<'q> FnOnce(Query<'q>) -> Query<'q>,
    ) -> Result<i64> {
        use sqlx::Row;
        match self.backend {
            Backend::Postgres | Backend::Sqlite => {
                let sql = format!("{} RETURNING {pk}", self.backend.sql(sql));
                let row = bind(sqlx::query(&sql)).fetch_one(&mut *self.tx).await?;
                Ok(row.try_get::<i64, _>(0)?)
            }
            Backend::MySql => {
                let res = bind(sqlx::query(sql)).execute(&mut *self.tx).await?;
                if let Some(id) = res.last_insert_id() {
                    return Ok(id);
                }
                let row = sqlx::query("SELECT LAST_INSERT_ID()")
                    .fetch_one(&mut *self.tx)
                    .await?;
                Ok(row
                    .try_get::<i64, _>(0)
                    .map_err(|_| Error::Backend(sqlx::Error::Protocol("no inserted id".into())))?)
            }
        }
    }

    pub(crate) async fn raw(&mut self, sql: &str) -> Result<()> {
        (&mut *self.tx).execute(sql).await?;
        Ok(())
    }
}

/// Reads a long-text column. MySQL reports `TEXT` as a blob through sqlx's `Any` driver, so
/// bytes are accepted too (and must be UTF-8, as we wrote them).
pub(crate) fn text_column(row: &sqlx::any::AnyRow, idx: usize) -> Result<Option<String>> {
    use sqlx::Row;
    match row.try_get::<Option<String>, _>(idx) {
        Ok(v) => Ok(v),
        Err(_) => Ok(row
            .try_get::<Option<Vec<u8>>, _>(idx)?
            .map(|b| String::from_utf8_lossy(&b).into_owned())),
    }
}

/// Shorthand used by the query modules: `sql!(tx, "SELECT ... ?")` gives the statement text
/// for this backend.
macro_rules! sql {
    ($tx:expr, $s:expr) => {
        $tx.backend().sql($s)
    };
}
pub(crate) use sql;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_for_postgres_only() {
        let q = "SELECT a FROM t WHERE b = ? AND c = ?";
        assert_eq!(
            Backend::Postgres.sql(q),
            "SELECT a FROM t WHERE b = $1 AND c = $2"
        );
        assert_eq!(Backend::Sqlite.sql(q), q);
        assert_eq!(Backend::MySql.sql(q), q);
    }
}
