//! A CPTS's team from the interface: the coordination invites secretaries, members and partners by e-mail (the
//! platform administrator invites a new CPTS's coordinator), the invitee sets a password through a single-use
//! link that expires, and the coordination changes roles and suspends or restores access. Each step is audited in its own transaction.

use crate::accounts::{random_token, token_hash, AccountError, Accounts};
use crate::audit::{self, AuditContext, AuditEvent};
use crate::caller::Caller;
use crate::clock::{now_ms, DAY_MS};
use maillage_domain::audit::AuditAction;
use maillage_domain::authz::{Permission, Role};
use maillage_domain::identifiers::{person_name, Email};
use maillage_domain::{Problems, ValidationError};
use maillage_store::{CptsId, Invitation, NewUser, Page, Store, StoreError, UserId};
use std::sync::Arc;
use uuid::Uuid;

/// An invitation's link works this long.
pub const INVITATION_DAYS: i64 = 7;

#[derive(Debug, thiserror::Error)]
pub enum TeamError {
    /// Each refused field, named.
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join(" ; "))]
    Invalid(Vec<ValidationError>),
    /// Refused for a reason said as it is (French).
    #[error("{0}")]
    Refused(String),
    /// The link was used, has expired, or never existed.
    #[error("ce lien d'invitation n'est plus valable : demandez-en un nouveau à la coordination de la CPTS")]
    Expired,
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Account(#[from] AccountError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<crate::caller::Refused> for TeamError {
    fn from(_: crate::caller::Refused) -> Self {
        TeamError::NotFound
    }
}

/// What an invitation of the directory's members did, person by person.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BulkInvitationReport {
    pub invited: usize,
    /// Already have a role in the CPTS.
    pub already_in: usize,
    /// Already have a live invitation.
    pub pending: usize,
    /// Members the directory has no e-mail for: to call, or to complete in their record.
    /// (record, name), to complete their record or call them.
    pub without_email: Vec<(Uuid, String)>,
    /// Members whose recorded e-mail is not an address.
    pub invalid_email: Vec<(Uuid, String)>,
}

/// What an invitation form sends.
#[derive(Debug, Clone, Default)]
pub struct InvitationFields {
    pub email: String,
    pub display_name: String,
    pub role: String,
}

#[derive(Clone)]
pub struct Team {
    store: Arc<dyn Store>,
    accounts: Accounts,
    public_url: String,
    mail_attempts: i64,
}

impl Team {
    pub fn new(
        store: Arc<dyn Store>,
        accounts: Accounts,
        public_url: &str,
        mail_attempts: i64,
    ) -> Self {
        Self {
            store,
            accounts,
            public_url: public_url.trim_end_matches('/').to_string(),
            mail_attempts,
        }
    }

    fn parse(
        fields: &InvitationFields,
        roles: &[Role],
    ) -> Result<(Email, String, Role), TeamError> {
        let mut problems = Problems::default();
        let email = problems.keep(Email::parse(&fields.email));
        let name = problems.keep(person_name("Nom", &fields.display_name, 120));
        let role = problems.keep(
            Role::parse(&fields.role)
                .filter(|role| roles.contains(role))
                .ok_or_else(|| ValidationError::new("Rôle", "choisissez un rôle de la liste")),
        );
        match (problems.finish(|| ()), email, name, role) {
            (Ok(()), Some(email), Some(name), Some(role)) => Ok((email, name, role)),
            (Err(errors), ..) => Err(TeamError::Invalid(errors)),
            _ => Err(TeamError::Refused("Formulaire incomplet.".into())),
        }
    }

    /// The coordination invites someone into its CPTS (any role but another CPTS's).
    pub async fn invite(
        &self,
        caller: &Caller,
        fields: &InvitationFields,
    ) -> Result<Invitation, TeamError> {
        caller.require(Permission::ManageCpts)?;
        let parsed = Self::parse(fields, &Role::ALL)?;
        self.invite_as(caller.audit(), caller.user(), caller.cpts(), parsed, None)
            .await
    }

