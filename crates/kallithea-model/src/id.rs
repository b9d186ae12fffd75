//! Typed database ids, so a user id can never be passed where a repository id is expected.

use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

id_type!(
    /// A row of `users`.
    UserId
);
id_type!(
    /// A row of `repositories`.
    RepoId
);
id_type!(
    /// A row of `repo_groups` (Kallithea's `groups`).
    GroupId
);
id_type!(
    /// A row of `users_groups`.
    UserGroupId
);
