//! Imports started from the web. The uploaded file is kept in a temporary file of the instance that received
//! it, which runs the import in the background and writes its progress to the database, so that any instance
//! can show the progress bar and the report. An import whose instance stopped shows as interrupted.

use crate::audit::{record, AuditContext, AuditEvent};
use crate::clock::{now_ms, year_of, SECOND_MS};
use crate::directory::{finess::import_finess, import_extract, members::import_members};
use crate::directory::{ImportError, ImportReport};
use maillage_domain::audit::AuditAction;
use maillage_store::{CptsId, ImportRun, Store, StoreError};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use uuid::Uuid;

/// After this long without news, a running import is shown as interrupted.
pub const STALE_AFTER_MS: i64 = 60 * SECOND_MS;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportKind {
    /// The national directory's public extract.
    Directory,
    /// The public FINESS extraction.
    Finess,
    /// The member template.
    Members,
}

impl ImportKind {
    pub const ALL: [ImportKind; 3] = [
        ImportKind::Directory,
        ImportKind::Finess,
        ImportKind::Members,
    ];

    pub fn code(self) -> &'static str {
        match self {
            ImportKind::Directory => "annuaire",
            ImportKind::Finess => "finess",
            ImportKind::Members => "membres",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }

    pub fn label(self) -> &'static str {
        match self {
            ImportKind::Directory => "Annuaire national (PS_LibreAcces_Personne_activite)",
            ImportKind::Finess => "Extraction FINESS des établissements",
            ImportKind::Members => "Modèle CSV des membres",
        }
    }
}

/// Runs one import of `kind` from `reader`.
pub async fn run_import<R: tokio::io::AsyncBufRead + Unpin + Send>(
    store: &dyn Store,
    cpts: CptsId,
    kind: ImportKind,
    reader: R,
    progress: impl FnMut(u64),
) -> Result<ImportReport, ImportError> {
    let now = now_ms();
    match kind {
        ImportKind::Directory => import_extract(store, cpts, reader, progress, now).await,
        ImportKind::Finess => import_finess(store, cpts, reader, progress, now).await,
        ImportKind::Members => {
            import_members(store, cpts, reader, progress, year_of(now), now).await
        }
    }
}

/// Audits a finished import: what was imported, never the content.
pub async fn audit_import(
    store: &dyn Store,
    audit: &AuditContext,
    kind: ImportKind,
    file_name: &str,
    report: &ImportReport,
) -> Result<(), StoreError> {
    record(
        store,
        audit,
        AuditEvent::new(AuditAction::DirectoryImported, kind.code(), file_name).detail(
            serde_json::json!({
                "kind": kind.code(),
                "lines": report.lines,
                "created": report.created,
                "updated": report.updated,
                "unchanged": report.unchanged,
                "rejected": report.rejected_total,
            }),
        ),
    )
    .await
    .map(|_| ())
}

/// Records the import and runs it in the background from `path` (removed afterwards); returns its id.
pub async fn start(
    store: Arc<dyn Store>,
    cpts: CptsId,
    kind: ImportKind,
    file_name: &str,
    path: tempfile::TempPath,
    bytes_total: u64,
    audit: AuditContext,
) -> Result<Uuid, StoreError> {
    let now = now_ms();
    let run = ImportRun::started(kind.code(), file_name, bytes_total, now);
    store
        .create_import(cpts, &run, audit.actor_id.map(|u| u.0))
        .await?;
    let id = run.id;
    tokio::spawn(async move {
        let outcome =
            run_in_background(&*store, cpts, kind, &run.file_name, path, id, &audit).await;
        record_end(&*store, id, outcome.as_ref()).await;
    });
    Ok(id)
}

async fn run_in_background(
    store: &dyn Store,
    cpts: CptsId,
    kind: ImportKind,
    file_name: &str,
    path: tempfile::TempPath,
    id: Uuid,
    audit: &AuditContext,
) -> Result<ImportReport, ImportError> {
    let file = tokio::fs::File::open(PathBuf::from(&*path)).await?;
    let reader = tokio::io::BufReader::with_capacity(256 * 1024, file);
    let outcome = with_progress(store, id, |done| async move {
        run_import(store, cpts, kind, reader, |bytes| {
            done.store(bytes, Ordering::Relaxed);
        })
        .await
    })
    .await;
    let report = outcome?;
    audit_import(store, audit, kind, file_name, &report).await?;
    drop(path);
    Ok(report)
}

