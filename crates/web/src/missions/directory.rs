//! The directory of the professionals practising on the territory: search, a professional's page, what the
//! CPTS records about them, and the CSV/XLSX exports.

use crate::access::{Access, Actor, Authorised, CptsContext, GuardedRouter, Viewer};
use crate::error::{WebError, WebResult};
use crate::export::{csv_cells, csv_download, csv_line, xlsx_download, BOM};
use crate::forms::{Form, Problems, Query};
use crate::pages::{format_instant, record_list_read};
use crate::views::{lookahead, paginate, render, render_form, Layout, Pager};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maillage_app::clock::{now_ms, year_of};
use maillage_app::directory::members::facts_text;
use maillage_app::export::{directory_row as export_cells, Xlsx, DIRECTORY_COLUMNS};
use maillage_domain::audit::AuditAction;
use maillage_domain::authz::{allows, Permission};
use maillage_domain::identifiers::InseeCode;
use maillage_domain::professional::{
    parse_birth_year, parse_capacity, parse_mssante, parse_optional_email, parse_phone,
    parse_short_text, ProfessionalFacts, Visibility, PROFESSIONS,
};
use maillage_domain::text::fold;
use maillage_domain::ValidationError;
use maillage_store::{DirectoryQuery, Page, ProfessionalSummary, StructureQuery, GENERAL_PRACTICE};
use serde::Deserialize;
use uuid::Uuid;

pub fn routes(router: GuardedRouter) -> GuardedRouter {
    router
        .get(
            "/c/{cpts}/annuaire",
            Access::Cpts(Permission::ViewMemberDirectory),
            "Annuaire des professionnels du territoire",
            page,
        )
        .get(
            "/c/{cpts}/annuaire/export.csv",
            Access::Cpts(Permission::ManageDirectory),
            "Export CSV de l'annuaire",
            export_csv,
        )
        .get(
            "/c/{cpts}/annuaire/export.xlsx",
            Access::Cpts(Permission::ManageDirectory),
            "Export Excel de l'annuaire",
            export_xlsx,
        )
        .get(
            "/c/{cpts}/annuaire/fiche/{id}",
            Access::Cpts(Permission::ViewMemberDirectory),
            "Fiche d'un professionnel",
            professional_page,
        )
        .get(
            "/c/{cpts}/annuaire/fiche/{id}/modifier",
            Access::Cpts(Permission::ManageDirectory),
            "Formulaire de la fiche CPTS d'un professionnel",
            edit_form,
        )
        .post(
            "/c/{cpts}/annuaire/fiche/{id}/modifier",
            Access::Cpts(Permission::ManageDirectory),
            "Enregistrement de la fiche CPTS d'un professionnel",
            save,
        )
}

