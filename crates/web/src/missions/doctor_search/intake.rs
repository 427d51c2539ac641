//! Access to a médecin traitant: intake.

use super::*;

#[derive(Template)]
#[template(path = "doctor_request_form.html")]
pub(super) struct RequestFormPage {
    pub(super) layout: Layout,
    pub(super) title: String,
    pub(super) action: String,
    pub(super) back: String,
    /// The secretary chooses the channel and names the referrer; a partner is the referrer.
    pub(super) choose_channel: bool,
    pub(super) editing: bool,
    pub(super) form: RequestFields,
    pub(super) referrer: String,
    pub(super) channels: Vec<Choice>,
    pub(super) communes: Vec<Choice>,
    pub(super) criteria: Vec<CriterionChoice>,
    pub(super) consents: Vec<Choice>,
    pub(super) consent_text: &'static str,
    pub(super) errors: Vec<ValidationError>,
}

/// Fields of the professionals' form: the request's, plus channel and referrer.
#[derive(Default)]
pub(super) struct IntakeForm {
    pub(super) fields: RequestFields,
    pub(super) channel: String,
    pub(super) referrer: String,
}

pub(super) fn request_fields(form: &FormPairs) -> RequestFields {
    RequestFields {
        family_name: form.text("family_name"),
        given_names: form.text("given_names"),
        birth_date: form.text("birth_date"),
        commune: form.text("commune"),
        phone: form.text("phone"),
        email: form.text("email"),
        address: form.text("address"),
        criteria: form.all("criteria"),
        note: form.text("note"),
        consent_by: form.text("consent_by"),
        consent: form.optional("consent"),
    }
}

impl IntakeForm {
    fn read(form: &FormPairs) -> Self {
        Self {
            fields: request_fields(form),
            channel: form.text("channel"),
            referrer: form.text("referrer"),
        }
    }
}

pub(super) fn channel_choices(selected: &str) -> Vec<Choice> {
    [
        Channel::Phone,
        Channel::Partner,
        Channel::CpamList,
        Channel::RetiringGpList,
    ]
    .into_iter()
    .map(|c| Choice {
        code: c.code().to_string(),
        label: c.label().to_string(),
        selected: c.code() == selected,
    })
    .collect()
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn intake_page(
    state: &AppState,
    viewer: &Viewer,
    context: &CptsContext,
    form: IntakeForm,
    errors: Vec<ValidationError>,
) -> WebResult<Response> {
    let slug = &context.cpts.slug;
    let secretary = allows(context.role, Permission::ViewPatientRequests);
    let has_errors = !errors.is_empty();
    let page = RequestFormPage {
        layout: Layout::in_cpts(
            viewer,
            context,
            "Nouvelle demande de médecin traitant",
            BASE,
        ),
        title: if secretary {
            "Nouvelle demande".into()
        } else {
            "Adresser un patient sans médecin traitant".into()
        },
        action: format!("/c/{slug}/{BASE}/nouvelle"),
        back: if secretary {
            format!("/c/{slug}/{BASE}")
        } else {
            format!("/c/{slug}/{BASE}/adressages")
        },
        choose_channel: secretary,
        editing: false,
        communes: territory_choices(state, context.cpts.id, &form.fields.commune).await?,
        criteria: criterion_choices(&form.fields.criteria),
        consents: consent_choices(&form.fields.consent_by),
        channels: channel_choices(if form.channel.is_empty() {
            "phone"
        } else {
            &form.channel
        }),
        referrer: form.referrer,
        form: form.fields,
        consent_text: CONSENT_TEXT,
        errors,
    };
    Ok(render_form(&page, has_errors))
}

pub(super) async fn new_form(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
) -> WebResult<Response> {
    intake_page(&state, &viewer, &context, IntakeForm::default(), Vec::new()).await
}

pub(super) async fn create(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    CurrentUser(user): CurrentUser,
    Authorised(caller): Authorised,
    pairs: FormPairs,
) -> WebResult<Response> {
    let form = IntakeForm::read(&pairs);
    let secretary = allows(context.role, Permission::ViewPatientRequests);
    let mut problems = Problems::default();
    let channel = if secretary {
        match Channel::parse(&form.channel) {
            Some(channel) if channel != Channel::WebForm => Some(channel),
            _ => {
                problems.add("Canal", "choisissez comment la demande est arrivée");
                None
            }
        }
    } else {
        Some(Channel::Partner)
    };
    if form.referrer.chars().count() > 200 {
        problems.add("Adressé par", "200 caractères au plus");
    }
    let input = match form.fields.parse(&date_text(now_ms())) {
        Ok(input) => Some(input),
        Err(refused) => {
            problems.extend(refused);
            None
        }
    };
    let (Some(channel), Some(input), true) = (channel, input, problems.is_empty()) else {
        return intake_page(&state, &viewer, &context, form, problems.0).await;
    };
    let referrer = if secretary {
        form.referrer.trim().to_string()
    } else if form.referrer.trim().is_empty() {
        user.user.display_name.clone()
    } else {
        format!("{} — {}", user.user.display_name, form.referrer.trim())
    };
    let origin = Origin {
        channel,
        referrer,
        referrer_user: (!secretary).then_some(user.user.id),
        consent_method: if secretary {
            format!(
                "recueilli oralement ou par écrit, saisi par {}",
                user.user.display_name
            )
        } else {
            format!("recueilli par le partenaire {}", user.user.display_name)
        },
        recorded_by: Some(user.user.id),
    };
    let submitted = state
        .missions
        .doctor_search
        .submit(&caller, &input, &origin)
        .await?;
    let slug = &context.cpts.slug;
    let target = if secretary {
        format!(
            "/c/{slug}/{BASE}/demandes/{}?{}",
            submitted.id,
            if submitted.merged {
                "fusion=1"
            } else {
                "nouvelle=1"
            }
        )
    } else {
        format!(
            "/c/{slug}/{BASE}/adressages?{}",
            if submitted.merged {
                "fusion=1"
            } else {
                "nouvelle=1"
            }
        )
    };
    Ok(Redirect::to(&target).into_response())
}
