//! Access to a médecin traitant: indicators.

use super::*;

pub struct Figure {
    pub label: String,
    pub value: String,
}

#[derive(Template)]
#[template(path = "doctor_indicators.html")]
pub(super) struct IndicatorsPage {
    pub(super) can_match: bool,
    pub(super) layout: Layout,
    pub(super) slug: String,
    pub(super) year: i64,
    pub(super) years: Vec<Choice>,
    pub(super) period: String,
    pub(super) figures: Vec<Figure>,
    pub(super) channels: Vec<Figure>,
    pub(super) referrers: Vec<Figure>,
    pub(super) backlog: Vec<Figure>,
    pub(super) channel_chart: String,
    pub(super) backlog_chart: String,
}

#[derive(Deserialize, Default)]
pub(super) struct YearParams {
    pub(super) annee: Option<i64>,
}

pub(super) struct Indicators {
    pub(super) year: i64,
    pub(super) period: String,
    pub(super) figures: Vec<Figure>,
    pub(super) channels: Vec<Figure>,
    pub(super) referrers: Vec<Figure>,
    pub(super) backlog: Vec<Figure>,
}

/// The contract year is the calendar year; the current one runs to today ("en direct").
pub(super) async fn compute_indicators(
    state: &AppState,
    caller: &maillage_app::caller::Caller,
    params: &YearParams,
) -> WebResult<Indicators> {
    let now = now_ms();
    let this_year = year_of(now);
    let year = params
        .annee
        .filter(|y| (2000..=this_year).contains(y))
        .unwrap_or(this_year);
    let from = day_start_ms(year, 1, 1);
    let until = day_start_ms(year + 1, 1, 1);
    let f = state
        .missions
        .doctor_search
        .figures(caller, from, until)
        .await?;
    let mut delays = f.attachment_delays_days.clone();
    let median_delay = median(&mut delays)
        .map(|d| format!("{d} jours"))
        .unwrap_or_else(|| "—".into());
    let figure = |label: &str, value: String| Figure {
        label: label.to_string(),
        value,
    };
    let figures = vec![
        figure(
            "Patients sans médecin traitant ciblés (demandes reçues)",
            f.targeted.to_string(),
        ),
        figure(
            "Patients informés (prévenus par e-mail ou SMS)",
            f.informed.to_string(),
        ),
        figure(
            "Patients orientés (proposés à un médecin ou réorientés)",
            f.oriented.to_string(),
        ),
        figure(
            "Patients ayant trouvé un médecin traitant",
            f.attached.to_string(),
        ),
        figure("… dont en ALD", f.attached_ald.to_string()),
        figure(
            "… dont bénéficiaires de la CSS ou de l'AME",
            f.attached_css.to_string(),
        ),
        figure(
            "… dont âgés de 70 ans et plus",
            f.attached_aged_70.to_string(),
        ),
        figure(
            "Délai médian entre la demande et le médecin traitant",
            median_delay,
        ),
        figure(
            "Médecins déclarant des places aujourd'hui",
            f.gps_declaring.to_string(),
        ),
        figure(
            "Médecins ayant accepté au moins un patient",
            f.gps_accepting.to_string(),
        ),
        figure(
            "Places déclarées disponibles maintenant",
            f.capacity_now.to_string(),
        ),
        figure(
            "Places déclarées d'ici 6 mois",
            f.capacity_later.to_string(),
        ),
        figure(
            "Places utilisées (propositions acceptées)",
            f.places_used.to_string(),
        ),
    ];
    Ok(Indicators {
        year,
        period: if year == this_year {
            format!("du 01/01/{year} à aujourd'hui ({})", french_date(now))
        } else {
            format!("du 01/01/{year} au 31/12/{year}")
        },
        figures,
        channels: f
            .by_channel
            .iter()
            .map(|(code, n)| figure(channel_label(code), n.to_string()))
            .collect(),
        referrers: f
            .by_referrer
            .iter()
            .map(|(name, n)| figure(name, n.to_string()))
            .collect(),
        backlog: f
            .backlog_by_priority
            .iter()
            .map(|(priority, n)| figure(&format!("Priorité {priority}"), n.to_string()))
            .collect(),
    })
}

