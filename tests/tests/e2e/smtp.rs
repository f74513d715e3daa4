//! SMTP over a local fake server that offers no STARTTLS: with TLS required (the default) nothing is sent in
//! clear, not the credentials, not the envelope, not the message; only the explicit
//! `mail.allow_plaintext_smtp` opt-out lets it send. No database is involved, so these run once.

use tgos_domain::identity::Email;
use tgos_domain::mail::{Mailer as _, OutgoingMail};
use tgos_persistence::mail::{SmtpMailer, sender};
use tgos_tests::fake_smtp::FakeSmtp;

fn mail() -> anyhow::Result<OutgoingMail> {
    Ok(OutgoingMail {
        to: Email::parse("to", "peter@example.com").map_err(|e| anyhow::anyhow!("{e:?}"))?,
        subject: "Invitation".to_owned(),
        body: "the secret invitation link".to_owned(),
        html: None,
        message_id: None,
    })
}

#[tokio::test]
async fn smtp_without_starttls_sends_nothing_in_clear_unless_plaintext_is_allowed() -> anyhow::Result<()> {
    let server = FakeSmtp::start().await?;
    let from = sender("Telegram OS <no-reply@telegramos.app>")?;
    let url = format!("smtp://user:hunter2@127.0.0.1:{}", server.port);

    let required = SmtpMailer::new(&url, from.clone(), false)?;
    let error = required
        .send(&mail()?)
        .await
        .expect_err("a server without STARTTLS must be refused");
    let message = error.to_string();
    assert!(message.contains("TLS is required"), "{message}");
    assert!(message.contains("mail.allow_plaintext_smtp"), "{message}");
    assert!(!message.contains("hunter2"), "no credentials in the error: {message}");
    let seen = server.received();
    assert!(
        seen.iter().all(|l| l.starts_with("EHLO") || l.starts_with("QUIT")),
        "only the greeting passed in clear: {seen:?}"
    );
    assert!(!seen.is_empty(), "the client did reach the server");

    let allowed = SmtpMailer::new(&url, from, true)?;
    allowed.send(&mail()?).await?;
    let seen = server.received();
    assert!(
        seen.iter()
            .any(|l| l.starts_with("MAIL FROM:<no-reply@telegramos.app>")),
        "{seen:?}"
    );
    assert!(
        seen.iter().any(|l| l.starts_with("RCPT TO:<peter@example.com>")),
        "{seen:?}"
    );
    assert!(seen.iter().any(|l| l.starts_with("AUTH")), "{seen:?}");
    assert!(
        seen.iter().any(|l| l.contains("the secret invitation link")),
        "{seen:?}"
    );
    Ok(())
}

#[tokio::test]
async fn an_smtp_url_asking_for_optional_tls_is_refused_without_the_opt_out() -> anyhow::Result<()> {
    let from = sender("Telegram OS <no-reply@telegramos.app>")?;
    let refused = SmtpMailer::new(
        "smtp://user:hunter2@127.0.0.1:2525?tls=opportunistic",
        from.clone(),
        false,
    )
    .expect_err("opportunistic TLS may send in clear");
    assert!(refused.to_string().contains("mail.allow_plaintext_smtp"), "{refused}");
    assert!(!refused.to_string().contains("hunter2"));
    assert!(SmtpMailer::new("smtp://127.0.0.1:2525?tls=opportunistic", from, true).is_ok());
    Ok(())
}
