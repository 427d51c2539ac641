//! Structures of the territory: list and search, a structure's page, entry of structures without FINESS, and
//! what the CPTS records about each (services, contacts, partnership, agreement).

use super::directory::{commune_name, parse_id, search_words, Choice};
use crate::access::{Access, Actor, Authorised, CptsContext, GuardedRouter, Viewer};
use crate::error::WebResult;
use crate::export::{audit_export, csv_cells, csv_download, csv_line, xlsx_download, BOM};
use crate::forms::{Problems, Query};
use crate::views::{lookahead, paginate, render, render_form, Layout, Pager};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maillage_app::export::{Cell, Xlsx};
use maillage_domain::authz::{allows, Permission};
use maillage_domain::identifiers::{required_text, Finess, InseeCode, Siret};
use maillage_domain::professional::{parse_optional_email, parse_phone, parse_short_text};
use maillage_domain::structures::{
    kind_label, parse_date, partner_status_label, service_label, KINDS, PARTNER_STATUSES, SERVICES,
};
use maillage_domain::text::fold;
use maillage_domain::ValidationError;
use maillage_store::{Page, Structure, StructureFacts, StructureIdentity, StructureQuery};
use serde::Deserialize;

pub fn routes(router: GuardedRouter) -> GuardedRouter {
    router
        .get(
            "/c/{cpts}/structures",
            Access::Cpts(Permission::ViewMemberDirectory),
            "Structures du territoire",
            list,
        )
        .get(
            "/c/{cpts}/structures/export.csv",
            Access::Cpts(Permission::ManageDirectory),
            "Export CSV des structures",
            export_csv,
        )
        .get(
            "/c/{cpts}/structures/export.xlsx",
            Access::Cpts(Permission::ManageDirectory),
            "Export Excel des structures",
            export_xlsx,
        )
        .get(
            "/c/{cpts}/structures/nouvelle",
            Access::Cpts(Permission::ManageDirectory),
            "Formulaire de création d'une structure",
            new_form,
        )
        .post(
            "/c/{cpts}/structures/nouvelle",
            Access::Cpts(Permission::ManageDirectory),
            "Création d'une structure",
            create,
        )
        .get(
            "/c/{cpts}/structures/fiche/{id}",
            Access::Cpts(Permission::ViewMemberDirectory),
            "Fiche d'une structure",
            show,
        )
        .post(
            "/c/{cpts}/structures/fiche/{id}",
            Access::Cpts(Permission::ManageDirectory),
            "Enregistrement de la fiche CPTS d'une structure",
            save,
        )
}

fn kind_choices(selected: &str) -> Vec<Choice> {
    KINDS
        .iter()
        .map(|(code, label, _)| Choice {
            code: code.to_string(),
            label: label.to_string(),
            selected: *code == selected,
        })
        .collect()
}

pub struct StructureRow {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub commune: String,
    pub phone: String,
    pub partner: String,
    pub finess: String,
}

fn row_view(s: Structure) -> StructureRow {
    StructureRow {
        id: s.id.to_string(),
        kind: kind_label(&s.kind).unwrap_or("Autre structure").to_string(),
        commune: commune_name(&s.commune_code),
        partner: partner_status_label(&s.partner_status)
            .unwrap_or_default()
            .to_string(),
        name: s.name,
        phone: s.phone,
        finess: s.finess,
    }
}

#[derive(Template)]
#[template(path = "structures.html")]
struct ListPage {
    layout: Layout,
    slug: String,
    total: i64,
    query: String,
    kinds: Vec<Choice>,
    partners_only: bool,
    can_manage: bool,
    export_query: String,
    rows: Vec<StructureRow>,
    pager: Pager,
}

#[derive(Deserialize, Default)]
struct ListParams {
    #[serde(default)]
    q: String,
    #[serde(default)]
    type_structure: String,
    #[serde(default)]
    partenaires: String,
    page: Option<i64>,
}

impl ListParams {
    fn query(&self) -> StructureQuery {
        StructureQuery {
            words: search_words(&self.q),
            kind: kind_label(&self.type_structure).map(|_| self.type_structure.clone()),
            partners_only: !self.partenaires.is_empty(),
        }
    }

