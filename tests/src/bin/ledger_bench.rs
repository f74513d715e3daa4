//! Ledger and webhook benchmark: charges per second with concurrent writers, and the latency of signed
//! provider notifications, each against a baseline measured in the same run on the same server.
//!
//! ```sh
//! cargo run --release -p tgos-tests --bin ledger-bench                      # SQLite
//! TGOS_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!     cargo run --release -p tgos-tests --bin ledger-bench -- postgres      # PostgreSQL
//! ```
//!
//! Each run starts the real server in process on a fresh database (the end-to-end harness), then measures:
//! - `ping`: one database round trip per iteration, 16 concurrent callers (the baseline for the ledger);
//! - `post`: a balanced charge posted straight through the store (reference claim, conditional wallet update,
//!   postings) and committed, 16 writers, each on its own workspace;
//! - `charge`: the whole charge use case (guard, posting, hash-chained audit entry, commit), 16 writers on 16
//!   workspaces, then 16 writers on one shared wallet (every charge contends for the same rows);
//! - `webhook`: `POST /webhooks/stripe` with a signed `checkout.session.completed` for distinct top-ups, 16
//!   concurrent clients, against `GET /healthz` from the same clients as the HTTP baseline.

#![expect(clippy::print_stdout, reason = "the benchmark reports its table on standard output")]

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use tgos_domain::billing::ports::Posted;
use tgos_domain::billing::{Currency, LedgerTransaction, Money, Provider, TopUpRecord, TopUpStatus};
use tgos_domain::identity::Principal;
use tgos_domain::ids::{TopUpId, WorkspaceId};
use tgos_domain::request::ClientInfo;
use tgos_domain::tenancy::TenantScope;
use tgos_persistence::payments::stripe::StripeWebhook;
use tgos_tests::app::STRIPE_WEBHOOK_SECRET;
use tgos_tests::{Backend, TestApp, TestOptions};

const WRITERS: usize = 16;

#[expect(clippy::disallowed_methods, reason = "the benchmark's own switches")]
fn seconds() -> u64 {
    std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5)
}

/// Latencies of one scenario.
struct Sample {
    name: &'static str,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Sample {
    fn per_second(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64()
    }

    fn percentile(&self, p: f64) -> f64 {
        let mut sorted = self.latencies.clone();
        sorted.sort();
        let index = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len().max(1)) - 1;
        sorted.get(index).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    }

    fn print(&self) {
        println!(
            "| {:<28} | {:>7} | {:>9.0} | {:>7.2} | {:>7.2} |",
            self.name,
            self.latencies.len(),
            self.per_second(),
            self.percentile(0.50),
            self.percentile(0.99)
        );
    }
}

