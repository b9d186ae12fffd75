//! Commit objects read the way git reads them for display: leniently. Repositories hold
//! commits that a strict parser refuses (an author without an email, no committer line, no
//! blank line before the message), written by old converters or on purpose, and a server
//! accepts them in a push. git shows them, so every page that lists one must too.

use gix::ObjectId;

/// An `author` or `committer` line. Parts the line lacks are empty (time 0).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Ident<'a> {
    pub name: &'a [u8],
    pub email: &'a [u8],
    pub seconds: i64,
    /// The time zone as written (`+0100`), or empty.
    pub offset: &'a [u8],
}

/// The fields of a commit object that pages show.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct CommitFields<'a> {
    /// `None` when the commit names no valid tree (git itself refuses such a commit).
    pub tree: Option<ObjectId>,
    pub parents: Vec<ObjectId>,
    pub author: Ident<'a>,
    pub committer: Ident<'a>,
    /// The `encoding` header: how the names and the message are written.
    pub encoding: Option<&'a [u8]>,
    pub message: &'a [u8],
}

impl<'a> CommitFields<'a> {
    /// Reads any bytes: the headers end at the first empty line (no empty line, no message);
    /// the first of each header counts; unknown and multi-line headers (signatures) are
    /// skipped.
    pub fn parse(data: &'a [u8]) -> Self {
        let (head, message) = match data.windows(2).position(|w| w == b"\n\n") {
            Some(end) => (&data[..end], &data[end + 2..]),
            None => (data, &data[data.len()..]),
        };
        let mut fields = CommitFields {
            tree: None,
            parents: Vec::new(),
            author: Ident::default(),
            committer: Ident::default(),
            encoding: None,
            message,
        };
        let (mut author, mut committer, mut tree) = (false, false, false);
        // As git: parents are the `parent` lines right after the tree, none later.
        let mut parents_open = true;
        for line in head.split(|&b| b == b'\n') {
            let (key, value) = match line.iter().position(|&b| b == b' ') {
                Some(space) => (&line[..space], &line[space + 1..]),
                None => (line, &line[line.len()..]),
            };
            if !matches!(key, b"tree" | b"parent") {
                parents_open = false;
            }
            match key {
                b"tree" if !tree => {
                    tree = true;
                    fields.tree = ObjectId::from_hex(value).ok();
                }
                b"parent" if parents_open => {
                    fields.parents.extend(ObjectId::from_hex(value).ok());
                }
                b"author" if !author => {
                    author = true;
                    fields.author = Ident::parse(value);
                }
                b"committer" if !committer => {
                    committer = true;
                    fields.committer = Ident::parse(value);
                }
                b"encoding" if fields.encoding.is_none() => fields.encoding = Some(value),
                // Continuation lines of multi-line headers start with a space: an empty key.
                _ => {}
            }
        }
        fields
    }
}

impl<'a> Ident<'a> {
    /// `Name <email> seconds +zone`, taking what is there: no `<`, no `>`, no time.
    fn parse(line: &'a [u8]) -> Self {
        let Some(lt) = line.iter().position(|&b| b == b'<') else {
            // No email: a time, if any, is the line's last words.
            let (name, when) = split_trailing_time(line);
            let (seconds, offset) = time(when);
            return Ident {
                name: name.trim_ascii(),
                email: b"",
                seconds,
                offset,
            };
        };
        let after = &line[lt + 1..];
        // As git: the time follows the last `>`.
        let (email, when) = match after.iter().rposition(|&b| b == b'>') {
            Some(gt) => (&after[..gt], &after[gt + 1..]),
            None => (after, &after[after.len()..]),
        };
        let (seconds, offset) = time(when);
        Ident {
            name: line[..lt].trim_ascii(),
            email: email.trim_ascii(),
            seconds,
            offset,
        }
    }
}

/// `seconds zone` → both, or 0 and empty where a part is missing or malformed. Seconds are
/// digits only (no sign, as git reads them; too large counts as malformed), a zone is `+` or
/// `-` and four digits.
fn time(when: &[u8]) -> (i64, &[u8]) {
    let mut words = when
        .split(|b| b.is_ascii_whitespace())
        .filter(|w| !w.is_empty());
    let seconds = words
        .next()
        .filter(|w| w.iter().all(u8::is_ascii_digit))
        .and_then(|w| std::str::from_utf8(w).ok()?.parse::<u64>().ok())
        .and_then(|s| i64::try_from(s).ok())
        .unwrap_or(0);
    let zone = words
        .next()
        .filter(|z| z.len() == 5 && matches!(z[0], b'+' | b'-'))
        .filter(|z| z[1..].iter().all(u8::is_ascii_digit))
        .unwrap_or(b"");
    (seconds, zone)
}

