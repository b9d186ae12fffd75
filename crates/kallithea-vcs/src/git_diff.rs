//! In-process diffs of plain changesets: files added, changed or deleted, compared line by
//! line with imara-diff (Myers, then a port of git's indent heuristic, `git_slider_end`) and
//! written as git writes unified hunks (`@@ -a,b +c,d @@ function`, `\ No newline at end of
//! file`). Where Myers finds another of several minimal diffs than git's xdiff does, a change
//! can still sit a line or two away from where `git diff` puts it (same lines added and
//! removed); the raw diff, whitespace-ignoring views and comparisons come from git itself.
//!
//! Anything git would treat differently is left to `git diff-tree` (the caller's fallback):
//! possible renames (a file added and one deleted in the same changeset), type changes,
//! symlinks and submodules, `.gitattributes` (which can make a file binary or change its
//! diff driver), ignoring whitespace, big blobs and changesets touching many files.

use gix::ObjectId;
use imara_diff::{Algorithm, Diff, InternedInput};

use crate::Result;
use crate::git_objects::Objects;
use crate::read::{ChangeKind, FileChange};

/// Files larger than this are left to git.
const MAX_BLOB: u64 = 8 * 1024 * 1024;
/// Changesets touching more files than this are left to git.
const MAX_FILES: usize = 500;
/// git reads this many bytes to decide that a file is binary (a NUL among them).
const BINARY_PROBE: usize = 8000;

/// One side of a changed path.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Side {
    mode: u16,
    id: ObjectId,
}

/// Paths that differ between two trees, or `None` when git should do it.
type Changed = Vec<(String, Option<Side>, Option<Side>)>;

fn is_regular(mode: u16) -> bool {
    mode == 0o100644 || mode == 0o100755
}

/// The changes from tree `from` (none for a first changeset) to `to`, with `context` lines
/// around each hunk; `None` when the changeset is not plain enough (see the module doc).
pub(crate) fn plain_changes(
    objects: &Objects,
    from: Option<ObjectId>,
    to: ObjectId,
    context: u32,
    max_patch_bytes: usize,
) -> Result<Option<Vec<FileChange>>> {
    // Attributes outside the tree can change how git diffs a file.
    if objects.git_dir().join("info/attributes").exists() {
        return Ok(None);
    }
    let mut changed = Vec::new();
    if !walk(objects, from, Some(to), "", 0, &mut changed)? {
        return Ok(None);
    }
    let added = changed.iter().any(|(_, a, b)| a.is_none() && b.is_some());
    let deleted = changed.iter().any(|(_, a, b)| a.is_some() && b.is_none());
    if added && deleted {
        return Ok(None);
    }
    // Every blob's size before any is read: a big one anywhere leaves the whole diff to git.
    for (_, old, new) in &changed {
        for side in [old, new].into_iter().flatten() {
            match objects.size(side.id) {
                Ok(n) if n <= MAX_BLOB => {}
                _ => return Ok(None),
            }
        }
    }
    let mut files = Vec::with_capacity(changed.len());
    let mut patch_bytes = 0usize;
    for (path, old, new) in changed {
        let read = |side: Option<Side>| -> Result<Option<Vec<u8>>> {
            match side {
                None => Ok(Some(Vec::new())),
                Some(s) => objects.blob(s.id),
            }
        };
        let (Some(a), Some(b)) = (read(old)?, read(new)?) else {
            return Ok(None);
        };
        let kind = match (old, new) {
            (None, _) => ChangeKind::Added,
            (_, None) => ChangeKind::Deleted,
            _ => ChangeKind::Modified,
        };
        let binary = [&a, &b]
            .iter()
            .any(|t| t[..t.len().min(BINARY_PROBE)].contains(&0));
        let (patch, added, removed) = if binary {
            (String::new(), 0, 0)
        } else {
            unified(&a, &b, context)
        };
        // A patch past the limit for one file, or past what is left for all, is left out
        // (as `git_patch` does): the file is listed without it.
        let too_large = patch.len() > crate::git_patch::MAX_FILE_PATCH_BYTES
            || patch_bytes + patch.len() > max_patch_bytes;
        if !too_large {
            patch_bytes += patch.len();
        }
        files.push(FileChange {
            path,
            old_path: None,
            kind,
            added,
            removed,
            binary,
            patch: if too_large { String::new() } else { patch },
            too_large,
            whitespace_only: false,
            mode_change: match (old, new) {
                (Some(o), Some(n)) if o.mode != n.mode => {
                    Some((format!("{:o}", o.mode), format!("{:o}", n.mode)))
                }
                _ => None,
            },
        });
    }
    Ok(Some(files))
}

