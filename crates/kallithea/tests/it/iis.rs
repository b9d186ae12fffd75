//! `kallithea install-iis`: the web.config IIS needs, checked element by element (no Windows
//! here: docs/iis.md says what could not be tried).

use std::path::Path;

use crate::support::*;

fn write_ini(dir: &Path, extra: &[&str]) -> std::path::PathBuf {
    let mut args = vec!["config-create", "my.ini"];
    args.extend_from_slice(extra);
    let out = run_bin(dir, &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir.join("my.ini")
}

fn install(dir: &Path, args: &[&str]) -> std::process::Output {
    let mut all = vec!["install-iis", "-c", "my.ini"];
    all.extend_from_slice(args);
    run_bin(dir, &all)
}

fn attr<'a>(doc: &'a roxmltree::Document<'_>, tag: &str, name: &str) -> &'a str {
    doc.descendants()
        .find(|n| n.has_tag_name(tag))
        .unwrap_or_else(|| panic!("<{tag}> present"))
        .attribute(name)
        .unwrap_or_else(|| panic!("<{tag} {name}=...> present"))
}

#[test]
fn install_iis_writes_a_web_config_iis_can_host_us_with() {
    let dir = tempfile::tempdir().unwrap();
    let secret = "s3cret-s3cret-s3cret<&>";
    write_ini(dir.path(), &[]);

    // Without a proxy secret in my.ini, nothing is written and the fix is spelled out.
    let out = install(dir.path(), &[]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("has no proxy_secret") && err.contains("proxy_secret = "),
        "{err}"
    );
    assert!(!dir.path().join("web.config").exists());

    let ini = write_ini(dir.path(), &[&format!("proxy_secret={secret}"), "--force"]);
    let out = install(dir.path(), &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let file = dir.path().join("web.config");
    assert_eq!(Path::new(&printed), file.canonicalize().unwrap());
    assert!(dir.path().join("logs").is_dir(), "stdout log folder made");
    let text = std::fs::read_to_string(&file).unwrap();
    let doc = roxmltree::Document::parse(&text).expect("well-formed XML");

    // The handler sends every request to HttpPlatformHandler.
    let handler = doc
        .descendants()
        .find(|n| n.has_tag_name("add") && n.attribute("modules") == Some("httpPlatformHandler"))
        .expect("handler");
    assert_eq!(handler.attribute("path"), Some("*"));
    assert_eq!(handler.attribute("verb"), Some("*"));
    // It starts this binary with the absolute my.ini on IIS's port.
    assert_eq!(attr(&doc, "httpPlatform", "processPath"), BIN_PATH());
    let args = attr(&doc, "httpPlatform", "arguments");
    assert!(args.starts_with("serve "), "{args}");
    assert!(
        args.contains(&format!("\"{}\"", ini.canonicalize().unwrap().display())),
        "{args}"
    );
    assert!(args.contains("--port %HTTP_PLATFORM_PORT%"), "{args}");
    assert!(args.contains("--host 127.0.0.1"), "{args}");
    // Long clones: the two-minute default is raised.
    let timeout = attr(&doc, "httpPlatform", "requestTimeout");
    let hours: u32 = timeout.split(':').next().unwrap().parse().unwrap();
    assert!(hours >= 1, "{timeout}");
    assert_eq!(attr(&doc, "httpPlatform", "stdoutLogEnabled"), "true");
    assert!(attr(&doc, "httpPlatform", "stdoutLogFile").starts_with(".\\logs\\"));
    // Big pushes, bin/ folders, *.config files, + and %25 in paths.
    let limit: u64 = attr(&doc, "requestLimits", "maxAllowedContentLength")
        .parse()
        .unwrap();
    assert!(limit >= 4_000_000_000, "{limit}");
    assert_eq!(
        attr(&doc, "requestFiltering", "allowDoubleEscaping"),
        "true"
    );
    for section in ["hiddenSegments", "fileExtensions"] {
        let n = doc.descendants().find(|n| n.has_tag_name(section)).unwrap();
        assert!(
            n.children().any(|c| c.has_tag_name("clear")),
            "{section} cleared"
        );
    }
    assert_eq!(attr(&doc, "fileExtensions", "allowUnlisted"), "true");
    // URL Rewrite passes the Windows user in Remote-User and the proxy secret, replacing
    // whatever a client sent.
    let sets: Vec<(String, String)> = doc
        .descendants()
        .filter(|n| n.has_tag_name("set"))
        .map(|n| {
            (
                n.attribute("name").unwrap().to_owned(),
                n.attribute("value").unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        sets.contains(&("HTTP_REMOTE_USER".into(), "{LOGON_USER}".into())),
        "{sets:?}"
    );
    assert!(
        sets.contains(&("HTTP_X_KALLITHEA_PROXY_SECRET".into(), secret.into())),
        "{sets:?}"
    );
    assert!(
        sets.contains(&("HTTP_X_FORWARDED_PROTO".into(), "https".into())),
        "{sets:?}"
    );
    assert!(
        doc.descendants()
            .filter(|n| n.has_tag_name("set"))
            .all(|n| n.attribute("replace") == Some("true"))
    );
    // It says what my.ini should add for forwarded addresses and scheme.
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("remote_addr_variable = HTTP_X_FORWARDED_FOR"),
        "{err}"
    );

    // Run again: it replaces its own file. A foreign web.config is kept unless --force.
    assert!(
        install(dir.path(), &["--user-header", "HTTP_X_FORWARDED_USER"])
            .status
            .success()
    );
    assert!(
        std::fs::read_to_string(&file)
            .unwrap()
            .contains("name=\"HTTP_X_FORWARDED_USER\" value=\"{LOGON_USER}\"")
    );
    std::fs::write(&file, "<configuration/>").unwrap();
    let out = install(dir.path(), &[]);
    assert!(!out.status.success());
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "<configuration/>");
    assert!(install(dir.path(), &["--force"]).status.success());
}

#[test]
fn install_iis_root_must_match_the_prefix() {
    let dir = tempfile::tempdir().unwrap();
    write_ini(dir.path(), &["proxy_secret=0123456789abcdef0123"]);
    let out = install(dir.path(), &["--root=/kallithea"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("does not match") && err.contains("prefix = /kallithea"),
        "{err}"
    );

    write_ini(
        dir.path(),
        &[
            "proxy_secret=0123456789abcdef0123",
            "filter-with=proxy-prefix",
            "prefix=/kallithea",
            "--force",
        ],
    );
    let out = install(dir.path(), &["--virtualdir=/kallithea"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(dir.path().join("web.config")).unwrap();
    assert!(text.contains("IIS application at /kallithea"));
    assert!(!install(dir.path(), &["--root=/"]).status.success());
    assert!(!install(dir.path(), &["--root=kallithea"]).status.success());
    // The alias works too.
    let out = run_bin(
        dir.path(),
        &["iis-install", "-c", "my.ini", "--root", "/kallithea"],
    );
    assert!(out.status.success());
}

#[allow(non_snake_case)]
fn BIN_PATH() -> String {
    Path::new(BIN).canonicalize().unwrap().display().to_string()
}
