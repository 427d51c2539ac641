//! Every route is declared here with its access rule, and the rule is enforced before the handler runs.
//!
//! [`GuardedRouter`] is the only way the application adds a route, so a route cannot exist without a
//! rule, and the list of routes and rules ([`RouteSpec`]) is what `docs/security.md` and the access tests
//! are built from. Rules refuse by default: a signed-in person reaches a CPTS page only with a role in
//! that CPTS that the rights table in `maillage_domain::authz` allows.

use crate::cookies;
use crate::error::WebError;
use crate::AppState;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::extract::{FromRequestParts, RawPathParams, Request, State};
use axum::handler::Handler;
use axum::http::request::Parts;
use axum::http::{header, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{on, MethodFilter, MethodRouter};
use axum::Router;
use maillage_app::accounts::SignedIn;
use maillage_app::audit::AuditContext;
use maillage_app::caller::Caller;
use maillage_app::clock::now_ms;
use maillage_domain::authz::{allows, Permission, Role};
use maillage_store::Cpts;
use std::net::SocketAddr;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

/// Who may use a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not (home page, login form, assets, health).
    Public,
    /// Any signed-in account.
    SignedIn,
    /// Platform administrators only.
    PlatformAdmin,
    /// A role in the CPTS named by the `{cpts}` path segment that grants this permission.
    Cpts(Permission),
    /// A machine holding a live token of this scope, issued by a CPTS's coordination: in the
    /// `Authorization: Bearer` header, or in the `{token}` path segment (a calendar's secret address).
    /// The token names the CPTS; nothing else is reachable with it.
    Token(&'static str),
}

impl Access {
    /// How the rights table in the documentation names the rule.
    pub fn describe(self) -> String {
        match self {
            Access::Public => "public".into(),
            Access::SignedIn => "connecté".into(),
            Access::PlatformAdmin => "administrateur de la plateforme".into(),
            Access::Token(scope) => format!("jeton d'accès « {scope} » émis par la coordination"),
            Access::Cpts(permission) => {
                let roles: Vec<&str> = Role::ALL
                    .into_iter()
                    .filter(|role| allows(*role, permission))
                    .map(Role::label)
                    .collect();
                format!("{permission:?} : {}", roles.join(", "))
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteSpec {
    pub method: &'static str,
    pub path: String,
    pub access: Access,
    pub summary: &'static str,
}

/// The person behind the request, if signed in.
#[derive(Debug, Clone, Default)]
pub struct Viewer {
    pub signed_in: Option<SignedIn>,
}

impl Viewer {
    pub fn csrf_token(&self) -> Option<&str> {
        self.signed_in
            .as_ref()
            .map(|s| s.session.csrf_token.as_str())
    }
}

/// The CPTS a request works in, and the viewer's role there (set for [`Access::Cpts`] routes only).
#[derive(Debug, Clone)]
pub struct CptsContext {
    pub cpts: Cpts,
    pub role: Role,
}

impl<S: Send + Sync> FromRequestParts<S> for Viewer {
    type Rejection = WebError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Viewer>()
            .cloned()
            .ok_or_else(|| WebError::Internal("route without access guard".into()))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CptsContext {
    type Rejection = WebError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<CptsContext>()
            .cloned()
            .ok_or_else(|| WebError::Internal("CPTS route without a CPTS rule".into()))
    }
}

/// The signed-in account: only valid on routes whose rule requires one.
pub struct CurrentUser(pub SignedIn);

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = WebError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Viewer::from_request_parts(parts, state)
            .await?
            .signed_in
            .map(CurrentUser)
            .ok_or(WebError::Unauthorized)
    }
}

/// The client's address: the socket peer, or — when the peer is one of `server.trusted_proxies` — the rightmost
/// `X-Forwarded-For` hop that is not a trusted proxy (the leftmost ones are written by the client).
pub fn client_ip(parts: &Parts, proxies: &maillage_app::proxies::TrustedProxies) -> String {
    let Some(ConnectInfo(peer)) = parts.extensions.get::<ConnectInfo<SocketAddr>>() else {
        return "inconnue".into();
    };
    let forwarded = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok());
    proxies.client(peer.ip(), forwarded).to_string()
}

/// Who is acting, from where, in which CPTS: what the audit trail records for this request.
pub struct Actor(pub AuditContext);

impl FromRequestParts<AppState> for Actor {
    type Rejection = WebError;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let viewer = parts
            .extensions
            .get::<Viewer>()
            .cloned()
            .unwrap_or_default();
        let user = viewer.signed_in.as_ref().map(|s| &s.user);
        let caller = parts.extensions.get::<TokenCaller>();
        let client = parts.extensions.get::<SasClientCaller>();
        Ok(Actor(AuditContext {
            actor_id: user.map(|u| u.id),
            actor: match (user, caller, client) {
                (Some(u), _, _) => u.email.clone(),
                (None, Some(c), _) => format!("jeton « {} »", c.token.name),
                (None, None, Some(c)) => format!("client SAS « {} »", c.client.name),
                (None, None, None) => "anonyme".into(),
            },
            cpts_id: parts
                .extensions
                .get::<CptsContext>()
                .map(|c| c.cpts.id)
                .or(caller.map(|c| c.cpts.id)),
            ip: client_ip(parts, &state.proxies),
            request_id: parts
                .headers
                .get(crate::security::REQUEST_ID)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string(),
        }))
    }
}

/// The caller of a mission service on a CPTS route: the role the database gives the account in the CPTS of
/// the address, its linked professional, and who acts from where for the audit trail. Only this layer makes
/// it, after the route's rule passed; handlers hand it to the service, which decides record-level rights.
pub struct Authorised(pub Caller);

impl FromRequestParts<AppState> for Authorised {
    type Rejection = WebError;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let caller = parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| WebError::Internal("CPTS route without a CPTS rule".into()))?;
        let Actor(context) = Actor::from_request_parts(parts, state).await?;
        Ok(Authorised(caller.with_context(&context)))
    }
}

