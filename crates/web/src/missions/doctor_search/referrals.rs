//! Access to a médecin traitant: a partner's referrals.

use super::*;

pub struct ReferralRow {
    pub id: String,
    /// "NOM Prénom, né(e) le …", or a dash once the request is anonymised.
    pub patient: String,
    pub received: String,
    pub commune: String,
    pub state: &'static str,
    pub since: String,
}

/// One line of a referral's history, in words.
pub struct HistoryLine {
    pub at: String,
    pub what: String,
}

#[derive(Template)]
#[template(path = "doctor_referral.html")]
pub(super) struct ReferralPage {
    pub(super) layout: Layout,
    pub(super) slug: String,
    pub(super) id: String,
    pub(super) row: ReferralRow,
    pub(super) phone: Option<crate::views::PhoneLink>,
    pub(super) note: String,
    pub(super) history: Vec<HistoryLine>,
    pub(super) open: bool,
    pub(super) information: String,
    pub(super) errors: Vec<ValidationError>,
    pub(super) max_chars: usize,
}

fn patient_line(patient: Option<&maillage_app::crypto::PatientIdentity>) -> String {
    patient.map_or_else(
        || "— (données effacées après la durée de conservation)".to_string(),
        |p| {
            format!(
                "{} {}, né(e) le {}",
                p.family_name,
                p.given_names,
                crate::views::french_day(&p.birth_date)
            )
        },
    )
}

fn referral_row(referral: &maillage_app::doctor_search::Referral) -> ReferralRow {
    let r = &referral.request;
    ReferralRow {
        id: r.id.to_string(),
        patient: patient_line(referral.patient.as_ref()),
        received: french_date(r.received_at),
        commune: commune_name(&r.commune_code),
        state: r.state.label(),
        since: french_date(r.state_since),
    }
}

/// What a partner may read of an event: that something happened and when, never a note of the coordination.
fn history_line(event: &maillage_store::RequestEvent) -> HistoryLine {
    let state = |code: &str| RequestState::parse(code).map_or("—", RequestState::label);
    let what = match event.kind.as_str() {
        "created" => "Demande reçue par la CPTS".to_string(),
        "merged" => "Réunie avec une autre demande de la même personne".to_string(),
        "state" => format!("État : {}", state(&event.to_state)),
        "edited" => "Informations corrigées par la coordination".to_string(),
        "notified" => "Patient prévenu".to_string(),
        "information" => "Information ajoutée par le partenaire".to_string(),
        _ => "Suivi par la coordination".to_string(),
    };
    HistoryLine {
        at: french_date(event.at),
        what,
    }
}

/// A partner's referral: the patient, where the request is, its history, and what she can do.
pub(super) async fn referral_page(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, id)): Path<(String, String)>,
    Query(params): Query<NoticeParams>,
) -> WebResult<Response> {
    let id = parse_id(&id)?;
    referral_view(
        &state,
        &viewer,
        &context,
        &caller,
        id,
        params.notice(),
        String::new(),
        Vec::new(),
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn referral_view(
    state: &AppState,
    viewer: &Viewer,
    context: &CptsContext,
    caller: &maillage_app::caller::Caller,
    id: Uuid,
    notice: Option<String>,
    information: String,
    errors: Vec<ValidationError>,
) -> WebResult<Response> {
    let (referral, events) = state.missions.doctor_search.my_referral(caller, id).await?;
    let has_errors = !errors.is_empty();
    let page = ReferralPage {
        layout: Layout::in_cpts(viewer, context, "Mon adressage", BASE).with_notice(notice),
        slug: context.cpts.slug.clone(),
        id: id.to_string(),
        phone: referral
            .patient
            .as_ref()
            .and_then(|p| p.phone.as_deref().and_then(crate::views::phone_link)),
        note: referral
            .patient
            .as_ref()
            .and_then(|p| p.note.clone())
            .unwrap_or_default(),
        open: !referral.request.state.is_final(),
        row: referral_row(&referral),
        history: events.iter().map(history_line).collect(),
        information,
        errors,
        max_chars: maillage_app::doctor_search::INFORMATION_MAX_CHARS,
    };
    Ok(render_form(&page, has_errors))
}

#[derive(Deserialize)]
pub(super) struct InformationForm {
    #[serde(default)]
    information: String,
}

pub(super) async fn add_information(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, id)): Path<(String, String)>,
    Form(form): Form<InformationForm>,
) -> WebResult<Response> {
    let id = parse_id(&id)?;
    match state
        .missions
        .doctor_search
        .add_referral_information(&caller, id, &form.information)
        .await
    {
        Ok(()) => Ok(Redirect::to(&format!(
            "/c/{}/{BASE}/adressages/{id}?information=1",
            context.cpts.slug
        ))
        .into_response()),
        Err(maillage_app::doctor_search::DoctorSearchError::Invalid(problem)) => {
            referral_view(
                &state,
                &viewer,
                &context,
                &caller,
                id,
                None,
                form.information,
                vec![problem],
            )
            .await
        }
        Err(other) => Err(other.into()),
    }
}

