//! Prevention (fourth mandatory mission of the ACI contract): actions — screening days, vaccination weeks,
//! workshops, school sessions, stands — with their sessions and capacity, the national campaigns a CPTS relays,
//! public registration with a waiting list whose offers expire, attendance, and the anonymous satisfaction
//! survey. The rules are here, pure; the service, the store and the pages build on them.

pub mod campaigns;
pub mod registration;
pub mod survey;

use crate::calendar::Day;
use crate::codes::coded_enum;
use crate::identifiers::ValidationError;

coded_enum!(
    /// The themes Maillage ships; a CPTS adds its own (a code and a label) beside them.
    Theme {
        Screening => ("depistage", "Dépistage"),
        Vaccination => ("vaccination", "Vaccination"),
        Workshop => ("atelier", "Atelier"),
        School => ("intervention-scolaire", "Intervention scolaire"),
        Stand => ("stand", "Stand d'information"),
        Conference => ("conference", "Conférence"),
        Training => ("formation-professionnels", "Formation des professionnels"),
    }
);

coded_enum!(
    /// Whom an action is for.
    Audience {
        General => ("tout-public", "Tout public"),
        Children => ("enfants-parents", "Enfants et parents"),
        Young => ("jeunes", "Jeunes (12–25 ans)"),
        Adults => ("adultes", "Adultes"),
        Seniors => ("seniors", "Seniors (60 ans et plus)"),
        Professionals => ("professionnels", "Professionnels de santé"),
    }
);

/// One session of an action as typed: its day, its hours (minutes since midnight, Paris time), its places.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionDraft {
    pub day: Option<Day>,
    pub start_minute: Option<u32>,
    pub end_minute: Option<u32>,
    pub capacity: Option<u32>,
}

/// A checked session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Session {
    pub day: Day,
    pub start_minute: u32,
    pub end_minute: u32,
    pub capacity: u32,
}

/// An action's form as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActionDraft {
    pub title: String,
    /// A built-in theme's code, or one of the CPTS's own (`own_themes`).
    pub theme: String,
    pub audience: String,
    pub place: String,
    /// INSEE code of the commune.
    pub commune: String,
    pub sessions: Vec<SessionDraft>,
    /// Registrations close at the end of this day (none: until the first session starts).
    pub registration_until: Option<Day>,
}

/// A checked action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionPlan {
    pub title: String,
    pub theme: String,
    pub audience: Audience,
    pub place: String,
    pub commune: String,
    pub sessions: Vec<Session>,
    pub registration_until: Day,
}

/// Most sessions an action holds (a week of vaccination, morning and afternoon, is 10).
pub const MAX_SESSIONS: usize = 40;
/// Most places one session offers.
pub const MAX_CAPACITY: u32 = 2000;

/// The action, or every problem naming its field: a title; a theme among the built-in ones and the CPTS's
/// own; a public; a place and its commune; 1 to 40 sessions, each a real day within two years, hours that end
/// after they start, 1 to 2 000 places; registrations closing before the last session.
pub fn check_action(
    draft: &ActionDraft,
    own_themes: &[String],
    today: Day,
) -> Result<ActionPlan, Vec<ValidationError>> {
    let mut problems = Vec::new();
    let title = draft.title.trim();
    if !(3..=150).contains(&title.chars().count()) {
        problems.push(ValidationError::new("Titre", "de 3 à 150 caractères"));
    }
    let theme = draft.theme.trim();
    if Theme::parse(theme).is_none() && !own_themes.iter().any(|t| t == theme) {
        problems.push(ValidationError::new(
            "Thème",
            "choisissez un thème de la liste",
        ));
    }
    let audience = Audience::parse(draft.audience.trim());
    if audience.is_none() {
        problems.push(ValidationError::new(
            "Public",
            "choisissez un public de la liste",
        ));
    }
    let place = draft.place.trim();
    if !(2..=200).contains(&place.chars().count()) {
        problems.push(ValidationError::new("Lieu", "de 2 à 200 caractères"));
    }
    let commune = draft.commune.trim();
    if commune.len() != 5 || !commune.chars().all(|c| c.is_ascii_alphanumeric()) {
        problems.push(ValidationError::new(
            "Commune",
            "le code INSEE de la commune (5 caractères)",
        ));
    }
    if draft.sessions.is_empty() || draft.sessions.len() > MAX_SESSIONS {
        problems.push(ValidationError::new(
            "Séances",
            format!("de 1 à {MAX_SESSIONS} séances"),
        ));
    }
    let mut sessions = Vec::new();
    for (index, s) in draft.sessions.iter().enumerate() {
        let n = index + 1;
        let mut wrong = |message: String| {
            problems.push(ValidationError::new(
                "Séances",
                format!("séance {n} : {message}"),
            ))
        };
        match s.day {
            None => wrong("la date est obligatoire".into()),
            Some(day) if day < today.plus_days(-366) || day > today.plus_days(731) => wrong(
                format!("{} est hors des deux ans qui viennent", day.french()),
            ),
            Some(_) => {}
        }
        match (s.start_minute, s.end_minute) {
            (Some(start), Some(end)) if end > start && end <= 24 * 60 => {}
            (Some(_), Some(_)) => wrong("l'heure de fin vient après l'heure de début".into()),
            _ => wrong("les heures de début et de fin sont obligatoires".into()),
        }
        match s.capacity {
            Some(c) if (1..=MAX_CAPACITY).contains(&c) => {}
            _ => wrong(format!("de 1 à {MAX_CAPACITY} places")),
        }
        if let (Some(day), Some(start_minute), Some(end_minute), Some(capacity)) =
            (s.day, s.start_minute, s.end_minute, s.capacity)
        {
            sessions.push(Session {
                day,
                start_minute,
                end_minute,
                capacity,
            });
        }
    }
    sessions.sort_by_key(|s| (s.day, s.start_minute));
    let first = sessions.first().map(|s| s.day);
    let last = sessions.last().map(|s| s.day);
    let registration_until = draft.registration_until.or(first);
    if let (Some(until), Some(last)) = (registration_until, last) {
        if until > last {
            problems.push(ValidationError::new(
                "Fin des inscriptions",
                format!(
                    "{} est après la dernière séance ({})",
                    until.french(),
                    last.french()
                ),
            ));
        }
    }
    match (audience, registration_until) {
        (Some(audience), Some(registration_until)) if problems.is_empty() => Ok(ActionPlan {
            title: title.to_string(),
            theme: theme.to_string(),
            audience,
            place: place.to_string(),
            commune: commune.to_string(),
            sessions,
            registration_until,
        }),
        _ => Err(problems),
    }
}

/// Whether a registrant's data is due for deletion: `keep_days` after the action's last session.
pub fn personal_data_expired(last_session: Day, keep_days: i64, today: Day) -> bool {
    today > last_session.plus_days(keep_days.max(0))
}

#[cfg(test)]
mod tests;
