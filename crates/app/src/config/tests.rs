//! The configuration's layers, defaults and checks.

use super::*;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn the_printed_default_file_is_exactly_the_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("maillage.toml");
    std::fs::write(&path, default_toml()).unwrap();
    let loaded = Config::load(Some(&path), env(&[]), &[]).unwrap();
    assert_eq!(loaded, Config::default());
}

#[test]
fn wrong_certificates_or_sas_addresses_stop_the_start_naming_the_setting() {
    let refused = |pairs: &[(&str, &str)]| match Config::load(None, env(pairs), &[]) {
        Err(ConfigError::Invalid(message)) => message,
        other => panic!("{other:?}"),
    };
    assert!(
        refused(&[("MAILLAGE_SAS__APPOINTMENT_URL", "http://sas.example/fhir")])
            .contains("sas.appointment_url")
    );
    assert!(refused(&[
        ("MAILLAGE_SAS__APPOINTMENT_URL", "https://sas.example/fhir"),
        ("MAILLAGE_SAS__CLIENT_CERTIFICATE", "/nulle/part.pem"),
    ])
    .contains("sas.client_certificate and sas.client_key"));
    assert!(refused(&[
        ("MAILLAGE_SAS__APPOINTMENT_URL", "https://sas.example/fhir"),
        ("MAILLAGE_SAS__SERVER_CA", "/nulle/part.pem"),
    ])
    .contains("sas.server_ca"));
    assert!(
        refused(&[("MAILLAGE_SERVER__TLS_CERTIFICATE", "/nulle/part.pem")])
            .contains("server.tls_certificate and server.tls_key")
    );
    assert!(
        refused(&[("MAILLAGE_SERVER__TLS_CLIENT_CA", "/nulle/part.pem")])
            .contains("server.tls_client_ca")
    );
    // An address with the public roots and no client certificate is a valid configuration.
    let config = Config::load(
        None,
        env(&[("MAILLAGE_SAS__APPOINTMENT_URL", "https://sas.example/fhir")]),
        &[],
    )
    .unwrap();
    assert!(config.sas.sends_appointments());
}

#[test]
fn layers_override_in_order_file_env_flags() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("maillage.toml");
    std::fs::write(
        &path,
        "[server]\nbind = \"127.0.0.1:9000\"\npublic_url = \"https://cpts.exemple.fr\"\n[jobs]\nworkers = 4\n",
    )
    .unwrap();
    let config = Config::load(
        Some(&path),
        env(&[
            ("MAILLAGE_JOBS__WORKERS", "7"),
            ("MAILLAGE_LOG__FORMAT", "json"),
            ("PATH", "/usr/bin"),
        ]),
        &[(
            "server.bind".into(),
            Value::from("0.0.0.0:8081".to_string()),
        )],
    )
    .unwrap();
    assert_eq!(config.server.bind, "0.0.0.0:8081");
    assert_eq!(config.server.public_url, "https://cpts.exemple.fr");
    assert!(config.server.secure_cookies());
    assert_eq!(config.jobs.workers, 7);
    assert_eq!(config.log.format, LogFormat::Json);
}

#[test]
fn secrets_come_from_files_and_never_print() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("db_url");
    std::fs::write(
        &secret,
        "postgres://maillage:s3cr3t-Pa55@db.local/maillage\n",
    )
    .unwrap();
    let password = dir.path().join("smtp");
    std::fs::write(&password, "123456\n").unwrap();
    let config = Config::load(
        None,
        env(&[
            ("MAILLAGE_DATABASE__URL_FILE", secret.to_str().unwrap()),
            ("MAILLAGE_SMTP__PASSWORD_FILE", password.to_str().unwrap()),
        ]),
        &[],
    )
    .unwrap();
    assert_eq!(
        config.database.url.expose(),
        "postgres://maillage:s3cr3t-Pa55@db.local/maillage"
    );
    assert_eq!(config.smtp.password.expose(), "123456");
    let printed = format!("{config:?}");
    assert!(!printed.contains("s3cr3t"), "{printed}");
    assert!(!printed.contains("123456"), "{printed}");
    assert!(printed.contains("db.local"));
}

#[test]
fn unknown_keys_are_refused_with_their_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("maillage.toml");
    std::fs::write(&path, "[server]\nbnid = \"127.0.0.1:1\"\n").unwrap();
    let error = Config::load(Some(&path), env(&[]), &[])
        .unwrap_err()
        .to_string();
    assert!(error.contains("bnid"), "{error}");

    let error = Config::load(None, env(&[("MAILLAGE_SMTP__HOTS", "x")]), &[])
        .unwrap_err()
        .to_string();
    assert!(error.contains("hots"), "{error}");
}

#[test]
fn bad_values_are_refused_clearly() {
    let error = Config::load(None, env(&[("MAILLAGE_DATABASE__URL", "mysql://x")]), &[])
        .unwrap_err()
        .to_string();
    assert!(error.contains("database.url"), "{error}");
    let error = Config::load(None, env(&[("MAILLAGE_SERVER__BIND", "nowhere")]), &[])
        .unwrap_err()
        .to_string();
    assert!(error.contains("server.bind"), "{error}");
    let missing = Config::load(Some(Path::new("/nonexistent/maillage.toml")), env(&[]), &[]);
    assert!(matches!(missing, Err(ConfigError::Unreadable { .. })));
}

#[test]
fn urls_lose_their_password_in_messages() {
    assert_eq!(
        redacted_url("postgres://u:secret@h:5432/db"),
        "postgres://u:***@h:5432/db"
    );
    assert_eq!(redacted_url("sqlite://./a.db"), "sqlite://./a.db");
}
