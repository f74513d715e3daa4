//! The risk score: how close an account is to trouble with Telegram, from 0 (nothing recent) to 100.
//!
//! Rules:
//! - Every bad signal earns points ([`signal_points`]): a flood wait 5 plus one per minute of wait (at most
//!   60), a peer flood 60, an auth error 100, a failed send by kind (privacy and write refusals 4, an invalid
//!   peer 2, other 1, a network failure 0, as it says nothing about the account). Accepted sends and operator
//!   actions earn none.
//! - Points count within a rolling window of [`RISK_WINDOW_SECS`] (24 h) and decay linearly to nothing over
//!   it: a signal `age` old weighs `points * (window - age) / window`. The score is the sum, rounded down and
//!   capped at 100. Integer arithmetic only, so the score is deterministic; more bad signals never lower it;
//!   time alone never raises it; a window without bad signals scores 0.
//! - The ledger is bounded: points are added to 15-minute buckets ([`RISK_BUCKET_SECS`]) counted at the
//!   bucket's end (so a signal is never counted older than it is), and buckets that left the window are
//!   dropped. At most [`RiskLedger::MAX_BUCKETS`] buckets remain; the oldest goes first should the clock ever
//!   move backwards past that bound.
//! - An observation stamped later than `now` (clock skew) counts as observed `now`.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::signal::{HealthSignal, SendFailureKind};

/// How long a bad signal counts.
pub const RISK_WINDOW_SECS: i64 = 24 * 60 * 60;
/// The granularity of the ledger.
pub const RISK_BUCKET_SECS: i64 = 15 * 60;

/// A risk score, 0 to 100 inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct RiskScore(u8);

impl RiskScore {
    pub const ZERO: RiskScore = RiskScore(0);
    pub const MAX: RiskScore = RiskScore(100);

    /// `None` above 100.
    pub const fn new(value: u8) -> Option<Self> {
        if value <= 100 { Some(Self(value)) } else { None }
    }

    /// `value`, capped at 100.
    pub fn saturating(value: u64) -> Self {
        Self(u8::try_from(value.min(100)).unwrap_or(100))
    }

    pub fn value(self) -> u8 {
        self.0
    }
}

impl TryFrom<u8> for RiskScore {
    type Error = &'static str;
    fn try_from(value: u8) -> Result<Self, Self::Error> {
        Self::new(value).ok_or("a risk score is at most 100")
    }
}

impl From<RiskScore> for u8 {
    fn from(score: RiskScore) -> u8 {
        score.0
    }
}

/// The points one signal adds to the ledger (0 for healthy and operator signals).
pub fn signal_points(signal: &HealthSignal) -> u32 {
    match signal {
        HealthSignal::FloodWait { seconds } => (5 + seconds / 60).min(60),
        HealthSignal::PeerFlood => 60,
        HealthSignal::AuthError { .. } => 100,
        HealthSignal::SendFailed { kind } => match kind {
            SendFailureKind::UserPrivacyRestricted | SendFailureKind::ChatWriteForbidden => 4,
            SendFailureKind::PeerInvalid => 2,
            SendFailureKind::Other => 1,
            SendFailureKind::Network => 0,
        },
        HealthSignal::SendSucceeded
        | HealthSignal::OperatorPaused { .. }
        | HealthSignal::OperatorResumed { .. }
        | HealthSignal::AutomationPaused { .. } => 0,
    }
}

/// Points counted at one instant (the end of a 15-minute bucket).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskBucket {
    pub at: DateTime<Utc>,
    pub points: u32,
}

/// The rolling ledger of bad signals, oldest bucket first.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RiskLedger {
    buckets: Vec<RiskBucket>,
}

impl RiskLedger {
    /// The most buckets a ledger holds: one window's worth plus the bucket in progress.
    pub const MAX_BUCKETS: usize = (RISK_WINDOW_SECS / RISK_BUCKET_SECS) as usize + 1;

    pub fn new() -> Self {
        Self::default()
    }

    pub fn buckets(&self) -> &[RiskBucket] {
        &self.buckets
    }

    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }

    /// Adds the signal's points as observed at `observed_at`; `false` when it adds nothing (a healthy signal,
    /// or one already outside the window).
    pub fn record(&mut self, signal: &HealthSignal, observed_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        self.prune(now);
        let points = signal_points(signal);
        if points == 0 {
            return false;
        }
        let at = bucket_end(observed_at.min(now));
        if age_secs(at, now) >= RISK_WINDOW_SECS {
            return false;
        }
        match self.buckets.binary_search_by(|b| b.at.cmp(&at)) {
            Ok(i) => self.buckets[i].points = self.buckets[i].points.saturating_add(points),
            Err(i) => self.buckets.insert(i, RiskBucket { at, points }),
        }
        if self.buckets.len() > Self::MAX_BUCKETS {
            let excess = self.buckets.len() - Self::MAX_BUCKETS;
            self.buckets.drain(..excess);
        }
        true
    }

    /// Drops the buckets that no longer count at `now`.
    pub fn prune(&mut self, now: DateTime<Utc>) {
        self.buckets.retain(|b| age_secs(b.at, now) < RISK_WINDOW_SECS);
    }

    /// The score at `now`.
    pub fn score(&self, now: DateTime<Utc>) -> RiskScore {
        let weighted: u64 = self
            .buckets
            .iter()
            .map(|b| {
                let remaining = RISK_WINDOW_SECS - age_secs(b.at, now).max(0);
                u64::from(b.points).saturating_mul(u64::try_from(remaining).unwrap_or(0))
            })
            .fold(0u64, u64::saturating_add);
        RiskScore::saturating(weighted / RISK_WINDOW_SECS.unsigned_abs())
    }

    /// The first whole second from `now` on at which the score is below `threshold`, if no new bad signal
    /// arrives; `None` for a threshold of 0, which no score is below.
    pub fn below_at(&self, threshold: RiskScore, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if threshold == RiskScore::ZERO {
            return None;
        }
        if self.score(now) < threshold {
            return Some(now);
        }
        // The score never rises with time and is 0 one window after the newest bucket.
        let newest = self.buckets.last().map_or(now, |b| b.at.max(now));
        let (mut low, mut high) = (0i64, (newest - now).num_seconds() + RISK_WINDOW_SECS + 1);
        while high - low > 1 {
            let mid = low + (high - low) / 2;
            if self.score(now + TimeDelta::seconds(mid)) < threshold {
                high = mid;
            } else {
                low = mid;
            }
        }
        Some(now + TimeDelta::seconds(high))
    }
}

