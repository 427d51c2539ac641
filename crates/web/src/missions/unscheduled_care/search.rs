//! Unscheduled care: search.

use super::*;

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
pub(super) struct SearchPage {
    pub(super) layout: Layout,
    pub(super) slug: String,
    pub(super) professions: Vec<Choice>,
    pub(super) modalities: Vec<Choice>,
    pub(super) communes: Vec<Choice>,
    pub(super) hours: String,
    pub(super) distance: String,
    pub(super) rows: Vec<SlotRow>,
    pub(super) error: Option<String>,
    /// The map view (`vue=carte`): the communes of the slots found, and the patient's.
    pub(super) map: Option<String>,
    /// The search's query string, for the links between list and map.
    pub(super) query: String,
    pub(super) pager: crate::views::Pager,
}

/// Slots per page of the search: the earliest first, so the first page is usually enough.
pub(super) const SEARCH_PAGE: i64 = 30;

#[derive(Deserialize, Default)]
pub(super) struct SearchParams {
    #[serde(default)]
    pub(super) vue: String,
    pub(super) page: Option<i64>,
    #[serde(default)]
    pub(super) profession: String,
    #[serde(default)]
    pub(super) modalite: String,
    #[serde(default)]
    pub(super) commune: String,
    #[serde(default)]
    pub(super) distance: String,
    #[serde(default)]
    pub(super) heures: String,
}

/// Earliest free slots: 48 hours by default, any profession, any commune; with a patient's commune, only
/// slots within the distance (great-circle), nearest first among equal times.
pub(super) async fn search(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Query(params): Query<SearchParams>,
) -> WebResult<Response> {
    search_view(&state, &viewer, &context, &caller, &params, None).await
}

/// The search page; `taken` tells that the slot just tried is no longer free (409, the list refreshed).
pub(super) async fn search_view(
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
            .missions
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
            kind: slot.kind.label(),
            modality: slot.modality.label(),
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
pub(super) fn slots_map(slots: &[maillage_store::SnpSlot], patient_commune: &str) -> String {
    use crate::missions::territory::{points_map, MapPoint};
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
                title: format!(
                    "{} : {}",
                    commune.name,
                    maillage_domain::text::count_of(
                        i64::try_from(*n).unwrap_or(i64::MAX),
                        "créneau libre",
                        "créneaux libres"
                    )
                ),
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
            "Carte des créneaux libres : {}, la commune du patient en vert",
            maillage_domain::text::count_of(
                i64::try_from(counts.len()).unwrap_or(i64::MAX),
                "commune",
                "communes"
            )
        ),
        &points,
    )
}
