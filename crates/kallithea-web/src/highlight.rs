//! Syntax highlighting as CSS classes (`hl-...`), never inline styles; the colours come from
//! `/_admin/static/highlight.css` (light and dark). The output is split into lines that each
//! open and close their own spans, for the numbered tables. Languages with a tree-sitter
//! grammar here (`tree`) are parsed by it; the others by syntect's regular expressions.

mod tree;

use std::collections::HashMap;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use syntect::highlighting::ThemeSet;
use syntect::html::{ClassStyle, css_for_theme_with_class_style};
use syntect::parsing::{
    BasicScopeStackOp, ParseState, Scope, ScopeStack, SyntaxReference, SyntaxSet,
};
use syntect::util::LinesWithEndings;

const CLASS_PREFIX: &str = "hl-";
const STYLE: ClassStyle = ClassStyle::SpacedPrefixed {
    prefix: CLASS_PREFIX,
};

/// Files larger than this are shown without highlighting.
pub const MAX_BYTES: usize = 256 * 1024;

/// Lines longer than this (minified code, data) make a file show without highlighting:
/// syntect's time on one line can grow far faster than its length.
const MAX_LINE_BYTES: usize = 16 * 1024;

/// The most time one text may take; past it the text is shown plain.
const BUDGET: Duration = Duration::from_secs(2);

/// Texts with fewer lines than this per core are highlighted on one thread.
const LINES_PER_THREAD: usize = 400;

fn syntaxes() -> &'static SyntaxSet {
    static SET: OnceLock<SyntaxSet> = OnceLock::new();
    SET.get_or_init(SyntaxSet::load_defaults_newlines)
}

/// The number of cores, asked once: the standard library reads the cgroup's CPU limit from
/// files on every call (tens of microseconds).
pub(crate) fn cores() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Highlighted lines of a file as HTML (escaped text inside spans), or `None` when no syntax
/// fits the file name or first line, the file is too large, or highlighting it would take
/// longer than the budget.
///
/// A long text is highlighted in two halves at once. The second half starts from a guess,
/// the state after a blank first line. When the first half ends in another state, the
/// second is highlighted again from the real state until the two agree after some line
/// (usually the next line at the top level); from there on the guess was right. (syntect's
/// parser state cannot move between threads, so states are compared by their printed form;
/// a state holding regex captures never compares equal, which costs time, not correctness.)
pub fn lines(path: &str, text: &str) -> Option<Vec<String>> {
    highlight(path, text, cores() > 1)
}

/// [`lines`] for a code block whose language is named by a token (a Markdown fence's
/// `python`, `rust`, `sh`, …), on one thread (blocks are short).
pub fn lines_in_language(language: &str, text: &str) -> Option<Vec<String>> {
    if let Some(grammar) = tree::for_token(language) {
        return in_tree(grammar, text);
    }
    let set = syntaxes();
    let syntax = set.find_syntax_by_token(language)?;
    (syntax.name != "Plain Text")
        .then(|| highlight_with(set, syntax, text, false))
        .flatten()
}

fn highlight(path: &str, text: &str, in_halves: bool) -> Option<Vec<String>> {
    if let Some(grammar) = tree::for_path(path) {
        return in_tree(grammar, text);
    }
    let set = syntaxes();
    let syntax = syntax_for(set, path, text)?;
    if let Some(grammar) = tree::for_syntect_name(&syntax.name) {
        return in_tree(grammar, text);
    }
    highlight_with(set, syntax, text, in_halves)
}

fn in_tree(grammar: usize, text: &str) -> Option<Vec<String>> {
    if text.len() > MAX_BYTES {
        return None;
    }
    tree::lines(grammar, text, Instant::now() + BUDGET)
}

