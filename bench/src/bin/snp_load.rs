//! Unscheduled care at region scale, over HTTP: fills a fresh database with synthetic professionals in real
//! communes and their published slots (default 10,000 × 100 = 1,000,000 slots over four weeks), starts the real
//! `maillage serve` binary on it, then measures with concurrent keep-alive clients:
//! - a trivial endpoint of the same server (`/fhir/metadata`, no database) and `/healthz` (one database ping);
//! - the SAS's FHIR search (flow INT_R04, with the guide's `_include`s), as the SAS asks it: 25 practitioners'
//!   IDNPS over three days with `_count=1000` (one page holding every match), and 3 practitioners over 48 h;
//! - the secretary's search page (patient's commune, 20 km, 48 h);
//! - bookings under contention: many clients hold slots of a small hot set at once; each slot must end with
//!   exactly one booking, which the program checks in the database afterwards.
//!
//! `snp-load --database sqlite:///tmp/snp.db` (or a fresh PostgreSQL database), after
//! `cargo build --release --bin maillage -p maillage-bench`.

use clap::Parser;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Bytes;
use hyper::{Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use maillage_app::accounts::{AccountRequest, Accounts, LoginOutcome};
use maillage_app::config::Config;
use maillage_domain::authz::Role;
use maillage_domain::territory::communes;
use maillage_store::{
    DirectoryQuery, ImportedProfessional, NewCpts, NewSlot, Page, PracticePlace, SlotQuery, Store,
};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Parser)]
struct Args {
    /// A fresh database (its tables are created): sqlite://… or postgres://….
    #[arg(long)]
    database: String,
    #[arg(long, default_value_t = 10_000)]
    professionals: usize,
    /// Slots each professional publishes over the next four weeks.
    #[arg(long, default_value_t = 100)]
    slots_per_professional: usize,
    /// Concurrent clients.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Requests per read scenario.
    #[arg(long, default_value_t = 4_000)]
    requests: usize,
    /// Slots of the hot set the booking clients fight over.
    #[arg(long, default_value_t = 200)]
    hot_slots: usize,
    /// The server binary.
    #[arg(long, default_value = "target/release/maillage")]
    server: String,
    #[arg(long, default_value = "127.0.0.1:18480")]
    bind: String,
    /// Measure again on a database an earlier run filled (its free slots; the hot set is new).
    #[arg(long)]
    reuse: bool,
}

/// Départements of the synthetic region (Occitanie's Mediterranean side and its hinterland).
const DEPARTMENTS: [&str; 8] = ["30", "34", "11", "66", "48", "12", "81", "13"];
/// Profession codes and shares (per thousand): GPs first, then nurses, physiotherapists, midwives, dentists.
const MIX: [(&str, bool, u32); 5] = [
    ("10", true, 450),
    ("60", false, 250),
    ("70", false, 150),
    ("50", false, 80),
    ("40", false, 70),
];

fn luhn_complete(body: &str) -> String {
    let mut sum = 0;
    for (i, c) in body.chars().rev().enumerate() {
        let mut d = c.to_digit(10).unwrap_or(0);
        if i % 2 == 0 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    format!("{body}{}", (10 - sum % 10) % 10)
}

/// A deterministic generator (no external crate needed for a benchmark's spread).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(index).copied().unwrap_or(0.0)
}

type HttpClient = Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>;

struct Outcome {
    latencies_ms: Vec<f64>,
    statuses: Vec<u16>,
    elapsed: Duration,
}

