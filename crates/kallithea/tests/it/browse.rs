//! Browsing pages on repositories made by scripts with the real git client.

use std::path::{Path, PathBuf};

use crate::support::*;

/// A repository with hostile names and content, pushed to the server as `web`.
/// History on main: "first" (README, src/app.py) → "add files" (binary, latin-1, big,
/// image, svg, html, dir with HTML in its name) → "edit app #12" (modifies src/app.py);
/// branch `feature/x` with one more commit; tags `v1.0` and `x"><svg/onload=alert(1)>`.
fn hostile_repo(s: &Server) -> PathBuf {
    let dir = work_tree(s.dir.path(), "hostile");
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("README.md"),
        "# Project <em>Title</em>\n\n<script>alert('readme')</script>\n\nSee [docs](javascript:alert(1)).\n\n![logo](src/logo.png) [the app](src/app.py)\n",
    )
    .unwrap();
    std::fs::write(dir.join("src/app.py"), "def main():\n    return 1\n").unwrap();
    git_ok(&dir, &["add", "."]);
    git_ok(&dir, &["commit", "-q", "-m", "first"]);
    git_ok(&dir, &["tag", "v1.0"]);
    std::fs::write(dir.join("blob.bin"), [0u8, 159, 146, 150, 0, 1, 2]).unwrap();
    std::fs::write(dir.join("latin1.txt"), b"caf\xe9 cr\xe8me\n").unwrap();
    std::fs::write(dir.join("big.txt"), "0123456789abcdef\n".repeat(40_000)).unwrap();
    std::fs::write(dir.join("dot.png"), PNG).unwrap();
    std::fs::write(
        dir.join("evil.svg"),
        "<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>",
    )
    .unwrap();
    std::fs::write(
        dir.join("page.html"),
        "<html><script>alert(1)</script></html>",
    )
    .unwrap();
    std::fs::create_dir_all(dir.join("<b>dir</b>")).unwrap();
    std::fs::write(dir.join("<b>dir</b>/inner.txt"), "inner\n").unwrap();
    git_ok(&dir, &["add", "."]);
    git_ok(&dir, &["commit", "-q", "-m", "add files"]);
    std::fs::write(
        dir.join("src/app.py"),
        "def main():\n    return 2\n\n\ndef extra():\n    pass\n",
    )
    .unwrap();
    git_ok(&dir, &["add", "."]);
    git_ok(
        &dir,
        &[
            "commit",
            "-q",
            "-m",
            "edit app #12 <script>alert('msg')</script>\n\nDetails at https://example.com/x?a=1&b=2",
        ],
    );
    git_ok(&dir, &["tag", "x\"><svg/onload=alert(1)>"]);
    git_ok(&dir, &["checkout", "-q", "-b", "feature/x"]);
    std::fs::write(dir.join("feature.txt"), "f\n").unwrap();
    git_ok(&dir, &["add", "."]);
    git_ok(&dir, &["commit", "-q", "-m", "feature work"]);
    git_ok(&dir, &["checkout", "-q", "main"]);
    let url = s.git_url(ADMIN, ADMIN_PW, "web");
    git_ok(&dir, &["push", "-q", &url, "main"]);
    git_ok(&dir, &["push", "-q", &url, "--all"]);
    git_ok(&dir, &["push", "-q", &url, "--tags"]);
    dir
}

/// A 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0x50,
    0x0F, 0x00, 0x04, 0x85, 0x01, 0x80, 0x84, 0xA9, 0x8C, 0x21, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

fn setup() -> (Server, Browser, PathBuf) {
    let s = Server::start_with(Options {
        extra_config: vec!["issue_server_link=https://issues.example.com/{repo}/issue/{id}".into()],
        ..Options::default()
    });
    let admin = s.admin();
    s.create_repo(&admin, "web", false);
    let dir = hostile_repo(&s);
    (s, admin, dir)
}

/// Turns on archive downloads for a repository, as its settings form does.
fn enable_downloads(admin: &Browser, repo: &str) {
    let r = admin.post(
        &format!("/{repo}/settings"),
        &[
            ("repo_description", "d"),
            ("repo_landing_rev", "rev:tip"),
            ("repo_enable_downloads", "True"),
        ],
    );
    assert_eq!(r.status(), 303);
}

fn head(dir: &Path, rev: &str) -> String {
    git_ok(dir, &["rev-parse", rev]).trim().to_owned()
}

fn no_active_content(page: &str) {
    for bad in [
        "<script>alert",
        "<svg/onload",
        "href=\"javascript:",
        "<b>dir</b>",
        "<em>Title</em> <script",
    ] {
        assert!(
            !page.contains(bad),
            "active content {bad:?} in page:\n{page}"
        );
    }
}

#[test]
fn every_page_renders_hostile_names_and_content_inert() {
    let (s, _admin, dir) = setup();
    let anon = Browser::new(&s.base);
    let main = head(&dir, "main");
    for path in [
        "/web".to_owned(),
        "/web/changelog".to_owned(),
        "/web/changelog?branch=feature%2Fx".to_owned(),
        format!("/web/changeset/{main}"),
        format!("/web/changeset/{main}?diff=sidebyside"),
        "/web/files/main/".to_owned(),
        "/web/files/main/README.md".to_owned(),
        "/web/files/main/README.md?source=1".to_owned(),
        "/web/files/main/%3Cb%3Edir%3C%2Fb%3E".to_owned(),
        "/web/branches".to_owned(),
        "/web/tags".to_owned(),
    ] {
        let (status, page) = anon.get_text(&path);
        assert_eq!(status, 200, "{path}: {page}");
        no_active_content(&page);
    }
    // Behind the escaping, every page forbids scripts and styles from anywhere else.
    let policy = header(&anon.get("/web/changelog"), "content-security-policy");
    assert!(
        policy.contains("script-src 'self'") && policy.contains("object-src 'none'"),
        "{policy}"
    );
    // A raw file keeps its own, stricter policy.
    let raw = header(
        &anon.get("/web/raw/main/page.html"),
        "content-security-policy",
    );
    assert!(raw.contains("sandbox"), "{raw}");
}

#[test]
fn summary_shows_latest_changesets_counts_and_the_readme() {
    let (s, _admin, _dir) = setup();
    let (_, page) = Browser::new(&s.base).get_text("/web");
    assert!(
        page.contains("<h1>Project <em>Title</em></h1>")
            || page.contains("<h1>Project Title</h1>")
            || page.contains("Project"),
        "{page}"
    );
    assert!(page.contains("edit app #12") && page.contains("add files") && page.contains("first"));
    assert!(
        page.contains(">2</a> (default <a"),
        "two branches, default shown: {page}"
    );
    assert!(page.contains("href=\"/web/tags\">2</a>"), "{page}");
    assert!(!page.contains("alert('readme')</script>"));
    // Feed readers find the feeds from the page.
    assert!(
        page.contains("<link rel=\"alternate\" type=\"application/atom+xml\"")
            && page.contains("href=\"/web/feed/rss\""),
        "{page}"
    );
    // Relative images and links in the README point into the repository.
    assert!(
        page.contains("src=\"/web/raw/main/src/logo.png\""),
        "{page}"
    );
    assert!(
        page.contains("href=\"/web/files/main/src/app.py\""),
        "{page}"
    );
    let (_, file) = Browser::new(&s.base).get_text("/web/files/v1.0/README.md");
    assert!(
        file.contains("src=\"/web/raw/v1.0/src/logo.png\""),
        "{file}"
    );
}

#[test]
fn changelog_paginates_and_draws_a_graph() {
    let (s, _admin, dir) = setup();
    let b = Browser::new(&s.base);
    let (_, page) = b.get_text("/web/changelog?size=2");
    assert_eq!(
        page.matches("<circle").count(),
        2,
        "one dot per changeset on the page"
    );
    assert!(page.contains(&head(&dir, "main")[..12]));
    assert!(page.contains("rel=\"next\""));
    let (_, page2) = b.get_text("/web/changelog?size=2&page=2");
    assert!(
        page2.contains(&head(&dir, "main~2")[..12])
            && page2.contains("rel=\"prev\"")
            && !page2.contains("rel=\"next\"")
    );
    let (_, feature) = b.get_text("/web/changelog?branch=feature%2Fx");
    assert!(feature.contains("feature work"));
    let (_, hist) = b.get_text("/web/changelog/main/src/app.py");
    assert!(
        hist.contains("edit app") && hist.contains("first") && !hist.contains("add files"),
        "{hist}"
    );
    let (status, _) = b.get_text("/web/changelog?branch=nope");
    assert_eq!(status, 404);
    // A page past the end says so and leads back to the first.
    let (status, past) = b.get_text("/web/changelog?page=50&size=2");
    assert_eq!(status, 200);
    assert!(
        past.contains("This page is past the end of the history: <a href=\"/web/changelog?page=1&#38;size=2\">"),
        "{past}"
    );
}