pub(super) async fn indicators(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Query(params): Query<YearParams>,
) -> WebResult<Response> {
    let i = compute_indicators(&state, &caller, &params).await?;
    let bars = |title: &str, rows: &[Figure]| {
        let groups: Vec<(String, Vec<Option<f64>>)> = rows
            .iter()
            .map(|r| (r.label.clone(), vec![r.value.parse::<f64>().ok()]))
            .collect();
        if groups.is_empty() {
            String::new()
        } else {
            crate::charts::grouped_bars(title, "demandes", &["Demandes"], &groups)
        }
    };
    let this_year = year_of(now_ms());
    Ok(render(&IndicatorsPage {
        layout: Layout::in_cpts(&viewer, &context, "Indicateurs — médecin traitant", BASE),
        can_match: true,
        slug: context.cpts.slug.clone(),
        year: i.year,
        years: (this_year - 4..=this_year)
            .rev()
            .map(|y| Choice {
                code: y.to_string(),
                label: if y == this_year {
                    format!("{y} (en cours)")
                } else {
                    y.to_string()
                },
                selected: y == i.year,
            })
            .collect(),
        period: i.period,
        channel_chart: bars("Demandes par canal", &i.channels),
        backlog_chart: bars("Demandes en attente par priorité", &i.backlog),
        figures: i.figures,
        channels: i.channels,
        referrers: i.referrers,
        backlog: i.backlog,
    }))
}

pub(super) fn indicator_rows(i: &Indicators) -> Vec<[String; 3]> {
    let mut rows = Vec::new();
    for (section, list) in [
        ("Indicateurs", &i.figures),
        ("Demandes par canal", &i.channels),
        ("Demandes par adresseur", &i.referrers),
        ("En attente par priorité", &i.backlog),
    ] {
        for f in list {
            rows.push([section.to_string(), f.label.clone(), f.value.clone()]);
        }
    }
    rows
}

pub(super) const INDICATOR_COLUMNS: [&str; 3] = ["Rubrique", "Indicateur", "Valeur"];

pub(super) async fn indicators_export(
    state: &AppState,
    context: &CptsContext,
    caller: &maillage_app::caller::Caller,
    params: &YearParams,
    format: &str,
) -> WebResult<Response> {
    let i = compute_indicators(state, caller, params).await?;
    state
        .missions
        .doctor_search
        .record_export(caller, i.year, format)
        .await?;
    let sheets = [crate::export::Sheet {
        name: format!("Médecin traitant {}", i.year),
        columns: &INDICATOR_COLUMNS,
        rows: indicator_rows(&i)
            .iter()
            .map(|row| row.iter().map(|c| Cell::from(c.as_str())).collect())
            .collect(),
    }];
    let file = format!(
        "indicateurs-medecin-traitant-{}-{}.{format}",
        context.cpts.slug, i.year
    );
    if format == "csv" {
        Ok(crate::export::report_csv(&file, &sheets))
    } else {
        crate::export::report_xlsx(&file, &sheets)
    }
}

pub(super) async fn indicators_csv(
    State(state): State<AppState>,
    context: CptsContext,
    Authorised(caller): Authorised,
    Query(params): Query<YearParams>,
) -> WebResult<Response> {
    indicators_export(&state, &context, &caller, &params, "csv").await
}

pub(super) async fn indicators_xlsx(
    State(state): State<AppState>,
    context: CptsContext,
    Authorised(caller): Authorised,
    Query(params): Query<YearParams>,
) -> WebResult<Response> {
    indicators_export(&state, &context, &caller, &params, "xlsx").await
}
