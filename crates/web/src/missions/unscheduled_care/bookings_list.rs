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
    /// Confirmed without an outcome: the line links to the booking's page to record it.
    pub outcome_missing: bool,
}

#[derive(Template)]
#[template(path = "snp_bookings.html")]
pub(super) struct BookingsPage {
    pub(super) layout: Layout,
    pub(super) slug: String,
    pub(super) day: String,
    pub(super) show: String,
    pub(super) rows: Vec<BookingRow>,
    pub(super) pager: crate::views::Pager,
}

#[derive(Deserialize, Default)]
pub(super) struct BookingsParams {
    #[serde(default)]
    pub(super) jour: String,
    #[serde(default)]
    pub(super) etat: String,
    pub(super) page: Option<i64>,
}

const BOOKINGS_PAGE: i64 = 50;

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
    let day = match params.jour.trim() {
        "" => utc_to_paris(now).0,
        text => Day::parse("Jour", text).map_err(|e| WebError::BadRequest(e.to_string()))?,
    };
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
        until: paris_to_utc(day.plus_days(1), 0),
        show,
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
        "/c/{}/{BASE}/reservations?jour={}&etat={}",
        context.cpts.slug,
        day.iso(),
        params.etat
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
            outcome_missing: line.booking.status == BookingStatus::Confirmed
                && line.booking.outcome.is_none(),
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
        show: params.etat.clone(),
        rows,
        pager,
    }))
}
