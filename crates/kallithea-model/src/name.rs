//! Validated repository and user names.
//!
//! A [`RepoName`] is a full path (`group/sub/repo`) that is safe to use as a URL path and as a
//! folder under the repository root: it can only be built through [`RepoName::parse`] (strict)
//! or [`RepoName::from_user_input`] (Kallithea's slugging first, then the same checks).

use std::fmt;

/// Why a name was refused. The message is shown to users as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("The name must not be empty.")]
    Empty,
    #[error("The name is too long (at most {0} characters).")]
    TooLong(usize),
    #[error("The name \"{0}\" is reserved.")]
    Reserved(String),
    #[error("A name like \"_{0}\" is reserved for permanent repository links.")]
    PermanentIdForm(String),
    #[error("A name may not start with \"{0}\".")]
    BadStart(char),
    #[error("A name may not contain \"..\".")]
    DotDot,
    #[error("A repository name may not end with \".git\".")]
    GitSuffix,
    #[error("A name may not contain control characters.")]
    ControlCharacter,
    #[error("A name may not contain the character \"{0}\".")]
    BadCharacter(char),
    #[error("A name may not contain empty path parts.")]
    EmptySegment,
    #[error("The name is not valid text (UTF-8).")]
    NotUtf8,
    #[error("Each part of a name may be at most {0} bytes long.")]
    SegmentTooLong(usize),
    #[error(
        "User names may contain only ASCII letters (a-z, A-Z), digits, \"-\", \"_\" and \".\" and must start with a letter or digit."
    )]
    BadUserName,
}

/// The longest repository path we accept (Kallithea's column is 255 characters).
pub const MAX_REPO_NAME: usize = 255;

/// The longest single path part, in bytes: file systems allow 255, and a deleted repository
/// is renamed to `rm__<27 characters>__<name>`.
pub const MAX_SEGMENT_BYTES: usize = 200;

/// Characters Kallithea's `repo_name_slug` turns into `-`.
const SLUG_CHARS: &str = "`?=[]\\;'\"<>,/~!@#$%^&*()+{}|: ";

/// A repository's full name, validated.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RepoName(String);

impl RepoName {
    /// Applies Kallithea's slugging to one path part typed by a user (spaces and punctuation
    /// become `-`, runs of `-` collapse, leading and trailing `-` go) and validates the result.
    pub fn from_user_input(group_path: Option<&RepoName>, raw: &str) -> Result<Self, NameError> {
        let segment = slug(raw);
        let full = match group_path {
            Some(g) => format!("{}/{}", g.0, segment),
            None => segment,
        };
        Self::parse(&full)
    }

    /// Validates a full name exactly as given (from a URL, the API or a folder on disk).
    pub fn parse(full: &str) -> Result<Self, NameError> {
        if full.is_empty() {
            return Err(NameError::Empty);
        }
        if full.chars().count() > MAX_REPO_NAME {
            return Err(NameError::TooLong(MAX_REPO_NAME));
        }
        if full.chars().any(char::is_control) {
            return Err(NameError::ControlCharacter);
        }
        if full.contains("..") {
            return Err(NameError::DotDot);
        }
        for (i, seg) in full.split('/').enumerate() {
            validate_segment(seg, i == 0)?;
        }
        if full.to_ascii_lowercase().ends_with(".git") {
            return Err(NameError::GitSuffix);
        }
        Ok(Self(full.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The lower-case form used for case-insensitive uniqueness.
    pub fn folded(&self) -> String {
        self.0.to_lowercase()
    }

    /// The group path the repository is in, if any.
    pub fn parent(&self) -> Option<RepoName> {
        self.0.rsplit_once('/').map(|(p, _)| Self(p.to_owned()))
    }

    /// The last path part (the name without its groups).
    pub fn base_name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }
}

impl fmt::Display for RepoName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn validate_segment(seg: &str, first: bool) -> Result<(), NameError> {
    let Some(c0) = seg.chars().next() else {
        return Err(NameError::EmptySegment);
    };
    if c0 == '-' || c0 == '.' {
        return Err(NameError::BadStart(c0));
    }
    if seg.len() > MAX_SEGMENT_BYTES {
        return Err(NameError::SegmentTooLong(MAX_SEGMENT_BYTES));
    }
    if first && seg.eq_ignore_ascii_case("_admin") {
        return Err(NameError::Reserved(seg.to_owned()));
    }
    if let Some(digits) = seg.strip_prefix('_')
        && !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(NameError::PermanentIdForm(digits.to_owned()));
    }
    if seg.starts_with("rm__") {
        // Deleted repositories are moved aside under this prefix.
        return Err(NameError::Reserved(seg.to_owned()));
    }
    if seg.contains('\u{FFFD}') {
        return Err(NameError::NotUtf8);
    }
    if let Some(bad) = seg.chars().find(|c| SLUG_CHARS.contains(*c) && *c != '/') {
        return Err(NameError::BadCharacter(bad));
    }
    Ok(())
}

/// Kallithea's `repo_name_slug`: drop HTML tags, turn punctuation and spaces into `-`,
/// collapse runs of `-` and trim them from both ends.
pub fn slug(raw: &str) -> String {
    let mut no_tags = String::with_capacity(raw.len());
    let mut in_tag = false;
    for c in raw.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => no_tags.push(c),
            _ => {}
        }
    }
    let mut out = String::with_capacity(no_tags.len());
    for c in no_tags.trim().chars() {
        let c = if SLUG_CHARS.contains(c) { '-' } else { c };
        if c == '-' && out.ends_with('-') {
            continue;
        }
        out.push(c);
    }
    out.trim_matches('-').to_owned()
}

