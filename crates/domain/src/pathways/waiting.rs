//! Waiting lists for scarce resources (TND assessments, CMP, CAMSP): the order people are seen in — priority
//! first, then the date of referral — their position, days waited, the exits and the median wait.

use crate::calendar::Day;
use crate::codes::coded_enum;

coded_enum!(
    /// How urgent a referral is.
    Priority {
        Urgent => ("urgente", "Urgente"),
        High => ("haute", "Haute"),
        Normal => ("normale", "Normale"),
    }
);

coded_enum!(
    /// Why someone left the list.
    ExitReason {
        Seen => ("pris-en-charge", "Pris en charge"),
        Elsewhere => ("ailleurs", "Pris en charge ailleurs"),
        Moved => ("demenagement", "A quitté le territoire"),
        Withdrawn => ("retrait", "Demande retirée par la famille"),
    }
);

impl Priority {
    fn rank(self) -> u8 {
        match self {
            Priority::Urgent => 0,
            Priority::High => 1,
            Priority::Normal => 2,
        }
    }
}

/// Someone on the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting<Id> {
    pub id: Id,
    pub referred_on: Day,
    pub priority: Priority,
}

/// The people still waiting in the order they will be seen (priority, then the earliest referral, then the id so
/// that the order is stable), each with their position from 1 and the days waited on `today`.
pub fn positions<Id: Ord + Clone>(waiting: &[Waiting<Id>], today: Day) -> Vec<(Id, usize, i64)> {
    let mut ordered: Vec<&Waiting<Id>> = waiting.iter().collect();
    ordered.sort_by(|a, b| {
        (a.priority.rank(), a.referred_on, &a.id).cmp(&(b.priority.rank(), b.referred_on, &b.id))
    });
    ordered
        .into_iter()
        .enumerate()
        .map(|(index, w)| {
            let waited = today.days_since_epoch() - w.referred_on.days_since_epoch();
            (w.id.clone(), index + 1, waited.max(0))
        })
        .collect()
}

/// The median of waits in days (the middle one, or the mean of the two middle ones); None without any.
pub fn median_days(waits: &[i64]) -> Option<f64> {
    let mut sorted = waits.to_vec();
    sorted.sort_unstable();
    let n = sorted.len();
    match n {
        0 => None,
        n if n % 2 == 1 => Some(sorted[n / 2] as f64),
        n => Some((sorted[n / 2 - 1] + sorted[n / 2]) as f64 / 2.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> Day {
        Day::parse("jour", text).unwrap()
    }

    #[test]
    fn urgent_referrals_come_first_then_the_oldest() {
        let list = [
            Waiting {
                id: 1,
                referred_on: day("2027-01-10"),
                priority: Priority::Normal,
            },
            Waiting {
                id: 2,
                referred_on: day("2027-03-01"),
                priority: Priority::Urgent,
            },
            Waiting {
                id: 3,
                referred_on: day("2026-12-01"),
                priority: Priority::Normal,
            },
            Waiting {
                id: 4,
                referred_on: day("2027-02-01"),
                priority: Priority::High,
            },
        ];
        let got = positions(&list, day("2027-03-31"));
        assert_eq!(got, [(2, 1, 30), (4, 2, 58), (3, 3, 120), (1, 4, 80)]);
    }

    #[test]
    fn the_median_wait() {
        assert_eq!(median_days(&[]), None);
        assert_eq!(median_days(&[40]), Some(40.0));
        assert_eq!(median_days(&[90, 10, 40]), Some(40.0));
        assert_eq!(median_days(&[90, 10, 40, 61]), Some(50.5));
    }
}
