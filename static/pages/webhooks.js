// Webhooks (Admins): create, edit, test, and each hook's delivery log with retry.

import { call, fresh, get, text } from "/ui/api.js";
import { button, confirmDelete, el, panel, status } from "/ui/dom.js";
import { collection } from "/ui/table.js";
import { nameField } from "/pages/resources.js";
import { when } from "/pages/history.js";
import { render } from "/app.js";

export const webhookFields = () => [
  nameField,
  { name: "url", label: "URL", required: true, hint: "http:// or https://; for ntfy, the topic's URL" },
  { name: "events", label: "Events", hint: "Comma-separated patterns: binding.create, service.*, *.delete, or * for everything" },
  { name: "network_ids", label: "Networks (none selected: every network)", type: "networks" },
  { name: "format", label: "Format", type: "select", options: [["json", "JSON (the event)"], ["ntfy", "ntfy (a line of text)"], ["discord", "Discord"]] },
  { name: "secret", label: "Secret", hint: "16 to 256 characters; signs each request. Left empty when editing: kept." },
  { name: "enabled", label: "Enabled", type: "checkbox" },
];

export function webhookBody(data) {
  const body = { ...data, events: String(data.events || "*").split(",").map((e) => e.trim()).filter(Boolean) };
  if (!body.secret) delete body.secret;
  return body;
}

export async function deliveriesOf(hook, holder) {
  const list = await get("/api/v1/webhooks/" + encodeURIComponent(hook.id) + "/deliveries?limit=50");
  const rows = list.map((d) => el("tr", { "data-id": d.id },
    el("td", { text: when(d.created_at) }), el("td", { text: d.event_type }), el("td", { text: d.status }),
    el("td", { text: d.attempts }), el("td", { text: d.response_status == null ? (d.error || "") : d.response_status }),
    el("td", { text: d.latency_ms == null ? "" : d.latency_ms + " ms" }),
    el("td", { text: d.status === "pending" && d.next_attempt_at ? when(d.next_attempt_at) : "" }),
    el("td", { className: "actions" }, d.status === "failed" ? button("Retry", async () => {
      await call("POST", "/api/v1/webhooks/" + encodeURIComponent(hook.id) + "/deliveries/" + encodeURIComponent(d.id) + "/retry");
      holder.replaceChildren(await deliveriesOf(hook, holder));
    }) : null)));
  return el("section", { className: "panel", "aria-label": "Deliveries of " + hook.name },
    el("h3", { text: "Deliveries of " + hook.name }),
    el("table", {}, el("thead", {}, el("tr", {}, ["Queued", "Event", "Status", "Attempts", "Answer", "Latency", "Next attempt", ""].map((h) => el("th", { scope: "col", text: h })))),
      el("tbody", {}, rows)),
    button("Close", () => holder.replaceChildren()));
}

export function webhooksPage(params) {
  const save = (hook, holder) => async (data) => {
    if (hook) await call("PUT", "/api/v1/webhooks/" + encodeURIComponent(hook.id), webhookBody(data));
    else await call("POST", "/api/v1/webhooks", webhookBody(data));
    holder.replaceChildren();
    render();
  };
  return collection({
    route: "webhooks", title: "Webhooks", one: "webhook", path: "/api/v1/webhooks", search: false,
    columns: [
      { label: "Name", cell: (h) => h.name },
      { label: "URL", cell: (h) => h.url },
      { label: "Events", cell: (h) => h.events.join(", ") },
      { label: "State", cell: (h) => (h.enabled ? "enabled" : "disabled") + (h.failing_since ? ", failing since " + when(h.failing_since) : "") +
        (h.last_delivery_status ? ", last answer " + h.last_delivery_status : "") },
      { label: "", cell: (h) => el("span", {},
        button("Test", async (event) => {
          const res = await call("POST", "/api/v1/webhooks/" + encodeURIComponent(h.id) + "/test");
          status("Ping to " + h.name + ": " + (res.data.status ? "answered " + res.data.status : res.data.error) + " in " + res.data.latency_ms + " ms.");
          event.target.blur();
        }),
        button("Deliveries", async () => {
          const holder = document.getElementById("webhook-deliveries");
          holder.replaceChildren(await deliveriesOf(h, holder));
        })) },
    ],
    create: (holder) => panel("New webhook", webhookFields(), { events: "*", format: "json", enabled: true }, save(null, holder)),
    edit: async (h, holder) => {
      const hook = await fresh("/api/v1/webhooks/" + encodeURIComponent(h.id));
      return panel("Edit webhook", webhookFields(), { ...hook, events: hook.events.join(", ") }, save(hook, holder));
    },
    remove: (h) => confirmDelete("webhook " + h.name, "/api/v1/webhooks/" + encodeURIComponent(h.id)),
    after: () => el("div", { id: "webhook-deliveries" }),
  }, params);
}
