//! Changeset messages as HTML: escaped, with URLs and `#123` issue references made links
//! (issue links need `issue_server_link` in `my.ini`, as in Kallithea).

fn escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
}

/// Text as HTML.
pub(crate) fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    escape(s, &mut out);
    out
}

/// Renders a message: paragraphs kept as lines, links added, everything else escaped.
/// `issue_link` is a template with `{id}` (and Kallithea's `\1`) and `{repo}`.
pub fn render(message: &str, repo: &str, issue_link: Option<&str>) -> String {
    let mut out = String::with_capacity(message.len() + 64);
    out.push_str("<pre class=\"message-text\">");
    // Only the first part is linkified; a giant message is shown as text after it.
    let cut = floor_boundary(message, MAX_LINKIFIED);
    let (head, tail) = message.split_at(cut);
    // Next match of each kind, found once and looked for again only when passed: linear.
    let find_url = |from: usize| {
        ["https://", "http://"]
            .iter()
            .filter_map(|p| head[from..].find(p).map(|i| i + from))
            .min()
    };
    let find_iss = |from: usize| {
        issue_link.and_then(|_| find_issue(&head[from..]).map(|(i, l)| (i + from, l)))
    };
    let mut pos = 0;
    let mut next_url = find_url(0);
    let mut next_issue = find_iss(0);
    loop {
        if next_url.is_some_and(|u| u < pos) {
            next_url = find_url(pos);
        }
        if next_issue.is_some_and(|(i, _)| i < pos) {
            next_issue = find_iss(pos);
        }
        let at = match (next_url, next_issue) {
            (Some(u), Some((i, _))) => u.min(i),
            (a, b) => match a.or(b.map(|(i, _)| i)) {
                Some(x) => x,
                None => break,
            },
        };
        escape(&head[pos..at], &mut out);
        let rest = &head[at..];
        if next_url == Some(at) {
            let end = rest
                .find(|c: char| c.is_whitespace() || "<>\"'".contains(c))
                .unwrap_or(rest.len());
            let url = rest[..end].trim_end_matches(['.', ',', ')', ';', ':']);
            out.push_str("<a href=\"");
            escape(url, &mut out);
            out.push_str("\" rel=\"noopener noreferrer nofollow\">");
            escape(url, &mut out);
            out.push_str("</a>");
            pos = at + url.len().max(1);
            if url.is_empty() {
                escape(&rest[..1], &mut out);
            }
        } else if let (Some(template), Some((_, len))) = (issue_link, next_issue) {
            let id = &rest[1..len];
            let href = template
                .replace("{id}", id)
                .replace("\\1", id)
                .replace("{repo}", repo);
            out.push_str("<a class=\"issue\" href=\"");
            escape(&href, &mut out);
            out.push_str("\">");
            escape(&rest[..len], &mut out);
            out.push_str("</a>");
            pos = at + len;
        }
    }
    escape(&head[pos..], &mut out);
    escape(tail, &mut out);
    out.push_str("</pre>");
    out
}

/// Bytes of a message that get links.
const MAX_LINKIFIED: usize = 64 * 1024;

fn floor_boundary(s: &str, max: usize) -> usize {
    if s.len() <= max {
        return s.len();
    }
    let mut i = max;
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The first `#<digits>` not glued to a word: its position and length.
fn find_issue(s: &str) -> Option<(usize, usize)> {
    let bytes = s.as_bytes();
    for (i, _) in s.match_indices('#') {
        let digits = bytes[i + 1..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        let before_ok = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
        if digits > 0 && before_ok {
            return Some((i, digits + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_urls_and_issues_and_escapes_the_rest() {
        let html = render(
            "Fix <b>bug</b> #12, see https://example.com/a?b=1&c=2.\nNot an issue: abc#3",
            "team/app",
            Some("https://issues.example.com/{repo}/issue/{id}"),
        );
        assert!(html.contains("&lt;b&gt;bug&lt;/b&gt;"), "{html}");
        assert!(
            html.contains(
                "<a class=\"issue\" href=\"https://issues.example.com/team/app/issue/12\">#12</a>"
            ),
            "{html}"
        );
        assert!(html.contains("<a href=\"https://example.com/a?b=1&amp;c=2\" rel=\"noopener noreferrer nofollow\">"), "{html}");
        assert!(html.contains("abc#3"), "{html}");
        let plain = render("#5 and javascript:alert(1)", "r", None);
        assert!(!plain.contains("<a"), "{plain}");
    }
}
