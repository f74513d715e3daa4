//! The retention sweep's purges on both databases: one counting statement and one batch statement each.
//!
//! Rule: a batch is a single statement changing at most `limit` rows chosen by a sub-select (`… WHERE key IN
//! (SELECT key … LIMIT n)`), run on the pool behind the `retention` sweep wall, so on PostgreSQL it is one
//! short transaction whose policies show only the rows a purge may touch, and on SQLite one short write.
//! Counting runs the same condition and changes nothing.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait as _, DatabaseBackend, Statement, Value};
use tgos_domain::retention::{Purge, RetentionRepository};
use tgos_domain::store::{StoreError, StoreResult};

use crate::errors::DbResultExt as _;
use crate::repo::{Conn, Repo};
use crate::wall::Wall;

const RETENTION: Wall<'static> = Wall::Sweep("retention");

/// An inbox row whose account has no active lease in its workspace and none that ended after the cutoff.
macro_rules! lease_ended {
    ($alias:literal) => {
        concat!(
            "NOT EXISTS (SELECT 1 FROM leases l WHERE l.workspace_id = ",
            $alias,
            ".workspace_id AND l.account_id = ",
            $alias,
            ".account_id AND (l.status = 'ACTIVE' OR l.ends_at >= $1))"
        )
    };
}

/// A row whose workspace no longer exists (it was erased).
macro_rules! workspace_gone {
    ($alias:literal) => {
        concat!(
            "NOT EXISTS (SELECT 1 FROM workspaces w WHERE w.id = ",
            $alias,
            ".workspace_id)"
        )
    };
}

