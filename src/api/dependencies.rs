//! `/api/v1/dependencies`, and `GET /api/v1/services/{id}/impact`.

use actix_web::http::Method;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use super::input::{parse_uuid, versioned_body, QueryParams};
use super::resource::{self, Resource};
use super::{list_response, on, tag_ids, Routes};
use crate::auth::Auth;
use crate::db::dependencies::{Dependency, DependencyFilter};
use crate::db::query::{PageRequest, Scope};
use crate::db::versions::{AsOf, History};
use crate::domain::dependencies::{self as rules, DependencyType, Direction, Member};
use crate::domain::enums::Color;
use crate::domain::role::Role;
use crate::domain::text::{optional_text, Name};
use crate::envelope;
use crate::error::{ApiError, ApiResult};
use crate::ops::dependencies::DependencyInput;
use crate::ops::journal::Writer;
use crate::state::AppState;
use rusqlite::{Connection, Transaction};

pub fn routes(r: &mut Routes, base: &str) {
    resource::routes::<Dependencies, _, _>(r, base, list);
}

/// `GET /api/v1/services/{id}/impact`, registered with the services.
pub fn impact_route(r: &mut Routes, services: &str) {
    r.at(
        &format!("{services}/{{id}}/impact"),
        [on(Method::GET, impact)],
    );
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = MemberInput)]
#[serde(deny_unknown_fields)]
pub struct MemberBody {
    #[schema(value_type = uuid::Uuid)]
    service_id: String,
    #[serde(default)]
    #[schema(value_type = Option<uuid::Uuid>)]
    binding_id: Option<String>,
}

versioned_body! {
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = DependencyInput)]
#[serde(deny_unknown_fields)]
pub struct DependencyBody {
    #[schema(value_type = uuid::Uuid)]
    network_id: String,
    #[schema(min_length = 1, max_length = 100)]
    name: String,
    #[serde(default)]
    #[schema(max_length = 500)]
    description: Option<String>,
    dependency_type: DependencyType,
    /// In order: for `RequestPath` each depends on the next, for `HubAndSpoke` the first is the hub.
    members: Vec<MemberBody>,
    /// Default `Blue`.
    #[serde(default)]
    color: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<Vec<uuid::Uuid>>)]
    tags: Option<Vec<String>>,
    #[schema(read_only, value_type = Value)]
    #[serde(default, rename = "id")]
    _id: IgnoredAny,
    #[schema(read_only, value_type = Value)]
    #[serde(default, rename = "created_at")]
    _created_at: IgnoredAny,
    #[schema(read_only, value_type = Value)]
    #[serde(default, rename = "updated_at")]
    _updated_at: IgnoredAny,
}
}

impl DependencyBody {
    fn into_input(self) -> ApiResult<DependencyInput> {
        let mut members = Vec::with_capacity(self.members.len());
        for (i, m) in self.members.iter().enumerate() {
            members.push(Member {
                service_id: parse_uuid(&m.service_id, &format!("members[{i}].service_id"))?,
                binding_id: m
                    .binding_id
                    .as_deref()
                    .map(|b| parse_uuid(b, &format!("members[{i}].binding_id")))
                    .transpose()?,
            });
        }
        Ok(DependencyInput {
            network_id: parse_uuid(&self.network_id, "network_id")?,
            name: Name::parse(&self.name, 100).map_err(|e| e.at("name"))?,
            description: optional_text(self.description.as_deref(), 500)
                .map_err(|e| e.at("description"))?,
            dependency_type: self.dependency_type,
            members,
            color: match self.color {
                Some(c) => Color::parse(&c).map_err(|e| e.at("color"))?,
                None => Color::Blue,
            },
            tags: tag_ids(self.tags)?,
        })
    }
}

/// The columns a list may be sorted by.
pub const ORDER_BY: &[&str] = &["created_at", "name", "updated_at"];

async fn list(state: web::Data<AppState>, auth: Auth, req: HttpRequest) -> ApiResult<HttpResponse> {
    auth.require(Role::Viewer)?;
    let q = QueryParams::from_request(&req)?;
    let page = q.page()?;
    let order = q.order("d", ORDER_BY)?;
    let filter = DependencyFilter {
        network_id: q.uuid("network_id")?,
        service_id: q.uuid("service_id")?,
        tag_ids: q.uuids("tag_ids")?,
        q: q.text("q"),
    };
    let at = q.as_of()?;
    let scope = auth.scope();
    let (items, total) = state
        .db
        .read(move |c| crate::db::dependencies::list(c, &scope, &filter, &order, page, &at))
        .await?;
    Ok(list_response(&items, page, total))
}

pub struct Dependencies;

impl Resource for Dependencies {
    const PATH: &'static str = "dependencies";
    const VERSIONED: bool = true;
    type Body = DependencyBody;
    type Input = DependencyInput;
    type Record = Dependency;

