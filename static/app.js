// Portolan's web UI: plain DOM, no build step, no asset from outside the server. Values from the
// API go in with textContent, never as HTML. The key lives in this tab's sessionStorage only.
"use strict";

const KEY = "portolan-key";
const PAGE_SIZE = 25;
const session = { me: null, networks: [], tags: [], schemas: {}, doc: null };

// ---- API ----------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || "HTTP " + status);
    this.status = status;
    this.body = body || {};
  }
}

// The ETag of each object this tab has read, by path: every edit sends it as If-Match, so a save
// over someone else's change is refused (412) instead of silently undoing it.
const etags = new Map();
const objectPath = (path) => path.split("?")[0];

async function call(method, path, body) {
  const headers = { Authorization: "Bearer " + sessionStorage.getItem(KEY) };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const target = objectPath(path);
  if (method !== "GET" && method !== "POST" && etags.has(target)) headers["If-Match"] = etags.get(target);
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  let payload = null;
  try {
    payload = await res.json();
  } catch (_) {
    payload = null;
  }
  if (res.status === 401 && path !== "/api/v1/auth/me") {
    signOut("Your key was refused; sign in again.");
  }
  if (res.status === 412) {
    etags.delete(target);
    throw new ApiError(412, { ...payload, field: null, hint: null,
      message: "Someone else changed this since you opened it. Reload the page to see their version, then make your change again." });
  }
  if (!res.ok || !payload || payload.success === false) throw new ApiError(res.status, payload);
  const tag = res.headers.get("ETag");
  if (method === "DELETE") etags.delete(target);
  else if (tag && (method !== "GET" || path === target)) etags.set(method === "POST" ? target + "/" + payload.data.id : target, tag);
  return payload;
}

const get = async (path) => (await call("GET", path)).data;
// A document that is not JSON (the map as SVG or Mermaid), with the key; errors as from `call`.
async function text(path) {
  const res = await fetch(path, { headers: { Authorization: "Bearer " + sessionStorage.getItem(KEY) } });
  if (!res.ok) {
    let body = null;
    try {
      body = await res.json();
    } catch (_) {
      body = null;
    }
    throw new ApiError(res.status, body);
  }
  return res.text();
}
const everything = (path) => get(path + (path.includes("?") ? "&" : "?") + "limit=0");
// An object as stored now, read when its edit form opens, so that the form starts from the
// latest state and its save carries that state's ETag.
const fresh = (path) => get(path);

// ---- DOM helpers ---------------------------------------------------------------------------

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k === "text") node.textContent = String(v);
    else if (k === "className") node.className = v;
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

const button = (text, onclick, className) => el("button", { type: "button", onclick, className }, text);
const view = () => document.getElementById("view");
const status = (message) => (document.getElementById("status").textContent = message || "");
const byId = (items) => new Map(items.map((i) => [i.id, i]));
const canWrite = () => session.me && session.me.role !== "Viewer";
const isAdmin = () => session.me && (session.me.role === "Admin" || session.me.role === "Owner");

function show(...nodes) {
  view().replaceChildren(...nodes.filter((n) => n !== null && n !== undefined && n !== false));
}

// ---- forms ---------------------------------------------------------------------------------

// A field: {name, label, type: text|textarea|number|select|checkbox|tags|networks|json, options,
// required, hint}. `name` is the API's field name, so that an error's `field` finds its input.
function formField(f, value) {
  const id = "f-" + f.name.replace(/[^a-zA-Z0-9]/g, "-") + "-" + Math.random().toString(36).slice(2, 7);
  const wrap = el("div", { className: "field", "data-field": f.name });
  let input;
  if (f.type === "textarea" || f.type === "json") {
    input = el("textarea", { id, name: f.name, readonly: f.readonly });
    input.value = f.type === "json" ? (value == null ? "" : JSON.stringify(value, null, 2)) : value || "";
  } else if (f.type === "select") {
    input = el("select", { id, name: f.name });
    for (const [v, label] of f.options) input.append(el("option", { value: v, text: label }));
    input.value = value == null ? f.options[0][0] : value;
  } else if (f.type === "checkbox") {
    input = el("input", { id, name: f.name, type: "checkbox" });
    input.checked = !!value;
  } else if (f.type === "tags" || f.type === "networks") {
    const items = f.type === "tags" ? session.tags : session.networks;
    input = el("select", { id, name: f.name, multiple: true, size: Math.min(5, Math.max(2, items.length)) });
    for (const item of items) {
      const option = el("option", { value: item.id, text: item.name });
      option.selected = (value || []).includes(item.id);
      input.append(option);
    }
  } else {
    input = el("input", { id, name: f.name, type: f.type === "number" ? "number" : "text", readonly: f.readonly, list: f.list });
    input.value = value == null ? "" : value;
  }
  if (f.required) input.required = true;
  wrap.append(el("label", { for: id, text: f.label }), input);
  if (f.hint) wrap.append(el("p", { className: "hint", text: f.hint }));
  wrap.append(el("p", { className: "error", role: "alert" }));
  return wrap;
}

function readField(form, f) {
  const input = form.querySelector('[data-field="' + f.name + '"] [name]');
  if (!input) return undefined;
  if (f.type === "checkbox") return input.checked;
  if (f.type === "tags" || f.type === "networks") return [...input.selectedOptions].map((o) => o.value);
  const v = input.value.trim();
  if (f.type === "number") return v === "" ? null : Number(v);
  if (f.type === "json") {
    if (v === "") return null;
    try {
      return JSON.parse(v);
    } catch (_) {
      throw new ApiError(400, { code: "VALIDATION_ERROR", field: f.name, message: f.label + " is not valid JSON" });
    }
  }
  if (f.type === "select") return v;
  return v === "" ? null : v;
}

