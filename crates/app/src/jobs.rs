//! Background jobs: persisted in the database, retried with growing delays, and safe when several
//! `maillage serve` processes share one PostgreSQL (a job is held by one worker at a time, under a lease
//! that another worker takes over if the process dies).

use crate::clock::{now_ms, MINUTE_MS, SECOND_MS};
use crate::config::JobsConfig;
use crate::crypto::Keyring;
use async_trait::async_trait;
use maillage_store::{Job, JobId, NewJob, Store, StoreError};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Why a job did not finish.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Worth trying again later (server unreachable, timeout…).
    #[error("{0}")]
    Retry(String),
    /// Trying again cannot help (invalid payload, address refused…).
    #[error("{0}")]
    Permanent(String),
}

#[async_trait]
pub trait JobHandler: Send + Sync {
    async fn run(&self, job: &Job) -> Result<(), JobError>;
}

/// Delay before attempt `attempts + 1`: 30 s, 1 min, 2 min… capped at one hour, with up to 10 % jitter
/// so that jobs failing together do not retry together.
pub fn retry_delay_ms(attempts: i64) -> i64 {
    let exponent = u32::try_from(attempts.clamp(1, 20) - 1).unwrap_or(0);
    let base = (30 * SECOND_MS)
        .saturating_mul(1_i64 << exponent)
        .min(60 * MINUTE_MS);
    let jitter = rand::random::<u64>() % (u64::try_from(base / 10).unwrap_or(1).max(1));
    base + i64::try_from(jitter).unwrap_or(0)
}

/// What a job's payload is sealed for: its kind (a payload moved to a job of another kind does not open).
fn payload_context(kind: &str) -> Vec<u8> {
    format!("job:{kind}").into_bytes()
}

/// Queues a job of `kind` with a JSON payload, due now. The payload is sealed with the data keys: the links,
/// addresses and phone numbers jobs carry are never in clear in the database (and it is emptied once the job
/// is over).
pub async fn enqueue(
    store: &dyn Store,
    keyring: &Keyring,
    kind: &str,
    payload: &serde_json::Value,
    cpts: Option<maillage_store::CptsId>,
    max_attempts: i64,
) -> Result<JobId, StoreError> {
    let job = sealed_job(keyring, kind, payload, cpts, max_attempts)?;
    store.enqueue_job(&job, job.run_at).await
}

/// A job of `kind`, due now, its payload sealed: for a store method that queues it inside a transaction.
pub fn sealed_job(
    keyring: &Keyring,
    kind: &str,
    payload: &serde_json::Value,
    cpts: Option<maillage_store::CptsId>,
    max_attempts: i64,
) -> Result<NewJob, StoreError> {
    let sealed = keyring
        .seal_text(&payload.to_string(), &payload_context(kind))
        .map_err(|e| StoreError::Corrupt(format!("job payload: {e}")))?;
    Ok(NewJob {
        cpts_id: cpts,
        kind: kind.to_string(),
        payload: sealed,
        max_attempts,
        run_at: now_ms(),
    })
}

pub struct JobRunner {
    store: Arc<dyn Store>,
    keyring: Arc<Keyring>,
    handlers: HashMap<String, Arc<dyn JobHandler>>,
    config: JobsConfig,
    worker_id: String,
}

