//! Unscheduled care: professionals publish their slots ("Mes créneaux"), the secretary, a regulator or a
//! member finds the earliest free ones and books one for a patient (held, then confirmed), a second booking of
//! the same slot is refused, and the outcome (seen, no-show…) is recorded.

use super::directory::{commune_name, pair_choices, parse_id, territory_choices, Choice};
use crate::access::{Access, Authorised, CptsContext, CurrentUser, GuardedRouter, Viewer};
use crate::error::{WebError, WebResult};
use crate::forms::{FormPairs, Query};
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
        .post(
            "/c/{cpts}/soins-non-programmes/creneaux/{id}/reserver",
            Access::Cpts(Permission::BookSlots),
            "Réservation d'un créneau (retenu quelques minutes)",
            hold,
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

// --- Search ------------------------------------------------------------------------------------------------

pub struct SlotRow {
    pub id: String,
    pub when: String,
    pub doctor: String,
    pub profession: String,
    pub commune: String,
    pub distance: String,
    pub kind: &'static str,
    pub modality: &'static str,
}

#[derive(Template)]
#[template(path = "snp_search.html")]
struct SearchPage {
    layout: Layout,
    slug: String,
    professions: Vec<Choice>,
    modalities: Vec<Choice>,
    communes: Vec<Choice>,
    hours: String,
    distance: String,
    rows: Vec<SlotRow>,
    error: Option<String>,
    /// The map view (`vue=carte`): the communes of the slots found, and the patient's.
    map: Option<String>,
    /// The search's query string, for the links between list and map.
    query: String,
    pager: crate::views::Pager,
}

/// Slots per page of the search: the earliest first, so the first page is usually enough.
const SEARCH_PAGE: i64 = 30;

#[derive(Deserialize, Default)]
struct SearchParams {
    #[serde(default)]
    vue: String,
    page: Option<i64>,
    #[serde(default)]
    profession: String,
    #[serde(default)]
    modalite: String,
    #[serde(default)]
    commune: String,
    #[serde(default)]
    distance: String,
    #[serde(default)]
    heures: String,
}

/// Earliest free slots: 48 hours by default, any profession, any commune; with a patient's commune, only
/// slots within the distance (great-circle), nearest first among equal times.
async fn search(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Query(params): Query<SearchParams>,
) -> WebResult<Response> {
    search_view(&state, &viewer, &context, &caller, &params, None).await
}

/// The search page; `taken` tells that the slot just tried is no longer free (409, the list refreshed).
async fn search_view(
    state: &AppState,
    viewer: &Viewer,
    context: &CptsContext,
    caller: &maillage_app::caller::Caller,
    params: &SearchParams,
    taken: Option<String>,
) -> WebResult<Response> {
    let now = now_ms();
    let mut error = None;
    let hours: i64 = match params.heures.trim() {
        "" => 48,
        text => match text.parse::<i64>() {
            Ok(h) if (1..=24 * 14).contains(&h) => h,
            _ => {
                error = Some("Dans les prochaines heures : un nombre entre 1 et 336.".to_string());
                48
            }
        },
    };
    let distance: f64 = match params.distance.trim() {
        "" => 20.0,
        text => match text.replace(',', ".").parse::<f64>() {
            Ok(km) if (1.0..=100.0).contains(&km) => km,
            _ => {
                error =
                    Some("Distance maximale : un nombre de kilomètres entre 1 et 100.".to_string());
                20.0
            }
        },
    };
    let origin =
        maillage_domain::territory::find_code(params.commune.trim()).and_then(|c| c.coordinates());
    let communes: Vec<String> = match origin {
        Some(at) => maillage_domain::territory::communes()
            .iter()
            .filter(|c| {
                c.coordinates()
                    .is_some_and(|p| maillage_domain::territory::distance_km(at, p) <= distance)
            })
            .map(|c| c.code.clone())
            .take(500)
            .collect(),
        None => Vec::new(),
    };
    let query = SlotQuery {
        from: now,
        until: now + hours * 3_600_000,
        profession: profession_label(&params.profession).map(|_| params.profession.clone()),
        kinds: Vec::new(),
        modality: Modality::parse(&params.modalite).map(|m| m.code().to_string()),
        communes,
        professional: None,
        professionals: Vec::new(),
    };
    let page_number = crate::forms::page_number(params.page);
    let query_string = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("profession", params.profession.as_str()),
            ("modalite", params.modalite.as_str()),
            ("commune", params.commune.trim()),
            ("distance", params.distance.as_str()),
            ("heures", params.heures.as_str()),
        ])
        .finish();
    let view = if params.vue == "carte" {
        "&vue=carte"
    } else {
        ""
    };
    let (slots, pager) = crate::views::paginate(
        state
            .unscheduled_care
            .search(
                caller,
                &query,
                now,
                crate::views::lookahead(page_number, SEARCH_PAGE),
            )
            .await
            .map_err(care_error)?,
        &format!(
            "/c/{}/{BASE}/creneaux?{query_string}{view}",
            context.cpts.slug
        ),
        page_number,
        SEARCH_PAGE,
    );
    let mut rows = Vec::with_capacity(slots.len());
    let mut professionals = Professionals::default();
    professionals
        .load(
            state,
            context.cpts.id,
            slots.iter().map(|s| s.professional_id),
        )
        .await?;
    let map = (params.vue == "carte").then(|| slots_map(&slots, params.commune.trim()));
    for slot in slots {
        let name = professionals
            .name(state, context.cpts.id, slot.professional_id)
            .await?;
        let km = origin.zip(
            maillage_domain::territory::find_code(&slot.commune_code).and_then(|c| c.coordinates()),
        );
        rows.push(SlotRow {
            id: slot.id.to_string(),
            when: french_slot_time(slot.start_at),
            doctor: name,
            profession: profession_label(&slot.profession_code)
                .unwrap_or("Professionnel")
                .to_string(),
            commune: commune_name(&slot.commune_code),
            distance: km
                .map(|(a, b)| {
                    format!(
                        "{} km",
                        crate::charts::french_decimal(maillage_domain::territory::distance_km(
                            a, b
                        ))
                    )
                })
                .unwrap_or_default(),
            kind: SlotKind::parse(&slot.kind).map_or("", SlotKind::label),
            modality: Modality::parse(&slot.modality).map_or("", Modality::label),
        });
    }
    let has_error = error.is_some();
    let conflict = taken.is_some();
    let mut response = render_form(
        &SearchPage {
            layout: Layout::in_cpts(viewer, context, "Trouver un créneau", BASE),
            slug: context.cpts.slug.clone(),
            professions: pair_choices(&PROFESSIONS, &params.profession),
            modalities: choices(
                Modality::ALL,
                Modality::code,
                Modality::label,
                &params.modalite,
            ),
            communes: territory_choices(state, context.cpts.id, params.commune.trim()).await?,
            hours: hours.to_string(),
            distance: crate::charts::french_decimal(distance),
            rows,
            error: taken.or(error),
            map,
            query: query_string,
            pager,
        },
        has_error,
    );
    if conflict {
        *response.status_mut() = axum::http::StatusCode::CONFLICT;
    }
    Ok(response)
}

