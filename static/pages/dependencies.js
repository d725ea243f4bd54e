// Dependencies between services, and a service's impact: what breaks when it goes down.

import { call, everything, fresh, get, session, text } from "/ui/api.js";
import { button, confirmDelete, el, panel } from "/ui/dom.js";
import { choices, collection, link, networkName } from "/ui/table.js";
import { descriptionField, nameField } from "/pages/resources.js";
import { render } from "/app.js";

export const DEPENDENCY_TYPES = [["RequestPath", "Request path: each member needs the next"], ["HubAndSpoke", "Hub and spokes: every member needs the first"]];

// An ordered member picker: services of the chosen network, added in order, removable.
export function memberPicker(initial) {
  const list = el("ol", { className: "members", "aria-label": "Members in order" });
  const select = el("select", { id: "member-service", "aria-label": "Service to add" });
  const names = new Map();
  const add = (id) => {
    if (!id || [...list.children].some((li) => li.dataset.id === id)) return;
    const li = el("li", { "data-id": id }, names.get(id) || id, " ",
      button("Remove", () => li.remove()));
    list.append(li);
  };
  const load = async (networkId) => {
    const services = networkId ? await everything("/api/v1/services?network_id=" + encodeURIComponent(networkId) + "&order_by=name") : [];
    for (const s of services) names.set(s.id, s.name);
    select.replaceChildren(...services.map((s) => el("option", { value: s.id, text: s.name })));
  };
  const wrap = el("div", { className: "field", "data-field": "members" },
    el("label", { for: "member-service", text: "Members, in order" }), list,
    el("div", { className: "row" }, select, button("Add member", () => add(select.value))),
    el("p", { className: "error", role: "alert" }));
  wrap.load = async (networkId) => {
    await load(networkId);
    for (const m of initial || []) add(m.service_id);
  };
  wrap.read = () => [...list.children].map((li) => ({ service_id: li.dataset.id }));
  return wrap;
}

export function dependencyForm(dep, holder) {
  const picker = memberPicker(dep ? dep.members : []);
  const fields = [
    { name: "network_id", label: "Network", type: "select", options: session.networks.map((n) => [n.id, n.name]) },
    nameField,
    { name: "dependency_type", label: "Kind", type: "select", options: DEPENDENCY_TYPES },
    { name: "color", label: "Colour on the map", type: "select", options: choices("DependencyInput", "color") },
    descriptionField,
  ];
  const form = panel(dep ? "Edit dependency" : "New dependency", fields, dep || { color: "Blue", dependency_type: "RequestPath" }, async (data) => {
    const body = { ...data, members: picker.read() };
    if (dep) await call("PUT", "/api/v1/dependencies/" + encodeURIComponent(dep.id), body);
    else await call("POST", "/api/v1/dependencies", body);
    holder.replaceChildren();
    render();
  }, picker);
  const network = form.querySelector('[data-field="network_id"] select');
  network.addEventListener("change", () => picker.load(network.value));
  picker.load(network.value);
  return form;
}

export function dependenciesPage(params) {
  const services = new Map();
  return collection({
    route: "dependencies", title: "Dependencies", one: "dependency", path: "/api/v1/dependencies", filters: ["network", "tag"],
    columns: [
      { label: "Name", sort: "name", cell: (d) => d.name },
      { label: "Kind", cell: (d) => (d.dependency_type === "RequestPath" ? "request path" : "hub and spokes") },
      { label: "Members", cell: (d) => el("span", {}, ...d.members.flatMap((m, i) => [i ? (d.dependency_type === "RequestPath" ? " → " : i === 1 ? " ← " : ", ") : "",
        link((services.get(m.service_id) || { name: m.service_id }).name, "#/service/" + encodeURIComponent(m.service_id))])) },
      { label: "Network", cell: (d) => networkName(d.network_id) },
      { label: "Colour", cell: (d) => d.color },
    ],
    prepare: async (items) => {
      const ids = [...new Set(items.flatMap((d) => d.members.map((m) => m.service_id)))];
      if (ids.length === 0) return;
      const q = new URLSearchParams(ids.map((id) => ["ids", id]));
      q.set("limit", 0);
      for (const s of await get("/api/v1/services?" + q)) services.set(s.id, s);
    },
    create: (holder) => dependencyForm(null, holder),
    edit: async (d, holder) => dependencyForm(await fresh("/api/v1/dependencies/" + encodeURIComponent(d.id)), holder),
    remove: (d) => confirmDelete("dependency " + d.name, "/api/v1/dependencies/" + encodeURIComponent(d.id)),
  }, params);
}

// What breaks when the service goes down, and what it needs.
export async function impactSection(serviceId) {
  const [down, up] = await Promise.all([
    get("/api/v1/services/" + encodeURIComponent(serviceId) + "/impact"),
    get("/api/v1/services/" + encodeURIComponent(serviceId) + "/impact?direction=upstream"),
  ]);
  const names = new Map(down.services.concat(up.services).map((s) => [s.service_id, s.name]));
  const item = (s) => el("li", {}, link(s.name, "#/service/" + encodeURIComponent(s.service_id)),
    s.depth > 1 ? " (through " + s.path.slice(1, -1).map((id) => names.get(id) || id).join(" → ") + ")" : "");
  const hosts = down.hosts.map((h) => h.name).join(", ");
  return el("section", { "aria-label": "Impact" }, el("h3", { text: "Impact" }),
    el("p", { text: down.services.length ? "If it goes down, " + down.services.length + " services on " + down.hosts.length + " hosts (" + hosts + ") are affected:" : "Nothing depends on it." }),
    down.services.length ? el("ul", { className: "impact" }, down.services.map(item)) : null,
    el("p", { text: up.services.length ? "It needs:" : "It needs nothing recorded." }),
    up.services.length ? el("ul", {}, up.services.map(item)) : null,
    down.cycles.length ? el("p", { className: "muted", text: "Services that depend on each other in a circle: " + down.cycles.map((c) => c.map((id) => names.get(id) || id).join(", ")).join("; ") }) : null);
}
