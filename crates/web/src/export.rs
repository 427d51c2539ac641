//! Exports for French spreadsheets: CSV with `;` separators, CRLF line ends and a UTF-8 byte-order mark
//! so that Excel opens accents correctly.

pub const BOM: &str = "\u{feff}";

/// One CSV line; fields with `;`, quotes or line breaks are quoted. Cells starting with `=`, `+`, `-` or
/// `@` are prefixed with `'` so that a spreadsheet does not run them as formulas.
pub fn csv_line<S: AsRef<str>>(fields: &[S]) -> String {
    let mut line = fields
        .iter()
        .map(|field| {
            let field = field.as_ref();
            let field = if field.starts_with(['=', '+', '-', '@']) {
                format!("'{field}")
            } else {
                field.to_string()
            };
            if field.contains([';', '"', '\n', '\r']) {
                format!("\"{}\"", field.replace('"', "\"\""))
            } else {
                field
            }
        })
        .collect::<Vec<_>>()
        .join(";");
    line.push_str("\r\n");
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_only_when_needed_and_formulas_are_defused() {
        assert_eq!(csv_line(&["a", "b c"]), "a;b c\r\n");
        assert_eq!(
            csv_line(&["x;y", "dit \"oui\""]),
            "\"x;y\";\"dit \"\"oui\"\"\"\r\n"
        );
        assert_eq!(csv_line(&["=SOMME(A1)"]), "'=SOMME(A1)\r\n");
        assert_eq!(csv_line(&["ligne\nsuivante"]), "\"ligne\nsuivante\"\r\n");
    }
}
