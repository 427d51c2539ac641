//! Sending with a trace: every message sent on behalf of a CPTS is recorded as a delivery, in the same
//! transaction as the job that sends it, so its sender sees what became of it where she sent it. A recipient
//! without an address is recorded too ("à appeler"): nothing is skipped silently.

use crate::crypto::Keyring;
use crate::mail::{OutgoingMail, EMAIL_JOB};
use maillage_domain::delivery::{Channel, Purpose};
use maillage_store::{CptsId, NewDelivery, Store, StoreError};
use uuid::Uuid;

/// What a message is about: the record its sender will look at.
#[derive(Debug, Clone, Copy)]
pub struct About {
    pub cpts: CptsId,
    pub purpose: Purpose,
    pub subject: Uuid,
}

impl About {
    pub fn new(cpts: CptsId, purpose: Purpose, subject: Uuid) -> Self {
        Self {
            cpts,
            purpose,
            subject,
        }
    }

    fn delivery(&self, channel: Channel) -> NewDelivery {
        NewDelivery {
            cpts_id: self.cpts,
            purpose: self.purpose,
            subject_id: self.subject,
            channel,
        }
    }
}

/// E-mails `to` (sealed in its job) and records the delivery; with no address, records "à appeler".
pub async fn email(
    store: &dyn Store,
    keyring: &Keyring,
    about: About,
    to: Option<String>,
    subject: &str,
    body: String,
    max_attempts: i64,
) -> Result<Uuid, StoreError> {
    let Some(to) = to.filter(|address| !address.trim().is_empty()) else {
        return to_call(store, about).await;
    };
    let mail = OutgoingMail {
        to,
        subject: subject.to_string(),
        body,
        cpts_id: Some(about.cpts),
    };
    let payload = serde_json::to_value(&mail).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let job =
        crate::jobs::sealed_job(keyring, EMAIL_JOB, &payload, Some(about.cpts), max_attempts)?;
    store
        .queue_delivery(
            &about.delivery(Channel::Email),
            Some(&job),
            crate::clock::now_ms(),
        )
        .await
}

/// Sends an SMS through the configured gateway's job and records the delivery.
pub async fn sms(
    store: &dyn Store,
    keyring: &Keyring,
    about: About,
    to: &str,
    message: &str,
    max_attempts: i64,
) -> Result<Uuid, StoreError> {
    let job = crate::jobs::sealed_job(
        keyring,
        crate::notify::SMS_JOB,
        &serde_json::json!({ "to": to, "message": message }),
        Some(about.cpts),
        max_attempts,
    )?;
    store
        .queue_delivery(
            &about.delivery(Channel::Sms),
            Some(&job),
            crate::clock::now_ms(),
        )
        .await
}

/// Records that nobody could be written to: someone must phone.
pub async fn to_call(store: &dyn Store, about: About) -> Result<Uuid, StoreError> {
    store
        .queue_delivery(
            &about.delivery(Channel::Phone),
            None,
            crate::clock::now_ms(),
        )
        .await
}