/// What one step of a purge does to the rows it selects.
enum Change {
    Delete,
    /// Deletes the selected rows' children in `child` (whose `parent_key` names them) first, then the rows,
    /// in one transaction: a parent never goes without all its children, or the children without it.
    DeleteWith {
        child: &'static str,
        parent_key: &'static str,
    },
    /// `SET` list.
    Null(&'static str),
}

/// One table's part of a purge: `$1` is the cutoff and `$2`, when used, now.
struct Step {
    table: &'static str,
    /// The key columns, as the outer statement names them.
    key: &'static str,
    /// The key columns through the alias `t`.
    inner_key: &'static str,
    condition: &'static str,
    change: Change,
}

fn delete(table: &'static str, key: &'static str, inner_key: &'static str, condition: &'static str) -> Step {
    Step {
        table,
        key,
        inner_key,
        condition,
        change: Change::Delete,
    }
}

/// The steps of a purge, in the order they run (dependants before what they depend on).
fn steps(purge: Purge) -> Vec<Step> {
    match purge {
        Purge::ExpiredSessions => vec![delete(
            "sessions",
            "id",
            "t.id",
            "(t.expires_at < $1 OR t.revoked_at < $1)",
        )],
        Purge::SessionTelemetry => vec![Step {
            table: "sessions",
            key: "id",
            inner_key: "t.id",
            condition: "(t.ip_address IS NOT NULL OR t.user_agent IS NOT NULL) AND COALESCE(t.last_seen_at, \
                        t.created_at) < $1",
            change: Change::Null("ip_address = NULL, user_agent = NULL"),
        }],
        Purge::StaleApprovals => vec![delete("staff_approvals", "id", "t.id", "t.proposed_at < $1")],
        Purge::ExpiredChallenges => vec![delete(
            "sign_in_challenges",
            "token_hash",
            "t.token_hash",
            "t.expires_at < $1",
        )],
        Purge::StaleThrottles => vec![delete(
            "auth_throttles",
            "key",
            "t.key",
            "t.updated_at < $1 AND (t.locked_until IS NULL OR t.locked_until < $2)",
        )],
        Purge::EndedInvitations => vec![delete(
            "invitations",
            "id",
            "t.id",
            "(t.expires_at < $1 OR t.accepted_at < $1 OR t.revoked_at < $1)",
        )],
        Purge::InboxOfEndedLeases => vec![
            delete(
                "inbox_dialog_tags",
                "(workspace_id, dialog_id, tag)",
                "t.workspace_id, t.dialog_id, t.tag",
                concat!(
                    "EXISTS (SELECT 1 FROM inbox_dialogs d WHERE d.id = t.dialog_id AND ",
                    lease_ended!("d"),
                    ")"
                ),
            ),
            delete("inbox_messages", "id", "t.id", lease_ended!("t")),
            delete("inbox_dialogs", "id", "t.id", lease_ended!("t")),
            delete(
                "inbox_sync",
                "(workspace_id, account_id)",
                "t.workspace_id, t.account_id",
                lease_ended!("t"),
            ),
        ],
        Purge::FinishedExecutions => vec![
            delete(
                "automation_executions",
                "id",
                "t.id",
                "t.status IN ('SUCCEEDED', 'FAILED') AND t.finished_at < $1",
            ),
            delete(
                "automation_sends",
                "(workspace_id, origin_key)",
                "t.workspace_id, t.origin_key",
                "t.sent_at < $1",
            ),
        ],
        Purge::OldBilling => vec![
            Step {
                table: "ledger_transactions",
                key: "id",
                inner_key: "t.id",
                condition: concat!("t.created_at < $1 AND ", workspace_gone!("t")),
                change: Change::DeleteWith {
                    child: "ledger_postings",
                    parent_key: "transaction_id",
                },
            },
            delete(
                "payment_references",
                "(provider, payment_ref)",
                "t.provider, t.payment_ref",
                concat!("t.created_at < $1 AND ", workspace_gone!("t")),
            ),
            delete(
                "payment_discrepancies",
                "id",
                "t.id",
                concat!("t.created_at < $1 AND ", workspace_gone!("t")),
            ),
            delete(
                "top_ups",
                "id",
                "t.id",
                concat!("t.created_at < $1 AND ", workspace_gone!("t")),
            ),
            // A balance goes with the last ledger row of its workspace.
            delete(
                "wallet_balances",
                "workspace_id",
                "t.workspace_id",
                concat!(
                    workspace_gone!("t"),
                    " AND NOT EXISTS (SELECT 1 FROM ledger_transactions l WHERE l.workspace_id = t.workspace_id)"
                ),
            ),
        ],
    }
}

impl Step {
    /// How many of the parameters `$1` (cutoff), `$2` (now) the condition uses.
    fn params(&self) -> usize {
        if self.condition.contains("$2") {
            2
        } else if self.condition.contains("$1") {
            1
        } else {
            0
        }
    }

    fn values(&self, cutoff: DateTime<Utc>, now: DateTime<Utc>) -> Vec<Value> {
        let mut values: Vec<Value> = vec![cutoff.into(), now.into()];
        values.truncate(self.params());
        values
    }

    fn count_sql(&self) -> String {
        format!("SELECT COUNT(*) AS n FROM {} t WHERE {}", self.table, self.condition)
    }

    /// The batch's statements, run in order in one transaction.
    fn batch_sql(&self) -> Vec<String> {
        // A select run twice picks the same rows only in a fixed order; one run needs none.
        let order = match self.change {
            Change::DeleteWith { .. } => format!(" ORDER BY {}", self.inner_key),
            Change::Delete | Change::Null(_) => String::new(),
        };
        let select = format!(
            "SELECT {} FROM {} t WHERE {}{order} LIMIT ${}",
            self.inner_key,
            self.table,
            self.condition,
            self.params() + 1
        );
        match self.change {
            Change::Delete => vec![format!("DELETE FROM {} WHERE {} IN ({select})", self.table, self.key)],
            Change::Null(set) => vec![format!(
                "UPDATE {} SET {set} WHERE {} IN ({select})",
                self.table, self.key
            )],
            Change::DeleteWith { child, parent_key } => vec![
                format!("DELETE FROM {child} WHERE {parent_key} IN ({select})"),
                format!("DELETE FROM {} WHERE {} IN ({select})", self.table, self.key),
            ],
        }
    }
}

/// `$n` placeholders as the backend spells them (SQLite: `?n`, numbered the same).
fn statement(backend: DatabaseBackend, sql: &str, values: Vec<Value>) -> Statement {
    let sql = if backend == DatabaseBackend::Postgres {
        sql.to_owned()
    } else {
        sql.replace('$', "?")
    };
    Statement::from_sql_and_values(backend, sql, values)
}

#[async_trait]
impl<C: Conn> RetentionRepository for Repo<C> {
    async fn count_due(&self, purge: Purge, cutoff: DateTime<Utc>, now: DateTime<Utc>) -> StoreResult<u64> {
        self.behind(RETENTION, async |db| {
            let backend = db.conn().get_database_backend();
            let mut total = 0_u64;
            for step in &steps(purge) {
                let row = db
                    .conn()
                    .query_one_raw(statement(backend, &step.count_sql(), step.values(cutoff, now)))
                    .await
                    .store()?
                    .ok_or_else(|| StoreError::backend("a count returned no row"))?;
                let n: i64 = row.try_get("", "n").store()?;
                total += u64::try_from(n).unwrap_or(0);
            }
            Ok(total)
        })
        .await
    }

