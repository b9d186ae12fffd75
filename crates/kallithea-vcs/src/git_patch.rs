//! Reading `git diff-tree -z --raw --numstat -p` as git writes it: the `--raw` records say
//! what happened to each file (added, deleted, renamed, mode changed), the `--numstat`
//! records how many lines changed, and the patch follows, split by file.
//!
//! The patch is read to its end but kept only within limits: one file's patch past
//! [`MAX_FILE_PATCH_BYTES`], or any patch once [`MAX_PATCH_BYTES`] are kept, is dropped and
//! its file marked `too_large`, so a huge file hides neither its neighbours nor what
//! happened to them. Past [`MAX_DIFF_READ_BYTES`] git is stopped.

use std::collections::HashMap;
use std::io::BufRead;

use crate::read::{ChangeKind, FileChange};

/// The most patch text kept for one diff (all files).
pub const MAX_PATCH_BYTES: usize = 16 * 1024 * 1024;

/// The most patch text kept for one file.
pub const MAX_FILE_PATCH_BYTES: usize = 4 * 1024 * 1024;

/// The most output read from git for one diff; past it git is stopped and the files whose
/// patches were not reached are marked `too_large`.
pub const MAX_DIFF_READ_BYTES: u64 = 256 * 1024 * 1024;

/// The changed files of one diff, with their patches, and whether git's output was read to
/// its end. `ignore_whitespace`: `-w` was given, so files `--raw` lists and `--numstat`
/// leaves out changed only in whitespace.
pub fn read_diff(out: &mut dyn BufRead, ignore_whitespace: bool) -> (Vec<FileChange>, bool) {
    read_at_most(out, ignore_whitespace, MAX_DIFF_READ_BYTES)
}

fn read_at_most(
    out: &mut dyn BufRead,
    ignore_whitespace: bool,
    limit: u64,
) -> (Vec<FileChange>, bool) {
    let mut out = std::io::Read::take(out, limit);
    let mut files = Vec::new();
    let mut counted: HashMap<String, (u64, u64, bool)> = HashMap::new();
    let mut record = Vec::new();
    let next = |out: &mut dyn BufRead, record: &mut Vec<u8>| -> Option<String> {
        record.clear();
        match out.read_until(0, record) {
            Ok(0) | Err(_) => None,
            Ok(_) => {
                if record.last() == Some(&0) {
                    record.pop();
                }
                Some(crate::text::name_from_bytes(record).into_owned())
            }
        }
    };
    // The records, up to the empty one that ends them.
    let mut ended = false;
    while let Some(r) = next(&mut out, &mut record) {
        if r.is_empty() {
            ended = true;
            break;
        }
        if let Some(raw) = r.strip_prefix(':') {
            // `:old_mode new_mode old_id new_id STATUS`, then the path (two for R and C).
            let fields: Vec<&str> = raw.split(' ').collect();
            let status = fields.get(4).and_then(|s| s.chars().next()).unwrap_or('M');
            let (old_mode, new_mode) = (fields.first().copied(), fields.get(1).copied());
            let first = next(&mut out, &mut record).unwrap_or_default();
            let (path, old_path) = match status {
                'R' | 'C' => (next(&mut out, &mut record).unwrap_or_default(), Some(first)),
                _ => (first, None),
            };
            let mode_change = match (old_mode, new_mode) {
                (Some(o), Some(n)) if o != n && !zero(o) && !zero(n) => {
                    Some((o.to_owned(), n.to_owned()))
                }
                _ => None,
            };
            files.push(FileChange {
                kind: match status {
                    'A' => ChangeKind::Added,
                    'D' => ChangeKind::Deleted,
                    'R' => ChangeKind::Renamed,
                    'C' => ChangeKind::Copied,
                    _ => ChangeKind::Modified,
                },
                path,
                old_path,
                added: 0,
                removed: 0,
                binary: false,
                patch: String::new(),
                too_large: false,
                mode_change,
                whitespace_only: false,
            });
        } else {
            // `added\tremoved\tpath`, or `added\tremoved\t` and the two paths of a rename.
            let mut f = r.splitn(3, '\t');
            let (Some(a), Some(d), Some(path)) = (f.next(), f.next(), f.next()) else {
                continue;
            };
            let path = match path.is_empty() {
                true => {
                    next(&mut out, &mut record);
                    next(&mut out, &mut record).unwrap_or_default()
                }
                false => path.to_owned(),
            };
            let binary = a == "-" && d == "-";
            counted.insert(
                path,
                (a.parse().unwrap_or(0), d.parse().unwrap_or(0), binary),
            );
        }
    }
    for f in &mut files {
        match counted.get(&f.path) {
            Some(&(a, d, binary)) => (f.added, f.removed, f.binary) = (a, d, binary),
            None => f.whitespace_only = ignore_whitespace && f.mode_change.is_none(),
        }
    }
    if !ended {
        return (files, out.limit() > 0);
    }
    let to_the_end = read_patches(&mut out, &mut files);
    (files, to_the_end)
}

