//! Repository bytes as text. Files, diffs and commits are UTF-8 almost always; where a line
//! is not, the encodings of Kallithea's `default_encoding` setting are tried in order (a
//! team with Latin-1 sources sets `default_encoding = utf-8, latin-1`), and what none of
//! them reads is shown with replacement characters. UTF-8 is always tried first: a single-
//! byte encoding reads any bytes, so listed first it would garble every UTF-8 file.

use std::borrow::Cow;
use std::sync::OnceLock;

use encoding_rs::Encoding;

/// The encodings tried after UTF-8, set once at start-up.
static FALLBACKS: OnceLock<Vec<&'static Encoding>> = OnceLock::new();

/// Reads `default_encoding` (comma-separated labels such as `utf-8, latin-1, cp1252`) and
/// keeps it for the life of the process; an unknown label is an error that names it.
pub fn set_encodings(labels: &str) -> Result<(), String> {
    let mut list = Vec::new();
    for label in labels.split(',').map(str::trim).filter(|l| !l.is_empty()) {
        // Python's names, as Kallithea's files spell them, where the web's differ.
        let web_label = match label.to_ascii_lowercase().replace('_', "-").as_str() {
            "utf8" => "utf-8".to_owned(),
            "latin1" | "latin-1" => "iso-8859-1".to_owned(),
            other => other.to_owned(),
        };
        let encoding = Encoding::for_label(web_label.as_bytes()).ok_or_else(|| {
            format!("default_encoding: \"{label}\" is not an encoding this server knows")
        })?;
        if encoding != encoding_rs::UTF_8 && !list.contains(&encoding) {
            list.push(encoding);
        }
    }
    // Set once: a second call (tests in one process) keeps the first list.
    let _ = FALLBACKS.set(list);
    Ok(())
}

/// One piece of text: UTF-8 when it is, else the first fallback encoding that reads it
/// without error, else UTF-8 with replacement characters.
pub fn decode(bytes: &[u8]) -> Cow<'_, str> {
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Cow::Borrowed(s);
    }
    for encoding in FALLBACKS.get().map(Vec::as_slice).unwrap_or_default() {
        if let Some(s) = encoding.decode_without_bom_handling_and_without_replacement(bytes) {
            return Cow::Owned(s.into_owned());
        }
    }
    String::from_utf8_lossy(bytes)
}

/// Text made of lines that may each be in another encoding (a diff or an annotation of
/// several files): decoded line by line, so one Latin-1 file does not garble its UTF-8
/// neighbours.
pub fn decode_lines(bytes: &[u8]) -> Cow<'_, str> {
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(bytes.len() + bytes.len() / 8);
    for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&decode(line));
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_first_then_the_listed_encodings_line_by_line() {
        assert!(
            set_encodings("utf8, nonsense")
                .unwrap_err()
                .contains("\"nonsense\"")
        );
        set_encodings("utf-8, latin-1").unwrap();
        assert_eq!(decode("café".as_bytes()), "café");
        assert_eq!(decode(b"caf\xe9"), "café");
        // A diff touching a UTF-8 file and a Latin-1 one.
        assert_eq!(
            decode_lines(
                "+crème\n"
                    .as_bytes()
                    .iter()
                    .chain(b"-caf\xe9\n")
                    .copied()
                    .collect::<Vec<_>>()
                    .as_slice()
            ),
            "+crème\n-café\n"
        );
    }
}
