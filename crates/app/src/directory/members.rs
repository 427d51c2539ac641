//! The member template: a `;`-separated CSV (UTF-8 or Latin-1, as Excel writes it) in which the coordination
//! lists its members and what they offer. Lines naming a professional already in the directory update the
//! CPTS's facts about them; other lines create the entry (the next national import completes it). Bad lines
//! are reported with their column and value; the good ones are applied together in one transaction.

use super::{blank, territory_of, ImportError, ImportReport, SemicolonRecords};
use maillage_domain::directory::is_general_practice;
use maillage_domain::professional::{
    profession_label, MemberHeader, MemberLine, ProfessionalFacts,
};
use maillage_domain::text::fold;
use maillage_store::{CptsId, ImportedProfessional, MemberTemplateEntry, PracticePlace, Store};
use tokio::io::AsyncBufRead;

/// Folded words of the CPTS's facts that the directory search looks into.
pub fn facts_text(facts: &ProfessionalFacts, structure_name: &str) -> String {
    let mut words = vec![
        facts.crisis_skills.as_str(),
        facts.languages.as_str(),
        structure_name,
    ];
    if facts.snp_volunteer {
        words.push("soins non programmes snp");
    }
    if facts.sas_effector {
        words.push("effecteur sas");
    }
    if facts.internship_supervisor {
        words.push("maitre de stage msu");
    }
    if facts.ipa {
        words.push("ipa pratique avancee");
    }
    if facts.asalee {
        words.push("asalee");
    }
    if facts.accepts_new_patients {
        words.push("nouveaux patients medecin traitant");
    }
    fold(&words.join(" "))
}

fn entry(line: MemberLine) -> MemberTemplateEntry {
    let commune_name =
        maillage_domain::territory::commune_name(&line.commune_code).unwrap_or_default();
    let profession = profession_label(&line.profession_code)
        .unwrap_or_default()
        .to_string();
    MemberTemplateEntry {
        professional: ImportedProfessional {
            national_id: line.person.national_id(),
            id_kind: line.person.kind().to_string(),
            identifier: line.person.value().to_string(),
            checksum_ok: true,
            search_text: fold(&format!(
                "{} {} {} {} {}",
                line.last_name, line.first_name, profession, line.specialty, commune_name
            )),
            general_practitioner: is_general_practice(&line.profession_code, "", &line.specialty),
            civility: line.civility,
            last_name: line.last_name,
            first_name: line.first_name,
            profession_code: line.profession_code,
            profession_label: profession,
            specialty: line.specialty,
            practice_mode: line.practice_mode,
            places: vec![PracticePlace {
                address: line.address,
                postal_code: String::new(),
                commune_code: line.commune_code,
                phone: line.phone,
                email: line.email,
                ..PracticePlace::default()
            }],
            content_hash: String::new(),
        },
        facts_text: facts_text(&line.facts, ""),
        facts: line.facts,
    }
}

/// Imports the member template into the directory of `cpts`.
pub async fn import_members<R: AsyncBufRead + Unpin + Send>(
    store: &dyn Store,
    cpts: CptsId,
    reader: R,
    mut progress: impl FnMut(u64),
    current_year: i64,
    now: i64,
) -> Result<ImportReport, ImportError> {
    let territory = territory_of(store, cpts).await?;
    let mut report = ImportReport::default();
    let mut lines = SemicolonRecords::new(reader);
    let mut header: Option<MemberHeader> = None;
    let mut entries = Vec::new();
    while let Some(fields) = lines.next(&mut progress).await? {
        let Some(columns) = &header else {
            header = Some(MemberHeader::parse(&fields).map_err(ImportError::Header)?);
            continue;
        };
        if blank(&fields) {
            continue;
        }
        match MemberLine::parse(&fields, columns, current_year) {
            Err(problem) => report.reject(lines.number, problem.field, problem.message),
            Ok(member) => {
                if territory.contains(&member.commune_code) {
                    report.rows_on_territory += 1;
                } else {
                    report.rows_elsewhere += 1;
                    report.warn(
                        lines.number,
                        "Code commune",
                        format!(
                            "{} : commune hors du territoire de la CPTS, ligne importée quand même",
                            member.commune_code
                        ),
                    );
                }
                entries.push(entry(member));
            }
        }
    }
    report.lines = lines.lines;
    report.bytes = lines.bytes;
    if header.is_none() {
        return Err(ImportError::Empty);
    }
    let outcomes = store.apply_member_entries(cpts, &entries, now).await?;
    report.count(&outcomes);
    if report.created > 0 {
        store.refresh_directory_statistics().await?;
    }
    Ok(report)
}