function clearErrors(form) {
  form.querySelectorAll(".invalid").forEach((n) => n.classList.remove("invalid"));
  form.querySelectorAll(".error").forEach((n) => (n.textContent = ""));
}

// Puts an API error next to the input or binding it names, with its hint; otherwise at the top.
function showError(form, error) {
  const body = error.body || {};
  const text = (body.message || error.message) + (body.hint ? " " + body.hint : "");
  const field = body.field || "";
  const binding = /^bindings\[(\d+)\]/.exec(field);
  let target = null;
  if (binding) target = form.querySelectorAll(".binding")[Number(binding[1])];
  if (!target && field) {
    target = form.querySelector('[data-field="' + CSS.escape(field) + '"]') ||
      form.querySelector('[data-field="' + CSS.escape(field.split(/[.[]/)[0]) + '"]');
  }
  if (target) {
    target.classList.add("invalid");
    target.querySelector(".error").textContent = text;
    const focusable = target.querySelector("input, select, textarea");
    if (focusable) focusable.focus();
  } else {
    form.querySelector(".form-error").textContent = text;
  }
}

// A form that sends `build(values)` with `submit` and reports errors in place.
function panel(title, fields, values, submit, extra) {
  const form = el("form", { className: "panel", novalidate: true, "aria-label": title });
  form.append(el("h3", { text: title }), el("p", { className: "error form-error", role: "alert" }));
  for (const f of fields) form.append(formField(f, values ? values[f.name] : undefined));
  if (extra) form.append(extra);
  form.append(el("div", { className: "row" }, el("button", { type: "submit", className: "primary" }, "Save"),
    button("Cancel", () => form.remove())));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    try {
      const data = {};
      for (const f of fields) {
        const v = readField(form, f);
        if (v !== undefined && !f.readonly) data[f.name] = v;
      }
      await submit(data, form);
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      showError(form, e);
    }
  });
  setTimeout(() => {
    const first = form.querySelector("input, select, textarea");
    if (first) first.focus();
  });
  return form;
}

async function confirmDelete(what, path) {
  if (!window.confirm("Delete " + what + "?")) return false;
  try {
    await call("DELETE", path);
    return true;
  } catch (e) {
    if (e instanceof ApiError && e.status === 409 && window.confirm(e.message + "\n\nDelete it together with what uses it?")) {
      await call("DELETE", path + "?cascade=true");
      return true;
    }
    status(e.message);
    return false;
  }
}

// ---- a paged, sortable, searchable table ----------------------------------------------------

// cfg: {title, path, columns: [{label, sort, cell(item)}], filters: [network|tag], search, form,
// edit(item), remove(item), newItem}
async function collection(cfg, params) {
  const q = new URLSearchParams(params);
  const offset = Number(q.get("offset") || 0);
  const query = new URLSearchParams({ limit: PAGE_SIZE, offset });
  for (const k of ["q", "network_id", "tag_ids", "order_by", "order_direction", "builtin"]) {
    if (q.get(k)) query.set(k, q.get(k));
  }
  for (const [k, v] of Object.entries(cfg.fixed || {})) query.set(k, v);
  const res = await call("GET", cfg.path + "?" + query);
  const go = (changes) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) (v === null || v === "" ? next.delete(k) : next.set(k, v));
    location.hash = "#/" + cfg.route + (next.toString() ? "?" + next : "");
  };

  const toolbar = el("div", { className: "toolbar", role: "search" });
  if (cfg.search !== false) {
    const box = el("input", { type: "search", id: "search", name: "q", value: q.get("q") || "", placeholder: "Search by name" });
    box.addEventListener("change", () => go({ q: box.value, offset: null }));
    toolbar.append(el("label", { for: "search", text: "Search" }), box);
  }
  if ((cfg.filters || []).includes("network")) {
    const select = el("select", { id: "filter-network", onchange: (e) => go({ network_id: e.target.value, offset: null }) },
      el("option", { value: "", text: "All networks" }), session.networks.map((n) => el("option", { value: n.id, text: n.name })));
    select.value = q.get("network_id") || "";
    toolbar.append(el("label", { for: "filter-network", text: "Network" }), select);
  }
  if ((cfg.filters || []).includes("tag")) {
    const select = el("select", { id: "filter-tag", onchange: (e) => go({ tag_ids: e.target.value, offset: null }) },
      el("option", { value: "", text: "Any tag" }), session.tags.map((t) => el("option", { value: t.id, text: t.name })));
    select.value = q.get("tag_ids") || "";
    toolbar.append(el("label", { for: "filter-tag", text: "Tag" }), select);
  }
  const holder = el("div");
  if (cfg.create && canWrite()) toolbar.append(button("New " + cfg.one, () => holder.replaceChildren(cfg.create(holder)), "primary"));

  const table = el("table", {}, el("caption", { className: "muted", text: res.meta.pagination.total_count + " " + (res.meta.pagination.total_count === 1 ? cfg.one : cfg.title.toLowerCase()) }));
  const head = el("tr");
  const tagging = cfg.tagAs && canWrite() && session.tags.length > 0 ? bulkTagger(cfg, table) : null;
  if (tagging) head.append(el("th", { scope: "col" }, tagging.all));
  for (const c of cfg.columns) {
    if (!c.sort) {
      head.append(el("th", { scope: "col", text: c.label }));
      continue;
    }
    const active = q.get("order_by") === c.sort;
    const desc = active && q.get("order_direction") === "desc";
    head.append(el("th", { scope: "col", "aria-sort": active ? (desc ? "descending" : "ascending") : "none" },
      button(c.label + (active ? (desc ? " ▼" : " ▲") : ""), () => go({ order_by: c.sort, order_direction: active && !desc ? "desc" : "asc", offset: null }))));
  }
  head.append(el("th", { scope: "col" }, el("span", { className: "skip", text: "Actions" })));
  table.append(el("thead", {}, head));
  const tbody = el("tbody");
  if (cfg.prepare) await cfg.prepare(res.data);
  for (const item of res.data) {
    const row = el("tr", { "data-id": item.id });
    if (tagging) row.append(el("td", {}, tagging.box(item)));
    for (const c of cfg.columns) row.append(el("td", {}, c.cell(item)));
    const actions = el("td", { className: "actions" });
    if (cfg.edit && canWrite() && (!cfg.canEdit || cfg.canEdit(item))) actions.append(button("Edit", async () => holder.replaceChildren(await cfg.edit(item, holder))));
    if (cfg.remove && canWrite() && (!cfg.canRemove || cfg.canRemove(item))) actions.append(button("Delete", async () => (await cfg.remove(item)) && render(), "danger"));
    row.append(actions);
    tbody.append(row);
  }
  table.append(tbody);
  const p = res.meta.pagination;
  const pager = el("div", { className: "pager" },
    button("Previous", () => go({ offset: Math.max(0, offset - PAGE_SIZE) || null })),
    el("span", { text: p.total_count ? offset + 1 + "–" + (offset + res.data.length) + " of " + p.total_count : "Nothing yet" }),
    button("Next", () => go({ offset: offset + PAGE_SIZE })));
  pager.children[0].disabled = offset === 0;
  pager.children[2].disabled = !p.has_more;
  show(el("h2", { text: cfg.title }), toolbar, tagging ? tagging.bar : null, holder, table, pager, cfg.after ? cfg.after() : null);
}