    fn encoded(&self) -> String {
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("q", &self.q.chars().take(100).collect::<String>())
            .append_pair("type_structure", &self.type_structure)
            .append_pair("partenaires", &self.partenaires)
            .finish()
    }
}

const PAGE_SIZE: i64 = 50;

async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Query(params): Query<ListParams>,
) -> WebResult<Response> {
    let number = crate::forms::page_number(params.page);
    let query = params.query();
    let rows = state
        .missions
        .directory
        .search_structures(&caller, &query, lookahead(number, PAGE_SIZE))
        .await?;
    let base = format!("/c/{}/structures?{}", context.cpts.slug, params.encoded());
    let (rows, pager) = paginate(rows, &base, number, PAGE_SIZE);
    Ok(render(&ListPage {
        layout: Layout::in_cpts(&viewer, &context, "Structures du territoire", "territoire"),
        slug: context.cpts.slug.clone(),
        total: state.missions.directory.count_structures(&caller).await?,
        query: params.q.chars().take(100).collect(),
        kinds: kind_choices(&params.type_structure),
        partners_only: query.partners_only,
        can_manage: allows(context.role, Permission::ManageDirectory),
        export_query: params.encoded(),
        rows: rows.into_iter().map(row_view).collect(),
        pager,
    }))
}

const EXPORT_COLUMNS: [&str; 16] = [
    "FINESS",
    "SIRET",
    "Nom",
    "Type",
    "Catégorie FINESS",
    "Adresse",
    "Code commune",
    "Commune",
    "Téléphone",
    "Services",
    "Particularités",
    "Contact",
    "Téléphone du contact",
    "E-mail du contact",
    "Lien avec la CPTS",
    "Convention (signée le – jusqu'au)",
];

fn export_cells(s: &Structure) -> Vec<Cell> {
    vec![
        s.finess.as_str().into(),
        s.siret.as_str().into(),
        s.name.as_str().into(),
        kind_label(&s.kind).unwrap_or_default().into(),
        s.finess_category.as_str().into(),
        format!("{} {}", s.address, s.postal_code)
            .trim()
            .to_string()
            .into(),
        s.commune_code.as_str().into(),
        commune_name(&s.commune_code).into(),
        s.phone.as_str().into(),
        services_text(&s.services).into(),
        s.specifics.as_str().into(),
        s.contact_name.as_str().into(),
        s.contact_phone.as_str().into(),
        s.contact_email.as_str().into(),
        partner_status_label(&s.partner_status)
            .unwrap_or_default()
            .into(),
        agreement_text(s).into(),
    ]
}

fn services_text(codes: &str) -> String {
    codes
        .split(';')
        .filter_map(service_label)
        .collect::<Vec<_>>()
        .join(", ")
}

fn agreement_text(s: &Structure) -> String {
    match (&s.agreement_signed_on, &s.agreement_ends_on) {
        (Some(from), Some(until)) => format!("{from} – {until}"),
        (Some(from), None) => format!("{from} –"),
        (None, Some(until)) => format!("– {until}"),
        (None, None) => String::new(),
    }
}

/// Every structure matching the search, batch after batch (structures are a few thousand at most per CPTS).
async fn all_matching(
    state: &AppState,
    caller: &maillage_app::caller::Caller,
    params: &ListParams,
) -> WebResult<Vec<Structure>> {
    let query = params.query();
    let mut all = Vec::new();
    for number in 1.. {
        let rows = state
            .missions
            .directory
            .search_structures(caller, &query, Page::new(number, Page::MAX_LIMIT))
            .await?;
        let last = rows.len() < usize::try_from(Page::MAX_LIMIT).unwrap_or(0);
        all.extend(rows);
        if last || all.len() > 100_000 {
            break;
        }
    }
    Ok(all)
}

