//! Service templates and their strict PATCH.

use super::*;

impl Doc {
    pub(super) fn templates(&mut self, base: &str) {
        let record = self.add_schema::<db::templates::Template>();
        let create_input = self.add_schema::<TemplateInput>();
        let patch_input = self.add_schema::<TemplatePatch>();
        let f = Family::new(
            self,
            "Service templates",
            "service_template",
            "a service template",
            base,
            &record,
            true,
        );
        let needs = "Needs: Member; keys scoped to networks may not write templates.";
        let writes = [READ_ERRORS, WRITE_ERRORS, &["422"]].concat();
        let mut params =
            page_params(&[crate::api::templates::ORDER_BY, &["createdAt", "updatedAt"]].concat());
        params.push(filter(
            "serviceTypeId",
            Filter::Text,
            "Only of this service type.",
        ));
        params.push(filter(
            "q",
            Filter::Text,
            "Case-insensitive substring of the name.",
        ));
        self.add(base, "get", f.list("Needs: Viewer.", params));
        self.add(
            base,
            "post",
            f.create(needs, &create_input, ("Created", &f.envelope), &writes),
        );
        self.add(&f.item, "get", f.get("Needs: Viewer."));
        let mut patch = f.change(
            "patch",
            "Change some fields of",
            &format!(
                "{needs} Fields left out keep their values; null clears a nullable field. \
                 Read-only fields are refused with 422 READONLY_FIELD, before the template \
                 is looked up."
            ),
            &patch_input,
            &writes,
        );
        set_example(&mut patch, "003", SEED_003);
        self.add(&f.item, "patch", patch);
        self.add(&f.item, "delete", f.delete(needs, false));
    }
}

/// A new template. `name` and `containerImageId` are required.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
#[allow(dead_code)]
pub(super) struct TemplateInput {
    #[schema(min_length = 1, max_length = 100)]
    name: String,
    #[schema(min_length = 1)]
    container_image_id: String,
    image_tag: Option<String>,
    /// A Compose file with a `services` mapping; `${VAR}`s are filled from `baseEnv`.
    compose_template: Option<String>,
    /// An absolute http(s) URL.
    health_check_url: Option<String>,
    #[schema(value_type = Option<Object>)]
    base_env: Option<Map<String, Value>>,
    deploy_strategy: Option<String>,
    service_type_id: Option<String>,
    #[schema(minimum = 0, maximum = 3_600_000)]
    health_wait_ms: Option<i64>,
    #[schema(minimum = 1, maximum = 100)]
    health_retries: Option<i64>,
    #[schema(minimum = 0, maximum = 3_600_000)]
    health_interval_ms: Option<i64>,
}

/// A partial change: only the fields given are changed.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
#[allow(dead_code)]
pub(super) struct TemplatePatch {
    #[schema(min_length = 1, max_length = 100, nullable = false)]
    name: Option<String>,
    #[schema(min_length = 1, nullable = false)]
    container_image_id: Option<String>,
    #[schema(nullable = false)]
    image_tag: Option<String>,
    compose_template: Option<String>,
    health_check_url: Option<String>,
    #[schema(value_type = Option<Object>)]
    base_env: Option<Map<String, Value>>,
    #[schema(nullable = false)]
    deploy_strategy: Option<String>,
    service_type_id: Option<String>,
    #[schema(minimum = 0, maximum = 3_600_000, nullable = false)]
    health_wait_ms: Option<i64>,
    #[schema(minimum = 1, maximum = 100, nullable = false)]
    health_retries: Option<i64>,
    #[schema(minimum = 0, maximum = 3_600_000, nullable = false)]
    health_interval_ms: Option<i64>,
}