// Check boxes on a table's rows and a bar that adds or removes one tag on every checked row, in
// one request (POST /api/v1/tags/assign/bulk-add or bulk-remove).
function bulkTagger(cfg, table) {
  const boxes = () => [...table.querySelectorAll("tbody input.pick")];
  const all = el("input", { type: "checkbox", "aria-label": "Select every " + cfg.one + " on this page",
    onchange: () => { boxes().forEach((b) => (b.checked = all.checked)); sync(); } });
  const tag = el("select", { id: "bulk-tag", "aria-label": "Tag" }, session.tags.map((t) => el("option", { value: t.id, text: t.name })));
  const count = el("span", { className: "muted", "aria-live": "polite" });
  const apply = (verb) => async () => {
    const ids = boxes().filter((b) => b.checked).map((b) => b.value);
    try {
      const res = await call("POST", "/api/v1/tags/assign/bulk-" + verb, { entity_type: cfg.tagAs, entity_ids: ids, tag_id: tag.value });
      const name = tag.selectedOptions[0].text;
      await render();
      status((verb === "add" ? "Tagged " : "Untagged ") + res.data.affected_count + " " + (res.data.affected_count === 1 ? cfg.one : cfg.title.toLowerCase()) + (verb === "add" ? " with " : " from ") + name + ".");
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      status(e.message);
    }
  };
  const add = button("Add tag", apply("add"));
  const remove = button("Remove tag", apply("remove"));
  const sync = () => {
    const n = boxes().filter((b) => b.checked).length;
    count.textContent = n ? n + " selected" : "Select rows to tag them";
    add.disabled = remove.disabled = n === 0;
  };
  const bar = el("div", { className: "toolbar", role: "group", "aria-label": "Tag selected " + cfg.title.toLowerCase() },
    count, el("label", { for: "bulk-tag", text: "Tag" }), tag, add, remove);
  sync();
  const box = (item) => el("input", { type: "checkbox", className: "pick", value: item.id, "aria-label": "Select " + (item.name || item.id), onchange: sync });
  return { all, bar, box };
}

// A closed set (colours, subnet types, roles, ...) as the API's own document lists it, so that the
// UI never keeps a second copy of it.
function choices(schema, property) {
  const s = session.schemas[schema];
  const values = (s && s.properties[property] && s.properties[property].enum) || [];
  return values.map((v) => [v, v]);
}

const link = (text, hash) => el("a", { href: hash, text });
// Badges for what discovery found: "discovered" (with its confidence) and "stale".
const origin = (o) => [
  o.source && o.source.type === "Discovery"
    ? el("span", { className: "badge", title: (o.source.details && o.source.details.reason) || "found by discovery",
      text: "discovered" + (o.source.details ? " · " + o.source.details.confidence : "") })
    : null,
  o.stale ? el("span", { className: "badge stale", title: "not seen since " + o.last_seen_at, text: "stale" }) : null,
];
const networkName = (id) => (session.networks.find((n) => n.id === id) || { name: id }).name;
const tagNames = (ids) => ids.map((id) => (session.tags.find((t) => t.id === id) || { name: id }).name).join(", ");

// ---- simple resources -----------------------------------------------------------------------

const fieldsOf = (spec) => (typeof spec.fields === "function" ? spec.fields() : spec.fields);

