//! The layers around every route: request id, logs without personal data, metrics, security headers,
//! French error pages (or problem+json for the API), and a panic turned into a 500 page.

use crate::error::{default_info, ErrorInfo};
use crate::views::ErrorPage;
use crate::AppState;
use askama::Template;
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::Router;
use std::time::{Duration, Instant};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Scripts, styles and images come from Maillage itself only: no inline script, no CDN.
pub const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; font-src 'self'; connect-src 'self'; form-action 'self'; \
    frame-ancestors 'none'; base-uri 'none'; manifest-src 'self'";

pub fn wrap(router: Router, state: AppState) -> Router {
    let secure = state.config.server.secure_cookies();
    let public = PublicAddress::of(&state.config.server.public_url);
    let mut router = router
        .layer(middleware::from_fn(no_store_when_signed_in))
        .layer(middleware::from_fn_with_state(public, check_host))
        .layer(middleware::from_fn(render_errors))
        .layer(CatchPanicLayer::custom(|_| {
            tracing::error!("handler panicked");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }))
        .layer(header_layer(
            header::CONTENT_SECURITY_POLICY,
            CONTENT_SECURITY_POLICY,
        ))
        .layer(header_layer(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(header_layer(header::X_FRAME_OPTIONS, "DENY"))
        .layer(header_layer(header::REFERRER_POLICY, "same-origin"))
        .layer(header_layer(
            HeaderName::from_static("permissions-policy"),
            "camera=(), microphone=(), geolocation=(), payment=()",
        ))
        .layer(header_layer(
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ));
    if secure {
        router = router.layer(header_layer(
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=31536000; includeSubDomains",
        ));
    }
    router
        .layer(middleware::from_fn_with_state(state, record_metrics))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(|request: &Request| {
                            // The route pattern, never the concrete path or query: no personal data in logs.
                            let route = request
                                .extensions()
                                .get::<MatchedPath>()
                                .map(|p| p.as_str().to_string())
                                .unwrap_or_else(|| "-".into());
                            let id = request
                                .headers()
                                .get(REQUEST_ID)
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or("-");
                            tracing::info_span!("http", method = %request.method(), route, request_id = id)
                        })
                        .on_request(())
                        .on_response(
                            |response: &Response, latency: Duration, _span: &tracing::Span| {
                                tracing::info!(
                                    status = response.status().as_u16(),
                                    ms = latency.as_millis() as u64,
                                    "response"
                                );
                            },
                        ),
                )
                .layer(PropagateRequestIdLayer::new(REQUEST_ID)),
        )
}

/// The authority (`host[:port]`) users reach Maillage at, from `server.public_url`: the only `Host` accepted.
#[derive(Clone, Debug)]
pub struct PublicAddress {
    /// Lower case; the port only when it is not the scheme's default.
    authority: String,
    default_port: u16,
}

impl PublicAddress {
    pub fn of(public_url: &str) -> Self {
        let parsed = url::Url::parse(public_url).ok();
        let host = parsed
            .as_ref()
            .and_then(|u| u.host_str())
            .unwrap_or("127.0.0.1")
            .to_ascii_lowercase();
        let default_port = parsed
            .as_ref()
            .and_then(|u| u.port_or_known_default())
            .filter(|_| parsed.as_ref().is_some_and(|u| u.port().is_none()))
            .unwrap_or(0);
        let authority = match parsed.as_ref().and_then(|u| u.port()) {
            Some(port) => format!("{host}:{port}"),
            None => host,
        };
        Self {
            authority,
            default_port,
        }
    }

    /// Whether a `Host` header names this address (the default port may be written or not).
    pub fn accepts(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        host == self.authority
            || (self.default_port != 0
                && host == format!("{}:{}", self.authority, self.default_port))
    }
}

/// Requests for another host name are refused (421) before any route runs: links, cookies and e-mails are
/// built for `server.public_url` only, and a forged `Host` must not reach them. The health check answers
/// whatever the host, for load balancers that probe by address. A request without `Host` (HTTP/1.0, tests)
/// names no other host and passes.
async fn check_host(State(public): State<PublicAddress>, request: Request, next: Next) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .map(|h| h.to_str().unwrap_or("\u{0}"));
    match host {
        Some(host) if !public.accepts(host) && request.uri().path() != "/healthz" => {
            // The administrator learns which address was asked and which one is configured (the asked one
            // is cut and stripped of anything but host characters: it is the client's text).
            let asked: String = host
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
                .take(100)
                .collect();
            tracing::warn!(
                asked = %asked,
                expected = %public.authority,
                "request for another host refused: server.public_url names {}; set it to the address users type",
                public.authority
            );
            (
                StatusCode::MISDIRECTED_REQUEST,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                format!(
                    "Cette adresse ne correspond pas à ce serveur Maillage, qui répond à {}.",
                    public.authority
                ),
            )
                .into_response()
        }
        _ => next.run(request).await,
    }
}

/// Pages seen with a session or a token may show personal data: no cache (browser, proxy) may keep them.
/// Embedded assets stay cacheable.
async fn no_store_when_signed_in(request: Request, next: Next) -> Response {
    let signed_in = crate::cookies::read(request.headers(), crate::cookies::SESSION).is_some()
        || request.headers().contains_key(header::AUTHORIZATION);
    let asset = request.uri().path().starts_with("/static/");
    let mut response = next.run(request).await;
    if signed_in && !asset {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

fn header_layer(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}

async fn record_metrics(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let response = next.run(request).await;
    state.metrics.record(
        method.as_str(),
        &route,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// Headers of the original error response worth keeping on the rendered page.
const KEPT_HEADERS: [HeaderName; 4] = [
    header::LOCATION,
    header::ALLOW,
    header::RETRY_AFTER,
    header::WWW_AUTHENTICATE,
];

async fn render_errors(request: Request, next: Next) -> Response {
    let request_id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_string();
    let api = request.uri().path().starts_with("/api/");
    let fhir = request.uri().path().starts_with("/fhir/");
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let info = response.extensions().get::<ErrorInfo>().cloned();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // A page a handler rendered itself (a form shown again with its errors) is kept as it is.
    if info.is_none() && !(content_type.is_empty() || content_type.starts_with("text/plain")) {
        return response;
    }
    let info = info.unwrap_or_else(|| default_info(status));
    let mut rendered = if fhir {
        crate::fhir::operation_outcome(status, &info.detail, &request_id)
    } else if api {
        let problem = serde_json::json!({
            "type": "about:blank",
            "title": info.title,
            "status": status.as_u16(),
            "detail": info.detail,
            "instance": format!("urn:maillage:request:{request_id}"),
            "request_id": request_id,
        });
        let mut response = (status, problem.to_string()).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        response
    } else {
        let page = ErrorPage {
            layout: crate::views::Layout::anonymous(info.title.clone()),
            status: status.as_u16(),
            title: info.title,
            detail: info.detail,
            request_id,
        };
        match page.render() {
            Ok(html) => (status, Html(html)).into_response(),
            Err(_) => (status, Body::from("Erreur")).into_response(),
        }
    };
    for name in KEPT_HEADERS {
        if let Some(value) = response.headers().get(&name) {
            rendered.headers_mut().insert(name, value.clone());
        }
    }
    rendered
}
