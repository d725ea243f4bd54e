//! Importing a full export: the document is read as a stream, each row checked and written as
//! it comes (so memory does not grow with the document), inside one savepoint of the caller's
//! transaction: all of it, or nothing and the first error with its path into the document.

use std::fmt;
use std::io::Read;

use rusqlite::Connection;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Serialize;
use serde_json::{Map, Value};

use super::bindings::{check, Holder};
use super::journal::Writer;
use super::missing_reference;
use crate::db::{self, full_export::Column};
use crate::domain::bindings::{first_redundant, Change, Slot, Target, Wanted};
use crate::domain::dependencies::Member;
use crate::domain::full_export::{check_head, check_row_values, path, section_named, Section};
use crate::domain::net::{parse_ip, Cidr};
use crate::domain::outbound::Receivers;
use crate::domain::principal::Principal;
use crate::domain::webhooks::valid_pattern;
use crate::error::{ApiError, ApiResult};

/// What an import did, or would do (`dry_run`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    pub dry_run: bool,
    /// The database's organization id after the import: the document's when the database held
    /// no networks and no tags, else the database's own.
    #[schema(format = Uuid)]
    pub organization_id: String,
    /// Rows created per section, in document order.
    #[schema(value_type = Object)]
    pub created: Map<String, Value>,
}

/// Who imports, and where webhooks in the document may point.
pub struct Importer<'a> {
    pub who: Principal,
    pub request_id: Option<String>,
    pub receivers: &'a Receivers,
}

/// Loads the document from `reader` into `tx`, every row checked as the API would check it,
/// and journals the import as one entry; with `dry_run`, checks everything and writes nothing.
pub fn import(
    tx: &Connection,
    by: Importer,
    reader: impl Read,
    dry_run: bool,
) -> ApiResult<ImportReport> {
    tx.execute_batch("SAVEPOINT import")?;
    let loaded = load(tx, by.receivers, reader).and_then(|(created, organization)| {
        // After the rows, so that the entry's instant follows every imported one.
        let who = Writer::begin(tx, by.who, by.request_id)?;
        who.imported(tx, &organization, &Value::Object(created.clone()))?;
        Ok((created, organization))
    });
    let keep = loaded.is_ok() && !dry_run;
    tx.execute_batch(if keep {
        "RELEASE import"
    } else {
        "ROLLBACK TO import; RELEASE import"
    })?;
    let (created, organization_id) = loaded?;
    Ok(ImportReport {
        dry_run,
        organization_id,
        created,
    })
}

fn load(
    tx: &Connection,
    receivers: &Receivers,
    reader: impl Read,
) -> ApiResult<(Map<String, Value>, String)> {
    let mut loader = Loader {
        conn: tx,
        receivers,
        format: None,
        version: None,
        empty_before: db::full_export::is_empty(tx)?,
        created: Map::new(),
        failure: None,
        hooks: Vec::new(),
        group: Vec::new(),
    };
    let mut de = serde_json::Deserializer::from_reader(std::io::BufReader::new(reader));
    let parsed = Document(&mut loader)
        .deserialize(&mut de)
        .and_then(|()| de.end());
    if let Some(failure) = loader.failure.take() {
        return Err(failure);
    }
    if let Err(e) = parsed {
        return Err(ApiError::validation(
            "document",
            format!("The document is not valid JSON of an export: {e}"),
        ));
    }
    check_head(loader.format.as_deref(), loader.version)?;
    db::full_export::start_hooks_at_journal_end(tx, &loader.hooks)?;
    // Imported versions came in before their entries had seqs here.
    db::versions::rekey(tx)?;
    let organization = db::organizations::id(tx)?;
    Ok((loader.created, organization))
}

struct Loader<'c> {
    conn: &'c Connection,
    receivers: &'c Receivers,
    format: Option<String>,
    version: Option<u64>,
    empty_before: bool,
    created: Map<String, Value>,
    /// The error that stopped the parse (serde's own error cannot carry it).
    failure: Option<ApiError>,
    /// Imported webhooks, which start at the journal's end.
    hooks: Vec<String>,
    /// Bindings of one service, waiting to be checked together: `(index, row)`.
    group: Vec<(usize, Map<String, Value>)>,
}

