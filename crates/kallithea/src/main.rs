//! The `kallithea` binary: command line, configuration loading and wiring. Subcommands
//! mirror `kallithea-cli`; no command waits for input when standard input is not a terminal.

mod config;
mod iis;
mod logging;

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use kallithea_core::user::NewAccount;
use kallithea_core::{CoreConfig, Db, HookInstall, Services, setup};

use crate::config::Config;

#[derive(Parser)]
#[command(
    name = "kallithea",
    version,
    about = "A self-hosted Git server compatible with Kallithea (Mercurial support is planned)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server. Without -c and without ./my.ini, sets up a new instance here first.
    Serve {
        #[arg(short = 'c', long = "config")]
        config: Option<PathBuf>,
        #[arg(long)]
        host: Option<String>,
        #[arg(long)]
        port: Option<u16>,
    },
    /// Write a commented configuration file.
    ConfigCreate {
        file: PathBuf,
        /// key=value settings to put in the file.
        settings: Vec<String>,
        #[arg(long)]
        force: bool,
    },
    /// Create the database schema and the first admin account.
    DbCreate {
        #[arg(short = 'c', long = "config")]
        config: PathBuf,
        #[arg(long)]
        user: String,
        #[arg(long)]
        password: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        repos: PathBuf,
        /// Delete an existing database without asking.
        #[arg(long, conflicts_with = "force_no")]
        force_yes: bool,
        /// Keep an existing database without asking.
        #[arg(long)]
        force_no: bool,
        /// Let anonymous visitors read what the default permissions allow (the default).
        #[arg(long, conflicts_with = "no_public_access")]
        public_access: bool,
        /// Require everyone to sign in.
        #[arg(long)]
        no_public_access: bool,
    },
    /// Apply database migrations.
    DbUpgrade {
        #[arg(short = 'c', long = "config")]
        config: PathBuf,
    },
    /// Register repositories found on disk under the repository folder.
    RepoScan {
        #[arg(short = 'c', long = "config")]
        config: PathBuf,
    },
    /// Write web.config into the current folder to host Kallithea under IIS
    /// (HttpPlatformHandler and URL Rewrite).
    #[command(alias = "iis-install")]
    InstallIis {
        #[arg(short = 'c', long = "config")]
        config: PathBuf,
        /// The IIS application path: / or a sub-folder such as /kallithea (must match the
        /// prefix in my.ini).
        #[arg(long, alias = "virtualdir", default_value = "/")]
        root: String,
        /// The header the container plugin reads (its "header" setting).
        #[arg(long, default_value = "REMOTE_USER")]
        user_header: String,
        /// Overwrite a web.config that install-iis did not write.
        #[arg(long)]
        force: bool,
    },
    /// Run by the hooks installed in each repository.
    #[command(hide = true)]
    Hook {
        kind: String,
        #[arg(short = 'c', long = "config")]
        config: PathBuf,
    },
}

/// mimalloc rather than the C library's allocator: glibc kept the memory of a large page
/// (hundreds of MB of short strings, freed on many threads) from the system long after the
/// page was sent; mimalloc returns freed pages after a short delay. Built without asking for
/// transparent huge pages (`no_thp`): zeroing 2 MiB at each first touch made the first
/// pages after a start a third slower.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    logging::init();
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Serve { config, host, port } => serve(config, host, port).await,
        Command::ConfigCreate {
            file,
            settings,
            force,
        } => config_create(&file, &settings, force),
        Command::DbCreate {
            config,
            user,
            password,
            email,
            repos,
            force_yes,
            force_no,
            public_access: _,
            no_public_access,
        } => {
            let cfg = Config::load(&config)?;
            db_create(
                &cfg,
                &user,
                &password,
                &email,
                &repos,
                force_yes,
                force_no,
                !no_public_access,
            )
            .await
        }
        Command::DbUpgrade { config } => {
            let cfg = Config::load(&config)?;
            let db = connect(&cfg).await?;
            let svc = services(&cfg, db, PathBuf::new());
            let n = setup::upgrade(&svc).await?;
            println!(
                "Database is up to date ({n} migration{} applied).",
                if n == 1 { "" } else { "s" }
            );
            Ok(())
        }
        Command::RepoScan { config } => {
            let cfg = Config::load(&config)?;
            let svc = open_services(&cfg).await?;
            let admin = first_admin(&svc).await?;
            let report = kallithea_core::repo::scan(&svc, &admin).await?;
            print_scan(&report);
            write_missing_graphs(&report);
            Ok(())
        }
        Command::InstallIis {
            config,
            root,
            user_header,
            force,
        } => install_iis(&config, &root, &user_header, force),
        Command::Hook { kind, config } => hook(&kind, &config).await,
    }
}

