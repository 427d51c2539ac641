//! Unscheduled care in figures: the indicators of the ACI contract (slots offered — total, SAS, CPTS,
//! surnuméraires — booked, honoured, no-show rate, patients seen within 24 h and 48 h of their request,
//! professionals participating, dysfunctions by kind) per week or month of a contract year, with charts and
//! CSV/XLSX; and the export of the slots themselves (no patient data: a slot says only free or booked).

use super::directory::Choice;
use super::unscheduled_care::{care_error, AgendaBatches, Professionals};
use crate::access::{Access, Authorised, CptsContext, GuardedRouter, Viewer};
use crate::error::{WebError, WebResult};
use crate::export::{
    csv_cells, csv_download, csv_line, report_csv, report_xlsx, xlsx_download, Sheet, BOM,
};
use crate::forms::Query;
use crate::views::{render, Layout};
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use maillage_app::caller::Caller;
use maillage_app::clock::now_ms;
use maillage_app::export::{Cell, Xlsx};
use maillage_app::unscheduled_care::french_slot_time;
use maillage_domain::authz::Permission;
use maillage_domain::unscheduled_care::{
    paris_to_utc, periods, profession_label, utc_to_paris, Day, DysfunctionKind, Granularity,
    Outcome, Period,
};
use maillage_store::SnpFigures;
use serde::Deserialize;

const BASE: &str = "soins-non-programmes";

pub fn routes(router: GuardedRouter) -> GuardedRouter {
    router
        .get(
            "/c/{cpts}/soins-non-programmes/indicateurs",
            Access::Cpts(Permission::ViewSlotIndicators),
            "Indicateurs des soins non programmés",
            indicators,
        )
        .get(
            "/c/{cpts}/soins-non-programmes/indicateurs.csv",
            Access::Cpts(Permission::ViewSlotIndicators),
            "Export CSV des indicateurs des soins non programmés",
            indicators_csv,
        )
        .get(
            "/c/{cpts}/soins-non-programmes/indicateurs.xlsx",
            Access::Cpts(Permission::ViewSlotIndicators),
            "Export Excel des indicateurs des soins non programmés",
            indicators_xlsx,
        )
        .get(
            "/c/{cpts}/soins-non-programmes/export.csv",
            Access::Cpts(Permission::ViewSlotIndicators),
            "Export CSV des créneaux (sans donnée de patient)",
            slots_csv,
        )
        .get(
            "/c/{cpts}/soins-non-programmes/export.xlsx",
            Access::Cpts(Permission::ViewSlotIndicators),
            "Export Excel des créneaux (sans donnée de patient)",
            slots_xlsx,
        )
}

// --- Indicators -------------------------------------------------------------------------------------------

#[derive(Deserialize, Default)]
struct IndicatorParams {
    annee: Option<i64>,
    #[serde(default)]
    detail: String,
}

/// One line of the table: a period, or the whole year.
pub struct FigureRow {
    pub label: String,
    pub figures: SnpFigures,
}

impl FigureRow {
    pub fn no_show_rate(&self) -> String {
        share(self.figures.no_show, self.figures.outcomes)
    }
    pub fn within_24h(&self) -> String {
        share(self.figures.within_24h, self.figures.honoured)
    }
    pub fn within_48h(&self) -> String {
        share(self.figures.within_48h, self.figures.honoured)
    }

    fn cells(&self) -> Vec<Cell> {
        let f = &self.figures;
        let ratio = |part: i64, whole: i64| {
            if whole == 0 {
                Cell::Empty
            } else {
                Cell::Number((part as f64 * 1000.0 / whole as f64).round() / 10.0)
            }
        };
        vec![
            self.label.clone().into(),
            f.offered.into(),
            f.offered_sas.into(),
            f.offered_cpts.into(),
            f.offered_extra.into(),
            f.booked.into(),
            f.honoured.into(),
            f.no_show.into(),
            ratio(f.no_show, f.outcomes),
            ratio(f.within_24h, f.honoured),
            ratio(f.within_48h, f.honoured),
            f.professionals.into(),
        ]
    }
}

/// "12,5 %", or a dash when nothing to divide by.
fn share(part: i64, whole: i64) -> String {
    if whole == 0 {
        "—".into()
    } else {
        format!(
            "{} %",
            crate::charts::french_decimal((part as f64 * 1000.0 / whole as f64).round() / 10.0)
        )
    }
}

