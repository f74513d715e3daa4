//! Tags and assignment: how a workspace sorts its dialogs among its operators.
//!
//! Rules:
//! - **Who.** Members with role OPERATOR and above, and keys with `INBOX_WRITE`, tag, untag and assign
//!   ([`InboxService::tag_dialog`], [`InboxService::untag_dialog`], [`InboxService::assign_dialog`]). An
//!   automation acts through the cores ([`InboxService::apply_tag`], [`InboxService::apply_untag`],
//!   [`InboxService::apply_assignment`]) after checks of its own, under an audit actor naming it.
//! - **What.** Tags take one form ([`normalize_tag`]), at most [`MAX_TAGS_PER_DIALOG`] per dialog. The
//!   assignee is a current member of the dialog's workspace, checked in the transaction that assigns while
//!   holding the membership, so a removal racing the assignment waits for it and then undoes it; a departure
//!   unassigns the member's dialogs in its own transaction ([`unassign_departed`]).
//! - **Nothing for nothing.** Tagging twice, untagging an absent tag and assigning the current assignee are
//!   no errors and write nothing: no event, no audit entry.
//! - **Said once, with the change.** Every change is audited on the workspace's chain (`dialog.tagged`,
//!   `dialog.untagged`, `dialog.assigned`) and announced as [`InboxEvent::DialogChanged`] carrying the whole
//!   dialog, in the transaction that makes it. Changes of one dialog run one after another (its row is
//!   locked), so the tag limit holds however many race.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::records::DialogRecord;
use super::service::InboxService;
use super::tags::{MAX_TAGS_PER_DIALOG, normalize_tag};
use crate::audit::{self, Actor, AuditDraft, ChainId};
use crate::error::{DomainError, DomainResult};
use crate::events::{self, EventDraft, InboxEvent};
use crate::identity::Principal;
use crate::ids::{DialogId, UserId};
use crate::request::ClientInfo;
use crate::store::Transaction;
use crate::tenancy::api_keys::Scope;
use crate::tenancy::records::MemberView;
use crate::tenancy::{Role, TenantScope};

/// One change of a dialog's sorting.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Change {
    Tag(String),
    Untag(String),
    Assign(Option<UserId>),
}

impl InboxService {
    /// Tags the dialog (OPERATOR and above, or keys with `INBOX_WRITE`); the dialog as it is now.
    #[tracing::instrument(skip_all, fields(workspace = %scope.workspace_id()))]
    pub async fn tag_dialog(
        &self,
        scope: &TenantScope,
        principal: &Principal,
        client: &ClientInfo,
        dialog: DialogId,
        tag: &str,
    ) -> DomainResult<DialogRecord> {
        scope.require(Role::Operator, Some(Scope::InboxWrite), "tagging dialogs")?;
        self.apply_tag(scope, Actor::of(principal), client, dialog, tag).await
    }

    /// Takes a tag off the dialog (OPERATOR and above, or keys with `INBOX_WRITE`); the dialog as it is now.
    #[tracing::instrument(skip_all, fields(workspace = %scope.workspace_id()))]
    pub async fn untag_dialog(
        &self,
        scope: &TenantScope,
        principal: &Principal,
        client: &ClientInfo,
        dialog: DialogId,
        tag: &str,
    ) -> DomainResult<DialogRecord> {
        scope.require(Role::Operator, Some(Scope::InboxWrite), "tagging dialogs")?;
        self.apply_untag(scope, Actor::of(principal), client, dialog, tag).await
    }

    /// Assigns the dialog to a member of its workspace, or to nobody (OPERATOR and above, or keys with
    /// `INBOX_WRITE`); the dialog as it is now.
    #[tracing::instrument(skip_all, fields(workspace = %scope.workspace_id()))]
    pub async fn assign_dialog(
        &self,
        scope: &TenantScope,
        principal: &Principal,
        client: &ClientInfo,
        dialog: DialogId,
        user: Option<UserId>,
    ) -> DomainResult<DialogRecord> {
        scope.require(Role::Operator, Some(Scope::InboxWrite), "assigning dialogs")?;
        self.apply_assignment(scope, Actor::of(principal), client, dialog, user)
            .await
    }

