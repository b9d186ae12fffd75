//! Highlighting with tree-sitter for the languages it has a grammar for here (Python, Rust,
//! C, C++, JavaScript, TypeScript, Java, Go, C#, shell, JSON, CSS, HTML, Ruby, PHP): it
//! parses a whole file about five times faster than syntect's regular expressions, which is
//! most of the time a file page takes. Each grammar's captures are written as the scope
//! classes syntect would give (`hl-keyword`, `hl-entity hl-name hl-function`), so one
//! stylesheet colours both.

use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

use tree_sitter_highlight::{HighlightConfiguration, HighlightEvent, Highlighter};

use super::{CLASS_PREFIX, close_span, escape_into, styled};

/// A language tree-sitter highlights here.
struct Grammar {
    /// The name injections ask for (an HTML page's `javascript`), and Markdown fences use.
    name: &'static str,
    /// Other names for fences (`py`, `sh`, `c++`).
    aliases: &'static [&'static str],
    /// File extensions, lower case.
    extensions: &'static [&'static str],
    /// Whole file names (`Gemfile`).
    file_names: &'static [&'static str],
    /// Names of the syntect syntaxes it replaces, for files recognised by their first line.
    syntect_names: &'static [&'static str],
    build: fn() -> Option<HighlightConfiguration>,
}

fn config(
    language: tree_sitter_language::LanguageFn,
    name: &str,
    highlights: &str,
    injections: &str,
) -> Option<HighlightConfiguration> {
    HighlightConfiguration::new(language.into(), name, highlights, injections, "").ok()
}

fn joined(parts: &[&str]) -> String {
    parts.join("\n")
}

