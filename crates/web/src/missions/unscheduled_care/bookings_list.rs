//! Unscheduled care: the bookings list — the patients expected on a day, and the outcomes to record.

use super::*;
use crate::views::{paginate, phone_link, PhoneLink};
use maillage_app::unscheduled_care::{BookingFilter, BookingShow};

pub struct BookingRow {
    pub id: String,
    pub when: String,
    pub doctor: String,
    pub patient: String,
    pub phone: Option<PhoneLink>,
    pub status: &'static str,
    pub outcome: String,
    /// Confirmed without an outcome, less than a day ahead: the line links to the booking's page to record it.
    pub outcome_missing: bool,
}

#[derive(Template)]
#[template(path = "snp_bookings.html")]
pub(super) struct BookingsPage {
    pub(super) layout: Layout,
    pub(super) slug: String,
    pub(super) day: String,
    /// The range's last day, when it is not the first.
    pub(super) last: Option<String>,
    /// "du 03/12/2026" or "du 27/11/2026 au 03/12/2026".
    pub(super) period: String,
    pub(super) show: String,
    /// The patient searched for, as typed.
    pub(super) search: String,
    pub(super) rows: Vec<BookingRow>,
    pub(super) pager: crate::views::Pager,
}

#[derive(Deserialize, Default)]
pub(super) struct BookingsParams {
    #[serde(default)]
    pub(super) jour: String,
    /// The last day of a range (the dashboard's "issues à enregistrer" of the week); the day itself when empty.
    #[serde(default)]
    pub(super) au: String,
    #[serde(default)]
    pub(super) etat: String,
    /// A patient's name, birth date or phone.
    #[serde(default)]
    pub(super) q: String,
    pub(super) page: Option<i64>,
}

const BOOKINGS_PAGE: i64 = 50;

/// How far back a search without a day looks (then up to the day after tomorrow).
const SEARCH_DAYS_BACK: i64 = 28;

/// The longest range the list shows at once.
const LONGEST_RANGE_DAYS: i64 = 31;

/// How far back the dashboard looks for outcomes not recorded yet.
const OUTCOME_DAYS: i64 = 7;

/// The unscheduled-care part of the dashboard's « À faire », for those who book: today's and tomorrow's
/// patients, and the outcomes of the last week not recorded yet (late). Counts only: no identity is opened.
pub async fn to_do(
    state: &AppState,
    caller: &maillage_app::caller::Caller,
    slug: &str,
) -> WebResult<Vec<crate::views::ToDo>> {
    use maillage_domain::text::count_of;
    use maillage_domain::unscheduled_care::BookingStatus;
    if !caller.may(Permission::BookSlots) {
        return Ok(Vec::new());
    }
    let service = &state.missions.unscheduled_care;
    let now = now_ms();
    let today = utc_to_paris(now).0;
    let list = format!("/c/{slug}/{BASE}/reservations");
    let mut items = Vec::new();
    let late = BookingFilter {
        from: paris_to_utc(today.plus_days(1 - OUTCOME_DAYS), 0),
        until: paris_to_utc(today.plus_days(1), 0),
        show: BookingShow::OutcomeToRecord,
        search: String::new(),
    };
    let missing = service
        .count_bookings(caller, &late, now)
        .await
        .map_err(care_error)?;
    if missing > 0 {
        items.push(crate::views::ToDo {
            text: format!(
                "{} de soins non programmés sans issue enregistrée (7 derniers jours).",
                count_of(missing, "rendez-vous", "rendez-vous")
            ),
            href: format!(
                "{list}?jour={}&au={}&etat=a-enregistrer",
                today.plus_days(1 - OUTCOME_DAYS).iso(),
                today.iso()
            ),
            urgent: true,
        });
    }
    let asked = service.swaps_to_answer(caller).await.map_err(care_error)? as i64;
    if asked > 0 {
        items.push(crate::views::ToDo {
            text: format!(
                "{} à accepter ou refuser.",
                count_of(
                    asked,
                    "proposition d'échange d'astreinte",
                    "propositions d'échange d'astreinte"
                )
            ),
            href: format!("/c/{slug}/{BASE}/astreintes"),
            urgent: false,
        });
    }
    for (offset, when) in [(0, "aujourd'hui"), (1, "demain")] {
        let day = today.plus_days(offset);
        let expected = service
            .count_bookings(
                caller,
                &BookingFilter {
                    from: paris_to_utc(day, 0).max(if offset == 0 { now } else { 0 }),
                    until: paris_to_utc(day.plus_days(1), 0),
                    show: BookingShow::Only(BookingStatus::Confirmed),
                    search: String::new(),
                },
                now,
            )
            .await
            .map_err(care_error)?;
        if expected > 0 {
            items.push(crate::views::ToDo {
                text: format!(
                    "{} de soins non programmés {when}.",
                    count_of(expected, "patient attendu", "patients attendus")
                ),
                href: format!("{list}?jour={}", day.iso()),
                urgent: false,
            });
        }
    }
    Ok(items)
}

