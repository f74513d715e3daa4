//! Mail sent over SMTP (TLS through rustls).

use async_trait::async_trait;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Tokio1Executor};
use tgos_domain::mail::{MailError, Mailer, OutgoingMail};

pub struct SmtpMailer {
    from: Mailbox,
    transport: AsyncSmtpTransport<Tokio1Executor>,
}

impl std::fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SmtpMailer")
    }
}

impl SmtpMailer {
    /// `url` is `smtp://…` (STARTTLS) or `smtps://…`; credentials may be in it. It is never logged.
    pub fn new(url: &str, from: Mailbox) -> Result<Self, MailError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|_| MailError("the SMTP URL is malformed".to_owned()))?
            .build();
        Ok(Self { from, transport })
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, mail: &OutgoingMail) -> Result<(), MailError> {
        let message = super::message(&self.from, mail)?;
        self.transport
            .send(message)
            .await
            .map(|_response| ())
            .map_err(|e| MailError(e.to_string()))
    }
}
