//! The configuration of `dispatcher serve`: one typed [`Config`] from three sources.
//!
//! Later sources win: built-in defaults, then an optional TOML file (`--config FILE` or
//! `DISPATCH_CONFIG`, resolved by the caller), then environment variables. Every variable is listed
//! once, in [`VARIABLES`], which drives parsing, the TOML key check and [`help_text`]. TOML keys are
//! the variable names in lower case:
//!
//! ```toml
//! grpc_addr = "0.0.0.0:50051"
//! dispatch_regions = ["acme/berlin", "acme/paris"]   # or "acme/berlin,acme/paris"
//! map_files = { car = "maps/berlin.osm.pbf" }        # or "car=maps/berlin.osm.pbf"
//! planner_tick_ms = 2000
//! weight_lateness = 4.0
//! ```
//!
//! Every value is validated at start-up; a [`ConfigError`] names the variable, the bad value, where
//! it came from and what was expected.
//!
//! ```
//! use dispatcher::config::Config;
//!
//! let env = |name: &str| (name == "PLANNER_TICK_MS").then(|| "1000".to_owned());
//! let config = Config::from_sources(Some("planner_budget_ms = 300"), &env)?;
//! assert_eq!(config.planner_tick.as_millis(), 1000);
//! assert_eq!(config.planner_budget.as_millis(), 300);
//! # Ok::<(), dispatcher::config::ConfigError>(())
//! ```

use std::collections::{BTreeSet, HashSet};
use std::fmt::{self, Display, Write as _};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use router::Profile;
use solver::Weights;

pub use crate::bus::TenantSource;
pub use crate::domain::RegionKey;
pub use security::TlsFiles;

mod limits;
mod security;

/// One configuration variable: its name, its default and what it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variable {
    /// The environment variable; the TOML key is the same in lower case.
    pub name: &'static str,
    /// The default as it would be written in the environment; empty for "unset".
    pub default: &'static str,
    /// What it means, one short line for `dispatcher serve --help`.
    pub help: &'static str,
}

