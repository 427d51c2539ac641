//! The care team's notes on a patient: written by whoever follows the patient (the coordination, a member of
//! the care team), sealed at rest and bound to the note, read only with the patient's audited record.

use super::{corrupt, PathwayCare, PathwayError, Result};
use crate::audit::{self, AuditEvent};
use crate::caller::Caller;
use crate::clock::now_ms;
use maillage_domain::audit::AuditAction;
use maillage_domain::ValidationError;
use maillage_store::{CptsId, NewPathwayNote, Page};
use uuid::Uuid;

/// A note as the care team reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CareNote {
    pub author: String,
    pub text: String,
    pub at: i64,
}

const NOTE_FIELD: &str = "Note";
/// The notes shown with a patient, newest first.
pub const NOTES_SHOWN: i64 = 50;

fn context(cpts: CptsId, note: Uuid) -> Vec<u8> {
    format!("pathway-note:{cpts}:{note}").into_bytes()
}

/// A note's text: 2 to 4 000 characters, trimmed.
pub fn check_note(text: &str) -> std::result::Result<String, ValidationError> {
    let text = text.trim();
    match text.chars().count() {
        0..=1 => Err(ValidationError::new(NOTE_FIELD, "la note est vide")),
        2..=4000 => Ok(text.to_string()),
        _ => Err(ValidationError::new(NOTE_FIELD, "4 000 caractères au plus")),
    }
}

impl PathwayCare {
    /// Adds a note on a patient the caller follows, with its audit entry (the note's text is not in it).
    pub async fn add_note(&self, caller: &Caller, inclusion: Uuid, text: &str) -> Result<()> {
        let (found, _) = self.followed(caller, inclusion).await?;
        let text = check_note(text).map_err(|e| PathwayError::Invalid(vec![e]))?;
        let cpts = caller.cpts();
        let author_name = self.author_name(caller).await?;
        let id = Uuid::now_v7();
        let body = self
            .keyring
            .seal(text.as_bytes(), &context(cpts, id))
            .map_err(corrupt)?;
        let note = NewPathwayNote {
            id,
            inclusion_id: found.id,
            author_id: caller.user(),
            author_name,
            body,
            created_at: now_ms(),
        };
        let entry = audit::entry(
            caller.audit(),
            AuditEvent::new(
                AuditAction::PathwayNoteAdded,
                "pathway_inclusion",
                inclusion.to_string(),
            )
            .detail(serde_json::json!({ "note": id })),
        );
        if !self.store.add_pathway_note(cpts, &note, &entry).await? {
            return Err(PathwayError::NotFound);
        }
        Ok(())
    }

    /// The notes of an inclusion, opened: only from the patient's read, once it is audited.
    pub(super) async fn opened_notes(
        &self,
        cpts: CptsId,
        inclusion: Uuid,
    ) -> Result<Vec<CareNote>> {
        self.store
            .pathway_notes(cpts, inclusion, Page::first(NOTES_SHOWN))
            .await?
            .into_iter()
            .map(|row| {
                let text = self
                    .keyring
                    .open(&row.body, &context(cpts, row.id))
                    .map_err(corrupt)?;
                Ok(CareNote {
                    author: row.author_name,
                    text: String::from_utf8_lossy(&text).into_owned(),
                    at: row.created_at,
                })
            })
            .collect()
    }
}
