//! The dispatcher as a real child process (`dispatcher serve`, configured by environment variables),
//! so that it can be killed with SIGKILL or stopped with SIGTERM like in production.

use std::{
    fs::File,
    net::SocketAddr,
    path::PathBuf,
    process::{Child, Command, ExitStatus, Stdio},
    time::{Duration, Instant},
};

use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus};

use crate::client;

/// How long a start (migrations, world rebuild, broker connection) may take.
const START_PATIENCE: Duration = Duration::from_secs(60);

/// One dispatcher process at a time on a fixed gRPC address, restartable.
pub(crate) struct Dispatcher {
    env: Vec<(String, String)>,
    /// Where clients connect; the same across restarts.
    pub(crate) grpc_addr: SocketAddr,
    log: PathBuf,
    child: Option<Child>,
}

impl Dispatcher {
    /// A dispatcher with `env` (on top of a clean environment's PATH), logging to `log`; not started.
    pub(crate) fn new(env: Vec<(String, String)>, grpc_addr: SocketAddr, log: PathBuf) -> Self {
        Self {
            env,
            grpc_addr,
            log,
            child: None,
        }
    }

    /// Starts the process and waits until its health service says SERVING.
    pub(crate) async fn start(&mut self) -> Duration {
        assert!(self.child.is_none(), "the dispatcher is already running");
        let started = Instant::now();
        let log = File::options()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("open the dispatcher's log");
        let child = Command::new(env!("CARGO_BIN_EXE_dispatcher"))
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("RUST_LOG", "info")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone the log handle"))
            .stderr(log)
            .spawn()
            .expect("spawn dispatcher serve");
        self.child = Some(child);
        let deadline = Instant::now() + START_PATIENCE;
        loop {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!(
                    "dispatcher exited during start-up with {status}; see {}",
                    self.log.display()
                );
            }
            if self.serving().await {
                return started.elapsed();
            }
            assert!(
                Instant::now() < deadline,
                "dispatcher not serving within {START_PATIENCE:?}; see {}",
                self.log.display()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// True if the gRPC health service answers SERVING.
    async fn serving(&self) -> bool {
        let Ok(channel) = client::channel(self.grpc_addr).await else {
            return false;
        };
        let mut health = client::health(channel);
        let check = health.check(HealthCheckRequest {
            service: String::new(),
        });
        matches!(
            tokio::time::timeout(Duration::from_secs(2), check).await,
            Ok(Ok(response)) if response.get_ref().status == ServingStatus::Serving as i32
        )
    }

    /// SIGKILL: the process gets no chance to flush or acknowledge anything.
    pub(crate) fn kill(&mut self) {
        let mut child = self.child.take().expect("the dispatcher is running");
        child.kill().expect("send SIGKILL");
        child.wait().expect("reap the killed dispatcher");
    }

    /// SIGTERM, then waits up to `patience` for the exit; returns the status and how long it took,
    /// or `None` (after a SIGKILL) if it did not exit in time.
    pub(crate) async fn terminate(&mut self, patience: Duration) -> (Option<ExitStatus>, Duration) {
        let mut child = self.child.take().expect("the dispatcher is running");
        let started = Instant::now();
        let sent = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status()
            .expect("run kill -TERM");
        assert!(sent.success(), "kill -TERM failed");
        loop {
            if let Some(status) = child.try_wait().expect("poll the dispatcher") {
                return (Some(status), started.elapsed());
            }
            if started.elapsed() > patience {
                let _ = child.kill();
                let _ = child.wait();
                return (None, started.elapsed());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Dispatcher {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A loopback port nobody listens on now, for a gRPC address that must stay the same across restarts.
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("find a free port")
        .port()
}
