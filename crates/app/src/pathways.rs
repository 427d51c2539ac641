//! Care pathway templates of a CPTS: the built-in ones until the CPTS adopts them, its own versions after —
//! adopted, adapted (other windows: the next version), imported from another CPTS's JSON file — and each
//! exported as that file. A version once written never changes: a patient included with it keeps it. Every
//! new version is written with its audit entry in one transaction. No patient data here.

use crate::audit::{self, AuditEvent};
use crate::caller::{Caller, Refused};
use crate::clock::now_ms;
use maillage_domain::audit::AuditAction;
use maillage_domain::authz::Permission;
use maillage_domain::pathways::{builtin, PathwayTemplate, Window};
use maillage_domain::ValidationError;
use maillage_store::{Page, PathwayTemplateVersion, Store, StoreError};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum PathwayError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// What was given is refused, each problem naming its field.
    #[error("{}", .0.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(" ; "))]
    Invalid(Vec<ValidationError>),
    /// No such template for this caller (or no right to it: the two are told apart to nobody).
    #[error("not found")]
    NotFound,
}

impl From<Refused> for PathwayError {
    fn from(_: Refused) -> Self {
        PathwayError::NotFound
    }
}

pub type Result<T, E = PathwayError> = std::result::Result<T, E>;

/// A template as the CPTS sees it: its own version, or a built-in one not adopted yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedTemplate {
    pub template: PathwayTemplate,
    /// Shipped with Maillage and not adopted by the CPTS yet.
    pub built_in: bool,
}

#[derive(Clone)]
pub struct PathwayTemplates {
    store: Arc<dyn Store>,
}

/// The largest template file read (a template has at most 60 steps).
const MAX_FILE: usize = 256 * 1024;

fn decoded(version: &PathwayTemplateVersion) -> Result<PathwayTemplate> {
    serde_json::from_str(&version.body).map_err(|e| {
        PathwayError::Store(StoreError::Corrupt(format!(
            "pathway template {} v{}: {e}",
            version.code, version.version
        )))
    })
}

/// A template's JSON file, as CPTS share them (the pages' import and `maillage pathway check`): read, then
/// checked as any version is. Each problem names its field.
pub fn read_template_file(
    file: &[u8],
) -> std::result::Result<PathwayTemplate, Vec<ValidationError>> {
    let template: PathwayTemplate = serde_json::from_slice(file).map_err(|e| {
        vec![ValidationError::new(
            "Fichier",
            format!(
                "ce n'est pas un modèle de parcours au format JSON de Maillage (ligne {}, colonne {}) : {e}",
                e.line(),
                e.column()
            ),
        )]
    })?;
    template.check()?;
    Ok(template)
}

impl PathwayTemplates {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// The CPTS's templates (newest versions) and the built-in ones it has not adopted, by name.
    pub async fn list(&self, caller: &Caller) -> Result<Vec<ListedTemplate>> {
        caller.require(Permission::ViewPathways)?;
        let mut listed: Vec<ListedTemplate> = Vec::new();
        for version in self
            .store
            .latest_pathway_templates(caller.cpts(), Page::first(Page::MAX_LIMIT))
            .await?
        {
            listed.push(ListedTemplate {
                template: decoded(&version)?,
                built_in: false,
            });
        }
        for template in builtin::all() {
            if !listed.iter().any(|l| l.template.code == template.code) {
                listed.push(ListedTemplate {
                    template,
                    built_in: true,
                });
            }
        }
        listed.sort_by(|a, b| a.template.name.cmp(&b.template.name));
        Ok(listed)
    }

    /// One template: a version of the CPTS's (None: the newest), else the built-in one of that code.
    pub async fn template(
        &self,
        caller: &Caller,
        code: &str,
        version: Option<u32>,
    ) -> Result<PathwayTemplate> {
        caller.require(Permission::ViewPathways)?;
        match self
            .store
            .pathway_template(caller.cpts(), code, version.map(i64::from))
            .await?
        {
            Some(found) => decoded(&found),
            None if version.is_none_or(|v| v == 1) => {
                builtin::find(code).ok_or(PathwayError::NotFound)
            }
            None => Err(PathwayError::NotFound),
        }
    }

    /// Writes `template` as a new version of the CPTS's, after the domain's checks, with its audit entry.
    async fn save(&self, caller: &Caller, template: &PathwayTemplate, how: &str) -> Result<()> {
        template.check().map_err(PathwayError::Invalid)?;
        let body = serde_json::to_string(template)
            .map_err(|e| PathwayError::Store(StoreError::Corrupt(e.to_string())))?;
        let version = PathwayTemplateVersion {
            code: template.code.clone(),
            version: i64::from(template.version),
            name: template.name.clone(),
            body,
            created_by: caller.user().map(|u| u.0),
            created_at: now_ms(),
        };
        let entry = audit::entry(
            caller.audit(),
            AuditEvent::new(
                AuditAction::PathwayTemplateSaved,
                "pathway_template",
                template.code.clone(),
            )
            .detail(serde_json::json!({ "version": template.version, "how": how })),
        );
        if !self
            .store
            .save_pathway_template(caller.cpts(), &version, &entry)
            .await?
        {
            return Err(PathwayError::Invalid(vec![ValidationError::new(
                "Version",
                format!(
                    "la version {} de « {} » existe déjà : rechargez le modèle",
                    template.version, template.code
                ),
            )]));
        }
        Ok(())
    }

