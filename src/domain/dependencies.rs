//! Dependencies between services, and what depends on what: the member rules and the impact
//! walk. Pure: the caller loads the links, this answers.

use std::collections::{BTreeSet, HashMap, VecDeque};

use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub enum DependencyType {
    /// Each member depends on the next (proxy -> app -> database).
    RequestPath,
    /// Every other member depends on the first.
    HubAndSpoke,
}

impl DependencyType {
    pub fn as_str(self) -> &'static str {
        match self {
            DependencyType::RequestPath => "RequestPath",
            DependencyType::HubAndSpoke => "HubAndSpoke",
        }
    }

    pub fn parse(s: &str) -> Option<DependencyType> {
        match s {
            "RequestPath" => Some(DependencyType::RequestPath),
            "HubAndSpoke" => Some(DependencyType::HubAndSpoke),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Member {
    #[schema(format = Uuid)]
    pub service_id: String,
    /// The binding the dependency goes through (a port of the service), if it matters.
    #[schema(format = Uuid)]
    pub binding_id: Option<String>,
}

/// At least two members, each service once.
pub fn check_members(members: &[Member]) -> ApiResult<()> {
    if members.len() < 2 {
        return Err(ApiError::validation(
            "members",
            "A dependency needs at least two members",
        ));
    }
    for (i, m) in members.iter().enumerate() {
        if let Some(first) = members[..i]
            .iter()
            .position(|o| o.service_id == m.service_id)
        {
            return Err(ApiError::validation(
                format!("members[{i}].service_id"),
                format!("Service {} is already members[{first}]", m.service_id),
            ));
        }
    }
    Ok(())
}

/// `(dependent, dependency)` pairs of member indexes: who needs whom.
pub fn edges(kind: DependencyType, count: usize) -> Vec<(usize, usize)> {
    match kind {
        DependencyType::RequestPath => (1..count).map(|i| (i - 1, i)).collect(),
        DependencyType::HubAndSpoke => (1..count).map(|i| (i, 0)).collect(),
    }
}

/// One "needs" link: `from` depends on `to`, through dependency `dependency_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub dependency_id: String,
    pub from: String,
    pub to: String,
}

/// The links of a dependency.
pub fn links(dependency_id: &str, kind: DependencyType, members: &[Member]) -> Vec<Link> {
    edges(kind, members.len())
        .into_iter()
        .map(|(a, b)| Link {
            dependency_id: dependency_id.to_string(),
            from: members[a].service_id.clone(),
            to: members[b].service_id.clone(),
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// What depends on the service: what breaks when it goes down.
    Downstream,
    /// What the service depends on.
    Upstream,
}

/// A service the walk reached: how far, and the shortest way there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reached {
    pub service_id: String,
    pub depth: usize,
    /// Service ids from the start to this one, both included.
    pub path: Vec<String>,
    /// The dependency of each step of `path`.
    pub via: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Impact {
    /// In order of depth, then of discovery.
    pub reached: Vec<Reached>,
    /// Each cycle met once: the services that depend on each other round, sorted.
    pub cycles: Vec<Vec<String>>,
}

/// Breadth-first over the links from `start`, in `direction`; terminates on any graph.
pub fn impact(links: &[Link], start: &str, direction: Direction) -> Impact {
    let mut next: HashMap<&str, Vec<(&str, &str)>> = HashMap::new();
    for l in links {
        let (a, b) = match direction {
            Direction::Upstream => (l.from.as_str(), l.to.as_str()),
            Direction::Downstream => (l.to.as_str(), l.from.as_str()),
        };
        next.entry(a)
            .or_default()
            .push((b, l.dependency_id.as_str()));
    }
    // Each service reached: the one it was reached from, through which dependency, how deep.
    let mut parent: HashMap<&str, Option<(&str, &str)>> = HashMap::new();
    parent.insert(start, None);
    let mut order = vec![start];
    let mut queue = VecDeque::from([start]);
    while let Some(at) = queue.pop_front() {
        for &(to, dependency) in next.get(at).into_iter().flatten() {
            if parent.contains_key(to) {
                continue;
            }
            parent.insert(to, Some((at, dependency)));
            order.push(to);
            queue.push_back(to);
        }
    }
    let mut out = Impact::default();
    for &service in &order[1..] {
        let (mut path, mut via) = (vec![service.to_string()], Vec::new());
        let mut at = service;
        while let Some(Some((from, dependency))) = parent.get(at) {
            path.push(from.to_string());
            via.push(dependency.to_string());
            at = from;
        }
        path.reverse();
        via.reverse();
        out.reached.push(Reached {
            service_id: service.to_string(),
            depth: via.len(),
            path,
            via,
        });
    }
    out.cycles = cycles(&order, &next);
    out
}

/// The cycles among `nodes`: each strongly connected component of more than one service (or a
/// service that needs itself), as its ids from the smallest, found without recursion.
fn cycles(nodes: &[&str], next: &HashMap<&str, Vec<(&str, &str)>>) -> Vec<Vec<String>> {
    let index: HashMap<&str, usize> = nodes.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let succ: Vec<Vec<usize>> = nodes
        .iter()
        .map(|n| {
            next.get(n)
                .into_iter()
                .flatten()
                .filter_map(|(to, _)| index.get(to).copied())
                .collect()
        })
        .collect();
    let mut pred: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    for (a, list) in succ.iter().enumerate() {
        for &b in list {
            pred[b].push(a);
        }
    }
    // Kosaraju: finish order on the graph, then components on its transpose.
    let mut seen = vec![false; nodes.len()];
    let mut finished = Vec::with_capacity(nodes.len());
    for root in 0..nodes.len() {
        if seen[root] {
            continue;
        }
        seen[root] = true;
        let mut stack = vec![(root, 0usize)];
        while let Some((n, i)) = stack.pop() {
            if let Some(&m) = succ[n].get(i) {
                stack.push((n, i + 1));
                if !seen[m] {
                    seen[m] = true;
                    stack.push((m, 0));
                }
            } else {
                finished.push(n);
            }
        }
    }
    let mut component = vec![usize::MAX; nodes.len()];
    let mut found = BTreeSet::new();
    for (c, &root) in finished.iter().rev().enumerate() {
        if component[root] != usize::MAX {
            continue;
        }
        component[root] = c;
        let mut members = vec![root];
        let mut stack = vec![root];
        while let Some(n) = stack.pop() {
            for &m in &pred[n] {
                if component[m] == usize::MAX {
                    component[m] = c;
                    members.push(m);
                    stack.push(m);
                }
            }
        }
        let looped = members.len() > 1 || succ[root].contains(&root);
        if looped {
            let mut ids: Vec<String> = members.iter().map(|&m| nodes[m].to_string()).collect();
            ids.sort();
            found.insert(ids);
        }
    }
    found.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(ids: &[&str]) -> Vec<Member> {
        ids.iter()
            .map(|s| Member {
                service_id: s.to_string(),
                binding_id: None,
            })
            .collect()
    }

    fn ids(i: &Impact) -> Vec<(String, usize)> {
        i.reached
            .iter()
            .map(|r| (r.service_id.clone(), r.depth))
            .collect()
    }

    #[test]
    fn members_need_two_and_no_repeats() {
        assert!(check_members(&m(&["a", "b"])).is_ok());
        assert_eq!(
            check_members(&m(&["a"])).unwrap_err().field.as_deref(),
            Some("members")
        );
        let e = check_members(&m(&["a", "b", "a"])).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("members[2].service_id"));
    }

    #[test]
    fn a_chain_of_five_downstream_and_upstream() {
        // proxy -> app -> db -> nas -> disk: each depends on the next.
        let chain = links(
            "d1",
            DependencyType::RequestPath,
            &m(&["proxy", "app", "db", "nas", "disk"]),
        );
        let down = impact(&chain, "nas", Direction::Downstream);
        assert_eq!(
            ids(&down),
            [("db".into(), 1), ("app".into(), 2), ("proxy".into(), 3)]
        );
        assert_eq!(down.reached[2].path, ["nas", "db", "app", "proxy"]);
        assert_eq!(down.reached[2].via, ["d1", "d1", "d1"]);
        let up = impact(&chain, "app", Direction::Upstream);
        assert_eq!(
            ids(&up),
            [("db".into(), 1), ("nas".into(), 2), ("disk".into(), 3)]
        );
        assert!(down.cycles.is_empty());
    }

    #[test]
    fn a_hub_with_four_spokes() {
        let hub = links(
            "h",
            DependencyType::HubAndSpoke,
            &m(&["auth", "a", "b", "c", "d"]),
        );
        let down = impact(&hub, "auth", Direction::Downstream);
        assert_eq!(down.reached.len(), 4);
        assert!(down.reached.iter().all(|r| r.depth == 1));
        let up = impact(&hub, "c", Direction::Upstream);
        assert_eq!(ids(&up), [("auth".into(), 1)]);
        assert!(impact(&hub, "c", Direction::Downstream).reached.is_empty());
    }

    #[test]
    fn cycles_terminate_and_are_reported_once() {
        let mut l = links("x", DependencyType::RequestPath, &m(&["a", "b", "c"]));
        l.extend(links("y", DependencyType::RequestPath, &m(&["c", "a"])));
        for start in ["a", "b", "c"] {
            let up = impact(&l, start, Direction::Upstream);
            assert_eq!(up.reached.len(), 2, "{start}");
            assert_eq!(
                up.cycles,
                vec![vec!["a".to_string(), "b".into(), "c".into()]],
                "{start}"
            );
        }
        let down = impact(&l, "a", Direction::Downstream);
        assert_eq!(down.cycles.len(), 1);
        // A cycle off the shortest paths: s needs a and b, which need each other.
        let mut side = links("p", DependencyType::RequestPath, &m(&["s", "a", "b"]));
        side.extend(links(
            "q",
            DependencyType::RequestPath,
            &m(&["s", "b", "a"]),
        ));
        let up = impact(&side, "s", Direction::Upstream);
        assert_eq!(up.reached.len(), 2);
        assert_eq!(up.cycles, vec![vec!["a".to_string(), "b".into()]]);
    }
}
