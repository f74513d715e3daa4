//! Acting in a dialog: sending, marking read, tagging and assigning.

use crate::graphql::ids::{parse_id, parse_optional_id};
use async_graphql::{Context, ID, Object, Upload};
use tgos_domain::DomainError;
use tgos_domain::accounts::pool::AccountsService;
use tgos_domain::ids::{AccountId, DialogId, MessageId, UserId};
use tgos_domain::inbox::content::DOCUMENT_FIELD;
use tgos_domain::inbox::{DocumentUpload, InboxService};
use tgos_domain::tenancy::TenancyService;
use tgos_domain::tenancy::TenantScope;

use super::types::{Dialog, Message};
use crate::graphql::context::{client, principal};
use crate::graphql::errors::ApiResult;
use crate::graphql::{guards::SignedIn, service};
use crate::limits::RateLimits;
use tgos_domain::limits::{Limit, OnStoreFailure, RateLimiter};

/// Sends one account makes per minute through the API, and marks of one dialog as read: each is stored and
/// audited, so both are bounded (Telegram's own limits come on top, through the account's health).
pub const SENDS_PER_MINUTE: u32 = 60;
pub const READ_MARKS_PER_MINUTE: u32 = 30;

/// Counts sends per account and read marks per dialog, in the counter `limits.store` names (shared by every
/// replica with the database's). Both fail closed (`crate::limits`). The use cases spend from it only once the
/// caller is authorized for the account or dialog, so nobody else can use up a holder's budget.
#[derive(Debug)]
pub struct InboxLimiter {
    sends: RateLimiter,
    read_marks: RateLimiter,
}

impl InboxLimiter {
    pub fn new(limits: &RateLimits) -> Self {
        Self {
            sends: limits.limiter(
                Limit::per_minute("inbox_send", SENDS_PER_MINUTE),
                OnStoreFailure::Closed,
            ),
            read_marks: limits.limiter(
                Limit::per_minute("read_mark", READ_MARKS_PER_MINUTE),
                OnStoreFailure::Closed,
            ),
        }
    }
}

#[derive(Debug, Default)]
pub struct InboxMutation;

#[Object]
impl InboxMutation {
    /// Sends `text` in the dialog as the account (OPERATOR and above, or keys with `INBOX_WRITE`). Refused
    /// before anything is stored when the account's health forbids sending (`RATE_LIMITED` with the wait
    /// during a cooldown, `ACCOUNT_UNAVAILABLE` otherwise); else stored PENDING and answered SENT, or FAILED
    /// with Telegram's reason.
    ///
    /// `document` (a file of the GraphQL multipart request spec, at most 10 MiB, not empty) is sent with
    /// `text` as its caption, which may then be empty (at most 1024 characters); a refused file is
    /// `BAD_USER_INPUT` on `document`.
    #[graphql(guard = "SignedIn")]
    async fn send_message(
        &self,
        ctx: &Context<'_>,
        account_id: ID,
        dialog_id: ID,
        text: String,
        reply_to_id: Option<ID>,
        document: Option<Upload>,
    ) -> ApiResult<Message> {
        let principal = principal(ctx)?;
        let account: AccountId = parse_id(&account_id, "accountId", "account")?;
        let dialog: DialogId = parse_id(&dialog_id, "dialogId", "dialog")?;
        let reply_to: Option<MessageId> = reply_to_id
            .map(|id| parse_id(&id, "replyToId", "message"))
            .transpose()?;
        let workspace = service::<AccountsService>(ctx)?
            .holder_workspace(principal, account)
            .await?;
        let scope = service::<TenancyService>(ctx)?.scope(principal, workspace).await?;
        let limiter = ctx.data_opt::<InboxLimiter>();
        let admit = move || async move {
            match limiter {
                Some(limiter) => limiter.sends.admit(&account.to_string()).await,
                None => Ok(()),
            }
        };
        let document = document.map(|upload| uploaded(ctx, &upload)).transpose()?;
        let record = service::<InboxService>(ctx)?
            .send_message(
                &scope,
                principal,
                &client(ctx),
                account,
                dialog,
                &text,
                document,
                reply_to,
                admit,
            )
            .await?;
        Ok(Message { record, scope })
    }