const GRPC_ADDR: Variable = Variable {
    name: "GRPC_ADDR",
    default: "127.0.0.1:50051",
    help: "gRPC listen address (IP:PORT; port 0 picks a free one)",
};
const METRICS_ADDR: Variable = Variable {
    name: "METRICS_ADDR",
    default: "127.0.0.1:9464",
    help: "HTTP address for /metrics (Prometheus) and /healthz",
};
const DATABASE_URL: Variable = Variable {
    name: "DATABASE_URL",
    default: "",
    help: "postgres:// URL of TimescaleDB; unset: embedded in-memory store",
};
const DATABASE_POOL_SIZE: Variable = Variable {
    name: "DATABASE_POOL_SIZE",
    default: "8",
    help: "database connections in the pool, 1 to 256",
};
const AMQP_URL: Variable = Variable {
    name: "AMQP_URL",
    default: "",
    help: "amqp:// URL of RabbitMQ; unset: in-process bus",
};
const AMQP_PREFETCH: Variable = Variable {
    name: "AMQP_PREFETCH",
    default: "500",
    help: "unacknowledged messages per consumer, at least 1",
};
const DISPATCH_REGIONS: Variable = Variable {
    name: "DISPATCH_REGIONS",
    default: "demo/city",
    help: "regions this instance plans, comma-separated TENANT/REGION",
};
const MAP_FILES: Variable = Variable {
    name: "MAP_FILES",
    default: "",
    help: "road maps, comma-separated PROFILE=PATH; others: straight line at speed",
};
const PLANNER_TICK_MS: Variable = Variable {
    name: "PLANNER_TICK_MS",
    default: "2000",
    help: "planning round interval, ms, 100 to 60000",
};
const PLANNER_BUDGET_MS: Variable = Variable {
    name: "PLANNER_BUDGET_MS",
    default: "500",
    help: "solver time per round, ms, at least 10 and less than the tick",
};
const PLANNER_URGENT_GAP_MS: Variable = Variable {
    name: "PLANNER_URGENT_GAP_MS",
    default: "200",
    help: "least gap between urgent-event rounds, ms, at most the tick",
};
const PLANNER_THREADS: Variable = Variable {
    name: "PLANNER_THREADS",
    default: "auto",
    help: "solver threads, 1 to 256; auto: the available cores",
};
const PLANNER_SEED: Variable = Variable {
    name: "PLANNER_SEED",
    default: "1",
    help: "solver random seed",
};
const WEIGHT_VEHICLE: Variable = Variable {
    name: "WEIGHT_VEHICLE",
    default: "0",
    help: "objective: per courier used",
};
const WEIGHT_DISTANCE: Variable = Variable {
    name: "WEIGHT_DISTANCE",
    default: "0.001",
    help: "objective: per metre travelled",
};
const WEIGHT_TRAVEL_TIME: Variable = Variable {
    name: "WEIGHT_TRAVEL_TIME",
    default: "0",
    help: "objective: per second travelling",
};
const WEIGHT_WAITING: Variable = Variable {
    name: "WEIGHT_WAITING",
    default: "0.1",
    help: "objective: per second waiting for food",
};
const WEIGHT_CLICK_TO_DOOR: Variable = Variable {
    name: "WEIGHT_CLICK_TO_DOOR",
    default: "1",
    help: "objective: per second from order placed to delivery",
};
const WEIGHT_LATENESS: Variable = Variable {
    name: "WEIGHT_LATENESS",
    default: "4",
    help: "objective: per second late against the promise",
};
const WEIGHT_UNASSIGNED: Variable = Variable {
    name: "WEIGHT_UNASSIGNED",
    default: "28800",
    help: "objective: per order left unassigned",
};
const WEIGHT_REASSIGNMENT: Variable = Variable {
    name: "WEIGHT_REASSIGNMENT",
    default: "60",
    help: "objective: per order moved to another courier",
};
const OFFER_EXPIRY_S: Variable = Variable {
    name: "OFFER_EXPIRY_S",
    default: "60",
    help: "seconds a courier has to answer an offer, 5 to 3600",
};
const POSITION_BATCH_ROWS: Variable = Variable {
    name: "POSITION_BATCH_ROWS",
    default: "5000",
    help: "most positions written in one batch, 1 to 100000",
};
const POSITION_LINGER_MS: Variable = Variable {
    name: "POSITION_LINGER_MS",
    default: "20",
    help: "longest wait to fill a position batch, ms, 0 to 5000",
};
const RETENTION_DAYS: Variable = Variable {
    name: "RETENTION_DAYS",
    default: "30",
    help: "days positions, order events and decisions are kept, 1 to 3650",
};
const RETENTION_INTERVAL_S: Variable = Variable {
    name: "RETENTION_INTERVAL_S",
    default: "3600",
    help: "seconds between retention runs, 60 to 604800 (a week)",
};
const SHUTDOWN_GRACE_S: Variable = Variable {
    name: "SHUTDOWN_GRACE_S",
    default: "10",
    help: "seconds to finish work after a stop signal, 0 to 3600",
};
const BUS_TENANT_SOURCE: Variable = Variable {
    name: "BUS_TENANT_SOURCE",
    default: "routing-key",
    help: "how a RabbitMQ message's tenant is authenticated: routing-key or user-id",
};
const LOG_FORMAT: Variable = Variable {
    name: "LOG_FORMAT",
    default: "text",
    help: "log output: text or json",
};

/// Every configuration variable, in the order `dispatcher serve --help` lists them.
pub const VARIABLES: &[Variable] = &[
    GRPC_ADDR,
    METRICS_ADDR,
    DATABASE_URL,
    DATABASE_POOL_SIZE,
    AMQP_URL,
    AMQP_PREFETCH,
    BUS_TENANT_SOURCE,
    DISPATCH_REGIONS,
    MAP_FILES,
    PLANNER_TICK_MS,
    PLANNER_BUDGET_MS,
    PLANNER_URGENT_GAP_MS,
    PLANNER_THREADS,
    PLANNER_SEED,
    WEIGHT_VEHICLE,
    WEIGHT_DISTANCE,
    WEIGHT_TRAVEL_TIME,
    WEIGHT_WAITING,
    WEIGHT_CLICK_TO_DOOR,
    WEIGHT_LATENESS,
    WEIGHT_UNASSIGNED,
    WEIGHT_REASSIGNMENT,
    OFFER_EXPIRY_S,
    POSITION_BATCH_ROWS,
    POSITION_LINGER_MS,
    RETENTION_DAYS,
    RETENTION_INTERVAL_S,
    SHUTDOWN_GRACE_S,
    LOG_FORMAT,
    security::AUTH_JWT_SECRET,
    security::AUTH_JWT_SECRET_PREVIOUS,
    security::AUTH_JWT_PUBLIC_KEY_FILE,
    security::AUTH_JWT_JWKS_FILE,
    security::AUTH_JWT_JWKS_REFRESH_S,
    security::AUTH_JWT_ALGORITHM,
    security::AUTH_JWT_ISSUER,
    security::AUTH_JWT_AUDIENCE,
    security::GRPC_TLS_CERT_FILE,
    security::GRPC_TLS_KEY_FILE,
    limits::GRPC_MAX_STREAMS,
    limits::COURIER_MAX_MESSAGES_PER_S,
    limits::GRPC_REQUEST_TIMEOUT_MS,
];

