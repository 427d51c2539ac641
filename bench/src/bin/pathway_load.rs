//! Care pathways at the scale of a large CPTS over a year: fills a fresh database with patients included
//! through the real service (identity sealed, steps computed, audit chained), closes a share of their steps,
//! then measures what the coordination does every day — the list of followed patients, the dashboard's late
//! count, the year's indicators — and one hourly pass of the late-step alerts, printing p50 / p95 / p99.
//!
//! `pathway-load --patients 20000 --database sqlite:///tmp/pathways.db`
//! `pathway-load --patients 20000 --database postgres://postgres@127.0.0.1:55432/pathway_bench`

use clap::Parser;
use maillage_app::caller::Caller;
use maillage_app::crypto::{generate_key, Keyring, PatientIdentity};
use maillage_app::pathway_care::{InclusionRequest, PathwayCare, StepOutcome};
use maillage_domain::calendar::{utc_to_paris, Day};
use maillage_domain::pathways::inclusion::InclusionDraft;
use maillage_store::{NewCpts, Page};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

#[derive(Parser)]
struct Args {
    /// Patients included over the last year (heart failure and frail elderly, half each).
    #[arg(long, default_value_t = 20_000)]
    patients: usize,
    /// A fresh database (its tables are created).
    #[arg(long)]
    database: String,
    /// Runs of each measured read.
    #[arg(long, default_value_t = 50)]
    repeat: usize,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(index).copied().unwrap_or(0.0)
}

fn report(what: &str, mut times: Vec<f64>) {
    times.sort_by(|a, b| a.total_cmp(b));
    println!(
        "{what:<44} p50 {:>8.1} ms  p95 {:>8.1} ms  p99 {:>8.1} ms",
        percentile(&times, 0.5),
        percentile(&times, 0.95),
        percentile(&times, 0.99)
    );
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let store = maillage_store::open(&args.database).await?;
    let keyring = Arc::new(Keyring::from_config(
        &format!("bench:{}", generate_key()),
        &generate_key(),
    )?);
    let cpts = store
        .create_cpts(
            &NewCpts {
                slug: format!("bench-{}", uuid::Uuid::new_v4().simple()),
                name: "CPTS de mesure".into(),
                finess: None,
                siret: None,
            },
            0,
        )
        .await?;
    let care = PathwayCare::new(store.clone(), keyring);
    let caller = Caller::command_line(cpts.id);
    let today = utc_to_paris(maillage_app::clock::now_ms()).0;
    let started = Instant::now();
    for index in 0..args.patients {
        // Included over the last 360 days, the discharge the same day.
        let day: Day = today.plus_days(-((index * 360 / args.patients.max(1)) as i64));
        let heart = index % 2 == 0;
        let request = InclusionRequest {
            template: if heart {
                "insuffisance-cardiaque"
            } else {
                "personne-agee-fragile"
            }
            .into(),
            identity: PatientIdentity {
                family_name: format!("MESURE-{index}"),
                given_names: "Patient".into(),
                birth_date: "1945-01-01".into(),
                ..Default::default()
            },
            draft: InclusionDraft {
                inclusion: Some(day),
                event: heart.then_some(day),
                consent: true,
            },
            team: Vec::new(),
        };
        let (id, _) = care.include(&caller, &request, today).await?;
        // Two patients in three: the first step done on its last day (some late, most on time).
        if index % 3 != 0 {
            let followed = care.patient(&caller, id, today).await?;
            let first = &followed.steps[0].row;
            let done_on = Day::parse("jour", &first.latest)?.min(today);
            let answers = if heart {
                Vec::new()
            } else {
                ["3", "1", "12", "0", "0", "0", "0", "0", "0"]
                    .map(String::from)
                    .to_vec()
            };
            care.settle_step(
                &caller,
                id,
                first.id,
                StepOutcome::Done {
                    on: Some(done_on),
                    evidence_given: true,
                    answers,
                },
                today,
            )
            .await?;
        }
        if (index + 1) % 5000 == 0 {
            println!(
                "{} patients included ({:.0} s)",
                index + 1,
                started.elapsed().as_secs_f64()
            );
        }
    }
    println!(
        "{} patients included in {:.1} s",
        args.patients,
        started.elapsed().as_secs_f64()
    );
    let measure = |what: &'static str| (what, Vec::with_capacity(args.repeat));
    let (list, mut list_times) = measure("followed patients, first page of 25");
    let (late, mut late_times) = measure("late steps count (dashboard)");
    let (set, mut set_times) = measure("indicators of the year");
    for _ in 0..args.repeat {
        let at = Instant::now();
        care.followed_patients(&caller, Page::first(26), today)
            .await?;
        list_times.push(at.elapsed().as_secs_f64() * 1000.0);
        let at = Instant::now();
        care.late_steps(&caller, today).await?;
        late_times.push(at.elapsed().as_secs_f64() * 1000.0);
        let at = Instant::now();
        care.indicators(&caller, today.year, today).await?;
        set_times.push(at.elapsed().as_secs_f64() * 1000.0);
    }
    report(list, list_times);
    report(late, late_times);
    report(set, set_times);
    let at = Instant::now();
    let alerted = care.alert_late_steps(today).await?;
    let first = at.elapsed().as_secs_f64();
    let at = Instant::now();
    let again = care.alert_late_steps(today).await?;
    println!(
        "hourly late-step alerts: {alerted} steps alerted in {first:.1} s; again the same day: {again} in {:.2} s",
        at.elapsed().as_secs_f64()
    );
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("pathway-load: {error}");
            ExitCode::FAILURE
        }
    }
}
