//! Fresh databases for tests, on SQLite (a temporary file) and on PostgreSQL (a new database on the
//! server named by `TEST_POSTGRES_URL`, dropped afterwards). Used by the conformance suite and by the
//! web and CLI tests, so that no two tests share a database.

use crate::{Result, StoreError};
use sqlx::postgres::PgConnection;
use sqlx::Connection;
use std::path::{Path, PathBuf};

/// Where the PostgreSQL test server is (any database on it; tests create their own).
pub const POSTGRES_URL_VARIABLE: &str = "TEST_POSTGRES_URL";

/// A database that exists for one test.
pub struct TestDatabase {
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    /// Removed with its files when the test ends.
    Directory(#[allow(dead_code)] tempfile::TempDir),
    Postgres {
        admin_url: String,
        name: String,
    },
}

/// The test PostgreSQL URL: required when `CI` is set, so that CI cannot pass with PostgreSQL untested.
pub fn postgres_admin_url() -> Option<String> {
    match std::env::var(POSTGRES_URL_VARIABLE) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => None,
    }
}

/// The URL of database `name` on the server `admin_url` names.
fn database_url(admin_url: &str, name: &str) -> Result<String> {
    let mut url = url::Url::parse(admin_url)
        .map_err(|e| StoreError::InvalidUrl(format!("{POSTGRES_URL_VARIABLE}: {e}")))?;
    url.set_path(name);
    Ok(url.to_string())
}

/// True when the PostgreSQL half of the tests must run (CI), even if the URL is missing.
pub fn postgres_required() -> bool {
    std::env::var("CI")
        .map(|v| !v.is_empty() && v != "false")
        .unwrap_or(false)
}

impl TestDatabase {
    pub async fn sqlite() -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("maillage-test-")
            .tempdir()
            .map_err(|e| StoreError::InvalidUrl(format!("temporary directory: {e}")))?;
        let file: PathBuf = dir.path().join("maillage.db");
        Ok(Self {
            url: format!("sqlite://{}", file.display()),
            cleanup: Cleanup::Directory(dir),
        })
    }

    /// A new empty database on the test server, or `None` when no server is configured (outside CI).
    pub async fn postgres() -> Result<Option<Self>> {
        let Some(admin_url) = postgres_admin_url() else {
            if postgres_required() {
                return Err(StoreError::InvalidUrl(format!(
                    "{POSTGRES_URL_VARIABLE} must be set when CI is set: PostgreSQL tests cannot be skipped"
                )));
            }
            return Ok(None);
        };
        let name = format!("maillage_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(&admin_url).await?;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await?;
        admin.close().await?;
        Ok(Some(Self {
            url: database_url(&admin_url, &name)?,
            cleanup: Cleanup::Postgres { admin_url, name },
        }))
    }

    /// One fresh database per backend available: SQLite always, PostgreSQL when configured.
    pub async fn each_backend() -> Result<Vec<Self>> {
        let mut databases = vec![Self::sqlite().await?];
        if let Some(pg) = Self::postgres().await? {
            databases.push(pg);
        }
        Ok(databases)
    }
}

/// A database prepared once per test process — migrated and seeded (the demo, say) — and copied for each
/// test: SQLite by copying its file, PostgreSQL by `CREATE DATABASE … TEMPLATE`. Seeding once instead of in
/// every test is most of the test suite's time. Templates left by test processes that have ended are removed
/// when the next one is built.
pub struct Template {
    sqlite_file: PathBuf,
    postgres: Option<(String, String)>,
}

const TEMPLATE_PREFIX: &str = "maillage_tmpl_";

fn process_alive(pid: &str) -> bool {
    std::path::Path::new("/proc").join(pid).exists()
}

