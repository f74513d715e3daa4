//! Why a call to the sandbox's own test API (not the gateway port) was refused.

use tgos_domain::accounts::gateway::GatewayError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SandboxError {
    #[error("no sandbox account has user id {0}")]
    UnknownAccount(i64),
    #[error("user id {0} is not a valid Telegram user id")]
    InvalidUserId(i64),
    #[error("user id {0} belongs to a scripted contact")]
    UserIdTaken(i64),
    #[error("a contact's name must not be blank")]
    BlankContactName,
    #[error("a contact's name is one line of at most 64 characters")]
    ContactNameTooLong,
    #[error("the sandbox keeps at most 10000 contacts")]
    TooManyContacts,
    #[error("the account has no contact of that name")]
    UnknownContact,
    #[error("the contact wrote no message {0} to this account")]
    UnknownMessage(i32),
    #[error("a group needs a title")]
    BlankGroupTitle,
    #[error("a file must not be empty")]
    EmptyFile,
    #[error("the sandbox holds files of at most {limit} bytes")]
    FileTooLarge { limit: usize },
    #[error(transparent)]
    Refused(#[from] GatewayError),
}
