// Discoveries: start a scan, follow its progress live, cancel it, read what it found, apply a
// plan; and the schedules that start scans on their own.

import { ApiError, call, events, everything, get, session, text } from "/ui/api.js";
import { button, clearErrors, el, isAdmin, show, showError, status } from "/ui/dom.js";
import { link, networkName } from "/ui/table.js";
import { when } from "/pages/history.js";
import { render } from "/app.js";

export const TOP_PORTS = "21-23,25,53,80,81,110,139,143,443,445,465,587,631,993,995,1883,2049,3000,3306,3389,5000,5432,5900,6379,8000,8080,8081,8096,8123,8443,8888,9000,9090,9100,9443";

export const PORT_PRESETS = [
  ["catalog", "Default ports of the service-type catalogue"],
  ["top", "Top ports (" + TOP_PORTS.split(",").length + " common ones)"],
  ["custom", "Custom list"],
];

// The network's subnets, as the default targets of a scan.
export async function subnetsOf(networkId) {
  if (!networkId) return [];
  return (await everything("/api/v1/subnets?network_id=" + encodeURIComponent(networkId))).map((s) => s.cidr);
}

// The fields shared by a scan and a schedule: network, targets, ports, mode.
export function scanFields(form) {
  const network = el("select", { id: form + "-network", name: "network_id", required: true },
    el("option", { value: "", text: "Choose a network" }), session.networks.map((n) => el("option", { value: n.id, text: n.name })));
  const targets = el("textarea", { id: form + "-targets", name: "targets", rows: 2, placeholder: "192.168.1.0/24, 192.168.1.10" });
  // A scan (not a schedule) may run on an agent of the network that scans (started with --scan).
  const runner = el("select", { id: form + "-agent", name: "agent_id" }, el("option", { value: "", text: "This server" }));
  network.addEventListener("change", async () => {
    targets.value = (await subnetsOf(network.value)).join(", ");
    const agents = network.value && form === "scan"
      ? (await everything("/api/v1/agents?network_id=" + encodeURIComponent(network.value))).filter((a) => a.enabled && a.capabilities.scan)
      : [];
    runner.replaceChildren(el("option", { value: "", text: "This server" }),
      ...agents.map((a) => el("option", { value: a.id, text: "Agent " + a.name + (a.silent ? " (silent)" : "") })));
  });
  const preset = el("select", { id: form + "-preset", name: "preset" }, PORT_PRESETS.map(([v, t]) => el("option", { value: v, text: t })));
  const custom = el("input", { id: form + "-ports", name: "ports", placeholder: "22,80,443,8000-8100", hidden: true });
  preset.addEventListener("change", () => (custom.hidden = preset.value !== "custom"));
  const mode = el("select", { id: form + "-mode", name: "mode" },
    el("option", { value: "apply", text: "Apply what it finds" }), el("option", { value: "plan", text: "Plan only (review, then apply)" }));
  const field = (label, input, hint) => el("div", { className: "field", "data-field": input.name },
    el("label", { for: input.id, text: label }), input, hint ? el("p", { className: "hint", text: hint }) : null, el("p", { className: "error", role: "alert" }));
  const nodes = [
    field("Network", network),
    field("Targets", targets, "Addresses and CIDR blocks inside the network's subnets; filled with its subnets."),
    field("Ports", preset), custom,
    field("Mode", mode),
  ];
  if (form === "scan") nodes.splice(1, 0, field("Scan from", runner, "An agent scans its own segment, which this server may not reach."));
  const read = () => ({
    network_id: network.value,
    targets: targets.value.split(/[\s,]+/).filter(Boolean),
    ports: preset.value === "catalog" ? "catalog" : preset.value === "top" ? TOP_PORTS : custom.value,
    mode: mode.value,
    ...(form === "scan" && runner.value ? { agent_id: runner.value } : {}),
  });
  return { nodes, read };
}

export function summaryText(d) {
  const s = d.summary;
  if (!s) return d.status === "running" || d.status === "queued" ? "…" : "";
  const parts = [];
  if (s.hosts_created) parts.push(s.hosts_created + " hosts new");
  if (s.services_created) parts.push(s.services_created + " services new");
  if (s.bindings_seen) parts.push(s.bindings_seen + " seen");
  if (s.bindings_closed) parts.push(s.bindings_closed + " closed");
  if (s.skipped) parts.push(s.skipped + " skipped");
  return parts.join(", ") || "nothing new";
}

