//! `/api/v1/networks/{id}/map` as JSON, `map.mermaid` and `map.svg`: one layout, three forms.

use actix_web::http::{header, Method};
use actix_web::{web, HttpRequest, HttpResponse};

use super::input::{parse_uuid, QueryParams};
use super::{on, Routes};
use crate::auth::Auth;
use crate::domain::map::{self, MapInput};
use crate::domain::role::Role;
use crate::envelope;
use crate::error::ApiResult;
use crate::state::AppState;

pub fn routes(r: &mut Routes, networks: &str) {
    r.at(&format!("{networks}/{{id}}/map"), [on(Method::GET, json)])
        .at(
            &format!("{networks}/{{id}}/map.mermaid"),
            [on(Method::GET, mermaid)],
        )
        .at(
            &format!("{networks}/{{id}}/map.svg"),
            [on(Method::GET, svg)],
        );
}

/// The network's drawing data as of `at` (live without it), for a key that may see it.
async fn load(
    state: &AppState,
    auth: &Auth,
    id: &str,
    req: &HttpRequest,
) -> ApiResult<(MapInput, Option<String>)> {
    auth.require(Role::Viewer)?;
    let id = parse_uuid(id, "id")?;
    auth.check_network(&id)?;
    let at = QueryParams::from_request(req)?.as_of()?;
    let instant = match &at {
        crate::db::versions::AsOf::Live => None,
        crate::db::versions::AsOf::At(t) => Some(t.clone()),
    };
    let input = state
        .db
        .read(move |c| {
            let network = crate::db::networks::get(c, &id)?;
            crate::db::map::load(c, &id, &network.name, &at)
        })
        .await?;
    Ok((input, instant))
}

async fn json(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let (input, at) = load(&state, &auth, &path, &req).await?;
    Ok(envelope::ok(&map::layout(&input, at)))
}

async fn mermaid(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let (input, _) = load(&state, &auth, &path, &req).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/plain; charset=utf-8"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            "inline; filename=\"portolan-map.mmd\"",
        ))
        .body(map::mermaid(&input)))
}

async fn svg(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let (input, at) = load(&state, &auth, &path, &req).await?;
    let drawing = map::svg(&map::layout(&input, at), &input);
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "image/svg+xml"))
        // Opened on its own (not drawn by the UI), the document runs no script whatever it holds.
        .insert_header((header::CONTENT_SECURITY_POLICY, "sandbox"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            "inline; filename=\"portolan-map.svg\"",
        ))
        .body(drawing))
}
