//! A member swaps her own rota turn with a colleague's: she proposes, the colleague is e-mailed (or is to be
//! called) and accepts or declines from the rota page; on acceptance both turns change hands in one audited
//! step. Only the two professionals take part: the coordination changes turns directly (`change_turn`).

use super::{CareError, Result, UnscheduledCare};
use crate::caller::Caller;
use crate::clock::now_ms;
use maillage_domain::audit::AuditAction;
use maillage_domain::authz::Permission;
use maillage_domain::delivery::Purpose;
use maillage_domain::unscheduled_care::{utc_to_paris, Day, RotaSwapStatus};
use maillage_store::{Delivery, RotaSwap, RotaTurn};
use uuid::Uuid;

/// A pending swap as one of its two professionals sees it.
#[derive(Debug, Clone)]
pub struct SwapView {
    pub swap: RotaSwap,
    /// The proposer's turn, offered.
    pub offered: RotaTurn,
    /// The colleague's turn, asked for.
    pub wanted: RotaTurn,
    /// The caller proposed it (she may withdraw it); otherwise she is asked (she may accept or decline).
    pub mine: bool,
    /// What became of the message to the colleague, for the proposer.
    pub delivery: Option<Delivery>,
}

/// "samedi 12/12/2026, 08:00–12:00 (Samedi matin)".
pub fn turn_words(turn: &RotaTurn) -> String {
    let day = Day::parse("jour", &turn.day).map_or(turn.day.clone(), |d| {
        format!("{} {}", d.french_weekday(), d.french())
    });
    format!(
        "{day}, {:02}:{:02}–{:02}:{:02} ({})",
        turn.start_minute / 60,
        turn.start_minute % 60,
        turn.end_minute / 60,
        turn.end_minute % 60,
        turn.label
    )
}

impl UnscheduledCare {
    /// The caller's own professional record: only a member linked to her directory record swaps turns.
    fn own_professional(caller: &Caller) -> Result<Uuid> {
        caller.require(Permission::BookSlots)?;
        caller.professional().ok_or_else(|| {
            CareError::Refused(
                "Votre compte n'est pas relié à votre fiche de l'annuaire : demandez-le à la coordination \
                 pour échanger vos tours."
                    .into(),
            )
        })
    }

    /// Proposes to the colleague who holds `wanted` to take the caller's `turn` in exchange. Both turns must
    /// be to come; the colleague is e-mailed, or "à appeler" without an address.
    pub async fn propose_swap(&self, caller: &Caller, turn: Uuid, wanted: Uuid) -> Result<Uuid> {
        let me = Self::own_professional(caller)?;
        let cpts = caller.cpts();
        let mine = self
            .store
            .find_rota_turn(cpts, turn)
            .await?
            .filter(|t| t.professional_id == me)
            .ok_or(CareError::NotFound)?;
        let Some(theirs) = self.store.find_rota_turn(cpts, wanted).await? else {
            return Err(CareError::Refused(
                "Ce tour d'astreinte n'existe plus : choisissez-en un autre.".into(),
            ));
        };
        if theirs.professional_id == me {
            return Err(CareError::Refused(
                "Échanger avec : choisissez le tour d'un confrère, pas l'un des vôtres.".into(),
            ));
        }
        let today = utc_to_paris(now_ms()).0.iso();
        if mine.day < today || theirs.day < today {
            return Err(CareError::Refused(
                "Échanger avec : seuls les tours à venir s'échangent.".into(),
            ));
        }
        let now = now_ms();
        let swap = RotaSwap {
            id: Uuid::now_v7(),
            turn_id: mine.id,
            wanted_turn_id: theirs.id,
            proposed_by: me,
            proposed_to: theirs.professional_id,
            status: RotaSwapStatus::Pending,
            created_by: caller.user().map(|u| u.0),
            created_at: now,
            settled_at: None,
        };
        let audit = Self::entry(
            caller,
            AuditAction::SnpRotaSwapProposed,
            "snp_rota_swap",
            swap.id.to_string(),
            serde_json::json!({ "turn": mine.id, "wanted_turn": theirs.id }),
        );
        if !self.store.propose_rota_swap(cpts, &swap, &audit).await? {
            return Err(CareError::Refused(
                "Cet échange est déjà proposé, ou l'un des deux tours vient de changer de main."
                    .into(),
            ));
        }
        self.tell_colleague(caller, &swap, &mine, &theirs).await?;
        Ok(swap.id)
    }