fn status_label(status: maillage_domain::unscheduled_care::BookingStatus) -> &'static str {
    use maillage_domain::unscheduled_care::BookingStatus;
    match status {
        BookingStatus::Held => "Retenue",
        BookingStatus::Confirmed => "Confirmée",
        BookingStatus::Cancelled => "Annulée",
        BookingStatus::Expired => "Délai dépassé",
    }
}

/// The day's bookings (Paris time; today by default), optionally only the outcomes to record.
pub(super) async fn bookings(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Query(params): Query<BookingsParams>,
) -> WebResult<Response> {
    use maillage_domain::unscheduled_care::BookingStatus;
    let now = now_ms();
    let today = utc_to_paris(now).0;
    let searching = !params.q.trim().is_empty();
    // A patient searched for without a day: her bookings of the last four weeks and the coming days.
    let day = match params.jour.trim() {
        "" if searching => today.plus_days(-SEARCH_DAYS_BACK),
        "" => today,
        text => Day::parse("Jour", text).map_err(|e| WebError::BadRequest(e.to_string()))?,
    };
    let last = match params.au.trim() {
        "" if searching && params.jour.trim().is_empty() => today.plus_days(2),
        "" => day,
        text => Day::parse("Au", text).map_err(|e| WebError::BadRequest(e.to_string()))?,
    };
    let span = last.days_since_epoch() - day.days_since_epoch();
    if !(0..LONGEST_RANGE_DAYS).contains(&span) {
        return Err(WebError::BadRequest(format!(
            "Au : le dernier jour suit le premier, {LONGEST_RANGE_DAYS} jours au plus."
        )));
    }
    let show = match params.etat.as_str() {
        "" => BookingShow::All,
        "a-enregistrer" => BookingShow::OutcomeToRecord,
        "confirmee" => BookingShow::Only(BookingStatus::Confirmed),
        "retenue" => BookingShow::Only(BookingStatus::Held),
        "annulee" => BookingShow::Only(BookingStatus::Cancelled),
        _ => {
            return Err(WebError::BadRequest(
                "État : choisissez un état de la liste.".into(),
            ))
        }
    };
    let filter = BookingFilter {
        from: paris_to_utc(day, 0),
        until: paris_to_utc(last.plus_days(1), 0),
        show,
        search: params.q.trim().to_string(),
    };
    let number = crate::forms::page_number(params.page);
    let listed = state
        .missions
        .unscheduled_care
        .bookings(
            &caller,
            &filter,
            now,
            crate::views::lookahead(number, BOOKINGS_PAGE),
        )
        .await
        .map_err(care_error)?;
    let base = format!(
        "/c/{}/{BASE}/reservations?jour={}&au={}&etat={}&q={}",
        context.cpts.slug,
        day.iso(),
        last.iso(),
        params.etat,
        crate::access::url_encode(params.q.trim())
    );
    let (listed, pager) = paginate(listed, &base, number, BOOKINGS_PAGE);
    let mut professionals = Professionals::default();
    professionals
        .load(
            &state,
            context.cpts.id,
            listed.iter().map(|l| l.line.professional_id),
        )
        .await?;
    let mut rows = Vec::with_capacity(listed.len());
    for item in listed {
        let line = &item.line;
        rows.push(BookingRow {
            id: line.booking.id.to_string(),
            when: french_slot_time(line.start_at),
            doctor: professionals
                .name(&state, context.cpts.id, line.professional_id)
                .await?,
            patient: item
                .patient
                .as_ref()
                .map(|p| {
                    format!(
                        "{} {}, né(e) le {}",
                        p.family_name,
                        p.given_names,
                        crate::views::french_day(&p.birth_date)
                    )
                })
                .unwrap_or_else(|| "— (pas encore saisi)".to_string()),
            phone: item
                .patient
                .as_ref()
                .and_then(|p| p.phone.as_deref().and_then(phone_link)),
            status: status_label(line.booking.status),
            // As the booking's page: the outcome is recorded from the day before the appointment.
            outcome_missing: line.booking.status == BookingStatus::Confirmed
                && line.booking.outcome.is_none()
                && line.start_at <= now + maillage_app::clock::DAY_MS,
            outcome: line
                .booking
                .outcome
                .as_deref()
                .and_then(Outcome::parse)
                .map_or(String::new(), |o| o.label().to_string()),
        });
    }
    Ok(render(&BookingsPage {
        layout: Layout::in_cpts(&viewer, &context, "Réservations", BASE),
        slug: context.cpts.slug.clone(),
        day: day.iso(),
        last: (last != day).then(|| last.iso()),
        period: if last == day {
            format!("du {}", day.french())
        } else {
            format!("du {} au {}", day.french(), last.french())
        },
        show: params.etat.clone(),
        search: params.q.trim().to_string(),
        rows,
        pager,
    }))
}
