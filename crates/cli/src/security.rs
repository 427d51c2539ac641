//! Operators' security commands: the audit trail's verification and checkpoints, and key rotation.

use crate::commands::{open, open_store, AnyError};
use maillage_app::audit::{self, AuditContext, AuditEvent};
use maillage_app::audit_checkpoint::{append_line, checkpoint_now, read_checkpoints};
use maillage_app::clock::now_ms;
use maillage_app::config::Config;
use maillage_app::crypto::Keyring;
use maillage_app::patients::Patients;
use maillage_domain::audit::AuditAction;
use maillage_store::{verify_audit_chains, ChainReport, Page};
use std::path::Path;
use std::process::ExitCode;

/// `maillage audit verify [--checkpoint FILE]`.
pub(crate) async fn verify_audit(
    config: &Config,
    checkpoint: Option<&Path>,
) -> Result<ExitCode, AnyError> {
    let keys = config.audit_keys()?;
    let recorded = match checkpoint {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            read_checkpoints(&text, &keys)?
        }
        None => Vec::new(),
    };
    let store = open_store(config).await?;
    match verify_audit_chains(store.as_ref(), &keys, &recorded, 1_000).await? {
        ChainReport::Intact {
            chains,
            entries,
            unkeyed,
        } => {
            println!("Audit trail intact: {chains} chain(s) (one per CPTS, and the platform's), {entries} entries");
            if checkpoint.is_some() {
                println!(
                    "Every chain still holds what the checkpoint recorded ({} head(s)).",
                    recorded.len()
                );
            }
            if unkeyed > 0 {
                println!(
                    "{unkeyed} entries carry a plain SHA-256 (written before security.audit_keys was set): \
                     someone able to write to the database could have recomputed them; a checkpoint taken since \
                     tells."
                );
            }
            if keys.is_empty() {
                println!("No audit key is configured (security.audit_keys): a rewrite of a whole chain is not detected.");
            }
            // Kept off the server, the heads reveal a shortened chain too (or use `maillage audit checkpoint`).
            for head in store.audit_chains().await? {
                if let Some((seq, hash)) = head.head {
                    println!("chain {}: entry {seq}, head {hash}", head.chain);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        ChainReport::Broken { chain, seq, reason } => {
            eprintln!("Audit trail BROKEN in chain {chain} at entry {seq}: {reason}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// `maillage audit checkpoint [--out FILE]`.
pub(crate) async fn write_checkpoint(
    config: &Config,
    out: Option<&Path>,
) -> Result<ExitCode, AnyError> {
    let keys = config.audit_keys()?;
    let store = open_store(config).await?;
    let line = checkpoint_now(store.as_ref(), &keys, now_ms()).await?;
    match out {
        Some(path) => {
            append_line(path, &line)?;
            eprintln!("Checkpoint appended to {}", path.display());
        }
        None => println!("{line}"),
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn rotate_keys(config: &Config) -> Result<ExitCode, AnyError> {
    let (store, accounts) = open(config).await?;
    let keyring = accounts.keyring().clone();
    eprintln!("Re-encrypting with key {}…", keyring.active_key_id());
    let patients = Patients::new(store.clone(), keyring.clone());
    let count = patients
        .rotate(500, |done| {
            eprintln!("  {done} patient identities re-encrypted")
        })
        .await?;
    let mut secrets = 0u64;
    let mut page = 1;
    loop {
        let users = store.list_users(Page::new(page, 500)).await?;
        if users.is_empty() {
            break;
        }
        for user in &users {
            let Some(sealed) = &user.totp_secret else {
                continue;
            };
            if Keyring::key_id_of(sealed)? == keyring.active_key_id() {
                continue;
            }
            let context = format!("totp:{}", user.id).into_bytes();
            let secret = keyring.open(sealed, &context)?;
            store
                .set_totp(
                    user.id,
                    Some(&keyring.seal(&secret, &context)?),
                    user.totp_enabled,
                )
                .await?;
            secrets += 1;
        }
        page += 1;
    }
    audit::record(
        store.as_ref(),
        &AuditContext::command_line(),
        AuditEvent::new(
            AuditAction::KeysRotated,
            "keys",
            keyring.active_key_id().to_string(),
        )
        .detail(serde_json::json!({ "patients": count, "second_factor_secrets": secrets })),
    )
    .await?;
    println!(
        "Done: {count} patient identities and {secrets} second-factor secrets now use key {}.",
        keyring.active_key_id()
    );
    println!("Old keys can be removed from security.data_keys.");
    Ok(ExitCode::SUCCESS)
}
