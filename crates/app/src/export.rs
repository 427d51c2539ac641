//! Spreadsheet exports: the same rows written as CSV (`;`, UTF-8 with BOM, for French Excel) by the web layer
//! or as XLSX here. Sheets are written in constant-memory mode (rows go to a temporary file as they come), so
//! a large export does not hold the table in memory; only the compressed file is built in memory.

use maillage_store::ProfessionalSummary;
use rust_xlsxwriter::{Format, Workbook, XlsxError};

/// One cell of an export.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Number(f64),
    /// An instant (milliseconds since 1970, UTC), written as its Paris date and time: a typed date-time cell
    /// in XLSX, "JJ/MM/AAAA HH:MM" in CSV.
    DateTime(i64),
    /// A calendar day: a typed date cell in XLSX, "JJ/MM/AAAA" in CSV.
    Date(maillage_domain::calendar::Day),
    Empty,
}

impl Cell {
    /// The text written in a CSV file (decimal comma, as French spreadsheets read numbers).
    pub fn as_csv_text(&self) -> String {
        match self {
            Cell::Text(text) => text.clone(),
            Cell::Number(n) if n.fract() == 0.0 => format!("{n:.0}"),
            Cell::Number(n) => format!("{n:.2}").replace('.', ","),
            Cell::DateTime(instant) => {
                let (day, minute) = maillage_domain::calendar::utc_to_paris(*instant);
                format!("{} {:02}:{:02}", day.french(), minute / 60, minute % 60)
            }
            Cell::Date(day) => day.french(),
            Cell::Empty => String::new(),
        }
    }
}

impl From<&str> for Cell {
    fn from(text: &str) -> Self {
        Cell::Text(text.to_string())
    }
}

impl From<String> for Cell {
    fn from(text: String) -> Self {
        Cell::Text(text)
    }
}

impl From<i64> for Cell {
    fn from(n: i64) -> Self {
        Cell::Number(n as f64)
    }
}

impl From<Option<i64>> for Cell {
    fn from(n: Option<i64>) -> Self {
        n.map(Cell::from).unwrap_or(Cell::Empty)
    }
}