#[test]
fn changeset_shows_metadata_links_and_diffs() {
    let (s, _admin, dir) = setup();
    let b = Browser::new(&s.base);
    let main = head(&dir, "main");
    let (_, page) = b.get_text(&format!("/web/changeset/{main}"));
    assert!(
        page.contains("Test Author &lt;author@example.com&gt;")
            || page.contains("Test Author &#60;author@example.com&#62;"),
        "{page}"
    );
    assert!(
        page.contains(
            "<a class=\"issue\" href=\"https://issues.example.com/web/issue/12\">#12</a>"
        ),
        "{page}"
    );
    assert!(
        page.contains("href=\"https://example.com/x?a=1&amp;b=2\""),
        "{page}"
    );
    assert!(page.contains(&head(&dir, "main~1")), "parent link");
    assert!(
        page.contains("src/app.py") && page.contains("+5") && page.contains("-1"),
        "{page}"
    );
    assert!(
        page.contains(">extra</span>") && page.contains("<tr class=\"add\">"),
        "the added lines are shown and highlighted: {page}"
    );
    let removed = &page[page.find("<tr class=\"del\">").expect("a removed line")..];
    let removed = &removed[..removed.find("</tr>").unwrap()];
    assert!(
        removed.contains("1</span>") && removed.contains(">return</span>"),
        "the removed line is highlighted too: {removed}"
    );
    assert!(
        page.contains("<span class=\"ref\">x&#34;&#62;&#60;svg/onload=alert(1)&#62;</span>"),
        "tag label escaped: {page}"
    );
    let (_, side) = b.get_text(&format!("/web/changeset/{main}?diff=sidebyside"));
    let del = &side[side.find("<td class=\"del\">").expect("a removed line")..];
    let del = &del[..del.find("</td>").unwrap()];
    assert!(
        side.contains("class=\"diff side\"")
            && del.contains(">return</span>")
            && del.contains("1</span>"),
        "side by side is highlighted as unified is: {del}"
    );
    // A first changeset and one with binary files.
    let (_, files) = b.get_text(&format!("/web/changeset/{}", head(&dir, "main~1")));
    assert!(
        files.contains("blob.bin") && files.contains("Binary file"),
        "{files}"
    );

    let r = b.get(&format!("/web/changeset-diff/{main}"));
    assert_eq!(
        r.headers().get("content-type").unwrap(),
        "text/plain; charset=utf-8"
    );
    assert!(r.text().unwrap().contains("+def extra():"));
    // The server account's own git attributes (here: no diffs at all) are not read.
    let user_attributes = s.xdg_config().join("git");
    std::fs::create_dir_all(&user_attributes).unwrap();
    std::fs::write(user_attributes.join("attributes"), "* -diff\n").unwrap();
    let (_, raw) = b.get_text(&format!("/web/raw-changeset/{main}"));
    assert!(
        raw.contains("\n+") && !raw.contains("Binary files"),
        "{raw}"
    );
    let (_, patch) = b.get_text(&format!("/web/changeset-patch/{main}"));
    assert!(patch.contains("Subject: [PATCH] edit app #12"));
    let r = b.get(&format!("/web/changeset-download/{main}"));
    assert!(
        r.headers()
            .get("content-disposition")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
}

#[test]
fn files_pages_list_show_and_cut() {
    let (s, _admin, _dir) = setup();
    let b = Browser::new(&s.base);
    let r = b.get("/web/files");
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers().get("location").unwrap(), "/web/files/main/");
    let (_, root) = b.get_text("/web/files/main/");
    let src = root.find(">src</a>").unwrap();
    let readme = root.find(">README.md</a>").unwrap();
    assert!(src < readme, "folders first");
    // Each entry shows the newest changeset that touched it, escaped.
    let row = |name: &str| {
        let at = root.find(&format!(">{name}</a>")).unwrap();
        root[at..at + root[at..].find("</tr>").unwrap()].to_owned()
    };
    assert!(
        row("README.md").contains("<span class=\"summary\">first</span>"),
        "{}",
        row("README.md")
    );
    assert!(
        row("blob.bin").contains(">add files</span>"),
        "{}",
        row("blob.bin")
    );
    let src_row = row("src");
    assert!(
        src_row.contains("edit app #12 &#60;script&#62;") && !src_row.contains("<script>"),
        "{src_row}"
    );
    assert!(src_row.contains("/web/changeset/"), "{src_row}");
    let (_, inner) = b.get_text("/web/files/main/src");
    assert!(inner.contains(">edit app #12"), "{inner}");
    let (_, file) = b.get_text("/web/files/main/src/app.py");
    assert!(
        file.contains("id=\"L5\"") && file.contains(">extra</span>"),
        "{file}"
    );
    assert!(
        file.contains("<span class=\"hl-"),
        "Python is highlighted with classes"
    );
    let (status, css) = b.get_text("/_admin/static/highlight.css");
    assert!(status == 200 && css.contains(".hl-"));
    let (_, md) = b.get_text("/web/files/main/README.md");
    assert!(md.contains("class=\"markdown\""));
    let (_, md_src) = b.get_text("/web/files/main/README.md?source=1");
    assert!(md_src.contains("id=\"L1\""));
    let (_, bin) = b.get_text("/web/files/main/blob.bin");
    assert!(bin.contains("This is a binary file"));
    let (status, latin) = b.get_text("/web/files/main/latin1.txt");
    assert_eq!(status, 200);
    assert!(latin.contains("caf"), "non-UTF-8 text is shown: {latin}");
    let (_, big) = b.get_text("/web/files/main/big.txt");
    assert!(big.contains("too large to show whole"), "big file is cut");
    assert!(
        big.contains("this is its first "),
        "and says how much is shown"
    );
    let (_, img) = b.get_text("/web/files/main/dot.png");
    assert!(img.contains("<img class=\"preview\" src=\"/web/raw/"));
    let (_, old) = b.get_text("/web/files/v1.0/");
    assert!(!old.contains("blob.bin"), "tags show their own tree");
    let (_, feature) = b.get_text("/web/files/feature%2Fx/feature.txt");
    assert!(
        feature.contains("id=\"L1\""),
        "branch names with a slash work: {feature}"
    );
}

#[test]
fn raw_content_is_never_active() {
    let (s, _admin, _dir) = setup();
    let b = Browser::new(&s.base);
    for (path, ctype, disposition) in [
        (
            "/web/raw/main/page.html",
            "text/plain; charset=utf-8",
            "inline",
        ),
        (
            "/web/raw/main/src/app.py",
            "text/plain; charset=utf-8",
            "inline",
        ),
        // Text that is not UTF-8 is not labelled so.
        ("/web/raw/main/latin1.txt", "text/plain", "inline"),
        ("/web/raw/main/evil.svg", "image/svg+xml", "inline"),
        ("/web/raw/main/dot.png", "image/png", "inline"),
        (
            "/web/raw/main/blob.bin",
            "application/octet-stream",
            "attachment",
        ),
        (
            "/web/rawfile/main/src/app.py",
            "application/octet-stream",
            "attachment",
        ),
    ] {
        let r = b.get(path);
        assert_eq!(r.status(), 200, "{path}");
        let h = r.headers();
        assert_eq!(h.get("content-type").unwrap(), ctype, "{path}");
        assert_eq!(
            h.get("x-content-type-options").unwrap(),
            "nosniff",
            "{path}"
        );
        assert!(
            h.get("content-security-policy")
                .unwrap()
                .to_str()
                .unwrap()
                .contains("sandbox"),
            "{path}"
        );
        assert!(
            h.get("content-disposition")
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with(disposition),
            "{path}"
        );
    }
    let big = b.get("/web/raw/main/big.txt").bytes().unwrap();
    assert_eq!(big.len(), 17 * 40_000, "raw gives the whole file");
}

#[test]
fn hostile_or_unknown_revisions_and_paths_get_a_clear_404() {
    let (s, _admin, _dir) = setup();
    let b = Browser::new(&s.base);
    for path in [
        "/web/changeset/--output=%2Ftmp%2Fpwned",
        "/web/changeset/-h",
        "/web/changeset/main..feature",
        "/web/changeset/deadbeef",
        "/web/files/--output=x/",
        "/web/files/main/..%2F..%2Fetc%2Fpasswd",
        "/web/files/main/nope.txt",
        "/web/raw/main:README.md/x",
        "/web/raw/main/src",
        "/web/changelog/-h/README.md",
        "/web/changeset-patch/--stdout",
        // Never passed on in a redirect either.
        "/web/files/main/..%2F..%2F..%2F%2Fevil.example?annotate=1",
        "/web/diff/..%2F..%2F..%2F%2Fevil.example?diff1=main&diff2=main&show_rev=1",
    ] {
        let (status, page) = b.get_text(path);
        assert_eq!(status, 404, "{path}: {page}");
        assert!(
            page.contains("There is no") || page.contains("not a file"),
            "{path}: {page}"
        );
    }
    assert!(!Path::new("/tmp/pwned").exists());
}

#[test]
fn an_empty_repository_explains_itself() {
    let s = Server::start();
    let admin = s.admin();
    s.create_repo(&admin, "void", false);
    let (status, page) = admin.get_text("/void");
    assert_eq!(status, 200);
    assert!(page.contains("This repository is empty") && page.contains("git push -u origin --all"));
    let (status, log) = admin.get_text("/void/changelog");
    assert_eq!(status, 200);
    assert!(log.contains("There are no changesets here."));
    // The Files tab leads to the summary, which says how to push the first files.
    let r = admin.get("/void/files");
    assert_eq!(r.status(), 303);
    assert_eq!(header(&r, "location"), "/void");
    assert_eq!(admin.get_text("/void/branches").0, 200);
}

#[test]
fn private_repositories_cannot_be_browsed_without_permission() {
    let s = Server::start();
    let admin = s.admin();
    s.create_repo(&admin, "secret", true);
    let anon = Browser::new(&s.base);
    for path in [
        "/secret/changelog",
        "/secret/files/main/",
        "/secret/raw/main/x",
        "/secret/tags",
        "/secret/changelog_details/main",
        "/secret/authors/main/x",
    ] {
        assert_eq!(
            anon.get(path).status(),
            303,
            "{path}: anonymous visitors are sent to sign in"
        );
    }
    // By id, they are sent back to the same address, which does not name the repository.
    let r = anon.get("/_1/files/main/x?a=1");
    assert_eq!(r.status(), 303);
    let to = r.headers().get("location").unwrap().to_str().unwrap();
    assert!(
        to.ends_with("came_from=%2F%5F1%2Ffiles%2Fmain%2Fx%3Fa%3D1") && !to.contains("secret"),
        "{to}"
    );
    // What its readers see is theirs alone: no shared cache may keep it.
    let dir = work_tree(s.dir.path(), "secret");
    std::fs::write(dir.join("x.txt"), "private\n").unwrap();
    git_ok(&dir, &["add", "."]);
    git_ok(&dir, &["commit", "-q", "-m", "private"]);
    git_ok(
        &dir,
        &["push", "-q", &s.git_url(ADMIN, ADMIN_PW, "secret"), "main"],
    );
    for path in [
        "/secret",
        "/secret/files/main/x.txt",
        "/secret/raw/main/x.txt",
        "/secret/changeset-diff/main",
        "/secret/feed/rss",
    ] {
        let r = admin.get(path);
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(header(&r, "cache-control"), "private, no-cache", "{path}");
    }
    let r = anon.get("/_admin/static/style.css");
    assert!(header(&r, "cache-control").starts_with("public"));
}

#[test]
fn annotate_names_the_changeset_of_every_line() {
    let (s, _admin, dir) = setup();
    let b = Browser::new(&s.base);
    let (status, page) = b.get_text("/web/annotate/main/src/app.py");
    assert_eq!(status, 200, "{page}");
    // Kallithea's spelling of the same page.
    let r = b.get("/web/files/feature%2Fx/src/app.py?annotate=1");
    assert_eq!(r.status(), 303);
    assert_eq!(
        header(&r, "location"),
        "/web/annotate/feature%2Fx/src/app.py"
    );
    let first = head(&dir, "main~2");
    let last = head(&dir, "main");
    assert!(
        page.contains(&format!("/web/changeset/{first}\"")),
        "line 1 is from the first changeset"
    );
    assert!(
        page.contains(&format!("/web/changeset/{last}\"")),
        "later lines from the last"
    );
    assert!(
        page.contains("id=\"L6\"") && page.contains("<td class=\"code\">    pass</td>"),
        "{page}"
    );
    for (path, status) in [
        ("/web/annotate/main/blob.bin", 400),
        ("/web/annotate/main/src", 404),
        ("/web/annotate/main/nope", 404),
        ("/web/annotate/-h/x", 404),
    ] {
        assert_eq!(b.get(path).status(), status, "{path}");
    }
}

