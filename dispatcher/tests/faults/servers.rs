//! A PostgreSQL + TimescaleDB and a RabbitMQ of the fault tests' own, started with
//! `scripts/services.sh` in a temporary folder on ports apart from the shared test services, so they
//! can be stopped and started under load without disturbing any other test.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

/// The private servers; stopped (and their folder removed) when dropped, also when a test fails.
pub(crate) struct Servers {
    dir: PathBuf,
    pg_port: u16,
    rmq_port: u16,
    /// Admin URL of the `courier` database.
    pub(crate) database_url: String,
    /// The broker.
    pub(crate) amqp_url: String,
}

/// Which server a fault is injected into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Server {
    Postgres,
    RabbitMq,
}

impl Servers {
    /// Starts both on `FAULTS_PG_PORT` (default 55500) and `FAULTS_RMQ_PORT` (default 55700; the
    /// broker also takes the next port, the one 3 below, and 11 after those for its tools).
    pub(crate) fn up() -> Servers {
        let port = |name: &str, default: u16| {
            std::env::var(name)
                .ok()
                .map(|v| {
                    v.parse()
                        .unwrap_or_else(|_| panic!("{name}={v} is not a port"))
                })
                .unwrap_or(default)
        };
        let dir = std::env::temp_dir().join(format!("dispatcher-faults-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create the servers' folder");
        let mut servers = Servers {
            pg_port: port("FAULTS_PG_PORT", 55500),
            rmq_port: port("FAULTS_RMQ_PORT", 55700),
            database_url: String::new(),
            amqp_url: String::new(),
            dir,
        };
        let output = servers.script("up");
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        let value = |key: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(key))
                .unwrap_or_else(|| panic!("services.sh up printed no {key}: {text}"))
                .to_owned()
        };
        servers.database_url = value("DATABASE_URL=");
        servers.amqp_url = value("AMQP_URL=");
        servers
    }

    /// Stops one server (data kept); returns once it is down.
    pub(crate) fn stop(&self, server: Server) {
        self.script(match server {
            Server::Postgres => "stop-pg",
            Server::RabbitMq => "stop-rmq",
        });
    }

    /// Starts one server again; returns once it answers.
    pub(crate) fn start(&self, server: Server) {
        self.script(match server {
            Server::Postgres => "start-pg",
            Server::RabbitMq => "start-rmq",
        });
    }

    /// Creates an empty database for one scenario and returns its URL.
    pub(crate) async fn create_database(&self, name: &str) -> String {
        let admin = dispatcher::store::connect(&self.database_url)
            .await
            .expect("connect to the private database server");
        // Two statements: DROP DATABASE cannot run inside the implicit transaction of a batch.
        for statement in [
            format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            format!("CREATE DATABASE {name}"),
        ] {
            admin
                .batch_execute(&statement)
                .await
                .expect("create the scenario's database");
        }
        self.database_url.replace("/courier", &format!("/{name}"))
    }

    /// Runs `scripts/services.sh COMMAND DIR` on this folder's ports and fails the test if it fails.
    fn script(&self, command: &str) -> std::process::Output {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/services.sh");
        let output = Command::new("bash")
            .arg(&script)
            .arg(command)
            .arg(&self.dir)
            .env("PG_PORT", self.pg_port.to_string())
            .env("RMQ_PORT", self.rmq_port.to_string())
            .output()
            .expect("run scripts/services.sh");
        assert!(
            output.status.success(),
            "services.sh {command} failed ({}); set FAULTS_PG_PORT / FAULTS_RMQ_PORT if the ports \
             are taken:\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }
}

impl Drop for Servers {
    fn drop(&mut self) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/services.sh");
        let stopped = Command::new("bash")
            .arg(&script)
            .arg("down")
            .arg(&self.dir)
            .env("PG_PORT", self.pg_port.to_string())
            .env("RMQ_PORT", self.rmq_port.to_string())
            .status();
        match stopped {
            Ok(status) if status.success() => {
                // The cluster may live elsewhere (see services.sh); the link and the broker's data go.
                let _ = std::fs::remove_dir_all(&self.dir);
            }
            other => eprintln!(
                "faults: stopping the private servers in {} failed ({other:?}); run \
                 `bash scripts/services.sh down {}`",
                self.dir.display(),
                self.dir.display()
            ),
        }
    }
}