/// The communes of the slots found, sized by how many, and the patient's commune in green.
fn slots_map(slots: &[maillage_store::SnpSlot], patient_commune: &str) -> String {
    use super::territory::{points_map, MapPoint};
    let mut counts: Vec<(String, usize)> = Vec::new();
    for slot in slots {
        match counts
            .iter_mut()
            .find(|(code, _)| *code == slot.commune_code)
        {
            Some((_, n)) => *n += 1,
            None => counts.push((slot.commune_code.clone(), 1)),
        }
    }
    let mut points: Vec<MapPoint> = counts
        .iter()
        .filter_map(|(code, n)| {
            let commune = maillage_domain::territory::find_code(code)?;
            let (lat, lon) = commune.coordinates()?;
            Some(MapPoint {
                lat,
                lon,
                label: format!("{} ({n})", commune.name),
                title: format!("{} : {n} créneau(x) libre(s)", commune.name),
                weight: *n as f64,
                highlight: false,
            })
        })
        .collect();
    if let Some(commune) = maillage_domain::territory::find_code(patient_commune) {
        if let Some((lat, lon)) = commune.coordinates() {
            points.push(MapPoint {
                lat,
                lon,
                label: format!("{} (patient)", commune.name),
                title: format!("{} : commune du patient", commune.name),
                weight: 0.0,
                highlight: true,
            });
        }
    }
    points_map(
        &format!(
            "Carte des créneaux libres : {} commune(s), la commune du patient en vert",
            counts.len()
        ),
        &points,
    )
}

// --- Booking -------------------------------------------------------------------------------------------------

fn to_booking(context: &CptsContext, id: Uuid) -> Response {
    Redirect::to(&format!(
        "/c/{}/{BASE}/reservations/{id}",
        context.cpts.slug
    ))
    .into_response()
}

async fn hold(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, id)): Path<(String, String)>,
) -> WebResult<Response> {
    let slot = parse_id(&id)?;
    let held = state
        .unscheduled_care
        .hold(&caller, slot, BookingOrigin::CptsSecretary, "", now_ms())
        .await
        .map_err(care_error)?;
    match held {
        Some(booking) => Ok(Redirect::to(&format!(
            "/c/{}/{BASE}/reservations/{booking}",
            context.cpts.slug
        ))
        .into_response()),
        None => {
            search_view(
                &state,
                &viewer,
                &context,
                &caller,
                &SearchParams::default(),
                Some(
                    "Ce créneau vient d'être réservé par quelqu'un d'autre : il n'est plus libre. Choisissez-en un autre dans la liste ci-dessous."
                        .into(),
                ),
            )
            .await
        }
    }
}

