//! A plain-text SMTP server for tests: it keeps every line clients send, never offers STARTTLS, and can
//! refuse the first messages with a temporary failure (a mail server briefly down).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpListener;

/// A plain-text SMTP server that never offers STARTTLS; it keeps every line the client sent.
#[derive(Debug)]
pub struct FakeSmtp {
    pub port: u16,
    received: Arc<Mutex<Vec<String>>>,
    /// Messages that arrived, by `Message-ID`, with how many times each did.
    attempts: Arc<Mutex<HashMap<String, usize>>>,
    server: tokio::task::JoinHandle<()>,
}

impl FakeSmtp {
    pub async fn start() -> anyhow::Result<Self> {
        Self::failing_first(0).await
    }

    /// A server that answers each message (told apart by its `Message-ID`) with a temporary failure (`451`)
    /// after its data the first `failures` times it arrives, as a mail server briefly unable to take mail
    /// does, and accepts it after that.
    pub async fn failing_first(failures: usize) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let lines = Arc::clone(&received);
        let attempts = Arc::new(Mutex::new(HashMap::new()));
        let arrivals = Arc::clone(&attempts);
        let server = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let lines = Arc::clone(&lines);
                let attempts = Arc::clone(&arrivals);
                tokio::spawn(async move {
                    let _ = converse(socket, lines, attempts, failures).await;
                });
            }
        });
        Ok(Self {
            port,
            received,
            attempts,
            server,
        })
    }

    /// How many times each message (by `Message-ID`) arrived; the first `failures` of each were refused.
    pub fn arrivals(&self) -> HashMap<String, usize> {
        self.attempts.lock().map(|a| a.clone()).unwrap_or_default()
    }

    /// Every line clients sent, in order.
    pub fn received(&self) -> Vec<String> {
        self.received.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

impl Drop for FakeSmtp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn converse(
    socket: tokio::net::TcpStream,
    lines: Arc<Mutex<Vec<String>>>,
    attempts: Arc<Mutex<HashMap<String, usize>>>,
    failures: usize,
) -> anyhow::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut read = BufReader::new(read);
    write.write_all(b"220 fake.example ESMTP\r\n").await?;
    let mut in_data = false;
    let mut message_id = String::new();
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
                let seen_before = attempts
                    .lock()
                    .map(|mut attempts| {
                        let count = attempts.entry(std::mem::take(&mut message_id)).or_insert(0);
                        *count += 1;
                        *count - 1
                    })
                    .unwrap_or(usize::MAX);
                let refuse = seen_before < failures;
                if refuse {
                    if let Ok(mut seen) = lines.lock() {
                        seen.push("<refused>".to_owned());
                    }
                    write.write_all(b"451 4.3.0 try again later\r\n").await?;
                } else {
                    write.write_all(b"250 2.0.0 queued\r\n").await?;
                }
            } else if let Some(id) = text.strip_prefix("Message-ID: ") {
                message_id = id.to_owned();
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
