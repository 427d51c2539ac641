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

/// The words a search may find a patient by, each a keyed hash scoped by the CPTS (see docs/security.md,
/// "Recherche de patients"): every part of the family and given names (folded: no accent, no case), the birth
/// date, the phone's ten digits.
pub fn search_terms(keyring: &Keyring, cpts: CptsId, identity: &PatientIdentity) -> Vec<String> {
    let scope = search_scope(cpts);
    let mut words: Vec<String> = name_parts(&identity.family_name)
        .chain(name_parts(&identity.given_names))
        .map(|part| format!("nom:{part}"))
        .collect();
    if !identity.birth_date.trim().is_empty() {
        words.push(format!("naissance:{}", identity.birth_date.trim()));
    }
    if let Some(phone) = identity
        .phone
        .as_deref()
        .and_then(|p| maillage_domain::professional::parse_phone("Téléphone", p).ok())
        .filter(|p| !p.is_empty())
    {
        words.push(format!("tel:{phone}"));
    }
    words.sort();
    words.dedup();
    words
        .iter()
        .map(|word| keyring.blind_index(&scope, word))
        .collect()
}

/// What someone typed in a search box, as the terms a patient must all have: a phone number (ten digits,
/// spaces allowed), or words that are each a birth date (JJ/MM/AAAA or AAAA-MM-JJ) or a whole name part.
/// Empty text: no search. A word too short to be a name is refused, with the field named.
pub fn query_terms(
    keyring: &Keyring,
    cpts: CptsId,
    text: &str,
) -> Result<Vec<String>, maillage_domain::ValidationError> {
    const FIELD: &str = "Recherche";
    let text = text.trim();
    if text.is_empty() {
        return Ok(Vec::new());
    }
    if text.chars().count() > 100 {
        return Err(maillage_domain::ValidationError::new(
            FIELD,
            "100 caractères au plus",
        ));
    }
    let scope = search_scope(cpts);
    let phone_like = text
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '.' | '-' | '+'));
    let mut words = Vec::new();
    if phone_like && text.chars().filter(char::is_ascii_digit).count() >= 9 {
        let phone = maillage_domain::professional::parse_phone(FIELD, text)?;
        words.push(format!("tel:{phone}"));
    } else {
        for word in text.split_whitespace() {
            if let Ok(day) = maillage_domain::calendar::Day::parse(FIELD, word) {
                words.push(format!("naissance:{}", day.iso()));
                continue;
            }
            let parts: Vec<String> = name_parts(word).collect();
            if parts.is_empty() {
                return Err(maillage_domain::ValidationError::new(
                    FIELD,
                    format!("« {word} » : un nom entier (2 lettres au moins), une date de naissance JJ/MM/AAAA ou un téléphone à 10 chiffres"),
                ));
            }
            words.extend(parts.into_iter().map(|part| format!("nom:{part}")));
        }
    }
    Ok(words
        .iter()
        .map(|word| keyring.blind_index(&scope, word))
        .collect())
}

/// Search terms live in their own space of the blind index: a term never equals a duplicate key.
fn search_scope(cpts: CptsId) -> Vec<u8> {
    format!("search:{cpts}").into_bytes()
}

/// The parts of a name as a search matches them: folded, split on spaces, hyphens and apostrophes, at least
/// two letters ("Saint-Laurent d'Aigouze" → SAINT, LAURENT, AIGOUZE).
fn name_parts(name: &str) -> impl Iterator<Item = String> + '_ {
    crate::crypto::normalise_name(name)
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|part| part.chars().filter(char::is_ascii_alphabetic).count() >= 2)
        .map(str::to_string)
        .collect::<Vec<_>>()
        .into_iter()
}

/// Writes the search terms of patients stored before the search existed, `batch` at a time, at most `limit`
/// in all (the hourly upkeep calls it until none is left). Returns how many were indexed.
pub async fn index_missing_search_terms(
    store: &dyn Store,
    keyring: &Keyring,
    batch: i64,
    limit: u64,
) -> Result<u64, PatientError> {
    let mut done = 0u64;
    while done < limit {
        let records = store.patients_without_search_terms(batch.max(1)).await?;
        if records.is_empty() {
            break;
        }
        for mut record in records {
            let identity = opened_identity(keyring, &record)?;
            record.search_terms = search_terms(keyring, record.cpts_id, &identity);
            if record.search_terms.is_empty() {
                // Nothing to find it by (no name, no date): a placeholder term keeps it from being scanned
                // again and matches no search.
                record.search_terms =
                    vec![keyring.blind_index(b"search:none", &record.id.to_string())];
            }
            store.replace_search_terms(&record).await?;
            done += 1;
        }
    }
    Ok(done)
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
        search_terms: search_terms(keyring, cpts, identity),
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
        let record = sealed_record(&self.keyring, cpts, id, identity, now_ms())?;
        self.store.create_patient(&record).await?;
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
                // With the blind index, the search terms follow a change of the index key.
                self.store
                    .replace_search_terms(&PatientRecord {
                        search_terms: search_terms(&self.keyring, record.cpts_id, &identity),
                        ..record
                    })
                    .await?;
                done += 1;
            }
            progress(done);
        }
    }
}
