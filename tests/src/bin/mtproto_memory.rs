//! Memory of idle MTProto connections (issue 19: "plan for 1,000 per process"). The real adapter
//! (`tgos_telegram::mtproto`) opens N connections to a peer that accepts and reads but never answers (a
//! second process of this binary, `mtproto-memory silent-peer`), so each connection holds what an idle one
//! holds on the client side: its sender pool and runner task, its TCP socket and read buffers, its in-memory
//! session, and one request in flight. The resident memory of this process is read before and after. The
//! update fan-out each established connection adds is measured beside it, as its own figure.
//!
//! ```sh
//! cargo build --release -p tgos-tests --bin mtproto-memory
//! ulimit -n 4096    # N sockets here and N in the peer
//! BENCH_CONNECTIONS=1000 ./target/release/mtproto-memory
//! ```
//!
//! What it cannot see: the answers of a real Telegram (the account's user, its update state) and grammers'
//! update machinery after the first answer; those add the fan-out (measured) and a few small maps.

#![expect(clippy::print_stdout, reason = "the benchmark reports its table on standard output")]

#[path = "inbox_bench/probe.rs"]
#[expect(dead_code, reason = "the inbox benchmark's probes; this one reads memory only")]
mod probe;

use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::Context as _;
use tgos_domain::accounts::gateway::{TelegramGateway as _, UpdateFanout};
use tgos_domain::accounts::{AuthKey, DcId, TelegramSession};
use tgos_domain::ids::AccountId;
use tgos_telegram::mtproto::{MtprotoConfig, MtprotoGateway};
use tokio::io::AsyncReadExt as _;

/// The fan-out buffer the adapter gives each connection (`telegram/src/mtproto/connection.rs`), and the
/// sandbox's (`telegram/src/sandbox/mailbox.rs`) as the baseline it was chosen against.
const FANOUT_BUFFER: usize = 64;
const SANDBOX_FANOUT_BUFFER: usize = 256;

#[expect(clippy::disallowed_methods, reason = "the benchmark's own switch")]
fn connections() -> usize {
    std::env::var("BENCH_CONNECTIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000)
}

fn main() -> anyhow::Result<()> {
    if std::env::args().nth(1).as_deref() == Some("silent-peer") {
        return tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(silent_peer());
    }
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?
        .block_on(measure(connections()))
}

/// Accepts connections and reads them without ever answering; prints its address first.
async fn silent_peer() -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("{}", listener.local_addr()?);
    loop {
        let (mut socket, _) = listener.accept().await?;
        tokio::spawn(async move {
            let mut sink = [0u8; 1024];
            while matches!(socket.read(&mut sink).await, Ok(n) if n > 0) {}
        });
    }
}

async fn measure(count: usize) -> anyhow::Result<()> {
    let mut peer = Command::new(std::env::current_exe()?)
        .arg("silent-peer")
        .stdout(Stdio::piped())
        .spawn()
        .context("starting the silent peer")?;
    let mut line = String::new();
    BufReader::new(peer.stdout.take().context("the peer's output")?).read_line(&mut line)?;
    let address: SocketAddr = line.trim().parse().context("the peer's address")?;

    let gateway = MtprotoGateway::new(MtprotoConfig::new(1, &"0".repeat(32), false)?);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = probe::rss_bytes()?;
    let mut waiting = Vec::with_capacity(count);
    for n in 0..count {
        let key: Vec<u8> = (0..AuthKey::LEN).map(|_| rand::random::<u8>() | 1).collect();
        let session = TelegramSession::new(DcId::new(2)?, AuthKey::from_bytes(&key)?)
            .with_server(address)?
            .with_user_id(i64::try_from(n)? + 1)?;
        let gateway = gateway.clone();
        waiting.push(tokio::spawn(async move {
            gateway.connect(AccountId::generate(), &session).await.map(|_| ())
        }));
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    let connected = probe::rss_bytes()?;
    let still_waiting = waiting.iter().filter(|task| !task.is_finished()).count();

    let fanouts: Vec<UpdateFanout> = (0..count).map(|_| UpdateFanout::new(FANOUT_BUFFER)).collect();
    let with_fanouts = probe::rss_bytes()?;
    let sandbox_fanouts: Vec<UpdateFanout> = (0..count).map(|_| UpdateFanout::new(SANDBOX_FANOUT_BUFFER)).collect();
    let with_sandbox_fanouts = probe::rss_bytes()?;

    let per = |bytes: u64| bytes as f64 / count as f64 / 1024.0;
    println!(
        "| connections | waiting for an answer | RSS before | RSS after | per connection | fan-out ({FANOUT_BUFFER}) per connection | fan-out ({SANDBOX_FANOUT_BUFFER}) per connection |"
    );
    println!("|---|---|---|---|---|---|---|");
    println!(
        "| {count} | {still_waiting} | {:.1} MiB | {:.1} MiB | {:.1} KiB | {:.1} KiB | {:.1} KiB |",
        probe::mib(before),
        probe::mib(connected),
        per(connected.saturating_sub(before)),
        per(with_fanouts.saturating_sub(connected)),
        per(with_sandbox_fanouts.saturating_sub(with_fanouts)),
    );
    drop((fanouts, sandbox_fanouts));
    for task in waiting {
        task.abort();
    }
    peer.kill()?;
    Ok(())
}