/// Folded search words (accents, case and punctuation ignored), at most 100 characters of input.
pub fn search_words(text: &str) -> Vec<String> {
    let text: String = text.chars().take(100).collect();
    fold(&text)
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// The commune's name for display (empty when the code names no commune).
pub fn commune_name(code: &str) -> String {
    maillage_domain::territory::commune_name(code)
        .unwrap_or_default()
        .to_string()
}

pub struct Choice {
    pub code: String,
    pub label: String,
    pub selected: bool,
}

/// A list's choices from (code, label) pairs, with `selected` marked.
pub fn pair_choices(pairs: &[(&str, &str)], selected: &str) -> Vec<Choice> {
    pairs
        .iter()
        .map(|(code, label)| Choice {
            code: code.to_string(),
            label: label.to_string(),
            selected: *code == selected,
        })
        .collect()
}

/// The communes of a CPTS's territory for a form's list, by name: « Aigues-Mortes (30003) ».
pub async fn territory_choices(
    state: &crate::AppState,
    cpts: maillage_store::CptsId,
    selected: &str,
) -> WebResult<Vec<Choice>> {
    let mut choices: Vec<Choice> = state
        .missions
        .directory
        .territory_of(cpts)
        .await?
        .into_iter()
        .map(|code| Choice {
            label: format!("{} ({code})", commune_name(&code)),
            selected: code == selected,
            code,
        })
        .collect();
    choices.sort_by(|a, b| a.label.cmp(&b.label));
    Ok(choices)
}

/// Profession filters: general practitioners first, then the professions of the national directory.
pub fn profession_choices(selected: &str) -> Vec<Choice> {
    std::iter::once((GENERAL_PRACTICE, "Médecin généraliste"))
        .chain(PROFESSIONS.iter().copied())
        .map(|(code, label)| Choice {
            code: code.to_string(),
            label: label.to_string(),
            selected: code == selected,
        })
        .collect()
}

pub struct DirectoryRow {
    pub id: Uuid,
    pub name: String,
    pub profession: String,
    pub specialty: String,
    pub commune: String,
    pub structure: String,
    pub phone: String,
    pub mode: String,
    pub member: bool,
    pub badges: Vec<&'static str>,
}

pub fn display_name(p: &ProfessionalSummary) -> String {
    format!("{} {} {}", p.civility, p.first_name, p.last_name)
        .trim()
        .to_string()
}

/// Short labels of what a professional offers the CPTS.
pub fn badges(p: &ProfessionalSummary) -> Vec<&'static str> {
    [
        (p.accepts_new_patients, "Nouveaux patients"),
        (p.snp_volunteer, "Soins non programmés"),
        (p.sas_effector, "Effecteur SAS"),
        (p.internship_supervisor, "Maître de stage"),
        (p.ipa, "IPA"),
        (p.asalee, "Asalée"),
    ]
    .into_iter()
    .filter_map(|(yes, label)| yes.then_some(label))
    .collect()
}

pub fn row_view(p: ProfessionalSummary) -> DirectoryRow {
    DirectoryRow {
        id: p.id,
        name: display_name(&p),
        badges: badges(&p),
        commune: commune_name(p.commune_code.as_deref().unwrap_or_default()),
        profession: p.profession_label,
        specialty: p.specialty,
        structure: p.structure_name.unwrap_or_default(),
        phone: if p.contact_phone.is_empty() {
            p.phone.unwrap_or_default()
        } else {
            p.contact_phone
        },
        mode: p.practice_mode,
        member: p.member,
    }
}

#[derive(Template)]
#[template(path = "directory.html")]
struct DirectoryPage {
    layout: Layout,
    cpts_name: String,
    slug: String,
    total: i64,
    query: String,
    professions: Vec<Choice>,
    communes: Vec<Choice>,
    members_only: bool,
    can_manage: bool,
    export_query: String,
    rows: Vec<DirectoryRow>,
    pager: Pager,
}

#[derive(Deserialize, Default, Clone)]
pub(crate) struct DirectoryParams {
    #[serde(default)]
    q: String,
    #[serde(default)]
    profession: String,
    #[serde(default)]
    commune: String,
    #[serde(default)]
    membres: String,
    pub(crate) page: Option<i64>,
}

impl DirectoryParams {
    pub(crate) fn query(&self, can_manage: bool) -> DirectoryQuery {
        let profession = profession_choices(&self.profession)
            .into_iter()
            .find(|c| c.selected)
            .map(|c| c.code);
        DirectoryQuery {
            words: search_words(&self.q),
            profession_code: profession,
            commune_code: InseeCode::parse(&self.commune)
                .ok()
                .map(|c| c.as_str().to_string()),
            members_only: !self.membres.is_empty(),
            hide_private: !can_manage,
            ..DirectoryQuery::default()
        }
    }

    fn encoded(&self) -> String {
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("q", &self.q.chars().take(100).collect::<String>())
            .append_pair("profession", &self.profession)
            .append_pair("commune", &self.commune)
            .append_pair("membres", &self.membres)
            .finish()
    }
}

const PAGE_SIZE: i64 = 50;

