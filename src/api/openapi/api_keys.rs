//! API keys and who am I.

use super::*;
use crate::api::api_keys;

impl Doc {
    pub(super) fn api_keys(&mut self, base: &str) {
        let record = self.add_schema::<db::api_keys::ApiKey>();
        let input = self.add_schema::<api_keys::ApiKeyBody>();
        let created_key = self.add_schema::<crate::ops::api_keys::CreatedKey>();
        let created = self.envelope(&created_key);
        self.schemas.insert(
            "RotatedKey".into(),
            json!({"type": "string", "description": "The new secret, shown this once."}),
        );
        let rotated = self.envelope("RotatedKey");
        let me = self.add_schema::<api_keys::Me>();
        let me_envelope = self.envelope(&me);
        let f = Family::new(
            self,
            "API keys",
            "api_key",
            "an API key",
            base,
            &record,
            true,
        );
        let needs = "Needs: Admin; only an Owner manages Owner keys, and only an Owner rotates \
                     another Admin's key. The secret is shown once, in the answer to create and \
                     rotate, and never stored: a replay of the request (same `Idempotency-Key`) \
                     answers the same status with the secret as `**********` and `meta.hint`.";
        let writes = [READ_ERRORS, WRITE_ERRORS].concat();
        self.add(
            base,
            "get",
            f.list(
                "Needs: Admin.",
                vec![param_ref("Limit"), param_ref("Offset")],
            ),
        );
        self.add(
            base,
            "post",
            f.create(
                needs,
                &input,
                ("Created; `key` holds the secret, this once", &created),
                &writes,
            ),
        );
        self.add(
            &format!("{base}/{{id}}/rotate"),
            "post",
            operation(
                f.tag,
                "rotate_api_key",
                "Replace an API key's secret",
                needs,
                vec![param_ref("Id"), param_ref("IdempotencyKey")],
                None,
                ok(
                    "200",
                    "Rotated; `data` is the new secret, shown this once",
                    &rotated,
                ),
                &writes,
            ),
        );
        self.add(
            "/api/v1/auth/me",
            "get",
            operation(
                f.tag,
                "who_am_i",
                "The calling key's id, role and networks",
                "Needs: any valid key.",
                vec![],
                None,
                ok("200", "The caller", &me_envelope),
                &["401", "429", "503"],
            ),
        );
        self.add(&f.item, "get", f.get("Needs: Admin."));
        self.add(
            &f.item,
            "put",
            f.change("update", "Replace the settings of", needs, &input, &writes),
        );
        self.add(&f.item, "delete", f.delete(needs, false));
    }
}
