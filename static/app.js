// Portolan's read-only inventory view. Every value from the API goes in with textContent, never
// as HTML. The key lives in this tab's sessionStorage only.
"use strict";

const state = { network: null, hosts: [] };

async function api(path) {
  const key = sessionStorage.getItem("portolan-key");
  const res = await fetch(path, { headers: { Authorization: "Bearer " + key } });
  const body = await res.json();
  if (!body.success) throw new Error(body.code + ": " + body.message);
  return body.data;
}

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function showStatus(message) {
  document.getElementById("status").textContent = message || "";
}

function describeBinding(binding, ips, ports) {
  const ip = ips.get(binding.ip_address_id);
  if (binding.type === "IPAddress") return "present at " + (ip ? ip.ip_address : binding.ip_address_id);
  const port = ports.get(binding.port_id);
  const where = binding.ip_address_id ? "on " + (ip ? ip.ip_address : binding.ip_address_id) : "on all interfaces";
  return (port ? port.number + "/" + port.protocol : binding.port_id) + " " + where;
}

function renderHost(host) {
  const article = document.getElementById("host");
  article.replaceChildren();
  article.hidden = false;
  article.append(el("h2", host.name + (host.hostname ? " (" + host.hostname + ")" : "")));
  if (host.description) article.append(el("p", host.description));

  const ips = new Map(host.ip_addresses.map((i) => [i.id, i]));
  const ports = new Map(host.ports.map((p) => [p.id, p]));

  article.append(el("h3", "IP addresses"));
  const ipList = el("ul");
  for (const ip of host.ip_addresses) {
    ipList.append(el("li", ip.ip_address + (ip.mac_address ? "  " + ip.mac_address : "") + (ip.name ? "  " + ip.name : "")));
  }
  article.append(ipList);

  article.append(el("h3", "Ports"));
  const portList = el("ul");
  const byNumber = [...host.ports].sort((a, b) => a.number - b.number || a.protocol.localeCompare(b.protocol));
  for (const port of byNumber) {
    portList.append(el("li", port.number + "/" + port.protocol + "  " + port.type));
  }
  article.append(portList);

  article.append(el("h3", "Services"));
  const table = el("table");
  const head = el("tr");
  ["Service", "Type", "Listens"].forEach((h) => head.append(el("th", h)));
  table.append(head);
  for (const service of host.services) {
    const row = el("tr");
    row.append(el("td", service.name), el("td", service.service_definition));
    const cell = el("td");
    const list = el("ul", null, "bindings");
    for (const binding of service.bindings) list.append(el("li", describeBinding(binding, ips, ports)));
    cell.append(list);
    row.append(cell);
    table.append(row);
  }
  article.append(table);
}

async function openHost(id) {
  try {
    renderHost(await api("/api/v1/hosts/" + encodeURIComponent(id)));
    showStatus("");
  } catch (e) {
    showStatus(e.message);
  }
}

function renderHosts() {
  const body = document.querySelector("#hosts tbody");
  body.replaceChildren();
  for (const host of state.hosts) {
    const row = el("tr");
    const name = el("td");
    const link = el("a", host.name);
    link.href = "#" + host.id;
    link.addEventListener("click", (event) => {
      event.preventDefault();
      openHost(host.id);
    });
    name.append(link);
    row.append(name, el("td", host.hostname || ""));
    row.append(el("td", host.ip_addresses.map((i) => i.ip_address).join(", ")));
    row.append(el("td", host.ports.length), el("td", host.services.length));
    body.append(row);
  }
}

async function loadHosts() {
  const filter = state.network ? "&network_id=" + encodeURIComponent(state.network.id) : "";
  state.hosts = await api("/api/v1/hosts?limit=0&include=children&order_by=name" + filter);
  document.getElementById("hosts-title").textContent =
    "Hosts" + (state.network ? " in " + state.network.name : "") + " (" + state.hosts.length + ")";
  document.getElementById("host").hidden = true;
  renderHosts();
}

async function load() {
  try {
    const networks = await api("/api/v1/networks?limit=0&order_by=name");
    const list = document.getElementById("networks");
    list.replaceChildren();
    for (const network of [null, ...networks]) {
      const item = el("li");
      const button = el("button", network ? network.name : "All networks");
      button.type = "button";
      button.addEventListener("click", async () => {
        state.network = network;
        try {
          await loadHosts();
        } catch (e) {
          showStatus(e.message);
        }
      });
      item.append(button);
      list.append(item);
    }
    await loadHosts();
    document.getElementById("login").hidden = true;
    document.getElementById("inventory").hidden = false;
    showStatus("");
  } catch (e) {
    showStatus(e.message);
  }
}

document.getElementById("login").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem("portolan-key", document.getElementById("key").value.trim());
  load();
});

if (sessionStorage.getItem("portolan-key")) load();