/// Largest request body a page, form or API call accepts.
pub const BODY_LIMIT: usize = 2 * 1024 * 1024;

/// Largest uploaded import (the national directory's extract is under 1 GB uncompressed).
pub const UPLOAD_LIMIT: usize = 3 * 1024 * 1024 * 1024;

/// Longest a request may take until its answer starts (a streamed export then streams as long as it needs).
pub const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// The body limit and the time limit of a route.
#[derive(Clone, Copy)]
enum Limits {
    Page,
    Upload,
}

pub struct GuardedRouter {
    state: AppState,
    router: Router<AppState>,
    specs: Vec<RouteSpec>,
}

impl GuardedRouter {
    pub fn new(state: AppState) -> Self {
        Self {
            state,
            router: Router::new(),
            specs: Vec::new(),
        }
    }

    pub fn get<H, T>(self, path: &str, access: Access, summary: &'static str, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add("GET", MethodFilter::GET, path, access, summary, handler)
    }

    pub fn post<H, T>(self, path: &str, access: Access, summary: &'static str, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add("POST", MethodFilter::POST, path, access, summary, handler)
    }

    /// A POST that receives a file to import: up to [`UPLOAD_LIMIT`] and as long as the upload takes.
    pub fn post_upload<H, T>(
        self,
        path: &str,
        access: Access,
        summary: &'static str,
        handler: H,
    ) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add_with(
            "POST",
            MethodFilter::POST,
            path,
            access,
            summary,
            handler,
            Limits::Upload,
        )
    }

    fn add<H, T>(
        self,
        method: &'static str,
        filter: MethodFilter,
        path: &str,
        access: Access,
        summary: &'static str,
        handler: H,
    ) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add_with(method, filter, path, access, summary, handler, Limits::Page)
    }

    #[allow(clippy::too_many_arguments)]
    fn add_with<H, T>(
        mut self,
        method: &'static str,
        filter: MethodFilter,
        path: &str,
        access: Access,
        summary: &'static str,
        handler: H,
        limits: Limits,
    ) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let guarded: MethodRouter<AppState> =
            on(filter, handler).route_layer(middleware::from_fn_with_state(
                self.state.clone(),
                move |State(state): State<AppState>, request: Request, next: Next| {
                    enforce(state, access, request, next)
                },
            ));
        // tower-http's layers, outside the access rule: an oversized body is refused before anything is read
        // (413, from its declared length or as it streams), a request that takes too long is answered 503.
        let guarded: MethodRouter<AppState> = match limits {
            Limits::Page => guarded
                .layer::<_, std::convert::Infallible>(TimeoutLayer::with_status_code(
                    StatusCode::SERVICE_UNAVAILABLE,
                    REQUEST_TIMEOUT,
                ))
                .layer::<_, std::convert::Infallible>(RequestBodyLimitLayer::new(BODY_LIMIT)),
            Limits::Upload => guarded
                .layer::<_, std::convert::Infallible>(RequestBodyLimitLayer::new(UPLOAD_LIMIT)),
        };
        self.router = self.router.route(path, guarded);
        self.specs.push(RouteSpec {
            method,
            path: path.to_string(),
            access,
            summary,
        });
        self
    }

    pub fn specs(&self) -> &[RouteSpec] {
        &self.specs
    }

    pub fn into_router(self) -> Router {
        self.router
            .fallback(|| async { WebError::NotFound })
            .with_state(self.state)
    }
}

