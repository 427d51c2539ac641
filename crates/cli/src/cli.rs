use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Maillage — the platform of a CPTS (Communauté Professionnelle Territoriale de Santé).
///
/// Configuration comes from built-in defaults, then maillage.toml (or --config), then MAILLAGE_…
/// environment variables, then these flags. `maillage config default` prints a commented file.
#[derive(Debug, Parser)]
#[command(name = "maillage", version, propagate_version = true)]
pub struct Cli {
    /// Configuration file (default: ./maillage.toml when it exists; or MAILLAGE_CONFIG).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Database URL: sqlite://path/file.db or postgres://user@host/base (prefer MAILLAGE_DATABASE__URL_FILE
    /// for a URL with a password: command lines are visible to other users of the machine).
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,

    /// Log format.
    #[arg(long, global = true, value_enum)]
    pub log_format: Option<LogFormatArg>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormatArg {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the web application and run background jobs.
    Serve(ServeArgs),
    /// Create (on first run) and serve a demo CPTS with fictitious accounts for every role.
    Demo(DemoArgs),
    /// Apply the database migrations embedded in this binary.
    Migrate,
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Write a consistent snapshot of the SQLite database while Maillage runs (PostgreSQL: use pg_dump).
    Backup {
        /// File to create (it must not exist).
        file: PathBuf,
    },
    /// Exit 0 when the running server answers /healthz with status ok (for container health checks).
    Healthcheck {
        /// Base URL of the server (default: http:// + server.bind).
        #[arg(long)]
        url: Option<String>,
    },
    /// Configuration helpers.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// The audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Imports into a CPTS's directory.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Optimal assignment of patients without a médecin traitant to general practitioners: maximises the total
    /// priority weight of the matched requests, then minimises the total great-circle distance, within the
    /// doctors' capacities and the distance limits. Input and output are documented in docs/matching.md.
    Match {
        /// The problem: {"max_distance_km": 30, "requests": [{"id", "commune" | "lat"+"lon", "weight"}],
        /// "doctors": [{"id", "commune" | "lat"+"lon", "capacity", "max_distance_km"?}]}.
        #[arg(long)]
        input: PathBuf,
        /// Print JSON: {"assignments": [{"request", "doctor", "distance_km"}], "unassigned": […],
        /// "total_weight": N, "total_distance_km": X}.
        #[arg(long)]
        json: bool,
    },
    /// Communes and territories (reference table compiled into this binary).
    #[command(subcommand)]
    Territory(TerritoryCommand),
    /// Encryption keys of patient identities and second-factor secrets.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Access tokens of a CPTS: the SAS platform reads the free slots over FHIR with one (docs/soins-non-programmes.md).
    #[command(subcommand)]
    Token(TokenCommand),
    /// SAS platforms let in by their IGC-Santé client certificate (mutual TLS), for one or several CPTS.
    #[command(subcommand, name = "sas-client")]
    SasClient(SasClientCommand),
    /// Care pathway templates: their steps' windows, their JSON files (docs/parcours.md).
    #[command(subcommand)]
    Pathway(crate::pathways::PathwayCommand),
    /// Screening instruments of the pathways: list and score (docs/parcours.md).
    #[command(subcommand)]
    Instrument(crate::pathways::InstrumentCommand),
}

#[derive(Debug, Subcommand)]
pub enum SasClientCommand {
    /// Register a SAS client by its certificate's Common Name and Organizational Unit.
    Add {
        /// Who it is, as the list shows it (e.g. "Plateforme numérique SAS").
        #[arg(long)]
        name: String,
        /// The certificate's Common Name (CN).
        #[arg(long)]
        common_name: String,
        /// The certificate's Organizational Unit (OU), checked with the CN.
        #[arg(long, default_value = "")]
        unit: String,
        /// The CPTS whose slots it reads (slugs, comma-separated).
        #[arg(long, value_delimiter = ',')]
        cpts: Vec<String>,
    },
    /// List the SAS clients with their CPTS, revoked ones included.
    List,
    /// Revoke a SAS client by its id (from `maillage sas-client list`).
    Revoke { id: uuid::Uuid },
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Import the public extract of the national directory (PS_LibreAcces_Personne_activite_….txt):
    /// only professionals practising on the CPTS's territory are kept; importing again updates, never duplicates.
    Directory {
        /// The CPTS (its address identifier, e.g. camargue-gardoise).
        #[arg(long)]
        cpts: String,
        /// The extract, UTF-8 or Latin-1.
        file: PathBuf,
    },
    /// Import the public FINESS extraction of establishments (etalab-cs1100507-stock-….csv): establishments of
    /// the territory become structures, keyed by FINESS; what the CPTS recorded about them is kept.
    Finess {
        /// The CPTS (its address identifier).
        #[arg(long)]
        cpts: String,
        /// The extraction, `;`-separated, UTF-8 or Latin-1.
        file: PathBuf,
    },
    /// Import the member template (CSV with `;`, documented in docs/imports.md): updates what the CPTS knows of
    /// each professional, creates the ones missing. Bad lines are listed with their column; the others apply.
    Members {
        /// The CPTS (its address identifier).
        #[arg(long)]
        cpts: String,
        /// The CSV file, UTF-8 (with or without BOM) or Latin-1.
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum TerritoryCommand {
    /// Population and ACI size category of a list of communes given by INSEE code. Unknown or malformed
    /// codes are listed (and make the exit code 1), never ignored.
    Population {
        /// INSEE codes (5 characters, e.g. 30341 or 2A004; not postal codes).
        #[arg(required = true, value_name = "INSEE_CODE")]
        codes: Vec<String>,
        /// Print JSON: {"communes": […], "unknown": […], "population": N, "size_category": 1-4}.
        #[arg(long)]
        json: bool,
    },
    /// Find communes by name (accents ignored) or postal code.
    Search {
        query: String,
        #[arg(long, default_value_t = 10)]
        limit: usize,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check every chain of the audit trail: exit 0 when intact, 1 when an entry was modified, deleted or
    /// inserted, a code does not match its key, or (with --checkpoint) a chain was shortened or rewritten
    /// since a checkpoint.
    Verify {
        /// A checkpoint file (JSON lines written by `maillage audit checkpoint` or by the server every hour).
        #[arg(long)]
        checkpoint: Option<std::path::PathBuf>,
    },
    /// Write a signed checkpoint of every chain's head: appended to FILE, or printed. Keep it away from the
    /// database (another machine, a log collector).
    Checkpoint {
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Print a new data key, blind-index key and audit key to put in the configuration.
    Generate,
    /// Re-encrypt every patient identity and second-factor secret with the first key of security.data_keys.
    /// Rotation: put a new key first (keep the old ones after it), run this, then remove the old keys.
    Rotate,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Issue a token and print its secret (shown once; only its hash is kept).
    Create {
        /// The CPTS's identifier (slug).
        #[arg(long)]
        cpts: String,
        /// What the token opens: fhir:read (the SAS platform).
        #[arg(long, default_value = "fhir:read")]
        scope: String,
        /// Who uses it, as the coordination will read it in the list.
        #[arg(long, default_value = "Plateforme SAS")]
        name: String,
    },
    /// List a CPTS's tokens of a scope, revoked ones included.
    List {
        #[arg(long)]
        cpts: String,
        #[arg(long, default_value = "fhir:read")]
        scope: String,
    },
    /// Revoke a token by its id (from `maillage token list`).
    Revoke {
        #[arg(long)]
        cpts: String,
        id: uuid::Uuid,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on (server.bind), e.g. 127.0.0.1:8080.
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<String>,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Directory holding the demo database (demo.db).
    #[arg(long, value_name = "DIR", default_value = "./maillage-data")]
    pub data_dir: PathBuf,
    /// Address and port to listen on.
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account, optionally with a role in one CPTS.
    Create {
        #[arg(long)]
        email: String,
        /// Name shown in the interface.
        #[arg(long)]
        name: String,
        /// Make the account a platform administrator.
        #[arg(long)]
        platform_admin: bool,
        /// CPTS (its address identifier, e.g. camargue-gardoise) in which to give a role.
        #[arg(long, requires = "role")]
        cpts: Option<String>,
        /// Role in that CPTS.
        #[arg(long, value_enum, requires = "cpts")]
        role: Option<RoleArg>,
        /// Read the password from this file; without it a random password is generated and printed once.
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
    },
    /// List accounts.
    List {
        #[arg(long, default_value_t = 1)]
        page: i64,
    },
    /// Disable an account and end its sessions.
    Disable {
        #[arg(long)]
        email: String,
    },
    /// Enable a disabled account again.
    Enable {
        #[arg(long)]
        email: String,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RoleArg {
    Coordinator,
    Secretary,
    Member,
    Partner,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print a commented default maillage.toml.
    Default,
    /// Print the configuration in effect, secrets hidden.
    Show,
}
