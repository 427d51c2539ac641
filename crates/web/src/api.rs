//! JSON API under `/api/v1`, described by the OpenAPI document at `/api/v1/openapi.json`.
//! Errors are `application/problem+json` (RFC 9457) with the request id.

use crate::access::{Access, Actor, CptsContext, CurrentUser, GuardedRouter};
use crate::error::{WebError, WebResult};
use crate::forms::{Json, PageQuery, Query};
use crate::pages::{create_cpts, CptsForm};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maillage_domain::audit::AuditAction;
use maillage_domain::authz::Permission;
use maillage_store::{Cpts, Page};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

pub fn routes(router: GuardedRouter) -> GuardedRouter {
    router
        .get(
            "/api/v1/openapi.json",
            Access::Public,
            "Document OpenAPI de l'API",
            openapi,
        )
        .get(
            "/api/v1/me",
            Access::SignedIn,
            "Le compte connecté et ses rôles",
            me,
        )
        .get(
            "/api/v1/cpts",
            Access::PlatformAdmin,
            "Liste des CPTS",
            list_cpts,
        )
        .post(
            "/api/v1/cpts",
            Access::PlatformAdmin,
            "Création d'une CPTS",
            post_cpts,
        )
        .get(
            "/api/v1/cpts/{cpts}/professionals",
            Access::Cpts(Permission::ViewMemberDirectory),
            "Recherche dans l'annuaire des professionnels d'une CPTS",
            list_professionals,
        )
        .get(
            "/api/v1/cpts/{cpts}/members",
            Access::Cpts(Permission::ViewMemberDirectory),
            "Membres et rôles d'une CPTS",
            list_members,
        )
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Maillage API",
        description = "API de Maillage, la plateforme des CPTS. Authentification par la session du navigateur \
                       (cookie) ; les requêtes qui modifient exigent l'en-tête X-CSRF-Token. \
                       Erreurs au format application/problem+json.",
        license(name = "AGPL-3.0-or-later")
    ),
    paths(me, list_cpts, post_cpts, list_members, list_professionals),
    components(schemas(MeResponse, MembershipDto, CptsDto, CreateCptsRequest, MemberDto, ProfessionalDto, Problem)),
    modifiers(&SessionCookie),
    tags((name = "comptes"), (name = "cpts"), (name = "annuaire"))
)]
struct ApiDoc;

/// The API's authentication: the browser's session cookie, and `X-CSRF-Token` on changes.
struct SessionCookie;

impl utoipa::Modify for SessionCookie {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityRequirement, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("maillage_session"))),
        );
        openapi.security = Some(vec![SecurityRequirement::new(
            "session",
            Vec::<String>::new(),
        )]);
    }
}

pub fn openapi_document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

async fn openapi() -> Response {
    axum::Json(openapi_document()).into_response()
}

/// The errors every operation may answer, as problem details: documented once, listed by each path.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // a description for the OpenAPI document, never built
enum Errors {
    /// Not signed in, or the session expired.
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthorized(Problem),
    /// Signed in without the right (or the CSRF token is missing or wrong).
    #[response(status = 403, content_type = "application/problem+json")]
    Forbidden(Problem),
    /// No such CPTS, or none the caller may see.
    #[response(status = 404, content_type = "application/problem+json")]
    NotFound(Problem),
    /// The method is not one of this path's.
    #[response(status = 405, content_type = "application/problem+json")]
    MethodNotAllowed(Problem),
    /// The request conflicts with what exists (an identifier already taken).
    #[response(status = 409, content_type = "application/problem+json")]
    Conflict(Problem),
    /// The body is larger than 2 Mo.
    #[response(status = 413, content_type = "application/problem+json")]
    TooLarge(Problem),
    /// A value refused, the field named in French in `detail`.
    #[response(status = 422, content_type = "application/problem+json")]
    Unprocessable(Problem),
    /// Too many requests: wait for the `Retry-After` seconds.
    #[response(status = 429, content_type = "application/problem+json")]
    TooManyRequests(Problem),
}

/// An error as RFC 9457 problem details.
#[derive(Serialize, ToSchema)]
struct Problem {
    title: String,
    status: u16,
    detail: String,
    request_id: String,
}