const GRAMMARS: &[Grammar] = &[
    Grammar {
        name: "python",
        aliases: &["py", "python3"],
        extensions: &["py", "pyw", "pyi"],
        file_names: &["SConstruct", "SConscript"],
        syntect_names: &["Python"],
        build: || {
            config(
                tree_sitter_python::LANGUAGE,
                "python",
                tree_sitter_python::HIGHLIGHTS_QUERY,
                "",
            )
        },
    },
    Grammar {
        name: "rust",
        aliases: &["rs"],
        extensions: &["rs"],
        file_names: &[],
        syntect_names: &["Rust"],
        build: || {
            config(
                tree_sitter_rust::LANGUAGE,
                "rust",
                tree_sitter_rust::HIGHLIGHTS_QUERY,
                tree_sitter_rust::INJECTIONS_QUERY,
            )
        },
    },
    Grammar {
        name: "c",
        aliases: &[],
        extensions: &["c", "h"],
        file_names: &[],
        syntect_names: &["C"],
        build: || {
            config(
                tree_sitter_c::LANGUAGE,
                "c",
                tree_sitter_c::HIGHLIGHT_QUERY,
                "",
            )
        },
    },
    Grammar {
        name: "cpp",
        aliases: &["c++", "cxx"],
        extensions: &[
            "cc", "cpp", "cxx", "c++", "hh", "hpp", "hxx", "h++", "ipp", "tcc",
        ],
        file_names: &[],
        syntect_names: &["C++"],
        build: || {
            let highlights = joined(&[
                tree_sitter_cpp::HIGHLIGHT_QUERY,
                tree_sitter_c::HIGHLIGHT_QUERY,
            ]);
            config(tree_sitter_cpp::LANGUAGE, "cpp", &highlights, "")
        },
    },
    Grammar {
        name: "javascript",
        aliases: &["js", "jsx", "node"],
        extensions: &["js", "mjs", "cjs", "jsx"],
        file_names: &[],
        syntect_names: &["JavaScript"],
        build: || {
            let highlights = joined(&[
                tree_sitter_javascript::JSX_HIGHLIGHT_QUERY,
                tree_sitter_javascript::HIGHLIGHT_QUERY,
            ]);
            config(
                tree_sitter_javascript::LANGUAGE,
                "javascript",
                &highlights,
                tree_sitter_javascript::INJECTIONS_QUERY,
            )
        },
    },
    Grammar {
        name: "typescript",
        aliases: &["ts"],
        extensions: &["ts", "mts", "cts"],
        file_names: &[],
        syntect_names: &[],
        build: || {
            let highlights = joined(&[
                tree_sitter_typescript::HIGHLIGHTS_QUERY,
                tree_sitter_javascript::HIGHLIGHT_QUERY,
            ]);
            config(
                tree_sitter_typescript::LANGUAGE_TYPESCRIPT,
                "typescript",
                &highlights,
                tree_sitter_javascript::INJECTIONS_QUERY,
            )
        },
    },
    Grammar {
        name: "tsx",
        aliases: &[],
        extensions: &["tsx"],
        file_names: &[],
        syntect_names: &[],
        build: || {
            let highlights = joined(&[
                tree_sitter_typescript::HIGHLIGHTS_QUERY,
                tree_sitter_javascript::JSX_HIGHLIGHT_QUERY,
                tree_sitter_javascript::HIGHLIGHT_QUERY,
            ]);
            config(
                tree_sitter_typescript::LANGUAGE_TSX,
                "tsx",
                &highlights,
                tree_sitter_javascript::INJECTIONS_QUERY,
            )
        },
    },
    Grammar {
        name: "java",
        aliases: &[],
        extensions: &["java"],
        file_names: &[],
        syntect_names: &["Java"],
        build: || {
            config(
                tree_sitter_java::LANGUAGE,
                "java",
                tree_sitter_java::HIGHLIGHTS_QUERY,
                "",
            )
        },
    },
    Grammar {
        name: "go",
        aliases: &["golang"],
        extensions: &["go"],
        file_names: &[],
        syntect_names: &["Go"],
        build: || {
            config(
                tree_sitter_go::LANGUAGE,
                "go",
                tree_sitter_go::HIGHLIGHTS_QUERY,
                "",
            )
        },
    },
    Grammar {
        name: "c_sharp",
        aliases: &["cs", "csharp", "c#"],
        extensions: &["cs", "csx"],
        file_names: &[],
        syntect_names: &["C#"],
        build: || {
            config(
                tree_sitter_c_sharp::LANGUAGE,
                "c_sharp",
                tree_sitter_c_sharp::HIGHLIGHTS_QUERY,
                "",
            )
        },
    },
    Grammar {
        name: "bash",
        aliases: &["sh", "shell", "zsh", "ksh"],
        extensions: &["sh", "bash", "zsh", "ksh"],
        file_names: &[".bashrc", ".bash_profile", ".profile", ".zshrc", "PKGBUILD"],
        syntect_names: &["Bourne Again Shell (bash)", "Shell-Unix-Generic"],
        build: || {
            config(
                tree_sitter_bash::LANGUAGE,
                "bash",
                tree_sitter_bash::HIGHLIGHT_QUERY,
                "",
            )
        },
    },
    Grammar {
        name: "json",
        aliases: &[],
        extensions: &["json", "jsonc", "geojson", "webmanifest"],
        file_names: &[".babelrc", ".eslintrc", "composer.lock"],
        syntect_names: &["JSON"],
        build: || {
            config(
                tree_sitter_json::LANGUAGE,
                "json",
                tree_sitter_json::HIGHLIGHTS_QUERY,
                "",
            )
        },
    },
    Grammar {
        name: "css",
        aliases: &[],
        extensions: &["css"],
        file_names: &[],
        syntect_names: &["CSS"],
        build: || {
            config(
                tree_sitter_css::LANGUAGE,
                "css",
                tree_sitter_css::HIGHLIGHTS_QUERY,
                "",
            )
        },
    },
    Grammar {
        name: "html",
        aliases: &["xhtml"],
        extensions: &["html", "htm", "xhtml", "shtml"],
        file_names: &[],
        syntect_names: &["HTML"],
        build: || {
            config(
                tree_sitter_html::LANGUAGE,
                "html",
                tree_sitter_html::HIGHLIGHTS_QUERY,
                tree_sitter_html::INJECTIONS_QUERY,
            )
        },
    },
    Grammar {
        name: "ruby",
        aliases: &["rb"],
        extensions: &["rb", "rake", "gemspec", "ru"],
        file_names: &["Gemfile", "Rakefile", "Vagrantfile", "Guardfile", "Podfile"],
        syntect_names: &["Ruby"],
        build: || {
            config(
                tree_sitter_ruby::LANGUAGE,
                "ruby",
                tree_sitter_ruby::HIGHLIGHTS_QUERY,
                "",
            )
        },
    },
    Grammar {
        name: "php",
        aliases: &[],
        extensions: &["php", "phtml", "php3", "php4", "php5", "phps"],
        file_names: &[],
        syntect_names: &["PHP", "PHP Source"],
        build: || {
            config(
                tree_sitter_php::LANGUAGE_PHP,
                "php",
                tree_sitter_php::HIGHLIGHTS_QUERY,
                tree_sitter_php::INJECTIONS_QUERY,
            )
        },
    },
];

/// The grammar for a file, by its extension or whole name; `None` leaves it to syntect.
pub(super) fn for_path(path: &str) -> Option<usize> {
    let name = path.rsplit('/').next().unwrap_or(path);
    if let Some(i) = GRAMMARS.iter().position(|g| g.file_names.contains(&name)) {
        return Some(i);
    }
    let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
    GRAMMARS
        .iter()
        .position(|g| g.extensions.contains(&ext.as_str()))
}

