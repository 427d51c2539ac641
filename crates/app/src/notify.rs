//! Telling patients: e-mail goes through the mailer; SMS through a gateway's webhook, posted as JSON
//! `{"to": "+33…", "message": "…"}` by a background job (retried when the gateway is down).

use crate::jobs::{JobError, JobHandler};
use async_trait::async_trait;
use maillage_store::Job;

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
        let request = crate::http_client::Outgoing {
            method: hyper::Method::POST,
            url: &self.url,
            content_type: "application/json",
            body,
        };
        let status = crate::http_client::send("SMS gateway", request, None)
            .await?
            .status;
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
