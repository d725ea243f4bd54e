//! People's accounts, as rules: names, passwords, who may grant what, sign-in throttling and the
//! session cookie. Hashing itself (Argon2id) is `crate::passwords`' work.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use super::role::Role;
use super::{Invalid, Parsed};

pub const MIN_PASSWORD: usize = 10;
pub const MAX_PASSWORD: usize = 256;
pub const MAX_USERNAME: usize = 64;
/// The cookie that carries a session's id.
pub const SESSION_COOKIE: &str = "portolan_session";
/// Where the first start writes its setup code (bare) in the data directory.
pub const SETUP_CODE_FILE: &str = "setup-code";
/// The header a cookie-authenticated write carries its session's CSRF token in.
pub const CSRF_HEADER: &str = "X-Portolan-CSRF";

/// Groups to roles (`PORTOLAN_ROLE_MAP`, `lab-admins=Admin,lab=Viewer`): a person gets the
/// highest role any of their groups maps to.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RoleMap(pub Vec<(String, Role)>);

impl RoleMap {
    pub fn parse(text: &str) -> Result<RoleMap, String> {
        let mut out = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (group, role) = part
                .split_once('=')
                .ok_or_else(|| format!("\"{part}\" is not group=Role"))?;
            let role = Role::parse(role.trim()).map_err(|e| format!("\"{part}\": {}", e.0))?;
            out.push((group.trim().to_string(), role));
        }
        Ok(RoleMap(out))
    }

    /// The role of someone in `groups`; `None` when no group maps to one.
    pub fn role_of<'a>(&self, groups: impl IntoIterator<Item = &'a str>) -> Option<Role> {
        let groups: Vec<&str> = groups.into_iter().map(str::trim).collect();
        self.0
            .iter()
            .filter(|(g, _)| groups.contains(&g.as_str()))
            .map(|(_, r)| *r)
            .max()
    }
}

/// The groups of a proxy's groups header: comma- or space-separated.
pub fn split_groups(header: &str) -> impl Iterator<Item = &str> {
    header
        .split([',', ' '])
        .map(str::trim)
        .filter(|g| !g.is_empty())
}

/// 1 to 64 characters, no control characters, no surrounding spaces; unique regardless of case.
pub fn parse_username(s: &str) -> Parsed<String> {
    let n = s.chars().count();
    if n == 0 || n > MAX_USERNAME {
        return Err(Invalid::new(format!("1 to {MAX_USERNAME} characters")));
    }
    if s.trim() != s || s.chars().any(char::is_control) {
        return Err(Invalid::new(
            "no control characters, and no spaces at either end",
        ));
    }
    Ok(s.to_string())
}

/// 10 to 256 characters (Unicode scalar values); anything else goes.
pub fn check_password(s: &str) -> Parsed<()> {
    let n = s.chars().count();
    if !(MIN_PASSWORD..=MAX_PASSWORD).contains(&n) {
        return Err(Invalid::new(format!(
            "{MIN_PASSWORD} to {MAX_PASSWORD} characters"
        )));
    }
    Ok(())
}

/// Whether a person of `role` reaching `networks` (empty: all) may give `wanted` over
/// `wanted_networks`: never a role above their own, never networks beyond theirs.
pub fn may_grant(
    role: Role,
    networks: &[String],
    wanted: Role,
    wanted_networks: &[String],
) -> bool {
    wanted <= role
        && (networks.is_empty()
            || (!wanted_networks.is_empty()
                && wanted_networks.iter().all(|n| networks.contains(n))))
}

/// Failed sign-ins in a sliding window: 5 for one username or 20 from one address within 15
/// minutes lock further attempts (right password or not) until the window passes.
pub struct Throttle {
    window: Duration,
    per_user: usize,
    per_address: usize,
    users: HashMap<String, VecDeque<Instant>>,
    addresses: HashMap<String, VecDeque<Instant>>,
}

impl Default for Throttle {
    fn default() -> Self {
        Throttle::new(Duration::from_secs(15 * 60), 5, 20)
    }
}

impl Throttle {
    pub fn new(window: Duration, per_user: usize, per_address: usize) -> Throttle {
        Throttle {
            window,
            per_user,
            per_address,
            users: HashMap::new(),
            addresses: HashMap::new(),
        }
    }

