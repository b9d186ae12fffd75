//! Rendering READMEs and Markdown files: GitHub-flavoured Markdown through comrak, then
//! ammonia removes anything active (scripts, event handlers, `javascript:` links). Other text
//! is shown as preformatted, escaped text by the templates.
//!
//! The cleaner's HTML parser takes time in the square of how deeply elements nest, and a
//! line of 50,000 `>` is a 50 KB Markdown file nested 50,000 deep: such output is refused
//! (the caller shows the text instead) rather than cleaned for minutes.

/// How deeply rendered HTML may nest before it is refused. Real documents stay far below
/// (GitHub's own renderer gives up at a similar depth).
const MAX_NESTING: usize = 100;

/// Where a document's relative links point: a README's `img/logo.png` is a file of the
/// repository next to it, shown raw; `docs/guide.md` opens that file's page.
#[derive(Clone, Debug)]
pub struct LinkBase {
    /// `{prefix}/{repo}/files/{rev}/`
    pub files: String,
    /// `{prefix}/{repo}/raw/{rev}/`
    pub raw: String,
    /// The document's folder in the repository ("" at the top).
    pub dir: String,
}

impl LinkBase {
    /// A key naming the base, for cached renderings.
    pub fn key(&self) -> String {
        format!("{}{}", self.files, self.dir)
    }

    /// An image source or link target resolved against the document's place, or `None`
    /// when it is not relative (a scheme, `//`, `/`, `#` or `?` first).
    fn resolve(&self, element: &str, attribute: &str, value: &str) -> Option<String> {
        let target = match (element, attribute) {
            ("img", "src") => &self.raw,
            ("a", "href") => &self.files,
            _ => return None,
        };
        let scheme = value
            .split_once(':')
            .is_some_and(|(s, _)| !s.is_empty() && !s.contains('/'));
        if value.is_empty() || value.starts_with(['/', '#', '?']) || scheme {
            return None;
        }
        let cut = value.find(['?', '#']).unwrap_or(value.len());
        let (path, rest) = value.split_at(cut);
        let rest = match rest.split_once('#') {
            Some((query, fragment)) => format!("{query}{}", fragment_of(&format!("#{fragment}"))),
            None => rest.to_owned(),
        };
        let mut parts: Vec<&str> = self.dir.split('/').filter(|p| !p.is_empty()).collect();
        for part in path.split('/') {
            match part {
                "" | "." => {}
                ".." => {
                    parts.pop();
                }
                p => parts.push(p),
            }
        }
        Some(format!("{target}{}{rest}", parts.join("/")))
    }
}

/// What ids in a document start with, so that none can be taken for one of the page's own
/// (as GitHub does).
const ID_PREFIX: &str = "user-content-";

/// A link to a place in a document (`#install`), pointed at its prefixed id.
fn fragment_of(fragment: &str) -> String {
    match fragment.strip_prefix('#') {
        Some(f) if !f.is_empty() && !f.starts_with(ID_PREFIX) => format!("#{ID_PREFIX}{f}"),
        _ => fragment.to_owned(),
    }
}

thread_local! {
    /// The base [`sanitize`] resolves relative links against while it cleans (the cleaner is
    /// shared, so its link filter reads the base from here).
    static BASE: std::cell::RefCell<Option<LinkBase>> = const { std::cell::RefCell::new(None) };
}

/// Renders Markdown to sanitised HTML, or `None` when it nests too deeply to be shown safely.
pub fn markdown(text: &str, base: Option<&LinkBase>) -> Option<String> {
    let mut options = comrak::Options::default();
    options.extension.strikethrough = true;
    options.extension.table = true;
    options.extension.autolink = true;
    options.extension.tasklist = true;
    options.extension.footnotes = true;
    // Headings get ids from their text; the cleaner prefixes them.
    options.extension.header_id_prefix = Some(String::new());
    FENCE_BYTES_LEFT.set(MAX_FENCE_BYTES);
    let mut plugins = comrak::options::Plugins::default();
    plugins.render.codefence_syntax_highlighter = Some(&FENCES);
    sanitize(
        &comrak::markdown_to_html_with_plugins(text, &options, &plugins),
        base,
    )
}

/// How much fenced code one document may have highlighted (the rest stays plain), so that a
/// document of many blocks costs no more than one large file.
const MAX_FENCE_BYTES: usize = 128 * 1024;

