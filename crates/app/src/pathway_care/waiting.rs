//! Waiting lists for scarce resources (TND assessments, CMP, CAMSP): the coordination creates the CPTS's
//! lists; whoever follows a patient puts them on one (the day of the referral, the priority); the
//! coordination and the secretariat read a list whole — the order people will be seen in, days waited, the
//! median wait — and record each exit with its reason. The order and the median are the domain's rules.

use super::{day_of, invalid, PathwayCare, PathwayError, Result};
use crate::audit::{self, AuditEvent};
use crate::caller::Caller;
use crate::clock::now_ms;
use crate::crypto::PatientIdentity;
use maillage_domain::audit::AuditAction;
use maillage_domain::authz::Permission;
use maillage_domain::calendar::Day;
use maillage_domain::pathways::waiting::{median_days, positions, ExitReason, Priority, Waiting};
use maillage_domain::ValidationError;
use maillage_store::{NewWaitingEntry, WaitingEntryRow, WaitingListRow};
use uuid::Uuid;

/// Someone waiting, as the list shows them.
#[derive(Debug, Clone)]
pub struct WaitingPatient {
    pub entry: WaitingEntryRow,
    pub identity: PatientIdentity,
    pub position: usize,
    pub days: i64,
}

/// A list as the coordination reads it on a day.
#[derive(Debug, Clone)]
pub struct WaitingListView {
    pub list: WaitingListRow,
    pub waiting: Vec<WaitingPatient>,
    /// Median days waited by those still waiting.
    pub median_waiting: Option<f64>,
    /// Median days waited by those seen this year (exit « pris en charge »), referral to exit.
    pub median_seen: Option<f64>,
    pub exits: Vec<WaitingEntryRow>,
}

/// A patient's place on a list, for their record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitingPlace {
    pub list: String,
    pub entry: WaitingEntryRow,
    /// Position and days waited while waiting.
    pub position: Option<(usize, i64)>,
}

fn waiting_of(rows: &[WaitingEntryRow]) -> Vec<Waiting<Uuid>> {
    rows.iter()
        .filter_map(|row| {
            Some(Waiting {
                id: row.id,
                referred_on: day_of(&row.referred_on)?,
                priority: Priority::parse(&row.priority)?,
            })
        })
        .collect()
}

/// The days waited, from referral to exit, by those who left a list because they were seen (the median
/// waits of the list's page and of the year's indicators).
pub fn seen_waits(exits: &[WaitingEntryRow]) -> Vec<i64> {
    exits
        .iter()
        .filter(|e| e.exit_reason.as_deref() == Some(ExitReason::Seen.code()))
        .filter_map(|e| {
            let (from, to) = (day_of(&e.referred_on)?, day_of(e.exited_on.as_deref()?)?);
            Some(to.days_since_epoch() - from.days_since_epoch())
        })
        .collect()
}

impl PathwayCare {
    /// The CPTS's lists, with how many wait on each.
    pub async fn waiting_lists(&self, caller: &Caller) -> Result<Vec<WaitingListRow>> {
        caller.require(Permission::FollowPathwayPatients)?;
        Ok(self.store.waiting_lists(caller.cpts()).await?)
    }

    /// A new list (« Bilan TND — plateforme PCO »), 3 to 100 characters, one of each name.
    pub async fn create_waiting_list(&self, caller: &Caller, name: &str) -> Result<Uuid> {
        caller.require(Permission::ManageWaitingLists)?;
        let name = name.trim();
        if !(3..=100).contains(&name.chars().count()) {
            return Err(invalid("Nom de la liste", "de 3 à 100 caractères"));
        }
        let id = Uuid::now_v7();
        let entry = audit::entry(
            caller.audit(),
            AuditEvent::new(
                AuditAction::WaitingListCreated,
                "waiting_list",
                id.to_string(),
            )
            .detail(serde_json::json!({ "name": name })),
        );
        if !self
            .store
            .create_waiting_list(caller.cpts(), id, name, now_ms(), &entry)
            .await?
        {
            return Err(invalid(
                "Nom de la liste",
                "la CPTS a déjà une liste de ce nom",
            ));
        }
        Ok(id)
    }

    /// Puts a patient the caller follows on a list: the day of the referral (not in the future) and the
    /// priority. Once per list while waiting.
    pub async fn put_on_waiting_list(
        &self,
        caller: &Caller,
        inclusion: Uuid,
        list: Uuid,
        referred_on: Option<Day>,
        priority: Option<Priority>,
        today: Day,
    ) -> Result<()> {
        self.followed(caller, inclusion).await?;
        let mut problems = Vec::new();
        match referred_on {
            None => problems.push(ValidationError::new(
                "Date d'adressage",
                "obligatoire (JJ/MM/AAAA)",
            )),
            Some(day) if day > today => problems.push(ValidationError::new(
                "Date d'adressage",
                format!("{} est dans le futur", day.french()),
            )),
            Some(_) => {}
        }
        if priority.is_none() {
            problems.push(ValidationError::new(
                "Priorité",
                "choisissez une priorité de la liste",
            ));
        }
        let (Some(referred_on), Some(priority)) = (referred_on, priority) else {
            return Err(PathwayError::Invalid(problems));
        };
        if !problems.is_empty() {
            return Err(PathwayError::Invalid(problems));
        }
        let id = Uuid::now_v7();
        let audit_entry = audit::entry(
            caller.audit(),
            AuditEvent::new(AuditAction::WaitingEntryAdded, "waiting_entry", id.to_string())
                .detail(serde_json::json!({ "list": list, "inclusion": inclusion, "priority": priority.code() })),
        );
        let entry = NewWaitingEntry {
            id,
            list_id: list,
            inclusion_id: inclusion,
            referred_on: referred_on.iso(),
            priority: priority.code().to_string(),
            created_at: now_ms(),
        };
        if !self
            .store
            .add_waiting_entry(caller.cpts(), &entry, &audit_entry)
            .await?
        {
            return Err(invalid(
                "Liste d'attente",
                "ce patient attend déjà sur cette liste, ou la liste n'est pas celle de la CPTS",
            ));
        }
        Ok(())
    }

