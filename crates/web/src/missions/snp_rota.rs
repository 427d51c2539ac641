//! The on-call rota (tableau d'astreinte): the coordination fills a rota's turns (e.g. every Saturday morning
//! of a quarter) among chosen members, shared by the load each already has this year; a turn is swapped with
//! another or given to someone else in one step; everyone who books sees who is on call and how the load is
//! shared.

use super::directory::{pair_choices, Choice};
use super::unscheduled_care::{care_error, Professionals};
use crate::access::{Access, Authorised, CptsContext, GuardedRouter, Viewer};
use crate::confirm::{self, Confirmation};
use crate::error::{WebError, WebResult};
use crate::forms::{FormPairs, PageQuery, Query};
use crate::views::{lookahead, paginate, render_form, Layout, Pager};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maillage_app::clock::now_ms;
use maillage_app::unscheduled_care::{CareError, RotaRequest, TurnChange};
use maillage_domain::authz::{allows, Permission};
use maillage_domain::unscheduled_care::{parse_time, utc_to_paris, Day};
use maillage_domain::ValidationError;
use uuid::Uuid;

const BASE: &str = "soins-non-programmes";

pub fn routes(router: GuardedRouter) -> GuardedRouter {
    router
        .get(
            "/c/{cpts}/soins-non-programmes/astreintes",
            Access::Cpts(Permission::BookSlots),
            "Tableau d'astreinte et répartition de la charge",
            rota,
        )
        .post(
            "/c/{cpts}/soins-non-programmes/astreintes",
            Access::Cpts(Permission::ManageCpts),
            "Remplissage du tableau d'astreinte",
            build,
        )
        .post(
            "/c/{cpts}/soins-non-programmes/astreintes/{id}",
            Access::Cpts(Permission::ManageCpts),
            "Échange, réattribution ou retrait d'un tour d'astreinte",
            change,
        )
        .post(
            "/c/{cpts}/soins-non-programmes/astreintes/{id}/echange",
            Access::Cpts(Permission::BookSlots),
            "Proposition d'échange de son tour d'astreinte à un confrère",
            propose_swap,
        )
        .post(
            "/c/{cpts}/soins-non-programmes/echanges/{id}",
            Access::Cpts(Permission::BookSlots),
            "Réponse à une proposition d'échange d'astreinte, ou son retrait",
            settle_swap,
        )
}

/// A pending swap on the rota page of one of its two professionals.
pub struct SwapRow {
    pub id: String,
    /// The caller proposed it: she may withdraw it; otherwise she answers.
    pub mine: bool,
    /// "Dr A. Martin vous propose…" / "Vous proposez à…".
    pub text: String,
    /// What became of the message to the colleague (the proposer's view).
    pub delivery: Option<crate::views::MessageRow>,
}

pub struct TurnRow {
    pub id: String,
    pub label: String,
    pub day: String,
    pub hours: String,
    pub professional: String,
    /// The caller's own turn: she may propose to swap it.
    pub mine: bool,
}

pub struct LoadRow {
    pub professional: String,
    pub turns: i64,
}

#[derive(Default, Clone)]
pub struct RotaForm {
    pub label: String,
    pub weekday: String,
    pub start: String,
    pub end: String,
    pub from: String,
    pub until: String,
    pub professionals: Vec<String>,
    /// The rota's profession (directory code; empty: every member).
    pub profession: String,
}

#[derive(Template)]
#[template(path = "snp_rota.html")]
struct RotaPage {
    layout: Layout,
    slug: String,
    can_manage: bool,
    turns: Vec<TurnRow>,
    load: Vec<LoadRow>,
    load_chart: String,
    year: i32,
    candidates: Vec<Choice>,
    weekdays: Vec<Choice>,
    professions: Vec<Choice>,
    form: RotaForm,
    errors: Vec<ValidationError>,
    pager: Pager,
    /// The caller is linked to her directory record: she may propose swaps of her turns.
    can_swap: bool,
    swaps: Vec<SwapRow>,
    /// Why the last swap could not be done (the server's sentence).
    swap_problem: Option<String>,
}

