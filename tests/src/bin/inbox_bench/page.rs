//! Scenario `page`: the first page of a workspace's dialogs (50 dialogs, each with its peer, account and
//! last message) over `POST /graphql` with the owner's session token, from concurrent clients, against
//! `GET /healthz` from the same clients. Every answer is checked: 200, no errors, a full page.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde_json::{Value, json};
use tgos_tests::TestApp;

use crate::probe::CpuMark;
use crate::{Config, millis, quantile};

/// The inbox's opening query.
pub const DIALOG_PAGE: &str = "query($w: ID!) { workspace(id: $w) { dialogs(first: 50) { edges { node { id unreadCount peer { id kind title username } account { id displayName } lastMessage { id text sentAt status } } } } } }";

const RENT: &str =
    "mutation($w: ID!, $o: ID!, $d: Int!) { rentAccount(workspaceId: $w, offerId: $o, days: $d) { id } }";

/// A workspace renting one sandbox account to which `dialogs` contacts wrote `messages` times each, synced;
/// the owner's token and the workspace.
async fn seed(app: &TestApp, dialogs: usize, messages: usize) -> anyhow::Result<(String, String)> {
    let account = *app
        .stock_pool(1, 100)
        .await?
        .first()
        .context("the pool was not stocked")?;
    let owner = app.sign_up("bench").await?;
    let workspace = app.create_workspace(&owner, "Bench").await?;
    app.credit_wallet(&owner, &workspace, 10_000).await?;
    let rented = app
        .gql(
            Some(&owner),
            RENT,
            json!({ "w": workspace, "o": account.to_string(), "d": 1 }),
        )
        .await?;
    anyhow::ensure!(rented.is_ok(), "renting failed: {}", rented.body);
    let scope = app.scope_of(&owner, &workspace).await?;
    let identity = app.accounts.sandbox_identity(&scope, account).await?;
    let network = app.sandbox().context("the sandbox gateway is off")?;
    network.ensure_account(identity.user_id, &identity.name, None)?;
    // The first sync backfills the dialogs; later messages arrive as updates.
    for round in 0..messages {
        for n in 0..dialogs {
            network.contact_send(
                identity.user_id,
                &format!("Contact {n:03}"),
                &format!("message {round} from contact {n}"),
            )?;
        }
        if round == 0 || round + 1 == messages || round % 20 == 0 {
            app.inbox.sync_all().await?;
        }
    }
    Ok((owner, workspace))
}

/// Latencies, failures and CPU of one scenario.
struct Sample {
    name: &'static str,
    elapsed: Duration,
    latencies: Vec<Duration>,
    failed: usize,
    first_failure: Option<String>,
    /// Cores busy: this process (server and load generator), everything else (PostgreSQL).
    cpu: (f64, f64),
}

impl Sample {
    fn per_second(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64()
    }

    fn print(&self, backend: &str, clients: usize) {
        let mut sorted = self.latencies.clone();
        sorted.sort();
        println!(
            "| {backend} | {} | {clients} | {} | {:.0} | {:.2} | {:.2} | {} | {:.0}% + {:.0}% |",
            self.name,
            self.latencies.len(),
            self.per_second(),
            millis(quantile(&sorted, 0.50)),
            millis(quantile(&sorted, 0.99)),
            self.failed,
            100.0 * self.cpu.0,
            100.0 * self.cpu.1,
        );
    }
}

/// Runs `clients` loops of `request` for `seconds`; a failed check is counted, not fatal.
async fn measure<F, Fut>(name: &'static str, clients: usize, seconds: u64, request: F) -> anyhow::Result<Sample>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send,
{
    let request = Arc::new(request);
    let cpu = CpuMark::now()?;
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let request = Arc::clone(&request);
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let (mut failed, mut first_failure) = (0, None);
            while Instant::now() < deadline {
                let began = Instant::now();
                let outcome = request().await;
                latencies.push(began.elapsed());
                if let Err(error) = outcome {
                    failed += 1;
                    first_failure.get_or_insert_with(|| format!("{error:#}"));
                }
            }
            (latencies, failed, first_failure)
        }));
    }
    let mut sample = Sample {
        name,
        elapsed: Duration::ZERO,
        latencies: Vec::new(),
        failed: 0,
        first_failure: None,
        cpu: (0.0, 0.0),
    };
    for task in tasks {
        let (latencies, failed, first_failure) = task.await?;
        sample.latencies.extend(latencies);
        sample.failed += failed;
        if sample.first_failure.is_none() {
            sample.first_failure = first_failure;
        }
    }
    sample.elapsed = started.elapsed();
    sample.cpu = cpu.since(sample.elapsed)?;
    Ok(sample)
}