const INDICATOR_COLUMNS: [&str; 12] = [
    "Période",
    "Créneaux offerts",
    "… réservés au SAS",
    "… pour la CPTS",
    "… surnuméraires",
    "Réservés",
    "Honorés",
    "Absences",
    "Taux d'absence (%)",
    "Vus sous 24 h (%)",
    "Vus sous 48 h (%)",
    "Professionnels participants",
];

pub struct DysfunctionCount {
    pub kind: &'static str,
    pub count: i64,
    pub resolved: i64,
}

struct Indicators {
    year: i64,
    weekly: bool,
    period: String,
    total: FigureRow,
    rows: Vec<FigureRow>,
    dysfunctions: Vec<DysfunctionCount>,
    /// The year's typed set (what the annual report and the ACI engine read), its own sheet in exports.
    set: maillage_domain::indicators::IndicatorSet,
}

fn instant(day: Day) -> i64 {
    paris_to_utc(day, 0)
}

/// One line per period.
async fn period_rows(
    state: &AppState,
    caller: &Caller,
    list: &[Period],
) -> WebResult<Vec<FigureRow>> {
    let mut rows = Vec::with_capacity(list.len());
    for period in list {
        rows.push(FigureRow {
            label: period.label.clone(),
            figures: state
                .missions
                .unscheduled_care
                .figures(caller, instant(period.from), instant(period.until))
                .await
                .map_err(care_error)?,
        });
    }
    Ok(rows)
}

/// The contract year is the calendar year (Paris time); the current one runs to now ("en direct").
async fn compute(
    state: &AppState,
    caller: &Caller,
    params: &IndicatorParams,
) -> WebResult<Indicators> {
    let now = now_ms();
    let this_year = i64::from(utc_to_paris(now).0.year);
    let year = params
        .annee
        .filter(|y| (2000..=this_year + 1).contains(y))
        .unwrap_or(this_year);
    let weekly = params.detail == "semaine";
    let year_i32 = i32::try_from(year).unwrap_or(2026);
    let list: Vec<Period> = periods(
        year_i32,
        if weekly {
            Granularity::Week
        } else {
            Granularity::Month
        },
    );
    let (from, until) = (
        instant(Day::new(year_i32, 1, 1).unwrap_or(list[0].from)),
        instant(Day::new(year_i32 + 1, 1, 1).unwrap_or(list[list.len() - 1].until)),
    );
    let rows = period_rows(state, caller, &list).await?;
    let care = &state.missions.unscheduled_care;
    let total = FigureRow {
        label: format!("Année {year}"),
        figures: care
            .figures(caller, from, until)
            .await
            .map_err(care_error)?,
    };
    let dysfunctions = care
        .dysfunction_summary(caller, from, until)
        .await
        .map_err(care_error)?
        .into_iter()
        .map(|(kind, count, resolved)| DysfunctionCount {
            kind: DysfunctionKind::parse(&kind).map_or("Autre", DysfunctionKind::label),
            count,
            resolved,
        })
        .collect();
    let period = if year == this_year {
        format!(
            "créneaux du 01/01/{year} au 31/12/{year}, mis à jour en direct ({})",
            french_slot_time(now)
        )
    } else {
        format!("créneaux du 01/01/{year} au 31/12/{year}")
    };
    let set = maillage_app::unscheduled_care::indicators::indicator_set(
        year,
        period.clone(),
        &total.figures,
    );
    Ok(Indicators {
        year,
        weekly,
        period,
        total,
        rows,
        dysfunctions,
        set,
    })
}

#[derive(Template)]
#[template(path = "snp_indicators.html")]
struct IndicatorsPage {
    layout: Layout,
    slug: String,
    year: i64,
    years: Vec<Choice>,
    weekly: bool,
    period: String,
    total: FigureRow,
    rows: Vec<FigureRow>,
    dysfunctions: Vec<DysfunctionCount>,
    chart: String,
    dysfunction_chart: String,
}