const TURN_PAGE: i64 = 30;
/// Members the rota is shared among are picked from this many (a CPTS has tens, rarely hundreds).
const CANDIDATES: i64 = 300;

fn hours(start: i64, end: i64) -> String {
    format!(
        "{:02}:{:02}–{:02}:{:02}",
        start / 60,
        start % 60,
        end / 60,
        end % 60
    )
}

#[allow(clippy::too_many_arguments)]
async fn rota_page(
    state: &AppState,
    viewer: &Viewer,
    context: &CptsContext,
    caller: &maillage_app::caller::Caller,
    page: i64,
    form: RotaForm,
    errors: Vec<ValidationError>,
    notice: Option<String>,
    swap_problem: Option<String>,
) -> WebResult<Response> {
    let cpts = context.cpts.id;
    let me = caller.professional();
    let today = utc_to_paris(now_ms()).0;
    let mut professionals = Professionals::default();
    let care = &state.missions.unscheduled_care;
    let listed = care
        .rota_turns(
            caller,
            &today.iso(),
            "9999-12-31",
            &Default::default(),
            lookahead(page, TURN_PAGE),
        )
        .await
        .map_err(care_error)?;
    let (listed, pager) = paginate(
        listed,
        &format!("/c/{}/{BASE}/astreintes", context.cpts.slug),
        page,
        TURN_PAGE,
    );
    let mut turns = Vec::with_capacity(listed.len());
    professionals
        .load(state, cpts, listed.iter().map(|t| t.professional_id))
        .await?;
    for t in listed {
        let day = Day::parse("jour", &t.day).ok();
        turns.push(TurnRow {
            id: t.id.to_string(),
            label: t.label,
            day: day.map_or(t.day.clone(), |d| {
                format!("{} {}", d.french_weekday(), d.french())
            }),
            hours: hours(t.start_minute, t.end_minute),
            professional: professionals.name(state, cpts, t.professional_id).await?,
            mine: me == Some(t.professional_id),
        });
    }
    let mut swaps = Vec::new();
    for view in care.my_swaps(caller).await.map_err(care_error)? {
        let offered = maillage_app::unscheduled_care::turn_words(&view.offered);
        let wanted = maillage_app::unscheduled_care::turn_words(&view.wanted);
        let text = if view.mine {
            let colleague = professionals
                .name(state, cpts, view.swap.proposed_to)
                .await?;
            format!(
                "Vous proposez à {colleague} votre tour du {offered} contre le sien du {wanted}."
            )
        } else {
            let colleague = professionals
                .name(state, cpts, view.swap.proposed_by)
                .await?;
            format!("{colleague} vous propose son tour du {offered} contre le vôtre du {wanted}.")
        };
        swaps.push(SwapRow {
            id: view.swap.id.to_string(),
            mine: view.mine,
            text,
            delivery: view
                .delivery
                .as_ref()
                .filter(|_| view.mine)
                .map(crate::views::message_row),
        });
    }
    let year = today.year;
    let mut load = Vec::new();
    for (id, count) in care
        .rota_load(
            caller,
            &format!("{year:04}-01-01"),
            &format!("{year:04}-12-31"),
        )
        .await
        .map_err(care_error)?
    {
        load.push(LoadRow {
            professional: professionals.name(state, cpts, id).await?,
            turns: count,
        });
    }
    let groups: Vec<(String, Vec<Option<f64>>)> = load
        .iter()
        .take(40)
        .map(|l| (l.professional.clone(), vec![Some(l.turns as f64)]))
        .collect();
    let load_chart = if groups.is_empty() {
        String::new()
    } else {
        crate::charts::grouped_bars(
            &format!("Tours d'astreinte par professionnel en {year}"),
            "tours",
            &["Tours"],
            &groups,
        )
    };
    let can_manage = allows(context.role, Permission::ManageCpts);
    let candidates = if can_manage {
        care.professionals_to_choose(caller, true, Some(form.profession.as_str()), CANDIDATES)
            .await
            .map_err(care_error)?
            .into_iter()
            .map(|p| Choice {
                selected: form.professionals.contains(&p.id.to_string())
                    || (form.professionals.is_empty() && p.snp_volunteer),
                code: p.id.to_string(),
                label: format!("{} {} — {}", p.last_name, p.first_name, p.profession_label),
            })
            .collect()
    } else {
        Vec::new()
    };
    let has_errors = !errors.is_empty();
    Ok(render_form(
        &RotaPage {
            layout: Layout::in_cpts(viewer, context, "Tableau d'astreinte", BASE)
                .with_notice(notice),
            slug: context.cpts.slug.clone(),
            can_manage,
            turns,
            load,
            load_chart,
            year,
            candidates,
            weekdays: pair_choices(&super::unscheduled_care::WEEKDAYS, &form.weekday),
            professions: pair_choices(
                &maillage_domain::unscheduled_care::PROFESSIONS,
                &form.profession,
            ),
            form,
            errors,
            pager,
            can_swap: me.is_some() && allows(context.role, Permission::BookSlots),
            swaps,
            swap_problem,
        },
        has_errors,
    ))
}