/// The end of the 15-minute bucket `at` falls in.
fn bucket_end(at: DateTime<Utc>) -> DateTime<Utc> {
    let end = at.timestamp().div_euclid(RISK_BUCKET_SECS) * RISK_BUCKET_SECS + RISK_BUCKET_SECS;
    DateTime::from_timestamp(end, 0).unwrap_or(at)
}

/// Whole seconds from `at` to `now`; negative when `at` is later.
fn age_secs(at: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    (now - at).num_seconds()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::health::signal::AuthErrorKind;

    fn t0() -> DateTime<Utc> {
        DateTime::from_timestamp(1_750_000_000, 0).unwrap()
    }

    #[test]
    fn flood_waits_weigh_by_their_length_up_to_a_ceiling() {
        let points = |seconds| signal_points(&HealthSignal::FloodWait { seconds });
        assert_eq!(points(0), 5);
        assert_eq!(points(59), 5);
        assert_eq!(points(300), 10);
        assert_eq!(points(3_300), 60);
        assert_eq!(points(u32::MAX), 60);
        assert_eq!(signal_points(&HealthSignal::PeerFlood), 60);
        assert_eq!(
            signal_points(&HealthSignal::AuthError {
                kind: AuthErrorKind::SessionRevoked
            }),
            100
        );
        assert_eq!(signal_points(&HealthSignal::SendSucceeded), 0);
    }

    #[test]
    fn a_fresh_peer_flood_scores_its_points_and_fades_linearly_over_the_window() {
        let mut ledger = RiskLedger::new();
        let now = t0();
        assert!(ledger.record(&HealthSignal::PeerFlood, now, now));
        assert_eq!(ledger.score(now).value(), 60);
        let half = bucket_end(now) + TimeDelta::seconds(RISK_WINDOW_SECS / 2);
        assert_eq!(ledger.score(half).value(), 30);
        let gone = bucket_end(now) + TimeDelta::seconds(RISK_WINDOW_SECS);
        assert_eq!(ledger.score(gone), RiskScore::ZERO);
    }

    #[test]
    fn scores_are_capped_at_one_hundred() {
        let mut ledger = RiskLedger::new();
        let now = t0();
        for _ in 0..5 {
            ledger.record(
                &HealthSignal::AuthError {
                    kind: AuthErrorKind::Frozen,
                },
                now,
                now,
            );
        }
        assert_eq!(ledger.score(now), RiskScore::MAX);
    }

    #[test]
    fn signals_outside_the_window_and_healthy_ones_add_nothing() {
        let mut ledger = RiskLedger::new();
        let now = t0();
        let old = now - TimeDelta::seconds(RISK_WINDOW_SECS + RISK_BUCKET_SECS);
        assert!(!ledger.record(&HealthSignal::PeerFlood, old, now));
        assert!(!ledger.record(&HealthSignal::SendSucceeded, now, now));
        assert!(ledger.is_empty());
    }

    #[test]
    fn buckets_that_left_the_window_are_dropped() {
        let mut ledger = RiskLedger::new();
        let now = t0();
        ledger.record(&HealthSignal::PeerFlood, now, now);
        let later = now + TimeDelta::seconds(RISK_WINDOW_SECS + RISK_BUCKET_SECS);
        ledger.record(&HealthSignal::FloodWait { seconds: 10 }, later, later);
        assert_eq!(ledger.buckets().len(), 1);
    }

    #[test]
    fn a_future_observation_counts_as_observed_now() {
        let mut ledger = RiskLedger::new();
        let now = t0();
        ledger.record(&HealthSignal::PeerFlood, now + TimeDelta::days(365), now);
        assert_eq!(ledger.buckets()[0].at, bucket_end(now));
    }

    #[test]
    fn below_at_finds_the_first_second_the_score_drops_under_a_threshold() {
        let mut ledger = RiskLedger::new();
        let now = t0();
        ledger.record(&HealthSignal::PeerFlood, now, now);
        let threshold = RiskScore::new(50).unwrap();
        let at = ledger.below_at(threshold, now).unwrap();
        assert!(ledger.score(at) < threshold);
        assert!(ledger.score(at - TimeDelta::seconds(1)) >= threshold);
        assert_eq!(ledger.below_at(RiskScore::MAX, now), Some(now));
        assert_eq!(ledger.below_at(RiskScore::ZERO, now), None);
    }

    #[test]
    fn scores_outside_0_to_100_do_not_deserialize() {
        assert!(serde_json::from_str::<RiskScore>("101").is_err());
        assert_eq!(serde_json::from_str::<RiskScore>("42").unwrap().value(), 42);
    }
}