/// Folders nested deeper than this are left to git.
const MAX_DEPTH: usize = 256;

const TREE: u16 = 0o040000;

/// Collects the paths that differ below two trees, in git's order (byte order of the full
/// path, as git sorts tree entries with folders compared as `name/`). False when something
/// needs git: a type change, a symlink, a submodule, a `.gitattributes` in any folder passed
/// through, more than [`MAX_FILES`] files, folders deeper than [`MAX_DEPTH`] or an unreadable
/// tree.
fn walk(
    objects: &Objects,
    a: Option<ObjectId>,
    b: Option<ObjectId>,
    prefix: &str,
    depth: usize,
    out: &mut Changed,
) -> Result<bool> {
    if a == b {
        return Ok(true);
    }
    if depth > MAX_DEPTH {
        return Ok(false);
    }
    let side = |e: Option<&gix::objs::tree::EntryRef<'_>>| {
        e.map(|e| Side {
            mode: e.mode.value(),
            id: e.oid.to_owned(),
        })
    };
    let mut plain = true;
    let read = objects.tree_pairs(a, b, |old, new| {
        let name = new.or(old).map_or(&b""[..], |e| e.filename.as_ref());
        if name == b".gitattributes" {
            plain = false;
            return Ok(false);
        }
        let (o, n) = (side(old), side(new));
        if o == n {
            return Ok(true);
        }
        let text = crate::text::name_from_bytes(name);
        let path = if prefix.is_empty() {
            text.into_owned()
        } else {
            format!("{prefix}/{text}")
        };
        let tree = |s: Option<Side>| s.filter(|s| s.mode == TREE).map(|s| s.id);
        plain = match (o.map(|s| s.mode), n.map(|s| s.mode)) {
            (Some(TREE), Some(TREE)) | (Some(TREE), None) | (None, Some(TREE)) => {
                walk(objects, tree(o), tree(n), &path, depth + 1, out)?
            }
            (Some(x), Some(y)) if is_regular(x) && is_regular(y) => {
                out.push((path, o, n));
                true
            }
            (Some(x), None) | (None, Some(x)) if is_regular(x) => {
                out.push((path, o, n));
                true
            }
            // Symlinks, submodules.
            _ => false,
        };
        Ok(plain && out.len() <= MAX_FILES)
    })?;
    Ok(plain && read.is_some() && out.len() <= MAX_FILES)
}

