//! Gauges of live connections: open WebSockets and active subscriptions by kind.
//!
//! Rule: a gauge moves with a guard's life, up when it is made and down when it is dropped, so a connection
//! or subscription that ends in any way (completed, closed by the client, refused, panicked) is counted out.
//! Kinds are the subscription fields of the schema, so the label is bounded.

use prometheus::{IntGauge, IntGaugeVec, Opts, Registry};

/// The subscription fields counted apart; any other counts as `other`.
pub const SUBSCRIPTION_KINDS: [&str; 2] = ["inboxEvents", "automationEvents"];

/// The live connection gauges.
#[derive(Clone)]
pub struct LiveGauges {
    websockets: IntGauge,
    subscriptions: IntGaugeVec,
}

impl LiveGauges {
    pub(super) fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let websockets = IntGauge::new(
            "tgos_websockets_open",
            "GraphQL WebSocket connections open on this process (from the upgrade to the close)",
        )?;
        let subscriptions = IntGaugeVec::new(
            Opts::new(
                "tgos_subscriptions_active",
                "Subscriptions running on this process's WebSockets, by subscription field",
            ),
            &["kind"],
        )?;
        registry.register(Box::new(websockets.clone()))?;
        registry.register(Box::new(subscriptions.clone()))?;
        for kind in SUBSCRIPTION_KINDS {
            subscriptions.with_label_values(&[kind]).set(0);
        }
        Ok(Self {
            websockets,
            subscriptions,
        })
    }

    /// Counts an open WebSocket until the guard is dropped.
    pub fn websocket(&self) -> Counted {
        Counted::new(self.websockets.clone())
    }

    /// Counts a running subscription of field `kind` until the guard is dropped.
    pub fn subscription(&self, kind: &str) -> Counted {
        let kind = SUBSCRIPTION_KINDS
            .iter()
            .find(|known| **known == kind)
            .copied()
            .unwrap_or("other");
        Counted::new(self.subscriptions.with_label_values(&[kind]))
    }
}

/// One unit of a gauge, given back when dropped.
#[derive(Debug)]
pub struct Counted(IntGauge);

impl Counted {
    fn new(gauge: IntGauge) -> Self {
        gauge.inc();
        Self(gauge)
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.dec();
    }
}

impl std::fmt::Debug for LiveGauges {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LiveGauges")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guards_count_while_they_live_and_unknown_kinds_are_other() -> Result<(), prometheus::Error> {
        let registry = Registry::new();
        let gauges = LiveGauges::register(&registry)?;
        let socket = gauges.websocket();
        let inbox = gauges.subscription("inboxEvents");
        let odd = gauges.subscription("somethingElse");
        assert_eq!(gauges.websockets.get(), 1);
        assert_eq!(gauges.subscriptions.with_label_values(&["inboxEvents"]).get(), 1);
        assert_eq!(gauges.subscriptions.with_label_values(&["other"]).get(), 1);
        drop((socket, inbox, odd));
        assert_eq!(gauges.websockets.get(), 0);
        assert_eq!(gauges.subscriptions.with_label_values(&["inboxEvents"]).get(), 0);
        assert_eq!(gauges.subscriptions.with_label_values(&["automationEvents"]).get(), 0);
        Ok(())
    }
}