impl Outcome {
    fn report(&mut self, name: &str) {
        self.latencies_ms.sort_by(f64::total_cmp);
        let n = self.latencies_ms.len();
        let ok = self.statuses.iter().filter(|s| **s < 400).count();
        println!(
            "{name:<44} {n:>6} req  {:>8.0} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms  ({ok} ok)",
            n as f64 / self.elapsed.as_secs_f64(),
            percentile(&self.latencies_ms, 0.50),
            percentile(&self.latencies_ms, 0.99),
            self.latencies_ms.last().copied().unwrap_or(0.0),
        );
        // Figures of refused answers measure nothing: the run fails.
        if ok < n && !name.starts_with("hold") {
            println!("  FAILED: {} answers refused or in error", n - ok);
            FAILED.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

/// Set when a scenario's answers were not all successes.
static FAILED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Runs `total` requests from `concurrency` clients; `make(i)` builds the i-th request.
async fn load(
    client: &HttpClient,
    concurrency: usize,
    total: usize,
    make: Arc<dyn Fn(usize) -> Request<Full<Bytes>> + Send + Sync>,
) -> Outcome {
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let client = client.clone();
        let next = next.clone();
        let make = make.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut statuses = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let at = Instant::now();
                let status = match client.request(make(i)).await {
                    Ok(response) => {
                        let status = response.status().as_u16();
                        let _ = response.into_body().collect().await;
                        status
                    }
                    Err(_) => 599,
                };
                latencies.push(at.elapsed().as_secs_f64() * 1000.0);
                statuses.push(status);
            }
            (latencies, statuses)
        }));
    }
    let mut outcome = Outcome {
        latencies_ms: Vec::new(),
        statuses: Vec::new(),
        elapsed: Duration::ZERO,
    };
    for task in tasks {
        if let Ok((l, s)) = task.await {
            outcome.latencies_ms.extend(l);
            outcome.statuses.extend(s);
        }
    }
    outcome.elapsed = started.elapsed();
    outcome
}

fn get(url: String, headers: &[(&str, String)]) -> Request<Full<Bytes>> {
    let mut request = Request::get(url);
    for (name, value) in headers {
        request = request.header(*name, value.as_str());
    }
    request
        .body(Full::new(Bytes::new()))
        .unwrap_or_else(|_| Request::new(Full::new(Bytes::new())))
}

/// Every professional of the CPTS with their IDNPS, by keyset pages.
async fn all_professionals(
    store: &dyn Store,
    cpts: maillage_store::CptsId,
) -> Result<Vec<(uuid::Uuid, String)>, Box<dyn std::error::Error>> {
    let mut professionals = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .search_professionals(
                cpts,
                &DirectoryQuery {
                    after: after.clone(),
                    ..Default::default()
                },
                Page::first(Page::MAX_LIMIT),
            )
            .await?;
        let Some(last) = page.last() else { break };
        after = Some((last.last_name.clone(), last.first_name.clone(), last.id));
        professionals.extend(page.iter().map(|p| (p.id, format!("8{}", p.identifier))));
    }
    Ok(professionals)
}

