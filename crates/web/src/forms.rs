//! Form and JSON extractors whose refusals are French and name the problem, instead of axum's English text.

use crate::error::WebError;
use axum::extract::rejection::{FormRejection, JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

pub struct Form<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Form<T> {
    type Rejection = WebError;
    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        axum::Form::<T>::from_request(request, state)
            .await
            .map(|axum::Form(value)| Form(value))
            .map_err(|rejection: FormRejection| {
                if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    return WebError::TooLarge;
                }
                WebError::BadRequest(format!(
                    "Le formulaire envoyé est incomplet ou mal formé ({}).",
                    french_detail(&rejection.body_text())
                ))
            })
    }
}

/// A form read as its name–value pairs, in order: for forms whose fields repeat (checkboxes of one name),
/// which a struct cannot receive through `serde_urlencoded`.
pub struct FormPairs(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequest<S> for FormPairs {
    type Rejection = WebError;
    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let Form(pairs) = Form::<Vec<(String, String)>>::from_request(request, state).await?;
        Ok(FormPairs(pairs))
    }
}

impl FormPairs {
    /// The first value of `name`, or empty.
    pub fn text(&self, name: &str) -> String {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
            .unwrap_or_default()
    }

    /// The first value of `name`, if present at all.
    pub fn optional(&self, name: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    }

    /// Every value of `name` (ticked checkboxes).
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
            .collect()
    }
}

pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = WebError;
    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        axum::Json::<T>::from_request(request, state)
            .await
            .map(|axum::Json(value)| Json(value))
            .map_err(|rejection: JsonRejection| {
                if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    return WebError::TooLarge;
                }
                let detail = match &rejection {
                    JsonRejection::MissingJsonContentType(_) => {
                        "le corps doit être du JSON (Content-Type: application/json)".to_string()
                    }
                    JsonRejection::JsonSyntaxError(_) => "le JSON est mal formé".to_string(),
                    other => french_detail(&other.body_text()),
                };
                WebError::BadRequest(format!("Requête refusée : {detail}."))
            })
    }
}

pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = WebError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| Query(value))
            .map_err(|rejection: QueryRejection| {
                WebError::BadRequest(format!(
                    "Les paramètres de l'adresse sont invalides ({}).",
                    french_detail(&rejection.body_text())
                ))
            })
    }
}

/// serde names the faulty field in English ("missing field `email`", "page: invalid digit"): keep the
/// field, translate the rest.
fn french_detail(text: &str) -> String {
    let quoted = text.split('`').nth(1).map(str::to_string);
    if text.contains("missing field") {
        return format!("champ « {} » manquant", quoted.unwrap_or_default());
    }
    if text.contains("unknown field") {
        return format!("champ « {} » inconnu", quoted.unwrap_or_default());
    }
    // "Failed to deserialize query string: page: invalid digit found in string"
    let after_prefix = text.split_once(": ").map(|(_, rest)| rest).unwrap_or(text);
    let named = after_prefix
        .split_once(": ")
        .map(|(field, _)| field.trim())
        .filter(|field| {
            !field.is_empty() && field.chars().all(|c| c.is_alphanumeric() || c == '_')
        });
    match named.map(str::to_string).or(quoted) {
        Some(field) => format!("valeur invalide pour « {field} »"),
        None => "contenu illisible".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::french_detail;

    #[test]
    fn serde_messages_become_french_and_keep_the_field() {
        assert_eq!(
            french_detail(
                "Failed to deserialize query string: page: invalid digit found in string"
            ),
            "valeur invalide pour « page »"
        );
        assert_eq!(
            french_detail("missing field `email`"),
            "champ « email » manquant"
        );
        assert_eq!(
            french_detail("unknown field `color`, expected one of"),
            "champ « color » inconnu"
        );
        assert_eq!(french_detail("garbage"), "contenu illisible");
    }
}

/// `?page=N` on paginated lists.
#[derive(Debug, serde::Deserialize, Default)]
pub struct PageQuery {
    pub page: Option<i64>,
}

impl PageQuery {
    pub fn number(&self) -> i64 {
        page_number(self.page)
    }
}

/// The page asked for in a list's address, within sane bounds (page 1 when absent).
pub fn page_number(page: Option<i64>) -> i64 {
    page.unwrap_or(1).clamp(1, 1_000_000)
}

/// Every problem of a form, so that the page lists them all at once, each naming its field (the domain's one
/// type for them).
pub use maillage_domain::Problems;

/// An optional day typed `JJ/MM/AAAA` (or `AAAA-MM-JJ`): empty is none, anything else must be a real day, the
/// problem naming `field`.
pub fn typed_day(
    field: &'static str,
    text: &str,
) -> Result<Option<maillage_domain::calendar::Day>, maillage_domain::ValidationError> {
    let text = text.trim();
    if text.is_empty() {
        Ok(None)
    } else {
        maillage_domain::calendar::Day::parse(field, text).map(Some)
    }
}