fn install_iis(config: &Path, root: &str, user_header: &str, force: bool) -> Result<()> {
    let cfg = Config::load(config)?;
    let exe = std::env::current_exe().context("cannot find the kallithea executable")?;
    let text = iis::web_config(&iis::IisSetup {
        executable: &exe,
        config: &cfg,
        user_header,
        root,
    })?;
    let target = std::env::current_dir()?.join("web.config");
    if let Ok(old) = std::fs::read_to_string(&target)
        && !old.contains("Written by `kallithea install-iis`")
        && !force
    {
        bail!(
            "{} exists and was not written by install-iis; move it away or pass --force",
            target.display()
        );
    }
    std::fs::write(&target, text).with_context(|| format!("cannot write {}", target.display()))?;
    // HttpPlatformHandler writes its stdout log here but does not make the folder.
    std::fs::create_dir_all(target.with_file_name("logs"))?;
    println!("{}", target.display());
    for a in iis::advice(&cfg) {
        eprintln!("note: add to [app:main] of {}: {a}", cfg.path.display());
    }
    Ok(())
}

async fn connect(cfg: &Config) -> Result<Db> {
    Db::connect(&cfg.database_url).await.with_context(|| {
        format!(
            "cannot open the database named by sqlalchemy.url in {}",
            cfg.path.display()
        )
    })
}

fn services(cfg: &Config, db: Db, repos: PathBuf) -> Services {
    let hooks = HookInstall {
        executable: std::env::current_exe().unwrap_or_else(|_| PathBuf::from("kallithea")),
        config: cfg.path.clone(),
    };
    let core = CoreConfig {
        session_lifetime: cfg.session_lifetime,
        login_attempts: cfg.login_attempts,
        archive_cache_dir: cfg.archive_cache_dir.clone(),
        mail: cfg.mail.clone(),
        ..CoreConfig::default()
    };
    Services::new(db, repos, hooks, core)
}

async fn open_services(cfg: &Config) -> Result<Services> {
    let db = connect(cfg).await?;
    let probe = services(cfg, db.clone(), PathBuf::new());
    if !setup::is_initialised(&probe).await? {
        bail!(
            "the database is not set up: run `kallithea db-create -c {}`",
            cfg.path.display()
        );
    }
    setup::check_version(&probe).await?;
    let root = setup::repos_root(&db)
        .await?
        .context("the database has no repository folder: run db-create")?;
    let svc = services(cfg, db, PathBuf::from(root));
    kallithea_core::auth::reload(&svc).await?;
    kallithea_core::site::reload(&svc).await?;
    Ok(svc)
}

async fn first_admin(svc: &Services) -> Result<kallithea_core::Actor> {
    let mut tx = svc.db.read().await?;
    let users = kallithea_db_users(&mut tx).await?;
    users
        .into_iter()
        .find(|u| u.admin && u.active)
        .map(|u| kallithea_core::user::actor_of(&u))
        .context("there is no active admin account")
}

async fn kallithea_db_users(
    tx: &mut kallithea_core::user::Tx,
) -> Result<Vec<kallithea_core::user::UserRow>> {
    Ok(kallithea_core::user::list(tx).await?)
}

