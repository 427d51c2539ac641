//! Writes a synthetic extract of the national directory (PS_LibreAcces_Personne_activite format) for
//! import benchmarks: `generate-extract --rows 2000000 --out /tmp/extract.txt`.
//! Rows are spread over all French communes, a share of them on the demo territory.

use clap::Parser;
use maillage_app::directory::synthetic::{write_extract, ExtractSpec};
use maillage_domain::territory::communes;
use std::io::BufWriter;
use std::process::ExitCode;

#[derive(Parser)]
struct Args {
    /// Activity rows to write (the national file has about two million).
    #[arg(long, default_value_t = 2_000_000)]
    rows: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Percentage of rows on the demo territory (Camargue gardoise).
    #[arg(long, default_value_t = 1)]
    local_percent: u64,
    /// INSEE codes of the local communes (default: the demo territory), comma-separated.
    #[arg(long, value_delimiter = ',')]
    communes: Vec<String>,
    /// Write Latin-1, as older extracts were.
    #[arg(long)]
    latin1: bool,
    #[arg(long)]
    out: std::path::PathBuf,
}

const DEMO: [(&str, &str); 10] = [
    ("30003", "30220"),
    ("30006", "30470"),
    ("30020", "30620"),
    ("30033", "30640"),
    ("30036", "30620"),
    ("30128", "30510"),
    ("30059", "30740"),
    ("30169", "30540"),
    ("30276", "30220"),
    ("30341", "30600"),
];

fn main() -> ExitCode {
    let args = Args::parse();
    let elsewhere: Vec<(&str, &str)> = communes()
        .iter()
        .filter_map(|c| {
            c.postal_codes
                .first()
                .map(|p| (c.code.as_str(), p.as_str()))
        })
        .collect();
    let file = match std::fs::File::create(&args.out) {
        Ok(file) => file,
        Err(error) => {
            eprintln!("cannot create {}: {error}", args.out.display());
            return ExitCode::FAILURE;
        }
    };
    let chosen: Vec<(&str, &str)> = communes()
        .iter()
        .filter(|c| args.communes.contains(&c.code))
        .filter_map(|c| {
            c.postal_codes
                .first()
                .map(|p| (c.code.as_str(), p.as_str()))
        })
        .collect();
    if chosen.len() != args.communes.len() {
        eprintln!("unknown INSEE code among {:?}", args.communes);
        return ExitCode::FAILURE;
    }
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let spec = ExtractSpec {
        rows: args.rows,
        seed: args.seed,
        communes: if chosen.is_empty() { &DEMO } else { &chosen },
        elsewhere: &elsewhere,
        local_percent: args.local_percent,
        latin1: args.latin1,
    };
    match write_extract(&mut out, &spec)
        .and_then(|people| std::io::Write::flush(&mut out).map(|()| people))
    {
        Ok(people) => {
            println!(
                "{} rows for {people} fictitious people written to {}",
                args.rows,
                args.out.display()
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("writing {}: {error}", args.out.display());
            ExitCode::FAILURE
        }
    }
}
