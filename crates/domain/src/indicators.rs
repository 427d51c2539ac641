//! A mission's indicators as typed values, defined once by the mission's service and rendered by every
//! reader: the indicators page (its tables and SVG charts), the CSV and XLSX exports (numbers as numbers),
//! and later the annual report and the ACI contract's engine, which find an indicator by its code. Nothing is
//! computed as text and parsed back.

use crate::text::group_thousands;

/// The value of one indicator.
#[derive(Debug, Clone, PartialEq)]
pub enum Measure {
    /// A number of patients, slots, requests…
    Count(i64),
    /// A delay in days (a median, say); `None` while there is nothing to measure.
    Days(Option<i64>),
    /// A share, in percent (0–100); `None` when its denominator is zero.
    Percent(Option<f64>),
}

impl Measure {
    /// The share `part / whole` in percent, `None` when `whole` is zero.
    pub fn share(part: i64, whole: i64) -> Measure {
        Measure::Percent((whole > 0).then(|| part as f64 * 100.0 / whole as f64))
    }

    /// The number behind the value (for a chart or a spreadsheet cell), `None` when not measured.
    pub fn number(&self) -> Option<f64> {
        match self {
            Measure::Count(n) => Some(*n as f64),
            Measure::Days(days) => days.map(|d| d as f64),
            Measure::Percent(share) => *share,
        }
    }

    /// As a French page writes it: « 1 234 », « 12 jours », « 45,2 % », « — ».
    pub fn french(&self) -> String {
        match self {
            Measure::Count(n) if *n < 0 => {
                format!("-{}", group_thousands(n.unsigned_abs(), '\u{a0}'))
            }
            Measure::Count(n) => group_thousands(*n as u64, '\u{a0}'),
            Measure::Days(Some(0)) => "moins d'un jour".into(),
            Measure::Days(Some(1)) => "1 jour".into(),
            Measure::Days(Some(days)) => format!("{days} jours"),
            Measure::Percent(Some(share)) => format!("{} %", crate::text::french_decimal(*share)),
            Measure::Days(None) | Measure::Percent(None) => "—".into(),
        }
    }

    /// The unit a spreadsheet column or a chart axis names.
    pub fn unit(&self) -> &'static str {
        match self {
            Measure::Count(_) => "nombre",
            Measure::Days(_) => "jours",
            Measure::Percent(_) => "%",
        }
    }
}

/// One indicator: a stable code (what the annual report and the ACI engine look for), a French label, a value.
#[derive(Debug, Clone, PartialEq)]
pub struct Indicator {
    pub code: String,
    pub label: String,
    pub measure: Measure,
}

impl Indicator {
    pub fn new(code: impl Into<String>, label: impl Into<String>, measure: Measure) -> Self {
        Self {
            code: code.into(),
            label: label.into(),
            measure,
        }
    }
}

/// Indicators that belong together (one table, one chart): "par canal", "en attente par priorité"…
#[derive(Debug, Clone, PartialEq)]
pub struct IndicatorGroup {
    pub code: &'static str,
    pub title: String,
    pub indicators: Vec<Indicator>,
}

/// Every indicator of a mission over one period.
#[derive(Debug, Clone, PartialEq)]
pub struct IndicatorSet {
    /// The mission's slug in the catalogue (`crate::missions`).
    pub mission: &'static str,
    /// The contract year the set covers.
    pub year: i64,
    /// The period in French words ("du 01/01/2026 au 31/12/2026").
    pub period: String,
    pub groups: Vec<IndicatorGroup>,
}

impl IndicatorSet {
    pub fn new(mission: &'static str, year: i64, period: impl Into<String>) -> Self {
        Self {
            mission,
            year,
            period: period.into(),
            groups: Vec::new(),
        }
    }

    /// Adds a group (empty groups are kept: a page says "aucune demande" where a group has nothing).
    pub fn group(
        mut self,
        code: &'static str,
        title: impl Into<String>,
        indicators: Vec<Indicator>,
    ) -> Self {
        self.groups.push(IndicatorGroup {
            code,
            title: title.into(),
            indicators,
        });
        self
    }

    pub fn group_of(&self, code: &str) -> Option<&IndicatorGroup> {
        self.groups.iter().find(|group| group.code == code)
    }

    /// The indicator of this code in any group.
    pub fn find(&self, code: &str) -> Option<&Indicator> {
        self.groups
            .iter()
            .flat_map(|group| group.indicators.iter())
            .find(|indicator| indicator.code == code)
    }

    /// Every (group, indicator), in order: the rows of an export.
    pub fn rows(&self) -> impl Iterator<Item = (&IndicatorGroup, &Indicator)> {
        self.groups.iter().flat_map(|group| {
            group
                .indicators
                .iter()
                .map(move |indicator| (group, indicator))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_read_as_french_and_as_numbers() {
        assert_eq!(Measure::Count(12_345).french(), "12\u{a0}345");
        assert_eq!(Measure::Count(-3).french(), "-3");
        assert_eq!(Measure::Days(Some(0)).french(), "moins d'un jour");
        assert_eq!(Measure::Days(Some(1)).french(), "1 jour");
        assert_eq!(Measure::Days(Some(12)).french(), "12 jours");
        assert_eq!(Measure::Days(None).french(), "—");
        assert_eq!(Measure::share(1, 3).french(), "33,3 %");
        assert_eq!(Measure::share(1, 0), Measure::Percent(None));
        assert_eq!(Measure::Count(7).number(), Some(7.0));
        assert_eq!(Measure::Days(None).number(), None);
    }

    #[test]
    fn a_set_finds_its_indicators_by_code_and_lists_its_rows_in_order() {
        let set = IndicatorSet::new("medecin-traitant", 2026, "du 01/01/2026 au 31/12/2026")
            .group(
                "principaux",
                "Indicateurs",
                vec![Indicator::new("cibles", "Ciblés", Measure::Count(4))],
            )
            .group(
                "canaux",
                "Par canal",
                vec![
                    Indicator::new("canal.telephone", "Téléphone", Measure::Count(3)),
                    Indicator::new("canal.formulaire", "Formulaire", Measure::Count(1)),
                ],
            )
            .group("vide", "Rien", Vec::new());
        assert_eq!(
            set.find("canal.formulaire").map(|i| &i.measure),
            Some(&Measure::Count(1))
        );
        assert!(set.find("absent").is_none());
        let rows: Vec<&str> = set.rows().map(|(_, i)| i.code.as_str()).collect();
        assert_eq!(rows, ["cibles", "canal.telephone", "canal.formulaire"]);
        assert!(set
            .group_of("vide")
            .is_some_and(|g| g.indicators.is_empty()));
    }
}
