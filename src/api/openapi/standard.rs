//! The standard surface of a resource: its operations, parameters, examples and links.

use super::*;

impl Doc {
    pub(super) fn standard(&mut self, r: &Surface) {
        let record = (r.record)(self);
        let input = (r.input)(self);
        let f = Family::new(self, r.tag, r.one, r.noun, r.base, &record, r.uuid_ids);
        let needs = format!("Needs: {}", r.write);
        let writes = [READ_ERRORS, WRITE_ERRORS].concat();

        let mut params = page_params(r.order_by);
        params.extend(
            r.filters
                .iter()
                .map(|(name, kind, about)| filter(name, *kind, about)),
        );
        if r.versioned {
            params.push(param_ref("At"));
        }
        self.add(
            r.base,
            "get",
            f.list(
                "Needs: Viewer. Keys scoped to networks see only their networks.",
                params,
            ),
        );
        let mut create = f.create(&needs, &input, ("Created", &f.envelope), &writes);
        if r.base == "/api/v1/bindings" {
            set_example(&mut create, "002", SEED_002);
            create["responses"]["200"] = json!({
                "description": "Already covered by an existing binding, which is returned",
                "content": {"application/json": {"schema": schema_ref(&f.envelope)}}});
        }
        self.add(r.base, "post", create);
        self.add(
            &format!("{}/bulk-delete", r.base),
            "post",
            operation(
                r.tag,
                &format!("bulk_delete_{}", plural(r.one)),
                &format!("Delete several {}", r.tag.to_lowercase()),
                &format!("{needs} All or nothing; ids that do not exist are skipped."),
                vec![param_ref("Cascade"), param_ref("IdempotencyKey")],
                Some(
                    json!({"required": true, "content": {"application/json": {"schema":
                    {"type": "array", "minItems": 1, "items": id_schema(r.uuid_ids)}}}}),
                ),
                ok("200", "Deleted", "BulkDeletedEnvelope"),
                &writes,
            ),
        );
        let mut get = f.get("Needs: Viewer.");
        if r.versioned {
            push_param(&mut get, param_ref("At"));
            self.add(
                &format!("{}/history", f.item),
                "get",
                f.history(
                    "Needs: Viewer. Every version of the object, the live one first, then newest \
                     first; also after a delete. Scope follows the newest version.",
                ),
            );
        }
        self.add(&f.item, "get", get);
        let mut update = f.change(
            "update",
            "Replace",
            &format!("{needs} Fields left out take their defaults."),
            &input,
            &writes,
        );
        match r.base {
            "/api/v1/services" => set_example(&mut update, "000", SEED_000),
            "/api/v1/bindings" => set_example(&mut update, "001", SEED_001),
            _ => {}
        }
        self.add(&f.item, "put", update);
        self.add(
            &f.item,
            "delete",
            f.delete(
                &format!(
                    "{needs} Refused with 409 while other objects use it, unless cascade=true."
                ),
                true,
            ),
        );
    }
}

/// The operations every collection has, named after one object of it (`get_host`, ...).
pub(super) struct Family<'a> {
    pub(super) tag: &'a str,
    /// Snake case, for operation ids: "ip_address".
    pub(super) one: &'a str,
    /// With its article, for summaries: "an IP address".
    pub(super) noun: &'a str,
    pub(super) item: String,
    pub(super) id_param: &'static str,
    pub(super) envelope: String,
    pub(super) page: String,
}

impl<'a> Family<'a> {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new(
        doc: &mut Doc,
        tag: &'a str,
        one: &'a str,
        noun: &'a str,
        base: &str,
        record: &str,
        uuid_ids: bool,
    ) -> Family<'a> {
        Family {
            tag,
            one,
            noun,
            item: format!("{base}/{{id}}"),
            id_param: if uuid_ids { "Id" } else { "Name" },
            envelope: doc.envelope(record),
            page: doc.page(record),
        }
    }

    /// "Networks" -> "networks", "API keys" stays.
    pub(super) fn plural(&self) -> String {
        let mut chars = self.tag.chars();
        match (chars.next(), chars.next()) {
            (Some(first), Some(second)) if second.is_lowercase() => {
                first.to_lowercase().chain(self.tag[1..].chars()).collect()
            }
            _ => self.tag.to_string(),
        }
    }

    pub(super) fn list(&self, needs: &str, params: Vec<Value>) -> Value {
        operation(
            self.tag,
            &format!("list_{}", plural(self.one)),
            &format!("List {}", self.plural()),
            needs,
            params,
            None,
            ok("200", "A page", &self.page),
            READ_ERRORS,
        )
    }

    /// 201 with `Location` and links to read, change and delete what was created.
    pub(super) fn create(
        &self,
        needs: &str,
        input: &str,
        answer: (&str, &str),
        errors: &[&str],
    ) -> Value {
        let mut created = ok("201", answer.0, answer.1);
        created["201"]["headers"] = json!({"Location": {"description": "The new object's URL",
            "schema": {"type": "string"}}});
        created["201"]["links"] = item_links(self.one);
        operation(
            self.tag,
            &format!("create_{}", self.one),
            &format!("Create {}", self.noun),
            needs,
            vec![param_ref("IdempotencyKey")],
            Some(body(input)),
            created,
            errors,
        )
    }

    pub(super) fn get(&self, needs: &str) -> Value {
        operation(
            self.tag,
            &format!("get_{}", self.one),
            &format!("Get {}", self.noun),
            needs,
            vec![param_ref(self.id_param)],
            None,
            tagged(ok("200", "Found", &self.envelope)),
            READ_ERRORS,
        )
    }

    /// PUT (`update`) or PATCH (`patch`) of one object.
    pub(super) fn change(
        &self,
        verb: &str,
        what: &str,
        needs: &str,
        input: &str,
        errors: &[&str],
    ) -> Value {
        operation(
            self.tag,
            &format!("{verb}_{}", self.one),
            &format!("{what} {}", self.noun),
            needs,
            vec![
                param_ref(self.id_param),
                param_ref("IfMatch"),
                param_ref("IdempotencyKey"),
            ],
            Some(body(input)),
            tagged(ok("200", "Updated", &self.envelope)),
            &[errors, &["412"]].concat(),
        )
    }

    pub(super) fn history(&self, needs: &str) -> Value {
        operation(
            self.tag,
            &format!("get_{}_history", self.one),
            &format!("Versions of {}", self.noun),
            needs,
            vec![
                param_ref(self.id_param),
                param_ref("Limit"),
                param_ref("Offset"),
            ],
            None,
            ok("200", "A page of versions", &self.page),
            READ_ERRORS,
        )
    }

    pub(super) fn delete(&self, needs: &str, cascade: bool) -> Value {
        let mut params = vec![param_ref(self.id_param), param_ref("IfMatch")];
        if cascade {
            params.push(param_ref("Cascade"));
        }
        operation(
            self.tag,
            &format!("delete_{}", self.one),
            &format!("Delete {}", self.noun),
            needs,
            params,
            None,
            ok("200", "Deleted", "DeletedEnvelope"),
            &[READ_ERRORS, WRITE_ERRORS, &["412"]].concat(),
        )
    }
}
