//! Lists that arrive as an Excel workbook (the CPAM's, a retiring GP's secretary's): the first sheet is read
//! with calamine and written as the `;`-separated text the list parsers already read, so that a list has
//! one parser whatever its format. Dates become JJ/MM/AAAA, whole numbers lose Excel's ".0".

use calamine::{Data, Reader, Xlsx};
use std::io::Cursor;

/// Whether these bytes are a zip container (XLSX), as opposed to text.
pub fn is_xlsx(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04")
}

/// The first sheet of an XLSX workbook as `;`-separated lines (fields quoted when they hold `;`, `"` or a
/// line break). `max_rows` bounds the work on a hostile file. The error is French, for the page.
pub fn xlsx_to_semicolon_text(bytes: &[u8], max_rows: usize) -> Result<String, String> {
    let unreadable = || {
        "Fichier : ce classeur Excel ne peut pas être lu (enregistrez-le en .xlsx ou en CSV)."
            .to_string()
    };
    let mut workbook: Xlsx<_> =
        calamine::open_workbook_from_rs(Cursor::new(bytes.to_vec())).map_err(|_| unreadable())?;
    let range = workbook
        .worksheet_range_at(0)
        .ok_or_else(|| "Fichier : le classeur n'a aucune feuille.".to_string())?
        .map_err(|_| unreadable())?;
    let mut text = String::new();
    for (index, row) in range.rows().enumerate() {
        if index >= max_rows {
            return Err(format!(
                "Fichier : {} lignes au plus par import ; découpez la liste.",
                max_rows.saturating_sub(1)
            ));
        }
        let fields: Vec<String> = row.iter().map(cell_text).map(|f| quoted(&f)).collect();
        text.push_str(&fields.join(";"));
        text.push_str("\r\n");
    }
    Ok(text)
}

fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty | Data::Error(_) => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.trim().to_string(),
        Data::Bool(b) => if *b { "oui" } else { "non" }.to_string(),
        Data::Int(n) => n.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{f:.0}"),
        Data::Float(f) => f.to_string().replace('.', ","),
        Data::DateTime(date) => {
            let (year, month, day, ..) = date.to_ymd_hms_milli();
            format!("{day:02}/{month:02}/{year:04}")
        }
    }
}

fn quoted(field: &str) -> String {
    if field.contains([';', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::{Cell, Xlsx as Writer};

    #[test]
    fn a_workbook_reads_as_the_list_text_with_dates_and_codes_as_people_typed_them() {
        let mut book = Writer::new();
        book.sheet(
            "Liste",
            &["nom", "prenom", "date_naissance", "commune", "consentement"],
        )
        .unwrap();
        book.row(&[
            "DUPONT; dit \"Jo\"".into(),
            "Jean".into(),
            Cell::Date(maillage_domain::calendar::Day::parse("d", "1948-03-02").unwrap()),
            Cell::Number(30003.0),
            "oui".into(),
        ])
        .unwrap();
        let bytes = book.finish().unwrap();
        assert!(is_xlsx(&bytes));
        let text = xlsx_to_semicolon_text(&bytes, 100).unwrap();
        assert_eq!(
            text,
            "nom;prenom;date_naissance;commune;consentement\r\n\
             \"DUPONT; dit \"\"Jo\"\"\";Jean;02/03/1948;30003;oui\r\n"
        );
        assert!(xlsx_to_semicolon_text(&bytes, 1).is_err());
        assert!(xlsx_to_semicolon_text(b"PK\x03\x04 not a zip", 10).is_err());
        assert!(!is_xlsx(b"nom;prenom"));
    }
}
