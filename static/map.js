// The map: the SVG the server lays out and draws (GET /api/v1/networks/{id}/map.svg, the same
// file it serves for download), made zoomable, draggable and clickable here. One layout, in one
// place: the server's. Subnets are groups of columns, each host a card with its IP addresses on
// the left and its services on the right; lines join services to the addresses they listen on,
// curves join a service to what it depends on.
"use strict";

window.PortolanMap = (() => {

  // The server's SVG text as an element of this document.
  function parse(source) {
    const doc = new DOMParser().parseFromString(source, "image/svg+xml");
    const svg = document.importNode(doc.documentElement, true);
    svg.removeAttribute("width");
    svg.removeAttribute("height");
    svg.source = source;
    return svg;
  }

  // `at`: the map shows the network as of that instant; a host opens as of then too.
  function draw({ source, at }) {
    const hostHash = (id) => "#/host/" + encodeURIComponent(id) + (at ? "?at=" + encodeURIComponent(at) : "");
    const svg = parse(source);
    const [bx, by, bw, bh] = (svg.getAttribute("viewBox") || "0 0 400 300").split(" ").map(Number);
    const bounds = { x: bx, y: by, w: bw, h: bh };
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

  // The whole map, whatever the current zoom, as a standalone file: the server's own.
  function serialize(svg) {
    return svg.source;
  }

  function save(source, name, type) {
    const url = URL.createObjectURL(new Blob([source], { type }));
    const a = document.createElement("a");
    a.href = url;
    a.download = name;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  const download = (svg, name) => save(serialize(svg), name, "image/svg+xml");

  return { draw, download, save, serialize };
})();
