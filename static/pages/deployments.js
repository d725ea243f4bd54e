// Deployments: a template deployed from its page to hosts with a deploying agent (plan first,
// then followed live host by host), a deployment's page with its logs, cancel and undeploy, and
// the deployments of a host.

import { ApiError, call, events, get } from "/ui/api.js";
import { button, clearErrors, el, isAdmin, show, showError, status } from "/ui/dom.js";
import { collection, link } from "/ui/table.js";
import { when } from "/pages/history.js";
import { pages } from "/pages/resources.js";
import { render } from "/app.js";

const FINISHED = ["healthy", "failed", "rolled_back", "cancelled", "undeployed"];

// Hosts whose agent deploys (enabled, started with --deploy, not silent), with their names.
async function deployableHosts() {
  const agents = (await call("GET", "/api/v1/agents?limit=200")).data
    .filter((a) => a.host_id && a.enabled && a.capabilities.deploy && !a.silent);
  if (!agents.length) return [];
  const ids = [...new Set(agents.map((a) => a.host_id))];
  const hosts = (await call("GET", "/api/v1/hosts?limit=200&" + ids.map((i) => "ids=" + encodeURIComponent(i)).join("&"))).data;
  return hosts.map((h) => ({ id: h.id, name: h.name, agent: agents.find((a) => a.host_id === h.id).name }));
}

function bindingText(b) {
  return (b.ip_address || "every address") + ":" + b.port + "/" + b.protocol;
}

// What a plan says each host gets, and what stops it.
function planView(d, names) {
  return el("section", { "aria-label": "Plan", id: "deploy-plan" },
    el("h4", { text: "Plan" }),
    el("table", {}, el("thead", {}, el("tr", {}, ["Host", "Services", "Bindings", "Conflicts"].map((h) => el("th", { scope: "col", text: h })))),
      el("tbody", {}, (d.plan || []).map((p) => el("tr", {},
        el("td", { text: names.get(p.host_id) || p.host_id }),
        el("td", { text: p.services.map((s) => s.name).join(", ") }),
        el("td", { text: p.services.flatMap((s) => s.bindings.map(bindingText)).join(", ") || "none" }),
        el("td", { className: p.conflicts.length ? "error" : "" , text: p.conflicts.map((c) => c.message + (c.hint ? " (" + c.hint + ")" : "")).join("; ") || "none" }))))),
    el("h4", { text: "Compose file" }),
    el("pre", { className: "compose", text: d.compose }));
}

// The Deploy section of a template page (Admins).
export async function deploySection(template) {
  if (!isAdmin()) return null;
  const section = el("section", { "aria-label": "Deploy", id: "deploy" }, el("h3", { text: "Deploy" }));
  const hosts = await deployableHosts();
  if (!hosts.length) {
    section.append(el("p", { className: "muted", text: "No host can deploy yet: run `portolan agent --deploy` on a host (see Agents)." }));
    return section;
  }
  const names = new Map(hosts.map((h) => [h.id, h.name]));
  const form = el("form", { className: "panel", novalidate: true, "aria-label": "Deploy " + template.name });
  const boxes = hosts.map((h) => el("input", { type: "checkbox", name: "host_ids", value: h.id, id: "deploy-host-" + h.id }));
  const env = el("textarea", { id: "deploy-env", name: "env", rows: 3, placeholder: '{"WEB_PORT": "8080"}' });
  const out = el("div", { id: "deploy-output" });
  form.append(
    el("p", { className: "error form-error", role: "alert" }),
    el("fieldset", { className: "field", "data-field": "host_ids" }, el("legend", { text: "Hosts" }),
      ...hosts.map((h, i) => el("div", {}, boxes[i], el("label", { for: boxes[i].id, text: " " + h.name + " (agent " + h.agent + ")" }))),
      el("p", { className: "error", role: "alert" })),
    el("div", { className: "field", "data-field": "env" },
      el("label", { for: "deploy-env", text: "Environment over the template's (JSON object, optional)" }), env,
      el("p", { className: "error", role: "alert" })),
    el("div", { className: "row" },
      el("button", { type: "submit", className: "primary", value: "plan" }, "Preview plan"),
      el("button", { type: "submit", value: "apply" }, "Deploy")),
    out);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const mode = event.submitter ? event.submitter.value : "plan";
    let overrides;
    try {
      overrides = env.value.trim() ? JSON.parse(env.value) : {};
    } catch {
      form.querySelector('[data-field="env"] .error').textContent = "Not JSON: write an object such as {\"PORT\": \"8080\"}.";
      return;
    }
    const body = { template_id: template.id, host_ids: boxes.filter((b) => b.checked).map((b) => b.value), env: overrides, mode };
    try {
      const res = await call("POST", "/api/v1/deployments", body);
      if (mode === "plan") out.replaceChildren(planView(res.data, names));
      else location.hash = "#/deployment/" + encodeURIComponent(res.data.id);
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      showError(form, e);
    }
  });
  section.append(form);
  return section;
}