/// The grammar replacing a syntect syntax (a file known by its `#!` line).
pub(super) fn for_syntect_name(name: &str) -> Option<usize> {
    GRAMMARS
        .iter()
        .position(|g| g.syntect_names.contains(&name))
}

/// The grammar a Markdown fence's language token names.
pub(super) fn for_token(token: &str) -> Option<usize> {
    let token = token.to_ascii_lowercase();
    GRAMMARS
        .iter()
        .position(|g| g.name == token || g.aliases.contains(&token.as_str()))
}

/// A grammar made ready to highlight: its queries compiled and each capture it knows tied to
/// the opening tag of its span.
struct Ready {
    config: HighlightConfiguration,
    tags: Vec<Box<str>>,
}

/// Each capture name the grammars use, with the scopes it may be shown as, best first; the
/// first scope the stylesheet colours is used, and a capture with none gets no span.
const CAPTURES: &[(&str, &[&str])] = &[
    ("attribute", &["entity.other.attribute-name"]),
    ("comment", &["comment"]),
    ("constant", &["constant.other", "constant"]),
    ("constant.builtin", &["constant.language", "constant"]),
    (
        "constructor",
        &["entity.name.class", "support.class", "entity.name.type"],
    ),
    ("escape", &["constant.character.escape"]),
    ("function", &["entity.name.function", "support.function"]),
    (
        "function.builtin",
        &["support.function", "entity.name.function"],
    ),
    ("function.macro", &["support.macro", "entity.name.function"]),
    ("keyword", &["keyword"]),
    ("label", &["entity.name.label", "entity.name"]),
    ("module", &["entity.name.namespace", "entity.name"]),
    ("namespace", &["entity.name.namespace", "entity.name"]),
    ("number", &["constant.numeric"]),
    ("operator", &["keyword.operator"]),
    ("string", &["string.quoted", "string"]),
    ("string.escape", &["constant.character.escape"]),
    ("string.special", &["string.other", "string"]),
    ("string.special.regex", &["string.regexp", "string"]),
    (
        "string.special.symbol",
        &["constant.other.symbol", "constant"],
    ),
    ("tag", &["entity.name.tag"]),
    (
        "type",
        &["entity.name.type", "support.type", "storage.type"],
    ),
    ("type.builtin", &["storage.type", "support.type"]),
    ("variable.builtin", &["variable.language"]),
    ("variable.parameter", &["variable.parameter"]),
];

/// The capture names to recognise and their opening tags, for the captures the stylesheet
/// can colour.
fn recognised() -> &'static (Vec<&'static str>, Vec<Box<str>>) {
    static NAMES: OnceLock<(Vec<&'static str>, Vec<Box<str>>)> = OnceLock::new();
    NAMES.get_or_init(|| {
        let mut names = Vec::new();
        let mut tags = Vec::new();
        for (capture, scopes) in CAPTURES {
            let atoms = scopes
                .iter()
                .map(|s| s.split('.').collect::<Vec<_>>())
                .find(|atoms| styled(atoms));
            if let Some(atoms) = atoms {
                let classes: Vec<String> =
                    atoms.iter().map(|a| format!("{CLASS_PREFIX}{a}")).collect();
                names.push(*capture);
                tags.push(format!("<span class=\"{}\">", classes.join(" ")).into_boxed_str());
            }
        }
        (names, tags)
    })
}

fn prepared(index: usize) -> Option<&'static Ready> {
    static READY: OnceLock<Vec<OnceLock<Option<Ready>>>> = OnceLock::new();
    let all = READY.get_or_init(|| GRAMMARS.iter().map(|_| OnceLock::new()).collect());
    all.get(index)?
        .get_or_init(|| {
            let mut config = (GRAMMARS[index].build)()?;
            let (names, tags) = recognised();
            config.configure(names);
            Some(Ready {
                config,
                tags: tags.clone(),
            })
        })
        .as_ref()
}

/// Compiles every grammar's queries (a few milliseconds each), ahead of the first page.
pub(super) fn warm_up() {
    for i in 0..GRAMMARS.len() {
        prepared(i);
    }
}

thread_local! {
    static HIGHLIGHTER: RefCell<Highlighter> = RefCell::new(Highlighter::new());
}