fn zero(mode: &str) -> bool {
    mode.bytes().all(|b| b == b'0')
}

/// One file's part of the patch as it is read.
struct Section {
    /// The file it belongs to, once its header names one.
    file: Option<usize>,
    head: String,
    body: Vec<u8>,
    /// Past a limit: the rest of it is skipped.
    dropped: bool,
}

/// Reads the patch, handing each file its part; returns whether it was read to its end.
fn read_patches(out: &mut std::io::Take<&mut dyn BufRead>, files: &mut [FileChange]) -> bool {
    // Sections are found by the name they end with; a rename's old name only where no file
    // now has it (two files that swap names are each found by their new one).
    let mut at: HashMap<String, usize> = HashMap::with_capacity(files.len());
    for (i, f) in files.iter().enumerate() {
        at.entry(f.path.clone()).or_insert(i);
    }
    for (i, f) in files.iter().enumerate() {
        if let Some(o) = &f.old_path {
            at.entry(o.clone()).or_insert(i);
        }
    }
    let mut bodies: Vec<Vec<u8>> = vec![Vec::new(); files.len()];
    let mut reached = vec![false; files.len()];
    let mut kept = 0usize;
    let mut section: Option<Section> = None;
    let mut line = Vec::new();
    let to_the_end = loop {
        // A header line is kept whole up to MAX_HEADER_LINE; a patch line up to what its file
        // may still hold (one line of a minified file can be megabytes).
        let cap = match &section {
            Some(s) if !s.body.is_empty() || s.dropped => MAX_FILE_PATCH_BYTES + 1,
            _ => MAX_HEADER_LINE,
        };
        let cut = match read_line(out, &mut line, cap) {
            Ok(Some(cut)) => cut,
            // The end, or the most that is read.
            Ok(None) => break out.limit() > 0,
            Err(_) => break false,
        };
        if line.starts_with(b"diff --git ") {
            if let Some(s) = section.take() {
                finish(s, files, &at, &mut bodies);
            }
            section = Some(Section {
                file: None,
                head: String::from_utf8_lossy(&line).into_owned(),
                body: Vec::new(),
                dropped: false,
            });
            continue;
        }
        let Some(s) = section.as_mut() else {
            continue;
        };
        if s.body.is_empty() && !s.dropped && !line.starts_with(b"@@") {
            s.head.push_str(&String::from_utf8_lossy(&line));
            continue;
        }
        if s.file.is_none() {
            s.file = section_path(&s.head).and_then(|p| at.get(&p).copied());
            if let Some(i) = s.file {
                reached[i] = true;
            }
        }
        if s.dropped {
            continue;
        }
        let file_size = s.file.map_or(0, |i| bodies[i].len()) + s.body.len();
        if cut
            || file_size + line.len() > MAX_FILE_PATCH_BYTES
            || kept + line.len() > MAX_PATCH_BYTES
        {
            kept -= s.body.len();
            s.body = Vec::new();
            s.dropped = true;
            if let Some(i) = s.file {
                kept -= bodies[i].len();
                bodies[i] = Vec::new();
                files[i].too_large = true;
            }
            continue;
        }
        kept += line.len();
        s.body.extend_from_slice(&line);
    };
    if let Some(s) = section.take() {
        if !to_the_end && let Some(i) = s.file {
            // Stopped inside this file's patch: never shown in part.
            bodies[i] = Vec::new();
            files[i].too_large = true;
        } else {
            finish(s, files, &at, &mut bodies);
        }
    }
    for (i, f) in files.iter_mut().enumerate() {
        if !to_the_end && !reached[i] && !f.binary && f.added + f.removed > 0 {
            f.too_large = true;
        }
        if !f.too_large {
            f.patch = crate::text::decode_lines(&bodies[i]).into_owned();
        }
    }
    to_the_end
}

