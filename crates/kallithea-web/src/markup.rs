//! Rendering READMEs and Markdown files: GitHub-flavoured Markdown through comrak, then
//! ammonia removes anything active (scripts, event handlers, `javascript:` links). Other text
//! is shown as preformatted, escaped text by the templates.

/// Renders Markdown to sanitised HTML.
pub fn markdown(text: &str) -> String {
    let mut options = comrak::Options::default();
    options.extension.strikethrough = true;
    options.extension.table = true;
    options.extension.autolink = true;
    options.extension.tasklist = true;
    options.extension.footnotes = true;
    sanitize(&comrak::markdown_to_html(text, &options))
}

/// Cleans HTML made by a renderer (comrak, docutils). The cleaner is built once: building
/// it fills its sets of allowed tags and attributes.
pub fn sanitize(html: &str) -> String {
    static CLEANER: std::sync::LazyLock<ammonia::Builder<'static>> =
        std::sync::LazyLock::new(|| {
            let mut b = ammonia::Builder::default();
            b.link_rel(Some("noopener noreferrer nofollow"));
            b
        });
    CLEANER.clean(html).to_string()
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
    fn markdown_is_rendered_and_made_inert() {
        let html = markdown(
            "# Title\n\n<script>alert(1)</script>\n\n[x](javascript:alert(2)) <img src=x onerror=alert(3)>\n\n| a |\n|---|\n| b |\n",
        );
        assert!(html.contains("<h1>Title</h1>"), "{html}");
        assert!(html.contains("<table>"), "{html}");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(!html.contains("onerror"), "{html}");
    }
}
