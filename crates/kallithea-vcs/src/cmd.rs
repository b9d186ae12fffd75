//! The one place that starts `git`: a fixed environment, and user-supplied values kept apart
//! from trusted literal arguments (a value may never start with `-`).

use std::ffi::OsString;
use std::path::Path;
use std::process::Stdio;

use crate::{Error, Result};

/// A git invocation being built. Trusted arguments are `&'static str`; anything that came from
/// outside goes through [`GitCommand::value`], which refuses option-like text.
#[derive(Debug, Clone)]
pub struct GitCommand {
    subcommand: &'static str,
    args: Vec<OsString>,
    env: Vec<(String, OsString)>,
}

/// A file name as git must be given it: its own bytes, which need not be UTF-8
/// ([`crate::text::name_from_bytes`]).
#[cfg(unix)]
fn os_name(name: &str) -> OsString {
    use std::os::unix::ffi::OsStringExt;
    OsString::from_vec(crate::text::name_to_bytes(name).into_owned())
}

/// Elsewhere git's names are UTF-8.
#[cfg(not(unix))]
fn os_name(name: &str) -> OsString {
    name.into()
}

impl GitCommand {
    pub fn new(subcommand: &'static str) -> Self {
        Self {
            subcommand,
            args: Vec::new(),
            env: Vec::new(),
        }
    }

    /// A literal argument written in our own code.
    pub fn arg(mut self, arg: &'static str) -> Self {
        self.args.push(arg.into());
        self
    }

    /// A value that came from outside (a ref name, a commit id, `<id>:<path>`).
    pub fn value(mut self, value: &str) -> Result<Self> {
        if value.starts_with('-') {
            return Err(Error::OptionLikeArgument(value.to_owned()));
        }
        self.args.push(os_name(value));
        Ok(self)
    }

    /// A value glued to a literal flag (`--prefix=<value>`): git reads it as that flag's value
    /// whatever it starts with.
    pub fn flag_value(mut self, flag: &'static str, value: &str) -> Self {
        let mut a = OsString::from(flag);
        a.push(value);
        self.args.push(a);
        self
    }

    /// A number we computed ourselves, glued to a literal flag (`--skip=`, `-U`).
    pub fn arg_num(mut self, flag: &'static str, n: usize) -> Self {
        self.args.push(format!("{flag}{n}").into());
        self
    }

    /// A value from outside that comes after a literal `--`, where git reads nothing as an
    /// option (a file may be named `-x`). Only call right after `.arg("--")`.
    pub fn value_after_dashdash(mut self, value: &str) -> Self {
        debug_assert!(self.args.last().is_some_and(|a| a == "--"));
        self.args.push(os_name(value));
        self
    }

    /// A path we computed ourselves (always absolute, so never option-like).
    pub fn path(mut self, path: &Path) -> Self {
        let mut p = OsString::new();
        if !path.is_absolute() {
            p.push("./");
        }
        p.push(path);
        self.args.push(p);
        self
    }

    pub fn env(mut self, key: &str, value: impl Into<OsString>) -> Self {
        self.env.push((key.to_owned(), value.into()));
        self
    }

    /// The command line for logs and error messages. An argument holding control characters
    /// (a path from a URL may hold a newline) is written escaped, so it cannot forge lines.
    fn describe(&self) -> String {
        let mut s = self.subcommand.to_owned();
        for a in &self.args {
            s.push(' ');
            let a = a.to_string_lossy();
            if a.contains(char::is_control) {
                s.push_str(&format!("{a:?}"));
            } else {
                s.push_str(&a);
            }
        }
        s
    }

    fn apply_env<C: EnvTarget>(&self, c: &mut C) {
        c.set_env("GIT_CONFIG_NOSYSTEM", "1".into());
        // Attributes come from the repository only (as for the in-process diffs).
        c.set_env("GIT_ATTR_NOSYSTEM", "1".into());
        c.set_env("GIT_CONFIG_GLOBAL", "/dev/null".into());
        // Nor from the server account's `~/.config/git` (attributes, ignores, credentials):
        // no file can be found under a file.
        c.set_env("XDG_CONFIG_HOME", "/dev/null".into());
        c.set_env("GIT_TERMINAL_PROMPT", "0".into());
        c.set_env("LC_ALL", "C".into());
        // Paths from users are names, never patterns (`*`, `:(exclude)`).
        c.set_env("GIT_LITERAL_PATHSPECS", "1".into());
        for (k, v) in &self.env {
            c.set_env(k, v.clone());
        }
    }

    /// Runs to completion in `dir` and returns stdout; a non-zero exit is an error.
    pub fn run(&self, dir: &Path) -> Result<Vec<u8>> {
        self.stdout_of(self.run_unchecked(dir)?)
    }

