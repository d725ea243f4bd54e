//! The OpenAPI document and the browsable reference (Swagger UI, its assets compiled into the
//! binary), both without authentication.

use std::sync::OnceLock;

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use utoipa_swagger_ui::{Config, SwaggerUi};

use super::openapi;

/// Serialized once: the document depends on the code only.
fn document_bytes() -> &'static [u8] {
    static DOC: OnceLock<Vec<u8>> = OnceLock::new();
    DOC.get_or_init(|| serde_json::to_vec(&openapi::document()).expect("the document serializes"))
}

pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .body(document_bytes())
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/docs").to(|| async {
        HttpResponse::PermanentRedirect()
            .insert_header((header::LOCATION, "/api/docs/"))
            .finish()
    }))
    .service(
        SwaggerUi::new("/api/docs/{_:.*}").config(
            Config::new(["/api/openapi.json"])
                .try_it_out_enabled(true)
                // Swagger UI's default validator is an outside service: no call leaves the LAN.
                .validator_url("none")
                .persist_authorization(false),
        ),
    );
}
