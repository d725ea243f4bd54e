//! The organization.

use super::*;

impl Doc {
    pub(super) fn organizations(&mut self, base: &str) {
        let record = self.add_schema::<db::organizations::Organization>();
        let page = self.page(&record);
        self.add(
            base,
            "get",
            operation(
                "Organizations",
                "list_organizations",
                "The server's organization",
                "Needs: Viewer. One implicit organization per server, for clients of the \
                 peer's 0.17 API; networks and tags carry its id as `organization_id`.",
                vec![],
                None,
                ok("200", "The one organization", &page),
                READ_ERRORS,
            ),
        );
    }
}
