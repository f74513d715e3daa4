//! Ranked roles: OWNER > ADMIN > OPERATOR > VIEWER.
//!
//! Rules: a member acts only on members of strictly lower rank, and grants only roles strictly below its own.
//! OWNER is never granted: there is exactly one, changed only by a transfer of ownership.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Owner,
    Admin,
    Operator,
    Viewer,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Owner, Role::Admin, Role::Operator, Role::Viewer];

    pub fn rank(self) -> u8 {
        match self {
            Role::Owner => 4,
            Role::Admin => 3,
            Role::Operator => 2,
            Role::Viewer => 1,
        }
    }

    /// Whether this role may act on a member holding `other`.
    pub fn outranks(self, other: Role) -> bool {
        self.rank() > other.rank()
    }

    /// Whether this role is at least `minimum`.
    pub fn at_least(self, minimum: Role) -> bool {
        self.rank() >= minimum.rank()
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "OWNER",
            Role::Admin => "ADMIN",
            Role::Operator => "OPERATOR",
            Role::Viewer => "VIEWER",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == text)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_are_strictly_ordered() {
        assert!(Role::Owner.outranks(Role::Admin));
        assert!(Role::Admin.outranks(Role::Operator));
        assert!(Role::Operator.outranks(Role::Viewer));
        assert!(!Role::Admin.outranks(Role::Admin), "equal rank is not enough");
        assert!(!Role::Viewer.outranks(Role::Owner));
        assert!(Role::Admin.at_least(Role::Admin) && !Role::Operator.at_least(Role::Admin));
    }

    #[test]
    fn names_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("owner"), None);
    }
}
