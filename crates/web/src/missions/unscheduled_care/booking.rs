//! Unscheduled care: booking.

use super::*;
use maillage_domain::unscheduled_care::BookingStatus;

pub(super) fn to_booking(context: &CptsContext, id: Uuid) -> Response {
    Redirect::to(&format!(
        "/c/{}/{BASE}/reservations/{id}",
        context.cpts.slug
    ))
    .into_response()
}

/// A hold from the slot's page the SAS opened (`origine=sas`) records the SAS as the booking's origin.
pub(super) async fn hold(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, id)): Path<(String, String)>,
    pairs: crate::forms::FormPairs,
) -> WebResult<Response> {
    let slot = parse_id(&id)?;
    let origin = if pairs.text("origine") == BookingOrigin::SasRegulation.code() {
        BookingOrigin::SasRegulation
    } else {
        BookingOrigin::CptsSecretary
    };
    let held = state
        .missions
        .unscheduled_care
        .hold(&caller, slot, origin, "", now_ms())
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
#[template(path = "snp_slot.html")]
struct SlotPage {
    layout: Layout,
    slug: String,
    id: String,
    when: String,
    doctor: String,
    place: String,
    free: bool,
    /// Opened from the SAS (`origin` in the address): the booking records it.
    from_sas: bool,
}

#[derive(serde::Deserialize, Default)]
pub(super) struct SlotParams {
    #[serde(default)]
    origin: String,
}

/// The page of one slot, where the SAS sends the regulator (`Slot.comment`, with `origin` appended): the
/// slot, the professional and the place, and the button that holds it.
pub(super) async fn slot_page(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, id)): Path<(String, String)>,
    crate::forms::Query(params): crate::forms::Query<SlotParams>,
) -> WebResult<Response> {
    let id = parse_id(&id)?;
    let (slot, free) = state
        .missions
        .unscheduled_care
        .slot_to_book(&caller, id, now_ms())
        .await
        .map_err(care_error)?;
    let doctor = Professionals::default()
        .summary(&state, context.cpts.id, slot.professional_id)
        .await?
        .map(|p| format!("{} {} ({})", p.first_name, p.last_name, p.profession_label))
        .unwrap_or_default();
    let mut place = format!(
        "{} — {}",
        commune_name(&slot.commune_code),
        slot.modality.label()
    );
    if !slot.place.is_empty() {
        place = format!("{} — {place}", slot.place);
    }
    Ok(render(&SlotPage {
        layout: Layout::in_cpts(&viewer, &context, "Créneau de soins non programmés", BASE),
        slug: context.cpts.slug.clone(),
        id: slot.id.to_string(),
        when: french_slot_time(slot.start_at),
        doctor,
        place,
        free,
        from_sas: params.origin.to_ascii_lowercase().contains("sas"),
    }))
}

#[derive(Template)]
#[template(path = "snp_booking.html")]
pub(super) struct BookingPage {
    pub(super) layout: Layout,
    pub(super) slug: String,
    pub(super) id: String,
    pub(super) when: String,
    pub(super) doctor: String,
    pub(super) place: String,
    pub(super) status: String,
    pub(super) held: bool,
    pub(super) confirmed: bool,
    pub(super) hold_minutes: i64,
    pub(super) identity: Option<PatientIdentity>,
    /// DD/MM/YYYY.
    pub(super) birth_date: String,
    pub(super) origin: String,
    pub(super) reason: String,
    pub(super) outcome: String,
    pub(super) origins: Vec<Choice>,
    pub(super) reasons: Vec<Choice>,
    pub(super) outcomes: Vec<Choice>,
    /// The outcome can be recorded: the appointment is less than a day ahead (the service's rule).
    pub(super) outcome_open: bool,
    /// The patient's phone, grouped and dialable.
    pub(super) patient_phone: Option<crate::views::PhoneLink>,
    /// What became of the e-mails to the slot's professional (booked, cancelled).
    pub(super) notices: Vec<crate::views::MessageRow>,
    /// What became of the Appointments sent back to the SAS (booked, cancelled, outcome).
    pub(super) to_sas: Vec<crate::views::MessageRow>,
    /// The deployment sends the SAS's bookings back to it: the form asks who booked at the SAS.
    pub(super) asks_sas_operator: bool,
    pub(super) form: BookingForm,
    pub(super) errors: Vec<ValidationError>,
}

#[derive(Default, Clone)]
pub struct BookingForm {
    pub family_name: String,
    pub given_names: String,
    pub birth_date: String,
    pub phone: String,
    pub origin: String,
    pub reason: String,
    /// Who booked at the SAS (RPPS of the regulating doctor, or the SAS's identifier of the operator).
    pub sas_operator: String,
}

