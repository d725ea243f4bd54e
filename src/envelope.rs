//! The success envelope: `{"success": true, "data": ..., "meta": {...}}`.

use actix_web::http::header;
use actix_web::HttpResponse;
use serde::Serialize;

pub const API_VERSION: u32 = 1;
pub const SERVER_VERSION: &str = env!("CARGO_PKG_VERSION");

static REPORTED_VERSION: std::sync::OnceLock<&'static str> = std::sync::OnceLock::new();

/// The compatibility switch `PORTOLAN_REPORT_VERSION`: clients that refuse any server version
/// outside the peer's range are told this one, in `/api/version` and in every `meta`. Set once,
/// for the process, before the server serves.
pub fn report_version(version: &str) {
    let _ = REPORTED_VERSION.set(Box::leak(version.to_string().into_boxed_str()));
}

/// The version the server reports: its own, or the one the switch names.
pub fn server_version() -> &'static str {
    REPORTED_VERSION.get().copied().unwrap_or(SERVER_VERSION)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Meta {
    pub api_version: u32,
    pub server_version: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pagination: Option<Pagination>,
    /// Set on an answer that stands in for another, e.g. a replay whose secret was not kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<&'static str>,
}

impl Meta {
    pub fn current() -> Self {
        Meta {
            api_version: API_VERSION,
            server_version: server_version(),
            pagination: None,
            hint: None,
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

/// The success envelope around `data` with a hint in its `meta`, serialized.
pub fn success_bytes_with_hint<T: Serialize>(data: &T, hint: &'static str) -> Vec<u8> {
    let mut envelope = body(data, None);
    envelope.meta.hint = Some(hint);
    json_bytes(&envelope)
}

/// The success envelope around `data`, serialized.
pub fn success_bytes<T: Serialize>(data: &T, pagination: Option<Pagination>) -> Vec<u8> {
    json_bytes(&body(data, pagination))
}

pub fn ok<T: Serialize>(data: &T) -> HttpResponse {
    json_response(HttpResponse::Ok(), json_bytes(&body(data, None)))
}

/// The strong validator of a representation: a digest of its JSON, quoted as `ETag` wants.
/// Equal states serialize equally (struct fields in declaration order), so the tag changes
/// exactly when something a reader can see changes.
pub fn etag_of_json(json: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(json);
    let mut tag = String::with_capacity(34);
    tag.push('"');
    for b in &digest[..16] {
        tag.push_str(&format!("{b:02x}"));
    }
    tag.push('"');
    tag
}

pub fn etag_of<T: Serialize>(data: &T) -> String {
    etag_of_json(&serde_json::to_vec(data).expect("API types always serialize"))
}

/// The envelope around one object with an `ETag` computed elsewhere.
pub fn ok_with_etag<T: Serialize>(data: &T, tag: String) -> HttpResponse {
    let mut builder = HttpResponse::Ok();
    builder.insert_header((header::ETAG, tag));
    json_response(builder, json_bytes(&body(data, None)))
}

/// The envelope around one object with its `ETag`, serializing the object once.
pub fn ok_tagged<T: Serialize>(data: &T) -> HttpResponse {
    tagged_response(tagged_bytes(data))
}

/// The success envelope around `data` (the bytes of `success_bytes(data, None)`) and its `ETag`,
/// serializing `data` once.
pub fn tagged_bytes<T: Serialize>(data: &T) -> (Vec<u8>, String) {
    let mut buf = Vec::with_capacity(8 * 1024);
    buf.extend_from_slice(DATA_PREFIX);
    serde_json::to_writer(&mut buf, data).expect("API types always serialize");
    close_tagged(buf)
}

const DATA_PREFIX: &[u8] = br#"{"success":true,"data":"#;

/// Closes an envelope whose `data` is all of `buf` after `DATA_PREFIX`, tagged with its digest.
fn close_tagged(mut buf: Vec<u8>) -> (Vec<u8>, String) {
    let tag = etag_of_json(&buf[DATA_PREFIX.len()..]);
    buf.extend_from_slice(br#","meta":"#);
    serde_json::to_writer(&mut buf, &Meta::current()).expect("meta always serializes");
    buf.push(b'}');
    (buf, tag)
}

fn tagged_response((buf, tag): (Vec<u8>, String)) -> HttpResponse {
    let mut builder = HttpResponse::Ok();
    builder.insert_header((header::ETAG, tag));
    json_response(builder, buf)
}

/// `ok_tagged` for an object already serialized (written from its rows): the same bytes, the
/// same tag.
pub fn ok_tagged_json(json: Vec<u8>) -> HttpResponse {
    let mut buf = Vec::with_capacity(json.len() + 96);
    buf.extend_from_slice(DATA_PREFIX);
    buf.extend_from_slice(&json);
    tagged_response(close_tagged(buf))
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

/// `list` for items already serialized as one JSON array: the same bytes.
pub fn list_json(items: Vec<u8>, pagination: Pagination) -> HttpResponse {
    let mut buf = Vec::with_capacity(items.len() + 160);
    buf.extend_from_slice(DATA_PREFIX);
    buf.extend_from_slice(&items);
    buf.extend_from_slice(br#","meta":"#);
    let meta = Meta {
        pagination: Some(pagination),
        ..Meta::current()
    };
    serde_json::to_writer(&mut buf, &meta).expect("meta always serializes");
    buf.push(b'}');
    json_response(HttpResponse::Ok(), buf)
}

pub fn deleted() -> HttpResponse {
    ok(&serde_json::Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tagged_envelope_is_the_plain_envelope_with_the_tag_of_its_data() {
        let data = serde_json::json!({"name": "nas \"main\"", "n": 1.5, "tags": []});
        let (bytes, tag) = tagged_bytes(&data);
        assert_eq!(bytes, success_bytes(&data, None));
        assert_eq!(tag, etag_of(&data));
    }
}