async fn indicators(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Query(params): Query<IndicatorParams>,
) -> WebResult<Response> {
    let i = compute(&state, &caller, &params).await?;
    let this_year = i64::from(utc_to_paris(now_ms()).0.year);
    // The chart is per month (a year of weeks would not read on a phone); the table follows the detail.
    // Only the months are read again for the chart, not the year's total and dysfunctions.
    let months = if i.weekly {
        let year = i32::try_from(i.year).unwrap_or(2026);
        period_rows(&state, &caller, &periods(year, Granularity::Month)).await?
    } else {
        Vec::new()
    };
    let chart_rows = if i.weekly { &months } else { &i.rows };
    let groups: Vec<(String, Vec<Option<f64>>)> = chart_rows
        .iter()
        .map(|r| {
            let f = &r.figures;
            (
                r.label.clone(),
                vec![
                    Some(f.offered as f64),
                    Some(f.booked as f64),
                    Some(f.honoured as f64),
                ],
            )
        })
        .collect();
    let chart = crate::charts::grouped_bars(
        "Créneaux offerts, réservés et honorés par mois",
        "créneaux",
        &["Offerts", "Réservés", "Honorés"],
        &groups,
    );
    let dysfunction_groups: Vec<(String, Vec<Option<f64>>)> = i
        .dysfunctions
        .iter()
        .map(|d| (d.kind.to_string(), vec![Some(d.count as f64)]))
        .collect();
    let dysfunction_chart = if dysfunction_groups.is_empty() {
        String::new()
    } else {
        crate::charts::grouped_bars(
            "Dysfonctionnements par catégorie",
            "signalements",
            &["Signalements"],
            &dysfunction_groups,
        )
    };
    Ok(render(&IndicatorsPage {
        layout: Layout::in_cpts(
            &viewer,
            &context,
            "Indicateurs — soins non programmés",
            BASE,
        ),
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
        weekly: i.weekly,
        period: i.period,
        total: i.total,
        rows: i.rows,
        dysfunctions: i.dysfunctions,
        chart,
        dysfunction_chart,
    }))
}

fn dysfunction_cells(d: &DysfunctionCount) -> Vec<Cell> {
    vec![d.kind.into(), d.count.into(), d.resolved.into()]
}

const DYSFUNCTION_COLUMNS: [&str; 3] = ["Catégorie", "Signalements", "Dont réglés"];

fn report(i: &Indicators) -> Vec<Sheet<'static>> {
    vec![
        Sheet {
            name: format!("SNP {}", i.year),
            columns: &INDICATOR_COLUMNS,
            rows: i
                .rows
                .iter()
                .chain(std::iter::once(&i.total))
                .map(FigureRow::cells)
                .collect(),
        },
        Sheet {
            name: "Dysfonctionnements".into(),
            columns: &DYSFUNCTION_COLUMNS,
            rows: i.dysfunctions.iter().map(dysfunction_cells).collect(),
        },
        crate::indicators::sheet(format!("Indicateurs {}", i.year), &i.set),
    ]
}

async fn indicators_export(
    state: &AppState,
    context: &CptsContext,
    caller: &Caller,
    params: &IndicatorParams,
    format: &str,
) -> WebResult<Response> {
    let i = compute(state, caller, params).await?;
    state
        .missions
        .unscheduled_care
        .record_export(
            caller,
            "snp_indicators",
            serde_json::json!({ "format": format, "year": i.year }),
        )
        .await
        .map_err(care_error)?;
    let file = format!(
        "indicateurs-soins-non-programmes-{}-{}.{format}",
        context.cpts.slug, i.year
    );
    if format == "csv" {
        Ok(report_csv(&file, &report(&i)))
    } else {
        report_xlsx(&file, &report(&i))
    }
}

async fn indicators_csv(
    State(state): State<AppState>,
    context: CptsContext,
    Authorised(caller): Authorised,
    Query(params): Query<IndicatorParams>,
) -> WebResult<Response> {
    indicators_export(&state, &context, &caller, &params, "csv").await
}

async fn indicators_xlsx(
    State(state): State<AppState>,
    context: CptsContext,
    Authorised(caller): Authorised,
    Query(params): Query<IndicatorParams>,
) -> WebResult<Response> {
    indicators_export(&state, &context, &caller, &params, "xlsx").await
}

// --- Slots export -------------------------------------------------------------------------------------------

#[derive(Deserialize, Default)]
struct ExportParams {
    #[serde(default)]
    du: String,
    #[serde(default)]
    au: String,
}

const SLOT_COLUMNS: [&str; 12] = [
    "Début",
    "Fin",
    "Professionnel",
    "RPPS",
    "Profession",
    "Commune",
    "Type",
    "Modalité",
    "Lieu",
    "État",
    "Origine de la réservation",
    "Issue",
];

/// At most a quarter: an export is for a period's review, not the whole history at once.
const EXPORT_MAX_DAYS: i64 = 92;

