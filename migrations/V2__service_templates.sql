-- Service templates (seed 003). `exposed_ports` is derived from the compose template when the
-- template is written, so reads need no YAML parsing.
CREATE TABLE service_templates (
    id                 TEXT PRIMARY KEY,
    name               TEXT NOT NULL UNIQUE,
    container_image_id TEXT NOT NULL,
    image_tag          TEXT NOT NULL,
    compose_template   TEXT,
    health_check_url   TEXT,
    base_env           TEXT,
    deploy_strategy    TEXT NOT NULL CHECK (deploy_strategy IN ('sequential', 'parallel')),
    service_type_id    TEXT REFERENCES service_types (id) ON DELETE SET NULL,
    health_wait_ms     INTEGER NOT NULL,
    health_retries     INTEGER NOT NULL,
    health_interval_ms INTEGER NOT NULL,
    exposed_ports      TEXT NOT NULL DEFAULT '[]',
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);
CREATE INDEX service_templates_order ON service_templates (created_at, id);
CREATE INDEX service_templates_type ON service_templates (service_type_id);