function simpleResource(spec) {
  const save = (item, holder) => async (data) => {
    if (item) await call("PUT", spec.path + "/" + encodeURIComponent(item.id), spec.body(data, item));
    else await call("POST", spec.path, spec.body(data));
    holder.replaceChildren();
    await refreshSession();
    render();
  };
  return (params) =>
    collection({
      ...spec,
      create: (holder) => panel("New " + spec.one, fieldsOf(spec), spec.defaults || {}, save(null, holder)),
      edit: async (item, holder) => panel("Edit " + spec.one, fieldsOf(spec), await fresh(spec.path + "/" + encodeURIComponent(item.id)), save(item, holder)),
      remove: spec.removable === false ? null : async (item) => (await confirmDelete(spec.one + " " + (item.name || item.id), spec.path + "/" + encodeURIComponent(item.id))) && (await refreshSession(), true),
    }, params);
}

const nameField = { name: "name", label: "Name", required: true };
const descriptionField = { name: "description", label: "Description", type: "textarea" };
const networkField = () => ({ name: "network_id", label: "Network", type: "select", options: session.networks.map((n) => [n.id, n.name]) });

const pages = {};

pages.networks = simpleResource({
  route: "networks", title: "Networks", one: "network", path: "/api/v1/networks", filters: ["tag"],
  columns: [
    { label: "Name", sort: "name", cell: (n) => link(n.name, "#/hosts?network_id=" + n.id) },
    { label: "Description", cell: (n) => n.description || "" },
    { label: "Tags", cell: (n) => tagNames(n.tags) },
    { label: "Map", cell: (n) => link("map", "#/map/" + n.id) },
  ],
  fields: [nameField, descriptionField, { name: "tags", label: "Tags", type: "tags" }],
  body: (d) => d,
});

pages.subnets = (params) => simpleResource({
  route: "subnets", title: "Subnets", one: "subnet", path: "/api/v1/subnets", filters: ["network"], search: false,
  columns: [
    { label: "CIDR", sort: "cidr", cell: (s) => s.cidr },
    { label: "Name", sort: "name", cell: (s) => s.name },
    { label: "Type", cell: (s) => s.subnet_type },
    { label: "Network", cell: (s) => networkName(s.network_id) },
  ],
  fields: [networkField(), { name: "cidr", label: "CIDR", required: true, hint: "For example 192.168.1.0/24" }, nameField,
    { name: "subnet_type", label: "Type", type: "select", options: choices("SubnetInput", "subnet_type") },
    descriptionField],
  body: (d) => d,
})(params);

pages.tags = simpleResource({
  route: "tags", title: "Tags", one: "tag", path: "/api/v1/tags",
  columns: [
    { label: "Name", sort: "name", cell: (t) => t.name },
    { label: "Colour", cell: (t) => t.color },
    { label: "Description", cell: (t) => t.description || "" },
  ],
  fields: () => [nameField, { name: "color", label: "Colour", type: "select", options: choices("TagInput", "color") }, descriptionField],
  defaults: { color: "Gray" },
  body: (d) => d,
});

const hostFields = () => [networkField(), nameField, { name: "hostname", label: "Hostname" }, descriptionField,
  { name: "hidden", label: "Hidden", type: "checkbox" }, { name: "tags", label: "Tags", type: "tags" }];

pages.hosts = (params) => collection({
  route: "hosts", title: "Hosts", one: "host", path: "/api/v1/hosts", filters: ["network", "tag"], tagAs: "Host",
  columns: [
    { label: "Name", sort: "name", cell: (h) => el("span", {}, link(h.name, "#/host/" + h.id), ...origin(h)) },
    { label: "Hostname", sort: "hostname", cell: (h) => h.hostname || "" },
    { label: "Network", cell: (h) => networkName(h.network_id) },
    { label: "IP addresses", cell: (h) => h.ip_addresses.map((i) => i.ip_address).join(", ") },
    { label: "Services", cell: (h) => h.services.map((x) => x.name).join(", ") },
    { label: "Tags", cell: (h) => tagNames(h.tags) },
  ],
  fixed: { include: "children" },
  create: (holder) => panel("New host", hostFields(), { network_id: new URLSearchParams(params).get("network_id") }, async (data) => {
    const res = await call("POST", "/api/v1/hosts", data);
    holder.replaceChildren();
    location.hash = "#/host/" + res.data.id;
  }),
  remove: (h) => confirmDelete("host " + h.name, "/api/v1/hosts/" + h.id),
}, params);

pages.services = (params) => {
  const hosts = new Map();
  return collection({
    route: "services", title: "Services", one: "service", path: "/api/v1/services", filters: ["network", "tag"], tagAs: "Service",
    columns: [
      { label: "Name", sort: "name", cell: (s) => link(s.name, "#/service/" + s.id) },
      { label: "Type", cell: (s) => s.service_definition },
      { label: "Host", cell: (s) => link((hosts.get(s.host_id) || { name: s.host_id }).name, "#/host/" + s.host_id) },
      { label: "Network", cell: (s) => networkName(s.network_id) },
      { label: "Tags", cell: (s) => tagNames(s.tags) },
    ],
    // The page's hosts in one request, for their names.
    prepare: async (items) => {
      const ids = [...new Set(items.map((s) => s.host_id))];
      if (ids.length === 0) return;
      const q = new URLSearchParams(ids.map((id) => ["ids", id]));
      q.set("limit", 0);
      for (const h of await get("/api/v1/hosts?" + q)) hosts.set(h.id, h);
    },
    remove: (s) => confirmDelete("service " + s.name, "/api/v1/services/" + s.id),
  }, params);
};

// ---- host page --------------------------------------------------------------------------------

function describeBinding(b, ips, ports) {
  const ip = ips.get(b.ip_address_id);
  if (b.type === "IPAddress") return "on " + (ip ? ip.ip_address : "?") + " (address only)";
  const port = ports.get(b.port_id);
  return (port ? port.number + "/" + port.protocol : "?") + " " + (b.ip_address_id ? "on " + (ip ? ip.ip_address : "?") : "on all interfaces");
}