    /// Checks a coordinator's invitation before anything is written (the CPTS it goes with, for one).
    pub fn check_coordinator(fields: &InvitationFields) -> Result<(), TeamError> {
        let fields = InvitationFields {
            role: Role::Coordinator.code().into(),
            ..fields.clone()
        };
        Self::parse(&fields, &[Role::Coordinator]).map(|_| ())
    }

    /// The platform administrator invites the coordinator of a CPTS (the access layer checked the right).
    pub async fn invite_coordinator(
        &self,
        actor: &AuditContext,
        cpts: CptsId,
        fields: &InvitationFields,
    ) -> Result<Invitation, TeamError> {
        let fields = InvitationFields {
            role: Role::Coordinator.code().into(),
            ..fields.clone()
        };
        let parsed = Self::parse(&fields, &[Role::Coordinator])?;
        self.invite_as(actor, actor.actor_id, cpts, parsed, None)
            .await
    }

    async fn invite_as(
        &self,
        actor: &AuditContext,
        invited_by: Option<UserId>,
        cpts: CptsId,
        (email, name, role): (Email, String, Role),
        professional: Option<Uuid>,
    ) -> Result<Invitation, TeamError> {
        let target = self
            .store
            .find_cpts(cpts)
            .await?
            .ok_or(TeamError::NotFound)?;
        if let Some(user) = self.store.find_user_by_email(email.as_str()).await? {
            if let Some((held, _)) = self.store.membership(cpts, user.id).await? {
                return Err(TeamError::Refused(format!(
                    "{} a déjà un compte dans la CPTS ({}) : changez son rôle dans la liste.",
                    user.display_name,
                    held.label().to_lowercase()
                )));
            }
        }
        let now = now_ms();
        let token = random_token();
        let invitation = Invitation {
            id: Uuid::now_v7(),
            cpts_id: cpts,
            email: email.as_str().to_string(),
            display_name: name,
            role,
            invited_by,
            created_at: now,
            expires_at: now + INVITATION_DAYS * DAY_MS,
            professional_id: professional,
        };
        let entry = audit::entry(
            &actor.in_cpts(cpts),
            AuditEvent::new(
                AuditAction::InvitationSent,
                "invitation",
                invitation.id.to_string(),
            )
            .detail(serde_json::json!({ "role": role.code() })),
        );
        self.store
            .create_invitation(&token_hash(&token), &invitation, &entry)
            .await?;
        let body = format!(
            "Bonjour {},\n\n{} vous invite à rejoindre {} sur Maillage ({}).\n\
             Pour choisir votre mot de passe et entrer, ouvrez ce lien (valable {INVITATION_DAYS} jours, une seule fois) :\n\n\
             {}/invitation/{token}\n\n\
             Si vous ne vous attendiez pas à cette invitation, ignorez ce message.\n",
            invitation.display_name,
            actor.actor,
            target.name,
            role.label().to_lowercase(),
            self.public_url,
        );
        crate::deliveries::email(
            self.store.as_ref(),
            self.accounts.keyring(),
            crate::deliveries::About::new(
                cpts,
                maillage_domain::delivery::Purpose::Invitation,
                invitation.id,
            ),
            Some(invitation.email.clone()),
            &format!("Invitation à rejoindre {} sur Maillage", target.name),
            body,
            self.mail_attempts,
        )
        .await?;
        Ok(invitation)
    }

    /// The invitation of a live link, and the name of its CPTS.
    pub async fn invitation(&self, token: &str) -> Result<Option<(Invitation, String)>, TeamError> {
        let Some(invitation) = self
            .store
            .find_invitation(&token_hash(token), now_ms())
            .await?
        else {
            return Ok(None);
        };
        let name = self
            .store
            .find_cpts(invitation.cpts_id)
            .await?
            .map(|c| c.name)
            .unwrap_or_default();
        Ok(Some((invitation, name)))
    }

