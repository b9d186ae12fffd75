//! Changeset messages as HTML: escaped, with URLs, `#123` issue references and changeset ids
//! made links (issue links need `issue_server_link` in `my.ini`, as in Kallithea).

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

/// Where a message's links lead: the repository's name for issue links, `issue_link` (a
/// template with `{id}`, Kallithea's `\1`, and `{repo}`), and the address changeset ids are
/// appended to (`/{repo}/changeset/`).
pub struct Links<'a> {
    pub repo: &'a str,
    pub issue_link: Option<&'a str>,
    pub changesets: &'a str,
}

/// What a link in a message is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Url,
    Issue,
    Changeset,
}

/// Renders a message: paragraphs kept as lines, URLs, `#123` issue references and changeset
/// ids (12 to 40 hex digits, as Kallithea links them) made links, everything else escaped.
pub fn render(message: &str, links: &Links<'_>) -> String {
    let mut out = String::with_capacity(message.len() + 64);
    out.push_str("<pre class=\"message-text\">");
    // Only the first part is linkified; a giant message is shown as text after it.
    let cut = floor_boundary(message, MAX_LINKIFIED);
    let (head, tail) = message.split_at(cut);
    // The next match of each kind (position and length), found once and looked for again
    // only when passed: linear.
    let find = |kind: Kind, from: usize| -> Option<(usize, usize)> {
        let rest = &head[from..];
        let found = match kind {
            Kind::Url => ["https://", "http://"]
                .iter()
                .filter_map(|p| rest.find(p))
                .min()
                .map(|i| (i, 0)),
            Kind::Issue => links.issue_link.and_then(|_| find_issue(rest)),
            Kind::Changeset => find_changeset(rest),
        };
        found.map(|(i, len)| (i + from, len))
    };
    let kinds = [Kind::Url, Kind::Issue, Kind::Changeset];
    let mut next: Vec<Option<(usize, usize)>> = kinds.iter().map(|k| find(*k, 0)).collect();
    let mut pos = 0;
    loop {
        for (n, k) in kinds.iter().enumerate() {
            if next[n].is_some_and(|(at, _)| at < pos) {
                next[n] = find(*k, pos);
            }
        }
        // The earliest; at the same place, the first kind listed.
        let Some((n, (at, len))) = next
            .iter()
            .enumerate()
            .filter_map(|(n, m)| m.map(|m| (n, m)))
            .min_by_key(|(n, (at, _))| (*at, *n))
        else {
            break;
        };
        escape(&head[pos..at], &mut out);
        let rest = &head[at..];
        match kinds[n] {
            Kind::Url => {
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
            }
            Kind::Issue => {
                let id = &rest[1..len];
                let href = links
                    .issue_link
                    .unwrap_or_default()
                    .replace("{id}", id)
                    .replace("\\1", id)
                    .replace("{repo}", links.repo);
                out.push_str("<a class=\"issue\" href=\"");
                escape(&href, &mut out);
                out.push_str("\">");
                escape(&rest[..len], &mut out);
                out.push_str("</a>");
                pos = at + len;
            }
            Kind::Changeset => {
                let id = &rest[..len];
                out.push_str("<a class=\"changeset\" href=\"");
                escape(links.changesets, &mut out);
                escape(id, &mut out);
                out.push_str("\">");
                escape(id, &mut out);
                out.push_str("</a>");
                pos = at + len;
            }
        }
    }
    escape(&head[pos..], &mut out);
    escape(tail, &mut out);
    out.push_str("</pre>");
    out
}

/// The first run of 12 to 40 hex digits that stands alone (not part of a longer word) and
/// holds a digit and a letter (so neither a long number nor a word like `deadbeefcafe`):
/// its position and length.
fn find_changeset(s: &str) -> Option<(usize, usize)> {
    let bytes = s.as_bytes();
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_hexdigit() || (i > 0 && word(bytes[i - 1])) {
            i += 1;
            continue;
        }
        let len = bytes[i..]
            .iter()
            .take_while(|b| b.is_ascii_hexdigit())
            .count();
        let end = i + len;
        let run = &bytes[i..end];
        if (12..=40).contains(&len)
            && !bytes.get(end).is_some_and(|b| word(*b))
            && run.iter().any(u8::is_ascii_digit)
            && run.iter().any(u8::is_ascii_alphabetic)
        {
            return Some((i, len));
        }
        i = end.max(i + 1);
    }
    None
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
            &Links {
                repo: "team/app",
                issue_link: Some("https://issues.example.com/{repo}/issue/{id}"),
                changesets: "/team/app/changeset/",
            },
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
        let plain = render(
            "#5 and javascript:alert(1)",
            &Links {
                repo: "r",
                issue_link: None,
                changesets: "/r/changeset/",
            },
        );
        assert!(!plain.contains("<a"), "{plain}");
    }

    #[test]
    fn changeset_ids_are_linked_and_lookalikes_are_not() {
        let links = Links {
            repo: "r",
            issue_link: None,
            changesets: "/p/r/changeset/",
        };
        let id = "7b4d6498e98f0a1b2c3d4e5f60718293a4b5c6d7";
        let html = render(
            &format!(
                "Reverts 7b4d6498e98f (see {id}).\nhttps://x.example/commit/7b4d6498e98f stays a URL"
            ),
            &links,
        );
        assert!(
            html.contains("Reverts <a class=\"changeset\" href=\"/p/r/changeset/7b4d6498e98f\">7b4d6498e98f</a> (see"),
            "{html}"
        );
        assert!(
            html.contains(&format!(
                "(see <a class=\"changeset\" href=\"/p/r/changeset/{id}\">{id}</a>)."
            )),
            "{html}"
        );
        assert!(
            html.contains("<a href=\"https://x.example/commit/7b4d6498e98f\""),
            "{html}"
        );
        for plain in [
            "a number 202401021234 and a word deadbeefcafe",
            "too short 7b4d6498e98 and glued x7b4d6498e98f or 7b4d6498e98fz",
            "too long 7b4d6498e98f0a1b2c3d4e5f60718293a4b5c6d7e",
        ] {
            let html = render(plain, &links);
            assert!(!html.contains("<a"), "{html}");
        }
    }
}
