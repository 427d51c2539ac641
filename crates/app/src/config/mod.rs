//! Configuration, in layers: built-in defaults → `maillage.toml` → `MAILLAGE_…` environment variables
//! (`MAILLAGE_SECTION__KEY`, and `…_FILE` to read a secret from a file) → command-line flags.
//! Unknown keys are refused so that a typo cannot silently leave a setting at its default.

use figment::providers::{Format, Serialized, Toml};
pub use figment::value::Value;
use figment::Figment;
use maillage_domain::Sensitive;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};

mod tls;
pub use tls::{server_tls, SasConfig};

pub const ENV_PREFIX: &str = "MAILLAGE_";
pub const CONFIG_FILE_VARIABLE: &str = "MAILLAGE_CONFIG";
pub const DEFAULT_FILE: &str = "maillage.toml";
pub const DEFAULT_DATABASE_URL: &str = "sqlite://./maillage-data/maillage.db";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub log: LogConfig,
    pub security: SecurityConfig,
    pub smtp: SmtpConfig,
    pub jobs: JobsConfig,
    pub territory: TerritoryConfig,
    pub doctor_search: DoctorSearchConfig,
    pub unscheduled_care: UnscheduledCareConfig,
    pub sas: SasConfig,
}

#[allow(clippy::derivable_impls)]
impl Default for Config {
    fn default() -> Self {
        Self {
            server: ServerConfig::default(),
            database: DatabaseConfig::default(),
            log: LogConfig::default(),
            security: SecurityConfig::default(),
            smtp: SmtpConfig::default(),
            jobs: JobsConfig::default(),
            territory: TerritoryConfig::default(),
            doctor_search: DoctorSearchConfig::default(),
            unscheduled_care: UnscheduledCareConfig::default(),
            sas: SasConfig::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address and port the HTTP server listens on.
    pub bind: String,
    /// Address users reach Maillage at (used in e-mailed links and to decide on `Secure` cookies).
    pub public_url: String,
    /// Reverse proxies (addresses or networks) whose `X-Forwarded-For` hops are believed; the client is the
    /// rightmost hop that is not one of them (see [`crate::proxies`]). Empty: the socket peer is the client.
    pub trusted_proxies: Vec<String>,
    /// The header in which the reverse proxy that verified the SAS's IGC-Santé client certificate (mutual TLS)
    /// forwards it, PEM and URL-encoded (nginx: `$ssl_client_escaped_cert`). Believed only from a trusted
    /// proxy. Empty: no client certificate is read.
    pub client_certificate_header: String,
    /// TLS terminated by `maillage serve` itself: its certificate chain and private key (PEM files); both
    /// empty: plain HTTP (behind a reverse proxy).
    pub tls_certificate: String,
    pub tls_key: String,
    /// Roots (PEM) the clients' certificates are verified against (the IGC-Santé's, for the SAS); empty: no
    /// client certificate is asked for.
    pub tls_client_ca: String,
}

impl ServerConfig {
    /// The public address without a trailing slash, ready for a path to be appended.
    pub fn base_url(&self) -> &str {
        self.public_url.trim_end_matches('/')
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".into(),
            public_url: "http://127.0.0.1:8080".into(),
            trusted_proxies: Vec::new(),
            client_certificate_header: String::new(),
            tls_certificate: String::new(),
            tls_key: String::new(),
            tls_client_ca: String::new(),
        }
    }
}

impl ServerConfig {
    /// The trusted proxies, parsed (validated when the configuration loaded).
    pub fn proxies(&self) -> crate::proxies::TrustedProxies {
        crate::proxies::TrustedProxies::parse(&self.trusted_proxies).unwrap_or_default()
    }

    /// Cookies get `Secure` when users reach Maillage over TLS.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// `sqlite://path/to/file.db` (default) or `postgres://user:password@host/base`.
    pub url: Sensitive<String>,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: Sensitive::new(DEFAULT_DATABASE_URL.into()),
        }
    }
}

impl fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseConfig")
            .field("url", &redacted_url(self.url.expose()))
            .finish()
    }
}

