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

/// File names are bytes in git, and almost always UTF-8. A name that is not is carried as
/// text by writing each byte that is not part of a UTF-8 character as one private-use
/// character, U+10FE80 to U+10FEFF ([`name_from_bytes`]); [`name_to_bytes`] gives the bytes
/// back. A name that really holds one of those characters has its bytes written the same
/// way, so every name survives the round trip. Pages show such bytes as U+FFFD
/// ([`name_shown`]), and links carry the private-use characters, which lead back to the
/// same file.
const NAME_BYTE_BASE: u32 = 0x10FE00;

fn is_name_byte_char(c: char) -> bool {
    (0x10FE80..=0x10FEFF).contains(&(c as u32))
}

fn push_name_byte(s: &mut String, b: u8) {
    // Only bytes from 0x80 up are escaped: they make valid characters.
    if let Some(c) = char::from_u32(NAME_BYTE_BASE + u32::from(b)) {
        s.push(c);
    }
}

/// A file name from git as text that [`name_to_bytes`] turns back into the same bytes.
pub fn name_from_bytes(bytes: &[u8]) -> Cow<'_, str> {
    if let Ok(s) = std::str::from_utf8(bytes)
        && !s.chars().any(is_name_byte_char)
    {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if is_name_byte_char(c) {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    push_name_byte(&mut out, b);
                }
            } else {
                out.push(c);
            }
        }
        for &b in chunk.invalid() {
            push_name_byte(&mut out, b);
        }
    }
    Cow::Owned(out)
}

/// A name from a URL's decoded bytes: bytes that are not UTF-8 are taken as
/// [`name_from_bytes`] takes them (`caf%E9.txt`), and so are the private-use characters that
/// stand for them (as a script may have encoded the name it was given). Only a name that
/// really holds those characters cannot be reached this way.
pub fn name_from_url(bytes: &[u8]) -> Cow<'_, str> {
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for &b in chunk.invalid() {
            push_name_byte(&mut out, b);
        }
    }
    Cow::Owned(out)
}

/// The bytes of a name that [`name_from_bytes`] made (any other text: its UTF-8).
pub fn name_to_bytes(name: &str) -> Cow<'_, [u8]> {
    if !name.chars().any(is_name_byte_char) {
        return Cow::Borrowed(name.as_bytes());
    }
    let mut out = Vec::with_capacity(name.len());
    for c in name.chars() {
        if is_name_byte_char(c) {
            out.push((c as u32 - NAME_BYTE_BASE) as u8);
        } else {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
    }
    Cow::Owned(out)
}

/// A name as people should read it: bytes that are not UTF-8 shown as U+FFFD.
pub fn name_shown(name: &str) -> Cow<'_, str> {
    if !name.chars().any(is_name_byte_char) {
        return Cow::Borrowed(name);
    }
    Cow::Owned(String::from_utf8_lossy(&name_to_bytes(name)).into_owned())
}

#[cfg(test)]
mod name_tests {
    use super::*;

    #[test]
    fn every_name_survives_the_round_trip() {
        let cases: [&[u8]; 7] = [
            b"plain.txt",
            "caf\u{e9}.txt".as_bytes(),
            b"caf\xe9.txt",
            b"\xff\xfe",
            b"half\xe2\x82",
            // A name that really holds the characters used for bytes.
            "x\u{10FEE9}y".as_bytes(),
            b"mix\xe9\xf4\x8f\xbb\xa9",
        ];
        for bytes in cases {
            let name = name_from_bytes(bytes);
            assert_eq!(&*name_to_bytes(&name), bytes, "{name:?}");
        }
        assert!(matches!(name_from_bytes(b"plain.txt"), Cow::Borrowed(_)));
        assert_eq!(name_from_bytes(b"caf\xe9.txt"), "caf\u{10FEE9}.txt");
        assert_eq!(
            name_shown(&name_from_bytes(b"caf\xe9.txt")),
            "caf\u{FFFD}.txt"
        );
        assert_eq!(name_shown("caf\u{e9}.txt"), "caf\u{e9}.txt");
        // From a URL, the bytes and the characters that stand for them name the same file.
        assert_eq!(name_from_url(b"caf\xe9.txt"), "caf\u{10FEE9}.txt");
        assert_eq!(
            name_from_url("caf\u{10FEE9}.txt".as_bytes()),
            "caf\u{10FEE9}.txt"
        );
        assert_eq!(name_from_url("caf\u{e9}.txt".as_bytes()), "caf\u{e9}.txt");
        // The literal character is not taken for a byte.
        assert_ne!(name_from_bytes("x\u{10FEE9}y".as_bytes()), "x\u{10FEE9}y");
    }
}
