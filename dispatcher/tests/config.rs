//! The `dispatcher serve` configuration: defaults, precedence, validation, help.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use dispatcher::config::{
    Config, ConfigError, LogFormat, Origin, RegionKey, TenantSource, VARIABLES, help_text,
};
use router::Profile;
use solver::Weights;

/// An environment holding exactly `vars`.
fn env_of(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name| map.get(name).cloned()
}

fn from_env(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    Config::from_sources(None, &env_of(vars))
}

fn from_file(text: &str) -> Result<Config, ConfigError> {
    Config::from_sources(Some(text), &|_| None)
}

/// A file under the temp directory, removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str) -> Self {
        let path =
            std::env::temp_dir().join(format!("dispatcher-config-{}-{name}", std::process::id()));
        std::fs::write(&path, b"not really a map").unwrap();
        TempFile(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }

    fn text(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn defaults() {
    let c = Config::defaults();
    assert_eq!(c.grpc_addr, "127.0.0.1:50051".parse().unwrap());
    assert_eq!(c.metrics_addr, "127.0.0.1:9464".parse().unwrap());
    assert_eq!(c.database_url, None);
    assert_eq!(c.database_pool_size, 8);
    assert_eq!(c.amqp_url, None);
    assert_eq!(c.amqp_prefetch, 500);
    assert_eq!(c.bus_tenant_source, TenantSource::RoutingKey);
    assert_eq!(c.dispatch_regions, vec![RegionKey::new("demo", "city")]);
    assert_eq!(c.dispatch_regions[0].to_string(), "demo/city");
    assert!(c.map_files.is_empty());
    assert_eq!(c.planner_tick, Duration::from_millis(2000));
    assert_eq!(c.planner_budget, Duration::from_millis(500));
    assert_eq!(c.planner_urgent_gap, Duration::from_millis(200));
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert_eq!(c.planner_threads, cores.min(256));
    assert_eq!(c.planner_seed, 1);
    assert_eq!(c.weights, Weights::default());
    assert_eq!(c.offer_expiry, Duration::from_secs(60));
    assert_eq!(c.position_batch_rows, 5000);
    assert_eq!(c.position_linger, Duration::from_millis(20));
    assert_eq!(c.retention_days, 30);
    assert_eq!(c.retention(), Duration::from_secs(30 * 86_400));
    assert_eq!(c.retention_interval, Duration::from_secs(3600));
    assert_eq!(c.shutdown_grace, Duration::from_secs(10));
    assert_eq!(c.log_format, LogFormat::Text);
    assert_eq!(Config::default(), c);
}

#[test]
fn documented_defaults_are_the_real_ones() {
    // Setting every variable to the default the help text shows changes nothing; in particular the
    // WEIGHT_* defaults in the table match solver::Weights::default().
    let vars: Vec<(&str, &str)> = VARIABLES.iter().map(|v| (v.name, v.default)).collect();
    assert_eq!(from_env(&vars).unwrap(), Config::defaults());
}

#[test]
fn every_variable_is_read_and_every_read_is_listed() {
    let asked = RefCell::new(BTreeSet::new());
    let env = |name: &str| {
        asked.borrow_mut().insert(name.to_owned());
        None
    };
    Config::from_sources(None, &env).unwrap();
    let listed: BTreeSet<String> = VARIABLES.iter().map(|v| v.name.to_owned()).collect();
    assert_eq!(listed.len(), VARIABLES.len(), "a variable is listed twice");
    assert_eq!(asked.into_inner(), listed);
}

#[test]
fn environment_overrides_file_overrides_default() {
    let file = r#"
        planner_tick_ms = 3000
        planner_budget_ms = 700
        grpc_addr = "0.0.0.0:6000"
        weight_lateness = 9.5
        dispatch_regions = ["acme/berlin", "acme/paris"]
    "#;
    let env = env_of(&[
        ("PLANNER_TICK_MS", "4000"),
        ("WEIGHT_LATENESS", "2"),
        ("LOG_FORMAT", "json"),
    ]);
    let c = Config::from_sources(Some(file), &env).unwrap();
    assert_eq!(c.planner_tick, Duration::from_millis(4000), "env wins");
    assert_eq!(c.planner_budget, Duration::from_millis(700), "file wins");
    assert_eq!(c.planner_urgent_gap, Duration::from_millis(200), "default");
    assert_eq!(c.grpc_addr, "0.0.0.0:6000".parse().unwrap());
    assert_eq!(c.weights.lateness, 2.0);
    assert_eq!(c.weights.distance, Weights::default().distance);
    assert_eq!(c.log_format, LogFormat::Json);
    assert_eq!(
        c.dispatch_regions,
        vec![
            RegionKey::new("acme", "berlin"),
            RegionKey::new("acme", "paris")
        ]
    );
}

#[test]
fn lists_and_urls() {
    let car = TempFile::new("car.osm.pbf");
    let foot = TempFile::new("foot.osm.pbf");
    let map_files = format!(" car={} , foot = {} ,", car.text(), foot.text());
    let c = from_env(&[
        ("DISPATCH_REGIONS", "acme/berlin, beta/x,"),
        ("MAP_FILES", &map_files),
        ("DATABASE_URL", "postgresql://u:p@127.0.0.1:5432/db"),
        ("AMQP_URL", "amqps://broker/%2f"),
        ("PLANNER_THREADS", "3"),
    ])
    .unwrap();
    assert_eq!(
        c.dispatch_regions,
        vec![
            RegionKey::new("acme", "berlin"),
            RegionKey::new("beta", "x")
        ]
    );
    assert_eq!(
        c.map_files,
        vec![
            (Profile::Car, car.path().to_owned()),
            (Profile::Foot, foot.path().to_owned())
        ]
    );
    assert_eq!(
        c.database_url.as_deref(),
        Some("postgresql://u:p@127.0.0.1:5432/db")
    );
    assert_eq!(c.amqp_url.as_deref(), Some("amqps://broker/%2f"));
    assert_eq!(c.planner_threads, 3);

    // In TOML, a table for map_files; an empty URL in the environment unsets the file's.
    let file = format!(
        "database_url = \"postgres://db/x\"\n[map_files]\nbicycle = {:?}\n",
        car.text()
    );
    let c = Config::from_sources(Some(&file), &env_of(&[("DATABASE_URL", "")])).unwrap();
    assert_eq!(c.map_files, vec![(Profile::Bicycle, car.path().to_owned())]);
    assert_eq!(c.database_url, None);
}

/// Asserts that `result` is an `Invalid` error for `name` with `value`, from `origin`, and that the
/// message shows both.
#[track_caller]
fn assert_invalid(result: Result<Config, ConfigError>, name: &str, value: &str, origin: Origin) {
    match result {
        Err(
            ref error @ ConfigError::Invalid {
                name: n,
                value: ref v,
                origin: o,
                ..
            },
        ) => {
            assert_eq!((n, v.as_str(), o), (name, value, origin), "{error}");
            let message = error.to_string();
            assert!(
                message.starts_with(&format!("{name}={value} ")),
                "{message}"
            );
            assert!(message.contains("expected"), "{message}");
        }
        other => panic!("{name}={value}: expected an Invalid error, got {other:?}"),
    }
}

#[test]
fn each_kind_of_bad_value_names_the_variable() {
    let long_id = "x".repeat(129);
    let long_region = format!("acme/{long_id}");
    // Within 128 bytes each, but every dot becomes "%2E" in queue names and routing keys.
    let dotted_region = format!("{}/{}", ".".repeat(128), ".".repeat(128));
    let cases: &[(&str, &str)] = &[
        ("GRPC_ADDR", "localhost"),
        ("GRPC_ADDR", ""),
        ("METRICS_ADDR", "127.0.0.1:99999"),
        ("DATABASE_URL", "mysql://db"),
        ("DATABASE_POOL_SIZE", "0"),
        ("DATABASE_POOL_SIZE", "257"),
        ("DATABASE_POOL_SIZE", "eight"),
        ("AMQP_URL", "http://broker"),
        ("AMQP_PREFETCH", "0"),
        ("AMQP_PREFETCH", "65536"),
        ("DISPATCH_REGIONS", ""),
        ("DISPATCH_REGIONS", " , "),
        ("DISPATCH_REGIONS", "demo"),
        ("DISPATCH_REGIONS", "demo/"),
        ("DISPATCH_REGIONS", "/city"),
        ("DISPATCH_REGIONS", "a/b/c"),
        ("DISPATCH_REGIONS", "a/b,c/d,a/b"),
        ("DISPATCH_REGIONS", &long_region),
        ("MAP_FILES", "car"),
        ("MAP_FILES", "boat=/dev/null"),
        ("MAP_FILES", "car="),
        ("PLANNER_TICK_MS", "99"),
        ("PLANNER_TICK_MS", "60001"),
        ("PLANNER_TICK_MS", "2s"),
        ("PLANNER_TICK_MS", ""),
        ("PLANNER_BUDGET_MS", "9"),
        ("PLANNER_URGENT_GAP_MS", "-1"),
        ("PLANNER_THREADS", "0"),
        ("PLANNER_THREADS", "257"),
        ("PLANNER_THREADS", "many"),
        ("PLANNER_SEED", "-1"),
        ("PLANNER_SEED", "18446744073709551616"),
        ("WEIGHT_VEHICLE", "-1"),
        ("WEIGHT_DISTANCE", "NaN"),
        ("WEIGHT_TRAVEL_TIME", "inf"),
        ("WEIGHT_WAITING", "lots"),
        ("WEIGHT_CLICK_TO_DOOR", "-0.5"),
        ("WEIGHT_LATENESS", ""),
        ("WEIGHT_UNASSIGNED", "1e400"),
        ("WEIGHT_REASSIGNMENT", "x"),
        ("OFFER_EXPIRY_S", "4"),
        ("OFFER_EXPIRY_S", "3601"),
        ("POSITION_BATCH_ROWS", "0"),
        ("POSITION_BATCH_ROWS", "100001"),
        ("POSITION_LINGER_MS", "5001"),
        ("RETENTION_DAYS", "0"),
        ("RETENTION_DAYS", "3651"),
        ("RETENTION_INTERVAL_S", "59"),
        ("RETENTION_INTERVAL_S", "604801"),
        ("RETENTION_INTERVAL_S", "18446744073709551615"),
        ("WEIGHT_LATENESS", "1e300"),
        ("DISPATCH_REGIONS", "acme/ber\u{0}lin"),
        ("DISPATCH_REGIONS", "acme/ber\tlin"),
        ("DISPATCH_REGIONS", &dotted_region),
        ("BUS_TENANT_SOURCE", "user_id"),
        ("BUS_TENANT_SOURCE", ""),
        ("SHUTDOWN_GRACE_S", "3601"),
        ("LOG_FORMAT", "xml"),
    ];
    for &(name, value) in cases {
        assert_invalid(from_env(&[(name, value)]), name, value, Origin::Environment);
    }
}

#[test]
fn the_tenant_source_is_named_in_full() {
    let c = from_env(&[("BUS_TENANT_SOURCE", "user-id")]).unwrap();
    assert_eq!(c.bus_tenant_source, TenantSource::UserId);
    let c = from_file("bus_tenant_source = \"routing-key\"").unwrap();
    assert_eq!(c.bus_tenant_source, TenantSource::RoutingKey);
    let message = from_env(&[("BUS_TENANT_SOURCE", "header")])
        .unwrap_err()
        .to_string();
    assert!(message.contains("routing-key or user-id"), "{message}");
}

#[test]
fn duplicate_and_missing_map_files() {
    let car = TempFile::new("dup.osm.pbf");
    let twice = format!("car={0},car={0}", car.text());
    assert_invalid(
        from_env(&[("MAP_FILES", &twice)]),
        "MAP_FILES",
        &twice,
        Origin::Environment,
    );

    let missing = std::env::temp_dir().join("dispatcher-config-no-such-map.osm.pbf");
    let value = format!("scooter={}", missing.display());
    let error = from_env(&[("MAP_FILES", &value)]).unwrap_err();
    match &error {
        ConfigError::MapFile { profile, path, .. } => {
            assert_eq!((*profile, path), (Profile::Scooter, &missing));
        }
        other => panic!("expected MapFile, got {other:?}"),
    }
    let message = error.to_string();
    assert!(message.starts_with("MAP_FILES"), "{message}");
    assert!(
        message.contains(&missing.display().to_string()),
        "{message}"
    );

    // A directory is not a map.
    let dir = std::env::temp_dir();
    let value = format!("foot={}", dir.display());
    assert!(matches!(
        from_env(&[("MAP_FILES", &value)]),
        Err(ConfigError::MapFile { .. })
    ));
}

#[test]
fn bad_values_in_the_file_say_so() {
    assert_invalid(
        from_file("planner_tick_ms = 50"),
        "PLANNER_TICK_MS",
        "50",
        Origin::File,
    );
    assert_invalid(
        from_file("weight_distance = -1.5"),
        "WEIGHT_DISTANCE",
        "-1.5",
        Origin::File,
    );
    assert_invalid(
        from_file("log_format = true"),
        "LOG_FORMAT",
        "true",
        Origin::File,
    );
    // Nested lists are not a value.
    assert!(matches!(
        from_file("dispatch_regions = [[\"a/b\"]]"),
        Err(ConfigError::Invalid {
            name: "DISPATCH_REGIONS",
            origin: Origin::File,
            ..
        })
    ));
    // The environment can replace a bad file value.
    let c = Config::from_sources(
        Some("planner_tick_ms = 50"),
        &env_of(&[("PLANNER_TICK_MS", "1000")]),
    )
    .unwrap();
    assert_eq!(c.planner_tick, Duration::from_secs(1));
}

#[test]
fn unknown_toml_key_is_named() {
    for (text, key) in [
        ("grpc_adr = \"127.0.0.1:1\"", "grpc_adr"),
        ("GRPC_ADDR = \"127.0.0.1:1\"", "GRPC_ADDR"),
        ("[planner]\ntick_ms = 100", "planner"),
    ] {
        let error = from_file(text).unwrap_err();
        assert!(
            matches!(&error, ConfigError::UnknownKey { key: k } if k == key),
            "{error:?}"
        );
        assert!(error.to_string().contains(&format!("`{key}`")), "{error}");
    }
}

#[test]
fn invalid_toml_is_a_syntax_error() {
    assert!(matches!(
        from_file("grpc_addr = "),
        Err(ConfigError::Syntax(_))
    ));
}

#[test]
fn budget_must_be_less_than_tick() {
    let error = from_env(&[("PLANNER_BUDGET_MS", "3000")]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "PLANNER_BUDGET_MS=3000 must be less than PLANNER_TICK_MS=2000"
    );
    assert!(matches!(
        from_env(&[("PLANNER_BUDGET_MS", "2000")]),
        Err(ConfigError::Conflict {
            name: "PLANNER_BUDGET_MS",
            other: "PLANNER_TICK_MS",
            ..
        })
    ));
    assert!(from_env(&[("PLANNER_BUDGET_MS", "1999")]).is_ok());
}

#[test]
fn urgent_gap_at_most_tick_and_ports_distinct() {
    let error = from_env(&[
        ("PLANNER_TICK_MS", "500"),
        ("PLANNER_BUDGET_MS", "100"),
        ("PLANNER_URGENT_GAP_MS", "501"),
    ])
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "PLANNER_URGENT_GAP_MS=501 must be at most PLANNER_TICK_MS=500"
    );
    assert!(
        from_env(&[
            ("PLANNER_TICK_MS", "500"),
            ("PLANNER_BUDGET_MS", "100"),
            ("PLANNER_URGENT_GAP_MS", "500")
        ])
        .is_ok()
    );

    let error = from_env(&[("METRICS_ADDR", "127.0.0.1:50051")]).unwrap_err();
    assert!(matches!(
        error,
        ConfigError::Conflict {
            name: "METRICS_ADDR",
            ..
        }
    ));
    // Both on port 0 (tests) is fine: each gets its own free port.
    assert!(
        from_env(&[
            ("GRPC_ADDR", "127.0.0.1:0"),
            ("METRICS_ADDR", "127.0.0.1:0")
        ])
        .is_ok()
    );
}