#[derive(Template)]
#[template(path = "snp_booking.html")]
struct BookingPage {
    layout: Layout,
    slug: String,
    id: String,
    when: String,
    doctor: String,
    place: String,
    status: String,
    held: bool,
    confirmed: bool,
    hold_minutes: i64,
    identity: Option<PatientIdentity>,
    /// DD/MM/YYYY.
    birth_date: String,
    origin: String,
    reason: String,
    outcome: String,
    origins: Vec<Choice>,
    reasons: Vec<Choice>,
    outcomes: Vec<Choice>,
    form: BookingForm,
    errors: Vec<ValidationError>,
}

#[derive(Default, Clone)]
pub struct BookingForm {
    pub family_name: String,
    pub given_names: String,
    pub birth_date: String,
    pub phone: String,
    pub origin: String,
    pub reason: String,
}

async fn booking_view(
    state: &AppState,
    viewer: &Viewer,
    context: &CptsContext,
    caller: &maillage_app::caller::Caller,
    id: Uuid,
    form: BookingForm,
    errors: Vec<ValidationError>,
) -> WebResult<Response> {
    let (booking, slot, identity) = state
        .unscheduled_care
        .booking(caller, id)
        .await
        .map_err(care_error)?;
    let doctor = Professionals::default()
        .summary(state, context.cpts.id, slot.professional_id)
        .await?
        .map(|p| format!("{} {} ({})", p.first_name, p.last_name, p.profession_label))
        .unwrap_or_default();
    let held = booking.status == "held" && booking.is_live_at(now_ms());
    let has_errors = !errors.is_empty();
    let page = BookingPage {
        layout: Layout::in_cpts(viewer, context, "Réservation d'un créneau", BASE),
        slug: context.cpts.slug.clone(),
        id: booking.id.to_string(),
        when: french_slot_time(slot.start_at),
        doctor,
        place: format!(
            "{}{}",
            commune_name(&slot.commune_code),
            Modality::parse(&slot.modality)
                .map(|m| format!(" — {}", m.label()))
                .unwrap_or_default()
        ),
        status: match booking.status.as_str() {
            "held" if held => "Retenu pour vous".to_string(),
            "held" | "expired" => "Délai dépassé : le créneau a été libéré".to_string(),
            "confirmed" => "Confirmé".to_string(),
            _ => "Annulé".to_string(),
        },
        held,
        confirmed: booking.status == "confirmed",
        hold_minutes: HOLD_MINUTES,
        birth_date: identity
            .as_ref()
            .map(|p| crate::views::french_day(&p.birth_date))
            .unwrap_or_default(),
        identity,
        origin: BookingOrigin::parse(&booking.origin)
            .map_or("", BookingOrigin::label)
            .to_string(),
        reason: reason_label(&booking.reason)
            .unwrap_or_default()
            .to_string(),
        outcome: booking
            .outcome
            .as_deref()
            .and_then(Outcome::parse)
            .map_or(String::new(), |o| o.label().to_string()),
        origins: choices(
            BookingOrigin::ALL,
            BookingOrigin::code,
            BookingOrigin::label,
            &form.origin,
        ),
        reasons: pair_choices(&REASONS, &form.reason),
        outcomes: choices(Outcome::ALL, Outcome::code, Outcome::label, ""),
        form,
        errors,
    };
    Ok(render_form(&page, has_errors))
}

async fn booking_page(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, id)): Path<(String, String)>,
) -> WebResult<Response> {
    let id = parse_id(&id)?;
    booking_view(
        &state,
        &viewer,
        &context,
        &caller,
        id,
        BookingForm::default(),
        Vec::new(),
    )
    .await
}

