//! Consolidating two hosts.

use super::*;

impl Doc {
    pub(super) fn consolidate(&mut self, path: &str) {
        let host = self.envelope("Host");
        let other = json!({"name": "other_id", "in": "path", "required": true,
                           "description": "The host to merge into `id` and delete",
                           "schema": id_schema(true)});
        self.add(
            path,
            "put",
            operation(
                "Hosts",
                "consolidate_hosts",
                "Merge another host into this one",
                "Needs: Member, and both hosts' network. Moves the other host's IP addresses, \
                 ports and services (bindings intact) onto this host and deletes the other \
                 host, in one transaction. An address or port both have (same address; same \
                 number and protocol) becomes this host's, its bindings repointed; a result \
                 that breaks a binding rule is 409 with the binding in `params`, and nothing \
                 changes. Hosts in different networks: 400. Answers this host with its children.",
                vec![param_ref("Id"), other, param_ref("IdempotencyKey")],
                None,
                tagged(ok("200", "The merged host", &host)),
                &[READ_ERRORS, &["409"]].concat(),
            ),
        );
    }
}
