//! Unscheduled care: professionals publish their slots ("Mes créneaux"), the secretary, a regulator or a
//! member finds the earliest free ones and books one for a patient (held, then confirmed), a second booking of
//! the same slot is refused, and the outcome (seen, no-show…) is recorded.

use super::directory::{commune_name, pair_choices, parse_id, territory_choices, Choice};
use crate::access::{Access, Authorised, CptsContext, CurrentUser, GuardedRouter, Viewer};
use crate::confirm::{self, Confirmation};
use crate::error::{WebError, WebResult};
use crate::forms::{FormPairs, Problems, Query};
use crate::views::{render, render_form, Layout};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maillage_app::clock::{date_text, now_ms};
use maillage_app::crypto::PatientIdentity;
use maillage_app::unscheduled_care::{french_slot_time, CareError, HOLD_MINUTES};
use maillage_domain::authz::{allows, Permission, Role};
use maillage_domain::unscheduled_care::{
    check_slot_minutes, paris_to_utc, parse_time, profession_label, reason_label, utc_to_paris,
    BookingOrigin, Day, DysfunctionKind, Modality, Outcome, SlotKind, WeeklyPattern, PROFESSIONS,
    REASONS,
};
use maillage_domain::ValidationError;
use maillage_store::{Page, SlotQuery};
use serde::Deserialize;
use uuid::Uuid;

mod booking;
mod bookings_list;
mod dysfunctions;
mod publishing;
mod search;

use booking::*;
pub use bookings_list::to_do;
use bookings_list::*;
use dysfunctions::*;
pub use publishing::WEEKDAYS;
use publishing::*;
use search::*;

const BASE: &str = "soins-non-programmes";

pub fn routes(router: GuardedRouter) -> GuardedRouter {
    router
        .get(
            "/c/{cpts}/soins-non-programmes",
            Access::Cpts(Permission::ViewDashboard),
            "Soins non programmés : accueil de la mission",
            hub,
        )
        .get(
            "/c/{cpts}/soins-non-programmes/creneaux",
            Access::Cpts(Permission::BookSlots),
            "Recherche des créneaux libres",
            search,
        )
        .get(
            "/c/{cpts}/soins-non-programmes/creneaux/{id}",
            Access::Cpts(Permission::BookSlots),
            "Un créneau libre, ouvert depuis le SAS ou la recherche, à réserver",
            slot_page,
        )
        .post(
            "/c/{cpts}/soins-non-programmes/creneaux/{id}/reserver",
            Access::Cpts(Permission::BookSlots),
            "Réservation d'un créneau (retenu quelques minutes)",
            hold,
        )
        .get(
            "/c/{cpts}/soins-non-programmes/reservations",
            Access::Cpts(Permission::BookSlots),
            "Liste des réservations : patients attendus, issues à enregistrer",
            bookings,
        )
        .get(
            "/c/{cpts}/soins-non-programmes/reservations/{id}",
            Access::Cpts(Permission::BookSlots),
            "Réservation d'un créneau",
            booking_page,
        )
        .post(
            "/c/{cpts}/soins-non-programmes/reservations/{id}/confirmer",
            Access::Cpts(Permission::BookSlots),
            "Confirmation d'une réservation avec le patient",
            confirm,
        )
        .post(
            "/c/{cpts}/soins-non-programmes/reservations/{id}/annuler",
            Access::Cpts(Permission::BookSlots),
            "Annulation d'une réservation",
            cancel,
        )
        .post(
            "/c/{cpts}/soins-non-programmes/reservations/{id}/issue",
            Access::Cpts(Permission::BookSlots),
            "Issue d'une consultation (vu, absent, urgences, hospitalisé)",
            outcome,
        )
        .get(
            "/c/{cpts}/soins-non-programmes/dysfonctionnements",
            Access::Cpts(Permission::BookSlots),
            "Journal des dysfonctionnements et bilan pour le comité du SAS",
            dysfunctions,
        )
        .post(
            "/c/{cpts}/soins-non-programmes/dysfonctionnements",
            Access::Cpts(Permission::BookSlots),
            "Signalement d'un dysfonctionnement",
            record_dysfunction,
        )
        .post(
            "/c/{cpts}/soins-non-programmes/dysfonctionnements/{id}",
            Access::Cpts(Permission::ManageCpts),
            "Suite donnée à un dysfonctionnement",
            follow_up,
        )
        .get(
            "/c/{cpts}/soins-non-programmes/mes-creneaux",
            Access::Cpts(Permission::PublishSlots),
            "Mes créneaux de soins non programmés",
            my_slots,
        )
        .post(
            "/c/{cpts}/soins-non-programmes/mes-creneaux",
            Access::Cpts(Permission::PublishSlots),
            "Publication d'un créneau récurrent chaque semaine",
            publish,
        )
        .post(
            "/c/{cpts}/soins-non-programmes/mes-creneaux/ponctuel",
            Access::Cpts(Permission::PublishSlots),
            "Publication d'un créneau ponctuel",
            publish_single,
        )
        .post(
            "/c/{cpts}/soins-non-programmes/mes-creneaux/{id}/retirer",
            Access::Cpts(Permission::PublishSlots),
            "Retrait d'un créneau libre",
            withdraw,
        )
}