// One row of the bindings editor: IP address only, a port on one IP, or a port on all IPs.
function bindingRow(host, binding) {
  const kind = !binding ? "all" : binding.type === "IPAddress" ? "ip" : binding.ip_address_id ? "port-ip" : "all";
  const row = el("div", { className: "binding", "data-binding-id": binding ? binding.id : "" });
  const kindSelect = el("select", { "aria-label": "Binding kind", name: "kind" },
    el("option", { value: "all", text: "Port on all IPs" }), el("option", { value: "port-ip", text: "Port on one IP" }), el("option", { value: "ip", text: "IP address only" }));
  kindSelect.value = kind;
  const portSelect = el("select", { "aria-label": "Port", name: "port" },
    host.ports.map((p) => el("option", { value: p.id, text: p.number + "/" + p.protocol + " " + p.type })));
  const ipSelect = el("select", { "aria-label": "IP address", name: "ip" },
    host.ip_addresses.map((i) => el("option", { value: i.id, text: i.ip_address })));
  if (binding && binding.port_id) portSelect.value = binding.port_id;
  if (binding && binding.ip_address_id) ipSelect.value = binding.ip_address_id;
  const sync = () => {
    portSelect.hidden = kindSelect.value === "ip";
    ipSelect.hidden = kindSelect.value === "all";
  };
  kindSelect.addEventListener("change", sync);
  sync();
  row.append(kindSelect, portSelect, ipSelect, button("Remove", () => row.remove()), el("p", { className: "error", role: "alert" }));
  row.read = () => {
    const out = binding ? { id: binding.id } : {};
    if (kindSelect.value === "ip") return { ...out, type: "IPAddress", ip_address_id: ipSelect.value };
    return { ...out, type: "Port", port_id: portSelect.value, ip_address_id: kindSelect.value === "port-ip" ? ipSelect.value : null };
  };
  return row;
}

let serviceTypes = null;
async function loadServiceTypes() {
  if (!serviceTypes) serviceTypes = await everything("/api/v1/service-types");
  return serviceTypes;
}

async function serviceForm(host, service, holder) {
  const types = await loadServiceTypes();
  const list = el("datalist", { id: "service-types-list" }, types.map((t) => el("option", { value: t.id, text: t.category })));
  const bindings = el("div", { className: "bindings-editor", "aria-label": "Bindings" });
  for (const b of service ? service.bindings : []) bindings.append(bindingRow(host, b));
  const defaults = el("p", { className: "hint", "aria-live": "polite" });
  const createPorts = el("input", { type: "checkbox", id: "create-default-ports" });
  const extra = el("div", {},
    el("h4", { text: "Bindings" }), bindings, button("Add binding", () => bindings.append(bindingRow(host, null))),
    defaults, el("label", { className: "inline", for: "create-default-ports" }, createPorts, "Create the type's default ports that this host lacks, and bind them on all IPs"));
  const form = panel(service ? "Edit service" : "New service", [
    nameField,
    { name: "service_definition", label: "Service type", list: "service-types-list", required: true, hint: "Type to search the catalogue" },
    { name: "position", label: "Position", type: "number" },
    { name: "tags", label: "Tags", type: "tags" },
  ], service || {}, async (data) => {
    const missing = createPorts.checked ? missingDefaultPorts(host, types, data.service_definition) : [];
    const rows = [...bindings.querySelectorAll(".binding")].map((r) => r.read());
    for (const p of missing) {
      const res = await call("POST", "/api/v1/ports", { host_id: host.id, number: p.number, protocol: p.protocol });
      rows.push({ type: "Port", port_id: res.data.id, ip_address_id: null });
    }
    const body = { ...data, host_id: host.id, bindings: rows, position: data.position == null ? undefined : data.position };
    if (service) await call("PUT", "/api/v1/services/" + service.id, body);
    else await call("POST", "/api/v1/services", body);
    holder.replaceChildren();
    render();
  }, extra);
  form.append(list);
  const typeInput = form.querySelector('[data-field="service_definition"] input');
  const describe = () => {
    const t = types.find((x) => x.id === typeInput.value);
    defaults.textContent = t && t.default_ports.length
      ? "Default ports of " + t.id + ": " + t.default_ports.map((p) => p.number + "/" + p.protocol).join(", ")
      : "";
  };
  typeInput.addEventListener("input", describe);
  describe();
  return form;
}

function missingDefaultPorts(host, types, typeId) {
  const t = types.find((x) => x.id === typeId);
  if (!t) return [];
  return t.default_ports.filter((d) => !host.ports.some((p) => p.number === d.number && p.protocol === d.protocol));
}

