//! Exports for French spreadsheets: CSV with `;` separators, CRLF line ends and a UTF-8 byte-order mark
//! so that Excel opens accents correctly.

use crate::error::WebResult;
use crate::AppState;
use axum::body::Body;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use maillage_app::audit::{self, AuditContext, AuditEvent};
use maillage_app::export::Cell;
use maillage_domain::audit::AuditAction;

pub const BOM: &str = "\u{feff}";

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// One CSV line of export cells (numbers with a decimal comma).
pub fn csv_cells(cells: &[Cell]) -> String {
    let texts: Vec<String> = cells.iter().map(Cell::as_csv_text).collect();
    csv_line(&texts)
}

fn attachment(content_type: &'static str, file_name: &str, body: Body) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        body,
    )
        .into_response()
}

/// A CSV download (its body may be a stream).
pub fn csv_download(file_name: &str, body: Body) -> Response {
    attachment("text/csv; charset=utf-8", file_name, body)
}

pub fn xlsx_download(file_name: &str, bytes: Vec<u8>) -> Response {
    attachment(XLSX, file_name, Body::from(bytes))
}

/// One table of a report: a sheet of the XLSX file, a block of the CSV file.
pub struct Sheet<'a> {
    pub name: String,
    pub columns: &'a [&'a str],
    pub rows: Vec<Vec<Cell>>,
}

/// A small report (indicators…) as CSV: its tables one after another, a blank line between them.
pub fn report_csv(file_name: &str, sheets: &[Sheet<'_>]) -> Response {
    let mut body = String::from(BOM);
    for (index, sheet) in sheets.iter().enumerate() {
        if index > 0 {
            body.push_str("\r\n");
        }
        body.push_str(&csv_line(sheet.columns));
        for row in &sheet.rows {
            body.push_str(&csv_cells(row));
        }
    }
    csv_download(file_name, Body::from(body))
}

/// The same report as XLSX: one sheet per table.
pub fn report_xlsx(file_name: &str, sheets: &[Sheet<'_>]) -> WebResult<Response> {
    let mut xlsx = maillage_app::export::Xlsx::new();
    for sheet in sheets {
        xlsx.sheet(&sheet.name, sheet.columns)?;
        for row in &sheet.rows {
            xlsx.row(row)?;
        }
    }
    Ok(xlsx_download(file_name, xlsx.finish()?))
}

/// Every export of personal data is recorded: what was exported, in which format, with which filters.
pub async fn audit_export(
    state: &AppState,
    actor: &AuditContext,
    target_kind: &str,
    detail: serde_json::Value,
) -> WebResult<()> {
    audit::record(
        state.store.as_ref(),
        actor,
        AuditEvent::new(AuditAction::DirectoryExported, target_kind, String::new()).detail(detail),
    )
    .await?;
    Ok(())
}

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
