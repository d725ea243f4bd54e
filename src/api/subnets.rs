//! `/api/v1/subnets`

use actix_web::{web, HttpRequest, HttpResponse};
use serde::de::IgnoredAny;
use serde::Deserialize;

use super::input::{parse_uuid, versioned_body, QueryParams};
use super::resource::{self, Resource};
use super::Routes;
use super::{list_response, tag_ids};
use crate::auth::Auth;
use crate::db::query::{PageRequest, Scope};
use crate::db::subnets::Subnet;
use crate::db::versions::{AsOf, History};
use crate::domain::enums::SubnetType;
use crate::domain::net::Cidr;
use crate::domain::role::Role;
use crate::domain::text::{optional_text, Name};
use crate::error::ApiResult;
use crate::ops::journal::Writer;
use crate::ops::{self, subnets::SubnetInput};
use crate::state::AppState;
use rusqlite::{Connection, Transaction};

pub fn routes(r: &mut Routes, base: &str) {
    resource::routes::<Subnets, _, _>(r, base, list);
}

versioned_body! {
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = SubnetInput)]
#[serde(deny_unknown_fields)]
pub struct SubnetBody {
    #[schema(value_type = uuid::Uuid)]
    network_id: String,
    #[schema(examples("192.168.1.0/24", "fd00::/64"))]
    cidr: String,
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f][^\\x00-\\x1f\\x7f-\\x9f]*$"
    )]
    name: String,
    #[serde(default)]
    #[schema(max_length = 500, pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*$")]
    description: Option<String>,
    #[serde(default)]
    subnet_type: Option<String>,
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

impl SubnetBody {
    fn into_input(self) -> ApiResult<SubnetInput> {
        Ok(SubnetInput {
            network_id: parse_uuid(&self.network_id, "network_id")?,
            cidr: Cidr::parse(&self.cidr).map_err(|e| e.at("cidr"))?,
            name: Name::parse(&self.name, 100).map_err(|e| e.at("name"))?,
            description: optional_text(self.description.as_deref(), 500)
                .map_err(|e| e.at("description"))?,
            subnet_type: match self.subnet_type {
                Some(t) => SubnetType::parse(&t).map_err(|e| e.at("subnet_type"))?,
                None => SubnetType::None,
            },
            tags: tag_ids(self.tags)?,
        })
    }
}

/// The columns a list may be sorted by.
pub const ORDER_BY: &[&str] = &["created_at", "name", "cidr", "updated_at"];

async fn list(state: web::Data<AppState>, auth: Auth, req: HttpRequest) -> ApiResult<HttpResponse> {
    auth.require(Role::Viewer)?;
    let q = QueryParams::from_request(&req)?;
    let page = q.page()?;
    let order = q.order("s", ORDER_BY)?;
    let network_id = q.uuid("network_id")?;
    let at = q.as_of()?;
    let scope = auth.scope();
    let (items, total) = state
        .db
        .read(move |c| crate::db::subnets::list(c, &scope, network_id, &order, page, &at))
        .await?;
    Ok(list_response(&items, page, total))
}

pub struct Subnets;

impl Resource for Subnets {
    const PATH: &'static str = "subnets";
    const VERSIONED: bool = true;
    type Body = SubnetBody;
    type Input = SubnetInput;
    type Record = Subnet;

    fn input(body: SubnetBody) -> ApiResult<SubnetInput> {
        body.into_input()
    }

    fn fetch(conn: &Connection, id: &str) -> ApiResult<Subnet> {
        crate::db::subnets::get(conn, id)
    }

    fn fetch_at(conn: &Connection, id: &str, at: &AsOf) -> ApiResult<Subnet> {
        crate::db::subnets::get_at(conn, id, at)
    }

    fn history(
        conn: &Connection,
        id: &str,
        scope: &Scope,
        page: PageRequest,
    ) -> ApiResult<Option<History<Subnet>>> {
        crate::db::subnets::history(conn, id, scope, page)
    }

    fn network_of(record: &Subnet) -> Option<&str> {
        Some(&record.network_id)
    }

    fn id_of(record: &Subnet) -> &str {
        &record.id
    }

    fn create(tx: &Transaction, who: &Writer, input: SubnetInput) -> ApiResult<Subnet> {
        ops::subnets::create(tx, who, input)
    }

    fn update(tx: &Transaction, who: &Writer, id: &str, input: SubnetInput) -> ApiResult<Subnet> {
        ops::subnets::update(tx, who, id, input)
    }

    fn delete(tx: &Transaction, who: &Writer, id: &str, cascade: bool) -> ApiResult<()> {
        ops::subnets::delete(tx, who, id, cascade)
    }
}