/// A line without an email split into the name and a trailing `seconds [zone]`, if any.
fn split_trailing_time(line: &[u8]) -> (&[u8], &[u8]) {
    let line = line.trim_ascii_end();
    let words: Vec<usize> = line
        .iter()
        .enumerate()
        .filter(|&(i, &b)| b == b' ' && line.get(i + 1).is_some_and(|&n| n != b' '))
        .map(|(i, _)| i + 1)
        .collect();
    let number = |w: &[u8]| !w.is_empty() && w.iter().all(u8::is_ascii_digit);
    let zone = |w: &[u8]| w.len() > 1 && matches!(w[0], b'+' | b'-') && number(&w[1..]);
    let word = |k: usize| -> &[u8] {
        let end = words.get(k + 1).map_or(line.len(), |&e| e - 1);
        &line[words[k]..end]
    };
    match words.len() {
        n if n >= 2 && zone(word(n - 1)) && number(word(n - 2)) => {
            (&line[..words[n - 2]], &line[words[n - 2]..])
        }
        n if n >= 1 && number(word(n - 1)) => (&line[..words[n - 1]], &line[words[n - 1]..]),
        _ => (line, &line[line.len()..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TREE: &str = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";
    const PARENT: &str = "1111111111111111111111111111111111111111";

    #[test]
    fn a_well_formed_commit_reads_as_gix_reads_it() {
        let data = format!(
            "tree {TREE}\nparent {PARENT}\nauthor A U Thor <a@example.com> 1700000000 +0100\n\
             committer C <c@example.com> 1700000100 -0230\nencoding ISO-8859-1\n\
             gpgsig -----BEGIN PGP SIGNATURE-----\n author Fake <f@x> 1 +0000\n -----END PGP SIGNATURE-----\n\n\
             Subject\n\nBody\n"
        );
        let c = CommitFields::parse(data.as_bytes());
        let g = gix::objs::CommitRef::from_bytes(data.as_bytes()).unwrap();
        assert_eq!(c.tree, Some(g.tree()));
        assert_eq!(c.parents, g.parents().collect::<Vec<_>>());
        let (a, ga) = (c.author, g.author().unwrap());
        assert_eq!(
            (a.name, a.email, a.seconds),
            (&**ga.name, &**ga.email, ga.seconds())
        );
        assert_eq!(a.offset, b"+0100");
        assert_eq!(c.committer.seconds, 1_700_000_100);
        assert_eq!(c.committer.offset, b"-0230");
        assert_eq!(c.encoding, Some(&b"ISO-8859-1"[..]));
        assert_eq!(c.message, &**g.message);
    }

    #[test]
    fn malformed_commits_read_as_far_as_they_go() {
        // Author without an email, and no committer.
        let data = format!("tree {TREE}\nparent {PARENT}\nauthor NoEmail 1700000001 +0000\n\nx\n");
        let c = CommitFields::parse(data.as_bytes());
        assert!(gix::objs::CommitRef::from_bytes(data.as_bytes()).is_err());
        assert_eq!(c.author.name, b"NoEmail");
        assert_eq!(
            (c.author.email, c.author.seconds),
            (&b""[..], 1_700_000_001)
        );
        assert_eq!(c.committer, Ident::default());
        assert_eq!(c.message, b"x\n");
        // No blank line and no message; a bad parent id is skipped.
        let data =
            format!("tree {TREE}\nparent nothex\nauthor A <a@b> 5 +0000\ncommitter A <a@b> 6");
        let c = CommitFields::parse(data.as_bytes());
        assert!(c.parents.is_empty());
        assert_eq!((c.committer.seconds, c.message), (6, &b""[..]));
        // An unclosed email, a time that is not a number, a name only, nothing at all.
        assert_eq!(Ident::parse(b"A <a@b").email, b"a@b");
        assert_eq!(
            Ident::parse(b"A <a@b> 99999999999999999999 +0000").seconds,
            0
        );
        assert_eq!(Ident::parse(b"Just A Name").name, b"Just A Name");
        assert_eq!(Ident::parse(b"Name 12 -0700").seconds, 12);
        assert_eq!(Ident::parse(b"Name 12 -0700").name, b"Name");
        assert_eq!(Ident::parse(b""), Ident::default());
        // git reads the time after the last `>`; signs, huge values and odd zones are no time.
        assert_eq!(Ident::parse(b"A <a@b>> 5 +0000").seconds, 5);
        assert_eq!(
            Ident::parse(b"A <a@b> -9223372036854775808 +0000").seconds,
            0
        );
        assert_eq!(Ident::parse(b"A <a@b> 1 +\xff0").offset, b"");
        assert_eq!(Ident::parse(b"A <a@b> 1 +a\xc3\xa9b").offset, b"");
        assert_eq!(Ident::parse(b"A <a@b> 1 -0230").offset, b"-0230");
        // Parents only straight after the tree, as git reads them.
        let late =
            format!("tree {TREE}\nparent {PARENT}\nauthor A <a@b> 1 +0000\nparent {TREE}\n\nm");
        assert_eq!(CommitFields::parse(late.as_bytes()).parents.len(), 1);
        assert_eq!(CommitFields::parse(b"").tree, None);
    }
}
