//! The NATS connection: publishing committed events to JetStream and passing the stream on to this
//! replica's in-process bus. The rules are in the module above.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_nats::connection::State;
use async_nats::jetstream::{self, consumer, message::PublishMessage, stream};
use async_trait::async_trait;
use futures_util::StreamExt as _;
use tgos_domain::events::{EventBus, EventPublisher, LocalEventBus, PublishFailed, StoredEvent};

use super::wire;

/// How long JetStream keeps events: long enough for a replica's consumer to ride out a broker restart, short
/// because the outbox is what subscribers replay from.
const KEEP_EVENTS: Duration = Duration::from_secs(60 * 60);
/// Repeats of one message id within this window are stored once.
const DUPLICATE_WINDOW: Duration = Duration::from_secs(2 * 60);
/// The wait before the consumer tries again after failing.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Where the broker is and what this deployment's subjects start with.
#[derive(Debug, Clone)]
pub struct NatsSettings {
    /// `nats://host:port`.
    pub url: String,
    /// The first token of every subject (`tgos`), so deployments can share a broker.
    pub prefix: String,
    /// The name this replica gives itself in the broker's connection list.
    pub client_name: String,
}

/// The bus across replicas. Cheap to clone.
#[derive(Clone)]
pub struct NatsBus {
    inner: Arc<Inner>,
}

struct Inner {
    client: async_nats::Client,
    jetstream: jetstream::Context,
    prefix: String,
    local: Arc<LocalEventBus>,
    stream_ready: AtomicBool,
    consuming: AtomicBool,
    /// This replica, on the access changes it publishes.
    pub(super) origin: String,
}

impl std::fmt::Debug for NatsBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsBus")
            .field("prefix", &self.inner.prefix)
            .field("state", &self.inner.client.connection_state())
            .finish_non_exhaustive()
    }
}

/// The broker could not be set up (a malformed URL; an unreachable broker is not an error: the client
/// keeps trying and delivery is degraded meanwhile).
#[derive(Debug, thiserror::Error)]
#[error("cannot use NATS at {url}: {reason}")]
pub struct NatsUnavailable {
    url: String,
    reason: String,
}