function targetsTable(d, names) {
  return el("table", { id: "deployment-targets" },
    el("thead", {}, el("tr", {}, ["Host", "Status", "Health checks", "Error", "Log"].map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, d.targets.map((t) => el("tr", { "data-host": t.host_id },
      el("td", {}, link(names.get(t.host_id) || "host", "#/host/" + encodeURIComponent(t.host_id))),
      el("td", {}, el("span", { className: "badge target-status", text: t.status.replace("_", " ") })),
      el("td", { text: t.attempts }),
      el("td", { className: t.error ? "error" : "", text: t.error || "" }),
      el("td", {}, t.log ? el("details", {}, el("summary", { text: "Log" }), el("pre", { text: t.log })) : "")))));
}

// A deployment, followed live while it runs.
export async function deploymentPage(id) {
  const d = await get("/api/v1/deployments/" + encodeURIComponent(id));
  const hosts = (await call("GET", "/api/v1/hosts?limit=200&" + d.host_ids.map((i) => "ids=" + encodeURIComponent(i)).join("&"))).data;
  const names = new Map(hosts.map((h) => [h.id, h.name]));
  const state = el("p", { id: "deployment-status", "aria-live": "polite" });
  const table = el("div");
  const actions = el("div", { className: "row" });
  const update = (now) => {
    state.textContent = "Status: " + now.status.replace("_", " ") + (now.finished_at ? ", finished " + new Date(now.finished_at).toLocaleString() : "");
    table.replaceChildren(targetsTable(now, names));
    actions.replaceChildren();
    if (!isAdmin()) return;
    if (now.mode === "plan") actions.append(button("Apply plan", () => act(now, "apply")));
    if (!FINISHED.includes(now.status)) actions.append(button("Cancel", () => act(now, "cancel"), "danger"));
    else if (now.status !== "undeployed" && now.targets.some((t) => t.status === "healthy")) {
      actions.append(button("Undeploy", () => act(now, "undeploy"), "danger"));
    }
  };
  const act = async (now, what) => {
    if (what === "undeploy" && !window.confirm("Take " + now.template_name + " down on its hosts and close its services?")) return;
    try {
      await call("POST", "/api/v1/deployments/" + encodeURIComponent(now.id) + "/" + what);
      render();
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      status(e.message);
    }
  };
  update(d);
  show(el("h2", { text: "Deployment of " + d.template_name }),
    el("p", { className: "muted" }, "Template ", link(d.template_name, "#/template/" + encodeURIComponent(d.template_id)),
      " · image " + d.image + " · " + d.strategy + " · created " + when(d.created_at)),
    state, actions, table,
    d.plan ? planView(d, names) : null);
  events("/api/v1/deployments/" + encodeURIComponent(id) + "/events", (_, now) => update(now));
}

// The deployments of a host, for its page.
export async function hostDeployments(hostId) {
  const list = (await call("GET", "/api/v1/deployments?limit=20&host_id=" + encodeURIComponent(hostId))).data;
  if (!list.length) return null;
  return el("section", { "aria-label": "Deployments" }, el("h3", { text: "Deployments" }),
    el("table", {}, el("thead", {}, el("tr", {}, ["Template", "Status here", "Deployment", "Created"].map((h) => el("th", { scope: "col", text: h })))),
      el("tbody", {}, list.map((d) => el("tr", {},
        el("td", { text: d.template_name }),
        el("td", { text: (d.targets.find((t) => t.host_id === hostId) || {}).status || "" }),
        el("td", {}, link(d.status.replace("_", " "), "#/deployment/" + encodeURIComponent(d.id))),
        el("td", { text: when(d.created_at) }))))));
}

pages.deployments = (params) => collection({
  route: "deployments", title: "Deployments", one: "deployment", path: "/api/v1/deployments", search: false,
  columns: [
    { label: "Template", cell: (d) => link(d.template_name, "#/deployment/" + encodeURIComponent(d.id)) },
    { label: "Image", cell: (d) => d.image },
    { label: "Hosts", cell: (d) => String(d.host_ids.length) },
    { label: "Status", cell: (d) => d.status.replace("_", " ") + (d.mode === "plan" ? " (plan)" : "") },
    { label: "Created", cell: (d) => when(d.created_at) },
  ],
}, params);