    /// [`Self::tag_dialog`] without the role check, audited as `actor` (an automation, after its own checks).
    #[tracing::instrument(skip_all, fields(workspace = %scope.workspace_id()))]
    pub async fn apply_tag(
        &self,
        scope: &TenantScope,
        actor: Actor,
        client: &ClientInfo,
        dialog: DialogId,
        tag: &str,
    ) -> DomainResult<DialogRecord> {
        let tag = normalize_tag(tag).map_err(|rule| DomainError::invalid("tag", rule))?;
        self.change(scope, actor, client, dialog, Change::Tag(tag)).await
    }

    /// [`Self::untag_dialog`] without the role check, audited as `actor`.
    #[tracing::instrument(skip_all, fields(workspace = %scope.workspace_id()))]
    pub async fn apply_untag(
        &self,
        scope: &TenantScope,
        actor: Actor,
        client: &ClientInfo,
        dialog: DialogId,
        tag: &str,
    ) -> DomainResult<DialogRecord> {
        let tag = normalize_tag(tag).map_err(|rule| DomainError::invalid("tag", rule))?;
        self.change(scope, actor, client, dialog, Change::Untag(tag)).await
    }

    /// [`Self::assign_dialog`] without the role check, audited as `actor`.
    #[tracing::instrument(skip_all, fields(workspace = %scope.workspace_id()))]
    pub async fn apply_assignment(
        &self,
        scope: &TenantScope,
        actor: Actor,
        client: &ClientInfo,
        dialog: DialogId,
        user: Option<UserId>,
    ) -> DomainResult<DialogRecord> {
        self.change(scope, actor, client, dialog, Change::Assign(user)).await
    }

    /// The tags of each of the workspace's `dialogs`, in one read (VIEWER and above, or keys with
    /// `INBOX_READ`); a dialog without tags, or not the workspace's, is absent.
    #[tracing::instrument(skip_all, fields(workspace = %scope.workspace_id()))]
    pub async fn tags_of_many(
        &self,
        scope: &TenantScope,
        dialogs: &[DialogId],
    ) -> DomainResult<HashMap<DialogId, Vec<String>>> {
        scope.require(Role::Viewer, Some(Scope::InboxRead), "reading the inbox")?;
        if dialogs.is_empty() {
            return Ok(HashMap::new());
        }
        Ok(tags_by_dialog(self.store.tags_of(scope, dialogs).await?))
    }

    /// Those of `users` who are members of the workspace, in one read: the people dialogs are assigned to
    /// (VIEWER and above, or keys with `INBOX_READ`, as the dialogs naming them).
    #[tracing::instrument(skip_all, fields(workspace = %scope.workspace_id()))]
    pub async fn assignees(&self, scope: &TenantScope, users: &[UserId]) -> DomainResult<Vec<MemberView>> {
        scope.require(Role::Viewer, Some(Scope::InboxRead), "reading the inbox")?;
        if users.is_empty() {
            return Ok(Vec::new());
        }
        Ok(self.store.members_among(scope, users).await?)
    }

    /// Makes `change` to the workspace's dialog, audits and announces it, in one transaction; nothing when it
    /// changes nothing.
    async fn change(
        &self,
        scope: &TenantScope,
        actor: Actor,
        client: &ClientInfo,
        dialog: DialogId,
        change: Change,
    ) -> DomainResult<DialogRecord> {
        let now = self.clock.now();
        let tx = self.store.begin().await?;
        let current = tx
            .lock_dialog(scope, dialog)
            .await?
            .ok_or(DomainError::NotFound("dialog"))?;
        let Some((changed, action, details)) = apply(&*tx, scope, current.clone(), &change, now).await? else {
            // Nothing to write: the transaction ends without a change, an event or an audit entry.
            return Ok(current);
        };
        let event = InboxEvent::DialogChanged {
            dialog: changed.clone(),
        };
        events::append(&*tx, scope, EventDraft::new(changed.account_id, event), now).await?;
        let mut metadata = json!({ "account": changed.account_id.to_string() });
        merge(&mut metadata, details);
        let draft = AuditDraft {
            chain: ChainId::Workspace(scope.workspace_id()),
            actor,
            action,
            target_type: Some("DIALOG"),
            target_id: Some(dialog.to_string()),
            client: client.clone(),
            metadata,
        };
        audit::append(&*tx, draft, now).await?;
        tx.commit().await?;
        self.outbox.committed();
        Ok(changed)
    }
}

