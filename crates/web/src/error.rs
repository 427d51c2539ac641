//! Errors at the edge. A handler returns a [`WebError`]; the `render_errors` layer turns every error
//! response (handlers', axum's own rejections, panics) into a French page with the request id for people,
//! or `application/problem+json` for the API. Internal details go to the logs only.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maillage_domain::ValidationError;
use maillage_store::StoreError;

/// Carried in the response extensions so that the error layer can render the page.
#[derive(Debug, Clone)]
pub struct ErrorInfo {
    pub title: String,
    pub detail: String,
}

#[derive(Debug)]
pub enum WebError {
    NotFound,
    /// Not signed in (API); pages redirect to the login form instead.
    Unauthorized,
    Forbidden(String),
    /// Bad input, with a French message naming the field.
    BadRequest(String),
    Conflict(String),
    /// The body is larger than the route accepts (tower-http's limit, seen by an extractor).
    TooLarge,
    /// Too many attempts: wait this many seconds.
    TooManyRequests(String, i64),
    /// Something broke: logged with its cause, shown without it.
    Internal(String),
}

impl WebError {
    pub fn status(&self) -> StatusCode {
        match self {
            WebError::NotFound => StatusCode::NOT_FOUND,
            WebError::Unauthorized => StatusCode::UNAUTHORIZED,
            WebError::Forbidden(_) => StatusCode::FORBIDDEN,
            WebError::BadRequest(_) => StatusCode::UNPROCESSABLE_ENTITY,
            WebError::Conflict(_) => StatusCode::CONFLICT,
            WebError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            WebError::TooManyRequests(..) => StatusCode::TOO_MANY_REQUESTS,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn forbidden() -> Self {
        WebError::Forbidden("Votre rôle ne permet pas d'ouvrir cette page.".into())
    }
}

/// French title and explanation for a status, used for errors that carry none (axum rejections…).
pub fn default_info(status: StatusCode) -> ErrorInfo {
    let (title, detail) = match status.as_u16() {
        400 => ("Requête incorrecte", "La demande envoyée n'a pas pu être lue."),
        401 => ("Connexion nécessaire", "Connectez-vous pour accéder à cette page."),
        403 => ("Accès refusé", "Vous n'avez pas les droits nécessaires pour cette page."),
        404 => ("Page introuvable", "Cette adresse ne correspond à aucune page de Maillage."),
        405 => ("Action non permise", "Cette action n'est pas possible sur cette adresse."),
        409 => ("Conflit", "Cette donnée existe déjà ou a été modifiée entre-temps."),
        413 => ("Envoi trop volumineux", "Les données envoyées dépassent la taille permise."),
        415 => ("Format non pris en charge", "Le format des données envoyées n'est pas accepté."),
        422 => ("Données invalides", "Certaines données du formulaire ne sont pas valides."),
        429 => ("Trop de tentatives", "Patientez quelques instants avant de réessayer."),
        503 => (
            "Service indisponible",
            "Maillage n'a pas pu répondre à temps. Réessayez dans un instant ; si cela se reproduit, prévenez l'équipe technique.",
        ),
        _ if status.is_server_error() => (
            "Erreur du serveur",
            "Une erreur inattendue s'est produite. L'équipe technique peut la retrouver grâce à l'identifiant ci-dessous.",
        ),
        _ => ("Erreur", "La demande n'a pas abouti."),
    };
    ErrorInfo {
        title: title.into(),
        detail: detail.into(),
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut info = default_info(status);
        let mut retry_after = None;
        match self {
            WebError::TooManyRequests(detail, seconds) => {
                info.detail = detail;
                retry_after = Some(seconds);
            }
            WebError::Forbidden(detail)
            | WebError::BadRequest(detail)
            | WebError::Conflict(detail) => {
                info.detail = detail;
            }
            WebError::Internal(cause) => {
                tracing::error!(%cause, "internal error");
            }
            WebError::NotFound | WebError::Unauthorized | WebError::TooLarge => {}
        }
        let mut response = status.into_response();
        if let Some(seconds) = retry_after {
            if let Ok(value) = axum::http::HeaderValue::from_str(&seconds.max(1).to_string()) {
                response
                    .headers_mut()
                    .insert(axum::http::header::RETRY_AFTER, value);
            }
        }
        response.extensions_mut().insert(info);
        response
    }
}

impl From<StoreError> for WebError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict(_) => WebError::Conflict("Cette donnée existe déjà.".into()),
            StoreError::NotFound(_) => WebError::NotFound,
            other => WebError::Internal(other.to_string()),
        }
    }
}