/// Runs `WRITERS` loops of `step(writer, iteration)` for the configured time.
async fn measure<F, Fut>(name: &'static str, step: F) -> anyhow::Result<Sample>
where
    F: Fn(usize, usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send,
{
    let step = Arc::new(step);
    let deadline = Instant::now() + Duration::from_secs(seconds());
    let started = Instant::now();
    let mut writers = Vec::new();
    for writer in 0..WRITERS {
        let step = Arc::clone(&step);
        writers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut iteration = 0;
            while Instant::now() < deadline {
                let began = Instant::now();
                step(writer, iteration).await?;
                latencies.push(began.elapsed());
                iteration += 1;
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for writer in writers {
        latencies.extend(writer.await??);
    }
    Ok(Sample {
        name,
        elapsed: started.elapsed(),
        latencies,
    })
}

struct Tenant {
    workspace: WorkspaceId,
    scope: TenantScope,
}

async fn tenants(app: &TestApp, owner: &str, principal: &Principal, count: usize) -> anyhow::Result<Vec<Arc<Tenant>>> {
    let mut tenants = Vec::new();
    for i in 0..count {
        let workspace = app.create_workspace(owner, &format!("Bench {i}")).await?;
        let workspace = WorkspaceId::from_uuid(workspace.parse()?);
        let scope = app.tenancy.scope(principal, workspace).await?;
        // Enough credit that no charge is refused.
        let tx = app.store.begin().await?;
        let credit = LedgerTransaction::top_up(
            workspace,
            Provider::Stripe,
            Money::new(1_000_000_000, Currency::USD),
            format!("bench-credit-{workspace}"),
        );
        anyhow::ensure!(matches!(
            tx.post(&scope, &credit, chrono::Utc::now()).await?,
            Posted::Applied { .. }
        ));
        tx.commit().await?;
        tenants.push(Arc::new(Tenant { workspace, scope }));
    }
    Ok(tenants)
}

async fn bench(app: Arc<TestApp>, backend: &str) -> anyhow::Result<()> {
    let owner = app.sign_up("bench").await?;
    let principal = Arc::new(
        app.identity
            .authenticate(&owner)
            .await?
            .context("the bench session does not authenticate")?
            .principal,
    );
    let tenants = Arc::new(tenants(&app, &owner, &principal, WRITERS).await?);
    let mut samples = Vec::new();

    let store = Arc::clone(&app.store);
    samples.push(
        measure("ping (baseline)", move |_, _| {
            let store = Arc::clone(&store);
            async move { Ok(store.ping().await?) }
        })
        .await?,
    );

    let (store, all) = (Arc::clone(&app.store), Arc::clone(&tenants));
    samples.push(
        measure("post, 16 wallets", move |writer, i| {
            let (store, tenant) = (Arc::clone(&store), Arc::clone(&all[writer]));
            async move {
                let tx = store.begin().await?;
                let charge = LedgerTransaction::charge(
                    tenant.workspace,
                    Money::new(1, Currency::USD),
                    format!("bench-post-{writer}-{i}"),
                    "Bench".to_owned(),
                );
                anyhow::ensure!(matches!(
                    tx.post(&tenant.scope, &charge, chrono::Utc::now()).await?,
                    Posted::Applied { .. }
                ));
                tx.commit().await?;
                Ok(())
            }
        })
        .await?,
    );

    for (name, shared) in [("charge, 16 wallets", false), ("charge, 1 shared wallet", true)] {
        let (billing, all, principal) = (app.billing.clone(), Arc::clone(&tenants), Arc::clone(&principal));
        samples.push(
            measure(name, move |writer, i| {
                let tenant = Arc::clone(&all[if shared { 0 } else { writer }]);
                let (billing, principal) = (billing.clone(), Arc::clone(&principal));
                async move {
                    billing
                        .charge(
                            &tenant.scope,
                            &principal,
                            &ClientInfo::default(),
                            Money::new(1, Currency::USD),
                            &format!("bench-{name}-{writer}-{i}"),
                            "Bench",
                        )
                        .await?;
                    Ok(())
                }
            })
            .await?,
        );
    }

    let client = reqwest::Client::new();
    let healthz = app.url("/healthz");
    let http = client.clone();
    samples.push(
        measure("GET /healthz (baseline)", move |_, _| {
            let (http, url) = (http.clone(), healthz.clone());
            async move {
                let response = http.get(url).send().await?;
                anyhow::ensure!(response.status().is_success());
                Ok(())
            }
        })
        .await?,
    );

    // Pending top-ups to settle, more than the webhook run can use.
    let user = principal.require_user()?;
    let mut top_ups = Vec::new();
    let per_writer = 4_000;
    for writer in 0..WRITERS {
        let tenant = &tenants[writer];
        let tx = app.store.begin().await?;
        let mut ids = Vec::new();
        for _ in 0..per_writer {
            let id = TopUpId::generate();
            let now = chrono::Utc::now();
            tx.insert_top_up(
                &tenant.scope,
                &TopUpRecord {
                    id,
                    workspace_id: tenant.workspace,
                    provider: Provider::Stripe,
                    amount: Money::new(1250, Currency::USD),
                    status: TopUpStatus::Pending,
                    credited_minor: 0,
                    refunded_minor: 0,
                    provider_ref: None,
                    checkout_url: None,
                    created_by: user,
                    created_at: now,
                    updated_at: now,
                },
            )
            .await?;
            ids.push(id);
        }
        tx.commit().await?;
        top_ups.push(ids);
    }
    let top_ups = Arc::new(top_ups);
    let signer = Arc::new(StripeWebhook::new(STRIPE_WEBHOOK_SECRET.to_owned()));
    let webhook = app.url("/webhooks/stripe");
    samples.push(
        measure("POST /webhooks/stripe", move |writer, i| {
            let (http, url, signer) = (client.clone(), webhook.clone(), Arc::clone(&signer));
            let top_up = top_ups[writer].get(i).copied();
            async move {
                let top_up = top_up.context("the run outlasted the prepared top-ups")?;
                let body = serde_json::json!({
                    "id": format!("evt_bench_{writer}_{i}"),
                    "object": "event",
                    "type": "checkout.session.completed",
                    "data": { "object": {
                        "id": format!("cs_bench_{writer}_{i}"),
                        "object": "checkout.session",
                        "amount_total": 1250,
                        "currency": "usd",
                        "payment_status": "paid",
                        "metadata": { "top_up_id": top_up.to_string() },
                    } }
                })
                .to_string();
                let signature = signer.sign(body.as_bytes(), chrono::Utc::now().timestamp());
                let response = http
                    .post(url)
                    .header("stripe-signature", signature)
                    .body(body)
                    .send()
                    .await?;
                anyhow::ensure!(response.status().is_success(), "webhook answered {}", response.status());
                Ok(())
            }
        })
        .await?,
    );

    println!(
        "\n{backend}, {WRITERS} concurrent callers, {} s per scenario\n",
        seconds()
    );
    println!("| scenario                     |   count |     per s |  p50 ms |  p99 ms |");
    println!("|------------------------------|---------|-----------|---------|---------|");
    for sample in &samples {
        sample.print();
    }
    let rate = |name: &str| samples.iter().find(|s| s.name == name).map_or(0.0, Sample::per_second);
    let p99 = |name: &str| {
        samples
            .iter()
            .find(|s| s.name == name)
            .map_or(0.0, |s| s.percentile(0.99))
    };
    println!();
    println!(
        "charge (16 wallets) / ping: {:.1}%",
        100.0 * rate("charge, 16 wallets") / rate("ping (baseline)")
    );
    println!(
        "post (16 wallets) / ping: {:.1}%",
        100.0 * rate("post, 16 wallets") / rate("ping (baseline)")
    );
    println!(
        "charge shared / charge 16 wallets: {:.1}%",
        100.0 * rate("charge, 1 shared wallet") / rate("charge, 16 wallets")
    );
    println!(
        "webhook p99 / healthz p99: {:.1}x",
        p99("POST /webhooks/stripe") / p99("GET /healthz (baseline)").max(f64::EPSILON)
    );
    for tenant in tenants.iter() {
        let check = app.billing_check(tenant.workspace).await?;
        anyhow::ensure!(
            check.postings_sum == 0 && check.wallet_postings_sum == check.wallet_balance,
            "{check:?}"
        );
    }
    println!("ledger check after the run: every workspace balances");
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let backend = match std::env::args().nth(1).as_deref() {
        None | Some("sqlite") => Backend::Sqlite,
        Some("postgres") => Backend::Postgres,
        Some(other) => anyhow::bail!("unknown backend {other}: sqlite or postgres"),
    };
    let name = if backend == Backend::Sqlite {
        "SQLite"
    } else {
        "PostgreSQL"
    };
    backend
        .run(TestOptions::lenient_lockout(), move |app| async move {
            bench(app, name).await
        })
        .await
}
