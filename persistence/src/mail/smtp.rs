//! Mail sent over SMTP (TLS through rustls).
//!
//! Rules:
//! - TLS is required by default: `smtp://` must upgrade with STARTTLS (lettre's `tls=required`; a server
//!   that does not offer it gets nothing, not even the credentials or the envelope) and `smtps://` speaks TLS
//!   from the first byte.
//! - Mail may travel in clear only with the explicit setting `mail.allow_plaintext_smtp = true`: then
//!   `smtp://` without a `tls` parameter upgrades when the server offers STARTTLS and sends in clear when it
//!   does not, and `tls=opportunistic` is accepted. Without the setting, a URL asking for that is refused at
//!   start-up.
//! - The URL holds credentials: it is never logged, and no error repeats it.

use async_trait::async_trait;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Tokio1Executor};
use tgos_domain::mail::{MailError, Mailer, OutgoingMail};

/// The setting that allows mail in clear, as the configuration names it.
pub const ALLOW_PLAINTEXT: &str = "mail.allow_plaintext_smtp";

pub struct SmtpMailer {
    from: Mailbox,
    transport: AsyncSmtpTransport<Tokio1Executor>,
    /// Whether TLS is required (a failure then says so).
    tls_required: bool,
}

impl std::fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SmtpMailer")
    }
}

/// The value of the URL's `tls` query parameter, if any.
fn tls_parameter(url: &str) -> Option<&str> {
    let (_, query) = url.split_once('?')?;
    let query = query.split('#').next().unwrap_or_default();
    query.split('&').find_map(|pair| pair.strip_prefix("tls="))
}

/// The URL lettre is given: the configured one with its TLS mode made explicit, or a refusal of a URL that
/// could send in clear when that is not allowed. `Ok((url, tls_required))`.
pub fn transport_url(url: &str, allow_plaintext: bool) -> Result<(String, bool), MailError> {
    let scheme = url.split_once("://").map(|(scheme, _)| scheme.to_ascii_lowercase());
    match (scheme.as_deref(), tls_parameter(url)) {
        (Some("smtps"), _) | (Some("smtp"), Some("required")) => Ok((url.to_owned(), true)),
        (Some("smtp"), None) => {
            let mode = if allow_plaintext { "opportunistic" } else { "required" };
            let separator = if url.contains('?') { '&' } else { '?' };
            Ok((format!("{url}{separator}tls={mode}"), !allow_plaintext))
        }
        (Some("smtp"), Some("opportunistic")) if allow_plaintext => Ok((url.to_owned(), false)),
        (Some("smtp"), Some(_)) => Err(MailError(format!(
            "the SMTP URL asks for a connection that may send mail in clear; use smtps:// or smtp:// with \
             STARTTLS, or set {ALLOW_PLAINTEXT} = true to allow it"
        ))),
        _ => Err(MailError(
            "the SMTP URL must start with smtp:// (STARTTLS) or smtps:// (TLS)".to_owned(),
        )),
    }
}

impl SmtpMailer {
    /// `url` is `smtp://…` (STARTTLS required) or `smtps://…`; credentials may be in it. It is never logged.
    /// `allow_plaintext` is the explicit opt-out of TLS ([`ALLOW_PLAINTEXT`]).
    pub fn new(url: &str, from: Mailbox, allow_plaintext: bool) -> Result<Self, MailError> {
        let (url, tls_required) = transport_url(url, allow_plaintext)?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&url)
            .map_err(|_| MailError("the SMTP URL is malformed".to_owned()))?
            .build();
        Ok(Self {
            from,
            transport,
            tls_required,
        })
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, mail: &OutgoingMail) -> Result<(), MailError> {
        let message = super::message(&self.from, mail)?;
        self.transport.send(message).await.map(|_response| ()).map_err(|e| {
            if self.tls_required {
                MailError(format!(
                    "sending over SMTP failed ({e}); TLS is required, so nothing was sent in clear (a server \
                     without STARTTLS is refused unless {ALLOW_PLAINTEXT} = true)"
                ))
            } else {
                MailError(format!("sending over SMTP failed ({e})"))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_is_required_unless_plaintext_is_allowed() {
        let url = |u: &str, allow| transport_url(u, allow);
        assert_eq!(
            url("smtp://u:p@mail.example:587", false).ok(),
            Some(("smtp://u:p@mail.example:587?tls=required".to_owned(), true))
        );
        assert_eq!(
            url("smtp://mail.example/helo.example?x=1", false).ok(),
            Some(("smtp://mail.example/helo.example?x=1&tls=required".to_owned(), true))
        );
        assert_eq!(
            url("smtp://mail.example?tls=required", false).ok(),
            Some(("smtp://mail.example?tls=required".to_owned(), true))
        );
        assert_eq!(
            url("smtps://u:p@mail.example", false).ok(),
            Some(("smtps://u:p@mail.example".to_owned(), true))
        );
        let refused = url("smtp://u:secret@mail.example?tls=opportunistic", false).unwrap_err();
        assert!(
            refused.0.contains(ALLOW_PLAINTEXT) && !refused.0.contains("secret"),
            "{refused:?}"
        );
        assert!(url("smtp://mail.example?tls=none", false).is_err());
        assert!(url("http://mail.example", true).is_err());
        assert_eq!(
            url("smtp://mail.example:25", true).ok(),
            Some(("smtp://mail.example:25?tls=opportunistic".to_owned(), false))
        );
        assert_eq!(
            url("smtp://mail.example?tls=opportunistic", true).ok(),
            Some(("smtp://mail.example?tls=opportunistic".to_owned(), false))
        );
    }
}