impl Template {
    /// Builds the template on each available backend with `seed`, which gets a fresh migrated store.
    pub async fn build<F, Fut>(seed: F) -> Result<Self>
    where
        F: Fn(std::sync::Arc<dyn crate::Store>) -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        let pid = std::process::id().to_string();
        Self::remove_stale_files();
        let dir = std::env::temp_dir().join(format!(
            "{TEMPLATE_PREFIX}{pid}_{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir)
            .map_err(|e| StoreError::InvalidUrl(format!("template directory: {e}")))?;
        let sqlite_file = dir.join("maillage.db");
        Self::seed_at(
            &format!("sqlite://{}", dir.join("seed.db").display()),
            &seed,
            Some(&sqlite_file),
        )
        .await?;
        let postgres = match postgres_admin_url() {
            Some(admin_url) => {
                let mut admin = PgConnection::connect(&admin_url).await?;
                Self::remove_stale_databases(&mut admin).await?;
                let name = format!("{TEMPLATE_PREFIX}{pid}_{}", uuid::Uuid::new_v4().simple());
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .await?;
                admin.close().await?;
                Self::seed_at(&database_url(&admin_url, &name)?, &seed, None).await?;
                Some((admin_url, name))
            }
            None if postgres_required() => {
                return Err(StoreError::InvalidUrl(format!(
                    "{POSTGRES_URL_VARIABLE} must be set when CI is set: PostgreSQL tests cannot be skipped"
                )))
            }
            None => None,
        };
        Ok(Self {
            sqlite_file,
            postgres,
        })
    }

    /// Migrates and seeds, then closes every connection: a template must have none when it is copied.
    /// Migrates and seeds `url`; for SQLite, the template is then `snapshot`, a consistent copy made by the
    /// database itself (`VACUUM INTO`): copying the seeded file would miss what its write-ahead log still holds
    /// whenever a connection outlived the seed and the last checkpoint did not run.
    async fn seed_at<F, Fut>(url: &str, seed: &F, snapshot: Option<&Path>) -> Result<()>
    where
        F: Fn(std::sync::Arc<dyn crate::Store>) -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        let store = std::sync::Arc::new(crate::SqlStore::connect(url).await?);
        crate::Store::migrate(store.as_ref()).await?;
        seed(store.clone()).await;
        if let Some(snapshot) = snapshot {
            crate::Store::backup_to(store.as_ref(), snapshot).await?;
        }
        store.close().await;
        Ok(())
    }