impl From<bool> for Cell {
    fn from(yes: bool) -> Self {
        Cell::Text(if yes { "oui" } else { "non" }.to_string())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("écriture du fichier Excel : {0}")]
pub struct ExportError(#[from] XlsxError);

fn excel_day(
    day: maillage_domain::calendar::Day,
) -> Result<rust_xlsxwriter::ExcelDateTime, ExportError> {
    Ok(rust_xlsxwriter::ExcelDateTime::from_ymd(
        u16::try_from(day.year).unwrap_or(1900),
        u8::try_from(day.month).unwrap_or(1),
        u8::try_from(day.day).unwrap_or(1),
    )?)
}

/// An XLSX workbook written sheet after sheet, row after row.
pub struct Xlsx {
    workbook: Workbook,
    sheet: Option<usize>,
    row: u32,
    header: Format,
    date: Format,
    date_time: Format,
    /// Columns of the current sheet already widened for a date and time.
    widened: Vec<u16>,
}

impl Default for Xlsx {
    fn default() -> Self {
        Self::new()
    }
}

impl Xlsx {
    pub fn new() -> Self {
        Self {
            workbook: Workbook::new(),
            sheet: None,
            row: 0,
            header: Format::new().set_bold(),
            date: Format::new().set_num_format("dd/mm/yyyy"),
            date_time: Format::new().set_num_format("dd/mm/yyyy hh:mm"),
            widened: Vec::new(),
        }
    }

    /// Starts a sheet (name cut to Excel's 31 characters) with a bold header row frozen at the top.
    pub fn sheet(&mut self, name: &str, header: &[&str]) -> Result<(), ExportError> {
        let index = self.sheet.map_or(0, |i| i + 1);
        let name: String = name
            .chars()
            .filter(|c| !matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\'))
            .take(31)
            .collect();
        let worksheet = self.workbook.add_worksheet_with_constant_memory();
        worksheet.set_name(name)?;
        for (column, title) in header.iter().enumerate() {
            let column = u16::try_from(column).unwrap_or(u16::MAX);
            worksheet.write_string_with_format(0, column, *title, &self.header)?;
            worksheet.set_column_width(column, (title.chars().count() as f64 + 4.0).max(12.0))?;
        }
        worksheet.set_freeze_panes(1, 0)?;
        self.sheet = Some(index);
        self.row = 1;
        self.widened.clear();
        Ok(())
    }

    pub fn row(&mut self, cells: &[Cell]) -> Result<(), ExportError> {
        let Some(index) = self.sheet else {
            return Ok(());
        };
        let worksheet = self.workbook.worksheet_from_index(index)?;
        for (column, cell) in cells.iter().enumerate() {
            let column = u16::try_from(column).unwrap_or(u16::MAX);
            match cell {
                Cell::Text(text) if !text.is_empty() => {
                    // Excel cells hold at most 32,767 characters.
                    let text: String = text.chars().take(32_000).collect();
                    worksheet.write_string(self.row, column, text)?;
                }
                Cell::Number(n) => {
                    worksheet.write_number(self.row, column, *n)?;
                }
                Cell::DateTime(instant) => {
                    let (day, minute) = maillage_domain::calendar::utc_to_paris(*instant);
                    let value = excel_day(day)?.and_hms(
                        u16::try_from(minute / 60).unwrap_or(0),
                        u8::try_from(minute % 60).unwrap_or(0),
                        0,
                    )?;
                    worksheet.write_datetime_with_format(
                        self.row,
                        column,
                        &value,
                        &self.date_time,
                    )?;
                    if !self.widened.contains(&column) {
                        worksheet.set_column_width(column, 17)?;
                        self.widened.push(column);
                    }
                }
                Cell::Date(day) => {
                    let value = excel_day(*day)?;
                    worksheet.write_datetime_with_format(self.row, column, &value, &self.date)?;
                }
                Cell::Text(_) | Cell::Empty => {}
            }
        }
        self.row += 1;
        Ok(())
    }

    pub fn finish(mut self) -> Result<Vec<u8>, ExportError> {
        Ok(self.workbook.save_to_buffer()?)
    }
}

/// Columns of the directory exports (CSV and XLSX), in order.
pub const DIRECTORY_COLUMNS: [&str; 27] = [
    "Type d'identifiant",
    "Identifiant",
    "Civilité",
    "Nom",
    "Prénom",
    "Profession",
    "Spécialité / savoir-faire",
    "Médecin généraliste",
    "Mode d'exercice",
    "Structure",
    "Adresse",
    "Code commune",
    "Commune",
    "Téléphone",
    "Membre",
    "Nouveaux patients",
    "Nombre de nouveaux patients",
    "Soins non programmés",
    "Effecteur SAS",
    "Maître de stage",
    "IPA",
    "Asalée",
    "Compétences crise",
    "Langues",
    "Année de naissance",
    "Adresse MSSanté",
    "Visibilité",
];

fn commune_name(code: &str) -> String {
    maillage_domain::territory::commune_name(code)
        .unwrap_or_default()
        .to_string()
}

pub fn directory_row(p: &ProfessionalSummary) -> Vec<Cell> {
    let commune = p.commune_code.clone().unwrap_or_default();
    let phone = if p.contact_phone.is_empty() {
        p.phone.clone().unwrap_or_default()
    } else {
        p.contact_phone.clone()
    };
    vec![
        p.id_kind.as_str().into(),
        p.identifier.as_str().into(),
        p.civility.as_str().into(),
        p.last_name.as_str().into(),
        p.first_name.as_str().into(),
        p.profession_label.as_str().into(),
        p.specialty.as_str().into(),
        p.general_practitioner.into(),
        p.practice_mode.as_str().into(),
        p.structure_name.clone().unwrap_or_default().into(),
        p.address.clone().unwrap_or_default().into(),
        commune.as_str().into(),
        commune_name(&commune).into(),
        phone.into(),
        p.member.into(),
        p.accepts_new_patients.into(),
        p.new_patient_capacity.into(),
        p.snp_volunteer.into(),
        p.sas_effector.into(),
        p.internship_supervisor.into(),
        p.ipa.into(),
        p.asalee.into(),
        p.crisis_skills.as_str().into(),
        p.languages.as_str().into(),
        p.birth_year.into(),
        p.mssante.as_str().into(),
        maillage_domain::professional::Visibility::parse(&p.visibility)
            .unwrap_or_default()
            .label()
            .into(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_use_a_decimal_comma_in_csv() {
        assert_eq!(Cell::Number(12.0).as_csv_text(), "12");
        assert_eq!(Cell::Number(3.456).as_csv_text(), "3,46");
        assert_eq!(Cell::from(true).as_csv_text(), "oui");
        assert_eq!(Cell::from(None::<i64>).as_csv_text(), "");
    }

    #[test]
    fn a_workbook_is_a_zip_with_its_sheets() {
        let mut xlsx = Xlsx::new();
        xlsx.sheet("Annuaire: test/1", &["Nom", "Nombre"]).unwrap();
        xlsx.row(&["Hérault".into(), Cell::Number(3.0)]).unwrap();
        xlsx.sheet("Deux", &["A"]).unwrap();
        xlsx.row(&["b".into()]).unwrap();
        let bytes = xlsx.finish().unwrap();
        assert_eq!(&bytes[..2], b"PK");
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains("xl/worksheets/sheet2.xml"));
    }
}
