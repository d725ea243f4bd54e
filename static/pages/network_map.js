// The map of a network, and its exports.

import { call, session, text } from "/ui/api.js";
import { button, el, isAdmin, panel, show, status } from "/ui/dom.js";
import { asOfBanner, asOfControl, when } from "/pages/history.js";
import { render } from "/app.js";

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
    frame, !at && isAdmin() ? await sharesSection(networkId) : null);
  svg.readable();
}

// Read-only links to this network's map and hosts for someone without an account (Admins).
async function sharesSection(networkId) {
  const path = "/api/v1/networks/" + encodeURIComponent(networkId) + "/shares";
  const shares = (await call("GET", path)).data;
  const section = el("section", { "aria-label": "Shares", id: "shares" }, el("h3", { text: "Share this map" }),
    el("p", { text: "A link shows this network's map and host list, read-only, to anyone who has it (and its password, if it has one), until it expires or is revoked." }));
  if (shares.length) {
    section.append(el("table", { "aria-label": "Links to this map" },
      el("thead", {}, el("tr", {}, ["Made", "Expires", "Password", ""].map((h) => el("th", { scope: "col", text: h })))),
      el("tbody", {}, shares.map((sh) => el("tr", {},
        el("td", { text: when(sh.created_at) }),
        el("td", { text: sh.expires_at ? when(sh.expires_at) : "never" }),
        el("td", { text: sh.has_password ? "yes" : "no" }),
        el("td", {}, button("Revoke", async () => {
          await call("DELETE", path + "/" + encodeURIComponent(sh.id));
          await render();
          status("Link revoked: it no longer opens.");
        }, "danger")))))));
  }
  const make = panel("Make a link", [
    { name: "expires_at", label: "Expires at", hint: "RFC 3339, e.g. 2027-01-01T00:00:00Z; empty: never" },
    { name: "password", label: "Password (optional, 10 to 256 characters)", type: "password", autocomplete: "new-password" }], {}, async (data) => {
    const body = {};
    if (data.expires_at) body.expires_at = data.expires_at;
    if (data.password) body.password = data.password;
    const made = (await call("POST", path, body)).data;
    await render();
    const link = new URL(made.link, location.origin).href;
    document.getElementById("shares").append(el("div", { className: "dialog-note", role: "alert", id: "new-share" },
      el("p", { text: "Anyone with this link sees the map. Copy it now: it is not shown again." }),
      el("a", { href: link, className: "secret", text: link })));
  });
  make.querySelector(".row button:last-child").remove();
  make.querySelector("button[type=submit]").textContent = "Make the link";
  section.append(make);
  return section;
}
