//! What the national SAS platform reads through the FHIR API (flow INT_R04): free slots of named practitioners,
//! their directory summaries and practice structures, one slot, one professional. The reader is built by the
//! web access layer from a verified credential only; every read is audited first and nothing is returned when
//! its audit entry cannot be written. No patient data: a free slot has none.

use super::{CareError, Result, UnscheduledCare};
use crate::audit::{self, AuditContext, AuditEvent};
use maillage_domain::audit::AuditAction;
use maillage_store::{
    Cpts, Page, PlacesOf, PracticePlace, ProfessionalSummary, SlotQuery, SnpSlot,
};
use uuid::Uuid;

/// Who reads through the SAS API — a token of one CPTS, or a SAS client let in by its certificate for one
/// or several CPTS — and who acts from where for the audit trail (one entry in each CPTS read).
#[derive(Debug, Clone)]
pub struct SasReader {
    cpts: Vec<Cpts>,
    /// The credential read with (`api_token` or `sas_client`, its id): the audit entry's target.
    credential: (&'static str, Uuid),
    audit: AuditContext,
}

impl SasReader {
    /// A reader holding an API token of `cpts` (the access layer checked it and its scope).
    pub fn with_token(cpts: Cpts, token: Uuid, audit: AuditContext) -> Self {
        Self {
            cpts: vec![cpts],
            credential: ("api_token", token),
            audit,
        }
    }

    /// A SAS client whose certificate the access layer verified, for the CPTS it is registered with.
    pub fn with_client(cpts: Vec<Cpts>, client: Uuid, audit: AuditContext) -> Self {
        Self {
            cpts,
            credential: ("sas_client", client),
            audit,
        }
    }
}

/// What one CPTS answers to a search.
#[derive(Debug, Clone)]
pub struct CptsAnswer {
    pub cpts: Cpts,
    pub answer: SasAnswer,
}

/// The answer to a search: the matching free slots (earliest first), the professionals they belong to (in the
/// order their slots come), their practice places (one agenda each) and the structures they are attached to
/// (`id`, FINESS, SIRET).
#[derive(Debug, Clone, Default)]
pub struct SasAnswer {
    pub slots: Vec<SnpSlot>,
    pub professionals: Vec<ProfessionalSummary>,
    pub places: Vec<PlacesOf>,
    pub structures: Vec<(Uuid, String, String)>,
}

impl SasAnswer {
    /// The practice places of a professional of the answer (none known: empty).
    pub fn places_of(&self, professional: Uuid) -> &[PracticePlace] {
        self.places
            .iter()
            .find(|p| p.professional_id == professional)
            .map_or(&[], |p| p.places.as_slice())
    }

    /// The position, among its professional's places, of the place a slot is given at.
    pub fn place_position(&self, slot: &SnpSlot) -> usize {
        place_position(self.places_of(slot.professional_id), slot)
    }
}

/// The position, among `places` (its professional's), of the place a slot is given at.
fn place_position(places: &[PracticePlace], slot: &SnpSlot) -> usize {
    let names: Vec<&str> = places.iter().map(|p| p.name.as_str()).collect();
    maillage_domain::sas::place_of_slot(&slot.place, &names)
}

/// A search as the guide defines it, once its parameters are read.
#[derive(Debug, Clone)]
pub struct SasSearch<'a> {
    /// National identifiers (`8` + RPPS…): a record entered without its prefix is found too.
    pub practitioners: &'a [String],
    pub from: i64,
    pub until: i64,
    pub count: i64,
}

/// The identifiers a national one is looked up as: itself, and the bare RPPS of `8` + RPPS, so that a record
/// entered without its prefix is found (the guide's FAQ).
fn national_id_variants(national_id: &str, into: &mut Vec<String>) {
    into.push(national_id.to_string());
    if let Some(bare) = national_id.strip_prefix('8').filter(|b| b.len() == 11) {
        into.push(bare.to_string());
    }
}

impl UnscheduledCare {
    async fn audit_sas_read(&self, reader: &SasReader, cpts: &Cpts, slots: usize) -> Result<()> {
        let event = AuditEvent::new(
            AuditAction::FhirSlotsRead,
            reader.credential.0,
            reader.credential.1.to_string(),
        )
        .detail(serde_json::json!({ "slots": slots }));
        audit::record(self.store.as_ref(), &reader.audit.in_cpts(cpts.id), event).await?;
        Ok(())
    }