fn highlight_with(
    set: &SyntaxSet,
    syntax: &SyntaxReference,
    text: &str,
    in_halves: bool,
) -> Option<Vec<String>> {
    if text.len() > MAX_BYTES {
        return None;
    }
    let src: Vec<&str> = LinesWithEndings::from(text).collect();
    if src.iter().any(|l| l.len() > MAX_LINE_BYTES) {
        return None;
    }
    let deadline = Instant::now() + BUDGET;
    let html = if in_halves && src.len() >= 2 * LINES_PER_THREAD {
        let (first, second) = src.split_at(src.len() / 2);
        std::thread::scope(|scope| {
            let guessed = scope.spawn(|| Guessed::run(set, syntax, second, deadline));
            let mut state = LineState::new(syntax);
            let mut html = state.run(set, first, deadline)?;
            let mut rest = guessed.join().ok().flatten()?;
            rest.correct(set, state, second, deadline)?;
            html.append(&mut rest.html);
            Some(html)
        })?
    } else {
        LineState::new(syntax).run(set, &src, deadline)?
    };
    Some(html)
}

/// [`lines`] for several texts, spread over the cores (the texts of a changeset's diffs).
pub fn lines_each(texts: &[(&str, &str)]) -> Vec<Option<Vec<String>>> {
    // Longest first, so that the threads finish close together.
    let mut order: Vec<usize> = (0..texts.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(texts[i].1.len()));
    let next = AtomicUsize::new(0);
    let threads = cores().min(texts.len()).max(1);
    let mut done: Vec<(usize, Option<Vec<String>>)> = std::thread::scope(|scope| {
        let work = || {
            let mut out = Vec::new();
            loop {
                let Some(&i) = order.get(next.fetch_add(1, Ordering::Relaxed)) else {
                    return out;
                };
                let (path, text) = texts[i];
                out.push((i, lines(path, text)));
            }
        };
        let helpers: Vec<_> = (1..threads).map(|_| scope.spawn(work)).collect();
        let mut all = work();
        for h in helpers {
            all.extend(h.join().unwrap_or_default());
        }
        all
    });
    // Each result goes to its text's place (a helper that failed leaves its texts plain).
    let mut out = vec![None; texts.len()];
    for (i, h) in done.drain(..) {
        out[i] = h;
    }
    out
}

fn syntax_for<'a>(set: &'a SyntaxSet, path: &str, text: &str) -> Option<&'a SyntaxReference> {
    let name = path.rsplit('/').next().unwrap_or(path);
    let ext = name.rsplit_once('.').map_or(name, |(_, e)| e);
    let syntax = set
        .find_syntax_by_extension(ext)
        .or_else(|| set.find_syntax_by_extension(name))
        .or_else(|| {
            text.lines()
                .next()
                .and_then(|l| set.find_syntax_by_first_line(l))
        })?;
    (syntax.name != "Plain Text").then_some(syntax)
}

/// Where highlighting stands between two lines: the parser's state and the open scopes.
struct LineState {
    parse: ParseState,
    scopes: ScopeStack,
    /// The opening tag of each scope met so far, `None` for scopes the stylesheet does not
    /// colour (syntect names scopes through one global lock; asking once per scope keeps two
    /// threads from queueing on it).
    tags: HashMap<Scope, Option<Box<str>>>,
}

impl LineState {
    fn new(syntax: &SyntaxReference) -> Self {
        Self {
            parse: ParseState::new(syntax),
            scopes: ScopeStack::new(),
            tags: HashMap::new(),
        }
    }

    /// The HTML of one line (without its newline), moving the state past it. The line
    /// reopens the spans still open from earlier lines and closes all it leaves open, so
    /// every line stands alone in the numbered table.
    fn line(&mut self, set: &SyntaxSet, line: &str) -> Option<String> {
        let ops = self.parse.parse_line(line, set).ok()?;
        let text = line.strip_suffix('\n').unwrap_or(line);
        let mut html = String::with_capacity(text.len() * 4);
        let tags = &mut self.tags;
        // Where the innermost spans that have no text yet start: a span closed before any
        // text is dropped rather than written empty.
        let mut empty: Vec<usize> = Vec::new();
        // For each open scope, whether it has a span.
        let mut spans: Vec<bool> = Vec::with_capacity(self.scopes.len() + 8);
        for scope in self.scopes.as_slice() {
            spans.push(open_span(&mut html, &mut empty, tags, *scope));
        }
        let mut at = 0;
        for (i, op) in &ops {
            let i = (*i).min(text.len());
            if i > at {
                escape_into(&mut html, &text[at..i]);
                empty.clear();
                at = i;
            }
            self.scopes
                .apply_with_hook(op, |basic, _| match basic {
                    BasicScopeStackOp::Push(scope) => {
                        spans.push(open_span(&mut html, &mut empty, tags, scope));
                    }
                    BasicScopeStackOp::Pop => {
                        if spans.pop() == Some(true) {
                            close_span(&mut html, &mut empty);
                        }
                    }
                })
                .ok()?;
        }
        if at < text.len() {
            escape_into(&mut html, &text[at..]);
            empty.clear();
        }
        while let Some(span) = spans.pop() {
            if span {
                close_span(&mut html, &mut empty);
            }
        }
        Some(html)
    }

