//! Access to a médecin traitant: the requests (intake by the secretary, partners, the public form and lists),
//! their page and workflow, GPs' room ("ma capacité" in two clicks), the matching and its proposals, the
//! GP's answer by link, the indicators and the priority rules.

use super::directory::{commune_name, pair_choices, parse_id, territory_choices, Choice};
use crate::access::{Access, Actor, Authorised, CptsContext, CurrentUser, GuardedRouter, Viewer};
use crate::charts::french_decimal;
use crate::error::{WebError, WebResult};
use crate::export::csv_download;
use crate::forms::{Form, FormPairs, Problems, Query};
use crate::views::{lookahead, paginate, render, render_form, Layout, Pager};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use maillage_app::clock::{date_text, french_date, now_ms, year_of, DAY_MS};
use maillage_app::doctor_search::{
    request_list_template, DuplicateDecision, Origin, ProposalAnswer, RequestFields,
};
use maillage_domain::authz::{allows, Permission};
use maillage_domain::doctor_search::{
    decline_reason_label, redirection_label, Channel, ConsentBy, Criterion, PriorityRules,
    RequestState, AGE_GROUPS, CONSENT_TEXT, DECLINE_REASONS, REDIRECTIONS,
};
use maillage_domain::ValidationError;
use maillage_store::{
    DoctorRequest, GpCapacity, Page, ProposalStatus, ProposalView, RequestFilter,
};
use serde::Deserialize;
use uuid::Uuid;

mod capacity;
mod indicators;
mod intake;
mod list;
mod list_imports;
mod matching;
mod messages;
mod public_form;
mod referrals;
mod request_page;
mod rules;

use capacity::*;
use indicators::*;
use intake::*;
use list::*;
use list_imports::*;
use matching::*;
use messages::*;
use public_form::*;
pub use public_form::{overdue_count, to_do};
use referrals::*;
use request_page::*;
use rules::*;

const BASE: &str = "medecin-traitant";

