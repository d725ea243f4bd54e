// Service types and templates.

import { ApiError, call, fresh, get, text } from "/ui/api.js";
import { clearErrors, confirmDelete, el, formField, isAdmin, panel, show, showError, status } from "/ui/dom.js";
import { choices, collection, link } from "/ui/table.js";
import { descriptionField, nameField, pages } from "/pages/resources.js";
import { forgetServiceTypes } from "/pages/host.js";
import { deploySection } from "/pages/deployments.js";
import { render } from "/app.js";

// ---- service types ----------------------------------------------------------------------------

export const serviceTypeFields = [
  nameField, { name: "category", label: "Category", required: true }, descriptionField,
  { name: "default_ports", label: "Default ports", type: "json", hint: 'JSON, for example [{"number": 8096, "protocol": "Tcp"}]' },
];

pages["service-types"] = (params) => collection({
  route: "service-types", title: "Service types", one: "service type", path: "/api/v1/service-types",
  columns: [
    { label: "Name", cell: (t) => t.id },
    { label: "Category", sort: "category", cell: (t) => t.category },
    { label: "Default ports", cell: (t) => t.default_ports.map((p) => p.number + "/" + p.protocol).join(", ") },
    { label: "", cell: (t) => (t.builtin ? "built-in" : "custom") },
  ],
  create: isAdmin() ? (holder) => panel("New service type", serviceTypeFields, {}, async (data) => {
    await call("POST", "/api/v1/service-types", { ...data, default_ports: data.default_ports || [] });
    forgetServiceTypes();
    holder.replaceChildren();
    render();
  }) : null,
  canRemove: (t) => !t.builtin,
  canEdit: (t) => !t.builtin,
  edit: isAdmin() ? async (t, holder) => panel("Edit service type " + t.id, serviceTypeFields.slice(1), await fresh("/api/v1/service-types/" + encodeURIComponent(t.id)), async (data) => {
    await call("PUT", "/api/v1/service-types/" + encodeURIComponent(t.id), { ...data, name: t.id, default_ports: data.default_ports || [] });
    forgetServiceTypes();
    holder.replaceChildren();
    render();
  }) : null,
  remove: isAdmin() ? (t) => confirmDelete("service type " + t.id, "/api/v1/service-types/" + encodeURIComponent(t.id)) : null,
}, params);

// ---- templates --------------------------------------------------------------------------------

export const templateFields = () => [
  nameField,
  { name: "containerImageId", label: "Container image", required: true, hint: "Without tag, e.g. lscr.io/linuxserver/jellyfin" },
  { name: "imageTag", label: "Image tag" },
  { name: "composeTemplate", label: "Compose template", type: "textarea" },
  { name: "healthCheckUrl", label: "Health check URL" },
  { name: "baseEnv", label: "Base environment (JSON object)", type: "json" },
  { name: "deployStrategy", label: "Deploy strategy", type: "select", options: choices("TemplateInput", "deployStrategy") },
  { name: "serviceTypeId", label: "Service type" },
  { name: "healthWaitMs", label: "Health wait (ms)", type: "number" },
  { name: "healthRetries", label: "Health retries", type: "number" },
  { name: "healthIntervalMs", label: "Health interval (ms)", type: "number" },
];

pages.templates = (params) => collection({
  route: "templates", title: "Service templates", one: "template", path: "/api/v1/service-templates",
  columns: [
    { label: "Name", sort: "name", cell: (t) => link(t.name, "#/template/" + encodeURIComponent(t.id)) },
    { label: "Image", cell: (t) => t.containerImageId + ":" + t.imageTag },
    { label: "Exposed ports", cell: (t) => t.exposedPorts.map((p) => (p.hostPort || "*") + "→" + p.containerPort + "/" + p.protocol).join(", ") },
  ],
  create: (holder) => panel("New template", templateFields(), { deployStrategy: "sequential" }, async (data) => {
    const body = Object.fromEntries(Object.entries(data).filter(([, v]) => v !== null));
    const res = await call("POST", "/api/v1/service-templates", body);
    holder.replaceChildren();
    location.hash = "#/template/" + encodeURIComponent(res.data.id);
  }),
  remove: (t) => confirmDelete("template " + t.name, "/api/v1/service-templates/" + encodeURIComponent(t.id)),
}, params);

export async function templatePage(id) {
  const t = await get("/api/v1/service-templates/" + encodeURIComponent(id));
  const exposed = el("div", { className: "field", "data-field": "exposedPorts" },
    el("label", { text: "Exposed ports (derived from the compose template, read-only)" }),
    el("table", {}, el("thead", {}, el("tr", {}, ["Host port", "Container port", "Protocol"].map((h) => el("th", { scope: "col", text: h })))),
      el("tbody", {}, t.exposedPorts.map((p) => el("tr", {}, el("td", { text: p.hostPort == null ? "any" : p.hostPort }), el("td", { text: p.containerPort }), el("td", { text: p.protocol }))))),
    el("p", { className: "error", role: "alert" }));
  const readOnly = el("div", {}, exposed,
    formField({ name: "composePath", label: "Compose path (read-only)", readonly: true }, t.composePath));
  // PATCH sends only what changed.
  const form = panel("Edit template (PATCH)", templateFields(), t, async (data) => {
    const changes = {};
    for (const [k, v] of Object.entries(data)) if (JSON.stringify(v) !== JSON.stringify(t[k] === undefined ? null : t[k])) changes[k] = v;
    if (Object.keys(changes).length === 0) return status("Nothing changed.");
    await call("PATCH", "/api/v1/service-templates/" + encodeURIComponent(t.id), changes);
    status("Saved.");
    render();
  }, readOnly);
  form.querySelector(".row button:last-child").remove();
  const raw = panel("Send a raw PATCH body", [{ name: "patch", label: "JSON body", type: "json", hint: "Any fields, sent as they are." }], {}, async (data, rawForm) => {
    try {
      await call("PATCH", "/api/v1/service-templates/" + encodeURIComponent(t.id), data.patch || {});
    } catch (e) {
      // Errors name the template's fields: show them on this template's form as well.
      if (e instanceof ApiError) {
        clearErrors(form);
        showError(form, e);
        rawForm.querySelector(".form-error").textContent = (e.body.code ? e.body.code + ": " : "") + e.message + (e.body.hint ? " " + e.body.hint : "");
        return;
      }
      throw e;
    }
    status("Saved.");
    render();
  });
  raw.querySelector(".row button:last-child").remove();
  show(el("h2", { text: t.name }), el("p", { className: "muted", text: "Template " + t.id }), await deploySection(t), form, raw);
}
