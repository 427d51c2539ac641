//! What a partner adds to the request she referred: information for the coordination, sealed with the
//! patient's identity (it may tell of health), written with its event and its audit entry.

use super::*;

#[async_trait]
pub trait ReferralStore: Send + Sync {
    /// Replaces the patient's sealed identity (its note now holds the added information), records the
    /// event and the audit entry, in one transaction; false when the request is not in the CPTS or is
    /// ended (nothing is written then).
    async fn add_request_information(
        &self,
        cpts: CptsId,
        request: Uuid,
        patient: &PatientRecord,
        event: &RequestEvent,
        audit: &NewAuditEntry,
    ) -> Result<bool>;
}

#[async_trait]
impl ReferralStore for SqlStore {
    async fn add_request_information(
        &self,
        cpts: CptsId,
        request: Uuid,
        patient: &PatientRecord,
        event: &RequestEvent,
        audit: &NewAuditEntry,
    ) -> Result<bool> {
        let touch = "UPDATE doctor_requests SET updated_at = $3 \
                     WHERE cpts_id = $1 AND id = $2 AND patient_id = $4 \
                     AND state NOT IN ('closed', 'withdrawn', 'redirected')";
        let update_patient = "UPDATE patients SET identity = $3, key_id = $4, updated_at = $5 \
                              WHERE cpts_id = $1 AND id = $2";
        let changed = on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let changed = sqlx::query(touch)
                .bind(cpts.0)
                .bind(request)
                .bind(event.at)
                .bind(patient.id.0)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1;
            if changed {
                sqlx::query(update_patient)
                    .bind(cpts.0)
                    .bind(patient.id.0)
                    .bind(&patient.identity)
                    .bind(&patient.key_id)
                    .bind(event.at)
                    .execute(&mut *tx)
                    .await?;
                insert_event!(&mut *tx, cpts, request, event)?;
                tx.append_audit(&self.audit_keys, audit).await?;
                tx.commit().await?;
            }
            changed
        });
        Ok(changed)
    }
}
