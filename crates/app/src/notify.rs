//! Telling patients: e-mail goes through the mailer; SMS through a gateway's webhook, posted as JSON
//! `{"to": "+33…", "message": "…"}` by a background job (retried when the gateway is down).

use crate::jobs::{JobError, JobHandler};
use async_trait::async_trait;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use maillage_store::Job;
use std::sync::Arc;
use std::time::Duration;

pub const SMS_JOB: &str = "sms";

#[derive(serde::Deserialize, serde::Serialize)]
struct SmsPayload {
    to: String,
    message: String,
}

/// Posts one SMS to the configured gateway.
pub struct SmsWebhookJob {
    pub url: url::Url,
}

impl SmsWebhookJob {
    pub fn new(url: &str) -> Option<Self> {
        url::Url::parse(url).ok().map(|url| Self { url })
    }
}

#[async_trait]
impl JobHandler for SmsWebhookJob {
    async fn run(&self, job: &Job) -> Result<(), JobError> {
        let payload: SmsPayload = serde_json::from_str(&job.payload)
            .map_err(|e| JobError::Permanent(format!("payload: {e}")))?;
        let body = serde_json::to_vec(&payload).map_err(|e| JobError::Permanent(e.to_string()))?;
        let status = tokio::time::timeout(Duration::from_secs(30), post_json(&self.url, body))
            .await
            .map_err(|_| JobError::Retry("SMS gateway: no answer within 30 s".into()))??;
        match status {
            200..=299 => Ok(()),
            400..=499 if status != 429 => Err(JobError::Permanent(format!(
                "SMS gateway refused the message (HTTP {status})"
            ))),
            _ => Err(JobError::Retry(format!(
                "SMS gateway answered HTTP {status}"
            ))),
        }
    }
}

/// One HTTP/1.1 POST of a JSON body; returns the status code.
async fn post_json(url: &url::Url, body: Vec<u8>) -> Result<u16, JobError> {
    let host = url
        .host_str()
        .ok_or_else(|| JobError::Permanent("SMS gateway URL without host".into()))?
        .to_string();
    let port = url.port_or_known_default().unwrap_or(80);
    let tcp = tokio::net::TcpStream::connect((host.as_str(), port))
        .await
        .map_err(|e| JobError::Retry(format!("SMS gateway unreachable: {e}")))?;
    let path = match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_string(),
    };
    let request = hyper::Request::post(path)
        .header(hyper::header::HOST, &host)
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| JobError::Permanent(format!("request: {e}")))?;
    if url.scheme() == "https" {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| JobError::Permanent(format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
        let name = rustls::pki_types::ServerName::try_from(host.clone())
            .map_err(|e| JobError::Permanent(format!("TLS name: {e}")))?;
        let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await
            .map_err(|e| JobError::Retry(format!("TLS: {e}")))?;
        send(TokioIo::new(tls), request).await
    } else {
        send(TokioIo::new(tcp), request).await
    }
}

async fn send<T>(io: T, request: hyper::Request<Full<Bytes>>) -> Result<u16, JobError>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| JobError::Retry(format!("SMS gateway: {e}")))?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| JobError::Retry(format!("SMS gateway: {e}")))?;
    let status = response.status().as_u16();
    let _ = response.into_body().collect().await;
    Ok(status)
}
