//! [`ExportSource`]: a person's data, page by page, as JSON objects.
//!
//! Rules: every column is listed by name in the mappers below, and no secret is among them (no password
//! hash, TOTP secret, session, API key or invitation token hash, sealed automation secret, ledger
//! fingerprint); a table is read in `id` order after the cursor (UUIDv7 ids, so it is also time order),
//! `limit` rows at a time. Workspace parts run behind the scope's wall ([`Repo::in_workspace`]); the user's
//! memberships, the invitations to their verified address and their entries on other workspaces' chains
//! behind their own wall (migration `000024` lets it read the last two), their account chain behind no
//! tenant's. On SQLite the filters below are the only wall: none reads more than the policy it runs behind
//! lets through on PostgreSQL.

use async_trait::async_trait;
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter as _, QueryOrder as _, QuerySelect as _, Select};
use serde_json::{Value, json};
use tgos_domain::ids::UserId;
use tgos_domain::privacy::ports::{ExportPage, ExportSource, SubjectPart, WorkspacePart};
use tgos_domain::store::{StoreError, StoreResult};
use tgos_domain::tenancy::TenantScope;
use uuid::Uuid;

use crate::entities::{
    api_keys, audit_log, automation_executions, automations, inbox_dialogs, inbox_messages, invitations, leases,
    ledger_postings, ledger_transactions, memberships, sessions, users, wallet_balances,
};
use crate::errors::DbResultExt as _;
use crate::repo::{Conn, Repo};
use crate::wall::Wall;

/// The rows after `after` in `id` order, `limit` of them, mapped; the cursor when a next page may follow.
pub(crate) async fn keyset<E: EntityTrait>(
    conn: &impl sea_orm::ConnectionTrait,
    select: Select<E>,
    id: E::Column,
    after: Option<&str>,
    limit: u64,
    map: impl Fn(E::Model) -> (Uuid, Value),
) -> StoreResult<ExportPage>
where
    E::Column: ColumnTrait,
{
    let mut select = select.order_by_asc(id).limit(limit);
    if let Some(after) = after {
        let after = Uuid::parse_str(after).map_err(StoreError::backend)?;
        select = select.filter(id.gt(after));
    }
    let rows = select.all(conn).await.store()?;
    let full = u64::try_from(rows.len()).unwrap_or(u64::MAX) >= limit;
    let mut last = None;
    let rows = rows
        .into_iter()
        .map(|row| {
            let (id, value) = map(row);
            last = Some(id);
            value
        })
        .collect();
    Ok(ExportPage {
        rows,
        next: if full { last.map(|id| id.to_string()) } else { None },
    })
}

pub(crate) fn profile(row: users::Model) -> (Uuid, Value) {
    let value = json!({
        "id": row.id, "email": row.email, "full_name": row.full_name, "username": row.username,
        "is_staff": row.is_staff, "two_factor_enabled": row.totp_secret_sealed.is_some(),
        "created_at": row.created_at, "email_verified_at": row.email_verified_at,
        "pending_email": row.pending_email, "age_confirmed_at": row.age_confirmed_at,
        "policy_version": row.policy_version,
        "notices": { "billing": row.notify_billing, "leases": row.notify_leases },
    });
    (row.id, value)
}

pub(crate) fn session(row: sessions::Model) -> (Uuid, Value) {
    let value = json!({
        "id": row.id, "created_at": row.created_at, "last_seen_at": row.last_seen_at,
        "expires_at": row.expires_at, "revoked_at": row.revoked_at, "ip_address": row.ip_address,
        "user_agent": row.user_agent,
    });
    (row.id, value)
}

pub(crate) fn membership(row: memberships::Model) -> (Uuid, Value) {
    let value = json!({ "workspace_id": row.workspace_id, "role": row.role, "joined_at": row.joined_at });
    (row.workspace_id, value)
}

pub(crate) fn audit(row: audit_log::Model) -> (Uuid, Value) {
    let metadata = serde_json::from_str::<Value>(&row.metadata).unwrap_or(Value::String(row.metadata));
    let value = json!({
        "id": row.id, "chain": row.chain, "sequence": row.sequence, "workspace_id": row.workspace_id,
        "at": row.at, "actor_kind": row.actor_kind, "actor_id": row.actor_id, "actor_name": row.actor_name,
        "action": row.action, "target_type": row.target_type, "target_id": row.target_id,
        "ip_address": row.ip_address, "user_agent": row.user_agent, "metadata": metadata,
    });
    (row.id, value)
}

fn api_key(row: api_keys::Model) -> (Uuid, Value) {
    let value = json!({
        "id": row.id, "workspace_id": row.workspace_id, "name": row.name, "prefix": row.prefix,
        "scopes": row.scopes.split_whitespace().collect::<Vec<_>>(), "created_at": row.created_at,
        "expires_at": row.expires_at, "last_used_at": row.last_used_at, "revoked_at": row.revoked_at,
    });
    (row.id, value)
}

