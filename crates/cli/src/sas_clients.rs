//! `maillage sas-client`: the host registers the SAS platforms that connect with their IGC-Santé client
//! certificate (verified by `maillage serve`'s TLS or the reverse proxy; the same as Administration → SAS), links each to the CPTS it reads, and revokes them.

use crate::cli::SasClientCommand;
use crate::commands::{open_store, AnyError};
use maillage_app::config::Config;
use maillage_app::tokens::{self, TokenError};
use std::process::ExitCode;

pub async fn sas_client_command(
    config: &Config,
    command: SasClientCommand,
) -> Result<ExitCode, AnyError> {
    let store = open_store(config).await?;
    let by = maillage_app::audit::AuditContext::command_line();
    match command {
        SasClientCommand::Add {
            name,
            common_name,
            unit,
            cpts,
        } => {
            match tokens::register_sas_client(
                store.as_ref(),
                &by,
                &name,
                &common_name,
                &unit,
                &cpts,
            )
            .await
            {
                Ok(id) => {
                    println!("{id}");
                    eprintln!("SAS client {name} registered (CN={common_name}, OU={unit})");
                    Ok(ExitCode::SUCCESS)
                }
                Err(TokenError::Refused(message)) => {
                    eprintln!("{message}");
                    Ok(ExitCode::from(2))
                }
                Err(e) => Err(e.to_string().into()),
            }
        }
        SasClientCommand::List => {
            for (client, cpts) in
                tokens::sas_clients(store.as_ref(), maillage_store::Page::first(1000)).await?
            {
                let slugs: Vec<String> = cpts.into_iter().map(|c| c.slug).collect();
                println!(
                    "{}\t{}\tCN={}\tOU={}\t{}\t{}",
                    client.id,
                    client.name,
                    client.common_name,
                    client.organisational_unit,
                    slugs.join(","),
                    match client.revoked_at {
                        Some(at) => format!("revoked {}", maillage_app::clock::date_text(at)),
                        None => "live".into(),
                    }
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        SasClientCommand::Revoke { id } => {
            match tokens::revoke_sas_client(store.as_ref(), &by, id).await {
                Ok(true) => {
                    println!("SAS client {id} revoked");
                    Ok(ExitCode::SUCCESS)
                }
                Ok(false) => {
                    eprintln!("no live SAS client {id}");
                    Ok(ExitCode::FAILURE)
                }
                Err(e) => Err(e.to_string().into()),
            }
        }
    }
}
