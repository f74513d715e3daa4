//! Per-request batching of the reads nested fields make, so a page costs the same statements however many
//! items it holds (a dialog's account health, a message's dialog, an automation's stats, …).
//!
//! Rules:
//! - Every operation (an HTTP request, each operation over a WebSocket) gets fresh loaders from
//!   [`Batched`], which also decides when their batches go out: once the operation waits (see `batched`).
//!   They cache nothing: a batch joins the reads asked for at the same point, and nothing read earlier is
//!   served again.
//! - Every key carries the [`TenantScope`] it was asked under. A batch is split by scope and each part goes
//!   through the domain's batched use case under its own scope, with the same authorization as the single
//!   read, so a key is only ever answered with what its scope may see.
//! - A part that fails fails only the fields whose keys were in it; a key its scope may not see has no value.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::hash::Hash;

use async_graphql::Context;
use async_graphql::dataloader::{DataLoader, Loader};
use tgos_domain::DomainError;
use tgos_domain::accounts::health::DayCounts;
use tgos_domain::accounts::pool::use_cases::health::HealthView;
use tgos_domain::accounts::pool::{AccountRecord, AccountsService};
use tgos_domain::automation::AutomationService;
use tgos_domain::automation::records::AutomationStats;
use tgos_domain::error::DomainResult;
use tgos_domain::ids::{AccountId, AutomationId, DialogId, MessageId, UserId};
use tgos_domain::inbox::{DialogRecord, InboxService, MessageRecord};
use tgos_domain::paging::{Page, PageRequest};
use tgos_domain::tenancy::TenantScope;
use tgos_domain::tenancy::records::MemberView;

use super::errors::{ApiError, ApiResult};

mod batched;

pub use batched::Batched;

/// The loaders of one operation.
pub type Loaders = DataLoader<Reads>;

/// The batched use cases the loaders call.
#[derive(Debug, Clone)]
pub struct Reads {
    accounts: AccountsService,
    inbox: InboxService,
    automations: AutomationService,
}

/// How an automation of the scope's workspace went (`AutomationService::stats`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StatsOf(pub TenantScope, pub AutomationId);

/// The name of an automation of the scope's workspace, deleted or not (`AutomationService::automation_names`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AutomationNameOf(pub TenantScope, pub AutomationId);

/// What a batch found for one key, or the error of the part of the batch the key was in.
pub type Found<T> = Result<T, ApiError>;

/// An account the scope's workspace holds (`AccountsService::held_accounts`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HeldAccount(pub TenantScope, pub AccountId);

/// The health of an account the scope's workspace holds (`AccountsService::health_of_many`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HealthOf(pub TenantScope, pub AccountId);

/// The counters of the last `days` days of an account the scope's workspace holds
/// (`AccountsService::counters_of_many`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CountersOf {
    pub scope: TenantScope,
    pub account: AccountId,
    pub days: i64,
}

/// A dialog of the scope's workspace (`InboxService::dialogs_by_ids`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DialogOf(pub TenantScope, pub DialogId);

/// The newest message of a dialog of the scope's workspace (`InboxService::last_messages`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LastMessageOf(pub TenantScope, pub DialogId);

/// The tags of a dialog of the scope's workspace, for dialogs read without them (`InboxService::tags_of_many`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TagsOf(pub TenantScope, pub DialogId);

/// A member of the scope's workspace a dialog is assigned to (`InboxService::assignees`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AssigneeOf(pub TenantScope, pub UserId);

/// A page of the messages of a dialog of the scope's workspace: the same page of each dialog asked for at the
/// same moment is read at once (`InboxService::messages_of_many`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MessagesOf {
    pub scope: TenantScope,
    pub dialog: DialogId,
    pub after: Option<MessageId>,
    pub limit: u64,
}

/// Splits `keys` into parts by what `split` says they share, runs `load` once per part, and answers each key
/// from its part: the value found for its id, nothing when there is none, or the part's error.
async fn by_part<K, P, I, T, Fut>(
    keys: &[K],
    split: impl Fn(&K) -> (P, I),
    load: impl Fn(P, Vec<I>) -> Fut,
) -> HashMap<K, Found<T>>
where
    K: Clone + Eq + Hash,
    P: Clone + Eq + Hash,
    I: Eq + Hash,
    T: Clone,
    Fut: Future<Output = DomainResult<HashMap<I, T>>>,
{
    let mut parts: HashMap<P, Vec<I>> = HashMap::new();
    for key in keys {
        let (part, id) = split(key);
        parts.entry(part).or_default().push(id);
    }
    let mut loaded = HashMap::with_capacity(parts.len());
    for (part, ids) in parts {
        loaded.insert(part.clone(), load(part, ids).await.map_err(ApiError::from));
    }
    keys.iter()
        .filter_map(|key| {
            let (part, id) = split(key);
            let found = match loaded.get(&part)? {
                Ok(values) => Ok(values.get(&id)?.clone()),
                Err(error) => Err(error.clone()),
            };
            Some((key.clone(), found))
        })
        .collect()
}

impl Loader<HeldAccount> for Reads {
    type Value = Found<AccountRecord>;
    type Error = Infallible;

    async fn load(&self, keys: &[HeldAccount]) -> Result<HashMap<HeldAccount, Self::Value>, Infallible> {
        Ok(by_part(
            keys,
            |key| (key.0.clone(), key.1),
            |scope, ids| async move {
                let held = self.accounts.held_accounts(&scope, &ids).await?;
                Ok(held.into_iter().map(|account| (account.id, account)).collect())
            },
        )
        .await)
    }
}

