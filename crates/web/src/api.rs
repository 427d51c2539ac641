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
    paths(me, list_cpts, post_cpts, list_members),
    components(schemas(MeResponse, MembershipDto, CptsDto, CreateCptsRequest, MemberDto, Problem)),
    tags((name = "comptes"), (name = "cpts"))
)]
struct ApiDoc;

pub fn openapi_document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

async fn openapi() -> Response {
    axum::Json(openapi_document()).into_response()
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
    responses((status = 200, body = MeResponse), (status = 401, body = Problem, content_type = "application/problem+json")))]
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
    params(("page" = Option<i64>, Query, description = "Page (50 CPTS par page)")),
    responses((status = 200, body = Vec<CptsDto>), (status = 403, body = Problem, content_type = "application/problem+json")))]
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
    name: String,
    /// Identifiant d'adresse ; déduit du nom s'il est absent.
    #[serde(default)]
    slug: Option<String>,
    #[serde(default)]
    finess: Option<String>,
    #[serde(default)]
    siret: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/cpts", tag = "cpts", request_body = CreateCptsRequest,
    responses((status = 201, body = CptsDto), (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn post_cpts(
    State(state): State<AppState>,
    Json(request): Json<CreateCptsRequest>,
) -> WebResult<Response> {
    let form = CptsForm {
        name: request.name,
        slug: request.slug.unwrap_or_default(),
        finess: request.finess.unwrap_or_default(),
        siret: request.siret.unwrap_or_default(),
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
    params(("cpts" = String, Path, description = "Identifiant d'adresse de la CPTS"),
           ("page" = Option<i64>, Query, description = "Page (100 comptes par page)")),
    responses((status = 200, body = Vec<MemberDto>), (status = 403, body = Problem, content_type = "application/problem+json")))]
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
