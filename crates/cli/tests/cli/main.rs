//! The `maillage` binary as an operator uses it: real processes, real databases.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step should stop the test

use maillage_app::mail::OutgoingMail;
use maillage_store::testing::TestDatabase;
use maillage_store::{JobId, JobStatus, Page};
use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

mod pathways;
mod security;

/// Keys for the commands that need them (fixed for the whole test run).
fn keys() -> (String, String) {
    static KEYS: std::sync::OnceLock<(String, String)> = std::sync::OnceLock::new();
    KEYS.get_or_init(|| {
        (
            format!("t1:{}", maillage_app::crypto::generate_key()),
            maillage_app::crypto::generate_key(),
        )
    })
    .clone()
}

fn audit_key() -> String {
    static KEY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    KEY.get_or_init(|| format!("a1:{}", maillage_app::crypto::generate_key()))
        .clone()
}

fn maillage(database_url: &str, args: &[&str]) -> Output {
    let (data_keys, index_key) = keys();
    Command::new(env!("CARGO_BIN_EXE_maillage"))
        .args(args)
        .env("MAILLAGE_SECURITY__DATA_KEYS", data_keys)
        .env("MAILLAGE_SECURITY__BLIND_INDEX_KEY", index_key)
        .env("MAILLAGE_SECURITY__AUDIT_KEYS", audit_key())
        .env("MAILLAGE_DATABASE__URL", database_url)
        .env_remove("MAILLAGE_CONFIG")
        .current_dir(std::env::temp_dir())
        .output()
        .expect("run maillage")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A `maillage serve` (or `demo`) process whose log lines are collected; killed when dropped.
struct Server {
    child: Child,
    lines: mpsc::Receiver<String>,
    log: Vec<String>,
}

impl Server {
    fn start(args: &[&str], envs: &[(&str, &str)]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_maillage"));
        command
            .args(args)
            .env_remove("MAILLAGE_CONFIG")
            .current_dir(std::env::temp_dir())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (key, value) in envs {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("spawn maillage");
        let (sender, lines) = mpsc::channel();
        for stream in [
            Box::new(child.stderr.take().expect("stderr")) as Box<dyn Read + Send>,
            Box::new(child.stdout.take().expect("stdout")),
        ] {
            let sender = sender.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if sender.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        Self {
            child,
            lines,
            log: Vec::new(),
        }
    }

    /// Waits for a log line containing `needle`.
    fn wait_for(&mut self, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(line) = self.lines.recv_timeout(Duration::from_millis(200)) {
                let found = line.contains(needle);
                self.log.push(line);
                if found {
                    return;
                }
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("maillage exited with {status}:\n{}", self.log.join("\n"));
            }
        }
        panic!("no «{needle}» in the log:\n{}", self.log.join("\n"));
    }

    fn stop(mut self) -> Vec<String> {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        while let Ok(line) = self.lines.recv_timeout(Duration::from_millis(200)) {
            self.log.push(line);
        }
        std::mem::take(&mut self.log)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn every_command_has_help_and_the_default_configuration_prints() {
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["demo", "--help"],
        vec!["migrate", "--help"],
        vec!["user", "create", "--help"],
        vec!["user", "list", "--help"],
        vec!["user", "disable", "--help"],
        vec!["backup", "--help"],
        vec!["healthcheck", "--help"],
        vec!["config", "default", "--help"],
        vec!["token", "create", "--help"],
        vec!["token", "list", "--help"],
        vec!["token", "revoke", "--help"],
    ] {
        let output = maillage("sqlite://./unused.db", &args);
        assert!(output.status.success(), "{args:?}");
        assert!(text(&output.stdout).contains("Usage:"), "{args:?}");
    }
    let output = maillage("sqlite://./unused.db", &["config", "default"]);
    let printed = text(&output.stdout);
    assert!(
        printed.contains("[server]") && printed.contains("[smtp]") && printed.contains("[jobs]")
    );
}

#[test]
fn configuration_mistakes_are_refused_with_the_key_named() {
    let output = Command::new(env!("CARGO_BIN_EXE_maillage"))
        .args(["config", "show"])
        .env("MAILLAGE_SERVER__PROT", "8080")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("prot"),
        "{}",
        text(&output.stderr)
    );

    let output = maillage(
        "postgres://maillage:TopSecret42@db.invalid/x",
        &["config", "show"],
    );
    assert!(output.status.success());
    let shown = text(&output.stdout);
    assert!(!shown.contains("TopSecret42"), "{shown}");
    assert!(shown.contains("db.invalid"));
}

#[tokio::test]
async fn accounts_are_created_listed_and_disabled_from_the_command_line() {
    let database = TestDatabase::sqlite().await.unwrap();
    assert!(maillage(&database.url, &["migrate"]).status.success());
    let dir = tempfile::tempdir().unwrap();
    let password = dir.path().join("password");
    std::fs::write(&password, "un-mot-de-passe-solide\n").unwrap();
    let created = maillage(
        &database.url,
        &[
            "user",
            "create",
            "--email",
            "Admin@Exemple.fr",
            "--name",
            "Admin Exemple",
            "--platform-admin",
            "--password-file",
            password.to_str().unwrap(),
        ],
    );
    assert!(created.status.success(), "{}", text(&created.stderr));
    assert!(!text(&created.stdout).contains("un-mot-de-passe-solide"));

    let generated = maillage(
        &database.url,
        &["user", "create", "--email", "b@exemple.fr", "--name", "B"],
    );
    assert!(text(&generated.stdout).contains("Password (shown once"));

    let short = dir.path().join("short");
    std::fs::write(&short, "court").unwrap();
    let refused = maillage(
        &database.url,
        &[
            "user",
            "create",
            "--email",
            "c@exemple.fr",
            "--name",
            "C",
            "--password-file",
            short.to_str().unwrap(),
        ],
    );
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("mot de passe"),
        "{}",
        text(&refused.stderr)
    );

    let unknown_cpts = maillage(
        &database.url,
        &[
            "user",
            "create",
            "--email",
            "d@exemple.fr",
            "--name",
            "D",
            "--cpts",
            "absente",
            "--role",
            "member",
        ],
    );
    assert!(!unknown_cpts.status.success());

    let listed = text(&maillage(&database.url, &["user", "list"]).stdout);
    assert!(
        listed.contains("admin@exemple.fr\tAdmin Exemple\tplatform-admin"),
        "{listed}"
    );
    assert!(!listed.contains("c@exemple.fr"));

    let disabled = maillage(
        &database.url,
        &["user", "disable", "--email", "b@exemple.fr"],
    );
    assert!(disabled.status.success());
    assert!(text(&maillage(&database.url, &["user", "list"]).stdout)
        .contains("b@exemple.fr\tB\t-\tdisabled"));
}

#[tokio::test]
async fn backups_of_sqlite_are_consistent_copies_and_postgres_points_to_pg_dump() {
    let database = TestDatabase::sqlite().await.unwrap();
    assert!(maillage(&database.url, &["migrate"]).status.success());
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("sauvegarde.db");
    let output = maillage(&database.url, &["backup", target.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let copy = maillage_store::open(&format!("sqlite://{}", target.display()))
        .await
        .unwrap();
    copy.ping().await.unwrap();
    let again = maillage(&database.url, &["backup", target.to_str().unwrap()]);
    assert!(
        !again.status.success(),
        "an existing file is never overwritten"
    );

    if let Some(pg) = TestDatabase::postgres().await.unwrap() {
        let output = maillage(&pg.url, &["backup", "/tmp/never-written.db"]);
        assert_eq!(output.status.code(), Some(2));
        assert!(text(&output.stderr).contains("pg_dump"));
    }
}

#[tokio::test]
async fn the_demo_starts_prints_its_logins_and_answers_health_checks() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let bind = format!("127.0.0.1:{port}");
    let data_dir = dir.path().to_str().unwrap().to_string();
    let mut demo = Server::start(&["demo", "--data-dir", &data_dir, "--bind", &bind], &[]);
    demo.wait_for("Maillage is serving");
    let health = Command::new(env!("CARGO_BIN_EXE_maillage"))
        .args(["healthcheck", "--url", &format!("http://{bind}")])
        .output()
        .unwrap();
    assert!(health.status.success(), "{}", text(&health.stderr));
    let log = demo.stop().join("\n");
    assert!(log.contains("demo created"));
    assert!(log.contains("coordination@camargue.test"));
    assert!(log.contains("Password for every demo account: demo-maillage-2026"));
    assert!(dir.path().join("demo.db").exists());

    let down = Command::new(env!("CARGO_BIN_EXE_maillage"))
        .args(["healthcheck", "--url", &format!("http://{bind}")])
        .output()
        .unwrap();
    assert!(!down.status.success(), "nothing listens any more");

    let mut again = Server::start(&["demo", "--data-dir", &data_dir, "--bind", &bind], &[]);
    again.wait_for("Maillage is serving");
    assert!(again.stop().join("\n").contains("demo already present"));
}

/// Two `maillage serve` processes share one PostgreSQL: every job runs exactly once, both take part,
/// and neither writes the database password in its logs.
#[tokio::test]
async fn two_instances_share_the_job_queue_without_running_a_job_twice() {
    let Some(database) = TestDatabase::postgres().await.unwrap() else {
        eprintln!("TEST_POSTGRES_URL not set: PostgreSQL test skipped outside CI");
        return;
    };
    // The test server trusts loopback connections, so the password is accepted whatever it is:
    // it is there to prove that it never reaches the logs.
    let mut url = url::Url::parse(&database.url).unwrap();
    url.set_password(Some("Pa55-never-logged")).unwrap();
    let url = url.to_string();
    let store = maillage_store::open(&url).await.unwrap();

    let (data_keys, index_key) = keys();
    let envs = |format: &'static str| {
        vec![
            ("MAILLAGE_SECURITY__DATA_KEYS", data_keys.clone()),
            ("MAILLAGE_SECURITY__BLIND_INDEX_KEY", index_key.clone()),
            ("MAILLAGE_DATABASE__URL", url.clone()),
            ("MAILLAGE_JOBS__WORKERS", "2".to_string()),
            ("MAILLAGE_JOBS__POLL_INTERVAL_MS", "20".to_string()),
            ("MAILLAGE_LOG__FORMAT", format.to_string()),
            ("MAILLAGE_LOG__LEVEL", "debug".to_string()),
        ]
    };
    let start = |format: &'static str| {
        let env = envs(format);
        let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let bind = format!("127.0.0.1:{}", free_port());
        Server::start(&["serve", "--bind", &bind], &pairs)
    };
    let mut first = start("json");
    let mut second = start("text");
    first.wait_for("Maillage is serving");
    second.wait_for("Maillage is serving");

    let keyring = maillage_app::crypto::Keyring::from_config(&data_keys, &index_key).unwrap();
    let total = 300;
    let mut ids: Vec<JobId> = Vec::new();
    for i in 0..total {
        let mail = OutgoingMail {
            to: format!("pro{i}@exemple.fr"),
            subject: format!("Message {i}"),
            body: "Bonjour".into(),
            cpts_id: None,
        };
        ids.push(
            maillage_app::mail::queue(store.as_ref(), &keyring, &mail, 3)
                .await
                .unwrap(),
        );
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let counts = store.job_counts().await.unwrap();
        let done = counts
            .iter()
            .find(|(s, _)| s == "done")
            .map(|(_, c)| *c)
            .unwrap_or(0);
        if done == total {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "jobs not done in time: {counts:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut processes = HashSet::new();
    for id in &ids {
        let job = store.find_job(*id).await.unwrap().unwrap();
        assert_eq!(job.status, JobStatus::Done);
        assert_eq!(job.attempts, 1, "job {id} was claimed more than once");
        let worker = job.locked_by.unwrap();
        processes.insert(worker.split('#').next().unwrap().to_string());
    }
    assert_eq!(processes.len(), 2, "both instances ran jobs: {processes:?}");
    assert_eq!(store.count_outbox().await.unwrap(), total);
    assert_eq!(
        store.list_outbox(Page::first(500)).await.unwrap().len(),
        total as usize
    );

    for log in [first.stop(), second.stop()] {
        let log = log.join("\n");
        assert!(log.contains("job done"), "debug logs were collected");
        assert!(
            !log.contains("Pa55-never-logged"),
            "password in logs:\n{log}"
        );
        assert!(
            !log.contains("pro1@exemple.fr"),
            "recipient address in logs"
        );
    }
}

#[test]
fn territory_population_reports_communes_unknown_codes_and_the_size_category() {
    let demo = [
        "30003", "30006", "30020", "30033", "30036", "30128", "30059", "30169", "30276", "30341",
    ];
    let mut args = vec!["territory", "population", "--json"];
    args.extend(demo);
    let output = maillage("sqlite://./unused.db", &args);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["communes"].as_array().unwrap().len(), 10);
    assert_eq!(report["population"], 54_291);
    assert_eq!(report["size_category"], 2);
    assert_eq!(report["unknown"], serde_json::json!([]));

    let output = maillage(
        "sqlite://./unused.db",
        &[
            "territory",
            "population",
            "--json",
            "13055",
            "75056",
            "99999",
            "7505",
        ],
    );
    assert_eq!(
        output.status.code(),
        Some(1),
        "unknown codes are not ignored"
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["population"], 886_040 + 2_103_778);
    assert_eq!(report["size_category"], 4);
    let unknown: Vec<&str> = report["unknown"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["code"].as_str().unwrap())
        .collect();
    assert_eq!(unknown, vec!["99999", "7505"]);

    let text_output = text(
        &maillage(
            "sqlite://./unused.db",
            &["territory", "population", "30341"],
        )
        .stdout,
    );
    assert!(text_output.contains("30341  Vauvert"));
    assert!(text_output.contains("ACI size category: 1"));
}

#[tokio::test]
async fn the_directory_import_reports_progress_counts_and_rejected_lines() {
    let dir = tempfile::tempdir().unwrap();
    let database = TestDatabase::sqlite().await.unwrap();
    let store = maillage_store::open(&database.url).await.unwrap();
    let cpts = maillage_store::testing::make_cpts(store.as_ref(), "camargue").await;
    store
        .add_to_territory(cpts.id, &["30341".to_string(), "30003".to_string()], 0)
        .await
        .unwrap();
    let file = dir.path().join("PS_LibreAcces_Personne_activite_test.txt");
    let mut bytes = Vec::new();
    maillage_app::directory::synthetic::write_extract(
        &mut bytes,
        &maillage_app::directory::synthetic::ExtractSpec {
            rows: 400,
            seed: 3,
            communes: &[("30341", "30600"), ("30003", "30220")],
            elsewhere: &[("34145", "34400")],
            local_percent: 50,
            latin1: true,
        },
    )
    .unwrap();
    bytes.extend_from_slice(b"8|1|||||||||\r\n");
    std::fs::write(&file, bytes).unwrap();

    let first = maillage(
        &database.url,
        &[
            "import",
            "directory",
            "--cpts",
            "camargue",
            file.to_str().unwrap(),
        ],
    );
    assert!(first.status.success(), "{}", text(&first.stderr));
    let printed = text(&first.stdout);
    assert!(printed.contains("lines read: 402"), "{printed}");
    assert!(printed.contains("rejected lines: 1"), "{printed}");
    assert!(printed.contains("line 402: ligne"), "{printed}");
    assert!(text(&first.stderr).contains("100 %"), "progress is shown");
    let created = store.count_professionals(cpts.id).await.unwrap();
    assert!(created > 20);

    let second = maillage(
        &database.url,
        &[
            "import",
            "directory",
            "--cpts",
            "camargue",
            file.to_str().unwrap(),
        ],
    );
    assert!(
        text(&second.stdout).contains(&format!("0 created, 0 updated, {created} unchanged")),
        "{}",
        text(&second.stdout)
    );
    let trail = store
        .list_audit(
            maillage_store::AuditScope::Cpts(cpts.id),
            &Default::default(),
            Page::first(10),
        )
        .await
        .unwrap();
    assert_eq!(
        trail
            .iter()
            .filter(|e| e.entry.action == "directory_imported")
            .count(),
        2
    );

    let unknown = maillage(
        &database.url,
        &[
            "import",
            "directory",
            "--cpts",
            "absente",
            file.to_str().unwrap(),
        ],
    );
    assert!(!unknown.status.success());
}

#[test]
fn match_assigns_within_capacities_and_explains_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let problem = dir.path().join("probleme.json");
    std::fs::write(
        &problem,
        r#"{"max_distance_km": 30,
            "requests": [{"id": "r1", "commune": "30003", "weight": 5},
                         {"id": "r2", "commune": "30276", "weight": 2},
                         {"id": "r3", "lat": 48.85, "lon": 2.35, "weight": 9}],
            "doctors": [{"id": "d1", "commune": "30341", "capacity": 1, "max_distance_km": 20}]}"#,
    )
    .unwrap();
    let output = maillage(
        "sqlite://./unused.db",
        &["match", "--input", problem.to_str().unwrap(), "--json"],
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let solution: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    // One place: the heavier request of the two in reach wins; Paris is out of reach.
    assert_eq!(solution["assignments"][0]["request"], "r1");
    assert_eq!(solution["assignments"][0]["doctor"], "d1");
    assert_eq!(solution["total_weight"], 5);
    assert_eq!(solution["unassigned"], serde_json::json!(["r2", "r3"]));

    std::fs::write(
        &problem,
        r#"{"max_distance_km": 30, "requests": [{"id": "r1", "commune": "30003"}], "doctors": []}"#,
    )
    .unwrap();
    let refused = maillage(
        "sqlite://./unused.db",
        &["match", "--input", problem.to_str().unwrap()],
    );
    assert_eq!(refused.status.code(), Some(2));
    assert!(text(&refused.stderr).contains("weight manque"));
}