/// 200 and no errors; the data for a closer look.
fn check_answer(status: reqwest::StatusCode, body: &[u8]) -> anyhow::Result<Value> {
    anyhow::ensure!(status.is_success(), "answered {status}");
    let mut body: Value = serde_json::from_slice(body)?;
    anyhow::ensure!(body.get("errors").is_none(), "errors: {}", body["errors"]);
    Ok(body["data"].take())
}

/// A full page: `dialogs` edges, each with its peer, account and last message.
fn check_page(status: reqwest::StatusCode, body: &[u8], dialogs: usize) -> anyhow::Result<()> {
    let data = check_answer(status, body)?;
    let edges = data
        .pointer("/workspace/dialogs/edges")
        .and_then(Value::as_array)
        .context("no edges")?;
    anyhow::ensure!(edges.len() == dialogs, "{} edges instead of {dialogs}", edges.len());
    anyhow::ensure!(
        edges.iter().all(|edge| edge["node"]["lastMessage"]["id"].is_string()
            && edge["node"]["peer"]["title"].is_string()
            && edge["node"]["account"]["id"].is_string()),
        "an edge without its last message, peer or account"
    );
    Ok(())
}

/// The same workspace's name instead of its dialogs: the caller's token and role (from the credential cache
/// after the first request) and one read behind the tenant wall, plus GraphQL.
const WORKSPACE_ONLY: &str = "query($w: ID!) { workspace(id: $w) { name } }";

/// The same page with only the dialogs' ids: the page's dialog read alone (a selection without last messages
/// or accounts reads neither), a fraction of the fields to resolve and of the answer to write.
const DIALOG_IDS: &str = "query($w: ID!) { workspace(id: $w) { dialogs(first: 50) { edges { node { id } } } } }";

/// `POST /graphql` of `query` with the owner's token from `clients` clients, each answer checked by `check`.
async fn measure_query(
    name: &'static str,
    app: &TestApp,
    config: &Config,
    owner: &str,
    body: Vec<u8>,
    check: fn(reqwest::StatusCode, &[u8], usize) -> anyhow::Result<()>,
) -> anyhow::Result<Sample> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(config.clients)
        .build()?;
    let (url, bearer, dialogs) = (app.url("/graphql"), format!("Bearer {owner}"), config.dialogs.min(50));
    measure(name, config.clients, config.seconds, move || {
        let request = client
            .post(&url)
            .header("authorization", &bearer)
            .header("content-type", "application/json")
            .body(body.clone());
        async move {
            let response = request.send().await?;
            let status = response.status();
            let answer = response.bytes().await?;
            check(status, &answer, dialogs)
        }
    })
    .await
}

