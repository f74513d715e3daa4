//! The event bus across replicas, on NATS: committed events through JetStream, access changes through
//! plain subjects. Every replica's subscribers are served from its own in-process bus
//! ([`tgos_domain::events::LocalEventBus`]), which this adapter feeds.
//!
//! Rules:
//! - **Published once.** The relay publishes each event to the subject of its workspace,
//!   `<prefix>.events.<workspace>`, in the stream `<PREFIX>_EVENTS`, with the message id
//!   `<workspace>:<sequence>`: JetStream stores a repeat within its duplicate window (2 minutes) once, and
//!   the relay marks an event published only after JetStream acknowledged it.
//! - **Consumed by every replica.** Each replica reads the stream from the moment it starts through an
//!   ordered consumer (no acknowledgements; it recreates itself after a gap) and passes every event to its
//!   in-process bus; the outbox stays the source of truth for `afterSequence` replay, so the stream keeps
//!   events for an hour only.
//! - **Degraded, not lost.** While the client is not connected or the consumer is not running, the
//!   publisher says delivery is degraded and the server reads its subscribers' events from the outbox
//!   ([`tgos_domain::events::OutboxPoller`]); a failed publish leaves the events unpublished for the next
//!   relay pass.
//! - **Access changes.** A change made on one replica is published on `<prefix>.access` with the replica's
//!   origin; every other replica applies it to its own signals (cached credentials dropped, subscriptions
//!   checked again), and ignores its own.
//! - **Wakes.** A commit here is announced on `<prefix>.outbox.committed`, so the replica that relays
//!   publishes at once instead of at its next tick.

mod access;
mod nats;
mod wakes;
mod wire;

pub use nats::{NatsBus, NatsSettings};