async fn confirm(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, id)): Path<(String, String)>,
    pairs: FormPairs,
) -> WebResult<Response> {
    let id = parse_id(&id)?;
    let form = BookingForm {
        family_name: pairs.text("family_name"),
        given_names: pairs.text("given_names"),
        birth_date: pairs.text("birth_date"),
        phone: pairs.text("phone"),
        origin: pairs.text("origin"),
        reason: pairs.text("reason"),
    };
    let mut errors = Vec::new();
    let mut keep =
        |r: Result<String, ValidationError>| r.map_err(|e| errors.push(e)).unwrap_or_default();
    let family_name = keep(maillage_domain::identifiers::required_text(
        "Nom",
        &form.family_name,
        100,
    ));
    let given_names = keep(maillage_domain::identifiers::required_text(
        "Prénom",
        &form.given_names,
        100,
    ));
    let phone = keep(maillage_domain::professional::parse_phone(
        "Téléphone",
        &form.phone,
    ));
    let birth_date =
        match maillage_domain::structures::parse_date("Date de naissance", &form.birth_date) {
            Ok(Some(date)) if date.as_str() <= date_text(now_ms()).as_str() => date,
            Ok(_) => {
                errors.push(ValidationError::new(
                    "Date de naissance",
                    "obligatoire, et pas dans le futur (JJ/MM/AAAA)",
                ));
                String::new()
            }
            Err(e) => {
                errors.push(e);
                String::new()
            }
        };
    if phone.is_empty() && errors.iter().all(|e| e.field != "Téléphone") {
        errors.push(ValidationError::new(
            "Téléphone",
            "obligatoire pour prévenir le patient",
        ));
    }
    let origin = BookingOrigin::parse(&form.origin);
    if origin.is_none() {
        errors.push(ValidationError::new(
            "Origine",
            "choisissez une origine de la liste",
        ));
    }
    if reason_label(&form.reason).is_none() {
        errors.push(ValidationError::new(
            "Motif",
            "choisissez un motif de la liste",
        ));
    }
    if !errors.is_empty() {
        return booking_view(&state, &viewer, &context, &caller, id, form, errors).await;
    }
    let identity = PatientIdentity {
        family_name,
        given_names,
        birth_date,
        phone: Some(phone),
        ..PatientIdentity::default()
    };
    let confirmed = state
        .unscheduled_care
        .confirm(
            &caller,
            id,
            &identity,
            origin.unwrap_or(BookingOrigin::CptsSecretary),
            &form.reason,
        )
        .await
        .map_err(care_error)?;
    if !confirmed {
        return Err(WebError::Conflict(
            "Le délai pour confirmer est dépassé et le créneau a été libéré : cherchez à nouveau un créneau.".into(),
        ));
    }
    Ok(to_booking(&context, id))
}

async fn cancel(
    State(state): State<AppState>,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, id)): Path<(String, String)>,
) -> WebResult<Response> {
    let id = parse_id(&id)?;
    if !state
        .unscheduled_care
        .cancel(&caller, id)
        .await
        .map_err(care_error)?
    {
        return Err(WebError::Conflict(
            "Cette réservation n'est plus annulable.".into(),
        ));
    }
    Ok(to_booking(&context, id))
}

async fn outcome(
    State(state): State<AppState>,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, id)): Path<(String, String)>,
    pairs: FormPairs,
) -> WebResult<Response> {
    let id = parse_id(&id)?;
    let outcome = Outcome::parse(&pairs.text("outcome"))
        .ok_or_else(|| WebError::BadRequest("Issue : choisissez une issue de la liste.".into()))?;
    if !state
        .unscheduled_care
        .record_outcome(&caller, id, outcome)
        .await
        .map_err(care_error)?
    {
        return Err(WebError::Conflict(
            "Seule une réservation confirmée reçoit une issue.".into(),
        ));
    }
    Ok(to_booking(&context, id))
}

// --- Publishing -----------------------------------------------------------------------------------------------

pub struct MySlot {
    pub id: String,
    pub when: String,
    pub kind: &'static str,
    pub modality: &'static str,
    pub cancelled: bool,
    /// The live booking, to open it (a patient is coming).
    pub booking: Option<String>,
    pub reason: &'static str,
}

#[derive(Default, Clone)]
pub struct SingleSlotForm {
    pub day: String,
    pub start: String,
    pub duration: String,
    pub kind: String,
    pub modality: String,
    pub place: String,
}

#[derive(Template)]
#[template(path = "snp_my_slots.html")]
struct MySlotsPage {
    layout: Layout,
    slug: String,
    linked: bool,
    professionals: Vec<Choice>,
    weekdays: Vec<Choice>,
    kinds: Vec<Choice>,
    modalities: Vec<Choice>,
    form: PatternForm,
    single: SingleSlotForm,
    single_kinds: Vec<Choice>,
    single_modalities: Vec<Choice>,
    slots: Vec<MySlot>,
    errors: Vec<ValidationError>,
    single_errors: Vec<ValidationError>,
    pager: crate::views::Pager,
}

#[derive(Default, Clone)]
pub struct PatternForm {
    pub professional: String,
    pub weekday: String,
    pub start: String,
    pub end: String,
    pub duration: String,
    pub kind: String,
    pub modality: String,
    pub from: String,
    pub until: String,
    pub exceptions: String,
    pub place: String,
}

pub const WEEKDAYS: [(&str, &str); 7] = [
    ("1", "Lundi"),
    ("2", "Mardi"),
    ("3", "Mercredi"),
    ("4", "Jeudi"),
    ("5", "Vendredi"),
    ("6", "Samedi"),
    ("7", "Dimanche"),
];

