//! Tagging many objects at once.

use super::*;

impl Doc {
    pub(super) fn tag_assignments(&mut self, base: &str) {
        let bulk_body = self.add_schema::<crate::api::tag_assignments::BulkTagBody>();
        let assign_body = self.add_schema::<crate::api::tag_assignments::AssignTagsBody>();
        let affected = self.add_schema::<crate::api::tag_assignments::Affected>();
        let affected = self.envelope(&affected);
        self.schemas.insert(
            "AssignedTags".into(),
            json!({"type": "object", "required": ["entity_id", "tag_ids"], "properties": {
                "entity_id": {"type": "string", "format": "uuid"},
                "tag_ids": {"type": "array", "items": {"type": "string", "format": "uuid"}}}}),
        );
        let assigned = self.envelope("AssignedTags");
        let writes = [READ_ERRORS, WRITE_ERRORS].concat();
        let scope = "Needs: Member. Networks need an unscoped key; other objects must lie in the \
                     key's networks (403). An unknown tag or object is 404 and nothing changes.";
        for (verb, what) in [("add", "Add a tag to"), ("remove", "Remove a tag from")] {
            self.add(
                &format!("{base}/bulk-{verb}"),
                "post",
                operation(
                    "Tags",
                    &format!("bulk_{verb}_tag"),
                    &format!("{what} many objects"),
                    &format!(
                        "{scope} Objects that already have (or lack) the tag are skipped and \
                         not counted. One transaction."
                    ),
                    vec![param_ref("IdempotencyKey")],
                    Some(body(&bulk_body)),
                    ok("200", "How many objects changed", &affected),
                    &writes,
                ),
            );
        }
        self.add(
            base,
            "put",
            operation(
                "Tags",
                "set_tags",
                "Replace the tags of one object",
                scope,
                vec![param_ref("IdempotencyKey")],
                Some(body(&assign_body)),
                ok("200", "The object's tags now", &assigned),
                &writes,
            ),
        );
    }
}