    fn prune(list: &mut VecDeque<Instant>, window: Duration, now: Instant) {
        while list
            .front()
            .is_some_and(|t| now.duration_since(*t) >= window)
        {
            list.pop_front();
        }
    }

    /// Seconds until an attempt for `username` from `address` is allowed again; `None` now.
    pub fn locked(&mut self, username: &str, address: &str, now: Instant) -> Option<u64> {
        let window = self.window;
        let mut wait = None::<Duration>;
        for (map, key, limit) in [
            (&mut self.users, username.to_lowercase(), self.per_user),
            (&mut self.addresses, address.to_string(), self.per_address),
        ] {
            if let Some(list) = map.get_mut(&key) {
                Self::prune(list, window, now);
                if list.len() >= limit {
                    // Open again once enough of the failures leave the window.
                    let oldest = list[list.len() - limit];
                    let left = window.saturating_sub(now.duration_since(oldest));
                    wait = Some(wait.map_or(left, |w| w.max(left)));
                }
            }
        }
        wait.map(|w| w.as_secs().max(1))
    }

    pub fn failed(&mut self, username: &str, address: &str, now: Instant) {
        let window = self.window;
        for (map, key) in [
            (&mut self.users, username.to_lowercase()),
            (&mut self.addresses, address.to_string()),
        ] {
            let list = map.entry(key).or_default();
            Self::prune(list, window, now);
            list.push_back(now);
        }
        // Bounded memory under a spray of names: drop what no longer counts.
        if self.users.len() > 100_000 {
            self.users
                .retain(|_, l| l.back().is_some_and(|t| now.duration_since(*t) < window));
        }
    }

    /// A good sign-in clears its username's failures (not its address's).
    pub fn succeeded(&mut self, username: &str) {
        self.users.remove(&username.to_lowercase());
    }
}

/// The `Set-Cookie` value of a session: `HttpOnly`, `SameSite=Strict`, `Path=/`, `Secure` over
/// HTTPS; `max_age_s` 0 clears it.
pub fn session_cookie(value: &str, max_age_s: i64, secure: bool) -> String {
    cookie(SESSION_COOKIE, value, "/", "Strict", max_age_s, secure)
}

/// A `Set-Cookie` value for an `HttpOnly` cookie of this server.
pub fn cookie(
    name: &str,
    value: &str,
    path: &str,
    same_site: &str,
    max_age_s: i64,
    secure: bool,
) -> String {
    let mut cookie =
        format!("{name}={value}; Path={path}; HttpOnly; SameSite={same_site}; Max-Age={max_age_s}");
    if secure {
        cookie.push_str("; Secure");
    }
    cookie
}

/// The session id in a `Cookie` header, if any.
pub fn session_from_cookies(header: &str) -> Option<&str> {
    cookie_from(header, SESSION_COOKIE)
}

/// The value of the cookie `name` in a `Cookie` header, if any.
pub fn cookie_from<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|part| {
        let (n, value) = part.trim().split_once('=')?;
        (n == name && !value.is_empty()).then_some(value)
    })
}

