//! The success envelope: `{"success": true, "data": ..., "meta": {...}}`.

use actix_web::http::header;
use actix_web::HttpResponse;
use serde::Serialize;

pub const API_VERSION: u32 = 1;
pub const SERVER_VERSION: &str = env!("CARGO_PKG_VERSION");

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Meta {
    pub api_version: u32,
    pub server_version: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pagination: Option<Pagination>,
}

impl Meta {
    pub fn current() -> Self {
        Meta {
            api_version: API_VERSION,
            server_version: SERVER_VERSION,
            pagination: None,
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Pagination {
    pub total_count: u64,
    pub limit: u64,
    pub offset: u64,
    pub has_more: bool,
}

#[derive(Serialize)]
struct Envelope<'a, T: Serialize> {
    success: bool,
    data: &'a T,
    meta: Meta,
}

fn body<T: Serialize>(data: &T, pagination: Option<Pagination>) -> Envelope<'_, T> {
    Envelope {
        success: true,
        data,
        meta: Meta {
            pagination,
            ..Meta::current()
        },
    }
}

/// Serializes into a buffer sized for a typical object with children, so that most responses
/// are written without the buffer being regrown and copied.
fn json_bytes<T: Serialize>(value: &T) -> Vec<u8> {
    let mut buf = Vec::with_capacity(8 * 1024);
    serde_json::to_writer(&mut buf, value).expect("API types always serialize");
    buf
}

fn json_response(mut builder: actix_web::HttpResponseBuilder, bytes: Vec<u8>) -> HttpResponse {
    builder
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .body(bytes)
}

/// The success envelope around `data`, serialized.
pub fn success_bytes<T: Serialize>(data: &T, pagination: Option<Pagination>) -> Vec<u8> {
    json_bytes(&body(data, pagination))
}

pub fn ok<T: Serialize>(data: &T) -> HttpResponse {
    json_response(HttpResponse::Ok(), json_bytes(&body(data, None)))
}

/// 201 with a `Location` header naming the new object.
pub fn created<T: Serialize>(location: String, data: &T) -> HttpResponse {
    let mut builder = HttpResponse::Created();
    builder.insert_header((header::LOCATION, location));
    json_response(builder, json_bytes(&body(data, None)))
}

pub fn list<T: Serialize>(items: &[T], pagination: Pagination) -> HttpResponse {
    json_response(
        HttpResponse::Ok(),
        json_bytes(&body(&items, Some(pagination))),
    )
}

pub fn deleted() -> HttpResponse {
    ok(&serde_json::Value::Null)
}
