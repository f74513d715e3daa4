//! Where an account stands in its MTProto update sequence, as the domain's opaque [`UpdateState`].
//!
//! Rule: the state is the account-wide ("common") `pts` in the high 32 bits and the `date` Telegram gave
//! with it in the low 32 bits, so states grow with `pts` and a stored state is all `updates.getDifference`
//! needs. Channels (supergroups and broadcast channels) keep their own `pts` inside the connection; their
//! updates carry the common position they arrived at, and a gap in a channel is filled by re-reading that
//! channel's recent history (delivery is at least once, and the inbox stores a message once).

use tgos_domain::accounts::gateway::UpdateState;

/// The common `pts` and its `date`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommonState {
    pub pts: i32,
    pub date: i32,
}

impl CommonState {
    pub fn to_state(self) -> UpdateState {
        let pts = u64::from(self.pts.max(0).unsigned_abs());
        let date = u64::from(self.date.max(0).unsigned_abs());
        UpdateState::new((pts << 32) | date)
    }

    pub fn from_state(state: UpdateState) -> Self {
        let value = state.get();
        Self {
            pts: i32::try_from(value >> 32).unwrap_or(i32::MAX),
            date: i32::try_from(value & 0xFFFF_FFFF).unwrap_or(i32::MAX),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_and_grow_with_pts() {
        let a = CommonState {
            pts: 1_000,
            date: 1_700_000_000,
        };
        assert_eq!(CommonState::from_state(a.to_state()), a);
        let b = CommonState { pts: 1_001, date: 5 };
        assert!(
            b.to_state() > a.to_state(),
            "a later pts is a later state whatever the date"
        );
        assert_eq!(
            CommonState::from_state(UpdateState::START),
            CommonState { pts: 0, date: 0 }
        );
        let max = CommonState {
            pts: i32::MAX,
            date: i32::MAX,
        };
        assert_eq!(CommonState::from_state(max.to_state()), max);
        assert_eq!(
            CommonState { pts: -3, date: -1 }.to_state(),
            UpdateState::START,
            "negative values never come from Telegram and are read as zero"
        );
    }
}
