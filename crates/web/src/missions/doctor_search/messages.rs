//! Messages of a request and the calls made in their place: what became of each proposal's e-mail and of
//! the patient's notices, the answer a GP gave on the phone, the GP's own answer from "Mes places".

use super::*;
use crate::views::{phone_link, PhoneLink};
use maillage_store::Delivery;

pub(super) use crate::views::{message_row, MessageRow};

/// The last message about one subject, if any.
pub(super) fn last_message(deliveries: &[Delivery], subject: Uuid) -> Option<MessageRow> {
    deliveries
        .iter()
        .rev()
        .find(|d| d.subject_id == subject)
        .map(message_row)
}

pub(super) fn doctor_phone(view: &ProposalView) -> Option<PhoneLink> {
    phone_link(&view.doctor_phone)
}

/// The coordination records the answer a GP gave on the phone.
pub(super) async fn phone_answer(
    State(state): State<AppState>,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, id)): Path<(String, String)>,
    Form(form): Form<AnswerForm>,
) -> WebResult<Response> {
    let id = parse_id(&id)?;
    let answer = parsed_answer(&form)?;
    let request = state
        .missions
        .doctor_search
        .proposal(&caller, id)
        .await?
        .request_id;
    let recorded = state
        .missions
        .doctor_search
        .record_phone_answer(&caller, id, answer, &form.reason)
        .await?;
    let notice = if recorded { "reponse=1" } else { "deja=1" };
    Ok(Redirect::to(&format!(
        "/c/{}/{BASE}/demandes/{request}?{notice}",
        context.cpts.slug
    ))
    .into_response())
}

/// "J'ai appelé": a call replaced a message that could not go.
pub(super) async fn called(
    State(state): State<AppState>,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, id)): Path<(String, String)>,
) -> WebResult<Response> {
    let request = state
        .missions
        .doctor_search
        .mark_called(&caller, parse_id(&id)?)
        .await?;
    Ok(Redirect::to(&format!(
        "/c/{}/{BASE}/demandes/{request}?appel=1",
        context.cpts.slug
    ))
    .into_response())
}

/// The logged-in GP answers a proposal from "Mes places".
pub(super) async fn my_answer(
    State(state): State<AppState>,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, id)): Path<(String, String)>,
    Form(form): Form<AnswerForm>,
) -> WebResult<Response> {
    let answer = parsed_answer(&form)?;
    let recorded = state
        .missions
        .doctor_search
        .answer_as_doctor(&caller, parse_id(&id)?, answer, &form.reason)
        .await?;
    let notice = match (recorded, answer) {
        (false, _) => "deja=1",
        (true, ProposalAnswer::Accepted) => "acceptee=1",
        (true, ProposalAnswer::Declined) => "refusee=1",
    };
    Ok(Redirect::to(&format!("/c/{}/ma-capacite?{notice}", context.cpts.slug)).into_response())
}
