//! The ledger's invariants against the real store, for random sequences of credits, charges and replays,
//! some of them concurrent: the books always balance (postings sum to zero), a wallet never goes below zero,
//! its stored balance equals the sum of its postings and the money the operations report as moved, and each
//! entry's `balanceAfter` follows from the one before.

use std::sync::Arc;

use futures_util::future::join_all;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use tgos_domain::DomainError;
use tgos_domain::billing::ports::Posted;
use tgos_domain::billing::{Currency, LedgerTransaction, Money, Provider};
use tgos_domain::identity::Principal;
use tgos_domain::ids::WorkspaceId;
use tgos_domain::request::ClientInfo;
use tgos_domain::tenancy::TenantScope;
use tgos_tests::{TestApp, TestOptions, backend_tests};

/// One step; indices pick an earlier reference (modulo how many exist).
#[derive(Debug, Clone)]
enum Op {
    Credit(i64),
    Charge(i64),
    ReplayCredit(usize),
    ReplayCharge(usize),
    ChargeAgainWithOtherAmount(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (1_i64..5_000).prop_map(Op::Credit),
        4 => (1_i64..5_000).prop_map(Op::Charge),
        1 => any::<usize>().prop_map(Op::ReplayCredit),
        1 => any::<usize>().prop_map(Op::ReplayCharge),
        1 => any::<usize>().prop_map(Op::ChargeAgainWithOtherAmount),
    ]
}

/// Batches of operations; the operations of one batch run concurrently.
fn batches() -> impl Strategy<Value = Vec<Vec<Op>>> {
    prop::collection::vec(prop::collection::vec(op(), 1..5), 1..8)
}

/// What one operation did to the wallet: the signed amount it moved (0 when nothing moved).
#[derive(Debug)]
struct Outcome {
    /// What a charge asked for (0 for credits).
    requested: i64,
    moved: i64,
    balance_after: Option<i64>,
    refused_for_funds: bool,
}

struct Case {
    app: Arc<TestApp>,
    scope: Arc<TenantScope>,
    principal: Arc<Principal>,
    workspace: WorkspaceId,
    credits: Vec<(String, i64)>,
    charges: Vec<(String, i64)>,
}

fn usd(minor: i64) -> Money {
    Money::new(minor, Currency::USD)
}

async fn credit(
    app: &TestApp,
    scope: &TenantScope,
    workspace: WorkspaceId,
    reference: String,
    amount: i64,
) -> anyhow::Result<Outcome> {
    let tx = app.store.begin().await?;
    let transaction = LedgerTransaction::top_up(workspace, Provider::Stripe, usd(amount), reference);
    let posted = tx.post(scope, &transaction, chrono::Utc::now()).await?;
    let outcome = match posted {
        Posted::Applied { balance_after } => Outcome {
            requested: 0,
            moved: amount,
            balance_after: Some(balance_after.minor()),
            refused_for_funds: false,
        },
        Posted::AlreadyApplied { balance_after } => Outcome {
            requested: 0,
            moved: 0,
            balance_after: Some(balance_after.minor()),
            refused_for_funds: false,
        },
        other => anyhow::bail!("a credit was refused: {other:?}"),
    };
    tx.commit().await?;
    Ok(outcome)
}

async fn charge(
    app: &TestApp,
    scope: &TenantScope,
    principal: &Principal,
    key: String,
    amount: i64,
) -> anyhow::Result<Outcome> {
    match app
        .billing
        .charge(
            scope,
            principal,
            &ClientInfo::default(),
            usd(amount),
            &key,
            "Property test",
        )
        .await
    {
        Ok(charged) => Ok(Outcome {
            requested: amount,
            moved: if charged.replayed { 0 } else { -amount },
            balance_after: Some(charged.balance_after.minor()),
            refused_for_funds: false,
        }),
        Err(DomainError::InsufficientFunds(_)) => Ok(Outcome {
            requested: amount,
            moved: 0,
            balance_after: None,
            refused_for_funds: true,
        }),
        Err(DomainError::Conflict { .. }) => Ok(Outcome {
            requested: amount,
            moved: 0,
            balance_after: None,
            refused_for_funds: false,
        }),
        Err(other) => anyhow::bail!("unexpected charge outcome: {other:?}"),
    }
}