async function hostPage(id, params) {
  const at = new URLSearchParams(params).get("at");
  const live = "#/host/" + id;
  const host = asLive(await get("/api/v1/hosts/" + encodeURIComponent(id) + (at ? "?at=" + encodeURIComponent(at) : "")));
  const ips = byId(host.ip_addresses);
  const ports = byId(host.ports);
  const holder = el("div");
  const open = (node) => holder.replaceChildren(node);
  const writable = canWrite() && !at;
  const section = (title, addLabel, onAdd, table) =>
    el("section", { "aria-label": title }, el("h3", { text: title }), writable && addLabel ? button(addLabel, onAdd) : null, table);

  const ipTable = el("table", {}, el("thead", {}, el("tr", {}, ["Address", "MAC", "Name", ""].map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, host.ip_addresses.map((i) => el("tr", { "data-id": i.id }, el("td", { text: i.ip_address }), el("td", { text: i.mac_address || "" }), el("td", { text: i.name || "" }),
      el("td", { className: "actions" }, writable ? [
        button("Edit", async () => open(ipForm(host, await fresh("/api/v1/ip-addresses/" + i.id), holder))),
        button("Delete", async () => (await confirmDelete("IP address " + i.ip_address, "/api/v1/ip-addresses/" + i.id)) && render(), "danger")] : null)))));
  const sortedPorts = [...host.ports].sort((a, b) => a.number - b.number || a.protocol.localeCompare(b.protocol));
  const portTable = el("table", {}, el("thead", {}, el("tr", {}, ["Port", "Protocol", "Type", ""].map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, sortedPorts.map((p) => el("tr", { "data-id": p.id }, el("td", { text: p.number }), el("td", { text: p.protocol }), el("td", { text: p.type }),
      el("td", { className: "actions" }, writable ? [
        button("Edit", async () => open(portForm(host, await fresh("/api/v1/ports/" + p.id), holder))),
        button("Delete", async () => (await confirmDelete("port " + p.number + "/" + p.protocol, "/api/v1/ports/" + p.id)) && render(), "danger")] : null)))));
  const serviceTable = el("table", {}, el("thead", {}, el("tr", {}, ["Service", "Type", "Listens", ""].map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, host.services.map((s) => el("tr", { "data-id": s.id }, el("td", {}, link(s.name, "#/service/" + s.id), ...origin(s)), el("td", { text: s.service_definition }),
      el("td", {}, el("ul", { className: "bindings" }, s.bindings.map((b) => el("li", { text: describeBinding(b, ips, ports) })))),
      el("td", { className: "actions" }, writable ? [
        button("Edit", async () => open(await serviceForm(host, await fresh("/api/v1/services/" + s.id), holder))),
        button("Delete", async () => (await confirmDelete("service " + s.name, "/api/v1/services/" + s.id)) && render(), "danger")] : null)))));

  const title = el("h2", { text: host.name + (host.hostname ? " (" + host.hostname + ")" : "") });
  const found = origin(host).filter(Boolean);
  const facts = el("p", { className: "muted" }, "Network ", link(networkName(host.network_id), "#/hosts?network_id=" + host.network_id),
    host.tags.length ? " · Tags: " + tagNames(host.tags) : "", " · ",
    link("map", "#/map/" + host.network_id + (at ? "?at=" + encodeURIComponent(at) : "")),
    found.length ? el("span", {}, " · ", ...found, " last seen " + when(host.last_seen_at)) : null);
  const entries = await recentChanges("host_id=" + encodeURIComponent(id));
  const history = historySection(entries, namesFrom(entries, host), (t) => live + "?at=" + encodeURIComponent(t));
  const actions = writable ? el("div", { className: "row" },
    button("Edit host", () => open(panel("Edit host", hostFields(), host, async (data) => {
      await call("PUT", "/api/v1/hosts/" + host.id, data);
      render();
    }))),
    button("Delete host", async () => (await confirmDelete("host " + host.name, "/api/v1/hosts/" + host.id)) && (location.hash = "#/hosts"), "danger")) : null;
  show(asOfBanner(at, live), title, facts, host.description ? el("p", { text: host.description }) : null, actions,
    asOfControl(at, live), holder,
    section("IP addresses", "Add IP address", () => open(ipForm(host, null, holder)), ipTable),
    section("Ports", "Add port", () => open(portForm(host, null, holder)), portTable),
    section("Services", "Add service", async () => open(await serviceForm(host, null, holder)), serviceTable),
    history);
}

// A service: where it listens, and its history (its bindings' too), also after it was deleted.
async function servicePage(id) {
  const entries = await recentChanges("service_id=" + encodeURIComponent(id));
  const service = await get("/api/v1/services/" + encodeURIComponent(id)).catch((e) => {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  });
  // Port and address names come from the host's own journal, which outlives them.
  const hostId = service ? service.host_id : entries.map((e) => (e.after || e.before).host_id).find(Boolean);
  const parts = hostId ? await everything("/api/v1/changes?entity_type=port&entity_type=ip_address&host_id=" + hostId) : [];
  const host = service ? await get("/api/v1/hosts/" + service.host_id) : null;
  const names = namesFrom(entries.concat(parts), host);
  const history = historySection(entries, names, null);
  if (!service) {
    return show(el("h2", { text: "Service (deleted)" }), el("p", { className: "muted", text: "This service no longer exists; its history remains." }), history);
  }
  show(el("h2", { text: service.name }),
    el("p", { className: "muted" }, service.service_definition + " on ", link(host.name, "#/host/" + host.id),
      " · listening since " + when(service.valid_from)),
    el("section", { "aria-label": "Bindings" }, el("h3", { text: "Bindings" }),
      el("ul", { className: "bindings" }, service.bindings.map((b) => el("li", { text: bindingText(b, names) })))),
    await impactSection(service.id), history);
}

function ipForm(host, ip, holder) {
  return panel(ip ? "Edit IP address" : "New IP address", [
    { name: "ip_address", label: "IP address", required: true },
    { name: "mac_address", label: "MAC address" },
    { name: "name", label: "Name", hint: "For example eth0" },
    { name: "position", label: "Position", type: "number" },
  ], ip || {}, async (data) => {
    const body = { ...data, host_id: host.id, position: data.position == null ? undefined : data.position };
    if (ip) await call("PUT", "/api/v1/ip-addresses/" + ip.id, body);
    else await call("POST", "/api/v1/ip-addresses", body);
    holder.replaceChildren();
    render();
  });
}

function portForm(host, port, holder) {
  return panel(port ? "Edit port" : "New port", [
    { name: "number", label: "Number", type: "number", required: true },
    { name: "protocol", label: "Protocol", type: "select", options: choices("PortInput", "protocol") },
  ], port || {}, async (data) => {
    const body = { ...data, host_id: host.id };
    if (port) await call("PUT", "/api/v1/ports/" + port.id, body);
    else await call("POST", "/api/v1/ports", body);
    holder.replaceChildren();
    render();
  });
}

// ---- service types ----------------------------------------------------------------------------

const serviceTypeFields = [
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
    serviceTypes = null;
    holder.replaceChildren();
    render();
  }) : null,
  canRemove: (t) => !t.builtin,
  canEdit: (t) => !t.builtin,
  edit: isAdmin() ? async (t, holder) => panel("Edit service type " + t.id, serviceTypeFields.slice(1), await fresh("/api/v1/service-types/" + encodeURIComponent(t.id)), async (data) => {
    await call("PUT", "/api/v1/service-types/" + encodeURIComponent(t.id), { ...data, name: t.id, default_ports: data.default_ports || [] });
    serviceTypes = null;
    holder.replaceChildren();
    render();
  }) : null,
  remove: isAdmin() ? (t) => confirmDelete("service type " + t.id, "/api/v1/service-types/" + encodeURIComponent(t.id)) : null,
}, params);

