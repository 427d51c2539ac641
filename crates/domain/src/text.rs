//! Text folding for search and matching: French accents and ligatures removed, lower case, punctuation as
//! spaces, single spaces. "Saint-Laurent-d'Aigouze" and "saint laurent d aigouze" fold to the same text.

/// A French decimal: one digit after the comma (« 12,3 »).
pub fn french_decimal(value: f64) -> String {
    format!("{value:.1}").replace('.', ",")
}

/// Folds one character into zero, one or two plain ASCII letters or digits, or a space.
fn fold_char(c: char, out: &mut String) {
    let plain = match c {
        'à' | 'â' | 'ä' | 'á' | 'ã' | 'å' | 'À' | 'Â' | 'Ä' | 'Á' | 'Ã' | 'Å' => 'a',
        'ç' | 'Ç' => 'c',
        'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' | 'Ê' | 'Ë' => 'e',
        'î' | 'ï' | 'í' | 'ì' | 'Î' | 'Ï' | 'Í' | 'Ì' => 'i',
        'ô' | 'ö' | 'ó' | 'ò' | 'õ' | 'Ô' | 'Ö' | 'Ó' | 'Ò' | 'Õ' => 'o',
        'ù' | 'û' | 'ü' | 'ú' | 'Ù' | 'Û' | 'Ü' | 'Ú' => 'u',
        'ÿ' | 'Ÿ' | 'ý' | 'Ý' => 'y',
        'ñ' | 'Ñ' => 'n',
        'œ' | 'Œ' => {
            out.push_str("oe");
            return;
        }
        'æ' | 'Æ' => {
            out.push_str("ae");
            return;
        }
        c if c.is_ascii_alphanumeric() => c.to_ascii_lowercase(),
        _ => ' ',
    };
    out.push(plain);
}

/// Lower-case ASCII words separated by single spaces.
pub fn fold(text: &str) -> String {
    let mut folded = String::with_capacity(text.len());
    for c in text.chars() {
        fold_char(c, &mut folded);
    }
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Digits grouped by three with `separator`: (54291, ' ') → "54 291".
pub fn group_thousands(value: u64, separator: char) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 * separator.len_utf8());
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(separator);
        }
        out.push(c);
    }
    out
}

/// Bytes from a file as text: UTF-8 when valid, otherwise Windows-1252 — what Excel writes on a French
/// Windows ("CSV (séparateur : point-virgule)"), and a superset of the Latin-1 of older extracts: `€`, `œ`, `’`
/// and `…` come out right instead of as control characters.
pub fn decode_text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_string(),
        Err(_) => bytes.iter().map(|b| windows_1252(*b)).collect(),
    }
}

fn windows_1252(byte: u8) -> char {
    // 0x80–0x9F differ from Latin-1; the five bytes Windows-1252 leaves undefined keep their Latin-1 (C1) value.
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž',
        '\u{8f}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}',
        'ž', 'Ÿ',
    ];
    match byte {
        0x80..=0x9f => HIGH[usize::from(byte - 0x80)],
        other => char::from(other),
    }
}

/// The reader settings of a `;`-separated file as French spreadsheets write it: no header handling (each
/// import reads its own), records of any length. Quoted fields may hold `;`, doubled quotes `""` and line
/// breaks (the `csv` crate's reader). Fields are trimmed by [`record_fields`], after the line count.
pub fn semicolon_reader() -> csv::ReaderBuilder {
    let mut builder = csv::ReaderBuilder::new();
    builder.delimiter(b';').has_headers(false).flexible(true);
    builder
}

/// One record's fields as trimmed text (see [`decode_text`]); a byte-order mark before the first field is
/// dropped.
pub fn record_fields<'a>(fields: impl Iterator<Item = &'a [u8]>) -> Vec<String> {
    let mut out: Vec<String> = fields
        .map(|field| decode_text(field).trim().to_string())
        .collect();
    if let Some(first) = out.first_mut() {
        if let Some(rest) = first.strip_prefix('\u{feff}') {
            *first = rest.trim_start().to_string();
        }
    }
    out
}

/// The line (1-based) a record starts on, for the messages of an import report, from where it ends: the
/// line feeds read before its end, those inside its quoted fields, and whether a line feed ended it. (The
/// `csv` crate's own line count is off by one after each `\r\n`, what Excel writes.)
pub fn record_start_line(
    newlines_before_end: u64,
    newlines_inside: u64,
    ends_with_newline: bool,
) -> u64 {
    (newlines_before_end + 1).saturating_sub(newlines_inside + u64::from(ends_with_newline))
}

/// Line feeds in some bytes (a record's fields, a slice of the file).
pub fn newlines_in(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|b| **b == b'\n').count() as u64
}

/// The records of `;`-separated text held in memory, each with the line it starts on (1-based).
pub fn semicolon_records(bytes: &[u8]) -> impl Iterator<Item = (u64, Vec<String>)> + '_ {
    let mut reader = semicolon_reader().from_reader(bytes);
    let mut record = csv::ByteRecord::new();
    let (mut counted_until, mut newlines) = (0usize, 0u64);
    std::iter::from_fn(move || match reader.read_byte_record(&mut record) {
        Ok(true) => {
            let end = usize::try_from(reader.position().byte())
                .unwrap_or(bytes.len())
                .min(bytes.len());
            newlines += newlines_in(&bytes[counted_until.min(end)..end]);
            counted_until = end;
            let ends_with_newline = end > 0 && bytes[end - 1] == b'\n';
            let line =
                record_start_line(newlines, newlines_in(record.as_slice()), ends_with_newline);
            Some((line, record_fields(record.iter())))
        }
        // Reading from memory fails only at the end: no record is dropped silently before it.
        Ok(false) | Err(_) => None,
    })
}

