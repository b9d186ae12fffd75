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

/// Renders a message: paragraphs kept as lines, links added, everything else escaped.
/// `issue_link` is a template with `{id}` (and Kallithea's `\1`) and `{repo}`.
pub fn render(message: &str, repo: &str, issue_link: Option<&str>) -> String {
    let mut out = String::with_capacity(message.len() + 64);
    out.push_str("<pre class=\"message-text\">");
    let mut rest = message;
    while !rest.is_empty() {
        let url_at = ["https://", "http://"]
            .iter()
            .filter_map(|p| rest.find(p))
            .min();
        let issue_at = issue_link.and_then(|_| find_issue(rest));
        let next = match (url_at, issue_at) {
            (Some(u), Some((i, _))) => Some(u.min(i)),
            (a, b) => a.or(b.map(|(i, _)| i)),
        };
        let Some(at) = next else {
            escape(rest, &mut out);
            break;
        };
        escape(&rest[..at], &mut out);
        rest = &rest[at..];
        if url_at == Some(at) {
            let end = rest
                .find(|c: char| c.is_whitespace() || "<>\"'".contains(c))
                .unwrap_or(rest.len());
            let url = rest[..end].trim_end_matches(['.', ',', ')', ';', ':']);
            out.push_str("<a href=\"");
            escape(url, &mut out);
            out.push_str("\" rel=\"noopener noreferrer nofollow\">");
            escape(url, &mut out);
            out.push_str("</a>");
            rest = &rest[url.len()..];
        } else if let (Some(template), Some((_, len))) = (issue_link, issue_at) {
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
            rest = &rest[len..];
        }
    }
    out.push_str("</pre>");
    out
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