export async function discoveriesPage() {
  const admin = isAdmin();
  const holder = el("div");
  let start = null;
  if (admin) {
    const fields = scanFields("scan");
    start = el("form", { className: "panel", "aria-label": "Scan a network", novalidate: true },
      el("h3", { text: "Scan a network" }), el("p", { className: "error form-error", role: "alert" }), ...fields.nodes,
      el("div", { className: "row" }, el("button", { type: "submit", className: "primary" }, "Start scan")));
    start.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(start);
      try {
        const res = await call("POST", "/api/v1/discoveries", fields.read());
        location.hash = "#/discovery/" + encodeURIComponent(res.data.id);
      } catch (e) {
        if (!(e instanceof ApiError)) throw e;
        showError(start, e);
      }
    });
  }
  const list = await get("/api/v1/discoveries?limit=25");
  const table = el("table", {}, el("caption", { className: "muted", text: "Latest discoveries" }),
    el("thead", {}, el("tr", {}, ["Started", "Source", "Network", "Status", "Found"].map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, list.map((d) => el("tr", { "data-id": d.id },
      el("td", {}, link(when(d.created_at), "#/discovery/" + encodeURIComponent(d.id))),
      el("td", { text: d.source + (d.mode === "plan" ? " (plan)" : "") }),
      el("td", { text: networkName(d.network_id) }),
      el("td", { text: d.status }),
      el("td", { text: summaryText(d) })))));
  show(el("h2", { text: "Discoveries" }),
    el("p", { className: "muted", text: "TCP connect scans (no ping first: hosts that drop pings are found; UDP is not scanned), nmap uploads and agents' observations, all reconciled with the binding rules." }),
    start, holder, table, await schedulesSection(admin));
}

export async function schedulesSection(admin) {
  const schedules = await get("/api/v1/discovery-schedules?limit=0");
  const rows = schedules.map((s) => el("tr", { "data-id": s.id },
    el("td", { text: s.name }), el("td", { text: networkName(s.network_id) }), el("td", { text: s.targets.join(", ") }),
    el("td", { text: "every " + s.interval_minutes + " min" }),
    el("td", { text: s.enabled ? when(s.next_run_at) : "paused" }),
    el("td", { className: "actions" }, admin ? [
      button(s.enabled ? "Pause" : "Resume", async () => {
        await call("PUT", "/api/v1/discovery-schedules/" + encodeURIComponent(s.id), { network_id: s.network_id, name: s.name, targets: s.targets,
          ports: s.ports, options: s.options, mode: s.mode, interval_minutes: s.interval_minutes, enabled: !s.enabled });
        render();
      }),
      button("Delete", async () => {
        if (!window.confirm("Delete schedule " + s.name + "?")) return;
        await call("DELETE", "/api/v1/discovery-schedules/" + encodeURIComponent(s.id));
        render();
      }, "danger")] : null)));
  const table = el("table", {}, el("caption", { className: "muted", text: schedules.length + " schedules" }),
    el("thead", {}, el("tr", {}, ["Name", "Network", "Targets", "Interval", "Next run", ""].map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, rows));
  const section = el("section", { "aria-label": "Schedules" }, el("h3", { text: "Schedules" }), table);
  if (admin) {
    const fields = scanFields("schedule");
    const name = el("input", { id: "schedule-name", name: "name", required: true });
    const interval = el("input", { id: "schedule-interval", name: "interval_minutes", type: "number", min: 5, value: 1440 });
    const form = el("form", { className: "panel", "aria-label": "New schedule", novalidate: true },
      el("h3", { text: "New schedule" }), el("p", { className: "error form-error", role: "alert" }),
      el("div", { className: "field", "data-field": "name" }, el("label", { for: "schedule-name", text: "Name" }), name, el("p", { className: "error", role: "alert" })),
      ...fields.nodes,
      el("div", { className: "field", "data-field": "interval_minutes" }, el("label", { for: "schedule-interval", text: "Every (minutes, at least 5)" }), interval, el("p", { className: "error", role: "alert" })),
      el("div", { className: "row" }, el("button", { type: "submit", className: "primary" }, "Create schedule")));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(form);
      try {
        await call("POST", "/api/v1/discovery-schedules", { ...fields.read(), name: name.value, interval_minutes: Number(interval.value) });
        render();
      } catch (e) {
        if (!(e instanceof ApiError)) throw e;
        showError(form, e);
      }
    });
    section.append(form);
  }
  return section;
}

// Follows the discovery's Server-Sent Events until the stream ends or the user leaves the page.
export const follow = (id, onEvent) => events("/api/v1/discoveries/" + encodeURIComponent(id) + "/events", onEvent);

