//! Liaison sheets between town and hospital: recorded on the step that waits for one (its evidence is « fiche
//! de liaison reçue »), which closes on the sheet's day in the same transaction; sealed at rest; opened only
//! with the patient's audited record, to be printed on A4.

use super::{corrupt, FollowedPatient, PathwayCare, PathwayError, Result};
use crate::audit::{self, AuditEvent};
use crate::caller::Caller;
use crate::clock::now_ms;
use maillage_domain::audit::AuditAction;
use maillage_domain::calendar::Day;
use maillage_domain::pathways::liaison::{check_sheet, LiaisonSheet, SheetDraft};
use maillage_domain::pathways::Evidence;
use maillage_domain::ValidationError;
use maillage_store::{CptsId, NewLiaisonSheet};
use uuid::Uuid;

fn context(cpts: CptsId, sheet: Uuid) -> Vec<u8> {
    format!("pathway-liaison:{cpts}:{sheet}").into_bytes()
}

/// A sheet opened for printing, with the patient it is about.
#[derive(Debug, Clone)]
pub struct PrintedSheet {
    pub patient: FollowedPatient,
    pub step_label: String,
    pub author: String,
    pub sheet: LiaisonSheet,
}

impl PathwayCare {
    /// Records the liaison sheet of a step that closes with one, closing it on the sheet's day: the
    /// coordination or the team member of the step's role. Returns the sheet's id.
    pub async fn record_liaison_sheet(
        &self,
        caller: &Caller,
        inclusion: Uuid,
        step: Uuid,
        draft: &SheetDraft,
        today: Day,
    ) -> Result<Uuid> {
        let (found, team) = self.followed(caller, inclusion).await?;
        let cpts = caller.cpts();
        let row = self
            .store
            .inclusion_steps(cpts, inclusion)
            .await?
            .into_iter()
            .find(|s| s.id == step)
            .ok_or(PathwayError::NotFound)?;
        let template = self.template_of(caller, &found).await?;
        if template.step(&row.code).map(|s| s.evidence) != Some(Evidence::LiaisonSheet) {
            return Err(PathwayError::Invalid(vec![ValidationError::new(
                "Étape",
                "cette étape ne se clôt pas par une fiche de liaison",
            )]));
        }
        if !Self::may_settle(caller, &team, &row.owner_role) {
            return Err(PathwayError::Invalid(vec![ValidationError::new(
                "Étape",
                "cette étape revient à un autre membre de l'équipe de soins",
            )]));
        }
        let sheet = check_sheet(draft, today).map_err(PathwayError::Invalid)?;
        let id = Uuid::now_v7();
        let body = self
            .keyring
            .seal(
                &serde_json::to_vec(&sheet).map_err(corrupt)?,
                &context(cpts, id),
            )
            .map_err(corrupt)?;
        let author = self.author_name(caller).await?;
        let entry = audit::entry(
            caller.audit(),
            AuditEvent::new(AuditAction::PathwayLiaisonRecorded, "pathway_step", step.to_string())
                .detail(serde_json::json!({ "inclusion": inclusion, "sheet": id, "direction": sheet.direction })),
        );
        let new = NewLiaisonSheet {
            id,
            step_id: step,
            direction: sheet.direction.clone(),
            dated_on: sheet.dated_on.clone(),
            body,
            author_name: author,
            created_at: now_ms(),
        };
        if !self
            .store
            .record_liaison_sheet(cpts, inclusion, &new, &entry)
            .await?
        {
            return Err(PathwayError::Invalid(vec![ValidationError::new(
                "Étape",
                "cette étape est déjà faite ou annulée",
            )]));
        }
        Ok(id)
    }

    /// A sheet to print: the patient's record read (and audited) first, then the sheet opened.
    pub async fn printed_sheet(
        &self,
        caller: &Caller,
        inclusion: Uuid,
        sheet: Uuid,
        today: Day,
    ) -> Result<PrintedSheet> {
        let patient = self.patient(caller, inclusion, today).await?;
        let cpts = caller.cpts();
        let row = self
            .store
            .liaison_sheets(cpts, inclusion)
            .await?
            .into_iter()
            .find(|s| s.id == sheet)
            .ok_or(PathwayError::NotFound)?;
        let plaintext = self
            .keyring
            .open(&row.body, &context(cpts, row.id))
            .map_err(corrupt)?;
        let opened: LiaisonSheet = serde_json::from_slice(&plaintext).map_err(corrupt)?;
        let step_label = patient
            .steps
            .iter()
            .find(|s| s.row.id == row.step_id)
            .map_or(String::new(), |s| s.row.label.clone());
        Ok(PrintedSheet {
            patient,
            step_label,
            author: row.author_name,
            sheet: opened,
        })
    }
}
