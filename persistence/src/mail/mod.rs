//! The `Mailer` port on lettre: RFC 5322 messages written as `.eml` files (the embedded default) or sent
//! over SMTP (`TGOS_MAIL__SMTP_URL`, e.g. `smtps://user:pass@smtp.example.com:465`), TLS required unless
//! `mail.allow_plaintext_smtp` says otherwise (see [`smtp`]).

use lettre::Message;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart};
use tgos_domain::mail::{MailError, OutgoingMail};

mod file;
pub mod smtp;

pub use file::FileMailer;
pub use smtp::{ALLOW_PLAINTEXT, SmtpMailer, transport_url};

/// Parses the sender, e.g. `Telegram OS <no-reply@example.com>`.
pub fn sender(from: &str) -> Result<Mailbox, MailError> {
    from.parse()
        .map_err(|e| MailError(format!("invalid sender address: {e}")))
}

fn message(from: &Mailbox, mail: &OutgoingMail) -> Result<Message, MailError> {
    let to: Mailbox = mail
        .to
        .as_str()
        .parse()
        .map_err(|e| MailError(format!("invalid recipient: {e}")))?;
    let builder = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(mail.subject.clone())
        .message_id(mail.message_id.as_ref().map(|id| format!("<{id}>")));
    match &mail.html {
        Some(html) => builder.multipart(MultiPart::alternative_plain_html(mail.body.clone(), html.clone())),
        None => builder.header(ContentType::TEXT_PLAIN).body(mail.body.clone()),
    }
    .map_err(|e| MailError(e.to_string()))
}
