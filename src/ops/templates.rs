//! Service-template use cases: create and merge-patch, with derived `exposedPorts`.

use rusqlite::Transaction;
use serde_json::{Map, Value};

use super::journal::Writer;
use super::new_id;
use crate::db::{self, templates::Template};
use crate::domain::compose;
use crate::domain::history::EntityType;
use crate::domain::template::{
    Patch, TemplatePatch, DEFAULT_HEALTH_INTERVAL_MS, DEFAULT_HEALTH_RETRIES,
    DEFAULT_HEALTH_WAIT_MS, DEFAULT_IMAGE_TAG,
};
use crate::error::{ApiError, ApiResult};

fn check_service_type(tx: &Transaction, patch: &TemplatePatch) -> ApiResult<()> {
    if let Patch::Set(id) = &patch.service_type_id {
        if !db::service_types::exists(tx, id)? {
            return Err(ApiError::validation(
                "serviceTypeId",
                format!("Unknown service type \"{id}\""),
            )
            .with_hint("List the service types with GET /api/v1/service-types"));
        }
    }
    Ok(())
}

fn check_name(tx: &Transaction, name: &str, except: Option<&str>) -> ApiResult<()> {
    match db::templates::id_by_name(tx, name)? {
        Some(id) if Some(id.as_str()) != except => Err(ApiError::conflict(format!(
            "A service template named \"{name}\" already exists"
        ))
        .with_field("name")
        .with_param("template_id", id)),
        _ => Ok(()),
    }
}

/// `exposedPorts` of the template as it will be stored.
fn derive_ports(t: &Template) -> ApiResult<Value> {
    let Some(text) = &t.compose_template else {
        return Ok(Value::Array(Vec::new()));
    };
    let env = t.base_env.clone().unwrap_or_default();
    let ports = compose::exposed_ports(text, &env).map_err(|e| e.at("composeTemplate"))?;
    serde_json::to_value(ports).map_err(ApiError::internal)
}

pub fn create(tx: &Transaction, who: &Writer, patch: TemplatePatch) -> ApiResult<Template> {
    who.check_global_write()?;
    let name = patch
        .name
        .clone()
        .ok_or_else(|| ApiError::validation("name", "Field \"name\" is required"))?;
    let image = patch.container_image_id.clone().ok_or_else(|| {
        ApiError::validation("containerImageId", "Field \"containerImageId\" is required")
    })?;
    check_service_type(tx, &patch)?;
    check_name(tx, name.as_str(), None)?;
    let id = new_id();
    let mut t = Template {
        compose_path: db::templates::compose_path(&id),
        id,
        name: name.into_inner(),
        container_image_id: image,
        image_tag: patch
            .image_tag
            .unwrap_or_else(|| DEFAULT_IMAGE_TAG.to_string()),
        compose_template: patch.compose_template.apply(None),
        health_check_url: patch.health_check_url.apply(None),
        base_env: match patch.base_env {
            Patch::Absent => Some(Map::new()),
            other => other.apply(None),
        },
        deploy_strategy: patch
            .deploy_strategy
            .map(|d| d.as_str())
            .unwrap_or("sequential")
            .to_string(),
        service_type_id: patch.service_type_id.apply(None),
        health_wait_ms: patch.health_wait_ms.unwrap_or(DEFAULT_HEALTH_WAIT_MS),
        health_retries: patch.health_retries.unwrap_or(DEFAULT_HEALTH_RETRIES),
        health_interval_ms: patch
            .health_interval_ms
            .unwrap_or(DEFAULT_HEALTH_INTERVAL_MS),
        exposed_ports: Value::Array(Vec::new()),
        created_at: who.now.clone(),
        updated_at: who.now.clone(),
    };
    t.exposed_ports = derive_ports(&t)?;
    db::templates::insert(tx, &t)?;
    who.created(tx, EntityType::ServiceTemplate, &t)?;
    Ok(t)
}

/// JSON Merge Patch. Validation that needs no stored state ran before this; the service type is
/// checked before the template is looked up, as the spec orders it.
pub fn patch(
    tx: &Transaction,
    who: &Writer,
    id: &str,
    patch: TemplatePatch,
) -> ApiResult<Template> {
    who.check_global_write()?;
    check_service_type(tx, &patch)?;
    let stored = db::templates::get(tx, id)?;
    if patch.is_empty() {
        return Ok(stored);
    }
    let mut t = stored.clone();
    if let Some(name) = patch.name {
        t.name = name.into_inner();
    }
    if let Some(image) = patch.container_image_id {
        t.container_image_id = image;
    }
    if let Some(tag) = patch.image_tag {
        t.image_tag = tag;
    }
    t.compose_template = patch.compose_template.apply(t.compose_template);
    t.health_check_url = patch.health_check_url.apply(t.health_check_url);
    t.base_env = patch.base_env.apply(t.base_env);
    if let Some(d) = patch.deploy_strategy {
        t.deploy_strategy = d.as_str().to_string();
    }
    t.service_type_id = patch.service_type_id.apply(t.service_type_id);
    t.health_wait_ms = patch.health_wait_ms.unwrap_or(t.health_wait_ms);
    t.health_retries = patch.health_retries.unwrap_or(t.health_retries);
    t.health_interval_ms = patch.health_interval_ms.unwrap_or(t.health_interval_ms);
    t.exposed_ports = derive_ports(&t)?;
    if t == stored {
        return Ok(stored);
    }
    if t.name != stored.name {
        check_name(tx, &t.name, Some(id))?;
    }
    t.updated_at = who.now.clone();
    db::templates::update(tx, &t)?;
    who.updated(tx, EntityType::ServiceTemplate, &stored, &t)?;
    Ok(t)
}

pub fn delete(tx: &Transaction, who: &Writer, id: &str) -> ApiResult<()> {
    who.check_global_write()?;
    let t = db::templates::get(tx, id)?;
    who.deleted(tx, EntityType::ServiceTemplate, &t)?;
    db::templates::delete(tx, id)
}

/// Clears `serviceTypeId` of templates whose service type is deleted.
pub fn clear_type(tx: &Transaction, who: &Writer, ids: &[String]) -> ApiResult<()> {
    for id in ids {
        let stored = db::templates::get(tx, id)?;
        let mut t = stored.clone();
        t.service_type_id = None;
        t.updated_at = who.now.clone();
        db::templates::update(tx, &t)?;
        who.updated(tx, EntityType::ServiceTemplate, &stored, &t)?;
    }
    Ok(())
}
