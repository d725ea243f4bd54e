//! `/api/v1/tags`

use actix_web::{web, HttpRequest, HttpResponse};
use serde::de::IgnoredAny;
use serde::Deserialize;

use super::input::QueryParams;
use super::list_response;
use super::resource::{self, Resource};
use crate::auth::Auth;
use crate::db::tags::Tag;
use crate::db::tags::TagFilter;
use crate::domain::enums::Color;
use crate::domain::principal::Principal;
use crate::domain::role::Role;
use crate::domain::text::{optional_text, Name};
use crate::error::ApiResult;
use crate::ops::{self, tags::TagInput};
use crate::startup::AppState;
use rusqlite::{Connection, Transaction};

pub fn routes(cfg: &mut web::ServiceConfig) {
    resource::routes::<Tags, _, _>(cfg, list);
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagBody {
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    color: Option<String>,
    #[serde(default, rename = "id")]
    _id: IgnoredAny,
    #[serde(default, rename = "created_at")]
    _created_at: IgnoredAny,
    #[serde(default, rename = "updated_at")]
    _updated_at: IgnoredAny,
}

impl TagBody {
    fn into_input(self) -> ApiResult<TagInput> {
        Ok(TagInput {
            name: Name::parse(&self.name, 100).map_err(|e| e.at("name"))?,
            description: optional_text(self.description.as_deref(), 500)
                .map_err(|e| e.at("description"))?,
            color: match self.color {
                Some(c) => Color::parse(&c).map_err(|e| e.at("color"))?,
                None => Color::Gray,
            },
        })
    }
}

async fn list(state: web::Data<AppState>, auth: Auth, req: HttpRequest) -> ApiResult<HttpResponse> {
    auth.require(Role::Viewer)?;
    let q = QueryParams::from_request(&req)?;
    let page = q.page()?;
    let order = q.order("t", &["created_at", "name", "updated_at"])?;
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

    fn create(tx: &Transaction, who: &Principal, input: TagInput) -> ApiResult<Tag> {
        ops::tags::create(tx, who, input)
    }

    fn update(tx: &Transaction, who: &Principal, id: &str, input: TagInput) -> ApiResult<Tag> {
        ops::tags::update(tx, who, id, input)
    }

    fn delete(tx: &Transaction, who: &Principal, id: &str, cascade: bool) -> ApiResult<()> {
        ops::tags::delete(tx, who, id, cascade)
    }
}
