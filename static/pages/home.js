// The home page a person lands on after signing in: what the inventory holds, what changed
// lately, what is new or stale, and what needs a look (running discoveries, silent agents,
// failing deployments).

import { call } from "/ui/api.js";
import { el, show } from "/ui/dom.js";
import { link } from "/ui/table.js";
import { when } from "/pages/history.js";

const total = async (path) => (await call("GET", path + (path.includes("?") ? "&" : "?") + "limit=1")).meta.pagination.total_count;

function list(title, items, line, empty) {
  return el("section", { "aria-label": title, className: "home-card" }, el("h3", { text: title }),
    items.length ? el("ul", {}, items.map((i) => el("li", {}, ...[].concat(line(i))))) : el("p", { className: "muted", text: empty }));
}

export async function homePage() {
  const [hosts, services, networks, changes, created, stale, running, agents, failing] = await Promise.all([
    total("/api/v1/hosts"), total("/api/v1/services"), total("/api/v1/networks"),
    call("GET", "/api/v1/changes?limit=8").then((r) => r.data),
    call("GET", "/api/v1/changes?entity_type=host&action=create&limit=5").then((r) => r.data),
    call("GET", "/api/v1/hosts?stale=true&limit=5").then((r) => r.data),
    call("GET", "/api/v1/discoveries?status=running&limit=5").then((r) => r.data),
    call("GET", "/api/v1/agents?limit=200").then((r) => r.data.filter((a) => a.silent)),
    call("GET", "/api/v1/deployments?status=failed&limit=5").then((r) => r.data),
  ]);
  const count = (n, what, hash) => el("li", {}, link(n + " " + what, hash));
  const name = (c) => (c.after || c.before || {}).name || (c.after || c.before || {}).ip_address || c.entity_id;
  show(el("h2", { text: "Home" }),
    el("section", { "aria-label": "The inventory", className: "home-card" }, el("h3", { text: "The inventory" }),
      el("ul", { className: "counts" }, count(hosts, "hosts", "#/hosts"), count(services, "services", "#/services"), count(networks, "networks", "#/networks"))),
    list("Latest changes", changes, (c) => [c.entity_type + " " + c.action + ": " + name(c) + " by " + (c.actor.name || c.actor.type) + ", " + when(c.time)],
      "Nothing changed yet."),
    list("New hosts", created, (c) => [link(name(c), "#/host/" + encodeURIComponent(c.entity_id)), " " + when(c.time)], "No host made lately."),
    list("Stale hosts", stale, (h) => [link(h.name, "#/host/" + encodeURIComponent(h.id)), " last seen " + when(h.last_seen_at)], "Nothing discovery stopped seeing."),
    list("Running discoveries", running, (d) => [link(d.source + " in progress", "#/discovery/" + encodeURIComponent(d.id))], "No discovery running."),
    list("Silent agents", agents, (a) => [link(a.name, "#/agents"), a.last_seen_at ? " last heard " + when(a.last_seen_at) : " never heard"], "Every agent reports."),
    list("Failing deployments", failing, (d) => [link(d.template_name, "#/deployment/" + encodeURIComponent(d.id)), " " + when(d.created_at)], "No failed deployment."));
}
