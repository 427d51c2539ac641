//! A mission's typed indicator set (`maillage_domain::indicators`) rendered the same way everywhere: table rows
//! for the page, SVG bars from the numbers themselves, and one export sheet whose values are numbers (a
//! spreadsheet can sum them). Missions compute their set in their service; pages only call these.

use crate::export::Sheet;
use maillage_app::export::Cell;
use maillage_domain::indicators::{IndicatorGroup, IndicatorSet};

/// One row of an indicators table.
pub struct Figure {
    pub label: String,
    pub value: String,
}

/// The rows of a group (none when the set has no such group).
pub fn figures(group: Option<&IndicatorGroup>) -> Vec<Figure> {
    group
        .map(|group| {
            group
                .indicators
                .iter()
                .map(|indicator| Figure {
                    label: indicator.label.clone(),
                    value: indicator.measure.french(),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Horizontal bars of a group, one per indicator, from its numbers; empty when the group has nothing.
pub fn bars(group: Option<&IndicatorGroup>, unit: &str, series: &str) -> String {
    let Some(group) = group.filter(|group| !group.indicators.is_empty()) else {
        return String::new();
    };
    let rows: Vec<(String, Vec<Option<f64>>)> = group
        .indicators
        .iter()
        .map(|indicator| (indicator.label.clone(), vec![indicator.measure.number()]))
        .collect();
    crate::charts::grouped_bars(&group.title, unit, &[series], &rows)
}

/// Columns of an indicators export.
pub const COLUMNS: [&str; 5] = ["Rubrique", "Code", "Indicateur", "Valeur", "Unité"];

/// The whole set as one sheet: a row per indicator, its value a number (empty when not measured).
pub fn sheet(name: String, set: &IndicatorSet) -> Sheet<'static> {
    Sheet {
        name,
        columns: &COLUMNS,
        rows: set
            .rows()
            .map(|(group, indicator)| {
                vec![
                    Cell::from(group.title.as_str()),
                    Cell::from(indicator.code.as_str()),
                    Cell::from(indicator.label.as_str()),
                    indicator
                        .measure
                        .number()
                        .map(Cell::Number)
                        .unwrap_or(Cell::Empty),
                    Cell::from(indicator.measure.unit()),
                ]
            })
            .collect(),
    }
}