/// `[from, until)` from the form (default: today and the next four weeks), or a French message.
fn export_window(params: &ExportParams) -> Result<(Day, Day), WebError> {
    let today = utc_to_paris(now_ms()).0;
    let from = match params.du.trim() {
        "" => today,
        text => Day::parse("Du", text).map_err(|e| WebError::BadRequest(e.to_string()))?,
    };
    let to = match params.au.trim() {
        "" => from.plus_days(27),
        text => Day::parse("Au", text).map_err(|e| WebError::BadRequest(e.to_string()))?,
    };
    let days = to.days_since_epoch() - from.days_since_epoch();
    if !(0..EXPORT_MAX_DAYS).contains(&days) {
        return Err(WebError::BadRequest(format!(
            "Au : la période exportée suit le début et dure au plus {EXPORT_MAX_DAYS} jours."
        )));
    }
    Ok((from, to.plus_days(1)))
}

/// Rows of the slots export, read by [`AgendaBatches`] and handed to `write` one by one.
async fn each_slot_row(
    state: &AppState,
    caller: &Caller,
    (from, until): (Day, Day),
    mut write: impl FnMut(Vec<Cell>) -> WebResult<()>,
) -> WebResult<u64> {
    let now = now_ms();
    let cpts = caller.cpts();
    let mut professionals = Professionals::default();
    let mut written = 0u64;
    let scope = state
        .missions
        .unscheduled_care
        .agenda_scope(caller, None)
        .map_err(care_error)?;
    let mut batches = AgendaBatches::new(scope, (instant(from), instant(until)));
    while let Some(batch) = batches.next(state).await? {
        professionals
            .load(state, cpts, batch.iter().map(|e| e.slot.professional_id))
            .await?;
        for entry in batch {
            let s = &entry.slot;
            let (name, rpps) = match professionals
                .summary(state, cpts, s.professional_id)
                .await?
            {
                Some(p) => (
                    format!("{} {}", p.last_name, p.first_name),
                    p.identifier.clone(),
                ),
                None => (String::new(), String::new()),
            };
            let status = if s.cancelled {
                "annulé"
            } else if entry.booked_at(now) {
                if entry.booking_state()
                    == Some(maillage_domain::unscheduled_care::BookingStatus::Held)
                {
                    "retenu"
                } else {
                    "réservé"
                }
            } else {
                "libre"
            };
            write(vec![
                Cell::DateTime(s.start_at),
                Cell::DateTime(s.end_at),
                name.into(),
                rpps.into(),
                profession_label(&s.profession_code).unwrap_or("").into(),
                super::directory::commune_name(&s.commune_code).into(),
                s.kind.label().into(),
                s.modality.label().into(),
                s.place.clone().into(),
                status.into(),
                entry
                    .origin
                    .as_deref()
                    .filter(|_| entry.booked_at(now))
                    .and_then(maillage_domain::unscheduled_care::BookingOrigin::parse)
                    .map_or("", |o| o.label())
                    .into(),
                entry
                    .outcome
                    .as_deref()
                    .and_then(Outcome::parse)
                    .map_or("", Outcome::label)
                    .into(),
            ])?;
            written += 1;
        }
    }
    Ok(written)
}

async fn slots_csv(
    State(state): State<AppState>,
    context: CptsContext,
    Authorised(caller): Authorised,
    Query(params): Query<ExportParams>,
) -> WebResult<Response> {
    let window = export_window(&params)?;
    let mut body = format!("{BOM}{}", csv_line(&SLOT_COLUMNS));
    let written = each_slot_row(&state, &caller, window, |cells| {
        body.push_str(&csv_cells(&cells));
        Ok(())
    })
    .await?;
    state
        .missions
        .unscheduled_care
        .record_export(
            &caller,
            "snp_slots",
            serde_json::json!({ "format": "csv", "from": window.0.french(), "rows": written }),
        )
        .await
        .map_err(care_error)?;
    Ok(csv_download(
        &format!("creneaux-{}.csv", context.cpts.slug),
        axum::body::Body::from(body),
    ))
}

async fn slots_xlsx(
    State(state): State<AppState>,
    context: CptsContext,
    Authorised(caller): Authorised,
    Query(params): Query<ExportParams>,
) -> WebResult<Response> {
    let window = export_window(&params)?;
    let mut xlsx = Xlsx::new();
    xlsx.sheet("Créneaux", &SLOT_COLUMNS)?;
    let written = each_slot_row(&state, &caller, window, |cells| {
        xlsx.row(&cells)?;
        Ok(())
    })
    .await?;
    state
        .missions
        .unscheduled_care
        .record_export(
            &caller,
            "snp_slots",
            serde_json::json!({ "format": "xlsx", "from": window.0.french(), "rows": written }),
        )
        .await
        .map_err(care_error)?;
    Ok(xlsx_download(
        &format!("creneaux-{}.xlsx", context.cpts.slug),
        xlsx.finish()?,
    ))
}