fn config_create(file: &Path, settings: &[String], force: bool) -> Result<()> {
    if file.exists() && !force {
        bail!(
            "{} already exists; use --force to overwrite it",
            file.display()
        );
    }
    let mut pairs = Vec::new();
    for s in settings {
        let (k, v) = s
            .split_once('=')
            .with_context(|| format!("{s:?} is not key=value"))?;
        let (k, v) = (k.trim(), v.trim());
        if k.is_empty()
            || k.chars().chain(v.chars()).any(char::is_control)
            || k.contains(['[', ']', '=', ' '])
        {
            bail!("{s:?} is not a valid key=value setting (no line breaks or control characters)");
        }
        pairs.push((k.to_owned(), v.to_owned()));
    }
    let text = config::template(&pairs);
    // Write next to the target and check it loads, so a bad value never lands in my.ini.
    let tmp = file.with_extension("ini.new");
    std::fs::write(&tmp, &text).with_context(|| format!("cannot write {}", tmp.display()))?;
    if let Err(e) = Config::load(&tmp) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e.context("the settings given to config-create are not valid"));
    }
    std::fs::rename(&tmp, file).with_context(|| format!("cannot write {}", file.display()))?;
    println!("Wrote {}", file.display());
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn db_create(
    cfg: &Config,
    user: &str,
    password: &str,
    email: &str,
    repos: &Path,
    force_yes: bool,
    force_no: bool,
    public: bool,
) -> Result<()> {
    let account = NewAccount {
        username: user,
        password,
        email,
        firstname: "Kallithea",
        lastname: "Admin",
        admin: true,
        active: true,
    };
    // Check everything before anything is created or deleted.
    kallithea_core::user::validate_new_account(&account)?;
    std::fs::create_dir_all(repos)
        .with_context(|| format!("cannot create the repository folder {}", repos.display()))?;
    let repos = std::fs::canonicalize(repos)?;
    let db = connect(cfg).await?;
    let svc = services(cfg, db, repos.clone());
    if setup::is_initialised(&svc).await? {
        let destroy = if force_yes {
            true
        } else if force_no {
            false
        } else if std::io::stdin().is_terminal() {
            print!("The database already exists. Delete everything in it and start over? [y/N] ");
            std::io::stdout().flush()?;
            let mut answer = String::new();
            std::io::stdin().read_line(&mut answer)?;
            answer.trim().eq_ignore_ascii_case("y")
        } else {
            bail!(
                "the database already exists; pass --force-yes to delete it and start over, or --force-no to keep it"
            );
        };
        if !destroy {
            println!("Kept the existing database.");
            return Ok(());
        }
        setup::destroy(&svc).await?;
    }
    setup::create(&svc, &account, public).await?;
    setup::set_repos_root(&svc, &repos.to_string_lossy()).await?;
    let report = kallithea_core::repo::scan(&svc, &first_admin(&svc).await?).await?;
    println!(
        "Database created; admin account {user:?}; repositories in {}.",
        repos.display()
    );
    print_scan(&report);
    write_missing_graphs(&report);
    Ok(())
}

/// Writes the commit-graphs a scan found missing, saying so first (a big history takes a
/// while): history pages read far less with one.
fn write_missing_graphs(report: &kallithea_core::repo::ScanReport) {
    if report.without_graph.is_empty() {
        return;
    }
    println!(
        "Writing commit-graphs for {} repositor{} (history pages read less with them)...",
        report.without_graph.len(),
        if report.without_graph.len() == 1 {
            "y"
        } else {
            "ies"
        }
    );
    let n = kallithea_core::repo::write_commit_graphs(&report.without_graph);
    println!("{n} written.");
}

fn print_scan(report: &kallithea_core::repo::ScanReport) {
    for n in &report.added {
        println!("added {n}");
    }
    for (path, why) in &report.skipped {
        println!("skipped {path}: {why}");
    }
    let n = report.added.len();
    println!(
        "{n} repositor{} added, {} skipped.",
        if n == 1 { "y" } else { "ies" },
        report.skipped.len()
    );
}

