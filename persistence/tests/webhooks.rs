//! `HttpWebhookSender` against local receivers on 127.0.0.1: what arrives (once, signed, with every header),
//! what is refused before any connection (the SSRF guard), and what each kind of answer means for retrying.
//! The receivers are a few lines of HTTP/1.1 over tokio that record every connection and request.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, TimeZone as _, Utc};
use tgos_domain::webhooks::{
    DeliveryError, DeliveryReceipt, DestinationPolicy, WebhookDelivery, WebhookSender as _, verify_signature,
};
use tgos_persistence::webhooks::{DEFAULT_TIMEOUT, HostLookup, HttpWebhookSender};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const SECRET: &str = "whsec_receiver_secret";
const BODY: &[u8] = br#"{"automation":"a1","status":"SUCCEEDED"}"#;
const PRIVATE_ALLOWED: DestinationPolicy = DestinationPolicy { allow_private: true };
const PUBLIC_ONLY: DestinationPolicy = DestinationPolicy { allow_private: false };

/// The domain clock's "now", years away from the system clock, so a signature made with the system clock
/// would show.
fn domain_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 1, 2, 3, 4, 5).single().unwrap_or_default()
}

fn delivery(url: String) -> WebhookDelivery {
    WebhookDelivery {
        url,
        secret: SECRET.to_owned(),
        event: "automation.execution".to_owned(),
        delivery_id: "0190d7f4-0000-7000-8000-000000000001".to_owned(),
        body: BODY.to_vec(),
    }
}

/// What a receiver answers.
#[derive(Debug, Clone)]
enum Answer {
    Status(u16),
    /// `302 Found` to this location.
    RedirectTo(String),
    /// Reads the request and never answers.
    Never,
    /// `200 OK` announcing a 100 MB body, then sends it slowly, forever.
    EndlessBody,
}