/// The unified diff of two texts (hunks only) with its added and removed line counts.
fn unified(a: &[u8], b: &[u8], context: u32) -> (String, u64, u64) {
    let input = InternedInput::new(a, b);
    let mut diff = Diff::compute(Algorithm::Myers, &input);
    let indent = |t: imara_diff::Token| git_indent(input.interner[t]);
    diff.postprocess_with_heuristic(
        &input,
        |tokens: &[imara_diff::Token], hunk: std::ops::Range<u32>, earliest_end: u32| {
            git_slider_end(tokens.len(), &|i| indent(tokens[i]), hunk, earliest_end)
        },
    );
    let (added, removed) = (diff.count_additions() as u64, diff.count_removals() as u64);
    let before: Vec<&[u8]> = input.before.iter().map(|t| input.interner[*t]).collect();
    let after: Vec<&[u8]> = input.after.iter().map(|t| input.interner[*t]).collect();
    let mut out = String::new();
    // Hunks closer than twice the context are joined, as git joins them.
    let mut groups: Vec<Vec<imara_diff::Hunk>> = Vec::new();
    for h in diff.hunks() {
        match groups.last_mut() {
            Some(g) if h.before.start - g.last().map_or(0, |l| l.before.end) <= 2 * context => {
                g.push(h)
            }
            _ => groups.push(vec![h]),
        }
    }
    for group in groups {
        let (first, last) = (&group[0], &group[group.len() - 1]);
        let b_start = first.before.start.saturating_sub(context);
        let a_start = first.after.start - (first.before.start - b_start);
        let b_end = (last.before.end + context).min(before.len() as u32);
        let a_end = last.after.end + (b_end - last.before.end);
        let range = |start: u32, end: u32| match end - start {
            0 => format!("{start},0"),
            1 => format!("{}", start + 1),
            n => format!("{},{n}", start + 1),
        };
        out.push_str(&format!(
            "@@ -{} +{} @@{}\n",
            range(b_start, b_end),
            range(a_start, a_end),
            function_line(&before, b_start)
        ));
        let mut at = b_start;
        for h in &group {
            for line in &before[at as usize..h.before.start as usize] {
                push_line(&mut out, ' ', line);
            }
            for line in &before[h.before.start as usize..h.before.end as usize] {
                push_line(&mut out, '-', line);
            }
            for line in &after[h.after.start as usize..h.after.end as usize] {
                push_line(&mut out, '+', line);
            }
            at = h.before.end;
        }
        for line in &before[at as usize..b_end as usize] {
            push_line(&mut out, ' ', line);
        }
    }
    (out, added, removed)
}

/// A line's indent as git's indent heuristic counts it (tabs to 8, at most 200); -1 for a
/// line of only whitespace.
fn git_indent(line: &[u8]) -> i64 {
    let mut indent = 0;
    for &c in line {
        match c {
            b' ' => indent += 1,
            b'\t' => indent += 8 - indent % 8,
            b'\n' | b'\r' | 0x0b | 0x0c => {}
            _ => return indent,
        }
        if indent >= 200 {
            return 200;
        }
    }
    -1
}

/// Where git's indent heuristic puts a group of added (or removed) lines that can slide:
/// the end it picks between `earliest_end` and the group's lowest place, `hunk`. A port of
/// xdiff's `xdl_change_compact` scoring (`measure_split`, `score_add_split`), so that pages
/// place ambiguous changes where `git diff` does (imara-diff's own heuristic differs near
/// blank lines and the end of a file).
fn git_slider_end(
    lines: usize,
    indent: &dyn Fn(usize) -> i64,
    hunk: std::ops::Range<u32>,
    earliest_end: u32,
) -> u32 {
    const MAX_BLANKS: i64 = 20;
    const MAX_SLIDING: i64 = 100;
    let n = lines as i64;
    // From line `from` on, a line at a time by `step`: how many blank lines come first, and
    // the indent of the line after them (-1 past the file's edge, 0 past MAX_BLANKS blanks).
    let nearest = |from: i64, step: i64| {
        let (mut blanks, mut i) = (0, from);
        while (0..n).contains(&i) {
            let level = indent(i as usize);
            if level != -1 {
                return (blanks, level);
            }
            blanks += 1;
            if blanks == MAX_BLANKS {
                return (blanks, 0);
            }
            i += step;
        }
        (blanks, -1)
    };
    // (effective indent, penalty) of a split before line `split`, added to `score`.
    let add_split = |split: i64, score: &mut (i64, i64)| {
        let (end_of_file, line_indent) = match split >= n {
            true => (true, -1),
            false => (false, indent(split as usize)),
        };
        let (pre_blank, pre_indent) = nearest(split - 1, -1);
        let (post_blank, post_indent) = nearest(split + 1, 1);
        let mut penalty = 0;
        if pre_indent == -1 && pre_blank == 0 {
            penalty += 1;
        }
        if end_of_file {
            penalty += 21;
        }
        let post_blank = if line_indent == -1 { 1 + post_blank } else { 0 };
        let total_blank = pre_blank + post_blank;
        penalty += -30 * total_blank + 6 * post_blank;
        let effective = if line_indent != -1 {
            line_indent
        } else {
            post_indent
        };
        let blanks = total_blank != 0;
        if effective != -1 && pre_indent != -1 {
            if effective > pre_indent {
                penalty += if blanks { 10 } else { -4 };
            } else if effective < pre_indent {
                penalty += match (post_indent != -1 && post_indent > effective, blanks) {
                    (true, true) => 17,
                    (true, false) => 24,
                    (false, true) => 17,
                    (false, false) => 23,
                };
            }
        }
        score.0 += effective;
        score.1 += penalty;
    };
    let (end, size) = (hunk.end as i64, (hunk.end - hunk.start) as i64);
    let mut shift = (earliest_end as i64)
        .max(end - size - 1)
        .max(end - MAX_SLIDING);
    let mut best: Option<(i64, (i64, i64))> = None;
    while shift <= end {
        let mut score = (0, 0);
        add_split(shift, &mut score);
        add_split(shift - size, &mut score);
        let better = match best {
            None => true,
            Some((_, b)) => 60 * (score.0 - b.0).signum() + (score.1 - b.1) <= 0,
        };
        if better {
            best = Some((shift, score));
        }
        shift += 1;
    }
    best.map_or(hunk.end, |(s, _)| s as u32)
}

