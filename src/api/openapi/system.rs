//! Health, readiness, version, metrics and the document itself.

use super::*;

impl Doc {
    pub(super) fn system(&mut self) {
        let status = |value: &str| {
            json!({"type": "object", "required": ["status"],
                   "properties": {"status": {"const": value}}})
        };
        self.add(
            "/healthz",
            "get",
            json!({
                "tags": ["System"], "operationId": "healthz", "summary": "Liveness",
                "description": "The process answers. Touches no database.",
                "security": [],
                "responses": {"200": {"description": "Alive",
                    "content": {"application/json": {"schema": status("ok")}}}}
            }),
        );
        self.add(
            "/api/health",
            "get",
            json!({
                "tags": ["System"], "operationId": "health", "summary": "Liveness, in the peer's shape",
                "description": "The 0.17 clients' health answer: `data` is the server's name and \
                    version (\"Portolan 0.1.0\"), `error` is null, and there is no `meta`. \
                    Touches no database.",
                "security": [],
                "responses": {"200": {"description": "Alive",
                    "content": {"application/json": {"schema": {
                        "type": "object", "required": ["success", "data", "error"],
                        "properties": {"success": {"const": true},
                                       "data": {"type": "string"},
                                       "error": {"type": "null"}}}}}}}
            }),
        );
        self.schemas.insert(
            "ServerConfig".into(),
            json!({"type": "object",
                   "required": ["server_port", "public_url", "disable_registration",
                                "disable_password_login", "oidc_providers", "deployment_type",
                                "has_integrated_daemon", "billing_enabled"],
                   "properties": {
                       "server_port": {"type": "integer", "minimum": 0, "maximum": 65535},
                       "public_url": {"type": ["string", "null"]},
                       "disable_registration": {"type": "boolean"},
                       "disable_password_login": {"type": "boolean"},
                       "oidc_providers": {"type": "array", "items": {"type": "object",
                           "required": ["name", "slug"],
                           "properties": {"name": {"type": "string"}, "slug": {"type": "string"}}}},
                       "deployment_type": {"const": "self-hosted"},
                       "has_integrated_daemon": {"type": "boolean"},
                       "billing_enabled": {"type": "boolean"}}}),
        );
        let server_config = self.envelope("ServerConfig");
        self.add(
            "/api/config",
            "get",
            json!({
                "tags": ["System"], "operationId": "server_config", "summary": "What a client needs before signing in",
                "description": "The port, the public URL (PORTOLAN_PUBLIC_URL), whether \
                    registration and password sign-in are open and which OpenID providers \
                    there are, as the 0.17 clients read them.",
                "security": [],
                "responses": {
                    "200": {"description": "The server's settings",
                        "content": {"application/json": {"schema": schema_ref(&server_config)}}},
                    "429": response_ref("429"), "503": response_ref("503"),
                }
            }),
        );
        self.add(
            "/download/portolan",
            "get",
            json!({
                "tags": ["System"], "operationId": "download_portolan",
                "summary": "The server's own executable",
                "description": "The running `portolan` binary, to start `portolan agent` on \
                    another host of the same architecture (`X-Portolan-Architecture`). No key. \
                    Its SHA-256 is in `Digest` (base64) and `X-Portolan-Sha256` (hex).",
                "security": [],
                "responses": {"200": {"description": "The executable",
                    "headers": {
                        "Digest": {"schema": {"type": "string"}},
                        "X-Portolan-Sha256": {"schema": {"type": "string"}}},
                    "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}}
            }),
        );
        self.add(
            "/download/portolan",
            "head",
            json!({
                "tags": ["System"], "operationId": "download_portolan_head",
                "summary": "The executable's checksum and architecture",
                "description": "The headers of `GET /download/portolan` without the body: what \
                    the Agents page shows beside the command line.",
                "security": [],
                "responses": {"200": {"description": "The headers",
                    "headers": {
                        "X-Portolan-Sha256": {"schema": {"type": "string"}},
                        "X-Portolan-Architecture": {"schema": {"type": "string"}}}}}
            }),
        );
        self.add(
            "/metrics",
            "get",
            json!({
                "tags": ["System"], "operationId": "metrics", "summary": "Prometheus metrics",
                "description": "Prometheus's text format: HTTP requests by route template, \
                    method and status, request durations by route, write wait and hold times, \
                    database size, live objects by kind, discovery probes and open ports, build \
                    info. Needs: Viewer with access to every network (the counts cover them all; a \
                    key limited to networks gets 403), unless the server runs with \
                    PORTOLAN_METRICS_PUBLIC=true.",
                "responses": {
                    "200": {"description": "The metrics",
                        "content": {"text/plain": {"schema": {"type": "string"}}}},
                    "401": response_ref("401"), "403": response_ref("403"),
                    "503": response_ref("503"),
                }
            }),
        );
        self.add(
            "/readyz",
            "get",
            json!({
                "tags": ["System"], "operationId": "readyz", "summary": "Readiness",
                "description": "The database answers and its schema is migrated.",
                "security": [],
                "responses": {
                    "200": {"description": "Ready",
                        "content": {"application/json": {"schema": status("ready")}}},
                    "503": response_ref("503"),
                }
            }),
        );
        self.add_schema::<Meta>();
        self.schemas.insert(
            "Version".into(),
            json!({"type": "object", "required": ["api_version", "server_version"],
                   "properties": {"api_version": {"type": "integer"},
                                  "server_version": {"type": "string"}}}),
        );
        let version = self.envelope("Version");
        self.add(
            "/api/version",
            "get",
            json!({
                "tags": ["System"], "operationId": "version", "summary": "API and server version",
                "description": "`server_version` is Portolan's own, or the version the \
                    compatibility switch PORTOLAN_REPORT_VERSION names (e.g. 0.17.3, for clients \
                    that refuse any other); `meta.server_version` of every answer follows it.",
                "security": [],
                "responses": {
                    "200": {"description": "Versions",
                        "content": {"application/json": {"schema": schema_ref(&version)}}},
                    "429": response_ref("429"), "503": response_ref("503"),
                }
            }),
        );
        self.add(
            "/api/openapi.json",
            "get",
            json!({
                "tags": ["System"], "operationId": "openapi", "summary": "This document",
                "security": [],
                "responses": {
                    "200": {"description": "The OpenAPI 3.1 description of the API",
                        "content": {"application/json": {"schema": {"type": "object"}}}},
                    "429": response_ref("429"), "503": response_ref("503"),
                }
            }),
        );
        self.alias("/api/openapi.json", "/openapi.json");
    }
}
