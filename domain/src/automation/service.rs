//! The automations' use cases share one service.

use std::sync::Arc;
use std::time::Duration;

use super::conditions::ConditionSet;
use super::records::AutomationRecord;
use super::validate::Limits;
use crate::clock::Clock;
use crate::error::{DomainError, DomainResult};
use crate::events::Outbox;
use crate::ids::{AccountId, AutomationId};
use crate::inbox::InboxService;
use crate::jobs::JobSignal;
use crate::store::Store;
use crate::vault::{KeyOwner, KeyVersion, Purpose, SealedPayload, SecretPayload, Vault};
use crate::webhooks::WebhookSender;

/// What an operator may configure about automations.
#[derive(Debug, Clone)]
pub struct AutomationSettings {
    /// The most automations a workspace may have.
    pub max_per_workspace: u64,
    /// The most executions one dialog may run in an hour (the storm guard).
    pub max_runs_per_dialog_hour: u64,
    /// The most executions one workspace may run in an hour (the storm guard).
    pub max_runs_per_workspace_hour: u64,
    /// How long executions that did not run are kept to explain why.
    pub keep_skipped: Duration,
    /// How many times a webhook is tried.
    pub webhook_attempts: u32,
    /// How many times a send that Telegram could not take now is tried.
    pub send_attempts: u32,
    /// Whether webhooks may go to private and loopback addresses (and over plain http there).
    pub allow_private_webhooks: bool,
}

impl Default for AutomationSettings {
    fn default() -> Self {
        Self {
            max_per_workspace: 200,
            max_runs_per_dialog_hour: 20,
            max_runs_per_workspace_hour: 5_000,
            keep_skipped: Duration::from_secs(14 * 24 * 3600),
            webhook_attempts: 5,
            send_attempts: 5,
            allow_private_webhooks: false,
        }
    }
}

impl AutomationSettings {
    /// The validation limits these settings imply.
    pub fn limits(&self) -> Limits {
        Limits {
            allow_insecure_http: self.allow_private_webhooks,
            ..Limits::default()
        }
    }
}

#[derive(Clone)]
pub struct AutomationService {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) vault: Vault,
    pub(crate) inbox: InboxService,
    pub(crate) webhooks: Arc<dyn WebhookSender>,
    pub(crate) jobs: JobSignal,
    pub(crate) outbox: Outbox,
    pub(crate) settings: AutomationSettings,
    /// Compiled conditions by automation and version (regular expressions are compiled once).
    compiled: moka::sync::Cache<(AutomationId, i32), Arc<ConditionSet>>,
}

impl std::fmt::Debug for AutomationService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AutomationService").finish_non_exhaustive()
    }
}

impl AutomationService {
    #[expect(
        clippy::too_many_arguments,
        reason = "the service's ports, wired once at the composition root"
    )]
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        vault: Vault,
        inbox: InboxService,
        webhooks: Arc<dyn WebhookSender>,
        jobs: JobSignal,
        outbox: Outbox,
        settings: AutomationSettings,
    ) -> Self {
        Self {
            store,
            clock,
            vault,
            inbox,
            webhooks,
            jobs,
            outbox,
            settings,
            compiled: moka::sync::Cache::new(10_000),
        }
    }

    pub fn settings(&self) -> &AutomationSettings {
        &self.settings
    }

    /// The automation's conditions, compiled once per version.
    pub(crate) fn conditions_of(&self, automation: &AutomationRecord) -> DomainResult<Arc<ConditionSet>> {
        let key = (automation.id, automation.version);
        if let Some(set) = self.compiled.get(&key) {
            return Ok(set);
        }
        let set = ConditionSet::compile(&automation.definition.conditions, automation.definition.mode)
            .map(Arc::new)
            .map_err(|_| DomainError::internal("a stored automation's conditions no longer compile"))?;
        self.compiled.insert(key, Arc::clone(&set));
        Ok(set)
    }

    /// Seals a webhook secret of `automation` under the workspace's current data key.
    pub(crate) async fn seal_secret(
        &self,
        owner: KeyOwner,
        automation: AutomationId,
        secret: &str,
    ) -> DomainResult<(u32, Vec<u8>)> {
        let payload = SecretPayload::new(secret.as_bytes().to_vec());
        let sealed = self
            .vault
            .seal(owner, subject(automation), Purpose::AutomationWebhookSecret, &payload)
            .await?;
        Ok((sealed.key_version.get(), sealed.ciphertext))
    }

    /// Opens a webhook secret sealed by [`Self::seal_secret`].
    pub(crate) async fn open_secret(
        &self,
        owner: KeyOwner,
        automation: AutomationId,
        key_version: u32,
        ciphertext: &[u8],
    ) -> DomainResult<String> {
        let version = KeyVersion::new(key_version).ok_or_else(|| DomainError::internal("a stored key version is 0"))?;
        let sealed = SealedPayload {
            owner,
            key_version: version,
            ciphertext: ciphertext.to_vec(),
        };
        let payload = self
            .vault
            .open(&sealed, subject(automation), Purpose::AutomationWebhookSecret)
            .await?;
        String::from_utf8(payload.expose().to_vec()).map_err(|_| DomainError::internal("a webhook secret is not text"))
    }
}

/// The vault binds a payload to the id of what it belongs to; a webhook secret belongs to its automation.
fn subject(automation: AutomationId) -> AccountId {
    AccountId::from_uuid(automation.as_uuid())
}