/// The longest tenant or region id in [`Config::dispatch_regions`], in bytes: the API's id rule.
pub use crate::domain::check::MAX_ID_BYTES;

/// The longest interval between retention runs, seconds: a week. Longer would let old chunks pile
/// up, and far larger values overflow time arithmetic.
const MAX_RETENTION_INTERVAL_S: u64 = 7 * 86_400;

/// The largest objective weight. Costs are weights times seconds or metres summed over a plan;
/// far larger weights push those sums to infinity, where comparing plans means nothing.
const MAX_WEIGHT: f64 = 1e9;

/// Most threads the planner may use.
const MAX_THREADS: usize = 256;

/// How the service writes its logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

impl LogFormat {
    /// The name used in the configuration: `text` or `json`.
    pub fn name(self) -> &'static str {
        match self {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        }
    }
}

impl Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where a configuration value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The built-in default.
    Default,
    /// The TOML file.
    File,
    /// An environment variable.
    Environment,
}

impl Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Origin::Default => "the default",
            Origin::File => "from the config file",
            Origin::Environment => "from the environment",
        })
    }
}

/// Why the configuration was rejected. Each message names the variable and the bad value.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A value that does not parse or is out of range. URLs have their password masked.
    #[error("{name}={value} ({origin}): expected {expected}")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// The value as given.
        value: String,
        /// Where the value came from.
        origin: Origin,
        /// What would have been accepted, and what is wrong with the value where that is not obvious.
        expected: String,
    },
    /// Two values that are each valid but not together.
    #[error("{name}={value} must be {relation} {other}={other_value}")]
    Conflict {
        /// The variable at fault.
        name: &'static str,
        /// Its value.
        value: String,
        /// How it must relate to the other, e.g. "less than".
        relation: &'static str,
        /// The variable it is compared with.
        other: &'static str,
        /// That variable's value.
        other_value: String,
    },
    /// A map file in `MAP_FILES` that cannot be used.
    #[error("MAP_FILES: {profile} map {}: {problem}", path.display())]
    MapFile {
        /// The profile the file is for.
        profile: Profile,
        /// The file as given.
        path: PathBuf,
        /// What is wrong with it (not found, not a file, ...).
        problem: String,
    },
    /// A key in the TOML file that is not a variable.
    #[error(
        "config file: unknown key `{key}`; keys are the variable names listed by \
         `dispatcher serve --help`, in lower case"
    )]
    UnknownKey {
        /// The key as written in the file.
        key: String,
    },
    /// The config file is not valid TOML.
    #[error("config file is not valid TOML")]
    Syntax(#[source] toml::de::Error),
    /// The config file could not be read.
    #[error("cannot read config file {}", path.display())]
    ReadFile {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// The configuration of `dispatcher serve`. Field names are the variables' names in lower case,
/// without the unit suffix where the type carries the unit ([`Duration`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `GRPC_ADDR`: where the gRPC server listens.
    pub grpc_addr: SocketAddr,
    /// `METRICS_ADDR`: where the metrics and health HTTP server listens.
    pub metrics_addr: SocketAddr,
    /// `DATABASE_URL`: PostgreSQL with TimescaleDB; `None` runs on the embedded in-memory store.
    /// May hold a password: do not log it.
    pub database_url: Option<String>,
    /// `DATABASE_POOL_SIZE`: database connections in the pool.
    pub database_pool_size: usize,
    /// `AMQP_URL`: RabbitMQ; `None` runs on the in-process bus. May hold a password: do not log it.
    pub amqp_url: Option<String>,
    /// `AMQP_PREFETCH`: unacknowledged messages a consumer may hold.
    pub amqp_prefetch: u16,
    /// `BUS_TENANT_SOURCE`: what vouches for an inbound RabbitMQ message's tenant. `routing-key`
    /// relies on the broker's topic permissions restricting each tenant's broker user to routing
    /// keys `^<tenant>\.`; `user-id` requires the AMQP `user_id` property (checked by RabbitMQ
    /// against the publishing connection's user) to be `<tenant>` or `<tenant>.<anything>`, the
    /// tenant written as in routing keys. See [`crate::bus::tenant`].
    pub bus_tenant_source: TenantSource,
    /// `DISPATCH_REGIONS`: the regions this instance plans; at least one, no duplicates.
    pub dispatch_regions: Vec<RegionKey>,
    /// `MAP_FILES`: a road map per profile, each profile at most once; every file existed at
    /// start-up. Profiles without one use a straight line at the profile's speed.
    pub map_files: Vec<(Profile, PathBuf)>,
    /// `PLANNER_TICK_MS`: interval between planning rounds.
    pub planner_tick: Duration,
    /// `PLANNER_BUDGET_MS`: solver time per round, less than the tick.
    pub planner_budget: Duration,
    /// `PLANNER_URGENT_GAP_MS`: least gap between rounds triggered by urgent events, at most the tick.
    pub planner_urgent_gap: Duration,
    /// `PLANNER_THREADS`: solver threads.
    pub planner_threads: usize,
    /// `PLANNER_SEED`: the solver's random seed.
    pub planner_seed: u64,
    /// `WEIGHT_*`: the objective's weights; each unset one is [`Weights::default`]'s.
    pub weights: Weights,
    /// `OFFER_EXPIRY_S`: how long a courier has to answer an offer.
    pub offer_expiry: Duration,
    /// `POSITION_BATCH_ROWS`: most positions written in one batch.
    pub position_batch_rows: usize,
    /// `POSITION_LINGER_MS`: longest wait to fill a position batch before writing it.
    pub position_linger: Duration,
    /// `RETENTION_DAYS`: days positions, order events and decisions are kept.
    pub retention_days: u32,
    /// `RETENTION_INTERVAL_S`: interval between retention runs.
    pub retention_interval: Duration,
    /// `SHUTDOWN_GRACE_S`: time to finish work after a stop signal.
    pub shutdown_grace: Duration,
    /// `LOG_FORMAT`: how logs are written.
    pub log_format: LogFormat,
    /// `AUTH_JWT_*`: how bearer tokens are verified. `None` when no key is given: `serve` then
    /// refuses to start, and the demo and tests supply their own.
    pub auth: Option<crate::auth::TokenSettings>,
    /// `AUTH_JWT_JWKS_REFRESH_S`: how often the `AUTH_JWT_JWKS_FILE` key set is read again.
    pub auth_keys_refresh: Duration,
    /// `GRPC_TLS_CERT_FILE` and `GRPC_TLS_KEY_FILE`: TLS on the gRPC port; `None` for plaintext.
    pub grpc_tls: Option<TlsFiles>,
    /// `GRPC_MAX_STREAMS`, `COURIER_MAX_MESSAGES_PER_S`, `GRPC_REQUEST_TIMEOUT_MS`: what one gRPC
    /// client may take.
    pub grpc_limits: crate::grpc::Limits,
}

impl Config {
    /// The configuration from an optional TOML text and an environment lookup (`env(name)` is the
    /// variable's value, `None` when unset). Environment values win over the file's, the file's over
    /// the defaults.
    ///
    /// An empty value means "unset" for `DATABASE_URL` and `AMQP_URL` and "none" for `MAP_FILES`; for
    /// other variables it is an error. List items are separated by commas, surrounding blanks and
    /// empty items are ignored. Relative `MAP_FILES` paths are relative to the working directory.
    pub fn from_sources(
        file_text: Option<&str>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let file = match file_text {
            Some(text) => parse_file(text)?,
            None => Vec::new(),
        };
        let sources = Sources { file, env };

        let grpc_addr = sources.addr(&GRPC_ADDR)?;
        let metrics_addr = sources.addr(&METRICS_ADDR)?;
        if grpc_addr == metrics_addr && grpc_addr.port() != 0 {
            return Err(conflict(
                &METRICS_ADDR,
                metrics_addr,
                "different from",
                &GRPC_ADDR,
                grpc_addr,
            ));
        }

        let planner_tick = sources.millis(&PLANNER_TICK_MS, 100, Some(60_000))?;
        let planner_budget = sources.millis(&PLANNER_BUDGET_MS, 10, None)?;
        if planner_budget >= planner_tick {
            return Err(conflict(
                &PLANNER_BUDGET_MS,
                planner_budget.as_millis(),
                "less than",
                &PLANNER_TICK_MS,
                planner_tick.as_millis(),
            ));
        }
        let planner_urgent_gap = sources.millis(&PLANNER_URGENT_GAP_MS, 0, None)?;
        if planner_urgent_gap > planner_tick {
            return Err(conflict(
                &PLANNER_URGENT_GAP_MS,
                planner_urgent_gap.as_millis(),
                "at most",
                &PLANNER_TICK_MS,
                planner_tick.as_millis(),
            ));
        }

        Ok(Config {
            grpc_addr,
            metrics_addr,
            database_url: sources.url(&DATABASE_URL, &["postgres://", "postgresql://"])?,
            database_pool_size: sources.whole(&DATABASE_POOL_SIZE, 1, Some(256), "")?,
            amqp_url: sources.url(&AMQP_URL, &["amqp://", "amqps://"])?,
            amqp_prefetch: sources.whole(&AMQP_PREFETCH, 1, Some(u16::MAX), "")?,
            bus_tenant_source: sources.tenant_source(&BUS_TENANT_SOURCE)?,
            dispatch_regions: sources.regions(&DISPATCH_REGIONS)?,
            map_files: sources.map_files(&MAP_FILES)?,
            planner_tick,
            planner_budget,
            planner_urgent_gap,
            planner_threads: sources.threads(&PLANNER_THREADS)?,
            planner_seed: sources.whole(&PLANNER_SEED, 0, Some(u64::MAX), "")?,
            weights: sources.weights()?,
            offer_expiry: sources.seconds(&OFFER_EXPIRY_S, 5, Some(3600))?,
            position_batch_rows: sources.whole(&POSITION_BATCH_ROWS, 1, Some(100_000), "")?,
            position_linger: sources.millis(&POSITION_LINGER_MS, 0, Some(5000))?,
            retention_days: sources.whole(&RETENTION_DAYS, 1, Some(3650), " of days")?,
            retention_interval: sources.seconds(
                &RETENTION_INTERVAL_S,
                60,
                Some(MAX_RETENTION_INTERVAL_S),
            )?,
            shutdown_grace: sources.seconds(&SHUTDOWN_GRACE_S, 0, Some(3600))?,
            log_format: sources.log_format(&LOG_FORMAT)?,
            auth: sources.token_settings()?,
            auth_keys_refresh: sources.seconds(
                &security::AUTH_JWT_JWKS_REFRESH_S,
                1,
                Some(86_400),
            )?,
            grpc_tls: sources.grpc_tls()?,
            grpc_limits: sources.limits()?,
        })
    }

    /// The configuration from the TOML file at `path`, if any, and the process environment. The
    /// caller resolves the path (`--config FILE`, or `DISPATCH_CONFIG`).
    pub fn from_env_and_file(path: Option<&Path>) -> Result<Config, ConfigError> {
        let text = match path {
            Some(path) => {
                Some(
                    std::fs::read_to_string(path).map_err(|source| ConfigError::ReadFile {
                        path: path.to_owned(),
                        source,
                    })?,
                )
            }
            None => None,
        };
        let env = |name: &str| std::env::var_os(name).map(|v| v.to_string_lossy().into_owned());
        Config::from_sources(text.as_deref(), &env)
    }

    /// The built-in defaults: what [`from_sources`](Self::from_sources) gives with no file and an
    /// empty environment.
    pub fn defaults() -> Config {
        // The defaults are constants of this module, checked by its tests; no user input is involved.
        Config::from_sources(None, &|_| None).expect("the built-in defaults are valid")
    }

    /// How long positions, order events and decisions are kept: [`retention_days`](Self::retention_days)
    /// as a duration.
    pub fn retention(&self) -> Duration {
        Duration::from_secs(u64::from(self.retention_days) * 86_400)
    }
}

impl Default for Config {
    fn default() -> Self {
        Config::defaults()
    }
}

/// The table of variables printed by `dispatcher serve --help`: name, default and meaning, aligned,
/// after a short note on where values come from.
pub fn help_text() -> String {
    let shown_default = |v: &Variable| {
        if v.default.is_empty() {
            "(unset)"
        } else {
            v.default
        }
    };
    let name_width = VARIABLES.iter().map(|v| v.name.len()).max().unwrap_or(0);
    let default_width = VARIABLES
        .iter()
        .map(|v| shown_default(v).len())
        .max()
        .unwrap_or(0)
        .max("DEFAULT".len());
    let mut text = String::from(
        "Configuration: built-in defaults, overridden by the TOML file given with --config FILE or\n\
         DISPATCH_CONFIG (keys are the names below in lower case), overridden by environment variables.\n\n",
    );
    let mut row = |name: &str, default: &str, help: &str| {
        // Writing to a String cannot fail.
        let _ = writeln!(
            text,
            "{name:<name_width$}  {default:<default_width$}  {help}"
        );
    };
    row("VARIABLE", "DEFAULT", "MEANING");
    for v in VARIABLES {
        row(v.name, shown_default(v), v.help);
    }
    text
}

/// The file's values and the environment lookup; answers "what is the text of variable X".
struct Sources<'a> {
    /// `(variable name, value as text)` from the TOML file.
    file: Vec<(&'static str, String)>,
    env: &'a dyn Fn(&str) -> Option<String>,
}

/// A variable's text and where it came from.
struct Raw {
    text: String,
    origin: Origin,
}

impl Sources<'_> {
    /// The value set in the environment or the file, if any.
    fn given(&self, var: &Variable) -> Option<Raw> {
        if let Some(text) = (self.env)(var.name) {
            return Some(Raw {
                text,
                origin: Origin::Environment,
            });
        }
        self.file
            .iter()
            .find(|(name, _)| *name == var.name)
            .map(|(_, text)| Raw {
                text: text.clone(),
                origin: Origin::File,
            })
    }

    /// The value in force: given, or the default.
    fn get(&self, var: &Variable) -> Raw {
        self.given(var).unwrap_or(Raw {
            text: var.default.to_owned(),
            origin: Origin::Default,
        })
    }

    fn addr(&self, var: &Variable) -> Result<SocketAddr, ConfigError> {
        let raw = self.get(var);
        raw.text
            .trim()
            .parse()
            .map_err(|_| invalid(var, &raw, "a socket address IP:PORT, e.g. 127.0.0.1:50051"))
    }

    /// A whole number in `min..=max` (no upper bound for `None`); `unit` completes "a whole number",
    /// e.g. " of seconds".
    fn whole<T>(&self, var: &Variable, min: T, max: Option<T>, unit: &str) -> Result<T, ConfigError>
    where
        T: FromStr + PartialOrd + Display + Copy,
    {
        let raw = self.get(var);
        let expected = || match max {
            Some(max) => format!("a whole number{unit} from {min} to {max}"),
            None => format!("a whole number{unit} of at least {min}"),
        };
        match raw.text.trim().parse::<T>() {
            Ok(n) if n >= min && max.is_none_or(|max| n <= max) => Ok(n),
            _ => Err(invalid(var, &raw, expected())),
        }
    }

    fn millis(&self, var: &Variable, min: u64, max: Option<u64>) -> Result<Duration, ConfigError> {
        self.whole(var, min, max, " of milliseconds")
            .map(Duration::from_millis)
    }

    fn seconds(&self, var: &Variable, min: u64, max: Option<u64>) -> Result<Duration, ConfigError> {
        self.whole(var, min, max, " of seconds")
            .map(Duration::from_secs)
    }

    /// An optional URL with one of the given schemes; empty is unset.
    fn url(&self, var: &Variable, schemes: &[&str]) -> Result<Option<String>, ConfigError> {
        let raw = self.get(var);
        let url = raw.text.trim();
        if url.is_empty() {
            return Ok(None);
        }
        if schemes.iter().any(|s| url.starts_with(s)) {
            return Ok(Some(url.to_owned()));
        }
        let masked = Raw {
            text: mask_password(url),
            origin: raw.origin,
        };
        Err(invalid(
            var,
            &masked,
            format!("a URL starting with {}", schemes.join(" or ")),
        ))
    }

    fn regions(&self, var: &Variable) -> Result<Vec<RegionKey>, ConfigError> {
        let raw = self.get(var);
        let format = "comma-separated TENANT/REGION";
        let mut regions = Vec::new();
        let mut seen = HashSet::new();
        for item in items(&raw.text) {
            let Some((tenant, region)) = item.split_once('/') else {
                return Err(invalid(var, &raw, format!("{format}; {item:?} has no '/'")));
            };
            let (tenant, region) = (tenant.trim(), region.trim());
            for id in [tenant, region] {
                if id.is_empty()
                    || id.len() > MAX_ID_BYTES
                    || id.contains('/')
                    || id.contains(char::is_control)
                {
                    return Err(invalid(
                        var,
                        &raw,
                        format!(
                            "{format} with ids of 1 to {MAX_ID_BYTES} bytes, no '/' and no \
                             control characters; {item:?} breaks that"
                        ),
                    ));
                }
            }
            // Queue names and routing keys hold both ids, percent-encoded, in 255 bytes.
            if !crate::bus::topology::region_fits(tenant, region) {
                return Err(invalid(
                    var,
                    &raw,
                    format!(
                        "{format} short enough for RabbitMQ: {item:?} makes a queue name or \
                         routing key longer than 255 bytes"
                    ),
                ));
            }
            let key = RegionKey::new(tenant, region);
            if !seen.insert(key.clone()) {
                return Err(invalid(
                    var,
                    &raw,
                    format!("{format}, each region once; {key} is listed twice"),
                ));
            }
            regions.push(key);
        }
        if regions.is_empty() {
            return Err(invalid(var, &raw, format!("at least one region, {format}")));
        }
        Ok(regions)
    }

    fn map_files(&self, var: &Variable) -> Result<Vec<(Profile, PathBuf)>, ConfigError> {
        let raw = self.get(var);
        let profiles = Profile::ALL.map(Profile::name).join(", ");
        let format = format!("comma-separated PROFILE=PATH, PROFILE one of {profiles}");
        let mut files: Vec<(Profile, PathBuf)> = Vec::new();
        for item in items(&raw.text) {
            let Some((profile, path)) = item.split_once('=') else {
                return Err(invalid(var, &raw, format!("{format}; {item:?} has no '='")));
            };
            let Ok(profile) = profile.trim().parse::<Profile>() else {
                return Err(invalid(
                    var,
                    &raw,
                    format!("{format}; {:?} is not a profile", profile.trim()),
                ));
            };
            let path = path.trim();
            if path.is_empty() {
                return Err(invalid(
                    var,
                    &raw,
                    format!("{format}; {item:?} has no path"),
                ));
            }
            if files.iter().any(|(p, _)| *p == profile) {
                return Err(invalid(
                    var,
                    &raw,
                    format!("{format}, each profile once; {profile} is listed twice"),
                ));
            }
            let path = PathBuf::from(path);
            let problem = match std::fs::metadata(&path) {
                Ok(meta) if meta.is_file() => None,
                Ok(_) => Some("not a file".to_owned()),
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                    Some("no such file".to_owned())
                }
                Err(error) => Some(error.to_string()),
            };
            if let Some(problem) = problem {
                return Err(ConfigError::MapFile {
                    profile,
                    path,
                    problem,
                });
            }
            files.push((profile, path));
        }
        Ok(files)
    }

    fn threads(&self, var: &Variable) -> Result<usize, ConfigError> {
        if self.get(var).text.trim() == "auto" {
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            return Ok(cores.min(MAX_THREADS));
        }
        self.whole(var, 1, Some(MAX_THREADS), "")
            .map_err(|error| match error {
                ConfigError::Invalid {
                    name,
                    value,
                    origin,
                    expected,
                } => ConfigError::Invalid {
                    name,
                    value,
                    origin,
                    expected: format!("auto or {expected}"),
                },
                other => other,
            })
    }

    /// A weight: a finite number from 0 to [`MAX_WEIGHT`]. Unset weights keep
    /// [`Weights::default`]'s value.
    fn weight(&self, var: &Variable, default: f64) -> Result<f64, ConfigError> {
        let Some(raw) = self.given(var) else {
            return Ok(default);
        };
        match raw.text.trim().parse::<f64>() {
            Ok(w) if w.is_finite() && (0.0..=MAX_WEIGHT).contains(&w) => Ok(w),
            _ => Err(invalid(
                var,
                &raw,
                format!("a finite number from 0 to {MAX_WEIGHT:e}"),
            )),
        }
    }

    fn weights(&self) -> Result<Weights, ConfigError> {
        let d = Weights::default();
        Ok(Weights {
            vehicle: self.weight(&WEIGHT_VEHICLE, d.vehicle)?,
            distance: self.weight(&WEIGHT_DISTANCE, d.distance)?,
            travel_time: self.weight(&WEIGHT_TRAVEL_TIME, d.travel_time)?,
            waiting: self.weight(&WEIGHT_WAITING, d.waiting)?,
            click_to_door: self.weight(&WEIGHT_CLICK_TO_DOOR, d.click_to_door)?,
            lateness: self.weight(&WEIGHT_LATENESS, d.lateness)?,
            unassigned: self.weight(&WEIGHT_UNASSIGNED, d.unassigned)?,
            reassignment: self.weight(&WEIGHT_REASSIGNMENT, d.reassignment)?,
        })
    }

    fn tenant_source(&self, var: &Variable) -> Result<TenantSource, ConfigError> {
        let raw = self.get(var);
        raw.text
            .trim()
            .parse()
            .map_err(|_| invalid(var, &raw, "routing-key or user-id"))
    }

    fn log_format(&self, var: &Variable) -> Result<LogFormat, ConfigError> {
        let raw = self.get(var);
        match raw.text.trim() {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => Err(invalid(var, &raw, "text or json")),
        }
    }
}