impl Loader<'_> {
    fn stop<E: de::Error>(&mut self, e: ApiError) -> E {
        self.failure = Some(e);
        E::custom("the import stopped")
    }

    fn row(
        &mut self,
        section: &Section,
        columns: &[Column],
        index: usize,
        row: Map<String, Value>,
    ) -> ApiResult<()> {
        if section.name == "bindings" {
            let service = row.get("service_id").and_then(Value::as_str);
            let same = self
                .group
                .first()
                .and_then(|(_, r)| r.get("service_id").and_then(Value::as_str));
            if same.is_some() && service != same {
                self.flush_bindings(section, columns)?;
            }
            self.group.push((index, row));
            return Ok(());
        }
        self.check(section, index, &row)?;
        let mut row = row;
        if section.name == "changes" {
            row.insert("imported".into(), Value::from(1));
        }
        db::full_export::insert_row(self.conn, section, columns, index, &row)?;
        if section.name == "webhooks" {
            if let Some(id) = row.get("id").and_then(Value::as_str) {
                self.hooks.push(id.to_string());
            }
        }
        Ok(())
    }

    /// The rules an API write of the row would meet, beyond what the schema holds.
    fn check(&self, section: &Section, index: usize, row: &Map<String, Value>) -> ApiResult<()> {
        let at = |field: &str| path(section.name, index, Some(field));
        let text = |field: &str| row.get(field).and_then(Value::as_str);
        check_row_values(section.name, row).map_err(|(field, e)| e.at(&at(&field)))?;
        match section.name {
            "subnets" => {
                if let Some(cidr) = text("cidr") {
                    Cidr::parse(cidr).map_err(|e| e.at(&at("cidr")))?;
                }
            }
            "ip_addresses" => {
                self.same_network_as_host(section, index, row)?;
                let ip = match text("ip_address") {
                    Some(ip) => Some(parse_ip(ip).map_err(|e| e.at(&at("ip_address")))?),
                    None => None,
                };
                if let (Some(subnet), Some(ip)) = (text("subnet_id"), ip) {
                    if let Some((network, cidr)) = db::full_export::subnet(self.conn, subnet)? {
                        let inside = Cidr::parse(&cidr).is_ok_and(|c| c.contains(ip));
                        if Some(network.as_str()) != text("network_id") || !inside {
                            return Err(ApiError::validation(
                                at("subnet_id"),
                                format!("{ip} is not in subnet {cidr} of this network"),
                            ));
                        }
                    }
                }
            }
            "ports" | "services" => self.same_network_as_host(section, index, row)?,
            "dependencies" => {
                let members: Vec<Member> =
                    serde_json::from_value(row.get("members").cloned().unwrap_or_default())
                        .map_err(|e| ApiError::validation(at("members"), e.to_string()))?;
                let network = text("network_id").unwrap_or_default();
                if db::networks::exists(self.conn, network)? {
                    super::dependencies::check_members_in(self.conn, network, &members)
                        .map_err(|e| e.under(&path(section.name, index, None)))?;
                }
            }
            "webhooks" => {
                if let Some(url) = text("url") {
                    self.receivers
                        .check_url(url)
                        .map_err(|e| e.at(&at("url")))?;
                }
                let events = row.get("events").and_then(Value::as_array);
                for (i, e) in events.into_iter().flatten().enumerate() {
                    if !e.as_str().is_some_and(valid_pattern) {
                        return Err(ApiError::validation(
                            at(&format!("events[{i}]")),
                            "An event pattern is entity_type.action, either part may be *",
                        ));
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn same_network_as_host(
        &self,
        section: &Section,
        index: usize,
        row: &Map<String, Value>,
    ) -> ApiResult<()> {
        let host = row
            .get("host_id")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let Some(network) = db::hosts::network_of(self.conn, host)? else {
            // The schema reports the missing host with its path.
            return Ok(());
        };
        if row.get("network_id").and_then(Value::as_str) != Some(network.as_str()) {
            return Err(ApiError::validation(
                path(section.name, index, Some("network_id")),
                format!("network_id must be the host's network ({network})"),
            ));
        }
        Ok(())
    }

    /// Checks one service's bindings with the binding rules, against what is already stored,
    /// then writes them as they are.
    fn flush_bindings(&mut self, section: &Section, columns: &[Column]) -> ApiResult<()> {
        let group = std::mem::take(&mut self.group);
        let Some((first, row)) = group.first() else {
            return Ok(());
        };
        let at = |i: usize, field: &str| path(section.name, i, Some(field));
        let service = row
            .get("service_id")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                ApiError::validation(at(*first, "service_id"), "\"service_id\" is required")
            })?;
        let (host_id, network_id) = db::services::placement(self.conn, service)?
            .ok_or_else(|| missing_reference(&at(*first, "service_id"), "Service", service))?;
        let mut wanted = Vec::with_capacity(group.len());
        for (i, row) in &group {
            if row.get("network_id").and_then(Value::as_str) != Some(network_id.as_str()) {
                return Err(ApiError::validation(
                    at(*i, "network_id"),
                    format!("network_id must be the service's network ({network_id})"),
                ));
            }
            wanted.push(Wanted {
                field: path(section.name, *i, None),
                id: None,
                target: target_of(row).map_err(|(f, m)| ApiError::validation(at(*i, f), m))?,
            });
        }
        let holder = Holder {
            service_id: service.to_string(),
            host_id,
            network_id,
        };
        // Bindings of this service stored by an earlier group stay, and count.
        let mut all = super::bindings::kept(self.conn, service)?;
        all.extend(wanted.iter().cloned());
        let targets: Vec<&Target> = all.iter().map(|w| &w.target).collect();
        if let Some((redundant, cover)) = first_redundant(&targets) {
            let field = if all[redundant].field.is_empty() {
                all[cover].field.clone()
            } else {
                all[redundant].field.clone()
            };
            return Err(ApiError::conflict(
                "The binding repeats another binding of the service, or a port binding on all interfaces covers it",
            )
            .with_field(field));
        }
        let (plan, _) = check(self.conn, &holder, Change::Replace(all))?;
        let created = plan
            .result
            .iter()
            .filter(|s| matches!(s, Slot::Create { .. }))
            .count();
        if created != group.len() || !plan.removed.is_empty() {
            return Err(ApiError::internal(
                "the binding plan of an import changed stored rows",
            ));
        }
        for (i, row) in &group {
            db::full_export::insert_row(self.conn, section, columns, *i, row)?;
        }
        Ok(())
    }
}

fn target_of(row: &Map<String, Value>) -> Result<Target, (&'static str, String)> {
    let text = |f: &str| row.get(f).and_then(Value::as_str).map(str::to_string);
    match row.get("type").and_then(Value::as_str) {
        Some("Port") => Ok(Target::Port {
            port: text("port_id").ok_or(("port_id", "A Port binding names its port_id".into()))?,
            ip: text("ip_address_id"),
        }),
        Some("IPAddress") => Ok(Target::Ip {
            ip: text("ip_address_id").ok_or((
                "ip_address_id",
                "An IPAddress binding names its ip_address_id".into(),
            ))?,
        }),
        _ => Err(("type", "type is Port or IPAddress".into())),
    }
}

/// The document: its head, then its sections, each read row by row.
struct Document<'a, 'c>(&'a mut Loader<'c>);

impl<'de> DeserializeSeed<'de> for Document<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Document<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Portolan export document (a JSON object)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let loader = self.0;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "format" => loader.format = Some(map.next_value()?),
                "version" => loader.version = Some(map.next_value()?),
                "organization_id" => {
                    let id: String = map.next_value()?;
                    if loader.empty_before && uuid::Uuid::parse_str(&id).is_ok() {
                        db::full_export::set_organization(loader.conn, &id)
                            .map_err(|e| loader.stop::<A::Error>(e))?;
                    }
                }
                "exported_at" | "with_history" => {
                    map.next_value::<IgnoredAny>()?;
                }
                name => {
                    let Some(section) = section_named(name) else {
                        let e = ApiError::validation(
                            name,
                            format!("\"{name}\" is not a section of an export"),
                        );
                        return Err(loader.stop(e));
                    };
                    // The head comes first: a newer format is refused before any row is read.
                    check_head(loader.format.as_deref(), loader.version)
                        .map_err(|e| loader.stop::<A::Error>(e))?;
                    let columns = db::full_export::columns(loader.conn, section)
                        .map_err(|e| loader.stop::<A::Error>(e))?;
                    let count = map.next_value_seed(Rows {
                        loader: &mut *loader,
                        section,
                        columns: &columns,
                    })?;
                    let before = loader
                        .created
                        .get(name)
                        .and_then(Value::as_u64)
                        .unwrap_or(0);
                    loader
                        .created
                        .insert(name.to_string(), Value::from(before + count as u64));
                }
            }
        }
        Ok(())
    }
}

/// One section's rows, each checked and written as soon as it is parsed.
struct Rows<'a, 'c> {
    loader: &'a mut Loader<'c>,
    section: &'static Section,
    columns: &'a [Column],
}

impl<'de> DeserializeSeed<'de> for Rows<'_, '_> {
    type Value = usize;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<usize, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Rows<'_, '_> {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "the rows of {} (an array of objects)", self.section.name)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<usize, A::Error> {
        let mut index = 0;
        while let Some(row) = seq.next_element::<Map<String, Value>>()? {
            self.loader
                .row(self.section, self.columns, index, row)
                .map_err(|e| self.loader.stop::<A::Error>(e))?;
            index += 1;
        }
        if self.section.name == "bindings" {
            self.loader
                .flush_bindings(self.section, self.columns)
                .map_err(|e| self.loader.stop::<A::Error>(e))?;
        }
        Ok(index)
    }
}