pub fn routes(router: GuardedRouter) -> GuardedRouter {
    router
        .get(
            "/c/{cpts}/medecin-traitant",
            Access::Cpts(Permission::ViewDashboard),
            "Accès à un médecin traitant : demandes (ou, selon le rôle, adressages et capacité)",
            home,
        )
        .get(
            "/c/{cpts}/medecin-traitant/nouvelle",
            Access::Cpts(Permission::SubmitReferral),
            "Formulaire d'une nouvelle demande (appel, adressage)",
            new_form,
        )
        .post(
            "/c/{cpts}/medecin-traitant/nouvelle",
            Access::Cpts(Permission::SubmitReferral),
            "Enregistrement d'une demande (appel, adressage)",
            create,
        )
        .get(
            "/c/{cpts}/medecin-traitant/adressages",
            Access::Cpts(Permission::SubmitReferral),
            "Suivi de mes adressages",
            referrals,
        )
        .get(
            "/c/{cpts}/medecin-traitant/adressages/{id}",
            Access::Cpts(Permission::SubmitReferral),
            "Un de mes adressages : le patient, l'historique, ajouter une information ou retirer",
            referral_page,
        )
        .post(
            "/c/{cpts}/medecin-traitant/adressages/{id}/information",
            Access::Cpts(Permission::SubmitReferral),
            "Information ajoutée par le partenaire à son adressage",
            add_information,
        )
        .post(
            "/c/{cpts}/medecin-traitant/adressages/{id}/retirer",
            Access::Cpts(Permission::SubmitReferral),
            "Retrait d'un adressage par le partenaire (après confirmation)",
            withdraw_referral,
        )
        .get(
            "/c/{cpts}/medecin-traitant/demandes/{id}",
            Access::Cpts(Permission::ViewPatientRequests),
            "Page d'une demande (identité déchiffrée, historique)",
            show,
        )
        .post(
            "/c/{cpts}/medecin-traitant/demandes/{id}/doublon",
            Access::Cpts(Permission::ViewPatientRequests),
            "Décision sur un doublon possible (réunir ou garder à part)",
            decide_duplicate,
        )
        .post(
            "/c/{cpts}/medecin-traitant/demandes/{id}/etat",
            Access::Cpts(Permission::ViewPatientRequests),
            "Changement d'état d'une demande",
            change_state,
        )
        .get(
            "/c/{cpts}/medecin-traitant/demandes/{id}/modifier",
            Access::Cpts(Permission::ViewPatientRequests),
            "Formulaire de modification d'une demande",
            edit_form,
        )
        .post(
            "/c/{cpts}/medecin-traitant/demandes/{id}/modifier",
            Access::Cpts(Permission::ViewPatientRequests),
            "Modification d'une demande",
            save_edit,
        )
        .post(
            "/c/{cpts}/medecin-traitant/demandes/{id}/proposer",
            Access::Cpts(Permission::RunMatching),
            "Proposition d'une demande à un médecin choisi",
            propose_by_hand,
        )
        .get(
            "/c/{cpts}/medecin-traitant/import",
            Access::Cpts(Permission::ViewPatientRequests),
            "Import d'une liste (CPAM, médecin qui part)",
            import_form,
        )
        .post(
            "/c/{cpts}/medecin-traitant/import",
            Access::Cpts(Permission::ViewPatientRequests),
            "Import d'une liste de patients sans médecin traitant",
            import,
        )
        .get(
            "/c/{cpts}/medecin-traitant/import/{id}",
            Access::Cpts(Permission::ViewPatientRequests),
            "Suivi de l'import d'une liste de patients",
            import_progress,
        )
        .get(
            "/c/{cpts}/medecin-traitant/import/{id}/etat",
            Access::Cpts(Permission::ViewPatientRequests),
            "État de l'import d'une liste (fragment rafraîchi)",
            import_progress_fragment,
        )
        .get(
            "/c/{cpts}/medecin-traitant/modele.csv",
            Access::Cpts(Permission::ViewPatientRequests),
            "Modèle CSV des listes de patients",
            template_csv,
        )
        .get(
            "/c/{cpts}/medecin-traitant/appariement",
            Access::Cpts(Permission::RunMatching),
            "Appariement : propositions à revoir et envoyées",
            matching_page,
        )
        .post(
            "/c/{cpts}/medecin-traitant/appariement",
            Access::Cpts(Permission::RunMatching),
            "Lancement de l'appariement",
            run_matching,
        )
        .post(
            "/c/{cpts}/medecin-traitant/appariement/envoyer",
            Access::Cpts(Permission::RunMatching),
            "Envoi des propositions aux médecins",
            send_proposals,
        )
        .post(
            "/c/{cpts}/medecin-traitant/appariement/{id}",
            Access::Cpts(Permission::RunMatching),
            "Modification d'une proposition avant envoi",
            override_proposal,
        )
        .get(
            "/c/{cpts}/medecin-traitant/capacites",
            Access::Cpts(Permission::RunMatching),
            "Places déclarées par les médecins",
            capacities,
        )
        .post(
            "/c/{cpts}/medecin-traitant/capacites",
            Access::Cpts(Permission::RunMatching),
            "Déclaration des places d'un médecin par la coordination",
            declare_for_gp,
        )
        .get(
            "/c/{cpts}/ma-capacite",
            Access::Cpts(Permission::DeclareCapacity),
            "Mes places pour de nouveaux patients",
            my_capacity,
        )
        .post(
            "/c/{cpts}/ma-capacite",
            Access::Cpts(Permission::DeclareCapacity),
            "Déclaration de mes places pour de nouveaux patients",
            save_my_capacity,
        )
        .get(
            "/c/{cpts}/medecin-traitant/indicateurs",
            Access::Cpts(Permission::RunMatching),
            "Indicateurs de la mission médecin traitant",
            indicators,
        )
        .get(
            "/c/{cpts}/medecin-traitant/indicateurs.csv",
            Access::Cpts(Permission::RunMatching),
            "Export CSV des indicateurs médecin traitant",
            indicators_csv,
        )
        .get(
            "/c/{cpts}/medecin-traitant/indicateurs.xlsx",
            Access::Cpts(Permission::RunMatching),
            "Export Excel des indicateurs médecin traitant",
            indicators_xlsx,
        )
        .get(
            "/c/{cpts}/medecin-traitant/regles",
            Access::Cpts(Permission::ManageCpts),
            "Règles de priorité",
            rules_form,
        )
        .post(
            "/c/{cpts}/medecin-traitant/regles",
            Access::Cpts(Permission::ManageCpts),
            "Modification des règles de priorité",
            save_rules,
        )
        .get(
            "/demande-medecin/{slug}",
            Access::Public,
            "Formulaire public de demande de médecin traitant",
            public_form,
        )
        .post(
            "/demande-medecin/{slug}",
            Access::Public,
            "Envoi d'une demande de médecin traitant par le public",
            public_submit,
        )
        .post(
            "/c/{cpts}/medecin-traitant/propositions/{id}/reponse-telephone",
            Access::Cpts(Permission::RunMatching),
            "Réponse d'un médecin donnée par téléphone, enregistrée par la coordination",
            phone_answer,
        )
        .post(
            "/c/{cpts}/medecin-traitant/messages/{id}/appele",
            Access::Cpts(Permission::ViewPatientRequests),
            "Appel passé à la place d'un message qui n'a pas pu partir",
            called,
        )
        .post(
            "/c/{cpts}/ma-capacite/propositions/{id}",
            Access::Cpts(Permission::DeclareCapacity),
            "Réponse du médecin connecté à une proposition",
            my_answer,
        )
        .get(
            "/proposition/{token}",
            Access::Public,
            "Proposition d'un patient à un médecin (lien reçu par e-mail)",
            proposal_page,
        )
        .post(
            "/proposition/{token}",
            Access::Public,
            "Réponse d'un médecin à une proposition",
            answer_proposal,
        )
}

