// A paged, sortable, searchable table, bulk tagging, and names for ids.

import { ApiError, PAGE_SIZE, call, session, text } from "/ui/api.js";
import { button, canWrite, el, show, status } from "/ui/dom.js";
import { render } from "/app.js";

// ---- a paged, sortable, searchable table ----------------------------------------------------

// cfg: {title, path, columns: [{label, sort, cell(item)}], filters: [network|tag], search, form,
// edit(item), remove(item), newItem}
export async function collection(cfg, params) {
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
export function bulkTagger(cfg, table) {
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
export function choices(schema, property) {
  const s = session.schemas[schema];
  const values = (s && s.properties[property] && s.properties[property].enum) || [];
  return values.map((v) => [v, v]);
}

export const link = (text, hash) => el("a", { href: hash, text });
// Badges for what discovery found: "discovered" (with its confidence) and "stale".
export const origin = (o) => [
  o.source && o.source.type === "Discovery"
    ? el("span", { className: "badge", title: (o.source.details && o.source.details.reason) || "found by discovery",
      text: "discovered" + (o.source.details ? " · " + o.source.details.confidence : "") })
    : o.source && o.source.type === "Deployment"
      ? el("a", { className: "badge", href: "#/deployment/" + encodeURIComponent(o.source.details.deployment_id), text: "deployed" })
      : null,
  o.stale ? el("span", { className: "badge stale", title: "not seen since " + o.last_seen_at, text: "stale" }) : null,
];
export const networkName = (id) => (session.networks.find((n) => n.id === id) || { name: id }).name;
export const tagNames = (ids) => ids.map((id) => (session.tags.find((t) => t.id === id) || { name: id }).name).join(", ");