async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Actor(actor): Actor,
    Query(params): Query<DirectoryParams>,
) -> WebResult<Response> {
    let number = crate::forms::page_number(params.page);
    let can_manage = allows(context.role, Permission::ManageDirectory);
    let query = params.query(can_manage);
    record_list_read(
        &state,
        &actor,
        AuditAction::DirectoryViewed,
        "directory",
        number,
    )
    .await?;
    let directory = &state.missions.directory;
    let rows = directory
        .search_professionals(&caller, &query, lookahead(number, PAGE_SIZE))
        .await?;
    let base = format!("/c/{}/annuaire?{}", context.cpts.slug, params.encoded());
    let (rows, pager) = paginate(rows, &base, number, PAGE_SIZE);
    let communes = directory
        .territory(&caller)
        .await?
        .into_iter()
        .map(|code| Choice {
            label: commune_name(&code),
            selected: query.commune_code.as_deref() == Some(code.as_str()),
            code,
        })
        .collect();
    Ok(render(&DirectoryPage {
        layout: Layout::in_cpts(&viewer, &context, "Annuaire", "territoire"),
        cpts_name: context.cpts.name.clone(),
        slug: context.cpts.slug.clone(),
        total: directory.count_professionals(&caller).await?,
        professions: profession_choices(&params.profession),
        communes,
        members_only: query.members_only,
        can_manage,
        export_query: params.encoded(),
        query: params.q.chars().take(100).collect(),
        rows: rows.into_iter().map(row_view).collect(),
        pager,
    }))
}

/// Where an export stands: after this (last name, first name, id).
type ExportCursor = Option<(String, String, Uuid)>;

/// Rows read per round trip by the exports.
const EXPORT_BATCH: i64 = 500;

/// The next batch of an export after `after` (keyset pagination: constant cost per batch).
async fn export_batch(
    state: &AppState,
    caller: &maillage_app::caller::Caller,
    query: &DirectoryQuery,
    after: ExportCursor,
) -> WebResult<Vec<ProfessionalSummary>> {
    let query = DirectoryQuery {
        after,
        ..query.clone()
    };
    Ok(state
        .missions
        .directory
        .search_professionals(
            caller,
            &query,
            Page {
                limit: EXPORT_BATCH,
                offset: 0,
            },
        )
        .await?)
}

fn cursor_of(rows: &[ProfessionalSummary]) -> ExportCursor {
    rows.last()
        .map(|p| (p.last_name.clone(), p.first_name.clone(), p.id))
}

async fn audit_export(
    state: &AppState,
    actor: &maillage_app::audit::AuditContext,
    format: &str,
    params: &DirectoryParams,
) -> WebResult<()> {
    crate::export::audit_export(
        state,
        actor,
        "directory",
        serde_json::json!({ "format": format, "q": params.q, "profession": params.profession,
                            "commune": params.commune, "members_only": !params.membres.is_empty() }),
    )
    .await
}

async fn export_csv(
    State(state): State<AppState>,
    context: CptsContext,
    Actor(actor): Actor,
    Authorised(caller): Authorised,
    Query(params): Query<DirectoryParams>,
) -> WebResult<Response> {
    audit_export(&state, &actor, "csv", &params).await?;
    let query = params.query(true);
    let header_line = format!("{BOM}{}", csv_line(&DIRECTORY_COLUMNS));
    // Batch after batch: the export never holds more than one batch in memory.
    let stream = futures_util::stream::unfold(
        Some((None, Some(header_line))),
        move |cursor: Option<(ExportCursor, Option<String>)>| {
            let state = state.clone();
            let query = query.clone();
            let caller = caller.clone();
            async move {
                let (after, header_line) = cursor?;
                if let Some(line) = header_line {
                    return Some((Ok(bytes::Bytes::from(line)), Some((None, None))));
                }
                let rows = match export_batch(&state, &caller, &query, after).await {
                    Ok(rows) => rows,
                    Err(_) => {
                        tracing::error!("directory export interrupted");
                        return Some((Err(std::io::Error::other("export interrupted")), None));
                    }
                };
                if rows.is_empty() {
                    return None;
                }
                let chunk: String = rows.iter().map(|p| csv_cells(&export_cells(p))).collect();
                Some((
                    Ok(bytes::Bytes::from(chunk)),
                    Some((cursor_of(&rows), None)),
                ))
            }
        },
    );
    Ok(csv_download(
        &format!("annuaire-{}.csv", context.cpts.slug),
        axum::body::Body::from_stream(stream),
    ))
}

