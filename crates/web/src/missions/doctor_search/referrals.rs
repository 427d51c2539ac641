//! Access to a médecin traitant: a partner's referrals.

use super::*;

pub struct ReferralRow {
    pub received: String,
    pub commune: String,
    pub state: &'static str,
    pub since: String,
}

#[derive(Template)]
#[template(path = "doctor_referrals.html")]
pub(super) struct ReferralsPage {
    pub(super) layout: Layout,
    pub(super) slug: String,
    pub(super) rows: Vec<ReferralRow>,
    pub(super) pager: Pager,
}

#[derive(Deserialize, Default)]
pub(super) struct NoticeParams {
    #[serde(default)]
    pub(super) nouvelle: String,
    #[serde(default)]
    pub(super) fusion: String,
    #[serde(default)]
    pub(super) separee: String,
    #[serde(default)]
    pub(super) doublon: String,
    #[serde(default)]
    pub(super) reponse: String,
    #[serde(default)]
    pub(super) appel: String,
    #[serde(default)]
    pub(super) deja: String,
    #[serde(default)]
    pub(super) acceptee: String,
    #[serde(default)]
    pub(super) refusee: String,
    pub(super) page: Option<i64>,
}

impl NoticeParams {
    /// The merge form was sent without its confirmation.
    pub(super) fn duplicate_error(&self) -> Option<String> {
        (self.doublon == "confirmer").then(|| {
            "Confirmation : cochez la case pour confirmer qu'il s'agit de la même personne.".into()
        })
    }

    pub(super) fn notice(&self) -> Option<String> {
        if !self.fusion.is_empty() {
            Some(
                "Cette personne avait déjà une demande en cours : les deux ont été réunies.".into(),
            )
        } else if !self.separee.is_empty() {
            Some("Demande gardée à part : ce n'est pas un doublon.".into())
        } else if !self.reponse.is_empty() {
            Some("Réponse du médecin enregistrée.".into())
        } else if !self.appel.is_empty() {
            Some("Appel enregistré.".into())
        } else if !self.deja.is_empty() {
            Some("Cette proposition avait déjà une réponse : rien n'a changé.".into())
        } else if !self.nouvelle.is_empty() {
            Some("Demande enregistrée.".into())
        } else {
            None
        }
    }
}

pub(super) async fn referrals(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Query(params): Query<NoticeParams>,
) -> WebResult<Response> {
    let number = crate::forms::page_number(params.page);
    let rows = state
        .missions
        .doctor_search
        .my_referrals(&caller, lookahead(number, PAGE_SIZE))
        .await?;
    let (rows, pager) = paginate(
        rows,
        &format!("/c/{}/{BASE}/adressages", context.cpts.slug),
        number,
        PAGE_SIZE,
    );
    Ok(render(&ReferralsPage {
        layout: Layout::in_cpts(&viewer, &context, "Mes adressages", BASE)
            .with_notice(params.notice()),
        slug: context.cpts.slug.clone(),
        rows: rows
            .iter()
            .map(|r| ReferralRow {
                received: french_date(r.received_at),
                commune: commune_name(&r.commune_code),
                state: r.state.label(),
                since: french_date(r.state_since),
            })
            .collect(),
        pager,
    }))
}