/// Whether `change` changes `dialog` as it is: `false` when it would change nothing (the tag held already or
/// not held, the assignee the current one), the refusal when it breaks the tag limit.
fn changes(dialog: &DialogRecord, change: &Change) -> DomainResult<bool> {
    match change {
        Change::Tag(tag) if dialog.tags.contains(tag) => Ok(false),
        Change::Tag(_) if dialog.tags.len() >= MAX_TAGS_PER_DIALOG => Err(DomainError::invalid(
            "tag",
            format!("a dialog holds at most {MAX_TAGS_PER_DIALOG} tags; take one off first"),
        )),
        Change::Tag(_) => Ok(true),
        Change::Untag(tag) => Ok(dialog.tags.contains(tag)),
        Change::Assign(user) => Ok(dialog.assignee_id != *user),
    }
}

/// Makes `change` to `dialog` (locked in `tx`): the dialog as it is after, the audit action and its details;
/// `None` when the change changes nothing.
async fn apply(
    tx: &dyn Transaction,
    scope: &TenantScope,
    mut dialog: DialogRecord,
    change: &Change,
    now: DateTime<Utc>,
) -> DomainResult<Option<(DialogRecord, &'static str, Value)>> {
    if !changes(&dialog, change)? {
        return Ok(None);
    }
    Ok(Some(match change {
        Change::Tag(tag) => {
            if !tx.add_tag(scope, dialog.id, tag, now).await? {
                return Ok(None);
            }
            dialog.tags.push(tag.clone());
            dialog.tags.sort();
            (dialog, "dialog.tagged", json!({ "tag": tag }))
        }
        Change::Untag(tag) => {
            if !tx.remove_tag(scope, dialog.id, tag).await? {
                return Ok(None);
            }
            dialog.tags.retain(|held| held != tag);
            (dialog, "dialog.untagged", json!({ "tag": tag }))
        }
        Change::Assign(user) => {
            if let Some(user) = user
                && !tx.hold_membership(scope, *user).await?
            {
                return Err(DomainError::invalid("userId", "not a member of this workspace"));
            }
            let from = dialog.assignee_id;
            tx.set_assignee(scope, dialog.id, *user, now).await?;
            dialog.assignee_id = *user;
            dialog.updated_at = now;
            let details = json!({
                "from": from.map(|id| id.to_string()),
                "to": user.map(|id| id.to_string()),
            });
            (dialog, "dialog.assigned", details)
        }
    }))
}

/// Adds the fields of `extra` (an object) to `metadata` (an object).
fn merge(metadata: &mut Value, extra: Value) {
    if let (Some(into), Value::Object(from)) = (metadata.as_object_mut(), extra) {
        into.extend(from);
    }
}

/// (dialog, tag) pairs, grouped by dialog, each dialog's tags sorted.
pub(crate) fn tags_by_dialog(pairs: Vec<(DialogId, String)>) -> HashMap<DialogId, Vec<String>> {
    let mut by_dialog: HashMap<DialogId, Vec<String>> = HashMap::new();
    for (dialog, tag) in pairs {
        by_dialog.entry(dialog).or_default().push(tag);
    }
    for tags in by_dialog.values_mut() {
        tags.sort();
    }
    by_dialog
}