    /// The HTML of some lines; `None` past the deadline.
    fn run(&mut self, set: &SyntaxSet, lines: &[&str], deadline: Instant) -> Option<Vec<String>> {
        let mut html = Vec::with_capacity(lines.len());
        for (i, line) in lines.iter().enumerate() {
            if i % 64 == 63 && Instant::now() > deadline {
                return None;
            }
            html.push(self.line(set, line)?);
        }
        Some(html)
    }

    /// A printed form that is equal only for equal states (`None`: not comparable).
    fn printed(&self) -> Option<(String, ScopeStack)> {
        let parse = format!("{:?}", self.parse);
        (!parse.contains("captures: Some")).then(|| (parse, self.scopes.clone()))
    }
}

/// Lines highlighted from a guessed starting state, with the state before each line (where
/// it was kept) and after the last.
struct Guessed {
    html: Vec<String>,
    after: Vec<Option<(String, ScopeStack)>>,
}

impl Guessed {
    fn run(
        set: &SyntaxSet,
        syntax: &SyntaxReference,
        lines: &[&str],
        deadline: Instant,
    ) -> Option<Guessed> {
        let mut state = LineState::new(syntax);
        state.line(set, "\n")?;
        let mut out = Guessed {
            html: Vec::with_capacity(lines.len()),
            after: Vec::with_capacity(lines.len() + 1),
        };
        out.after.push(state.printed());
        for (i, line) in lines.iter().enumerate() {
            if i % 64 == 63 && Instant::now() > deadline {
                return None;
            }
            out.html.push(state.line(set, line)?);
            // The state is printed after the first lines and then every 32nd: the guess is
            // usually corrected within a line, and printing costs time.
            let kept = i < 32 || i % 32 == 31;
            out.after.push(if kept { state.printed() } else { None });
        }
        Some(out)
    }

    /// Corrects the lines now that the real starting state is known: they are highlighted
    /// again until the real state and the guessed one agree.
    fn correct(
        &mut self,
        set: &SyntaxSet,
        mut state: LineState,
        lines: &[&str],
        deadline: Instant,
    ) -> Option<()> {
        let agrees = |state: &LineState, guessed: &Option<(String, ScopeStack)>| {
            guessed.is_some() && state.printed() == *guessed
        };
        for (i, line) in lines.iter().enumerate() {
            if agrees(&state, &self.after[i]) {
                return Some(());
            }
            if i % 64 == 63 && Instant::now() > deadline {
                return None;
            }
            self.html[i] = state.line(set, line)?;
        }
        Some(())
    }
}

/// Opens the span of a scope the stylesheet colours; false when the scope gets none.
fn open_span(
    html: &mut String,
    empty: &mut Vec<usize>,
    tags: &mut HashMap<Scope, Option<Box<str>>>,
    scope: Scope,
) -> bool {
    match open_tag(tags, scope) {
        Some(tag) => {
            empty.push(html.len());
            html.push_str(tag);
            true
        }
        None => false,
    }
}

