//! The ledger on SeaORM, inside [`Repo::in_workspace`]: behind the workspace's wall and filtered by it (but
//! for rows looked up by the id of a transaction found through the filter); the ledger check, named by a
//! workspace alone, runs behind that workspace's wall with the same workspace in its filters. Posting a
//! transaction, inside the caller's transaction: claim the reference (`ON CONFLICT DO NOTHING` on its unique
//! index, so a duplicate waits for the first and then sees it), move the wallet balance with
//! `balance + delta >= 0` in the UPDATE's condition (left out only for a transaction that allows debt: money a
//! provider took back) (the row lock on PostgreSQL, the write lock on SQLite,
//! make concurrent charges queue and re-check), then store the postings with the balance each left.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait as _, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, DbErr, EntityTrait as _, PaginatorTrait as _, QueryFilter as _,
    QueryOrder as _, QuerySelect as _,
};
use tgos_domain::billing::ledger::{EntryKind, LedgerAccount, LedgerTransaction, RetentionClass};
use tgos_domain::billing::money::{Currency, Money};
use tgos_domain::billing::ports::{LedgerCheck, LedgerRepository, Posted, WalletEntry};
use tgos_domain::ids::{PostingId, WorkspaceId};
use tgos_domain::store::{StoreError, StoreResult};
use tgos_domain::tenancy::TenantScope;

use crate::entities::{ledger_postings, ledger_transactions, wallet_balances};
use crate::errors::DbResultExt as _;
use crate::repo::{Conn, Repo};
use crate::tenant::Outcome;
use crate::tenant::Tenant;
use crate::wall::Wall;

fn currency_of(code: &str) -> StoreResult<Currency> {
    Currency::parse(code).ok_or_else(|| StoreError::backend(format!("unknown currency {code:?} in the ledger")))
}

/// The workspace's wallet balance in `currency`.
async fn balance_of(db: &Tenant<'_>, currency: Currency) -> StoreResult<Money> {
    let row = db
        .find::<wallet_balances::Entity>()
        .filter(wallet_balances::Column::Currency.eq(currency.code()))
        .one(db.conn())
        .await
        .store()?;
    Ok(Money::new(row.map_or(0, |r| r.balance_minor), currency))
}

/// Claims the transaction's reference for the workspace: false when it was claimed before.
async fn claim(db: &Tenant<'_>, transaction: &LedgerTransaction, now: DateTime<Utc>) -> StoreResult<bool> {
    let claimed = ledger_transactions::Entity::insert(ledger_transactions::ActiveModel {
        id: Set(transaction.id().as_uuid()),
        workspace_id: Set(db.id()),
        reference: Set(transaction.reference().to_owned()),
        kind: Set(transaction.kind().as_str().to_owned()),
        description: Set(transaction.description().to_owned()),
        currency: Set(transaction.currency().code().to_owned()),
        fingerprint: Set(transaction.fingerprint()),
        created_at: Set(now),
        retention_class: Set(RetentionClass::Billing7Years.as_str().to_owned()),
    })
    .on_conflict(
        OnConflict::column(ledger_transactions::Column::Reference)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db.conn())
    .await;
    match claimed {
        Ok(rows) => Ok(rows > 0),
        Err(DbErr::RecordNotInserted) => Ok(false),
        Err(error) => Err(crate::errors::store_error(error)),
    }
}

