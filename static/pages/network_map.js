// The map of a network, and its exports.

import { session, text } from "/ui/api.js";
import { button, el, show } from "/ui/dom.js";
import { asOfBanner, asOfControl } from "/pages/history.js";

// ---- map ----------------------------------------------------------------------------------------

export async function mapPage(networkId, params) {
  const at = new URLSearchParams(params).get("at");
  const asOf = at ? "&at=" + encodeURIComponent(at) : "";
  if (!networkId) {
    if (session.networks.length === 0) return show(el("h2", { text: "Map" }), el("p", { text: "Create a network first." }));
    location.hash = "#/map/" + encodeURIComponent(session.networks[0].id);
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