    /// Accepts an invitation: a new account gets this password; an existing account (the same e-mail) keeps
    /// its own and gains the role. Returns the account and whether it was created.
    pub async fn accept(
        &self,
        context: &AuditContext,
        token: &str,
        password: &str,
    ) -> Result<(UserId, bool), TeamError> {
        let Some((invitation, _)) = self.invitation(token).await? else {
            return Err(TeamError::Expired);
        };
        let password_hash = self.accounts.hash_new_password(password).await?;
        let entry = audit::entry(
            &AuditContext {
                actor: invitation.email.clone(),
                ..context.in_cpts(invitation.cpts_id)
            },
            AuditEvent::new(AuditAction::InvitationAccepted, "user", String::new()).detail(
                serde_json::json!({ "invitation": invitation.id.to_string(), "role": invitation.role.code() }),
            ),
        );
        let new_user = NewUser {
            email: invitation.email.clone(),
            display_name: invitation.display_name.clone(),
            password_hash,
            is_platform_admin: false,
        };
        self.store
            .accept_invitation(&token_hash(token), &new_user, now_ms(), &entry)
            .await?
            .ok_or(TeamError::Expired)
    }

    /// Invites, in one go, every member of the directory who has an e-mail and no account in the CPTS yet
    /// (role "member", the invitation carrying her directory record so that her account is linked to it).
    /// Each invitation is audited and queued like a single one; the report says who was not invited and why.
    pub async fn invite_directory_members(
        &self,
        caller: &Caller,
    ) -> Result<BulkInvitationReport, TeamError> {
        caller.require(Permission::ManageCpts)?;
        let cpts = caller.cpts();
        let now = now_ms();
        let mut report = BulkInvitationReport::default();
        let query = maillage_store::DirectoryQuery {
            members_only: true,
            ..Default::default()
        };
        let mut page = Page::first(200);
        loop {
            let members = self.store.search_professionals(cpts, &query, page).await?;
            for member in &members {
                let name = format!("{} {}", member.first_name, member.last_name);
                let typed = member.contact_email.trim();
                if typed.is_empty() {
                    report.without_email.push((member.id, name));
                    continue;
                }
                let Ok(email) = Email::parse(typed) else {
                    report.invalid_email.push((member.id, name));
                    continue;
                };
                if let Some(user) = self.store.find_user_by_email(email.as_str()).await? {
                    if self.store.membership(cpts, user.id).await?.is_some() {
                        report.already_in += 1;
                        continue;
                    }
                }
                if self
                    .store
                    .has_live_invitation(cpts, email.as_str(), now)
                    .await?
                {
                    report.pending += 1;
                    continue;
                }
                let display = person_name("Nom", &name, 120).unwrap_or_else(|_| name.clone());
                self.invite_as(
                    caller.audit(),
                    caller.user(),
                    cpts,
                    (email, display, Role::Member),
                    Some(member.id),
                )
                .await?;
                report.invited += 1;
            }
            if (members.len() as i64) < page.limit {
                break;
            }
            page = Page::new(page.offset / page.limit + 2, page.limit);
        }
        Ok(report)
    }

    /// Invitations not yet accepted, newest first.
    pub async fn pending(&self, caller: &Caller, page: Page) -> Result<Vec<Invitation>, TeamError> {
        caller.require(Permission::ManageCpts)?;
        Ok(self.store.pending_invitations(caller.cpts(), page).await?)
    }

    /// What became of the e-mails of these invitations (of the caller's CPTS).
    pub async fn invitation_deliveries(
        &self,
        caller: &Caller,
        invitations: &[Uuid],
    ) -> Result<Vec<maillage_store::Delivery>, TeamError> {
        caller.require(Permission::ManageCpts)?;
        Ok(self
            .store
            .deliveries_of(
                caller.cpts(),
                maillage_domain::delivery::Purpose::Invitation,
                invitations,
            )
            .await?)
    }

