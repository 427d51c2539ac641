//! The audit trail: one hash chain per CPTS and one for the platform's own events.
//!
//! Entry `n` of a chain stores `hash_n = SHA-256(canonical(entry_n, n) ‖ hash_{n-1})`; the chain's row in
//! `audit_chains` keeps its last position and hash. An entry is appended by [`AuditTx::append_audit`] inside
//! the transaction of the change it records, so a change and its entry commit together or not at all; the
//! chain's row is what serialises appends, so a CPTS waits only for its own. Reads and security events that
//! change nothing else use [`SecurityStore::append_audit`](crate::SecurityStore::append_audit), their own
//! short transaction.

use crate::models::*;
use crate::sql::{on_pool, BeginWrite, SqlStore};
use crate::{Result, StoreError};
use maillage_domain::audit::{entry_hash, AuditFields, AuditKeys, CodeCheck, GENESIS_HASH};
use sqlx::FromRow;
use std::collections::HashMap;
use uuid::Uuid;

/// The platform's own chain (accounts, administration, command line), beside one chain per CPTS.
pub const PLATFORM_CHAIN: &str = "platform";

/// The chain an entry of `cpts` (none: the platform) belongs to: the CPTS's id without dashes.
pub fn chain_key(cpts: Option<CptsId>) -> String {
    match cpts {
        Some(cpts) => cpts.0.simple().to_string(),
        None => PLATFORM_CHAIN.to_string(),
    }
}

#[derive(FromRow)]
pub(crate) struct AuditRow {
    seq: i64,
    at: i64,
    cpts_id: Option<Uuid>,
    actor_id: Option<Uuid>,
    actor: String,
    action: String,
    target_kind: String,
    target_id: String,
    detail: String,
    purpose: String,
    ip: String,
    request_id: String,
    chain: String,
    chain_seq: Option<i64>,
    prev_hash: String,
    hash: String,
}

impl From<AuditRow> for AuditEntry {
    fn from(row: AuditRow) -> Self {
        AuditEntry {
            seq: row.seq,
            chain: row.chain,
            chain_seq: row.chain_seq.unwrap_or(0),
            entry: NewAuditEntry {
                at: row.at,
                cpts_id: row.cpts_id.map(CptsId),
                actor_id: row.actor_id.map(UserId),
                actor: row.actor,
                action: row.action,
                target_kind: row.target_kind,
                target_id: row.target_id,
                detail: row.detail,
                purpose: row.purpose,
                ip: row.ip,
                request_id: row.request_id,
            },
            prev_hash: row.prev_hash,
            hash: row.hash,
        }
    }
}

pub(crate) const AUDIT_COLUMNS: &str =
    "seq, at, cpts_id, actor_id, actor, action, target_kind, target_id, detail, purpose, \
     ip, request_id, chain, chain_seq, prev_hash, hash";

