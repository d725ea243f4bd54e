//! The web UI, compiled into the binary, and the JSON 404 for unknown API paths.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};

use crate::error::{ApiError, ApiResult, ErrorCode};

struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static str,
}

const ASSETS: &[Asset] = &[
    Asset {
        path: "/index.html",
        content_type: "text/html; charset=utf-8",
        body: include_str!("../../static/index.html"),
    },
    Asset {
        path: "/app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../static/app.js"),
    },
    Asset {
        path: "/map.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../static/map.js"),
    },
    Asset {
        path: "/ui/api.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../static/ui/api.js"),
    },
    Asset {
        path: "/ui/dom.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../static/ui/dom.js"),
    },
    Asset {
        path: "/ui/listens.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../static/ui/listens.js"),
    },
    Asset {
        path: "/ui/table.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../static/ui/table.js"),
    },
    Asset {
        path: "/pages/resources.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../static/pages/resources.js"),
    },
    Asset {
        path: "/pages/account.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../static/pages/account.js"),
    },
    Asset {
        path: "/pages/home.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../static/pages/home.js"),
    },
    Asset {
        path: "/pages/deployments.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../static/pages/deployments.js"),
    },
    Asset {
        path: "/pages/history.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../static/pages/history.js"),
    },
    Asset {
        path: "/pages/host.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../static/pages/host.js"),
    },
    Asset {
        path: "/pages/catalog.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../static/pages/catalog.js"),
    },
    Asset {
        path: "/pages/keys.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../static/pages/keys.js"),
    },
    Asset {
        path: "/pages/agents.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../static/pages/agents.js"),
    },
    Asset {
        path: "/pages/network_map.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../static/pages/network_map.js"),
    },
    Asset {
        path: "/pages/discovery.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../static/pages/discovery.js"),
    },
    Asset {
        path: "/pages/dependencies.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../static/pages/dependencies.js"),
    },
    Asset {
        path: "/pages/webhooks.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../static/pages/webhooks.js"),
    },
    Asset {
        path: "/share.html",
        content_type: "text/html; charset=utf-8",
        body: include_str!("../../static/share.html"),
    },
    Asset {
        path: "/share.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../static/share.js"),
    },
    Asset {
        path: "/style.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("../../static/style.css"),
    },
];

fn serve(asset: &Asset) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, asset.content_type))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
        ))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .body(asset.body)
}

/// Unknown `/api` paths get the JSON 404; everything else is the UI (index for unknown pages).
pub async fn fallback(req: HttpRequest) -> ApiResult<HttpResponse> {
    let path = req.path();
    if path == "/api" || path.starts_with("/api/") {
        return Err(ApiError::new(
            ErrorCode::NotFound,
            format!("No route for {} {path}", req.method()),
        ));
    }
    if req.method() != actix_web::http::Method::GET && req.method() != actix_web::http::Method::HEAD
    {
        return Err(ApiError::new(
            ErrorCode::NotFound,
            format!("No route for {} {path}", req.method()),
        ));
    }
    let wanted = if path == "/" {
        "/index.html"
    } else if path.starts_with("/share/") {
        // A shared network's page: its own document, which reads the link's token from its path.
        "/share.html"
    } else {
        path
    };
    if let Some(asset) = ASSETS.iter().find(|a| a.path == wanted) {
        return Ok(serve(asset));
    }
    if !wanted.rsplit('/').next().unwrap_or("").contains('.') {
        return Ok(serve(&ASSETS[0]));
    }
    Err(ApiError::new(
        ErrorCode::NotFound,
        format!("No file {path}"),
    ))
}
