// Placeholder UI: reads the inventory with the key the user pastes (kept for this tab only).
"use strict";

async function api(path) {
  const key = sessionStorage.getItem("portolan-key");
  const res = await fetch(path, { headers: { Authorization: "Bearer " + key } });
  const body = await res.json();
  if (!body.success) throw new Error(body.code + ": " + body.message);
  return body.data;
}

function fill(listId, items, label) {
  const list = document.getElementById(listId);
  list.replaceChildren(...items.map((item) => {
    const li = document.createElement("li");
    li.textContent = label(item);
    return li;
  }));
}

async function load() {
  const status = document.getElementById("status");
  try {
    fill("networks", await api("/api/v1/networks?limit=0"), (n) => n.name);
    fill("hosts", await api("/api/v1/hosts?limit=0"), (h) => h.name + (h.hostname ? " (" + h.hostname + ")" : ""));
    document.getElementById("inventory").hidden = false;
    status.textContent = "";
  } catch (e) {
    status.textContent = e.message;
  }
}

document.getElementById("login").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem("portolan-key", document.getElementById("key").value.trim());
  load();
});

if (sessionStorage.getItem("portolan-key")) load();
