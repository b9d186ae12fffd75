//! Turning a file's unified diff into rows for the unified and side-by-side tables, and the
//! choices a diff page is shown with (layout, whitespace, context, cut-off) with the links
//! that change one of them.

use kallithea_core::browse::DiffOptions;

/// How a diff page is asked to show its diff.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DiffChoice {
    pub side_by_side: bool,
    pub ignorews: bool,
    pub context: u32,
    /// Every file's diff, however large (`fulldiff=1`).
    pub full: bool,
}

/// The most context lines a page may ask for.
pub const MAX_CONTEXT: u32 = 100;

impl DiffChoice {
    /// From a page's query (`ignorews=1`, `context=N`, `fulldiff=1`); side by side is given,
    /// as pages ask for it differently.
    pub fn from_query(q: &[(String, String)], side_by_side: bool) -> Self {
        let get = |name: &str| q.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        Self {
            side_by_side,
            ignorews: get("ignorews") == Some("1"),
            context: get("context")
                .and_then(|c| c.parse::<u32>().ok())
                .unwrap_or(3)
                .min(MAX_CONTEXT),
            full: get("fulldiff") == Some("1"),
        }
    }

    pub fn opts(&self) -> DiffOptions {
        DiffOptions {
            context: self.context,
            ignore_whitespace: self.ignorews,
        }
    }

    /// A key part naming these choices, for caches of rendered diffs.
    pub fn key(&self) -> String {
        format!(
            "{}:{}:{}:{}",
            self.side_by_side, self.ignorews, self.context, self.full
        )
    }

    /// The links that change one choice and keep the rest. `unified` is the page's address
    /// (path only); `side` the side-by-side address, or `None` when side by side is
    /// `diff=sidebyside` on the same address; `keep` the query the page needs whatever the
    /// choices (already encoded pairs, such as the revisions of a file diff).
    pub fn nav(&self, unified: &str, side: Option<&str>, keep: &[(&str, String)]) -> DiffNav {
        let link = |c: DiffChoice| {
            let mut pairs: Vec<(&str, String)> = keep.to_vec();
            let base = match (c.side_by_side, side) {
                (true, Some(s)) => s,
                (true, None) => {
                    pairs.push(("diff", "sidebyside".into()));
                    unified
                }
                (false, _) => unified,
            };
            if c.ignorews {
                pairs.push(("ignorews", "1".into()));
            }
            if c.context != 3 {
                pairs.push(("context", c.context.to_string()));
            }
            if c.full {
                pairs.push(("fulldiff", "1".into()));
            }
            let query: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
            match query.is_empty() {
                true => base.to_owned(),
                false => format!("{base}?{}", query.join("&")),
            }
        };
        // Written into pages as it is: only fixed names and a number, `&` as `&amp;`.
        let mut options = String::new();
        if self.ignorews {
            options.push_str("&amp;ignorews=1");
        }
        if self.context != 3 {
            options.push_str(&format!("&amp;context={}", self.context));
        }
        DiffNav {
            options,
            side_by_side: self.side_by_side,
            ignorews: self.ignorews,
            unified_href: link(Self {
                side_by_side: false,
                ..*self
            }),
            side_href: link(Self {
                side_by_side: true,
                ..*self
            }),
            whitespace_href: link(Self {
                ignorews: !self.ignorews,
                ..*self
            }),
            context_href: (self.context < MAX_CONTEXT).then(|| {
                link(Self {
                    context: (self.context + 10).min(MAX_CONTEXT),
                    ..*self
                })
            }),
            full_href: link(Self {
                full: true,
                ..*self
            }),
        }
    }
}

/// Links that show a diff another way, each keeping the other choices.
#[derive(Clone, Debug, Default)]
pub struct DiffNav {
    /// The whitespace and context choices as query pairs, each after an `&amp;` (HTML), for
    /// links to one file's diff that keep them.
    pub options: String,
    pub side_by_side: bool,
    pub ignorews: bool,
    pub unified_href: String,
    pub side_href: String,
    pub whitespace_href: String,
    /// More lines around each change; `None` at [`MAX_CONTEXT`], the most a page shows.
    pub context_href: Option<String>,
    /// The same page with every diff shown.
    pub full_href: String,
}

