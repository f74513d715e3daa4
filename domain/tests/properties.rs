//! Property tests of the domain rules: for every input, not just the examples in the unit tests.

use proptest::prelude::*;
use tgos_domain::identity::backup_codes;
use tgos_domain::identity::lockout::LockoutPolicy;
use tgos_domain::identity::totp::TotpSecret;
use tgos_domain::ids::UserId;
use tgos_domain::tenancy::{Role, rules};

fn role() -> impl Strategy<Value = Role> {
    prop::sample::select(Role::ALL.to_vec())
}

proptest! {
    #[test]
    fn lock_lengths_never_shrink_and_never_pass_the_ceiling(locks in 0u32..200) {
        let policy = LockoutPolicy::default().account;
        prop_assert!(policy.lock_duration(locks) <= policy.lock_duration(locks + 1));
        prop_assert!(policy.lock_duration(locks) <= policy.max_lock);
        prop_assert!(policy.lock_duration(locks) >= policy.base_lock.min(policy.max_lock));
    }

    #[test]
    fn a_totp_code_matches_its_own_step_within_the_window(
        secret in prop::collection::vec(any::<u8>(), 20),
        step in 1i64..100_000_000,
        offset in -1i64..=1,
        second in 0i64..30,
    ) {
        let secret = TotpSecret::from_bytes(secret);
        let code = secret.code_at_step(step).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let now = (step + offset) * 30 + second;
        let matched = secret.matching_step(&code, now).map_err(|e| TestCaseError::fail(e.to_string()))?;
        // Another step of the window may share the code by chance (1 in a million); it must be in the window.
        prop_assert!(matched.is_some_and(|s| (s - (step + offset)).abs() <= 1));
    }

    #[test]
    fn backup_codes_hash_the_same_however_they_are_typed(pick in 0usize..10, upper in any::<bool>(), spaced in any::<bool>()) {
        let user = UserId::generate();
        let codes = backup_codes::generate();
        let code = &codes[pick];
        let mut typed = if upper { code.to_uppercase() } else { code.clone() };
        if spaced {
            typed = typed.replace('-', " ");
        }
        prop_assert_eq!(backup_codes::digest(user, &typed), backup_codes::digest(user, code));
        prop_assert!(backup_codes::digest(user, code).is_some());
    }

    #[test]
    fn nobody_grants_ownership_or_acts_on_an_equal_or_higher_rank(actor in role(), current in role(), new in role(), on_self in any::<bool>()) {
        if rules::may_change_role(actor, current, new, on_self).is_ok() {
            prop_assert!(new != Role::Owner && current != Role::Owner);
            prop_assert!(actor.outranks(current) && actor.outranks(new));
            prop_assert!(!on_self);
        }
        if rules::may_remove(actor, current, false).is_ok() {
            prop_assert!(current != Role::Owner && actor.outranks(current));
        }
        if rules::may_invite(actor, new).is_ok() {
            prop_assert!(actor.at_least(Role::Admin) && actor.outranks(new));
        }
    }
}