/// What a reference claimed before came to: the same postings applied, or a conflict.
async fn applied_before(db: &Tenant<'_>, transaction: &LedgerTransaction) -> StoreResult<Posted> {
    // Seen only when it is this workspace's (the wall hides others'): another workspace's reference is a
    // conflict by definition.
    let fingerprint = transaction.fingerprint();
    let existing = db
        .find::<ledger_transactions::Entity>()
        .filter(ledger_transactions::Column::Reference.eq(transaction.reference()))
        .one(db.conn())
        .await
        .store()?;
    let Some(existing) = existing.filter(|row| row.fingerprint == fingerprint) else {
        return Ok(Posted::ReferenceConflict);
    };
    let wallet_posting = ledger_postings::Entity::find()
        .filter(ledger_postings::Column::TransactionId.eq(existing.id))
        .filter(ledger_postings::Column::Account.eq(LedgerAccount::Wallet(transaction.workspace()).key()))
        .one(db.conn())
        .await
        .store()?;
    let balance_after = match wallet_posting.and_then(|p| p.balance_after_minor) {
        Some(minor) => Money::new(minor, transaction.currency()),
        None => balance_of(db, transaction.currency()).await?,
    };
    Ok(Posted::AlreadyApplied { balance_after })
}

/// Posts `transaction` on the workspace's books. A refusal is returned with its writes still in place: the
/// caller undoes them.
async fn post_in(db: &Tenant<'_>, transaction: &LedgerTransaction, now: DateTime<Utc>) -> StoreResult<Posted> {
    db.owns(transaction.workspace(), "ledger transaction")?;
    if !claim(db, transaction, now).await? {
        return applied_before(db, transaction).await;
    }
    let wallet = LedgerAccount::Wallet(transaction.workspace());
    let currency = transaction.currency();
    let delta = transaction.delta_of(wallet);
    let mut balance_after = None;
    if delta != 0 {
        wallet_balances::Entity::insert(wallet_balances::ActiveModel {
            workspace_id: Set(db.id()),
            currency: Set(currency.code().to_owned()),
            balance_minor: Set(0),
        })
        .on_conflict(
            OnConflict::columns([wallet_balances::Column::WorkspaceId, wallet_balances::Column::Currency])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db.conn())
        .await
        .or_else(|error| match error {
            DbErr::RecordNotInserted => Ok(0),
            other => Err(other),
        })
        .store()?;
        let mut update = db
            .update_many::<wallet_balances::Entity>()
            .col_expr(
                wallet_balances::Column::BalanceMinor,
                Expr::col(wallet_balances::Column::BalanceMinor).add(delta),
            )
            .filter(wallet_balances::Column::Currency.eq(currency.code()));
        if !transaction.allows_debt() {
            update = update.filter(Expr::col(wallet_balances::Column::BalanceMinor).add(delta).gte(0));
        }
        let moved = update.exec(db.conn()).await.store()?;
        let balance = balance_of(db, currency).await?;
        if moved.rows_affected != 1 {
            return Ok(Posted::InsufficientFunds { balance });
        }
        balance_after = Some(balance);
    }

    let wallet_key = wallet.key();
    let postings = transaction.postings().iter().map(|posting| {
        let key = posting.account.key();
        let after = (key == wallet_key).then(|| balance_after.map(Money::minor)).flatten();
        ledger_postings::ActiveModel {
            id: Set(PostingId::generate().as_uuid()),
            transaction_id: Set(transaction.id().as_uuid()),
            workspace_id: Set(db.id()),
            account: Set(key),
            amount_minor: Set(posting.amount.minor()),
            currency: Set(currency.code().to_owned()),
            balance_after_minor: Set(after),
            created_at: Set(now),
            retention_class: Set(RetentionClass::Billing7Years.as_str().to_owned()),
        }
    });
    ledger_postings::Entity::insert_many(postings)
        .exec_without_returning(db.conn())
        .await
        .store()?;
    let balance_after = match balance_after {
        Some(balance) => balance,
        None => balance_of(db, currency).await?,
    };
    Ok(Posted::Applied { balance_after })
}

#[async_trait]
impl<C: Conn> LedgerRepository for Repo<C> {
    async fn post(
        &self,
        scope: &TenantScope,
        transaction: &LedgerTransaction,
        now: DateTime<Utc>,
    ) -> StoreResult<Posted> {
        // A refusal changes nothing: the wall's own transaction (on the pool) rolls back the claimed reference,
        // and the refusal is the answer. Inside the caller's transaction the caller undoes it.
        self.in_workspace_deciding(scope, async |db| {
            Ok(match post_in(db, transaction, now).await? {
                refusal @ (Posted::ReferenceConflict | Posted::InsufficientFunds { .. }) => Outcome::Undo(refusal),
                posted => Outcome::Keep(posted),
            })
        })
        .await
    }

