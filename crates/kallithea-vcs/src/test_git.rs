//! git as a user runs it, for tests: to make fixtures and to say what answers must be.

use std::path::Path;

/// Runs git in `dir` with a fixed author (name with spaces to trim) and the given date.
#[allow(clippy::disallowed_methods)]
pub(crate) fn git(dir: &Path, args: &[&str], date: &str) -> Vec<u8> {
    let out = std::process::Command::new("git")
        .args(["-c", "init.defaultBranch=main"])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", " Ann  Author ")
        .env("GIT_AUTHOR_EMAIL", "ann@example.com")
        .env("GIT_AUTHOR_DATE", date)
        .env("GIT_COMMITTER_NAME", "Cy Committer")
        .env("GIT_COMMITTER_EMAIL", "cy@example.com")
        .env("GIT_COMMITTER_DATE", date)
        .output()
        .expect("git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// `git mktree` in a bare repository: the id of a tree with these `mode type id\tname` lines.
#[allow(clippy::disallowed_methods)]
pub(crate) fn mktree(bare: &Path, lines: &[String]) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new("git")
        .args(["mktree", "--missing"])
        .current_dir(bare)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("git mktree");
    let mut input = lines.join("\n");
    input.push('\n');
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "git mktree failed");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}