fn is_api(request: &Request) -> bool {
    request.uri().path().starts_with("/api/")
}

/// The login page, coming back to `path` afterwards.
fn to_login(request: &Request) -> Response {
    let back = request
        .uri()
        .path_and_query()
        .map(|pq| pq.as_str())
        .unwrap_or("/");
    let encoded: String = url_encode(back);
    Redirect::to(&format!("/connexion?suite={encoded}")).into_response()
}

/// What a query value keeps as it is: letters, digits, `-_.~` and `/` (a path stays readable).
const QUERY_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

pub fn url_encode(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, QUERY_VALUE).to_string()
}

async fn resolve_viewer(state: &AppState, token: Option<String>) -> Result<Viewer, WebError> {
    let Some(token) = token else {
        return Ok(Viewer::default());
    };
    let signed_in = state.accounts.resume(&token, now_ms()).await?;
    Ok(Viewer { signed_in })
}

async fn enforce(state: AppState, access: Access, mut request: Request, next: Next) -> Response {
    match authorize(&state, access, &mut request).await {
        Ok(()) => {}
        Err(Refusal::Login) => return to_login(&request),
        Err(Refusal::SecondFactorRequired) => {
            return Redirect::to("/compte/double-authentification?obligatoire=1").into_response()
        }
        Err(Refusal::Error(error)) => return error.into_response(),
    }
    if !is_safe(request.method()) {
        request = match check_csrf(&state, request).await {
            Ok(request) => request,
            Err(error) => return error.into_response(),
        };
    }
    next.run(request).await
}

pub(crate) enum Refusal {
    Login,
    /// The CPTS requires a second factor for this role and the account has none yet.
    SecondFactorRequired,
    Error(WebError),
}

impl From<WebError> for Refusal {
    fn from(error: WebError) -> Self {
        Refusal::Error(error)
    }
}

