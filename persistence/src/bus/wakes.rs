//! Waking the relay across replicas: a commit here is announced on `<prefix>.outbox.committed`, and an
//! announcement from elsewhere wakes the relay here, so the replica that relays publishes at once rather than
//! at its next tick. Announcements carry nothing; many commits between two sends make one.

use futures_util::StreamExt as _;
use tgos_domain::events::Outbox;

use super::nats::NatsBus;

impl NatsBus {
    /// Announces this process's commits and wakes its relay on the others', for as long as the task runs.
    pub async fn bridge_wakes(self, outbox: Outbox) {
        let subject = self.subject("outbox.committed");
        loop {
            let mut incoming = self.subscribe_retrying(&subject, "commit announcements").await;
            loop {
                tokio::select! {
                    () = outbox.committed_here() => {
                        // A lost announcement costs one relay tick, nothing more.
                        if let Err(error) = self.client().publish(subject.clone(), self.origin().to_owned().into()).await {
                            tracing::debug!(%error, "a commit announcement did not reach NATS");
                        }
                    }
                    message = incoming.next() => match message {
                        Some(message) if message.payload.as_ref() != self.origin().as_bytes() => outbox.committed_elsewhere(),
                        Some(_) => {}
                        None => break,
                    },
                }
            }
        }
    }
}
