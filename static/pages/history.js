// History in the web UI: timelines of hosts and services, the "view as of" control with its
// banner, and the journal page.

import { call, get, session, text } from "/ui/api.js";
import { button, el, show } from "/ui/dom.js";
import { link, networkName, tagNames } from "/ui/table.js";

export const HISTORY_PAGE = 25;

export const when = (iso) => new Date(iso).toLocaleString();

// A datetime-local value (the browser's local time, to the second) from an instant, and back.
export function toLocalInput(iso) {
  const d = iso ? new Date(iso) : new Date();
  const pad = (n) => String(n).padStart(2, "0");
  return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" +
    pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
}
export const fromLocalInput = (value) => new Date(value).toISOString();

// An as-of read answers closed versions under their own ids, with `lineage_id` naming the live
// object; references (a binding's port, a host's id on the map) always use live ids. Reading
// every object by its live id lets the host page and the map join them as they do live.
export function asLive(value) {
  if (Array.isArray(value)) return value.map(asLive);
  if (!value || typeof value !== "object") return value;
  const out = {};
  for (const [k, v] of Object.entries(value)) out[k] = asLive(v);
  if (out.lineage_id) out.id = out.lineage_id;
  return out;
}

// "View as of": a date-time field that moves the page to `?at=`, and, when the page shows the
// past, a banner that says so with the way back to the live state.
export function asOfControl(at, liveHash) {
  const input = el("input", { type: "datetime-local", id: "as-of", step: 1, value: toLocalInput(at) });
  const go = () => {
    if (!input.value) return;
    location.hash = liveHash + "?at=" + encodeURIComponent(fromLocalInput(input.value));
  };
  input.addEventListener("keydown", (e) => e.key === "Enter" && go());
  return el("div", { className: "toolbar as-of" },
    el("label", { for: "as-of", text: "View as of" }), input, button("Show", go),
    at ? link("Back to live", liveHash) : null);
}

export function asOfBanner(at, liveHash) {
  if (!at) return null;
  return el("p", { className: "banner", role: "note" },
    el("strong", { text: "As of " + when(at) + ". " }),
    "This is a past state: nothing here can be edited. ", link("Back to live", liveHash));
}

// ---- describing changes -------------------------------------------------------------------------

export function actorName(actor) {
  if (actor.type === "api_key") return "key " + (actor.name || actor.id);
  if (actor.type === "discovery") return "discovery";
  if (actor.type === "cli") return "command line";
  return actor.name || "system";
}

// Names of ports and addresses, from the host as shown and from every image in the entries, so
// that a binding still reads "8096/Tcp on 10.0.0.2" after its port is gone.
export function namesFrom(entries, host) {
  const ports = new Map();
  const ips = new Map();
  const note = (kind, o) => {
    if (!o) return;
    if (kind === "port") ports.set(o.id, o.number + "/" + o.protocol);
    if (kind === "ip_address") ips.set(o.id, o.ip_address);
  };
  for (const e of entries) {
    note(e.entity_type, e.before);
    note(e.entity_type, e.after);
  }
  for (const p of (host && host.ports) || []) ports.set(p.id, p.number + "/" + p.protocol);
  for (const i of (host && host.ip_addresses) || []) ips.set(i.id, i.ip_address);
  return { ports, ips };
}

export function bindingText(b, names) {
  const ip = b.ip_address_id ? names.ips.get(b.ip_address_id) || "an address" : null;
  if (b.type === "IPAddress") return "on " + ip + " (address only)";
  return (names.ports.get(b.port_id) || "a port") + " " + (ip ? "on " + ip : "on all interfaces");
}

export function subject(e, names) {
  const o = e.after || e.before || {};
  switch (e.entity_type) {
    case "binding": return "Binding " + bindingText(o, names);
    case "port": return "Port " + o.number + "/" + o.protocol;
    case "ip_address": return "IP address " + o.ip_address;
    case "api_key": return "API key " + o.name;
    default: return e.entity_type.replace("_", " ").replace(/^./, (c) => c.toUpperCase()) + " " + (o.name || e.entity_id);
  }
}

export function valueText(field, v) {
  if (v === null || v === undefined) return "none";
  if (field === "tags") return v.length ? tagNames(v) : "none";
  if (field === "network_id") return networkName(v);
  return typeof v === "object" ? JSON.stringify(v) : String(v);
}

// What an entry says, field by field: "name: web → nas".
export function changeLines(e, names) {
  if (e.action !== "update") return [];
  if (e.entity_type === "binding") return ["from " + bindingText(e.before, names) + " to " + bindingText(e.after, names)];
  return e.changed_fields.map((f) => f + ": " + valueText(f, e.before[f]) + " → " + valueText(f, e.after[f]));
}