fn invalid(var: &Variable, raw: &Raw, expected: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        name: var.name,
        value: raw.text.clone(),
        origin: raw.origin,
        expected: expected.into(),
    }
}

fn conflict(
    var: &Variable,
    value: impl Display,
    relation: &'static str,
    other: &Variable,
    other_value: impl Display,
) -> ConfigError {
    ConfigError::Conflict {
        name: var.name,
        value: value.to_string(),
        relation,
        other: other.name,
        other_value: other_value.to_string(),
    }
}

/// The non-empty, trimmed items of a comma-separated list.
fn items(text: &str) -> impl Iterator<Item = &str> {
    text.split(',').map(str::trim).filter(|s| !s.is_empty())
}

/// `url` with the password in its user info replaced by `***`, for error messages.
fn mask_password(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let authority_end = url[scheme_end..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| scheme_end + i);
    let Some(at) = url[scheme_end..authority_end]
        .rfind('@')
        .map(|i| scheme_end + i)
    else {
        return url.to_owned();
    };
    match url[scheme_end..at].find(':').map(|i| scheme_end + i) {
        Some(colon) => format!("{}:***{}", &url[..colon], &url[at..]),
        None => url.to_owned(),
    }
}

/// The TOML file as `(variable name, value as text)`, rejecting keys that are not variables.
fn parse_file(text: &str) -> Result<Vec<(&'static str, String)>, ConfigError> {
    let table: toml::Table = toml::from_str(text).map_err(ConfigError::Syntax)?;
    let mut values = Vec::with_capacity(table.len());
    for (key, value) in &table {
        let Some(var) = VARIABLES
            .iter()
            .find(|v| v.name.to_ascii_lowercase() == *key)
        else {
            return Err(ConfigError::UnknownKey { key: key.clone() });
        };
        let text = toml_text(value).ok_or_else(|| ConfigError::Invalid {
            name: var.name,
            value: value.to_string(),
            origin: Origin::File,
            expected: "a string, a number, a list of them, or (for map_files) a table of strings"
                .to_owned(),
        })?;
        values.push((var.name, text));
    }
    Ok(values)
}