fn push_line(out: &mut String, mark: char, line: &[u8]) {
    out.push(mark);
    out.push_str(&crate::text::decode(line));
    if !line.ends_with(b"\n") {
        out.push_str("\n\\ No newline at end of file\n");
    }
}

/// What git shows after a hunk's `@@`: the nearest line above the hunk that starts with a
/// letter, `_` or `$` (git's default function line), cut to 80 bytes.
fn function_line(before: &[&[u8]], start: u32) -> String {
    for line in before[..start as usize].iter().rev() {
        if line
            .first()
            .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_' || *c == b'$')
        {
            let mut l = line.strip_suffix(b"\n").unwrap_or(line);
            // Cut before a UTF-8 character that would not fit, not through it.
            let mut end = l.len().min(80);
            while end > 0 && end < l.len() && l[end] & 0xC0 == 0x80 {
                end -= 1;
            }
            l = &l[..end];
            let text = crate::text::decode(l);
            return format!(" {}", text.trim_end());
        }
    }
    String::new()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::{DiffOptions, Repo, VcsRead};

    /// git as a user runs it, its output as text.
    #[test]
    #[allow(clippy::disallowed_methods)] // git diff --no-index exits 1 when the files differ
    fn ambiguous_changes_are_placed_where_git_places_them() {
        // Few distinct lines, many blank or repeated ones: where a change could sit in several
        // places, git's indent heuristic picks one; so must the page.
        let t = tempfile::tempdir().unwrap();
        let (a, b) = (t.path().join("a"), t.path().join("b"));
        const WORDS: [&str; 9] = [
            "\n",
            "\n",
            "}\n",
            "x\n",
            "    y = 1\n",
            "\tz\n",
            "def f():\n",
            "{\n",
            "        return 2\n",
        ];
        let mut seed = 11u64;
        let mut next = move |n: usize| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize % n
        };
        let mut differ = Vec::new();
        for case in 0..300 {
            let old: Vec<&str> = (0..next(25)).map(|_| WORDS[next(WORDS.len())]).collect();
            let mut new = old.clone();
            for _ in 0..=next(3) {
                let at = next(new.len() + 1);
                match next(3) {
                    0 => new.insert(at, WORDS[next(WORDS.len())]),
                    1 if at < new.len() => {
                        new.remove(at);
                    }
                    _ => {
                        for _ in 0..=next(3) {
                            new.insert(at, WORDS[next(WORDS.len())]);
                        }
                    }
                }
            }
            let (old, new) = (old.concat(), new.concat());
            std::fs::write(&a, &old).unwrap();
            std::fs::write(&b, &new).unwrap();
            let out = std::process::Command::new("git")
                .args([
                    "-c",
                    "core.quotepath=false",
                    "diff",
                    "--no-index",
                    "--no-color",
                    "-U3",
                ])
                .arg(&a)
                .arg(&b)
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .output()
                .unwrap();
            let git_text = String::from_utf8(out.stdout).unwrap();
            let git_hunks = git_text.find("@@").map_or("", |i| &git_text[i..]);
            let (mine, added, removed) = unified(old.as_bytes(), new.as_bytes(), 3);
            // Always the same changes as git counts them.
            let plus = git_hunks.lines().filter(|l| l.starts_with('+')).count() as u64;
            let minus = git_hunks.lines().filter(|l| l.starts_with('-')).count() as u64;
            assert_eq!((added, removed), (plus, minus), "case {case}");
            if mine != git_hunks {
                differ.push(format!(
                    "case {case}:\n{old:?}\n{new:?}\ngit:\n{git_hunks}mine:\n{mine}"
                ));
            }
        }
        // Where they still differ, Myers itself found another minimal diff than xdiff's (git's
        // heuristic then has no say): 4 of these 300 (imara-diff's own heuristic: 9).
        assert!(
            differ.len() <= 4,
            "{} of 300 differ; the first:\n{}",
            differ.len(),
            differ[0]
        );
        // A tester's case: a blank line and a line added after a blank line.
        let (mine, _, _) = unified(b"\n", b"\nline 18\n\n", 3);
        assert_eq!(mine, "@@ -1 +1,3 @@\n \n+line 18\n+\n");
    }

    fn git(dir: &std::path::Path, args: &[&str]) -> String {
        String::from_utf8_lossy(&crate::test_git::git(dir, args, "2024-01-01T00:00:00Z"))
            .into_owned()
    }

    /// A file of code-like lines: functions, indented bodies, blank lines.
    fn code(seed: &mut u64, lines: usize) -> Vec<String> {
        let mut next = || {
            *seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (*seed >> 33) as usize
        };
        (0..lines)
            .map(|i| match next() % 7 {
                0 => format!("def f{}(x):", next() % 50),
                1 => String::new(),
                2 => "    return x".to_owned(),
                3 => format!("    y = x + {}", next() % 5),
                4 => "}".to_owned(),
                5 => format!("int g{i}(void) {{"),
                _ => format!("    call({});", next() % 9),
            })
            .collect()
    }

    #[test]
    fn plain_diffs_are_the_ones_git_writes() {
        let t = tempfile::tempdir().unwrap();
        let w = t.path().join("w");
        std::fs::create_dir(&w).unwrap();
        git(&w, &["init", "-q"]);
        let mut seed = 7u64;
        let mut files: Vec<Vec<String>> = (0..6).map(|i| code(&mut seed, 40 + 30 * i)).collect();
        let write = |files: &[Vec<String>], seed: u64| {
            for (i, f) in files.iter().enumerate() {
                let mut text = f.join("\n");
                // Some files end without a newline.
                if !(i as u64 + seed).is_multiple_of(3) {
                    text.push('\n');
                }
                std::fs::create_dir_all(w.join(format!("d{}", i % 2))).unwrap();
                std::fs::write(w.join(format!("d{}/f{i}.txt", i % 2)), text).unwrap();
            }
        };
        write(&files, 0);
        std::fs::write(w.join("bin.dat"), b"\x00\x01\x02binary").unwrap();
        std::fs::write(w.join("empty"), b"").unwrap();
        git(&w, &["add", "-A"]);
        git(&w, &["commit", "-q", "-m", "first"]);
        for round in 1..40u64 {
            let mut rng = seed;
            for f in files.iter_mut() {
                rng = rng.wrapping_mul(6364136223846793005).wrapping_add(round);
                let at = (rng >> 33) as usize % (f.len() + 1);
                match (rng >> 40) % 4 {
                    0 => {
                        let new = code(&mut seed, 1 + (rng >> 50) as usize % 6);
                        f.splice(at..at, new);
                    }
                    1 if f.len() > 5 => {
                        let end = (at + 1 + (rng >> 50) as usize % 4).min(f.len());
                        f.drain(at.min(end)..end);
                    }
                    2 if at < f.len() => f[at] = format!("{} // changed {round}", f[at]),
                    _ => {}
                }
            }
            write(&files, round);
            if round.is_multiple_of(7) {
                std::fs::write(w.join("bin.dat"), format!("\x00 {round}")).unwrap();
                std::fs::write(w.join("empty"), "now with text\n").unwrap();
            }
            if round == 20 {
                std::fs::write(w.join(format!("new-{round}.txt")), "a\nb\n").unwrap();
            }
            if round == 30 {
                std::fs::remove_file(w.join("new-20.txt")).unwrap();
            }
            git(&w, &["add", "-A"]);
            git(
                &w,
                &[
                    "commit",
                    "-q",
                    "--allow-empty",
                    "-m",
                    &format!("round {round}"),
                ],
            );
        }
        git(&w, &["clone", "-q", "--bare", ".", "../bare.git"]);
        let bare = t.path().join("bare.git");
        let repo = crate::git_read::GitRepo::new(&bare);
        let objects = Objects::open(&bare).unwrap();
        let ids = git(&bare, &["rev-list", "main"]);
        let mut compared = 0;
        for id in ids.lines() {
            let cs = objects.commit(id).unwrap().unwrap();
            let from = cs
                .parents
                .first()
                .map(|p| objects.commit_tree(&p.0).unwrap().unwrap());
            let to = objects.commit_tree(id).unwrap().unwrap();
            for context in [3, 0, 10] {
                let Some(mine) = plain_changes(&objects, from, to, context, usize::MAX).unwrap()
                else {
                    continue;
                };
                let opts = DiffOptions {
                    context,
                    ignore_whitespace: false,
                };
                let theirs = crate::git_read::tests_support::changes_by_git(&repo, &cs, opts);
                assert_eq!(mine, theirs, "{id} with {context} lines of context");
                compared += 1;
            }
        }
        assert!(compared > 100, "{compared}");
        // Folders nested deeper than git_diff goes are left to git, which still answers.
        let mut deep = w.clone();
        for _ in 0..MAX_DEPTH + 2 {
            deep.push("d");
        }
        std::fs::create_dir_all(&deep).unwrap();
        std::fs::write(deep.join("deep.txt"), "deep\n").unwrap();
        git(&w, &["add", "-A"]);
        git(&w, &["commit", "-q", "-m", "deep"]);
        git(&w, &["push", "-q", bare.to_str().unwrap(), "main"]);
        let objects = Objects::open(&bare).unwrap();
        let deep_id = git(&bare, &["rev-parse", "main"]).trim().to_owned();
        let cs = objects.commit(&deep_id).unwrap().unwrap();
        let from = objects.commit_tree(&cs.parents[0].0).unwrap();
        let to = objects.commit_tree(&deep_id).unwrap().unwrap();
        assert!(
            plain_changes(&objects, from, to, 3, usize::MAX)
                .unwrap()
                .is_none()
        );
        let r = Repo::open_git(&bare).unwrap();
        let files = r
            .changes(&crate::read::ChangesetId(deep_id), DiffOptions::default())
            .unwrap();
        assert!(files[0].path.ends_with("/d/deep.txt") && files[0].added == 1);
        // Through the backend too.
        let tip = crate::read::ChangesetId(ids.lines().next().unwrap().to_owned());
        assert!(!r.changes(&tip, DiffOptions::default()).unwrap().is_empty());
    }
}
