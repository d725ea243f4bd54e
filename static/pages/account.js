// People: the pages anyone opens from a link (first-run setup, an invite, a password link), the
// Users page (Admins: invite, make, change, disable, reset) and the Account page (password,
// sessions).

import { ApiError, call, fresh, get, session } from "/ui/api.js";
import { button, clearErrors, confirmDelete, el, panel, show, status, view } from "/ui/dom.js";
import { collection, networkName } from "/ui/table.js";
import { when } from "/pages/history.js";
import { roleOptions } from "/pages/keys.js";
import { render, signedIn } from "/app.js";

const OPEN = {
  setup: { title: "Set up Portolan", intro: "Make the Owner account of this server. The code in the link came from the server's log (or its data directory's setup-code file).",
    button: "Make the Owner", path: () => "/api/v1/auth/setup", body: (code, d) => ({ code, username: d.username, password: d.password }), username: true },
  invite: { title: "Accept an invite", intro: "Choose your username and password.",
    button: "Make my account", path: (code) => "/api/v1/auth/invites/" + encodeURIComponent(code) + "/accept", body: (_, d) => ({ username: d.username, password: d.password }), username: true },
  password: { title: "Set your password", intro: "Choose a new password: this link works once.",
    button: "Set the password", path: (code) => "/api/v1/auth/password-links/" + encodeURIComponent(code), body: (_, d) => ({ password: d.password }), username: false },
};

// A form anyone may open from its link, signed out.
export function openPage(kind, code) {
  const page = OPEN[kind];
  document.getElementById("sign-in-page").hidden = true;
  const fields = [];
  if (page.username) fields.push({ name: "username", label: "Username", required: true, autocomplete: "username" });
  fields.push({ name: "password", label: "Password (10 to 256 characters)", type: "password", required: true, autocomplete: "new-password" });
  const form = panel(page.title, fields, {}, async (data) => {
    const res = await call("POST", page.path(code), page.body(code, data));
    history.replaceState(null, "", "#/");
    if (kind === "password") {
      show(el("h2", { text: "Password set" }), el("p", { text: "Sign in with it now." }));
      document.getElementById("sign-in-page").hidden = false;
      document.getElementById("username").value = res.data.username || "";
      return;
    }
    signedIn(res.data);
  });
  form.querySelector("button[type=submit]").textContent = page.button;
  form.querySelector(".row button:last-child").remove();
  form.insertBefore(el("p", { text: page.intro }), form.children[2]);
  show(form);
}

// ---- Users (Admins) -----------------------------------------------------------------------

const userFields = (withPassword) => [
  { name: "username", label: "Username", required: true },
  { name: "display_name", label: "Display name" },
  { name: "email", label: "Email" },
  { name: "role", label: "Role", type: "select", options: roleOptions() },
  { name: "network_ids", label: "Networks (none selected: every network)", type: "networks" },
  ...(withPassword ? [{ name: "password", label: "Password (empty: send them a link to set it)", type: "password", autocomplete: "new-password" }]
    : [{ name: "enabled", label: "Enabled", type: "checkbox" }]),
];

