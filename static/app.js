// Portolan's web UI: plain DOM, no build step, no asset from outside the server. Values from the
// API go in with textContent, never as HTML. The key lives in this tab's sessionStorage only.
// The entry module: the shell (sign in, sign out, the router); pages live in pages/, helpers in ui/.

import { ApiError, KEY, call, everything, session, text } from "/ui/api.js";
import { el, isAdmin, show, status, view } from "/ui/dom.js";
import { link } from "/ui/table.js";
import { pages } from "/pages/resources.js";
import { journalPage } from "/pages/history.js";
import { hostPage, servicePage } from "/pages/host.js";
import { templatePage } from "/pages/catalog.js";
import { mapPage } from "/pages/network_map.js";
import { discoveriesPage, discoveryPage } from "/pages/discovery.js";
import { dependenciesPage } from "/pages/dependencies.js";
import { webhooksPage } from "/pages/webhooks.js";
import { agentsPage } from "/pages/agents.js";
import { deploymentPage } from "/pages/deployments.js";
import "/pages/keys.js";

// ---- shell ----------------------------------------------------------------------------------------

export async function refreshSession() {
  [session.networks, session.tags] = await Promise.all([everything("/api/v1/networks?order_by=name"), everything("/api/v1/tags?order_by=name")]);
}

export function signOut(message) {
  sessionStorage.removeItem(KEY);
  session.me = null;
  document.getElementById("menu").hidden = true;
  document.getElementById("who").hidden = true;
  document.getElementById("sign-in").hidden = false;
  document.getElementById("sign-in-error").textContent = message || "";
  view().replaceChildren();
  status("");
  document.getElementById("key").focus();
}

export async function signIn() {
  try {
    session.me = (await call("GET", "/api/v1/auth/me")).data;
  } catch (e) {
    signOut(e.status === 401 ? "That key was not accepted." : e.message);
    return;
  }
  const doc = await (await fetch("/api/openapi.json")).json();
  session.doc = doc;
  session.schemas = doc.components.schemas;
  await refreshSession();
  document.getElementById("sign-in").hidden = true;
  document.getElementById("menu").hidden = false;
  document.getElementById("who").hidden = false;
  document.getElementById("keys-link").hidden = !isAdmin();
  document.getElementById("webhooks-link").hidden = !isAdmin();
  document.getElementById("role").textContent = "Signed in as " + session.me.role +
    (session.me.network_ids.length ? " (" + session.me.network_ids.length + " network(s))" : "");
  render();
}

export async function render() {
  if (!session.me) return;
  const [path, query] = (location.hash.slice(1) || "/hosts").split("?");
  const parts = path.split("/").filter(Boolean);
  const section = parts[0] || "hosts";
  for (const a of document.querySelectorAll("#menu a")) {
    const current = a.getAttribute("href").slice(2) === section || (section === "host" && a.getAttribute("href") === "#/hosts") ||
      (section === "service" && a.getAttribute("href") === "#/services") ||
      (section === "discovery" && a.getAttribute("href") === "#/discoveries") ||
      (section === "template" && a.getAttribute("href") === "#/templates") ||
      (section === "deployment" && a.getAttribute("href") === "#/deployments");
    if (current) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  status("");
  try {
    if (section === "host") await hostPage(parts[1], query || "");
    else if (section === "service") await servicePage(parts[1]);
    else if (section === "changes") await journalPage(query || "");
    else if (section === "discoveries") await discoveriesPage();
    else if (section === "dependencies") await dependenciesPage(query || "");
    else if (section === "webhooks" && !isAdmin()) show(el("h2", { text: "Webhooks" }), el("p", { text: "Managing webhooks needs an Admin or Owner key." }));
    else if (section === "webhooks") await webhooksPage(query || "");
    else if (section === "agents") await agentsPage(query || "");
    else if (section === "discovery") await discoveryPage(parts[1]);
    else if (section === "template") await templatePage(parts[1]);
    else if (section === "deployment") await deploymentPage(parts[1]);
    else if (section === "map") await mapPage(parts[1], query || "");
    else if (section === "keys" && !isAdmin()) show(el("h2", { text: "API keys" }), el("p", { text: "Managing API keys needs an Admin or Owner key." }));
    else if (pages[section]) await pages[section](query || "");
    else show(el("h2", { text: "Not found" }), link("Back to hosts", "#/hosts"));
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    show(el("h2", { text: "This page cannot be shown" }), el("p", { className: "error", text: e.message }), link("Back to hosts", "#/hosts"));
  }
}

window.addEventListener("hashchange", render);
document.getElementById("sign-in").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem(KEY, document.getElementById("key").value.trim());
  document.getElementById("key").value = "";
  signIn();
});
document.getElementById("sign-out").addEventListener("click", () => signOut("Signed out."));

if (sessionStorage.getItem(KEY)) signIn();
else signOut();