/// Ends a section: its body joins its file's (a type change has two sections for one file).
fn finish(
    s: Section,
    files: &mut [FileChange],
    at: &HashMap<String, usize>,
    bodies: &mut [Vec<u8>],
) {
    let file = s
        .file
        .or_else(|| section_path(&s.head).and_then(|p| at.get(&p).copied()));
    let Some(i) = file else {
        return;
    };
    if !s.dropped && !files[i].too_large {
        bodies[i].extend_from_slice(&s.body);
    }
}

/// The longest header line kept (`diff --git` with two long quoted paths).
const MAX_HEADER_LINE: usize = 64 * 1024;

/// Reads one line (with its newline) into `line`, keeping at most `cap` bytes of it and
/// skipping the rest; `Some(true)` when it was cut, `None` at the end.
fn read_line(
    out: &mut dyn BufRead,
    line: &mut Vec<u8>,
    cap: usize,
) -> std::io::Result<Option<bool>> {
    line.clear();
    let mut cut = false;
    let mut read_any = false;
    loop {
        let buf = out.fill_buf()?;
        if buf.is_empty() {
            return Ok(read_any.then_some(cut));
        }
        read_any = true;
        let (take, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        let room = cap.saturating_sub(line.len());
        cut |= take > room;
        line.extend_from_slice(&buf[..take.min(room)]);
        out.consume(take);
        if done {
            return Ok(Some(cut));
        }
    }
}

/// The path a patch section is about, from its header: `rename to`, `+++ b/`, `--- a/` (for a
/// deletion), or the two equal halves of `diff --git a/P b/P`. Names git writes in quotes
/// (`"b/caf\303\251.txt"`: not ASCII, or with tabs, quotes, backslashes or newlines) are
/// read back.
pub(crate) fn section_path(head: &str) -> Option<String> {
    for line in head.lines() {
        if let Some(p) = line
            .strip_prefix("rename to ")
            .or_else(|| line.strip_prefix("copy to "))
        {
            return header_path(p, "");
        }
    }
    for (key, side) in [("+++ ", "b/"), ("--- ", "a/")] {
        if let Some(p) = head
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|p| header_path(p, side))
        {
            return Some(p);
        }
    }
    let rest = head.lines().next()?.strip_prefix("diff --git ")?;
    if rest.ends_with('"') {
        // The second name quoted: it starts at the last quote not escaped.
        let start = rest.rfind(" \"b/")? + 1;
        return header_path(&rest[start..], "b/");
    }
    let rest = rest.strip_prefix("a/")?;
    let n = rest.len().checked_sub(3)? / 2;
    (rest.len() == 2 * n + 3 && rest.get(n..n + 3) == Some(" b/") && rest[..n] == rest[n + 3..])
        .then(|| rest[..n].to_owned())
}

/// A name from a patch header, unquoted, with `side` (`a/`, `b/`) taken off; `None` for
/// `/dev/null` or a name without that side.
fn header_path(text: &str, side: &str) -> Option<String> {
    let text = text.trim_end_matches(['\n', '\r']);
    let name = match text.strip_prefix('"') {
        Some(quoted) => unquote(quoted.strip_suffix('"')?)?,
        // git ends a name holding a space with a tab, for other tools.
        None => text.trim_end_matches('\t').to_owned(),
    };
    name.strip_prefix(side).map(str::to_owned)
}