/// A user name, validated as Kallithea does (`[a-zA-Z0-9][a-zA-Z0-9-_.]*`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UserName(String);

impl UserName {
    pub fn parse(s: &str) -> Result<Self, NameError> {
        if s.is_empty() {
            return Err(NameError::Empty);
        }
        if s.len() > 255 {
            return Err(NameError::TooLong(255));
        }
        let mut chars = s.chars();
        let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
        if !first_ok || !chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) {
            return Err(NameError::BadUserName);
        }
        Ok(Self(s.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slug_matches_kallithea() {
        let cases = [
            ("my repo", "my-repo"),
            ("  Hello, World!  ", "Hello-World"),
            ("a//b", "a-b"),
            ("<b>bold</b> name", "bold-name"),
            ("x---y", "x-y"),
            ("--lead", "lead"),
            ("ünïcode", "ünïcode"),
        ];
        for (raw, want) in cases {
            assert_eq!(slug(raw), want, "slug({raw:?})");
        }
    }

    #[test]
    fn bad_names_are_refused_with_a_reason() {
        let cases: &[(&str, NameError)] = &[
            ("", NameError::Empty),
            ("..", NameError::DotDot),
            ("a/../b", NameError::DotDot),
            ("-x", NameError::BadStart('-')),
            (".hidden", NameError::BadStart('.')),
            ("_admin", NameError::Reserved("_admin".into())),
            ("_ADMIN/x", NameError::Reserved("_ADMIN".into())),
            ("_123", NameError::PermanentIdForm("123".into())),
            ("repo.git", NameError::GitSuffix),
            ("a\nb", NameError::ControlCharacter),
            ("a//b", NameError::EmptySegment),
            ("a b", NameError::BadCharacter(' ')),
            ("rm__old", NameError::Reserved("rm__old".into())),
            ("bad\u{FFFD}", NameError::NotUtf8),
            ("a\0b", NameError::ControlCharacter),
        ];
        for (name, err) in cases {
            assert_eq!(RepoName::parse(name).as_ref(), Err(err), "{name:?}");
        }
        assert!(RepoName::parse("group/_123x").is_ok());
        assert_eq!(
            RepoName::parse(&"é".repeat(101)),
            Err(NameError::SegmentTooLong(MAX_SEGMENT_BYTES))
        );
        assert!(RepoName::parse(&"a".repeat(200)).is_ok());
        assert!(RepoName::parse("x/_admin").is_ok());
    }

    #[test]
    fn user_input_is_slugged_then_checked() {
        assert_eq!(
            RepoName::from_user_input(None, "My Repo").unwrap().as_str(),
            "My-Repo"
        );
        assert_eq!(
            RepoName::from_user_input(None, "_admin"),
            Err(NameError::Reserved("_admin".into()))
        );
        assert_eq!(
            RepoName::from_user_input(None, "x.git"),
            Err(NameError::GitSuffix)
        );
        assert_eq!(
            RepoName::from_user_input(None, "!!!"),
            Err(NameError::Empty)
        );
        assert_eq!(
            RepoName::from_user_input(None, "../etc"),
            Err(NameError::DotDot)
        );
    }

    #[test]
    fn user_names() {
        assert!(UserName::parse("john.doe-1_x").is_ok());
        assert!(UserName::parse("_x").is_err());
        assert!(UserName::parse("a b").is_err());
        assert!(UserName::parse("").is_err());
    }
}