/// A TOML value as the text an environment variable would hold: scalars as written, arrays joined
/// with commas, tables as `key=value` items. `None` for nested lists and tables.
fn toml_text(value: &toml::Value) -> Option<String> {
    fn scalar(value: &toml::Value) -> Option<String> {
        match value {
            toml::Value::String(s) => Some(s.clone()),
            toml::Value::Integer(i) => Some(i.to_string()),
            toml::Value::Float(f) => Some(f.to_string()),
            toml::Value::Boolean(b) => Some(b.to_string()),
            toml::Value::Datetime(d) => Some(d.to_string()),
            toml::Value::Array(_) | toml::Value::Table(_) => None,
        }
    }
    match value {
        toml::Value::Array(items) => items
            .iter()
            .map(scalar)
            .collect::<Option<Vec<_>>>()
            .map(|items| items.join(",")),
        toml::Value::Table(table) => {
            // Sorted, so that the duplicate and existence checks report in a stable order.
            let entries: BTreeSet<(String, String)> = table
                .iter()
                .map(|(k, v)| scalar(v).map(|v| (k.clone(), v)))
                .collect::<Option<_>>()?;
            Some(
                entries
                    .into_iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(","),
            )
        }
        other => scalar(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_masked() {
        assert_eq!(
            mask_password("postgress://user:secret@db:5432/x"),
            "postgress://user:***@db:5432/x"
        );
        assert_eq!(
            mask_password("amq://guest@host/%2f"),
            "amq://guest@host/%2f"
        );
        assert_eq!(mask_password("nonsense"), "nonsense");
        assert_eq!(mask_password("x://h/p@q:r"), "x://h/p@q:r");
    }

    #[test]
    fn bad_url_errors_do_not_show_the_password() {
        let env = |name: &str| (name == "AMQP_URL").then(|| "amq://u:hunter2@h/".to_owned());
        let message = Config::from_sources(None, &env).unwrap_err().to_string();
        assert!(!message.contains("hunter2"), "{message}");
        assert!(message.contains("AMQP_URL=amq://u:***@h/"), "{message}");
    }

    #[test]
    fn toml_values_become_list_text() {
        let v: toml::Table = toml::from_str(
            "a = [\"x/y\", \"z/w\"]\nb = { foot = \"f\", car = \"c\" }\nc = 2.5\nd = [[1]]",
        )
        .unwrap();
        assert_eq!(toml_text(&v["a"]).as_deref(), Some("x/y,z/w"));
        assert_eq!(toml_text(&v["b"]).as_deref(), Some("car=c,foot=f"));
        assert_eq!(toml_text(&v["c"]).as_deref(), Some("2.5"));
        assert_eq!(toml_text(&v["d"]), None);
    }
}