function linkNote(title, path) {
  const url = location.origin + "/" + path.replace(/^\//, "");
  return el("section", { className: "dialog-note", role: "alert", "aria-label": title },
    el("p", { text: title + " It works once; copy it now: it is not shown again." }), el("code", { className: "secret", text: url }));
}

export function usersPage(params) {
  const note = async (title, path) => {
    await render();
    document.getElementById("user-link").replaceChildren(linkNote(title, path));
  };
  return collection({
    route: "users", title: "Users", one: "user", path: "/api/v1/users",
    columns: [
      { label: "Username", cell: (u) => u.username + (u.display_name ? " (" + u.display_name + ")" : "") },
      { label: "Role", cell: (u) => u.role },
      { label: "Networks", cell: (u) => (u.network_ids.length ? u.network_ids.map(networkName).join(", ") : "all") },
      { label: "Sign-in", cell: (u) => u.auth + (u.totp_enabled ? ", second factor" : "") },
      { label: "State", cell: (u) => (u.enabled ? "enabled" : "disabled") },
      { label: "Last sign-in", cell: (u) => (u.last_sign_in_at ? when(u.last_sign_in_at) : "never") },
      { label: "", cell: (u) => el("span", {},
        button("Password link", async () => {
          if (!window.confirm("Make a link for " + u.username + " to set a new password? Their sessions end now.")) return;
          const res = await call("POST", "/api/v1/users/" + encodeURIComponent(u.id) + "/reset");
          await note("Password link for " + u.username + ".", res.data.link);
        }),
        button(u.enabled ? "Disable" : "Enable", async () => {
          try {
            await call("PUT", "/api/v1/users/" + encodeURIComponent(u.id), { username: u.username, display_name: u.display_name, email: u.email, role: u.role, network_ids: u.network_ids, enabled: !u.enabled });
            render();
          } catch (e) {
            if (!(e instanceof ApiError)) throw e;
            status(e.message);
          }
        })) },
    ],
    create: (holder) => {
      const wrap = el("div", {});
      const make = panel("New user", userFields(true), { role: "Viewer" }, async (data) => {
        if (!data.password) delete data.password;
        const res = await call("POST", "/api/v1/users", data);
        holder.replaceChildren();
        if (res.data.password_link) await note("User " + res.data.username + " made. Send them this link to set their password.", res.data.password_link);
        else render();
      });
      const invite = panel("Invite someone", [{ name: "role", label: "Role", type: "select", options: roleOptions() },
        { name: "network_ids", label: "Networks (none selected: every network)", type: "networks" },
        { name: "expires_in_hours", label: "Valid for (hours)", type: "number" }], { role: "Viewer", expires_in_hours: 24 }, async (data) => {
        const res = await call("POST", "/api/v1/users/invites", data);
        holder.replaceChildren();
        await note("Invite link.", res.data.link);
      });
      wrap.append(make, invite);
      return wrap;
    },
    edit: async (u, holder) => panel("Edit user " + u.username, userFields(false), await fresh("/api/v1/users/" + encodeURIComponent(u.id)), async (data) => {
      await call("PUT", "/api/v1/users/" + encodeURIComponent(u.id), data);
      holder.replaceChildren();
      render();
    }),
    remove: (u) => confirmDelete("user " + u.username, "/api/v1/users/" + encodeURIComponent(u.id)),
  }, params).then(() => {
    view().insertBefore(el("div", { id: "user-link" }), view().children[2] || null);
  });
}

// ---- Account (a person's own) -------------------------------------------------------------

export async function accountPage() {
  if (!session.me.user) {
    show(el("h2", { text: "Account" }), el("p", { text: "You are signed in with an API key: accounts are for people who sign in with a password." }));
    return;
  }
  const me = session.me.user;
  const sessions = (await call("GET", "/api/v1/auth/sessions")).data;
  const password = panel("Change my password", [
    { name: "current_password", label: "Current password", type: "password", required: true, autocomplete: "current-password" },
    { name: "new_password", label: "New password (10 to 256 characters)", type: "password", required: true, autocomplete: "new-password" },
  ], {}, async (data, form) => {
    await call("POST", "/api/v1/auth/password", data);
    clearErrors(form);
    form.reset();
    status("Password changed; your other sessions ended.");
    render();
  });
  password.querySelector(".row button:last-child").remove();
  password.querySelector("button[type=submit]").textContent = "Change the password";
  const table = el("table", { "aria-label": "My sessions" },
    el("thead", {}, el("tr", {}, ["Signed in", "Last used", "Ends", "From", ""].map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, sessions.map((s) => el("tr", {},
      el("td", { text: when(s.created_at) + " (" + s.auth + ")" }),
      el("td", { text: when(s.last_used_at) }),
      el("td", { text: when(s.expires_at) }),
      el("td", { text: (s.address || "") + " " + (s.user_agent || "") }),
      el("td", {}, s.current ? "this one" : button("End", async () => {
        try {
          await call("DELETE", "/api/v1/auth/sessions/" + encodeURIComponent(s.id));
          render();
        } catch (e) {
          if (!(e instanceof ApiError)) throw e;
          status(e.message);
        }
      }, "danger"))))));
  const secondFactor = el("section", { "aria-label": "Second factor", id: "second-factor" }, el("h3", { text: "Second factor" }));
  const user = await get("/api/v1/auth/session");
  if (user.user.totp_enabled) {
    const off = panel("Turn the second factor off", [{ name: "password", label: "Password", type: "password", required: true, autocomplete: "current-password" }], {}, async (data) => {
      await call("POST", "/api/v1/auth/totp/disable", data);
      status("Second factor off.");
      render();
    });
    off.querySelector(".row button:last-child").remove();
    off.querySelector("button[type=submit]").textContent = "Turn off";
    secondFactor.append(el("p", { text: "On: signing in asks for a code of your authenticator app (or a recovery code)." }), off);
  } else {
    secondFactor.append(el("p", { text: "Off: signing in asks for your password only." }), button("Set up a second factor", async () => {
      const setup = (await call("POST", "/api/v1/auth/totp/setup")).data;
      const image = el("img", { src: "data:image/svg+xml;base64," + btoa(setup.qr_svg), alt: "QR code of the authenticator link", width: 200, height: 200 });
      const confirm = panel("Confirm with a code", [{ name: "code", label: "The 6 digits your app shows now", required: true, autocomplete: "one-time-code" }], {}, async (data) => {
        const codes = (await call("POST", "/api/v1/auth/totp/confirm", data)).data.recovery_codes;
        secondFactor.replaceChildren(el("h3", { text: "Second factor" }),
          el("section", { className: "dialog-note", role: "alert", "aria-label": "Recovery codes" },
            el("p", { text: "Second factor on. Keep these recovery codes somewhere safe: each works once in place of a code, and they are not shown again." }),
            el("ul", { id: "recovery-codes" }, codes.map((c) => el("li", {}, el("code", { text: c }))))));
      });
      confirm.querySelector(".row button:last-child").remove();
      confirm.querySelector("button[type=submit]").textContent = "Turn on";
      secondFactor.replaceChildren(el("h3", { text: "Second factor" }),
        el("p", { text: "Scan this code with an authenticator app, or type the secret in it." }), image,
        el("p", {}, "Secret: ", el("code", { id: "totp-secret", className: "secret", text: setup.secret })), confirm);
    }));
  }
  show(el("h2", { text: "Account" }),
    el("p", { className: "muted", text: me.username + (me.display_name ? " (" + me.display_name + ")" : "") + " · " + me.role +
      " · networks: " + (me.network_ids.length ? me.network_ids.map(networkName).join(", ") : "all") +
      (me.auth === "password" ? "" : " · signs in by " + (me.auth === "oidc" ? "single sign-on" : "the proxy in front")) }),
    // Single sign-on and proxy users have no password here: the provider keeps it.
    me.auth === "password" ? password : null,
    me.auth === "password" ? secondFactor : null,
    await myKeys(me),
    el("section", { "aria-label": "Sessions" }, el("h3", { text: "Sessions" }),
      sessions.length > 1 ? button("Sign out everywhere else", async () => {
        await call("POST", "/api/v1/auth/sessions/revoke-others");
        render();
      }) : null, table));
}

// The keys a person made for their scripts: never more than they may, stopped with their account.
async function myKeys(me) {
  const all = (await call("GET", "/api/v1/auth/keys?limit=500")).data;
  const mine = all.filter((k) => k.owner_user_id === me.id);
  const ranks = ["Viewer", "Member", "Admin", "Owner"];
  const allowed = ranks.filter((r) => ranks.indexOf(r) <= ranks.indexOf(session.me.role) && (ranks.indexOf(r) < 2 || session.me.role === "Owner"));
  const section = el("section", { "aria-label": "My API keys", id: "my-keys" }, el("h3", { text: "My API keys" }),
    el("p", { text: "Keys for your scripts: each does at most what you may, in your networks, and stops when your account is disabled." }));
  if (mine.length) {
    section.append(el("table", { "aria-label": "My API keys" },
      el("thead", {}, el("tr", {}, ["Name", "Role", "Networks", "Last used", ""].map((h) => el("th", { scope: "col", text: h })))),
      el("tbody", {}, mine.map((k) => el("tr", {},
        el("td", { text: k.name }),
        el("td", { text: k.permissions }),
        el("td", { text: k.network_ids.length ? k.network_ids.map(networkName).join(", ") : "all of mine" }),
        el("td", { text: k.last_used ? when(k.last_used) : "never" }),
        el("td", {}, button("Delete " + k.name, async () => {
          if (await confirmDelete("key " + k.name, "/api/v1/auth/keys/" + encodeURIComponent(k.id))) render();
        }, "danger")))))));
  } else {
    section.append(el("p", { className: "muted", text: "No key yet." }));
  }
  const make = panel("Make a key", [{ name: "name", label: "Name", required: true },
    { name: "permissions", label: "Role", type: "select", options: allowed.map((r) => [r, r]) }], { permissions: "Viewer" }, async (data) => {
    const made = (await call("POST", "/api/v1/auth/keys", { ...data, network_ids: me.network_ids })).data;
    await render();
    status("Key " + made.api_key.name + " made.");
    const note = el("div", { className: "dialog-note", role: "alert", id: "new-key" },
      el("p", { text: "Your new key " + made.api_key.name + ". Copy it now: it is not shown again." }),
      el("code", { className: "secret", text: made.key }));
    document.getElementById("my-keys").append(note);
  });
  make.querySelector(".row button:last-child").remove();
  make.querySelector("button[type=submit]").textContent = "Make the key";
  section.append(make);
  return section;
}