    async fn wallet_balance(&self, scope: &TenantScope, currency: Currency) -> StoreResult<Money> {
        self.in_workspace(scope, async |db| balance_of(db, currency).await)
            .await
    }

    async fn wallet_entries(
        &self,
        scope: &TenantScope,
        before: Option<PostingId>,
        limit: u64,
    ) -> StoreResult<Vec<WalletEntry>> {
        let wallet = LedgerAccount::Wallet(scope.workspace_id());
        let (postings, transactions) = self
            .in_workspace(scope, async |db| {
                let mut query = db
                    .find::<ledger_postings::Entity>()
                    .filter(ledger_postings::Column::Account.eq(wallet.key()));
                if let Some(before) = before {
                    query = query.filter(ledger_postings::Column::Id.lt(before.as_uuid()));
                }
                let postings = query
                    .order_by_desc(ledger_postings::Column::Id)
                    .limit(limit)
                    .all(db.conn())
                    .await
                    .store()?;
                let ids: Vec<_> = postings.iter().map(|p| p.transaction_id).collect();
                let transactions = ledger_transactions::Entity::find()
                    .filter(ledger_transactions::Column::Id.is_in(ids))
                    .all(db.conn())
                    .await
                    .store()?;
                Ok((postings, transactions))
            })
            .await?;
        postings
            .into_iter()
            .map(|posting| {
                let transaction = transactions
                    .iter()
                    .find(|t| t.id == posting.transaction_id)
                    .ok_or_else(|| StoreError::backend("posting without its transaction"))?;
                let currency = currency_of(&posting.currency)?;
                Ok(WalletEntry {
                    id: PostingId::from_uuid(posting.id),
                    at: posting.created_at,
                    kind: EntryKind::parse(&transaction.kind)
                        .ok_or_else(|| StoreError::backend("unknown ledger entry kind"))?,
                    amount: Money::new(posting.amount_minor, currency),
                    balance_after: Money::new(
                        posting
                            .balance_after_minor
                            .ok_or_else(|| StoreError::backend("wallet posting without its balance"))?,
                        currency,
                    ),
                    description: transaction.description.clone(),
                    reference: transaction.reference.clone(),
                })
            })
            .collect()
    }

    async fn ledger_check(&self, workspace: WorkspaceId) -> StoreResult<LedgerCheck> {
        // Takes a workspace, not a scope (only the domain makes scopes): its wall and its filters name the same
        // `workspace`.
        let (postings, balance, transactions) = self
            .behind(Wall::Workspace(workspace), async |db| {
                let postings = ledger_postings::Entity::find()
                    .filter(ledger_postings::Column::WorkspaceId.eq(workspace.as_uuid()))
                    .all(db.conn())
                    .await
                    .store()?;
                let balance: i64 = wallet_balances::Entity::find()
                    .filter(wallet_balances::Column::WorkspaceId.eq(workspace.as_uuid()))
                    .all(db.conn())
                    .await
                    .store()?
                    .iter()
                    .map(|row| row.balance_minor)
                    .sum();
                let transactions = ledger_transactions::Entity::find()
                    .filter(ledger_transactions::Column::WorkspaceId.eq(workspace.as_uuid()))
                    .count(db.conn())
                    .await
                    .store()?;
                Ok((postings, balance, transactions))
            })
            .await?;
        let wallet_key = LedgerAccount::Wallet(workspace).key();
        Ok(LedgerCheck {
            postings_sum: postings.iter().map(|p| p.amount_minor).sum(),
            wallet_postings_sum: postings
                .iter()
                .filter(|p| p.account == wallet_key)
                .map(|p| p.amount_minor)
                .sum(),
            wallet_balance: balance,
            transactions,
        })
    }
}
