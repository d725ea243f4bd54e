//! What the exports read: here, the listening (service, address, port) triples Prometheus
//! scrapes, with the labels it relabels on.

use rusqlite::types::Value;
use rusqlite::Connection;

use super::query::{all, Filter, Scope};
use crate::error::ApiResult;

/// One thing listening: a service on a port of one address.
#[derive(Debug, Clone)]
pub struct Listener {
    pub address: String,
    pub port: u16,
    pub network: String,
    pub host: String,
    pub service: String,
    pub service_type: String,
    pub category: String,
    /// The service's tag names, in order.
    pub tags: Vec<String>,
}

#[derive(Debug, Default)]
pub struct ListenerFilter {
    pub network_id: Option<String>,
    pub service_type: Option<String>,
    pub category: Option<String>,
    /// A tag id or name.
    pub tag: Option<String>,
}

/// Every port binding, a binding on all interfaces once per address of its host.
pub fn listeners(conn: &Connection, scope: &Scope, f: &ListenerFilter) -> ApiResult<Vec<Listener>> {
    let from = "bindings b
        JOIN services s ON s.id = b.service_id
        JOIN ports p ON p.id = b.port_id
        JOIN hosts h ON h.id = s.host_id
        JOIN networks n ON n.id = s.network_id
        JOIN ip_addresses i ON (i.id = b.ip_address_id OR (b.ip_address_id IS NULL AND i.host_id = s.host_id))
        LEFT JOIN service_types st ON st.id = s.service_definition";
    let mut filter = Filter::new();
    filter
        .scope("s.network_id", scope)
        .eq_opt("s.network_id", f.network_id.clone())
        .eq_opt("s.service_definition", f.service_type.clone())
        .eq_opt("st.category", f.category.clone());
    if let Some(tag) = &f.tag {
        filter.clause(
            "EXISTS (SELECT 1 FROM service_tags x JOIN tags t ON t.id = x.tag_id
                     WHERE x.entity_id = s.id AND (t.id = ? OR t.name = ?))",
            vec![Value::Text(tag.clone()), Value::Text(tag.clone())],
        );
    }
    let columns = "i.ip_address, p.number, n.name, h.name, s.name, s.service_definition, \
                   coalesce(st.category, ''), \
                   (SELECT coalesce(json_group_array(t.name), '[]') FROM \
                      (SELECT t.name FROM service_tags x JOIN tags t ON t.id = x.tag_id \
                       WHERE x.entity_id = s.id ORDER BY x.ord) t)";
    all(
        conn,
        columns,
        from,
        &filter,
        "n.name, h.name, s.name, i.ip_address, p.number",
        |r| {
            let tags: String = r.get(7)?;
            Ok(Listener {
                address: r.get(0)?,
                port: r.get(1)?,
                network: r.get(2)?,
                host: r.get(3)?,
                service: r.get(4)?,
                service_type: r.get(5)?,
                category: r.get(6)?,
                tags: serde_json::from_str(&tags).unwrap_or_default(),
            })
        },
    )
}

/// Everything the tool exports read: hosts with their addresses, ports and services, and the
/// names of the networks, subnets and tags they refer to.
pub struct Inventory {
    pub hosts: Vec<super::hosts::Host>,
    pub networks: std::collections::HashMap<String, String>,
    /// Subnet id -> CIDR.
    pub subnets: std::collections::HashMap<String, String>,
    pub tags: std::collections::HashMap<String, String>,
}

pub fn inventory(
    conn: &Connection,
    scope: &Scope,
    network_id: Option<String>,
) -> ApiResult<Inventory> {
    use super::versions::AsOf;
    let all = super::query::PageRequest {
        limit: None,
        offset: 0,
    };
    let filter = super::hosts::HostFilter {
        network_id: network_id.clone(),
        ..Default::default()
    };
    let (hosts, _) = super::hosts::list(
        conn,
        scope,
        &filter,
        "h.name, h.id",
        all,
        super::hosts::Embed::Children,
        &AsOf::Live,
    )?;
    let pairs = |sql: &str| -> ApiResult<std::collections::HashMap<String, String>> {
        let mut stmt = conn.prepare_cached(sql)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<Vec<(String, String)>>>()?;
        Ok(rows.into_iter().collect())
    };
    Ok(Inventory {
        hosts,
        networks: pairs("SELECT id, name FROM networks")?,
        subnets: pairs("SELECT id, cidr FROM subnets")?,
        tags: pairs("SELECT id, name FROM tags")?,
    })
}

/// One row per binding for the spreadsheet: network, host, address ("*" for all interfaces),
/// port, protocol, service, type, tags, first and last seen.
pub fn binding_rows(
    conn: &Connection,
    scope: &Scope,
    network_id: Option<String>,
) -> ApiResult<Vec<Vec<String>>> {
    let from = "bindings b
        JOIN services s ON s.id = b.service_id
        JOIN hosts h ON h.id = s.host_id
        JOIN networks n ON n.id = s.network_id
        LEFT JOIN ports p ON p.id = b.port_id
        LEFT JOIN ip_addresses i ON i.id = b.ip_address_id";
    let mut filter = Filter::new();
    filter
        .scope("s.network_id", scope)
        .eq_opt("s.network_id", network_id);
    let columns =
        "n.name, h.name, coalesce(i.ip_address, '*'), coalesce(CAST(p.number AS TEXT), ''), \
                   coalesce(p.protocol, ''), s.name, s.service_definition, \
                   (SELECT coalesce(group_concat(t.name, ','), '') FROM \
                      (SELECT t.name FROM service_tags x JOIN tags t ON t.id = x.tag_id \
                       WHERE x.entity_id = s.id ORDER BY x.ord) t), \
                   b.created_at, b.last_seen_at";
    all(
        conn,
        columns,
        from,
        &filter,
        "n.name, h.name, s.name, b.ord",
        |r| (0..10).map(|i| r.get::<_, String>(i)).collect(),
    )
}
