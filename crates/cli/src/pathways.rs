//! `maillage pathway` and `maillage instrument`: the care pathways' rules from the command line, without a
//! database — the windows of a template's steps for a discharge date, a template as the JSON file CPTS share
//! (and the checks an imported one passes), and the scoring of the screening instruments, for audits.

use clap::Subcommand;
use maillage_domain::calendar::Day;
use maillage_domain::pathways::instruments::{self, Instrument};
use maillage_domain::pathways::{builtin, PathwayTemplate};
use maillage_domain::ValidationError;
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum PathwayCommand {
    /// List the built-in pathway templates (code, version, name).
    Templates,
    /// Print each planned step of a template with its window (earliest, latest), in Paris dates.
    Schedule {
        /// The template's code (`maillage pathway templates`), or a JSON file of a template.
        #[arg(long)]
        template: String,
        /// The pathway's event, day 0 (hospital discharge), YYYY-MM-DD or DD/MM/YYYY.
        #[arg(long)]
        event: Option<String>,
        /// The inclusion (default: the event's day).
        #[arg(long)]
        inclusion: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Print a built-in template as the JSON file a CPTS shares and imports.
    Export {
        #[arg(long)]
        template: String,
    },
    /// Check a template's JSON file as an import does: each problem named, exit 2 when refused.
    Check { file: PathBuf },
}

#[derive(Debug, Subcommand)]
pub enum InstrumentCommand {
    /// List the instruments: code, name, items, licence and rule for missing answers.
    List,
    /// Score an answer set: the score, the band and the positive domains.
    Score {
        /// The instrument's code (`maillage instrument list`).
        #[arg(long)]
        instrument: String,
        /// One answer per item, comma-separated, in the order of `list` (empty or `-`: missing).
        #[arg(long, allow_hyphen_values = true)]
        answers: String,
        #[arg(long)]
        json: bool,
    },
}

fn refused(problems: &[ValidationError]) -> ExitCode {
    for problem in problems {
        eprintln!("{} : {}", problem.field, problem.message);
    }
    ExitCode::from(2)
}

/// A built-in template by code, or a template read from a JSON file.
fn template_named(name: &str) -> Result<PathwayTemplate, Vec<ValidationError>> {
    if let Some(found) = builtin::find(name) {
        return Ok(found);
    }
    let path = std::path::Path::new(name);
    if !path.is_file() {
        let codes: Vec<String> = builtin::all().into_iter().map(|t| t.code).collect();
        return Err(vec![ValidationError::new(
            "Parcours",
            format!(
                "« {name} » n'est ni un parcours connu ({}) ni un fichier",
                codes.join(", ")
            ),
        )]);
    }
    read_template(path)
}

fn read_template(path: &std::path::Path) -> Result<PathwayTemplate, Vec<ValidationError>> {
    let bytes = std::fs::read(path).map_err(|e| {
        vec![ValidationError::new(
            "Fichier",
            format!("{} : {e}", path.display()),
        )]
    })?;
    maillage_app::pathways::read_template_file(&bytes)
}

pub fn pathway_command(command: PathwayCommand) -> ExitCode {
    match command {
        PathwayCommand::Templates => {
            for template in builtin::all() {
                println!(
                    "{}\tv{}\t{}",
                    template.code, template.version, template.name
                );
            }
            ExitCode::SUCCESS
        }
        PathwayCommand::Export { template } => match builtin::find(&template) {
            Some(found) => match serde_json::to_string_pretty(&found) {
                Ok(text) => {
                    println!("{text}");
                    ExitCode::SUCCESS
                }
                Err(error) => {
                    eprintln!("{error}");
                    ExitCode::FAILURE
                }
            },
            None => refused(&[ValidationError::new(
                "Parcours",
                format!("« {template} » inconnu"),
            )]),
        },
        PathwayCommand::Check { file } => match read_template(&file) {
            Ok(template) => {
                println!(
                    "{} (v{}) : {} étapes, valide",
                    template.name,
                    template.version,
                    template.steps.len()
                );
                ExitCode::SUCCESS
            }
            Err(problems) => refused(&problems),
        },
        PathwayCommand::Schedule {
            template,
            event,
            inclusion,
            json,
        } => schedule(&template, event.as_deref(), inclusion.as_deref(), json),
    }
}

fn schedule(name: &str, event: Option<&str>, inclusion: Option<&str>, json: bool) -> ExitCode {
    let template = match template_named(name) {
        Ok(template) => template,
        Err(problems) => return refused(&problems),
    };
    let event = match event
        .map(|e| Day::parse("Date de l'événement", e))
        .transpose()
    {
        Ok(event) => event,
        Err(problem) => return refused(&[problem]),
    };
    let inclusion = match inclusion
        .map(|i| Day::parse("Date d'inclusion", i))
        .transpose()
    {
        Ok(Some(day)) => day,
        Ok(None) => match event {
            Some(day) => day,
            None if template.needs_event() => {
                return refused(&[ValidationError::new(
                    "Date de l'événement",
                    format!(
                        "obligatoire pour ce parcours ({}) : --event AAAA-MM-JJ",
                        template.event.as_deref().unwrap_or("jour 0").to_lowercase()
                    ),
                )])
            }
            None => {
                return refused(&[ValidationError::new(
                    "Date d'inclusion",
                    "obligatoire sans date d'événement (--inclusion AAAA-MM-JJ)",
                )])
            }
        },
        Err(problem) => return refused(&[problem]),
    };
    let steps = match template.schedule(inclusion, event) {
        Ok(steps) => steps,
        Err(problems) => return refused(&problems),
    };
    if json {
        let body = json!({
            "template": template.code,
            "version": template.version,
            "inclusion": inclusion.iso(),
            "event": event.map(|e| e.iso()),
            "steps": steps.iter().map(|s| json!({
                "code": s.code,
                "label": s.label,
                "owner": s.owner.code(),
                "earliest": s.earliest.iso(),
                "latest": s.latest.iso(),
            })).collect::<Vec<_>>(),
        });
        println!("{body:#}");
    } else {
        println!("{} (v{})", template.name, template.version);
        for s in &steps {
            println!(
                "{}\t{}\t{}\tdu {} au {}",
                s.code,
                s.label,
                s.owner.label(),
                s.earliest.french(),
                s.latest.french()
            );
        }
    }
    ExitCode::SUCCESS
}

pub fn instrument_command(command: InstrumentCommand) -> ExitCode {
    match command {
        InstrumentCommand::List => {
            for instrument in Instrument::ALL {
                println!(
                    "{}\t{}\t{} items\t{}\tréponses manquantes : {}",
                    instrument.code(),
                    instrument.label(),
                    instrument.items().len(),
                    instrument.licence().label(),
                    instrument.missing_rule()
                );
                for (index, item) in instrument.items().iter().enumerate() {
                    println!("\t{}. [{}] {}", index + 1, item.code, item.label);
                }
            }
            ExitCode::SUCCESS
        }
        InstrumentCommand::Score {
            instrument,
            answers,
            json,
        } => {
            let Some(found) = Instrument::parse(&instrument) else {
                let codes: Vec<&str> = Instrument::ALL.iter().map(|i| i.code()).collect();
                return refused(&[ValidationError::new(
                    "Questionnaire",
                    format!("« {instrument} » inconnu ({})", codes.join(", ")),
                )]);
            };
            let parts: Vec<&str> = answers.split(',').collect();
            let scored = match instruments::score(found, &parts) {
                Ok(scored) => scored,
                Err(problem) => return refused(&[problem]),
            };
            if json {
                let body = json!({
                    "instrument": found.code(),
                    "score": scored.score,
                    "maximum": scored.maximum,
                    "band": scored.band.map(|b| json!({ "rank": b.rank, "label": b.label })),
                    "positive": scored.positive,
                    "missing": scored.missing,
                    "note": scored.note,
                });
                println!("{body:#}");
            } else {
                let number = |n: f64| {
                    if n.fract() == 0.0 {
                        format!("{n:.0}")
                    } else {
                        format!("{n}").replace('.', ",")
                    }
                };
                match (scored.score, scored.maximum) {
                    (Some(score), Some(max)) => {
                        println!("score : {} / {}", number(score), number(max))
                    }
                    (Some(score), None) => println!("score : {}", number(score)),
                    _ => println!("score : non calculé"),
                }
                if let Some(band) = scored.band {
                    println!("niveau : {}", band.label);
                }
                if !scored.positive.is_empty() {
                    println!("positif : {}", scored.positive.join(", "));
                }
                if !scored.missing.is_empty() {
                    println!(
                        "réponses manquantes : {} ({})",
                        scored.missing.join(", "),
                        scored.note
                    );
                }
            }
            ExitCode::SUCCESS
        }
    }
}