/// Runs `work`, which advances the counter it is given (bytes done), and writes that progress to the import's
/// row twice a second at most from a separate task, so that the work never waits on it; also every ten seconds
/// while nothing moves, as a heartbeat.
async fn with_progress<F, Fut, T>(store: &dyn Store, id: Uuid, work: F) -> T
where
    F: FnOnce(Arc<AtomicU64>) -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let done = Arc::new(AtomicU64::new(0));
    let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
    let reporter = {
        let done = Arc::clone(&done);
        async move {
            let (mut last, mut written_at) = (u64::MAX, now_ms());
            loop {
                tokio::select! {
                    _ = &mut stopped => break,
                    () = tokio::time::sleep(std::time::Duration::from_millis(500)) => {}
                }
                let bytes = done.load(Ordering::Relaxed);
                if bytes != last || now_ms() - written_at > 10 * SECOND_MS {
                    (last, written_at) = (bytes, now_ms());
                    if let Err(error) = store
                        .record_import_progress(
                            id,
                            i64::try_from(bytes).unwrap_or(i64::MAX),
                            now_ms(),
                        )
                        .await
                    {
                        tracing::warn!(%error, "could not record an import's progress");
                    }
                }
            }
        }
    };
    let work = async {
        let outcome = work(Arc::clone(&done)).await;
        let _ = stop.send(());
        outcome
    };
    let (outcome, ()) = tokio::join!(work, reporter);
    outcome
}

/// The kind recorded for lists of patients without a médecin traitant.
pub const REQUEST_LIST_KIND: &str = "demandes-mt";

/// Records the import of a list of patients (CPAM, retiring GP) and runs it in the background, its progress
/// in the database like the directory's imports; the report is the list's ([`ListReport`]) as JSON.
pub async fn start_request_list(
    service: crate::doctor_search::DoctorSearch,
    store: Arc<dyn Store>,
    cpts: CptsId,
    origin: crate::doctor_search::Origin,
    file_name: &str,
    text: String,
    audit: AuditContext,
) -> Result<Uuid, StoreError> {
    let now = now_ms();
    let bytes = text.len() as u64;
    let run = ImportRun::started(REQUEST_LIST_KIND, file_name, bytes, now);
    store
        .create_import(cpts, &run, audit.actor_id.map(|u| u.0))
        .await?;
    let id = run.id;
    tokio::spawn(async move {
        let outcome = with_progress(store.as_ref(), id, |done| {
            let (service, text, origin, audit) = (&service, &text, &origin, &audit);
            async move {
                service
                    .import_list(audit, cpts, text, origin, |lines, total| {
                        // Lines done, shown as the share of the file's bytes.
                        let share = bytes * lines as u64 / (total as u64).max(1);
                        done.store(share, Ordering::Relaxed);
                    })
                    .await
            }
        })
        .await;
        record_end(store.as_ref(), id, outcome.as_ref()).await;
    });
    Ok(id)
}

/// Writes how an import ended: its report as JSON, or its error.
async fn record_end<R: serde::Serialize, E: std::fmt::Display>(
    store: &dyn Store,
    id: Uuid,
    outcome: Result<&R, &E>,
) {
    let finished = match outcome {
        Ok(report) => {
            let json = serde_json::to_string(report).unwrap_or_default();
            store.finish_import(id, Ok(&json), now_ms()).await
        }
        Err(error) => {
            store
                .finish_import(id, Err(&error.to_string()), now_ms())
                .await
        }
    };
    if let Err(error) = finished {
        tracing::error!(%error, import = %id, "could not record the end of an import");
    }
}

/// How an import looks to someone opening its page.
pub fn status_of(run: &ImportRun, now: i64) -> &'static str {
    match run.status.as_str() {
        "running" if now - run.heartbeat_at > STALE_AFTER_MS => "interrupted",
        "running" => "running",
        "done" => "done",
        _ => "failed",
    }
}