#[test]
fn archives_follow_the_download_setting() {
    let (s, admin, dir) = setup();
    let anon = Browser::new(&s.base);
    let r = anon.get("/web/archive/main.zip");
    assert_eq!(r.status(), 403);
    assert!(r.text().unwrap().contains("Downloads are disabled"));
    enable_downloads(&admin, "web");
    let short = &head(&dir, "main")[..12];
    let r = anon.get("/web/archive/main.zip");
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers().get("content-type").unwrap(), "application/zip");
    assert!(
        r.headers()
            .get("content-disposition")
            .unwrap()
            .to_str()
            .unwrap()
            .contains(&format!("web-{short}.zip"))
    );
    let zip = r.bytes().unwrap();
    assert_eq!(&zip[..2], b"PK");
    let tgz = anon.get("/web/archive/v1.0.tar.gz").bytes().unwrap();
    assert_eq!(&tgz[..2], &[0x1f, 0x8b]);
    // Unpacks with the real tar into <repo>-<short>/.
    let out = s.dir.path().join("unpacked");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(
        out.join("a.tar"),
        anon.get("/web/archive/main.tar").bytes().unwrap(),
    )
    .unwrap();
    // And the bzip2 one (Kallithea offers it; git cannot make it alone) with the real
    // tar and bzip2, into a folder of its own.
    let r = anon.get("/web/archive/main.tar.bz2");
    assert_eq!(
        r.headers().get("content-type").unwrap(),
        "application/x-bzip2"
    );
    std::fs::create_dir_all(out.join("bz2")).unwrap();
    std::fs::write(out.join("bz2/a.tar.bz2"), r.bytes().unwrap()).unwrap();
    // One stream, compressed in one go: the same bytes as libbzip2 gives for the whole tar
    // (compressed as it streamed, flushed whenever git was slower, every download differed).
    let same = std::process::Command::new("python3")
        .args([
            "-c",
            "import bz2, sys; d = open(sys.argv[1], 'rb').read(); t = bz2.decompress(d); \
             sys.exit(0 if any(bz2.compress(t, l) == d for l in range(1, 10)) else 1)",
        ])
        .arg(out.join("bz2/a.tar.bz2"))
        .status()
        .unwrap();
    assert!(
        same.success(),
        "the archive is one bzip2 stream, never flushed"
    );
    for (dir, args) in [
        (out.clone(), ["-xf", "a.tar"]),
        (out.join("bz2"), ["-xjf", "a.tar.bz2"]),
    ] {
        let st = std::process::Command::new("tar")
            .args(args)
            .current_dir(&dir)
            .status()
            .unwrap();
        assert!(st.success());
        assert_eq!(
            std::fs::read_to_string(dir.join(format!("web-{short}/src/app.py")))
                .unwrap()
                .lines()
                .count(),
            6
        );
    }
    let (_, summary) = anon.get_text("/web");
    assert!(summary.contains("href=\"/web/archive/main.zip\""));
    assert!(summary.contains("href=\"/web/archive/main.tar.bz2\""));
    // Downloads are in the journal, as in Kallithea (written just after the download
    // starts).
    let journalled = (0..40).any(|_| {
        let (_, summary) = anon.get_text("/web");
        summary.contains(&format!("downloaded web-{short}.tar.bz2")) || {
            std::thread::sleep(std::time::Duration::from_millis(50));
            false
        }
    });
    assert!(journalled, "the download is in the journal");
    // Made archives are kept by changeset id and served again from there.
    let cache = s.dir.path().join("data/tarballcache");
    let kept: Vec<String> = listing(&cache);
    assert!(
        kept.iter()
            .any(|n| n.contains(&head(&dir, "main")) && n.ends_with(".zip")),
        "{kept:?}"
    );
    assert!(
        !kept.iter().any(|n| n.ends_with(".tmp")),
        "no half-written files: {kept:?}"
    );
    let again = anon.get("/web/archive/main.zip").bytes().unwrap();
    assert_eq!(again, zip, "the kept archive is the same");
    // A HEAD request is told the name, and makes no archive and notes no download.
    let feature = &head(&dir, "feature/x")[..12];
    let r = reqwest::blocking::Client::new()
        .head(format!("{}/web/archive/feature%2Fx.zip", s.base))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(header(&r, "content-disposition").contains(&format!("web-{feature}.zip")));
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(
        !listing(&cache)
            .iter()
            .any(|n| n.contains(&head(&dir, "feature/x"))),
        "{:?}",
        listing(&cache)
    );
    assert!(
        !anon
            .get_text("/web")
            .1
            .contains(&format!("web-{feature}.zip"))
    );
    assert_eq!(anon.get("/web/archive/main.rar").status(), 404);
    assert_eq!(anon.get("/web/archive/--output=x.zip").status(), 404);
    // Deleting the repository removes its kept archives.
    assert_eq!(admin.post("/web/settings/delete", &[]).status(), 303);
    assert!(listing(&cache).is_empty(), "{:?}", listing(&cache));
}

#[test]
fn compare_lists_changesets_and_the_combined_diff() {
    let (s, _admin, _dir) = setup();
    let b = Browser::new(&s.base);
    let r = b.get("/web/compare?org=main&other=feature/x");
    assert_eq!(r.status(), 303);
    assert_eq!(
        r.headers().get("location").unwrap(),
        "/web/compare/main...feature%2Fx"
    );
    let (status, page) = b.get_text("/web/compare/main...feature%2Fx");
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("feature work") && !page.contains(">edit app"),
        "{page}"
    );
    assert!(
        page.contains("feature.txt") && page.contains("1 file changed"),
        "{page}"
    );
    let (_, kallithea_style) = b.get_text("/web/compare/branch@main...branch@feature%2Fx");
    assert!(kallithea_style.contains("feature work"));
    let (_, none) = b.get_text("/web/compare/feature%2Fx...feature%2Fx");
    assert!(none.contains("Nothing to compare"));
    // Behind: the page offers the comparison the other way round, which lists the changeset.
    let (_, behind) = b.get_text("/web/compare/feature%2Fx...main?merge=1");
    assert!(
        behind.contains("Nothing to compare: main has no changesets that feature/x lacks. <a href=\"/web/compare/main...feature%2Fx?merge=1\">Compare the other way</a>"),
        "{behind}"
    );
    let (_, ahead) = b.get_text("/web/compare/main...feature%2Fx?merge=1");
    assert!(ahead.contains("feature work"), "{ahead}");
    let (status, form) = b.get_text("/web/compare");
    assert_eq!(status, 200);
    assert!(form.contains("<select id=\"org\" name=\"org\">"));
    // The form starts from the default branch against another one.
    let org = &form[form.find("id=\"org\"").unwrap()..];
    let org = &org[..org.find("</select>").unwrap()];
    assert!(org.contains("<option value=\"main\" selected>"), "{org}");
    let other = &form[form.find("id=\"other\"").unwrap()..];
    let other = &other[..other.find("</select>").unwrap()];
    assert!(
        other.contains("<option value=\"feature/x\" selected>"),
        "{other}"
    );
    for (path, want) in [
        ("/web/compare/nonsense", "is not a comparison"),
        ("/web/compare/main...nope", "There is no revision"),
        ("/web/compare/--output=x...main", "There is no revision"),
    ] {
        let (status, page) = b.get_text(path);
        assert_eq!(status, 404, "{path}");
        assert!(page.contains(want), "{path}: {page}");
    }
}

/// Kallithea's three ways to diff two revisions: compare tip to tip or, with `merge=1`, from
/// the common ancestor; a changeset range; one file between any two revisions.
#[test]
fn diffs_between_any_two_revisions() {
    let (s, _admin, dir) = setup();
    // main moves on after feature/x branched off.
    std::fs::write(dir.join("main-only.txt"), "m\n").unwrap();
    std::fs::write(dir.join("src/app.py"), "def main():\n    return 3\n").unwrap();
    git_ok(&dir, &["add", "."]);
    git_ok(&dir, &["commit", "-q", "-m", "main moves on"]);
    git_ok(
        &dir,
        &["push", "-q", &s.git_url(ADMIN, ADMIN_PW, "web"), "main"],
    );
    let b = Browser::new(&s.base);
    let section =
        |page: &str, what: &str| page.contains(&format!(">{what}</a> <span class=\"kind"));

    // Tip to tip: what differs between the two, main's own change shown undone.
    let (status, tips) = b.get_text("/web/compare/main...feature%2Fx");
    assert_eq!(status, 200, "{tips}");
    assert!(tips.contains("3 files changed"), "{tips}");
    assert!(section(&tips, "feature.txt") && section(&tips, "main-only.txt"));
    assert!(tips.contains("Show only what merging would bring"));
    assert!(
        tips.contains("href=\"/web/compare/main...feature%2Fx?merge=1\""),
        "{tips}"
    );
    // From the ancestor: only the branch's own work.
    // The form keeps the kind of diff and the layout.
    let r = b.get("/web/compare?org=main&other=feature/x&merge=1&diff=sidebyside");
    assert_eq!(
        r.headers()["location"],
        "/web/compare/main...feature%2Fx?merge=1&diff=sidebyside"
    );
    let (status, merge) = b.get_text("/web/compare/main...feature%2Fx?merge=1");
    assert!(merge.contains("<input type=\"hidden\" name=\"merge\" value=\"1\">"));
    assert_eq!(status, 200, "{merge}");
    assert!(
        merge.contains("1 file changed") && section(&merge, "feature.txt"),
        "{merge}"
    );
    assert!(!section(&merge, "main-only.txt"));
    let ancestor = head(&dir, "main~1");
    assert!(
        merge.contains(&format!(
            "/web/changeset/{ancestor}\">{}</a>, the newest changeset both descend from",
            &ancestor[..12]
        )),
        "{merge}"
    );
    // The options keep the kind of diff, and context is honoured.
    assert!(
        merge.contains("href=\"/web/compare/main...feature%2Fx?merge=1&#38;diff=sidebyside\""),
        "{merge}"
    );
    let (_, narrow) = b.get_text("/web/compare/main...feature%2Fx?context=0");
    assert!(narrow.contains("@@ -2 +2,5 @@ def main():"), "{narrow}");

    // A range: first to last, both included, and the diff they make together.
    let first = head(&dir, "main~2");
    let last = head(&dir, "main");
    let (status, range) = b.get_text(&format!(
        "/web/changeset/{}...{}",
        &first[..12],
        &last[..12]
    ));
    assert_eq!(status, 200, "{range}");
    for summary in ["add files", "edit app #12", "main moves on"] {
        assert!(range.contains(summary), "{summary}: {range}");
    }
    assert!(!range.contains(">first<"), "the parent is not in the range");
    assert!(section(&range, "main-only.txt") && section(&range, "blob.bin"));
    // A range from the very first changeset diffs from nothing.
    let root = head(&dir, "v1.0");
    let (status, all) = b.get_text(&format!("/web/changeset/{root}...main"));
    assert_eq!(status, 200, "{all}");
    assert!(section(&all, "README.md") && all.contains("first"), "{all}");
    // A range runs forwards along history: written backwards it is turned round (as when
    // picked on a changelog where a child is older than its parent), options kept...
    let r = b.get(&format!(
        "/web/changeset/{}...{}?context=5",
        &last[..12],
        &first[..12]
    ));
    assert_eq!(r.status(), 303);
    assert_eq!(
        header(&r, "location"),
        format!(
            "/web/changeset/{}...{}?context=5",
            &first[..12],
            &last[..12]
        )
    );
    // ...and across branches it is refused.
    let (status, page) = b.get_text("/web/changeset/main...feature%2Fx");
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("does not come before"), "{page}");
    let (status, two) = b.get_text("/web/changeset/main..feature%2Fx");
    assert_eq!(status, 404);
    assert!(
        two.contains("written with three dots, such as main...feature/x"),
        "{two}"
    );
    let (status, bad) = b.get_text("/web/changeset/main...nope");
    assert_eq!(status, 404);
    assert!(bad.contains("There is no revision &#34;nope&#34;"), "{bad}");

    // One file between two revisions, as Kallithea's /diff/ gives it.
    let (status, one) = b.get_text("/web/diff/src/app.py?diff1=v1.0&diff2=main");
    assert_eq!(status, 200, "{one}");
    assert!(
        one.contains("Diff of <span class=\"mono\">src/app.py</span>"),
        "{one}"
    );
    assert!(
        one.contains("1 file changed") && !one.contains("main-only.txt"),
        "{one}"
    );
    assert!(
        one.contains("<tr class=\"del\">") && one.contains("<tr class=\"add\">"),
        "{one}"
    );
    let (status, side) = b.get_text("/web/diff-2way/src/app.py?diff1=v1.0&diff2=main");
    assert_eq!(status, 200);
    assert!(side.contains("<table class=\"diff side\">"), "{side}");
    assert!(
        side.contains("<span class=\"hl-"),
        "side by side is highlighted: {side}"
    );
    let raw = b.get("/web/diff/src/app.py?diff1=v1.0&diff2=main&diff=raw");
    assert_eq!(raw.status(), 200);
    assert_eq!(raw.headers()["content-type"], "text/plain; charset=utf-8");
    let text = raw.text().unwrap();
    assert!(
        text.starts_with("diff --git a/src/app.py b/src/app.py") && text.contains("+    return 3"),
        "{text}"
    );
    let dl = b.get("/web/diff/src/app.py?diff1=v1.0&diff2=main&diff=download");
    let disposition = dl.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        disposition,
        format!(
            "attachment; filename=\"{}_vs_{}.diff\"",
            &root[..12],
            &last[..12]
        )
    );
    // From nothing (Kallithea's all-zero id): the file as added.
    let (_, added) = b.get_text(&format!(
        "/web/diff/feature.txt?diff1={}&diff2=feature%2Fx",
        "0".repeat(40)
    ));
    assert!(
        added.contains("nothing (before the first changeset)") && added.contains(">added<"),
        "{added}"
    );
    // The same revision twice: nothing differs, and the page says so.
    let (status, same) = b.get_text("/web/diff/src/app.py?diff2=main");
    assert_eq!(status, 200);
    assert!(
        same.contains("src/app.py is the same in both revisions"),
        "{same}"
    );
    // A file cut from a large changeset links to its own whole diff.
    let added = head(&dir, "main~2");
    let (_, cs) = b.get_text(&format!("/web/changeset/{added}"));
    let link = format!("/web/diff/big.txt?diff1={root}&amp;diff2={added}&amp;fulldiff=1");
    assert!(
        cs.contains("diff not shown here") && cs.contains(&link),
        "{cs}"
    );
    // Only shown diffs get a section: a cut file is a line in the list, not a stub.
    assert!(
        !cs.contains(&format!("<h3><a href=\"/web/files/{added}/big.txt\">")),
        "big.txt has no section: {cs}"
    );
    assert!(cs.contains(&format!("<h3><a href=\"/web/files/{added}/latin1.txt\">")));
    let (status, big) = b.get_text(&link.replace("&amp;", "&"));
    assert_eq!(status, 200);
    assert!(
        big.contains("0123456789abcdef") && !big.contains("diff not shown here"),
        "{big}"
    );
    // Seen side by side, without whitespace and with more context, the link keeps all three.
    let (_, cs) = b.get_text(&format!(
        "/web/changeset/{added}?diff=sidebyside&ignorews=1&context=5"
    ));
    let link = format!(
        "/web/diff-2way/big.txt?diff1={root}&amp;diff2={added}&amp;ignorews=1&amp;context=5&amp;fulldiff=1"
    );
    assert!(cs.contains(&link), "{cs}");
    // The file page offers a diff from any revision to the one shown.
    let (_, file) = b.get_text("/web/files/main/src/app.py");
    assert!(
        file.contains("action=\"/web/diff/src/app.py\"")
            && file.contains(&format!("name=\"diff2\" value=\"{last}\"")),
        "{file}"
    );
    // Without revisions: the file's page, where the diff form is.
    let r = b.get("/web/diff/src/app.py");
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/web/files/tip/src/app.py");
    // show_rev goes to the file at diff1, or its annotation.
    let r = b.get("/web/diff/src/app.py?diff1=v1.0&diff2=main&show_rev=1&annotate=1");
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/web/annotate/v1.0/src/app.py");
    for (path, status, want) in [
        (
            "/web/diff/nope.txt?diff1=v1.0&diff2=main",
            404,
            "There is no file or folder &#34;nope.txt&#34; at v1.0 or main",
        ),
        (
            "/web/diff/src/app.py?diff1=v1.0&diff2=nope",
            404,
            "There is no revision &#34;nope&#34;",
        ),
        (
            "/web/diff/src/app.py?diff1=--output=x&diff2=main",
            404,
            "There is no revision",
        ),
        (
            "/web/diff/--output=x?diff1=v1.0&diff2=main",
            404,
            "There is no file or folder",
        ),
    ] {
        let (got, page) = b.get_text(path);
        assert_eq!(got, status, "{path}: {page}");
        assert!(page.contains(want), "{path}: {page}");
    }
}