async fn export_xlsx(
    State(state): State<AppState>,
    context: CptsContext,
    Actor(actor): Actor,
    Authorised(caller): Authorised,
    Query(params): Query<DirectoryParams>,
) -> WebResult<Response> {
    audit_export(&state, &actor, "xlsx", &params).await?;
    let query = params.query(true);
    let mut xlsx = Xlsx::new();
    xlsx.sheet("Annuaire", &DIRECTORY_COLUMNS)?;
    let mut after = None;
    loop {
        let rows = export_batch(&state, &caller, &query, after).await?;
        if rows.is_empty() {
            break;
        }
        for p in &rows {
            xlsx.row(&export_cells(p))?;
        }
        after = cursor_of(&rows);
    }
    let bytes = tokio::task::spawn_blocking(move || xlsx.finish())
        .await
        .map_err(|e| WebError::Internal(e.to_string()))??;
    Ok(xlsx_download(
        &format!("annuaire-{}.xlsx", context.cpts.slug),
        bytes,
    ))
}

pub fn parse_id(text: &str) -> WebResult<Uuid> {
    Uuid::parse_str(text).map_err(|_| WebError::NotFound)
}

pub struct PlaceView {
    pub name: String,
    pub address: String,
    pub commune: String,
    pub phone: String,
    pub email: String,
    pub finess: String,
}

#[derive(Template)]
#[template(path = "professional.html")]
struct ProfessionalPage {
    layout: Layout,
    slug: String,
    id: Uuid,
    name: String,
    identifier: String,
    id_kind: String,
    checksum_ok: bool,
    from_national_directory: bool,
    profession: String,
    specialty: String,
    mode: String,
    places: Vec<PlaceView>,
    facts: ProfessionalFacts,
    badges: Vec<&'static str>,
    visibility: &'static str,
    structure: String,
    can_manage: bool,
    updated: String,
}

/// A record for its edit form (not audited: the form changes it, and the change is).
async fn load(
    state: &AppState,
    caller: &maillage_app::caller::Caller,
    id: &str,
) -> WebResult<maillage_store::ProfessionalRecord> {
    Ok(state
        .missions
        .directory
        .professional_for_edit(caller, parse_id(id)?)
        .await?)
}

async fn professional_page(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, id)): Path<(String, String)>,
) -> WebResult<Response> {
    let record = state
        .missions
        .directory
        .professional(&caller, parse_id(&id)?)
        .await?;
    let structure = match record.summary.structure_id {
        Some(structure) => state
            .missions
            .directory
            .structure(&caller, structure)
            .await
            .map(|s| s.name)
            .unwrap_or_default(),
        None => String::new(),
    };
    let facts = record.facts();
    Ok(render(&ProfessionalPage {
        layout: Layout::in_cpts(
            &viewer,
            &context,
            display_name(&record.summary),
            "territoire",
        ),
        slug: context.cpts.slug.clone(),
        id: record.summary.id,
        name: display_name(&record.summary),
        identifier: record.summary.identifier.clone(),
        id_kind: record.summary.id_kind.clone(),
        checksum_ok: record.checksum_ok,
        from_national_directory: record.from_national_directory,
        profession: record.summary.profession_label.clone(),
        specialty: record.summary.specialty.clone(),
        mode: record.summary.practice_mode.clone(),
        badges: badges(&record.summary),
        visibility: facts.visibility.label(),
        places: record
            .places
            .iter()
            .map(|p| PlaceView {
                name: p.name.clone(),
                address: format!("{} {}", p.address, p.postal_code)
                    .trim()
                    .to_string(),
                commune: commune_name(&p.commune_code),
                phone: p.phone.clone(),
                email: p.email.clone(),
                finess: p.finess.clone(),
            })
            .collect(),
        facts,
        structure,
        can_manage: allows(context.role, Permission::ManageDirectory),
        updated: record
            .facts_updated_at
            .map(format_instant)
            .unwrap_or_default(),
    }))
}

