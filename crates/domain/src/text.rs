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

/// The fields of one line of a `;`-separated file as French spreadsheets write it: fields may be quoted with
/// `"` (a doubled `""` inside stands for one quote), a leading byte-order mark is ignored, fields are trimmed.
pub fn split_semicolons(line: &str) -> Vec<String> {
    let line = line.trim_start_matches('\u{feff}');
    let line = line.strip_suffix('\n').unwrap_or(line);
    let line = line.strip_suffix('\r').unwrap_or(line);
    let mut fields = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                current.push('"');
                chars.next();
            }
            ('"', true) => quoted = false,
            ('"', false) if current.trim().is_empty() => {
                current.clear();
                quoted = true;
            }
            (';', false) => fields.push(std::mem::take(&mut current).trim().to_string()),
            (c, _) => current.push(c),
        }
    }
    fields.push(current.trim().to_string());
    fields
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
}
