//! `/api/v1/tags`

use actix_web::{web, HttpRequest, HttpResponse};
use serde::de::IgnoredAny;
use serde::Deserialize;

use super::input::parse_uuid;
use super::input::QueryParams;
use super::list_response;
use super::resource::{self, Resource};
use super::Routes;
use crate::auth::Auth;
use crate::db::tags::Tag;
use crate::db::tags::TagFilter;
use crate::domain::enums::Color;
use crate::domain::role::Role;
use crate::domain::text::{optional_text, Name};
use crate::error::ApiResult;
use crate::ops::journal::Writer;
use crate::ops::{self, tags::TagInput};
use crate::state::AppState;
use rusqlite::{Connection, Transaction};

pub fn routes(r: &mut Routes, base: &str) {
    resource::routes::<Tags, _, _>(r, base, list);
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = TagInput)]
#[serde(deny_unknown_fields)]
pub struct TagBody {
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
    color: Option<String>,
    /// Default false.
    #[serde(default)]
    is_application: Option<bool>,
    /// Read-only: the server's organization. Sending it back is accepted; another value is 400.
    #[serde(default)]
    #[schema(value_type = Option<uuid::Uuid>)]
    organization_id: Option<String>,
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

impl TagBody {
    fn into_input(self) -> ApiResult<TagInput> {
        Ok(TagInput {
            organization_id: self
                .organization_id
                .map(|o| parse_uuid(&o, "organization_id"))
                .transpose()?,
            name: Name::parse(&self.name, 100).map_err(|e| e.at("name"))?,
            description: optional_text(self.description.as_deref(), 500)
                .map_err(|e| e.at("description"))?,
            color: match self.color {
                Some(c) => Color::parse(&c).map_err(|e| e.at("color"))?,
                None => Color::Gray,
            },
            is_application: self.is_application.unwrap_or(false),
        })
    }
}

/// The columns a list may be sorted by.
pub const ORDER_BY: &[&str] = &["created_at", "name", "updated_at"];

async fn list(state: web::Data<AppState>, auth: Auth, req: HttpRequest) -> ApiResult<HttpResponse> {
    auth.require(Role::Viewer)?;
    let q = QueryParams::from_request(&req)?;
    let page = q.page()?;
    let order = q.order("t", ORDER_BY)?;
    let filter = TagFilter {
        q: q.text("q"),
        color: q
            .parsed("color", Color::parse)?
            .map(|c| c.as_str().to_string()),
    };
    let (items, total) = state
        .db
        .read(move |c| crate::db::tags::list(c, &filter, &order, page))
        .await?;
    Ok(list_response(&items, page, total))
}

pub struct Tags;

impl Resource for Tags {
    const PATH: &'static str = "tags";
    const GLOBAL: bool = true;
    type Body = TagBody;
    type Input = TagInput;
    type Record = Tag;

    fn input(body: TagBody) -> ApiResult<TagInput> {
        body.into_input()
    }

    fn fetch(conn: &Connection, id: &str) -> ApiResult<Tag> {
        crate::db::tags::get(conn, id)
    }

    fn network_of(_record: &Tag) -> Option<&str> {
        None
    }

    fn id_of(record: &Tag) -> &str {
        &record.id
    }

    fn create(tx: &Transaction, who: &Writer, input: TagInput) -> ApiResult<Tag> {
        ops::tags::create(tx, who, input)
    }

    fn update(tx: &Transaction, who: &Writer, id: &str, input: TagInput) -> ApiResult<Tag> {
        ops::tags::update(tx, who, id, input)
    }

    fn delete(tx: &Transaction, who: &Writer, id: &str, cascade: bool) -> ApiResult<()> {
        ops::tags::delete(tx, who, id, cascade)
    }
}