/// One row of a unified diff table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiffRow {
    pub kind: RowKind,
    pub old_no: Option<u32>,
    pub new_no: Option<u32>,
    pub text: String,
    /// The text highlighted (escaped HTML), when a syntax fits the file.
    pub html: Option<String>,
    /// An added or removed line that ends in a carriage return (a CR LF line ending), marked
    /// so that a change of line endings alone is visible.
    pub crlf: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowKind {
    Hunk,
    Context,
    Added,
    Removed,
    Note,
}

impl RowKind {
    pub fn class(self) -> &'static str {
        match self {
            Self::Hunk => "hunk",
            Self::Context => "ctx",
            Self::Added => "add",
            Self::Removed => "del",
            Self::Note => "note",
        }
    }
}

fn hunk_starts(line: &str) -> (u32, u32) {
    // @@ -a,b +c,d @@
    let mut old = 0;
    let mut new = 0;
    for part in line.split_whitespace().skip(1).take(2) {
        let n = part[1..]
            .split(',')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        if part.starts_with('-') {
            old = n;
        } else if part.starts_with('+') {
            new = n;
        }
    }
    (old, new)
}

/// Rows of a unified diff (`patch` starts at its first `@@`).
pub fn unified(patch: &str) -> Vec<DiffRow> {
    let (mut old, mut new) = (0u32, 0u32);
    let mut rows = Vec::new();
    // Not `lines()`: it drops the `\r` of CR LF endings, which a diff may be all about.
    for line in patch.split_terminator('\n') {
        let (line, cr) = match line.strip_suffix('\r') {
            Some(l) => (l, true),
            None => (line, false),
        };
        let row = if line.starts_with("@@") {
            (old, new) = hunk_starts(line);
            DiffRow {
                kind: RowKind::Hunk,
                old_no: None,
                new_no: None,
                text: line.to_owned(),
                html: None,
                crlf: false,
            }
        } else if let Some(t) = line.strip_prefix('+') {
            new += 1;
            DiffRow {
                kind: RowKind::Added,
                old_no: None,
                new_no: Some(new - 1),
                text: t.to_owned(),
                html: None,
                crlf: cr,
            }
        } else if let Some(t) = line.strip_prefix('-') {
            old += 1;
            DiffRow {
                kind: RowKind::Removed,
                old_no: Some(old - 1),
                new_no: None,
                text: t.to_owned(),
                html: None,
                crlf: cr,
            }
        } else if let Some(t) = line.strip_prefix('\\') {
            // Git's note is about the line before it: say which version's.
            let side = match rows.last().map(|r: &DiffRow| r.kind) {
                Some(RowKind::Removed) => " (old version)",
                Some(RowKind::Added) => " (new version)",
                _ => "",
            };
            DiffRow {
                kind: RowKind::Note,
                old_no: None,
                new_no: None,
                text: format!("{}{side}", t.trim()),
                html: None,
                crlf: false,
            }
        } else {
            let t = line.strip_prefix(' ').unwrap_or(line);
            old += 1;
            new += 1;
            DiffRow {
                kind: RowKind::Context,
                old_no: Some(old - 1),
                new_no: Some(new - 1),
                text: t.to_owned(),
                html: None,
                crlf: false,
            }
        };
        rows.push(row);
    }
    rows
}

