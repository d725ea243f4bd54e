// A network shared read-only (/share/<token>): its map and hosts, without an account. Values go
// in with textContent, never as HTML; the map is drawn from the server's SVG as an image.

import { listensOn } from "/ui/listens.js";

const token = location.pathname.split("/").pop();
const api = "/api/v1/shares/" + encodeURIComponent(token);
let password = null;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "text") node.textContent = String(v);
    else node.setAttribute(k, String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

const headers = () => (password ? { "X-Portolan-Share-Password": password } : {});


async function open() {
  const view = document.getElementById("view");
  const error = document.getElementById("share-error");
  const res = await fetch(api, { headers: headers() });
  const body = await res.json().catch(() => null);
  if (res.status === 401 && body && body.field === "password") {
    document.getElementById("share-password").hidden = false;
    error.textContent = password ? body.message : "";
    document.getElementById("share-password-input").focus();
    return;
  }
  if (!res.ok || !body) {
    document.getElementById("share-password").hidden = true;
    view.replaceChildren(el("h2", { text: "This link does not work" }), el("p", { text: (body && body.message) || "HTTP " + res.status }));
    return;
  }
  document.getElementById("share-password").hidden = true;
  const data = body.data;
  // A data: URL (the page's policy allows no other image source but the server itself).
  const svg = await (await fetch(api + "/map.svg", { headers: headers() })).blob();
  const src = await new Promise((resolve) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.readAsDataURL(svg);
  });
  const image = el("img", { src, alt: "Map of " + data.network.name, id: "share-map" });
  const rows = data.hosts.map((h) => el("tr", {},
    el("td", { text: h.name }),
    el("td", { text: h.ip_addresses.map((i) => i.ip_address).join(", ") }),
    el("td", {}, el("ul", {}, h.services.map((s) => el("li", { text: s.name + (s.bindings.length ? " (" + s.bindings.map((b) => listensOn(b, h)).join(", ") + ")" : "") }))))));
  view.replaceChildren(...[
    el("h2", { text: data.network.name }),
    data.expires_at ? el("p", { text: "This link works until " + new Date(data.expires_at).toLocaleString() + "." }) : null,
    el("section", { "aria-label": "Map" }, image),
    el("section", { "aria-label": "Hosts" }, el("h3", { text: "Hosts" }),
      el("table", { id: "share-hosts" }, el("thead", {}, el("tr", {}, ["Host", "Addresses", "Services"].map((t) => el("th", { scope: "col", text: t })))), el("tbody", {}, rows))),
  ].filter(Boolean));
}

document.getElementById("share-password").addEventListener("submit", (event) => {
  event.preventDefault();
  password = document.getElementById("share-password-input").value;
  open();
});
open();