/// Within a departure's transaction: assigns the dialogs `user` held in the workspace to nobody and announces
/// each ([`InboxEvent::DialogChanged`]); the dialogs, for the departure's audit entry.
pub(crate) async fn unassign_departed(
    tx: &dyn Transaction,
    scope: &TenantScope,
    user: UserId,
    now: DateTime<Utc>,
) -> DomainResult<Vec<DialogId>> {
    let dialogs = tx.unassign_member(scope, user, now).await?;
    let mut ids = Vec::with_capacity(dialogs.len());
    for dialog in dialogs {
        ids.push(dialog.id);
        let draft = EventDraft::new(dialog.account_id, InboxEvent::DialogChanged { dialog });
        events::append(tx, scope, draft, now).await?;
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::gateway::PeerKey;
    use crate::ids::{AccountId, WorkspaceId};

    fn dialog(tags: &[&str], assignee: Option<UserId>) -> DialogRecord {
        DialogRecord {
            id: DialogId::generate(),
            workspace_id: WorkspaceId::generate(),
            account_id: AccountId::generate(),
            peer: PeerKey::user(42).unwrap(),
            title: "Ada".to_owned(),
            username: None,
            unread_count: 0,
            read_inbox_max_id: 0,
            top_message_id: 0,
            last_message_at: None,
            updated_at: chrono::Utc::now(),
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            assignee_id: assignee,
        }
    }

    #[test]
    fn a_change_that_changes_nothing_is_no_change() {
        let member = UserId::generate();
        let held = dialog(&["vip"], Some(member));
        assert!(!changes(&held, &Change::Tag("vip".to_owned())).unwrap(), "tagged twice");
        assert!(!changes(&held, &Change::Untag("new".to_owned())).unwrap(), "not held");
        assert!(
            !changes(&held, &Change::Assign(Some(member))).unwrap(),
            "the same assignee"
        );
        assert!(
            !changes(&dialog(&[], None), &Change::Assign(None)).unwrap(),
            "unassigned twice"
        );
        assert!(changes(&held, &Change::Tag("new".to_owned())).unwrap());
        assert!(changes(&held, &Change::Untag("vip".to_owned())).unwrap());
        assert!(changes(&held, &Change::Assign(None)).unwrap());
        assert!(changes(&held, &Change::Assign(Some(UserId::generate()))).unwrap());
    }

    #[test]
    fn a_dialog_holds_at_most_twenty_tags_and_a_held_one_is_no_refusal() {
        let names: Vec<String> = (0..MAX_TAGS_PER_DIALOG).map(|i| format!("t{i}")).collect();
        let full = dialog(&names.iter().map(String::as_str).collect::<Vec<_>>(), None);
        let Err(DomainError::Invalid(errors)) = changes(&full, &Change::Tag("one-more".to_owned())) else {
            panic!("a 21st tag was taken");
        };
        assert_eq!(errors[0].field, "tag");
        assert!(
            !changes(&full, &Change::Tag("t3".to_owned())).unwrap(),
            "re-tagging a full dialog"
        );
        assert!(changes(&full, &Change::Untag("t3".to_owned())).unwrap());
        let room = dialog(&names[1..].iter().map(String::as_str).collect::<Vec<_>>(), None);
        assert!(
            changes(&room, &Change::Tag("one-more".to_owned())).unwrap(),
            "the 20th tag"
        );
    }

    #[test]
    fn tags_are_grouped_by_dialog_and_sorted() {
        let (a, b) = (DialogId::generate(), DialogId::generate());
        let grouped = tags_by_dialog(vec![
            (a, "vip".to_owned()),
            (b, "new".to_owned()),
            (a, "lang:ru".to_owned()),
        ]);
        assert_eq!(grouped[&a], vec!["lang:ru".to_owned(), "vip".to_owned()]);
        assert_eq!(grouped[&b], vec!["new".to_owned()]);
        assert_eq!(grouped.len(), 2);
    }

    #[test]
    fn audit_details_join_the_common_ones() {
        let mut metadata = json!({ "account": "a" });
        merge(&mut metadata, json!({ "tag": "vip" }));
        assert_eq!(metadata, json!({ "account": "a", "tag": "vip" }));
    }
}
