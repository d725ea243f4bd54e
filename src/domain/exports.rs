//! The inventory as other tools read it: an Ansible inventory, a Homepage `services.yaml`, a
//! spreadsheet of bindings. Pure: the caller loads the rows.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};

/// A name Ansible takes as a group: letters, digits and underscores, not starting with a digit.
pub fn ansible_name(prefix: &str, raw: &str) -> String {
    let mut out = String::with_capacity(prefix.len() + raw.len() + 1);
    out.push_str(prefix);
    out.push('_');
    let mut last_underscore = true;
    for c in raw.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
            last_underscore = false;
        } else if !last_underscore {
            out.push('_');
            last_underscore = true;
        }
    }
    while out.ends_with('_') {
        out.pop();
    }
    out
}

/// One host as the exports need it.
pub struct ExportHost {
    pub id: String,
    pub name: String,
    pub network: String,
    /// Addresses in position order, with the CIDR of their subnet.
    pub addresses: Vec<(String, Option<String>)>,
    pub tags: Vec<String>,
    pub services: Vec<ExportService>,
}

pub struct ExportService {
    pub name: String,
    pub service_type: String,
    pub tags: Vec<String>,
    /// `(address or None for all interfaces, port, protocol, port type)`.
    pub listens: Vec<(Option<String>, u16, String, String)>,
}

/// An Ansible inventory in the JSON form `ansible-inventory --list` prints (and reads from a
/// script): a group per network, subnet, tag and service type; every host with `ansible_host`
/// (its first address) and its services and ports as host variables.
pub fn ansible(hosts: &[ExportHost]) -> Value {
    let mut groups: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut hostvars = Map::new();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for h in hosts {
        // Two hosts of one name (in two networks) stay two hosts.
        let count = seen.entry(h.name.clone()).or_default();
        *count += 1;
        let name = if *count == 1 {
            h.name.clone()
        } else {
            format!("{}_{}", h.name, count)
        };
        let mut member = |group: String| {
            groups.entry(group).or_default().insert(name.clone());
        };
        member(ansible_name("network", &h.network));
        for (_, cidr) in &h.addresses {
            if let Some(c) = cidr {
                member(ansible_name("subnet", c));
            }
        }
        for t in &h.tags {
            member(ansible_name("tag", t));
        }
        for s in &h.services {
            member(ansible_name("type", &s.service_type));
        }
        let mut vars = Map::new();
        if let Some((first, _)) = h.addresses.first() {
            vars.insert("ansible_host".into(), json!(first));
        }
        vars.insert("portolan_id".into(), json!(h.id));
        vars.insert("portolan_network".into(), json!(h.network));
        vars.insert(
            "portolan_addresses".into(),
            json!(h.addresses.iter().map(|(a, _)| a).collect::<Vec<_>>()),
        );
        vars.insert(
            "portolan_services".into(),
            Value::Array(
                h.services
                    .iter()
                    .map(|s| {
                        json!({"name": s.name, "type": s.service_type,
                               "ports": s.listens.iter().map(|(a, p, proto, _)| json!({
                                   "address": a, "port": p, "protocol": proto.to_lowercase()})).collect::<Vec<_>>()})
                    })
                    .collect(),
            ),
        );
        hostvars.insert(name, Value::Object(vars));
    }
    let mut out = Map::new();
    out.insert(
        "all".into(),
        json!({"children": groups.keys().cloned().collect::<Vec<_>>()}),
    );
    for (group, members) in groups {
        out.insert(
            group,
            json!({"hosts": members.into_iter().collect::<Vec<_>>()}),
        );
    }
    out.insert("_meta".into(), json!({"hostvars": hostvars}));
    Value::Object(out)
}