    /// In each CPTS of the reader (a professional effecteur in two comes back from both), the free slots of
    /// the practitioners in `[from, until]` still to come at `now` (a past window: none), at most `count`,
    /// with their professionals and structures.
    pub async fn sas_search(
        &self,
        reader: &SasReader,
        search: &SasSearch<'_>,
        now: i64,
    ) -> Result<Vec<CptsAnswer>> {
        let mut ids: Vec<String> = Vec::with_capacity(search.practitioners.len() * 2);
        for id in search.practitioners {
            national_id_variants(id, &mut ids);
        }
        let mut answers = Vec::with_capacity(reader.cpts.len());
        for cpts in &reader.cpts {
            let answer = self.sas_search_in(reader, cpts, &ids, search, now).await?;
            answers.push(CptsAnswer {
                cpts: cpts.clone(),
                answer,
            });
        }
        Ok(answers)
    }

    async fn sas_search_in(
        &self,
        reader: &SasReader,
        in_cpts: &Cpts,
        ids: &[String],
        search: &SasSearch<'_>,
        now: i64,
    ) -> Result<SasAnswer> {
        let cpts = in_cpts.id;
        let professionals = self.store.professionals_by_national_id(cpts, ids).await?;
        let from = search.from.max(now);
        let slots = if professionals.is_empty() || search.until < from {
            Vec::new()
        } else {
            let query = SlotQuery {
                from,
                until: search.until,
                professionals,
                ..Default::default()
            };
            self.store
                .search_free_slots(cpts, &query, now, Page::first(search.count))
                .await?
        };
        let mut seen: Vec<Uuid> = Vec::new();
        for slot in &slots {
            if !seen.contains(&slot.professional_id) {
                seen.push(slot.professional_id);
            }
        }
        let mut summaries = self.store.professional_summaries(cpts, &seen).await?;
        summaries.sort_by_key(|s| seen.iter().position(|id| *id == s.id));
        let places = self.store.practice_places_of(cpts, &seen).await?;
        let mut structures: Vec<(Uuid, String, String)> = Vec::new();
        for id in summaries.iter().filter_map(|s| s.structure_id) {
            if structures.iter().any(|(known, _, _)| *known == id) {
                continue;
            }
            if let Some(found) = self.store.structure(cpts, id).await? {
                structures.push((id, found.finess, found.siret));
            }
        }
        // Audited before anything is answered: no entry, no answer.
        self.audit_sas_read(reader, in_cpts, slots.len()).await?;
        Ok(SasAnswer {
            slots,
            professionals: summaries,
            places,
            structures,
        })
    }

    /// One slot of the reader's CPTS still to come, its CPTS, whether it is booked (the SAS learns nothing
    /// else) and the position of the practice place it is given at.
    pub async fn sas_slot(
        &self,
        reader: &SasReader,
        id: Uuid,
        now: i64,
    ) -> Result<(SnpSlot, Cpts, bool, usize)> {
        for cpts in &reader.cpts {
            let Some(slot) = self
                .store
                .find_slot(cpts.id, id)
                .await?
                .filter(|s| !s.cancelled && s.start_at >= now)
            else {
                continue;
            };
            let booked = self.slot_booked_at(cpts.id, id, now).await?;
            // The practice place it is given at (its Schedule).
            let places = self.practice_places(cpts.id, slot.professional_id).await?;
            let position = place_position(&places, &slot);
            self.audit_sas_read(reader, cpts, 1).await?;
            return Ok((slot, cpts.clone(), booked, position));
        }
        Err(CareError::NotFound)
    }

    /// One professional of the reader's CPTS with their practice places (a Schedule read).
    pub async fn sas_professional(
        &self,
        reader: &SasReader,
        id: Uuid,
    ) -> Result<(ProfessionalSummary, Vec<PracticePlace>)> {
        for cpts in &reader.cpts {
            if let Some(found) = self
                .store
                .professional_summaries(cpts.id, &[id])
                .await?
                .into_iter()
                .next()
            {
                let places = self.practice_places(cpts.id, id).await?;
                self.audit_sas_read(reader, cpts, 0).await?;
                return Ok((found, places));
            }
        }
        Err(CareError::NotFound)
    }

    /// The professional a national identifier names (`8` + RPPS, or the bare RPPS of a record entered so), in
    /// the first CPTS of the reader that has one (a Practitioner read).
    pub async fn sas_practitioner(
        &self,
        reader: &SasReader,
        national_id: &str,
    ) -> Result<ProfessionalSummary> {
        let mut ids = Vec::with_capacity(2);
        national_id_variants(national_id, &mut ids);
        for cpts in &reader.cpts {
            let found = self
                .store
                .professionals_by_national_id(cpts.id, &ids)
                .await?;
            if let Some(first) = found.first() {
                if let Some(summary) = self
                    .store
                    .professional_summaries(cpts.id, &[*first])
                    .await?
                    .into_iter()
                    .next()
                {
                    self.audit_sas_read(reader, cpts, 0).await?;
                    return Ok(summary);
                }
            }
        }
        Err(CareError::NotFound)
    }
}