/// Highlighted lines (one per line of the text, as `str::lines` counts them), or `None` when
/// the grammar's queries do not compile or the deadline passes. One thread: a parse cannot be
/// shared between threads, and a text cut in two parts can be parsed differently (a cut inside
/// a string reads as code in both, as tree-sitter recovers from the string left open).
pub(super) fn lines(index: usize, text: &str, deadline: Instant) -> Option<Vec<String>> {
    let cancel = Arc::new(AtomicUsize::new(0));
    watch(&cancel, deadline);
    let ready = prepared(index)?;
    HIGHLIGHTER.with_borrow_mut(|highlighter| {
        let injected = |name: &str| for_token(name).and_then(prepared).map(|r| &r.config);
        let events = highlighter
            .highlight(&ready.config, text.as_bytes(), Some(&cancel), injected)
            .ok()?;
        render(events, text, &ready.tags, deadline)
    })
}

/// Writes the events as lines of HTML: spans still open at the end of a line are closed
/// there and opened again on the next, so each line stands alone.
fn render(
    events: impl Iterator<Item = Result<HighlightEvent, tree_sitter_highlight::Error>>,
    text: &str,
    tags: &[Box<str>],
    deadline: Instant,
) -> Option<Vec<String>> {
    let mut lines = Vec::with_capacity(text.len() / 32);
    let mut line = String::new();
    // The open spans, outermost first.
    let mut open: Vec<usize> = Vec::new();
    // Where the innermost spans that have no text yet start: a span closed before any text
    // is dropped rather than written empty.
    let mut empty: Vec<usize> = Vec::new();
    for (n, event) in events.enumerate() {
        if n % 1024 == 1023 && Instant::now() > deadline {
            return None;
        }
        match event.ok()? {
            HighlightEvent::HighlightStart(h) => {
                empty.push(line.len());
                line.push_str(tags.get(h.0)?);
                open.push(h.0);
            }
            HighlightEvent::HighlightEnd => {
                open.pop()?;
                close_span(&mut line, &mut empty);
            }
            HighlightEvent::Source { start, end } => {
                let mut piece = text.get(start..end)?;
                while let Some(nl) = piece.find('\n') {
                    write_text(&mut line, &mut empty, &piece[..nl]);
                    end_line(&mut line, &mut empty, open.len());
                    lines.push(std::mem::take(&mut line));
                    for &h in &open {
                        empty.push(line.len());
                        line.push_str(&tags[h]);
                    }
                    piece = &piece[nl + 1..];
                }
                write_text(&mut line, &mut empty, piece);
            }
        }
    }
    if !text.is_empty() && !text.ends_with('\n') {
        end_line(&mut line, &mut empty, open.len());
        lines.push(line);
    }
    Some(lines)
}

fn write_text(line: &mut String, empty: &mut Vec<usize>, text: &str) {
    if !text.is_empty() {
        escape_into(line, text);
        empty.clear();
    }
}

/// Closes the line's open spans (dropping those with no text).
fn end_line(line: &mut String, empty: &mut Vec<usize>, open: usize) {
    for _ in 0..open {
        close_span(line, empty);
    }
    empty.clear();
}

/// One highlighting under way, as the watcher sees it.
struct Watched {
    deadline: Instant,
    flag: Weak<AtomicUsize>,
}

fn watched() -> &'static (Mutex<Vec<Watched>>, Condvar) {
    static WATCHED: OnceLock<(Mutex<Vec<Watched>>, Condvar)> = OnceLock::new();
    WATCHED.get_or_init(|| {
        let spawned = std::thread::Builder::new()
            .name("highlight-watch".into())
            .spawn(watch_deadlines);
        if spawned.is_err() {
            tracing::warn!("could not start the thread that ends overlong highlighting");
        }
        (Mutex::new(Vec::new()), Condvar::new())
    })
}

fn watch_deadlines() {
    let (list, wake) = watched();
    let Ok(mut list) = list.lock() else { return };
    loop {
        let now = Instant::now();
        list.retain(|w| match w.flag.upgrade() {
            Some(flag) if w.deadline <= now => {
                flag.store(1, Ordering::Relaxed);
                false
            }
            Some(_) => true,
            None => false,
        });
        let next = list.iter().map(|w| w.deadline).min();
        let waited = match next {
            Some(at) => wake
                .wait_timeout(
                    list,
                    at.saturating_duration_since(now) + Duration::from_millis(1),
                )
                .ok()
                .map(|(l, _)| l),
            None => wake.wait(list).ok(),
        };
        let Some(l) = waited else { return };
        list = l;
    }
}

/// Cancels the highlighting that owns `flag` if it runs past its deadline. The parse itself
/// can only be stopped from outside, through the cancellation flag tree-sitter reads as it
/// goes: one thread watches the deadlines of all highlightings under way, and forgets each
/// once its flag is dropped.
fn watch(flag: &Arc<AtomicUsize>, deadline: Instant) {
    let (list, wake) = watched();
    if let Ok(mut list) = list.lock() {
        list.push(Watched {
            deadline,
            flag: Arc::downgrade(flag),
        });
        wake.notify_one();
    }
}
