//! The domain error: a closed set of outcomes a user can see ([`ErrorKind`]) plus a sentence.
//! Storage and VCS errors become `Internal` here, and only here.

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    NotFound,
    /// Signed in but not allowed.
    Forbidden,
    /// Not signed in, and signing in may help.
    LoginRequired,
    /// Wrong user name, password or key.
    AuthFailed,
    /// Too many failed sign-ins.
    Throttled,
    InvalidInput,
    NameTaken,
    Internal,
}

#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
    /// For `Internal` errors: what went wrong underneath, for logs and for `debug` pages shown
    /// to the server's own machine; never shown to other clients.
    pub detail: Option<Box<str>>,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            detail: None,
        }
    }
    pub fn not_found(m: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, m)
    }
    pub fn forbidden(m: impl Into<String>) -> Self {
        Self::new(ErrorKind::Forbidden, m)
    }
    pub fn invalid(m: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInput, m)
    }
    pub fn internal(context: &str, e: impl std::fmt::Display) -> Self {
        tracing::error!(
            "{context}: {e}\n{}",
            std::backtrace::Backtrace::force_capture()
        );
        Self {
            kind: ErrorKind::Internal,
            message: format!("{context} failed"),
            detail: Some(format!("{context}: {e}").into()),
        }
    }
}

impl From<kallithea_db::Error> for Error {
    fn from(e: kallithea_db::Error) -> Self {
        match e {
            kallithea_db::Error::NotFound => Self::not_found("Not found."),
            kallithea_db::Error::Conflict => {
                Self::new(ErrorKind::NameTaken, "That name is already taken.")
            }
            other => Self::internal("database", other),
        }
    }
}

impl From<kallithea_vcs::Error> for Error {
    fn from(e: kallithea_vcs::Error) -> Self {
        match e {
            kallithea_vcs::Error::OptionLikeArgument(a) => {
                Self::invalid(format!("{a:?} is not a valid argument."))
            }
            kallithea_vcs::Error::NotFound(_) => Self::not_found("Not found."),
            kallithea_vcs::Error::TooLarge(n) => Self::invalid(format!(
                "This is too large to show (more than {} MiB): clone the repository instead.",
                n / (1024 * 1024)
            )),
            other => Self::internal("repository operation", other),
        }
    }
}

impl From<kallithea_model::NameError> for Error {
    fn from(e: kallithea_model::NameError) -> Self {
        Self::invalid(e.to_string())
    }
}