impl JobRunner {
    pub fn new(store: Arc<dyn Store>, keyring: Arc<Keyring>, config: JobsConfig) -> Self {
        let worker_id = format!(
            "{}-{}-{}",
            hostname(),
            std::process::id(),
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        Self {
            store,
            keyring,
            handlers: HashMap::new(),
            config,
            worker_id,
        }
    }

    /// The job with its payload in clear, for its handler only (a payload queued in clear by an earlier version
    /// is taken as it is).
    fn opened(&self, job: &Job) -> Result<Job, JobError> {
        if !job.payload.starts_with(crate::crypto::SEALED_TEXT_PREFIX) {
            return Ok(job.clone());
        }
        let payload = self
            .keyring
            .open_text(&job.payload, &payload_context(&job.kind))
            .map_err(|e| {
                JobError::Permanent(format!(
                    "payload cannot be opened (a data key removed?): {e}"
                ))
            })?;
        Ok(Job {
            payload,
            ..job.clone()
        })
    }

    pub fn register(&mut self, kind: &str, handler: Arc<dyn JobHandler>) {
        self.handlers.insert(kind.to_string(), handler);
    }

    pub fn worker_id(&self) -> &str {
        &self.worker_id
    }

    /// Claims and runs one due job; false when none was due.
    pub async fn run_once(&self, slot: usize) -> Result<bool, StoreError> {
        let worker = format!("{}#{slot}", self.worker_id);
        let lease_ms = self.config.lease_seconds.saturating_mul(SECOND_MS);
        let Some(job) = self.store.claim_job(&worker, now_ms(), lease_ms).await? else {
            return Ok(false);
        };
        tracing::debug!(job = %job.id, kind = %job.kind, attempt = job.attempts, "job claimed");
        let outcome = if job.attempts > job.max_attempts {
            Err(JobError::Permanent(
                "abandoned: its worker stopped too many times".into(),
            ))
        } else {
            match self.handlers.get(&job.kind) {
                Some(handler) => match self.opened(&job) {
                    Ok(opened) => handler.run(&opened).await,
                    Err(error) => Err(error),
                },
                None => Err(JobError::Permanent(format!(
                    "no handler for job kind {}",
                    job.kind
                ))),
            }
        };
        self.record_outcome(&job, &worker, outcome).await?;
        Ok(true)
    }

    /// Writes what happened to a job. The work is done: a passing database error must not leave the job
    /// held until its lease runs out (it would then run again), so the write is retried a few times.
    async fn record_outcome(
        &self,
        job: &Job,
        worker: &str,
        outcome: Result<(), JobError>,
    ) -> Result<(), StoreError> {
        let retry_at = match &outcome {
            Err(JobError::Retry(_)) if job.attempts < job.max_attempts => {
                Some(now_ms() + retry_delay_ms(job.attempts))
            }
            _ => None,
        };
        let mut delay = Duration::from_millis(100);
        for attempt in 1..=5 {
            let now = now_ms();
            let written = match &outcome {
                Ok(()) => self.store.complete_job(job.id, worker, now).await,
                Err(error) => {
                    self.store
                        .fail_job(job.id, worker, &error.to_string(), retry_at, now)
                        .await
                }
            };
            match written {
                Ok(true) => {
                    match &outcome {
                        Ok(()) => tracing::info!(job = %job.id, "job done"),
                        Err(error) => {
                            tracing::warn!(job = %job.id, error = %error, retry = retry_at.is_some(), "job failed")
                        }
                    }
                    return Ok(());
                }
                Ok(false) => {
                    tracing::warn!(job = %job.id, "job finished after its lease was taken over");
                    return Ok(());
                }
                Err(error) if attempt < 5 => {
                    tracing::warn!(job = %job.id, %error, attempt, "recording the job's outcome failed, retrying");
                    tokio::time::sleep(delay).await;
                    delay = delay.saturating_mul(2);
                }
                Err(error) => {
                    tracing::error!(job = %job.id, %error, "the job's outcome could not be recorded: it runs again after its lease");
                    return Err(error);
                }
            }
        }
        Ok(())
    }

    /// Starts the workers; they stop when `shutdown` turns true.
    pub fn spawn(self, shutdown: watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
        let runner = Arc::new(self);
        (0..runner.config.workers)
            .map(|slot| {
                let runner = runner.clone();
                let mut shutdown = shutdown.clone();
                tokio::spawn(async move {
                    let idle = Duration::from_millis(runner.config.poll_interval_ms);
                    while !*shutdown.borrow() {
                        let pause = match runner.run_once(slot).await {
                            Ok(true) => Duration::ZERO,
                            Ok(false) => idle,
                            Err(error) => {
                                tracing::error!(%error, "job queue unavailable");
                                idle.saturating_mul(5)
                            }
                        };
                        if !pause.is_zero() {
                            tokio::select! {
                                _ = tokio::time::sleep(pause) => {}
                                _ = shutdown.changed() => {}
                            }
                        }
                    }
                })
            })
            .collect()
    }
}

fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "maillage".into())
}

/// How long the platform keeps what it sent: outbox messages in full, finished jobs at all.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    pub outbox_keep_days: i64,
    pub jobs_keep_days: i64,
}