export const ACTIONS = { create: "created", update: "changed", delete: "removed" };

// A timeline of entries, newest first; `asOfHash(time)` links each to the state it produced.
export function timeline(entries, names, asOfHash) {
  if (!entries.length) return el("p", { className: "muted", text: "No recorded changes." });
  return el("ol", { className: "timeline" }, entries.map((e) => el("li", { "data-change": e.id },
    el("p", {}, el("time", { datetime: e.time, text: when(e.time) }), " · " + actorName(e.actor)),
    el("p", { className: "what", text: subject(e, names) + " " + ACTIONS[e.action] }),
    el("ul", {}, changeLines(e, names).map((line) => el("li", { text: line }))),
    asOfHash ? link("View as of this change", asOfHash(e.time)) : null)));
}

export const recentChanges = (query) => get("/api/v1/changes?limit=" + HISTORY_PAGE + "&" + query);

export function historySection(entries, names, asOfHash) {
  return el("section", { "aria-label": "History" }, el("h3", { text: "History" }), timeline(entries, names, asOfHash));
}

// ---- the journal page ---------------------------------------------------------------------------

export function entityTypes() {
  const op = session.doc && session.doc.paths["/api/v1/changes"] && session.doc.paths["/api/v1/changes"].get;
  const p = op && op.parameters.find((x) => x.name === "entity_type");
  return p ? p.schema.items.enum : [];
}

export async function journalPage(params) {
  const q = new URLSearchParams(params);
  const offset = Number(q.get("offset") || 0);
  const query = new URLSearchParams({ limit: HISTORY_PAGE, offset });
  for (const k of ["entity_type", "network_id", "actor_id", "action"]) if (q.get(k)) query.set(k, q.get(k));
  const res = await call("GET", "/api/v1/changes?" + query);
  const go = (changes) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) (v === null || v === "" ? next.delete(k) : next.set(k, v));
    location.hash = "#/changes" + (next.toString() ? "?" + next : "");
  };
  const select = (id, label, key, options) => {
    const s = el("select", { id, onchange: (e) => go({ [key]: e.target.value, offset: null }) },
      options.map(([value, text]) => el("option", { value, text })));
    s.value = q.get(key) || "";
    return [el("label", { for: id, text: label }), s];
  };
  const toolbar = el("div", { className: "toolbar", role: "search" },
    select("filter-type", "Type", "entity_type", [["", "Everything"], ...entityTypes().map((t) => [t, t.replace("_", " ")])]),
    select("filter-network", "Network", "network_id", [["", "All networks"], ...session.networks.map((n) => [n.id, n.name])]),
    select("filter-action", "Action", "action", [["", "Any action"], ["create", "created"], ["update", "changed"], ["delete", "removed"]]));
  if (q.get("actor_id")) {
    const name = res.data.length ? actorName(res.data[0].actor) : q.get("actor_id");
    toolbar.append(el("span", { className: "chip" }, "Actor: " + name + " ", button("Any actor", () => go({ actor_id: null, offset: null }))));
  }
  const names = namesFrom(res.data, null);
  const rows = res.data.map((e) => el("tr", { "data-change": e.id },
    el("td", {}, el("time", { datetime: e.time, text: when(e.time) })),
    el("td", {}, e.actor.id ? button(actorName(e.actor), () => go({ actor_id: e.actor.id, offset: null }), "link") : actorName(e.actor)),
    el("td", {}, el("p", { className: "what", text: subject(e, names) + " " + ACTIONS[e.action] }),
      el("ul", {}, changeLines(e, names).map((line) => el("li", { text: line })))),
    el("td", { text: e.network_id ? networkName(e.network_id) : "" })));
  const p = res.meta.pagination;
  const table = el("table", {}, el("caption", { className: "muted", text: p.total_count + " changes" }),
    el("thead", {}, el("tr", {}, ["When", "Who", "What", "Network"].map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, rows));
  const pager = el("div", { className: "pager" },
    button("Previous", () => go({ offset: Math.max(0, offset - HISTORY_PAGE) || null })),
    el("span", { text: p.total_count ? offset + 1 + "–" + (offset + res.data.length) + " of " + p.total_count : "Nothing yet" }),
    button("Next", () => go({ offset: offset + HISTORY_PAGE })));
  pager.children[0].disabled = offset === 0;
  pager.children[2].disabled = !p.has_more;
  show(el("h2", { text: "Journal" }), el("p", { className: "hint", text: "Every change to the inventory, newest first." }), toolbar, table, pager);
}