/// What a key a person owns may do now: no more than the key says, nor than its owner may. Read
/// at each use, so a person's keys shrink with them. `None`: the key and its owner have no network
/// in common, and the key reaches nothing (an empty list would mean every network).
pub fn owned_key_reach(
    key_role: Role,
    key_networks: &[String],
    owner_role: Role,
    owner_networks: &[String],
) -> Option<(Role, Vec<String>)> {
    let networks = if owner_networks.is_empty() {
        key_networks.to_vec()
    } else if key_networks.is_empty() {
        owner_networks.to_vec()
    } else {
        let common: Vec<String> = key_networks
            .iter()
            .filter(|n| owner_networks.contains(n))
            .cloned()
            .collect();
        if common.is_empty() {
            return None;
        }
        common
    };
    Some((key_role.min(owner_role), networks))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_and_passwords() {
        assert!(parse_username("ada").is_ok());
        assert!(parse_username("Ada Lovelace").is_ok());
        assert!(parse_username("").is_err());
        assert!(parse_username(" ada").is_err());
        assert!(parse_username("a\u{7}").is_err());
        assert!(parse_username(&"a".repeat(65)).is_err());
        assert!(check_password("correct horse").is_ok());
        assert!(check_password("short").is_err());
        assert!(check_password(&"é".repeat(256)).is_ok());
        assert!(check_password(&"x".repeat(257)).is_err());
    }

    #[test]
    fn nobody_grants_above_their_role_or_beyond_their_networks() {
        let all: Vec<String> = Vec::new();
        let lab = vec!["lab".to_string()];
        assert!(may_grant(Role::Admin, &all, Role::Admin, &all));
        assert!(!may_grant(Role::Admin, &all, Role::Owner, &all));
        assert!(may_grant(Role::Admin, &lab, Role::Viewer, &lab));
        assert!(
            !may_grant(Role::Admin, &lab, Role::Viewer, &all),
            "all networks is wider"
        );
        assert!(!may_grant(
            Role::Admin,
            &lab,
            Role::Viewer,
            &["home".into()]
        ));
    }

    #[test]
    fn throttle_locks_per_username_and_per_address_until_the_window_passes() {
        let mut t = Throttle::new(Duration::from_secs(60), 5, 20);
        let start = Instant::now();
        for i in 0..5 {
            assert_eq!(t.locked("Ada", "10.0.0.1", start), None, "attempt {i}");
            t.failed("ada", "10.0.0.1", start);
        }
        assert_eq!(t.locked("ADA", "10.0.0.2", start), Some(60));
        assert_eq!(t.locked("bob", "10.0.0.1", start), None);
        assert_eq!(
            t.locked("ada", "10.0.0.1", start + Duration::from_secs(61)),
            None
        );
        let mut t = Throttle::new(Duration::from_secs(60), 5, 20);
        for i in 0..20 {
            t.failed(&format!("user{i}"), "10.0.0.9", start);
        }
        assert!(t.locked("someone", "10.0.0.9", start).is_some());
        t.succeeded("user0");
        assert!(t.locked("user0", "10.0.0.8", start).is_none());
    }

    #[test]
    fn role_maps_give_the_highest_role_of_a_persons_groups() {
        let map = RoleMap::parse("lab-admins=Admin, lab=Viewer,owners=Owner").unwrap();
        assert_eq!(
            map.role_of(split_groups("lab,lab-admins")),
            Some(Role::Admin)
        );
        assert_eq!(map.role_of(split_groups("lab other")), Some(Role::Viewer));
        assert_eq!(map.role_of(split_groups("guests")), None);
        assert!(RoleMap::parse("lab").is_err());
        assert!(RoleMap::parse("lab=Boss").is_err());
        assert_eq!(RoleMap::parse("").unwrap(), RoleMap::default());
    }

    #[test]
    fn cookies() {
        let c = session_cookie("abc", 60, true);
        assert!(
            c.starts_with("portolan_session=abc; Path=/; HttpOnly; SameSite=Strict; Max-Age=60")
        );
        assert!(c.ends_with("; Secure"));
        assert!(!session_cookie("abc", 60, false).contains("Secure"));
        assert_eq!(
            session_from_cookies("a=1; portolan_session=xyz; b=2"),
            Some("xyz")
        );
        assert_eq!(session_from_cookies("portolan_session="), None);
        assert_eq!(session_from_cookies("other=1"), None);
    }

    #[test]
    fn an_owned_key_never_does_more_than_its_owner() {
        let n = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        // The lower role wins, either way round.
        assert_eq!(
            owned_key_reach(Role::Admin, &[], Role::Member, &[]),
            Some((Role::Member, vec![]))
        );
        assert_eq!(
            owned_key_reach(Role::Viewer, &[], Role::Owner, &[]),
            Some((Role::Viewer, vec![]))
        );
        // An unscoped key of a scoped person reaches the person's networks, not every network.
        assert_eq!(
            owned_key_reach(Role::Viewer, &[], Role::Admin, &n(&["a", "b"])),
            Some((Role::Viewer, n(&["a", "b"])))
        );
        assert_eq!(
            owned_key_reach(Role::Viewer, &n(&["a"]), Role::Admin, &[]),
            Some((Role::Viewer, n(&["a"])))
        );
        assert_eq!(
            owned_key_reach(Role::Viewer, &n(&["a", "c"]), Role::Admin, &n(&["a", "b"])),
            Some((Role::Viewer, n(&["a"])))
        );
        // Nothing in common is nothing at all, never "every network".
        assert_eq!(
            owned_key_reach(Role::Viewer, &n(&["c"]), Role::Admin, &n(&["a"])),
            None
        );
    }
}
