// Portolan's web UI: plain DOM, no build step, no asset from outside the server. Values from the
// API go in with textContent, never as HTML. The key lives in this tab's sessionStorage only.
// The entry module: the shell (sign in, sign out, the router); pages live in pages/, helpers in ui/.

import { ApiError, KEY, call, everything, session, text } from "/ui/api.js";
import { accountPage, openPage, usersPage } from "/pages/account.js";
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
import { homePage } from "/pages/home.js";
import "/pages/keys.js";

// ---- shell ----------------------------------------------------------------------------------------

export async function refreshSession() {
  [session.networks, session.tags] = await Promise.all([everything("/api/v1/networks?order_by=name"), everything("/api/v1/tags?order_by=name")]);
}

// The page a person was on when their session ended: they return to it after signing in.
let returnTo = null;

export function signOut(message, expired) {
  if (expired && location.hash && !returnTo) returnTo = location.hash;
  sessionStorage.removeItem(KEY);
  session.me = null;
  session.csrf = null;
  document.getElementById("menu").hidden = true;
  document.getElementById("who").hidden = true;
  document.getElementById("sign-in-page").hidden = false;
  document.getElementById("sign-in-error").textContent = "";
  document.getElementById("password-sign-in-error").textContent = message || "";
  // Single sign-on comes back to the page the person was on, as a password sign-in does.
  document.getElementById("sso-return-to").value = returnTo ? returnTo.slice(1) : "/home";
  view().replaceChildren();
  status("");
  showSignInMethods();
}

// The password form and single sign-on's button, as the server offers them.
let signInMethods = null;
async function showSignInMethods() {
  if (!signInMethods) {
    try {
      signInMethods = (await call("GET", "/api/v1/auth/methods")).data;
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      signInMethods = { password: true, oidc: null };
    }
  }
  const sso = document.getElementById("sso-sign-in");
  sso.hidden = !signInMethods.oidc;
  if (signInMethods.oidc) document.getElementById("sso-button").textContent = "Sign in with " + signInMethods.oidc.name;
  document.getElementById("password-sign-in").hidden = !signInMethods.password;
  (signInMethods.password ? document.getElementById("username") : signInMethods.oidc ? document.getElementById("sso-button") : document.getElementById("key")).focus();
}

export async function signIn() {
  try {
    session.me = (await call("GET", "/api/v1/auth/me")).data;
  } catch (e) {
    const keyed = sessionStorage.getItem(KEY);
    signOut();
    document.getElementById(keyed ? "sign-in-error" : "password-sign-in-error").textContent =
      e.status === 401 ? (keyed ? "That key was not accepted." : "") : e.message;
    return;
  }
  if (session.me.user && !session.csrf) session.csrf = (await call("GET", "/api/v1/auth/session")).data.csrf_token;
  const doc = await (await fetch("/api/openapi.json")).json();
  session.doc = doc;
  session.schemas = doc.components.schemas;
  await refreshSession();
  document.getElementById("sign-in-page").hidden = true;
  document.getElementById("menu").hidden = false;
  document.getElementById("who").hidden = false;
  document.getElementById("keys-link").hidden = !isAdmin();
  document.getElementById("webhooks-link").hidden = !isAdmin();
  document.getElementById("users-link").hidden = !isAdmin();
  document.getElementById("admin-menu").hidden = !isAdmin();
  document.getElementById("account-link").hidden = !session.me.user;
  const scope = session.me.network_ids.length ? " (" + session.me.network_ids.length + " network(s))" : "";
  document.getElementById("role").textContent = session.me.user
    ? "Signed in as " + (session.me.user.display_name || session.me.user.username) + ", " + session.me.role + scope
    : "Signed in as " + session.me.role + scope + " (API key)";
  if (returnTo) {
    const back = returnTo;
    returnTo = null;
    if (location.hash !== back) {
      location.hash = back;
      return;
    }
  }
  render();
}

// A sign-in (setup, invite) answered {user, csrf_token} and set the cookie.
export function signedIn(answer) {
  sessionStorage.removeItem(KEY);
  session.csrf = answer.csrf_token;
  signIn();
}

