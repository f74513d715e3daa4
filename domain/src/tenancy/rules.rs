//! The membership rules, as pure functions over roles. Each refusal names the rule it breaks.

use super::role::Role;

/// Why an action on a member is refused.
pub type Refusal = &'static str;

/// Changing `target`'s role from `current` to `new`, by a member holding `actor`.
pub fn may_change_role(actor: Role, current: Role, new: Role, acting_on_self: bool) -> Result<(), Refusal> {
    if acting_on_self {
        return Err("you cannot change your own role");
    }
    if new == Role::Owner {
        return Err("ownership changes only by transferOwnership");
    }
    if current == Role::Owner {
        return Err("the owner's role changes only by transferOwnership");
    }
    if !actor.outranks(current) {
        return Err("you can act only on members of lower rank than yours");
    }
    if !actor.outranks(new) {
        return Err("you can grant only roles below your own");
    }
    Ok(())
}

/// Removing a member holding `target`, by a member holding `actor`; `leaving` when they are the same person.
pub fn may_remove(actor: Role, target: Role, leaving: bool) -> Result<(), Refusal> {
    if target == Role::Owner {
        return Err(if leaving {
            "the owner cannot leave; transfer ownership first"
        } else {
            "the owner cannot be removed"
        });
    }
    if leaving {
        return Ok(());
    }
    if !actor.outranks(target) {
        return Err("you can remove only members of lower rank than yours");
    }
    Ok(())
}

/// Inviting someone with `role`, by a member holding `actor`.
pub fn may_invite(actor: Role, role: Role) -> Result<(), Refusal> {
    if role == Role::Owner {
        return Err("ownership changes only by transferOwnership");
    }
    if !actor.at_least(Role::Admin) {
        return Err("only admins and the owner can invite");
    }
    if !actor.outranks(role) {
        return Err("you can grant only roles below your own");
    }
    Ok(())
}

/// Whether API keys a member created stay alive while the member holds `role` (`None`: no longer a member).
/// Keys are made by admins and the owner; a key outlives its creator's rank only when an admin re-owns it.
pub fn keeps_api_keys(role: Option<Role>) -> bool {
    role.is_some_and(|role| role.at_least(Role::Admin))
}

/// Whether a pending invitation to `invited` stays alive while its inviter holds `role` (`None`: no longer a
/// member): only while the inviter could still send it.
pub fn keeps_invitation(role: Option<Role>, invited: Role) -> bool {
    role.is_some_and(|role| may_invite(role, invited).is_ok())
}

/// Who may own an API key (a re-owned key included): a member who may create one.
pub fn may_own_api_key(role: Role) -> Result<(), Refusal> {
    if keeps_api_keys(Some(role)) {
        Ok(())
    } else {
        Err("API keys belong to admins and the owner")
    }
}

/// Transferring ownership, by a member holding `actor`.
pub fn may_transfer(actor: Role, to_self: bool) -> Result<(), Refusal> {
    if actor != Role::Owner {
        return Err("only the owner can transfer ownership");
    }
    if to_self {
        return Err("you already own this workspace");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use Role::*;

    #[test]
    fn admin_cannot_promote_to_admin_or_touch_the_owner() {
        assert!(may_change_role(Admin, Operator, Admin, false).is_err());
        assert!(may_change_role(Admin, Owner, Viewer, false).is_err());
        assert!(may_change_role(Admin, Operator, Viewer, false).is_ok());
        assert!(may_change_role(Admin, Admin, Viewer, false).is_err(), "equal rank");
    }

    #[test]
    fn owner_grants_up_to_admin_but_never_owner() {
        assert!(may_change_role(Owner, Viewer, Admin, false).is_ok());
        assert!(may_change_role(Owner, Admin, Owner, false).is_err());
    }

    #[test]
    fn nobody_changes_their_own_role() {
        assert!(may_change_role(Owner, Owner, Admin, true).is_err());
        assert!(may_change_role(Admin, Admin, Viewer, true).is_err());
    }

    #[test]
    fn removal_follows_rank_and_spares_the_owner() {
        assert!(may_remove(Admin, Operator, false).is_ok());
        assert!(may_remove(Operator, Operator, false).is_err());
        assert!(may_remove(Admin, Owner, false).is_err());
        assert!(
            may_remove(Viewer, Viewer, true).is_ok(),
            "anyone but the owner may leave"
        );
        assert!(may_remove(Owner, Owner, true).is_err());
    }

    #[test]
    fn invitations_need_admin_and_a_lower_role() {
        assert!(may_invite(Admin, Operator).is_ok());
        assert!(may_invite(Admin, Admin).is_err());
        assert!(may_invite(Operator, Viewer).is_err());
        assert!(may_invite(Owner, Owner).is_err());
    }

    #[test]
    fn what_a_member_created_lives_only_while_they_could_still_create_it() {
        let table = [
            (Some(Owner), true),
            (Some(Admin), true),
            (Some(Operator), false),
            (Some(Viewer), false),
            (None, false),
        ];
        for (role, keeps) in table {
            assert_eq!(keeps_api_keys(role), keeps, "{role:?}");
            assert_eq!(
                may_own_api_key(role.unwrap_or(Viewer)).is_ok(),
                keeps && role.is_some(),
                "{role:?}"
            );
        }
        assert!(keeps_invitation(Some(Owner), Admin));
        assert!(
            !keeps_invitation(Some(Admin), Admin),
            "an owner turned admin cannot invite admins"
        );
        assert!(keeps_invitation(Some(Admin), Operator));
        assert!(!keeps_invitation(Some(Operator), Viewer), "demoted below admin");
        assert!(!keeps_invitation(None, Viewer), "gone");
    }

    #[test]
    fn only_the_owner_transfers() {
        assert!(may_transfer(Owner, false).is_ok());
        assert!(may_transfer(Admin, false).is_err());
        assert!(may_transfer(Owner, true).is_err());
    }
}