/// The facts form as typed (kept when it comes back with errors).
#[derive(Deserialize, Default, Clone)]
pub struct FactsForm {
    #[serde(default)]
    member: Option<String>,
    #[serde(default)]
    visibility: String,
    #[serde(default)]
    accepts_new_patients: Option<String>,
    #[serde(default)]
    new_patient_capacity: String,
    #[serde(default)]
    snp_volunteer: Option<String>,
    #[serde(default)]
    sas_effector: Option<String>,
    #[serde(default)]
    internship_supervisor: Option<String>,
    #[serde(default)]
    ipa: Option<String>,
    #[serde(default)]
    asalee: Option<String>,
    #[serde(default)]
    crisis_skills: String,
    #[serde(default)]
    languages: String,
    #[serde(default)]
    birth_year: String,
    #[serde(default)]
    mssante: String,
    #[serde(default)]
    contact_phone: String,
    #[serde(default)]
    contact_email: String,
    #[serde(default)]
    structure: String,
}

impl FactsForm {
    fn from_facts(facts: &ProfessionalFacts, structure: Option<Uuid>) -> Self {
        let flag = |yes: bool| yes.then(|| "on".to_string());
        Self {
            member: flag(facts.member),
            visibility: facts.visibility.code().to_string(),
            accepts_new_patients: flag(facts.accepts_new_patients),
            new_patient_capacity: facts
                .new_patient_capacity
                .map(|n| n.to_string())
                .unwrap_or_default(),
            snp_volunteer: flag(facts.snp_volunteer),
            sas_effector: flag(facts.sas_effector),
            internship_supervisor: flag(facts.internship_supervisor),
            ipa: flag(facts.ipa),
            asalee: flag(facts.asalee),
            crisis_skills: facts.crisis_skills.clone(),
            languages: facts.languages.clone(),
            birth_year: facts.birth_year.map(|y| y.to_string()).unwrap_or_default(),
            mssante: facts.mssante.clone(),
            contact_phone: facts.contact_phone.clone(),
            contact_email: facts.contact_email.clone(),
            structure: structure.map(|s| s.to_string()).unwrap_or_default(),
        }
    }

    /// Every problem, each naming its field.
    fn parse(
        &self,
        current_year: i64,
    ) -> Result<(ProfessionalFacts, Option<Uuid>), Vec<ValidationError>> {
        let mut problems = Problems::default();
        let visibility = problems.keep(Visibility::parse(&self.visibility).ok_or_else(|| {
            ValidationError::new("Visibilité", "choisissez une visibilité de la liste")
        }));
        let capacity = problems.keep(parse_capacity(&self.new_patient_capacity));
        let birth_year = problems.keep(parse_birth_year(&self.birth_year, current_year));
        let mssante = problems.keep(parse_mssante(&self.mssante));
        let phone = problems.keep(parse_phone("Téléphone", &self.contact_phone));
        let email = problems.keep(parse_optional_email("E-mail", &self.contact_email));
        let skills = problems.keep(parse_short_text(
            "Compétences crise",
            &self.crisis_skills,
            300,
        ));
        let languages = problems.keep(parse_short_text("Langues parlées", &self.languages, 200));
        let structure = match self.structure.trim() {
            "" => Some(None),
            text => problems.keep(Uuid::parse_str(text).map(Some).map_err(|_| {
                ValidationError::new("Structure", "choisissez une structure de la liste")
            })),
        };
        if !problems.0.is_empty() {
            return Err(problems.0);
        }
        let capacity = capacity.flatten();
        Ok((
            ProfessionalFacts {
                member: self.member.is_some(),
                visibility: visibility.unwrap_or_default(),
                accepts_new_patients: self.accepts_new_patients.is_some()
                    || capacity.is_some_and(|n| n > 0),
                new_patient_capacity: capacity,
                snp_volunteer: self.snp_volunteer.is_some(),
                sas_effector: self.sas_effector.is_some(),
                internship_supervisor: self.internship_supervisor.is_some(),
                ipa: self.ipa.is_some(),
                asalee: self.asalee.is_some(),
                crisis_skills: skills.unwrap_or_default(),
                languages: languages.unwrap_or_default(),
                birth_year: birth_year.flatten(),
                mssante: mssante.unwrap_or_default(),
                contact_phone: phone.unwrap_or_default(),
                contact_email: email.unwrap_or_default(),
            },
            structure.flatten(),
        ))
    }
}

