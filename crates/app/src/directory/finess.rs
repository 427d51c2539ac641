//! The public FINESS extraction (etalab "extraction du fichier des établissements", `;`-separated, Latin-1 or
//! UTF-8): `structureet` lines describe establishments, `geolocalisation` lines are skipped. Establishments of
//! the CPTS's communes become structures, keyed by their FINESS; what the CPTS recorded about them (services,
//! contacts, agreement) is never overwritten.

use super::{blank, content_hash, territory_of, ImportError, ImportReport, SemicolonRecords};
use maillage_domain::structures::{
    kind_label, kind_of_finess_category, FinessEstablishment, FinessLine,
};
use maillage_domain::text::fold;
use maillage_store::{CptsId, Store, StructureIdentity};
use tokio::io::AsyncBufRead;

pub fn identity(e: &FinessEstablishment) -> StructureIdentity {
    let kind = kind_of_finess_category(&e.category);
    let commune = maillage_domain::territory::commune_name(&e.commune_code).unwrap_or_default();
    let mut identity = StructureIdentity {
        natural_key: e.finess.clone(),
        finess: e.finess.clone(),
        siret: e.siret.clone(),
        name: e.name.clone(),
        kind: kind.to_string(),
        finess_category: format!("{} {}", e.category, e.category_label)
            .trim()
            .to_string(),
        address: e.address.clone(),
        postal_code: e.postal_code.clone(),
        commune_code: e.commune_code.clone(),
        phone: e.phone.clone(),
        email: String::new(),
        search_text: fold(&format!(
            "{} {} {} {} {}",
            e.name,
            kind_label(kind).unwrap_or_default(),
            e.category_label,
            commune,
            e.finess
        )),
        content_hash: String::new(),
    };
    identity.content_hash = content_hash(&identity);
    identity
}

pub async fn import_finess<R: AsyncBufRead + Unpin + Send>(
    store: &dyn Store,
    cpts: CptsId,
    reader: R,
    mut progress: impl FnMut(u64),
    now: i64,
) -> Result<ImportReport, ImportError> {
    let territory = territory_of(store, cpts).await?;
    let mut report = ImportReport::default();
    let mut lines = SemicolonRecords::new(reader);
    let mut kept = Vec::new();
    let mut seen_header = false;
    while let Some(fields) = lines.next(&mut progress).await? {
        if blank(&fields) {
            continue;
        }
        match FinessLine::parse(&fields) {
            Ok(FinessLine::Header) => seen_header = true,
            Ok(FinessLine::Other) if lines.number == 1 => {
                return Err(ImportError::Header(maillage_domain::ValidationError::new(
                    "en-tête",
                    "la première ligne doit commencer par « finess; » : ce fichier n'est pas une extraction FINESS",
                )))
            }
            Ok(FinessLine::Other) => {}
            Ok(FinessLine::Establishment(e)) if territory.contains(&e.commune_code) => {
                report.rows_on_territory += 1;
                kept.push(identity(&e));
            }
            Ok(FinessLine::Establishment(_)) => report.rows_elsewhere += 1,
            Err(problem) => report.reject(lines.number, problem.field, problem.message),
        }
    }
    report.lines = lines.lines;
    report.bytes = lines.bytes;
    if !seen_header {
        return Err(ImportError::Empty);
    }
    let outcomes = store.upsert_structures(cpts, &kept, now).await?;
    report.count(&outcomes);
    Ok(report)
}
