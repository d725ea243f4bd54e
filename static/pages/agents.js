// Agents: `portolan agent` on each host. Admins add, rotate, disable and delete them; the token
// is shown once, with the command line and a systemd unit that use it.

import { call, fresh, session } from "/ui/api.js";
import { button, confirmDelete, el, isAdmin, panel, view } from "/ui/dom.js";
import { collection, link, networkName } from "/ui/table.js";
import { nameField } from "/pages/resources.js";
import { when } from "/pages/history.js";
import { render } from "/app.js";

// The download's checksum and architecture, asked once per page (a HEAD: no body).
async function download() {
  const res = await fetch("/download/portolan", { method: "HEAD" });
  return { sha: res.headers.get("X-Portolan-Sha256") || "", arch: res.headers.get("X-Portolan-Architecture") || "" };
}

function unit(server) {
  return ["[Unit]", "Description=Portolan agent", "After=network-online.target docker.service", "Wants=network-online.target", "",
    "[Service]", "Environment=PORTOLAN_AGENT_SERVER=" + server, "EnvironmentFile=/etc/portolan-agent.env",
    "ExecStart=/usr/local/bin/portolan agent", "Restart=on-failure", "RestartSec=30", "", "[Install]", "WantedBy=multi-user.target"].join("\n");
}

async function tokenNote(title, agent, token) {
  const server = location.origin;
  const { sha, arch } = await download();
  const command = "curl -fsSLo portolan " + server + "/download/portolan && chmod +x portolan && ./portolan agent --server " + server + " --token " + token;
  return el("section", { className: "dialog-note", role: "alert", "aria-label": "Token of " + agent.name },
    el("p", { text: title + " Copy the token now: it is not shown again." }),
    el("code", { className: "secret", text: token }),
    el("p", { text: "On the host (" + arch + ", the server's own architecture), run:" }),
    el("code", { className: "secret command", text: command }),
    el("p", { text: "The download is this server's executable, SHA-256 " + sha + "." }),
    el("p", { text: "To keep it running, put PORTOLAN_AGENT_TOKEN=" + token + " in /etc/portolan-agent.env and this unit in /etc/systemd/system/portolan-agent.service:" }),
    el("pre", { className: "secret", text: unit(server) }));
}

const capabilities = (a) => Object.entries(a.capabilities).filter(([, on]) => on).map(([c]) => c).join(", ") || "none";

export function agentsPage(params) {
  const admin = isAdmin();
  const networks = () => session.networks.map((n) => [n.id, n.name]);
  const show = async (title, agent, token) => {
    await render();
    document.getElementById("agent-token").replaceChildren(await tokenNote(title, agent, token));
  };
  const hostNames = new Map();
  return collection({
    route: "agents", title: "Agents", one: "agent", path: "/api/v1/agents", filters: ["network"],
    prepare: async (items) => {
      const ids = [...new Set(items.map((a) => a.host_id).filter(Boolean))];
      if (!ids.length) return;
      const hosts = await call("GET", "/api/v1/hosts?include=ip_addresses&limit=200&" + ids.map((i) => "ids=" + encodeURIComponent(i)).join("&"));
      for (const h of hosts.data) hostNames.set(h.id, h.name);
    },
    columns: [
      { label: "Name", cell: (a) => a.name },
      { label: "Network", cell: (a) => networkName(a.network_id) },
      { label: "Host", cell: (a) => (a.host_id ? link(hostNames.get(a.host_id) || "host", "#/host/" + a.host_id) : "not reported yet") },
      { label: "Version", cell: (a) => a.version || "" },
      { label: "Last seen", cell: (a) => el("span", {}, a.last_seen_at ? when(a.last_seen_at) : "never",
        a.silent ? el("span", { className: "badge stale", text: "silent" }) : null,
        a.enabled ? null : el("span", { className: "badge", text: "disabled" })) },
      { label: "Capabilities", cell: capabilities },
      { label: "", cell: (a) => (admin ? el("span", {},
        button("Rotate", async () => {
          if (!window.confirm("Give " + a.name + " a new token? The old one stops working at once.")) return;
          const res = await call("POST", "/api/v1/agents/" + encodeURIComponent(a.id) + "/rotate");
          await show("New token for " + a.name + ".", a, res.data.token);
        }),
        button(a.enabled ? "Disable" : "Enable", async () => {
          await call("PUT", "/api/v1/agents/" + encodeURIComponent(a.id), { name: a.name, enabled: !a.enabled });
          render();
        })) : "") },
    ],
    create: admin ? (holder) => panel("New agent", [nameField, { name: "network_id", label: "Network", type: "select", options: networks() }], {}, async (data) => {
      const res = await call("POST", "/api/v1/agents", data);
      holder.replaceChildren();
      await show("Agent " + res.data.name + " created.", res.data, res.data.token);
    }) : null,
    edit: admin ? async (a, holder) => {
      const agent = await fresh("/api/v1/agents/" + encodeURIComponent(a.id));
      return panel("Edit agent", [nameField, { name: "enabled", label: "Enabled", type: "checkbox" }], agent, async (data) => {
        await call("PUT", "/api/v1/agents/" + encodeURIComponent(a.id), data);
        holder.replaceChildren();
        render();
      });
    } : null,
    remove: admin ? (a) => confirmDelete("agent " + a.name, "/api/v1/agents/" + encodeURIComponent(a.id)) : null,
  }, params).then(() => {
    view().insertBefore(el("div", { id: "agent-token" }), view().children[2] || null);
  });
}