/// A changeset carrying hundreds of branches and tags lists a few of them and counts the rest.
#[test]
fn many_labels_on_one_changeset_are_counted_not_listed() {
    let (s, _admin, dir) = setup();
    let first = head(&dir, "v1.0");
    for i in 0..120 {
        git_ok(&dir, &["tag", &format!("t{i:03}"), &first]);
    }
    git_ok(
        &dir,
        &["push", "-q", &s.git_url(ADMIN, ADMIN_PW, "web"), "--tags"],
    );
    let b = Browser::new(&s.base);
    let (_, log) = b.get_text("/web/changelog");
    let row = &log[log.find(&format!("/web/changeset/{first}")).unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert_eq!(row.matches("<span class=\"ref\">").count(), 11, "{row}");
    assert!(row.contains("+111 more"), "{row}");
    let (_, cs) = b.get_text(&format!("/web/changeset/{first}"));
    assert!(cs.contains("and 21 more (see"), "{cs}");
    assert_eq!(cs.matches("<span class=\"ref\">").count(), 100);
}

/// A folder of more entries than a page lists is listed a thousand at a time.
#[test]
fn a_huge_folder_is_listed_in_pages() {
    let (s, _admin, dir) = setup();
    std::fs::create_dir_all(dir.join("many")).unwrap();
    for i in 0..2005 {
        std::fs::write(dir.join(format!("many/f{i:04}.txt")), "x\n").unwrap();
    }
    git_ok(&dir, &["add", "."]);
    git_ok(&dir, &["commit", "-q", "-m", "many files"]);
    git_ok(
        &dir,
        &["push", "-q", &s.git_url(ADMIN, ADMIN_PW, "web"), "main"],
    );
    let b = Browser::new(&s.base);
    let (status, first) = b.get_text("/web/files/main/many");
    assert_eq!(status, 200);
    assert!(
        first.contains("This folder has 2005 entries, listed 1000 at a time: these are 1 to 1000.")
    );
    assert!(first.contains(">f0999.txt</a>") && !first.contains(">f1000.txt</a>"));
    assert!(
        first.contains("<a href=\"/web/files/main/many?page=2\" rel=\"next\">"),
        "{first}"
    );
    assert!(
        !first.contains("Last changes are looked for"),
        "all found: {first}"
    );
    let (status, third) = b.get_text("/web/files/main/many?page=3");
    assert_eq!(status, 200);
    assert!(third.contains(">f2004.txt</a>") && !third.contains(">f1999.txt</a>"));
    assert!(
        third.contains("<a href=\"/web/files/main/many?page=2\" rel=\"prev\">"),
        "{third}"
    );
    assert!(
        third.contains("many files"),
        "last changes on the last page: {third}"
    );
    // Past the last page: the last page.
    let (_, far) = b.get_text("/web/files/main/many?page=99");
    assert!(far.contains(">f2004.txt</a>"));
    // The changeset that added them names 2,000 and counts the rest.
    let (status, cs) = b.get_text("/web/changeset/main");
    assert_eq!(status, 200);
    assert!(
        cs.contains("2005 files changed") && cs.contains("and 5 more files, not listed here."),
        "{cs}"
    );
    // 500 diffs are shown; the rest are lines that lead to their own diffs.
    assert!(cs.contains("<li><a href=\"#f500\">") && !cs.contains("<li><a href=\"#f501\">"));
    assert!(cs.contains(">many/f1999.txt</a>") && !cs.contains("many/f2000.txt"));
}

fn parses_as_xml(body: &str) -> bool {
    use std::io::Write;
    let mut child = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys, xml.etree.ElementTree as E; E.parse(sys.stdin)",
        ])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(body.as_bytes())
        .unwrap();
    child.wait().unwrap().success()
}

#[test]
fn feeds_are_well_formed_and_escaped() {
    let (s, _admin, dir) = setup();
    let b = Browser::new(&s.base);
    for (path, ctype, marker) in [
        ("/web/feed/rss", "application/rss+xml", "<rss"),
        ("/web/feed/atom", "application/atom+xml", "<feed"),
    ] {
        let r = b.get(path);
        assert_eq!(r.status(), 200);
        assert!(
            r.headers()
                .get("content-type")
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with(ctype)
        );
        let body = r.text().unwrap();
        assert!(body.contains(marker), "{body}");
        assert!(body.contains(&format!("/web/changeset/{}", head(&dir, "main"))));
        assert!(
            body.contains("edit app #12") && !body.contains("<script>"),
            "{body}"
        );
        assert!(
            parses_as_xml(&body),
            "{path} is not well-formed XML:\n{body}"
        );
    }
    // An RSS description is HTML once the XML is read: the message's markup must stay text
    // in that HTML, so it is escaped twice.
    let rss = b.get_text("/web/feed/rss").1;
    assert!(rss.contains("&#38;lt;script&#38;gt;"), "{rss}");
    assert!(rss.contains("<description>&#60;pre class="), "{rss}");
    // Issue references are links there too, as on the changeset page.
    assert!(
        rss.contains("https://issues.example.com/web/issue/12"),
        "{rss}"
    );
    // So is the channel's description, which the repository's owner writes.
    let admin = s.admin();
    let r = admin.post(
        "/web/settings",
        &[
            ("repo_description", "<img src=x onerror=alert(1)>"),
            ("repo_landing_rev", "rev:tip"),
        ],
    );
    assert_eq!(r.status(), 303);
    let rss = b.get_text("/web/feed/rss").1;
    assert!(
        rss.contains("<description>&#38;lt;img src=x onerror=alert(1)&#38;gt;</description>"),
        "{rss}"
    );
    let atom = b.get_text("/web/feed/atom").1;
    assert!(
        atom.contains("<subtitle type=\"text\">&#60;img src=x onerror=alert(1)&#62;</subtitle>"),
        "{atom}"
    );
}

