//! iCalendar (RFC 5545) writing for the professionals' calendar feeds: escaped texts, lines folded at 75
//! octets (never inside a UTF-8 character), CRLF line ends, instants in UTC.

use crate::calendar::day_and_second;

/// One event of a feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Stable across refreshes, so that a calendar updates the event instead of duplicating it.
    pub uid: String,
    pub start_ms: i64,
    pub end_ms: i64,
    pub summary: String,
    pub description: String,
    pub location: String,
    /// `CONFIRMED`, `TENTATIVE` or `CANCELLED`.
    pub status: &'static str,
}

/// `20261201T073000Z`.
pub fn utc_stamp(utc_ms: i64) -> String {
    let (day, seconds) = day_and_second(utc_ms);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        day.year,
        day.month,
        day.day,
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

/// TEXT value escaping (RFC 5545 §3.3.11).
pub fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A content line folded at 75 octets, continuation lines starting with a space, ended by CRLF.
fn push_line(out: &mut String, line: &str) {
    let mut width = 0;
    for c in line.chars() {
        let size = c.len_utf8();
        if width + size > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += size;
    }
    out.push_str("\r\n");
}

/// A whole calendar (`METHOD:PUBLISH`), stamped at `now_ms`.
pub fn calendar(name: &str, events: &[Event], now_ms: i64) -> String {
    let mut out = String::new();
    for line in [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Maillage//Soins non programmes//FR",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
    ] {
        push_line(&mut out, line);
    }
    push_line(&mut out, &format!("X-WR-CALNAME:{}", escape_text(name)));
    push_line(&mut out, "X-WR-TIMEZONE:Europe/Paris");
    let stamp = utc_stamp(now_ms);
    for event in events {
        push_line(&mut out, "BEGIN:VEVENT");
        push_line(&mut out, &format!("UID:{}", escape_text(&event.uid)));
        push_line(&mut out, &format!("DTSTAMP:{stamp}"));
        push_line(&mut out, &format!("DTSTART:{}", utc_stamp(event.start_ms)));
        push_line(&mut out, &format!("DTEND:{}", utc_stamp(event.end_ms)));
        push_line(
            &mut out,
            &format!("SUMMARY:{}", escape_text(&event.summary)),
        );
        if !event.description.is_empty() {
            push_line(
                &mut out,
                &format!("DESCRIPTION:{}", escape_text(&event.description)),
            );
        }
        if !event.location.is_empty() {
            push_line(
                &mut out,
                &format!("LOCATION:{}", escape_text(&event.location)),
            );
        }
        push_line(&mut out, &format!("STATUS:{}", event.status));
        push_line(&mut out, "TRANSP:OPAQUE");
        push_line(&mut out, "END:VEVENT");
    }
    push_line(&mut out, "END:VCALENDAR");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_feed_escapes_folds_and_ends_lines_with_crlf() {
        let event = Event {
            uid: "slot-1@maillage".into(),
            start_ms: 1_795_000_000_000,
            end_ms: 1_795_000_000_000 + 20 * 60_000,
            summary: "Soins non programmés ; réservé, au SAS".into(),
            description: "Ligne 1\nLigne 2 avec beaucoup de mots accentués : éèàùç, pour dépasser soixante-quinze octets".into(),
            location: String::new(),
            status: "CONFIRMED",
        };
        let text = calendar("Dr Léa ANDRE", &[event], 0);
        assert!(text.starts_with("BEGIN:VCALENDAR\r\n"));
        assert!(text.ends_with("END:VCALENDAR\r\n"));
        assert!(text.contains("SUMMARY:Soins non programmés \\; réservé\\, au SAS\r\n"));
        assert!(text.contains("DTSTART:20261118T110640Z"));
        for line in text.split("\r\n") {
            assert!(line.len() <= 75, "{line}");
        }
        // Unfolding gives the escaped description back whole.
        let unfolded = text.replace("\r\n ", "");
        assert!(unfolded.contains("DESCRIPTION:Ligne 1\\nLigne 2 avec beaucoup de mots accentués : éèàùç\\, pour dépasser soixante-quinze octets\r\n"));
        assert!(!text.replace("\r\n", "").contains('\n'));
    }
}