fn invitation(row: invitations::Model) -> (Uuid, Value) {
    let value = json!({
        "id": row.id, "workspace_id": row.workspace_id, "email": row.email, "role": row.role,
        "created_at": row.created_at, "expires_at": row.expires_at, "accepted_at": row.accepted_at,
        "revoked_at": row.revoked_at,
    });
    (row.id, value)
}

fn wallet(row: wallet_balances::Model) -> (Uuid, Value) {
    let value = json!({ "currency": row.currency, "balance_minor": row.balance_minor });
    (row.workspace_id, value)
}

pub(crate) fn ledger_transaction(row: ledger_transactions::Model) -> (Uuid, Value) {
    let value = json!({
        "id": row.id, "reference": row.reference, "kind": row.kind, "description": row.description,
        "currency": row.currency, "created_at": row.created_at,
    });
    (row.id, value)
}

pub(crate) fn ledger_posting(row: ledger_postings::Model) -> (Uuid, Value) {
    let value = json!({
        "id": row.id, "transaction_id": row.transaction_id, "account": row.account,
        "amount_minor": row.amount_minor, "currency": row.currency,
        "balance_after_minor": row.balance_after_minor, "created_at": row.created_at,
    });
    (row.id, value)
}

pub(crate) fn lease(row: leases::Model) -> (Uuid, Value) {
    let value = json!({
        "id": row.id, "account_id": row.account_id, "status": row.status, "starts_at": row.starts_at,
        "ends_at": row.ends_at, "price_per_day_minor": row.price_per_day_minor, "currency": row.currency,
        "created_by": row.created_by, "created_at": row.created_at,
    });
    (row.id, value)
}

fn automation(row: automations::Model) -> (Uuid, Value) {
    let definition = serde_json::from_str::<Value>(&row.definition).unwrap_or(Value::String(row.definition));
    let value = json!({
        "id": row.id, "name": row.name, "enabled": row.enabled, "version": row.version,
        "trigger_kind": row.trigger_kind, "definition": definition, "created_by": row.created_by,
        "created_at": row.created_at, "updated_at": row.updated_at, "deleted_at": row.deleted_at,
    });
    (row.id, value)
}

fn execution(row: automation_executions::Model) -> (Uuid, Value) {
    let steps = serde_json::from_str::<Value>(&row.steps).unwrap_or(Value::String(row.steps));
    let value = json!({
        "id": row.id, "automation_id": row.automation_id, "automation_version": row.automation_version,
        "status": row.status, "reason": row.reason, "trigger_key": row.trigger_key, "dialog_id": row.dialog_id,
        "message_id": row.message_id, "steps": steps, "created_at": row.created_at,
        "started_at": row.started_at, "finished_at": row.finished_at,
    });
    (row.id, value)
}

pub(crate) fn dialog(row: inbox_dialogs::Model) -> (Uuid, Value) {
    let value = json!({
        "id": row.id, "account_id": row.account_id, "peer_key": row.peer_key, "title": row.title,
        "username": row.username, "unread_count": row.unread_count, "last_message_at": row.last_message_at,
        "assignee_id": row.assignee_id,
    });
    (row.id, value)
}

pub(crate) fn message(row: inbox_messages::Model) -> (Uuid, Value) {
    let value = json!({
        "id": row.id, "dialog_id": row.dialog_id, "telegram_id": row.telegram_id, "direction": row.direction,
        "text": row.text, "sent_at": row.sent_at, "edited_at": row.edited_at, "reply_to": row.reply_to,
        "status": row.status, "deleted_at": row.deleted_at,
        // What the message carried, described (the file itself stays on Telegram and is not in the archive).
        "media": row.media_kind.as_ref().map(|kind| json!({
            "kind": kind, "file_name": row.media_file_name, "size_bytes": row.media_size_bytes,
            "mime_type": row.media_mime_type, "width": row.media_width, "height": row.media_height,
            "duration_secs": row.media_duration_secs,
        })),
    });
    (row.id, value)
}