#[derive(serde::Deserialize, Default)]
struct RotaParams {
    page: Option<i64>,
    #[serde(default)]
    ajoutes: String,
    #[serde(default)]
    fait: String,
    /// The profession whose members the fill form offers.
    #[serde(default)]
    profession: String,
}

async fn rota(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Query(params): Query<RotaParams>,
) -> WebResult<Response> {
    // The address carries a number only: the sentence is the server's.
    let notice = if let Ok(added) = params.ajoutes.parse::<i64>() {
        Some(format!(
            "{}.",
            maillage_domain::text::count_of(
                added,
                "tour d'astreinte ajouté",
                "tours d'astreinte ajoutés"
            )
        ))
    } else if !params.fait.is_empty() {
        Some(
            match params.fait.as_str() {
                "echange-propose" => "Votre proposition d'échange est envoyée : le tableau changera quand votre confrère l'aura acceptée.",
                "echange-accepte" => "Échange accepté : les deux tours ont changé de main.",
                "echange-refuse" => "Vous avez refusé l'échange : les tours restent inchangés.",
                "echange-retire" => "Votre proposition d'échange est retirée.",
                _ => "Le tableau d'astreinte est à jour.",
            }
            .to_string(),
        )
    } else {
        None
    };
    let form = fresh_form(&params.profession);
    let page = PageQuery { page: params.page }.number();
    rota_page(
        &state,
        &viewer,
        &context,
        &caller,
        page,
        form,
        Vec::new(),
        notice,
        None,
    )
    .await
}

/// The fill form as the page first shows it, for the rota's profession if it is one of the directory's.
fn fresh_form(profession: &str) -> RotaForm {
    let today = utc_to_paris(now_ms()).0;
    let profession = if maillage_domain::unscheduled_care::profession_label(profession).is_some() {
        profession.to_string()
    } else {
        String::new()
    };
    RotaForm {
        // Empty: the service names it after the weekday and the hour ("Samedi matin").
        label: String::new(),
        weekday: "6".into(),
        start: "08:00".into(),
        end: "12:00".into(),
        from: today.french(),
        until: today.plus_days(90).french(),
        professionals: Vec::new(),
        profession,
    }
}