/// The fields an entry stored at `position` is coded over.
fn with_fields<T>(
    position: i64,
    entry: &NewAuditEntry,
    code: impl FnOnce(&AuditFields<'_>) -> T,
) -> T {
    let cpts = entry.cpts_id.map(|c| c.to_string()).unwrap_or_default();
    let actor_id = entry.actor_id.map(|u| u.to_string()).unwrap_or_default();
    code(&AuditFields {
        seq: position,
        at: entry.at,
        cpts_id: &cpts,
        actor_id: &actor_id,
        actor: &entry.actor,
        action: &entry.action,
        target_kind: &entry.target_kind,
        target_id: &entry.target_id,
        detail: &entry.detail,
        purpose: &entry.purpose,
        ip: &entry.ip,
        request_id: &entry.request_id,
    })
}

/// The code of an entry stored at `position` of its chain, after `prev_hash`, with `keys` (see
/// [`AuditKeys::code`]).
pub fn audit_code(
    keys: &AuditKeys,
    position: i64,
    entry: &NewAuditEntry,
    prev_hash: &str,
) -> String {
    with_fields(position, entry, |fields| keys.code(fields, prev_hash))
}

/// How the stored code of an entry compares with it.
pub fn check_audit_code(
    keys: &AuditKeys,
    position: i64,
    entry: &NewAuditEntry,
    prev_hash: &str,
    stored: &str,
) -> CodeCheck {
    with_fields(position, entry, |fields| {
        keys.check(fields, prev_hash, stored)
    })
}

/// The plain hash of an entry stored at position `position` of its chain, after `prev_hash` (entries
/// written without a key, and the trail from before chains).
pub fn audit_hash(position: i64, entry: &NewAuditEntry, prev_hash: &str) -> String {
    with_fields(position, entry, |fields| entry_hash(fields, prev_hash))
}

/// Appends an entry to its chain inside an open write transaction: the change it records and the entry
/// commit together, and a failed append rolls the change back.
pub(crate) trait AuditTx {
    fn append_audit(
        &mut self,
        keys: &AuditKeys,
        entry: &NewAuditEntry,
    ) -> impl std::future::Future<Output = Result<AuditEntry>> + Send;
}

/// The body is the same SQL for both engines; only the transaction's type differs.
macro_rules! append_in_transaction {
    ($tx:expr, $keys:expr, $entry:expr) => {{
        let entry: &NewAuditEntry = $entry;
        let chain = chain_key(entry.cpts_id);
        // Taking the chain's row first locks it (PostgreSQL) until the transaction ends: appends to one
        // chain queue up, other chains do not wait. A new chain starts at position 1 after the genesis hash.
        let (position, prev_hash): (i64, String) = sqlx::query_as(
            "INSERT INTO audit_chains (chain, seq, hash) VALUES ($1, 1, $2) \
             ON CONFLICT (chain) DO UPDATE SET seq = audit_chains.seq + 1 \
             RETURNING seq, hash",
        )
        .bind(&chain)
        .bind(GENESIS_HASH)
        .fetch_one(&mut **$tx)
        .await?;
        let hash = audit_code($keys, position, entry, &prev_hash);
        let (seq,): (i64,) = sqlx::query_as(
            "INSERT INTO audit_log (at, cpts_id, actor_id, actor, action, target_kind, target_id, detail, \
             purpose, ip, request_id, chain, chain_seq, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING seq",
        )
        .bind(entry.at)
        .bind(entry.cpts_id.map(|c| c.0))
        .bind(entry.actor_id.map(|u| u.0))
        .bind(&entry.actor)
        .bind(&entry.action)
        .bind(&entry.target_kind)
        .bind(&entry.target_id)
        .bind(&entry.detail)
        .bind(&entry.purpose)
        .bind(&entry.ip)
        .bind(&entry.request_id)
        .bind(&chain)
        .bind(position)
        .bind(&prev_hash)
        .bind(&hash)
        .fetch_one(&mut **$tx)
        .await?;
        sqlx::query("UPDATE audit_chains SET hash = $1 WHERE chain = $2")
            .bind(&hash)
            .bind(&chain)
            .execute(&mut **$tx)
            .await?;
        Ok(AuditEntry {
            seq,
            chain,
            chain_seq: position,
            entry: entry.clone(),
            prev_hash,
            hash,
        })
    }};
}

impl AuditTx for sqlx::Transaction<'static, sqlx::Sqlite> {
    async fn append_audit(
        &mut self,
        keys: &AuditKeys,
        entry: &NewAuditEntry,
    ) -> Result<AuditEntry> {
        append_in_transaction!(self, keys, entry)
    }
}

impl AuditTx for sqlx::Transaction<'static, sqlx::Postgres> {
    async fn append_audit(
        &mut self,
        keys: &AuditKeys,
        entry: &NewAuditEntry,
    ) -> Result<AuditEntry> {
        append_in_transaction!(self, keys, entry)
    }
}

/// Commits a write transaction with its audit entry when it changed something; otherwise drops it (rolled
/// back). Evaluates to whether it changed something. A macro because the transaction's type is the engine's.
macro_rules! commit_audited {
    ($store:expr, $tx:expr, $changed:expr, $audit:expr) => {{
        let mut tx = $tx;
        let changed: bool = $changed;
        if changed {
            $crate::audit::AuditTx::append_audit(&mut tx, &$store.audit_keys, $audit).await?;
            tx.commit().await?;
        }
        Ok::<bool, $crate::StoreError>(changed)
    }};
}
pub(crate) use commit_audited;

