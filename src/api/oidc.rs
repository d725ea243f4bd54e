//! Sign-in by OpenID Connect, and what the sign-in page offers. `start` sends the browser to the
//! provider with a cookie that ties the sign-in to it; `callback` takes the provider's code back,
//! signs the person in (their account linked by issuer and subject, the role from their groups,
//! read again at every sign-in) and returns them to the web UI.

use actix_web::http::{header, Method, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::accounts::{no_role, refuse_vouched, sign_in_vouched, with_cookie};
use super::input::QueryParams;
use super::{on, Routes};
use crate::domain::account::{cookie, cookie_from, split_groups};
use crate::envelope;
use crate::error::{ApiError, ApiResult};
use crate::ops::accounts::Vouched;
use crate::state::AppState;

/// Ties a sign-in under way to the browser that started it. `SameSite=Lax`: the provider sends
/// the browser back with a top-level navigation from its own site, which a `Strict` cookie would
/// not come with.
pub const FLOW_COOKIE: &str = "portolan_oidc";
const FLOW_PATH: &str = "/api/v1/auth/oidc";

pub fn routes(r: &mut Routes) {
    r.at("/api/v1/auth/methods", [on(Method::GET, methods)])
        .at("/api/v1/auth/oidc/start", [on(Method::GET, start)])
        .at("/api/v1/auth/oidc/callback", [on(Method::GET, callback)]);
}

/// What the sign-in page offers: the password form, and single sign-on's button.
async fn methods(state: web::Data<AppState>) -> HttpResponse {
    let oidc = state
        .oidc
        .as_ref()
        .map(|o| json!({"name": o.name(), "start": format!("{FLOW_PATH}/start")}));
    envelope::ok(&json!({"password": state.config.password_sign_in, "oidc": oidc}))
}

fn oidc(state: &AppState) -> ApiResult<std::sync::Arc<crate::oidc::Oidc>> {
    state.oidc.clone().ok_or_else(|| {
        ApiError::not_found("Single sign-on")
            .with_message("Single sign-on is not set up here (PORTOLAN_OIDC_ISSUER)")
    })
}

/// Where the provider sends the browser back: `PORTOLAN_PUBLIC_URL` when set, else the address
/// the browser used (the provider accepts only the addresses registered with it).
fn redirect_uri(state: &AppState, req: &HttpRequest) -> String {
    let base = match &state.config.public_url {
        Some(url) => url.trim_end_matches('/').to_string(),
        None => {
            let info = req.connection_info();
            format!("{}://{}", info.scheme(), info.host())
        }
    };
    format!("{base}{FLOW_PATH}/callback")
}

/// A route of the web UI to return to: a path of this site, nothing else.
fn return_to(requested: Option<&str>) -> String {
    match requested {
        Some(p)
            if p.starts_with('/')
                && !p.starts_with("//")
                && p.len() <= 500
                && !p.chars().any(|c| c.is_control() || c == '\\') =>
        {
            p.to_string()
        }
        _ => "/home".to_string(),
    }
}

fn flow_cookie(req: &HttpRequest, value: &str, max_age: i64) -> String {
    let secure = req.connection_info().scheme() == "https";
    cookie(FLOW_COOKIE, value, FLOW_PATH, "Lax", max_age, secure)
}

async fn start(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    let oidc = oidc(&state)?;
    let query = QueryParams::from_request(&req)?;
    let back = return_to(query.one("return_to"));
    let redirect = redirect_uri(&state, &req);
    let started = web::block(move || oidc.start(&redirect, &back))
        .await
        .map_err(ApiError::internal)??;
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, started.auth_url))
        .insert_header((
            header::SET_COOKIE,
            flow_cookie(&req, &started.browser_cookie, 600),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish())
}

async fn callback(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    match finish(&state, &req).await {
        Err(e) if from_a_browser(&req) => Ok(refusal(&req, &e)),
        answer => answer,
    }
}

/// The provider sent a browser back here (it asks for a page, not JSON).
fn from_a_browser(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"))
}

async fn finish(state: &web::Data<AppState>, req: &HttpRequest) -> ApiResult<HttpResponse> {
    let oidc = oidc(state)?;
    let query = QueryParams::from_request(req)?;
    if let Some(error) = query.one("error") {
        let why = query.one("error_description").unwrap_or(error);
        return Err(ApiError::unauthorized(format!(
            "The single sign-on provider did not sign you in: {}",
            why.chars().take(200).collect::<String>()
        )));
    }
    let (Some(code), Some(flow_state)) = (query.one("code"), query.one("state")) else {
        return Err(ApiError::validation(
            "code",
            "The provider's answer needs `code` and `state`",
        ));
    };
    let (code, flow_state) = (code.to_string(), flow_state.to_string());
    let iss = query.one("iss").map(str::to_string);
    let browser = req
        .headers()
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| cookie_from(v, FLOW_COOKIE))
        .map(str::to_string);
    let person =
        web::block(move || oidc.finish(&flow_state, browser.as_deref(), &code, iss.as_deref()))
            .await
            .map_err(ApiError::internal)??;
    let role = state
        .config
        .role_map
        .role_of(person.groups.iter().flat_map(|g| split_groups(g)));
    let back = person.return_to.clone();
    let vouched = Vouched {
        auth: "oidc",
        identity: Some((person.issuer, person.subject)),
        names: person.names,
        display_name: person.display_name,
        email: person.email,
        role,
    };
    if vouched.role.is_none() {
        return Err(refuse_vouched(state, req, vouched, no_role()).await);
    }
    let (_, _, token) = sign_in_vouched(state, req, "sign-in by OpenID Connect", vouched).await?;
    let res = HttpResponse::SeeOther()
        .insert_header((header::LOCATION, format!("/#{back}")))
        .finish();
    let mut res = with_cookie(state, req, res, &token);
    // The sign-in under way is over: its cookie goes, beside the session's.
    if let Ok(v) = header::HeaderValue::from_str(&flow_cookie(req, "", 0)) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(res)
}

/// A refused sign-in, for a browser: a page with the reason and the way back to sign-in, with
/// the error's status (programs get the error body).
fn refusal(req: &HttpRequest, e: &ApiError) -> HttpResponse {
    let body = e.body(None);
    let code = body["code"].as_str().unwrap_or("UNAUTHORIZED");
    let message = body["message"].as_str().unwrap_or_default();
    let page = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Sign-in refused · Portolan</title><link rel=\"stylesheet\" href=\"/style.css\"></head>\
         <body><main id=\"sign-in-refused\" class=\"panel\" data-code=\"{code}\"><h1>Sign-in refused</h1>\
         <p>{}</p><p><a href=\"/#/sign-in\">Back to sign-in</a></p></main></body></html>\n",
        crate::domain::map::esc(message)
    );
    let mut res = HttpResponse::build(e.http_status())
        .content_type("text/html; charset=utf-8")
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; frame-ancestors 'none'",
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(page);
    if let Ok(v) = header::HeaderValue::from_str(&flow_cookie(req, "", 0)) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    if res.status() == StatusCode::OK {
        *res.status_mut() = StatusCode::UNAUTHORIZED;
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_path_of_this_site_is_returned_to() {
        assert_eq!(return_to(Some("/hosts/1")), "/hosts/1");
        assert_eq!(return_to(Some("//evil.example/")), "/home");
        assert_eq!(return_to(Some("https://evil.example/")), "/home");
        assert_eq!(return_to(Some("/\\evil")), "/home");
        assert_eq!(return_to(None), "/home");
    }
}