/// What "my slots" shows again after a refused form: the pattern form, or the single-slot form, with errors.
#[derive(Default)]
struct MySlotsForms {
    pattern: PatternForm,
    single: SingleSlotForm,
    pattern_errors: Vec<ValidationError>,
    single_errors: Vec<ValidationError>,
    /// Page of the agenda (1 when 0).
    page: i64,
}

fn default_forms() -> MySlotsForms {
    let today = utc_to_paris(now_ms()).0;
    MySlotsForms {
        pattern: PatternForm {
            weekday: today.plus_days(1).weekday().to_string(),
            start: "08:00".into(),
            end: "12:00".into(),
            duration: "20".into(),
            kind: "sas".into(),
            modality: "cabinet".into(),
            from: today.french(),
            ..Default::default()
        },
        single: SingleSlotForm {
            day: today.plus_days(1).french(),
            start: "18:00".into(),
            duration: "20".into(),
            kind: "cpts".into(),
            modality: "cabinet".into(),
            place: String::new(),
        },
        ..Default::default()
    }
}

/// Slots of "my slots": the next four weeks, free or booked.
const MY_SLOTS_DAYS: i64 = 28;
/// Slots per page of "my slots": a phone screen's worth, the forms right after.
const MY_SLOTS_PAGE: i64 = 15;