impl SqlStore {
    /// Runs one statement that changes at most one row and, when it changed one, appends `audit` in the same
    /// transaction. True when a row changed.
    pub(crate) async fn audited_update(
        &self,
        sql: &str,
        args: &[crate::sql::SqlArg],
        audit: &NewAuditEntry,
    ) -> Result<bool> {
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let changed = crate::sql::bind_args!(sqlx::query(sql), args)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            commit_audited!(self, tx, changed == 1, audit)
        })
    }

    /// Appends one entry in its own transaction (reads, security events).
    pub(crate) async fn append_audit_alone(&self, entry: &NewAuditEntry) -> Result<AuditEntry> {
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let stored = tx.append_audit(&self.audit_keys, entry).await?;
            tx.commit().await?;
            Ok(stored)
        })
    }

    /// A page of one chain in order, after position `after` (exclusive).
    pub(crate) async fn chain_page(
        &self,
        chain: &str,
        after: i64,
        limit: i64,
    ) -> Result<Vec<AuditEntry>> {
        let sql = format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE chain = $1 AND chain_seq > $2 \
             ORDER BY chain_seq LIMIT $3"
        );
        let rows: Vec<AuditRow> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(chain)
            .bind(after)
            .bind(limit)
            .fetch_all(pool)
            .await)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Every chain named by a head or by an entry, with its head (none when the head row is missing).
    pub(crate) async fn chain_heads(&self) -> Result<Vec<ChainHead>> {
        let sql = "SELECT c.chain, h.seq, h.hash FROM \
                   (SELECT chain FROM audit_chains UNION SELECT DISTINCT chain FROM audit_log) c \
                   LEFT JOIN audit_chains h ON h.chain = c.chain ORDER BY c.chain";
        let rows: Vec<(String, Option<i64>, Option<String>)> =
            on_pool!(self, pool => sqlx::query_as(sql).fetch_all(pool).await)?;
        Ok(rows
            .into_iter()
            .map(|(chain, seq, hash)| ChainHead {
                chain,
                head: seq.zip(hash),
            })
            .collect())
    }

    /// Entries written before chains existed (one global chain) get their chain position and hash, once,
    /// after the old chain has been verified: an upgrade must not launder a tampered trail.
    pub(crate) async fn upgrade_legacy_audit(&self) -> Result<()> {
        let pending: Option<(i64,)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT seq FROM audit_log WHERE chain_seq IS NULL LIMIT 1")
            .fetch_optional(pool)
            .await)?;
        if pending.is_none() {
            return Ok(());
        }
        let legacy_select = format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE chain_seq IS NULL AND seq > $1 \
             ORDER BY seq LIMIT 1000"
        );
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let mut heads: HashMap<String, (i64, String)> = HashMap::new();
            let mut legacy_seq = 0_i64;
            let mut legacy_hash = GENESIS_HASH.to_string();
            loop {
                let rows: Vec<AuditRow> = sqlx::query_as(&legacy_select)
                    .bind(legacy_seq)
                    .fetch_all(&mut *tx)
                    .await?;
                if rows.is_empty() {
                    break;
                }
                for row in rows {
                    let entry = AuditEntry::from(row);
                    if entry.seq != legacy_seq + 1
                        || entry.prev_hash != legacy_hash
                        || audit_hash(entry.seq, &entry.entry, &entry.prev_hash) != entry.hash
                    {
                        return Err(StoreError::Corrupt(format!(
                            "the audit trail written before per-CPTS chains is broken at entry {}: \
                             it is left as it is; restore it from a backup before upgrading",
                            legacy_seq + 1
                        )));
                    }
                    legacy_seq = entry.seq;
                    legacy_hash = entry.hash.clone();
                    let chain = chain_key(entry.entry.cpts_id);
                    let (position, prev) = heads
                        .get(&chain)
                        .map(|(n, h)| (n + 1, h.clone()))
                        .unwrap_or((1, GENESIS_HASH.to_string()));
                    let hash = audit_hash(position, &entry.entry, &prev);
                    sqlx::query(
                        "UPDATE audit_log SET chain = $1, chain_seq = $2, prev_hash = $3, hash = $4 \
                         WHERE seq = $5",
                    )
                    .bind(&chain)
                    .bind(position)
                    .bind(&prev)
                    .bind(&hash)
                    .bind(entry.seq)
                    .execute(&mut *tx)
                    .await?;
                    heads.insert(chain, (position, hash));
                }
            }
            let (head_seq, head_hash): (i64, String) =
                sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1")
                    .fetch_one(&mut *tx)
                    .await?;
            if head_seq != legacy_seq || head_hash != legacy_hash {
                return Err(StoreError::Corrupt(format!(
                    "the audit trail written before per-CPTS chains ends at entry {legacy_seq} but its head \
                     records entry {head_seq}: it is left as it is; restore it from a backup before upgrading"
                )));
            }
            for (chain, (position, hash)) in &heads {
                sqlx::query(
                    "INSERT INTO audit_chains (chain, seq, hash) VALUES ($1, $2, $3) \
                     ON CONFLICT (chain) DO UPDATE SET seq = $2, hash = $3",
                )
                .bind(chain)
                .bind(position)
                .bind(hash)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }
}

/// A chain and the position and hash its head row records.
#[derive(Debug, Clone)]
pub struct ChainHead {
    pub chain: String,
    pub head: Option<(i64, String)>,
}

/// What `maillage audit verify` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainReport {
    /// Every chain links from its first entry to its head.
    /// Every chain links from its first entry to its head; `unkeyed` entries carry a plain hash (written
    /// before a key was configured).
    Intact {
        chains: usize,
        entries: i64,
        unkeyed: i64,
    },
    /// The first break found: in which chain, at which position, and why.
    Broken {
        chain: String,
        seq: i64,
        reason: String,
    },
}