/// The database URL without its password, for logs and messages.
pub fn redacted_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        Ok(parsed) => parsed.to_string(),
        Err(_) => url.split('?').next().unwrap_or_default().to_string(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `text` for people, `json` for log collectors.
    pub format: LogFormat,
    /// tracing filter, e.g. `info` or `maillage=debug,info`.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Text,
            level: "info".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SecurityConfig {
    /// A session ends after this many minutes without activity.
    pub session_idle_minutes: i64,
    /// A session ends this many hours after login, used or not.
    pub session_absolute_hours: i64,
    /// Keys that encrypt patient identities and second-factor secrets: `id:base64`, comma-separated,
    /// the first one encrypts, the others still decrypt (key rotation). `maillage keys generate` makes one.
    pub data_keys: Sensitive<String>,
    /// Key of the blind index used to find duplicate patients without decrypting (base64, 32 bytes).
    pub blind_index_key: Sensitive<String>,
    /// Keys of the audit chain's MAC, `id:base64` comma-separated like `data_keys` (the first one writes, the
    /// others still verify). Empty: entries get a plain SHA-256, which someone able to write to the database
    /// could recompute.
    pub audit_keys: Sensitive<String>,
    /// File the hourly signed checkpoint of the audit chains is appended to (besides the log line); empty: log
    /// line only. Keep it off the database server, or ship it elsewhere.
    pub audit_checkpoint_file: String,
    /// Failed logins on one account within 15 minutes before it is locked.
    pub login_lock_after: i64,
    /// How long a locked account (or address) stays locked, in minutes.
    pub login_lock_minutes: i64,
    /// Validity of an e-mailed password reset link, in minutes.
    pub reset_link_minutes: i64,
}

impl Default for SecurityConfig {
    fn default() -> Self {
        Self {
            session_idle_minutes: 30,
            session_absolute_hours: 12,
            data_keys: Sensitive::default(),
            blind_index_key: Sensitive::default(),
            audit_keys: Sensitive::default(),
            audit_checkpoint_file: String::new(),
            login_lock_after: 10,
            login_lock_minutes: 15,
            reset_link_minutes: 60,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain connection (a relay on the same machine or LAN).
    None,
    /// Upgrade with STARTTLS (usually port 587).
    Starttls,
    /// TLS from the start (usually port 465).
    Tls,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpConfig {
    /// SMTP server; when empty, e-mails go to the outbox that platform administrators read in the UI.
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub username: String,
    pub password: Sensitive<String>,
    /// Sender address of every e-mail.
    pub from: String,
    /// Messages of the outbox are reduced to their subject and date after this many days.
    pub outbox_keep_days: i64,
    /// The outbox page shows addresses and links in full: for the demo only (set by `maillage demo`), where
    /// the outbox stands in for the fictitious people's mailboxes. Never on a real platform.
    pub outbox_shows_links: bool,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        Self {
            host: String::new(),
            port: 587,
            tls: SmtpTls::Starttls,
            username: String::new(),
            password: Sensitive::default(),
            from: "Maillage <ne-pas-repondre@maillage.invalid>".into(),
            outbox_keep_days: 30,
            outbox_shows_links: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UnscheduledCareConfig {
    /// Slots one person may hold at once while calling the patient back (a hold lasts a few minutes).
    pub max_live_holds: i64,
}

impl Default for UnscheduledCareConfig {
    fn default() -> Self {
        Self { max_live_holds: 3 }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JobsConfig {
    /// Jobs run at once by this process (0: this process runs no job).
    pub workers: usize,
    /// How often an idle worker looks for due jobs, in milliseconds.
    pub poll_interval_ms: u64,
    /// A job not finished within this many seconds is taken over by another worker.
    pub lease_seconds: i64,
    /// Attempts before a job is marked failed.
    pub max_attempts: i64,
    /// Finished jobs (their payload already emptied) are removed after this many days.
    pub keep_finished_days: i64,
}

impl Default for JobsConfig {
    fn default() -> Self {
        Self {
            workers: 2,
            poll_interval_ms: 1_000,
            lease_seconds: 300,
            max_attempts: 5,
            keep_finished_days: 30,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct TerritoryConfig {
    /// Populations separating the ACI size categories 1|2, 2|3 and 3|4.
    pub size_thresholds: maillage_domain::territory::SizeThresholds,
}

/// The médecin traitant mission: retention, reminders, links, and how patients are told.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DoctorSearchConfig {
    /// Closed, withdrawn or redirected requests are anonymised this many months after they ended.
    pub retention_months: u32,
    /// A GP whose declaration is older than this is reminded to refresh it.
    pub capacity_stale_days: u32,
    /// How long a proposal's link stays valid for the GP.
    pub proposal_valid_days: u32,
    /// Where SMS messages to patients are posted as JSON (`{"to": …, "message": …}`); empty: no SMS.
    pub sms_webhook_url: String,
}

impl Default for DoctorSearchConfig {
    fn default() -> Self {
        Self {
            retention_months: 12,
            capacity_stale_days: 60,
            proposal_valid_days: 14,
            sms_webhook_url: String::new(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Invalid(String),
    #[error("configuration: cannot read {path}: {source}")]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl From<figment::Error> for ConfigError {
    fn from(error: figment::Error) -> Self {
        // figment's messages name the key and the layer it came from ("unknown field `prot` … in maillage.toml").
        let messages: Vec<String> = error.into_iter().map(|e| e.to_string()).collect();
        ConfigError::Invalid(messages.join("; "))
    }
}

/// One value given on the command line, as a dotted key (`server.bind`) and its value.
pub type Override = (String, Value);

/// `MAILLAGE_SERVER__BIND=…` becomes `server.bind`; `MAILLAGE_SMTP__PASSWORD_FILE=/run/secrets/smtp`
/// becomes `smtp.password` with the file's content (without its final newline).
fn environment_layer(env: &[(String, String)]) -> Result<Vec<(String, Value)>, ConfigError> {
    let mut layer = Vec::new();
    for (name, raw) in env {
        let Some(key) = name.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        if name == CONFIG_FILE_VARIABLE {
            continue;
        }
        let key = key.to_ascii_lowercase();
        if let Some(key) = key.strip_suffix("_file") {
            let content =
                std::fs::read_to_string(raw).map_err(|source| ConfigError::Unreadable {
                    path: PathBuf::from(raw),
                    source,
                })?;
            let secret = content.strip_suffix('\n').unwrap_or(&content);
            let secret = secret.strip_suffix('\r').unwrap_or(secret);
            // A secret stays text even when it looks like a number.
            layer.push((key.replace("__", "."), Value::from(secret.to_string())));
        } else {
            let value = raw
                .parse::<Value>()
                .unwrap_or_else(|_| Value::from(raw.clone()));
            layer.push((key.replace("__", "."), value));
        }
    }
    Ok(layer)
}

impl Config {
    /// Loads the layers in order. `file` is the TOML file to read (absent file: only when not named
    /// explicitly), `env` the process environment, `overrides` the command-line flags.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
        overrides: &[Override],
    ) -> Result<Self, ConfigError> {
        let env: Vec<(String, String)> = env.into_iter().collect();
        let mut figment = Figment::from(Serialized::defaults(Config::default()));

        let named = file.map(Path::to_path_buf).or_else(|| {
            env.iter()
                .find(|(k, v)| k == CONFIG_FILE_VARIABLE && !v.is_empty())
                .map(|(_, v)| PathBuf::from(v))
        });
        match named {
            Some(path) if !path.is_file() => {
                return Err(ConfigError::Unreadable {
                    path,
                    source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
                });
            }
            Some(path) => figment = figment.merge(Toml::file_exact(path)),
            None if Path::new(DEFAULT_FILE).is_file() => {
                figment = figment.merge(Toml::file_exact(DEFAULT_FILE));
            }
            None => {}
        }

        for (key, value) in environment_layer(&env)? {
            figment = figment.merge(Serialized::global(&key, value));
        }
        for (key, value) in overrides {
            figment = figment.merge(Serialized::global(key, value.clone()));
        }
        let config: Config = figment.extract()?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if let Err(message) = crate::proxies::TrustedProxies::parse(&self.server.trusted_proxies) {
            return Err(ConfigError::Invalid(format!(
                "server.trusted_proxies: {message}"
            )));
        }
        let url = self.database.url.expose();
        if !(url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            return Err(ConfigError::Invalid(format!(
                "database.url must start with sqlite:// or postgres:// (got {})",
                redacted_url(url)
            )));
        }
        if self.server.bind.parse::<std::net::SocketAddr>().is_err() {
            return Err(ConfigError::Invalid(format!(
                "server.bind must be an address and port such as 127.0.0.1:8080 (got {})",
                self.server.bind
            )));
        }
        if url::Url::parse(&self.server.public_url).is_err() {
            return Err(ConfigError::Invalid(format!(
                "server.public_url must be a full URL such as https://cpts.example.fr (got {})",
                self.server.public_url
            )));
        }
        let server = &self.server;
        server_tls(
            &server.tls_certificate,
            &server.tls_key,
            &server.tls_client_ca,
        )
        .map_err(ConfigError::Invalid)?;
        self.sas.check().map_err(ConfigError::Invalid)?;
        let search = &self.doctor_search;
        if !(1..=120).contains(&search.retention_months)
            || !(7..=365).contains(&search.capacity_stale_days)
            || !(1..=90).contains(&search.proposal_valid_days)
        {
            return Err(ConfigError::Invalid(
                "doctor_search: retention_months 1–120, capacity_stale_days 7–365, proposal_valid_days 1–90"
                    .into(),
            ));
        }
        if !search.sms_webhook_url.is_empty()
            && !matches!(
                url::Url::parse(&search.sms_webhook_url)
                    .map(|u| u.scheme().to_string())
                    .as_deref(),
                Ok("http") | Ok("https")
            )
        {
            return Err(ConfigError::Invalid(
                "doctor_search.sms_webhook_url must be an http:// or https:// address".into(),
            ));
        }
        self.territory.size_thresholds.check().map_err(|e| {
            ConfigError::Invalid(format!("territory.size_thresholds: {}", e.message))
        })?;
        if self.security.login_lock_after < 3
            || self.security.login_lock_minutes < 1
            || self.security.reset_link_minutes < 5
        {
            return Err(ConfigError::Invalid(
                "security.login_lock_after must be at least 3, security.login_lock_minutes at least 1, \
                 security.reset_link_minutes at least 5"
                    .into(),
            ));
        }
        if self.security.session_idle_minutes < 1 || self.security.session_absolute_hours < 1 {
            return Err(ConfigError::Invalid(
                "security.session_idle_minutes and security.session_absolute_hours must be at least 1".into(),
            ));
        }
        if self.jobs.lease_seconds < 1
            || self.jobs.max_attempts < 1
            || self.jobs.poll_interval_ms < 10
        {
            return Err(ConfigError::Invalid(
                "jobs.lease_seconds and jobs.max_attempts must be at least 1, jobs.poll_interval_ms at least 10".into(),
            ));
        }
        Ok(())
    }
}

impl Config {
    /// This configuration with freshly generated encryption keys (tests, first setup).
    pub fn with_new_keys(mut self) -> Self {
        self.security.data_keys = Sensitive::new(format!("k1:{}", crate::crypto::generate_key()));
        self.security.blind_index_key = Sensitive::new(crate::crypto::generate_key());
        self.security.audit_keys = Sensitive::new(format!("a1:{}", crate::crypto::generate_key()));
        self
    }

    /// The keyring the security settings describe.
    /// The audit chain's keys (none when `security.audit_keys` is empty).
    pub fn audit_keys(
        &self,
    ) -> Result<maillage_domain::audit::AuditKeys, crate::crypto::CryptoError> {
        let keys =
            crate::crypto::parse_keys(self.security.audit_keys.expose(), "security.audit_keys")?;
        Ok(maillage_domain::audit::AuditKeys::new(
            keys.into_iter()
                .map(|(id, key)| (id, key.to_vec()))
                .collect(),
        ))
    }

    pub fn keyring(&self) -> Result<crate::crypto::Keyring, crate::crypto::CryptoError> {
        crate::crypto::Keyring::from_config(
            self.security.data_keys.expose(),
            self.security.blind_index_key.expose(),
        )
    }
}

/// The commented default file printed by `maillage config default`.
pub fn default_toml() -> &'static str {
    DEFAULT_TOML
}

const DEFAULT_TOML: &str = r#"# maillage.toml — configuration of Maillage.
#
# Layers, each overriding the one before: these defaults, this file, environment variables, command-line flags.
# Every key can be set from the environment as MAILLAGE_<SECTION>__<KEY>, e.g. MAILLAGE_SERVER__BIND=0.0.0.0:8080.
# Secrets can be read from a file instead: MAILLAGE_DATABASE__URL_FILE=/run/secrets/db_url,
# MAILLAGE_SMTP__PASSWORD_FILE=/run/secrets/smtp_password. Unknown keys are refused.

[server]
# Address and port the HTTP server listens on. Behind a reverse proxy keep it on 127.0.0.1.
bind = "127.0.0.1:8080"
# Address users reach Maillage at: used in e-mailed links; https:// makes cookies Secure.
public_url = "http://127.0.0.1:8080"
# Reverse proxies whose X-Forwarded-For is believed, as addresses or networks, e.g. ["127.0.0.1", "10.0.0.0/8"].
# The client is the rightmost address of X-Forwarded-For that is not one of them. Empty: no proxy is trusted.
trusted_proxies = []
# Header carrying the SAS's verified client certificate from the reverse proxy (empty: none read).
client_certificate_header = ""
# TLS terminated by Maillage itself (no reverse proxy): certificate chain and private key, PEM files. Both empty:
# plain HTTP.
tls_certificate = ""
tls_key = ""
# Roots (PEM) client certificates are verified against — the IGC-Santé's, for the SAS's mutual TLS. Empty: no
# client certificate is asked for.
tls_client_ca = ""

[database]
# sqlite://path/to/file.db (one CPTS on a small server) or postgres://user:password@host/base (a region,
# several `maillage serve` instances sharing one database). Prefer MAILLAGE_DATABASE__URL_FILE for a password.
url = "sqlite://./maillage-data/maillage.db"

[log]
# "text" for people, "json" for log collectors. Logs never contain personal data.
format = "text"
# tracing filter: "info", "debug", "maillage_web=debug,info"…
level = "info"

[security]
# A session ends after this many minutes without activity…
session_idle_minutes = 30
# …and in any case this many hours after login.
session_absolute_hours = 12
# Keys encrypting patient identities and second-factor secrets, never stored in the database:
# "id:base64key", comma-separated; the first encrypts, the others still decrypt (rotation: put a new key first,
# then run `maillage keys rotate`). Generate with `maillage keys generate`. Prefer MAILLAGE_SECURITY__DATA_KEYS_FILE.
# `maillage serve` refuses to start without them.
data_keys = ""
# Key of the blind index that finds duplicate patients without decrypting (base64, 32 bytes).
# Prefer MAILLAGE_SECURITY__BLIND_INDEX_KEY_FILE.
blind_index_key = ""
# Keys of the audit chain's MAC (id:base64, comma-separated, the first writes): without one, someone able to
# write to the database could recompute the chain. `maillage keys generate` makes one.
audit_keys = ""
# File the hourly signed checkpoint of the audit chains is appended to (also written as a log line). Keep it
# off the database server; `maillage audit verify --checkpoint FILE` checks the chains against it.
audit_checkpoint_file = ""
# Failed logins on one account within 15 minutes before it is locked, and for how many minutes.
login_lock_after = 10
login_lock_minutes = 15
# Validity of an e-mailed password reset link, in minutes.
reset_link_minutes = 60

[smtp]
# SMTP server for e-mails. Empty: e-mails go to an outbox that platform administrators read in Maillage.
host = ""
port = 587
# "none", "starttls" or "tls".
tls = "starttls"
username = ""
password = ""
from = "Maillage <ne-pas-repondre@maillage.invalid>"
# Messages of the outbox are reduced to their subject and date after this many days.
outbox_keep_days = 30
# Show addresses and links in full on the outbox page: for the demo only (a live link there would let a
# platform administrator take over someone's account).
outbox_shows_links = false

[jobs]
# Background jobs (e-mails, reminders, alerts, purges) run by this process; 0 to run none here.
workers = 2
# How often an idle worker looks for due jobs, in milliseconds.
poll_interval_ms = 1000
# A job not finished within this many seconds is taken over by another worker (crashed process).
lease_seconds = 300
# Attempts before a job is marked failed; retries wait longer each time.
max_attempts = 5
# Finished jobs (their payload already emptied) are removed after this many days.
keep_finished_days = 30

[unscheduled_care]
# Slots one person may hold at once while calling the patient back (a hold lasts a few minutes).
max_live_holds = 3

[sas]
# Base of the SAS platform's FHIR API, e.g. https://…/fhir: the appointments booked from the SAS (origin
# "Régulation du SAS") are sent to [base]/Appointment, then updated (cancelled, honoured, not honoured).
# Empty: none is sent.
appointment_url = ""
# Maillage's IGC-Santé client certificate (PEM, with its chain) and its private key, for mutual TLS.
client_certificate = ""
client_key = ""
# Certificates (PEM) the SAS platform's must chain to; empty: the public web roots.
server_ca = ""
# System of the appointments' identifier: the editor's OID (urn:oid:…) or a URL of its own; empty:
# <server.public_url>/fhir/rendez-vous.
identifier_system = ""

[territory]
# Populations separating the ACI size categories: 1 below the first, 2 from it and below the second,
# 3 from the second up to the third included, 4 above the third.
size_thresholds = [40000, 80000, 175000]

[doctor_search]
# Closed, withdrawn or redirected requests for a médecin traitant are anonymised this many months later.
retention_months = 12
# GPs whose declared room for new patients is older than this many days get a reminder by e-mail.
capacity_stale_days = 60
# Days a GP's link to answer a proposal stays valid.
proposal_valid_days = 14
# Address receiving SMS messages to patients as JSON {"to": "+33…", "message": "…"} (an SMS gateway's
# webhook); empty: patients are told by e-mail only.
sms_webhook_url = ""
"#;

#[cfg(test)]
mod tests;
