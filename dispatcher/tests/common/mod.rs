//! Shared set-up for the tests that run against the real PostgreSQL/TimescaleDB and RabbitMQ started by
//! `scripts/services.sh`. Nothing here is mocked: without the servers these tests fail and say how to
//! start them.

#![allow(dead_code, unreachable_pub)] // Each test binary uses a different part of this module.

use std::path::PathBuf;

/// Reads a variable from the environment, or else from `.services/services.env` which
/// `scripts/services.sh up .services` writes at the workspace root.
fn service_url(name: &str) -> String {
    if let Ok(url) = std::env::var(name) {
        return url;
    }
    let env_file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.services/services.env");
    let from_file = std::fs::read_to_string(&env_file).ok().and_then(|text| {
        text.lines().find_map(|line| {
            let line = line.trim().trim_start_matches("export ");
            let (key, value) = line.split_once('=')?;
            (key == name).then(|| value.trim_matches(['"', '\'']).to_owned())
        })
    });
    from_file.unwrap_or_else(|| {
        panic!(
            "{name} is not set and {} does not exist: start the test services with \
             `bash scripts/services.sh up .services` (or run `bash scripts/test.sh`)",
            env_file.display()
        )
    })
}

/// The RabbitMQ URL of the test services.
pub fn amqp_url() -> String {
    service_url("AMQP_URL")
}

/// A database of its own for one test, created empty on the test server.
pub struct TestDatabase {
    /// URL of the new database.
    pub url: String,
    /// Its name.
    pub name: String,
    admin_url: String,
}

impl TestDatabase {
    /// Creates an empty database named after `label` plus a unique suffix.
    pub async fn create(label: &str) -> Self {
        let admin_url = service_url("DATABASE_URL");
        let name = format!(
            "test_{label}_{}",
            uuid::Uuid::new_v4()
                .simple()
                .to_string()
                .get(..12)
                .unwrap_or("x")
        );
        let admin = connect(&admin_url).await;
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create test database");
        let url = url_with_dbname(&admin_url, &name);
        Self {
            url,
            name,
            admin_url,
        }
    }

    /// A new connection to this database.
    pub async fn connect(&self) -> tokio_postgres::Client {
        connect(&self.url).await
    }

    /// Drops the database (call at the end of a test that passed; failed ones are kept to inspect).
    pub async fn drop(self) {
        let admin = connect(&self.admin_url).await;
        admin
            .batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .await
            .expect("drop test database");
    }
}

async fn connect(url: &str) -> tokio_postgres::Client {
    dispatcher::store::connect(url)
        .await
        .unwrap_or_else(|error| panic!("cannot connect to {url}: {error}"))
}

/// Replaces the database name (the path) of a postgres URL.
fn url_with_dbname(url: &str, dbname: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[after_scheme..]
        .find('/')
        .map_or(base.len(), |i| after_scheme + i);
    let mut out = format!("{}/{dbname}", &base[..host_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// An exclusive, auto-deleted queue bound to `exchange` with `binding_key`, consumed without
/// acknowledgements: a test's window on what the service publishes there.
pub async fn watch(channel: &lapin::Channel, exchange: &str, binding_key: &str) -> lapin::Consumer {
    use lapin::{
        options::{BasicConsumeOptions, QueueBindOptions, QueueDeclareOptions},
        types::FieldTable,
    };
    let queue = channel
        .queue_declare(
            "".into(),
            QueueDeclareOptions {
                exclusive: true,
                auto_delete: true,
                ..QueueDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .expect("declare a watch queue");
    channel
        .queue_bind(
            queue.name().clone(),
            exchange.into(),
            binding_key.into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .expect("bind the watch queue");
    channel
        .basic_consume(
            queue.name().clone(),
            // The broker names each consumer: one channel may hold several watches.
            "".into(),
            BasicConsumeOptions {
                no_ack: true,
                ..BasicConsumeOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .expect("consume the watch queue")
}
