//! Registration and password reset, with mail delivered to a real SMTP receiver (Python's
//! aiosmtpd, started by the test).

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

/// aiosmtpd printing every message it receives into a file.
struct Smtp {
    child: Child,
    port: u16,
    out: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Smtp {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("mail.txt");
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("python3")
            .args([
                "-u",
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{port}"),
            ])
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 -m aiosmtpd (pip install aiosmtpd; scripts/test.sh does)");
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(15),
                "aiosmtpd did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Self {
            child,
            port,
            out,
            _dir: dir,
        }
    }

    /// Waits for a message containing `needle`; returns everything received, with
    /// quoted-printable soft line breaks and `=3D` undone.
    fn wait_for(&self, needle: &str) -> String {
        let start = Instant::now();
        loop {
            let text = std::fs::read_to_string(&self.out)
                .unwrap_or_default()
                .replace("=\n", "")
                .replace("=3D", "=");
            if text.contains(needle) {
                return text;
            }
            assert!(
                start.elapsed() < Duration::from_secs(15),
                "no mail with {needle}: {text}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn register(b: &Browser, name: &str, email: &str) -> reqwest::blocking::Response {
    b.post(
        "/_admin/register",
        &[
            ("username", name),
            ("password", "secret-pass-1"),
            ("password_confirmation", "secret-pass-1"),
            ("email", email),
            ("firstname", "New"),
        ],
    )
}

#[test]
fn registration_follows_the_default_permission() {
    let s = Server::start();
    let admin = s.admin();
    let anon = Browser::new(&s.base);
    // Kallithea's default: manual activation.
    let r = register(&anon, "newbie", "newbie@example.com");
    assert_eq!(r.status(), 200);
    assert!(
        r.text()
            .unwrap()
            .contains("An administrator must activate it")
    );
    let r = Browser::new(&s.base).login("newbie", "secret-pass-1");
    assert_eq!(r.status(), 401);
    assert!(r.text().unwrap().contains("disabled"));
    // Bad input: refused with a sentence, nothing made.
    for (name, email, pw2, says) in [
        ("newbie", "x@example.com", "secret-pass-1", "already taken"),
        (
            "other",
            "newbie@example.com",
            "secret-pass-1",
            "already in use",
        ),
        ("other", "other@example.com", "different", "do not match"),
        (
            "bad/name",
            "b@example.com",
            "secret-pass-1",
            "User names may contain only",
        ),
    ] {
        let r = anon.post(
            "/_admin/register",
            &[
                ("username", name),
                ("password", "secret-pass-1"),
                ("password_confirmation", pw2),
                ("email", email),
            ],
        );
        assert!(r.status().is_client_error(), "{name}");
        let page = r.text().unwrap();
        assert!(page.contains(says), "{says}: {page}");
    }

    // Automatic activation: the account works at once.
    let r = admin.post(
        "/_admin/permissions",
        &defaults(&[("default_register", "hg.register.auto_activate")]),
    );
    assert_eq!(r.status(), 200);
    let r = register(&anon, "quick", "quick@example.com");
    assert_eq!(r.status(), 303);
    assert_eq!(
        Browser::new(&s.base)
            .login("quick", "secret-pass-1")
            .status(),
        303
    );

    // Turned off: the page says so.
    let r = admin.post(
        "/_admin/permissions",
        &defaults(&[("default_register", "hg.register.none")]),
    );
    assert_eq!(r.status(), 200);
    let r = register(&anon, "late", "late@example.com");
    assert_eq!(r.status(), 403);
    assert!(r.text().unwrap().contains("Registration is turned off"));
    assert_eq!(anon.get("/_admin/register").status(), 403);
}

#[test]
fn password_reset_by_a_single_use_link_sent_by_smtp() {
    let smtp = Smtp::start();
    let s = Server::start_with(Options {
        extra_config: vec![
            "smtp_server=127.0.0.1".into(),
            format!("smtp_port={}", smtp.port),
            "app_email_from=Kallithea <kallithea@example.com>".into(),
            "email_prefix=[code]".into(),
            "canonical_url=http://code.example".into(),
        ],
        ..Options::default()
    });
    let admin = s.admin();
    s.add_user(&admin, "carol", "old-pass-1");
    let id = user_id(&admin, "carol");
    let r = admin.post(
        &format!("/_admin/users/{id}"),
        &[("email", "carol@example.com"), ("active", "True")],
    );
    assert_eq!(r.status(), 200);
    let carol_elsewhere = Browser::new(&s.base);
    assert_eq!(carol_elsewhere.login("carol", "old-pass-1").status(), 303);

    let anon = Browser::new(&s.base);
    // The same answer whether or not the address exists; only a real account gets mail.
    for email in ["nobody@example.com", "CAROL@example.com"] {
        let r = anon.post("/_admin/password_reset", &[("email", email)]);
        assert_eq!(r.status(), 200);
        assert!(r.text().unwrap().contains("If an account has this address"));
    }
    let mail = smtp.wait_for("password_reset_confirmation");
    assert!(
        mail.contains("Subject: [code] Password reset link"),
        "{mail}"
    );
    assert!(!mail.contains("nobody@example.com"), "{mail}");
    let link = mail
        .lines()
        .find(|l| l.contains("/_admin/password_reset_confirmation?"))
        .unwrap()
        .trim()
        .to_owned();
    // The link uses canonical_url, never the request's Host.
    let path = link
        .strip_prefix("http://code.example")
        .unwrap_or_else(|| panic!("{link}"));

    let (status, page) = anon.get_text(path);
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("<strong>carol</strong>"), "{page}");
    let fields = |pw: &str, pw2: &str| {
        let q = path.split_once('?').unwrap().1;
        let mut f: Vec<(String, String)> = q
            .split('&')
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap();
                (k.to_owned(), v.replace("%40", "@"))
            })
            .collect();
        f.push(("password".into(), pw.into()));
        f.push(("password_confirmation".into(), pw2.into()));
        f
    };
    let post = |f: Vec<(String, String)>| {
        let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        anon.post("/_admin/password_reset_confirmation", &pairs)
    };
    let r = post(fields("new-pass-1", "typo"));
    assert_eq!(r.status(), 400);
    assert!(r.text().unwrap().contains("do not match"));
    let r = post(fields("new-pass-1", "new-pass-1"));
    assert_eq!(r.status(), 303);
    assert_eq!(
        Browser::new(&s.base).login("carol", "new-pass-1").status(),
        303
    );
    assert_eq!(
        Browser::new(&s.base).login("carol", "old-pass-1").status(),
        401
    );
    // Her other session ended.
    assert!(!carol_elsewhere.get_text("/").1.contains("Sign out"));
    // The link worked once.
    let r = post(fields("third-pass-1", "third-pass-1"));
    assert_eq!(r.status(), 400);
    assert!(r.text().unwrap().contains("not valid"));
    let (status, page) = anon.get_text(path);
    assert_eq!(status, 400);
    assert!(page.contains("Ask for a new one"), "{page}");
    // A forged token or an old timestamp is refused.
    let forged = path.replace("token=", "token=0");
    assert_eq!(anon.get(&forged).status(), 400);
    let r = anon
        .get("/_admin/password_reset_confirmation?email=carol%40example.com&timestamp=1&token=abc");
    assert_eq!(r.status(), 400);
}

#[test]
fn without_smtp_the_reset_link_goes_to_the_log() {
    // Without canonical_url there is no reset by mail at all.
    let bare = Server::start();
    let r =
        Browser::new(&bare.base).post("/_admin/password_reset", &[("email", "admin@example.com")]);
    assert_eq!(r.status(), 503);
    assert!(r.text().unwrap().contains("must set canonical_url"));
    let s = Server::start_with(Options {
        extra_config: vec!["canonical_url=http://code.example".into()],
        ..Options::default()
    });
    let admin = s.admin();
    s.add_user(&admin, "dan", "dan-pass-1");
    let id = user_id(&admin, "dan");
    admin.post(
        &format!("/_admin/users/{id}"),
        &[("email", "dan@example.com"), ("active", "True")],
    );
    let r = Browser::new(&s.base).post("/_admin/password_reset", &[("email", "dan@example.com")]);
    assert_eq!(r.status(), 200);
    let start = Instant::now();
    while !s
        .log()
        .contains("password_reset_confirmation?email=dan%40example.com")
    {
        assert!(start.elapsed() < Duration::from_secs(10), "{}", s.log());
        std::thread::sleep(Duration::from_millis(100));
    }
}
