//! One confirmation step for what cannot be undone (cancel a booking, withdraw a slot or a proposal, revoke a
//! token, remove a rota turn, suspend someone's access): the first post only shows what will happen; the
//! second, which carries `confirmation=oui`, acts. It works without JavaScript, and the page's first button
//! goes back, so that pressing Entrée twice never destroys anything.

use crate::access::{CptsContext, Viewer};
use crate::forms::FormPairs;
use crate::views::{render, Layout};
use askama::Template;
use axum::response::Response;

/// The field a confirmed post carries.
pub const CONFIRMATION_FIELD: &str = "confirmation";

/// What the confirmation page says and posts again.
pub struct Confirmation {
    /// The question, as the page's title ("Annuler cette réservation ?").
    pub question: String,
    /// What will happen, in words, including what cannot be undone.
    pub consequence: String,
    /// Where the confirmed form posts (the same address as the first post).
    pub action: String,
    /// The form's fields posted again (never the CSRF token nor the confirmation: the page adds its own).
    pub fields: Vec<(String, String)>,
    /// The label of the button that acts ("Oui, annuler la réservation").
    pub confirm_label: String,
    /// Where "Revenir" leads (the record's page).
    pub back: String,
}

impl Confirmation {
    pub fn new(
        question: impl Into<String>,
        consequence: impl Into<String>,
        action: impl Into<String>,
        confirm_label: impl Into<String>,
        back: impl Into<String>,
    ) -> Self {
        Self {
            question: question.into(),
            consequence: consequence.into(),
            action: action.into(),
            fields: Vec::new(),
            confirm_label: confirm_label.into(),
            back: back.into(),
        }
    }

    /// Posts one field again.
    pub fn with_field(mut self, name: &str, value: &str) -> Self {
        self.fields.push((name.to_string(), value.to_string()));
        self
    }

    /// Posts the form's own fields again (the CSRF token and any earlier confirmation left out).
    pub fn repeating(mut self, pairs: &FormPairs) -> Self {
        self.fields = pairs
            .0
            .iter()
            .filter(|(name, _)| name != "csrf" && name != CONFIRMATION_FIELD)
            .cloned()
            .collect();
        self
    }
}

/// Whether the post is the confirmed second one.
pub fn confirmed(pairs: &FormPairs) -> bool {
    pairs.text(CONFIRMATION_FIELD) == "oui"
}

#[derive(Template)]
#[template(path = "confirm.html")]
struct ConfirmPage {
    layout: Layout,
    confirmation: Confirmation,
}

/// The page asking for the confirmation, inside the CPTS's frame (menu entry `active`), titled by the question.
pub fn ask(
    viewer: &Viewer,
    context: &CptsContext,
    active: &'static str,
    confirmation: Confirmation,
) -> Response {
    render(&ConfirmPage {
        layout: Layout::in_cpts(viewer, context, confirmation.question.clone(), active),
        confirmation,
    })
}

/// The same question on a page of the platform administration (outside any CPTS).
pub fn ask_on_platform(
    viewer: &Viewer,
    active: &'static str,
    confirmation: Confirmation,
) -> Response {
    render(&ConfirmPage {
        layout: Layout::new(viewer, confirmation.question.clone(), active),
        confirmation,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> FormPairs {
        FormPairs(
            list.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn only_the_second_post_is_confirmed_and_it_repeats_the_fields_but_not_the_token() {
        assert!(!confirmed(&pairs(&[("csrf", "t"), ("action", "retirer")])));
        assert!(!confirmed(&pairs(&[("confirmation", "on")])));
        assert!(confirmed(&pairs(&[("confirmation", "oui")])));
        let asked = Confirmation::new("Q ?", "C.", "/x", "Oui", "/y").repeating(&pairs(&[
            ("csrf", "t"),
            ("action", "retirer"),
            ("confirmation", "non"),
        ]));
        assert_eq!(
            asked.fields,
            vec![("action".to_string(), "retirer".to_string())]
        );
    }

    #[test]
    fn the_page_goes_back_first_and_escapes_what_it_repeats() {
        let asked = Confirmation::new(
            "Annuler cette réservation ?",
            "Le créneau redevient libre.",
            "/c/a/b",
            "Oui, annuler la réservation",
            "/c/a",
        )
        .repeating(&pairs(&[("motif", "<script>")]));
        let html = ConfirmPage {
            layout: Layout::anonymous("x"),
            confirmation: asked,
        }
        .render()
        .unwrap();
        assert!(!html.contains("<script>"));
        let back = html.find("Revenir sans rien changer").unwrap();
        let act = html.find("Oui, annuler la réservation").unwrap();
        assert!(back < act, "the safe choice comes first");
        assert!(html.contains(r#"name="confirmation" value="oui""#));
    }
}