#[derive(Serialize, ToSchema)]
struct MembershipDto {
    cpts: String,
    name: String,
    /// coordinator, secretary, member or partner.
    role: String,
}

#[derive(Serialize, ToSchema)]
struct MeResponse {
    id: String,
    email: String,
    display_name: String,
    platform_admin: bool,
    memberships: Vec<MembershipDto>,
}

#[utoipa::path(get, path = "/api/v1/me", tag = "comptes",
    responses((status = 200, body = MeResponse), Errors))]
async fn me(
    State(state): State<AppState>,
    CurrentUser(signed_in): CurrentUser,
) -> WebResult<Response> {
    let roles = state.store.roles_of_user(signed_in.user.id).await?;
    Ok(axum::Json(MeResponse {
        id: signed_in.user.id.to_string(),
        email: signed_in.user.email,
        display_name: signed_in.user.display_name,
        platform_admin: signed_in.user.is_platform_admin,
        memberships: roles
            .into_iter()
            .map(|(cpts, role)| MembershipDto {
                cpts: cpts.slug,
                name: cpts.name,
                role: role.code().into(),
            })
            .collect(),
    })
    .into_response())
}

#[derive(Serialize, ToSchema)]
struct CptsDto {
    id: String,
    slug: String,
    name: String,
    finess: Option<String>,
    siret: Option<String>,
}

impl From<Cpts> for CptsDto {
    fn from(cpts: Cpts) -> Self {
        Self {
            id: cpts.id.to_string(),
            slug: cpts.slug,
            name: cpts.name,
            finess: cpts.finess,
            siret: cpts.siret,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/cpts", tag = "cpts",
    params(("page" = Option<i64>, Query, minimum = 1, description = "Page (50 CPTS par page)")),
    responses((status = 200, body = Vec<CptsDto>), Errors))]
async fn list_cpts(
    State(state): State<AppState>,
    Query(query): Query<PageQuery>,
) -> WebResult<Response> {
    let cpts = state.store.list_cpts(Page::new(query.number(), 50)).await?;
    Ok(axum::Json(cpts.into_iter().map(CptsDto::from).collect::<Vec<_>>()).into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CreateCptsRequest {
    /// Nom de la CPTS (150 caractères au plus, sans caractère de contrôle).
    #[schema(min_length = 1, max_length = 150)]
    name: String,
    /// Identifiant d'adresse ; déduit du nom s'il est absent.
    #[serde(default)]
    #[schema(
        min_length = 2,
        max_length = 60,
        pattern = "^[a-z0-9]([a-z0-9-]*[a-z0-9])?$"
    )]
    slug: Option<String>,
    /// Numéro FINESS (9 caractères, clé de Luhn).
    #[serde(default)]
    #[schema(max_length = 9)]
    finess: Option<String>,
    /// Numéro SIRET (14 chiffres, clé de Luhn).
    #[serde(default)]
    #[schema(max_length = 14)]
    siret: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/cpts", tag = "cpts", request_body = CreateCptsRequest,
    responses((status = 201, body = CptsDto), Errors))]
async fn post_cpts(
    State(state): State<AppState>,
    Json(request): Json<CreateCptsRequest>,
) -> WebResult<Response> {
    let form = CptsForm {
        name: request.name,
        slug: request.slug.unwrap_or_default(),
        finess: request.finess.unwrap_or_default(),
        siret: request.siret.unwrap_or_default(),
        ..CptsForm::default()
    };
    match create_cpts(&state, &form).await {
        Ok(cpts) => Ok((StatusCode::CREATED, axum::Json(CptsDto::from(cpts))).into_response()),
        Err(errors) => Err(WebError::BadRequest(errors.join(" ; "))),
    }
}

#[derive(Serialize, ToSchema)]
struct MemberDto {
    display_name: String,
    role: String,
}

#[utoipa::path(get, path = "/api/v1/cpts/{cpts}/members", tag = "cpts",
    params(("cpts" = String, Path, example = "camargue-gardoise", description = "Identifiant d'adresse de la CPTS"),
           ("page" = Option<i64>, Query, minimum = 1, description = "Page (100 comptes par page)")),
    responses((status = 200, body = Vec<MemberDto>), Errors))]
