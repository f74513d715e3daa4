//! Access changes between replicas over a plain NATS subject (no stream: a change missed while the broker
//! is away is caught by every replica's slow re-check and credential cache expiry).

use futures_util::StreamExt as _;
use tgos_domain::events::AccessSignals;
use tokio::sync::broadcast::error::RecvError;

use super::nats::NatsBus;
use super::wire::WireAccess;

impl NatsBus {
    /// Publishes the access changes made here and applies those made on other replicas, for as long as the
    /// task runs.
    pub async fn bridge_access(self, signals: AccessSignals) {
        let subject = self.subject("access");
        let mut made_here = signals.made_here();
        loop {
            let mut incoming = self.subscribe_retrying(&subject, "access changes").await;
            loop {
                tokio::select! {
                    change = made_here.recv() => match change {
                        Ok(change) => {
                            let wire = WireAccess { origin: self.origin().to_owned(), change };
                            match serde_json::to_vec(&wire) {
                                Ok(payload) => {
                                    if let Err(error) = self.client().publish(subject.clone(), payload.into()).await {
                                        tracing::warn!(%error, "an access change did not reach NATS");
                                    }
                                }
                                Err(error) => tracing::warn!(%error, "an access change does not encode"),
                            }
                        }
                        Err(RecvError::Lagged(missed)) => {
                            tracing::warn!(missed, "access changes were not handed to NATS; other replicas re-check on their timer");
                        }
                        Err(RecvError::Closed) => return,
                    },
                    message = incoming.next() => match message {
                        Some(message) => match serde_json::from_slice::<WireAccess>(&message.payload) {
                            Ok(wire) if wire.origin != self.origin() => signals.apply_remote(wire.change),
                            Ok(_) => {}
                            Err(error) => tracing::warn!(%error, "an access change from NATS does not read"),
                        },
                        None => break,
                    },
                }
            }
        }
    }
}
