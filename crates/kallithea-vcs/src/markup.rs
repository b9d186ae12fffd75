//! reStructuredText to HTML through docutils (`python3 -m docutils`), when it is installed.
//! Raw HTML and file inclusion are turned off; the caller still sanitises the result.
//! It lives here because this crate is the one place that starts other programs.

use std::io::Write;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// The `<body>` content docutils makes of `text`, or `None` when docutils is missing, fails
/// or takes longer than a few seconds.
pub fn rst_to_html(text: &str) -> Option<String> {
    #[allow(clippy::disallowed_methods)]
    let mut child = std::process::Command::new("python3")
        .args([
            "-m",
            "docutils",
            "--no-raw",
            "--no-file-insertion",
            "--report=5",
            "--halt=5",
            "--output-encoding=utf-8",
        ])
        .env("LC_ALL", "C.UTF-8")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut stdin = child.stdin.take()?;
    let input = text.to_owned();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let mut stdout = child.stdout.take()?;
    let reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = std::io::Read::read_to_end(&mut stdout, &mut v);
        v
    });
    let deadline = Instant::now() + Duration::from_secs(5);
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    };
    let _ = writer.join();
    let out = reader.join().ok()?;
    if !status.success() {
        return None;
    }
    let html = String::from_utf8_lossy(&out);
    let start = html.find("<body>")? + "<body>".len();
    let end = html.rfind("</body>")?;
    Some(html[start..end].trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_rst_without_raw_html() {
        let html = rst_to_html(
            "Title\n=====\n\nHello *world*\n\n.. raw:: html\n\n   <script>alert(1)</script>\n",
        )
        .expect("docutils is installed (scripts/test.sh installs python3-docutils)");
        assert!(html.contains("<em>world</em>"), "{html}");
        assert!(!html.contains("<script>"), "{html}");
    }
}
