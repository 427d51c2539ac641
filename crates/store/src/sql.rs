//! The one SQL implementation of [`Store`], shared by SQLite and PostgreSQL.
//!
//! Both drivers accept the same SQL for nearly everything (`$1` parameters, `RETURNING`,
//! `ON CONFLICT`), so each query is written once and run on whichever pool is open. Where the engines
//! differ (opening, migrations, backups, row locking of the job queue) the code says so in
//! `sqlite.rs`, `postgres.rs` or an explicit `match` below.

use crate::models::*;
use crate::{postgres, sqlite, Backend, Result, Store, StoreError};
use async_trait::async_trait;
use maillage_domain::authz::Role;
use sqlx::postgres::PgPool;
use sqlx::sqlite::SqlitePool;
use sqlx::FromRow;
use std::path::Path;
use uuid::Uuid;

pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Opens a transaction that is going to write. SQLite's default (deferred) transaction takes the write lock
/// only at its first write; when another connection has committed since the transaction's first read, that
/// write fails at once with SQLITE_BUSY_SNAPSHOT, without waiting for the busy timeout. Taking the lock up
/// front (`BEGIN IMMEDIATE`) makes concurrent writers wait their turn instead. PostgreSQL locks rows.
pub(crate) trait BeginWrite {
    type Db: sqlx::Database;
    fn begin_write(
        &self,
    ) -> impl std::future::Future<Output = sqlx::Result<sqlx::Transaction<'static, Self::Db>>> + Send;
}

impl BeginWrite for SqlitePool {
    type Db = sqlx::Sqlite;
    async fn begin_write(&self) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
        self.begin_with("BEGIN IMMEDIATE").await
    }
}

impl BeginWrite for PgPool {
    type Db = sqlx::Postgres;
    async fn begin_write(&self) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Postgres>> {
        self.begin().await
    }
}

/// Runs the same expression on whichever pool is open; `$pool` is bound to the concrete pool.
/// A new job, due at `run_at` (`$1` id … `$7` created_at); also written inside a delivery's transaction.
pub(crate) const INSERT_JOB: &str =
    "INSERT INTO jobs (id, cpts_id, kind, payload, status, attempts, max_attempts, \
    run_at, created_at) VALUES ($1, $2, $3, $4, 'queued', 0, $5, $6, $7)";

macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.pool {
            $crate::sql::Pool::Sqlite($pool) => $body,
            $crate::sql::Pool::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

/// A value for a query whose conditions are assembled at run time (filters, searches).
pub(crate) enum SqlArg {
    I64(i64),
    OptionalI64(Option<i64>),
    Text(String),
    Uuid(Uuid),
}

/// Binds every [`SqlArg`] in order on a query of the concrete pool's type.
macro_rules! bind_args {
    ($query:expr, $args:expr) => {{
        let mut query = $query;
        for arg in $args {
            query = match arg {
                $crate::sql::SqlArg::I64(value) => query.bind(*value),
                $crate::sql::SqlArg::OptionalI64(value) => query.bind(*value),
                $crate::sql::SqlArg::Text(value) => query.bind(value.as_str()),
                $crate::sql::SqlArg::Uuid(value) => query.bind(*value),
            };
        }
        query
    }};
}
pub(crate) use bind_args;

pub struct SqlStore {
    pub(crate) pool: Pool,
    /// The audit chain's MAC keys (from the configuration, never stored).
    pub(crate) audit_keys: maillage_domain::audit::AuditKeys,
}

impl SqlStore {
    pub async fn connect(url: &str) -> Result<Self> {
        let pool = if url.starts_with("sqlite:") {
            Pool::Sqlite(sqlite::connect(url).await?)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Pool::Postgres(postgres::connect(url).await?)
        } else {
            return Err(StoreError::InvalidUrl(
                "the database URL must start with sqlite:// or postgres://".into(),
            ));
        };
        Ok(Self {
            pool,
            audit_keys: Default::default(),
        })
    }

    /// The same store, chaining new audit entries with these keys' MAC.
    pub fn with_audit_keys(mut self, keys: maillage_domain::audit::AuditKeys) -> Self {
        self.audit_keys = keys;
        self
    }

    pub async fn close(&self) {
        on_pool!(self, pool => pool.close().await)
    }
}

#[derive(FromRow)]
struct CptsRow {
    id: Uuid,
    slug: String,
    name: String,
    finess: Option<String>,
    siret: Option<String>,
    mfa_required: bool,
    contact_phone: String,
    created_at: i64,
}

impl From<CptsRow> for Cpts {
    fn from(row: CptsRow) -> Self {
        Cpts {
            id: CptsId(row.id),
            slug: row.slug,
            name: row.name,
            finess: row.finess,
            siret: row.siret,
            mfa_required: row.mfa_required,
            contact_phone: row.contact_phone,
            created_at: row.created_at,
        }
    }
}

const CPTS_COLUMNS: &str = "id, slug, name, finess, siret, mfa_required, contact_phone, created_at";

#[derive(FromRow)]
struct UserRow {
    id: Uuid,
    email: String,
    display_name: String,
    password_hash: String,
    is_platform_admin: bool,
    disabled: bool,
    created_at: i64,
    totp_secret: Option<Vec<u8>>,
    totp_enabled: bool,
}

impl From<UserRow> for User {
    fn from(row: UserRow) -> Self {
        User {
            id: UserId(row.id),
            email: row.email,
            display_name: row.display_name,
            password_hash: row.password_hash,
            is_platform_admin: row.is_platform_admin,
            disabled: row.disabled,
            created_at: row.created_at,
            totp_secret: row.totp_secret,
            totp_enabled: row.totp_enabled,
        }
    }
}

/// Gives `$2` the role `$3` in CPTS `$1` (the one it had there, replaced), at `$4`.
pub(crate) const GRANT_ROLE: &str =
    "INSERT INTO memberships (cpts_id, user_id, role, created_at) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (cpts_id, user_id) DO UPDATE SET role = excluded.role, suspended_at = NULL";

const USER_COLUMNS: &str =
    "id, email, display_name, password_hash, is_platform_admin, disabled, created_at, \
                            totp_secret, totp_enabled";

#[derive(FromRow)]
struct SessionRow {
    token_hash: String,
    user_id: Uuid,
    csrf_token: String,
    created_at: i64,
    last_seen_at: i64,
    expires_at: i64,
}

impl From<SessionRow> for SessionRecord {
    fn from(row: SessionRow) -> Self {
        SessionRecord {
            token_hash: row.token_hash,
            user_id: UserId(row.user_id),
            csrf_token: row.csrf_token,
            created_at: row.created_at,
            last_seen_at: row.last_seen_at,
            expires_at: row.expires_at,
        }
    }
}

#[derive(FromRow)]
struct JobRow {
    id: Uuid,
    cpts_id: Option<Uuid>,
    kind: String,
    payload: String,
    status: String,
    attempts: i64,
    max_attempts: i64,
    run_at: i64,
    locked_by: Option<String>,
    last_error: Option<String>,
    finished_at: Option<i64>,
}

impl TryFrom<JobRow> for Job {
    type Error = StoreError;
    fn try_from(row: JobRow) -> Result<Self> {
        Ok(Job {
            id: JobId(row.id),
            cpts_id: row.cpts_id.map(CptsId),
            kind: row.kind,
            payload: row.payload,
            status: JobStatus::parse(&row.status)
                .ok_or_else(|| StoreError::Corrupt(format!("job status {}", row.status)))?,
            attempts: row.attempts,
            max_attempts: row.max_attempts,
            run_at: row.run_at,
            locked_by: row.locked_by,
            last_error: row.last_error,
            finished_at: row.finished_at,
        })
    }
}

const JOB_COLUMNS: &str =
    "id, cpts_id, kind, payload, status, attempts, max_attempts, run_at, locked_by, last_error, finished_at";

fn parse_role(code: &str) -> Result<Role> {
    Role::parse(code).ok_or_else(|| StoreError::Corrupt(format!("role {code}")))
}

/// How precisely a session's last activity is recorded (its idle expiry is counted in minutes).
const SESSION_TOUCH_PRECISION_MS: i64 = 60_000;

#[async_trait]
impl Store for SqlStore {
    fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    async fn ping(&self) -> Result<()> {
        on_pool!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(|_| ()))?;
        Ok(())
    }

    async fn migrate(&self) -> Result<()> {
        match &self.pool {
            Pool::Sqlite(pool) => sqlite::migrate(pool).await?,
            Pool::Postgres(pool) => postgres::migrate(pool).await?,
        }
        self.upgrade_legacy_audit().await
    }

    async fn backup_to(&self, path: &Path) -> Result<()> {
        match &self.pool {
            Pool::Sqlite(pool) => sqlite::backup(pool, path).await,
            Pool::Postgres(_) => Err(StoreError::Unsupported(
                "PostgreSQL is backed up with pg_dump (see docs/operations.md)",
            )),
        }
    }

    async fn create_cpts(&self, new: &NewCpts, now: i64) -> Result<Cpts> {
        let sql = format!(
            "INSERT INTO cpts (id, slug, name, finess, siret, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
             RETURNING {CPTS_COLUMNS}"
        );
        let row: std::result::Result<CptsRow, sqlx::Error> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(CptsId::new().0)
            .bind(&new.slug)
            .bind(&new.name)
            .bind(&new.finess)
            .bind(&new.siret)
            .bind(now)
            .fetch_one(pool)
            .await);
        match row {
            Ok(row) => Ok(row.into()),
            // Which identifier is taken, named the same on both engines (`Conflict("finess")`…).
            Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
                let said = format!("{} {}", db.message(), db.constraint().unwrap_or_default());
                let field = ["finess", "siret"]
                    .into_iter()
                    .find(|field| said.contains(field))
                    .unwrap_or("slug");
                Err(StoreError::Conflict(field.to_string()))
            }
            Err(other) => Err(other.into()),
        }
    }

    async fn find_cpts_by_slug(&self, slug: &str) -> Result<Option<Cpts>> {
        let sql = format!("SELECT {CPTS_COLUMNS} FROM cpts WHERE slug = $1");
        let row: Option<CptsRow> =
            on_pool!(self, pool => sqlx::query_as(&sql).bind(slug).fetch_optional(pool).await)?;
        Ok(row.map(Into::into))
    }

    async fn find_cpts(&self, id: CptsId) -> Result<Option<Cpts>> {
        let sql = format!("SELECT {CPTS_COLUMNS} FROM cpts WHERE id = $1");
        let row: Option<CptsRow> =
            on_pool!(self, pool => sqlx::query_as(&sql).bind(id.0).fetch_optional(pool).await)?;
        Ok(row.map(Into::into))
    }

    async fn list_cpts(&self, page: Page) -> Result<Vec<Cpts>> {
        let sql = format!("SELECT {CPTS_COLUMNS} FROM cpts ORDER BY name, id LIMIT $1 OFFSET $2");
        let rows: Vec<CptsRow> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(page.limit)
            .bind(page.offset)
            .fetch_all(pool)
            .await)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn create_user(
        &self,
        new: &NewUser,
        role: Option<(CptsId, Role)>,
        now: i64,
    ) -> Result<User> {
        let insert_user = format!(
            "INSERT INTO users (id, email, display_name, password_hash, is_platform_admin, disabled, created_at) \
             VALUES ($1, $2, $3, $4, $5, FALSE, $6) RETURNING {USER_COLUMNS}"
        );
        let insert_role =
            "INSERT INTO memberships (cpts_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)";
        let row: UserRow = on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let row: UserRow = sqlx::query_as(&insert_user)
                .bind(UserId::new().0)
                .bind(&new.email)
                .bind(&new.display_name)
                .bind(&new.password_hash)
                .bind(new.is_platform_admin)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
            if let Some((cpts, role)) = role {
                sqlx::query(insert_role)
                    .bind(cpts.0)
                    .bind(row.id)
                    .bind(role.code())
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            row
        });
        Ok(row.into())
    }

    async fn find_user(&self, id: UserId) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        let row: Option<UserRow> =
            on_pool!(self, pool => sqlx::query_as(&sql).bind(id.0).fetch_optional(pool).await)?;
        Ok(row.map(Into::into))
    }

    async fn find_user_by_email(&self, email: &str) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE email = $1");
        let row: Option<UserRow> =
            on_pool!(self, pool => sqlx::query_as(&sql).bind(email).fetch_optional(pool).await)?;
        Ok(row.map(Into::into))
    }

    async fn list_users(&self, page: Page) -> Result<Vec<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY email, id LIMIT $1 OFFSET $2");
        let rows: Vec<UserRow> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(page.limit)
            .bind(page.offset)
            .fetch_all(pool)
            .await)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn set_user_disabled(&self, id: UserId, disabled: bool) -> Result<bool> {
        let affected = on_pool!(self, pool => sqlx::query("UPDATE users SET disabled = $2 WHERE id = $1")
            .bind(id.0)
            .bind(disabled)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(affected == 1)
    }

    async fn grant_role(&self, cpts: CptsId, user: UserId, role: Role, now: i64) -> Result<()> {
        on_pool!(self, pool => sqlx::query(GRANT_ROLE)
            .bind(cpts.0)
            .bind(user.0)
            .bind(role.code())
            .bind(now)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(())
    }

    async fn membership(&self, cpts: CptsId, user: UserId) -> Result<Option<(Role, Option<Uuid>)>> {
        let sql = "SELECT m.role, a.professional_id FROM memberships m \
                   LEFT JOIN professional_accounts a ON a.cpts_id = m.cpts_id AND a.user_id = m.user_id \
                   WHERE m.cpts_id = $1 AND m.user_id = $2 AND m.suspended_at IS NULL";
        let row: Option<(String, Option<Uuid>)> = on_pool!(self, pool => sqlx::query_as(sql)
            .bind(cpts.0)
            .bind(user.0)
            .fetch_optional(pool)
            .await)?;
        row.map(|(code, professional)| Ok((parse_role(&code)?, professional)))
            .transpose()
    }

    async fn roles_of_user(&self, user: UserId) -> Result<Vec<(Cpts, Role)>> {
        #[derive(FromRow)]
        struct Row {
            #[sqlx(flatten)]
            cpts: CptsRow,
            role: String,
        }
        let sql =
            "SELECT c.id, c.slug, c.name, c.finess, c.siret, c.mfa_required, c.contact_phone, c.created_at, m.role \
                   FROM memberships m JOIN cpts c ON c.id = m.cpts_id \
                   WHERE m.user_id = $1 AND m.suspended_at IS NULL ORDER BY c.name";
        let rows: Vec<Row> =
            on_pool!(self, pool => sqlx::query_as(sql).bind(user.0).fetch_all(pool).await)?;
        rows.into_iter()
            .map(|row| Ok((row.cpts.into(), parse_role(&row.role)?)))
            .collect()
    }

    async fn list_members(&self, cpts: CptsId, page: Page) -> Result<Vec<MemberEntry>> {
        #[derive(FromRow)]
        struct Row {
            id: Uuid,
            email: String,
            display_name: String,
            role: String,
            disabled: bool,
            suspended: bool,
        }
        let sql = "SELECT u.id, u.email, u.display_name, m.role, u.disabled, \
                   (m.suspended_at IS NOT NULL) AS suspended \
                   FROM memberships m JOIN users u ON u.id = m.user_id \
                   WHERE m.cpts_id = $1 ORDER BY u.display_name, u.id LIMIT $2 OFFSET $3";
        let rows: Vec<Row> = on_pool!(self, pool => sqlx::query_as(sql)
            .bind(cpts.0)
            .bind(page.limit)
            .bind(page.offset)
            .fetch_all(pool)
            .await)?;
        rows.into_iter()
            .map(|row| {
                Ok(MemberEntry {
                    user_id: UserId(row.id),
                    email: row.email,
                    display_name: row.display_name,
                    role: parse_role(&row.role)?,
                    disabled: row.disabled,
                    suspended: row.suspended,
                })
            })
            .collect()
    }

    async fn create_session(&self, session: &SessionRecord) -> Result<()> {
        let sql = "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen_at, expires_at) \
                   VALUES ($1, $2, $3, $4, $5, $6)";
        on_pool!(self, pool => sqlx::query(sql)
            .bind(&session.token_hash)
            .bind(session.user_id.0)
            .bind(&session.csrf_token)
            .bind(session.created_at)
            .bind(session.last_seen_at)
            .bind(session.expires_at)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(())
    }

    async fn touch_session(
        &self,
        token_hash: &str,
        now: i64,
        idle_ms: i64,
    ) -> Result<Option<SessionRecord>> {
        let read = "SELECT token_hash, user_id, csrf_token, created_at, last_seen_at, expires_at FROM sessions \
                    WHERE token_hash = $1 AND expires_at > $2 AND last_seen_at > $3 \
                    AND user_id IN (SELECT id FROM users WHERE disabled = FALSE)";
        // The last activity is kept to the minute: each page would otherwise write, and every instance's
        // requests would queue for the database's writer.
        let touch =
            "UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1 AND last_seen_at < $3";
        let row: Option<SessionRow> = on_pool!(self, pool => sqlx::query_as(read)
            .bind(token_hash)
            .bind(now)
            .bind(now.saturating_sub(idle_ms))
            .fetch_optional(pool)
            .await)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let mut record: SessionRecord = row.into();
        if record.last_seen_at < now - SESSION_TOUCH_PRECISION_MS {
            on_pool!(self, pool => sqlx::query(touch)
                .bind(token_hash)
                .bind(now)
                .bind(now - SESSION_TOUCH_PRECISION_MS)
                .execute(pool)
                .await
                .map(|_| ()))?;
            record.last_seen_at = now;
        }
        Ok(Some(record))
    }

    async fn delete_session(&self, token_hash: &str) -> Result<()> {
        on_pool!(self, pool => sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(())
    }

    async fn delete_user_sessions(&self, user: UserId) -> Result<u64> {
        let affected = on_pool!(self, pool => sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user.0)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(affected)
    }

    async fn purge_expired_sessions(&self, now: i64, idle_ms: i64) -> Result<u64> {
        let affected = on_pool!(self, pool => sqlx::query(
            "DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2")
            .bind(now)
            .bind(now.saturating_sub(idle_ms))
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(affected)
    }

    async fn enqueue_job(&self, job: &NewJob, now: i64) -> Result<JobId> {
        let id = JobId::new();
        on_pool!(self, pool => sqlx::query(INSERT_JOB)
            .bind(id.0)
            .bind(job.cpts_id.map(|c| c.0))
            .bind(&job.kind)
            .bind(&job.payload)
            .bind(job.max_attempts.max(1))
            .bind(job.run_at)
            .bind(now)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(id)
    }

    async fn claim_job(&self, worker: &str, now: i64, lease_ms: i64) -> Result<Option<Job>> {
        // PostgreSQL: SKIP LOCKED lets concurrent workers pass over a row another one is taking.
        // SQLite: one writer at a time, so the single UPDATE statement is already atomic.
        let row_lock = match self.backend() {
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE jobs SET status = 'running', locked_by = $1, locked_until = $2, attempts = attempts + 1 \
             WHERE id = (SELECT id FROM jobs \
                         WHERE (status = 'queued' AND run_at <= $3) \
                            OR (status = 'running' AND locked_until < $3) \
                         ORDER BY run_at, id LIMIT 1 {row_lock}) \
             RETURNING {JOB_COLUMNS}"
        );
        let row: Option<JobRow> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(worker)
            .bind(now.saturating_add(lease_ms))
            .bind(now)
            .fetch_optional(pool)
            .await)?;
        row.map(Job::try_from).transpose()
    }

    async fn complete_job(&self, id: JobId, worker: &str, now: i64) -> Result<bool> {
        // The payload is of no more use and may carry a link or an address (sealed): it goes.
        let sql =
            "UPDATE jobs SET status = 'done', finished_at = $3, locked_until = NULL, payload = '' \
                   WHERE id = $1 AND locked_by = $2 AND status = 'running'";
        let affected = on_pool!(self, pool => sqlx::query(sql)
            .bind(id.0)
            .bind(worker)
            .bind(now)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(affected == 1)
    }

    async fn fail_job(
        &self,
        id: JobId,
        worker: &str,
        error: &str,
        retry_at: Option<i64>,
        now: i64,
    ) -> Result<bool> {
        let error: String = error.chars().take(2000).collect();
        let (status, run_at, finished_at) = match retry_at {
            Some(at) => (JobStatus::Queued, Some(at), None),
            None => (JobStatus::Failed, None, Some(now)),
        };
        // A job given up keeps no payload either.
        let sql = "UPDATE jobs SET status = $3, last_error = $4, run_at = COALESCE($5, run_at), \
                   finished_at = $6, locked_by = NULL, locked_until = NULL, \
                   payload = CASE WHEN $6 IS NULL THEN payload ELSE '' END \
                   WHERE id = $1 AND locked_by = $2 AND status = 'running'";
        let affected = on_pool!(self, pool => sqlx::query(sql)
            .bind(id.0)
            .bind(worker)
            .bind(status.code())
            .bind(&error)
            .bind(run_at)
            .bind(finished_at)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(affected == 1)
    }

    async fn find_job(&self, id: JobId) -> Result<Option<Job>> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1");
        let row: Option<JobRow> =
            on_pool!(self, pool => sqlx::query_as(&sql).bind(id.0).fetch_optional(pool).await)?;
        row.map(Job::try_from).transpose()
    }

    async fn job_counts(&self) -> Result<Vec<(String, i64)>> {
        let sql = "SELECT status, COUNT(*) FROM jobs GROUP BY status ORDER BY status";
        let rows: Vec<(String, i64)> =
            on_pool!(self, pool => sqlx::query_as(sql).fetch_all(pool).await)?;
        Ok(rows)
    }

    async fn try_lock(&self, name: &str, holder: &str, now: i64, ttl_ms: i64) -> Result<bool> {
        let sql = "INSERT INTO locks (name, holder, expires_at) VALUES ($1, $2, $3) \
                   ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
                   WHERE locks.holder = excluded.holder OR locks.expires_at < $4";
        let affected = on_pool!(self, pool => sqlx::query(sql)
            .bind(name)
            .bind(holder)
            .bind(now.saturating_add(ttl_ms))
            .bind(now)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(affected == 1)
    }

    async fn release_lock(&self, name: &str, holder: &str) -> Result<()> {
        on_pool!(self, pool => sqlx::query("DELETE FROM locks WHERE name = $1 AND holder = $2")
            .bind(name)
            .bind(holder)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(())
    }

    async fn push_outbox(&self, mail: &NewOutboxMail, now: i64) -> Result<()> {
        let sql = "INSERT INTO outbox (id, cpts_id, job_id, recipient, subject, body, created_at) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (job_id) DO NOTHING";
        on_pool!(self, pool => sqlx::query(sql)
            .bind(Uuid::now_v7())
            .bind(mail.cpts_id.map(|c| c.0))
            .bind(mail.job_id.map(|j| j.0))
            .bind(&mail.recipient)
            .bind(&mail.subject)
            .bind(&mail.body)
            .bind(now)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(())
    }

    async fn list_outbox(&self, page: Page) -> Result<Vec<OutboxMail>> {
        let sql = "SELECT cpts_id, recipient, subject, body, created_at, reduced_at FROM outbox \
                   ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2";
        type Row = (Option<Uuid>, String, String, String, i64, Option<i64>);
        let rows: Vec<Row> = on_pool!(self, pool => sqlx::query_as(sql)
            .bind(page.limit)
            .bind(page.offset)
            .fetch_all(pool)
            .await)?;
        Ok(rows
            .into_iter()
            .map(
                |(cpts_id, recipient, subject, body, created_at, reduced_at)| OutboxMail {
                    cpts_id: cpts_id.map(CptsId),
                    recipient,
                    subject,
                    body,
                    created_at,
                    reduced: reduced_at.is_some(),
                },
            )
            .collect())
    }

    async fn count_outbox(&self) -> Result<i64> {
        let count: i64 = on_pool!(self, pool => sqlx::query_scalar("SELECT COUNT(*) FROM outbox")
            .fetch_one(pool)
            .await)?;
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::BeginWrite;
    use std::time::Duration;

    /// A transaction that reads, then writes after another connection has committed, must still commit: the
    /// import of a directory extract reads each professional before writing it while its progress is written
    /// beside it, and a deferred SQLite transaction failed there with "database is locked" (code 517).
    #[tokio::test]
    async fn a_sqlite_transaction_that_reads_then_writes_waits_for_no_one_else() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("lock.db").display());
        let pool = crate::sqlite::connect(&url).await.unwrap();
        sqlx::query("CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)")
            .execute(&pool)
            .await
            .unwrap();
        sqlx::query("INSERT INTO counters VALUES ('progress', 0), ('rows', 0)")
            .execute(&pool)
            .await
            .unwrap();

        let mut tx = pool.begin_write().await.unwrap();
        let rows: i64 = sqlx::query_scalar("SELECT value FROM counters WHERE name = 'rows'")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        let other = {
            let pool = pool.clone();
            tokio::spawn(async move {
                sqlx::query("UPDATE counters SET value = value + 1 WHERE name = 'progress'")
                    .execute(&pool)
                    .await
            })
        };
        // Gives the other writer the time to commit in between, as it did with a deferred transaction.
        tokio::time::sleep(Duration::from_millis(200)).await;
        sqlx::query("UPDATE counters SET value = $1 WHERE name = 'rows'")
            .bind(rows + 1)
            .execute(&mut *tx)
            .await
            .expect("the write of a transaction begun to write");
        tx.commit().await.unwrap();
        other
            .await
            .unwrap()
            .expect("the other writer waited its turn");

        let values: Vec<i64> = sqlx::query_scalar("SELECT value FROM counters ORDER BY name")
            .fetch_all(&pool)
            .await
            .unwrap();
        assert_eq!(values, [1, 1]);
    }
}
