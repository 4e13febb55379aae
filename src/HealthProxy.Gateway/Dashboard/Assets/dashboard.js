// HealthProxy dashboard: renders the state pushed on /dashboard/events (Server-Sent Events).
// Each push is the whole state. The page draws the dependency graph itself (SVG, a layered layout of the shown
// services), lists services most severe first, and diffs the DOM by key (service, instance) so only changed
// cells are touched. Work on many services is cut into slices that yield to the browser between them, so no
// single main-thread task grows with the number of services.
"use strict";
(function () {
  const SVG = "http://www.w3.org/2000/svg";
  const $ = (id) => document.getElementById(id);
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const svg = (tag, attrs) => {
    const e = document.createElementNS(SVG, tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    return e;
  };
  const STATES = ["healthy", "degraded", "starting", "draining", "unhealthy", "unknown"];
  const COLUMNS = 9;
  const SLICE = 100; // services handled per main-thread task
  const GRAPH_ALL = 150; // up to this many services the whole graph is drawn
  const GRAPH_MAX = 300; // never more nodes than this at once
  const HOUR = 3600 * 1000;
  const entries = new Map(); // service name -> { body, head, badge, summary, fallback, strip, rows: Map(id -> row) }
  let registry = [];
  let generatedAt = 0;
  let receivedAt = 0;
  let lastEvents = "";
  let lastLayout = "";
  let current = null; // the newest state received
  let pending = false; // a render is scheduled or running
  let dirty = false; // something arrived (or a control changed) while rendering
  let focus = null; // the service whose neighbourhood the graph shows
  const PAGE = 100; // services listed at first, and added by each "Show more": the table's layout stays small
  let limit = PAGE;
  let source = null;

  function setText(node, text) {
    if (node.textContent !== text) node.textContent = text;
  }

  function setState(node, state, text) {
    if (node.dataset.state !== state) node.dataset.state = state;
    setText(node, text === undefined ? state : text);
  }

  function setAttr(node, name, value) {
    if (node.getAttribute(name) !== value) node.setAttribute(name, value);
  }

  function age(seconds) {
    if (seconds === null || seconds === undefined || isNaN(seconds)) return "—";
    const s = Math.max(0, Math.round(seconds));
    if (s < 60) return s + " s";
    if (s < 3600) return Math.floor(s / 60) + " min " + (s % 60) + " s";
    return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min";
  }

  // Server time now, so ages do not depend on the browser's clock.
  const serverNow = () => generatedAt + (Date.now() - receivedAt);
  const yieldToBrowser = () => new Promise((resolve) => setTimeout(resolve, 0));

  // The page's one ordering rule: unhealthy, then affected by a failure elsewhere, then degraded, then the rest.
  function severity(s) {
    if (s.status === "unhealthy") return 0;
    if (s.affectedBy.length) return 1;
    if (s.status === "degraded") return 2;
    if (s.status === "unknown") return 3;
    return 4;
  }

  const bySeverity = (a, b) => severity(a) - severity(b) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const isProblem = (s) => severity(s) < 3;

  function countsText(counts) {
    const parts = [];
    for (const state of STATES) if (counts[state]) parts.push(counts[state] + " " + state);
    return parts.length ? parts.join(", ") : "no instances";
  }

  function countStates(instances) {
    const counts = {};
    for (const i of instances) counts[i.state] = (counts[i.state] || 0) + 1;
    return counts;
  }

  function registryAge(service) {
    const match = service ? registry.find((r) => r.service === service) : null;
    return match ? match.dataAgeSeconds : null;
  }

  function renderOverall(state) {
    const o = state.overall;
    setState($("overall"), o.status, "Overall: " + o.status + " — " + o.serving + " of " + o.total + " services serving");
  }

  function renderCategories(state) {
    const frag = document.createDocumentFragment();
    const byCategory = {};
    for (const s of state.services) {
      const c = (byCategory[s.category] = byCategory[s.category] || {});
      for (const i of s.instances) c[i.state] = (c[i.state] || 0) + 1;
    }
    for (const c of state.categories) {
      const tr = el("tr");
      tr.tabIndex = 0;
      tr.dataset.category = c.name;
      tr.append(el("th", "", c.name));
      const td = el("td");
      const badge = el("span", "state");
      setState(badge, c.status);
      td.append(badge);
      tr.append(td, el("td", "", c.serving + " / " + c.total), el("td", "", countsText(byCategory[c.name] || {})));
      frag.append(tr);
    }
    document.querySelector("#categories tbody").replaceChildren(frag);
  }

  // ---- The blast radius table and the graph ----

  // Dependents of each service (the reverse of dependsOn), for the blast radius order and neighbourhoods.
  function dependentsOf(state) {
    const dependents = new Map();
    for (const s of state.services) {
      for (const d of s.dependsOn) {
        if (!dependents.has(d)) dependents.set(d, []);
        dependents.get(d).push(s.name);
      }
    }
    return dependents;
  }

  function renderCascades(state, dependents) {
    const frag = document.createDocumentFragment();
    for (const c of state.cascades) {
      // Nearest first: a walk outwards from the root over dependents, keeping only the affected ones.
      const affected = new Set(c.affected);
      const ordered = [];
      const seen = new Set([c.root]);
      let layer = [c.root];
      while (layer.length) {
        const next = [];
        for (const n of layer) {
          for (const d of (dependents.get(n) || []).slice().sort()) {
            if (seen.has(d)) continue;
            seen.add(d);
            next.push(d);
            if (affected.has(d)) ordered.push(d);
          }
        }
        layer = next;
      }
      for (const a of c.affected) if (!seen.has(a)) ordered.push(a);
      const tr = el("tr");
      tr.dataset.root = c.root;
      const list = el("ol");
      for (const a of ordered) list.append(el("li", "", a));
      const radius = el("td");
      radius.append(el("span", "", ordered.length + " service" + (ordered.length === 1 ? "" : "s") + (ordered.length ? ":" : "")), list);
      tr.append(el("td", "root", c.root), el("td", "", new Date(c.since).toISOString().substring(11, 19)), radius);
      frag.append(tr);
    }
    if (!state.cascades.length) {
      const tr = el("tr");
      const td = el("td", "", "No cascading failures.");
      td.colSpan = 3;
      tr.append(td);
      frag.append(tr);
    }
    document.querySelector("#cascades tbody").replaceChildren(frag);
  }

  // Which services the graph shows: a focused neighbourhood, the search's matches and their neighbours, everything
  // when it is small, else the failing, affected and degraded ones and their neighbours.
  function shownServices(state, byName, dependents) {
    const shown = new Set();
    const add = (name) => { if (shown.size < GRAPH_MAX && byName.has(name)) shown.add(name); };
    const neighbours = (name) => { for (const d of byName.get(name).dependsOn) add(d); for (const d of dependents.get(name) || []) add(d); };
    const query = $("graph-search").value.trim().toLowerCase();
    let note;
    if (focus && byName.has(focus)) {
      // Two steps out each way: what it needs (and what that needs), what needs it (and what needs those).
      add(focus);
      for (const step of [(n) => byName.get(n).dependsOn, (n) => dependents.get(n) || []]) {
        let ring = [focus];
        for (let k = 0; k < 2; k++) {
          const next = [];
          for (const n of ring) for (const d of step(n)) if (!shown.has(d)) { add(d); next.push(d); }
          ring = next;
        }
      }
      note = "Neighbourhood of " + focus + " (two steps each way).";
    } else if (query) {
      const matches = state.services.filter((s) => s.name.toLowerCase().includes(query));
      for (const s of matches) add(s.name);
      for (const s of matches) neighbours(s.name);
      note = matches.length + " service" + (matches.length === 1 ? "" : "s") + " match, shown with their neighbours.";
    } else if (state.services.length <= GRAPH_ALL) {
      for (const s of state.services) add(s.name);
      note = "All " + state.services.length + " services.";
    } else {
      const problems = state.services.filter(isProblem).sort(bySeverity);
      for (const s of problems) add(s.name);
      for (const s of problems) neighbours(s.name);
      note = problems.length
        ? "The " + problems.length + " unhealthy, affected or degraded services of " + state.services.length + " and their neighbours; search or click a service to see others."
        : "All " + state.services.length + " services are healthy; search or pick one in the list to see its neighbourhood.";
    }
    if (shown.size >= GRAPH_MAX) note += " Showing the first " + GRAPH_MAX + ".";
    setText($("graph-note"), note);
    return shown;
  }

  // A layered layout: each service's layer is its longest dependency path inside the shown set (what depends on
  // nothing shown sits in the rightmost column), then a few barycentric sweeps order each column to shorten edges.
  function layout(names, deps, severityOf) {
    const layer = new Map();
    const visiting = new Set();
    const depth = (n) => {
      if (layer.has(n)) return layer.get(n);
      if (visiting.has(n)) return 0; // a cycle: that edge does not add a layer
      visiting.add(n);
      let d = 0;
      for (const m of deps.get(n)) d = Math.max(d, depth(m) + 1);
      visiting.delete(n);
      layer.set(n, d);
      return d;
    };
    let top = 0;
    for (const n of names) top = Math.max(top, depth(n));
    const columns = [];
    for (let i = 0; i <= top; i++) columns.push([]);
    for (const n of names) columns[top - layer.get(n)].push(n); // dependents on the left, dependencies on the right
    for (const c of columns) c.sort((a, b) => severityOf(a) - severityOf(b) || (a < b ? -1 : 1));
    const up = new Map(names.map((n) => [n, []]));
    for (const n of names) for (const m of deps.get(n)) up.get(m).push(n);
    const position = new Map();
    const place = () => { for (const c of columns) c.forEach((n, i) => position.set(n, i)); };
    place();
    for (let sweep = 0; sweep < 4; sweep++) {
      const forward = sweep % 2 === 0;
      for (let k = 0; k < columns.length; k++) {
        const c = columns[forward ? k : columns.length - 1 - k];
        const score = new Map();
        for (const n of c) {
          const others = forward ? up.get(n) : deps.get(n);
          score.set(n, others.length ? others.reduce((sum, o) => sum + position.get(o), 0) / others.length : position.get(n));
        }
        c.sort((a, b) => score.get(a) - score.get(b) || position.get(a) - position.get(b));
        c.forEach((n, i) => position.set(n, i));
      }
    }
    const at = new Map();
    columns.forEach((c, x) => c.forEach((n, y) => at.set(n, { x, y })));
    return { at, width: columns.length, height: Math.max(1, ...columns.map((c) => c.length)) };
  }

  const NODE_W = 168, NODE_H = 30, GAP_X = 64, GAP_Y = 14, PAD = 12;

  function renderGraph(state, byName, dependents) {
    const shown = shownServices(state, byName, dependents);
    const names = Array.from(shown).sort();
    const deps = new Map(names.map((n) => [n, byName.get(n).dependsOn.filter((d) => shown.has(d))]));
    const key = (focus || "") + "|" + names.map((n) => n + ">" + deps.get(n).join(",")).join(";");
    const nodes = $("graph-nodes");
    const edges = $("graph-edges");
    if (key !== lastLayout) {
      // The shape changed: lay out again. State changes alone only recolour what is drawn.
      lastLayout = key;
      const { at, width, height } = layout(names, deps, (n) => severity(byName.get(n)));
      const nodeFrag = document.createDocumentFragment();
      const edgeFrag = document.createDocumentFragment();
      const xy = (n) => ({ x: PAD + at.get(n).x * (NODE_W + GAP_X), y: PAD + at.get(n).y * (NODE_H + GAP_Y) });
      for (const n of names) {
        const p = xy(n);
        const g = svg("g", { class: "node", transform: "translate(" + p.x + "," + p.y + ")", tabindex: "0", role: "button" });
        g.dataset.service = n;
        const title = svg("title", {});
        g.append(title, svg("rect", { width: NODE_W, height: NODE_H, rx: 5 }), svg("text", { x: 8, y: NODE_H / 2 }));
        nodeFrag.append(g);
        for (const d of deps.get(n)) {
          const q = xy(d);
          const x1 = p.x + NODE_W, y1 = p.y + NODE_H / 2, x2 = q.x, y2 = q.y + NODE_H / 2;
          const bend = Math.max(24, Math.abs(x2 - x1) / 2);
          const path = svg("path", { class: "edge", d: "M" + x1 + "," + y1 + " C" + (x1 + bend) + "," + y1 + " " + (x2 - bend) + "," + y2 + " " + x2 + "," + y2 });
          path.dataset.from = n;
          path.dataset.to = d;
          edgeFrag.append(path);
        }
      }
      nodes.replaceChildren(nodeFrag);
      edges.replaceChildren(edgeFrag);
      const svgRoot = $("graph-svg");
      setAttr(svgRoot, "width", String(names.length ? PAD * 2 + width * NODE_W + (width - 1) * GAP_X : 0));
      setAttr(svgRoot, "height", String(names.length ? PAD * 2 + height * NODE_H + (height - 1) * GAP_Y : 0));
    }
    const roots = new Set(state.cascades.map((c) => c.root));
    for (const g of nodes.children) {
      const s = byName.get(g.dataset.service);
      const role = roots.has(s.name) ? "root" : s.affectedBy.length ? "affected" : "none";
      if (g.dataset.state !== s.status) g.dataset.state = s.status;
      if (g.dataset.role !== role) g.dataset.role = role;
      const f = String(s.name === focus);
      if (g.dataset.focus !== f) g.dataset.focus = f;
      const symbol = s.status === "healthy" ? "✔ " : s.status === "degraded" ? "▲ " : s.status === "unhealthy" ? "✖ " : "? ";
      setText(g.lastChild, symbol + (s.name.length > 20 ? s.name.substring(0, 19) + "…" : s.name));
      setText(g.firstChild, s.name + ": " + s.status + (role === "root" ? ", failing root" : role === "affected" ? ", affected by " + s.affectedBy.join(", ") : ""));
    }
    for (const p of edges.children) {
      const from = byName.get(p.dataset.from);
      const to = byName.get(p.dataset.to);
      // Red where the failure travels: from an affected service to the root or another service of the same cascade.
      const blast = from.affectedBy.some((r) => r === to.name || to.affectedBy.includes(r));
      if (p.classList.contains("blast") !== blast) p.classList.toggle("blast", blast);
    }
  }

  // ---- Services, most severe first ----

  function matchesFilter(s, q) {
    if (!q) return true;
    if (s.name.toLowerCase().includes(q) || s.category.toLowerCase().includes(q) || s.status === q) return true;
    return s.instances.some((i) => i.id.toLowerCase().includes(q) || i.state === q);
  }

  function makeRow(service, instance) {
    const tr = el("tr");
    tr.tabIndex = 0;
    tr.dataset.instance = service + "/" + instance.id;
    const cells = {
      name: el("td", "instance", instance.id), state: el("span", "state"), source: el("td"), reads: el("td", "reads"), writes: el("td", "writes"),
      weight: el("td", "weight"), inFlight: el("td", "inflight"), dataAge: el("td"), since: el("td"),
    };
    for (const kind of ["reads", "writes"]) {
      const bar = el("span", "bar");
      const fill = el("span");
      bar.append(fill);
      cells[kind + "Fill"] = fill;
      cells[kind + "Text"] = el("span");
      cells[kind].append(bar, cells[kind + "Text"]);
    }
    cells.fallback = el("span", "fallback");
    cells.fallback.hidden = true;
    const stateCell = el("td");
    stateCell.append(cells.state, cells.fallback);
    tr.append(cells.name, stateCell, cells.source, cells.reads, cells.writes, cells.weight, cells.inFlight, cells.dataAge, cells.since);
    return { tr, cells, since: 0, source: "" };
  }

  function makeEntry(name) {
    const body = el("tbody", "service");
    body.dataset.service = name;
    const head = el("tr", "service-head");
    head.tabIndex = 0;
    head.dataset.serviceRow = name;
    const cell = el("th");
    cell.scope = "rowgroup";
    cell.colSpan = COLUMNS;
    const badge = el("span", "state");
    const summary = el("span", "summary");
    const fallback = el("span", "fallback");
    fallback.hidden = true;
    const failover = el("span", "failover");
    failover.hidden = true;
    const strip = svg("svg", { class: "strip", width: "180", height: "10", viewBox: "0 0 360 10", preserveAspectRatio: "none", role: "img" });
    const changes = el("span", "changes");
    cell.append(el("span", "name", name), badge, summary, fallback, failover, strip, changes);
    head.append(cell);
    body.append(head);
    return { body, head, badge, summary, fallback, failover, strip, changes, stripKey: "", rows: new Map() };
  }

  function share(value) {
    return value === null || value === undefined ? "—" : Math.round(value * 100) + "%";
  }

  function renderTraffic(row, kind, minute) {
    const count = minute ? minute[kind] : 0;
    const part = minute ? minute[kind === "reads" ? "readShare" : "writeShare"] : null;
    const cell = row.cells[kind];
    const shareText = part === null || part === undefined ? "" : String(part);
    if (cell.dataset.share !== shareText) cell.dataset.share = shareText;
    if (cell.dataset.count !== String(count)) cell.dataset.count = String(count);
    const width = Math.round((part || 0) * 100) + "%";
    if (row.cells[kind + "Fill"].style.width !== width) row.cells[kind + "Fill"].style.width = width;
    setText(row.cells[kind + "Text"], share(part) + " (" + count + ")");
  }

  function renderInstance(entry, s, i) {
    let row = entry.rows.get(i.id);
    const fresh = !row;
    if (fresh) {
      row = makeRow(s.name, i);
      entry.rows.set(i.id, row);
    }
    setState(row.cells.state, i.state);
    setText(row.cells.source, i.source);
    renderTraffic(row, "reads", i.lastMinute);
    renderTraffic(row, "writes", i.lastMinute);
    // Requests that came by the fallback (no instance was eligible for their kind) are marked as such.
    const fallbacks = i.lastMinute ? i.lastMinute.fallbacks : 0;
    if (row.cells.fallback.dataset.count !== String(fallbacks)) row.cells.fallback.dataset.count = String(fallbacks);
    if (row.cells.fallback.hidden !== !fallbacks) row.cells.fallback.hidden = !fallbacks;
    setText(row.cells.fallback, fallbacks + " by fallback");
    let weight = i.readWeight === undefined ? "—" : i.readWeight + " / " + i.writeWeight;
    if (i.slowStart) weight += " · slow start " + Math.round(i.slowStart.progress * 100) + "% (×" + i.slowStart.factor + ")";
    setText(row.cells.weight, weight);
    setText(row.cells.inFlight, i.inFlight === undefined ? "—" : String(i.inFlight));
    row.source = i.source;
    row.registryService = s.registryService;
    row.since = Date.parse(i.since);
    return fresh;
  }

  function renderStrip(entry, s, now) {
    // Redrawn when the history changes, and as the hour slides on (every tick of ten seconds).
    const key = Math.floor(now / 10000) + ":" + s.history.length + ":" + (s.history.length ? s.history[s.history.length - 1].at : "");
    if (entry.stripKey === key) return;
    entry.stripKey = key;
    const start = now - HOUR;
    const frag = document.createDocumentFragment();
    const title = svg("title", {});
    const flips = Math.max(0, s.history.length - 1);
    title.textContent = s.name + ", last hour: " + (s.history.map((h) => h.status + " from " + new Date(h.at).toISOString().substring(11, 19)).join(", ") || "no data");
    frag.append(title);
    s.history.forEach((h, k) => {
      const from = Math.max(start, Date.parse(h.at));
      const to = k + 1 < s.history.length ? Date.parse(s.history[k + 1].at) : now;
      if (to <= start) return;
      const x = ((from - start) / HOUR) * 360;
      // At least three units wide (of 360), so a change seconds ago still shows.
      const r = svg("rect", { x: Math.min(x, 357).toFixed(1), y: 0, width: Math.max(3, ((to - from) / HOUR) * 360).toFixed(1), height: 10 });
      r.dataset.state = h.status;
      frag.append(r);
    });
    entry.strip.replaceChildren(frag);
    entry.strip.dataset.changes = String(flips);
    setText(entry.changes, flips === 1 ? "1 change in the last hour" : flips + " changes in the last hour");
    entry.strip.setAttribute("aria-label", title.textContent);
  }

  // A moment as hh:mm:ss UTC, as the event list and the blast radius show it.
  function clock(t) {
    return new Date(t).toISOString().substring(11, 19) + " UTC";
  }

  function renderEntry(entry, s, q, now) {
    setState(entry.badge, s.status);
    const tiers = s.tiers ? " · reads → " + s.tiers.reads + ", writes → " + s.tiers.writes : "";
    setText(entry.summary, s.category + " · " + countsText(countStates(s.instances)) + tiers + (s.affectedBy.length ? " · affected by " + s.affectedBy.join(", ") : ""));
    const fb = s.fallback && (s.fallback.reads || s.fallback.writes)
      ? "fallback: " + (s.fallback.reads && s.fallback.writes ? "reads and writes" : s.fallback.reads ? "reads" : "writes") + " go to all instances"
      : "";
    if (entry.fallback.hidden !== !fb) entry.fallback.hidden = !fb;
    setText(entry.fallback, fb);
    // Failover tiers, only for clusters that have more than the local tier: which tier serves each kind, since when.
    const fo = s.failover && s.failover.tiers.length > 1 ? s.failover : null;
    const foText = fo ? "reads: tier " + fo.reads.tier + " since " + clock(fo.reads.since) + " · writes: tier " + fo.writes.tier + " since " + clock(fo.writes.since) : "";
    if (entry.failover.hidden !== !foText) entry.failover.hidden = !foText;
    entry.failover.dataset.remote = fo && (fo.reads.tier > 0 || fo.writes.tier > 0) ? "true" : "false";
    entry.failover.dataset.readTier = fo ? String(fo.reads.tier) : "";
    entry.failover.dataset.writeTier = fo ? String(fo.writes.tier) : "";
    setText(entry.failover, foText);
    renderStrip(entry, s, now);
    const ids = new Set();
    let appended = false;
    const fresh = document.createDocumentFragment();
    for (const i of s.instances) {
      ids.add(i.id);
      if (renderInstance(entry, s, i)) {
        fresh.append(entry.rows.get(i.id).tr);
        appended = true;
      }
    }
    for (const [id, row] of entry.rows) {
      if (!ids.has(id)) { row.tr.remove(); entry.rows.delete(id); }
    }
    if (appended) {
      entry.body.append(fresh);
      // Keep rows in id order without rebuilding: re-append moves nodes only where needed.
      for (const i of s.instances) entry.body.append(entry.rows.get(i.id).tr);
    }
    // Within a listed service, a filter that names none of it but some instances shows those instances.
    const serviceMatch = !q || s.name.toLowerCase().includes(q) || s.category.toLowerCase().includes(q) || s.status === q;
    for (const [id, row] of entry.rows) {
      const show = serviceMatch || id.toLowerCase().includes(q) || row.cells.state.dataset.state === q;
      if (row.tr.hidden === show) row.tr.hidden = !show;
    }
  }

  async function renderServices(state) {
    const q = $("filter").value.trim().toLowerCase();
    const problemsOnly = $("show").value === "problems";
    const listed = state.services.filter((s) => (!problemsOnly || isProblem(s)) && matchesFilter(s, q)).sort(bySeverity);
    const total = listed.length;
    const shown = listed.slice(0, limit);
    const now = serverNow();
    for (let start = 0; start < shown.length; start += SLICE) {
      if (start > 0) await yieldToBrowser();
      for (const s of shown.slice(start, start + SLICE)) {
        let entry = entries.get(s.name);
        if (!entry) {
          entry = makeEntry(s.name);
          entries.set(s.name, entry);
        }
        renderEntry(entry, s, q, now);
      }
    }
    const wanted = new Set(shown.map((s) => s.name));
    for (const [name, entry] of entries) {
      if (!wanted.has(name)) { entry.body.remove(); entries.delete(name); }
    }
    const table = $("instances");
    const order = shown.map((s) => entries.get(s.name).body);
    const existing = table.tBodies;
    let same = existing.length === order.length;
    for (let i = 0; same && i < order.length; i++) same = existing[i] === order[i];
    if (!same) {
      const frag = document.createDocumentFragment();
      for (const b of order) frag.append(b);
      table.append(frag);
    }
    setText($("services-note"), total > shown.length
      ? "Listing the " + shown.length + " most severe of " + total + " services."
      : total + " of " + state.services.length + " services listed.");
    const complete = total <= shown.length;
    if ($("services-more").disabled !== complete) $("services-more").disabled = complete;
    tickAges();
  }

  function renderRegistry(state) {
    const frag = document.createDocumentFragment();
    for (const r of state.registry) {
      const tr = el("tr");
      tr.tabIndex = 0;
      const reach = el("span", "state");
      setState(reach, r.reachable ? (r.stale ? "degraded" : "healthy") : "unhealthy", r.reachable ? (r.stale ? "reachable, stale" : "reachable") : "unreachable");
      const td = el("td");
      td.append(reach);
      tr.append(el("th", "", r.service), td, el("td", "", age(r.dataAgeSeconds)));
      frag.append(tr);
    }
    if (!state.registry.length) {
      const tr = el("tr");
      const td = el("td", "", "No Consul-discovered clusters.");
      td.colSpan = 3;
      tr.append(td);
      frag.append(tr);
    }
    document.querySelector("#registry tbody").replaceChildren(frag);
  }

  function renderEvents(state) {
    const key = state.events.length ? JSON.stringify(state.events[0]) + state.events.length : "";
    if (key === lastEvents) return;
    lastEvents = key;
    const frag = document.createDocumentFragment();
    for (const e of state.events) {
      const li = el("li");
      li.dataset.kind = e.kind;
      li.append(el("time", "", new Date(e.at).toISOString().substring(11, 19) + " "), el("span", "kind", e.kind + " "), e.subject + ": " + e.text);
      frag.append(li);
    }
    if (!state.events.length) frag.append(el("li", "", "No events yet."));
    $("events").replaceChildren(frag);
  }

  // Consul's answer is as old as the registry's data; probe and breaker states are the gateway's own, current.
  function dataAge(row) {
    if (row.source !== "consul") return "live";
    const seconds = registryAge(row.registryService);
    return seconds === null ? "—" : age(seconds + (Date.now() - receivedAt) / 1000);
  }

  function tickAges() {
    const now = serverNow();
    for (const entry of entries.values()) {
      for (const row of entry.rows.values()) {
        setText(row.cells.since, age((now - row.since) / 1000) + " ago");
        setText(row.cells.dataAge, dataAge(row));
      }
    }
  }

  // One render at a time, always of the newest state; what arrives meanwhile is rendered right after.
  function schedule() {
    if (pending) { dirty = true; return; }
    pending = true;
    setTimeout(run, 0);
  }

  async function run() {
    try {
      do {
        dirty = false;
        const state = current;
        if (!state) break;
        generatedAt = Date.parse(state.generatedAt);
        receivedAt = Date.now();
        registry = state.registry;
        const byName = new Map(state.services.map((s) => [s.name, s]));
        const dependents = dependentsOf(state);
        renderOverall(state);
        renderCascades(state, dependents);
        renderGraph(state, byName, dependents);
        await yieldToBrowser();
        await renderServices(state);
        await yieldToBrowser();
        renderCategories(state);
        renderRegistry(state);
        renderEvents(state);
        document.body.dataset.version = String(state.version);
      } while (dirty);
    } finally {
      pending = false;
    }
  }

  function connect() {
    source = new EventSource("/dashboard/events");
    source.addEventListener("open", () => setText($("connection"), "live"));
    // The server sends the whole state first on every (re)connection, so a restart needs nothing more.
    source.addEventListener("state", (e) => { current = JSON.parse(e.data); schedule(); });
    source.addEventListener("error", () => {
      if (source.readyState === EventSource.CLOSED) {
        // Refused (401 after the session expired, or an error page): try again later, not in a loop.
        setText($("connection"), "disconnected — retrying in 5 s (reload with ?token= if the session expired)");
        source.close();
        setTimeout(connect, 5000);
      } else {
        setText($("connection"), "reconnecting…");
      }
    });
  }

  // One listener each, whatever the number of rows or nodes.
  $("filter").addEventListener("input", schedule);
  $("show").addEventListener("change", schedule);
  $("services-more").addEventListener("click", () => { limit += PAGE; schedule(); });
  $("graph-search").addEventListener("input", () => { focus = null; schedule(); });
  $("graph-all").addEventListener("click", () => { focus = null; $("graph-search").value = ""; schedule(); });
  const pick = (target) => {
    const node = target.closest && target.closest(".node");
    if (!node) return;
    focus = focus === node.dataset.service ? null : node.dataset.service;
    schedule();
  };
  $("graph-nodes").addEventListener("click", (e) => pick(e.target));
  $("graph-nodes").addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { pick(e.target); e.preventDefault(); } });
  $("instances").addEventListener("click", (e) => {
    const head = e.target.closest && e.target.closest("tr.service-head");
    if (head) { focus = head.dataset.serviceRow; schedule(); }
  });
  $("instances").addEventListener("keydown", (e) => {
    if (e.key !== "ArrowDown" && e.key !== "ArrowUp") return;
    const rows = Array.from($("instances").querySelectorAll("tbody tr:not([hidden])"));
    const index = rows.indexOf(document.activeElement);
    const next = rows[index + (e.key === "ArrowDown" ? 1 : -1)];
    if (next) { next.focus(); e.preventDefault(); }
  });
  setInterval(tickAges, 1000);
  connect();
})();