    /// A list whole, on `today`: those waiting in the order they will be seen with their names (the read
    /// audited first), the median waits, this year's exits.
    pub async fn waiting_list(
        &self,
        caller: &Caller,
        list: Uuid,
        today: Day,
    ) -> Result<WaitingListView> {
        caller.require(Permission::ManageWaitingLists)?;
        let cpts = caller.cpts();
        let found = self
            .store
            .waiting_lists(cpts)
            .await?
            .into_iter()
            .find(|l| l.id == list)
            .ok_or(PathwayError::NotFound)?;
        let open = self
            .store
            .waiting_entries(cpts, list, true, "", "~")
            .await?;
        let year = today.year;
        let exits = self
            .store
            .waiting_entries(
                cpts,
                list,
                false,
                &format!("{year:04}-01-01"),
                &format!("{year:04}-12-31"),
            )
            .await?;
        if !open.is_empty() {
            audit::record(
                self.store.as_ref(),
                caller.audit(),
                AuditEvent::new(AuditAction::PathwayPatientsListed, "waiting_list", list.to_string())
                    .detail(serde_json::json!({ "inclusions": open.iter().map(|e| e.inclusion_id).collect::<Vec<_>>() })),
            )
            .await?;
        }
        let mut waiting = Vec::with_capacity(open.len());
        for (id, position, days) in positions(&waiting_of(&open), today) {
            let Some(entry) = open.iter().find(|e| e.id == id) else {
                continue;
            };
            let Some(identity) = self.identity_of(cpts, entry.patient_id).await? else {
                continue;
            };
            waiting.push(WaitingPatient {
                entry: entry.clone(),
                identity,
                position,
                days,
            });
        }
        let waits: Vec<i64> = waiting.iter().map(|w| w.days).collect();
        let seen = seen_waits(&exits);
        Ok(WaitingListView {
            list: found,
            median_waiting: median_days(&waits),
            median_seen: median_days(&seen),
            waiting,
            exits,
        })
    }

    /// Someone leaves a list on `day` (not in the future, not before the referral) for `reason`.
    pub async fn exit_waiting_list(
        &self,
        caller: &Caller,
        list: Uuid,
        entry: Uuid,
        day: Option<Day>,
        reason: Option<ExitReason>,
        today: Day,
    ) -> Result<()> {
        caller.require(Permission::ManageWaitingLists)?;
        let cpts = caller.cpts();
        let open = self
            .store
            .waiting_entries(cpts, list, true, "", "~")
            .await?;
        let found = open
            .iter()
            .find(|e| e.id == entry)
            .ok_or(PathwayError::NotFound)?;
        let mut problems = Vec::new();
        let referred = day_of(&found.referred_on);
        match day {
            None => problems.push(ValidationError::new(
                "Date de sortie",
                "obligatoire (JJ/MM/AAAA)",
            )),
            Some(d) if d > today => problems.push(ValidationError::new(
                "Date de sortie",
                format!("{} est dans le futur", d.french()),
            )),
            Some(d) if referred.is_some_and(|r| d < r) => problems.push(ValidationError::new(
                "Date de sortie",
                format!("{} est avant l'adressage", d.french()),
            )),
            Some(_) => {}
        }
        if reason.is_none() {
            problems.push(ValidationError::new(
                "Motif de sortie",
                "choisissez un motif de la liste",
            ));
        }
        let (Some(day), Some(reason), true) = (day, reason, problems.is_empty()) else {
            return Err(PathwayError::Invalid(problems));
        };
        let audit_entry = audit::entry(
            caller.audit(),
            AuditEvent::new(
                AuditAction::WaitingEntryExited,
                "waiting_entry",
                entry.to_string(),
            )
            .detail(serde_json::json!({ "list": list, "reason": reason.code() })),
        );
        if !self
            .store
            .exit_waiting_entry(cpts, entry, &day.iso(), reason.code(), &audit_entry)
            .await?
        {
            return Err(invalid(
                "Liste d'attente",
                "cette personne n'attend plus sur cette liste",
            ));
        }
        Ok(())
    }

    /// A patient's places on the lists (their positions computed among all those waiting, no other name
    /// opened): read with the patient's record.
    pub(super) async fn waiting_places(
        &self,
        cpts: maillage_store::CptsId,
        inclusion: Uuid,
        today: Day,
    ) -> Result<Vec<WaitingPlace>> {
        let entries = self.store.waiting_entries_of(cpts, inclusion).await?;
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        let lists = self.store.waiting_lists(cpts).await?;
        let mut places = Vec::new();
        for entry in entries {
            let position = if entry.exited_on.is_none() {
                let open = self
                    .store
                    .waiting_entries(cpts, entry.list_id, true, "", "~")
                    .await?;
                positions(&waiting_of(&open), today)
                    .into_iter()
                    .find(|(id, _, _)| *id == entry.id)
                    .map(|(_, position, days)| (position, days))
            } else {
                None
            };
            places.push(WaitingPlace {
                list: lists
                    .iter()
                    .find(|l| l.id == entry.list_id)
                    .map_or(String::new(), |l| l.name.clone()),
                entry,
                position,
            });
        }
        Ok(places)
    }
}
