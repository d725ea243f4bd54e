//! The success envelope: `{"success": true, "data": ..., "meta": {...}}`.

use actix_web::http::header;
use actix_web::HttpResponse;
use serde::Serialize;

pub const API_VERSION: u32 = 1;
pub const SERVER_VERSION: &str = env!("CARGO_PKG_VERSION");

#[derive(Debug, Serialize)]
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

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
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

pub fn ok<T: Serialize>(data: &T) -> HttpResponse {
    HttpResponse::Ok().json(body(data, None))
}

/// 201 with a `Location` header naming the new object.
pub fn created<T: Serialize>(location: String, data: &T) -> HttpResponse {
    HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .json(body(data, None))
}

pub fn list<T: Serialize>(items: &[T], pagination: Pagination) -> HttpResponse {
    HttpResponse::Ok().json(body(&items, Some(pagination)))
}

pub fn deleted() -> HttpResponse {
    ok(&serde_json::Value::Null)
}
