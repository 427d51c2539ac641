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

/// How every message sent on behalf of a CPTS ends: its name and the coordination's phone, so that the GP or
/// the patient knows whom to call back. The bodies themselves carry no signature.
pub fn signature(cpts_name: &str, contact_phone: &str) -> String {
    if contact_phone.len() == 10 && contact_phone.bytes().all(|b| b.is_ascii_digit()) {
        let grouped: Vec<&str> = (0..5).map(|i| &contact_phone[i * 2..i * 2 + 2]).collect();
        format!("{cpts_name}\nTél. {}", grouped.join(" "))
    } else {
        cpts_name.to_string()
    }
}

async fn signature_of(store: &dyn Store, cpts: CptsId) -> Result<String, StoreError> {
    Ok(store
        .find_cpts(cpts)
        .await?
        .map(|c| signature(&c.name, &c.contact_phone))
        .unwrap_or_default())
}

/// E-mails `to` (sealed in its job) and records the delivery; with no address, records "à appeler". The
/// body is signed with the CPTS's name and phone.
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
        body: format!(
            "{}\n\n-- \n{}\n",
            body.trim_end(),
            signature_of(store, about.cpts).await?
        ),
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

/// Sends an SMS through the configured gateway's job and records the delivery; signed on one line.
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
        &serde_json::json!({
            "to": to,
            "message": format!(
                "{message} — {}",
                signature_of(store, about.cpts).await?.replace('\n', ", ")
            ),
        }),
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

/// Queues a job that sends `payload` to another service (`channel`: the SAS platform) and records the delivery,
/// so that its state shows where the change was made.
pub async fn to_service(
    store: &dyn Store,
    keyring: &Keyring,
    about: About,
    channel: Channel,
    job_kind: &str,
    payload: &serde_json::Value,
    max_attempts: i64,
) -> Result<Uuid, StoreError> {
    let job = crate::jobs::sealed_job(keyring, job_kind, payload, Some(about.cpts), max_attempts)?;
    store
        .queue_delivery(&about.delivery(channel), Some(&job), crate::clock::now_ms())
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

#[cfg(test)]
mod tests {
    use super::signature;

    #[test]
    fn messages_are_signed_with_the_name_and_the_grouped_phone_or_the_name_alone() {
        assert_eq!(
            signature("CPTS du Vidourle", "0499000200"),
            "CPTS du Vidourle\nTél. 04 99 00 02 00"
        );
        assert_eq!(signature("CPTS du Vidourle", ""), "CPTS du Vidourle");
        assert_eq!(signature("CPTS du Vidourle", "04990"), "CPTS du Vidourle");
    }
}