async fn export_csv(
    State(state): State<AppState>,
    context: CptsContext,
    Authorised(caller): Authorised,
    Actor(actor): Actor,
    Query(params): Query<ListParams>,
) -> WebResult<Response> {
    audit_export(
        &state,
        &actor,
        "structures",
        serde_json::json!({ "format": "csv" }),
    )
    .await?;
    let mut body = format!("{BOM}{}", csv_line(&EXPORT_COLUMNS));
    for s in all_matching(&state, &caller, &params).await? {
        body.push_str(&csv_cells(&export_cells(&s)));
    }
    Ok(csv_download(
        &format!("structures-{}.csv", context.cpts.slug),
        axum::body::Body::from(body),
    ))
}

async fn export_xlsx(
    State(state): State<AppState>,
    context: CptsContext,
    Authorised(caller): Authorised,
    Actor(actor): Actor,
    Query(params): Query<ListParams>,
) -> WebResult<Response> {
    audit_export(
        &state,
        &actor,
        "structures",
        serde_json::json!({ "format": "xlsx" }),
    )
    .await?;
    let mut xlsx = Xlsx::new();
    xlsx.sheet("Structures", &EXPORT_COLUMNS)?;
    for s in all_matching(&state, &caller, &params).await? {
        xlsx.row(&export_cells(&s))?;
    }
    Ok(xlsx_download(
        &format!("structures-{}.xlsx", context.cpts.slug),
        xlsx.finish()?,
    ))
}

/// Both forms: identity (creation only) and the CPTS's facts.
#[derive(Deserialize, Default, Clone)]
pub struct StructureForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    finess: String,
    #[serde(default)]
    siret: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    commune: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    services: Vec<String>,
    #[serde(default)]
    specifics: String,
    #[serde(default)]
    contact_name: String,
    #[serde(default)]
    contact_phone: String,
    #[serde(default)]
    contact_email: String,
    #[serde(default)]
    partner_status: String,
    #[serde(default)]
    agreement_signed_on: String,
    #[serde(default)]
    agreement_ends_on: String,
}

impl StructureForm {
    fn from_structure(s: &Structure) -> Self {
        Self {
            name: s.name.clone(),
            kind: s.kind.clone(),
            finess: s.finess.clone(),
            siret: s.siret.clone(),
            address: s.address.clone(),
            commune: s.commune_code.clone(),
            phone: s.phone.clone(),
            services: s
                .services
                .split(';')
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .collect(),
            specifics: s.specifics.clone(),
            contact_name: s.contact_name.clone(),
            contact_phone: s.contact_phone.clone(),
            contact_email: s.contact_email.clone(),
            partner_status: s.partner_status.clone(),
            agreement_signed_on: s.agreement_signed_on.clone().unwrap_or_default(),
            agreement_ends_on: s.agreement_ends_on.clone().unwrap_or_default(),
        }
    }

    fn facts(&self, problems: &mut Problems) -> StructureFacts {
        let services: Vec<&str> = self
            .services
            .iter()
            .map(String::as_str)
            .filter(|code| service_label(code).is_some())
            .collect();
        let status = if partner_status_label(&self.partner_status).is_some() {
            self.partner_status.clone()
        } else {
            problems.0.push(ValidationError::new(
                "Lien avec la CPTS",
                "choisissez une valeur de la liste",
            ));
            "none".to_string()
        };
        let signed = problems
            .keep(parse_date(
                "Convention signée le",
                &self.agreement_signed_on,
            ))
            .flatten();
        let ends = problems
            .keep(parse_date(
                "Convention valable jusqu'au",
                &self.agreement_ends_on,
            ))
            .flatten();
        if let (Some(from), Some(until)) = (&signed, &ends) {
            if until < from {
                problems.0.push(ValidationError::new(
                    "Convention valable jusqu'au",
                    format!("{until} est avant la date de signature {from}"),
                ));
            }
        }
        StructureFacts {
            services: services.join(";"),
            specifics: problems
                .keep(parse_short_text("Particularités", &self.specifics, 1000))
                .unwrap_or_default(),
            contact_name: problems
                .keep(parse_short_text("Contact", &self.contact_name, 200))
                .unwrap_or_default(),
            contact_phone: problems
                .keep(parse_phone("Téléphone du contact", &self.contact_phone))
                .unwrap_or_default(),
            contact_email: problems
                .keep(parse_optional_email(
                    "E-mail du contact",
                    &self.contact_email,
                ))
                .unwrap_or_default(),
            partner_status: status,
            agreement_signed_on: signed,
            agreement_ends_on: ends,
        }
    }

