// A host with its addresses, ports and services; a service.

import { ApiError, call, everything, fresh, get, text } from "/ui/api.js";
import { hostDeployments } from "/pages/deployments.js";
import { button, byId, canWrite, confirmDelete, el, panel, show } from "/ui/dom.js";
import { choices, link, networkName, origin, tagNames } from "/ui/table.js";
import { hostFields, nameField } from "/pages/resources.js";
import { asLive, asOfBanner, asOfControl, bindingText, historySection, namesFrom, recentChanges, when } from "/pages/history.js";
import { impactSection } from "/pages/dependencies.js";
import { render } from "/app.js";

// ---- host page --------------------------------------------------------------------------------

export function describeBinding(b, ips, ports) {
  const ip = ips.get(b.ip_address_id);
  if (b.type === "IPAddress") return "on " + (ip ? ip.ip_address : "?") + " (address only)";
  const port = ports.get(b.port_id);
  return (port ? port.number + "/" + port.protocol : "?") + " " + (b.ip_address_id ? "on " + (ip ? ip.ip_address : "?") : "on all interfaces");
}

// One row of the bindings editor: IP address only, a port on one IP, or a port on all IPs.
export function bindingRow(host, binding) {
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
// Editing a type changes what the service form offers: the next form reads them again.
export const forgetServiceTypes = () => (serviceTypes = null);
export async function loadServiceTypes() {
  if (!serviceTypes) serviceTypes = await everything("/api/v1/service-types");
  return serviceTypes;
}

export async function serviceForm(host, service, holder) {
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
    if (service) await call("PUT", "/api/v1/services/" + encodeURIComponent(service.id), body);
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

export function missingDefaultPorts(host, types, typeId) {
  const t = types.find((x) => x.id === typeId);
  if (!t) return [];
  return t.default_ports.filter((d) => !host.ports.some((p) => p.number === d.number && p.protocol === d.protocol));
}

export async function hostPage(id, params) {
  const at = new URLSearchParams(params).get("at");
  const live = "#/host/" + encodeURIComponent(id);
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
        button("Edit", async () => open(ipForm(host, await fresh("/api/v1/ip-addresses/" + encodeURIComponent(i.id)), holder))),
        button("Delete", async () => (await confirmDelete("IP address " + i.ip_address, "/api/v1/ip-addresses/" + encodeURIComponent(i.id))) && render(), "danger")] : null)))));
  const sortedPorts = [...host.ports].sort((a, b) => a.number - b.number || a.protocol.localeCompare(b.protocol));
  const portTable = el("table", {}, el("thead", {}, el("tr", {}, ["Port", "Protocol", "Type", ""].map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, sortedPorts.map((p) => el("tr", { "data-id": p.id }, el("td", { text: p.number }), el("td", { text: p.protocol }), el("td", { text: p.type }),
      el("td", { className: "actions" }, writable ? [
        button("Edit", async () => open(portForm(host, await fresh("/api/v1/ports/" + encodeURIComponent(p.id)), holder))),
        button("Delete", async () => (await confirmDelete("port " + p.number + "/" + p.protocol, "/api/v1/ports/" + encodeURIComponent(p.id))) && render(), "danger")] : null)))));
  const serviceTable = el("table", {}, el("thead", {}, el("tr", {}, ["Service", "Type", "Runs as", "Listens", ""].map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, host.services.map((s) => el("tr", { "data-id": s.id }, el("td", {}, link(s.name, "#/service/" + encodeURIComponent(s.id)), ...origin(s)), el("td", { text: s.service_definition }),
      el("td", { text: runsAs(s) }),
      el("td", {}, el("ul", { className: "bindings" }, s.bindings.map((b) => el("li", { text: describeBinding(b, ips, ports) })))),
      el("td", { className: "actions" }, writable ? [
        button("Edit", async () => open(await serviceForm(host, await fresh("/api/v1/services/" + encodeURIComponent(s.id)), holder))),
        button("Delete", async () => (await confirmDelete("service " + s.name, "/api/v1/services/" + encodeURIComponent(s.id))) && render(), "danger")] : null)))));

  const title = el("h2", { text: host.name + (host.hostname ? " (" + host.hostname + ")" : "") });
  const found = origin(host).filter(Boolean);
  const facts = el("p", { className: "muted" }, "Network ", link(networkName(host.network_id), "#/hosts?network_id=" + encodeURIComponent(host.network_id)),
    host.tags.length ? " · Tags: " + tagNames(host.tags) : "", " · ",
    link("map", "#/map/" + encodeURIComponent(host.network_id) + (at ? "?at=" + encodeURIComponent(at) : "")),
    found.length ? el("span", {}, " · ", ...found, " last seen " + when(host.last_seen_at)) : null);
  const entries = await recentChanges("host_id=" + encodeURIComponent(id));
  const history = historySection(entries, namesFrom(entries, host), (t) => live + "?at=" + encodeURIComponent(t));
  const agents = (await call("GET", "/api/v1/agents?network_id=" + encodeURIComponent(host.network_id) + "&limit=200")).data.filter((a) => a.host_id === host.id);
  if (agents.length) facts.append(" · Agent ", ...agents.map((a) => link(a.name + (a.silent ? " (silent)" : ""), "#/agents?network_id=" + encodeURIComponent(host.network_id))),
    " last report " + when(agents[0].last_seen_at));
  const actions = writable ? el("div", { className: "row" },
    button("Edit host", () => open(panel("Edit host", hostFields(), host, async (data) => {
      await call("PUT", "/api/v1/hosts/" + encodeURIComponent(host.id), data);
      render();
    }))),
    button("Delete host", async () => (await confirmDelete("host " + host.name, "/api/v1/hosts/" + encodeURIComponent(host.id))) && (location.hash = "#/hosts"), "danger")) : null;
  show(asOfBanner(at, live), title, facts, host.description ? el("p", { text: host.description }) : null, actions,
    asOfControl(at, live), holder,
    section("IP addresses", "Add IP address", () => open(ipForm(host, null, holder)), ipTable),
    section("Ports", "Add port", () => open(portForm(host, null, holder)), portTable),
    section("Services", "Add service", async () => open(await serviceForm(host, null, holder)), serviceTable),
    at ? null : await hostDeployments(host.id),
    history);
}

// What an agent reported the service runs as: its container (compose project and state) or its
// program.
export function runsAs(service) {
  if (service.container) {
    const c = service.container;
    return "container " + c.name + (c.compose_project ? " (compose " + c.compose_project + "/" + c.compose_service + ")" : "") + ", " + c.image + ", " + c.state;
  }
  if (service.process) return "program " + service.process.name + (service.process.exe ? " (" + service.process.exe + ")" : "");
  return "";
}

// A service: where it listens, and its history (its bindings' too), also after it was deleted.
export async function servicePage(id) {
  const entries = await recentChanges("service_id=" + encodeURIComponent(id));
  const service = await get("/api/v1/services/" + encodeURIComponent(id)).catch((e) => {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  });
  // Port and address names come from the host's own journal, which outlives them.
  const hostId = service ? service.host_id : entries.map((e) => (e.after || e.before).host_id).find(Boolean);
  const parts = hostId ? await everything("/api/v1/changes?entity_type=port&entity_type=ip_address&host_id=" + hostId) : [];
  const host = service ? await get("/api/v1/hosts/" + encodeURIComponent(service.host_id)) : null;
  const names = namesFrom(entries.concat(parts), host);
  const history = historySection(entries, names, null);
  if (!service) {
    return show(el("h2", { text: "Service (deleted)" }), el("p", { className: "muted", text: "This service no longer exists; its history remains." }), history);
  }
  show(el("h2", { text: service.name }),
    el("p", { className: "muted" }, service.service_definition + " on ", link(host.name, "#/host/" + encodeURIComponent(host.id)),
      " · listening since " + when(service.valid_from)),
    runsAs(service) ? el("p", { className: "runs-as", text: "Runs as " + runsAs(service) }) : null,
    el("section", { "aria-label": "Bindings" }, el("h3", { text: "Bindings" }),
      el("ul", { className: "bindings" }, service.bindings.map((b) => el("li", { text: bindingText(b, names) })))),
    await impactSection(service.id), history);
}

export function ipForm(host, ip, holder) {
  return panel(ip ? "Edit IP address" : "New IP address", [
    { name: "ip_address", label: "IP address", required: true },
    { name: "mac_address", label: "MAC address" },
    { name: "name", label: "Name", hint: "For example eth0" },
    { name: "position", label: "Position", type: "number" },
  ], ip || {}, async (data) => {
    const body = { ...data, host_id: host.id, position: data.position == null ? undefined : data.position };
    if (ip) await call("PUT", "/api/v1/ip-addresses/" + encodeURIComponent(ip.id), body);
    else await call("POST", "/api/v1/ip-addresses", body);
    holder.replaceChildren();
    render();
  });
}

export function portForm(host, port, holder) {
  return panel(port ? "Edit port" : "New port", [
    { name: "number", label: "Number", type: "number", required: true },
    { name: "protocol", label: "Protocol", type: "select", options: choices("PortInput", "protocol") },
  ], port || {}, async (data) => {
    const body = { ...data, host_id: host.id };
    if (port) await call("PUT", "/api/v1/ports/" + encodeURIComponent(port.id), body);
    else await call("POST", "/api/v1/ports", body);
    holder.replaceChildren();
    render();
  });
}
