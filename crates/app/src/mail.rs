//! E-mail: sent through SMTP when a server is configured, otherwise kept in an outbox that platform
//! administrators read in the interface. Sending is always a background job, so a slow or absent mail
//! server never delays a page, and a failure is retried.

use crate::config::{SmtpConfig, SmtpTls};
use crate::crypto::Keyring;
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
        keyring: &Keyring,
        mail: &OutgoingMail,
        job: Option<JobId>,
        now: i64,
    ) -> Result<(), JobError> {
        match self {
            Mailer::Outbox => {
                let context = outbox_context(mail.cpts_id);
                let seal = |text: &str| {
                    keyring
                        .seal_text(text, &context)
                        .map_err(|e| JobError::Permanent(format!("outbox: {e}")))
                };
                store
                    .push_outbox(
                        &NewOutboxMail {
                            cpts_id: mail.cpts_id,
                            job_id: job,
                            recipient: seal(&mail.to)?,
                            subject: mail.subject.clone(),
                            body: seal(&mail.body)?,
                        },
                        now,
                    )
                    .await
                    .map_err(|e| JobError::Retry(format!("outbox: {e}")))
            }
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

/// Queues an e-mail for sending by a background worker (its payload sealed, see [`crate::jobs::enqueue`]).
pub async fn queue(
    store: &dyn Store,
    keyring: &Keyring,
    mail: &OutgoingMail,
    max_attempts: i64,
) -> Result<JobId, StoreError> {
    let payload = serde_json::to_value(mail).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    crate::jobs::enqueue(
        store,
        keyring,
        EMAIL_JOB,
        &payload,
        mail.cpts_id,
        max_attempts,
    )
    .await
}

/// The job that sends one queued e-mail.
pub struct EmailJob {
    pub mailer: Arc<Mailer>,
    pub store: Arc<dyn Store>,
    pub keyring: Arc<Keyring>,
}

#[async_trait]
impl JobHandler for EmailJob {
    async fn run(&self, job: &Job) -> Result<(), JobError> {
        let mail: OutgoingMail = serde_json::from_str(&job.payload)
            .map_err(|e| JobError::Permanent(format!("payload: {e}")))?;
        self.mailer
            .deliver(
                self.store.as_ref(),
                &self.keyring,
                &mail,
                Some(job.id),
                crate::clock::now_ms(),
            )
            .await
    }
}

/// What an outbox message's recipient and body are sealed for.
fn outbox_context(cpts: Option<CptsId>) -> Vec<u8> {
    match cpts {
        Some(cpts) => format!("outbox:{cpts}").into_bytes(),
        None => b"outbox:platform".to_vec(),
    }
}

/// One message of the outbox as a platform administrator reads it: that it exists, for whom (masked), when,
/// its subject — never a live link, unless the outbox is the demo's (`smtp.outbox_shows_links`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub created_at: i64,
    /// Past `smtp.outbox_keep_days`: only the subject and the date are left.
    pub reduced: bool,
}

/// What replaces a link in the outbox page.
pub const HIDDEN_LINK: &str = "[lien personnel masqué]";

/// `anne.martin@exemple.fr` → `a…@exemple.fr`: enough to tell messages apart, not to read someone's address.
pub fn masked_address(address: &str) -> String {
    match address.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}…@{domain}")
        }
        None => "…".into(),
    }
}

/// Every `http://` or `https://` word of a text replaced by [`HIDDEN_LINK`].
pub fn without_links(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = ["http://", "https://"]
        .iter()
        .filter_map(|scheme| rest.find(scheme))
        .min()
    {
        out.push_str(&rest[..start]);
        out.push_str(HIDDEN_LINK);
        let end = rest[start..]
            .find(char::is_whitespace)
            .map_or(rest.len(), |e| start + e);
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// A page of the outbox, opened and masked for the administrators' page.
pub async fn read_outbox(
    store: &dyn Store,
    keyring: &Keyring,
    page: maillage_store::Page,
    shows_links: bool,
) -> Result<Vec<OutboxEntry>, StoreError> {
    let rows = store.list_outbox(page).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            if row.reduced {
                return OutboxEntry {
                    recipient: "—".into(),
                    subject: row.subject,
                    body: String::new(),
                    created_at: row.created_at,
                    reduced: true,
                };
            }
            let context = outbox_context(row.cpts_id);
            let open = |text: &str| {
                if text.starts_with(crate::crypto::SEALED_TEXT_PREFIX) {
                    keyring
                        .open_text(text, &context)
                        .unwrap_or_else(|_| "(illisible : clé de chiffrement retirée)".into())
                } else {
                    text.to_string()
                }
            };
            let recipient = open(&row.recipient);
            let body = open(&row.body);
            OutboxEntry {
                recipient: if shows_links {
                    recipient
                } else {
                    masked_address(&recipient)
                },
                subject: row.subject,
                body: if shows_links {
                    body
                } else {
                    without_links(&body)
                },
                created_at: row.created_at,
                reduced: false,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_and_addresses_are_masked() {
        let body =
            "Bonjour,\nhttps://cpts.fr/mot-de-passe/abc123 valable 1 h.\nVoir http://x.fr/p/1";
        let masked = without_links(body);
        assert!(
            !masked.contains("abc123") && !masked.contains("x.fr"),
            "{masked}"
        );
        assert_eq!(masked.matches(HIDDEN_LINK).count(), 2);
        assert!(masked.starts_with("Bonjour,\n[lien personnel masqué] valable 1 h."));
        assert_eq!(masked_address("anne.martin@exemple.fr"), "a…@exemple.fr");
        assert_eq!(masked_address("sans-arobase"), "…");
    }
}
