//! Typed templates: one struct per page, all sharing the [`Layout`] of `base.html`.

use crate::access::{CptsContext, Viewer};
use askama::Template;
use axum::response::{Html, IntoResponse, Response};
use maillage_domain::authz::{allows, Permission};

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

pub struct NavUser {
    pub display_name: String,
    pub is_admin: bool,
}

pub struct NavMission {
    pub slug: &'static str,
    pub label: &'static str,
    pub available: bool,
}

pub struct NavCpts {
    pub slug: String,
    pub name: String,
    pub role_label: &'static str,
    pub missions: Vec<NavMission>,
    pub can_see_members: bool,
    pub can_manage: bool,
    pub can_book_slots: bool,
    pub can_publish_slots: bool,
    pub can_see_slot_indicators: bool,
    pub can_see_pathway_indicators: bool,
    pub can_hold_case_meetings: bool,
}

/// What the common frame of every page needs.
pub struct Layout {
    pub title: String,
    pub version: &'static str,
    pub user: Option<NavUser>,
    /// The session's CSRF token, for the forms of the frame (logout) and of the page.
    pub csrf: String,
    pub cpts: Option<NavCpts>,
    /// Which navigation entry is the current page.
    pub active: &'static str,
    pub notice: Option<String>,
}

impl Layout {
    pub fn new(viewer: &Viewer, title: impl Into<String>, active: &'static str) -> Self {
        Self {
            title: title.into(),
            version: VERSION,
            user: viewer.signed_in.as_ref().map(|s| NavUser {
                display_name: s.user.display_name.clone(),
                is_admin: s.user.is_platform_admin,
            }),
            csrf: viewer.csrf_token().unwrap_or_default().to_string(),
            cpts: None,
            active,
            notice: None,
        }
    }

    /// A frame for a page inside a CPTS: adds the missions menu.
    pub fn in_cpts(
        viewer: &Viewer,
        context: &CptsContext,
        title: impl Into<String>,
        active: &'static str,
    ) -> Self {
        let mut layout = Self::new(viewer, title, active);
        layout.cpts = Some(NavCpts {
            slug: context.cpts.slug.clone(),
            name: context.cpts.name.clone(),
            role_label: context.role.label(),
            missions: crate::missions::registry::menu(context.role)
                .into_iter()
                .map(|entry| NavMission {
                    slug: entry.mission.slug,
                    label: entry.mission.label,
                    available: entry.available,
                })
                .collect(),
            can_see_members: allows(context.role, Permission::ViewMemberDirectory),
            can_manage: allows(context.role, Permission::ManageCpts),
            can_book_slots: allows(context.role, Permission::BookSlots),
            can_publish_slots: allows(context.role, Permission::PublishSlots),
            can_see_slot_indicators: allows(context.role, Permission::ViewSlotIndicators),
            can_see_pathway_indicators: allows(context.role, Permission::ViewPathwayIndicators),
            can_hold_case_meetings: allows(context.role, Permission::HoldCaseMeetings),
        });
        layout
    }

    pub fn anonymous(title: impl Into<String>) -> Self {
        Self::new(&Viewer::default(), title, "")
    }

    pub fn with_notice(mut self, notice: Option<String>) -> Self {
        self.notice = notice;
        self
    }
}

/// `YYYY-MM-DD` as French pages write a date (`DD/MM/YYYY`); other text as it is.
pub fn french_day(iso: &str) -> String {
    maillage_domain::calendar::Day::parse("date", iso)
        .map(|day| day.french())
        .unwrap_or_else(|_| iso.to_string())
}

/// Renders a template into an HTML response; a rendering failure becomes a 500 page.
pub fn render<T: Template>(template: &T) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(error) => crate::error::WebError::from(error).into_response(),
    }
}