impl NatsBus {
    /// Connects in the background (retrying for as long as the server runs) and feeds `local`.
    pub async fn connect(settings: &NatsSettings, local: Arc<LocalEventBus>) -> Result<Self, NatsUnavailable> {
        let client = async_nats::ConnectOptions::new()
            .name(&settings.client_name)
            .retry_on_initial_connect()
            .connection_timeout(Duration::from_secs(2))
            .event_callback(|event| async move {
                match event {
                    async_nats::Event::Connected => tracing::info!("connected to NATS"),
                    async_nats::Event::Disconnected => {
                        tracing::warn!("lost NATS: live events are read from the outbox until it is back");
                    }
                    other => tracing::debug!(event = %other, "NATS"),
                }
            })
            .connect(settings.url.as_str())
            .await
            .map_err(|error| NatsUnavailable {
                url: settings.url.clone(),
                reason: error.to_string(),
            })?;
        let prefix = settings.prefix.trim_matches('.').to_owned();
        Ok(Self {
            inner: Arc::new(Inner {
                jetstream: jetstream::new(client.clone()),
                client,
                prefix,
                local,
                stream_ready: AtomicBool::new(false),
                consuming: AtomicBool::new(false),
                origin: format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple()),
            }),
        })
    }

    /// The in-process bus this replica's subscribers follow.
    pub fn local(&self) -> Arc<LocalEventBus> {
        Arc::clone(&self.inner.local)
    }

    pub(super) fn client(&self) -> &async_nats::Client {
        &self.inner.client
    }

    pub(super) fn origin(&self) -> &str {
        &self.inner.origin
    }

    /// A subscription to `subject`, retried every second until NATS takes it (`what` names it in the log).
    pub(super) async fn subscribe_retrying(&self, subject: &str, what: &str) -> async_nats::Subscriber {
        loop {
            match self.inner.client.subscribe(subject.to_owned()).await {
                Ok(subscriber) => return subscriber,
                Err(error) => {
                    tracing::warn!(%error, "cannot follow {what} on NATS; retrying in a second");
                    tokio::time::sleep(RETRY_AFTER).await;
                }
            }
        }
    }

    pub(super) fn subject(&self, token: &str) -> String {
        format!("{}.{token}", self.inner.prefix)
    }

    fn stream_name(&self) -> String {
        format!(
            "{}_EVENTS",
            self.inner.prefix.to_uppercase().replace(['.', '-', ' '], "_")
        )
    }

    async fn ensure_stream(&self) -> Result<stream::Stream, String> {
        let stream = self
            .inner
            .jetstream
            .get_or_create_stream(stream::Config {
                name: self.stream_name(),
                subjects: vec![self.subject("events.*")],
                max_age: KEEP_EVENTS,
                duplicate_window: DUPLICATE_WINDOW,
                storage: stream::StorageType::File,
                ..Default::default()
            })
            .await
            .map_err(|error| error.to_string())?;
        self.inner.stream_ready.store(true, Ordering::SeqCst);
        Ok(stream)
    }

    /// Passes the stream's events on to the in-process bus, from now on, for as long as the task runs; after
    /// a failure it starts again (a second later) from what the broker has then.
    pub async fn consume(self) {
        loop {
            if let Err(error) = self.consume_once().await
                && self.inner.consuming.swap(false, Ordering::SeqCst)
            {
                tracing::warn!(%error, "the NATS event consumer stopped; live events come from the outbox");
            }
            self.inner.consuming.store(false, Ordering::SeqCst);
            tokio::time::sleep(RETRY_AFTER).await;
        }
    }

    async fn consume_once(&self) -> Result<(), String> {
        let stream = self.ensure_stream().await?;
        let consumer = stream
            .create_consumer(consumer::pull::OrderedConfig {
                filter_subject: self.subject("events.*"),
                deliver_policy: consumer::DeliverPolicy::New,
                ..Default::default()
            })
            .await
            .map_err(|error| error.to_string())?;
        let mut messages = consumer.messages().await.map_err(|error| error.to_string())?;
        self.inner.consuming.store(true, Ordering::SeqCst);
        tracing::info!(stream = %self.stream_name(), "following live events on NATS");
        while let Some(message) = messages.next().await {
            let message = message.map_err(|error| error.to_string())?;
            match wire::decode(&message.payload) {
                Ok(event) => EventBus::publish(&*self.inner.local, Arc::new(event)),
                // Written by another server version: subscribers read it from the outbox by the gap it leaves.
                Err(error) => tracing::warn!(subject = %message.subject, %error, "a NATS event does not read"),
            }
        }
        Err("the consumer's stream ended".into())
    }
}

#[async_trait]
impl EventPublisher for NatsBus {
    async fn publish(&self, events: &[Arc<StoredEvent>]) -> Result<(), PublishFailed> {
        // Not connected, a publish would wait out its timeout holding up the relay; it fails at once instead.
        if self.inner.client.connection_state() != State::Connected {
            return Err(PublishFailed("not connected to NATS".into()));
        }
        if !self.inner.stream_ready.load(Ordering::SeqCst) {
            self.ensure_stream().await.map_err(PublishFailed)?;
        }
        let mut acks = Vec::with_capacity(events.len());
        for event in events {
            let payload = wire::encode(event).map_err(|error| PublishFailed(error.to_string()))?;
            let message = PublishMessage::build()
                .payload(payload.into())
                .message_id(format!("{}:{}", event.workspace_id, event.sequence));
            let subject = self.subject(&format!("events.{}", event.workspace_id));
            acks.push(
                self.inner
                    .jetstream
                    .send_publish(subject, message)
                    .await
                    .map_err(|error| PublishFailed(error.to_string()))?,
            );
        }
        // Sent back to back, acknowledged in order: one round trip for the batch, not one per event.
        for ack in acks {
            ack.await.map_err(|error| PublishFailed(error.to_string()))?;
        }
        Ok(())
    }

    fn delivery_degraded(&self) -> bool {
        self.inner.client.connection_state() != State::Connected || !self.inner.consuming.load(Ordering::SeqCst)
    }
}
