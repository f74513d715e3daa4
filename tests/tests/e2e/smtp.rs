//! SMTP over a local fake server that offers no STARTTLS: with TLS required (the default) nothing is sent in
//! clear, not the credentials, not the envelope, not the message; only the explicit
//! `mail.allow_plaintext_smtp` opt-out lets it send. No database is involved, so these run once.

use std::sync::{Arc, Mutex};

use tgos_domain::identity::Email;
use tgos_domain::mail::{Mailer as _, OutgoingMail};
use tgos_persistence::mail::{SmtpMailer, sender};
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpListener;

/// A plain-text SMTP server that never offers STARTTLS; it keeps every line the client sent.
struct FakeSmtp {
    port: u16,
    received: Arc<Mutex<Vec<String>>>,
    server: tokio::task::JoinHandle<()>,
}

impl FakeSmtp {
    async fn start() -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let lines = Arc::clone(&received);
        let server = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let lines = Arc::clone(&lines);
                tokio::spawn(async move {
                    let _ = converse(socket, lines).await;
                });
            }
        });
        Ok(Self { port, received, server })
    }

    fn received(&self) -> Vec<String> {
        self.received.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

impl Drop for FakeSmtp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn converse(socket: tokio::net::TcpStream, lines: Arc<Mutex<Vec<String>>>) -> anyhow::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut read = BufReader::new(read);
    write.write_all(b"220 fake.example ESMTP\r\n").await?;
    let mut in_data = false;
    let mut line = String::new();
    loop {
        line.clear();
        if read.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let text = line.trim_end().to_owned();
        if let Ok(mut seen) = lines.lock() {
            seen.push(text.clone());
        }
        if in_data {
            if text == "." {
                in_data = false;
                write.write_all(b"250 2.0.0 queued\r\n").await?;
            }
            continue;
        }
        let verb = text.split(' ').next().unwrap_or_default().to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            // No STARTTLS among the extensions; it would take the credentials in clear.
            "EHLO" => b"250-fake.example\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n",
            "AUTH" => b"235 2.7.0 accepted\r\n",
            "HELO" | "MAIL" | "RCPT" | "RSET" | "NOOP" => b"250 2.0.0 ok\r\n",
            "DATA" => {
                in_data = true;
                b"354 go ahead\r\n"
            }
            "QUIT" => {
                write.write_all(b"221 2.0.0 bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 5.5.2 not implemented\r\n",
        };
        write.write_all(reply).await?;
    }
}

fn mail() -> anyhow::Result<OutgoingMail> {
    Ok(OutgoingMail {
        to: Email::parse("to", "peter@example.com").map_err(|e| anyhow::anyhow!("{e:?}"))?,
        subject: "Invitation".to_owned(),
        body: "the secret invitation link".to_owned(),
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