// ---- templates --------------------------------------------------------------------------------

const templateFields = () => [
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
    { label: "Name", sort: "name", cell: (t) => link(t.name, "#/template/" + t.id) },
    { label: "Image", cell: (t) => t.containerImageId + ":" + t.imageTag },
    { label: "Exposed ports", cell: (t) => t.exposedPorts.map((p) => (p.hostPort || "*") + "→" + p.containerPort + "/" + p.protocol).join(", ") },
  ],
  create: (holder) => panel("New template", templateFields(), { deployStrategy: "sequential" }, async (data) => {
    const body = Object.fromEntries(Object.entries(data).filter(([, v]) => v !== null));
    const res = await call("POST", "/api/v1/service-templates", body);
    holder.replaceChildren();
    location.hash = "#/template/" + res.data.id;
  }),
  remove: (t) => confirmDelete("template " + t.name, "/api/v1/service-templates/" + t.id),
}, params);

async function templatePage(id) {
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
    await call("PATCH", "/api/v1/service-templates/" + t.id, changes);
    status("Saved.");
    render();
  }, readOnly);
  form.querySelector(".row button:last-child").remove();
  const raw = panel("Send a raw PATCH body", [{ name: "patch", label: "JSON body", type: "json", hint: "Any fields, sent as they are." }], {}, async (data, rawForm) => {
    try {
      await call("PATCH", "/api/v1/service-templates/" + t.id, data.patch || {});
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
  show(el("h2", { text: t.name }), el("p", { className: "muted", text: "Template " + t.id }), form, raw);
}

// ---- API keys ---------------------------------------------------------------------------------

const roleOptions = () => choices("ApiKey", "permissions").filter(([r]) => r !== "Owner" || session.me.role === "Owner");

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
        const res = await call("POST", "/api/v1/auth/keys/" + k.id + "/rotate");
        await render();
        document.getElementById("key-holder").replaceChildren(secret("New secret for " + k.name + ".", res.data));
      }), button(k.is_enabled ? "Disable" : "Enable", async () => {
        await call("PUT", "/api/v1/auth/keys/" + k.id, { name: k.name, permissions: k.permissions, network_ids: k.network_ids, expires_at: k.expires_at, is_enabled: !k.is_enabled });
        render();
      })) },
    ],
    create: (holder) => panel("New API key", keyFields(), { permissions: "Viewer", is_enabled: true }, async (data) => {
      const res = await call("POST", "/api/v1/auth/keys", data);
      await render();
      document.getElementById("key-holder").replaceChildren(secret("Key " + res.data.api_key.name + " created.", res.data.key));
    }),
    edit: (k, holder) => panel("Edit API key", keyFields(), k, async (data) => {
      await call("PUT", "/api/v1/auth/keys/" + k.id, data);
      holder.replaceChildren();
      render();
    }),
    remove: (k) => confirmDelete("key " + k.name, "/api/v1/auth/keys/" + k.id),
  }, params).then(() => {
    const holder = el("div", { id: "key-holder" });
    view().insertBefore(holder, view().children[2]);
  });
};

// ---- map ----------------------------------------------------------------------------------------