/// One row of a side-by-side table: the old line on the left, the new on the right.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SideRow {
    pub hunk: Option<String>,
    /// Line number, the line as HTML (highlighted, or escaped text), class, and whether it
    /// ends in CR LF ([`DiffRow::crlf`]).
    pub left: Option<(u32, String, &'static str, bool)>,
    pub right: Option<(u32, String, &'static str, bool)>,
}

kallithea_core::weigh_fields! {
    DiffRow { text, html }
}

impl kallithea_core::cache::Weigh for SideRow {
    fn weigh(&self) -> usize {
        let text = |s: &Option<(u32, String, &str, bool)>| {
            s.as_ref().map_or(0, |(_, t, _, _)| t.capacity())
        };
        std::mem::size_of::<Self>()
            + self.hunk.as_ref().map_or(0, String::capacity)
            + text(&self.left)
            + text(&self.right)
    }
}
impl kallithea_core::cache::NotByte for SideRow {}

/// A row's line as HTML: its highlighted form, or its text escaped.
fn html(r: &DiffRow) -> String {
    match &r.html {
        Some(h) => h.clone(),
        None => {
            let mut out = String::with_capacity(r.text.len());
            crate::highlight::escape_into(&mut out, &r.text);
            out
        }
    }
}

/// What a line's cell gets when git notes that it has no newline at its end.
const NO_NEWLINE: &str = " <span class=\"nonl\">(no newline at end of file)</span>";

/// Pairs removed and added lines of each change block. Git's "\ No newline at end of file"
/// belongs to the line before it: it is written into that line's cell (both cells for a
/// context line) and does not split the block, so a last line changed only by its newline
/// still faces its new self.
pub fn side_by_side(rows: &[DiffRow]) -> Vec<SideRow> {
    let mut out = Vec::new();
    let mut dels: Vec<(&DiffRow, bool)> = Vec::new();
    let mut adds: Vec<(&DiffRow, bool)> = Vec::new();
    let cell = |(r, nonl): &(&DiffRow, bool), no: Option<u32>, class| {
        let mut h = html(r);
        if *nonl {
            h.push_str(NO_NEWLINE);
        }
        (no.unwrap_or(0), h, class, r.crlf)
    };
    let flush = |out: &mut Vec<SideRow>,
                 dels: &mut Vec<(&DiffRow, bool)>,
                 adds: &mut Vec<(&DiffRow, bool)>| {
        for i in 0..dels.len().max(adds.len()) {
            out.push(SideRow {
                hunk: None,
                left: dels.get(i).map(|d| cell(d, d.0.old_no, "del")),
                right: adds.get(i).map(|a| cell(a, a.0.new_no, "add")),
            });
        }
        dels.clear();
        adds.clear();
    };
    let mut previous: Option<RowKind> = None;
    for r in rows {
        match r.kind {
            RowKind::Removed => dels.push((r, false)),
            RowKind::Added => adds.push((r, false)),
            RowKind::Context => {
                flush(&mut out, &mut dels, &mut adds);
                out.push(SideRow {
                    hunk: None,
                    left: Some((r.old_no.unwrap_or(0), html(r), "ctx", false)),
                    right: Some((r.new_no.unwrap_or(0), html(r), "ctx", false)),
                });
            }
            RowKind::Note => match previous {
                Some(RowKind::Removed) => {
                    if let Some(last) = dels.last_mut() {
                        last.1 = true;
                    }
                }
                Some(RowKind::Added) => {
                    if let Some(last) = adds.last_mut() {
                        last.1 = true;
                    }
                }
                Some(RowKind::Context) => {
                    if let Some(SideRow {
                        left: Some(l),
                        right: Some(rt),
                        ..
                    }) = out.last_mut()
                    {
                        l.1.push_str(NO_NEWLINE);
                        rt.1.push_str(NO_NEWLINE);
                    }
                }
                _ => {}
            },
            RowKind::Hunk => {
                flush(&mut out, &mut dels, &mut adds);
                out.push(SideRow {
                    hunk: Some(r.text.clone()),
                    left: None,
                    right: None,
                });
            }
        }
        previous = Some(r.kind);
    }
    flush(&mut out, &mut dels, &mut adds);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_links_change_one_choice_and_keep_the_rest() {
        let q = vec![
            ("ignorews".to_owned(), "1".to_owned()),
            ("context".to_owned(), "500".to_owned()),
        ];
        let c = DiffChoice::from_query(&q, false);
        assert_eq!((c.ignorews, c.context, c.full), (true, 100, false));
        let keep = [("diff1", "a".to_owned()), ("diff2", "b".to_owned())];
        let nav = c.nav("/r/diff/x", Some("/r/diff-2way/x"), &keep);
        // At the most context there is no more to offer.
        assert_eq!(nav.context_href, None);
        assert_eq!(
            nav.side_href,
            "/r/diff-2way/x?diff1=a&diff2=b&ignorews=1&context=100"
        );
        assert_eq!(nav.whitespace_href, "/r/diff/x?diff1=a&diff2=b&context=100");
        assert_eq!(
            nav.full_href,
            "/r/diff/x?diff1=a&diff2=b&ignorews=1&context=100&fulldiff=1"
        );
        let plain = DiffChoice::from_query(&[], true).nav("/r/changeset/1", None, &[]);
        assert_eq!(plain.unified_href, "/r/changeset/1");
        assert_eq!(plain.full_href, "/r/changeset/1?diff=sidebyside&fulldiff=1");
        assert_eq!(
            plain.context_href.as_deref().unwrap(),
            "/r/changeset/1?diff=sidebyside&context=13"
        );
    }

    #[test]
    fn line_numbers_follow_the_hunk_header() {
        let rows =
            unified("@@ -10,3 +10,4 @@ fn x\n a\n-b\n+c\n+d\n e\n\\ No newline at end of file\n");
        let got: Vec<(RowKind, Option<u32>, Option<u32>, &str)> = rows
            .iter()
            .map(|r| (r.kind, r.old_no, r.new_no, r.text.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (RowKind::Hunk, None, None, "@@ -10,3 +10,4 @@ fn x"),
                (RowKind::Context, Some(10), Some(10), "a"),
                (RowKind::Removed, Some(11), None, "b"),
                (RowKind::Added, None, Some(11), "c"),
                (RowKind::Added, None, Some(12), "d"),
                (RowKind::Context, Some(12), Some(13), "e"),
                (RowKind::Note, None, None, "No newline at end of file"),
            ]
        );
        let sbs = side_by_side(&rows);
        assert_eq!(sbs[2].left.as_ref().map(|l| l.1.as_str()), Some("b"));
        assert_eq!(sbs[2].right.as_ref().map(|r| r.1.as_str()), Some("c"));
        assert!(sbs[3].left.is_none() && sbs[3].right.as_ref().unwrap().1 == "d");
        let rows = unified("@@ -1 +1 @@\n-c\n\\ No newline at end of file\n+c\n");
        assert_eq!(rows[2].text, "No newline at end of file (old version)");
        // The note goes with the context line before it, on both sides; no row of its own.
        assert_eq!(sbs.len(), 5);
        assert!(sbs[4].left.as_ref().unwrap().1.ends_with(NO_NEWLINE));
        assert!(sbs[4].right.as_ref().unwrap().1.ends_with(NO_NEWLINE));
    }

    #[test]
    fn a_last_line_that_gains_its_newline_faces_its_new_self() {
        // As git writes it: `c` without a newline, then with one.
        let rows = unified("@@ -1,3 +1,3 @@\n a\n b\n-c\n\\ No newline at end of file\n+c\n");
        let sbs = side_by_side(&rows);
        assert_eq!(sbs.len(), 4, "{sbs:?}");
        let last = &sbs[3];
        let (left, right) = (last.left.as_ref().unwrap(), last.right.as_ref().unwrap());
        assert_eq!((left.0, left.2), (3, "del"));
        assert_eq!((right.0, right.2), (3, "add"));
        assert_eq!(left.1, format!("c{NO_NEWLINE}"));
        assert_eq!(right.1, "c");
        // Both sides without one: each cell says so.
        let rows = unified(
            "@@ -1,2 +1,2 @@\n p\n-q\n\\ No newline at end of file\n+Q\n\\ No newline at end of file\n",
        );
        let sbs = side_by_side(&rows);
        assert_eq!(sbs.len(), 3, "{sbs:?}");
        assert_eq!(sbs[2].left.as_ref().unwrap().1, format!("q{NO_NEWLINE}"));
        assert_eq!(sbs[2].right.as_ref().unwrap().1, format!("Q{NO_NEWLINE}"));
    }
}