/// The same inventory in Ansible's YAML form: `all.hosts` with their variables, `all.children`
/// with each group's members.
pub fn ansible_yaml(inventory: &Value) -> Value {
    let hostvars = inventory["_meta"]["hostvars"].clone();
    let mut children = Map::new();
    for (group, body) in inventory.as_object().into_iter().flatten() {
        if group == "all" || group == "_meta" {
            continue;
        }
        let members: Map<String, Value> = body["hosts"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|h| h.as_str().map(|h| (h.to_string(), Value::Null)))
            .collect();
        children.insert(group.clone(), json!({"hosts": members}));
    }
    json!({"all": {"hosts": hostvars, "children": children}})
}

/// YAML text of a JSON value, written by yaml-rust2's emitter.
pub fn to_yaml(value: &Value) -> String {
    fn convert(v: &Value) -> yaml_rust2::Yaml {
        use yaml_rust2::Yaml;
        match v {
            Value::Null => Yaml::Null,
            Value::Bool(b) => Yaml::Boolean(*b),
            Value::Number(n) => match n.as_i64() {
                Some(i) => Yaml::Integer(i),
                None => Yaml::Real(n.to_string()),
            },
            Value::String(s) => Yaml::String(s.clone()),
            Value::Array(items) => Yaml::Array(items.iter().map(convert).collect()),
            Value::Object(map) => {
                let mut hash = yaml_rust2::yaml::Hash::new();
                for (k, v) in map {
                    hash.insert(Yaml::String(k.clone()), convert(v));
                }
                Yaml::Hash(hash)
            }
        }
    }
    let mut out = String::new();
    let mut emitter = yaml_rust2::YamlEmitter::new(&mut out);
    if emitter.dump(&convert(value)).is_err() {
        return String::new();
    }
    out.push('\n');
    out
}

/// A Homepage `services.yaml`: a list of groups (by network, or by tag), each a single-key
/// mapping to its entries, each entry a single-key mapping to `href`, `description`, `icon`.
pub fn homepage(hosts: &[ExportHost], by_tag: bool) -> Value {
    let mut groups: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for h in hosts {
        for s in &h.services {
            let first = h.addresses.first().map(|(a, _)| a.clone());
            let web = s
                .listens
                .iter()
                .find(|l| l.3.eq_ignore_ascii_case("Https"))
                .map(|l| ("https", l))
                .or_else(|| {
                    s.listens
                        .iter()
                        .find(|l| l.3.eq_ignore_ascii_case("Http"))
                        .map(|l| ("http", l))
                });
            let mut fields = Map::new();
            if let Some((scheme, (address, port, _, _))) = web {
                if let Some(a) = address.clone().or(first.clone()) {
                    let host = if a.contains(':') { format!("[{a}]") } else { a };
                    fields.insert("href".into(), json!(format!("{scheme}://{host}:{port}")));
                }
            }
            let port = s
                .listens
                .first()
                .map(|l| format!(":{}", l.1))
                .unwrap_or_default();
            fields.insert("description".into(), json!(format!("{}{port}", h.name)));
            fields.insert(
                "icon".into(),
                json!(format!(
                    "{}.png",
                    s.service_type.to_lowercase().replace(' ', "-")
                )),
            );
            let entry = json!({ s.name.clone(): Value::Object(fields) });
            let keys: Vec<String> = if by_tag {
                if s.tags.is_empty() {
                    vec!["untagged".into()]
                } else {
                    s.tags.clone()
                }
            } else {
                vec![h.network.clone()]
            };
            for k in keys {
                groups.entry(k).or_default().push(entry.clone());
            }
        }
    }
    Value::Array(
        groups
            .into_iter()
            .map(|(g, entries)| json!({ g: entries }))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ansible_names_are_safe() {
        assert_eq!(ansible_name("subnet", "10.0.0.0/24"), "subnet_10_0_0_0_24");
        assert_eq!(
            ansible_name("type", "Nginx Proxy Manager"),
            "type_nginx_proxy_manager"
        );
        assert_eq!(ansible_name("tag", "--Prod!!"), "tag_prod");
    }
}
