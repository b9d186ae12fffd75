//! `kallithea install-iis`: the `web.config` that hosts this server under IIS through
//! HttpPlatformHandler. IIS starts `kallithea serve` on the port it chooses
//! (`%HTTP_PLATFORM_PORT%`), forwards every request to it, and URL Rewrite hands over the
//! signed-in Windows user in the container plugin's header together with the proxy secret.
//! The request-filtering defaults that break a code host (30 MB uploads, hidden `bin`
//! folders, refused `.config` files, `+` and `%25` in paths, two-minute requests) are lifted.

use std::path::Path;

use anyhow::{Result, bail};

use crate::config::Config;

/// What goes into the file.
pub struct IisSetup<'a> {
    pub executable: &'a Path,
    pub config: &'a Config,
    /// The header (WSGI name) the container plugin reads, such as `REMOTE_USER`.
    pub user_header: &'a str,
    /// The application's path in IIS: `/` or `/kallithea`.
    pub root: &'a str,
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// `remote-user` → `HTTP_REMOTE_USER`: the IIS server variable that sets a request header.
fn server_variable(header: &str) -> String {
    format!("HTTP_{}", header.replace('-', "_").to_ascii_uppercase())
}

/// Checks `--root` against `my.ini` and the user header; returns the `web.config` text.
pub fn web_config(s: &IisSetup<'_>) -> Result<String> {
    let root = s.root.trim().trim_end_matches('/');
    if !root.is_empty() && !root.starts_with('/') {
        bail!(
            "--root must be / or a path such as /kallithea, not {:?}",
            s.root
        );
    }
    if root != s.config.prefix {
        let ini = if s.config.prefix.is_empty() {
            "serves at the root (no [filter:proxy-prefix])".to_owned()
        } else {
            format!("has prefix = {}", s.config.prefix)
        };
        bail!(
            "--root={} does not match {}, which {ini}; IIS passes the full path on, so they must agree (set `filter-with = proxy-prefix` and `prefix = {}` in my.ini for a sub-folder)",
            if root.is_empty() { "/" } else { root },
            s.config.path.display(),
            if root.is_empty() { "/kallithea" } else { root },
        );
    }
    let Some((secret_header, secret)) = &s.config.proxy_secret else {
        bail!(
            "{} has no proxy_secret. Add these lines under [app:main] and run install-iis again:\n\n    proxy_secret = {}\n    trusted_proxies = 127.0.0.1, ::1\n\nIIS sends the secret with every request, so other programs on this machine cannot pose as IIS.",
            s.config.path.display(),
            kallithea_core::token::random_hex(20)
        );
    };
    let user_header = kallithea_core::auth::header_name(s.user_header);
    if user_header.is_empty()
        || !user_header
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        bail!(
            "--user-header must be a header as a WSGI name such as REMOTE_USER, not {:?}",
            s.user_header
        );
    }
    let exe = xml_escape(&s.executable.display().to_string());
    let ini = xml_escape(&s.config.path.display().to_string());
    // Text inside an XML comment may not contain `--`.
    let in_comment = |t: &str| t.replace("--", "-\u{2010}");
    let ini_comment = in_comment(&ini);
    let user_var = server_variable(&user_header);
    let secret_var = server_variable(secret_header);
    let secret = xml_escape(secret);
    let app = in_comment(&xml_escape(if root.is_empty() { "/" } else { root }));
    Ok(format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<!--
  Written by `kallithea install-iis` for the IIS application at {app}.
  IIS (HttpPlatformHandler) starts Kallithea with the configuration {ini_comment}
  and forwards every request to it on 127.0.0.1. Run install-iis again after moving files.

  The URL Rewrite rules below need these server variables allowed at server level
  (applicationHost.config), see docs/iis.md:
    {user_var}, {secret_var}, HTTP_X_FORWARDED_PROTO, HTTP_X_FORWARDED_FOR
-->
<configuration>
  <system.webServer>
    <handlers>
      <add name="httpPlatformHandler" path="*" verb="*" modules="httpPlatformHandler" resourceType="Unspecified" />
    </handlers>
    <!-- Kallithea listens on the port IIS picks; long clones and pushes get four hours. -->
    <httpPlatform processPath="{exe}"
                  arguments="serve -c &quot;{ini}&quot; --host 127.0.0.1 --port %HTTP_PLATFORM_PORT%"
                  startupTimeLimit="60"
                  startupRetryCount="3"
                  requestTimeout="04:00:00"
                  processesPerApplication="1"
                  stdoutLogEnabled="true"
                  stdoutLogFile=".\logs\kallithea-stdout"
                  forwardWindowsAuthToken="false">
      <environmentVariables>
        <environmentVariable name="KALLITHEA_LOG" value="info,sqlx=warn" />
      </environmentVariables>
    </httpPlatform>
    <security>
      <!-- Pushes may be large; paths may contain + and %25, folders named bin, files named *.config. -->
      <requestFiltering allowDoubleEscaping="true">
        <requestLimits maxAllowedContentLength="4294967295" maxUrl="16384" maxQueryString="16384" />
        <hiddenSegments>
          <clear />
        </hiddenSegments>
        <fileExtensions allowUnlisted="true">
          <clear />
        </fileExtensions>
      </requestFiltering>
    </security>
    <rewrite>
      <rules>
        <!-- Every request: the Windows user (empty when not signed in), the proxy secret,
             the client's address. A value a client sent in these headers is replaced. -->
        <rule name="kallithea-identity" stopProcessing="false">
          <match url=".*" />
          <serverVariables>
            <set name="{user_var}" value="{{LOGON_USER}}" replace="true" />
            <set name="{secret_var}" value="{secret}" replace="true" />
            <set name="HTTP_X_FORWARDED_FOR" value="{{REMOTE_ADDR}}" replace="true" />
            <set name="HTTP_X_FORWARDED_PROTO" value="http" replace="true" />
          </serverVariables>
          <action type="None" />
        </rule>
        <rule name="kallithea-https" stopProcessing="false">
          <match url=".*" />
          <conditions>
            <add input="{{HTTPS}}" pattern="^on$" />
          </conditions>
          <serverVariables>
            <set name="HTTP_X_FORWARDED_PROTO" value="https" replace="true" />
          </serverVariables>
          <action type="None" />
        </rule>
      </rules>
    </rewrite>
  </system.webServer>
</configuration>
"#
    ))
}

/// What `my.ini` should also say for the rules above to be used, as advice lines.
pub fn advice(cfg: &Config) -> Vec<String> {
    let mut out = Vec::new();
    if cfg.remote_addr_header.as_deref() != Some("x-forwarded-for") {
        out.push("remote_addr_variable = HTTP_X_FORWARDED_FOR (so sign-in throttling and logs see the client's address)".to_owned());
    }
    if cfg.scheme_header.as_deref() != Some("x-forwarded-proto") {
        out.push(
            "url_scheme_variable = HTTP_X_FORWARDED_PROTO (so links and cookies follow HTTPS)"
                .to_owned(),
        );
    }
    out
}