async fn authorize(state: &AppState, access: Access, request: &mut Request) -> Result<(), Refusal> {
    let token = cookies::read(request.headers(), cookies::SESSION);
    let api = is_api(request);
    let viewer = resolve_viewer(state, token).await?;
    request.extensions_mut().insert(viewer.clone());
    if access == Access::Public {
        return Ok(());
    }
    if let Access::Token(scope) = access {
        // The SAS may come with its client certificate — verified by `maillage serve`'s own TLS or by the
        // reverse proxy — instead of a token.
        if scope == maillage_app::tokens::FHIR_SCOPE && !has_bearer(request) {
            if let Some(client) = crate::tls::certificate_client(state, request).await? {
                request.extensions_mut().insert(client);
                return Ok(());
            }
        }
        let caller = token_caller(state, scope, request).await?;
        request.extensions_mut().insert(caller);
        return Ok(());
    }
    let Some(signed_in) = viewer.signed_in else {
        return Err(if api {
            Refusal::Error(WebError::Unauthorized)
        } else {
            Refusal::Login
        });
    };
    match access {
        Access::Public | Access::SignedIn | Access::Token(_) => Ok(()),
        Access::PlatformAdmin if signed_in.user.is_platform_admin => Ok(()),
        Access::PlatformAdmin => Err(WebError::Forbidden(
            "Cette page est réservée à l'administration de la plateforme.".into(),
        )
        .into()),
        Access::Cpts(permission) => {
            let slug = path_param(state, request, "cpts")
                .await
                .ok_or_else(|| WebError::Internal("CPTS rule on a route without {cpts}".into()))?;
            let cpts = state
                .store
                .find_cpts_by_slug(&slug)
                .await
                .map_err(WebError::from)?
                .ok_or(WebError::NotFound)?;
            let caller = Caller::resolve(
                state.store.as_ref(),
                signed_in.user.id,
                cpts.id,
                &AuditContext::default(),
            )
            .await
            .map_err(WebError::from)?
            .ok_or_else(|| WebError::Forbidden("Vous n'avez aucun rôle dans cette CPTS.".into()))?;
            let role = caller.role();
            if !allows(role, permission) {
                return Err(WebError::forbidden().into());
            }
            if cpts.mfa_required
                && allows(role, Permission::ViewPatientRequests)
                && !signed_in.user.totp_enabled
            {
                return Err(if api {
                    Refusal::Error(WebError::Forbidden(
                        "Cette CPTS exige la double authentification pour votre rôle.".into(),
                    ))
                } else {
                    Refusal::SecondFactorRequired
                });
            }
            request.extensions_mut().insert(CptsContext { cpts, role });
            request.extensions_mut().insert(caller);
            Ok(())
        }
    }
}

/// A segment of the route's path (`{cpts}`, `{token}`), read before the handler runs.
async fn path_param(state: &AppState, request: &mut Request, name: &str) -> Option<String> {
    let (mut parts, body) = std::mem::take(request).into_parts();
    let params = RawPathParams::from_request_parts(&mut parts, state).await;
    *request = Request::from_parts(parts, body);
    params.ok().and_then(|p| {
        p.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    })
}

/// The CPTS and token behind a machine's request.
#[derive(Debug, Clone)]
pub struct TokenCaller {
    pub cpts: Cpts,
    pub token: maillage_store::ApiToken,
}

impl<S: Send + Sync> FromRequestParts<S> for TokenCaller {
    type Rejection = WebError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<TokenCaller>()
            .cloned()
            .ok_or_else(|| WebError::Internal("token route without a token rule".into()))
    }
}

/// A SAS platform let in by its IGC-Santé client certificate, for the CPTS it is registered with.
#[derive(Clone)]
pub struct SasClientCaller {
    pub client: maillage_store::SasClient,
    pub cpts: Vec<Cpts>,
}

/// The caller of a FHIR route: a token of one CPTS, or a SAS client let in by its certificate.
pub enum FhirCaller {
    Token(TokenCaller),
    Client(SasClientCaller),
}

impl<S: Send + Sync> FromRequestParts<S> for FhirCaller {
    type Rejection = WebError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        if let Some(client) = parts.extensions.get::<SasClientCaller>() {
            return Ok(FhirCaller::Client(client.clone()));
        }
        parts
            .extensions
            .get::<TokenCaller>()
            .cloned()
            .map(FhirCaller::Token)
            .ok_or_else(|| WebError::Internal("FHIR route without a token rule".into()))
    }
}

