//! What it takes to register a CPTS on the platform.

use crate::identifiers::{required_text, Finess, Siret, ValidationError};

/// A CPTS ready to be stored: every field checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CptsDraft {
    pub name: String,
    pub slug: String,
    pub finess: Option<Finess>,
    pub siret: Option<Siret>,
}

impl CptsDraft {
    /// Checks every field and returns all the problems at once, so a form can show them together.
    pub fn parse(
        name: &str,
        slug: &str,
        finess: &str,
        siret: &str,
    ) -> Result<Self, Vec<ValidationError>> {
        let mut errors = Vec::new();
        let name = required_text("nom de la CPTS", name, 150)
            .map_err(|e| errors.push(e))
            .ok();
        let slug = if slug.trim().is_empty() {
            name.as_deref().map(slugify).unwrap_or_default()
        } else {
            slug.trim().to_string()
        };
        if let Err(e) = check_slug(&slug) {
            errors.push(e);
        }
        let optional = |value: &str| {
            Some(value.trim())
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        let finess = optional(finess)
            .map(|v| Finess::parse(&v))
            .transpose()
            .map_err(|e| errors.push(e))
            .ok()
            .flatten();
        let siret = optional(siret)
            .map(|v| Siret::parse(&v))
            .transpose()
            .map_err(|e| errors.push(e))
            .ok()
            .flatten();
        match (errors.is_empty(), name) {
            (true, Some(name)) => Ok(Self {
                name,
                slug,
                finess,
                siret,
            }),
            _ => Err(errors),
        }
    }
}

fn check_slug(slug: &str) -> Result<(), ValidationError> {
    let valid = (2..=60).contains(&slug.len())
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
        && !slug.ends_with('-');
    if valid {
        Ok(())
    } else {
        Err(ValidationError::new(
            "identifiant d'adresse",
            format!(
                "« {slug} » : 2 à 60 caractères, lettres minuscules sans accent, chiffres et tirets"
            ),
        ))
    }
}

/// A URL-safe identifier from a French name: "CPTS Camargue Gardoise (démo)" → "camargue-gardoise-demo".
pub fn slugify(name: &str) -> String {
    let dashed = crate::text::fold(name).replace(' ', "-");
    let slug = dashed.strip_prefix("cpts-").unwrap_or(&dashed);
    let mut short: String = slug.chars().take(60).collect();
    while short.ends_with('-') {
        short.pop();
    }
    short
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_come_from_french_names() {
        assert_eq!(
            slugify("CPTS Camargue Gardoise (démo)"),
            "camargue-gardoise-demo"
        );
        assert_eq!(slugify("CPTS Cœur d'Hérault"), "coeur-d-herault");
        assert_eq!(slugify("!!!"), "");
    }

    #[test]
    fn a_draft_reports_every_bad_field() {
        let errors = CptsDraft::parse("", "", "123", "456").unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            vec!["nom de la CPTS", "identifiant d'adresse", "FINESS", "SIRET"]
        );
        let draft = CptsDraft::parse(" CPTS Sud Gard ", "", "300009990", "").unwrap();
        assert_eq!(draft.slug, "sud-gard");
        assert_eq!(draft.finess.map(String::from).as_deref(), Some("300009990"));
        assert!(CptsDraft::parse("CPTS X", "Avec Majuscule", "", "").is_err());
    }
}