pub(super) async fn withdraw_referral(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, id)): Path<(String, String)>,
    pairs: FormPairs,
) -> WebResult<Response> {
    let id = parse_id(&id)?;
    let page = format!("/c/{}/{BASE}/adressages/{id}", context.cpts.slug);
    if !crate::confirm::confirmed(&pairs) {
        state
            .missions
            .doctor_search
            .check_referral(&caller, id)
            .await?;
        return Ok(crate::confirm::ask(
            &viewer,
            &context,
            BASE,
            crate::confirm::Confirmation::new(
                "Retirer cet adressage ?",
                "La CPTS arrête de chercher un médecin traitant pour ce patient (par exemple : il en a trouvé \
                 un, ou il a déménagé). Une demande retirée ne peut pas être rouverte : il faudrait adresser le \
                 patient de nouveau.",
                format!("{page}/retirer"),
                "Oui, retirer l'adressage",
                page.clone(),
            ),
        ));
    }
    state
        .missions
        .doctor_search
        .withdraw_referral(&caller, id)
        .await?;
    Ok(Redirect::to(&format!("{page}?retiree=1")).into_response())
}

#[derive(Template)]
#[template(path = "doctor_referrals.html")]
pub(super) struct ReferralsPage {
    pub(super) layout: Layout,
    pub(super) slug: String,
    pub(super) rows: Vec<ReferralRow>,
    pub(super) pager: Pager,
}

#[derive(Deserialize, Default)]
pub(super) struct NoticeParams {
    #[serde(default)]
    pub(super) nouvelle: String,
    #[serde(default)]
    pub(super) fusion: String,
    #[serde(default)]
    pub(super) separee: String,
    #[serde(default)]
    pub(super) doublon: String,
    #[serde(default)]
    pub(super) reponse: String,
    #[serde(default)]
    pub(super) appel: String,
    #[serde(default)]
    pub(super) deja: String,
    #[serde(default)]
    pub(super) acceptee: String,
    #[serde(default)]
    pub(super) refusee: String,
    #[serde(default)]
    pub(super) information: String,
    #[serde(default)]
    pub(super) retiree: String,
    pub(super) page: Option<i64>,
}

impl NoticeParams {
    /// The merge form was sent without its confirmation.
    pub(super) fn duplicate_error(&self) -> Option<String> {
        (self.doublon == "confirmer").then(|| {
            "Confirmation : cochez la case pour confirmer qu'il s'agit de la même personne.".into()
        })
    }

    pub(super) fn notice(&self) -> Option<String> {
        if !self.fusion.is_empty() {
            Some(
                "Cette personne avait déjà une demande en cours : les deux ont été réunies.".into(),
            )
        } else if !self.separee.is_empty() {
            Some("Demande gardée à part : ce n'est pas un doublon.".into())
        } else if !self.reponse.is_empty() {
            Some("Réponse du médecin enregistrée.".into())
        } else if !self.appel.is_empty() {
            Some("Appel enregistré.".into())
        } else if !self.deja.is_empty() {
            Some("Cette proposition avait déjà une réponse : rien n'a changé.".into())
        } else if !self.information.is_empty() {
            Some("Information transmise à la coordination de la CPTS.".into())
        } else if !self.retiree.is_empty() {
            Some("Adressage retiré : la CPTS ne cherche plus de médecin pour ce patient.".into())
        } else if !self.nouvelle.is_empty() {
            Some("Demande enregistrée.".into())
        } else {
            None
        }
    }
}

pub(super) async fn referrals(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Query(params): Query<NoticeParams>,
) -> WebResult<Response> {
    let number = crate::forms::page_number(params.page);
    let rows = state
        .missions
        .doctor_search
        .my_referrals_named(&caller, lookahead(number, PAGE_SIZE))
        .await?;
    let (rows, pager) = paginate(
        rows,
        &format!("/c/{}/{BASE}/adressages", context.cpts.slug),
        number,
        PAGE_SIZE,
    );
    Ok(render(&ReferralsPage {
        layout: Layout::in_cpts(&viewer, &context, "Mes adressages", BASE)
            .with_notice(params.notice()),
        slug: context.cpts.slug.clone(),
        rows: rows.iter().map(referral_row).collect(),
        pager,
    }))
}