    fn identity(&self, problems: &mut Problems) -> StructureIdentity {
        let name = problems
            .keep(required_text("Nom", &self.name, 200))
            .unwrap_or_default();
        if kind_label(&self.kind).is_none() {
            problems.0.push(ValidationError::new(
                "Type",
                "choisissez un type de la liste",
            ));
        }
        let finess = match self.finess.trim() {
            "" => String::new(),
            text => problems
                .keep(Finess::parse(text))
                .map(|f| f.as_str().to_string())
                .unwrap_or_default(),
        };
        let siret = match self.siret.trim() {
            "" => String::new(),
            text => problems
                .keep(Siret::parse(text))
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
        };
        let commune = problems
            .keep(
                InseeCode::parse(&self.commune)
                    .map_err(|e| ValidationError::new("Commune", e.message))
                    .and_then(|code| {
                        maillage_domain::territory::find(&code)
                            .map(|_| code)
                            .ok_or_else(|| {
                                ValidationError::new(
                                    "Commune",
                                    format!(
                                        "« {} » : aucune commune n'a ce code INSEE",
                                        self.commune.trim()
                                    ),
                                )
                            })
                    }),
            )
            .map(|c| c.as_str().to_string())
            .unwrap_or_default();
        let address = problems
            .keep(parse_short_text("Adresse", &self.address, 300))
            .unwrap_or_default();
        let phone = problems
            .keep(parse_phone("Téléphone", &self.phone))
            .unwrap_or_default();
        let natural_key = if !finess.is_empty() {
            finess.clone()
        } else if !siret.is_empty() {
            format!("siret:{siret}")
        } else {
            String::new()
        };
        StructureIdentity {
            natural_key,
            search_text: fold(&format!(
                "{} {} {}",
                name,
                kind_label(&self.kind).unwrap_or_default(),
                commune_name(&commune)
            )),
            finess,
            siret,
            name,
            kind: self.kind.clone(),
            finess_category: String::new(),
            address,
            postal_code: String::new(),
            commune_code: commune,
            phone,
            email: String::new(),
            content_hash: String::new(),
        }
    }
}