/// `<span class="hl-a hl-b">` for the scope `a.b`, made once per scope; `None` when no rule
/// of the stylesheet could match it (most `meta.*` scopes), which keeps pages smaller.
fn open_tag(tags: &mut HashMap<Scope, Option<Box<str>>>, scope: Scope) -> Option<&str> {
    tags.entry(scope)
        .or_insert_with(|| {
            let name = scope.build_string();
            let atoms: Vec<&str> = name.split('.').collect();
            if !styled(&atoms) {
                return None;
            }
            let classes: Vec<String> = atoms.iter().map(|a| format!("{CLASS_PREFIX}{a}")).collect();
            let mut tag = String::from("<span class=\"");
            escape_into(&mut tag, &classes.join(" "));
            tag.push_str("\">");
            Some(tag.into_boxed_str())
        })
        .as_deref()
}

/// True when some compound selector of the stylesheet (like `.hl-string.hl-regexp`) names
/// only classes a span with these atoms would have: a span that no selector part can match
/// changes nothing on the page, whatever its ancestors or descendants.
fn styled(atoms: &[&str]) -> bool {
    // Classes the stylesheet writes with CSS escapes are not read back: keep their spans.
    let plain = |a: &&str| {
        a.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '-')
            && a.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    };
    if !atoms.iter().all(plain) {
        return true;
    }
    static PARTS: OnceLock<Vec<Vec<String>>> = OnceLock::new();
    let parts = PARTS.get_or_init(|| {
        let mut parts = Vec::new();
        for line in stylesheet().lines() {
            let line = line.trim();
            let Some(selectors) = line.strip_suffix('{') else {
                continue;
            };
            if !selectors.trim_start().starts_with('.') {
                continue;
            }
            for compound in selectors.split([',', ' ']).filter(|c| c.starts_with('.')) {
                let classes = compound
                    .split('.')
                    .filter(|c| !c.is_empty())
                    .filter_map(|c| c.strip_prefix(CLASS_PREFIX))
                    .map(str::to_owned)
                    .collect();
                parts.push(classes);
            }
        }
        parts
    });
    parts
        .iter()
        .any(|part| part.iter().all(|class| atoms.contains(&class.as_str())))
}

/// Closes the innermost span, or drops it when it holds nothing.
fn close_span(html: &mut String, empty: &mut Vec<usize>) {
    match empty.pop() {
        Some(start) => html.truncate(start),
        None => html.push_str("</span>"),
    }
}

/// Text as HTML: `&`, `<`, `>`, `"` and `'` escaped.
pub(crate) fn escape_into(out: &mut String, text: &str) {
    let mut last = 0;
    for (i, b) in text.bytes().enumerate() {
        let rep = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        out.push_str(&text[last..i]);
        out.push_str(rep);
        last = i + 1;
    }
    out.push_str(&text[last..]);
}

/// File extensions whose syntect syntaxes are prepared at start-up (the tree-sitter grammars
/// all are).
const COMMON: &[&str] = &[
    "md", "rst", "yaml", "sql", "xml", "pl", "lua", "scala", "hs",
];

/// Code in many languages at once, to lead each syntax through its common constructs.
const WARM_UP_SAMPLE: &str = r#"# note
// note
/* block
   note */
<!-- note -->
import os.path
from a import b as c
package main
use std::io::{self, Read};
#include <stdio.h>
@decorator(1)
class Name(Base):
    def method(self, x=1, *args, **kw) -> int:
        """Doc."""
        return f"{x!r} {y}" + 'c' + r"\d" + b"\x00" + 0x1F + 2.5e3
fn main() -> Result<(), E> { let mut v: Vec<u8> = vec![0, 1]; if a && !b { return Ok(()); } }
function f(a, b) { const s = `t ${a}`; let r = /re+/g; return a ?? b; }
int main(int argc, char **argv) { printf("%d\n", 42); return 0; }
public static void main(String[] args) { System.out.println("x"); }
func main() { x := map[string]int{"a": 1}; fmt.Println(x) }
SELECT a, b FROM t WHERE c = 'd' ORDER BY 1;
key: value
[section]
name = "value"
<div class="a" id='b'>text &amp; more</div>
.cls #id > a:hover { color: #fff; margin: 0 1px; }
{"key": [1, true, null]}
$var = array(1, 2); echo "$var {$x}";
"#;

