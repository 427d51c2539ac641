//! Text folding for search and matching: French accents and ligatures removed, lower case, punctuation as
//! spaces, single spaces. "Saint-Laurent-d'Aigouze" and "saint laurent d aigouze" fold to the same text.

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

#[cfg(test)]
mod tests {
    use super::*;

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