    /// A finished run's standard output, or the failure with what git said.
    fn stdout_of(&self, out: std::process::Output) -> Result<Vec<u8>> {
        if !out.status.success() {
            return Err(Error::CommandFailed {
                command: self.describe(),
                status: out.status.to_string(),
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
            });
        }
        Ok(out.stdout)
    }

    /// The blocking command for this run in `dir`, with our environment and stdin closed;
    /// `stdout` and `stderr` say where output goes.
    fn std_command(&self, dir: &Path, stdout: Stdio, stderr: Stdio) -> std::process::Command {
        #[allow(clippy::disallowed_methods)]
        let mut c = std::process::Command::new("git");
        c.arg(self.subcommand).args(&self.args).current_dir(dir);
        c.stdin(Stdio::null()).stdout(stdout).stderr(stderr);
        self.apply_env(&mut c);
        c
    }

    fn spawn_error(&self, source: std::io::Error) -> Error {
        Error::Spawn {
            command: self.describe(),
            source,
        }
    }

    /// Like [`GitCommand::run`], but kills git (and every helper it started, such as
    /// `git-remote-https`) when it runs longer than `limit`. For commands that talk to other
    /// servers.
    pub fn run_with_timeout(&self, dir: &Path, limit: std::time::Duration) -> Result<Vec<u8>> {
        let mut c = self.std_command(dir, Stdio::piped(), Stdio::piped());
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut c, 0);
        tracing::debug!(command = %self.describe(), "git (with timeout)");
        let spawn_err = |source| self.spawn_error(source);
        let mut child = c.spawn().map_err(spawn_err)?;
        let readers = [
            child.stdout.take().map(|p| read_all(p, usize::MAX)),
            child.stderr.take().map(|p| read_all(p, 1 << 20)),
        ];
        // A thread waits for git, so its end is seen at once (no polling).
        let pid = child.id();
        let (done, ended) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = done.send(child.wait());
        });
        let status = match ended.recv_timeout(limit) {
            Ok(status) => status.map_err(spawn_err)?,
            Err(_) => {
                kill_group(pid);
                // The readers end when the last process of the group is gone: not waited for.
                return Err(Error::CommandFailed {
                    command: self.describe(),
                    status: format!("timeout after {} s", limit.as_secs()),
                    stderr: format!("stopped after {} seconds", limit.as_secs()),
                });
            }
        };
        let [stdout, stderr] = readers.map(|r| r.and_then(|h| h.join().ok()).unwrap_or_default());
        if status.success() {
            Ok(stdout)
        } else {
            Err(Error::CommandFailed {
                command: self.describe(),
                status: status.to_string(),
                stderr: String::from_utf8_lossy(&stderr).trim().to_owned(),
            })
        }
    }

    /// Runs and returns at most `max` bytes of stdout, and whether that was all of it; git is
    /// stopped once the limit is reached.
    pub fn run_limited(&self, dir: &Path, max: usize) -> Result<(Vec<u8>, bool)> {
        use std::io::Read;
        let mut child = self.spawn_std_stdout(dir)?;
        let mut out = Vec::new();
        let mut complete = true;
        if let Some(stdout) = child.stdout.take() {
            let _ = stdout.take(max as u64 + 1).read_to_end(&mut out);
        }
        if out.len() > max {
            out.truncate(max);
            complete = false;
            let _ = child.kill();
        }
        let status = child.wait().map_err(|e| self.spawn_error(e))?;
        if complete && !status.success() {
            return Err(Error::CommandFailed {
                command: self.describe(),
                status: status.to_string(),
                stderr: String::new(),
            });
        }
        Ok((out, complete))
    }

    /// Runs with `read` consuming stdout as it comes; `read` returns its result and whether
    /// it read to the end. git is stopped when `read` stops early; having read to the end,
    /// a failed git is an error.
    pub fn run_reading<T>(
        &self,
        dir: &Path,
        read: impl FnOnce(&mut dyn std::io::BufRead) -> (T, bool),
    ) -> Result<T> {
        tracing::debug!(command = %self.describe(), "git (read as it runs)");
        let mut child = self.spawn_std_stdout(dir)?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let (value, to_the_end) = read(&mut std::io::BufReader::with_capacity(64 * 1024, stdout));
        if !to_the_end {
            let _ = child.kill();
        }
        let status = child.wait().map_err(|e| self.spawn_error(e))?;
        if to_the_end && !status.success() {
            return Err(Error::CommandFailed {
                command: self.describe(),
                status: status.to_string(),
                stderr: String::new(),
            });
        }
        Ok(value)
    }

    /// Like [`GitCommand::run`], with `input` written to git's standard input (for `--stdin`
    /// lists too long for a command line).
    pub fn run_with_input(&self, dir: &Path, input: &[u8]) -> Result<Vec<u8>> {
        use std::io::Write;
        tracing::debug!(command = %self.describe(), "git (with input)");
        let mut child = self
            .std_command(dir, Stdio::piped(), Stdio::piped())
            .stdin(Stdio::piped())
            .spawn()
            .map_err(|e| self.spawn_error(e))?;
        let mut stdin = child.stdin.take().expect("stdin is piped");
        let input = input.to_vec();
        // Written from another thread: git may fill its output pipe before reading it all.
        let writer = std::thread::spawn(move || stdin.write_all(&input));
        let out = child.wait_with_output().map_err(|e| self.spawn_error(e))?;
        let _ = writer.join();
        self.stdout_of(out)
    }

    /// Runs to completion and returns the whole output, whatever the exit status.
    pub fn run_unchecked(&self, dir: &Path) -> Result<std::process::Output> {
        tracing::debug!(command = %self.describe(), "git");
        // `output` collects both streams.
        self.std_command(dir, Stdio::piped(), Stdio::piped())
            .output()
            .map_err(|e| self.spawn_error(e))
    }

    /// Starts git in the background and does not wait for it: every stream goes to
    /// `/dev/null`, so nothing waiting on this process's pipes (git running a hook) waits for
    /// the child too. The child is left to finish on its own (for housekeeping).
    pub fn spawn_detached(&self, dir: &Path) -> Result<()> {
        tracing::debug!(command = %self.describe(), "git (background)");
        self.std_command(dir, Stdio::null(), Stdio::null())
            .spawn()
            .map(drop)
            .map_err(|e| self.spawn_error(e))
    }

    /// A blocking child whose stdout is piped (stdin and stderr closed), for reading a prefix.
    pub fn spawn_std_stdout(&self, dir: &Path) -> Result<std::process::Child> {
        self.std_command(dir, Stdio::piped(), Stdio::null())
            .spawn()
            .map_err(|e| self.spawn_error(e))
    }

    /// An async child with piped stdin and stdout, killed when dropped (for the wire protocol).
    pub fn spawn_piped(&self, dir: &Path) -> Result<tokio::process::Child> {
        #[allow(clippy::disallowed_methods)]
        let mut c = tokio::process::Command::new("git");
        c.arg(self.subcommand).args(&self.args).current_dir(dir);
        c.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        self.apply_env(&mut c);
        tracing::debug!(command = %self.describe(), "git (streamed)");
        c.spawn().map_err(|source| Error::Spawn {
            command: self.describe(),
            source,
        })
    }
}