#[test]
fn help_text_lists_every_variable() {
    let text = help_text();
    let lines: Vec<&str> = text.lines().collect();
    let header = lines
        .iter()
        .position(|l| l.starts_with("VARIABLE"))
        .expect("a header row");
    let help_column = lines[header].find("MEANING").unwrap();
    for v in VARIABLES {
        let line = lines
            .iter()
            .find(|l| l.split_whitespace().next() == Some(v.name))
            .unwrap_or_else(|| panic!("{} is not in the help text:\n{text}", v.name));
        let shown = if v.default.is_empty() {
            "(unset)"
        } else {
            v.default
        };
        assert_eq!(line.split_whitespace().nth(1), Some(shown), "{line}");
        assert_eq!(line.find(v.help), Some(help_column), "aligned: {line}");
    }
    assert_eq!(lines.len() - header - 1, VARIABLES.len());
}

#[test]
fn missing_config_file_is_named() {
    let path = std::env::temp_dir().join("dispatcher-config-no-such-file.toml");
    let error = Config::from_env_and_file(Some(&path)).unwrap_err();
    assert!(
        matches!(&error, ConfigError::ReadFile { path: p, .. } if *p == path),
        "{error:?}"
    );
    assert!(error.to_string().contains(&path.display().to_string()));
}