/// Renders a page holding a form: 422 when the form came back with errors, so that clients and tests can
/// tell a refused submission from a plain page.
pub fn render_form<T: Template>(template: &T, has_errors: bool) -> Response {
    let mut response = render(template);
    if has_errors && response.status().is_success() {
        *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    response
}

/// Rows to read for page `number` of `size`: one more than shown, to know whether a next page exists.
pub fn lookahead(number: i64, size: i64) -> maillage_store::Page {
    let page = maillage_store::Page::new(number, size);
    maillage_store::Page {
        limit: page.limit + 1,
        offset: page.offset,
    }
}

/// Keeps the rows of one page (read with [`lookahead`]) and builds its links.
pub fn paginate<T>(mut rows: Vec<T>, base_url: &str, number: i64, size: i64) -> (Vec<T>, Pager) {
    let pager = Pager::new(base_url, number, size, rows.len());
    rows.truncate(usize::try_from(size).unwrap_or(0));
    (rows, pager)
}

/// Links to the previous and next pages of a list.
pub struct Pager {
    pub page: i64,
    pub prev_url: Option<String>,
    pub next_url: Option<String>,
}

impl Pager {
    /// `fetched` rows were read with a limit of `size + 1`: one more than shown tells that a next page exists.
    pub fn new(base_url: &str, page: i64, size: i64, fetched: usize) -> Self {
        let separator = if base_url.contains('?') { '&' } else { '?' };
        Self {
            page,
            prev_url: (page > 1).then(|| format!("{base_url}{separator}page={}", page - 1)),
            next_url: (i64::try_from(fetched).unwrap_or(0) > size)
                .then(|| format!("{base_url}{separator}page={}", page + 1)),
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    /// The error layer has no viewer: the frame shows the anonymous header.
    pub layout: Layout,
    pub status: u16,
    pub title: String,
    pub detail: String,
    pub request_id: String,
}

/// One line of the dashboard's « À faire », whichever mission it comes from: what to do, where, and
/// whether it is late (urgent lines come first).
pub struct ToDo {
    pub text: String,
    pub href: String,
    pub urgent: bool,
}

/// A message (e-mail, SMS) as the page where it was sent lists it: when, how, and what became of it.
pub struct MessageRow {
    pub id: String,
    pub at: String,
    pub channel: &'static str,
    pub state: String,
    /// Someone must call: the button "J'ai appelé" is offered.
    pub to_call: bool,
}

pub fn message_row(delivery: &maillage_store::Delivery) -> MessageRow {
    let shown = delivery.shown();
    MessageRow {
        id: delivery.id.to_string(),
        at: maillage_app::clock::french_date(delivery.created_at),
        channel: delivery.channel.label(),
        state: shown.label(),
        to_call: delivery.handled_at.is_none() && shown.needs_a_call(),
    }
}

/// A phone number as French people read it, with its `tel:` link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneLink {
    /// `06 12 34 56 78`.
    pub shown: String,
    /// `tel:+33612345678`.
    pub href: String,
}

/// A stored phone number grouped by two and linked; None when it is empty. A number that is not French
/// (10 digits from 0, or +33) is shown as given and dialled as its digits.
pub fn phone_link(stored: &str) -> Option<PhoneLink> {
    let digits: String = stored
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '+')
        .collect();
    if digits.is_empty() {
        return None;
    }
    let national = if let Some(rest) = digits.strip_prefix("+33") {
        format!("0{rest}")
    } else {
        digits.clone()
    };
    if national.len() == 10
        && national.starts_with('0')
        && national.chars().all(|c| c.is_ascii_digit())
    {
        let shown = national
            .as_bytes()
            .chunks(2)
            .map(|pair| String::from_utf8_lossy(pair).into_owned())
            .collect::<Vec<_>>()
            .join(" ");
        return Some(PhoneLink {
            shown,
            href: format!("tel:+33{}", &national[1..]),
        });
    }
    Some(PhoneLink {
        shown: stored.trim().to_string(),
        href: format!("tel:{digits}"),
    })
}

#[cfg(test)]
mod phone_tests {
    use super::phone_link;

    #[test]
    fn phones_are_grouped_and_dialled() {
        let link = phone_link("0612345678").unwrap();
        assert_eq!(link.shown, "06 12 34 56 78");
        assert_eq!(link.href, "tel:+33612345678");
        assert_eq!(
            phone_link("+33 4 72 00 00 00").unwrap().shown,
            "04 72 00 00 00"
        );
        assert_eq!(
            phone_link("+41 22 000 00 00").unwrap().href,
            "tel:+41220000000"
        );
        assert_eq!(phone_link("  "), None);
    }
}