/// Kills a child started in its own process group, with everything it started.
fn kill_group(pid: u32) {
    #[cfg(unix)]
    if let Some(pid) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    {
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
    }
    #[cfg(not(unix))]
    let _ = pid;
}

/// Reads a pipe to its end on a thread, keeping at most `cap` bytes.
fn read_all(
    mut pipe: impl std::io::Read + Send + 'static,
    cap: usize,
) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut v = Vec::new();
        let mut buf = [0u8; 8192];
        while let Ok(n) = pipe.read(&mut buf) {
            if n == 0 {
                break;
            }
            let room = cap.saturating_sub(v.len()).min(n);
            v.extend_from_slice(&buf[..room]);
        }
        v
    })
}

trait EnvTarget {
    fn set_env(&mut self, k: &str, v: OsString);
}
impl EnvTarget for std::process::Command {
    fn set_env(&mut self, k: &str, v: OsString) {
        self.env(k, v);
    }
}
impl EnvTarget for tokio::process::Command {
    fn set_env(&mut self, k: &str, v: OsString) {
        self.env(k, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_like_values_are_refused() {
        assert!(matches!(
            GitCommand::new("log").value("--output=/tmp/x"),
            Err(Error::OptionLikeArgument(_))
        ));
        assert!(GitCommand::new("log").value("main").is_ok());
    }

    #[test]
    fn a_command_past_its_time_is_stopped_and_one_within_it_answers() {
        let dir = std::env::temp_dir();
        let out = GitCommand::new("version")
            .run_with_timeout(&dir, std::time::Duration::from_secs(30))
            .unwrap();
        assert!(String::from_utf8_lossy(&out).starts_with("git version"));
        // A server that accepts and never answers keeps `git ls-remote` waiting.
        let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/repo", silent.local_addr().unwrap());
        let started = std::time::Instant::now();
        let err = GitCommand::new("ls-remote")
            .value(&url)
            .unwrap()
            .run_with_timeout(&dir, std::time::Duration::from_secs(1))
            .unwrap_err();
        assert!(err.to_string().contains("timeout"), "{err}");
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
    }
}