// --- Shared pieces --------------------------------------------------------------------------------------

pub struct CriterionChoice {
    pub code: &'static str,
    pub label: &'static str,
    pub checked: bool,
}

fn criterion_choices(checked: &[String]) -> Vec<CriterionChoice> {
    Criterion::ALL
        .into_iter()
        .map(|c| CriterionChoice {
            code: c.code(),
            label: c.label(),
            checked: checked.iter().any(|x| x == c.code()),
        })
        .collect()
}

fn consent_choices(selected: &str) -> Vec<Choice> {
    ConsentBy::ALL
        .into_iter()
        .map(|c| Choice {
            code: c.code().to_string(),
            label: format!("Par {}", c.label()),
            selected: c.code() == selected,
        })
        .collect()
}

/// A time spent, in whole days as the indicators write them ("moins d'un jour", "1 jour", "12 jours").
fn duration_text(ms: i64) -> String {
    maillage_domain::indicators::Measure::Days(Some(ms.max(0) / DAY_MS)).french()
}

fn channel_label(code: &str) -> &'static str {
    Channel::parse(code).map(Channel::label).unwrap_or("Autre")
}

/// A request as lists show it: no identity.
pub struct RequestRow {
    pub id: String,
    pub received: String,
    pub channel: &'static str,
    pub referrer: String,
    pub commune: String,
    pub age: i64,
    pub priority: i64,
    pub reasons: String,
    pub state: &'static str,
    pub in_state: String,
    pub overdue: bool,
}

fn row_view(r: &DoctorRequest, now: i64) -> RequestRow {
    RequestRow {
        id: r.id.to_string(),
        received: french_date(r.received_at),
        channel: channel_label(&r.channel),
        referrer: r.referrer.clone(),
        commune: commune_name(&r.commune_code),
        age: r.age_at_request,
        priority: r.priority,
        reasons: r.priority_reasons.clone(),
        state: r.state.label(),
        in_state: duration_text(now - r.state_since),
        overdue: maillage_domain::workflow::WorkflowState::is_overdue(r.state, r.state_since, now),
    }
}