    fn remove_stale_files() {
        let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            if let Some(rest) = name.strip_prefix(TEMPLATE_PREFIX) {
                let pid = rest.split('_').next().unwrap_or_default();
                if !process_alive(pid) {
                    let _ = std::fs::remove_dir_all(entry.path());
                }
            }
        }
    }

    async fn remove_stale_databases(admin: &mut PgConnection) -> Result<()> {
        let names: Vec<(String,)> = sqlx::query_as(
            "SELECT datname FROM pg_database WHERE datname LIKE 'maillage\\_tmpl\\_%'",
        )
        .fetch_all(&mut *admin)
        .await?;
        for (name,) in names {
            let pid = name
                .strip_prefix(TEMPLATE_PREFIX)
                .and_then(|rest| rest.split('_').next())
                .unwrap_or_default();
            if !process_alive(pid) {
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
                    .execute(&mut *admin)
                    .await?;
            }
        }
        Ok(())
    }

    /// A copy of the template on each backend, for one test.
    pub async fn each_backend(&self) -> Result<Vec<TestDatabase>> {
        let mut databases = vec![self.copy_on(crate::Backend::Sqlite).await?];
        if self.postgres.is_some() {
            databases.push(self.copy_on(crate::Backend::Postgres).await?);
        }
        Ok(databases)
    }

    /// A copy of the template on one backend (PostgreSQL: an error when the template has none).
    pub async fn copy_on(&self, backend: crate::Backend) -> Result<TestDatabase> {
        match backend {
            crate::Backend::Sqlite => {
                let sqlite = TestDatabase::sqlite().await?;
                let target = sqlite
                    .url
                    .strip_prefix("sqlite://")
                    .map(PathBuf::from)
                    .ok_or_else(|| StoreError::InvalidUrl("SQLite test URL".into()))?;
                std::fs::copy(&self.sqlite_file, &target)
                    .map_err(|e| StoreError::InvalidUrl(format!("copy of the template: {e}")))?;
                Ok(sqlite)
            }
            crate::Backend::Postgres => {
                let Some((admin_url, template)) = &self.postgres else {
                    return Err(StoreError::InvalidUrl(format!(
                        "no PostgreSQL template: {POSTGRES_URL_VARIABLE} is not set"
                    )));
                };
                let name = format!("maillage_test_{}", uuid::Uuid::new_v4().simple());
                let mut admin = PgConnection::connect(admin_url).await?;
                // Two copies of one template at the same instant can be refused ("being accessed by other
                // users") while the other copy reads it: wait and try again, a bounded number of times.
                let mut attempt = 0;
                loop {
                    match sqlx::query(&format!("CREATE DATABASE {name} TEMPLATE {template}"))
                        .execute(&mut admin)
                        .await
                    {
                        Ok(_) => break,
                        Err(e) if attempt < 100 && e.to_string().contains("being accessed") => {
                            attempt += 1;
                            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
                admin.close().await?;
                Ok(TestDatabase {
                    url: database_url(admin_url, &name)?,
                    cleanup: Cleanup::Postgres {
                        admin_url: admin_url.clone(),
                        name,
                    },
                })
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Cleanup::Postgres { admin_url, name } = &self.cleanup {
            let admin_url = admin_url.clone();
            let name = name.clone();
            // Drop runs inside the test's runtime, which cannot be blocked on: use a short-lived one.
            let _ = std::thread::spawn(move || {
                let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                runtime.block_on(async move {
                    if let Ok(mut admin) = PgConnection::connect(&admin_url).await {
                        let _ =
                            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                                .execute(&mut admin)
                                .await;
                    }
                });
            })
            .join();
        }
    }
}

/// Runs `check` once per available backend, each time on a new database, with the store and its URL.
/// Test helper: a database that cannot be created stops the test.
#[allow(clippy::expect_used)]
pub async fn for_each_backend<F, Fut>(check: F)
where
    F: Fn(std::sync::Arc<dyn crate::Store>, String) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let databases = TestDatabase::each_backend().await.expect("test databases");
    run_on(&databases, check).await;
}

/// Like [`for_each_backend`], on fresh copies of `template` instead of empty databases.
#[allow(clippy::expect_used)]
pub async fn for_each_copy<F, Fut>(template: &Template, check: F)
where
    F: Fn(std::sync::Arc<dyn crate::Store>, String) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let databases = template
        .each_backend()
        .await
        .expect("copies of the template");
    run_on(&databases, check).await;
}

#[allow(clippy::expect_used)]
async fn run_on<F, Fut>(databases: &[TestDatabase], check: F)
where
    F: Fn(std::sync::Arc<dyn crate::Store>, String) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for database in databases {
        let store = crate::open(&database.url).await.expect("open store");
        // Shown with a failing test's output: which engine failed.
        eprintln!("-- on {} --", store.backend().name());
        check(store, database.url.clone()).await;
    }
}

/// Makes every later append to the audit trail fail in the database itself (a trigger), to prove that a
/// change whose audit entry cannot be written is refused whole, and that a read shows nothing.
pub async fn refuse_audit_appends(url: &str) {
    if url.starts_with("sqlite:") {
        raw_execute(
            url,
            "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log \
             BEGIN SELECT RAISE(ABORT, 'audit refused by the test'); END",
        )
        .await;
    } else {
        raw_execute(
            url,
            "CREATE FUNCTION refuse_audit() RETURNS trigger AS $$ \
             BEGIN RAISE EXCEPTION 'audit refused by the test'; END $$ LANGUAGE plpgsql",
        )
        .await;
        raw_execute(
            url,
            "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log \
             FOR EACH ROW EXECUTE FUNCTION refuse_audit()",
        )
        .await;
    }
}

/// Lets audit entries be written again after [`refuse_audit_appends`].
pub async fn allow_audit_appends(url: &str) {
    if url.starts_with("sqlite:") {
        raw_execute(url, "DROP TRIGGER refuse_audit").await;
    } else {
        raw_execute(url, "DROP TRIGGER refuse_audit ON audit_log").await;
    }
}

/// Opens a short-lived pool of the URL's engine, evaluates `$body` with it bound to `$pool`, closes it.
macro_rules! on_raw_pool {
    ($url:expr, $pool:ident => $body:expr) => {{
        if $url.starts_with("sqlite:") {
            let $pool = sqlx::SqlitePool::connect($url).await.expect("raw SQLite");
            let value = $body;
            $pool.close().await;
            value
        } else {
            let $pool = sqlx::PgPool::connect($url).await.expect("raw PostgreSQL");
            let value = $body;
            $pool.close().await;
            value
        }
    }};
}

/// Runs raw SQL on a test database, bypassing the store (to tamper with it, or read it as an attacker would).
#[allow(clippy::expect_used)]
pub async fn raw_execute(url: &str, sql: &str) {
    on_raw_pool!(url, pool => {
        sqlx::query(sql).execute(&pool).await.expect("raw SQL");
    })
}

/// Runs a raw `SELECT COUNT(*) …` (or any query of one integer) on a test database, bypassing the store.
#[allow(clippy::expect_used)]
pub async fn raw_count(url: &str, sql: &str) -> i64 {
    on_raw_pool!(url, pool => sqlx::query_scalar(sql).fetch_one(&pool).await.expect("raw SQL"))
}

/// A CPTS named after its slug, for tests.
#[allow(clippy::expect_used)]
pub async fn make_cpts(store: &dyn crate::Store, slug: &str) -> crate::Cpts {
    store
        .create_cpts(
            &crate::NewCpts {
                slug: slug.into(),
                name: format!("CPTS {slug}"),
                finess: None,
                siret: None,
            },
            0,
        )
        .await
        .expect("create CPTS")
}

/// An account with a placeholder password hash, for tests.
#[allow(clippy::expect_used)]
pub async fn make_user(store: &dyn crate::Store, email: &str) -> crate::User {
    store
        .create_user(
            &crate::NewUser {
                email: email.into(),
                display_name: "Camille Exemple".into(),
                password_hash: "$argon2id$fictitious".into(),
                is_platform_admin: false,
            },
            None,
            0,
        )
        .await
        .expect("create user")
}

/// An audit entry for store tests that call a write method directly (the platform's chain).
pub fn audit_entry() -> crate::NewAuditEntry {
    crate::NewAuditEntry {
        at: 0,
        cpts_id: None,
        actor_id: None,
        actor: "test".into(),
        action: "test".into(),
        target_kind: "test".into(),
        target_id: String::new(),
        detail: "{}".into(),
        purpose: String::new(),
        ip: "local".into(),
        request_id: String::new(),
    }
}

/// A CPTS id no row has, for tests that check a refusal (the only way outside the store to make one up).
pub fn made_up_cpts_id() -> crate::CptsId {
    crate::CptsId::new()
}

/// Every byte the database holds, as someone with a copy of it would read it: the SQLite file with its
/// write-ahead log, or every row of every table of PostgreSQL as JSON.
#[allow(clippy::unwrap_used)]
pub async fn raw_database(url: &str) -> String {
    if url.starts_with("sqlite:") {
        let path = url
            .trim_start_matches("sqlite://")
            .split('?')
            .next()
            .unwrap_or_default()
            .to_string();
        let mut bytes = std::fs::read(&path).unwrap_or_default();
        bytes.extend(std::fs::read(format!("{path}-wal")).unwrap_or_default());
        return String::from_utf8_lossy(&bytes).into_owned();
    }
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let mut dump = String::new();
    for table in tables {
        let rows: Vec<String> =
            sqlx::query_scalar(&format!("SELECT row_to_json(t)::text FROM \"{table}\" t"))
                .fetch_all(&pool)
                .await
                .unwrap();
        dump.push_str(&rows.concat());
    }
    pool.close().await;
    dump
}
