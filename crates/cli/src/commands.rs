use crate::cli::{
    AuditCommand, Cli, Command, ConfigCommand, DemoArgs, ImportCommand, KeysCommand, LogFormatArg,
    RoleArg, TerritoryCommand, TokenCommand, UserCommand,
};
use maillage_app::accounts::{random_token, AccountRequest, Accounts};
use maillage_app::audit::{self, AuditContext, AuditEvent};
use maillage_app::clock::now_ms;
use maillage_app::config::{self, redacted_url, Config, LogFormat, Override, Value};
use maillage_app::crypto::{generate_key, Keyring};
use maillage_app::demo;
use maillage_app::imports::{audit_import, run_import, ImportKind};
use maillage_app::jobs::{spawn_maintenance, JobRunner};
use maillage_app::mail::{EmailJob, Mailer, EMAIL_JOB};
use maillage_domain::audit::AuditAction;
use maillage_domain::authz::Role;
use maillage_store::{Page, Store};
use std::process::ExitCode;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;

pub(crate) type AnyError = Box<dyn std::error::Error + Send + Sync>;

fn text(value: &str) -> Value {
    Value::from(value.to_string())
}

/// Command-line flags as the last configuration layer.
fn overrides(cli: &Cli) -> Vec<Override> {
    let mut layer = Vec::new();
    if let Some(url) = &cli.database_url {
        layer.push(("database.url".to_string(), text(url)));
    }
    if let Some(format) = cli.log_format {
        let name = match format {
            LogFormatArg::Text => "text",
            LogFormatArg::Json => "json",
        };
        layer.push(("log.format".to_string(), text(name)));
    }
    let bind = match &cli.command {
        Command::Serve(args) => args.bind.as_ref(),
        Command::Demo(args) => args.bind.as_ref(),
        _ => None,
    };
    if let Some(bind) = bind {
        layer.push(("server.bind".to_string(), text(bind)));
    }
    layer
}

/// `--bind` without a public address in the configuration: the address users reach is the one bound (links in
/// e-mails, the accepted `Host`, cookies), not the default port.
fn follow_bind_with_public_url(cli: &Cli, config: &mut Config) {
    let bound = match &cli.command {
        Command::Serve(args) => args.bind.is_some(),
        Command::Demo(args) => args.bind.is_some(),
        _ => false,
    };
    if bound && config.server.public_url == config::ServerConfig::default().public_url {
        config.server.public_url = format!(
            "http://{}",
            config.server.bind.replace("0.0.0.0", "127.0.0.1")
        );
    }
}

