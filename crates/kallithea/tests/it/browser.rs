//! Headless Chromium, driven over W3C WebDriver by Debian's chromedriver: a walk through the
//! browsing pages that checks what a person sees, that the graph is drawn, and that the
//! console stays free of errors. Screenshots go to `target/screenshots/`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::*;

struct Driver {
    child: Child,
    base: String,
    session: String,
    http: reqwest::blocking::Client,
    _profile: tempfile::TempDir,
}

impl Driver {
    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "chromedriver runs (Debian package chromium-driver; scripts/test.sh installs it)",
            );
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while http.get(format!("{base}/status")).send().is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = tempfile::tempdir().unwrap();
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                         "--disable-background-networking", "--disable-component-update", "--disable-sync",
                         "--window-size=1280,1000", format!("--user-data-dir={}", profile.path().display())]
            },
            "goog:loggingPrefs": {"browser": "ALL"}
        }}});
        let resp: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .unwrap()
            .json()
            .unwrap();
        let session = resp["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {resp}"))
            .to_owned();
        Self {
            child,
            base,
            session,
            http,
            _profile: profile,
        }
    }

    fn cmd(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut req = self.http.request(method, url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let v: Value = req.send().unwrap().json().unwrap();
        assert!(v["value"].get("error").is_none(), "webdriver {path}: {v}");
        v["value"].clone()
    }

    fn go(&self, url: &str) {
        self.cmd(reqwest::Method::POST, "/url", Some(json!({"url": url})));
    }

    fn js(&self, script: &str) -> Value {
        self.cmd(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
    }

    /// The WebDriver id of the first element matching a CSS selector.
    fn element(&self, css: &str) -> String {
        let el = self.cmd(
            reqwest::Method::POST,
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        );
        el.as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .unwrap()
            .to_owned()
    }

    /// Clicks the first element matching a CSS selector (a real click, as a person would).
    fn click(&self, css: &str) {
        let id = self.element(css);
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{id}/click"),
            Some(json!({})),
        );
    }

    /// Types into the first element matching a CSS selector, key by key.
    fn type_into(&self, css: &str, text: &str) {
        let id = self.element(css);
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{id}/value"),
            Some(json!({"text": text})),
        );
    }

    /// Waits (up to ten seconds) until a script returns true.
    fn wait_for(&self, script: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.js(script) != Value::Bool(true) {
            assert!(Instant::now() < deadline, "never true: {script}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn text(&self) -> String {
        self.js("return document.body.innerText")
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    fn screenshot(&self, name: &str) {
        use base64::Engine;
        let b64 = self.cmd(reqwest::Method::GET, "/screenshot", None);
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap())
            .unwrap();
        assert!(
            png.starts_with(b"\x89PNG") && png.len() > 1000,
            "{name}: a real screenshot"
        );
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    /// Console messages at level SEVERE (errors) since the last call.
    fn console_errors(&self) -> Vec<String> {
        let logs = self.cmd(
            reqwest::Method::POST,
            "/se/log",
            Some(json!({"type": "browser"})),
        );
        logs.as_array()
            .into_iter()
            .flatten()
            .filter(|e| e["level"] == "SEVERE")
            .map(|e| e["message"].as_str().unwrap_or_default().to_owned())
            .collect()
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self
            .http
            .delete(format!("{}/session/{}", self.base, self.session))
            .send();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_person_walks_summary_changelog_changeset_file_and_annotate() {
    let s = Server::start();
    let admin = s.admin();
    s.create_repo(&admin, "walk", false);
    let src = source_repo(s.dir.path());
    std::fs::write(src.join("main.txt"), "main\nmore\n").unwrap();
    git_ok(
        &src,
        &[
            "commit",
            "-q",
            "-am",
            "second main change <script>alert(1)</script>",
        ],
    );
    git_ok(
        &src,
        &["merge", "-q", "--no-ff", "-m", "merge feature", "feature"],
    );
    git_ok(
        &src,
        &["push", "-q", &s.git_url(ADMIN, ADMIN_PW, "walk"), "--all"],
    );

    let d = Driver::start();
    d.go(&s.url("/walk"));
    let summary = d.text();
    assert!(
        summary.contains("Latest changesets") && summary.contains("merge feature"),
        "{summary}"
    );
    d.screenshot("1-summary");

    d.click("nav.tabs a[href$='/changelog']");
    let circles = d
        .js("return document.querySelectorAll('svg.graph circle').length")
        .as_u64()
        .unwrap();
    let rows = d
        .js("return document.querySelectorAll('table.changesets tbody tr').length")
        .as_u64()
        .unwrap();
    assert_eq!(circles, rows, "one dot per changeset");
    let graph_height = d
        .js("return document.querySelector('svg.graph').getBoundingClientRect().height")
        .as_f64()
        .unwrap();
    assert!(graph_height > 50.0, "the graph is drawn ({graph_height}px)");
    let lanes = d.js("return new Set([...document.querySelectorAll('svg.graph circle')].map(c => c.getAttribute('cx'))).size").as_u64().unwrap();
    assert!(lanes >= 2, "the merge opens a second lane");
    // Each dot sits on its row, rows with tag badges included.
    let drift = d
        .js(
            "const rows = [...document.querySelectorAll('table.changesets tbody tr')]; \
             const dots = [...document.querySelectorAll('svg.graph circle')]; \
             return Math.max(...rows.map((r, i) => { const a = r.getBoundingClientRect(), \
             b = dots[i].getBoundingClientRect(); \
             return Math.abs((a.top + a.bottom) / 2 - (b.top + b.bottom) / 2); }));",
        )
        .as_f64()
        .unwrap();
    let rows_info = d.js("return [...document.querySelectorAll('table.changesets tbody tr')].map(r => r.getBoundingClientRect().height + ':' + r.getBoundingClientRect().top).join(' ') + ' | ' + [...document.querySelectorAll('svg.graph circle')].map(c => c.getBoundingClientRect().top).join(' ') + ' | thead ' + document.querySelector('table.changesets thead').getBoundingClientRect().height + ' svgtop ' + document.querySelector('svg.graph').getBoundingClientRect().top + ' tabletop ' + document.querySelector('table.changesets').getBoundingClientRect().top");
    assert!(
        drift < 4.0,
        "dots are {drift}px off their rows: {rows_info}"
    );
    let alerts = d
        .js("return document.querySelectorAll('script:not([src$=\"/_admin/static/kallithea.js\"])').length")
        .as_u64()
        .unwrap();
    assert_eq!(alerts, 0, "no script element from the hostile message");
    d.screenshot("2-changelog");
    // The switcher opens, and closes with Escape as a menu does.
    d.click("details.switcher summary");
    assert_eq!(
        d.js("return document.querySelector('details.switcher').open"),
        true
    );
    d.js("document.dispatchEvent(new KeyboardEvent('keydown', {key: 'Escape'})); return 0");
    assert_eq!(
        d.js("return document.querySelector('details.switcher').open"),
        false
    );

    d.click("table.changesets tbody tr:nth-child(2) td a");
    let changeset = d.text();
    assert!(
        changeset.contains("Changeset") && changeset.contains("file changed")
            || changeset.contains("files changed"),
        "{changeset}"
    );
    assert!(
        d.js("return document.querySelectorAll('table.diff tr.add').length")
            .as_u64()
            .unwrap()
            > 0,
        "added lines shown"
    );
    d.screenshot("3-changeset");

    d.click("section.filediff h3 a");
    assert!(
        d.js("return document.querySelectorAll('table.source tr').length")
            .as_u64()
            .unwrap()
            > 0
    );
    d.screenshot("4-file");
    // Line ranges follow the address, also when it changes on the page; a range past the
    // end selects nothing.
    let lines = d
        .js("return document.querySelectorAll('table.source tr').length")
        .as_u64()
        .unwrap();
    for (hash, want) in [
        ("#L1", 1),
        (&format!("#L1-L{lines}") as &str, lines),
        ("#L999-L1000", 0),
    ] {
        d.js(&format!("location.hash = '{hash}'; return 0"));
        let selected = d
            .js("return document.querySelectorAll('table.source tr.selected').length")
            .as_u64()
            .unwrap();
        assert_eq!(selected, want, "{hash}");
    }

    // The authors open under the toolbar without leaving the page, and close again.
    let file_url = d.js("return location.href");
    d.click("a.show-authors");
    d.wait_for("return !!document.querySelector('#file-authors .authors')");
    let authors = d.js("return document.getElementById('file-authors').innerText");
    let authors = authors.as_str().unwrap();
    assert!(
        authors.contains("1 author") && authors.contains("Test Author"),
        "{authors}"
    );
    assert_eq!(d.js("return location.href"), file_url);
    d.screenshot("4-file-authors");
    d.click("a.show-authors");
    assert_eq!(
        d.js("return document.getElementById('file-authors').hidden"),
        Value::Bool(true)
    );

    d.click("a[href*='/annotate/']");
    let annotate = d.text();
    assert!(
        annotate.contains("Annotate") && annotate.contains("Test Author"),
        "{annotate}"
    );
    // The changeset, author and age fit on one line beside the code.
    let blame = d
        .js("return document.querySelector('td.blame').getBoundingClientRect().height")
        .as_f64()
        .unwrap();
    assert!(blame < 40.0, "the blame cell is {blame}px tall");
    d.screenshot("5-annotate");

    let errors = d.console_errors();
    assert!(errors.is_empty(), "console errors: {errors:?}");
}

#[test]
fn a_person_finds_a_file_by_part_of_its_path() {
    let s = Server::start();
    let admin = s.admin();
    s.create_repo(&admin, "find", false);
    let dir = work_tree(s.dir.path(), "find-src");
    for path in [
        "README.md",
        "src/app/main.rs",
        "src/app/mapper.rs",
        "src/lib.rs",
        "docs/apple pie.md",
        "tests/app_test.rs",
        "<img src=x onerror=alert(1)>.txt",
    ] {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, "x\n").unwrap();
    }
    git_ok(&dir, &["add", "."]);
    git_ok(&dir, &["commit", "-q", "-m", "files"]);
    git_ok(
        &dir,
        &["push", "-q", &s.git_url(ADMIN, ADMIN_PW, "find"), "main"],
    );

    let d = Driver::start();
    d.go(&s.url("/find/files/main/"));
    assert_eq!(
        d.js("return document.querySelector('div.finder').hidden"),
        false,
        "the finder shows once its script runs"
    );
    d.type_into("#find-file", "app");
    d.wait_for("return !document.querySelector('ol.finder-results').hidden");
    let found = d
        .js("return [...document.querySelectorAll('ol.finder-results a')].map(a => a.textContent)");
    // Names that start with the word, then names that hold it, then paths that hold it;
    // folders are not files.
    assert_eq!(
        found,
        json!([
            "docs/apple pie.md",
            "tests/app_test.rs",
            "src/app/mapper.rs",
            "src/app/main.rs"
        ])
    );
    assert!(d.text().contains("4 files match"), "{}", d.text());
    d.screenshot("6-finder");

    // Every word must match; a hostile name is text, never markup.
    d.js("document.querySelector('#find-file').value = ''; return 0");
    d.type_into("#find-file", "onerror");
    d.wait_for("return document.querySelectorAll('ol.finder-results a').length === 1");
    assert_eq!(
        d.js("return document.querySelectorAll('ol.finder-results img').length"),
        0
    );
    d.js("document.querySelector('#find-file').value = ''; return 0");
    d.type_into("#find-file", "src ma");
    d.wait_for("return document.querySelectorAll('ol.finder-results a').length === 2");
    d.type_into("#find-file", "pp");
    d.wait_for("return document.querySelectorAll('ol.finder-results a').length === 1");
    // Enter opens the first file found.
    d.type_into("#find-file", "\u{E007}");
    d.wait_for("return location.pathname.endsWith('/find/files/main/src/app/mapper.rs')");
    assert!(d.text().contains("mapper.rs"));

    // In a folder, only what lies below it; nothing found says so.
    d.go(&s.url("/find/files/main/src"));
    d.type_into("#find-file", "test");
    d.wait_for(
        "return document.querySelector('.finder-status').textContent === 'No file matches.'",
    );

    let errors = d.console_errors();
    assert!(errors.is_empty(), "console errors: {errors:?}");
}

#[test]
fn a_person_picks_changesets_on_the_changelog_to_see_them_together() {
    let s = Server::start();
    let admin = s.admin();
    s.create_repo(&admin, "pick", false);
    let dir = work_tree(s.dir.path(), "pick-src");
    for n in 1..=4 {
        std::fs::write(dir.join("f.txt"), format!("version {n}\n")).unwrap();
        git_ok(&dir, &["add", "."]);
        git_ok(&dir, &["commit", "-q", "-m", &format!("change {n}")]);
    }
    git_ok(
        &dir,
        &["push", "-q", &s.git_url(ADMIN, ADMIN_PW, "pick"), "main"],
    );
    let id = |rev: &str| git_ok(&dir, &["rev-parse", rev]).trim().to_owned();

    let d = Driver::start();
    d.go(&s.url("/pick/changelog"));
    let nothing = json!("Tick changesets to see them together.");
    assert_eq!(
        d.js("return document.querySelector('p.picked').textContent"),
        nothing,
        "nothing picked, nothing offered"
    );
    let top = "return document.querySelector('table.changesets').getBoundingClientRect().top";
    let table_top = d.js(top);
    // One row: its changeset.
    d.click("table.changesets tbody tr:nth-child(2) input.pick");
    assert_eq!(
        d.js("return document.querySelector('p.picked a').getAttribute('href')"),
        json!(format!("/pick/changeset/{}", id("main~1")))
    );
    assert_eq!(d.js(top), table_top, "ticking does not move the rows");
    // Two rows, newest first on the page: the range runs from the older to the newer.
    d.click("table.changesets tbody tr:nth-child(4) input.pick");
    let links = d.js(
        "return [...document.querySelectorAll('p.picked a')].map(a => [a.getAttribute('href'), a.textContent])",
    );
    let (old, new) = (id("main~3"), id("main~1"));
    assert_eq!(
        links,
        json!([
            [
                format!("/pick/changeset/{old}...{new}"),
                format!("Show changesets {} to {}", &old[..12], &new[..12])
            ],
            [
                format!("/pick/compare/rev@{old}...rev@{new}"),
                format!("Compare {} with {}", &old[..12], &new[..12])
            ]
        ])
    );
    d.screenshot("7-picked");
    d.click("p.picked a");
    let range = d.text();
    assert!(
        range.contains("change 1") && range.contains("change 3") && !range.contains("change 4"),
        "the range holds both ends and nothing newer: {range}"
    );
    // Unticking takes the offer back.
    d.go(&s.url("/pick/changelog"));
    d.click("table.changesets tbody tr:nth-child(1) input.pick");
    d.click("table.changesets tbody tr:nth-child(1) input.pick");
    assert_eq!(
        d.js("return document.querySelector('p.picked').textContent"),
        nothing
    );
    // The summary's rows have nothing to pick.
    d.go(&s.url("/pick"));
    assert_eq!(
        d.js("return document.querySelectorAll('input.pick').length"),
        0
    );

    let errors = d.console_errors();
    assert!(errors.is_empty(), "console errors: {errors:?}");
}

#[test]
fn a_person_follows_links_to_headings_in_a_document() {
    let s = Server::start();
    let admin = s.admin();
    s.create_repo(&admin, "docs", false);
    let dir = work_tree(s.dir.path(), "docs-src");
    let filler: String = (0..120).map(|n| format!("Paragraph {n}.\n\n")).collect();
    std::fs::write(
        dir.join("GUIDE.md"),
        format!("# Guide\n\nSee [far away](#far-heading).\n\n{filler}## Far heading\n\nHere.\n"),
    )
    .unwrap();
    git_ok(&dir, &["add", "."]);
    git_ok(&dir, &["commit", "-q", "-m", "guide"]);
    git_ok(
        &dir,
        &["push", "-q", &s.git_url(ADMIN, ADMIN_PW, "docs"), "main"],
    );
    let d = Driver::start();
    let in_view = "var r = document.getElementById('user-content-far-heading').getBoundingClientRect(); \
                   return r.top >= 0 && r.top < window.innerHeight;";
    d.go(&s.url("/docs/files/main/GUIDE.md"));
    assert_eq!(
        d.js(in_view),
        Value::Bool(false),
        "the heading starts out of view"
    );
    // A link in the document goes to its heading.
    d.click(".markdown a[href='#user-content-far-heading']");
    d.wait_for(in_view);
    // An address that names the heading as written goes there too.
    d.go(&s.url("/docs/files/main/GUIDE.md?x=1#far-heading"));
    d.wait_for(in_view);
    let errors = d.console_errors();
    assert!(errors.is_empty(), "console errors: {errors:?}");
}

#[test]
fn a_person_picking_changesets_on_two_lines_of_history_is_offered_a_comparison() {
    let s = Server::start();
    let admin = s.admin();
    s.create_repo(&admin, "lines", false);
    let dir = work_tree(s.dir.path(), "lines-src");
    let commit = |name: &str| {
        std::fs::write(dir.join(format!("{name}.txt")), name).unwrap();
        git_ok(&dir, &["add", "."]);
        git_ok(&dir, &["commit", "-q", "-m", name]);
    };
    commit("base");
    git_ok(&dir, &["checkout", "-q", "-b", "side"]);
    commit("side work");
    git_ok(&dir, &["checkout", "-q", "main"]);
    commit("main work");
    git_ok(
        &dir,
        &["merge", "-q", "--no-ff", "-m", "merge side", "side"],
    );
    git_ok(
        &dir,
        &["push", "-q", &s.git_url(ADMIN, ADMIN_PW, "lines"), "main"],
    );
    let d = Driver::start();
    d.go(&s.url("/lines/changelog"));
    let row = |summary: &str| {
        d.js(&format!(
            "return [...document.querySelectorAll('table.changesets tbody tr')].findIndex(tr => tr.textContent.includes('{summary}')) + 1"
        ))
        .as_u64()
        .unwrap()
    };
    let tick = |summary: &str| {
        let n = row(summary);
        d.click(&format!(
            "table.changesets tbody tr:nth-child({n}) input.pick"
        ));
    };
    let offered = || {
        d.js("return [document.querySelector('p.picked').textContent, [...document.querySelectorAll('p.picked a')].map(a => a.textContent)]")
    };
    // Neither descends from the other: only the comparison.
    tick("side work");
    tick("main work");
    let got = offered();
    let texts = got[1].as_array().unwrap();
    assert_eq!(texts.len(), 1, "{got}");
    assert!(texts[0].as_str().unwrap().starts_with("Compare "), "{got}");
    assert!(
        got[0].as_str().unwrap().contains("does not descend from"),
        "{got}"
    );
    // From the base to the merge is a range again.
    tick("side work");
    tick("main work");
    tick("base");
    tick("merge side");
    let got = offered();
    let texts = got[1].as_array().unwrap();
    assert_eq!(texts.len(), 2, "{got}");
    assert!(
        texts[0].as_str().unwrap().starts_with("Show changesets "),
        "{got}"
    );
    d.click("p.picked a");
    let range = d.text();
    assert!(
        range.contains("side work") && range.contains("main work") && range.contains("base"),
        "{range}"
    );
    let errors = d.console_errors();
    assert!(errors.is_empty(), "console errors: {errors:?}");
}