pub(super) async fn booking_view(
    state: &AppState,
    viewer: &Viewer,
    context: &CptsContext,
    caller: &maillage_app::caller::Caller,
    id: Uuid,
    mut form: BookingForm,
    errors: Vec<ValidationError>,
) -> WebResult<Response> {
    let (booking, slot, identity) = state
        .missions
        .unscheduled_care
        .booking(caller, id)
        .await
        .map_err(care_error)?;
    // Held from the page the SAS opened: the origin is known, the form starts with it.
    if form.origin.is_empty() && booking.origin == BookingOrigin::SasRegulation {
        form.origin = booking.origin.code().to_string();
    }
    let doctor = Professionals::default()
        .summary(state, context.cpts.id, slot.professional_id)
        .await?
        .map(|p| format!("{} {} ({})", p.first_name, p.last_name, p.profession_label))
        .unwrap_or_default();
    let now = now_ms();
    let patient_phone = identity
        .as_ref()
        .and_then(|p| p.phone.as_deref().and_then(crate::views::phone_link));
    let held = booking.status == BookingStatus::Held && booking.is_live_at(now);
    let (notices, to_sas) = state
        .missions
        .unscheduled_care
        .booking_notices(caller, id)
        .await
        .map_err(care_error)?;
    let notices = notices.iter().map(crate::views::message_row).collect();
    let to_sas = to_sas.iter().map(crate::views::message_row).collect();
    let asks_sas_operator = state.missions.unscheduled_care.sends_to_sas();
    let has_errors = !errors.is_empty();
    let page = BookingPage {
        layout: Layout::in_cpts(viewer, context, "Réservation d'un créneau", BASE),
        slug: context.cpts.slug.clone(),
        id: booking.id.to_string(),
        when: french_slot_time(slot.start_at),
        doctor,
        place: format!(
            "{} — {}",
            commune_name(&slot.commune_code),
            slot.modality.label()
        ),
        status: match booking.status {
            BookingStatus::Held if held => "Retenu pour vous".to_string(),
            BookingStatus::Held | BookingStatus::Expired => {
                "Délai dépassé : le créneau a été libéré".to_string()
            }
            BookingStatus::Confirmed => "Confirmé".to_string(),
            BookingStatus::Cancelled => "Annulé".to_string(),
        },
        held,
        confirmed: booking.status == BookingStatus::Confirmed,
        hold_minutes: HOLD_MINUTES,
        birth_date: identity
            .as_ref()
            .map(|p| crate::views::french_day(&p.birth_date))
            .unwrap_or_default(),
        identity,
        origin: booking.origin.label().to_string(),
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
        outcome_open: slot.start_at <= now + maillage_app::clock::DAY_MS,
        patient_phone,
        notices,
        to_sas,
        asks_sas_operator,
        form,
        errors,
    };
    Ok(render_form(&page, has_errors))
}

pub(super) async fn booking_page(
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

pub(super) async fn confirm(
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
        sas_operator: pairs.text("sas_operator"),
    };
    let mut problems = crate::forms::Problems::default();
    let family_name = problems
        .keep(maillage_domain::identifiers::person_name(
            "Nom",
            &form.family_name,
            100,
        ))
        .unwrap_or_default();
    let given_names = problems
        .keep(maillage_domain::identifiers::person_name(
            "Prénom",
            &form.given_names,
            100,
        ))
        .unwrap_or_default();
    let phone = problems.keep(maillage_domain::professional::parse_phone(
        "Téléphone",
        &form.phone,
    ));
    let birth_date = problems
        .keep(
            maillage_domain::structures::parse_date("Date de naissance", &form.birth_date)
                .and_then(|date| match date {
                    Some(date) if date.as_str() <= date_text(now_ms()).as_str() => Ok(date),
                    _ => Err(ValidationError::new(
                        "Date de naissance",
                        "obligatoire, et pas dans le futur (JJ/MM/AAAA)",
                    )),
                }),
        )
        .unwrap_or_default();
    let phone = match phone {
        Some(phone) if phone.is_empty() => {
            problems.add("Téléphone", "obligatoire pour prévenir le patient");
            phone
        }
        phone => phone.unwrap_or_default(),
    };
    let origin = BookingOrigin::parse(&form.origin);
    if origin.is_none() {
        problems.add("Origine", "choisissez une origine de la liste");
    }
    if reason_label(&form.reason).is_none() {
        problems.add("Motif", "choisissez un motif de la liste");
    }
    let sas_operator = problems
        .keep(maillage_domain::sas::SasOperator::parse(&form.sas_operator))
        .flatten();
    if !problems.is_empty() {
        return booking_view(&state, &viewer, &context, &caller, id, form, problems.0).await;
    }
    let identity = PatientIdentity {
        family_name,
        given_names,
        birth_date,
        phone: Some(phone),
        ..PatientIdentity::default()
    };
    let confirmed = state
        .missions
        .unscheduled_care
        .confirm(
            &caller,
            id,
            &identity,
            origin.unwrap_or(BookingOrigin::CptsSecretary),
            &form.reason,
            sas_operator.as_ref(),
        )
        .await;
    let confirmed = match confirmed {
        Err(maillage_app::unscheduled_care::CareError::Invalid(problem)) => {
            return booking_view(&state, &viewer, &context, &caller, id, form, vec![problem]).await;
        }
        other => other.map_err(care_error)?,
    };
    if !confirmed {
        return Err(WebError::Conflict(
            "Le délai pour confirmer est dépassé et le créneau a été libéré : cherchez à nouveau un créneau.".into(),
        ));
    }
    Ok(to_booking(&context, id))
}

pub(super) async fn cancel(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, id)): Path<(String, String)>,
    pairs: FormPairs,
) -> WebResult<Response> {
    let id = parse_id(&id)?;
    if !confirm::confirmed(&pairs) {
        state
            .missions
            .unscheduled_care
            .check_booking(&caller, id)
            .await
            .map_err(care_error)?;
        let page = format!("/c/{}/{BASE}/reservations/{id}", context.cpts.slug);
        return Ok(confirm::ask(
            &viewer,
            &context,
            BASE,
            Confirmation::new(
                "Annuler cette réservation ?",
                "Le créneau redevient libre pour un autre patient et le professionnel qui l'a publié en est \
                 prévenu. Pensez à prévenir le patient. Une réservation annulée ne peut pas être rétablie.",
                format!("{page}/annuler"),
                "Oui, annuler la réservation",
                page,
            ),
        ));
    }
    if !state
        .missions
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

pub(super) async fn outcome(
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
        .missions
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
