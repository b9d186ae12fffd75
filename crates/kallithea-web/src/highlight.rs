//! Syntax highlighting with syntect, as CSS classes (`hl-...`), never inline styles; the
//! colours come from `/_admin/static/highlight.css` (light and dark). The output is split into
//! lines that each open and close their own spans, for the numbered tables.

use std::sync::OnceLock;

use syntect::highlighting::ThemeSet;
use syntect::html::{ClassStyle, ClassedHTMLGenerator, css_for_theme_with_class_style};
use syntect::parsing::SyntaxSet;
use syntect::util::LinesWithEndings;

const STYLE: ClassStyle = ClassStyle::SpacedPrefixed { prefix: "hl-" };

/// Files larger than this are shown without highlighting.
pub const MAX_BYTES: usize = 256 * 1024;

fn syntaxes() -> &'static SyntaxSet {
    static SET: OnceLock<SyntaxSet> = OnceLock::new();
    SET.get_or_init(SyntaxSet::load_defaults_newlines)
}

/// Highlighted lines of a file as HTML (escaped text inside spans), or `None` when no syntax
/// fits the file name or first line, or the file is too large.
pub fn lines(path: &str, text: &str) -> Option<Vec<String>> {
    if text.len() > MAX_BYTES {
        return None;
    }
    let set = syntaxes();
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
    if syntax.name == "Plain Text" {
        return None;
    }
    let mut generator = ClassedHTMLGenerator::new_with_class_style(syntax, set, STYLE);
    for line in LinesWithEndings::from(text) {
        generator
            .parse_html_for_line_which_includes_newline(line)
            .ok()?;
    }
    let mut lines = balance_lines(&generator.finalize());
    // What follows the last newline is only closing tags.
    lines.truncate(text.lines().count());
    Some(lines)
}

/// Splits span-only HTML at newlines so each line closes the spans it opened and reopens
/// the ones still open from earlier lines.
fn balance_lines(html: &str) -> Vec<String> {
    let mut open: Vec<&str> = Vec::new();
    let mut out = Vec::new();
    for raw in html.split('\n') {
        let mut line: String = open.concat();
        let mut rest = raw;
        while let Some(i) = rest.find('<') {
            line.push_str(&rest[..i]);
            let end = rest[i..].find('>').map_or(rest.len(), |e| i + e + 1);
            let tag = &rest[i..end];
            if tag.starts_with("</") {
                open.pop();
            } else {
                open.push(tag);
            }
            line.push_str(tag);
            rest = &rest[end..];
        }
        line.push_str(rest);
        line.push_str(&"</span>".repeat(open.len()));
        out.push(line);
    }
    out
}

/// File extensions whose syntaxes are prepared at start-up.
const COMMON: &[&str] = &[
    "py", "rs", "c", "h", "cpp", "go", "java", "js", "ts", "rb", "sh", "css", "html", "md", "rst",
    "json", "yaml", "toml", "sql", "xml", "php", "cs",
];

/// Prepares the syntax definitions ahead of the first page that needs them: syntect reads a
/// language's definition and compiles its patterns when first used (a few milliseconds per
/// language), so the common languages are used once here, before the server answers.
pub fn warm_up() {
    let sample = "# note\n// note\n/* note */\nfn main() { let x = \"s\"; return 1; }\n";
    for ext in COMMON {
        let _ = lines(&format!("warm-up.{ext}"), sample);
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
        // Keep the page's own background: drop the themes' background colours.
        let strip = |css: &str| {
            css.lines()
                .filter(|l| !l.trim_start().starts_with("background-color"))
                .collect::<Vec<_>>()
                .join("\n")
        };
        format!(
            "{}\n@media (prefers-color-scheme: dark) {{\n{}\n}}\n",
            strip(&light),
            strip(&dark)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_is_highlighted_line_by_line_and_escaped() {
        let lines = lines("src/main.rs", "fn main() {\n    let s = \"<b>\";\n}\n").unwrap();
        assert_eq!(lines.len(), 3);
        for l in &lines {
            assert_eq!(
                l.matches("<span").count(),
                l.matches("</span>").count(),
                "{l}"
            );
        }
        assert!(lines[0].contains("hl-"), "{}", lines[0]);
        assert!(
            lines[1].contains("&lt;b&gt;") && !lines[1].contains("<b>"),
            "{}",
            lines[1]
        );
        assert_eq!(super::lines("notes.unknownext", "plain"), None);
        assert!(stylesheet().contains(".hl-"));
    }

    #[test]
    fn a_block_comment_spans_lines_and_stays_balanced() {
        let lines = lines("a.c", "/* one\n two */ int x;\n").unwrap();
        assert_eq!(lines.len(), 2);
        assert!(
            lines[1].starts_with("<span"),
            "the comment's span reopens: {}",
            lines[1]
        );
    }
}