fn has_bearer(request: &Request) -> bool {
    request.headers().contains_key(header::AUTHORIZATION)
}

async fn token_caller(
    state: &AppState,
    scope: &'static str,
    request: &mut Request,
) -> Result<TokenCaller, Refusal> {
    let bearer = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|v| v.trim().to_string());
    let secret = match bearer {
        Some(secret) => Some(secret),
        None => path_param(state, request, "token").await,
    };
    let refused = || Refusal::Error(WebError::Unauthorized);
    let secret = secret.ok_or_else(refused)?;
    let token = maillage_app::tokens::authenticate(state.store.as_ref(), &secret, scope)
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?
        .ok_or_else(refused)?;
    let cpts = state
        .store
        .find_cpts(token.cpts_id)
        .await
        .map_err(WebError::from)?
        .ok_or_else(refused)?;
    Ok(TokenCaller { cpts, token })
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Largest form body read to find the CSRF token.
const FORM_LIMIT: usize = 1024 * 1024;

/// State-changing requests must prove they come from a Maillage page: the form field `csrf` (or the
/// `X-CSRF-Token` header) must equal the session's token, or, before login, the token of the
/// pre-login cookie. An `Origin` other than `server.public_url`'s is refused outright.
async fn check_csrf(state: &AppState, request: Request) -> Result<Request, WebError> {
    let expired = || {
        WebError::Forbidden(
            "Le formulaire a expiré ou ne vient pas de Maillage : rechargez la page puis recommencez."
                .into(),
        )
    };
    if let Some(origin) = request
        .headers()
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
    {
        // The origin of `server.public_url`, the only address Maillage's pages are served at.
        let public = url::Url::parse(state.config.server.base_url())
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_default();
        if !origin.eq_ignore_ascii_case(&public) {
            return Err(expired());
        }
    }
    let viewer = request
        .extensions()
        .get::<Viewer>()
        .cloned()
        .unwrap_or_default();
    let expected = match viewer.csrf_token() {
        Some(token) => token.to_string(),
        None => cookies::read(request.headers(), cookies::LOGIN_CSRF).ok_or_else(|| {
            WebError::Forbidden(
                "Votre navigateur doit accepter les cookies de Maillage pour envoyer ce formulaire."
                    .into(),
            )
        })?,
    };
    if let Some(header_token) = request
        .headers()
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
    {
        return if constant_time_eq(header_token.as_bytes(), expected.as_bytes()) {
            Ok(request)
        } else {
            Err(expired())
        };
    }
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    // File uploads can be large and are streamed by their handler: their token travels in the form's
    // action URL (`?csrf=…`) instead of being searched for in the body.
    if content_type.starts_with("multipart/form-data") {
        let provided =
            url::form_urlencoded::parse(request.uri().query().unwrap_or_default().as_bytes())
                .find(|(key, _)| key == "csrf")
                .map(|(_, value)| value.into_owned())
                .unwrap_or_default();
        return if constant_time_eq(provided.as_bytes(), expected.as_bytes()) {
            Ok(request)
        } else {
            Err(expired())
        };
    }
    let is_form = content_type.starts_with("application/x-www-form-urlencoded");
    if !is_form {
        return Err(expired());
    }
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, FORM_LIMIT)
        .await
        .map_err(|_| WebError::BadRequest("Le formulaire envoyé est trop volumineux.".into()))?;
    let provided = url::form_urlencoded::parse(&bytes)
        .find(|(key, _)| key == "csrf")
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default();
    if !constant_time_eq(provided.as_bytes(), expected.as_bytes()) {
        return Err(expired());
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.ct_eq(b).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_comparison_is_exact() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }

    #[test]
    fn login_redirects_keep_the_path_safely_encoded() {
        assert_eq!(url_encode("/c/x?a=1&b=é"), "/c/x%3Fa%3D1%26b%3D%C3%A9");
    }
}