async fn serve(config: Option<PathBuf>, host: Option<String>, port: Option<u16>) -> Result<()> {
    let config_path = match config {
        Some(c) => c,
        None if Path::new("my.ini").exists() => PathBuf::from("my.ini"),
        None => first_run().await?,
    };
    let cfg = Config::load(&config_path)?;
    if let Some(f) = &cfg.log_file {
        logging::to_file(f)?;
    }
    // Read the certificate before anything else, so a bad path stops start-up at once.
    let tls = match &cfg.tls {
        Some((cert, key)) => Some(
            kallithea_web::tls::server_config(cert, key)
                .map_err(|e| anyhow::anyhow!("{e} (tls_certificate / tls_key in my.ini)"))?,
        ),
        None => None,
    };
    let svc = Arc::new(open_services(&cfg).await?);
    let iis_port = match std::env::var("HTTP_PLATFORM_PORT") {
        Ok(p) if !p.trim().is_empty() => Some(p.trim().parse::<u16>().map_err(|_| {
            anyhow::anyhow!("invalid value {p:?} for the environment variable HTTP_PLATFORM_PORT: expected a port number")
        })?),
        _ => None,
    };
    let (host, port) = match (port, iis_port) {
        (Some(p), _) => (host.unwrap_or(cfg.host.clone()), p),
        (None, Some(p)) => (host.unwrap_or_else(|| "127.0.0.1".into()), p),
        (None, None) => (host.unwrap_or(cfg.host.clone()), cfg.port),
    };
    let listener = tokio::net::TcpListener::bind((host.as_str(), port))
        .await
        .with_context(|| format!("cannot listen on {host}:{port}"))?;
    let addr = listener.local_addr()?;
    let purge = svc.clone();
    tokio::spawn(async move {
        loop {
            if let Err(e) = kallithea_core::session::purge_expired(&purge).await {
                tracing::warn!("purging sessions: {e}");
            }
            tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
        }
    });
    let scheme = if tls.is_some() { "https" } else { "http" };
    println!("Serving on {scheme}://{addr}{}/", cfg.prefix);
    std::io::stdout().flush()?;
    let state = kallithea_web::AppState::new(
        svc,
        kallithea_web::WebConfig {
            prefix: cfg.prefix.clone(),
            secure_cookies: cfg.secure_cookies,
            debug: cfg.debug,
            cut_off_limit: cfg.cut_off_limit,
            issue_server_link: cfg.issue_server_link.clone(),
            canonical_url: cfg.canonical_url.clone(),
            proxy: kallithea_web::client::ProxyConfig {
                trusted: cfg.trusted_proxies.clone(),
                secret: cfg.proxy_secret.clone(),
                remote_addr_header: cfg.remote_addr_header.clone(),
                scheme_header: cfg.scheme_header.clone(),
                force_https: cfg.force_https,
                use_hsts: cfg.use_htsts,
                native_tls: tls.is_some(),
            },
        },
    );
    tokio::select! {
        r = kallithea_web::serve(listener, state, tls) => r.context("server stopped")?,
        _ = tokio::signal::ctrl_c() => tracing::info!("stopping"),
    }
    Ok(())
}

/// First start in an empty folder: my.ini, kallithea.db and repos/ here, and an admin account
/// with a generated password, printed once.
async fn first_run() -> Result<PathBuf> {
    let path = PathBuf::from("my.ini");
    config_create(&path, &[], false)?;
    let cfg = Config::load(&path)?;
    let password = kallithea_core::token::random_hex(8);
    db_create(
        &cfg,
        "admin",
        &password,
        "admin@localhost",
        Path::new("repos"),
        false,
        true,
        true,
    )
    .await?;
    println!(
        "Created admin account: user name \"admin\", password \"{password}\" (change it after signing in)."
    );
    Ok(path)
}

async fn hook(kind: &str, config: &Path) -> Result<()> {
    if kind != "post-receive" {
        bail!("unknown hook {kind:?}");
    }
    // Ref names need not be UTF-8; such a name is recorded changed rather than failing the
    // whole record.
    let mut raw = Vec::new();
    std::io::stdin().read_to_end(&mut raw)?;
    let input = String::from_utf8_lossy(&raw);
    let cfg = Config::load(config)?;
    let svc = open_services(&cfg).await?;
    let updates = kallithea_core::hooks::parse_ref_updates(&input);
    let pusher = kallithea_core::hooks::Pusher {
        username: std::env::var(kallithea_core::hooks::ENV_USER).ok(),
        ip: std::env::var(kallithea_core::hooks::ENV_IP).ok(),
    };
    let cwd = std::env::current_dir()?;
    if let Err(e) = kallithea_core::hooks::post_receive(&svc, &cwd, &updates, &pusher).await {
        // The push has already happened; report and carry on.
        eprintln!("Kallithea could not record this push: {e}");
    }
    Ok(())
}