    /// E-mails the colleague asked for a swap: the two turns and where to answer (no patient data).
    async fn tell_colleague(
        &self,
        caller: &Caller,
        swap: &RotaSwap,
        offered: &RotaTurn,
        wanted: &RotaTurn,
    ) -> Result<()> {
        let cpts = caller.cpts();
        let proposer = match self.store.professional(cpts, swap.proposed_by).await? {
            Some(p) => format!("{} {}", p.summary.first_name, p.summary.last_name),
            None => "Un confrère".to_string(),
        };
        let link = match self.store.find_cpts(cpts).await? {
            Some(found) if !self.public_url.is_empty() => format!(
                "\n\nPour accepter ou refuser : {}/c/{}/soins-non-programmes/astreintes\n",
                self.public_url, found.slug
            ),
            _ => "\n\nRépondez depuis le tableau d'astreinte de Maillage.\n".to_string(),
        };
        let email = self
            .store
            .professional_email(cpts, swap.proposed_to)
            .await?;
        crate::deliveries::email(
            self.store.as_ref(),
            &self.keyring,
            crate::deliveries::About::new(cpts, Purpose::RotaSwap, swap.id),
            email,
            "Proposition d'échange d'astreinte",
            format!(
                "Bonjour,\n\n{proposer} vous propose d'échanger son tour d'astreinte du {} contre le vôtre du {}.{link}",
                turn_words(offered),
                turn_words(wanted)
            ),
            self.mail_attempts,
        )
        .await?;
        Ok(())
    }

    /// The caller may answer (`proposer == false`) or withdraw (`proposer == true`) this pending swap.
    pub async fn check_swap(&self, caller: &Caller, id: Uuid, proposer: bool) -> Result<RotaSwap> {
        let me = Self::own_professional(caller)?;
        self.store
            .find_rota_swap(caller.cpts(), id)
            .await?
            .filter(|s| s.status == RotaSwapStatus::Pending)
            .filter(|s| {
                if proposer {
                    s.proposed_by == me
                } else {
                    s.proposed_to == me
                }
            })
            .ok_or(CareError::NotFound)
    }

    /// The colleague accepts (both turns change hands at once) or declines; the proposer withdraws.
    pub async fn settle_swap(
        &self,
        caller: &Caller,
        id: Uuid,
        outcome: RotaSwapStatus,
    ) -> Result<()> {
        let by_proposer = match outcome {
            RotaSwapStatus::Accepted | RotaSwapStatus::Declined => false,
            RotaSwapStatus::Withdrawn => true,
            RotaSwapStatus::Pending | RotaSwapStatus::Lapsed => return Err(CareError::NotFound),
        };
        self.check_swap(caller, id, by_proposer).await?;
        let audit = Self::entry(
            caller,
            AuditAction::SnpRotaSwapSettled,
            "snp_rota_swap",
            id.to_string(),
            serde_json::json!({ "outcome": outcome.code() }),
        );
        if !self
            .store
            .settle_rota_swap(caller.cpts(), id, outcome, now_ms(), &audit)
            .await?
        {
            return Err(CareError::Refused(
                "L'échange n'est plus possible : l'un des deux tours a changé de main entre-temps."
                    .into(),
            ));
        }
        Ok(())
    }

    /// How many pending swaps the caller is asked to answer (the dashboard's « À faire »).
    pub async fn swaps_to_answer(&self, caller: &Caller) -> Result<usize> {
        caller.require(Permission::BookSlots)?;
        let Some(me) = caller.professional() else {
            return Ok(0);
        };
        Ok(self
            .store
            .pending_rota_swaps(caller.cpts(), me)
            .await?
            .iter()
            .filter(|s| s.proposed_to == me)
            .count())
    }

    /// The pending swaps the caller proposed or is asked, with both turns. None for an account that is not
    /// linked to a directory record.
    pub async fn my_swaps(&self, caller: &Caller) -> Result<Vec<SwapView>> {
        caller.require(Permission::BookSlots)?;
        let Some(me) = caller.professional() else {
            return Ok(Vec::new());
        };
        let cpts = caller.cpts();
        let swaps = self.store.pending_rota_swaps(cpts, me).await?;
        let ids: Vec<Uuid> = swaps.iter().map(|s| s.id).collect();
        let deliveries = self
            .store
            .deliveries_of(cpts, Purpose::RotaSwap, &ids)
            .await?;
        let mut views = Vec::with_capacity(swaps.len());
        for swap in swaps {
            let (Some(offered), Some(wanted)) = (
                self.store.find_rota_turn(cpts, swap.turn_id).await?,
                self.store.find_rota_turn(cpts, swap.wanted_turn_id).await?,
            ) else {
                continue;
            };
            views.push(SwapView {
                mine: swap.proposed_by == me,
                delivery: deliveries
                    .iter()
                    .filter(|d| d.subject_id == swap.id)
                    .max_by_key(|d| d.created_at)
                    .cloned(),
                swap,
                offered,
                wanted,
            });
        }
        Ok(views)
    }
}
