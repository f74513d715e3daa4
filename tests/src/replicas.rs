//! More than one process on a test's database: in-process replicas of the test's server
//! ([`TestApp::replica`]), real `tgos serve` and `tgos worker` processes ([`TgosProcess`], started from the
//! package's `tgos-under-test` binary), and the leader leases they share, read behind their back.

use std::io::BufRead as _;
use std::net::SocketAddr;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use sea_orm::{ConnectionTrait as _, DatabaseBackend, Statement};
use tgos_api::config::Settings;
use tgos_api::server::{RunningServer, start};

use crate::TestApp;

/// A stored leader lease, read behind the processes' back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredLeader {
    pub name: String,
    pub holder: String,
}

impl TestApp {
    /// Starts another server on this test's database and data directory, as a second replica would run:
    /// this server's settings with `configure` applied. The test stops it ([`RunningServer::stop`]).
    pub async fn replica(&self, configure: impl FnOnce(&mut Settings)) -> anyhow::Result<RunningServer> {
        let mut settings = self.settings.clone();
        configure(&mut settings);
        start(settings).await.context("replica failed to start")
    }

    /// The holder id of this server's leader leases, when it runs the background work.
    pub fn leader_holder(&self) -> Option<String> {
        self.server
            .lock()
            .ok()
            .and_then(|server| server.as_ref().and_then(|s| s.leader_holder().map(str::to_owned)))
    }

    /// Every stored leader lease (lapsed or not), by name.
    pub async fn leaders(&self) -> anyhow::Result<Vec<StoredLeader>> {
        let db = self.db().await?;
        let rows = db
            .query_all_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT name, holder FROM leader_leases ORDER BY name",
            ))
            .await?;
        db.close().await?;
        rows.iter()
            .map(|row| {
                Ok(StoredLeader {
                    name: row.try_get("", "name")?,
                    holder: row.try_get("", "holder")?,
                })
            })
            .collect()
    }

    /// The holder of leader lease `name`, if one is stored.
    pub async fn leader_of(&self, name: &str) -> anyhow::Result<Option<String>> {
        Ok(self
            .leaders()
            .await?
            .into_iter()
            .find(|leader| leader.name == name)
            .map(|leader| leader.holder))
    }

    /// Waits up to `within` until `held` accepts the holder of `name` (`None`: no lease stored).
    pub async fn wait_for_leader(
        &self,
        name: &str,
        within: Duration,
        held: impl Fn(Option<&str>) -> bool,
    ) -> anyhow::Result<Option<String>> {
        let deadline = Instant::now() + within;
        loop {
            let holder = self.leader_of(name).await?;
            if held(holder.as_deref()) {
                return Ok(holder);
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "{name}: still held by {holder:?} after {within:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// How many audit entries of `action` are stored, across every workspace.
    pub async fn audit_count(&self, action: &str) -> anyhow::Result<i64> {
        let db = self.db().await?;
        let backend = db.get_database_backend();
        let sql = if backend == DatabaseBackend::Postgres {
            "SELECT COUNT(*) AS n FROM audit_log WHERE action = $1"
        } else {
            "SELECT COUNT(*) AS n FROM audit_log WHERE action = ?"
        };
        let row = db
            .query_one_raw(Statement::from_sql_and_values(backend, sql, [action.into()]))
            .await?
            .context("no count")?;
        db.close().await?;
        Ok(row.try_get("", "n")?)
    }

    /// The environment a `tgos` process needs to run on this test's database and data directory (and
    /// nothing of the test process's own): listening on a free port, stopping within 5 s, leader leases of
    /// 3 s, text logs at `info` on stdout.
    pub fn process_env(&self) -> Vec<(String, String)> {
        let mut env = vec![
            ("TGOS_DATA_DIR", self.data_dir.path().display().to_string()),
            ("TGOS_SERVER__ADDR", "127.0.0.1:0".to_owned()),
            ("TGOS_SERVER__SHUTDOWN_GRACE_SECS", "5".to_owned()),
            ("TGOS_WORKERS__LEADER_LEASE_SECS", "3".to_owned()),
            ("TGOS_TELEGRAM__GATEWAY", "sandbox".to_owned()),
            ("TGOS_LOG__FILTER", "info".to_owned()),
            ("TGOS_LOG__FORMAT", "text".to_owned()),
        ];
        if let (Some(server), Some(owner)) = (&self.server_database_url, &self.database_url) {
            env.push(("TGOS_DATABASE__URL", server.clone()));
            env.push(("TGOS_DATABASE__OWNER_URL", owner.clone()));
        }
        env.into_iter().map(|(name, value)| (name.to_owned(), value)).collect()
    }
}

/// A running `tgos` process; killed when dropped, if still running.
#[derive(Debug)]
pub struct TgosProcess {
    child: Child,
    /// Where it listens (the API for `serve`, health and metrics for `worker`).
    pub addr: SocketAddr,
    lines: mpsc::Receiver<String>,
    /// Every line it wrote to stdout so far (read through [`Self::output`]).
    seen: Vec<String>,
}

impl TgosProcess {
    /// Starts `program` (the tests' `env!("CARGO_BIN_EXE_tgos-under-test")`) with `args` (`["serve"]`,
    /// `["serve", "--workers=false"]`, `["worker"]`) in `env` and nothing else, and waits until it listens.
    pub fn start(program: &str, args: &[&str], env: &[(String, String)]) -> anyhow::Result<Self> {
        let mut child = Command::new(program)
            .args(args)
            .env_clear()
            .envs(env.iter().map(|(name, value)| (name.as_str(), value.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("cannot start {program}"))?;
        let stdout = child.stdout.take().context("no stdout")?;
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        let mut process = Self {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            lines,
            seen: Vec::new(),
        };
        process.addr = process.listening(Duration::from_secs(60))?;
        Ok(process)
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM (a graceful stop).
    pub fn terminate(&self) -> anyhow::Result<()> {
        self.signal("-TERM")
    }

    /// Sends SIGKILL (a crash: nothing is released).
    pub fn kill(&self) -> anyhow::Result<()> {
        self.signal("-KILL")
    }

    /// Waits up to `within` for the process to exit.
    pub fn wait(&mut self, within: Duration) -> anyhow::Result<ExitStatus> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Ok(status);
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "the process did not exit within {within:?}; it wrote:\n{}",
                self.output().join("\n")
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Every line it wrote to stdout so far.
    pub fn output(&mut self) -> &[String] {
        while let Ok(line) = self.lines.try_recv() {
            self.seen.push(line);
        }
        &self.seen
    }

    fn signal(&self, which: &str) -> anyhow::Result<()> {
        let status = Command::new("kill").args([which, &self.pid().to_string()]).status()?;
        anyhow::ensure!(status.success(), "kill {which} failed");
        Ok(())
    }

    /// The address of its "listening on http://…" line.
    fn listening(&mut self, within: Duration) -> anyhow::Result<SocketAddr> {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = match self.lines.recv_timeout(left) {
                Ok(line) => line,
                Err(_) => anyhow::bail!(
                    "the process did not listen within {within:?}; it wrote:\n{}",
                    self.seen.join("\n")
                ),
            };
            self.seen.push(line.clone());
            if let Some(rest) = line.split("listening on http://").nth(1) {
                let addr = rest.split('/').next().unwrap_or_default();
                return addr.parse().with_context(|| format!("no address in {line:?}"));
            }
        }
    }
}

impl Drop for TgosProcess {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