/// The fields of one line of a `;`-separated file (its first record; `[""]` for an empty line).
pub fn split_semicolons(line: &str) -> Vec<String> {
    semicolon_records(line.as_bytes())
        .next()
        .map(|(_, fields)| fields)
        .unwrap_or_else(|| vec![String::new()])
}

/// A validation message without the value it quotes (`« 0612 » : un numéro à 10 chiffres attendu` → `un numéro à
/// 10 chiffres attendu`): what an import report keeps, so that refused values — a patient's phone, an e-mail —
/// are not stored with it. The line and the field say where to look in the file.
pub fn without_quoted_value(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(start) = rest.find('«') {
        let Some(length) = rest[start..].find('»') else {
            break;
        };
        out.push_str(&rest[..start]);
        rest = &rest[start + length + '»'.len_utf8()..];
        rest = rest.trim_start_matches(' ');
        if let Some(after) = rest.strip_prefix(": ") {
            rest = after;
        }
    }
    out.push_str(rest);
    out.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_spreadsheet_lines() {
        assert_eq!(split_semicolons("\u{feff}a; b ;c\r\n"), vec!["a", "b", "c"]);
        assert_eq!(
            split_semicolons("\"Cabinet \"\"Le Port\"\"\";\"1; rue\";"),
            vec!["Cabinet \"Le Port\"", "1; rue", ""]
        );
        assert_eq!(split_semicolons(""), vec![""]);
        assert_eq!(split_semicolons("\"non fermé"), vec!["non fermé"]);
    }

    #[test]
    fn a_quoted_field_may_hold_a_line_break() {
        let text = "nom;adresse\r\nDupont;\"3 rue Haute\nBâtiment B\"\r\nMartin;place\r\n";
        let records: Vec<(u64, Vec<String>)> = semicolon_records(text.as_bytes()).collect();
        assert_eq!(records.len(), 3);
        assert_eq!(records[1].1, vec!["Dupont", "3 rue Haute\nBâtiment B"]);
        assert_eq!(
            records[2],
            (4, vec!["Martin".to_string(), "place".to_string()])
        );
        for text in [
            "a;b\r\nc;d\r\n\r\ne;f\r\n",
            "a;b\nc;d\n\ne;f",
            "a;b\rc;d\r\re;f\r",
        ] {
            let lines: Vec<u64> = semicolon_records(text.as_bytes()).map(|(n, _)| n).collect();
            // A lone `\r` (old Mac files) ends records but not lines: the count stays on line 1.
            let expected = if text.contains('\n') {
                vec![1, 2, 4]
            } else {
                vec![1, 1, 1]
            };
            assert_eq!(lines, expected, "{text:?}");
        }
    }

    #[test]
    fn windows_1252_text_is_read_as_excel_wrote_it() {
        assert_eq!(
            decode_text(b"C\x9cur d\x92H\xe9rault \x80"),
            "Cœur d’Hérault €"
        );
        assert_eq!(decode_text("déjà UTF-8".as_bytes()), "déjà UTF-8");
        assert_eq!(decode_text(b"\x81"), "\u{81}");
    }

    #[test]
    fn groups_thousands() {
        assert_eq!(group_thousands(54_291, ' '), "54 291");
        assert_eq!(group_thousands(999, ' '), "999");
        assert_eq!(group_thousands(1_000_000, '.'), "1.000.000");
        assert_eq!(group_thousands(0, ' '), "0");
    }

    #[test]
    fn folds_french_names() {
        assert_eq!(fold("Saint-Laurent-d'Aigouze"), "saint laurent d aigouze");
        assert_eq!(fold("  CŒUR  d'Hérault "), "coeur d herault");
        assert_eq!(fold("Générac"), "generac");
        assert_eq!(fold("🏥"), "");
    }

    #[test]
    fn quoted_values_leave_the_message() {
        assert_eq!(
            without_quoted_value("« 0612 » : un numéro à 10 chiffres attendu"),
            "un numéro à 10 chiffres attendu"
        );
        assert_eq!(
            without_quoted_value("« a@b » n'est pas une adresse e-mail valide"),
            "n'est pas une adresse e-mail valide"
        );
        assert_eq!(
            without_quoted_value("la colonne manque : ce fichier n'est pas une extraction"),
            "la colonne manque : ce fichier n'est pas une extraction"
        );
        assert_eq!(without_quoted_value("« ouvert"), "« ouvert");
    }
}

/// `1 demande`, `3 demandes`, `0 demande`: French takes the singular for 0 and 1.
pub fn count_of(count: i64, singular: &str, plural: &str) -> String {
    if count.abs() <= 1 {
        format!("{count} {singular}")
    } else {
        format!("{count} {plural}")
    }
}

#[cfg(test)]
mod count_tests {
    #[test]
    fn french_plurals_start_at_two() {
        assert_eq!(super::count_of(0, "demande", "demandes"), "0 demande");
        assert_eq!(super::count_of(1, "demande", "demandes"), "1 demande");
        assert_eq!(super::count_of(2, "demande", "demandes"), "2 demandes");
    }
}