fn init_logs(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log.level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match config.log.format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

pub async fn run(cli: Cli) -> Result<ExitCode, AnyError> {
    let mut layer = overrides(&cli);
    if let Command::Demo(args) = &cli.command {
        if cli.database_url.is_none() {
            let file = args.data_dir.join("demo.db");
            layer.insert(
                0,
                (
                    "database.url".into(),
                    text(&format!("sqlite://{}", file.display())),
                ),
            );
        }
    }
    let mut config = Config::load(cli.config.as_deref(), std::env::vars(), &layer)?;
    follow_bind_with_public_url(&cli, &mut config);
    if let Command::Demo(args) = &cli.command {
        // The demo's keys apply only where the configuration names none.
        let (data_key, index_key, audit_key) = demo_keys(&args.data_dir)?;
        if config.security.data_keys.expose().is_empty() {
            config.security.data_keys = data_key.into();
        }
        if config.security.blind_index_key.expose().is_empty() {
            config.security.blind_index_key = index_key.into();
        }
        if config.security.audit_keys.expose().is_empty() {
            config.security.audit_keys = audit_key.into();
        }
        // The demo's outbox stands in for the fictitious people's mailboxes: its links are shown.
        config.smtp.outbox_shows_links = true;
    }
    match cli.command {
        Command::Config(ConfigCommand::Default) => {
            print!("{}", config::default_toml());
            Ok(ExitCode::SUCCESS)
        }
        Command::Config(ConfigCommand::Show) => {
            println!("{config:#?}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Healthcheck { url } => healthcheck(&config, url).await,
        Command::Audit(AuditCommand::Verify { checkpoint }) => {
            crate::security::verify_audit(&config, checkpoint.as_deref()).await
        }
        Command::Audit(AuditCommand::Checkpoint { out }) => {
            crate::security::write_checkpoint(&config, out.as_deref()).await
        }
        Command::Keys(KeysCommand::Generate) => {
            let id = format!("k{}", &random_token()[..8]);
            println!("# Add to maillage.toml, [security] section (or to the files named by MAILLAGE_SECURITY__…_FILE):");
            println!("data_keys = \"{id}:{}\"", generate_key());
            println!("blind_index_key = \"{}\"", generate_key());
            println!(
                "audit_keys = \"a{}:{}\"",
                &random_token()[..8],
                generate_key()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Keys(KeysCommand::Rotate) => crate::security::rotate_keys(&config).await,
        Command::Territory(command) => Ok(territory(&config, command)),
        Command::Match { input, json } => Ok(run_match(&input, json)),
        Command::Pathway(command) => Ok(crate::pathways::pathway_command(command)),
        Command::Instrument(command) => Ok(crate::pathways::instrument_command(command)),
        Command::Import(ImportCommand::Directory { cpts, file }) => {
            import_file(&config, ImportKind::Directory, &cpts, &file).await
        }
        Command::Import(ImportCommand::Finess { cpts, file }) => {
            import_file(&config, ImportKind::Finess, &cpts, &file).await
        }
        Command::Import(ImportCommand::Members { cpts, file }) => {
            import_file(&config, ImportKind::Members, &cpts, &file).await
        }
        Command::Token(command) => token_command(&config, command).await,
        Command::SasClient(command) => {
            crate::sas_clients::sas_client_command(&config, command).await
        }
        Command::Migrate => {
            init_logs(&config);
            let store = open_store(&config).await?;
            println!(
                "Migrations applied to {} ({})",
                redacted_url(config.database.url.expose()),
                store.backend().name()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve(_) => {
            init_logs(&config);
            serve(config).await
        }
        Command::Demo(args) => {
            init_logs(&config);
            run_demo(config, args).await
        }
        Command::User(command) => user(&config, command).await,
        Command::Backup { file } => {
            let store = open_store(&config).await?;
            match store.backup_to(&file).await {
                Ok(()) => {
                    println!("Backup written to {}", file.display());
                    Ok(ExitCode::SUCCESS)
                }
                Err(maillage_store::StoreError::Unsupported(how)) => {
                    eprintln!("{how}");
                    Ok(ExitCode::from(2))
                }
                Err(error) => Err(error.into()),
            }
        }
    }
}

/// The database, its audit entries chained with the configured audit keys.
pub(crate) async fn open_store(config: &Config) -> Result<Arc<dyn Store>, AnyError> {
    Ok(maillage_store::open_with(config.database.url.expose(), config.audit_keys()?).await?)
}

fn keyring(config: &Config) -> Result<Arc<Keyring>, AnyError> {
    Ok(Arc::new(Keyring::from_config(
        config.security.data_keys.expose(),
        config.security.blind_index_key.expose(),
    )?))
}

pub(crate) async fn open(config: &Config) -> Result<(Arc<dyn Store>, Accounts), AnyError> {
    let keyring = keyring(config)?;
    let store = open_store(config).await?;
    let accounts = Accounts::new(store.clone(), config.security.clone(), keyring)?;
    Ok((store, accounts))
}

/// The demo's own keys (data, blind index, audit chain), made on first run and kept beside its database
/// (never inside it). A demo directory from before audit keys gets one added.
fn demo_keys(data_dir: &std::path::Path) -> Result<(String, String, String), AnyError> {
    std::fs::create_dir_all(data_dir)
        .map_err(|e| format!("cannot create {}: {e}", data_dir.display()))?;
    let file = data_dir.join("demo-keys");
    if !file.exists() {
        let content = format!("demo:{}\n{}\n", generate_key(), generate_key());
        std::fs::write(&file, content)
            .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600));
    }
    let mut content = std::fs::read_to_string(&file)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    if content.lines().count() == 2 {
        content.push_str(&format!("demo-audit:{}\n", generate_key()));
        std::fs::write(&file, &content)
            .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
    }
    let mut lines = content.lines();
    match (lines.next(), lines.next(), lines.next()) {
        (Some(data), Some(index), Some(audit)) => {
            Ok((data.to_string(), index.to_string(), audit.to_string()))
        }
        _ => Err(format!(
            "{} is damaged: delete it together with demo.db",
            file.display()
        )
        .into()),
    }
}

async fn serve(config: Config) -> Result<ExitCode, AnyError> {
    let (store, accounts) = open(&config).await?;
    serve_with(config, store, accounts).await
}

async fn serve_with(
    config: Config,
    store: Arc<dyn Store>,
    accounts: Accounts,
) -> Result<ExitCode, AnyError> {
    let mailer = Arc::new(Mailer::from_config(&config.smtp)?);
    if mailer.uses_outbox() {
        tracing::info!(
            "no SMTP server configured: e-mails go to the outbox (Administration → Courriels)"
        );
    }
    if config.security.audit_keys.expose().trim().is_empty() {
        tracing::warn!(
            "security.audit_keys is empty: the audit chain uses plain hashes, which anyone able to write to the \
             database could recompute; generate a key with `maillage keys generate`"
        );
    }
    let (stop, stopped) = watch::channel(false);
    let mut runner = JobRunner::new(
        store.clone(),
        accounts.keyring().clone(),
        config.jobs.clone(),
    );
    runner.register(
        EMAIL_JOB,
        Arc::new(EmailJob {
            mailer,
            store: store.clone(),
            keyring: accounts.keyring().clone(),
        }),
    );
    let missions = maillage_app::missions::Missions::from_config(
        store.clone(),
        accounts.keyring().clone(),
        &config,
    );
    for (kind, handler) in missions.job_handlers(&config) {
        runner.register(kind, handler);
    }
    let holder = runner.worker_id().to_string();
    let mut tasks = runner.spawn(stopped.clone());
    tasks.push(spawn_maintenance(
        accounts.clone(),
        missions.clone(),
        store.clone(),
        maillage_app::jobs::Retention::from_config(&config),
        maillage_app::audit_checkpoint::Checkpointer::from_config(&config)?,
        holder,
        stopped,
    ));

    let listener = tokio::net::TcpListener::bind(&config.server.bind)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.server.bind))?;
    let address = listener.local_addr()?;
    tracing::info!(
        %address,
        database = %redacted_url(config.database.url.expose()),
        backend = store.backend().name(),
        workers = config.jobs.workers,
        tls = !config.server.tls_certificate.is_empty(),
        "Maillage is serving"
    );
    let server = &config.server;
    let tls = maillage_app::config::server_tls(
        &server.tls_certificate,
        &server.tls_key,
        &server.tls_client_ca,
    )?;
    let app = maillage_web::app(maillage_web::AppState::with_missions(
        store,
        accounts,
        Arc::new(config),
        missions,
    ));
    match tls {
        // TLS terminated here: the SAS's client certificate is verified in the handshake.
        Some(tls) => maillage_web::tls::serve_tls(listener, tls, app, shutdown_signal()).await?,
        None => {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .with_graceful_shutdown(shutdown_signal())
            .await?
        }
    }
    let _ = stop.send(true);
    for task in tasks {
        let _ = task.await;
    }
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(_) => {
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

async fn run_demo(config: Config, args: DemoArgs) -> Result<ExitCode, AnyError> {
    std::fs::create_dir_all(&args.data_dir)
        .map_err(|e| format!("cannot create {}: {e}", args.data_dir.display()))?;
    let (store, accounts) = open(&config).await?;
    let created = demo::seed(&store, &accounts).await?;
    let url = format!("http://{}", config.server.bind);
    println!();
    println!(
        "Maillage — demo {} ({})",
        if created {
            "created"
        } else {
            "already present"
        },
        redacted_url(config.database.url.expose())
    );
    println!("Open {url} and sign in with one of these fictitious accounts:");
    for login in &demo::DEMO_LOGINS {
        println!("  {:<30} {}", login.email, login.what);
    }
    println!("Password for every demo account: {}", demo::DEMO_PASSWORD);
    println!("E-mails are kept in the outbox (admin@maillage.test → Administration → Courriels).");
    println!();
    serve_with(config, store, accounts).await
}

fn role_of(arg: RoleArg) -> Role {
    match arg {
        RoleArg::Coordinator => Role::Coordinator,
        RoleArg::Secretary => Role::Secretary,
        RoleArg::Member => Role::Member,
        RoleArg::Partner => Role::Partner,
    }
}

async fn user(config: &Config, command: UserCommand) -> Result<ExitCode, AnyError> {
    let (store, accounts) = open(config).await?;
    match command {
        UserCommand::Create {
            email,
            name,
            platform_admin,
            cpts,
            role,
            password_file,
        } => {
            let role = match (cpts, role) {
                (Some(slug), Some(role)) => {
                    let cpts = store
                        .find_cpts_by_slug(&slug)
                        .await?
                        .ok_or_else(|| format!("no CPTS with the identifier {slug}"))?;
                    Some((cpts.id, role_of(role)))
                }
                _ => None,
            };
            let (password, generated) = match password_file {
                Some(path) => {
                    let content = std::fs::read_to_string(&path)
                        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                    (content.trim_end_matches(['\r', '\n']).to_string(), false)
                }
                None => (random_token()[..24].to_string(), true),
            };
            let user = accounts
                .create(
                    AccountRequest {
                        email: &email,
                        display_name: &name,
                        password: &password,
                        is_platform_admin: platform_admin,
                        role,
                    },
                    now_ms(),
                )
                .await?;
            audit::record(
                store.as_ref(),
                &AuditContext::command_line(),
                AuditEvent::new(AuditAction::UserCreated, "user", user.id.to_string())
                    .detail(serde_json::json!({ "platform_admin": platform_admin, "role": role.map(|(_, r)| r.code()) })),
            )
            .await?;
            println!("Account created: {} ({})", user.email, user.id);
            if generated {
                println!("Password (shown once, give it to the person by a separate channel): {password}");
            }
        }
        UserCommand::List { page } => {
            for user in store.list_users(Page::new(page, 100)).await? {
                println!(
                    "{}\t{}\t{}{}",
                    user.email,
                    user.display_name,
                    if user.is_platform_admin {
                        "platform-admin"
                    } else {
                        "-"
                    },
                    if user.disabled { "\tdisabled" } else { "" }
                );
            }
        }
        UserCommand::Disable { email } => {
            let user = find_user(store.as_ref(), &email).await?;
            store.set_user_disabled(user.id, true).await?;
            let ended = accounts.logout_everywhere(user.id).await?;
            println!(
                "Account disabled: {} ({ended} session(s) ended)",
                user.email
            );
        }
        UserCommand::Enable { email } => {
            let user = find_user(store.as_ref(), &email).await?;
            store.set_user_disabled(user.id, false).await?;
            audit::record(
                store.as_ref(),
                &AuditContext::command_line(),
                AuditEvent::new(AuditAction::UserEnabled, "user", user.id.to_string()),
            )
            .await?;
            println!("Account enabled: {}", user.email);
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn find_user(store: &dyn Store, email: &str) -> Result<maillage_store::User, AnyError> {
    let email = maillage_domain::identifiers::Email::parse(email)?;
    Ok(store
        .find_user_by_email(email.as_str())
        .await?
        .ok_or_else(|| format!("no account with the e-mail {email}"))?)
}

/// GET /healthz over plain HTTP on loopback; no HTTP client library needed for one request.
async fn healthcheck(config: &Config, url: Option<String>) -> Result<ExitCode, AnyError> {
    let base = url.unwrap_or_else(|| {
        format!(
            "http://{}",
            config.server.bind.replace("0.0.0.0", "127.0.0.1")
        )
    });
    let parsed = url::Url::parse(&base).map_err(|e| format!("invalid URL {base}: {e}"))?;
    if parsed.scheme() != "http" {
        return Err("healthcheck speaks plain HTTP to the local server only (http://…)".into());
    }
    let host = parsed.host_str().ok_or("URL without host")?.to_string();
    let port = parsed.port_or_known_default().unwrap_or(80);
    let request = async {
        let mut stream = tokio::net::TcpStream::connect((host.as_str(), port)).await?;
        stream
            .write_all(
                format!("GET /healthz HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n")
                    .as_bytes(),
            )
            .await?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await?;
        Ok::<String, std::io::Error>(answer)
    };
    let answer = tokio::time::timeout(std::time::Duration::from_secs(10), request)
        .await
        .map_err(|_| "no answer within 10 s")??;
    if answer.starts_with("HTTP/1.1 200") && answer.contains("\"status\":\"ok\"") {
        println!("ok");
        Ok(ExitCode::SUCCESS)
    } else {
        let status = answer.lines().next().unwrap_or("no answer");
        eprintln!("unhealthy: {status}");
        Ok(ExitCode::FAILURE)
    }
}

fn thousands(value: u64) -> String {
    maillage_domain::text::group_thousands(value, ' ')
}

fn territory(config: &Config, command: TerritoryCommand) -> ExitCode {
    use maillage_domain::territory::{population_of, search};
    match command {
        TerritoryCommand::Population { codes, json } => {
            let report = population_of(&codes, &config.territory.size_thresholds);
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&report).unwrap_or_default()
                );
            } else {
                println!("Communes found ({}):", report.communes.len());
                for commune in &report.communes {
                    println!(
                        "  {}  {:<36} {:>10}",
                        commune.code,
                        commune.name,
                        thousands(commune.population)
                    );
                }
                if !report.unknown.is_empty() {
                    println!("Codes not found ({}):", report.unknown.len());
                    for unknown in &report.unknown {
                        println!("  {}  {}", unknown.code, unknown.reason);
                    }
                }
                println!("Population: {}", thousands(report.population));
                println!("ACI size category: {}", report.size_category.number());
            }
            if report.unknown.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        TerritoryCommand::Search { query, limit } => {
            let found = search(&query, limit.min(200));
            for commune in &found {
                println!(
                    "{}  {:<36} {:<24} {:>10}",
                    commune.code,
                    commune.name,
                    commune.postal_codes.join(" "),
                    thousands(commune.population)
                );
            }
            if found.is_empty() {
                eprintln!("no commune matches « {query} »");
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
    }
}

async fn token_command(config: &Config, command: TokenCommand) -> Result<ExitCode, AnyError> {
    use maillage_app::tokens;
    let store = open_store(config).await?;
    let find = |slug: String| {
        let store = store.clone();
        async move {
            store
                .find_cpts_by_slug(&slug)
                .await?
                .ok_or_else(|| AnyError::from(format!("no CPTS with the identifier {slug}")))
        }
    };
    match command {
        TokenCommand::Create { cpts, scope, name } => {
            let cpts = find(cpts).await?;
            if scope != tokens::FHIR_SCOPE {
                eprintln!("scope {scope}: only {} is issued here (calendar addresses come from the professional's page)", tokens::FHIR_SCOPE);
                return Ok(ExitCode::from(2));
            }
            let caller = maillage_app::caller::Caller::command_line(cpts.id);
            match tokens::issue(store.as_ref(), &caller, &name, &scope, None).await {
                Ok(secret) => {
                    eprintln!(
                        "Token issued for {} ({scope}); it is shown once:",
                        cpts.name
                    );
                    println!("{secret}");
                    Ok(ExitCode::SUCCESS)
                }
                Err(tokens::TokenError::Refused(message)) => {
                    eprintln!("{message}");
                    Ok(ExitCode::from(2))
                }
                Err(e) => Err(e.to_string().into()),
            }
        }
        TokenCommand::List { cpts, scope } => {
            let cpts = find(cpts).await?;
            for t in store
                .list_tokens(cpts.id, &scope, maillage_store::Page::first(1000))
                .await?
            {
                println!(
                    "{}\t{}\t{}\t{}",
                    t.id,
                    t.name,
                    maillage_app::clock::date_text(t.created_at),
                    match t.revoked_at {
                        Some(at) => format!("revoked {}", maillage_app::clock::date_text(at)),
                        None => "live".into(),
                    }
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        TokenCommand::Revoke { cpts, id } => {
            let cpts = find(cpts).await?;
            let caller = maillage_app::caller::Caller::command_line(cpts.id);
            match tokens::revoke(store.as_ref(), &caller, id).await {
                Ok(true) => {
                    println!("Token {id} revoked");
                    Ok(ExitCode::SUCCESS)
                }
                Ok(false) | Err(tokens::TokenError::NotAllowed) => {
                    eprintln!("no live token {id} in {}", cpts.name);
                    Ok(ExitCode::FAILURE)
                }
                Err(e) => Err(e.to_string().into()),
            }
        }
    }
}

async fn import_file(
    config: &Config,
    kind: ImportKind,
    slug: &str,
    file: &std::path::Path,
) -> Result<ExitCode, AnyError> {
    let store = open_store(config).await?;
    let cpts = store
        .find_cpts_by_slug(slug)
        .await?
        .ok_or_else(|| format!("no CPTS with the identifier {slug}"))?;
    let opened = tokio::fs::File::open(file)
        .await
        .map_err(|e| format!("cannot open {}: {e}", file.display()))?;
    let size = opened.metadata().await.map(|m| m.len()).unwrap_or(0).max(1);
    let reader = tokio::io::BufReader::with_capacity(1 << 20, opened);
    let started = std::time::Instant::now();
    let mut last_shown = 0;
    let report = run_import(store.as_ref(), cpts.id, kind, reader, |bytes| {
        let percent = bytes.saturating_mul(100) / size;
        if percent >= last_shown + 5 || bytes == size {
            last_shown = percent;
            eprintln!(
                "  {percent:>3} %  ({} MB of {} MB)",
                bytes / 1_000_000,
                size / 1_000_000
            );
        }
    })
    .await?;
    audit_import(
        store.as_ref(),
        &AuditContext::command_line().in_cpts(cpts.id),
        kind,
        &file.display().to_string(),
        &report,
    )
    .await?;
    let seconds = started.elapsed().as_secs_f64().max(0.001);
    println!("Import into {} from {}", cpts.name, file.display());
    println!(
        "  lines read: {} ({:.0} lines/s); rows on the territory: {}; elsewhere: {}",
        thousands(report.lines),
        report.lines as f64 / seconds,
        thousands(report.rows_on_territory),
        thousands(report.rows_elsewhere)
    );
    println!(
        "  records: {} created, {} updated, {} unchanged",
        thousands(report.created),
        thousands(report.updated),
        thousands(report.unchanged)
    );
    println!("  rejected lines: {}", thousands(report.rejected_total));
    for problem in report.rejected.iter().take(20) {
        println!(
            "    line {}: {} : {}",
            problem.line, problem.field, problem.message
        );
    }
    if report.warnings_total > 0 {
        println!("  warnings: {}", thousands(report.warnings_total));
        for problem in report.warnings.iter().take(5) {
            println!("    line {}: {}", problem.line, problem.message);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn run_match(input: &std::path::Path, json: bool) -> ExitCode {
    let text = match std::fs::read_to_string(input) {
        Ok(text) => text,
        Err(error) => {
            let why = match error.kind() {
                std::io::ErrorKind::NotFound => "fichier introuvable".to_string(),
                std::io::ErrorKind::PermissionDenied => "accès refusé".to_string(),
                std::io::ErrorKind::InvalidData => {
                    "le fichier n'est pas du texte UTF-8".to_string()
                }
                _ => error.to_string(),
            };
            eprintln!("impossible de lire {} : {why}", input.display());
            return ExitCode::from(2);
        }
    };
    let solution = match maillage_app::matching::solve_json(&text) {
        Ok(solution) => solution,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    if json {
        match serde_json::to_string_pretty(&solution) {
            Ok(text) => println!("{text}"),
            Err(error) => {
                eprintln!("{error}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        for a in &solution.assignments {
            println!("{} -> {} ({:.1} km)", a.request, a.doctor, a.distance_km);
        }
        if !solution.unassigned.is_empty() {
            println!("unassigned: {}", solution.unassigned.join(", "));
        }
        println!(
            "total weight {}, total distance {:.1} km, {} assigned, {} unassigned",
            solution.total_weight,
            solution.total_distance_km,
            solution.assignments.len(),
            solution.unassigned.len()
        );
    }
    ExitCode::SUCCESS
}
