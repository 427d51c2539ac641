//! Matching at national scale: a synthetic instance (requests and GPs placed in real communes, drawn in
//! proportion to their population), solved by the engine of `maillage match`, with its time and peak memory.
//! `--write FILE` also saves the instance in `maillage match`'s input format and `--solution FILE` the
//! solution, for `bench/matching_check.py` to compare with independent solvers.

use clap::Parser;
use maillage_domain::matching::{solve, MatchDoctor, MatchRequest};
use maillage_domain::territory::communes;
use std::io::Write;
use std::time::Instant;

#[derive(Parser)]
struct Args {
    #[arg(long, default_value_t = 100_000)]
    requests: usize,
    #[arg(long, default_value_t = 5_000)]
    doctors: usize,
    #[arg(long, default_value_t = 30.0)]
    max_km: f64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Keep only communes of these départements (comma-separated), for regional instances.
    #[arg(long)]
    departements: Option<String>,
    #[arg(long)]
    write: Option<std::path::PathBuf>,
    #[arg(long)]
    solution: Option<std::path::PathBuf>,
}

/// A small deterministic generator, so that an instance can be made again from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let wanted: Option<Vec<String>> = args
        .departements
        .as_ref()
        .map(|d| d.split(',').map(|x| x.trim().to_string()).collect());
    let places: Vec<(&str, (f64, f64), u64)> = communes()
        .iter()
        .filter(|c| wanted.as_ref().is_none_or(|w| w.contains(&c.departement)))
        .filter_map(|c| {
            c.coordinates()
                .map(|p| (c.code.as_str(), p, c.population.max(1)))
        })
        .collect();
    // Cumulative population: a commune is drawn as often as it has inhabitants.
    let mut cumulative = Vec::with_capacity(places.len());
    let mut total = 0u64;
    for (_, _, population) in &places {
        total += population;
        cumulative.push(total);
    }
    let mut rng = Rng(args.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let draw = |rng: &mut Rng| {
        let target = rng.below(total);
        places[cumulative.partition_point(|c| *c <= target)]
    };
    let requests: Vec<(String, &str, MatchRequest)> = (0..args.requests)
        .map(|i| {
            let (code, position, _) = draw(&mut rng);
            // Priorities as the default rules give them: mostly 1–6, a tail of fragile patients up to 15.
            let weight = 1
                + rng.below(6) as u32
                + if rng.below(5) == 0 {
                    rng.below(10) as u32
                } else {
                    0
                };
            (
                format!("r{i}"),
                code,
                MatchRequest {
                    id: format!("r{i}"),
                    position,
                    weight,
                },
            )
        })
        .collect();
    let doctors: Vec<(String, &str, MatchDoctor)> = (0..args.doctors)
        .map(|j| {
            let (code, position, _) = draw(&mut rng);
            let capacity = 1 + rng.below(30) as u32;
            let limit = (rng.below(3) == 0).then(|| 5.0 + rng.below(20) as f64);
            (
                format!("d{j}"),
                code,
                MatchDoctor {
                    id: format!("d{j}"),
                    position,
                    capacity,
                    max_distance_km: limit,
                },
            )
        })
        .collect();
    if let Some(path) = &args.write {
        let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
        write!(
            out,
            "{{\"max_distance_km\": {}, \"requests\": [",
            args.max_km
        )?;
        for (i, (id, code, r)) in requests.iter().enumerate() {
            let comma = if i == 0 { "" } else { "," };
            write!(
                out,
                "{comma}{{\"id\":\"{id}\",\"commune\":\"{code}\",\"weight\":{}}}",
                r.weight
            )?;
        }
        write!(out, "], \"doctors\": [")?;
        for (j, (id, code, d)) in doctors.iter().enumerate() {
            let comma = if j == 0 { "" } else { "," };
            write!(
                out,
                "{comma}{{\"id\":\"{id}\",\"commune\":\"{code}\",\"capacity\":{}",
                d.capacity
            )?;
            if let Some(limit) = d.max_distance_km {
                write!(out, ",\"max_distance_km\":{limit}")?;
            }
            write!(out, "}}")?;
        }
        writeln!(out, "]}}")?;
    }
    let problem_requests: Vec<MatchRequest> = requests.iter().map(|(_, _, r)| r.clone()).collect();
    let problem_doctors: Vec<MatchDoctor> = doctors.iter().map(|(_, _, d)| d.clone()).collect();
    let before = peak_rss_mb();
    let started = Instant::now();
    let solved = solve(&problem_requests, &problem_doctors, args.max_km);
    let seconds = started.elapsed().as_secs_f64();
    let capacity: u64 = problem_doctors.iter().map(|d| u64::from(d.capacity)).sum();
    println!(
        "{{\"requests\": {}, \"doctors\": {}, \"capacity\": {capacity}, \"matched\": {}, \"total_weight\": {}, \
         \"total_distance_km\": {:.3}, \"solve_seconds\": {seconds:.3}, \"peak_rss_mb_before\": {before:.1}, \
         \"peak_rss_mb\": {:.1}}}",
        args.requests,
        args.doctors,
        solved.assignments.len(),
        solved.total_weight,
        solved.total_distance_km,
        peak_rss_mb()
    );
    if let Some(path) = &args.solution {
        let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
        writeln!(
            out,
            "{{\"total_weight\": {}, \"total_distance_km\": {:.6}, \"assignments\": {}}}",
            solved.total_weight,
            solved.total_distance_km,
            solved.assignments.len()
        )?;
    }
    Ok(())
}
