//! A workflow's states as one shared piece: which moves a person may make, which states are final, when a
//! record has waited too long, and how long it spent in each state from its history. The médecin-traitant
//! requests use it (`doctor_search::RequestState`); care pathways and quality reports will.

use crate::codes::Coded;
use crate::identifiers::ValidationError;

/// A state of a workflow (its code and French label from [`Coded`]).
pub trait WorkflowState: Coded + PartialEq {
    /// The states a person may move a record to from this one.
    fn next_states(self) -> &'static [Self];

    /// Nothing more happens after this state (retention delays run from it).
    fn is_final(self) -> bool {
        self.next_states().is_empty()
    }

    /// After how many days in this state a record needs attention; `None`: never overdue.
    fn overdue_after_days(self) -> Option<i64> {
        None
    }

    fn can_move_to(self, next: Self) -> bool {
        self.next_states().contains(&next)
    }

    /// True when a record entered this state at `since_ms` and it is `now_ms`.
    fn is_overdue(self, since_ms: i64, now_ms: i64) -> bool {
        self.overdue_after_days()
            .is_some_and(|days| now_ms - since_ms > days * 86_400_000)
    }
}

/// Refuses a move the workflow does not allow, in words a coordinator reads: `record` names the record
/// ("Une demande", "Une étape"), and the message lists the moves that are possible.
pub fn check_move<S: WorkflowState>(record: &str, from: S, to: S) -> Result<(), ValidationError> {
    if from.can_move_to(to) {
        return Ok(());
    }
    let allowed: Vec<&str> = from.next_states().iter().map(|s| s.label()).collect();
    let hint = if allowed.is_empty() {
        " : c'est un état final".to_string()
    } else {
        format!(" (possible : {})", allowed.join(", "))
    };
    Err(ValidationError::new(
        "État",
        format!(
            "{record} « {} » ne peut pas passer à « {} »{hint}.",
            from.label(),
            to.label()
        ),
    ))
}

/// One move of a record's history: it entered `to` at `at` (milliseconds).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Move<S> {
    pub to: S,
    pub at: i64,
}

/// How long a record spent in each state it went through, from its moves (any order) until `now`: one total
/// per state, in the order the states were first entered. A state entered twice counts both stays.
pub fn time_in_states<S: WorkflowState>(moves: &[Move<S>], now: i64) -> Vec<(S, i64)> {
    let mut sorted = moves.to_vec();
    sorted.sort_by_key(|m| m.at);
    let mut totals: Vec<(S, i64)> = Vec::new();
    for (index, current) in sorted.iter().enumerate() {
        let left = sorted.get(index + 1).map_or(now, |next| next.at);
        let stay = (left - current.at).max(0);
        match totals.iter_mut().find(|(state, _)| *state == current.to) {
            Some((_, total)) => *total += stay,
            None => totals.push((current.to, stay)),
        }
    }
    totals
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor_search::RequestState;

    #[test]
    fn moves_are_checked_with_a_message_naming_the_states() {
        assert!(check_move(
            "Une demande",
            RequestState::Received,
            RequestState::Qualified
        )
        .is_ok());
        let refused =
            check_move("Une demande", RequestState::Received, RequestState::Closed).unwrap_err();
        assert_eq!(refused.field, "État");
        assert_eq!(
            refused.message,
            "Une demande « Reçue » ne peut pas passer à « Close : médecin traitant déclaré » \
             (possible : Incomplète, Qualifiée, Retirée, Réorientée)."
        );
        let final_state =
            check_move("Une demande", RequestState::Closed, RequestState::Qualified).unwrap_err();
        assert!(
            final_state.message.ends_with("c'est un état final."),
            "{}",
            final_state.message
        );
        assert!(RequestState::Withdrawn.is_final());
        assert!(!RequestState::Qualified.is_final());
    }

    #[test]
    fn time_in_each_state_adds_every_stay_until_now() {
        let day = 86_400_000;
        let moves = [
            Move {
                to: RequestState::Qualified,
                at: 2 * day,
            },
            Move {
                to: RequestState::Received,
                at: 0,
            },
            Move {
                to: RequestState::Proposed,
                at: 5 * day,
            },
            Move {
                to: RequestState::Qualified,
                at: 6 * day,
            },
        ];
        assert_eq!(
            time_in_states(&moves, 10 * day),
            vec![
                (RequestState::Received, 2 * day),
                (RequestState::Qualified, 3 * day + 4 * day),
                (RequestState::Proposed, day),
            ]
        );
        assert!(time_in_states::<RequestState>(&[], 0).is_empty());
    }
}