pub async fn run(app: Arc<TestApp>, backend: &str, config: &Config) -> anyhow::Result<()> {
    eprintln!(
        "page: seeding {} dialogs of {} messages",
        config.dialogs, config.messages
    );
    let (owner, workspace) = seed(&app, config.dialogs, config.messages).await?;
    let page = serde_json::to_vec(&json!({ "query": DIALOG_PAGE, "variables": { "w": workspace } }))?;
    let bare = serde_json::to_vec(&json!({ "query": WORKSPACE_ONLY, "variables": { "w": workspace } }))?;
    let ids = serde_json::to_vec(&json!({ "query": DIALOG_IDS, "variables": { "w": workspace } }))?;
    let answer = app
        .http()
        .post(app.url("/graphql"))
        .bearer_auth(&owner)
        .header("content-type", "application/json")
        .body(page.clone())
        .send()
        .await?;
    let (status, answer) = (answer.status(), answer.bytes().await?);
    let full = config.dialogs.min(50);
    check_page(status, &answer, full).with_context(|| String::from_utf8_lossy(&answer).into_owned())?;
    // What checking one answer costs the load generator (part of the process's CPU below).
    let checking = Instant::now();
    for _ in 0..200 {
        check_page(status, &answer, full)?;
    }
    let check_cost = checking.elapsed() / 200;
    // SQL statements one request costs, from the server's own counter (sequential requests on an idle
    // server; the relay's tick may add one or two).
    let mut statements_per = Vec::new();
    for body in [&bare, &ids, &page] {
        const PROBES: u64 = 20;
        let before = statements(&app).await?;
        for _ in 0..PROBES {
            let response = app
                .http()
                .post(app.url("/graphql"))
                .bearer_auth(&owner)
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await?;
            check_answer(response.status(), &response.bytes().await?)?;
        }
        statements_per.push((statements(&app).await? - before) as f64 / PROBES as f64);
    }
    eprintln!(
        "page: one page is {} bytes, checking it takes the client {:.0} µs; measuring",
        answer.len(),
        check_cost.as_secs_f64() * 1e6
    );

    let mut samples = Vec::new();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(config.clients)
        .build()?;
    let url = app.url("/healthz");
    samples.push(
        measure("GET /healthz (baseline)", config.clients, config.seconds, move || {
            let request = client.get(&url);
            async move {
                let response = request.send().await?;
                let status = response.status();
                response.bytes().await?;
                anyhow::ensure!(status.is_success(), "answered {status}");
                Ok(())
            }
        })
        .await?,
    );
    samples.push(
        measure_query(
            "workspace { name } (baseline)",
            &app,
            config,
            &owner,
            bare,
            |status, body, _| {
                anyhow::ensure!(
                    check_answer(status, body)?.pointer("/workspace/name").is_some(),
                    "no workspace"
                );
                Ok(())
            },
        )
        .await?,
    );
    samples.push(
        measure_query(
            "dialogs(first: 50) { id } only",
            &app,
            config,
            &owner,
            ids,
            |status, body, dialogs| {
                let data = check_answer(status, body)?;
                let edges = data.pointer("/workspace/dialogs/edges").and_then(Value::as_array);
                anyhow::ensure!(edges.map(Vec::len) == Some(dialogs), "not a full page");
                Ok(())
            },
        )
        .await?,
    );
    samples.push(measure_query("dialogs(first: 50) page", &app, config, &owner, page, check_page).await?);

    println!(
        "\n{backend}, page scenario: {} clients, {} s per measurement, {} dialogs of {} messages, a page is {} bytes; SQL \
         statements per request: {:.1} for workspace {{ name }}, {:.1} for the ids only, {:.1} for the page; parsing and \
         checking one page costs the client {:.0} µs\n",
        config.clients,
        config.seconds,
        config.dialogs,
        config.messages,
        answer.len(),
        statements_per.first().copied().unwrap_or_default(),
        statements_per.get(1).copied().unwrap_or_default(),
        statements_per.last().copied().unwrap_or_default(),
        check_cost.as_secs_f64() * 1e6,
    );
    println!("| backend | scenario | clients | requests | req/s | p50 ms | p99 ms | failed | cores: process + rest |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for sample in &samples {
        sample.print(backend, config.clients);
    }
    if let [healthz, workspace, _, page] = samples.as_slice() {
        println!(
            "\npage / healthz: {:.1}% of the requests per second; page / workspace {{ name }}: {:.1}%",
            100.0 * page.per_second() / healthz.per_second(),
            100.0 * page.per_second() / workspace.per_second()
        );
    }
    for sample in &samples {
        if let Some(failure) = &sample.first_failure {
            anyhow::bail!(
                "{}: {} failed answers, the first: {failure}",
                sample.name,
                sample.failed
            );
        }
    }
    Ok(())
}

/// The server's count of SQL statements so far (`tgos_db_statements_total` in `/metrics`).
pub async fn statements(app: &TestApp) -> anyhow::Result<u64> {
    let text = app.http().get(app.url("/metrics")).send().await?.text().await?;
    text.lines()
        .find_map(|line| line.strip_prefix("tgos_db_statements_total "))
        .context("no tgos_db_statements_total in /metrics")?
        .trim()
        .parse()
        .context("a statement count that is not a number")
}