    /// The CPTS takes a built-in template as its own (its version 1).
    pub async fn adopt(&self, caller: &Caller, code: &str) -> Result<PathwayTemplate> {
        caller.require(Permission::ManagePathwayTemplates)?;
        let template = builtin::find(code).ok_or(PathwayError::NotFound)?;
        self.save(caller, &template, "adopted").await?;
        Ok(template)
    }

    /// Other windows for some steps of the CPTS's template (adopting the built-in one first if needed): the
    /// next version. Patients already included keep theirs.
    pub async fn adapt(
        &self,
        caller: &Caller,
        code: &str,
        windows: &[(String, Window)],
    ) -> Result<PathwayTemplate> {
        caller.require(Permission::ManagePathwayTemplates)?;
        let current = match self
            .store
            .pathway_template(caller.cpts(), code, None)
            .await?
        {
            Some(found) => decoded(&found)?,
            None => self.adopt(caller, code).await?,
        };
        let adapted = current
            .with_windows(windows)
            .map_err(PathwayError::Invalid)?;
        self.save(caller, &adapted, "adapted").await?;
        Ok(adapted)
    }

    /// A template from another CPTS's JSON file: checked as any version, then written as the next version of
    /// the CPTS's template of that code (version 1 when it has none).
    pub async fn import(&self, caller: &Caller, file: &[u8]) -> Result<PathwayTemplate> {
        caller.require(Permission::ManagePathwayTemplates)?;
        let invalid =
            |message: String| PathwayError::Invalid(vec![ValidationError::new("Fichier", message)]);
        if file.len() > MAX_FILE {
            return Err(invalid(format!(
                "{} Ko : un modèle de parcours tient en moins de {} Ko",
                file.len() / 1024,
                MAX_FILE / 1024
            )));
        }
        let mut template = read_template_file(file).map_err(PathwayError::Invalid)?;
        let next = self
            .store
            .pathway_template(caller.cpts(), &template.code, None)
            .await?
            .map_or(1, |current| current.version + 1);
        template.version = u32::try_from(next).unwrap_or(u32::MAX);
        self.save(caller, &template, "imported").await?;
        Ok(template)
    }

    /// A template as the JSON file CPTS share.
    pub async fn export(&self, caller: &Caller, code: &str) -> Result<String> {
        let template = self.template(caller, code, None).await?;
        serde_json::to_string_pretty(&template)
            .map_err(|e| PathwayError::Store(StoreError::Corrupt(e.to_string())))
    }
}

/// An instrument of the registry as the CPTS sees it: its licence, and whether its licensed wording is loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstrumentEntry {
    pub instrument: maillage_domain::pathways::instruments::Instrument,
    pub wording_loaded: bool,
}

impl PathwayTemplates {
    /// The registry of instruments, with the CPTS's loaded wordings.
    pub async fn instruments(&self, caller: &Caller) -> Result<Vec<InstrumentEntry>> {
        caller.require(Permission::ViewPathways)?;
        let mut entries = Vec::new();
        for instrument in maillage_domain::pathways::instruments::Instrument::ALL {
            let loaded = !self
                .store
                .instrument_wording(caller.cpts(), instrument.code())
                .await?
                .is_empty();
            entries.push(InstrumentEntry {
                instrument: *instrument,
                wording_loaded: loaded,
            });
        }
        Ok(entries)
    }

    /// Loads the licensed wording of an instrument's items (`number;wording` lines), the coordination
    /// attesting that the CPTS holds the licence; replaces any earlier wording, audited.
    pub async fn load_wording(
        &self,
        caller: &Caller,
        instrument: maillage_domain::pathways::instruments::Instrument,
        text: &str,
        licence_held: bool,
    ) -> Result<usize> {
        caller.require(Permission::ManagePathwayTemplates)?;
        let mut problems = Vec::new();
        if !licence_held {
            problems.push(ValidationError::new(
                "Licence",
                "cochez la case : la CPTS détient la licence de ces libellés",
            ));
        }
        let parsed =
            maillage_domain::pathways::instruments::wording::parse_wording(instrument, text);
        let wording: Vec<(String, String)> = match parsed {
            Ok(items) => items.into_iter().map(|(c, t)| (c.to_string(), t)).collect(),
            Err(more) => {
                problems.extend(more);
                Vec::new()
            }
        };
        if !problems.is_empty() {
            return Err(PathwayError::Invalid(problems));
        }
        let entry = audit::entry(
            caller.audit(),
            AuditEvent::new(
                AuditAction::InstrumentWordingLoaded,
                "instrument",
                instrument.code(),
            )
            .detail(serde_json::json!({ "items": wording.len(), "licence_attested": true })),
        );
        self.store
            .save_instrument_wording(caller.cpts(), instrument.code(), &wording, now_ms(), &entry)
            .await?;
        Ok(wording.len())
    }

    /// The CPTS's wording of an instrument's items (item code, text); empty: Maillage's short labels.
    pub async fn wording(
        &self,
        caller: &Caller,
        instrument: maillage_domain::pathways::instruments::Instrument,
    ) -> Result<Vec<(String, String)>> {
        caller.require(Permission::ViewPathways)?;
        Ok(self
            .store
            .instrument_wording(caller.cpts(), instrument.code())
            .await?)
    }
}