async function mapPage(networkId, params) {
  const at = new URLSearchParams(params).get("at");
  const asOf = at ? "&at=" + encodeURIComponent(at) : "";
  if (!networkId) {
    if (session.networks.length === 0) return show(el("h2", { text: "Map" }), el("p", { text: "Create a network first." }));
    location.hash = "#/map/" + session.networks[0].id;
    return;
  }
  const base = "/api/v1/networks/" + encodeURIComponent(networkId);
  const source = await text(base + "/map.svg" + (at ? "?at=" + encodeURIComponent(at) : ""));
  const picker = el("select", { id: "map-network", onchange: (e) => (location.hash = "#/map/" + e.target.value) },
    session.networks.map((n) => el("option", { value: n.id, text: n.name })));
  picker.value = networkId;
  const svg = window.PortolanMap.draw({ source, at });
  const frame = el("div", { id: "map-frame" }, svg);
  const controls = el("div", { className: "toolbar" }, el("label", { for: "map-network", text: "Network" }), picker,
    button("Zoom in", () => svg.zoomBy(0.8)), button("Zoom out", () => svg.zoomBy(1.25)), button("Fit", () => svg.fit()),
    button("Export SVG", () => window.PortolanMap.download(svg, "portolan-map.svg")),
    button("Export Mermaid", async () => window.PortolanMap.save(await text(base + "/map.mermaid" + (at ? "?at=" + encodeURIComponent(at) : "")), "portolan-map.mmd", "text/plain")));
  // The network for the rest of the lab: Ansible, Homepage, a spreadsheet.
  const exportOf = (label, path, name, type) => button(label, async () =>
    window.PortolanMap.save(await text("/api/v1/exports/" + path + (path.includes("?") ? "&" : "?") + "network_id=" + encodeURIComponent(networkId)), name, type));
  const exportsBar = el("div", { className: "toolbar", role: "group", "aria-label": "Exports" },
    el("span", { className: "muted", text: "Export the network:" }),
    exportOf("Ansible inventory", "ansible?format=yaml", "inventory.yaml", "application/yaml"),
    exportOf("Homepage services", "homepage", "services.yaml", "application/yaml"),
    exportOf("Bindings CSV", "services.csv", "services.csv", "text/csv"),
    // The whole database, to move or keep in git: an Owner of every network only.
    session.me.role === "Owner" && session.me.network_ids.length === 0
      ? button("Whole inventory (JSON)", async () => window.PortolanMap.save(await text("/api/v1/export"), "portolan-export.json", "application/json"))
      : null);
  show(asOfBanner(at, "#/map/" + networkId), el("h2", { text: "Map" }), controls, exportsBar, asOfControl(at, "#/map/" + networkId),
    el("p", { className: "hint", text: "Drag to pan, wheel or +/- to zoom, click a host to open it. Lines join each service to the addresses it listens on, labelled with the ports; the green pill stands for all interfaces; coloured curves join a service to what it depends on." }),
    frame);
  svg.readable();
}

// ---- shell ----------------------------------------------------------------------------------------

async function refreshSession() {
  [session.networks, session.tags] = await Promise.all([everything("/api/v1/networks?order_by=name"), everything("/api/v1/tags?order_by=name")]);
}

function signOut(message) {
  sessionStorage.removeItem(KEY);
  session.me = null;
  document.getElementById("menu").hidden = true;
  document.getElementById("who").hidden = true;
  document.getElementById("sign-in").hidden = false;
  document.getElementById("sign-in-error").textContent = message || "";
  view().replaceChildren();
  status("");
  document.getElementById("key").focus();
}

async function signIn() {
  try {
    session.me = (await call("GET", "/api/v1/auth/me")).data;
  } catch (e) {
    signOut(e.status === 401 ? "That key was not accepted." : e.message);
    return;
  }
  const doc = await (await fetch("/api/openapi.json")).json();
  session.doc = doc;
  session.schemas = doc.components.schemas;
  await refreshSession();
  document.getElementById("sign-in").hidden = true;
  document.getElementById("menu").hidden = false;
  document.getElementById("who").hidden = false;
  document.getElementById("keys-link").hidden = !isAdmin();
  document.getElementById("webhooks-link").hidden = !isAdmin();
  document.getElementById("role").textContent = "Signed in as " + session.me.role +
    (session.me.network_ids.length ? " (" + session.me.network_ids.length + " network(s))" : "");
  render();
}

async function render() {
  if (!session.me) return;
  const [path, query] = (location.hash.slice(1) || "/hosts").split("?");
  const parts = path.split("/").filter(Boolean);
  const section = parts[0] || "hosts";
  for (const a of document.querySelectorAll("#menu a")) {
    const current = a.getAttribute("href").slice(2) === section || (section === "host" && a.getAttribute("href") === "#/hosts") ||
      (section === "service" && a.getAttribute("href") === "#/services") ||
      (section === "discovery" && a.getAttribute("href") === "#/discoveries") ||
      (section === "template" && a.getAttribute("href") === "#/templates");
    if (current) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  status("");
  try {
    if (section === "host") await hostPage(parts[1], query || "");
    else if (section === "service") await servicePage(parts[1]);
    else if (section === "changes") await journalPage(query || "");
    else if (section === "discoveries") await discoveriesPage();
    else if (section === "dependencies") await dependenciesPage(query || "");
    else if (section === "webhooks" && !isAdmin()) show(el("h2", { text: "Webhooks" }), el("p", { text: "Managing webhooks needs an Admin or Owner key." }));
    else if (section === "webhooks") await webhooksPage(query || "");
    else if (section === "discovery") await discoveryPage(parts[1]);
    else if (section === "template") await templatePage(parts[1]);
    else if (section === "map") await mapPage(parts[1], query || "");
    else if (section === "keys" && !isAdmin()) show(el("h2", { text: "API keys" }), el("p", { text: "Managing API keys needs an Admin or Owner key." }));
    else if (pages[section]) await pages[section](query || "");
    else show(el("h2", { text: "Not found" }), link("Back to hosts", "#/hosts"));
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    show(el("h2", { text: "This page cannot be shown" }), el("p", { className: "error", text: e.message }), link("Back to hosts", "#/hosts"));
  }
}

window.addEventListener("hashchange", render);
document.getElementById("sign-in").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem(KEY, document.getElementById("key").value.trim());
  document.getElementById("key").value = "";
  signIn();
});
document.getElementById("sign-out").addEventListener("click", () => signOut("Signed out."));

if (sessionStorage.getItem(KEY)) signIn();
else signOut();
