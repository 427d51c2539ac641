//! Client certificates and TLS. The SAS connects with its IGC-Santé client certificate (mutual TLS), which
//! reaches Maillage either from `maillage serve`'s own TLS ([`serve_tls`]: rustls, the certificate verified
//! against `server.tls_client_ca` during the handshake) or from a reverse proxy that verified it and forwards
//! it in `server.client_certificate_header` (believed only from a trusted proxy). Either way its subject —
//! Common Name and Organizational Unit, as the guide's security page describes — names a SAS client that a
//! platform administrator registered.

use crate::access::{Refusal, SasClientCaller};
use crate::error::WebError;
use crate::AppState;
use axum::extract::{ConnectInfo, Request};
use axum::Router;
use hyper_util::rt::TokioIo;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;

/// The client certificate `maillage serve`'s TLS verified for this connection (DER), in the request's
/// extensions.
#[derive(Debug, Clone)]
pub struct PeerCertificate(pub Vec<u8>);

/// The Common Name and Organizational Unit of a certificate.
fn subject_of(
    certificate: &x509_parser::certificate::X509Certificate<'_>,
) -> Option<(String, String)> {
    let subject = certificate.subject();
    let common_name = subject
        .iter_common_name()
        .find_map(|a| a.as_str().ok())?
        .to_string();
    let unit = subject
        .iter_organizational_unit()
        .find_map(|a| a.as_str().ok())
        .unwrap_or_default()
        .to_string();
    Some((common_name, unit))
}

/// The subject of a certificate forwarded PEM and URL-encoded; None when it is not one.
fn forwarded_subject(forwarded: &str) -> Option<(String, String)> {
    let pem_text = percent_encoding::percent_decode_str(forwarded)
        .decode_utf8()
        .ok()?;
    let (_, pem) = x509_parser::pem::parse_x509_pem(pem_text.trim().as_bytes()).ok()?;
    subject_of(&pem.parse_x509().ok()?)
}

/// The subject of a certificate verified by our own TLS (DER).
fn verified_subject(der: &[u8]) -> Option<(String, String)> {
    let (_, certificate) = x509_parser::parse_x509_certificate(der).ok()?;
    subject_of(&certificate)
}

/// The SAS client of the connection's client certificate: the one our TLS verified, else the one the trusted
/// reverse proxy forwarded. None without a certificate. A forwarded header from anyone but a trusted proxy, an
/// unreadable certificate, an unknown or revoked client: refused.
pub(crate) async fn certificate_client(
    state: &AppState,
    request: &mut Request,
) -> Result<Option<SasClientCaller>, Refusal> {
    let refused = || Refusal::Error(WebError::Unauthorized);
    let subject = if let Some(PeerCertificate(der)) = request.extensions().get::<PeerCertificate>()
    {
        verified_subject(der).ok_or_else(refused)?
    } else {
        let name = state.config.server.client_certificate_header.trim();
        if name.is_empty() {
            return Ok(None);
        }
        let Some(forwarded) = request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
        else {
            return Ok(None);
        };
        let peer = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| peer.ip());
        if !peer.is_some_and(|ip| state.proxies.trusts(ip)) {
            tracing::warn!(
                ?peer,
                "client certificate header from a peer that is not a trusted proxy"
            );
            return Err(refused());
        }
        forwarded_subject(&forwarded).ok_or_else(refused)?
    };
    let (common_name, unit) = subject;
    let found = maillage_app::tokens::sas_client_for(state.store.as_ref(), &common_name, &unit)
        .await
        .map_err(WebError::from)?;
    match found {
        Some((client, cpts)) if !cpts.is_empty() => Ok(Some(SasClientCaller { client, cpts })),
        _ => {
            tracing::warn!(%common_name, %unit, "client certificate of no registered SAS client");
            Err(refused())
        }
    }
}

/// Longest a TLS handshake may take (a client that opens and waits holds nothing longer).
const HANDSHAKE: Duration = Duration::from_secs(10);
/// Longest the connections still open are waited for at shutdown.
const DRAIN: Duration = Duration::from_secs(10);

/// Serves `app` over TLS on `listener` until `shutdown` completes: each connection is handshaken apart (a slow
/// client does not hold the others), and its requests carry the peer's address and, when it presented one that
/// verified, its certificate ([`PeerCertificate`]). At shutdown the open connections finish their request.
pub async fn serve_tls(
    listener: tokio::net::TcpListener,
    tls: Arc<rustls::ServerConfig>,
    app: Router,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    // Each connection holds a clone: the count tells how many are still open.
    let open = Arc::new(());
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: wait a little rather than spin.
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let (acceptor, app, mut stopped, open) =
            (acceptor.clone(), app.clone(), stopped.clone(), open.clone());
        tokio::spawn(async move {
            let _open = open;
            let stream = match tokio::time::timeout(HANDSHAKE, acceptor.accept(tcp)).await {
                Ok(Ok(stream)) => stream,
                Ok(Err(error)) => {
                    tracing::debug!(%peer, %error, "TLS handshake refused");
                    return;
                }
                Err(_) => return,
            };
            let certificate = stream
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|chain| chain.first())
                .map(|der| PeerCertificate(der.to_vec()));
            let service = hyper::service::service_fn(
                move |mut request: hyper::Request<hyper::body::Incoming>| {
                    request.extensions_mut().insert(ConnectInfo(peer));
                    if let Some(certificate) = &certificate {
                        request.extensions_mut().insert(certificate.clone());
                    }
                    app.clone().oneshot(request.map(axum::body::Body::new))
                },
            );
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            tokio::pin!(connection);
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(error) = result {
                        tracing::debug!(%peer, %error, "connection ended with an error");
                    }
                }
                _ = stopped.changed() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
        });
    }
    let _ = stop.send(true);
    let deadline = tokio::time::Instant::now() + DRAIN;
    while Arc::strong_count(&open) > 1 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}
