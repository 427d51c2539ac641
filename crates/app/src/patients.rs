//! Patients: identity encrypted before it reaches the store, every read and change audited.

use crate::audit::{self, AuditContext, AuditEvent};
use crate::clock::now_ms;
use crate::crypto::{CryptoError, Keyring, PatientIdentity};
use maillage_domain::audit::AuditAction;
use maillage_store::{CptsId, PatientId, PatientRecord, Store, StoreError};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum PatientError {
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("identity cannot be encoded: {0}")]
    Encoding(String),
}

#[derive(Clone)]
pub struct Patients {
    store: Arc<dyn Store>,
    keyring: Arc<Keyring>,
}

/// Associated data binding a ciphertext to its row.
fn context(cpts: CptsId, id: PatientId) -> Vec<u8> {
    format!("patient:{cpts}:{id}").into_bytes()
}

/// The row of a new patient: identity sealed with the active key and bound to the row, blind index for
/// duplicates. For the missions that store a patient in the same transaction as their own record.
pub fn sealed_record(
    keyring: &Keyring,
    cpts: CptsId,
    id: PatientId,
    identity: &PatientIdentity,
    now: i64,
) -> Result<PatientRecord, PatientError> {
    let plaintext =
        serde_json::to_vec(identity).map_err(|e| PatientError::Encoding(e.to_string()))?;
    Ok(PatientRecord {
        id,
        cpts_id: cpts,
        identity: keyring.seal(&plaintext, &context(cpts, id))?,
        key_id: keyring.active_key_id().to_string(),
        blind_index: keyring.blind_index(cpts.to_string().as_bytes(), &identity.match_key()),
        created_at: now,
        updated_at: now,
    })
}

/// The identity of a stored patient row.
pub fn opened_identity(
    keyring: &Keyring,
    record: &PatientRecord,
) -> Result<PatientIdentity, PatientError> {
    let plaintext = keyring.open(&record.identity, &context(record.cpts_id, record.id))?;
    serde_json::from_slice(&plaintext).map_err(|e| PatientError::Encoding(e.to_string()))
}

impl Patients {
    pub fn new(store: Arc<dyn Store>, keyring: Arc<Keyring>) -> Self {
        Self { store, keyring }
    }

    fn seal(
        &self,
        cpts: CptsId,
        id: PatientId,
        identity: &PatientIdentity,
    ) -> Result<(Vec<u8>, String), PatientError> {
        let record = sealed_record(&self.keyring, cpts, id, identity, 0)?;
        Ok((record.identity, record.blind_index))
    }

    fn open(&self, record: &PatientRecord) -> Result<PatientIdentity, PatientError> {
        opened_identity(&self.keyring, record)
    }

    pub async fn create(
        &self,
        actor: &AuditContext,
        cpts: CptsId,
        identity: &PatientIdentity,
    ) -> Result<PatientId, PatientError> {
        let id = PatientId::new();
        let (sealed, blind_index) = self.seal(cpts, id, identity)?;
        let now = now_ms();
        self.store
            .create_patient(&PatientRecord {
                id,
                cpts_id: cpts,
                identity: sealed,
                key_id: self.keyring.active_key_id().to_string(),
                blind_index,
                created_at: now,
                updated_at: now,
            })
            .await?;
        audit::record(
            self.store.as_ref(),
            &actor.in_cpts(cpts),
            AuditEvent::new(AuditAction::PatientCreated, "patient", id.to_string()),
        )
        .await?;
        Ok(id)
    }

    /// Reads a patient's identity for `purpose`, and says so in the audit trail.
    pub async fn read(
        &self,
        actor: &AuditContext,
        cpts: CptsId,
        id: PatientId,
        purpose: &str,
    ) -> Result<Option<PatientIdentity>, PatientError> {
        let Some(record) = self.store.find_patient(cpts, id).await? else {
            return Ok(None);
        };
        audit::record(
            self.store.as_ref(),
            &actor.in_cpts(cpts),
            AuditEvent::new(AuditAction::PatientViewed, "patient", id.to_string()).purpose(purpose),
        )
        .await?;
        Ok(Some(self.open(&record)?))
    }

    /// Patients of the CPTS with the same names and birth date (duplicate detection without decrypting).
    pub async fn same_person(
        &self,
        cpts: CptsId,
        identity: &PatientIdentity,
    ) -> Result<Vec<PatientId>, PatientError> {
        let index = self
            .keyring
            .blind_index(cpts.to_string().as_bytes(), &identity.match_key());
        Ok(self
            .store
            .find_patients_by_blind_index(cpts, &index)
            .await?
            .into_iter()
            .map(|p| p.id)
            .collect())
    }

    /// Re-encrypts every patient not under the active key, `batch` at a time; `progress` is told the running
    /// count. Returns how many were re-encrypted.
    pub async fn rotate(
        &self,
        batch: i64,
        mut progress: impl FnMut(u64),
    ) -> Result<u64, PatientError> {
        let active = self.keyring.active_key_id().to_string();
        let mut done = 0u64;
        loop {
            let records = self
                .store
                .patients_not_under_key(&active, batch.max(1))
                .await?;
            if records.is_empty() {
                return Ok(done);
            }
            for record in records {
                let identity = self.open(&record)?;
                let (sealed, index) = self.seal(record.cpts_id, record.id, &identity)?;
                self.store
                    .update_patient_identity(
                        record.cpts_id,
                        record.id,
                        &sealed,
                        &active,
                        &index,
                        now_ms(),
                    )
                    .await?;
                done += 1;
            }
            progress(done);
        }
    }
}
