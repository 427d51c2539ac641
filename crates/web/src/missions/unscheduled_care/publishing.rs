//! Unscheduled care: publishing.

use super::*;

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
pub(super) struct MySlotsPage {
    pub(super) layout: Layout,
    pub(super) slug: String,
    pub(super) linked: bool,
    pub(super) professionals: Vec<Choice>,
    pub(super) weekdays: Vec<Choice>,
    pub(super) kinds: Vec<Choice>,
    pub(super) modalities: Vec<Choice>,
    pub(super) form: PatternForm,
    pub(super) single: SingleSlotForm,
    pub(super) single_kinds: Vec<Choice>,
    pub(super) single_modalities: Vec<Choice>,
    pub(super) slots: Vec<MySlot>,
    /// The names of the linked professional's practice places, offered for the slots' place.
    pub(super) places: Vec<String>,
    pub(super) errors: Vec<ValidationError>,
    pub(super) single_errors: Vec<ValidationError>,
    pub(super) pager: crate::views::Pager,
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
pub(super) struct MySlotsForms {
    pub(super) pattern: PatternForm,
    pub(super) single: SingleSlotForm,
    pub(super) pattern_errors: Vec<ValidationError>,
    pub(super) single_errors: Vec<ValidationError>,
    /// Page of the agenda (1 when 0).
    pub(super) page: i64,
}

pub(super) fn default_forms() -> MySlotsForms {
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
pub(super) const MY_SLOTS_DAYS: i64 = 28;
/// Slots per page of "my slots": a phone screen's worth, the forms right after.
pub(super) const MY_SLOTS_PAGE: i64 = 15;

pub(super) async fn my_slots_page(
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
            .missions
            .unscheduled_care
            .professionals_to_choose(caller, false, None, Page::MAX_LIMIT)
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
    let mut places = Vec::new();
    if let Some(professional) = own {
        places = state
            .missions
            .unscheduled_care
            .practice_place_names(caller, professional)
            .await
            .map_err(care_error)?;
        let now = now_ms();
        let scope = state
            .missions
            .unscheduled_care
            .agenda_scope(caller, Some(professional))
            .map_err(care_error)?;
        let (entries, shown) = crate::views::paginate(
            state
                .missions
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
                kind: entry.slot.kind.label(),
                modality: entry.slot.modality.label(),
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
        places,
        errors,
        single_errors,
        pager,
    };
    Ok(render_form(&page, has_errors))
}

#[derive(Deserialize, Default)]
pub(super) struct MySlotsParams {
    #[serde(default)]
    publies: String,
    #[serde(default)]
    pub(super) retire: String,
    pub(super) page: Option<i64>,
}

pub(super) async fn my_slots(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Query(params): Query<MySlotsParams>,
) -> WebResult<Response> {
    // The address carries a number only: the sentence is the server's.
    let notice = match params.publies.parse::<i64>() {
        Ok(published) => Some(format!(
            "{}.",
            maillage_domain::text::count_of(published, "créneau publié", "créneaux publiés")
        )),
        Err(_) => (!params.retire.is_empty()).then(|| "Le créneau est retiré.".to_string()),
    };
    let forms = MySlotsForms {
        page: crate::forms::page_number(params.page),
        ..default_forms()
    };
    my_slots_page(&state, &viewer, &context, &caller, forms, notice).await
}

/// The professional a form publishes for: the coordination may name one; others publish their own.
pub(super) fn publishing_for(
    caller: &maillage_app::caller::Caller,
    chosen: &str,
    problems: &mut Problems,
) -> Option<Uuid> {
    let professional = if caller.role() == Role::Coordinator && !chosen.is_empty() {
        Uuid::parse_str(chosen).ok()
    } else {
        caller.professional()
    };
    if professional.is_none() {
        problems.add(
            "Professionnel",
            "votre compte n'est relié à aucune fiche : demandez-le à la coordination",
        );
    }
    professional
}

pub(super) fn listed<T: Copy>(
    parse: fn(&str) -> Option<T>,
    code: &str,
    field: &'static str,
    fallback: T,
    problems: &mut Problems,
) -> T {
    parse(code).unwrap_or_else(|| {
        problems.add(field, "choisissez une valeur de la liste");
        fallback
    })
}

pub(super) async fn publish_single(
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
    let mut problems = Problems::default();
    let professional = publishing_for(&caller, &pairs.text("professional"), &mut problems);
    let day = problems.keep(Day::parse("Jour", &single.day));
    let start = problems.keep(parse_time("Heure", &single.start));
    let minutes = single.duration.trim().parse::<i64>().unwrap_or(0);
    let minutes = problems
        .keep(check_slot_minutes("Durée", minutes))
        .map(|()| minutes);
    let kind = listed(
        SlotKind::parse,
        &single.kind,
        "Réservé à",
        SlotKind::Cpts,
        &mut problems,
    );
    let modality = listed(
        Modality::parse,
        &single.modality,
        "Modalité",
        Modality::Office,
        &mut problems,
    );
    let start_at = day.zip(start).map(|(d, m)| paris_to_utc(d, m));
    if start_at.is_some_and(|at| at <= now_ms()) {
        problems.add("Jour", "le créneau doit commencer dans le futur");
    }
    if single.place.chars().count() > 200 {
        problems.add("Lieu", "200 caractères au plus");
    }
    let (Some(professional), Some(start_at), Some(minutes), true) =
        (professional, start_at, minutes, problems.is_empty())
    else {
        let forms = MySlotsForms {
            single,
            single_errors: problems.0,
            ..default_forms()
        };
        return my_slots_page(&state, &viewer, &context, &caller, forms, None).await;
    };
    let created = state
        .missions
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
pub(super) async fn withdraw(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, id)): Path<(String, String)>,
    pairs: FormPairs,
) -> WebResult<Response> {
    let slot_id = parse_id(&id)?;
    if !confirm::confirmed(&pairs) {
        state
            .missions
            .unscheduled_care
            .check_slot(&caller, slot_id)
            .await
            .map_err(care_error)?;
        let mine = format!("/c/{}/{BASE}/mes-creneaux", context.cpts.slug);
        return Ok(confirm::ask(
            &viewer,
            &context,
            BASE,
            Confirmation::new(
                "Retirer ce créneau ?",
                "Le créneau ne sera plus proposé aux patients ni au SAS. Un créneau retiré ne peut pas être \
                 remis : publiez-en un nouveau si vous êtes de nouveau disponible.",
                format!("{mine}/{slot_id}/retirer"),
                "Oui, retirer le créneau",
                mine,
            ),
        ));
    }
    if !state
        .missions
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

pub(super) async fn publish(
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
    let mut problems = Problems::default();
    let professional = publishing_for(&caller, &form.professional, &mut problems);
    let weekday = form.weekday.parse::<u32>().unwrap_or(0);
    let start = problems.keep(parse_time("Début", &form.start)).unwrap_or(0);
    let end = problems.keep(parse_time("Fin", &form.end)).unwrap_or(0);
    let duration = form.duration.trim().parse::<u32>().unwrap_or(0);
    let kind = listed(
        SlotKind::parse,
        &form.kind,
        "Réservé à",
        SlotKind::Cpts,
        &mut problems,
    );
    let modality = listed(
        Modality::parse,
        &form.modality,
        "Modalité",
        Modality::Office,
        &mut problems,
    );
    let today = utc_to_paris(now_ms()).0;
    let from = match form.from.trim() {
        "" => today,
        text => problems
            .keep(Day::parse("À partir du", text))
            .unwrap_or(today),
    };
    let until = match form.until.trim() {
        "" => None,
        text => problems.keep(Day::parse("Jusqu'au", text)),
    };
    let mut exceptions = Vec::new();
    for text in form
        .exceptions
        .split([',', ';', ' '])
        .filter(|t| !t.trim().is_empty())
    {
        match Day::parse("Sauf les jours", text) {
            Ok(day) => exceptions.push(day),
            Err(e) => problems.extend([e]),
        }
    }
    if form.place.chars().count() > 200 {
        problems.add("Lieu", "200 caractères au plus");
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
    if let Err(refused) = pattern.check() {
        problems.extend(refused);
    }
    let (Some(professional), true) = (professional, problems.is_empty()) else {
        let forms = MySlotsForms {
            pattern: form,
            pattern_errors: problems.0,
            ..default_forms()
        };
        return my_slots_page(&state, &viewer, &context, &caller, forms, None).await;
    };
    let created = state
        .missions
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
