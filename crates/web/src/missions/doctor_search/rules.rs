//! Access to a médecin traitant: priority rules.

use super::*;

pub struct RuleField {
    pub name: &'static str,
    pub label: &'static str,
    pub value: u32,
}

#[derive(Template)]
#[template(path = "doctor_rules.html")]
pub(super) struct RulesPage {
    pub(super) layout: Layout,
    pub(super) slug: String,
    pub(super) fields: Vec<RuleField>,
    pub(super) errors: Vec<ValidationError>,
}

pub(super) fn rule_fields(rules: &PriorityRules) -> Vec<RuleField> {
    let mut fields: Vec<RuleField> = Criterion::ALL
        .into_iter()
        .map(|c| RuleField {
            name: c.code(),
            label: c.label(),
            value: rules.points(c),
        })
        .collect();
    fields.extend([
        RuleField {
            name: "aged",
            label: "Points pour l'âge",
            value: rules.aged,
        },
        RuleField {
            name: "aged_from",
            label: "Âge à partir duquel compter",
            value: rules.aged_from,
        },
        RuleField {
            name: "child",
            label: "Points pour un enfant",
            value: rules.child,
        },
        RuleField {
            name: "child_under",
            label: "Âge des enfants",
            value: rules.child_under,
        },
        RuleField {
            name: "waiting_per_month",
            label: "Points par mois d'attente",
            value: rules.waiting_per_month,
        },
        RuleField {
            name: "waiting_max",
            label: "Plafond des points d'attente",
            value: rules.waiting_max,
        },
    ]);
    fields
}

pub(super) async fn rules_form(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
) -> WebResult<Response> {
    let rules = state.missions.doctor_search.rules(context.cpts.id).await?;
    Ok(render(&RulesPage {
        layout: Layout::in_cpts(&viewer, &context, "Règles de priorité", BASE),
        slug: context.cpts.slug.clone(),
        fields: rule_fields(&rules),
        errors: Vec::new(),
    }))
}

pub(super) async fn save_rules(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Form(form): Form<std::collections::HashMap<String, String>>,
) -> WebResult<Response> {
    let mut rules = state.missions.doctor_search.rules(context.cpts.id).await?;
    let mut problems = Problems::default();
    for field in rule_fields(&PriorityRules::default()) {
        let text = form.get(field.name).map(String::as_str).unwrap_or("");
        let Ok(value) = text.trim().parse::<u32>() else {
            problems.add(field.label, "un nombre entier positif");
            continue;
        };
        match Criterion::parse(field.name) {
            Some(c) => *rules.points_mut(c) = value,
            None => match field.name {
                "aged" => rules.aged = value,
                "aged_from" => rules.aged_from = value,
                "child" => rules.child = value,
                "child_under" => rules.child_under = value,
                "waiting_per_month" => rules.waiting_per_month = value,
                _ => rules.waiting_max = value,
            },
        }
    }
    if problems.is_empty() {
        problems.keep(rules.check());
    }
    if !problems.is_empty() {
        let errors = problems.0;
        return Ok(render_form(
            &RulesPage {
                layout: Layout::in_cpts(&viewer, &context, "Règles de priorité", BASE),
                slug: context.cpts.slug.clone(),
                fields: rule_fields(&rules),
                errors,
            },
            true,
        ));
    }
    state
        .missions
        .doctor_search
        .save_rules(&caller, &rules)
        .await?;
    Ok(Redirect::to(&format!("/c/{}/{BASE}", context.cpts.slug)).into_response())
}