async fn fill(
    store: &dyn Store,
    args: &Args,
) -> Result<(maillage_store::Cpts, Vec<(uuid::Uuid, String)>), Box<dyn std::error::Error>> {
    let cpts = store
        .create_cpts(
            &NewCpts {
                slug: "region-snp".into(),
                name: "CPTS de mesure (région)".into(),
                finess: Some("300000001".into()),
                siret: None,
            },
            0,
        )
        .await?;
    let places: Vec<(String, String)> = communes()
        .iter()
        .filter(|c| DEPARTMENTS.iter().any(|d| c.code.starts_with(d)) && c.coordinates().is_some())
        .map(|c| (c.code.clone(), c.population.to_string()))
        .collect();
    // Communes drawn by population: a professional practises where people live.
    let weights: Vec<u64> = places
        .iter()
        .map(|(_, p)| p.parse::<u64>().unwrap_or(1).max(50))
        .collect();
    let total_weight: u64 = weights.iter().sum();
    let mut random = Lcg(42);
    let started = Instant::now();
    let mut batch = Vec::with_capacity(1000);
    for i in 0..args.professionals {
        let mut pick = random.below(total_weight);
        let mut commune = &places[0].0;
        for (index, w) in weights.iter().enumerate() {
            if pick < *w {
                commune = &places[index].0;
                break;
            }
            pick -= w;
        }
        let share = random.below(1000) as u32;
        let mut acc = 0;
        let (code, gp) = MIX
            .iter()
            .find(|(_, _, s)| {
                acc += s;
                share < acc
            })
            .map(|(c, g, _)| (*c, *g))
            .unwrap_or(("10", true));
        let rpps = luhn_complete(&format!("1{:09}", 100_000 + i));
        batch.push(ImportedProfessional {
            national_id: format!("8{rpps}"),
            id_kind: "8".into(),
            identifier: rpps,
            checksum_ok: true,
            civility: String::new(),
            last_name: format!("MESURE{i}"),
            first_name: "Camille".into(),
            profession_code: code.into(),
            profession_label: code.into(),
            specialty: String::new(),
            practice_mode: "L".into(),
            places: vec![PracticePlace {
                name: "Cabinet".into(),
                siret: String::new(),
                finess: String::new(),
                address: String::new(),
                postal_code: String::new(),
                commune_code: commune.clone(),
                phone: String::new(),
                email: String::new(),
            }],
            search_text: format!("mesure{i} camille"),
            content_hash: format!("h{i}"),
            general_practitioner: gp,
        });
        if batch.len() == 1000 {
            store.upsert_professionals(cpts.id, &batch, None, 0).await?;
            batch.clear();
        }
    }
    if !batch.is_empty() {
        store.upsert_professionals(cpts.id, &batch, None, 0).await?;
    }
    eprintln!(
        "{} professionals in {:.1} s",
        args.professionals,
        started.elapsed().as_secs_f64()
    );
    let professionals = all_professionals(store, cpts.id).await?;
    // Slots from the next quarter hour, on weekdays 8:00–19:00 Paris time, 20 minutes each.
    let now = maillage_app::clock::now_ms();
    let first_day = maillage_domain::calendar::utc_to_paris(now).0;
    let started = Instant::now();
    let kinds = ["sas", "cpts", "surnumeraire"];
    let modalities = [
        "cabinet",
        "cabinet",
        "cabinet",
        "domicile",
        "teleconsultation",
    ];
    let mut published = 0u64;
    for (index, (id, _)) in professionals.iter().enumerate() {
        let mut slots = Vec::with_capacity(args.slots_per_professional);
        let mut day = first_day;
        let offset = (index % 33) as u32 * 20;
        while slots.len() < args.slots_per_professional {
            day = day.plus_days(1);
            if day.weekday() > 5 {
                continue;
            }
            // Five slots a day at a time of day that depends on the professional: days are covered evenly.
            for k in 0..5u32 {
                let minute = 8 * 60 + (offset + k * 20) % (11 * 60);
                let start = maillage_domain::calendar::paris_to_utc(day, minute);
                slots.push(NewSlot {
                    start_at: start,
                    end_at: start + 20 * 60_000,
                    kind: kinds[(index + k as usize) % 3].into(),
                    modality: modalities[(index + k as usize) % 5].into(),
                    place: String::new(),
                });
            }
        }
        slots.truncate(args.slots_per_professional);
        let audit = maillage_app::audit::entry(
            &maillage_app::audit::AuditContext::command_line().in_cpts(cpts.id),
            maillage_app::audit::AuditEvent::new(
                maillage_domain::audit::AuditAction::SnpSlotsPublished,
                "professional",
                id.to_string(),
            ),
        );
        published += store
            .publish_slots(cpts.id, *id, &slots, now, &audit)
            .await?;
        if index % 1000 == 999 {
            eprintln!(
                "  {published} slots ({:.0} slots/s)",
                published as f64 / started.elapsed().as_secs_f64()
            );
        }
    }
    eprintln!(
        "{published} slots in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    // What the hourly upkeep (and PostgreSQL's autovacuum) does once the slots are there.
    let started = Instant::now();
    store.refresh_slot_statistics().await?;
    eprintln!(
        "statistics refreshed in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok((cpts, professionals))
}

async fn run(args: Args) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let mut config = Config::default().with_new_keys();
    config.database.url = args.database.clone().into();
    let store = maillage_store::open(&args.database).await?;
    let (cpts, professionals) = match store.find_cpts_by_slug("region-snp").await? {
        Some(cpts) if args.reuse => {
            let professionals = all_professionals(store.as_ref(), cpts.id).await?;
            (cpts, professionals)
        }
        Some(_) => {
            return Err("the database was filled already: give --reuse, or a fresh one".into())
        }
        None => fill(store.as_ref(), &args).await?,
    };
    if args.reuse {
        store.refresh_slot_statistics().await?;
    }
    let keyring = Arc::new(config.keyring()?);
    let accounts = Accounts::new(store.clone(), config.security.clone(), keyring)?;
    let _ = accounts
        .create(
            AccountRequest {
                email: "coordination@mesure.test",
                display_name: "Coordination",
                password: "mesure-mesure-2026",
                is_platform_admin: false,
                role: Some((cpts.id, Role::Coordinator)),
            },
            maillage_app::clock::now_ms(),
        )
        .await; // already there when reused
    let mut sessions = Vec::new();
    for i in 0..args.concurrency {
        let ip = format!("10.0.{}.{}", i / 250, i % 250);
        let attempt = maillage_app::accounts::Attempt {
            ip: &ip,
            device: None,
        };
        match accounts
            .login(
                "coordination@mesure.test",
                "mesure-mesure-2026",
                &attempt,
                maillage_app::clock::now_ms(),
            )
            .await?
        {
            LoginOutcome::Opened(opened) => sessions.push((
                opened.token.expose().clone(),
                opened.record.csrf_token.clone(),
            )),
            LoginOutcome::NeedsSecondFactor { .. } => return Err("second factor asked".into()),
        }
    }
    let token = maillage_app::tokens::issue(
        store.as_ref(),
        &maillage_app::caller::Caller::command_line(cpts.id),
        "Mesure",
        maillage_app::tokens::FHIR_SCOPE,
        None,
    )
    .await?;

    let mut server = tokio::process::Command::new(&args.server)
        .arg("serve")
        .env("MAILLAGE_DATABASE__URL", &args.database)
        .env(
            "MAILLAGE_SECURITY__DATA_KEYS",
            config.security.data_keys.expose(),
        )
        .env(
            "MAILLAGE_SECURITY__BLIND_INDEX_KEY",
            config.security.blind_index_key.expose(),
        )
        .env("MAILLAGE_SERVER__BIND", &args.bind)
        // The server refuses requests for a host other than its public address.
        .env(
            "MAILLAGE_SERVER__PUBLIC_URL",
            format!("http://{}", args.bind),
        )
        // The clients book as one person: the limit of live holds per person would measure itself.
        .env("MAILLAGE_UNSCHEDULED_CARE__MAX_LIVE_HOLDS", "1000000")
        .env("MAILLAGE_LOG__LEVEL", "warn")
        .kill_on_drop(true)
        .spawn()?;
    let base = format!("http://{}", args.bind);
    let client: HttpClient = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(args.concurrency * 2)
        .build_http();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let probe: Request<Empty<Bytes>> =
            Request::get(format!("{base}/healthz")).body(Empty::new())?;
        let plain = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
        if let Ok(answer) = plain.request(probe).await {
            if answer.status() == StatusCode::OK {
                break;
            }
        }
        if Instant::now() > deadline {
            return Err("the server did not start".into());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!(
        "{} professionals, {} slots, {} clients, database {}",
        professionals.len(),
        professionals.len() * args.slots_per_professional,
        args.concurrency,
        store.backend().name()
    );
    let n = args.requests;
    let c = args.concurrency;

    let url = format!("{base}/fhir/metadata");
    load(&client, c, n / 4, Arc::new(move |_| get(url.clone(), &[]))).await; // warm-up
    let url = format!("{base}/fhir/metadata");
    load(&client, c, n, Arc::new(move |_| get(url.clone(), &[])))
        .await
        .report("trivial: GET /fhir/metadata (no database)");
    let url = format!("{base}/healthz");
    load(&client, c, n, Arc::new(move |_| get(url.clone(), &[])))
        .await
        .report("GET /healthz (one database ping)");

    let now = maillage_app::clock::now_ms();
    // The SAS searches over three weekdays whatever day the bench runs (slots are published on weekdays only):
    // from 8:00 on the next Monday, Tuesday or Wednesday, so that runs on different days compare.
    let search_from = {
        let mut day = maillage_domain::calendar::utc_to_paris(now).0.plus_days(1);
        while day.weekday() > 3 {
            day = day.plus_days(1);
        }
        maillage_domain::calendar::paris_to_utc(day, 8 * 60)
    };
    println!(
        "SAS searches from {}",
        maillage_domain::calendar::paris_date_time(search_from)
    );
    let window = |from: i64, hours: i64| {
        let enc = |ms: i64| maillage_domain::calendar::paris_date_time(ms).replace('+', "%2B");
        format!(
            "start=ge{}&start=le{}",
            enc(from),
            enc(from + hours * 3_600_000)
        )
    };
    let includes = "status=free&_include=Slot:schedule&_include:iterate=Schedule:actor\
                    &_include=Slot:service-type-reference&_include:iterate=HealthcareService:organization";
    let auth = format!("Bearer {token}");
    let ids: Arc<Vec<String>> = Arc::new(professionals.iter().map(|(_, n)| n.clone()).collect());
    // The SAS's searches: `count` practitioners drawn across the directory, over `hours`.
    let sas_search = |count: usize, hours: i64, extra: &'static str| {
        let auth = auth.clone();
        let ids = ids.clone();
        let fhir_base = format!(
            "{base}/fhir/Slot?{includes}&{}{extra}",
            window(search_from, hours)
        );
        Arc::new(move |i: usize| {
            let list: Vec<String> = (0..count)
                .map(|k| {
                    format!(
                        "urn:oid:1.2.250.1.71.4.2.1%7C{}",
                        ids[(i * 37 + k * 101) % ids.len()]
                    )
                })
                .collect();
            get(
                format!(
                    "{fhir_base}&schedule.actor:Practitioner.identifier={}",
                    list.join(",")
                ),
                &[("authorization", auth.clone())],
            )
        }) as Arc<dyn Fn(usize) -> Request<Full<Bytes>> + Send + Sync>
    };
    load(&client, c, n, sas_search(25, 72, "&_count=1000"))
        .await
        .report("FHIR SAS search, 72 h, 25 practitioners");
    load(&client, c, n, sas_search(3, 48, ""))
        .await
        .report("FHIR SAS search, 48 h, 3 practitioners");

    let commune_list: Arc<Vec<String>> = Arc::new(
        communes()
            .iter()
            .filter(|c| c.code.starts_with("30") || c.code.starts_with("34"))
            .filter(|c| c.population > 5_000)
            .map(|c| c.code.clone())
            .collect(),
    );
    let page_base = format!("{base}/c/{}/soins-non-programmes/creneaux", cpts.slug);
    let cookies: Arc<Vec<String>> = Arc::new(
        sessions
            .iter()
            .map(|(t, _)| format!("maillage_session={t}"))
            .collect(),
    );
    let make_page = {
        let cookies = cookies.clone();
        Arc::new(move |i: usize| {
            get(
                format!(
                    "{page_base}?commune={}&distance=20&heures=48",
                    commune_list[i % commune_list.len()]
                ),
                &[("cookie", cookies[i % cookies.len()].clone())],
            )
        })
    };
    load(&client, c, n / 2, make_page)
        .await
        .report("search page: commune, 20 km, 48 h (session)");

    // Bookings under contention: every client tries every slot of the hot set, in a different order.
    let hot: Vec<uuid::Uuid> = store
        .search_free_slots(
            cpts.id,
            &SlotQuery {
                from: now,
                until: now + 7 * 86_400_000,
                ..Default::default()
            },
            now,
            Page::first(args.hot_slots as i64),
        )
        .await?
        .iter()
        .map(|s| s.id)
        .collect();
    let hot = Arc::new(hot);
    let sessions = Arc::new(sessions);
    let attempts = hot.len() * c;
    let make_hold = {
        let hot = hot.clone();
        let sessions = sessions.clone();
        let slug = cpts.slug.clone();
        let base = base.clone();
        Arc::new(move |i: usize| {
            let client_index = i % sessions.len();
            let slot = hot[(i / sessions.len() + client_index * 7) % hot.len()];
            let (token, csrf) = &sessions[client_index];
            Request::post(format!(
                "{base}/c/{slug}/soins-non-programmes/creneaux/{slot}/reserver"
            ))
            .header("cookie", format!("maillage_session={token}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Full::new(Bytes::from(format!("csrf={csrf}"))))
            .unwrap_or_else(|_| Request::new(Full::new(Bytes::new())))
        })
    };
    let mut holds = load(&client, c, attempts, make_hold).await;
    let won = holds.statuses.iter().filter(|s| **s == 303).count();
    let lost = holds.statuses.iter().filter(|s| **s == 409).count();
    holds.report("hold under contention (POST, session)");
    println!(
        "  {won} holds won (303), {lost} refused as taken (409), {} slots fought over",
        hot.len()
    );
    let mut doubles = 0;
    let checked_at = maillage_app::clock::now_ms();
    for slot in hot.iter() {
        let live = store
            .bookings_of_slot(cpts.id, *slot)
            .await?
            .iter()
            .filter(|b| b.is_live_at(checked_at))
            .count();
        if live != 1 {
            doubles += 1;
        }
    }
    let _ = server.kill().await;
    if doubles > 0 || won != hot.len() {
        println!(
            "  FAILED: {doubles} slots without exactly one booking; {won} wins for {} slots",
            hot.len()
        );
        return Ok(ExitCode::FAILURE);
    }
    println!("  every hot slot has exactly one booking");
    if FAILED.load(std::sync::atomic::Ordering::Relaxed) {
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("snp-load: {e}");
            ExitCode::FAILURE
        }
    }
}