#[derive(Debug, Clone)]
struct Recorded {
    request_line: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Recorded {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// An HTTP/1.1 receiver on 127.0.0.1 that records every connection and request.
struct Receiver {
    port: u16,
    connections: Arc<AtomicUsize>,
    requests: Arc<Mutex<Vec<Recorded>>>,
    server: tokio::task::JoinHandle<()>,
}

impl Receiver {
    async fn start(answer: Answer) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let connections = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (counted, recorded) = (Arc::clone(&connections), Arc::clone(&requests));
        let server = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
                let (answer, recorded) = (answer.clone(), Arc::clone(&recorded));
                tokio::spawn(async move {
                    let _ = serve(socket, answer, recorded).await;
                });
            }
        });
        Ok(Self {
            port,
            connections,
            requests,
            server,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn serve(mut socket: TcpStream, answer: Answer, requests: Arc<Mutex<Vec<Recorded>>>) -> std::io::Result<()> {
    let mut buffer = Vec::new();
    let head_end = loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
        let mut chunk = [0u8; 4096];
        let read = socket.read(&mut chunk).await?;
        if read == 0 || buffer.len() > 64 * 1024 {
            return Ok(());
        }
        buffer.extend_from_slice(&chunk[..read]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default().to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(key, value)| (key.trim().to_owned(), value.trim().to_owned()))
        .collect();
    let length = headers
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = buffer[head_end + 4..].to_vec();
    while body.len() < length {
        let mut chunk = [0u8; 4096];
        let read = socket.read(&mut chunk).await?;
        if read == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..read]);
    }
    if let Ok(mut seen) = requests.lock() {
        seen.push(Recorded {
            request_line,
            headers,
            body,
        });
    }
    let reply = match answer {
        Answer::Status(status) => format!("HTTP/1.1 {status} Status\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
        Answer::RedirectTo(location) => {
            format!("HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        }
        Answer::Never => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return Ok(());
        }
        Answer::EndlessBody => {
            socket
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\nConnection: close\r\n\r\n")
                .await?;
            loop {
                socket.write_all(&[b'x'; 1024]).await?;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    };
    socket.write_all(reply.as_bytes()).await?;
    socket.shutdown().await
}

/// A resolver answering from a table, counting its lookups; names not in it do not resolve.
#[derive(Debug, Default)]
struct TableLookup {
    names: HashMap<String, Vec<IpAddr>>,
    lookups: AtomicUsize,
}

impl TableLookup {
    fn with(name: &str, addrs: &[&str]) -> Arc<Self> {
        let addrs = addrs.iter().filter_map(|a| a.parse().ok()).collect();
        Arc::new(Self {
            names: HashMap::from([(name.to_owned(), addrs)]),
            lookups: AtomicUsize::new(0),
        })
    }
}

#[async_trait]
impl HostLookup for TableLookup {
    async fn lookup(&self, host: &str, _port: u16) -> std::io::Result<Vec<IpAddr>> {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        self.names
            .get(host)
            .cloned()
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "no such name"))
    }
}

fn assert_quiet(error: &DeliveryError) {
    let text = error.to_string();
    for secret in [SECRET, "s3cr3t", "SUCCEEDED"] {
        assert!(!text.contains(secret), "{text:?} shows {secret:?}");
    }
}

#[tokio::test]
async fn a_delivery_arrives_once_with_a_valid_signature_and_every_header() -> TestResult {
    let receiver = Receiver::start(Answer::Status(204)).await?;
    let sender = HttpWebhookSender::new(PRIVATE_ALLOWED, DEFAULT_TIMEOUT);
    let now = domain_now();

    let receipt = sender.deliver(&delivery(receiver.url("/hooks/in?x=1")), now).await?;

    assert_eq!(receipt, DeliveryReceipt { status: 204 });
    let requests = receiver.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(receiver.connections(), 1);
    let request = &requests[0];
    assert_eq!(request.request_line, "POST /hooks/in?x=1 HTTP/1.1");
    assert_eq!(request.body, BODY);
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(request.header("user-agent"), Some("TelegramOS-Webhooks/1"));
    assert_eq!(request.header("x-tgos-event"), Some("automation.execution"));
    assert_eq!(
        request.header("x-tgos-delivery"),
        Some("0190d7f4-0000-7000-8000-000000000001")
    );
    let signature = request.header("x-tgos-signature").unwrap_or_default();
    assert!(
        signature.starts_with(&format!("t={},v1=", now.timestamp())),
        "signed at the domain clock's time: {signature}"
    );
    assert!(verify_signature(
        signature,
        SECRET.as_bytes(),
        &request.body,
        now.timestamp(),
        300
    ));
    assert!(!verify_signature(
        signature,
        b"another secret",
        &request.body,
        now.timestamp(),
        300
    ));
    assert!(!verify_signature(
        signature,
        SECRET.as_bytes(),
        b"{}",
        now.timestamp(),
        300
    ));
    Ok(())
}

#[tokio::test]
async fn with_private_destinations_refused_a_loopback_receiver_is_blocked_and_sees_nothing() -> TestResult {
    let receiver = Receiver::start(Answer::Status(200)).await?;
    let sender = HttpWebhookSender::new(PUBLIC_ONLY, DEFAULT_TIMEOUT);
    let port = receiver.port;
    let urls = [
        receiver.url("/hooks/in"),
        format!("https://127.0.0.1:{port}/hooks/in?token=s3cr3t"),
        format!("https://localhost:{port}/hooks/in"),
        format!("https://[::1]:{port}/hooks/in"),
        format!("https://[::ffff:127.0.0.1]:{port}/hooks/in"),
        format!("https://2130706433:{port}/hooks/in"),
    ];
    for url in urls {
        let refused = sender.deliver(&delivery(url.clone()), domain_now()).await;
        let Err(error @ DeliveryError::Blocked(_)) = refused else {
            panic!("{url} was not blocked: {refused:?}");
        };
        assert!(!error.retryable());
        assert_quiet(&error);
        assert!(sender.check_destination(&url).await.is_err(), "{url}");
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(receiver.connections(), 0, "the receiver was reached");
    Ok(())
}

#[tokio::test]
async fn each_answer_is_delivered_retryable_or_rejected_after_exactly_one_request() -> TestResult {
    let sender = HttpWebhookSender::new(PRIVATE_ALLOWED, DEFAULT_TIMEOUT);
    for (status, retryable) in [
        (500, Some(true)),
        (503, Some(true)),
        (429, Some(true)),
        (408, Some(true)),
    ]
    .into_iter()
    .chain([(400, Some(false)), (404, Some(false)), (410, Some(false)), (200, None)])
    {
        let receiver = Receiver::start(Answer::Status(status)).await?;
        let outcome = sender.deliver(&delivery(receiver.url("/in")), domain_now()).await;
        match (retryable, &outcome) {
            (None, Ok(receipt)) => assert_eq!(receipt.status, status),
            (Some(true), Err(error @ DeliveryError::Retryable(_))) => assert!(error.retryable()),
            (Some(false), Err(error @ DeliveryError::Rejected { status: answered })) => {
                assert_eq!(*answered, status);
                assert!(!error.retryable());
            }
            _ => panic!("HTTP {status} became {outcome:?}"),
        }
        assert_eq!(receiver.requests().len(), 1, "HTTP {status}: not exactly one request");
    }
    Ok(())
}

#[tokio::test]
async fn a_redirect_is_rejected_and_its_target_sees_nothing() -> TestResult {
    let target = Receiver::start(Answer::Status(200)).await?;
    let redirector = Receiver::start(Answer::RedirectTo(target.url("/internal"))).await?;
    let sender = HttpWebhookSender::new(PRIVATE_ALLOWED, DEFAULT_TIMEOUT);

    let outcome = sender.deliver(&delivery(redirector.url("/in")), domain_now()).await;

    assert_eq!(outcome, Err(DeliveryError::Rejected { status: 302 }));
    assert_eq!(redirector.requests().len(), 1);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(target.connections(), 0, "the redirect was followed");
    Ok(())
}

#[tokio::test]
async fn a_receiver_that_never_answers_is_retryable_after_the_timeout() -> TestResult {
    let receiver = Receiver::start(Answer::Never).await?;
    let timeout = Duration::from_millis(400);
    let sender = HttpWebhookSender::new(PRIVATE_ALLOWED, timeout);
    let started = Instant::now();

    let outcome = sender
        .deliver(&delivery(receiver.url("/in?token=s3cr3t")), domain_now())
        .await;

    let elapsed = started.elapsed();
    let Err(error @ DeliveryError::Retryable(_)) = &outcome else {
        panic!("a silent receiver gave {outcome:?}");
    };
    assert!(error.to_string().contains("timed out"), "{error}");
    assert_quiet(error);
    assert!(elapsed >= timeout, "gave up after {elapsed:?}");
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
    assert_eq!(receiver.requests().len(), 1);
    Ok(())
}

#[tokio::test]
async fn the_response_body_is_not_read() -> TestResult {
    let receiver = Receiver::start(Answer::EndlessBody).await?;
    let sender = HttpWebhookSender::new(PRIVATE_ALLOWED, Duration::from_secs(3));
    let started = Instant::now();

    let outcome = sender.deliver(&delivery(receiver.url("/in")), domain_now()).await;

    assert_eq!(outcome, Ok(DeliveryReceipt { status: 200 }));
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "waited {:?} for the body",
        started.elapsed()
    );
    Ok(())
}

#[tokio::test]
async fn an_unreachable_receiver_is_retryable() -> TestResult {
    let closed_port = TcpListener::bind("127.0.0.1:0").await?.local_addr()?.port();
    let sender = HttpWebhookSender::new(PRIVATE_ALLOWED, DEFAULT_TIMEOUT);

    let outcome = sender
        .deliver(&delivery(format!("http://127.0.0.1:{closed_port}/in")), domain_now())
        .await;

    let Err(error @ DeliveryError::Retryable(_)) = &outcome else {
        panic!("a closed port gave {outcome:?}");
    };
    assert!(error.to_string().contains("could not connect"), "{error}");
    Ok(())
}

#[tokio::test]
async fn the_request_goes_to_the_checked_address_and_dns_is_asked_once() -> TestResult {
    // `.test` names never resolve through DNS (RFC 6761): the delivery can arrive only through the address
    // the sender's own lookup returned and checked.
    let receiver = Receiver::start(Answer::Status(200)).await?;
    let lookup = TableLookup::with("hooks.example.test", &["127.0.0.1"]);
    let sender = HttpWebhookSender::with_lookup(PRIVATE_ALLOWED, DEFAULT_TIMEOUT, lookup.clone());
    let url = format!("http://hooks.example.test:{}/in", receiver.port);

    let receipt = sender.deliver(&delivery(url), domain_now()).await?;

    assert_eq!(receipt.status, 200);
    assert_eq!(
        lookup.lookups.load(Ordering::SeqCst),
        1,
        "the name was resolved more than once"
    );
    let requests = receiver.requests();
    assert_eq!(requests.len(), 1);
    let host = format!("hooks.example.test:{}", receiver.port);
    assert_eq!(requests[0].header("host"), Some(host.as_str()));
    Ok(())
}

#[tokio::test]
async fn a_name_resolving_to_any_refused_address_is_blocked_before_connecting() -> TestResult {
    let receiver = Receiver::start(Answer::Status(200)).await?;
    let url = format!("https://hooks.example.test:{}/in", receiver.port);

    let mixed = TableLookup::with("hooks.example.test", &["93.184.215.14", "127.0.0.1"]);
    let sender = HttpWebhookSender::with_lookup(PUBLIC_ONLY, DEFAULT_TIMEOUT, mixed);
    let outcome = sender.deliver(&delivery(url.clone()), domain_now()).await;
    assert_eq!(
        outcome,
        Err(DeliveryError::Blocked(
            "hooks.example.test resolves to 127.0.0.1, a loopback address".into()
        ))
    );
    assert_eq!(
        sender.check_destination(&url).await,
        Err("hooks.example.test resolves to 127.0.0.1, a loopback address".into())
    );

    let metadata = TableLookup::with("hooks.example.test", &["169.254.169.254"]);
    let lenient = HttpWebhookSender::with_lookup(PRIVATE_ALLOWED, DEFAULT_TIMEOUT, metadata);
    let outcome = lenient.deliver(&delivery(url), domain_now()).await;
    assert!(matches!(outcome, Err(DeliveryError::Blocked(_))), "{outcome:?}");

    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(receiver.connections(), 0);
    Ok(())
}

#[tokio::test]
async fn a_name_that_does_not_resolve_is_retryable_not_blocked() -> TestResult {
    let sender = HttpWebhookSender::with_lookup(PUBLIC_ONLY, DEFAULT_TIMEOUT, Arc::new(TableLookup::default()));

    let outcome = sender
        .deliver(&delivery("https://gone.example.test/in".into()), domain_now())
        .await;

    assert_eq!(
        outcome,
        Err(DeliveryError::Retryable("gone.example.test does not resolve".into()))
    );
    Ok(())
}