/// A file that exists everywhere the tests run and is neither a key nor a certificate.
const A_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");

#[test]
fn a_token_key_is_one_secret_or_one_public_key_that_suits_the_algorithm() {
    assert_eq!(Config::defaults().auth, None);
    let secret = "a shared secret of thirty-two bytes!";
    let config = from_env(&[("AUTH_JWT_SECRET", secret), ("AUTH_JWT_ISSUER", "idp")]).unwrap();
    let auth = config.auth.expect("settings");
    assert_eq!(auth.algorithm, dispatcher::auth::Algorithm::HS256);
    assert_eq!(auth.issuer.as_deref(), Some("idp"));
    assert_eq!(auth.audience, None);
    // The secret never shows in an error or a debug print.
    assert!(!format!("{auth:?}").contains(secret));

    let short = from_env(&[("AUTH_JWT_SECRET", "hunter2")]).unwrap_err();
    let text = short.to_string();
    assert!(text.starts_with("AUTH_JWT_SECRET=*** "), "{text}");
    assert!(text.contains("at least 32 bytes"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");

    let rsa_with_secret =
        from_env(&[("AUTH_JWT_SECRET", secret), ("AUTH_JWT_ALGORITHM", "RS256")]).unwrap_err();
    assert!(
        rsa_with_secret.to_string().contains("needs a public key"),
        "{rsa_with_secret}"
    );
    let unknown =
        from_env(&[("AUTH_JWT_SECRET", secret), ("AUTH_JWT_ALGORITHM", "none")]).unwrap_err();
    assert!(
        unknown.to_string().starts_with("AUTH_JWT_ALGORITHM=none"),
        "{unknown}"
    );

    let missing = from_env(&[("AUTH_JWT_PUBLIC_KEY_FILE", "/nonexistent/key.pem")]).unwrap_err();
    assert!(
        missing
            .to_string()
            .starts_with("AUTH_JWT_PUBLIC_KEY_FILE=/nonexistent/key.pem"),
        "{missing}"
    );
    let both = from_env(&[
        ("AUTH_JWT_SECRET", secret),
        ("AUTH_JWT_PUBLIC_KEY_FILE", A_FILE),
    ])
    .unwrap_err();
    assert!(both.to_string().contains("one key"), "{both}");

    // A file that is not a key for the algorithm is refused at start-up, naming the variable.
    let not_a_key = from_env(&[
        ("AUTH_JWT_PUBLIC_KEY_FILE", A_FILE),
        ("AUTH_JWT_ALGORITHM", "EdDSA"),
    ])
    .unwrap_err();
    assert!(
        not_a_key
            .to_string()
            .starts_with("AUTH_JWT_PUBLIC_KEY_FILE="),
        "{not_a_key}"
    );
}

#[test]
fn tls_takes_a_certificate_and_a_key_together() {
    assert_eq!(Config::defaults().grpc_tls, None);
    let half = from_env(&[("GRPC_TLS_CERT_FILE", A_FILE)]).unwrap_err();
    assert!(
        half.to_string().contains("together with GRPC_TLS_KEY_FILE"),
        "{half}"
    );
    let missing = from_env(&[
        ("GRPC_TLS_CERT_FILE", A_FILE),
        ("GRPC_TLS_KEY_FILE", "/nonexistent/key.pem"),
    ])
    .unwrap_err();
    assert!(
        missing
            .to_string()
            .starts_with("GRPC_TLS_KEY_FILE=/nonexistent/key.pem"),
        "{missing}"
    );
    let both = from_env(&[
        ("GRPC_TLS_CERT_FILE", A_FILE),
        ("GRPC_TLS_KEY_FILE", A_FILE),
    ])
    .unwrap();
    assert_eq!(
        both.grpc_tls.map(|tls| tls.key),
        Some(PathBuf::from(A_FILE))
    );
}