/// A chain's head as a checkpoint recorded it: the chain had at least `seq` entries, the last one coded `hash`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointHead {
    pub chain: String,
    pub seq: i64,
    pub hash: String,
}

/// [`verify_audit_chains`] without keys nor checkpoints: entries must carry plain hashes.
pub async fn verify_audit_chain(
    store: &dyn crate::SecurityStore,
    page_size: i64,
) -> Result<ChainReport> {
    verify_audit_chains(store, &AuditKeys::default(), &[], page_size).await
}

/// Walks every chain in pages of `page_size` (bounded memory) and checks every link, every code (MACs with
/// `keys`), every head, and every head a checkpoint recorded (a chain shortened or recomputed since).
pub async fn verify_audit_chains(
    store: &dyn crate::SecurityStore,
    keys: &AuditKeys,
    checkpoints: &[CheckpointHead],
    page_size: i64,
) -> Result<ChainReport> {
    let heads = store.audit_chains().await?;
    for checkpoint in checkpoints {
        if !heads.iter().any(|h| h.chain == checkpoint.chain) {
            return Ok(ChainReport::Broken {
                chain: checkpoint.chain.clone(),
                seq: 1,
                reason: format!(
                    "a checkpoint recorded {} entries in this chain, which is gone (chain removed)",
                    checkpoint.seq
                ),
            });
        }
    }
    let mut entries = 0;
    let mut unkeyed = 0;
    for head in &heads {
        let mut expected = 1;
        let mut prev_hash = GENESIS_HASH.to_string();
        let mut keyed_seen = false;
        let recorded: Vec<&CheckpointHead> = checkpoints
            .iter()
            .filter(|c| c.chain == head.chain)
            .collect();
        loop {
            let page = store
                .audit_chain_after(&head.chain, expected - 1, page_size.max(1))
                .await?;
            if page.is_empty() {
                break;
            }
            for entry in page {
                let broken = |reason: String| ChainReport::Broken {
                    chain: head.chain.clone(),
                    seq: expected,
                    reason,
                };
                if entry.chain_seq != expected {
                    return Ok(broken(format!(
                        "entry {expected} is missing (next is {})",
                        entry.chain_seq
                    )));
                }
                if chain_key(entry.entry.cpts_id) != head.chain {
                    return Ok(broken("belongs to another chain (moved entry)".into()));
                }
                if entry.prev_hash != prev_hash {
                    return Ok(broken(
                        "does not link to the previous entry (inserted or removed entry)".into(),
                    ));
                }
                match check_audit_code(keys, entry.chain_seq, &entry.entry, &entry.prev_hash, &entry.hash) {
                    CodeCheck::Keyed => keyed_seen = true,
                    CodeCheck::Unkeyed if keyed_seen => {
                        return Ok(broken(
                            "written without the key after keyed entries (chain recomputed)".into(),
                        ))
                    }
                    CodeCheck::Unkeyed => unkeyed += 1,
                    CodeCheck::Mismatch => {
                        return Ok(broken(
                            "content does not match its code (modified entry, or recomputed without the key)"
                                .into(),
                        ))
                    }
                    CodeCheck::UnknownKey(id) => {
                        return Ok(broken(format!(
                            "coded with key {id}, which security.audit_keys does not hold"
                        )))
                    }
                }
                if let Some(checkpoint) = recorded.iter().find(|c| c.seq == expected) {
                    if checkpoint.hash != entry.hash {
                        return Ok(broken(
                            "differs from the checkpoint's record of this entry (chain rewritten)"
                                .into(),
                        ));
                    }
                }
                prev_hash = entry.hash;
                expected += 1;
            }
        }
        let last = expected - 1;
        entries += last;
        if let Some(checkpoint) = recorded.iter().find(|c| c.seq > last) {
            return Ok(ChainReport::Broken {
                chain: head.chain.clone(),
                seq: last + 1,
                reason: format!(
                    "the chain ends at entry {last} but a checkpoint recorded entry {} (entries removed at the end)",
                    checkpoint.seq
                ),
            });
        }
        match &head.head {
            Some((seq, hash)) if *seq == last && *hash == prev_hash => {}
            Some((seq, _)) => {
                return Ok(ChainReport::Broken {
                    chain: head.chain.clone(),
                    seq: last + 1,
                    reason: format!(
                        "the chain ends at entry {last} but its head records entry {seq} (entries removed at the end)"
                    ),
                })
            }
            None => {
                return Ok(ChainReport::Broken {
                    chain: head.chain.clone(),
                    seq: last,
                    reason: "the chain has entries but no head (head removed)".into(),
                })
            }
        }
    }
    Ok(ChainReport::Intact {
        chains: heads.len(),
        entries,
        unkeyed,
    })
}
