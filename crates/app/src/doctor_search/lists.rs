//! Lists of patients from the CPAM or a retiring GP: the header read, each line parsed and recorded.

use super::*;

/// Reads the CPAM or retiring GP list: `;`-separated, header line, UTF-8 (BOM allowed). Columns: nom;
/// prenom; date_naissance; commune (INSEE); telephone; email; criteres (codes separated by `,`);
/// consentement (oui). Returns each line's fields or its problems, with its line number.
pub fn parse_request_list(
    text: &str,
) -> std::result::Result<Vec<(usize, RequestFields)>, ValidationError> {
    let mut records = maillage_domain::text::semicolon_records(text.as_bytes());
    let Some((_, header)) = records.next() else {
        return Err(ValidationError::new("Fichier", "le fichier est vide"));
    };
    let columns: Vec<String> = header
        .into_iter()
        .map(|c| maillage_domain::text::fold(&c).replace(' ', "_"))
        .collect();
    let position = |names: &[&str]| columns.iter().position(|c| names.contains(&c.as_str()));
    let required = [
        ("nom", &["nom"][..]),
        ("prenom", &["prenom", "prenoms"][..]),
        (
            "date_naissance",
            &["date_naissance", "date_de_naissance"][..],
        ),
        ("commune", &["commune", "code_commune", "code_insee"][..]),
        ("consentement", &["consentement"][..]),
    ];
    let mut indexes = Vec::new();
    for (name, aliases) in required {
        match position(aliases) {
            Some(index) => indexes.push(index),
            None => {
                return Err(ValidationError::new(
                    "En-tête",
                    format!("colonne « {name} » manquante (voir le modèle)"),
                ))
            }
        }
    }
    let phone = position(&["telephone", "tel"]);
    let email = position(&["email", "e-mail", "courriel"]);
    let criteria = position(&["criteres"]);
    let mut rows = Vec::new();
    for (number, cells) in records {
        if cells.iter().all(String::is_empty) {
            continue;
        }
        let cell = |index: Option<usize>| {
            index
                .and_then(|i| cells.get(i))
                .map(|c| c.trim().to_string())
                .unwrap_or_default()
        };
        let consent = cell(Some(indexes[4]));
        let consent_given = matches!(
            maillage_domain::text::fold(&consent).as_str(),
            "oui" | "o" | "yes" | "1" | "x"
        );
        rows.push((
            number as usize,
            RequestFields {
                family_name: cell(Some(indexes[0])),
                given_names: cell(Some(indexes[1])),
                birth_date: cell(Some(indexes[2])),
                commune: cell(Some(indexes[3])),
                phone: cell(phone),
                email: cell(email),
                criteria: cell(criteria)
                    .split(',')
                    .map(|c| c.trim().to_string())
                    .filter(|c| !c.is_empty())
                    .collect(),
                consent: consent_given.then(|| "oui".to_string()),
                ..Default::default()
            },
        ));
    }
    Ok(rows)
}

/// The template of the list, with a fictitious example line.
pub fn request_list_template() -> String {
    "\u{feff}nom;prenom;date_naissance;commune;telephone;email;criteres;consentement\r\n\
     EXEMPLE;Camille;02/03/1948;30003;06 12 34 56 78;;ald,isolation;oui\r\n"
        .to_string()
}

/// The outcome of importing a list.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ListReport {
    pub lines: usize,
    pub created: usize,
    pub merged: usize,
    /// (line, field, message)
    pub rejected: Vec<(usize, String, String)>,
}

impl DoctorSearch {
    /// Imports a list: every line is checked first; the good ones are recorded, the bad ones reported with
    /// their line and field. `progress` is told how many lines are done.
    pub async fn import_list(
        &self,
        actor: &AuditContext,
        cpts: CptsId,
        text: &str,
        origin: &Origin,
        mut progress: impl FnMut(usize, usize),
    ) -> std::result::Result<ListReport, DoctorSearchError> {
        let rows = parse_request_list(text)
            .map_err(|e| DoctorSearchError::Refused(format!("{} : {}", e.field, e.message)))?;
        if rows.len() > 10_000 {
            return Err(DoctorSearchError::Refused(
                "Fichier : 10 000 lignes au plus par import ; découpez la liste.".into(),
            ));
        }
        let today = today();
        let mut report = ListReport {
            lines: rows.len(),
            ..Default::default()
        };
        let mut good = Vec::new();
        for (line, fields) in rows {
            match fields.parse(&today) {
                Ok(input) => good.push(input),
                Err(problems) => {
                    for problem in problems {
                        // Kept with the import: the line and field, never the refused value.
                        report.rejected.push((
                            line,
                            problem.field.to_string(),
                            maillage_domain::text::without_quoted_value(&problem.message),
                        ));
                    }
                }
            }
        }
        let total = good.len();
        for (done, input) in good.iter().enumerate() {
            let submitted = self
                .submit_as(actor, cpts, input, origin, OnMatch::Merge)
                .await?;
            if submitted.merged {
                report.merged += 1;
            } else {
                report.created += 1;
            }
            progress(done + 1, total);
        }
        audit::record(
            self.store.as_ref(),
            &actor.in_cpts(cpts),
            AuditEvent::new(
                AuditAction::DoctorRequestsImported,
                "cpts",
                cpts.to_string(),
            )
            .detail(serde_json::json!({
                "channel": origin.channel.code(),
                "lines": report.lines,
                "created": report.created,
                "merged": report.merged,
                "rejected": report.rejected.len(),
            })),
        )
        .await?;
        Ok(report)
    }
}
