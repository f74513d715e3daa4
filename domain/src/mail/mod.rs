//! Outgoing email as a port. Adapters: a file mailer (the embedded default, RFC 5322 `.eml` files) and SMTP.

use async_trait::async_trait;

use crate::identity::Email;

/// A message to one recipient: plain text, and the same in HTML when `html` is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    pub to: Email,
    pub subject: String,
    pub body: String,
    pub html: Option<String>,
    /// The `Message-ID` without angle brackets (a notice's job id, so a resend carries the same one).
    pub message_id: Option<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("sending mail failed: {0}")]
pub struct MailError(pub String);

#[async_trait]
pub trait Mailer: Send + Sync + std::fmt::Debug {
    async fn send(&self, mail: &OutgoingMail) -> Result<(), MailError>;
}
