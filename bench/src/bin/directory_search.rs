//! Directory search latency at scale: fills a fresh database with synthetic professionals (through the real
//! importer), then runs the searches people type, and prints p50 / p95 / p99 per kind of search.
//!
//! `directory-search --professionals 100000 --database sqlite:///tmp/search.db`
//! `directory-search --professionals 100000 --database postgres://postgres@127.0.0.1/search_bench`

use clap::Parser;
use maillage_app::directory::import_extract;
use maillage_app::directory::synthetic::{write_extract, ExtractSpec};
use maillage_store::{DirectoryQuery, NewCpts, Page, GENERAL_PRACTICE};
use std::process::ExitCode;
use std::time::Instant;

#[derive(Parser)]
struct Args {
    /// About this many professionals are generated (two activity rows each on average).
    #[arg(long, default_value_t = 100_000)]
    professionals: usize,
    /// A fresh database (its tables are created).
    #[arg(long)]
    database: String,
    /// Searches of each kind.
    #[arg(long, default_value_t = 300)]
    repeat: usize,
}

/// Communes of a large territory (Gard and Hérault), each with a postal code.
const COMMUNES: [(&str, &str); 12] = [
    ("30003", "30220"),
    ("30006", "30470"),
    ("30020", "30620"),
    ("30033", "30640"),
    ("30128", "30510"),
    ("30169", "30540"),
    ("30341", "30600"),
    ("30189", "30000"),
    ("30258", "30800"),
    ("34145", "34400"),
    ("34172", "34000"),
    ("34154", "34400"),
];

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(index).copied().unwrap_or(0.0)
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let store = maillage_store::open(&args.database).await?;
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
    let codes: Vec<String> = COMMUNES.iter().map(|(c, _)| c.to_string()).collect();
    store.add_to_territory(cpts.id, &codes, 0).await?;
    let mut file = Vec::new();
    write_extract(
        &mut file,
        &ExtractSpec {
            rows: args.professionals * 2,
            seed: 42,
            communes: &COMMUNES,
            elsewhere: &[],
            local_percent: 100,
            latin1: false,
        },
    )?;
    let started = Instant::now();
    let report = import_extract(store.as_ref(), cpts.id, file.as_slice(), |_| {}, 1).await?;
    println!(
        "{} professionals imported in {:.1} s ({})",
        report.created,
        started.elapsed().as_secs_f64(),
        store.backend().name()
    );
    let word = |w: &str| vec![w.to_string()];
    let kinds: Vec<(&str, DirectoryQuery, i64)> = vec![
        ("first page, no filter", DirectoryQuery::default(), 1),
        ("page 40, no filter", DirectoryQuery::default(), 40),
        (
            "one name word (« garnier »)",
            DirectoryQuery {
                words: word("garnier"),
                ..Default::default()
            },
            1,
        ),
        (
            "name + commune (« martin vauvert »)",
            DirectoryQuery {
                words: vec!["martin".into(), "vauvert".into()],
                ..Default::default()
            },
            1,
        ),
        (
            "profession filter (general practice)",
            DirectoryQuery {
                profession_code: Some(GENERAL_PRACTICE.into()),
                ..Default::default()
            },
            1,
        ),
        (
            "word + profession (« lunel », nurses)",
            DirectoryQuery {
                words: word("lunel"),
                profession_code: Some("60".into()),
                ..Default::default()
            },
            1,
        ),
        (
            "commune filter (Vauvert)",
            DirectoryQuery {
                commune_code: Some("30341".into()),
                ..Default::default()
            },
            1,
        ),
        (
            "rare word, no match (« zzz »)",
            DirectoryQuery {
                words: word("zzz"),
                ..Default::default()
            },
            1,
        ),
    ];
    let mut all = Vec::new();
    println!("| Search | p50 (ms) | p95 (ms) | p99 (ms) |");
    println!("|---|---|---|---|");
    for (label, query, page) in &kinds {
        let mut times = Vec::with_capacity(args.repeat);
        for _ in 0..args.repeat {
            let started = Instant::now();
            let rows = store
                .search_professionals(cpts.id, query, Page::new(*page, 51))
                .await?;
            std::hint::black_box(rows);
            times.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        println!(
            "| {label} | {:.2} | {:.2} | {:.2} |",
            percentile(&times, 0.5),
            percentile(&times, 0.95),
            percentile(&times, 0.99)
        );
        all.extend(times);
    }
    all.sort_by(f64::total_cmp);
    println!(
        "| **all searches** | {:.2} | {:.2} | {:.2} |",
        percentile(&all, 0.5),
        percentile(&all, 0.95),
        percentile(&all, 0.99)
    );
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{error}");
            ExitCode::FAILURE
        }
    }
}
