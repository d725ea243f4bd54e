//! `/api/v1/organizations`: the peer's clients expect organizations; a Portolan server is one.

use actix_web::{web, HttpResponse};

use super::{list_response, on, Routes};
use crate::auth::Auth;
use crate::db::query::PageRequest;
use crate::domain::role::Role;
use crate::error::ApiResult;
use crate::state::AppState;
use actix_web::http::Method;

pub fn routes(r: &mut Routes, base: &str) {
    r.at(base, [on(Method::GET, list)]);
}

async fn list(state: web::Data<AppState>, auth: Auth) -> ApiResult<HttpResponse> {
    auth.require(Role::Viewer)?;
    let org = state.db.read(crate::db::organizations::get).await?;
    let page = PageRequest {
        limit: None,
        offset: 0,
    };
    Ok(list_response(&[org], page, 1))
}
