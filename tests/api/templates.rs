use serde_json::{json, Value};

use crate::helpers::{assert_error, assert_same, spawn_app, TestApp};

const JELLYFIN: &str = "lscr.io/linuxserver/jellyfin";

fn create(app: &TestApp, body: Value) -> String {
    let r = app.post("/api/v1/service-templates", body);
    assert_eq!(r.status, 201, "{}", r.body);
    r.id()
}

fn patch(app: &TestApp, path: &str, body: Value) -> crate::helpers::Resp {
    app.call("PATCH", path, &app.key, Some(&body))
}

#[test]
fn create_applies_defaults_and_derives_fields() {
    let app = spawn_app();
    let r = app.post(
        "/api/v1/service-templates",
        json!({"name": "jellyfin", "containerImageId": JELLYFIN}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.id();
    let d = r.data();
    assert_eq!(
        r.header("location").unwrap(),
        format!("/api/v1/service-templates/{id}")
    );
    assert_eq!(d["imageTag"], "latest");
    assert_eq!(d["composeTemplate"], json!(null));
    assert_eq!(d["healthCheckUrl"], json!(null));
    assert_eq!(d["baseEnv"], json!({}));
    assert_eq!(d["deployStrategy"], "sequential");
    assert_eq!(d["serviceTypeId"], json!(null));
    assert_eq!(d["healthWaitMs"], json!(30000));
    assert_eq!(d["healthRetries"], json!(3));
    assert_eq!(d["healthIntervalMs"], json!(5000));
    assert_eq!(d["exposedPorts"], json!([]));
    assert_eq!(d["composePath"], json!(format!("stacks/{id}/compose.yaml")));
    assert!(d["createdAt"].is_string() && d["updatedAt"].is_string());
    assert_eq!(
        app.get(&format!("/api/services/{id}")).data(),
        d,
        "seed-003 route reads the same"
    );

    let before = app.snapshot();
    assert_error(
        &app.post(
            "/api/v1/service-templates",
            json!({"containerImageId": JELLYFIN}),
        ),
        400,
        "VALIDATION_ERROR",
        Some("name"),
    );
    assert_error(
        &app.post("/api/v1/service-templates", json!({"name": "x"})),
        400,
        "VALIDATION_ERROR",
        Some("containerImageId"),
    );
    assert_error(
        &app.post(
            "/api/v1/service-templates",
            json!({"name": "x", "containerImageId": "a", "exposedPorts": []}),
        ),
        422,
        "READONLY_FIELD",
        Some("exposedPorts"),
    );
    assert_error(
        &app.post(
            "/api/v1/service-templates",
            json!({"name": "x", "containerImageId": "a", "extra": 1}),
        ),
        400,
        "VALIDATION_ERROR",
        Some("extra"),
    );
    assert_error(
        &app.post(
            "/api/v1/service-templates",
            json!({"name": "jellyfin", "containerImageId": "a"}),
        ),
        409,
        "CONFLICT",
        Some("name"),
    );
    assert_same(&before, &app.snapshot());
}

#[test]
fn seed_003_patch_example() {
    let app = spawn_app();
    let id = create(&app, json!({"name": "media", "containerImageId": JELLYFIN}));
    let seed_body = json!({
        "name": "example", "containerImageId": JELLYFIN, "imageTag": "example",
        "composeTemplate": "example", "healthCheckUrl": "example",
        "baseEnv": {"additionalProperty": "example"}, "deployStrategy": "sequential",
        "serviceTypeId": "Jellyfin", "healthWaitMs": 1, "healthRetries": 1, "healthIntervalMs": 1
    });
    // The seed's placeholder strings are not a compose file or a URL: the spec refuses them.
    let before = app.snapshot();
    let r = patch(&app, &format!("/api/services/{id}"), seed_body.clone());
    assert_error(&r, 400, "VALIDATION_ERROR", Some("composeTemplate"));
    assert_same(&before, &app.snapshot());

    let mut body = seed_body;
    body["composeTemplate"] = json!("services:\n  jellyfin:\n    image: lscr.io/linuxserver/jellyfin\n    ports:\n      - \"${additionalProperty:-8096}:8096\"\n");
    body["healthCheckUrl"] = json!("http://localhost:8096/health");
    body["baseEnv"] = json!({"additionalProperty": "18096"});
    let r = patch(&app, &format!("/api/services/{id}"), body);
    assert_eq!(r.status, 200, "{}", r.body);
    let d = r.data();
    assert_eq!(d["name"], "example");
    assert_eq!(d["imageTag"], "example");
    assert_eq!(d["serviceTypeId"], "Jellyfin");
    assert_eq!(d["healthWaitMs"], json!(1));
    assert_eq!(
        d["exposedPorts"],
        json!([{"hostPort": 18096, "containerPort": 8096, "protocol": "tcp"}])
    );
    assert_eq!(
        app.get(&format!("/api/v1/service-templates/{id}")).data(),
        d
    );
}

#[test]
fn read_only_fields_are_422_with_a_hint_even_for_unknown_ids() {
    let app = spawn_app();
    let id = create(&app, json!({"name": "t", "containerImageId": "nginx"}));
    let unknown = "7d4e1f9a-3c2b-4a1d-9e8f-0a1b2c3d4e5f";
    let before = app.snapshot();
    for field in [
        "id",
        "createdAt",
        "updatedAt",
        "exposedPorts",
        "composePath",
    ] {
        for target in [&id, unknown] {
            let r = patch(
                &app,
                &format!("/api/v1/service-templates/{target}"),
                json!({"imageTag": "v2", field: "x"}),
            );
            assert_error(&r, 422, "READONLY_FIELD", Some(field));
            assert_eq!(
                r.body["message"],
                json!(format!(
                    "Field \"{field}\" is read-only and cannot be set via PATCH."
                ))
            );
            assert!(
                r.body["hint"].as_str().is_some_and(|h| !h.is_empty()),
                "{field}"
            );
        }
    }
    let r = patch(
        &app,
        &format!("/api/services/{unknown}"),
        json!({"exposedPorts": [], "composePath": "x"}),
    );
    assert_eq!(r.body["hint"], json!("Exposed ports are derived from the compose template's ports mapping. Change the ports mapping in composeTemplate instead."));
    assert!(r.body["message"]
        .as_str()
        .unwrap()
        .contains("\"exposedPorts\", \"composePath\""));
    assert_same(&before, &app.snapshot());
}

#[test]
fn every_field_accepts_its_edges_and_refuses_the_rest() {
    let app = spawn_app();
    let id = create(&app, json!({"name": "t", "containerImageId": "nginx"}));
    let path = format!("/api/v1/service-templates/{id}");
    let valid = [
        json!({"name": "n".repeat(100)}),
        json!({"containerImageId": "registry.local:5000/team/app"}),
        json!({"imageTag": "x".repeat(128)}),
        json!({"imageTag": "1.2_rc-3"}),
        json!({"composeTemplate": "services:\n  a:\n    image: x\n"}),
        json!({"healthCheckUrl": "https://${HOST}/ready"}),
        json!({"baseEnv": {"_X1": "", "PORT": "80"}}),
        json!({"deployStrategy": "parallel"}),
        json!({"serviceTypeId": "Jellyfin"}),
        json!({"healthWaitMs": 0}),
        json!({"healthWaitMs": 3_600_000}),
        json!({"healthRetries": 1}),
        json!({"healthRetries": 100}),
        json!({"healthIntervalMs": 0}),
        json!({"healthIntervalMs": 3_600_000}),
    ];
    for body in valid {
        let r = patch(&app, &path, body.clone());
        assert_eq!(r.status, 200, "{body}: {}", r.body);
        let (k, v) = body.as_object().unwrap().iter().next().unwrap();
        assert_eq!(&r.data()[k], v, "{k} stored");
    }
    let invalid = [
        (json!({"name": ""}), "name"),
        (json!({"name": "n".repeat(101)}), "name"),
        (json!({"containerImageId": ""}), "containerImageId"),
        (
            json!({"containerImageId": "nginx:1.25"}),
            "containerImageId",
        ),
        (
            json!({"containerImageId": "nginx@sha256:00"}),
            "containerImageId",
        ),
        (json!({"containerImageId": "a b"}), "containerImageId"),
        (json!({"imageTag": ""}), "imageTag"),
        (json!({"imageTag": "x".repeat(129)}), "imageTag"),
        (json!({"imageTag": "has space"}), "imageTag"),
        (json!({"imageTag": "-x"}), "imageTag"),
        (json!({"composeTemplate": "services: ["}), "composeTemplate"),
        (json!({"composeTemplate": "name: x"}), "composeTemplate"),
        (
            json!({"healthCheckUrl": "localhost/health"}),
            "healthCheckUrl",
        ),
        (json!({"healthCheckUrl": 5}), "healthCheckUrl"),
        (json!({"baseEnv": {"A": 1}}), "baseEnv.A"),
        (json!({"baseEnv": {"A-B": "x"}}), "baseEnv.A-B"),
        (json!({"baseEnv": "A=1"}), "baseEnv"),
        (json!({"deployStrategy": "rolling"}), "deployStrategy"),
        (json!({"serviceTypeId": "No Such Type"}), "serviceTypeId"),
        (json!({"healthWaitMs": -1}), "healthWaitMs"),
        (json!({"healthWaitMs": 3_600_001}), "healthWaitMs"),
        (json!({"healthRetries": 0}), "healthRetries"),
        (json!({"healthRetries": 101}), "healthRetries"),
        (json!({"healthRetries": "3"}), "healthRetries"),
        (json!({"healthIntervalMs": -5}), "healthIntervalMs"),
        (json!({"healthIntervalMs": 1.5}), "healthIntervalMs"),
        (json!({"colour": "red"}), "colour"),
    ];
    let before = app.snapshot();
    for (body, field) in invalid {
        assert_error(
            &patch(&app, &path, body),
            400,
            "VALIDATION_ERROR",
            Some(field),
        );
    }
    assert_same(&before, &app.snapshot());
}

#[test]
fn null_clears_nullable_fields_only_and_empty_patch_is_a_no_op() {
    let app = spawn_app();
    let id = create(
        &app,
        json!({
            "name": "t", "containerImageId": "nginx", "serviceTypeId": "Jellyfin", "baseEnv": {"A": "1"},
            "healthCheckUrl": "http://x/h", "composeTemplate": "services:\n  a:\n    ports: [\"80:80\"]\n"
        }),
    );
    let path = format!("/api/v1/service-templates/{id}");
    let before_noop = app.get(&path);
    std::thread::sleep(std::time::Duration::from_millis(5));
    let noop = patch(&app, &path, json!({}));
    assert_eq!(noop.status, 200);
    assert_eq!(noop.data(), before_noop.data(), "updatedAt unchanged too");

    let before = app.snapshot();
    for field in [
        "name",
        "containerImageId",
        "imageTag",
        "deployStrategy",
        "healthWaitMs",
        "healthRetries",
        "healthIntervalMs",
    ] {
        assert_error(
            &patch(&app, &path, json!({field: null})),
            400,
            "VALIDATION_ERROR",
            Some(field),
        );
    }
    assert_same(&before, &app.snapshot());

    let r = patch(
        &app,
        &path,
        json!({"composeTemplate": null, "healthCheckUrl": null, "baseEnv": null, "serviceTypeId": null}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    for field in [
        "composeTemplate",
        "healthCheckUrl",
        "baseEnv",
        "serviceTypeId",
    ] {
        assert_eq!(r.data()[field], json!(null), "{field}");
    }
    assert_eq!(r.data()["exposedPorts"], json!([]));
    assert!(r.data()["updatedAt"].as_str() > before_noop.data()["updatedAt"].as_str());
    let merge_patch = app.raw(
        "PATCH",
        &path,
        Some(&app.key),
        Some(("application/merge-patch+json", br#"{"imageTag":"v9"}"#)),
    );
    assert_eq!(merge_patch.status, 200);
    assert_eq!(merge_patch.data()["imageTag"], "v9");
    assert_eq!(merge_patch.data()["name"], "t", "absent fields unchanged");
}

#[test]
fn exposed_ports_from_compose_port_forms() {
    let app = spawn_app();
    let compose = "services:\n  app:\n    image: x\n    ports:\n      - \"8080:80\"\n      - \"127.0.0.1:53:53/udp\"\n      - \"9000\"\n      - 3000\n      - \"8000-8002:8000-8002\"\n      - \"[::1]:6001:6001\"\n      - \"${WEB_PORT:-8443}:443\"\n      - target: 5432\n        published: \"15432\"\n      - target: 162\n        published: 1162\n        protocol: udp\n        host_ip: 0.0.0.0\n";
    let r = app.post("/api/v1/service-templates", json!({"name": "ports", "containerImageId": "x", "composeTemplate": compose, "baseEnv": {"WEB_PORT": "9443"}}));
    assert_eq!(r.status, 201, "{}", r.body);
    let pairs: Vec<(Value, u64, String)> = r.data()["exposedPorts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["hostPort"].clone(),
                p["containerPort"].as_u64().unwrap(),
                p["protocol"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want: Vec<(Value, u64, &str)> = vec![
        (json!(8080), 80, "tcp"),
        (json!(53), 53, "udp"),
        (json!(null), 9000, "tcp"),
        (json!(null), 3000, "tcp"),
        (json!(8000), 8000, "tcp"),
        (json!(8001), 8001, "tcp"),
        (json!(8002), 8002, "tcp"),
        (json!(6001), 6001, "tcp"),
        (json!(9443), 443, "tcp"),
        (json!(15432), 5432, "tcp"),
        (json!(1162), 162, "udp"),
    ];
    assert_eq!(
        pairs,
        want.into_iter()
            .map(|(a, b, c)| (a, b, c.to_string()))
            .collect::<Vec<_>>()
    );

    // Changing only baseEnv re-derives the ports.
    let id = r.id();
    let r = patch(
        &app,
        &format!("/api/v1/service-templates/{id}"),
        json!({"baseEnv": {}}),
    );
    assert_eq!(r.data()["exposedPorts"][8]["hostPort"], json!(8443));
}

#[test]
fn auth_scope_not_found_conflict_and_delete() {
    let app = spawn_app();
    let net = app.network("n");
    let a = create(&app, json!({"name": "a", "containerImageId": "x"}));
    create(
        &app,
        json!({"name": "b", "containerImageId": "x", "serviceTypeId": "Jellyfin"}),
    );
    let path = format!("/api/v1/service-templates/{a}");
    let viewer = app.key_with("Viewer", &[]);
    let scoped = app.key_with("Member", &[&net]);
    let before = app.snapshot();
    assert_error(
        &app.raw("PATCH", &path, None, Some(("application/json", b"{}"))),
        401,
        "UNAUTHORIZED",
        None,
    );
    assert_error(
        &app.call("PATCH", &path, &viewer, Some(&json!({"imageTag": "v"}))),
        403,
        "FORBIDDEN_ROLE",
        None,
    );
    assert_eq!(
        app.call("GET", &path, &scoped, None).status,
        200,
        "scoped keys may read templates"
    );
    assert_error(
        &app.call("PATCH", &path, &scoped, Some(&json!({"imageTag": "v"}))),
        403,
        "FORBIDDEN_SCOPE",
        None,
    );
    assert_error(
        &app.call(
            "POST",
            "/api/v1/service-templates",
            &scoped,
            Some(&json!({"name": "c", "containerImageId": "x"})),
        ),
        403,
        "FORBIDDEN_SCOPE",
        None,
    );
    assert_error(
        &patch(
            &app,
            "/api/v1/service-templates/7d4e1f9a-3c2b-4a1d-9e8f-0a1b2c3d4e5f",
            json!({"imageTag": "v"}),
        ),
        404,
        "NOT_FOUND",
        None,
    );
    assert_error(
        &patch(&app, &path, json!({"name": "b"})),
        409,
        "CONFLICT",
        Some("name"),
    );
    assert_error(
        &patch(&app, &path, json!([1])),
        400,
        "VALIDATION_ERROR",
        Some("body"),
    );
    assert_same(&before, &app.snapshot());

    let list = app.get("/api/v1/service-templates?serviceTypeId=Jellyfin");
    assert_eq!(list.body["meta"]["pagination"]["total_count"], json!(1));
    let all = app.get("/api/services?q=A&order_by=name");
    assert_eq!(all.data()[0]["name"], "a");

    assert_eq!(app.delete(&format!("/api/services/{a}")).status, 200);
    assert_error(&app.get(&path), 404, "NOT_FOUND", None);
    assert_eq!(app.count("service_templates"), 1);
}

#[test]
fn a_service_type_used_by_a_template_is_protected() {
    let app = spawn_app();
    app.post(
        "/api/v1/service-types",
        json!({"name": "Homebrew", "category": "Media"}),
    );
    let id = create(
        &app,
        json!({"name": "t", "containerImageId": "x", "serviceTypeId": "Homebrew"}),
    );
    let before = app.snapshot();
    let r = app.delete("/api/v1/service-types/Homebrew");
    assert_error(&r, 409, "CONFLICT", None);
    assert_eq!(r.body["params"]["template_ids"], json!([id]));
    assert_same(&before, &app.snapshot());
    assert_eq!(
        app.delete("/api/v1/service-types/Homebrew?cascade=true")
            .status,
        200
    );
    assert_eq!(
        app.get(&format!("/api/v1/service-templates/{id}")).data()["serviceTypeId"],
        json!(null)
    );
}