async fn my_slots_page(
    state: &AppState,
    viewer: &Viewer,
    context: &CptsContext,
    caller: &maillage_app::caller::Caller,
    forms: MySlotsForms,
    notice: Option<String>,
) -> WebResult<Response> {
    let own = caller.professional();
    let MySlotsForms {
        pattern: form,
        single,
        pattern_errors: errors,
        single_errors,
        page,
    } = forms;
    let page = page.max(1);
    let mut pager = crate::views::Pager::new("", 1, MY_SLOTS_PAGE, 0);
    // The coordination publishes for a professional who phones in.
    let professionals = if context.role == Role::Coordinator {
        state
            .unscheduled_care
            .professionals_to_choose(caller, false, Page::MAX_LIMIT)
            .await
            .map_err(care_error)?
            .into_iter()
            .map(|p| Choice {
                selected: p.id.to_string() == form.professional,
                code: p.id.to_string(),
                label: format!("{} {} — {}", p.last_name, p.first_name, p.profession_label),
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut slots = Vec::new();
    if let Some(professional) = own {
        let now = now_ms();
        let scope = state
            .unscheduled_care
            .agenda_scope(caller, Some(professional))
            .map_err(care_error)?;
        let (entries, shown) = crate::views::paginate(
            state
                .unscheduled_care
                .agenda(
                    &scope,
                    now,
                    now + MY_SLOTS_DAYS * 86_400_000,
                    crate::views::lookahead(page, MY_SLOTS_PAGE),
                )
                .await
                .map_err(care_error)?,
            &format!("/c/{}/{BASE}/mes-creneaux", context.cpts.slug),
            page,
            MY_SLOTS_PAGE,
        );
        pager = shown;
        for entry in entries {
            let booked = entry.booked_at(now);
            slots.push(MySlot {
                id: entry.slot.id.to_string(),
                when: french_slot_time(entry.slot.start_at),
                kind: SlotKind::parse(&entry.slot.kind).map_or("", SlotKind::label),
                modality: Modality::parse(&entry.slot.modality).map_or("", Modality::label),
                cancelled: entry.slot.cancelled,
                booking: entry.booking_id.filter(|_| booked).map(|id| id.to_string()),
                reason: entry
                    .reason
                    .as_deref()
                    .filter(|_| booked)
                    .and_then(reason_label)
                    .unwrap_or(""),
            });
        }
    }
    let has_errors = !errors.is_empty() || !single_errors.is_empty();
    let page = MySlotsPage {
        layout: Layout::in_cpts(viewer, context, "Mes créneaux", BASE).with_notice(notice),
        slug: context.cpts.slug.clone(),
        linked: own.is_some(),
        professionals,
        weekdays: pair_choices(&WEEKDAYS, &form.weekday),
        kinds: choices(SlotKind::ALL, SlotKind::code, SlotKind::label, &form.kind),
        modalities: choices(
            Modality::ALL,
            Modality::code,
            Modality::label,
            &form.modality,
        ),
        single_kinds: choices(SlotKind::ALL, SlotKind::code, SlotKind::label, &single.kind),
        single_modalities: choices(
            Modality::ALL,
            Modality::code,
            Modality::label,
            &single.modality,
        ),
        form,
        single,
        slots,
        errors,
        single_errors,
        pager,
    };
    Ok(render_form(&page, has_errors))
}

#[derive(Deserialize, Default)]
struct MySlotsParams {
    #[serde(default)]
    publies: String,
    #[serde(default)]
    retire: String,
    page: Option<i64>,
}

async fn my_slots(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Query(params): Query<MySlotsParams>,
) -> WebResult<Response> {
    let notice = if params.publies.is_empty() {
        (!params.retire.is_empty()).then(|| "Le créneau est retiré.".to_string())
    } else {
        Some(format!(
            "{} créneau(x) publié(s).",
            params.publies.chars().take(6).collect::<String>()
        ))
    };
    let forms = MySlotsForms {
        page: crate::forms::page_number(params.page),
        ..default_forms()
    };
    my_slots_page(&state, &viewer, &context, &caller, forms, notice).await
}

/// The professional a form publishes for: the coordination may name one; others publish their own.
fn publishing_for(
    caller: &maillage_app::caller::Caller,
    chosen: &str,
    errors: &mut Vec<ValidationError>,
) -> Option<Uuid> {
    let professional = if caller.role() == Role::Coordinator && !chosen.is_empty() {
        Uuid::parse_str(chosen).ok()
    } else {
        caller.professional()
    };
    if professional.is_none() {
        errors.push(ValidationError::new(
            "Professionnel",
            "votre compte n'est relié à aucune fiche : demandez-le à la coordination",
        ));
    }
    professional
}

fn listed<T: Copy>(
    parse: fn(&str) -> Option<T>,
    code: &str,
    field: &'static str,
    fallback: T,
    errors: &mut Vec<ValidationError>,
) -> T {
    parse(code).unwrap_or_else(|| {
        errors.push(ValidationError::new(
            field,
            "choisissez une valeur de la liste",
        ));
        fallback
    })
}

async fn publish_single(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    pairs: FormPairs,
) -> WebResult<Response> {
    let single = SingleSlotForm {
        day: pairs.text("day"),
        start: pairs.text("start"),
        duration: pairs.text("duration"),
        kind: pairs.text("kind"),
        modality: pairs.text("modality"),
        place: pairs.text("place"),
    };
    let mut errors = Vec::new();
    let professional = publishing_for(&caller, &pairs.text("professional"), &mut errors);
    let day = Day::parse("Jour", &single.day)
        .map_err(|e| errors.push(e))
        .ok();
    let start = parse_time("Heure", &single.start)
        .map_err(|e| errors.push(e))
        .ok();
    let minutes = single.duration.trim().parse::<i64>().unwrap_or(0);
    let minutes = check_slot_minutes("Durée", minutes)
        .map_err(|e| errors.push(e))
        .ok()
        .map(|()| minutes);
    let kind = listed(
        SlotKind::parse,
        &single.kind,
        "Réservé à",
        SlotKind::Cpts,
        &mut errors,
    );
    let modality = listed(
        Modality::parse,
        &single.modality,
        "Modalité",
        Modality::Office,
        &mut errors,
    );
    let start_at = day.zip(start).map(|(d, m)| paris_to_utc(d, m));
    if start_at.is_some_and(|at| at <= now_ms()) {
        errors.push(ValidationError::new(
            "Jour",
            "le créneau doit commencer dans le futur",
        ));
    }
    if single.place.chars().count() > 200 {
        errors.push(ValidationError::new("Lieu", "200 caractères au plus"));
    }
    let (Some(professional), Some(start_at), Some(minutes), true) =
        (professional, start_at, minutes, errors.is_empty())
    else {
        let forms = MySlotsForms {
            single,
            single_errors: errors,
            ..default_forms()
        };
        return my_slots_page(&state, &viewer, &context, &caller, forms, None).await;
    };
    let created = state
        .unscheduled_care
        .publish_slot(
            &caller,
            professional,
            start_at,
            minutes,
            kind,
            modality,
            single.place.trim(),
        )
        .await
        .map_err(care_error)?;
    if !created {
        let forms = MySlotsForms {
            single,
            single_errors: vec![ValidationError::new(
                "Heure",
                "un créneau commence déjà à cette heure",
            )],
            ..default_forms()
        };
        return my_slots_page(&state, &viewer, &context, &caller, forms, None).await;
    }
    Ok(Redirect::to(&format!(
        "/c/{}/{BASE}/mes-creneaux?publies=1",
        context.cpts.slug
    ))
    .into_response())
}

/// Withdraws one of one's own free slots (the coordination: anyone's).
async fn withdraw(
    State(state): State<AppState>,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, id)): Path<(String, String)>,
) -> WebResult<Response> {
    let slot_id = parse_id(&id)?;
    if !state
        .unscheduled_care
        .cancel_slot(&caller, slot_id)
        .await
        .map_err(care_error)?
    {
        return Err(WebError::Conflict(
            "Ce créneau est réservé : annulez d'abord la réservation (en prévenant le patient)."
                .into(),
        ));
    }
    Ok(Redirect::to(&format!(
        "/c/{}/{BASE}/mes-creneaux?retire=1",
        context.cpts.slug
    ))
    .into_response())
}

async fn publish(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    pairs: FormPairs,
) -> WebResult<Response> {
    let form = PatternForm {
        professional: pairs.text("professional"),
        weekday: pairs.text("weekday"),
        start: pairs.text("start"),
        end: pairs.text("end"),
        duration: pairs.text("duration"),
        kind: pairs.text("kind"),
        modality: pairs.text("modality"),
        from: pairs.text("from"),
        until: pairs.text("until"),
        exceptions: pairs.text("exceptions"),
        place: pairs.text("place"),
    };
    let mut errors = Vec::new();
    let professional = publishing_for(&caller, &form.professional, &mut errors);
    let weekday = form.weekday.parse::<u32>().unwrap_or(0);
    let start = parse_time("Début", &form.start)
        .map_err(|e| errors.push(e))
        .unwrap_or(0);
    let end = parse_time("Fin", &form.end)
        .map_err(|e| errors.push(e))
        .unwrap_or(0);
    let duration = form.duration.trim().parse::<u32>().unwrap_or(0);
    let kind = listed(
        SlotKind::parse,
        &form.kind,
        "Réservé à",
        SlotKind::Cpts,
        &mut errors,
    );
    let modality = listed(
        Modality::parse,
        &form.modality,
        "Modalité",
        Modality::Office,
        &mut errors,
    );
    let today = utc_to_paris(now_ms()).0;
    let from = match form.from.trim() {
        "" => today,
        text => Day::parse("À partir du", text)
            .map_err(|e| errors.push(e))
            .unwrap_or(today),
    };
    let until = match form.until.trim() {
        "" => None,
        text => Day::parse("Jusqu'au", text)
            .map_err(|e| errors.push(e))
            .ok(),
    };
    let mut exceptions = Vec::new();
    for text in form
        .exceptions
        .split([',', ';', ' '])
        .filter(|t| !t.trim().is_empty())
    {
        match Day::parse("Sauf les jours", text) {
            Ok(day) => exceptions.push(day),
            Err(e) => errors.push(e),
        }
    }
    if form.place.chars().count() > 200 {
        errors.push(ValidationError::new("Lieu", "200 caractères au plus"));
    }
    let pattern = WeeklyPattern {
        weekday,
        start_minute: start,
        end_minute: end,
        slot_minutes: duration,
        kind,
        modality,
        valid_from: from,
        valid_until: until,
        exceptions,
        skip_public_holidays: true,
    };
    if let Err(problems) = pattern.check() {
        errors.extend(problems);
    }
    let (Some(professional), true) = (professional, errors.is_empty()) else {
        let forms = MySlotsForms {
            pattern: form,
            pattern_errors: errors,
            ..default_forms()
        };
        return my_slots_page(&state, &viewer, &context, &caller, forms, None).await;
    };
    let created = state
        .unscheduled_care
        .publish_pattern(&caller, professional, &pattern, form.place.trim())
        .await
        .map_err(care_error)?;
    Ok(Redirect::to(&format!(
        "/c/{}/{BASE}/mes-creneaux?publies={created}",
        context.cpts.slug
    ))
    .into_response())
}

// --- Dysfunctions ------------------------------------------------------------------------------------------

pub struct DysfunctionRow {
    pub id: String,
    pub when: String,
    pub kind: &'static str,
    pub reporter: String,
    pub description: String,
    pub follow_up: String,
    pub resolved: bool,
}

pub struct SummaryRow {
    pub kind: &'static str,
    pub count: i64,
    pub resolved: i64,
}

#[derive(Template)]
#[template(path = "snp_dysfunctions.html")]
struct DysfunctionsPage {
    layout: Layout,
    slug: String,
    kinds: Vec<Choice>,
    rows: Vec<DysfunctionRow>,
    summary: Vec<SummaryRow>,
    period: String,
    can_follow: bool,
    form_description: String,
    errors: Vec<ValidationError>,
    pager: crate::views::Pager,
}

#[derive(Deserialize, Default)]
struct DysfunctionParams {
    page: Option<i64>,
}

const DYSFUNCTION_PAGE: i64 = 50;

/// The last twelve months: what the SAS committee reviews.
fn committee_period(now: i64) -> (i64, i64) {
    (now - 365 * 86_400_000, now + 86_400_000)
}

#[allow(clippy::too_many_arguments)]
async fn dysfunctions_view(
    state: &AppState,
    viewer: &Viewer,
    context: &CptsContext,
    caller: &maillage_app::caller::Caller,
    number: i64,
    kind: String,
    description: String,
    errors: Vec<ValidationError>,
    notice: Option<String>,
) -> WebResult<Response> {
    let (from, until) = committee_period(now_ms());
    let rows = state
        .unscheduled_care
        .dysfunctions(
            caller,
            from,
            until,
            crate::views::lookahead(number, DYSFUNCTION_PAGE),
        )
        .await
        .map_err(care_error)?;
    let (rows, pager) = crate::views::paginate(
        rows,
        &format!("/c/{}/{BASE}/dysfonctionnements", context.cpts.slug),
        number,
        DYSFUNCTION_PAGE,
    );
    let summary = state
        .unscheduled_care
        .dysfunction_summary(caller, from, until)
        .await
        .map_err(care_error)?
        .into_iter()
        .map(|(kind, count, resolved)| SummaryRow {
            kind: DysfunctionKind::parse(&kind).map_or("Autre", DysfunctionKind::label),
            count,
            resolved,
        })
        .collect();
    let has_errors = !errors.is_empty();
    let page = DysfunctionsPage {
        layout: Layout::in_cpts(viewer, context, "Dysfonctionnements", BASE).with_notice(notice),
        slug: context.cpts.slug.clone(),
        kinds: choices(
            DysfunctionKind::ALL,
            DysfunctionKind::code,
            DysfunctionKind::label,
            &kind,
        ),
        rows: rows
            .into_iter()
            .map(|d| DysfunctionRow {
                id: d.id.to_string(),
                when: french_slot_time(d.occurred_at),
                kind: DysfunctionKind::parse(&d.kind).map_or("Autre", DysfunctionKind::label),
                reporter: d.reporter,
                description: d.description,
                follow_up: d.follow_up,
                resolved: d.resolved_at.is_some(),
            })
            .collect(),
        summary,
        period: "les douze derniers mois".into(),
        can_follow: allows(context.role, Permission::ManageCpts),
        form_description: description,
        errors,
        pager,
    };
    Ok(render_form(&page, has_errors))
}

async fn dysfunctions(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Query(params): Query<DysfunctionParams>,
) -> WebResult<Response> {
    let number = crate::forms::page_number(params.page);
    dysfunctions_view(
        &state,
        &viewer,
        &context,
        &caller,
        number,
        String::new(),
        String::new(),
        Vec::new(),
        None,
    )
    .await
}

async fn record_dysfunction(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    CurrentUser(user): CurrentUser,
    Authorised(caller): Authorised,
    pairs: FormPairs,
) -> WebResult<Response> {
    let kind = pairs.text("kind");
    let description = pairs.text("description").trim().to_string();
    let mut errors = Vec::new();
    if DysfunctionKind::parse(&kind).is_none() {
        errors.push(ValidationError::new(
            "Type",
            "choisissez un type de la liste",
        ));
    }
    if description.is_empty() || description.chars().count() > 500 {
        errors.push(ValidationError::new(
            "Ce qui s'est passé",
            "obligatoire, 500 caractères au plus, sans nom de patient",
        ));
    }
    if !errors.is_empty() {
        return dysfunctions_view(
            &state,
            &viewer,
            &context,
            &caller,
            1,
            kind,
            description,
            errors,
            None,
        )
        .await;
    }
    if let Err(error) = state
        .unscheduled_care
        .report_dysfunction(
            &caller,
            &user.user.display_name,
            DysfunctionKind::parse(&kind).unwrap_or(DysfunctionKind::Other),
            &description,
        )
        .await
    {
        return match error {
            CareError::Invalid(problem) => {
                dysfunctions_view(
                    &state,
                    &viewer,
                    &context,
                    &caller,
                    1,
                    kind,
                    description,
                    vec![problem],
                    None,
                )
                .await
            }
            other => Err(care_error(other)),
        };
    }
    Ok(Redirect::to(&format!(
        "/c/{}/{BASE}/dysfonctionnements",
        context.cpts.slug
    ))
    .into_response())
}

async fn follow_up(
    State(state): State<AppState>,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, id)): Path<(String, String)>,
    pairs: FormPairs,
) -> WebResult<Response> {
    let id = parse_id(&id)?;
    let text = pairs.text("follow_up").trim().to_string();
    if text.chars().count() > 500 {
        return Err(WebError::BadRequest(
            "Suite donnée : 500 caractères au plus.".into(),
        ));
    }
    state
        .unscheduled_care
        .follow_up_dysfunction(&caller, id, &text, pairs.optional("resolved").is_some())
        .await
        .map_err(care_error)?;
    Ok(Redirect::to(&format!(
        "/c/{}/{BASE}/dysfonctionnements",
        context.cpts.slug
    ))
    .into_response())
}
