//! Black-box tests: each starts the real server on port 0 with a fresh database and talks HTTP.

mod helpers;

mod api_keys;
mod auth;
mod binding_rules;
mod bindings;
mod concurrency;
mod consolidate;
mod crash;
mod errors;
mod history;
mod history_property;
mod history_retention;
mod host_children;
mod hosts;
mod idempotency;
mod ip_addresses;
mod networks;
mod openapi;
mod operations;
mod organizations;
mod ports;
mod preconditions;
mod query_counts;
mod rate_limits;
mod service_types;
mod services;
mod subnets;
mod system;
mod tag_assignments;
mod tags;
mod templates;
mod ui;
mod ui_history;
mod webdriver;
