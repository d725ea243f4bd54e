//! The OpenAPI description of the full export and import.

use serde_json::json;

use super::{filter, ok, operation, Doc, Filter, READ_ERRORS, WRITE_ERRORS};
use crate::ops::full_import::ImportReport;

const TAG: &str = "Export and import";

impl Doc {
    pub(super) fn full_export(&mut self, export: &str, import: &str) {
        let report = self.add_schema::<ImportReport>();
        let answer = self.envelope(&report);
        let needs = "Needs: Owner, with a key of every network (the document is the whole \
                     database).";
        let mut op = operation(
            TAG,
            "export_inventory",
            "Export the whole inventory",
            &format!(
                "{needs} One JSON document (`format`: `portolan-export`, `version`: 1): a section \
                 per kind of object (tags, custom service types, networks, subnets, hosts, IP \
                 addresses, ports, services, bindings, dependencies, templates, webhooks), each \
                 an array of the stored rows with their ids and times, tag assignments as \
                 `tag_ids`. No API keys and no webhook secrets. `with_history=true` adds the \
                 closed versions and the journal. Streamed from one snapshot; not wrapped in the \
                 envelope."
            ),
            vec![filter(
                "with_history",
                Filter::Flag,
                "Add closed versions and the journal.",
            )],
            None,
            json!({"200": {"description": "The document (sent as an attachment)",
                "content": {"application/json": {"schema": {"type": "object",
                    "required": ["format", "version"],
                    "properties": {"format": {"type": "string", "enum": ["portolan-export"]},
                                   "version": {"type": "integer"}}}}}}}),
            READ_ERRORS,
        );
        op["responses"]["200"]["headers"] = json!({"Content-Disposition": {
            "description": "attachment; filename=\"portolan-export-DATE.json\"",
            "schema": {"type": "string"}}});
        self.add(export, "get", op);
        self.add(
            import,
            "post",
            operation(
                TAG,
                "import_inventory",
                "Import an exported document",
                &format!(
                    "{needs} Loads a document `GET /api/v1/export` wrote, in one transaction, with \
                     the ids it carries: every value checked against its field, every reference, \
                     name and binding rule checked as the API checks them. All of it or nothing: \
                     the first error answers with `field` the path into the document \
                     (`bindings[12].port_id`). A document of a newer format version is refused \
                     (`field`: `version`). Into a database without networks and tags, the \
                     document's organization id is kept. Imported webhooks have no secret and \
                     hear only what happens after the import; their URLs pass the webhook API's \
                     address rules. Journal entries of the document keep their actor and are \
                     marked `imported: true`; the import itself is one journal entry (action \
                     `import`, entity type `inventory`, the counts in `after`). A document \
                     larger than PORTOLAN_IMPORT_MAX_MB is refused with 413. `dry_run=true` \
                     checks and reports, writing nothing."
                ),
                vec![filter(
                    "dry_run",
                    Filter::Flag,
                    "Check everything and report; write nothing.",
                )],
                Some(
                    json!({"required": true, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["format", "version"],
                    "properties": {"format": {"type": "string", "enum": ["portolan-export"]},
                                   "version": {"type": "integer"}}}}}}),
                ),
                ok(
                    "200",
                    "What was (or, on a dry run, would be) created",
                    &answer,
                ),
                &[READ_ERRORS, WRITE_ERRORS].concat(),
            ),
        );
    }
}