#[async_trait]
impl<C: Conn> ExportSource for Repo<C> {
    async fn export_subject_page(
        &self,
        user: UserId,
        part: SubjectPart<'_>,
        after: Option<&str>,
        limit: u64,
    ) -> StoreResult<ExportPage> {
        let me = user.as_uuid();
        match part {
            SubjectPart::Profile => {
                let select = users::Entity::find().filter(users::Column::Id.eq(me));
                keyset(&self.0, select, users::Column::Id, after, limit, profile).await
            }
            SubjectPart::Sessions => {
                let select = sessions::Entity::find().filter(sessions::Column::UserId.eq(me));
                keyset(&self.0, select, sessions::Column::Id, after, limit, session).await
            }
            SubjectPart::Memberships => {
                self.behind(Wall::User(user), async |db| {
                    let select = memberships::Entity::find().filter(memberships::Column::UserId.eq(me));
                    keyset(
                        db.conn(),
                        select,
                        memberships::Column::WorkspaceId,
                        after,
                        limit,
                        membership,
                    )
                    .await
                })
                .await
            }
            SubjectPart::Audit => {
                self.behind(Wall::NoTenant, async |db| {
                    let mine = Condition::any()
                        .add(audit_log::Column::Chain.eq(format!("user:{user}")))
                        .add(audit_log::Column::ActorId.eq(user.to_string()));
                    let select = audit_log::Entity::find()
                        .filter(audit_log::Column::WorkspaceId.is_null())
                        .filter(mine);
                    keyset(db.conn(), select, audit_log::Column::Id, after, limit, audit).await
                })
                .await
            }
            SubjectPart::InvitationsTo => {
                self.behind(Wall::User(user), async |db| {
                    // As the `invited_person` policy: the address of their account, once verified.
                    let verified_address = Query::select()
                        .column(users::Column::EmailKey)
                        .from(users::Entity)
                        .and_where(users::Column::Id.eq(me))
                        .and_where(users::Column::EmailVerifiedAt.is_not_null())
                        .to_owned();
                    let select =
                        invitations::Entity::find().filter(invitations::Column::EmailKey.in_subquery(verified_address));
                    keyset(db.conn(), select, invitations::Column::Id, after, limit, invitation).await
                })
                .await
            }
            SubjectPart::AuditElsewhere(covered) => {
                self.behind(Wall::User(user), async |db| {
                    let mut select = audit_log::Entity::find()
                        .filter(audit_log::Column::ActorId.eq(user.to_string()))
                        .filter(audit_log::Column::WorkspaceId.is_not_null());
                    if !covered.is_empty() {
                        let covered = covered.iter().map(|workspace| workspace.as_uuid());
                        select = select.filter(audit_log::Column::WorkspaceId.is_not_in(covered));
                    }
                    keyset(db.conn(), select, audit_log::Column::Id, after, limit, audit).await
                })
                .await
            }
        }
    }

    async fn export_workspace_page(
        &self,
        scope: &TenantScope,
        part: WorkspacePart,
        after: Option<&str>,
        limit: u64,
    ) -> StoreResult<ExportPage> {
        self.in_workspace(scope, async |db| {
            let conn = db.conn();
            match part {
                WorkspacePart::AuditBy(user) => {
                    let select = db
                        .find::<audit_log::Entity>()
                        .filter(audit_log::Column::ActorId.eq(user.to_string()));
                    keyset(conn, select, audit_log::Column::Id, after, limit, audit).await
                }
                WorkspacePart::ApiKeysBy(user) => {
                    let select = db
                        .find::<api_keys::Entity>()
                        .filter(api_keys::Column::CreatedBy.eq(user.as_uuid()));
                    keyset(conn, select, api_keys::Column::Id, after, limit, api_key).await
                }
                WorkspacePart::InvitationsBy(user) => {
                    let select = db
                        .find::<invitations::Entity>()
                        .filter(invitations::Column::InvitedBy.eq(user.as_uuid()));
                    keyset(conn, select, invitations::Column::Id, after, limit, invitation).await
                }
                WorkspacePart::Wallet => {
                    let select = db.find::<wallet_balances::Entity>();
                    keyset(conn, select, wallet_balances::Column::WorkspaceId, after, limit, wallet).await
                }
                WorkspacePart::LedgerTransactions => {
                    let select = db.find::<ledger_transactions::Entity>();
                    keyset(
                        conn,
                        select,
                        ledger_transactions::Column::Id,
                        after,
                        limit,
                        ledger_transaction,
                    )
                    .await
                }
                WorkspacePart::LedgerPostings => {
                    let select = db.find::<ledger_postings::Entity>();
                    keyset(conn, select, ledger_postings::Column::Id, after, limit, ledger_posting).await
                }
                WorkspacePart::Leases => {
                    let select = db.find::<leases::Entity>();
                    keyset(conn, select, leases::Column::Id, after, limit, lease).await
                }
                WorkspacePart::Automations => {
                    let select = db.find::<automations::Entity>();
                    keyset(conn, select, automations::Column::Id, after, limit, automation).await
                }
                WorkspacePart::AutomationExecutions => {
                    let select = db.find::<automation_executions::Entity>();
                    keyset(conn, select, automation_executions::Column::Id, after, limit, execution).await
                }
                WorkspacePart::Dialogs => {
                    let select = db.find::<inbox_dialogs::Entity>();
                    keyset(conn, select, inbox_dialogs::Column::Id, after, limit, dialog).await
                }
                WorkspacePart::Messages => {
                    let select = db.find::<inbox_messages::Entity>();
                    keyset(conn, select, inbox_messages::Column::Id, after, limit, message).await
                }
            }
        })
        .await
    }
}
