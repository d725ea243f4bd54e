// Talking to the API: the session, calls with the key and ETags, errors.

import { status } from "/ui/dom.js";
import { signOut } from "/app.js";

export const KEY = "portolan-key";
export const PAGE_SIZE = 25;
// `csrf`: the CSRF token of a person's session (cookie), sent with every change.
export const session = { me: null, networks: [], tags: [], schemas: {}, doc: null, csrf: null };

// A key in this tab, else the session cookie the browser sends by itself (with its CSRF token
// on changes).
export function authHeaders(method) {
  const key = sessionStorage.getItem(KEY);
  if (key) return { Authorization: "Bearer " + key };
  return method !== "GET" && session.csrf ? { "X-Portolan-CSRF": session.csrf } : {};
}

// ---- API ----------------------------------------------------------------------------------

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || "HTTP " + status);
    this.status = status;
    this.body = body || {};
  }
}

// The ETag of each object this tab has read, by path: every edit sends it as If-Match, so a save
// over someone else's change is refused (412) instead of silently undoing it.
export const etags = new Map();
export const objectPath = (path) => path.split("?")[0];

// Ids are put into paths encoded, but encoding leaves "." and "..": a path with such a segment
// would be resolved by the browser to another resource, so it is never sent.
function checked(path) {
  if (objectPath(path).split("/").some((s) => s === "." || s === "..")) {
    throw new ApiError(400, { message: "Refusing to request " + path + ": an id in it is not an id" });
  }
  return path;
}

export async function call(method, path, body) {
  checked(path);
  const headers = authHeaders(method);
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const target = objectPath(path);
  if (method !== "GET" && method !== "POST" && etags.has(target)) headers["If-Match"] = etags.get(target);
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  let payload = null;
  try {
    payload = await res.json();
  } catch (_) {
    payload = null;
  }
  if (res.status === 401 && !["/api/v1/auth/me", "/api/v1/auth/session", "/api/v1/auth/sign-in", "/api/v1/auth/password"].includes(path)) {
    signOut(sessionStorage.getItem(KEY) ? "Your key was refused; sign in again." : "Your session has ended; sign in again.", true);
  }
  if (res.status === 412) {
    etags.delete(target);
    throw new ApiError(412, { ...payload, field: null, hint: null,
      message: "Someone else changed this since you opened it. Reload the page to see their version, then make your change again." });
  }
  if (!res.ok || !payload || payload.success === false) throw new ApiError(res.status, payload);
  const tag = res.headers.get("ETag");
  if (method === "DELETE") etags.delete(target);
  else if (tag && (method !== "GET" || path === target)) etags.set(method === "POST" ? target + "/" + encodeURIComponent(payload.data.id) : target, tag);
  return payload;
}

export const get = async (path) => (await call("GET", path)).data;
// A document that is not JSON (the map as SVG or Mermaid), with the key; errors as from `call`.
export async function text(path) {
  checked(path);
  const res = await fetch(path, { headers: authHeaders("GET") });
  if (!res.ok) {
    let body = null;
    try {
      body = await res.json();
    } catch (_) {
      body = null;
    }
    throw new ApiError(res.status, body);
  }
  return res.text();
}
export const everything = (path) => get(path + (path.includes("?") ? "&" : "?") + "limit=0");
// An object as stored now, read when its edit form opens, so that the form starts from the
// latest state and its save carries that state's ETag.
export const fresh = (path) => get(path);

// Reads a Server-Sent Events stream (fetch, so that the key goes in a header) until it ends or
// the user leaves the page; `onEvent(name, data)` for each event.
export async function events(path, onEvent) {
  const here = location.hash;
  const res = await fetch(path, { headers: authHeaders("GET") });
  if (!res.ok || !res.body) return;
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    if (location.hash !== here) return reader.cancel();
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const name = (/^event: (.*)$/m.exec(block) || [])[1];
      const data = (/^data: (.*)$/m.exec(block) || [])[1];
      if (name && data) onEvent(name, JSON.parse(data));
    }
  }
}