thread_local! {
    /// What is left of [`MAX_FENCE_BYTES`] for the document being rendered on this thread.
    static FENCE_BYTES_LEFT: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Highlights fenced code blocks whose language syntect knows, with the same `hl-` classes
/// as file pages; other blocks stay plain escaped text.
struct Fences;

static FENCES: Fences = Fences;

impl comrak::adapters::SyntaxHighlighterAdapter for Fences {
    fn write_highlighted(
        &self,
        output: &mut dyn std::fmt::Write,
        lang: Option<&str>,
        code: &str,
    ) -> std::fmt::Result {
        let left = FENCE_BYTES_LEFT.get();
        FENCE_BYTES_LEFT.set(left.saturating_sub(code.len()));
        let language = lang
            .and_then(|l| l.split_whitespace().next())
            .filter(|_| code.len() <= left);
        let mut html = String::with_capacity(code.len() * 2);
        match language.and_then(|l| crate::highlight::lines_in_language(l, code)) {
            Some(lines) => {
                html = lines.join("\n");
                if code.ends_with('\n') {
                    html.push('\n');
                }
            }
            None => crate::highlight::escape_into(&mut html, code),
        }
        output.write_str(&html)
    }

    fn write_pre_tag(
        &self,
        output: &mut dyn std::fmt::Write,
        _attributes: std::collections::HashMap<&'static str, std::borrow::Cow<'_, str>>,
    ) -> std::fmt::Result {
        output.write_str("<pre>")
    }

    fn write_code_tag(
        &self,
        output: &mut dyn std::fmt::Write,
        _attributes: std::collections::HashMap<&'static str, std::borrow::Cow<'_, str>>,
    ) -> std::fmt::Result {
        output.write_str("<code>")
    }
}

/// Cleans HTML made by a renderer (comrak, docutils), relative links resolved against
/// `base`, or `None` when its elements nest more than [`MAX_NESTING`] deep. The cleaner is
/// built once: building it fills its sets of allowed tags and attributes.
pub fn sanitize(html: &str, base: Option<&LinkBase>) -> Option<String> {
    if nesting_depth(html) > MAX_NESTING {
        return None;
    }
    static CLEANER: std::sync::LazyLock<ammonia::Builder<'static>> =
        std::sync::LazyLock::new(|| {
            let mut b = ammonia::Builder::default();
            b.link_rel(Some("noopener noreferrer nofollow"));
            // Headings and footnotes can be linked to, under ids of their own.
            b.add_generic_attributes(["id"]);
            b.id_prefix(Some(ID_PREFIX));
            // Highlighted code blocks: spans keep only the highlighter's classes.
            b.add_tag_attributes("span", ["class"]);
            b.attribute_filter(|element, attribute, value| {
                if (element, attribute) == ("span", "class") {
                    let kept: Vec<&str> = value
                        .split_whitespace()
                        .filter(|c| {
                            c.starts_with("hl-")
                                && c.bytes()
                                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                        })
                        .collect();
                    return (!kept.is_empty()).then(|| std::borrow::Cow::Owned(kept.join(" ")));
                }
                if (element, attribute) == ("a", "href") && value.starts_with('#') {
                    return Some(std::borrow::Cow::Owned(fragment_of(value)));
                }
                let resolved = BASE.with_borrow(|base| {
                    base.as_ref()
                        .and_then(|b| b.resolve(element, attribute, value))
                });
                Some(resolved.map_or(std::borrow::Cow::Borrowed(value), std::borrow::Cow::Owned))
            });
            b
        });
    BASE.set(base.cloned());
    let clean = CLEANER.clean(html).to_string();
    BASE.set(None);
    Some(clean)
}

/// How deeply the elements of a renderer's HTML nest. Renderers write well-formed HTML with
/// `<` escaped in text and attributes, so counting tags is enough: an opening tag goes one
/// deeper unless it is void or ends in `/>`, a closing tag one back.
fn nesting_depth(html: &str) -> usize {
    const VOID: &[&str] = &[
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr",
    ];
    let (mut depth, mut deepest) = (0usize, 0usize);
    let mut comment_end = 0;
    for (at, _) in html.match_indices('<') {
        // docutils writes comments as they are: tags inside them are not elements.
        if at < comment_end {
            continue;
        }
        let rest = &html.as_bytes()[at + 1..];
        if rest.starts_with(b"!--") {
            comment_end = html[at..].find("-->").map_or(html.len(), |e| at + e + 3);
            continue;
        }
        match rest.first() {
            Some(b'/') => depth = depth.saturating_sub(1),
            Some(c) if c.is_ascii_alphabetic() => {
                let name_len = rest
                    .iter()
                    .take_while(|c| c.is_ascii_alphanumeric())
                    .count();
                let name = html[at + 1..at + 1 + name_len].to_ascii_lowercase();
                let self_closing = rest
                    .iter()
                    .position(|&c| c == b'>')
                    .is_some_and(|end| end > 0 && rest[end - 1] == b'/');
                if !VOID.contains(&name.as_str()) && !self_closing {
                    depth += 1;
                    deepest = deepest.max(depth);
                }
            }
            _ => {}
        }
    }
    deepest
}

/// Whether a file name is reStructuredText.
pub fn is_rst(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".rst") || lower.ends_with(".rest")
}