pub struct ServiceChoice {
    pub code: &'static str,
    pub label: &'static str,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "structure_form.html")]
struct FormPage {
    layout: Layout,
    slug: String,
    /// None: creation.
    structure: Option<Structure>,
    kind_text: String,
    commune_text: String,
    agreement: String,
    can_manage: bool,
    form: StructureForm,
    kinds: Vec<Choice>,
    communes: Vec<Choice>,
    statuses: Vec<Choice>,
    services: Vec<ServiceChoice>,
    errors: Vec<ValidationError>,
}

async fn form_page(
    state: &AppState,
    viewer: &Viewer,
    context: &CptsContext,
    structure: Option<Structure>,
    form: StructureForm,
    errors: Vec<ValidationError>,
) -> WebResult<Response> {
    let communes = state
        .missions
        .directory
        .territory_of(context.cpts.id)
        .await?
        .into_iter()
        .map(|code| Choice {
            label: commune_name(&code),
            selected: code == form.commune,
            code,
        })
        .collect();
    let has_errors = !errors.is_empty();
    let title = structure
        .as_ref()
        .map_or_else(|| "Nouvelle structure".to_string(), |s| s.name.clone());
    Ok(render_form(
        &FormPage {
            layout: Layout::in_cpts(viewer, context, title, "territoire"),
            slug: context.cpts.slug.clone(),
            kind_text: structure
                .as_ref()
                .and_then(|s| kind_label(&s.kind))
                .unwrap_or("Autre structure")
                .to_string(),
            commune_text: structure
                .as_ref()
                .map(|s| commune_name(&s.commune_code))
                .unwrap_or_default(),
            agreement: structure.as_ref().map(agreement_text).unwrap_or_default(),
            structure,
            can_manage: allows(context.role, Permission::ManageDirectory),
            kinds: kind_choices(&form.kind),
            communes,
            statuses: PARTNER_STATUSES
                .iter()
                .map(|(code, label)| Choice {
                    code: code.to_string(),
                    label: label.to_string(),
                    selected: *code == form.partner_status,
                })
                .collect(),
            services: SERVICES
                .iter()
                .map(|(code, label)| ServiceChoice {
                    code,
                    label,
                    checked: form.services.iter().any(|s| s == code),
                })
                .collect(),
            form,
            errors,
        },
        has_errors,
    ))
}

async fn new_form(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
) -> WebResult<Response> {
    let form = StructureForm {
        kind: "mairie".into(),
        partner_status: "none".into(),
        ..StructureForm::default()
    };
    form_page(&state, &viewer, &context, None, form, Vec::new()).await
}

/// Reads a form whose checkboxes repeat the same name (`services`), which `serde_urlencoded` cannot.
fn parse_structure_form(body: &[u8]) -> StructureForm {
    let mut form = StructureForm::default();
    for (key, value) in url::form_urlencoded::parse(body) {
        let value = value.into_owned();
        match key.as_ref() {
            "name" => form.name = value,
            "kind" => form.kind = value,
            "finess" => form.finess = value,
            "siret" => form.siret = value,
            "address" => form.address = value,
            "commune" => form.commune = value,
            "phone" => form.phone = value,
            "services" => form.services.push(value),
            "specifics" => form.specifics = value,
            "contact_name" => form.contact_name = value,
            "contact_phone" => form.contact_phone = value,
            "contact_email" => form.contact_email = value,
            "partner_status" => form.partner_status = value,
            "agreement_signed_on" => form.agreement_signed_on = value,
            "agreement_ends_on" => form.agreement_ends_on = value,
            _ => {}
        }
    }
    form
}

async fn create(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    body: axum::body::Bytes,
) -> WebResult<Response> {
    let form = parse_structure_form(&body);
    let mut problems = Problems::default();
    let mut identity = form.identity(&mut problems);
    let facts = form.facts(&mut problems);
    if !problems.0.is_empty() {
        return form_page(&state, &viewer, &context, None, form, problems.0).await;
    }
    identity.content_hash = maillage_app::directory::content_hash(&identity);
    let id = match state
        .missions
        .directory
        .create_structure(&caller, &identity, &facts)
        .await
    {
        Ok(id) => id,
        Err(maillage_app::directory::pages::DirectoryError::Store(
            maillage_store::StoreError::Conflict(_),
        )) => {
            let errors = vec![ValidationError::new(
                "FINESS",
                "une structure de la CPTS a déjà ce FINESS ou ce SIRET",
            )];
            return form_page(&state, &viewer, &context, None, form, errors).await;
        }
        Err(error) => return Err(error.into()),
    };
    Ok(Redirect::to(&format!("/c/{}/structures/fiche/{id}", context.cpts.slug)).into_response())
}

async fn load(
    state: &AppState,
    caller: &maillage_app::caller::Caller,
    id: &str,
) -> WebResult<Structure> {
    Ok(state
        .missions
        .directory
        .structure(caller, parse_id(id)?)
        .await?)
}

async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, id)): Path<(String, String)>,
) -> WebResult<Response> {
    let structure = load(&state, &caller, &id).await?;
    let form = StructureForm::from_structure(&structure);
    form_page(&state, &viewer, &context, Some(structure), form, Vec::new()).await
}

async fn save(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, id)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> WebResult<Response> {
    let structure = load(&state, &caller, &id).await?;
    let mut form = parse_structure_form(&body);
    let mut problems = Problems::default();
    let facts = form.facts(&mut problems);
    if !problems.0.is_empty() {
        // The identity fields are not part of this form: keep the stored ones on the page.
        let stored = StructureForm::from_structure(&structure);
        form.name = stored.name;
        form.kind = stored.kind;
        return form_page(&state, &viewer, &context, Some(structure), form, problems.0).await;
    }
    state
        .missions
        .directory
        .update_structure_facts(&caller, structure.id, &facts)
        .await?;
    Ok(Redirect::to(&format!(
        "/c/{}/structures/fiche/{}",
        context.cpts.slug, structure.id
    ))
    .into_response())
}