export function progressBar(d) {
  const p = d.progress || {};
  const bar = el("progress", { id: "scan-progress", max: p.probes_total || 1, value: p.probes_done || 0, "aria-label": "Scan progress" });
  const label = el("p", { id: "scan-progress-text", "aria-live": "polite" });
  const update = (status, progress) => {
    bar.max = progress.probes_total || 1;
    bar.value = progress.probes_done || 0;
    label.textContent = status + ": " + (progress.probes_done || 0) + " of " + (progress.probes_total || 0) + " probes, " +
      (progress.addresses_done || 0) + " of " + (progress.addresses_total || 0) + " addresses, " + (progress.open_found || 0) + " open ports";
  };
  update(d.status, p);
  return { node: el("div", { className: "progress" }, bar, label), update };
}

export const PLAN_WORDS = { create: "create", see: "see again", close: "close" };

export function resultSection(d) {
  const s = d.summary || {};
  const counts = [["Hosts", s.hosts_created, s.hosts_seen], ["IP addresses", s.ip_addresses_created, null], ["Ports", s.ports_created, null],
    ["Services", s.services_created, null], ["Bindings", s.bindings_created, s.bindings_seen]];
  const summary = el("table", {}, el("caption", { text: d.mode === "plan" && !d.applied_at ? "What an apply would do" : "What it did" }),
    el("thead", {}, el("tr", {}, ["", "Created", "Seen again"].map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, counts.map(([what, created, seen]) => el("tr", {}, el("th", { scope: "row", text: what }),
      el("td", { text: created || 0 }), el("td", { text: seen == null ? "" : seen })))));
  const extra = el("p", { className: "muted", text: (s.bindings_closed || 0) + " bindings closed, " + (s.skipped || 0) + " skipped (a binding rule refused them)" });
  const nodes = [summary, extra];
  if (d.plan) {
    const entries = d.plan.filter((e) => e.action !== "see");
    nodes.push(el("table", { id: "plan" }, el("caption", { text: entries.length + " changes planned" }),
      el("thead", {}, el("tr", {}, ["Change", "Object", "Why"].map((h) => el("th", { scope: "col", text: h })))),
      el("tbody", {}, entries.map((e) => el("tr", {}, el("td", { text: PLAN_WORDS[e.action] || e.action }),
        el("td", { text: e.entity_type.replace("_", " ") + " " + (e.entity.name || e.entity.ip_address || (e.entity.number ? e.entity.number + "/" + e.entity.protocol : "") || "") }),
        el("td", { text: e.reason }))))));
    if (!d.applied_at && isAdmin()) {
      nodes.push(button("Apply", async () => {
        try {
          await call("POST", "/api/v1/discoveries/" + encodeURIComponent(d.id) + "/apply");
          status("Applied.");
          render();
        } catch (e) {
          if (!(e instanceof ApiError)) throw e;
          status(e.message);
        }
      }, "primary"));
    } else if (d.applied_at) {
      nodes.push(el("p", { text: "Applied " + when(d.applied_at) + "." }));
    }
  }
  return el("section", { "aria-label": "Result" }, el("h3", { text: "Result" }), ...nodes);
}

export async function discoveryPage(id) {
  const d = await get("/api/v1/discoveries/" + encodeURIComponent(id));
  const running = d.status === "queued" || d.status === "running";
  const title = el("h2", { text: (d.source === "scan" ? "Scan" : d.source === "nmap" ? "nmap import" : "Observations") + " of " + networkName(d.network_id) });
  const facts = el("p", { className: "muted", text: "Targets " + d.targets.join(", ") + (d.ports.length ? " · " + d.ports.length + " ports" : "") +
    " · " + (d.mode === "plan" ? "plan" : "apply") + " · started " + when(d.created_at) + (d.error ? " · " + d.error : "") });
  const bar = progressBar(d);
  const cancel = running && isAdmin() ? button("Cancel", async () => {
    await call("POST", "/api/v1/discoveries/" + encodeURIComponent(d.id) + "/cancel");
    render();
  }, "danger") : null;
  show(link("All discoveries", "#/discoveries"), title, facts, bar.node, cancel, running ? null : resultSection(d));
  if (running) {
    await follow(d.id, (name, data) => {
      if (name === "progress") bar.update(data.status, data.progress);
      if (name === "finished" && location.hash === "#/discovery/" + encodeURIComponent(d.id)) render();
    });
  }
}