impl Case {
    async fn run(&mut self, batches: Vec<Vec<Op>>) -> anyhow::Result<()> {
        let mut expected_balance = 0_i64;
        for batch in batches {
            let sequential = batch.len() == 1;
            let mut calls = Vec::new();
            for op in batch {
                let (app, scope, principal, workspace) = (
                    Arc::clone(&self.app),
                    Arc::clone(&self.scope),
                    Arc::clone(&self.principal),
                    self.workspace,
                );
                let call: std::pin::Pin<Box<dyn Future<Output = anyhow::Result<Outcome>> + Send>> = match op {
                    Op::Credit(amount) => {
                        let reference = format!("credit-{}-{}", self.workspace, self.credits.len());
                        self.credits.push((reference.clone(), amount));
                        Box::pin(async move { credit(&app, &scope, workspace, reference, amount).await })
                    }
                    Op::Charge(amount) => {
                        let key = format!("charge-{}", self.charges.len());
                        self.charges.push((key.clone(), amount));
                        Box::pin(async move { charge(&app, &scope, &principal, key, amount).await })
                    }
                    Op::ReplayCredit(i) if !self.credits.is_empty() => {
                        let (reference, amount) = self.credits[i % self.credits.len()].clone();
                        Box::pin(async move { credit(&app, &scope, workspace, reference, amount).await })
                    }
                    Op::ReplayCharge(i) if !self.charges.is_empty() => {
                        let (key, amount) = self.charges[i % self.charges.len()].clone();
                        Box::pin(async move { charge(&app, &scope, &principal, key, amount).await })
                    }
                    Op::ChargeAgainWithOtherAmount(i) if !self.charges.is_empty() => {
                        let (key, amount) = self.charges[i % self.charges.len()].clone();
                        Box::pin(async move { charge(&app, &scope, &principal, key, amount + 1).await })
                    }
                    Op::ReplayCredit(_) | Op::ReplayCharge(_) | Op::ChargeAgainWithOtherAmount(_) => continue,
                };
                calls.push(tokio::spawn(call));
            }
            let balance_before = expected_balance;
            for call in join_all(calls).await {
                let outcome = call??;
                if let Some(after) = outcome.balance_after {
                    anyhow::ensure!(after >= 0, "a wallet went below zero: {outcome:?}");
                }
                // One at a time, the store's decision is exactly the model's: a charge goes through when the
                // balance covers it and is refused when it does not.
                if sequential && outcome.refused_for_funds {
                    anyhow::ensure!(
                        outcome.requested > balance_before,
                        "{outcome:?} refused with {balance_before}"
                    );
                }
                if sequential && outcome.moved < 0 {
                    anyhow::ensure!(
                        outcome.requested <= balance_before,
                        "{outcome:?} applied with {balance_before}"
                    );
                }
                expected_balance += outcome.moved;
            }
            anyhow::ensure!(expected_balance >= 0, "the operations moved more than there was");
        }
        let check = self.app.billing_check(self.workspace).await?;
        anyhow::ensure!(check.postings_sum == 0, "the books do not balance: {check:?}");
        anyhow::ensure!(
            check.wallet_balance == expected_balance,
            "stored {} but moved {expected_balance}",
            check.wallet_balance
        );
        anyhow::ensure!(
            check.wallet_postings_sum == check.wallet_balance,
            "the balance is not its postings: {check:?}"
        );
        let stored = self.app.store.wallet_balance(&self.scope, Currency::USD).await?;
        anyhow::ensure!(stored.minor() == expected_balance);
        let entries = self.app.store.wallet_entries(&self.scope, None, 1_000).await?;
        // Newest first: each entry's balance is the previous balance plus its amount.
        let mut later_balance = None;
        for entry in entries.iter().rev() {
            let before = later_balance.unwrap_or(0);
            anyhow::ensure!(
                entry.balance_after.minor() == before + entry.amount.minor(),
                "entry {entry:?} after {before}"
            );
            anyhow::ensure!(entry.balance_after.minor() >= 0);
            later_balance = Some(entry.balance_after.minor());
        }
        anyhow::ensure!(later_balance.unwrap_or(0) == expected_balance);
        Ok(())
    }
}

/// Owners of the cases' workspaces: one person may own only so many, so a new owner signs up when the last is
/// full.
struct Owners {
    current: Option<(String, Arc<Principal>, usize)>,
    signed_up: usize,
}

impl Owners {
    const WORKSPACES_EACH: usize = 20;

    async fn next_workspace(
        &mut self,
        app: &TestApp,
    ) -> anyhow::Result<(WorkspaceId, Arc<TenantScope>, Arc<Principal>)> {
        let full = self
            .current
            .as_ref()
            .is_none_or(|(_, _, used)| *used >= Self::WORKSPACES_EACH);
        if full {
            self.signed_up += 1;
            let token = app.sign_up(&format!("owner{}", self.signed_up)).await?;
            let principal = app
                .identity
                .authenticate(&token)
                .await?
                .ok_or_else(|| anyhow::anyhow!("the owner's session does not authenticate"))?
                .principal;
            self.current = Some((token, Arc::new(principal), 0));
        }
        let (token, principal, used) = self.current.as_mut().ok_or_else(|| anyhow::anyhow!("no owner"))?;
        *used += 1;
        let workspace = app.create_workspace(token, &format!("Case {used}")).await?;
        let workspace = WorkspaceId::from_uuid(workspace.parse()?);
        let scope = Arc::new(app.tenancy.scope(principal, workspace).await?);
        Ok((workspace, scope, Arc::clone(principal)))
    }
}

backend_tests!(
    random_credits_and_charges_never_create_destroy_or_overdraw_money,
    options = TestOptions {
        sign_ups_per_ip_per_hour: 1_000,
        ..TestOptions::default()
    },
    |app| {
        let handle = tokio::runtime::Handle::current();
        let mut runner = TestRunner::new(Config {
            cases: 48,
            max_shrink_iters: 32,
            failure_persistence: None,
            ..Config::default()
        });
        let owners = tokio::sync::Mutex::new(Owners {
            current: None,
            signed_up: 0,
        });
        let result = tokio::task::block_in_place(|| {
            runner.run(&batches(), |batches| {
                handle
                    .block_on(async {
                        // A fresh workspace per case: a fresh wallet.
                        let mut owners = owners.lock().await;
                        let (workspace, scope, principal) = owners.next_workspace(&app).await?;
                        drop(owners);
                        let mut case = Case {
                            app: Arc::clone(&app),
                            scope,
                            principal,
                            workspace,
                            credits: Vec::new(),
                            charges: Vec::new(),
                        };
                        case.run(batches).await
                    })
                    .map_err(|error| TestCaseError::fail(format!("{error:#}")))
            })
        });
        result.map_err(|error| anyhow::anyhow!("{error}"))
    }
);