#[test]
fn pages_follow_new_pushes_despite_caching() {
    let (s, _admin, dir) = setup();
    let b = Browser::new(&s.base);
    let url = s.git_url(ADMIN, ADMIN_PW, "web");
    for round in 0..3 {
        let (_, before) = b.get_text("/web/changelog");
        let (_, _branches) = b.get_text("/web/branches");
        let (_, _files) = b.get_text("/web/files/main/");
        std::fs::write(dir.join(format!("round{round}.txt")), "x\n").unwrap();
        git_ok(&dir, &["add", "."]);
        git_ok(
            &dir,
            &["commit", "-q", "-m", &format!("round {round} commit")],
        );
        git_ok(&dir, &["push", "-q", &url, "main"]);
        git_ok(
            &dir,
            &[
                "push",
                "-q",
                &url,
                &format!("main:refs/heads/new-branch-{round}"),
            ],
        );
        assert!(!before.contains(&format!("round {round} commit")));
        let (_, after) = b.get_text("/web/changelog");
        assert!(
            after.contains(&format!("round {round} commit")),
            "round {round}: the new changeset shows"
        );
        let (_, branches) = b.get_text("/web/branches");
        assert!(
            branches.contains(&format!("new-branch-{round}")),
            "round {round}: the new branch shows"
        );
        let (_, files) = b.get_text("/web/files/main/");
        assert!(
            files.contains(&format!("round{round}.txt")),
            "round {round}: the new file shows"
        );
    }
    git_ok(&dir, &["push", "-q", &url, "--delete", "new-branch-0"]);
    let (_, branches) = b.get_text("/web/branches");
    assert!(!branches.contains("new-branch-0<"), "a deleted branch goes");

    // Pushes leave a commit-graph file behind, written in the background; children are
    // found through it, and through the commits pushed after it was written.
    let repo = s.repos.join("web");
    let chain = repo.join("objects/info/commit-graphs/commit-graph-chain");
    for _ in 0..200 {
        if chain.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(chain.exists(), "a push starts writing the commit-graph");
    git_ok(&repo, &["commit-graph", "verify"]);
    let (first, second) = (head(&dir, "main~1"), head(&dir, "main"));
    let children = |page: &str| {
        page.split("<dt>Children</dt>")
            .nth(1)
            .and_then(|rest| rest.split("</dd>").next())
            .unwrap_or("")
            .to_owned()
    };
    let (_, page) = b.get_text(&format!("/web/changeset/{first}"));
    assert!(
        children(&page).contains(&second),
        "child through the graph: {page}"
    );
    std::fs::write(dir.join("late.txt"), "x\n").unwrap();
    git_ok(&dir, &["add", "."]);
    git_ok(&dir, &["commit", "-q", "-m", "late commit"]);
    git_ok(&dir, &["push", "-q", &url, "main:refs/heads/late"]);
    let late = head(&dir, "main");
    let (_, page) = b.get_text(&format!("/web/changeset/{second}"));
    assert!(
        children(&page).contains(&late),
        "child newer than the graph: {page}"
    );
}

#[test]
fn restructuredtext_is_rendered_by_docutils_and_made_inert() {
    let s = Server::start();
    let admin = s.admin();
    s.create_repo(&admin, "rst", false);
    let dir = work_tree(s.dir.path(), "rstsrc");
    let text = "Project\n=======\n\nSome *emphasis* here.\n\n.. raw:: html\n\n   <script>alert(1)</script>\n";
    std::fs::write(dir.join("README.rst"), text).unwrap();
    std::fs::write(
        dir.join("guide.rst"),
        "Guide\n=====\n\n``code`` and `a link <javascript:alert(1)>`_\n",
    )
    .unwrap();
    git_ok(&dir, &["add", "."]);
    git_ok(&dir, &["commit", "-q", "-m", "docs"]);
    git_ok(
        &dir,
        &["push", "-q", &s.git_url(ADMIN, ADMIN_PW, "rst"), "main"],
    );
    let (_, summary) = admin.get_text("/rst");
    assert!(summary.contains("<em>emphasis</em>"), "{summary}");
    assert!(!summary.contains("<script>alert"), "{summary}");
    let (_, guide) = admin.get_text("/rst/files/main/guide.rst");
    assert!(
        guide.contains("class=\"markdown\"") && guide.contains("<h1>Guide</h1>"),
        "{guide}"
    );
    assert!(!guide.contains("href=\"javascript:"), "{guide}");
}

#[test]
fn pages_are_gzipped_for_clients_that_accept_it_and_nothing_else_is() {
    let (s, admin, _dir) = setup();
    enable_downloads(&admin, "web");
    let plain = Browser::new(&s.base);
    let gzip = Browser::with(&s.base, None, &[("accept-encoding", "gzip")]);

    // A page: compressed only when asked for, and the same page once unpacked.
    let (_, expected) = plain.get_text("/web/files/main/src/app.py");
    let r = plain.get("/web/files/main/src/app.py");
    assert_eq!(header(&r, "content-encoding"), "");
    let r = gzip.get("/web/files/main/src/app.py");
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "content-encoding"), "gzip");
    assert!(
        header(&r, "vary")
            .to_ascii_lowercase()
            .contains("accept-encoding")
    );
    let page = gunzip(&r.bytes().unwrap());
    assert!(
        page.contains("def</span>") || page.contains("def main"),
        "{page}"
    );
    assert_eq!(page.len(), expected.len());
    for path in [
        "/_admin/static/style.css",
        "/_admin/static/kallithea.js",
        "/web/raw/main/big.txt",
    ] {
        let r = gzip.get(path);
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(header(&r, "content-encoding"), "gzip", "{path}");
    }
    let raw = gunzip(&gzip.get("/web/raw/main/big.txt").bytes().unwrap());
    assert_eq!(raw, "0123456789abcdef\n".repeat(40_000));

    // A request another site's page made is answered uncompressed (BREACH).
    let cross = Browser::with(
        &s.base,
        None,
        &[
            ("accept-encoding", "gzip"),
            ("sec-fetch-site", "cross-site"),
        ],
    );
    assert_eq!(
        header(&cross.get("/web/files/main/src/app.py"), "content-encoding"),
        ""
    );
    let same = Browser::with(
        &s.base,
        None,
        &[
            ("accept-encoding", "gzip"),
            ("sec-fetch-site", "same-origin"),
        ],
    );
    assert_eq!(
        header(&same.get("/web/files/main/src/app.py"), "content-encoding"),
        "gzip"
    );

    // A client that refuses gzip gets the page as it is.
    let no = Browser::with(&s.base, None, &[("accept-encoding", "gzip;q=0, identity")]);
    assert_eq!(
        header(&no.get("/web/files/main/src/app.py"), "content-encoding"),
        ""
    );

    // Archives, images and Git's protocol are never compressed again.
    let r = gzip.get("/web/archive/main.tar.gz");
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "content-encoding"), "");
    assert_eq!(&r.bytes().unwrap()[..2], &[0x1f, 0x8b]);
    assert_eq!(
        header(&gzip.get("/web/raw/main/dot.png"), "content-encoding"),
        ""
    );
    let r = gzip.get("/web/info/refs?service=git-upload-pack");
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "content-encoding"), "");

    // The page that shows API keys is never compressed (BREACH).
    let gzip_admin = Browser::with(&s.base, None, &[("accept-encoding", "gzip")]);
    assert_eq!(gzip_admin.login(ADMIN, ADMIN_PW).status(), 303);
    let r = gzip_admin.get("/_admin/my_account/api_keys");
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "content-encoding"), "");
    assert!(r.text().unwrap().contains("Your main API key"));
}

/// The value of the first CSRF field in a page.
fn form_token(page: &str) -> String {
    let at = page
        .find("name=\"_session_csrf_secret_token\" value=\"")
        .expect("a CSRF field")
        + "name=\"_session_csrf_secret_token\" value=\"".len();
    page[at..].split('"').next().unwrap().to_owned()
}

#[test]
fn every_page_masks_the_csrf_token_afresh_and_forms_still_work() {
    let s = Server::start();
    let b = Browser::new(&s.base);
    let secret = b.token();
    let (_, first) = b.get_text("/_admin/login");
    let (_, second) = b.get_text("/_admin/login");
    let (one, two) = (form_token(&first), form_token(&second));
    assert_ne!(one, two, "each page carries the token differently");
    assert!(!first.contains(&secret) && !second.contains(&secret));
    // A form sent with the token from the older page signs in.
    let r = b.post_raw(
        "/_admin/login",
        &[
            ("_session_csrf_secret_token", &one),
            ("username", ADMIN),
            ("password", ADMIN_PW),
        ],
    );
    assert_eq!(r.status(), 303);
    // A token masked for another session is refused.
    let other = Browser::new(&s.base);
    let (_, page) = other.get_text("/_admin/login");
    let r = b.post_raw(
        "/_admin/my_account",
        &[
            ("_session_csrf_secret_token", &form_token(&page)),
            ("email", "x@y.z"),
        ],
    );
    assert_eq!(r.status(), 403);
    assert!(r.text().unwrap().contains("security token"));
}

#[test]
fn the_same_content_under_two_names_is_shown_by_each_name() {
    let s = Server::start();
    let admin = s.admin();
    s.create_repo(&admin, "same", false);
    let dir = work_tree(s.dir.path(), "same");
    let code = "def f():\n    return '<b>'\n";
    std::fs::write(dir.join("a.py"), code).unwrap();
    std::fs::write(dir.join("a.txt"), code).unwrap();
    git_ok(&dir, &["add", "."]);
    git_ok(&dir, &["commit", "-q", "-m", "one"]);
    std::fs::write(dir.join("other.txt"), "x\n").unwrap();
    git_ok(&dir, &["add", "."]);
    git_ok(&dir, &["commit", "-q", "-m", "two"]);
    git_ok(
        &dir,
        &["push", "-q", &s.git_url(ADMIN, ADMIN_PW, "same"), "main"],
    );
    let first = head(&dir, "main~1");
    let b = Browser::new(&s.base);
    // Python at the first changeset, then the same blob at the second and under another name.
    let (_, py) = b.get_text(&format!("/same/files/{first}/a.py"));
    assert!(py.contains("<span class=\"hl-"), "{py}");
    let (_, again) = b.get_text("/same/files/main/a.py");
    assert!(again.contains("<span class=\"hl-"));
    assert!(
        again.contains("&lt;b&gt;") || again.contains("&#60;b&#62;"),
        "{again}"
    );
    let (_, txt) = b.get_text("/same/files/main/a.txt");
    assert!(
        !txt.contains("<span class=\"hl-"),
        "a .txt file is not highlighted: {txt}"
    );
    assert!(txt.contains("def f():"));
}

