//! One HTTP/1.1 request to a service Maillage talks to (the SMS gateway, the SAS platform), by a background
//! job: over TLS for `https://` — the public web roots, or the deployment's own roots and client certificate
//! for mutual TLS — with a time limit. Errors say which service and whether trying again can help.

use crate::jobs::JobError;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use std::sync::Arc;
use std::time::Duration;

/// A request to send.
pub struct Outgoing<'a> {
    pub method: hyper::Method,
    pub url: &'a url::Url,
    pub content_type: &'a str,
    pub body: Vec<u8>,
}

/// What the service answered: its status and the start of its body (for the job's error, never shown to users).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: String,
}

/// Largest part of an answer's body kept.
const KEPT_BODY: usize = 2000;

/// The TLS client of the public web: the service's certificate must chain to a public root; no client
/// certificate.
pub fn public_tls() -> Result<Arc<rustls::ClientConfig>, String> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    Ok(Arc::new(
        rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth(),
    ))
}

/// Sends `request` to `service` (its name in errors: "SMS gateway", "SAS platform"); `tls` for an `https://`
/// address (None: [`public_tls`]). Unreachable, timed out or cut: [`JobError::Retry`].
pub async fn send(
    service: &str,
    request: Outgoing<'_>,
    tls: Option<Arc<rustls::ClientConfig>>,
) -> Result<Reply, JobError> {
    tokio::time::timeout(Duration::from_secs(30), send_now(service, request, tls))
        .await
        .map_err(|_| JobError::Retry(format!("{service}: no answer within 30 s")))?
}

async fn send_now(
    service: &str,
    request: Outgoing<'_>,
    tls: Option<Arc<rustls::ClientConfig>>,
) -> Result<Reply, JobError> {
    let url = request.url;
    let host = url
        .host_str()
        .ok_or_else(|| JobError::Permanent(format!("{service} URL without host")))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let port = url.port_or_known_default().unwrap_or(80);
    let tcp = tokio::net::TcpStream::connect((host.as_str(), port))
        .await
        .map_err(|e| JobError::Retry(format!("{service} unreachable: {e}")))?;
    let path = match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_string(),
    };
    let authority = match url.port() {
        Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_string(),
    };
    let outgoing = hyper::Request::builder()
        .method(request.method)
        .uri(path)
        .header(hyper::header::HOST, authority)
        .header(hyper::header::CONTENT_TYPE, request.content_type)
        .header(hyper::header::ACCEPT, request.content_type)
        .body(Full::new(Bytes::from(request.body)))
        .map_err(|e| JobError::Permanent(format!("{service} request: {e}")))?;
    if url.scheme() == "https" {
        let config = match tls {
            Some(config) => config,
            None => public_tls().map_err(JobError::Permanent)?,
        };
        let name = rustls::pki_types::ServerName::try_from(host.clone())
            .map_err(|e| JobError::Permanent(format!("{service} TLS name: {e}")))?;
        let stream = tokio_rustls::TlsConnector::from(config)
            .connect(name, tcp)
            .await
            .map_err(|e| JobError::Retry(format!("{service} TLS: {e}")))?;
        exchange(service, TokioIo::new(stream), outgoing).await
    } else {
        exchange(service, TokioIo::new(tcp), outgoing).await
    }
}

async fn exchange<T>(
    service: &str,
    io: T,
    request: hyper::Request<Full<Bytes>>,
) -> Result<Reply, JobError>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| JobError::Retry(format!("{service}: {e}")))?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| JobError::Retry(format!("{service}: {e}")))?;
    let status = response.status().as_u16();
    let bytes = response
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let body = String::from_utf8_lossy(&bytes[..bytes.len().min(KEPT_BODY)]).into_owned();
    Ok(Reply { status, body })
}