impl Loader<HealthOf> for Reads {
    type Value = Found<HealthView>;
    type Error = Infallible;

    async fn load(&self, keys: &[HealthOf]) -> Result<HashMap<HealthOf, Self::Value>, Infallible> {
        Ok(by_part(
            keys,
            |key| (key.0.clone(), key.1),
            |scope, ids| async move { self.accounts.health_of_many(&scope, &ids).await },
        )
        .await)
    }
}

impl Loader<CountersOf> for Reads {
    type Value = Found<Vec<DayCounts>>;
    type Error = Infallible;

    async fn load(&self, keys: &[CountersOf]) -> Result<HashMap<CountersOf, Self::Value>, Infallible> {
        Ok(by_part(
            keys,
            |key| ((key.scope.clone(), key.days), key.account),
            |(scope, days), ids| async move { self.accounts.counters_of_many(&scope, &ids, days).await },
        )
        .await)
    }
}

impl Loader<DialogOf> for Reads {
    type Value = Found<DialogRecord>;
    type Error = Infallible;

    async fn load(&self, keys: &[DialogOf]) -> Result<HashMap<DialogOf, Self::Value>, Infallible> {
        Ok(by_part(
            keys,
            |key| (key.0.clone(), key.1),
            |scope, ids| async move {
                let dialogs = self.inbox.dialogs_by_ids(&scope, &ids).await?;
                Ok(dialogs.into_iter().map(|dialog| (dialog.id, dialog)).collect())
            },
        )
        .await)
    }
}

impl Loader<LastMessageOf> for Reads {
    type Value = Found<MessageRecord>;
    type Error = Infallible;

    async fn load(&self, keys: &[LastMessageOf]) -> Result<HashMap<LastMessageOf, Self::Value>, Infallible> {
        Ok(by_part(
            keys,
            |key| (key.0.clone(), key.1),
            |scope, ids| async move {
                let newest = self.inbox.last_messages(&scope, &ids).await?;
                Ok(newest.into_iter().map(|message| (message.dialog_id, message)).collect())
            },
        )
        .await)
    }
}

impl Loader<MessagesOf> for Reads {
    type Value = Found<Page<MessageRecord>>;
    type Error = Infallible;

    async fn load(&self, keys: &[MessagesOf]) -> Result<HashMap<MessagesOf, Self::Value>, Infallible> {
        Ok(by_part(
            keys,
            |key| ((key.scope.clone(), key.after, key.limit), key.dialog),
            |(scope, after, limit), ids| async move {
                self.inbox
                    .messages_of_many(&scope, &ids, PageRequest::new(after, limit))
                    .await
            },
        )
        .await)
    }
}

impl Loader<TagsOf> for Reads {
    type Value = Found<Vec<String>>;
    type Error = Infallible;

    async fn load(&self, keys: &[TagsOf]) -> Result<HashMap<TagsOf, Self::Value>, Infallible> {
        Ok(by_part(
            keys,
            |key| (key.0.clone(), key.1),
            |scope, ids| async move { self.inbox.tags_of_many(&scope, &ids).await },
        )
        .await)
    }
}

impl Loader<AssigneeOf> for Reads {
    type Value = Found<MemberView>;
    type Error = Infallible;

    async fn load(&self, keys: &[AssigneeOf]) -> Result<HashMap<AssigneeOf, Self::Value>, Infallible> {
        Ok(by_part(
            keys,
            |key| (key.0.clone(), key.1),
            |scope, ids| async move {
                let members = self.inbox.assignees(&scope, &ids).await?;
                Ok(members
                    .into_iter()
                    .map(|member| (member.membership.user_id, member))
                    .collect())
            },
        )
        .await)
    }
}

impl Loader<StatsOf> for Reads {
    type Value = Found<AutomationStats>;
    type Error = Infallible;

    async fn load(&self, keys: &[StatsOf]) -> Result<HashMap<StatsOf, Self::Value>, Infallible> {
        Ok(by_part(
            keys,
            |key| (key.0.clone(), key.1),
            |scope, ids| async move { Ok(self.automations.stats(&scope, &ids).await?.into_iter().collect()) },
        )
        .await)
    }
}

impl Loader<AutomationNameOf> for Reads {
    type Value = Found<String>;
    type Error = Infallible;

    async fn load(&self, keys: &[AutomationNameOf]) -> Result<HashMap<AutomationNameOf, Self::Value>, Infallible> {
        Ok(by_part(
            keys,
            |key| (key.0.clone(), key.1),
            |scope, ids| async move {
                Ok(self
                    .automations
                    .automation_names(&scope, &ids)
                    .await?
                    .into_iter()
                    .collect())
            },
        )
        .await)
    }
}

/// What the operation's loaders found for `key`, batched with the other keys asked for at the same moment;
/// `None` when its scope may see no such thing.
pub(crate) async fn load<K, T>(ctx: &Context<'_>, key: K) -> ApiResult<Option<T>>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
    Reads: Loader<K, Value = Found<T>, Error = Infallible>,
{
    let loaders = ctx
        .data_opt::<Loaders>()
        .ok_or_else(|| ApiError::from(DomainError::internal("loaders missing from the request data")))?;
    let Ok(found) = loaders.load_one(key).await;
    found.transpose()
}
