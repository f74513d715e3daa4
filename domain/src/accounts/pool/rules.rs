//! What staff may do to an account of the pool, and where an account goes when its lease ends.
//!
//! Rules:
//! - **Retiring takes an account out of the pool for good.** One on offer is retired at once (no workspace can
//!   rent it from then on). One that is leased stays with its holder until the lease ends as paid for: it is
//!   marked as retiring, the lease cannot be renewed, and when the lease ends (released or run out) the account
//!   goes to `RETIRED` instead of back on offer. Retiring an account already retired or retiring is refused.
//! - **Repricing changes the price of the next rental only.** A lease keeps the price per day it was rented at
//!   (its renewals too); an account that will never be offered again (retired or retiring) is not repriced.
//!   The price is a positive number of minor units.
//! - **Where a lease's account goes.** Back on offer, unless Telegram no longer accepts it (banned, session
//!   invalid, frozen) or staff are retiring it: then `RETIRED`.

use super::records::AccountStatus;
use crate::billing::Money;

/// Why staff may not do something to an account.
pub type Refusal = &'static str;

/// What retiring an account does now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retirement {
    /// On offer: it leaves the pool now.
    Now,
    /// Leased: its lease runs to its end, and then it leaves the pool.
    AtLeaseEnd,
}

/// Retiring an account in `status` (`retiring`: already marked to leave at its lease's end).
pub fn retirement(status: AccountStatus, retiring: bool) -> Result<Retirement, Refusal> {
    match (status, retiring) {
        (AccountStatus::Retired, _) => Err("this account is retired already"),
        (_, true) => Err("this account is retiring already: it leaves the pool when its lease ends"),
        (AccountStatus::Available, false) => Ok(Retirement::Now),
        (AccountStatus::Leased, false) => Ok(Retirement::AtLeaseEnd),
    }
}

/// Repricing an account in `status` to `price`.
pub fn may_reprice(status: AccountStatus, retiring: bool, price: Money) -> Result<(), PriceRefusal> {
    if price.minor() <= 0 {
        return Err(PriceRefusal::Price("must be positive"));
    }
    match (status, retiring) {
        (AccountStatus::Retired, _) => Err(PriceRefusal::Account("a retired account is never offered again")),
        (_, true) => Err(PriceRefusal::Account(
            "this account is retiring: it will not be offered again",
        )),
        _ => Ok(()),
    }
}

/// Why a reprice is refused: the price itself, or the account's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriceRefusal {
    Price(Refusal),
    Account(Refusal),
}

/// Renewing a lease of an account that is `retiring`.
pub fn may_renew(retiring: bool) -> Result<(), Refusal> {
    if retiring {
        return Err("this account is leaving the pool: the lease runs to its end and cannot be renewed");
    }
    Ok(())
}

/// Where an account goes when its lease ends: `dead` when Telegram no longer accepts it.
pub fn status_after_lease(dead: bool, retiring: bool) -> AccountStatus {
    if dead || retiring {
        AccountStatus::Retired
    } else {
        AccountStatus::Available
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::billing::Currency;

    use AccountStatus::{Available, Leased, Retired};

    #[test]
    fn retiring_an_offered_account_is_at_once_a_leased_one_at_its_lease_end() {
        let table = [
            (Available, false, Ok(Retirement::Now)),
            (Leased, false, Ok(Retirement::AtLeaseEnd)),
            (Leased, true, Err(())),
            (Retired, false, Err(())),
            (Retired, true, Err(())),
        ];
        for (status, retiring, expected) in table {
            assert_eq!(
                retirement(status, retiring).map_err(|_| ()),
                expected,
                "{status:?}, retiring {retiring}"
            );
        }
    }

    #[test]
    fn only_accounts_that_will_be_offered_again_are_repriced_and_only_at_a_positive_price() {
        let usd = |minor| Money::new(minor, Currency::USD);
        assert_eq!(may_reprice(Available, false, usd(700)), Ok(()));
        assert_eq!(may_reprice(Leased, false, usd(1)), Ok(()), "for the next rental");
        assert!(matches!(
            may_reprice(Retired, false, usd(700)),
            Err(PriceRefusal::Account(_))
        ));
        assert!(matches!(
            may_reprice(Leased, true, usd(700)),
            Err(PriceRefusal::Account(_))
        ));
        for bad in [0, -5] {
            assert!(matches!(
                may_reprice(Available, false, usd(bad)),
                Err(PriceRefusal::Price(_))
            ));
        }
    }

    #[test]
    fn a_lease_of_a_retiring_account_is_not_renewed() {
        assert_eq!(may_renew(false), Ok(()));
        assert!(may_renew(true).is_err());
    }

    #[test]
    fn a_lease_returns_its_account_to_offer_unless_it_is_dead_or_retiring() {
        assert_eq!(status_after_lease(false, false), Available);
        assert_eq!(status_after_lease(true, false), Retired);
        assert_eq!(status_after_lease(false, true), Retired);
        assert_eq!(status_after_lease(true, true), Retired);
    }
}
