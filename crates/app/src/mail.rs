//! E-mail: sent through SMTP when a server is configured, otherwise kept in an outbox that platform
//! administrators read in the interface. Sending is always a background job, so a slow or absent mail
//! server never delays a page, and a failure is retried.

use crate::config::{SmtpConfig, SmtpTls};
use crate::jobs::{JobError, JobHandler};
use async_trait::async_trait;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use maillage_store::{CptsId, Job, JobId, NewOutboxMail, Store, StoreError};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

pub const EMAIL_JOB: &str = "email";

/// An e-mail to send. It must never carry health data: links to Maillage instead.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct OutgoingMail {
    pub to: String,
    pub subject: String,
    pub body: String,
    #[serde(default)]
    pub cpts_id: Option<CptsId>,
}

#[derive(Debug, thiserror::Error)]
pub enum MailSetupError {
    #[error("smtp.from is not a valid mailbox: {0}")]
    From(String),
    #[error("smtp: {0}")]
    Transport(String),
}

pub enum Mailer {
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        from: Mailbox,
    },
    Outbox,
}

impl Mailer {
    pub fn from_config(config: &SmtpConfig) -> Result<Self, MailSetupError> {
        if config.host.trim().is_empty() {
            return Ok(Mailer::Outbox);
        }
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|e: lettre::address::AddressError| MailSetupError::From(e.to_string()))?;
        let builder = match config.tls {
            SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host),
            SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&config.host)
                .map_err(|e| MailSetupError::Transport(e.to_string()))?,
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&config.host)
                .map_err(|e| MailSetupError::Transport(e.to_string()))?,
        };
        let mut builder = builder
            .port(config.port)
            .timeout(Some(Duration::from_secs(30)));
        if !config.username.is_empty() {
            builder = builder.credentials(Credentials::new(
                config.username.clone(),
                config.password.expose().clone(),
            ));
        }
        Ok(Mailer::Smtp {
            transport: builder.build(),
            from,
        })
    }

    pub fn uses_outbox(&self) -> bool {
        matches!(self, Mailer::Outbox)
    }

    async fn deliver(
        &self,
        store: &dyn Store,
        mail: &OutgoingMail,
        job: Option<JobId>,
        now: i64,
    ) -> Result<(), JobError> {
        match self {
            Mailer::Outbox => store
                .push_outbox(
                    &NewOutboxMail {
                        cpts_id: mail.cpts_id,
                        job_id: job,
                        recipient: mail.to.clone(),
                        subject: mail.subject.clone(),
                        body: mail.body.clone(),
                    },
                    now,
                )
                .await
                .map_err(|e| JobError::Retry(format!("outbox: {e}"))),
            Mailer::Smtp { transport, from } => {
                let to: Mailbox = mail
                    .to
                    .parse()
                    .map_err(|_| JobError::Permanent("recipient address is not valid".into()))?;
                let message = Message::builder()
                    .from(from.clone())
                    .to(to)
                    .subject(mail.subject.clone())
                    .header(lettre::message::header::ContentType::TEXT_PLAIN)
                    .body(mail.body.clone())
                    .map_err(|e| JobError::Permanent(format!("message: {e}")))?;
                match transport.send(message).await {
                    Ok(_) => Ok(()),
                    Err(error) if error.is_permanent() => {
                        Err(JobError::Permanent(format!("SMTP refused: {error}")))
                    }
                    Err(error) => Err(JobError::Retry(format!("SMTP: {error}"))),
                }
            }
        }
    }
}

/// Queues an e-mail for sending by a background worker.
pub async fn queue(
    store: &dyn Store,
    mail: &OutgoingMail,
    max_attempts: i64,
) -> Result<JobId, StoreError> {
    let payload = serde_json::to_value(mail).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    crate::jobs::enqueue(store, EMAIL_JOB, &payload, mail.cpts_id, max_attempts).await
}

/// The job that sends one queued e-mail.
pub struct EmailJob {
    pub mailer: Arc<Mailer>,
    pub store: Arc<dyn Store>,
}

#[async_trait]
impl JobHandler for EmailJob {
    async fn run(&self, job: &Job) -> Result<(), JobError> {
        let mail: OutgoingMail = serde_json::from_str(&job.payload)
            .map_err(|e| JobError::Permanent(format!("payload: {e}")))?;
        self.mailer
            .deliver(
                self.store.as_ref(),
                &mail,
                Some(job.id),
                crate::clock::now_ms(),
            )
            .await
    }
}