/// Prepares the syntax definitions ahead of the first page that needs them: syntect reads a
/// language's definition and compiles each pattern when first tried (a few milliseconds per
/// language), so the common languages are run over a sample here, before the server answers.
pub fn warm_up() {
    tree::warm_up();
    for ext in COMMON {
        let _ = lines(&format!("warm-up.{ext}"), WARM_UP_SAMPLE);
    }
}

/// The stylesheet for the classes: a light theme, and a dark one for dark mode.
pub fn stylesheet() -> &'static str {
    static CSS: OnceLock<String> = OnceLock::new();
    CSS.get_or_init(|| {
        let themes = ThemeSet::load_defaults();
        let light = themes
            .themes
            .get("InspiredGitHub")
            .and_then(|t| css_for_theme_with_class_style(t, STYLE).ok())
            .unwrap_or_default();
        let dark = themes
            .themes
            .get("base16-ocean.dark")
            .and_then(|t| css_for_theme_with_class_style(t, STYLE).ok())
            .unwrap_or_default();
        // Keep the page's own background: drop the themes' background colours. Drop the
        // selectors that colour a JSON value by how deeply it is nested (`.hl-meta .hl-meta
        // ... .hl-string.hl-json`, up to twenty deep): they alone would make every `meta.*`
        // scope need a span, which doubles the size of highlighted pages.
        let strip = |css: &str| {
            let mut out = Vec::new();
            let mut skipping = false;
            for line in css.lines() {
                let trimmed = line.trim_start();
                if skipping {
                    skipping = !trimmed.starts_with('}');
                    continue;
                }
                if trimmed.starts_with("background-color") {
                    continue;
                }
                if let Some(selectors) = trimmed.strip_suffix('{')
                    && trimmed.starts_with('.')
                {
                    let kept: Vec<&str> = selectors
                        .split(',')
                        .map(str::trim)
                        .filter(|s| !s.split_whitespace().any(|c| c == ".hl-meta"))
                        .collect();
                    if kept.is_empty() {
                        skipping = true;
                        continue;
                    }
                    out.push(format!("{} {{", kept.join(", ")));
                    continue;
                }
                out.push(line.to_owned());
            }
            out.join("\n")
        };
        // Each theme under its own condition: the dark theme does not colour every scope
        // the light one does, and the light colours left over were unreadable on dark.
        format!(
            "@media not all and (prefers-color-scheme: dark) {{\n{}\n}}\n\
             @media (prefers-color-scheme: dark) {{\n{}\n}}\n",
            strip(&light),
            strip(&dark)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every line balanced, with no empty spans and none the stylesheet cannot colour.
    fn assert_clean(lines: &[String]) {
        for l in lines {
            assert_eq!(
                l.matches("<span").count(),
                l.matches("</span>").count(),
                "{l}"
            );
            assert!(!l.contains("\"></span>"), "no empty spans: {l}");
            assert!(
                !l.contains("hl-meta hl-block"),
                "no spans the stylesheet cannot colour: {l}"
            );
        }
    }

    #[test]
    fn rust_is_highlighted_line_by_line_and_escaped() {
        let lines = lines("src/main.rs", "fn main() {\n    let s = \"<b>\";\n}\n").unwrap();
        assert_eq!(lines.len(), 3);
        assert_clean(&lines);
        assert!(
            lines[0].starts_with(r#"<span class="hl-keyword">fn</span> "#),
            "{}",
            lines[0]
        );
        assert!(
            lines[1].contains(r#"<span class="hl-string hl-quoted">&quot;&lt;b&gt;&quot;</span>"#),
            "{}",
            lines[1]
        );
        assert!(!lines[1].contains("<b>"), "{}", lines[1]);
        assert_eq!(super::lines("notes.unknownext", "plain"), None);
        assert!(stylesheet().contains(".hl-"));
        assert!(styled(&["comment", "line", "rust"]));
        assert!(styled(&["string", "regexp", "characterclass"]));
        assert!(!styled(&["meta", "function-call", "rust"]));
        assert!(styled(&["meta", "c++"]), "escaped classes are kept");
    }

    #[test]
    fn syntect_highlights_what_tree_sitter_has_no_grammar_for() {
        let lines = lines("schema.sql", "SELECT '<i>' FROM t; -- note\n").unwrap();
        assert_eq!(lines.len(), 1);
        assert_clean(&lines);
        assert!(lines[0].contains("hl-keyword"), "{}", lines[0]);
        assert!(lines[0].contains("hl-comment"), "{}", lines[0]);
        assert!(
            lines[0].contains("&lt;i&gt;") && !lines[0].contains("<i>"),
            "{}",
            lines[0]
        );
    }

    #[test]
    fn every_grammar_compiles_and_colours_its_language() {
        let samples = [
            ("a.py", "def f(x):\n    return \"s\"  # c\n"),
            ("a.rs", "fn f() -> u8 { 1 } // c\n"),
            ("a.c", "int main(void) { return 0; } /* c */\n"),
            ("a.cpp", "class A { public: int x; }; // c\n"),
            ("a.js", "const f = () => \"s\"; // c\n"),
            ("a.ts", "let x: number = 1; // c\n"),
            ("a.tsx", "const a = <div id=\"x\">t</div>; // c\n"),
            ("A.java", "class A { void f() { return; } } // c\n"),
            ("a.go", "func main() { return } // c\n"),
            ("a.cs", "class A { void F() { return; } } // c\n"),
            ("a.sh", "if true; then echo \"s\"; fi # c\n"),
            ("a.json", "{\"k\": 1}\n"),
            ("a.css", "a { color: red; } /* c */\n"),
            ("a.html", "<p class=\"x\">t</p><!-- c -->\n"),
            ("a.rb", "def f; return 1; end # c\n"),
            ("a.php", "<?php function f() { return 1; } // c\n"),
        ];
        for (path, text) in samples {
            let grammar = tree::for_path(path).unwrap_or_else(|| panic!("{path}: no grammar"));
            let lines = tree::lines(grammar, text, Instant::now() + BUDGET)
                .unwrap_or_else(|| panic!("{path}: not highlighted"));
            assert_eq!(lines.len(), text.lines().count(), "{path}");
            assert_clean(&lines);
            assert!(
                lines[0].contains("<span class=\"hl-"),
                "{path}: {}",
                lines[0]
            );
        }
        // All the grammars compile their queries (an injected one included).
        tree::warm_up();
        let page = lines("p.html", "<script>\nlet s = \"</b>\";\n</script>\n").unwrap();
        assert_eq!(page.len(), 3);
        assert_clean(&page);
        assert!(
            page[1].contains("hl-keyword"),
            "the script is JavaScript: {}",
            page[1]
        );
    }

    #[test]
    fn spans_across_lines_reopen_and_lines_are_counted_as_str_lines() {
        let text = "s = \"\"\"one\n<two>\n\n three\"\"\"\r\nx = 1";
        let lines = lines("a.py", text).unwrap();
        assert_eq!(lines.len(), text.lines().count());
        assert_clean(&lines);
        for l in &lines[1..4] {
            assert!(
                l.is_empty() || l.starts_with("<span class=\"hl-string"),
                "{l}"
            );
        }
        assert_eq!(lines[2], "", "an empty line inside the string has no span");
        assert!(lines[1].contains("&lt;two&gt;"), "{}", lines[1]);
        assert!(lines[4].contains("hl-constant"), "{}", lines[4]);
        assert_eq!(super::lines("a.py", ""), Some(vec![]));
        assert_eq!(super::lines("a.py", "\n").map(|l| l.len()), Some(1));
        // By the first line, and in a Markdown fence.
        let script = super::lines("bin/run", "#!/usr/bin/env python3\nimport os\n").unwrap();
        assert!(script[1].contains("hl-keyword"), "{}", script[1]);
        let fenced = lines_in_language("Python", "import os\n").unwrap();
        assert!(fenced[0].contains("hl-keyword"), "{}", fenced[0]);
    }

    #[test]
    fn a_highlighting_past_its_deadline_is_abandoned() {
        let text = "x = [1, 2, 3]  # c\n".repeat(20_000);
        let grammar = tree::for_path("a.py").unwrap();
        assert_eq!(tree::lines(grammar, &text, Instant::now()), None);
        assert!(tree::lines(grammar, &text, Instant::now() + BUDGET).is_some());
    }

    /// Texts whose middle line (where the second half starts) is inside a construct that
    /// spans lines, so the guessed state is wrong and must be corrected.
    fn split_in_the_middle(open: &str, inner: &str, close: &str, line: &str) -> String {
        split_in_the_middle_n(open, inner, 8, close, line)
    }

    fn split_in_the_middle_n(open: &str, inner: &str, n: usize, close: &str, line: &str) -> String {
        let mut text = String::new();
        for i in 0..LINES_PER_THREAD - 3 {
            text.push_str(&line.replace('N', &i.to_string()));
        }
        text.push_str(open);
        for i in 0..n {
            text.push_str(&inner.replace('N', &i.to_string()));
        }
        text.push_str(close);
        for i in 0..LINES_PER_THREAD {
            text.push_str(&line.replace('N', &i.to_string()));
        }
        text
    }

    #[test]
    fn highlighting_in_halves_gives_the_same_lines_as_in_one_go() {
        let cases = [
            (
                "a.py",
                split_in_the_middle(
                    "s = \"\"\"\n",
                    "text N 'x'\n",
                    "\"\"\"\n",
                    "x_N = f(N)  # c\n",
                ),
            ),
            (
                "a.c",
                split_in_the_middle("/*\n", " * N \"q\"\n", " */\n", "int x_N = N; // c\n"),
            ),
            (
                "a.rs",
                split_in_the_middle(
                    "let s = r#\"\n",
                    "N \" still\n",
                    "\"#;\n",
                    "let x_N = \"N\";\n",
                ),
            ),
            // A heredoc keeps regex captures in the parser's state.
            (
                "a.sh",
                split_in_the_middle("cat <<EOF\n", "N $x\n", "EOF\n", "echo \"N\" # c\n"),
            ),
            (
                "a.py",
                split_in_the_middle("", "y = N\n", "", "def f_N(a):\n    return a\n"),
            ),
        ];
        let set = syntaxes();
        for (path, text) in cases {
            let syntax = syntax_for(set, path, &text).unwrap();
            let whole = highlight_with(set, syntax, &text, false).unwrap();
            let halves = highlight_with(set, syntax, &text, true).unwrap();
            assert_eq!(whole.len(), text.lines().count(), "{path}");
            for (i, (a, b)) in whole.iter().zip(&halves).enumerate() {
                assert_eq!(a, b, "{path} line {}", i + 1);
            }
            assert_eq!(whole.len(), halves.len());
            // The string or comment's colour carries on past the middle.
            let mid = text.lines().count() / 2;
            assert_eq!(halves[mid], whole[mid]);
        }
    }

    #[test]
    fn long_lines_and_many_texts() {
        let minified = format!("my @a = ({});\n", "1,".repeat(MAX_LINE_BYTES));
        assert_eq!(
            lines("a.pl", &minified),
            None,
            "too long a line is shown plain by syntect"
        );
        let minified = format!("var a = [{}];\n", "1,".repeat(MAX_LINE_BYTES));
        let one = lines("app.min.js", &minified).expect("tree-sitter takes long lines");
        assert_eq!(one.len(), 1);
        let each = lines_each(&[("a.rs", "fn x() {}\n"), ("b.unknownext", "x"), ("c.py", "")]);
        assert_eq!(each.len(), 3);
        assert!(each[0].as_ref().unwrap()[0].contains("hl-"));
        assert_eq!(each[1], None);
        assert_eq!(each[2], Some(vec![]));
    }

    #[test]
    fn a_block_comment_spans_lines_and_stays_balanced() {
        let lines = lines("a.c", "/* one\n two */ int x;\n").unwrap();
        assert_eq!(lines.len(), 2);
        assert_clean(&lines);
        assert!(
            lines[1].starts_with("<span"),
            "the comment's span reopens: {}",
            lines[1]
        );
    }
}
