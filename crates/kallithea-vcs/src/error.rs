//! Errors of the VCS layer, with the command or path they concern.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("a repository already exists at {0}")]
    AlreadyExists(PathBuf),
    #[error("no repository at {0}")]
    NotFound(PathBuf),
    #[error("refusing the argument {0:?}: it would be read as an option")]
    OptionLikeArgument(String),
    #[error("`git {command}` failed with {status}: {stderr}")]
    CommandFailed {
        command: String,
        status: String,
        stderr: String,
    },
    #[error("could not start `git {command}`: {source}")]
    Spawn {
        command: String,
        source: std::io::Error,
    },
    #[error("the output is larger than {0} bytes")]
    TooLarge(usize),
    #[error("reading the repository failed: {0}")]
    Objects(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
}

impl Error {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }
}