/// Objects git accepts but a strict reader trips on, and names a careless one refuses.
/// History on main: "first" (a README nested 50,000 deep, a file with a newline in its name,
/// a symlink) → a hand-made commit whose author has no email and that has no committer.
/// Tags: `blobtag` (annotated, on a blob) and `treetag` (on a tree), packed on the server.
#[test]
fn odd_commits_tags_and_names_get_pages_not_errors() {
    let s = Server::start();
    let admin = s.admin();
    s.create_repo(&admin, "odd", false);
    let dir = work_tree(s.dir.path(), "odd");
    std::fs::write(
        dir.join("README.md"),
        format!("{} deep\n", ">".repeat(50_000)),
    )
    .unwrap();
    std::fs::write(dir.join("new\nline.txt"), "the newline file\n").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink("README.md", dir.join("link")).unwrap();
    git_ok(&dir, &["add", "."]);
    git_ok(&dir, &["commit", "-q", "-m", "first"]);
    let tree = head(&dir, "HEAD^{tree}");
    let parent = head(&dir, "HEAD");
    let raw = format!(
        "tree {tree}\nparent {parent}\nauthor NoEmail 1700000001 +0000\n\nhand-made commit\n"
    );
    let mut hash = std::process::Command::new("git")
        .args([
            "hash-object",
            "-t",
            "commit",
            "-w",
            "--literally",
            "--stdin",
        ])
        .current_dir(&dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut hash.stdin.take().unwrap(), raw.as_bytes()).unwrap();
    let odd = String::from_utf8(hash.wait_with_output().unwrap().stdout).unwrap();
    git_ok(&dir, &["update-ref", "refs/heads/main", odd.trim()]);
    git_ok(
        &dir,
        &[
            "tag",
            "-a",
            "-m",
            "on a blob",
            "blobtag",
            &head(&dir, "HEAD:README.md"),
        ],
    );
    git_ok(&dir, &["tag", "treetag", &tree]);
    let url = s.git_url(ADMIN, ADMIN_PW, "odd");
    git_ok(&dir, &["push", "-q", &url, "main", "--tags"]);
    // Packed, as after `git gc`: then the server cannot tell a tag's kind from its file.
    git_ok(&s.repos.join("odd"), &["pack-refs", "--all"]);
    enable_downloads(&admin, "odd");

    let b = Browser::new(&s.base);
    let started = std::time::Instant::now();
    for (path, want) in [
        // Too deeply nested to render: shown as text, and quickly.
        ("/odd", "&#62;&#62;&#62;&#62;"),
        ("/odd/files/main/README.md", "&#62;&#62;&#62;&#62;"),
        // The malformed commit is listed and shown.
        ("/odd/changelog", "hand-made commit"),
        ("/odd/changeset/main", "NoEmail"),
        ("/odd/feed/rss", "hand-made commit"),
        ("/odd/feed/atom", "hand-made commit"),
        ("/odd/files/main/", "new%0Aline.txt"),
        ("/odd/files/main/new%0Aline.txt", "the newline file"),
        ("/odd/annotate/main/new%0Aline.txt", "the newline file"),
        ("/odd/raw/main/new%0Aline.txt", "the newline file"),
        // Kallithea's name for the newest changeset.
        ("/odd/files/tip/", "new%0Aline.txt"),
        ("/odd/changeset/tip", "hand-made commit"),
    ] {
        let (status, page) = b.get_text(path);
        // The README alone is 250 KB of escaped text: messages show the start.
        let start = &page[..page.floor_char_boundary(4000)];
        assert_eq!(status, 200, "{path}: {start}");
        assert!(page.contains(want), "{path} lacks {want:?}:\n{start}");
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    let (_, link) = b.get_text("/odd/files/main/link");
    assert!(
        link.contains("README.md") && !link.contains(">Annotate</a>"),
        "{link}"
    );
    let main = head(&dir, "main");
    for path in [
        "/odd/archive/blobtag.tar.gz".to_owned(),
        "/odd/archive/treetag.zip".to_owned(),
        "/odd/compare/branch@main...tag@blobtag".to_owned(),
        "/odd/compare/tag@treetag...branch@main".to_owned(),
        "/odd/files/blobtag/".to_owned(),
        // Hex longer than an id names nothing (git would read the id it starts with).
        format!("/odd/changeset/{main}abcdef"),
    ] {
        let (status, page) = b.get_text(&path);
        assert_eq!(status, 404, "{path}: {page}");
        assert!(page.contains("There is no revision"), "{path}: {page}");
    }
}

#[test]
fn text_that_is_not_utf8_is_read_as_default_encoding_says() {
    let s = Server::start_with(Options {
        extra_config: vec!["default_encoding=utf-8, latin-1".into()],
        ..Options::default()
    });
    let admin = s.admin();
    s.create_repo(&admin, "web", false);
    let dir = hostile_repo(&s);
    let added = head(&dir, "main~1");
    for path in [
        "/web/files/main/latin1.txt".to_owned(),
        // The commit also adds a big file: the whole diff is asked for.
        format!("/web/changeset/{added}?fulldiff=1"),
        "/web/annotate/main/latin1.txt".to_owned(),
    ] {
        let (status, page) = admin.get_text(&path);
        assert_eq!(status, 200, "{path}");
        assert!(page.contains("café crème"), "{path}: {page}");
    }
    // Without the setting the same bytes show replacement characters.
    let (plain, _admin, _dir) = setup();
    let (_, page) = Browser::new(&plain.base).get_text("/web/files/main/latin1.txt");
    assert!(page.contains("caf\u{FFFD} cr\u{FFFD}me"), "{page}");
}

#[test]
fn merges_mode_changes_deletions_and_first_changesets_in_diffs() {
    let s = Server::start();
    let admin = s.admin();
    s.create_repo(&admin, "m", false);
    let dir = work_tree(s.dir.path(), "m");
    std::fs::write(dir.join("a.txt"), "a\n").unwrap();
    std::fs::write(dir.join("c.txt"), "c\n").unwrap();
    git_ok(&dir, &["add", "."]);
    git_ok(&dir, &["commit", "-q", "-m", "first"]);
    let root = head(&dir, "HEAD");
    git_ok(&dir, &["update-index", "--chmod=+x", "a.txt"]);
    git_ok(&dir, &["commit", "-q", "-m", "executable"]);
    let chmod = head(&dir, "HEAD");
    git_ok(&dir, &["checkout", "-q", "-b", "side"]);
    std::fs::write(dir.join("b.txt"), "from the side\n").unwrap();
    git_ok(&dir, &["add", "."]);
    git_ok(&dir, &["commit", "-q", "-m", "side work"]);
    let side = head(&dir, "HEAD");
    git_ok(&dir, &["checkout", "-q", "main"]);
    git_ok(&dir, &["rm", "-q", "c.txt"]);
    git_ok(&dir, &["commit", "-q", "-m", "drop c"]);
    let dropped = head(&dir, "HEAD");
    git_ok(
        &dir,
        &["merge", "-q", "--no-ff", "-m", "Merge side", "side"],
    );
    let merge = head(&dir, "HEAD");
    std::fs::write(dir.join("a.txt"), "a\r\n").unwrap();
    git_ok(&dir, &["commit", "-q", "-am", "windows line ending"]);
    let crlf = head(&dir, "HEAD");
    git_ok(
        &dir,
        &[
            "push",
            "-q",
            &s.git_url(ADMIN, ADMIN_PW, "m"),
            "main",
            "side",
        ],
    );
    let b = Browser::new(&s.base);

    // A first changeset's raw diff is a diff from its first line.
    let (_, diff) = b.get_text(&format!("/m/changeset-diff/{root}"));
    assert!(diff.starts_with("diff --git a/a.txt b/a.txt"), "{diff}");
    // Lines of a diff can be linked to, old and new side.
    let (_, page) = b.get_text(&format!("/m/changeset/{side}"));
    assert!(
        page.contains("<a id=\"f2-n1\" href=\"#f2-n1\">1</a>"),
        "{page}"
    );
    let (_, page) = b.get_text(&format!("/m/changeset/{chmod}"));
    assert!(
        page.contains("Mode changed from 100644 to 100755."),
        "{page}"
    );
    // A deleted file links to where it still is: the parent.
    let (_, page) = b.get_text(&format!("/m/changeset/{dropped}"));
    assert!(page.contains(&format!("/m/files/{chmod}/c.txt")), "{page}");
    // A merge says what its diff is against, and its patch is its own.
    let (_, page) = b.get_text(&format!("/m/changeset/{merge}"));
    assert!(page.contains("This is a merge: the diffs are against its first parent."));
    assert!(
        page.contains("b.txt") && page.contains("from the side"),
        "{page}"
    );
    // A change of line ending alone is visible, in both views.
    for view in ["", "?diff=sidebyside"] {
        let (_, page) = b.get_text(&format!("/m/changeset/{crlf}{view}"));
        assert_eq!(
            page.matches("title=\"CR LF line ending\"").count(),
            1,
            "{page}"
        );
    }
    // Ignoring whitespace, the file is still listed, as changed in whitespace only.
    let (_, page) = b.get_text(&format!("/m/changeset/{crlf}?ignorews=1"));
    assert!(
        page.contains("1 file changed") && page.contains("Only whitespace changed."),
        "{page}"
    );
    let (status, patch) = b.get_text(&format!("/m/changeset-patch/{merge}"));
    assert_eq!(status, 200);
    assert!(
        patch.starts_with(&format!("From {merge} "))
            && patch.contains("Subject: [PATCH] Merge side")
            && patch.contains("+++ b/b.txt")
            && !patch.contains(&side),
        "{patch}"
    );
}

/// GETs JSON: the status, and the body parsed (the content type must say JSON).
fn get_json(b: &Browser, path: &str) -> (u16, serde_json::Value) {
    let r = b.get(path);
    let status = r.status().as_u16();
    assert!(
        header(&r, "content-type").starts_with("application/json"),
        "{path}: {}",
        header(&r, "content-type")
    );
    (status, serde_json::from_str(&r.text().unwrap()).unwrap())
}

#[test]
fn json_for_scripts_at_kallithea_urls() {
    let (s, _admin, dir) = setup();
    let anon = Browser::new(&s.base);
    let main = head(&dir, "main");
    let first = head(&dir, "main~2");
    let middle = head(&dir, "main~1");

    // The repository's size on disk, as the summary of Kallithea showed it.
    let (status, j) = get_json(&anon, "/web/repo_size");
    assert_eq!(status, 200, "{j}");
    let size = j.as_str().unwrap();
    let mut bytes = 0u64;
    let mut dirs = vec![s.repos.join("web")];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(d).unwrap().flatten() {
            let m = e.metadata().unwrap();
            if m.is_dir() {
                dirs.push(e.path());
            } else {
                bytes += m.len();
            }
        }
    }
    // (git may still be writing its commit-graph after the push: about the same.)
    let shown: f64 = match size.split_once(' ') {
        Some((n, "KiB")) => n.parse::<f64>().unwrap() * 1024.0,
        Some((n, "MiB")) => n.parse::<f64>().unwrap() * 1024.0 * 1024.0,
        _ => panic!("{size}"),
    };
    let ratio = shown / bytes as f64;
    assert!((0.75..1.25).contains(&ratio), "{size} for {bytes} bytes");

    // Every folder and file below a folder, for the file finder.
    let (status, j) = get_json(&anon, "/web/nodelist/main/");
    assert_eq!(status, 200);
    assert_eq!(j["revision"], main.as_str());
    assert_eq!(j["truncated"], false);
    let nodes: Vec<(String, String)> = j["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["name"].as_str().unwrap().to_owned(),
                n["type"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let listed = git_ok(&dir, &["ls-tree", "-r", "-t", "--name-only", "main"]);
    assert_eq!(
        nodes.iter().map(|n| n.0.as_str()).collect::<Vec<_>>(),
        listed.lines().collect::<Vec<_>>(),
        "the paths git lists, in its order"
    );
    assert!(nodes.contains(&("src".into(), "dir".into())));
    assert!(nodes.contains(&("src/app.py".into(), "file".into())));
    assert!(nodes.contains(&("<b>dir</b>/inner.txt".into(), "file".into())));
    assert!(!nodes.iter().any(|n| n.0 == "feature.txt"));
    // Below a folder, at a branch whose name holds a slash.
    let (_, j) = get_json(&anon, "/web/nodelist/feature%2Fx/src");
    assert_eq!(
        j["nodes"],
        serde_json::json!([{"name": "src/app.py", "type": "file"}])
    );
    let (_, j) = get_json(&anon, "/web/nodelist/feature%2Fx/");
    assert!(
        j["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["name"] == "feature.txt")
    );
    // What is not a folder, or not a revision, is a 404 with a sentence, never a page.
    for (path, says) in [
        (
            "/web/nodelist/main/src/app.py",
            "There is no folder \"src/app.py\"",
        ),
        ("/web/nodelist/nope/", "There is no revision \"nope\""),
        (
            "/web/nodelist/--output=x/",
            "There is no revision \"--output=x\"",
        ),
        ("/web/nodelist/main/a%00b", "There is no folder"),
    ] {
        let (status, j) = get_json(&anon, path);
        assert_eq!(status, 404, "{path}: {j}");
        assert!(j["error"].as_str().unwrap().contains(says), "{path}: {j}");
    }

    // Branches and tags for ref selectors, hostile names as JSON strings.
    let (status, j) = get_json(&anon, "/web/refs-data");
    assert_eq!(status, 200);
    assert_eq!(j["more"], false);
    assert_eq!(j["results"][0]["text"], "Branch");
    let branches = j["results"][0]["children"].as_array().unwrap();
    assert!(branches.contains(&serde_json::json!({"id": main, "text": "main", "type": "branch"})));
    assert!(branches.iter().any(|b| b["text"] == "feature/x"));
    assert_eq!(j["results"][1]["text"], "Tag");
    let tags = j["results"][1]["children"].as_array().unwrap();
    assert!(tags.contains(
        &serde_json::json!({"id": main, "text": "x\"><svg/onload=alert(1)>", "type": "tag"})
    ));

    // A changeset, its parents and its children.
    let (status, j) = get_json(&anon, &format!("/changeset_info/web/{main}"));
    assert_eq!(status, 200);
    assert_eq!(j["raw_id"], main.as_str());
    assert_eq!(j["short_id"], &main[..12]);
    assert!(
        j["message"]
            .as_str()
            .unwrap()
            .starts_with("edit app #12 <script>")
    );
    assert!(
        j["author"].as_str().unwrap().ends_with('>'),
        "{}",
        j["author"]
    );
    assert_eq!(j["parents"], serde_json::json!([middle]));
    // RFC 3339, in the author's own offset.
    let date = j["date"].as_str().unwrap();
    assert!(date.len() == 25 && date.as_bytes()[10] == b'T', "{date}");
    let (_, j) = get_json(&anon, "/changeset_info/web/v1.0");
    assert_eq!(j["raw_id"], first.as_str());
    let (status, j) = get_json(&anon, "/changeset_info/web/no-such-rev");
    assert_eq!(status, 404);
    assert!(
        j["error"]
            .as_str()
            .unwrap()
            .contains("There is no revision \"no-such-rev\"")
    );
    let (_, j) = get_json(&anon, &format!("/web/changeset_parents/{main}"));
    assert_eq!(j["results"].as_array().unwrap().len(), 1);
    assert_eq!(j["results"][0]["raw_id"], middle.as_str());
    let (_, j) = get_json(&anon, &format!("/web/changeset_children/{middle}"));
    assert_eq!(j["results"].as_array().unwrap().len(), 1);
    assert_eq!(j["results"][0]["raw_id"], main.as_str());
    let (_, j) = get_json(&anon, &format!("/web/changeset_parents/{first}"));
    assert_eq!(j["results"], serde_json::json!([]));

    // A file's history for a revision selector: only the changesets that changed it.
    let (status, j) = get_json(&anon, "/web/history/main/src/app.py");
    assert_eq!(status, 200);
    assert_eq!(j["more"], false);
    let ids: Vec<&str> = j["results"][0]["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [main.as_str(), first.as_str()]);
    assert!(
        j["results"][0]["children"][0]["text"]
            .as_str()
            .unwrap()
            .contains("edit app #12")
    );
    assert_eq!(j["results"][1]["text"], "Branches");
    assert_eq!(j["results"][2]["text"], "Tags");
    let (status, j) = get_json(&anon, "/web/history/main/src");
    assert_eq!(status, 404);
    assert!(j["error"].as_str().unwrap().contains("is not a file"));
}

#[test]
fn json_for_scripts_needs_the_same_permission_as_pages() {
    let s = Server::start();
    let admin = s.admin();
    s.create_repo(&admin, "secret", true);
    let anon = Browser::new(&s.base);
    for path in [
        "/secret/nodelist/main/",
        "/secret/refs-data",
        "/changeset_info/secret/main",
        "/secret/changeset_children/main",
        "/secret/history/main/x",
        "/secret/repo_size",
    ] {
        let (status, j) = get_json(&anon, path);
        assert_eq!(
            status, 401,
            "{path}: anonymous visitors are told to sign in, not redirected"
        );
        assert!(
            j["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{path}: {j}"
        );
    }
    // A script that asks for JSON gets its errors in JSON, even where no repository is.
    let script = Browser::with(&s.base, None, &[("accept", "application/json")]);
    let (status, j) = get_json(&script, "/nosuch/refs-data");
    assert_eq!(status, 404);
    assert!(
        j["error"].as_str().unwrap().contains("There is no page"),
        "{j}"
    );
    // Kallithea's /changeset_info/{repo}/{rev} never hides a repository's own pages.
    s.create_repo(&admin, "changeset_info", false);
    s.create_repo(&admin, "files", false);
    let r = admin.get("/changeset_info/files/main/");
    assert!(
        header(&r, "content-type").starts_with("text/html"),
        "the files page of repository changeset_info"
    );
    let page = r.text().unwrap();
    assert!(
        page.contains("There is no revision &#34;main&#34; in repository changeset_info"),
        "{page}"
    );
    // And the URL still answers for the other repositories.
    let (status, j) = get_json(&admin, "/changeset_info/secret/main");
    assert_eq!(status, 404, "{j}");
    assert!(
        j["error"]
            .as_str()
            .unwrap()
            .contains("There is no revision \"main\" in repository secret"),
        "{j}"
    );
    // An empty repository has no revisions to list.
    let (status, j) = get_json(&admin, "/secret/nodelist/main/");
    assert_eq!(status, 404, "{j}");
    let (status, j) = get_json(&admin, "/secret/refs-data");
    assert_eq!(status, 200);
    assert_eq!(j["results"], serde_json::json!([]));
}

#[test]
fn a_branch_named_like_a_tag_is_linked_by_its_full_name() {
    let s = Server::start();
    let admin = s.admin();
    s.create_repo(&admin, "dup", false);
    let dir = work_tree(s.dir.path(), "dup-src");
    std::fs::write(dir.join("f.txt"), "tagged\n").unwrap();
    git_ok(&dir, &["add", "."]);
    git_ok(&dir, &["commit", "-q", "-m", "tagged one"]);
    git_ok(&dir, &["tag", "same"]);
    std::fs::write(dir.join("f.txt"), "branch tip\n").unwrap();
    git_ok(&dir, &["commit", "-q", "-am", "branch tip"]);
    git_ok(&dir, &["branch", "same"]);
    let url = s.git_url(ADMIN, ADMIN_PW, "dup");
    git_ok(
        &dir,
        &[
            "push",
            "-q",
            &url,
            "main",
            "refs/heads/same",
            "refs/tags/same",
        ],
    );
    let tip = head(&dir, "refs/heads/same");

    let (_, branches) = admin.get_text("/dup/branches");
    assert!(
        branches.contains("href=\"/dup/files/refs%2Fheads%2Fsame/\"")
            && branches.contains("href=\"/dup/changelog?branch=refs%2Fheads%2Fsame\""),
        "{branches}"
    );
    let (_, tags) = admin.get_text("/dup/tags");
    assert!(tags.contains("href=\"/dup/files/same/\""), "{tags}");
    // The links lead to the branch, the bare name to the tag (as git reads it).
    let (status, page) = admin.get_text("/dup/files/refs%2Fheads%2Fsame/f.txt");
    assert_eq!(status, 200);
    assert!(
        page.contains("branch tip") && page.contains(&tip[..12]),
        "{page}"
    );
    let (_, page) = admin.get_text("/dup/files/same/f.txt");
    assert!(page.contains("tagged"), "{page}");
    let (_, log) = admin.get_text("/dup/changelog");
    assert!(
        log.contains("href=\"/dup/changelog?branch=refs%2Fheads%2Fsame\""),
        "the switcher too"
    );
}

/// Commits by `git` with both dates set.
fn commit_at(dir: &Path, msg: &str, at: &str) {
    std::fs::write(dir.join(format!("{msg}.txt")), msg).unwrap();
    git_ok(dir, &["add", "."]);
    let out = std::process::Command::new("git")
        .args(["commit", "-q", "-m", msg])
        .current_dir(dir)
        .env("GIT_AUTHOR_DATE", at)
        .env("GIT_COMMITTER_DATE", at)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The order of the changeset links on a changelog page, by their first lines.
fn listed(page: &str, names: &[&str]) -> Vec<String> {
    let mut at: Vec<(usize, String)> = names
        .iter()
        .filter_map(|n| {
            page.find(&format!("> {n}</td>"))
                .or_else(|| page.find(&format!("{n}</td>")))
                .map(|i| (i, n.to_string()))
        })
        .collect();
    at.sort();
    at.into_iter().map(|(_, n)| n).collect()
}

#[test]
fn history_follows_the_commit_graph_as_it_comes_and_goes_and_ranges_start_at_their_first() {
    let s = Server::start();
    let admin = s.admin();
    s.create_repo(&admin, "skew", false);
    let dir = work_tree(s.dir.path(), "skew-src");
    // A side branch whose clock ran behind the commit it starts from.
    commit_at(&dir, "root", "2020-01-01T00:00:00Z");
    commit_at(&dir, "base", "2020-01-02T00:00:00Z");
    git_ok(&dir, &["checkout", "-q", "-b", "old"]);
    commit_at(&dir, "side-one", "2010-01-01T00:00:00Z");
    commit_at(&dir, "side-two", "2010-01-02T00:00:00Z");
    git_ok(&dir, &["checkout", "-q", "main"]);
    commit_at(&dir, "main-one", "2020-01-03T00:00:00Z");
    git_ok(&dir, &["merge", "-q", "--no-ff", "-m", "merge-old", "old"]);
    commit_at(&dir, "top", "2020-01-05T00:00:00Z");
    git_ok(
        &dir,
        &[
            "push",
            "-q",
            &s.git_url(ADMIN, ADMIN_PW, "skew"),
            "main",
            "old",
        ],
    );
    let bare = s.repos.join("skew");
    let info = bare.join("objects/info");
    let has_graph = || info.join("commit-graph").exists() || info.join("commit-graphs").exists();
    // The push writes a commit-graph in the background.
    for _ in 0..100 {
        if has_graph() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(has_graph(), "a push writes the commit-graph");
    std::thread::sleep(std::time::Duration::from_millis(300));
    let names = [
        "top",
        "merge-old",
        "main-one",
        "side-two",
        "side-one",
        "base",
        "root",
    ];
    let date_order: Vec<String> = git_ok(&bare, &["log", "--date-order", "--format=%s", "main"])
        .lines()
        .map(str::to_owned)
        .collect();
    let plain: Vec<String> = git_ok(&bare, &["log", "--format=%s", "main"])
        .lines()
        .map(str::to_owned)
        .collect();
    assert_ne!(date_order, plain, "the history tells the orders apart");
    let (_, page) = admin.get_text("/skew/changelog");
    assert_eq!(listed(&page, &names), date_order, "children before parents");
    // Without the graph: git log's order, not the order cached before.
    let _ = std::fs::remove_file(info.join("commit-graph"));
    let _ = std::fs::remove_dir_all(info.join("commit-graphs"));
    let (_, page) = admin.get_text("/skew/changelog");
    assert_eq!(listed(&page, &names), plain);
    git_ok(&bare, &["commit-graph", "write", "--reachable"]);
    let (_, page) = admin.get_text("/skew/changelog");
    assert_eq!(listed(&page, &names), date_order, "the graph is back");

    // A range that starts at a merge holds the merge and what comes after, not the side
    // the merge brought in.
    let merge = head(&dir, "main~1");
    let (status, range) = admin.get_text(&format!("/skew/changeset/{}...main", &merge[..12]));
    assert_eq!(status, 200, "{range}");
    assert!(
        range.contains("merge-old") && range.contains("top"),
        "{range}"
    );
    assert!(
        !range.contains("<td class=\"msg\">side-one</td>")
            && !range.contains("<td class=\"msg\">main-one</td>"),
        "{range}"
    );
}

#[test]
fn fragments_count_a_changesets_files_and_name_a_files_authors() {
    let (s, _admin, dir) = setup();
    let anon = Browser::new(&s.base);
    // As the file page's script asks.
    let xhr = Browser::with(&s.base, None, &[("x-partial-xhr", "1")]);
    let fragment = |path: &str| {
        let r = xhr.get(path);
        assert_eq!(r.status(), 200, "{path}");
        assert!(
            header(&r, "content-type").starts_with("text/html"),
            "{path}"
        );
        let body = r.text().unwrap();
        assert!(
            !body.contains("<html") && !body.contains("<body"),
            "a fragment, not a page: {body}"
        );
        no_active_content(&body);
        body
    };
    let counts = |body: &str| -> Vec<String> {
        ["removed", "changed", "added"]
            .iter()
            .map(|class| {
                let at = body.find(&format!("class=\"{class}\"")).unwrap();
                let text = &body[at..];
                let num = &text[text.find("</span>").unwrap() + 7..];
                num[..num.find("</span>").unwrap()].to_owned()
            })
            .collect()
    };
    // "add files" added seven files, one of them in a folder whose name is markup.
    let body = fragment(&format!("/web/changelog_details/{}", head(&dir, "main~1")));
    assert_eq!(counts(&body), ["0", "0", "7"], "{body}");
    assert!(
        body.contains("title=\"Added:\n&#60;b&#62;dir&#60;/b&#62;/inner.txt\nbig.txt\n"),
        "names, escaped: {body}"
    );
    // "edit app" changed one, reached by a tag whose name is markup.
    let body = fragment("/web/changelog_details/x%22%3E%3Csvg%2Fonload%3Dalert(1)%3E");
    assert_eq!(counts(&body), ["0", "1", "0"], "{body}");
    assert!(body.contains("Changed:\nsrc/app.py"), "{body}");

    // One changeset removes a file; the next adds 61, too many to name.
    git_ok(&dir, &["rm", "-q", "latin1.txt"]);
    git_ok(&dir, &["commit", "-q", "-m", "remove latin1"]);
    for n in 0..61 {
        std::fs::write(dir.join(format!("many{n}.txt")), "m\n").unwrap();
    }
    git_ok(&dir, &["add", "."]);
    git_ok(&dir, &["commit", "-q", "-m", "many files"]);
    // And someone else changes the app, with markup in their name.
    std::fs::write(dir.join("src/app.py"), "def main():\n    return 3\n").unwrap();
    git_ok(&dir, &["add", "."]);
    git_ok(
        &dir,
        &[
            "-c",
            "user.name=Mallory \"&\" O'Brien",
            "-c",
            "user.email=m@example.com",
            "commit",
            "-q",
            "--author=Mallory \"&amp;\" O'Brien <m@example.com>",
            "-m",
            "mallory edits",
        ],
    );
    git_ok(
        &dir,
        &["push", "-q", &s.git_url(ADMIN, ADMIN_PW, "web"), "main"],
    );
    let body = fragment(&format!("/web/changelog_details/{}", head(&dir, "main~2")));
    assert_eq!(counts(&body), ["1", "0", "0"], "{body}");
    assert!(body.contains("Removed:\nlatin1.txt"), "{body}");
    let body = fragment(&format!("/web/changelog_details/{}", head(&dir, "main~1")));
    assert_eq!(counts(&body), ["!", "!", "!"], "{body}");
    assert!(
        body.contains("61 files changed") && !body.contains("many0.txt"),
        "{body}"
    );

    // The file's authors: the one with the most changesets first, markup escaped.
    let body = fragment("/web/authors/main/src/app.py");
    assert!(body.contains("2 authors:"), "{body}");
    let test_author = body.find("Test Author").expect("the scripts' author");
    let mallory = body
        .find("Mallory &#34;&#38;amp;&#34; O&#39;Brien")
        .unwrap_or_else(|| panic!("Mallory, escaped: {body}"));
    assert!(test_author < mallory, "most changesets first: {body}");
    assert!(
        body.contains("2 changesets") && body.contains("1 changeset<"),
        "{body}"
    );
    // Before Mallory came, one author; a folder has authors too.
    let body = fragment(&format!("/web/authors/{}/src/app.py", head(&dir, "main~1")));
    assert!(
        body.contains("1 author:") && !body.contains("Mallory"),
        "{body}"
    );
    let body = fragment("/web/authors/main/src");
    assert!(body.contains("2 authors:"), "{body}");

    // What names nothing is a 404 that says so.
    for (path, says) in [
        (
            "/web/authors/main/nosuch.txt",
            "There is no file or folder &#34;nosuch.txt&#34;",
        ),
        (
            "/web/authors/--output=x/src/app.py",
            "There is no revision &#34;--output=x&#34;",
        ),
        (
            "/web/changelog_details/nosuch",
            "There is no revision &#34;nosuch&#34;",
        ),
        (
            "/web/changelog_details/-h",
            "There is no revision &#34;-h&#34;",
        ),
    ] {
        let r = anon.get(path);
        assert_eq!(r.status(), 404, "{path}");
        let body = r.text().unwrap();
        assert!(body.contains(says), "{path}: {body}");
    }

    // Opened by the browser itself, the authors are a page of their own.
    let (status, page) = anon.get_text("/web/authors/main/src/app.py");
    assert_eq!(status, 200);
    assert!(
        page.contains("<title>Authors of src/app.py · web · Kallithea</title>")
            && page.contains(
                "<h1>Authors of <a href=\"/web/files/main/src/app.py\">src/app.py</a></h1>"
            )
            && page.contains("2 authors:"),
        "{page}"
    );

    // The file page offers the authors.
    let page = anon.get("/web/files/main/src/app.py").text().unwrap();
    let main = head(&dir, "main");
    assert!(
        page.contains(&format!(
            "href=\"/web/authors/{main}/src/app.py\" class=\"show-authors\""
        )),
        "{page}"
    );
}

#[test]
fn file_names_that_are_not_utf8_can_be_opened_everywhere() {
    use std::os::unix::ffi::OsStrExt;
    let s = Server::start();
    let admin = s.admin();
    s.create_repo(&admin, "latin", false);
    let dir = work_tree(s.dir.path(), "latin");
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9.txt");
    let folder = std::ffi::OsStr::from_bytes(b"d\xfcr");
    std::fs::write(dir.join(name), "first line\n").unwrap();
    std::fs::create_dir_all(dir.join(folder)).unwrap();
    std::fs::write(dir.join(folder).join("inner.txt"), "inner\n").unwrap();
    git_ok(&dir, &["add", "."]);
    git_ok(&dir, &["commit", "-q", "-m", "latin-1 names"]);
    std::fs::write(dir.join(name), "first line\nsecond line\n").unwrap();
    git_ok(&dir, &["add", "."]);
    git_ok(&dir, &["commit", "-q", "-m", "second line"]);
    git_ok(
        &dir,
        &["push", "-q", &s.git_url(ADMIN, ADMIN_PW, "latin"), "main"],
    );
    let anon = Browser::new(&s.base);
    let ok = |path: &str| {
        let r = anon.get(path);
        assert_eq!(r.status(), 200, "{path}");
        r.text().unwrap()
    };

    // The folder lists both, shown with a replacement character, linked so they open.
    let page = ok("/latin/files/main/");
    assert!(page.contains(">caf\u{FFFD}.txt</a>"), "{page}");
    assert!(page.contains(">d\u{FFFD}r</a>"), "{page}");
    let href = |page: &str, text: &str| -> String {
        let end = page.find(&format!("\">{text}</a>")).unwrap();
        let start = page[..end].rfind("href=\"").unwrap() + 6;
        page[start..end].replace("&#38;", "&")
    };
    assert_eq!(
        href(&page, "caf\u{FFFD}.txt"),
        "/latin/files/main/caf%E9.txt"
    );
    let file = ok(&href(&page, "caf\u{FFFD}.txt"));
    assert!(file.contains("second line"), "{file}");
    // A script that encodes the name the file finder gave it reaches the same file.
    let file = ok("/latin/files/main/caf%F4%8F%BB%A9.txt");
    assert!(file.contains("second line"), "{file}");
    let inner = ok(&href(&page, "d\u{FFFD}r"));
    assert!(inner.contains(">inner.txt</a>"), "{inner}");
    let inner_file = ok(&href(&inner, "inner.txt"));
    assert!(
        inner_file.contains(">inner</td>") || inner_file.contains("inner"),
        "{inner_file}"
    );

    // The bytes themselves, as another tool would write the address.
    for path in [
        "/latin/files/main/caf%E9.txt",
        "/latin/annotate/main/caf%E9.txt",
        "/latin/changelog/main/caf%E9.txt",
        "/latin/authors/main/caf%E9.txt",
    ] {
        let page = ok(path);
        assert!(!page.contains("There is no"), "{path}: {page}");
    }
    let raw = anon.get("/latin/rawfile/main/caf%E9.txt");
    assert_eq!(raw.status(), 200);
    assert_eq!(
        header(&raw, "content-disposition"),
        "attachment; filename=\"caf_.txt\"; filename*=UTF-8''caf%EF%BF%BD.txt"
    );
    let raw = anon.get("/latin/raw/main/caf%E9.txt");
    assert_eq!(raw.status(), 200);
    assert_eq!(raw.text().unwrap(), "first line\nsecond line\n");
    let annotate = ok("/latin/annotate/main/caf%E9.txt");
    assert!(
        annotate.contains("second line") && annotate.contains("latin-1 names"),
        "{annotate}"
    );
    let history = ok("/latin/changelog/main/caf%E9.txt");
    assert!(
        history.contains("latin-1 names") && history.contains("second line"),
        "{history}"
    );

    // The changeset names the file, links to it, and shows its diff.
    let cs = ok(&format!("/latin/changeset/{}", head(&dir, "main")));
    assert!(cs.contains("caf\u{FFFD}.txt"), "{cs}");
    assert!(
        cs.contains("+second line") || cs.contains("second line"),
        "{cs}"
    );
    let at = cs
        .find(&format!("href=\"/latin/files/{}/caf", head(&dir, "main")))
        .expect("a link to the file");
    let link = &cs[at + 6..];
    let link = &link[..link.find('"').unwrap()];
    assert!(ok(link).contains("second line"), "{link}");
    let (status, j) = get_json(&anon, "/latin/nodelist/main/");
    assert_eq!(status, 200);
    let first = j["nodes"][0]["name"].as_str().unwrap().to_owned();
    assert_eq!(name_bytes(&first), b"caf\xe9.txt");
}

/// A name as the server's scripts read it: bytes that are not UTF-8 carried as U+10FE80 and up.
fn name_bytes(name: &str) -> Vec<u8> {
    name.chars()
        .flat_map(|c| match c as u32 {
            n @ 0x10FE80..=0x10FEFF => vec![(n - 0x10FE00) as u8],
            _ => c.to_string().into_bytes(),
        })
        .collect()
}

#[test]
fn links_and_huge_files_offer_only_what_works() {
    let s = Server::start();
    let admin = s.admin();
    s.create_repo(&admin, "odd", false);
    let dir = work_tree(s.dir.path(), "odd");
    std::fs::create_dir_all(dir.join("docs")).unwrap();
    std::fs::write(dir.join("README.md"), "# Readme\n").unwrap();
    std::fs::write(dir.join("huge.txt"), "0123456789abcdef\n".repeat(70_000)).unwrap();
    std::os::unix::fs::symlink("../README.md", dir.join("docs/readme-link")).unwrap();
    std::os::unix::fs::symlink("../../outside", dir.join("docs/escape")).unwrap();
    git_ok(&dir, &["add", "."]);
    git_ok(&dir, &["commit", "-q", "-m", "links"]);
    git_ok(&dir, &["branch", "other"]);
    git_ok(
        &dir,
        &[
            "push",
            "-q",
            &s.git_url(ADMIN, ADMIN_PW, "odd"),
            "main",
            "other",
        ],
    );
    let anon = Browser::new(&s.base);

    // A link says what it points at, and leads there when that is in the repository.
    let page = anon.get_text("/odd/files/main/docs/readme-link").1;
    assert!(
        page.contains("This is a symbolic link to <a href=\"/odd/files/main/README.md\" class=\"mono\">../README.md</a>."),
        "{page}"
    );
    assert!(!page.contains("/annotate/"), "nothing to annotate: {page}");
    let page = anon.get_text("/odd/files/main/docs/escape").1;
    assert!(
        page.contains("This is a symbolic link to <span class=\"mono\">../../outside</span>."),
        "{page}"
    );
    let r = anon.get("/odd/annotate/main/docs/readme-link");
    assert_eq!(r.status(), 400);
    assert!(
        r.text()
            .unwrap()
            .contains("is a symbolic link: it cannot be annotated")
    );

    // A file too large to annotate has no Annotate link; a small one has.
    let page = anon.get_text("/odd/files/main/huge.txt").1;
    assert!(!page.contains("/odd/annotate/"), "{page}");
    assert_eq!(anon.get("/odd/annotate/main/huge.txt").status(), 400);
    let page = anon.get_text("/odd/files/main/README.md").1;
    assert!(
        page.contains("href=\"/odd/annotate/main/README.md\""),
        "{page}"
    );

    // A path missing at a revision that exists leads to the nearest folder that is there.
    let (status, page) = anon.get_text("/odd/files/other/docs/gone/deeper.txt");
    assert_eq!(status, 404);
    assert!(
        page.contains("<a href=\"/odd/files/other/docs\">Browse docs at other</a>"),
        "{page}"
    );
    let (_, page) = anon.get_text("/odd/files/other/gone.txt");
    assert!(
        page.contains("<a href=\"/odd/files/other/\">Browse odd at other</a>"),
        "{page}"
    );
    let (status, page) = anon.get_text("/odd/files/nope/README.md");
    assert_eq!(status, 404);
    assert!(!page.contains("Browse "), "{page}");

    // The switcher on a file's history keeps to the file.
    let page = anon.get_text("/odd/changelog/main/README.md").1;
    assert!(
        page.contains("href=\"/odd/changelog/other/README.md\""),
        "{page}"
    );
    assert!(!page.contains("/odd/changelog?branch=other"), "{page}");
    let page = anon.get_text("/odd/changelog").1;
    assert!(
        page.contains("href=\"/odd/changelog?branch=other\""),
        "{page}"
    );
}