impl From<maillage_app::export::ExportError> for WebError {
    fn from(error: maillage_app::export::ExportError) -> Self {
        WebError::Internal(error.to_string())
    }
}

impl From<ValidationError> for WebError {
    fn from(error: ValidationError) -> Self {
        WebError::BadRequest(error.to_string())
    }
}

impl From<maillage_app::accounts::AccountError> for WebError {
    fn from(error: maillage_app::accounts::AccountError) -> Self {
        use maillage_app::accounts::AccountError;
        match error {
            AccountError::Invalid(e) => e.into(),
            AccountError::BadCredentials => WebError::BadRequest(error.to_string()),
            AccountError::EmailTaken => WebError::Conflict(error.to_string()),
            AccountError::Hashing => WebError::Internal("password hashing".into()),
            AccountError::Store(e) => e.into(),
            AccountError::Throttled { retry_after_secs } => WebError::TooManyRequests(
                format!(
                    "Trop de tentatives. Réessayez dans {}.",
                    maillage_app::accounts::wait_in_french(retry_after_secs)
                ),
                retry_after_secs,
            ),
            AccountError::BadSecondFactor
            | AccountError::ChallengeExpired
            | AccountError::InvalidResetLink
            | AccountError::NoPendingTotp => WebError::BadRequest(capitalise(&error.to_string())),
            AccountError::Crypto(e) => WebError::Internal(format!("crypto: {e}")),
        }
    }
}

/// "trop de tentatives" → "Trop de tentatives."
pub fn capitalise(message: &str) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => format!(
            "{}{}.",
            first.to_uppercase(),
            chars.as_str().trim_end_matches('.')
        ),
        None => String::new(),
    }
}

impl From<maillage_app::doctor_search::DoctorSearchError> for WebError {
    fn from(error: maillage_app::doctor_search::DoctorSearchError) -> Self {
        use maillage_app::doctor_search::DoctorSearchError;
        match error {
            DoctorSearchError::Refused(message) => WebError::Conflict(message),
            DoctorSearchError::NotFound => WebError::NotFound,
            DoctorSearchError::Invalid(problem) => WebError::BadRequest(problem.to_string()),
            DoctorSearchError::Store(e) => e.into(),
            other => WebError::Internal(other.to_string()),
        }
    }
}

impl From<maillage_app::directory::pages::DirectoryError> for WebError {
    fn from(error: maillage_app::directory::pages::DirectoryError) -> Self {
        use maillage_app::directory::pages::DirectoryError;
        match error {
            DirectoryError::NotFound => WebError::NotFound,
            DirectoryError::Invalid(problem) => WebError::BadRequest(problem.to_string()),
            DirectoryError::Store(e) => e.into(),
        }
    }
}

impl From<maillage_app::team::TeamError> for WebError {
    fn from(error: maillage_app::team::TeamError) -> Self {
        use maillage_app::team::TeamError;
        match error {
            TeamError::Invalid(_) | TeamError::Expired => {
                WebError::BadRequest(capitalise(&error.to_string()))
            }
            TeamError::Refused(message) => WebError::Conflict(message),
            TeamError::NotFound => WebError::NotFound,
            TeamError::Account(e) => e.into(),
            TeamError::Store(e) => e.into(),
        }
    }
}

impl From<askama::Error> for WebError {
    fn from(error: askama::Error) -> Self {
        WebError::Internal(format!("template: {error}"))
    }
}

pub type WebResult<T> = Result<T, WebError>;
