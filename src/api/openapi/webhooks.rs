//! The OpenAPI description of webhooks.

use serde_json::json;

use super::{body, ok, operation, param_ref, tagged, Doc, READ_ERRORS, WRITE_ERRORS};
use crate::api::webhooks::WebhookBody;
use crate::db::webhooks::{Delivery, Webhook};
use crate::delivery::Sent;

const TAG: &str = "Webhooks";

impl Doc {
    pub(super) fn webhooks(&mut self, base: &str) {
        let record = self.add_schema::<Webhook>();
        let input = self.add_schema::<WebhookBody>();
        let delivery = self.add_schema::<Delivery>();
        let sent = self.add_schema::<Sent>();
        let one = self.envelope(&record);
        let page = self.page(&record);
        let deliveries = self.page(&delivery);
        let delivery_one = self.envelope(&delivery);
        let sent_one = self.envelope(&sent);
        let item = format!("{base}/{{id}}");
        let needs =
            "Needs: Admin; a key limited to networks only sees and writes hooks limited to \
                     its networks.";
        let writes = [READ_ERRORS, WRITE_ERRORS].concat();
        let page_params = vec![param_ref("Limit"), param_ref("Offset")];
        self.add(
            base,
            "get",
            operation(
                TAG,
                "list_webhooks",
                "List webhooks",
                needs,
                page_params.clone(),
                None,
                ok("200", "A page", &page),
                READ_ERRORS,
            ),
        );
        let mut created = ok("201", "Created", &one);
        created["201"]["headers"] = json!({"Location": {"description": "The new object's URL", "schema": {"type": "string"}}});
        self.add(
            base,
            "post",
            operation(
                TAG,
                "create_webhook",
                "Create a webhook",
                &format!(
                    "{needs} Every change the journal records that matches `events` (and, when \
                      given, `network_ids`) is delivered: POSTed with `X-Portolan-Event`, \
                      `X-Portolan-Delivery` (the event id, the same on every retry), \
                      `X-Portolan-Timestamp` and, with a secret, `X-Portolan-Signature-256: \
                      sha256=HMAC-SHA256(secret, timestamp + \".\" + body)`; retried with \
                      backoff for a day."
                ),
                vec![param_ref("IdempotencyKey")],
                Some(body(&input)),
                created,
                &writes,
            ),
        );
        self.add(
            &item,
            "get",
            operation(
                TAG,
                "get_webhook",
                "Get a webhook",
                needs,
                vec![param_ref("Id")],
                None,
                tagged(ok("200", "Found", &one)),
                READ_ERRORS,
            ),
        );
        self.add(
            &item,
            "put",
            operation(
                TAG,
                "update_webhook",
                "Replace a webhook",
                &format!("{needs} A secret left out keeps the stored one."),
                vec![
                    param_ref("Id"),
                    param_ref("IfMatch"),
                    param_ref("IdempotencyKey"),
                ],
                Some(body(&input)),
                tagged(ok("200", "Updated", &one)),
                &[writes.as_slice(), &["412"]].concat(),
            ),
        );
        self.add(
            &item,
            "delete",
            operation(
                TAG,
                "delete_webhook",
                "Delete a webhook",
                needs,
                vec![param_ref("Id")],
                None,
                ok("200", "Deleted", "DeletedEnvelope"),
                &writes,
            ),
        );
        let mut params = vec![param_ref("Id")];
        params.extend(page_params);
        self.add(&format!("{item}/deliveries"), "get", operation(TAG, "list_webhook_deliveries",
            "Deliveries of a webhook", &format!("{needs} Newest first: status, attempts, last answer and latency, next attempt."),
            params, None, ok("200", "A page", &deliveries), READ_ERRORS));
        let delivery_param = json!({"name": "delivery_id", "in": "path", "required": true,
                                    "schema": {"type": "string", "format": "uuid"}});
        self.add(
            &format!("{item}/deliveries/{{delivery_id}}/retry"),
            "post",
            operation(
                TAG,
                "retry_webhook_delivery",
                "Queue a failed delivery again",
                &format!("{needs} 409 unless the delivery failed."),
                vec![param_ref("Id"), delivery_param],
                None,
                ok("200", "Queued", &delivery_one),
                &[READ_ERRORS, &["409"]].concat(),
            ),
        );
        self.add(&format!("{item}/test"), "post", operation(TAG, "test_webhook", "Send a ping",
            &format!("{needs} Sends a `ping` event now and answers with the receiver's status and latency."),
            vec![param_ref("Id")], None, ok("200", "What the receiver answered", &sent_one), READ_ERRORS));
    }
}
