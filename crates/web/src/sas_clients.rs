//! Administration → SAS: the platform administrator registers the SAS platforms that connect with their
//! IGC-Santé client certificate (its Common Name and Organizational Unit), links each to the CPTS whose slots
//! it reads, and revokes them — what `maillage sas-client` does, without the command line. Every change is in
//! the platform's audit trail.

use crate::access::{Access, Actor, GuardedRouter, Viewer};
use crate::confirm::{self, Confirmation};
use crate::error::{WebError, WebResult};
use crate::forms::FormPairs;
use crate::views::{render_form, Layout};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use maillage_app::tokens::{self, TokenError};
use maillage_store::Page;
use uuid::Uuid;

const PAGE: &str = "/admin/sas";

pub fn routes(router: GuardedRouter) -> GuardedRouter {
    router
        .get(
            PAGE,
            Access::PlatformAdmin,
            "Clients SAS (certificats)",
            page,
        )
        .post(
            PAGE,
            Access::PlatformAdmin,
            "Enregistrement d'un client SAS",
            register,
        )
        .post(
            "/admin/sas/{id}/revoquer",
            Access::PlatformAdmin,
            "Révocation d'un client SAS",
            revoke,
        )
}

struct ClientRow {
    id: String,
    name: String,
    common_name: String,
    unit: String,
    cpts: String,
    since: String,
    /// "Révoqué le …", or empty for a live client.
    revoked: String,
}

struct CptsChoice {
    slug: String,
    name: String,
    checked: bool,
}

#[derive(Default)]
struct ClientForm {
    name: String,
    common_name: String,
    unit: String,
    cpts: Vec<String>,
}

#[derive(Template)]
#[template(path = "admin_sas.html")]
struct SasClientsPage {
    layout: Layout,
    clients: Vec<ClientRow>,
    choices: Vec<CptsChoice>,
    form: ClientForm,
    errors: Vec<String>,
}

async fn view(
    state: &AppState,
    viewer: &Viewer,
    form: ClientForm,
    errors: Vec<String>,
    notice: Option<String>,
) -> WebResult<Response> {
    let clients = tokens::sas_clients(state.store.as_ref(), Page::first(200))
        .await?
        .into_iter()
        .map(|(client, cpts)| ClientRow {
            id: client.id.to_string(),
            name: client.name,
            common_name: client.common_name,
            unit: client.organisational_unit,
            cpts: cpts
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            since: maillage_app::clock::french_date(client.created_at),
            revoked: client
                .revoked_at
                .map(|at| format!("Révoqué le {}", maillage_app::clock::french_date(at)))
                .unwrap_or_default(),
        })
        .collect();
    let choices = state
        .store
        .list_cpts(Page::first(Page::MAX_LIMIT))
        .await?
        .into_iter()
        .map(|c| CptsChoice {
            checked: form.cpts.contains(&c.slug),
            slug: c.slug,
            name: c.name,
        })
        .collect();
    let has_errors = !errors.is_empty();
    let page = SasClientsPage {
        layout: Layout::new(viewer, "Clients SAS", "admin").with_notice(notice),
        clients,
        choices,
        form,
        errors,
    };
    Ok(render_form(&page, has_errors))
}

async fn page(State(state): State<AppState>, viewer: Viewer) -> WebResult<Response> {
    view(&state, &viewer, ClientForm::default(), Vec::new(), None).await
}

async fn register(
    State(state): State<AppState>,
    viewer: Viewer,
    Actor(actor): Actor,
    pairs: FormPairs,
) -> WebResult<Response> {
    let form = ClientForm {
        name: pairs.text("name"),
        common_name: pairs.text("common_name"),
        unit: pairs.text("unit"),
        cpts: pairs.all("cpts"),
    };
    match tokens::register_sas_client(
        state.store.as_ref(),
        &actor,
        &form.name,
        &form.common_name,
        &form.unit,
        &form.cpts,
    )
    .await
    {
        Ok(_) => {
            let notice = format!(
                "Le client « {} » est enregistré : son certificat (CN={}) ouvre les créneaux des CPTS cochées.",
                form.name.trim(),
                form.common_name.trim()
            );
            view(
                &state,
                &viewer,
                ClientForm::default(),
                Vec::new(),
                Some(notice),
            )
            .await
        }
        Err(TokenError::Refused(message)) => view(&state, &viewer, form, vec![message], None).await,
        Err(other) => Err(WebError::Internal(other.to_string())),
    }
}

async fn revoke(
    State(state): State<AppState>,
    viewer: Viewer,
    Actor(actor): Actor,
    Path(id): Path<String>,
    pairs: FormPairs,
) -> WebResult<Response> {
    let id = Uuid::parse_str(&id).map_err(|_| WebError::NotFound)?;
    if !confirm::confirmed(&pairs) {
        return Ok(confirm::ask_on_platform(
            &viewer,
            "admin",
            Confirmation::new(
                "Révoquer ce client SAS ?",
                "Son certificat n'ouvrira plus les créneaux, immédiatement et pour toutes ses CPTS. Pour le \
                 rétablir, il faudra l'enregistrer de nouveau.",
                format!("{PAGE}/{id}/revoquer"),
                "Oui, révoquer le client",
                PAGE,
            ),
        ));
    }
    let revoked = tokens::revoke_sas_client(state.store.as_ref(), &actor, id)
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?;
    if !revoked {
        return Err(WebError::Conflict(
            "Ce client SAS est déjà révoqué (ou n'existe pas).".into(),
        ));
    }
    view(
        &state,
        &viewer,
        ClientForm::default(),
        Vec::new(),
        Some("Le client SAS est révoqué.".into()),
    )
    .await
}
