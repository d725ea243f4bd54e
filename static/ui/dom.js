// DOM helpers and forms: values from the API go in with textContent, never as HTML.

import { ApiError, call, session, text } from "/ui/api.js";

// ---- DOM helpers ---------------------------------------------------------------------------

export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k === "text") node.textContent = String(v);
    else if (k === "className") node.className = v;
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

export const button = (text, onclick, className) => el("button", { type: "button", onclick, className }, text);
export const view = () => document.getElementById("view");
export const status = (message) => (document.getElementById("status").textContent = message || "");
export const byId = (items) => new Map(items.map((i) => [i.id, i]));
export const canWrite = () => session.me && session.me.role !== "Viewer";
export const isAdmin = () => session.me && (session.me.role === "Admin" || session.me.role === "Owner");

export function show(...nodes) {
  view().replaceChildren(...nodes.filter((n) => n !== null && n !== undefined && n !== false));
}

// ---- forms ---------------------------------------------------------------------------------

// A field: {name, label, type: text|textarea|number|select|checkbox|tags|networks|json, options,
// required, hint}. `name` is the API's field name, so that an error's `field` finds its input.
export function formField(f, value) {
  const id = "f-" + f.name.replace(/[^a-zA-Z0-9]/g, "-") + "-" + Math.random().toString(36).slice(2, 7);
  const wrap = el("div", { className: "field", "data-field": f.name });
  let input;
  if (f.type === "textarea" || f.type === "json") {
    input = el("textarea", { id, name: f.name, readonly: f.readonly });
    input.value = f.type === "json" ? (value == null ? "" : JSON.stringify(value, null, 2)) : value || "";
  } else if (f.type === "select") {
    input = el("select", { id, name: f.name });
    for (const [v, label] of f.options) input.append(el("option", { value: v, text: label }));
    input.value = value == null ? f.options[0][0] : value;
  } else if (f.type === "checkbox") {
    input = el("input", { id, name: f.name, type: "checkbox" });
    input.checked = !!value;
  } else if (f.type === "tags" || f.type === "networks") {
    const items = f.type === "tags" ? session.tags : session.networks;
    input = el("select", { id, name: f.name, multiple: true, size: Math.min(5, Math.max(2, items.length)) });
    for (const item of items) {
      const option = el("option", { value: item.id, text: item.name });
      option.selected = (value || []).includes(item.id);
      input.append(option);
    }
  } else {
    const type = f.type === "number" || f.type === "password" ? f.type : "text";
    input = el("input", { id, name: f.name, type, readonly: f.readonly, list: f.list, autocomplete: f.autocomplete });
    input.value = value == null ? "" : value;
  }
  if (f.required) input.required = true;
  wrap.append(el("label", { for: id, text: f.label }), input);
  if (f.hint) wrap.append(el("p", { className: "hint", text: f.hint }));
  wrap.append(el("p", { className: "error", role: "alert" }));
  return wrap;
}

export function readField(form, f) {
  const input = form.querySelector('[data-field="' + f.name + '"] [name]');
  if (!input) return undefined;
  if (f.type === "checkbox") return input.checked;
  if (f.type === "tags" || f.type === "networks") return [...input.selectedOptions].map((o) => o.value);
  // A password is what was typed, spaces included.
  if (f.type === "password") return input.value === "" ? null : input.value;
  const v = input.value.trim();
  if (f.type === "number") return v === "" ? null : Number(v);
  if (f.type === "json") {
    if (v === "") return null;
    try {
      return JSON.parse(v);
    } catch (_) {
      throw new ApiError(400, { code: "VALIDATION_ERROR", field: f.name, message: f.label + " is not valid JSON" });
    }
  }
  if (f.type === "select") return v;
  return v === "" ? null : v;
}

export function clearErrors(form) {
  form.querySelectorAll(".invalid").forEach((n) => n.classList.remove("invalid"));
  form.querySelectorAll(".error").forEach((n) => (n.textContent = ""));
}

// Puts an API error next to the input or binding it names, with its hint; otherwise at the top.
export function showError(form, error) {
  const body = error.body || {};
  const text = (body.message || error.message) + (body.hint ? " " + body.hint : "");
  const field = body.field || "";
  const binding = /^bindings\[(\d+)\]/.exec(field);
  let target = null;
  if (binding) target = form.querySelectorAll(".binding")[Number(binding[1])];
  if (!target && field) {
    target = form.querySelector('[data-field="' + CSS.escape(field) + '"]') ||
      form.querySelector('[data-field="' + CSS.escape(field.split(/[.[]/)[0]) + '"]');
  }
  if (target) {
    target.classList.add("invalid");
    target.querySelector(".error").textContent = text;
    const focusable = target.querySelector("input, select, textarea");
    if (focusable) focusable.focus();
  } else {
    form.querySelector(".form-error").textContent = text;
  }
}

// A form that sends `build(values)` with `submit` and reports errors in place.
export function panel(title, fields, values, submit, extra) {
  const form = el("form", { className: "panel", novalidate: true, "aria-label": title });
  form.append(el("h3", { text: title }), el("p", { className: "error form-error", role: "alert" }));
  for (const f of fields) form.append(formField(f, values ? values[f.name] : undefined));
  if (extra) form.append(extra);
  form.append(el("div", { className: "row" }, el("button", { type: "submit", className: "primary" }, "Save"),
    button("Cancel", () => form.remove())));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    try {
      const data = {};
      for (const f of fields) {
        const v = readField(form, f);
        if (v !== undefined && !f.readonly) data[f.name] = v;
      }
      await submit(data, form);
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      showError(form, e);
    }
  });
  setTimeout(() => {
    const first = form.querySelector("input, select, textarea");
    if (first) first.focus();
  });
  return form;
}

export async function confirmDelete(what, path) {
  if (!window.confirm("Delete " + what + "?")) return false;
  try {
    await call("DELETE", path);
    return true;
  } catch (e) {
    if (e instanceof ApiError && e.status === 409 && window.confirm(e.message + "\n\nDelete it together with what uses it?")) {
      await call("DELETE", path + "?cascade=true");
      return true;
    }
    status(e.message);
    return false;
  }
}