export async function render() {
  if (!session.me) return;
  // People land on their home page; a key (a machine, a script, a test) on the hosts.
  const [path, query] = (location.hash.slice(1) || (session.me.user ? "/home" : "/hosts")).split("?");
  const parts = path.split("/").filter(Boolean);
  const section = parts[0] || (session.me.user ? "home" : "hosts");
  for (const a of document.querySelectorAll("#menu a")) {
    const current = a.getAttribute("href").slice(2) === section || (section === "host" && a.getAttribute("href") === "#/hosts") ||
      (section === "service" && a.getAttribute("href") === "#/services") ||
      (section === "discovery" && a.getAttribute("href") === "#/discoveries") ||
      (section === "template" && a.getAttribute("href") === "#/templates") ||
      (section === "deployment" && a.getAttribute("href") === "#/deployments");
    if (current) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  for (const group of document.querySelectorAll(".menu-group")) {
    group.querySelector("button").classList.toggle("current", !!group.querySelector("a[aria-current]"));
  }
  closeMenus();
  status("");
  try {
    if (section === "home") await homePage();
    else if (section === "host") await hostPage(parts[1], query || "");
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
    else if (section === "users" && !isAdmin()) show(el("h2", { text: "Users" }), el("p", { text: "Managing users needs an Admin or Owner." }));
    else if (section === "users") await usersPage(query || "");
    else if (section === "account") await accountPage();
    else if (section === "keys" && !isAdmin()) show(el("h2", { text: "API keys" }), el("p", { text: "Managing API keys needs an Admin or Owner key." }));
    else if (pages[section]) await pages[section](query || "");
    else show(el("h2", { text: "Not found" }), link("Back to hosts", "#/hosts"));
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    show(el("h2", { text: "This page cannot be shown" }), el("p", { className: "error", text: e.message }), link("Back to hosts", "#/hosts"));
  }
}

// The header's groups open as disclosures: Enter or Space opens one, Escape closes it and
// returns to its button, a click elsewhere or a chosen page closes them all.
function closeMenus(except) {
  for (const b of document.querySelectorAll(".menu-group > button")) {
    if (b === except) continue;
    b.setAttribute("aria-expanded", "false");
    document.getElementById(b.getAttribute("aria-controls")).hidden = true;
  }
}
for (const b of document.querySelectorAll(".menu-group > button")) {
  const list = document.getElementById(b.getAttribute("aria-controls"));
  b.addEventListener("click", () => {
    const open = b.getAttribute("aria-expanded") !== "true";
    closeMenus(b);
    b.setAttribute("aria-expanded", String(open));
    list.hidden = !open;
  });
  b.parentElement.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || list.hidden) return;
    closeMenus();
    b.focus();
  });
}
document.addEventListener("click", (event) => {
  if (!event.target.closest(".menu-group")) closeMenus();
});

// Pages anyone may open without signing in: the setup, an invite, a password link.
function openRoute() {
  const [, section, code] = location.hash.split("/");
  return ["setup", "invite", "password"].includes(section) && code ? [section, code] : null;
}

window.addEventListener("hashchange", () => {
  const open = openRoute();
  if (open && !session.me) return openPage(...open);
  render();
});
document.getElementById("sign-in").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem(KEY, document.getElementById("key").value.trim());
  document.getElementById("key").value = "";
  signIn();
});
document.getElementById("password-sign-in").addEventListener("submit", async (event) => {
  event.preventDefault();
  const error = document.getElementById("password-sign-in-error");
  error.textContent = "";
  const body = { username: document.getElementById("username").value, password: document.getElementById("password").value };
  const totp = document.getElementById("totp").value.trim();
  if (totp) body.totp = totp;
  try {
    const answer = (await call("POST", "/api/v1/auth/sign-in", body)).data;
    document.getElementById("password").value = "";
    document.getElementById("totp").value = "";
    document.getElementById("totp-step").hidden = true;
    signedIn(answer);
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    if (e.body.field === "totp") {
      document.getElementById("totp-step").hidden = false;
      document.getElementById("totp").focus();
    }
    error.textContent = e.message + (e.status === 429 && e.body.hint ? " " + e.body.hint : "");
  }
});
document.getElementById("sign-out").addEventListener("click", async () => {
  if (session.me && session.me.user) {
    try {
      await call("POST", "/api/v1/auth/sign-out");
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
    }
  }
  signOut("Signed out.");
});

// A key in this tab, else a session cookie, else the sign-in page (or an open page).
async function start() {
  if (sessionStorage.getItem(KEY)) return signIn();
  const current = (await call("GET", "/api/v1/auth/session")).data;
  if (current) {
    session.csrf = current.csrf_token;
    return signIn();
  }
  const open = openRoute();
  if (open) return openPage(...open);
  signOut();
}
start();
