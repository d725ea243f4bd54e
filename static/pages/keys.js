// API keys (Admins).

import { call, session, text } from "/ui/api.js";
import { button, confirmDelete, el, panel, view } from "/ui/dom.js";
import { choices, collection, networkName } from "/ui/table.js";
import { nameField, pages } from "/pages/resources.js";
import { render } from "/app.js";

// ---- API keys ---------------------------------------------------------------------------------

export const roleOptions = () => choices("ApiKey", "permissions").filter(([r]) => r !== "Owner" || session.me.role === "Owner");

pages.keys = (params) => {
  const secret = (title, key) => el("div", { className: "dialog-note", role: "alert" }, el("p", { text: title + " Copy it now: it is not shown again." }), el("code", { className: "secret", text: key }));
  const keyFields = () => [nameField, { name: "permissions", label: "Role", type: "select", options: roleOptions() },
    { name: "network_ids", label: "Networks (none selected: every network)", type: "networks" },
    { name: "expires_at", label: "Expires at", hint: "RFC 3339, e.g. 2027-01-01T00:00:00Z; empty: never" },
    { name: "is_enabled", label: "Enabled", type: "checkbox" }];
  return collection({
    route: "keys", title: "API keys", one: "key", path: "/api/v1/auth/keys", search: false,
    columns: [
      { label: "Name", cell: (k) => k.name },
      { label: "Role", cell: (k) => k.permissions },
      { label: "Networks", cell: (k) => (k.network_ids.length ? k.network_ids.map(networkName).join(", ") : "all") },
      { label: "State", cell: (k) => (k.is_enabled ? "enabled" : "disabled") + (k.expires_at ? ", expires " + k.expires_at : "") },
      { label: "Last used", cell: (k) => k.last_used || "never" },
      { label: "", cell: (k) => el("span", {}, button("Rotate", async () => {
        if (!window.confirm("Replace the secret of " + k.name + "? The old one stops working.")) return;
        const res = await call("POST", "/api/v1/auth/keys/" + encodeURIComponent(k.id) + "/rotate");
        await render();
        document.getElementById("key-holder").replaceChildren(secret("New secret for " + k.name + ".", res.data));
      }), button(k.is_enabled ? "Disable" : "Enable", async () => {
        await call("PUT", "/api/v1/auth/keys/" + encodeURIComponent(k.id), { name: k.name, permissions: k.permissions, network_ids: k.network_ids, expires_at: k.expires_at, is_enabled: !k.is_enabled });
        render();
      })) },
    ],
    create: (holder) => panel("New API key", keyFields(), { permissions: "Viewer", is_enabled: true }, async (data) => {
      const res = await call("POST", "/api/v1/auth/keys", data);
      await render();
      document.getElementById("key-holder").replaceChildren(secret("Key " + res.data.api_key.name + " created.", res.data.key));
    }),
    edit: (k, holder) => panel("Edit API key", keyFields(), k, async (data) => {
      await call("PUT", "/api/v1/auth/keys/" + encodeURIComponent(k.id), data);
      holder.replaceChildren();
      render();
    }),
    remove: (k) => confirmDelete("key " + k.name, "/api/v1/auth/keys/" + encodeURIComponent(k.id)),
  }, params).then(() => {
    const holder = el("div", { id: "key-holder" });
    view().insertBefore(holder, view().children[2]);
  });
};
