//! Engagement counters: per account and UTC day, how much it sent, received and answered, and to how many
//! distinct peers (policy §3.2, "engagement counters").
//!
//! Rules:
//! - A day is a UTC calendar day ([`utc_day`]).
//! - `sent` counts messages Telegram accepted from the account; `received` messages it received; `replies`
//!   the sent messages that reply (Telegram's `reply_to`) to a message the peer sent the account. So
//!   `replies <= sent` always.
//! - `distinct_peers` counts the distinct [`PeerKey`]s the account sent to or received from that day. The
//!   value type dedups in memory with a set capped at [`DailyCounters::MAX_TRACKED_PEERS`] peers; past the
//!   cap new peers are no longer tracked and the count is a lower bound
//!   ([`DailyCounters::peers_complete`] is `false`). Storage receives counters as deltas and dedups peers
//!   across deltas itself (one row per account, day and peer), so stored counts stay exact when deltas are
//!   flushed well before the cap.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::accounts::gateway::PeerKey;

/// The UTC day `at` falls on.
pub fn utc_day(at: DateTime<Utc>) -> NaiveDate {
    at.date_naive()
}

/// One account's engagement over one UTC day, or a delta of it on its way to storage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailyCounters {
    day: NaiveDate,
    sent: i64,
    received: i64,
    replies: i64,
    peers: BTreeSet<PeerKey>,
    peers_complete: bool,
}

impl DailyCounters {
    /// The most peers one value tracks; far more than Telegram lets an account start conversations with in a
    /// day.
    pub const MAX_TRACKED_PEERS: usize = 10_000;

    /// Nothing counted yet on `day`.
    pub fn new(day: NaiveDate) -> Self {
        Self {
            day,
            sent: 0,
            received: 0,
            replies: 0,
            peers: BTreeSet::new(),
            peers_complete: true,
        }
    }

    /// Counts a message sent to `peer`; `is_reply` when it replies to a message `peer` sent the account.
    pub fn record_sent(&mut self, peer: PeerKey, is_reply: bool) {
        self.sent = self.sent.saturating_add(1);
        if is_reply {
            self.replies = self.replies.saturating_add(1);
        }
        self.track(peer);
    }

    /// Counts a message received from `peer`.
    pub fn record_received(&mut self, peer: PeerKey) {
        self.received = self.received.saturating_add(1);
        self.track(peer);
    }

    fn track(&mut self, peer: PeerKey) {
        if self.peers.len() < Self::MAX_TRACKED_PEERS {
            self.peers.insert(peer);
        } else if !self.peers.contains(&peer) {
            self.peers_complete = false;
        }
    }

    /// Adds `other`'s counts and peers; `false` (and nothing changes) when it is about another day.
    pub fn absorb(&mut self, other: &DailyCounters) -> bool {
        if other.day != self.day {
            return false;
        }
        self.sent = self.sent.saturating_add(other.sent);
        self.received = self.received.saturating_add(other.received);
        self.replies = self.replies.saturating_add(other.replies);
        for peer in &other.peers {
            self.track(*peer);
        }
        self.peers_complete &= other.peers_complete;
        true
    }

    pub fn day(&self) -> NaiveDate {
        self.day
    }

    pub fn sent(&self) -> i64 {
        self.sent
    }

    pub fn received(&self) -> i64 {
        self.received
    }

    pub fn replies(&self) -> i64 {
        self.replies
    }

    /// How many distinct peers were tracked (a lower bound when [`DailyCounters::peers_complete`] is false).
    pub fn distinct_peers(&self) -> i64 {
        i64::try_from(self.peers.len()).unwrap_or(i64::MAX)
    }

    /// The peers tracked, for storage to dedup across deltas.
    pub fn peers(&self) -> impl Iterator<Item = PeerKey> + '_ {
        self.peers.iter().copied()
    }

    /// Whether every peer recorded is tracked, so `distinct_peers` is exact.
    pub fn peers_complete(&self) -> bool {
        self.peers_complete
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.sent == 0 && self.received == 0 && self.peers.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(id: i64) -> PeerKey {
        PeerKey::from_marked(id).unwrap()
    }

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 6, 15).unwrap()
    }

    #[test]
    fn sends_receipts_and_replies_are_counted_and_peers_counted_once() {
        let mut counters = DailyCounters::new(day());
        let (ada, bob) = (peer(1), peer(-100_200));
        counters.record_received(ada);
        counters.record_sent(ada, true);
        counters.record_sent(ada, false);
        counters.record_sent(bob, false);
        assert_eq!(counters.sent(), 3);
        assert_eq!(counters.received(), 1);
        assert_eq!(counters.replies(), 1);
        assert_eq!(counters.distinct_peers(), 2);
        assert!(counters.peers_complete());
    }

    #[test]
    fn the_peer_set_stops_growing_at_its_cap_and_says_the_count_is_a_lower_bound() {
        let mut counters = DailyCounters::new(day());
        let cap = i64::try_from(DailyCounters::MAX_TRACKED_PEERS).unwrap();
        for id in 1..=cap {
            counters.record_received(peer(id));
        }
        counters.record_received(peer(1));
        assert!(counters.peers_complete(), "a known peer past the cap is still deduped");
        counters.record_sent(peer(cap + 1), false);
        assert_eq!(counters.distinct_peers(), cap);
        assert!(!counters.peers_complete());
        assert_eq!(counters.sent(), 1);
    }

    #[test]
    fn deltas_of_the_same_day_add_up_and_other_days_are_refused() {
        let mut total = DailyCounters::new(day());
        total.record_sent(peer(1), false);
        let mut delta = DailyCounters::new(day());
        delta.record_sent(peer(1), true);
        delta.record_received(peer(2));
        assert!(total.absorb(&delta));
        assert_eq!((total.sent(), total.received(), total.replies()), (2, 1, 1));
        assert_eq!(total.distinct_peers(), 2);
        let other_day = DailyCounters::new(day().succ_opt().unwrap());
        assert!(!total.absorb(&other_day));
    }

    #[test]
    fn the_day_is_the_utc_calendar_day() {
        let late = DateTime::parse_from_rfc3339("2025-06-15T23:59:59-05:00").unwrap();
        assert_eq!(utc_day(late.with_timezone(&Utc)), day().succ_opt().unwrap());
    }
}