    fn input(body: DependencyBody) -> ApiResult<DependencyInput> {
        body.into_input()
    }

    fn fetch(conn: &Connection, id: &str) -> ApiResult<Dependency> {
        crate::db::dependencies::get(conn, id)
    }

    fn fetch_at(conn: &Connection, id: &str, at: &AsOf) -> ApiResult<Dependency> {
        crate::db::dependencies::get_at(conn, id, at)
    }

    fn history(
        conn: &Connection,
        id: &str,
        scope: &Scope,
        page: PageRequest,
    ) -> ApiResult<Option<History<Dependency>>> {
        crate::db::dependencies::history(conn, id, scope, page)
    }

    fn network_of(record: &Dependency) -> Option<&str> {
        Some(&record.network_id)
    }

    fn id_of(record: &Dependency) -> &str {
        &record.id
    }

    fn create(tx: &Transaction, who: &Writer, input: DependencyInput) -> ApiResult<Dependency> {
        crate::ops::dependencies::create(tx, who, input)
    }

    fn update(
        tx: &Transaction,
        who: &Writer,
        id: &str,
        input: DependencyInput,
    ) -> ApiResult<Dependency> {
        crate::ops::dependencies::update(tx, who, id, input)
    }

    fn delete(tx: &Transaction, who: &Writer, id: &str, _cascade: bool) -> ApiResult<()> {
        crate::ops::dependencies::delete(tx, who, id)
    }
}

/// One service the impact reached.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ImpactedService {
    #[schema(format = Uuid)]
    pub service_id: String,
    pub name: String,
    #[schema(format = Uuid)]
    pub host_id: String,
    /// 1: directly; 2: through one other service; ...
    pub depth: usize,
    /// Service ids from the service asked about to this one.
    pub path: Vec<String>,
    /// The dependency of each step of `path`.
    pub dependency_ids: Vec<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ImpactHost {
    #[schema(format = Uuid)]
    pub id: String,
    pub name: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Impact {
    #[schema(format = Uuid)]
    pub service_id: String,
    pub direction: Direction,
    pub services: Vec<ImpactedService>,
    /// The hosts the reached services run on.
    pub hosts: Vec<ImpactHost>,
    /// Services that depend on each other in a circle, each circle once.
    pub cycles: Vec<Vec<String>>,
}

/// What breaks when the service goes down (`downstream`, the default), or what it needs
/// (`direction=upstream`), over every dependency of its network, transitively.
async fn impact(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Viewer)?;
    let id = parse_uuid(&path, "id")?;
    let q = QueryParams::from_request(&req)?;
    let direction = match q.one("direction") {
        None | Some("downstream") => Direction::Downstream,
        Some("upstream") => Direction::Upstream,
        Some(other) => {
            return Err(ApiError::validation(
                "direction",
                format!("\"{other}\" is not one of downstream, upstream"),
            ))
        }
    };
    let at = q.as_of()?;
    let who = auth.0.clone();
    let answer = state
        .db
        .read(move |c| {
            let service = crate::db::services::get_at(c, &id, &at)?;
            who.check_network(&service.network_id)?;
            let dependencies = crate::db::dependencies::of_network(c, &service.network_id, &at)?;
            let links: Vec<rules::Link> = dependencies
                .iter()
                .filter_map(|d| {
                    DependencyType::parse(&d.dependency_type)
                        .map(|t| rules::links(&d.id, t, &d.members))
                })
                .flatten()
                .collect();
            let walk = rules::impact(&links, &id, direction);
            let ids: Vec<String> = walk.reached.iter().map(|r| r.service_id.clone()).collect();
            let names = crate::db::services::names_and_hosts(c, &ids, &at)?;
            let host_ids: Vec<String> = {
                let mut h: Vec<String> = names.values().map(|(_, host, _)| host.clone()).collect();
                h.sort();
                h.dedup();
                h
            };
            let host_names = crate::db::hosts::names(c, &host_ids, &at)?;
            let services = walk
                .reached
                .into_iter()
                .map(|r| {
                    let (name, host_id, _) = names.get(&r.service_id).cloned().unwrap_or_default();
                    ImpactedService {
                        service_id: r.service_id,
                        name,
                        host_id,
                        depth: r.depth,
                        path: r.path,
                        dependency_ids: r.via,
                    }
                })
                .collect();
            let hosts = host_ids
                .into_iter()
                .map(|id| ImpactHost {
                    name: host_names.get(&id).cloned().unwrap_or_default(),
                    id,
                })
                .collect();
            Ok(Impact {
                service_id: id,
                direction,
                services,
                hosts,
                cycles: walk.cycles,
            })
        })
        .await?;
    Ok(envelope::ok(&answer))
}