async fn build(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    pairs: FormPairs,
) -> WebResult<Response> {
    let form = RotaForm {
        label: pairs.text("label"),
        weekday: pairs.text("weekday"),
        start: pairs.text("start"),
        end: pairs.text("end"),
        from: pairs.text("from"),
        until: pairs.text("until"),
        professionals: pairs.all("professional"),
        profession: pairs.text("profession"),
    };
    let mut problems = crate::forms::Problems::default();
    let weekday = problems.keep(
        form.weekday
            .parse::<u32>()
            .ok()
            .filter(|d| (1..=7).contains(d))
            .ok_or_else(|| ValidationError::new("Jour", "choisissez un jour de la liste")),
    );
    let start = problems.keep(parse_time("Début", &form.start)).unwrap_or(0);
    let end = problems.keep(parse_time("Fin", &form.end)).unwrap_or(0);
    let from = problems.keep(Day::parse("Du", &form.from));
    let to = problems.keep(Day::parse("Au", &form.until));
    let mut chosen = Vec::new();
    for text in &form.professionals {
        match Uuid::parse_str(text) {
            Ok(id) => chosen.push(id),
            Err(_) => problems.add("Professionnels", "un choix de la liste est attendu"),
        }
    }
    let page = 1;
    let (Some(weekday), Some(from), Some(to), true) = (weekday, from, to, problems.is_empty())
    else {
        return rota_page(
            &state, &viewer, &context, &caller, page, form, problems.0, None, None,
        )
        .await;
    };
    let request = RotaRequest {
        label: form.label.clone(),
        weekday,
        start_minute: start,
        end_minute: end,
        from,
        to,
        skip_public_holidays: pairs.text("holidays") != "oui",
        professionals: chosen,
        profession: (!form.profession.is_empty()).then(|| form.profession.clone()),
    };
    match state
        .missions
        .unscheduled_care
        .build_rota(&caller, &request)
        .await
    {
        Ok(created) => Ok(Redirect::to(&format!(
            "/c/{}/{BASE}/astreintes?ajoutes={created}",
            context.cpts.slug
        ))
        .into_response()),
        Err(CareError::Invalid(problem)) => {
            rota_page(
                &state,
                &viewer,
                &context,
                &caller,
                page,
                form,
                vec![problem],
                None,
                None,
            )
            .await
        }
        Err(CareError::Store(e)) => Err(e.into()),
        Err(other) => Err(WebError::Internal(other.to_string())),
    }
}

async fn change(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, id)): Path<(String, String)>,
    pairs: FormPairs,
) -> WebResult<Response> {
    let turn = super::directory::parse_id(&id)?;
    let target = |name: &str| {
        Uuid::parse_str(pairs.text(name).trim()).map_err(|_| {
            WebError::BadRequest(format!(
                "{} : choisissez dans la liste.",
                if name == "swap" {
                    "Échanger avec"
                } else {
                    "Donner à"
                }
            ))
        })
    };
    let change = match pairs.text("action").as_str() {
        "echanger" => TurnChange::SwapWith(target("swap")?),
        "donner" => TurnChange::GiveTo(target("professional")?),
        "retirer" if confirm::confirmed(&pairs) => TurnChange::Remove,
        "retirer" => {
            state
                .missions
                .unscheduled_care
                .check_turn(&caller, turn)
                .await
                .map_err(care_error)?;
            let rota = format!("/c/{}/{BASE}/astreintes", context.cpts.slug);
            return Ok(confirm::ask(
                &viewer,
                &context,
                BASE,
                Confirmation::new(
                    "Retirer ce tour d'astreinte ?",
                    "Le tour disparaît du planning et personne n'est plus d'astreinte sur cette plage : \
                     pour le rétablir, il faudra le reprogrammer.",
                    format!("{rota}/{turn}"),
                    "Oui, retirer ce tour",
                    rota,
                )
                .repeating(&pairs),
            ));
        }
        _ => {
            return Err(WebError::BadRequest(
                "Action : échanger, donner ou retirer.".into(),
            ))
        }
    };
    let done = state
        .missions
        .unscheduled_care
        .change_turn(&caller, turn, change)
        .await
        .map_err(care_error)?;
    if !done {
        return Err(WebError::Conflict(
            "Ce tour d'astreinte n'existe plus ou le professionnel choisi n'est pas de la CPTS."
                .into(),
        ));
    }
    Ok(Redirect::to(&format!(
        "/c/{}/{BASE}/astreintes?fait=1",
        context.cpts.slug
    ))
    .into_response())
}

/// Shows the rota page again with why a swap could not be done, or passes any other error on.
async fn swap_refused(
    state: &AppState,
    viewer: &Viewer,
    context: &CptsContext,
    caller: &maillage_app::caller::Caller,
    error: CareError,
) -> WebResult<Response> {
    match error {
        CareError::Refused(message) => {
            swap_problem(
                state,
                viewer,
                context,
                caller,
                message,
                axum::http::StatusCode::CONFLICT,
            )
            .await
        }
        other => Err(care_error(other)),
    }
}