#[tokio::test]
async fn the_sas_token_is_issued_listed_and_revoked_from_the_command_line() {
    let database = TestDatabase::sqlite().await.unwrap();
    assert!(maillage(&database.url, &["migrate"]).status.success());
    let store = maillage_store::open(&database.url).await.unwrap();
    store
        .create_cpts(
            &maillage_store::NewCpts {
                slug: "cpts-essai".into(),
                name: "CPTS d'essai".into(),
                finess: None,
                siret: None,
            },
            0,
        )
        .await
        .unwrap();
    let created = maillage(
        &database.url,
        &[
            "token",
            "create",
            "--cpts",
            "cpts-essai",
            "--scope",
            "fhir:read",
            "--name",
            "SAS 30",
        ],
    );
    assert!(created.status.success(), "{}", text(&created.stderr));
    let secret = text(&created.stdout).trim().to_string();
    assert!(secret.starts_with("mlg_") && secret.len() == 68, "{secret}");
    let token = maillage_app::tokens::authenticate(store.as_ref(), &secret, "fhir:read")
        .await
        .unwrap()
        .expect("the printed secret opens the API");
    let listed = text(&maillage(&database.url, &["token", "list", "--cpts", "cpts-essai"]).stdout);
    assert!(
        listed.contains(&format!("{}\tSAS 30\t", token.id)) && listed.contains("live"),
        "{listed}"
    );
    assert_eq!(
        maillage(
            &database.url,
            &["token", "create", "--cpts", "cpts-essai", "--scope", "ical"]
        )
        .status
        .code(),
        Some(2)
    );
    assert!(
        !maillage(&database.url, &["token", "create", "--cpts", "absente"])
            .status
            .success()
    );
    let id = token.id.to_string();
    assert!(maillage(
        &database.url,
        &["token", "revoke", "--cpts", "cpts-essai", &id]
    )
    .status
    .success());
    assert!(
        maillage_app::tokens::authenticate(store.as_ref(), &secret, "fhir:read")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        text(&maillage(&database.url, &["token", "list", "--cpts", "cpts-essai"]).stdout)
            .contains("revoked")
    );
    assert!(!maillage(
        &database.url,
        &["token", "revoke", "--cpts", "cpts-essai", &id]
    )
    .status
    .success());
}