    /// Marks the dialog read up to its newest message (OPERATOR and above, or keys with `INBOX_WRITE`).
    #[graphql(guard = "SignedIn")]
    async fn mark_dialog_read(&self, ctx: &Context<'_>, dialog_id: ID) -> ApiResult<Dialog> {
        let principal = principal(ctx)?;
        let dialog: DialogId = parse_id(&dialog_id, "dialogId", "dialog")?;
        let inbox = service::<InboxService>(ctx)?;
        let workspace = inbox.dialog_workspace(principal, dialog).await?;
        let scope = service::<TenancyService>(ctx)?.scope(principal, workspace).await?;
        let limiter = ctx.data_opt::<InboxLimiter>();
        let admit = move || async move {
            match limiter {
                Some(limiter) => limiter.read_marks.admit(&dialog.to_string()).await,
                None => Ok(()),
            }
        };
        let record = inbox.mark_dialog_read(&scope, dialog, admit).await?;
        Ok(Dialog::whole(record, scope))
    }

    /// Tags the dialog (OPERATOR and above, or keys with `INBOX_WRITE`): the tag is trimmed and lower-cased, 1
    /// to 32 letters, digits, `-`, `_` or `:`, at most 20 per dialog (`BAD_USER_INPUT` on `tag`). Tagging with
    /// a tag the dialog holds changes nothing.
    #[graphql(guard = "SignedIn")]
    async fn tag_dialog(&self, ctx: &Context<'_>, dialog_id: ID, tag: String) -> ApiResult<Dialog> {
        let (dialog, scope) = dialog_scope(ctx, &dialog_id).await?;
        let record = service::<InboxService>(ctx)?
            .tag_dialog(&scope, principal(ctx)?, &client(ctx), dialog, &tag)
            .await?;
        Ok(Dialog::whole(record, scope))
    }

    /// Takes a tag off the dialog (OPERATOR and above, or keys with `INBOX_WRITE`); a tag it does not hold
    /// changes nothing.
    #[graphql(guard = "SignedIn")]
    async fn untag_dialog(&self, ctx: &Context<'_>, dialog_id: ID, tag: String) -> ApiResult<Dialog> {
        let (dialog, scope) = dialog_scope(ctx, &dialog_id).await?;
        let record = service::<InboxService>(ctx)?
            .untag_dialog(&scope, principal(ctx)?, &client(ctx), dialog, &tag)
            .await?;
        Ok(Dialog::whole(record, scope))
    }

    /// Assigns the dialog to a member of its workspace, or to nobody when `userId` is null (OPERATOR and above,
    /// or keys with `INBOX_WRITE`). Someone who is not a member is `BAD_USER_INPUT` on `userId`.
    #[graphql(guard = "SignedIn")]
    async fn assign_dialog(&self, ctx: &Context<'_>, dialog_id: ID, user_id: Option<ID>) -> ApiResult<Dialog> {
        let user: Option<UserId> = parse_optional_id(user_id.as_ref(), "userId", "user")?;
        let (dialog, scope) = dialog_scope(ctx, &dialog_id).await?;
        let record = service::<InboxService>(ctx)?
            .assign_dialog(&scope, principal(ctx)?, &client(ctx), dialog, user)
            .await?;
        Ok(Dialog::whole(record, scope))
    }
}

/// The file of an upload argument, in memory (the transport refused anything over the upload cap before
/// reading it whole: `http::graphql`'s multipart limits).
fn uploaded(ctx: &Context<'_>, upload: &Upload) -> ApiResult<DocumentUpload> {
    let value = upload
        .value(ctx)
        .map_err(|_| DomainError::invalid(DOCUMENT_FIELD, "the file is missing from the request"))?;
    Ok(DocumentUpload {
        file_name: value.filename,
        mime_type: value.content_type,
        bytes: value.content.to_vec(),
    })
}

/// The dialog a change names and the caller's scope in its workspace: `NOT_FOUND` for a dialog of a workspace
/// the caller is not in, as for an unknown one.
async fn dialog_scope(ctx: &Context<'_>, dialog_id: &ID) -> ApiResult<(DialogId, TenantScope)> {
    let principal = principal(ctx)?;
    let dialog: DialogId = parse_id(dialog_id, "dialogId", "dialog")?;
    let workspace = service::<InboxService>(ctx)?
        .dialog_workspace(principal, dialog)
        .await?;
    let scope = service::<TenancyService>(ctx)?.scope(principal, workspace).await?;
    Ok((dialog, scope))
}
