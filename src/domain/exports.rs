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
    for (h, name) in hosts.iter().zip(inventory_names(hosts)) {
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

/// One inventory name per host: its own name where that is unique, else its name with the
/// first suffix (`_2`, `_3`, ...) that no other host has, as its own name or as a suffixed one.
/// Two hosts of one name (in two networks) stay two hosts, and a host literally named `nas_2`
/// keeps that name.
pub fn inventory_names(hosts: &[ExportHost]) -> Vec<String> {
    let mut taken: BTreeSet<&str> = BTreeSet::new();
    let mut names: Vec<Option<String>> = hosts
        .iter()
        .map(|h| taken.insert(&h.name).then(|| h.name.clone()))
        .collect();
    let mut suffixed: BTreeSet<String> = BTreeSet::new();
    for (h, name) in hosts.iter().zip(names.iter_mut()) {
        if name.is_none() {
            let unique = (2..)
                .map(|n| format!("{}_{n}", h.name))
                .find(|c| !taken.contains(c.as_str()) && !suffixed.contains(c))
                .expect("some suffix is free");
            suffixed.insert(unique.clone());
            *name = Some(unique);
        }
    }
    names.into_iter().flatten().collect()
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

/// YAML text of a JSON value. Written here rather than by a general emitter because the
/// readers are YAML 1.1 parsers (PyYAML under Ansible): a string stays plain only when no such
/// parser could read it as anything but that string (a host named `no`, `2024-01-01` or `1e3`
/// is quoted), and line and paragraph separators, which YAML 1.1 treats as line breaks, are
/// escaped inside double quotes.
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    write_yaml(&mut out, value, 0);
    out.push('\n');
    out
}

fn write_yaml(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (i, (key, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push('\n');
                    out.push_str(&" ".repeat(indent));
                }
                yaml_scalar(out, key);
                out.push(':');
                write_nested(out, v, indent);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push('\n');
                    out.push_str(&" ".repeat(indent));
                }
                out.push_str("- ");
                // An entry's own lines line up after its dash.
                write_yaml(out, v, indent + 2);
            }
        }
        Value::Object(_) => out.push_str("{}"),
        Value::Array(_) => out.push_str("[]"),
        Value::Null => out.push('~'),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => yaml_scalar(out, s),
    }
}

/// A mapping's value: collections on the next lines, indented; scalars after the colon.
fn write_nested(out: &mut String, value: &Value, indent: usize) {
    let block = match value {
        Value::Object(m) => !m.is_empty(),
        Value::Array(a) => !a.is_empty(),
        _ => false,
    };
    if block {
        out.push('\n');
        out.push_str(&" ".repeat(indent + 2));
        write_yaml(out, value, indent + 2);
    } else {
        out.push(' ');
        write_yaml(out, value, indent);
    }
}

/// Words YAML 1.1 reads as booleans or null, in any case.
const YAML_11_WORDS: [&str; 12] = [
    "y", "n", "yes", "no", "on", "off", "true", "false", "null", "nan", "inf", "",
];

fn plain_is_safe(s: &str) -> bool {
    // Starting with a letter rules out numbers, dates, times, `.inf`, `~`, `<<` and indicators.
    s.starts_with(|c: char| c.is_ascii_alphabetic())
        && !s.ends_with(' ')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '_' | '-' | '.' | '/'))
        && !s.contains(" #")
        && !YAML_11_WORDS.contains(&s.to_ascii_lowercase().as_str())
}

fn yaml_scalar(out: &mut String, s: &str) {
    if plain_is_safe(s) {
        out.push_str(s);
        return;
    }
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            // Control characters, NEL, the line and paragraph separators and non-characters,
            // none of which a YAML 1.1 reader takes raw.
            c if c.is_control()
                || matches!(
                    c,
                    '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
                ) =>
            {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A spreadsheet cell that a spreadsheet program will show as text: one that starts with `=`,
/// `+`, `-`, `@`, a tab or a carriage return would be taken for a formula (OWASP's CSV
/// injection), so it gets a leading single quote.
pub fn csv_cell(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
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

    fn host(name: &str) -> ExportHost {
        ExportHost {
            id: name.into(),
            name: name.into(),
            network: "n".into(),
            addresses: Vec::new(),
            tags: Vec::new(),
            services: Vec::new(),
        }
    }

    #[test]
    fn csv_cells_that_look_like_formulas_are_text() {
        assert_eq!(csv_cell("=cmd|' /C calc'!A0"), "'=cmd|' /C calc'!A0");
        for f in ["+1", "-2", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(csv_cell(f), format!("'{f}"));
        }
        assert_eq!(csv_cell("nas"), "nas");
        assert_eq!(csv_cell(""), "");
    }

    #[test]
    fn every_host_gets_a_name_of_its_own() {
        let hosts: Vec<ExportHost> = ["nas", "nas", "nas_2", "nas", "nas_3"]
            .into_iter()
            .map(host)
            .collect();
        assert_eq!(
            inventory_names(&hosts),
            ["nas", "nas_4", "nas_2", "nas_5", "nas_3"]
        );
    }

    #[test]
    fn yaml_strings_a_yaml_11_reader_would_retype_are_quoted() {
        let doc = json!({"2024-01-01": "no", "web": ["1e3", "a\u{2028}b", "x: y", "#c", "Yes", "nas", "0b11", "1_000", "~", "", "a\u{85}b"], "port": 5, "e": {}, "l": []});
        let text = to_yaml(&doc);
        assert!(text.starts_with("\"2024-01-01\": \"no\"\n"), "{text}");
        for quoted in [
            "\"1e3\"",
            "\"a\\u2028b\"",
            "\"x: y\"",
            "\"#c\"",
            "\"Yes\"",
            "\"0b11\"",
            "\"1_000\"",
            "\"~\"",
            "\"\"",
            "\"a\\u0085b\"",
        ] {
            assert!(text.contains(quoted), "{quoted} in {text}");
        }
        assert!(text.contains("- nas\n"), "{text}");
        assert!(text.contains("port: 5\ne: {}\nl: []"), "{text}");
        assert!(!text.contains('\u{2028}'));
    }
}