#[derive(Template)]
#[template(path = "professional_form.html")]
struct FactsPage {
    layout: Layout,
    slug: String,
    id: Uuid,
    name: String,
    form: FactsForm,
    visibilities: Vec<Choice>,
    structures: Vec<Choice>,
    errors: Vec<ValidationError>,
}

async fn facts_page(
    state: &AppState,
    viewer: &Viewer,
    context: &CptsContext,
    caller: &maillage_app::caller::Caller,
    record: &maillage_store::ProfessionalRecord,
    form: FactsForm,
    errors: Vec<ValidationError>,
) -> WebResult<Response> {
    let structures = state
        .missions
        .directory
        .search_structures(
            caller,
            &StructureQuery::default(),
            Page::new(1, Page::MAX_LIMIT),
        )
        .await?
        .into_iter()
        .map(|s| Choice {
            selected: form.structure == s.id.to_string(),
            code: s.id.to_string(),
            label: format!("{} ({})", s.name, commune_name(&s.commune_code)),
        })
        .collect();
    let has_errors = !errors.is_empty();
    Ok(render_form(
        &FactsPage {
            layout: Layout::in_cpts(viewer, context, "Fiche CPTS", "territoire"),
            slug: context.cpts.slug.clone(),
            id: record.summary.id,
            name: display_name(&record.summary),
            visibilities: Visibility::ALL
                .iter()
                .map(|v| Choice {
                    code: v.code().to_string(),
                    label: v.label().to_string(),
                    selected: v.code() == form.visibility,
                })
                .collect(),
            structures,
            form,
            errors,
        },
        has_errors,
    ))
}

async fn edit_form(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, id)): Path<(String, String)>,
) -> WebResult<Response> {
    let record = load(&state, &caller, &id).await?;
    let form = FactsForm::from_facts(&record.facts(), record.summary.structure_id);
    facts_page(
        &state,
        &viewer,
        &context,
        &caller,
        &record,
        form,
        Vec::new(),
    )
    .await
}

async fn save(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, id)): Path<(String, String)>,
    Form(form): Form<FactsForm>,
) -> WebResult<Response> {
    let record = load(&state, &caller, &id).await?;
    let (facts, structure) = match form.parse(year_of(now_ms())) {
        Ok(parsed) => parsed,
        Err(errors) => {
            return facts_page(&state, &viewer, &context, &caller, &record, form, errors).await
        }
    };
    let structure_name = match structure {
        Some(structure) => match state.missions.directory.structure(&caller, structure).await {
            Ok(found) => Some(found.name),
            Err(maillage_app::directory::pages::DirectoryError::NotFound) => None,
            Err(other) => return Err(other.into()),
        },
        None => Some(String::new()),
    };
    let Some(structure_name) = structure_name else {
        let errors = vec![ValidationError::new(
            "Structure",
            "cette structure n'existe pas dans la CPTS",
        )];
        return facts_page(&state, &viewer, &context, &caller, &record, form, errors).await;
    };
    state
        .missions
        .directory
        .update_professional_facts(
            &caller,
            record.summary.id,
            &facts,
            structure,
            &facts_text(&facts, &structure_name),
        )
        .await?;
    Ok(Redirect::to(&format!(
        "/c/{}/annuaire/fiche/{}",
        context.cpts.slug, record.summary.id
    ))
    .into_response())
}
