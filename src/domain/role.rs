//! API-key roles, ordered by what they may do.

use super::{Invalid, Parsed};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Viewer,
    Member,
    Admin,
    Owner,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "Viewer",
            Role::Member => "Member",
            Role::Admin => "Admin",
            Role::Owner => "Owner",
        }
    }

    pub fn parse(s: &str) -> Parsed<Role> {
        match s {
            "Viewer" => Ok(Role::Viewer),
            "Member" => Ok(Role::Member),
            "Admin" => Ok(Role::Admin),
            "Owner" => Ok(Role::Owner),
            other => Err(Invalid::new(format!(
                "\"{other}\" is not one of Viewer, Member, Admin, Owner"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered() {
        assert!(Role::Viewer < Role::Member);
        assert!(Role::Member < Role::Admin);
        assert!(Role::Admin < Role::Owner);
    }

    #[test]
    fn parse_round_trips() {
        for r in [Role::Viewer, Role::Member, Role::Admin, Role::Owner] {
            assert_eq!(Role::parse(r.as_str()), Ok(r));
        }
        assert!(Role::parse("owner").is_err());
    }
}
