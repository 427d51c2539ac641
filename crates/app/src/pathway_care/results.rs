//! The structured result of a step's instrument: the answers as given, sealed at rest and bound to the step
//! (a result is health data), scored again when read — the scoring is the domain's, so a result always reads
//! as the rules say — and the ICOPE domains that declined since the previous screening.

use super::{corrupt, PathwayError};
use crate::crypto::Keyring;
use maillage_domain::pathways::instruments::{icope_decline, score, Instrument, Scored};
use maillage_store::CptsId;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Serialize, Deserialize)]
struct Stored {
    instrument: String,
    answers: Vec<String>,
}

/// A step's result as the care team reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct StepResult {
    pub scored: Scored,
    pub answers: Vec<String>,
    /// ICOPE: the domains positive now that were not at the previous screening of the patient.
    pub decline: Vec<&'static str>,
}

/// Positive for the indicators: a positive domain or screening, or a severity at least moderate.
pub fn positive(scored: &Scored) -> bool {
    !scored.positive.is_empty() || scored.band.is_some_and(|band| band.rank >= 2)
}

fn context(cpts: CptsId, step: Uuid) -> Vec<u8> {
    format!("pathway-step:{cpts}:{step}").into_bytes()
}

/// The answers scored (an answer out of range refused, naming the item) and sealed for the step.
pub(super) fn scored_and_sealed(
    keyring: &Keyring,
    cpts: CptsId,
    step: Uuid,
    instrument: Instrument,
    answers: &[String],
) -> Result<(Scored, Vec<u8>), PathwayError> {
    let given: Vec<&str> = answers.iter().map(String::as_str).collect();
    let scored = score(instrument, &given).map_err(|e| PathwayError::Invalid(vec![e]))?;
    let stored = Stored {
        instrument: instrument.code().to_string(),
        answers: answers.to_vec(),
    };
    let plaintext = serde_json::to_vec(&stored).map_err(corrupt)?;
    let sealed = keyring
        .seal(&plaintext, &context(cpts, step))
        .map_err(corrupt)?;
    Ok((scored, sealed))
}

/// A stored result opened and scored.
pub(super) fn opened(
    keyring: &Keyring,
    cpts: CptsId,
    step: Uuid,
    sealed: &[u8],
) -> Result<StepResult, PathwayError> {
    let plaintext = keyring
        .open(sealed, &context(cpts, step))
        .map_err(corrupt)?;
    let stored: Stored = serde_json::from_slice(&plaintext).map_err(corrupt)?;
    let instrument = Instrument::parse(&stored.instrument)
        .ok_or_else(|| corrupt(format!("instrument {}", stored.instrument)))?;
    let given: Vec<&str> = stored.answers.iter().map(String::as_str).collect();
    let scored = score(instrument, &given).map_err(corrupt)?;
    Ok(StepResult {
        scored,
        answers: stored.answers,
        decline: Vec::new(),
    })
}

/// Marks on each ICOPE result the domains that declined since the patient's previous ICOPE result (results in
/// the order the steps were done).
pub(super) fn mark_declines<'a>(results: impl Iterator<Item = &'a mut StepResult>) {
    let mut previous: Option<Scored> = None;
    for result in results.filter(|r| r.scored.instrument == Instrument::Icope) {
        if let Some(before) = &previous {
            result.decline = icope_decline(before, &result.scored);
        }
        previous = Some(result.scored.clone());
    }
}
