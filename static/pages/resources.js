// The simple resources (networks, subnets, tags) and the host and service lists; the page registry.

import { call, fresh, get, session } from "/ui/api.js";
import { confirmDelete, el, panel } from "/ui/dom.js";
import { choices, collection, link, networkName, origin, tagNames } from "/ui/table.js";
import { listensOn } from "/ui/listens.js";
import { refreshSession, render } from "/app.js";

// ---- simple resources -----------------------------------------------------------------------

export const fieldsOf = (spec) => (typeof spec.fields === "function" ? spec.fields() : spec.fields);

export function simpleResource(spec) {
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

export const nameField = { name: "name", label: "Name", required: true };
export const descriptionField = { name: "description", label: "Description", type: "textarea" };
export const networkField = () => ({ name: "network_id", label: "Network", type: "select", options: session.networks.map((n) => [n.id, n.name]) });

export const pages = {};

pages.networks = simpleResource({
  route: "networks", title: "Networks", one: "network", path: "/api/v1/networks", filters: ["tag"],
  columns: [
    { label: "Name", sort: "name", cell: (n) => link(n.name, "#/hosts?network_id=" + encodeURIComponent(n.id)) },
    { label: "Description", cell: (n) => n.description || "" },
    { label: "Tags", cell: (n) => tagNames(n.tags) },
    { label: "Map", cell: (n) => link("map", "#/map/" + encodeURIComponent(n.id)) },
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

export const hostFields = () => [networkField(), nameField, { name: "hostname", label: "Hostname" }, descriptionField,
  { name: "hidden", label: "Hidden", type: "checkbox" }, { name: "tags", label: "Tags", type: "tags" }];

pages.hosts = (params) => collection({
  route: "hosts", title: "Hosts", one: "host", path: "/api/v1/hosts", filters: ["network", "tag"], tagAs: "Host",
  // The table shows addresses only: the lighter list entry.
  fixed: { include: "ip_addresses" },
  columns: [
    { label: "Name", sort: "name", cell: (h) => el("span", {}, link(h.name, "#/host/" + encodeURIComponent(h.id)), ...origin(h)) },
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
    location.hash = "#/host/" + encodeURIComponent(res.data.id);
  }),
  remove: (h) => confirmDelete("host " + h.name, "/api/v1/hosts/" + encodeURIComponent(h.id)),
}, params);

pages.services = (params) => {
  const hosts = new Map();
  return collection({
    route: "services", title: "Services", one: "service", path: "/api/v1/services", filters: ["network", "tag"], tagAs: "Service",
    columns: [
      { label: "Name", sort: "name", cell: (s) => link(s.name, "#/service/" + encodeURIComponent(s.id)) },
      { label: "Type", cell: (s) => s.service_definition },
      { label: "Host", cell: (s) => link((hosts.get(s.host_id) || { name: s.host_id }).name, "#/host/" + encodeURIComponent(s.host_id)) },
      // Two services of one type on one host are told apart by where they listen.
      { label: "Listens on", cell: (s) => s.bindings.map((b) => listensOn(b, hosts.get(s.host_id) || {})).join(", ") || "nowhere" },
      { label: "Network", cell: (s) => networkName(s.network_id) },
      { label: "Tags", cell: (s) => tagNames(s.tags) },
    ],
    // The page's hosts in one request, for their names, ports and addresses.
    prepare: async (items) => {
      const ids = [...new Set(items.map((s) => s.host_id))];
      if (ids.length === 0) return;
      const q = new URLSearchParams(ids.map((id) => ["ids", id]));
      q.set("limit", 0);
      for (const h of await get("/api/v1/hosts?" + q)) hosts.set(h.id, h);
    },
    remove: (s) => confirmDelete("service " + s.name, "/api/v1/services/" + encodeURIComponent(s.id)),
  }, params);
};
