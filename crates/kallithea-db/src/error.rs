//! Storage errors: not found, a broken uniqueness rule, or the backend's own error.

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("row not found")]
    NotFound,
    #[error("a unique value is already taken")]
    Conflict,
    #[error("unsupported database URL {0:?}: expected sqlite://, postgresql:// or mysql://")]
    BadUrl(String),
    #[error("database error: {0}")]
    Backend(#[source] sqlx::Error),
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => Self::NotFound,
            sqlx::Error::Database(d) if d.is_unique_violation() => Self::Conflict,
            _ => Self::Backend(e),
        }
    }
}
