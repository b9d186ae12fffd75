//! Logging: to standard error always (IIS keeps it as the stdout log), and also to the file
//! named by `log_file` in `my.ini` once the configuration is read. Level from `KALLITHEA_LOG`
//! (default `info,sqlx=warn`).

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::{Mutex, OnceLock};

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

static FILE: OnceLock<Mutex<std::fs::File>> = OnceLock::new();

/// Writes to the log file when one is open, otherwise nowhere.
struct FileWriter;

impl Write for FileWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Some(f) = FILE.get() {
            let mut f = f.lock().unwrap_or_else(|p| p.into_inner());
            // A full disk must not stop the server; the line still went to stderr.
            let _ = f.write_all(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The file layer's own field formatter: two layers with the same formatter type would share
/// (and so double) the fields recorded on a span after it starts, such as the request's user.
struct FileFields(tracing_subscriber::fmt::format::DefaultFields);

impl<'w> tracing_subscriber::fmt::FormatFields<'w> for FileFields {
    fn format_fields<R: tracing_subscriber::field::RecordFields>(
        &self,
        writer: tracing_subscriber::fmt::format::Writer<'w>,
        fields: R,
    ) -> std::fmt::Result {
        self.0.format_fields(writer, fields)
    }
}

pub fn init() {
    let filter = || {
        tracing_subscriber::EnvFilter::try_from_env("KALLITHEA_LOG")
            .unwrap_or_else(|_| "info,sqlx=warn".into())
    };
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(std::io::stderr().is_terminal())
                .with_filter(filter()),
        )
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(|| FileWriter)
                .fmt_fields(FileFields(
                    tracing_subscriber::fmt::format::DefaultFields::new(),
                ))
                .with_ansi(false)
                .with_filter(filter()),
        )
        .init();
    // A panic is logged like any error, inside the request's span (so with its id), with a
    // backtrace; the request still gets an error page (`kallithea_web::client`).
    std::panic::set_hook(Box::new(|info| {
        tracing::error!(
            "panic: {info}\n{}",
            std::backtrace::Backtrace::force_capture()
        );
    }));
}

/// Starts appending log lines to `path` as well.
pub fn to_file(path: &Path) -> anyhow::Result<()> {
    use anyhow::Context;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).ok();
    }
    let f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("cannot open the log file {} (log_file)", path.display()))?;
    let _ = FILE.set(Mutex::new(f));
    Ok(())
}

use tracing_subscriber::Layer;