/// Reads git's C-style quoting (`\t`, `\n`, `\"`, `\\`, `\ooo` octal bytes).
fn unquote(text: &str) -> Option<String> {
    let mut out = Vec::with_capacity(text.len());
    let mut bytes = text.bytes();
    while let Some(b) = bytes.next() {
        if b != b'\\' {
            out.push(b);
            continue;
        }
        out.push(match bytes.next()? {
            b'a' => 7,
            b'b' => 8,
            b't' => b'\t',
            b'n' => b'\n',
            b'v' => 11,
            b'f' => 12,
            b'r' => b'\r',
            d @ b'0'..=b'3' => {
                let (d2, d3) = (bytes.next()?, bytes.next()?);
                if !(b'0'..=b'7').contains(&d2) || !(b'0'..=b'7').contains(&d3) {
                    return None;
                }
                (d - b'0') * 64 + (d2 - b'0') * 8 + (d3 - b'0')
            }
            other => other,
        });
    }
    Some(crate::text::name_from_bytes(&out).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(out: &[u8], ignore_whitespace: bool) -> (Vec<FileChange>, bool) {
        read_diff(&mut &out[..], ignore_whitespace)
    }

    #[test]
    fn records_say_what_happened_and_patches_find_their_files() {
        let out = b":100644 100644 aaa bbb M\0a.txt\0:100644 000000 ccc 000 D\0gone.txt\0\
:100644 100755 ddd ddd M\0run.sh\0:100644 100644 eee fff R090\0old name\0new name\0\
:000000 100644 000 ggg A\0new.bin\0\
1\t0\ta.txt\0\
0\t1\tgone.txt\0\
0\t0\trun.sh\0\
2\t1\t\0old name\0new name\0\
-\t-\tnew.bin\0\0\
diff --git a/a.txt b/a.txt\nindex aaa..bbb 100644\n--- a/a.txt\n+++ b/a.txt\n@@ -1 +1,2 @@\n a\n+b\n\
diff --git a/gone.txt b/gone.txt\ndeleted file mode 100644\n--- a/gone.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\n\
diff --git a/run.sh b/run.sh\nold mode 100644\nnew mode 100755\n\
diff --git a/old name b/new name\nsimilarity index 90%\nrename from old name\nrename to new name\n@@ -1 +1,2 @@\n-p\n+q\n+r\n\
diff --git a/new.bin b/new.bin\nnew file mode 100644\nBinary files /dev/null and b/new.bin differ\n";
        let (files, to_the_end) = read(out, false);
        assert!(to_the_end);
        let summary: Vec<(&str, ChangeKind, u64, u64)> = files
            .iter()
            .map(|f| (f.path.as_str(), f.kind, f.added, f.removed))
            .collect();
        assert_eq!(
            summary,
            [
                ("a.txt", ChangeKind::Modified, 1, 0),
                ("gone.txt", ChangeKind::Deleted, 0, 1),
                ("run.sh", ChangeKind::Modified, 0, 0),
                ("new name", ChangeKind::Renamed, 2, 1),
                ("new.bin", ChangeKind::Added, 0, 0),
            ]
        );
        assert_eq!(files[0].patch, "@@ -1 +1,2 @@\n a\n+b\n");
        assert_eq!(files[1].patch, "@@ -1 +0,0 @@\n-x\n");
        assert_eq!(
            files[2].mode_change,
            Some(("100644".into(), "100755".into()))
        );
        assert_eq!(files[3].old_path.as_deref(), Some("old name"));
        assert!(files[3].patch.starts_with("@@ -1 +1,2 @@\n-p\n"));
        assert!(files[4].binary && files[4].patch.is_empty());
    }

    #[test]
    fn whitespace_only_files_are_listed_by_raw_records_alone() {
        let out = b":100644 100644 a b M\0d\0:100644 100644 c d M\0e\0\
1\t0\te\0\0diff --git a/e b/e\n--- a/e\n+++ b/e\n@@ -0,0 +1 @@\n+e\n";
        let (files, _) = read(out, true);
        assert!(files[0].whitespace_only && !files[1].whitespace_only);
        assert_eq!(files[1].patch, "@@ -0,0 +1 @@\n+e\n");
    }

    #[test]
    fn a_huge_patch_is_dropped_and_its_neighbours_kept() {
        let mut out = b":100644 100644 a b M\0big\0:000000 100644 0 c A\0after\0\
9\t0\tbig\0\
1\t0\tafter\0\0\
diff --git a/big b/big\n--- a/big\n+++ b/big\n@@ -0,0 +1,9 @@\n"
            .to_vec();
        let line = format!("+{}\n", "x".repeat(1023));
        for _ in 0..(MAX_FILE_PATCH_BYTES / 1024 + 10) {
            out.extend_from_slice(line.as_bytes());
        }
        out.extend_from_slice(
            b"diff --git a/after b/after\nnew file mode 100644\n--- /dev/null\n+++ b/after\n@@ -0,0 +1 @@\n+ok\n",
        );
        let (files, to_the_end) = read(&out, false);
        assert!(to_the_end);
        assert!(files[0].too_large && files[0].patch.is_empty());
        assert_eq!(files[1].kind, ChangeKind::Added);
        assert_eq!(files[1].patch, "@@ -0,0 +1 @@\n+ok\n");
        // Stopped inside the patch: the file being read is not shown in part, nor the next.
        let (files, to_the_end) = read_at_most(&mut &out[..], false, out.len() as u64 / 4);
        assert!(!to_the_end);
        assert!(files[0].too_large && files[0].patch.is_empty());
        assert!(files[1].too_large && files[1].patch.is_empty());
    }

    #[test]
    fn quoted_names_in_headers_find_their_files() {
        let out = ":100644 100644 a b M\0café.txt\0:100644 100644 c d M\0tab\there\0\
:000000 100644 0 e A\0quo\"te\0\
1\t0\tcafé.txt\0\
1\t0\ttab\there\0\
1\t0\tquo\"te\0\0\
diff --git \"a/caf\\303\\251.txt\" \"b/caf\\303\\251.txt\"\n--- \"a/caf\\303\\251.txt\"\n+++ \"b/caf\\303\\251.txt\"\n@@ -1 +1,2 @@\n x\n+é\n\
diff --git \"a/tab\\there\" \"b/tab\\there\"\n--- \"a/tab\\there\"\n+++ \"b/tab\\there\"\n@@ -1 +1,2 @@\n x\n+t\n\
diff --git \"a/quo\\\"te\" \"b/quo\\\"te\"\nnew file mode 100644\n--- /dev/null\n+++ \"b/quo\\\"te\"\n@@ -0,0 +1 @@\n+q\n";
        let (files, _) = read(out.as_bytes(), false);
        assert_eq!(files[0].patch, "@@ -1 +1,2 @@\n x\n+é\n");
        assert_eq!(files[1].patch, "@@ -1 +1,2 @@\n x\n+t\n");
        assert_eq!(files[2].patch, "@@ -0,0 +1 @@\n+q\n");
        assert_eq!(
            section_path("diff --git \"a/x\" \"b/y \\\"b/z\"\n"),
            Some("y \"b/z".to_owned())
        );
        assert_eq!(
            section_path("diff --git a/sp ace b/sp ace\n+++ b/sp ace\t\n").as_deref(),
            Some("sp ace")
        );
        assert_eq!(unquote("bad\\39"), None);
    }

    #[test]
    fn a_line_longer_than_a_file_may_hold_is_never_kept_whole() {
        let mut out = b":100644 100644 a b M\0min.js\0:100644 100644 c d M\0next\0\
1\t1\tmin.js\0\
1\t0\tnext\0\0\
diff --git a/min.js b/min.js\n--- a/min.js\n+++ b/min.js\n@@ -1 +1 @@\n-old\n+"
            .to_vec();
        out.extend(std::iter::repeat_n(b'x', MAX_FILE_PATCH_BYTES * 2));
        out.extend_from_slice(
            b"\ndiff --git a/next b/next\n--- a/next\n+++ b/next\n@@ -1 +1,2 @@\n x\n+y\n",
        );
        let mut line = Vec::new();
        let mut reader = &out[..];
        while read_line(&mut reader, &mut line, 100).unwrap().is_some() {
            assert!(line.len() <= 100);
        }
        let (files, to_the_end) = read(&out, false);
        assert!(to_the_end);
        assert!(files[0].too_large && files[0].patch.is_empty());
        assert_eq!(files[1].patch, "@@ -1 +1,2 @@\n x\n+y\n");
    }

    #[test]
    fn two_files_that_swap_names_keep_their_own_patches() {
        let out = b":100644 100644 a b R090\0a\0b\0:100644 100644 c d R090\0b\0a\0\
1\t0\t\0a\0b\0\
2\t0\t\0b\0a\0\0\
diff --git a/a b/b\nsimilarity index 90%\nrename from a\nrename to b\n@@ -1 +1,2 @@\n x\n+one\n\
diff --git a/b b/a\nsimilarity index 90%\nrename from b\nrename to a\n@@ -1 +1,3 @@\n y\n+two\n+two\n";
        let (files, _) = read(out, false);
        assert_eq!((files[0].path.as_str(), files[0].added), ("b", 1));
        assert!(files[0].patch.contains("+one") && !files[0].patch.contains("+two"));
        assert_eq!((files[1].path.as_str(), files[1].added), ("a", 2));
        assert!(files[1].patch.contains("+two") && !files[1].patch.contains("+one"));
    }
}
