//! Sending email through the SMTP server of `my.ini` (`smtp_server`, `smtp_port`,
//! `smtp_username`, `smtp_password`, `smtp_use_tls` for STARTTLS, `smtp_use_ssl` for TLS from
//! the start, `app_email_from`, `email_prefix`). Without a server, the message goes to the log
//! so an administrator can pass it on.

use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::{Error, Result};

#[derive(Clone, Debug, Default)]
pub struct MailConfig {
    pub server: Option<String>,
    pub port: Option<u16>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub use_tls: bool,
    pub use_ssl: bool,
    pub from: String,
    /// Put before every subject, as Kallithea's `email_prefix`.
    pub prefix: String,
}

/// Sends a plain-text message, or logs it when no SMTP server is configured.
pub async fn send(cfg: &MailConfig, to: &str, subject: &str, body: &str) -> Result<()> {
    let subject = if cfg.prefix.is_empty() {
        subject.to_owned()
    } else {
        format!("{} {subject}", cfg.prefix)
    };
    let Some(server) = cfg.server.as_deref().filter(|s| !s.is_empty()) else {
        tracing::info!("no smtp_server configured; email to {to}: {subject}\n{body}");
        return Ok(());
    };
    let bad =
        |what: &str, v: &str| Error::invalid(format!("\"{v}\" is not a valid {what} address."));
    let from: Mailbox = if cfg.from.is_empty() {
        "Kallithea <kallithea@localhost>"
            .parse()
            .expect("valid address")
    } else {
        cfg.from
            .parse()
            .map_err(|_| bad("sender (app_email_from)", &cfg.from))?
    };
    let to_box: Mailbox = to.parse().map_err(|_| bad("email", to))?;
    let msg = Message::builder()
        .from(from)
        .to(to_box)
        .subject(subject)
        .header(ContentType::TEXT_PLAIN)
        .body(body.to_owned())
        .map_err(|e| Error::internal("composing an email", e))?;
    let builder = if cfg.use_ssl {
        AsyncSmtpTransport::<Tokio1Executor>::relay(server)
            .map_err(|e| Error::internal("setting up SMTP", e))?
    } else if cfg.use_tls {
        AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(server)
            .map_err(|e| Error::internal("setting up SMTP", e))?
    } else {
        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(server)
    };
    let mut builder = builder.timeout(Some(std::time::Duration::from_secs(30)));
    if let Some(p) = cfg.port {
        builder = builder.port(p);
    }
    if let (Some(u), Some(p)) = (&cfg.username, &cfg.password) {
        builder = builder.credentials(Credentials::new(u.clone(), p.clone()));
    }
    builder
        .build()
        .send(msg)
        .await
        .map_err(|e| Error::internal("sending an email", e))?;
    Ok(())
}
