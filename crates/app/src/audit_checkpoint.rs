//! Checkpoints of the audit chains: the head (position and code) of every chain at one moment, signed with
//! the audit key, written where the database's administrators cannot rewrite it (a file shipped elsewhere, a
//! log line collected by another system). Verifying against it (`maillage audit verify --checkpoint FILE`)
//! catches a chain shortened (its head updated to match) or recomputed since, which the chain alone cannot.
//!
//! One checkpoint is one JSON line: `{"at":…,"heads":[{"chain":…,"seq":…,"hash":…}],"signature":"hmac:…"}`;
//! a checkpoint file is any number of them, oldest first.

use maillage_domain::audit::AuditKeys;
use maillage_store::{CheckpointHead, Store, StoreError};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
struct Head {
    chain: String,
    seq: i64,
    hash: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Checkpoint {
    at: i64,
    heads: Vec<Head>,
    signature: String,
}

/// What the signature covers: the instant and every head, one per line, in the order written.
fn signed_text(at: i64, heads: &[Head]) -> String {
    let mut text = format!("{at}\n");
    for head in heads {
        text.push_str(&format!("{} {} {}\n", head.chain, head.seq, head.hash));
    }
    text
}

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("security.audit_keys is empty: a checkpoint must be signed (generate a key with `maillage keys generate`)")]
    NoKey,
    #[error("checkpoint line {line}: {reason}")]
    Invalid { line: usize, reason: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("checkpoint file {path}: {reason}")]
    File { path: String, reason: String },
}

/// The heads of every chain now, as one signed JSON line.
pub async fn checkpoint_now(
    store: &dyn Store,
    keys: &AuditKeys,
    now: i64,
) -> Result<String, CheckpointError> {
    let heads: Vec<Head> = store
        .audit_chains()
        .await?
        .into_iter()
        .filter_map(|head| {
            head.head.map(|(seq, hash)| Head {
                chain: head.chain,
                seq,
                hash,
            })
        })
        .collect();
    let signature = keys
        .sign(&signed_text(now, &heads))
        .ok_or(CheckpointError::NoKey)?;
    let checkpoint = Checkpoint {
        at: now,
        heads,
        signature,
    };
    serde_json::to_string(&checkpoint).map_err(|e| CheckpointError::Invalid {
        line: 0,
        reason: e.to_string(),
    })
}

/// Every head recorded by the checkpoints of `text` (JSON lines), each signature checked with `keys`.
pub fn read_checkpoints(
    text: &str,
    keys: &AuditKeys,
) -> Result<Vec<CheckpointHead>, CheckpointError> {
    let mut heads = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line_number = index + 1;
        if line.trim().is_empty() {
            continue;
        }
        let checkpoint: Checkpoint =
            serde_json::from_str(line).map_err(|e| CheckpointError::Invalid {
                line: line_number,
                reason: format!("not a checkpoint ({e})"),
            })?;
        if !keys.verify_signature(
            &signed_text(checkpoint.at, &checkpoint.heads),
            &checkpoint.signature,
        ) {
            return Err(CheckpointError::Invalid {
                line: line_number,
                reason:
                    "the signature does not match (altered, or signed with a key not configured)"
                        .into(),
            });
        }
        heads.extend(checkpoint.heads.into_iter().map(|head| CheckpointHead {
            chain: head.chain,
            seq: head.seq,
            hash: head.hash,
        }));
    }
    Ok(heads)
}

/// Writes a checkpoint every hour (the platform's upkeep): as a log line (target `maillage::audit_checkpoint`)
/// for a log collector, and appended to `security.audit_checkpoint_file` when one is set.
#[derive(Debug, Clone, Default)]
pub struct Checkpointer {
    pub keys: AuditKeys,
    pub file: Option<PathBuf>,
}

impl Checkpointer {
    pub fn from_config(config: &crate::config::Config) -> Result<Self, crate::crypto::CryptoError> {
        let file = config.security.audit_checkpoint_file.trim();
        Ok(Self {
            keys: config.audit_keys()?,
            file: (!file.is_empty()).then(|| PathBuf::from(file)),
        })
    }

    /// One checkpoint now; nothing without a key.
    pub async fn write(&self, store: &dyn Store, now: i64) -> Result<(), CheckpointError> {
        if self.keys.is_empty() {
            return Ok(());
        }
        let line = checkpoint_now(store, &self.keys, now).await?;
        tracing::info!(target: "maillage::audit_checkpoint", checkpoint = %line, "audit checkpoint");
        if let Some(path) = &self.file {
            append_line(path, &line)?;
        }
        Ok(())
    }
}

/// Appends one line to a checkpoint file, created readable by its owner only.
pub fn append_line(path: &std::path::Path, line: &str) -> Result<(), CheckpointError> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let failed = |e: std::io::Error| CheckpointError::File {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    let mut file = options.open(path).map_err(failed)?;
    writeln!(file, "{line}").map_err(failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_reads_back_only_with_its_key_and_unaltered() {
        let keys = AuditKeys::new(vec![("a1".into(), vec![3; 32])]);
        let heads = vec![Head {
            chain: "platform".into(),
            seq: 12,
            hash: "hmac:a1:00".into(),
        }];
        let line = serde_json::to_string(&Checkpoint {
            at: 5,
            signature: keys.sign(&signed_text(5, &heads)).unwrap(),
            heads,
        })
        .unwrap();
        let read = read_checkpoints(&format!("{line}\n\n"), &keys).unwrap();
        assert_eq!(read[0].seq, 12);
        let altered = line.replace("\"seq\":12", "\"seq\":9");
        assert!(read_checkpoints(&altered, &keys)
            .unwrap_err()
            .to_string()
            .contains("line 1"));
        let other = AuditKeys::new(vec![("a1".into(), vec![4; 32])]);
        assert!(read_checkpoints(&line, &other).is_err());
        assert!(read_checkpoints("pas du json", &keys).is_err());
    }
}