    async fn purge_batch(
        &self,
        purge: Purge,
        cutoff: DateTime<Utc>,
        now: DateTime<Utc>,
        limit: u64,
    ) -> StoreResult<u64> {
        let limit = i64::try_from(limit.max(1)).unwrap_or(i64::MAX);
        for step in &steps(purge) {
            let changed = self
                .behind(RETENTION, async |db| {
                    let backend = db.conn().get_database_backend();
                    let mut values = step.values(cutoff, now);
                    values.push(limit.into());
                    // The last statement changes the step's own rows; the ones before it, their children.
                    let mut changed = 0;
                    for sql in step.batch_sql() {
                        let result = db
                            .conn()
                            .execute_raw(statement(backend, &sql, values.clone()))
                            .await
                            .store()?;
                        changed = result.rows_affected();
                    }
                    Ok(changed)
                })
                .await?;
            if changed > 0 {
                return Ok(changed);
            }
        }
        Ok(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_selects_its_rows_by_key_with_the_limit_as_the_next_parameter() {
        let step = &steps(Purge::StaleThrottles)[0];
        assert_eq!(
            step.batch_sql(),
            [
                "DELETE FROM auth_throttles WHERE key IN (SELECT t.key FROM auth_throttles t WHERE t.updated_at < $1 \
              AND (t.locked_until IS NULL OR t.locked_until < $2) LIMIT $3)"
            ]
        );
        let telemetry = &steps(Purge::SessionTelemetry)[0].batch_sql()[0];
        assert!(telemetry.starts_with("UPDATE sessions SET ip_address = NULL, user_agent = NULL WHERE id IN"));
        assert!(telemetry.ends_with("LIMIT $2)"));
        let sqlite = statement(DatabaseBackend::Sqlite, "a < $1 LIMIT $2", vec![1.into(), 2.into()]);
        assert_eq!(sqlite.sql, "a < ?1 LIMIT ?2");
    }

    #[test]
    fn old_billing_deletes_whole_transactions_and_a_balance_only_after_its_last_transaction() {
        let steps = steps(Purge::OldBilling);
        let ledger = steps[0].batch_sql();
        assert_eq!(ledger.len(), 2, "postings, then their transactions");
        let select = "(SELECT t.id FROM ledger_transactions t WHERE t.created_at < $1 AND NOT EXISTS (SELECT 1 \
                      FROM workspaces w WHERE w.id = t.workspace_id) ORDER BY t.id LIMIT $2)";
        assert_eq!(
            ledger[0],
            format!("DELETE FROM ledger_postings WHERE transaction_id IN {select}")
        );
        assert_eq!(
            ledger[1],
            format!("DELETE FROM ledger_transactions WHERE id IN {select}")
        );
        let balances = steps.last().expect("a last step");
        assert_eq!(balances.table, "wallet_balances");
        assert_eq!(balances.params(), 0);
        assert!(balances.batch_sql()[0].ends_with("LIMIT $1)"));
    }
}