/// The rota page with `message` above the member's swaps, answered with `status`.
async fn swap_problem(
    state: &AppState,
    viewer: &Viewer,
    context: &CptsContext,
    caller: &maillage_app::caller::Caller,
    message: String,
    status: axum::http::StatusCode,
) -> WebResult<Response> {
    let mut page = rota_page(
        state,
        viewer,
        context,
        caller,
        1,
        fresh_form(""),
        Vec::new(),
        None,
        Some(message),
    )
    .await?;
    *page.status_mut() = status;
    Ok(page)
}

/// A member proposes to swap her turn `{id}` with the colleague's turn `wanted`.
async fn propose_swap(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, id)): Path<(String, String)>,
    pairs: FormPairs,
) -> WebResult<Response> {
    let turn = super::directory::parse_id(&id)?;
    let Ok(wanted) = Uuid::parse_str(pairs.text("wanted").trim()) else {
        return swap_problem(
            &state,
            &viewer,
            &context,
            &caller,
            "Contre le tour de : choisissez le tour d'un confrère dans la liste.".into(),
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    match state
        .missions
        .unscheduled_care
        .propose_swap(&caller, turn, wanted)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!(
            "/c/{}/{BASE}/astreintes?fait=echange-propose",
            context.cpts.slug
        ))
        .into_response()),
        Err(error) => swap_refused(&state, &viewer, &context, &caller, error).await,
    }
}

/// The colleague accepts or declines a swap; its proposer withdraws it. Each after a confirmation.
async fn settle_swap(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, id)): Path<(String, String)>,
    pairs: FormPairs,
) -> WebResult<Response> {
    use maillage_domain::unscheduled_care::RotaSwapStatus;
    let swap = super::directory::parse_id(&id)?;
    let (outcome, done, question, consequence, label) = match pairs.text("action").as_str() {
        "accepter" => (
            RotaSwapStatus::Accepted,
            "echange-accepte",
            "Accepter cet échange d'astreinte ?",
            "Vous prendrez le tour de votre confrère et lui le vôtre : le tableau change tout de suite.",
            "Oui, accepter l'échange",
        ),
        "refuser" => (
            RotaSwapStatus::Declined,
            "echange-refuse",
            "Refuser cet échange d'astreinte ?",
            "Chacun garde son tour et la proposition est close : votre confrère ne la verra plus dans ses échanges en attente.",
            "Oui, refuser l'échange",
        ),
        "retirer" => (
            RotaSwapStatus::Withdrawn,
            "echange-retire",
            "Retirer votre proposition d'échange ?",
            "Votre confrère ne pourra plus l'accepter ; vous garderez votre tour.",
            "Oui, retirer la proposition",
        ),
        _ => {
            return Err(WebError::BadRequest(
                "Action : accepter, refuser ou retirer.".into(),
            ))
        }
    };
    let care = &state.missions.unscheduled_care;
    if !confirm::confirmed(&pairs) {
        care.check_swap(&caller, swap, outcome == RotaSwapStatus::Withdrawn)
            .await
            .map_err(care_error)?;
        let rota = format!("/c/{}/{BASE}/astreintes", context.cpts.slug);
        return Ok(confirm::ask(
            &viewer,
            &context,
            BASE,
            Confirmation::new(
                question,
                consequence,
                format!("/c/{}/{BASE}/echanges/{swap}", context.cpts.slug),
                label,
                rota,
            )
            .repeating(&pairs),
        ));
    }
    match care.settle_swap(&caller, swap, outcome).await {
        Ok(()) => Ok(Redirect::to(&format!(
            "/c/{}/{BASE}/astreintes?fait={done}",
            context.cpts.slug
        ))
        .into_response()),
        Err(error) => swap_refused(&state, &viewer, &context, &caller, error).await,
    }
}