/// Whether a file name is Markdown.
pub fn is_markdown(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".md") || lower.ends_with(".markdown") || lower.ends_with(".mkd")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fenced_code_is_highlighted_and_stays_inert() {
        let html = markdown(
            "```python\ndef f():\n    return '<b>x</b>'\n```\n\n```nosuchlang\n<i>plain</i>\n```\n",
            None,
        )
        .unwrap();
        assert!(html.contains("<span class=\"hl-"), "{html}");
        assert!(
            html.contains("&lt;b&gt;x&lt;/b&gt;") && !html.contains("<b>x"),
            "{html}"
        );
        assert!(
            html.contains("<pre><code>&lt;i&gt;plain&lt;/i&gt;\n</code></pre>"),
            "{html}"
        );
        // Spans from another renderer (docutils) keep only highlighter classes, no handlers.
        let hand = sanitize(
            "<span class=\"evil hl-keyword\" onclick=\"x()\">a</span> <span class=\"evil\">b</span>",
            None,
        )
        .unwrap();
        assert!(
            hand.contains("<span class=\"hl-keyword\">a</span>"),
            "{hand}"
        );
        assert!(
            hand.contains("<span>b</span>") && !hand.contains("onclick"),
            "{hand}"
        );
    }

    #[test]
    fn markdown_is_rendered_and_made_inert() {
        let html = markdown(
            "# Title\n\n<script>alert(1)</script>\n\n[x](javascript:alert(2)) <img src=x onerror=alert(3)>\n\n| a |\n|---|\n| b |\n",
            None,
        )
        .unwrap();
        assert!(
            html.contains("<h1 id=\"user-content-title\">Title"),
            "{html}"
        );
        assert!(html.contains("<table>"), "{html}");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(!html.contains("onerror"), "{html}");
    }

    #[test]
    fn relative_links_and_images_point_into_the_repository() {
        let base = LinkBase {
            files: "/p/r/files/main/".into(),
            raw: "/p/r/raw/main/".into(),
            dir: "docs".into(),
        };
        let html = markdown(
            "![logo](img/logo.png) [guide](./guide.md#part) [up](../README.md) \
             [site](https://example.com/x) [top](/abs) [here](#h) [mail](mailto:a@b)",
            Some(&base),
        )
        .unwrap();
        for want in [
            "src=\"/p/r/raw/main/docs/img/logo.png\"",
            "href=\"/p/r/files/main/docs/guide.md#user-content-part\"",
            "href=\"/p/r/files/main/README.md\"",
            "href=\"https://example.com/x\"",
            "href=\"/abs\"",
            "href=\"#user-content-h\"",
            "href=\"mailto:a@b\"",
        ] {
            assert!(html.contains(want), "{want} in {html}");
        }
        // Without a base, links stay as written.
        let plain = markdown("![logo](img/logo.png)", None).unwrap();
        assert!(plain.contains("src=\"img/logo.png\""), "{plain}");
    }

    #[test]
    fn headings_and_footnotes_can_be_linked_to_under_ids_of_their_own() {
        let html = markdown(
            "# Set up\n\nSee [databases](#databases) and a note[^1].\n\n## Databases\n\n\
             <p id=\"find-file\">clobber</p>\n\n[^1]: The note.\n",
            None,
        )
        .unwrap();
        for want in [
            "<h1 id=\"user-content-set-up\">",
            "<h2 id=\"user-content-databases\">",
            "href=\"#user-content-databases\"",
            "id=\"user-content-fn-1\"",
            "href=\"#user-content-fn-1\"",
        ] {
            assert!(html.contains(want), "{want} in {html}");
        }
        // No id a document writes can be one of the page's own.
        assert!(!html.contains("id=\"find-file\""), "{html}");
    }

    #[test]
    fn deeply_nested_markdown_is_refused_quickly_and_ordinary_nesting_is_not() {
        let start = std::time::Instant::now();
        assert_eq!(markdown(&format!("{} x\n", ">".repeat(50_000)), None), None);
        assert_eq!(markdown(&format!("{}x\n", "- ".repeat(5_000)), None), None);
        // Minutes (in a debug build) before the limit existed.
        assert!(start.elapsed() < std::time::Duration::from_secs(10));
        let html = markdown(
            "> > > quoted\n\n- a\n  - b\n    - c\n\nline<br>\n\n---\n",
            None,
        )
        .unwrap();
        assert!(html.contains("quoted") && html.contains("<hr>"), "{html}");
        assert_eq!(
            nesting_depth("<div><p>a<br>b<img src=x/></p><hr></div><p>c</p>"),
            2
        );
        assert_eq!(nesting_depth("<ul><li><ul><li>x</li></ul></li></ul>"), 4);
        assert_eq!(nesting_depth("<p><!-- </p></p><div><div> --></p>"), 1);
    }
}