async fn list_members(
    State(state): State<AppState>,
    context: CptsContext,
    Actor(actor): Actor,
    Query(query): Query<PageQuery>,
) -> WebResult<Response> {
    crate::pages::record_list_read(
        &state,
        &actor,
        AuditAction::MembersViewed,
        "members",
        query.number(),
    )
    .await?;
    let members = state
        .store
        .list_members(context.cpts.id, Page::new(query.number(), 100))
        .await?;
    Ok(axum::Json(
        members
            .into_iter()
            .map(|m| MemberDto {
                display_name: m.display_name,
                role: m.role.code().into(),
            })
            .collect::<Vec<_>>(),
    )
    .into_response())
}

/// A professional of the directory, with what the CPTS knows of them.
#[derive(Serialize, ToSchema)]
struct ProfessionalDto {
    id: String,
    /// RPPS or ADELI.
    id_kind: String,
    identifier: String,
    civility: String,
    last_name: String,
    first_name: String,
    /// Code of the national directory (10 médecin, 60 infirmier…).
    profession_code: String,
    profession: String,
    specialty: String,
    general_practitioner: bool,
    practice_mode: String,
    /// INSEE code and name of the first practice place's commune.
    commune_code: String,
    commune: String,
    structure: String,
    phone: String,
    member: bool,
    accepts_new_patients: bool,
    new_patient_capacity: Option<i64>,
    snp_volunteer: bool,
    sas_effector: bool,
    /// public, members or private.
    visibility: String,
}

#[utoipa::path(get, path = "/api/v1/cpts/{cpts}/professionals", tag = "annuaire",
    params(("cpts" = String, Path, example = "camargue-gardoise", description = "Identifiant d'adresse de la CPTS"),
           ("q" = Option<String>, Query, max_length = 200, description = "Mots cherchés (début des mots, sans accents)"),
           ("profession" = Option<String>, Query, description = "Code profession, ou MG pour les médecins généralistes"),
           ("commune" = Option<String>, Query, description = "Code INSEE d'une commune d'exercice"),
           ("page" = Option<i64>, Query, minimum = 1, description = "Page (50 professionnels par page)")),
    responses((status = 200, body = Vec<ProfessionalDto>), Errors))]
async fn list_professionals(
    State(state): State<AppState>,
    context: CptsContext,
    Actor(actor): Actor,
    Query(params): Query<crate::missions::directory::DirectoryParams>,
) -> WebResult<Response> {
    let number = crate::forms::page_number(params.page);
    let can_manage = maillage_domain::authz::allows(context.role, Permission::ManageDirectory);
    crate::pages::record_list_read(
        &state,
        &actor,
        AuditAction::DirectoryViewed,
        "directory",
        number,
    )
    .await?;
    let rows = state
        .store
        .search_professionals(
            context.cpts.id,
            &params.query(can_manage),
            Page::new(number, 50),
        )
        .await?;
    Ok(axum::Json(
        rows.into_iter()
            .map(|p| {
                let commune_code = p.commune_code.clone().unwrap_or_default();
                ProfessionalDto {
                    id: p.id.to_string(),
                    commune: crate::missions::directory::commune_name(&commune_code),
                    commune_code,
                    id_kind: p.id_kind,
                    identifier: p.identifier,
                    civility: p.civility,
                    last_name: p.last_name,
                    first_name: p.first_name,
                    profession_code: p.profession_code,
                    profession: p.profession_label,
                    specialty: p.specialty,
                    general_practitioner: p.general_practitioner,
                    practice_mode: p.practice_mode,
                    structure: p.structure_name.unwrap_or_default(),
                    phone: if p.contact_phone.is_empty() {
                        p.phone.unwrap_or_default()
                    } else {
                        p.contact_phone
                    },
                    member: p.member,
                    accepts_new_patients: p.accepts_new_patients,
                    new_patient_capacity: p.new_patient_capacity,
                    snp_volunteer: p.snp_volunteer,
                    sas_effector: p.sas_effector,
                    visibility: p.visibility,
                }
            })
            .collect::<Vec<_>>(),
    )
    .into_response())
}