    /// Changes someone's role in the CPTS; nobody changes their own (the CPTS would lose its coordination).
    pub async fn change_role(
        &self,
        caller: &Caller,
        user: UserId,
        role: &str,
    ) -> Result<(), TeamError> {
        caller.require(Permission::ManageCpts)?;
        let role = Role::parse(role).ok_or_else(|| {
            TeamError::Invalid(vec![ValidationError::new(
                "Rôle",
                "choisissez un rôle de la liste",
            )])
        })?;
        if caller.user() == Some(user) {
            return Err(TeamError::Refused(
                "Vous ne pouvez pas changer votre propre rôle : demandez-le à une autre personne de la coordination."
                    .into(),
            ));
        }
        let entry = audit::entry(
            caller.audit(),
            AuditEvent::new(AuditAction::RoleGranted, "user", user.to_string())
                .detail(serde_json::json!({ "role": role.code() })),
        );
        if !self
            .store
            .change_role(caller.cpts(), user, role, &entry)
            .await?
        {
            return Err(TeamError::NotFound);
        }
        Ok(())
    }

    /// Links someone's account in the CPTS to her directory record, found by its RPPS (or ADELI) number:
    /// her slots, places and the proposals addressed to her become hers. Returns the record's name.
    pub async fn link_to_record(
        &self,
        caller: &Caller,
        user: UserId,
        identifier: &str,
    ) -> Result<String, TeamError> {
        caller.require(Permission::ManageCpts)?;
        let compact: String = identifier.chars().filter(|c| !c.is_whitespace()).collect();
        if compact.is_empty()
            || compact.len() > 20
            || !compact.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(TeamError::Invalid(vec![ValidationError::new(
                "Fiche de l'annuaire",
                "le numéro RPPS (11 chiffres) ou ADELI de la personne",
            )]));
        }
        let Some((professional, name)) = self
            .store
            .professional_by_identifier(caller.cpts(), &compact)
            .await?
        else {
            return Err(TeamError::Invalid(vec![ValidationError::new(
                "Fiche de l'annuaire",
                format!("aucune fiche de l'annuaire de la CPTS n'a le numéro {compact}"),
            )]));
        };
        let entry = audit::entry(
            caller.audit(),
            AuditEvent::new(AuditAction::AccountLinkedToRecord, "user", user.to_string())
                .detail(serde_json::json!({ "professional": professional.to_string() })),
        );
        if !self
            .store
            .link_account_to_record(caller.cpts(), user, professional, &entry)
            .await?
        {
            return Err(TeamError::NotFound);
        }
        Ok(name)
    }

    /// The caller may suspend this person (the coordination, someone with a live role in its CPTS).
    pub async fn check_member(&self, caller: &Caller, user: UserId) -> Result<(), TeamError> {
        caller.require(Permission::ManageCpts)?;
        match self.store.membership(caller.cpts(), user).await? {
            Some(_) => Ok(()),
            None => Err(TeamError::NotFound),
        }
    }

    /// Suspends (`suspend`) or restores someone's access to the CPTS: their account and their other CPTS are
    /// untouched, their open sessions lose this CPTS at their next page. Nobody suspends themselves (the CPTS
    /// could lose its last coordinator). False when the access already was in that state.
    pub async fn set_access(
        &self,
        caller: &Caller,
        user: UserId,
        suspend: bool,
    ) -> Result<bool, TeamError> {
        caller.require(Permission::ManageCpts)?;
        if caller.user() == Some(user) {
            return Err(TeamError::Refused(
                "Vous ne pouvez pas suspendre votre propre accès : demandez-le à une autre personne de la coordination."
                    .into(),
            ));
        }
        let action = if suspend {
            AuditAction::MembershipSuspended
        } else {
            AuditAction::MembershipRestored
        };
        let entry = audit::entry(
            caller.audit(),
            AuditEvent::new(action, "user", user.to_string()),
        );
        Ok(self
            .store
            .set_membership_suspended(caller.cpts(), user, suspend.then(now_ms), &entry)
            .await?)
    }
}
