//! Charts drawn on the server as SVG (no script, no external library): presentation attributes only, as the
//! CSP forbids inline styles. Each chart has a title and a description; pages also show the figures as a table.

use std::fmt::Write;

/// Colours with a contrast of at least 4.5:1 on white.
const COLOURS: [&str; 3] = ["#1d4f91", "#2e7d4f", "#5f5f5f"];

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub use maillage_domain::text::french_decimal;

/// Counts without decimals, other values with one.
fn bar_label(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e12 {
        format!("{value:.0}")
    } else {
        french_decimal(value)
    }
}

/// Horizontal bars, one group per line with one bar per series (missing values are left out).
pub fn grouped_bars(
    title: &str,
    unit: &str,
    series: &[&str],
    groups: &[(String, Vec<Option<f64>>)],
) -> String {
    let (label_width, bar_area, bar_height, gap) = (230.0_f64, 380.0_f64, 14.0_f64, 10.0_f64);
    let legend_height = 28.0;
    let group_height = bar_height * series.len() as f64 + gap;
    let height = legend_height + group_height * groups.len() as f64 + 10.0;
    let width = label_width + bar_area + 70.0;
    let max = groups
        .iter()
        .flat_map(|(_, values)| values.iter().flatten())
        .fold(0.0_f64, |m, v| m.max(*v))
        .max(f64::EPSILON);
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-labelledby=\"{id}-t {id}-d\" class=\"chart\">\
         <title id=\"{id}-t\">{t}</title><desc id=\"{id}-d\">{t}, en {u}. Les valeurs figurent aussi dans le tableau.</desc>",
        id = escape(&crate::charts::slug(title)),
        t = escape(title),
        u = escape(unit),
    );
    let mut x = label_width;
    for (index, name) in series.iter().enumerate() {
        let colour = COLOURS[index % COLOURS.len()];
        let _ = write!(
            svg,
            "<rect x=\"{x}\" y=\"6\" width=\"12\" height=\"12\" fill=\"{colour}\"/><text x=\"{}\" y=\"16\" font-size=\"12\" fill=\"#1a1a1a\">{}</text>",
            x + 16.0,
            escape(name)
        );
        x += 24.0 + name.chars().count() as f64 * 7.0;
    }
    for (row, (label, values)) in groups.iter().enumerate() {
        let top = legend_height + row as f64 * group_height;
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{}\" font-size=\"12\" text-anchor=\"end\" fill=\"#1a1a1a\">{}</text>",
            label_width - 8.0,
            top + group_height / 2.0,
            escape(label)
        );
        for (index, value) in values.iter().enumerate() {
            let Some(value) = value else { continue };
            let y = top + index as f64 * bar_height;
            let length = (value / max * bar_area).max(1.0);
            let colour = COLOURS[index % COLOURS.len()];
            let _ = write!(
                svg,
                "<rect x=\"{label_width}\" y=\"{y}\" width=\"{length:.1}\" height=\"{}\" fill=\"{colour}\"/><text x=\"{:.1}\" y=\"{}\" font-size=\"11\" fill=\"#1a1a1a\">{}</text>",
                bar_height - 2.0,
                label_width + length + 4.0,
                y + bar_height - 4.0,
                bar_label(*value)
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

pub fn slug(text: &str) -> String {
    maillage_domain::text::fold(text).replace(' ', "-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_are_proportional_and_text_is_escaped() {
        let svg = grouped_bars(
            "Densité <test>",
            "pour 10 000",
            &["Territoire", "France"],
            &[
                ("A & B".into(), vec![Some(10.0), Some(5.0)]),
                ("C".into(), vec![None, Some(2.5)]),
            ],
        );
        assert!(svg.contains("width=\"380.0\""));
        assert!(svg.contains("width=\"190.0\""));
        assert!(svg.contains("A &amp; B"));
        assert!(svg.contains("Densité &lt;test&gt;"));
        assert!(!svg.contains("style="));
        assert_eq!(svg.matches("<rect").count(), 2 + 3);
    }
}