impl Retention {
    pub fn from_config(config: &crate::config::Config) -> Self {
        Self {
            outbox_keep_days: config.smtp.outbox_keep_days,
            jobs_keep_days: config.jobs.keep_finished_days,
        }
    }

    /// Reduces old outbox messages to their metadata and removes old finished jobs.
    pub async fn apply(&self, store: &dyn Store, now: i64) {
        let day = 24 * 60 * MINUTE_MS;
        match store
            .reduce_outbox(now - self.outbox_keep_days.max(0) * day, now)
            .await
        {
            Ok(reduced) if reduced > 0 => tracing::info!(reduced, "outbox messages reduced"),
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "outbox reduction failed"),
        }
        match store
            .purge_finished_jobs(now - self.jobs_keep_days.max(0) * day)
            .await
        {
            Ok(purged) if purged > 0 => tracing::info!(purged, "finished jobs removed"),
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "job purge failed"),
        }
    }
}

/// Periodic upkeep, each task done by one instance at a time thanks to a database lock: expired sessions
/// every minute; every hour, the platform's retention ([`Retention`]), a signed checkpoint of the audit
/// chains ([`crate::audit_checkpoint`]) and each registered mission's upkeep ([`crate::missions::MissionUpkeep::hourly`]:
/// for access to a médecin traitant, priorities grow with waiting, stale GP declarations are reminded, ended
/// requests past the retention delay are anonymised; for unscheduled care, the planner's statistics).
pub fn spawn_maintenance(
    accounts: crate::accounts::Accounts,
    missions: crate::missions::Missions,
    store: Arc<dyn Store>,
    retention: Retention,
    checkpointer: crate::audit_checkpoint::Checkpointer,
    holder: String,
    mut shutdown: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        while !*shutdown.borrow() {
            let now = now_ms();
            match store
                .try_lock("maintenance", &holder, now, 5 * MINUTE_MS)
                .await
            {
                Ok(true) => {
                    match accounts.purge_expired_sessions(now).await {
                        Ok(purged) if purged > 0 => {
                            tracing::info!(purged, "expired sessions removed")
                        }
                        Ok(_) => {}
                        Err(error) => tracing::warn!(%error, "session purge failed"),
                    }
                    if let Err(error) = crate::rate_limit::purge(store.as_ref(), now).await {
                        tracing::warn!(%error, "rate-limit purge failed");
                    }
                }
                Ok(false) => {}
                Err(error) => tracing::warn!(%error, "maintenance lock unavailable"),
            }
            match store
                .try_lock("hourly:platform", &holder, now, 60 * MINUTE_MS)
                .await
            {
                Ok(true) => {
                    retention.apply(store.as_ref(), now).await;
                    // Patients stored before the search existed get their search terms, a page at a time.
                    match crate::patients::index_missing_search_terms(
                        store.as_ref(),
                        accounts.keyring(),
                        500,
                        20_000,
                    )
                    .await
                    {
                        Ok(indexed) if indexed > 0 => {
                            tracing::info!(indexed, "patients indexed for search")
                        }
                        Ok(_) => {}
                        Err(error) => tracing::warn!(%error, "patient search indexing failed"),
                    }
                    if let Err(error) = checkpointer.write(store.as_ref(), now).await {
                        tracing::warn!(%error, "audit checkpoint not written");
                    }
                }
                Ok(false) => {}
                Err(error) => tracing::warn!(%error, "maintenance lock unavailable"),
            }
            for mission in missions.upkeep() {
                // Held for an hour and never released: whichever instance takes it does the hourly work.
                let lock = format!("hourly:{}", mission.name());
                match store.try_lock(&lock, &holder, now, 60 * MINUTE_MS).await {
                    Ok(true) => mission.hourly(now).await,
                    Ok(false) => {}
                    Err(error) => tracing::warn!(%error, lock, "maintenance lock unavailable"),
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(60)) => {}
                _ = shutdown.changed() => {}
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delays_grow_and_stop_growing() {
        let first = retry_delay_ms(1);
        assert!((30_000..33_000).contains(&first), "{first}");
        let second = retry_delay_ms(2);
        assert!((60_000..66_000).contains(&second), "{second}");
        let late = retry_delay_ms(50);
        assert!((3_600_000..3_960_000).contains(&late), "{late}");
    }
}