fn choices<T: Copy>(
    all: &[T],
    code: fn(T) -> &'static str,
    label: fn(T) -> &'static str,
    selected: &str,
) -> Vec<Choice> {
    all.iter()
        .map(|v| Choice {
            code: code(*v).to_string(),
            label: label(*v).to_string(),
            selected: code(*v) == selected,
        })
        .collect()
}

pub fn care_error(error: CareError) -> WebError {
    match error {
        CareError::Refused(message) => WebError::Conflict(message),
        CareError::Invalid(problem) => WebError::BadRequest(problem.to_string()),
        CareError::NotFound => WebError::NotFound,
        CareError::Store(e) => e.into(),
        other => WebError::Internal(other.to_string()),
    }
}

#[derive(Template)]
#[template(path = "snp_hub.html")]
struct HubPage {
    layout: Layout,
    slug: String,
    can_book: bool,
    can_publish: bool,
}

async fn hub(viewer: Viewer, context: CptsContext) -> Response {
    render(&HubPage {
        layout: Layout::in_cpts(&viewer, &context, "Soins non programmés", BASE),
        slug: context.cpts.slug.clone(),
        can_book: allows(context.role, Permission::BookSlots),
        can_publish: allows(context.role, Permission::PublishSlots),
    })
}

/// A window of the agenda read batch by batch, so that an export or a calendar feed never holds all of it.
pub struct AgendaBatches {
    scope: maillage_app::unscheduled_care::AgendaScope,
    from: i64,
    until: i64,
    offset: i64,
    done: bool,
}

impl AgendaBatches {
    pub const SIZE: i64 = 500;

    /// The slots starting in `[from, until)` in the scope the service granted.
    pub fn new(
        scope: maillage_app::unscheduled_care::AgendaScope,
        (from, until): (i64, i64),
    ) -> Self {
        AgendaBatches {
            scope,
            from,
            until,
            offset: 0,
            done: false,
        }
    }

    /// The next batch, or None once the window has been read.
    pub async fn next(
        &mut self,
        state: &AppState,
    ) -> WebResult<Option<Vec<maillage_store::AgendaEntry>>> {
        if self.done {
            return Ok(None);
        }
        let batch = state
            .missions
            .unscheduled_care
            .agenda(
                &self.scope,
                self.from,
                self.until,
                Page {
                    limit: Self::SIZE,
                    offset: self.offset,
                },
            )
            .await
            .map_err(care_error)?;
        self.done = (batch.len() as i64) < Self::SIZE;
        self.offset += Self::SIZE;
        Ok(Some(batch).filter(|batch| !batch.is_empty()))
    }
}

/// The professionals of a list (slots, turns), each read once: a whole page's in one query with
/// [`Professionals::load`], any other on first use.
#[derive(Default)]
pub struct Professionals {
    summaries: std::collections::HashMap<Uuid, Option<maillage_store::ProfessionalSummary>>,
}

impl Professionals {
    /// Reads those not read yet, in one query.
    pub async fn load(
        &mut self,
        state: &AppState,
        cpts: maillage_store::CptsId,
        ids: impl IntoIterator<Item = Uuid>,
    ) -> WebResult<()> {
        let mut missing: Vec<Uuid> = Vec::new();
        for id in ids {
            if !self.summaries.contains_key(&id) && !missing.contains(&id) {
                missing.push(id);
            }
        }
        for chunk in missing.chunks(500) {
            let found = state
                .missions
                .unscheduled_care
                .professional_summaries(cpts, chunk)
                .await
                .map_err(care_error)?;
            for id in chunk {
                let summary = found.iter().find(|s| s.id == *id).cloned();
                self.summaries.insert(*id, summary);
            }
        }
        Ok(())
    }

    pub async fn summary(
        &mut self,
        state: &AppState,
        cpts: maillage_store::CptsId,
        id: Uuid,
    ) -> WebResult<Option<&maillage_store::ProfessionalSummary>> {
        self.load(state, cpts, [id]).await?;
        Ok(self.summaries.get(&id).and_then(Option::as_ref))
    }

    /// "Léa ANDRE", or nothing when the professional is gone.
    pub async fn name(
        &mut self,
        state: &AppState,
        cpts: maillage_store::CptsId,
        id: Uuid,
    ) -> WebResult<String> {
        Ok(self
            .summary(state, cpts, id)
            .await?
            .map(|p| format!("{} {}", p.first_name, p.last_name))
            .unwrap_or_default())
    }
}
