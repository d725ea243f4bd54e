// The map: an SVG of one network, laid out without a library. Subnets are groups of columns, each
// host a card with its IP addresses on the left and its services on the right; a line joins a
// service to each address it listens on (labelled with the ports), or to an "all interfaces" pill.
// Presentation attributes only (no style sheet), so an exported file
// looks the same on its own.
"use strict";

window.PortolanMap = (() => {
  const NS = "http://www.w3.org/2000/svg";
  const CARD_W = 420, ROW = 24, HEAD = 30, GAP = 24, PER_COLUMN = 8, GROUP_PAD = 20, GROUP_HEAD = 34;

  function node(tag, attrs, ...children) {
    const n = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) n.setAttribute(k, String(v));
    for (const c of children) n.append(c);
    return n;
  }

  const text = (x, y, value, attrs) =>
    node("text", { x, y, "font-family": "system-ui, sans-serif", "font-size": 13, fill: "#1d2733", ...attrs }, String(value));

  const listensEverywhere = (host) => host.services.some((s) => s.bindings.some((b) => b.type === "Port" && !b.ip_address_id));

  function cardHeight(host) {
    const targets = host.ip_addresses.length + (listensEverywhere(host) ? 1 : 0);
    return HEAD + Math.max(targets, host.services.length, 1) * ROW + 12;
  }

  function groups(subnets, hosts) {
    const bySubnet = new Map(subnets.map((s) => [s.id, { subnet: s, hosts: [] }]));
    const other = { subnet: null, hosts: [] };
    for (const h of hosts) {
      const ip = h.ip_addresses.find((i) => i.subnet_id && bySubnet.has(i.subnet_id));
      (ip ? bySubnet.get(ip.subnet_id) : other).hosts.push(h);
    }
    return [...bySubnet.values(), other].filter((g) => g.hosts.length || g.subnet);
  }

  // Addresses on the left (and "all interfaces" when a service listens everywhere), services on
  // the right, one line per service and address carrying every port bound there.
  function drawCard(host, x, y) {
    const height = cardHeight(host);
    const targets = new Map();
    const card = node("g", { "data-kind": "host", "data-id": host.id, tabindex: 0, role: "link", "aria-label": "Host " + host.name, cursor: "pointer" });
    card.append(node("rect", { x, y, width: CARD_W, height, rx: 6, fill: "#ffffff", stroke: "#4f5b69" }));
    card.append(node("rect", { x, y, width: CARD_W, height: HEAD, rx: 6, fill: "#1d2733" }));
    card.append(text(x + 10, y + 20, host.name + (host.hostname ? "  " + host.hostname : ""), { fill: "#ffffff", "font-weight": 700 }));
    const pills = host.ip_addresses.map((ip) => ({ id: ip.id, label: ip.ip_address, kind: "ip" }));
    if (listensEverywhere(host)) pills.push({ id: "*", label: "all interfaces", kind: "all-interfaces" });
    pills.forEach((pill, i) => {
      const cy = y + HEAD + 8 + i * ROW;
      const g = node("g", { "data-kind": pill.kind, "data-id": pill.id === "*" ? host.id : pill.id });
      g.append(node("rect", { x: x + 8, y: cy, width: 130, height: ROW - 6, rx: 9, fill: pill.kind === "ip" ? "#e6eef7" : "#eef6ea", stroke: pill.kind === "ip" ? "#0b5cad" : "#2f6b1f" }));
      g.append(text(x + 16, cy + 13, pill.label, { "font-size": 12 }));
      card.append(g);
      targets.set(pill.id, { x: x + 138, y: cy + (ROW - 6) / 2 });
    });
    const ports = new Map(host.ports.map((p) => [p.id, p]));
    const edges = node("g", { "data-kind": "edges" });
    host.services.forEach((s, i) => {
      const cy = y + HEAD + 8 + i * ROW;
      const sx = x + CARD_W - 130;
      const g = node("g", { "data-kind": "service", "data-id": s.id });
      g.append(node("rect", { x: sx, y: cy, width: 122, height: ROW - 6, rx: 4, fill: "#fff7d6", stroke: "#a36b00" }));
      g.append(text(sx + 6, cy + 13, s.name.length > 17 ? s.name.slice(0, 16) + "…" : s.name, { "font-size": 12 }));
      g.append(node("title", {}, s.name + " (" + s.service_definition + ")"));
      card.append(g);
      const lines = new Map();
      for (const b of s.bindings) {
        const target = b.ip_address_id || (b.type === "Port" ? "*" : null);
        if (!targets.has(target)) continue;
        const line = lines.get(target) || { ports: [], addressOnly: false, ids: [] };
        const port = ports.get(b.port_id);
        if (port) line.ports.push(port.number + "/" + port.protocol.toLowerCase());
        else line.addressOnly = true;
        line.ids.push(b.id);
        lines.set(target, line);
      }
      [...lines.entries()].forEach(([target, line], k) => {
        const to = targets.get(target);
        const from = { x: sx, y: cy + (ROW - 6) / 2 };
        for (const id of line.ids) {
          edges.append(node("line", { x1: from.x, y1: from.y, x2: to.x, y2: to.y, stroke: "#4f5b69", "stroke-width": 1.2,
            "stroke-dasharray": line.ports.length ? null : "4 3", "data-kind": "binding", "data-id": id }));
        }
        if (line.ports.length) {
          edges.append(text(sx - 4, cy + 4 + k * 10, line.ports.join(", "), { "font-size": 10, fill: "#4f5b69", "text-anchor": "end" }));
        }
      });
    });
    card.append(edges);
    return { card, height };
  }

  // `at`: the map shows the network as of that instant; a host opens as of then too.
  function draw({ network, subnets, hosts, at }) {
    const hostHash = (id) => "#/host/" + id + (at ? "?at=" + encodeURIComponent(at) : "");
    const svg = node("svg", { xmlns: NS, role: "group", "aria-label": "Map of network " + (network ? network.name : ""), tabindex: 0 });
    const world = node("g");
    svg.append(node("title", {}, "Network " + (network ? network.name : "")), world);
    let gx = 0;
    let maxY = 0;
    for (const group of groups(subnets, hosts)) {
      const columns = Math.max(1, Math.ceil(group.hosts.length / PER_COLUMN));
      const width = columns * (CARD_W + GAP) - GAP + 2 * GROUP_PAD;
      const body = node("g");
      let height = 0;
      for (let c = 0; c < columns; c++) {
        let y = GROUP_HEAD + GROUP_PAD;
        for (const host of group.hosts.slice(c * PER_COLUMN, (c + 1) * PER_COLUMN)) {
          const { card, height: h } = drawCard(host, gx + GROUP_PAD + c * (CARD_W + GAP), y);
          body.append(card);
          y += h + GAP;
        }
        height = Math.max(height, y);
      }
      height = Math.max(height, GROUP_HEAD + 2 * GROUP_PAD);
      const label = group.subnet ? group.subnet.cidr + "  " + group.subnet.name : "Not in a subnet";
      const frame = node("g", { "data-kind": "subnet", "data-id": group.subnet ? group.subnet.id : "" });
      frame.append(node("rect", { x: gx, y: 0, width, height, rx: 10, fill: "#f1f4f7", stroke: "#cdd6df" }));
      frame.append(text(gx + GROUP_PAD, 24, label, { "font-size": 15, "font-weight": 700 }));
      world.append(frame, body);
      gx += width + 3 * GAP;
      maxY = Math.max(maxY, height);
    }
    const bounds = { x: -GAP, y: -GAP, w: Math.max(gx, 400) + GAP, h: maxY + 2 * GAP };
    let box = { ...bounds };
    const apply = () => svg.setAttribute("viewBox", [box.x, box.y, box.w, box.h].join(" "));
    svg.fit = () => {
      box = { ...bounds };
      apply();
    };
    svg.zoomBy = (factor, cx, cy) => {
      const px = cx === undefined ? box.x + box.w / 2 : cx;
      const py = cy === undefined ? box.y + box.h / 2 : cy;
      box = { x: px - (px - box.x) * factor, y: py - (py - box.y) * factor, w: box.w * factor, h: box.h * factor };
      apply();
    };
    svg.fullBounds = bounds;
    svg.fit();
    // Once on screen: a large network starts at a scale where names can be read, top left.
    svg.readable = () => {
      const r = svg.getBoundingClientRect();
      if (r.width && bounds.w > r.width * 1.6) {
        box = { x: bounds.x, y: bounds.y, w: r.width * 1.25, h: r.height * 1.25 };
        apply();
      }
    };

    const toWorld = (event) => {
      const r = svg.getBoundingClientRect();
      const scale = Math.max(box.w / r.width, box.h / r.height);
      return { scale, x: box.x + (event.clientX - r.left) * scale, y: box.y + (event.clientY - r.top) * scale };
    };
    svg.addEventListener("wheel", (event) => {
      event.preventDefault();
      const p = toWorld(event);
      svg.zoomBy(event.deltaY > 0 ? 1.15 : 1 / 1.15, p.x, p.y);
    }, { passive: false });
    let drag = null;
    svg.addEventListener("pointerdown", (event) => {
      drag = { x: event.clientX, y: event.clientY, box: { ...box }, moved: false, scale: toWorld(event).scale };
    });
    svg.addEventListener("pointermove", (event) => {
      if (!drag) return;
      const dx = event.clientX - drag.x, dy = event.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 4) drag.moved = true;
      if (!drag.moved) return;
      box = { ...drag.box, x: drag.box.x - dx * drag.scale, y: drag.box.y - dy * drag.scale };
      apply();
    });
    svg.addEventListener("pointerup", (event) => {
      const moved = drag && drag.moved;
      drag = null;
      if (moved) return;
      const card = event.target.closest('[data-kind="host"]');
      if (card) location.hash = hostHash(card.getAttribute("data-id"));
    });
    svg.addEventListener("keydown", (event) => {
      const step = box.w * 0.1;
      const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
      if (event.key === "+" || event.key === "=") svg.zoomBy(0.8);
      else if (event.key === "-") svg.zoomBy(1.25);
      else if (moves[event.key]) {
        box = { ...box, x: box.x + moves[event.key][0], y: box.y + moves[event.key][1] };
        apply();
      } else if (event.key === "Enter") {
        const card = document.activeElement && document.activeElement.closest && document.activeElement.closest('[data-kind="host"]');
        if (card) location.hash = hostHash(card.getAttribute("data-id"));
        else return;
      } else return;
      event.preventDefault();
    });
    return svg;
  }

  // The whole map, whatever the current zoom, as a standalone file.
  function serialize(svg) {
    const copy = svg.cloneNode(true);
    const b = svg.fullBounds;
    copy.setAttribute("viewBox", [b.x, b.y, b.w, b.h].join(" "));
    copy.setAttribute("width", Math.round(b.w));
    copy.setAttribute("height", Math.round(b.h));
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + new XMLSerializer().serializeToString(copy);
  }

  function download(svg, name) {
    const source = serialize(svg);
    const url = URL.createObjectURL(new Blob([source], { type: "image/svg+xml" }));
    const a = document.createElement("a");
    a.href = url;
    a.download = name;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  return { draw, download, serialize };
})();
