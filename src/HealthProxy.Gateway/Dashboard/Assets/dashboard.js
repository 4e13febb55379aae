// HealthProxy dashboard: renders the state pushed on /dashboard/events (Server-Sent Events).
// Each push is the whole state; the DOM is diffed by key (service, instance) so only changed cells are
// touched, new rows are built in a DocumentFragment, and a few delegated listeners serve every row.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const STATES = ["healthy", "degraded", "starting", "draining", "unhealthy", "unknown"];
  const services = new Map(); // name -> { body, head, rows: Map(id -> row) }
  let registry = [];
  let generatedAt = 0;
  let receivedAt = 0;
  let lastEvents = "";
  let lastGraph = "";
  let source = null;

  function setText(node, text) {
    if (node.textContent !== text) node.textContent = text;
  }

  function setState(node, state, text) {
    if (node.dataset.state !== state) node.dataset.state = state;
    setText(node, text === undefined ? state : text);
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
    const body = document.querySelector("#categories tbody");
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
    body.replaceChildren(frag);
  }

  function renderGraph(state) {
    const roots = new Set(state.cascades.map((c) => c.root));
    const key = JSON.stringify([state.cascades, state.services.map((s) => [s.name, s.status, s.dependsOn, s.affectedBy])]);
    if (key === lastGraph) return;
    lastGraph = key;
    const cascades = document.createDocumentFragment();
    for (const c of state.cascades) {
      cascades.append(el("p", "cascade", "Cascading failure: " + c.root + " is unhealthy; blast radius " + c.affected.length +
        " service" + (c.affected.length === 1 ? "" : "s") + ": " + (c.affected.join(", ") || "none")));
    }
    if (!state.cascades.length) cascades.append(el("p", "", "No cascading failures."));
    $("cascades").replaceChildren(cascades);
    const list = document.createDocumentFragment();
    for (const s of state.services) {
      const li = el("li");
      li.tabIndex = 0;
      const name = el("span", roots.has(s.name) ? "root" : s.affectedBy.length ? "affected" : "", s.name);
      li.append(name);
      if (roots.has(s.name)) li.append(" (failing)");
      else if (s.affectedBy.length) li.append(" (affected by " + s.affectedBy.join(", ") + ")");
      li.append(s.dependsOn.length ? " → depends on " + s.dependsOn.join(", ") : " → no dependencies");
      list.append(li);
    }
    $("graph").replaceChildren(list);
  }

  function makeRow(service, instance) {
    const tr = el("tr");
    tr.tabIndex = 0;
    tr.dataset.instance = service + "/" + instance.id;
    const cells = { name: el("td", "instance", instance.id), state: el("span", "state"), source: el("td"), dataAge: el("td"), since: el("td") };
    const stateCell = el("td");
    stateCell.append(cells.state);
    tr.append(cells.name, stateCell, cells.source, cells.dataAge, cells.since);
    return { tr, cells, since: 0, source: "" };
  }

  function renderServices(state) {
    const table = $("instances");
    const seen = new Set();
    let order = [];
    for (const s of state.services) {
      seen.add(s.name);
      let entry = services.get(s.name);
      if (!entry) {
        const body = el("tbody", "service");
        body.dataset.service = s.name;
        const head = el("tr");
        head.tabIndex = 0;
        head.dataset.serviceRow = s.name;
        const name = el("th", "", s.name);
        name.scope = "rowgroup";
        const badgeCell = el("td");
        const badge = el("span", "state");
        badgeCell.append(badge);
        const counts = el("td");
        counts.colSpan = 3;
        head.append(name, badgeCell, counts);
        body.append(head);
        entry = { body, head, badge, counts, rows: new Map() };
        services.set(s.name, entry);
      }
      order.push(entry.body);
      setState(entry.badge, s.status);
      setText(entry.counts, s.category + " · " + countsText(countStates(s.instances)) + (s.affectedBy.length ? " · affected by " + s.affectedBy.join(", ") : ""));
      const fresh = document.createDocumentFragment();
      const ids = new Set();
      let appended = false;
      for (const i of s.instances) {
        ids.add(i.id);
        let row = entry.rows.get(i.id);
        if (!row) {
          row = makeRow(s.name, i);
          entry.rows.set(i.id, row);
          fresh.append(row.tr);
          appended = true;
        }
        setState(row.cells.state, i.state);
        setText(row.cells.source, i.source);
        row.source = i.source;
        row.registryService = s.registryService;
        row.since = Date.parse(i.since);
      }
      for (const [id, row] of entry.rows) {
        if (!ids.has(id)) { row.tr.remove(); entry.rows.delete(id); }
      }
      if (appended) {
        entry.body.append(fresh);
        // Keep rows in id order without rebuilding: re-append moves nodes only where needed.
        for (const i of s.instances) entry.body.append(entry.rows.get(i.id).tr);
      }
    }
    for (const [name, entry] of services) {
      if (!seen.has(name)) { entry.body.remove(); services.delete(name); }
    }
    const current = Array.from(table.tBodies);
    if (current.length !== order.length || current.some((b, i) => b !== order[i])) {
      const frag = document.createDocumentFragment();
      for (const b of order) frag.append(b);
      table.append(frag);
    }
    applyFilter();
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
    for (const entry of services.values()) {
      for (const row of entry.rows.values()) {
        setText(row.cells.since, age((now - row.since) / 1000) + " ago");
        setText(row.cells.dataAge, dataAge(row));
      }
    }
  }

  function applyFilter() {
    const q = $("filter").value.trim().toLowerCase();
    for (const [name, entry] of services) {
      const serviceMatch = !q || name.toLowerCase().includes(q);
      let any = serviceMatch;
      for (const [id, row] of entry.rows) {
        const show = serviceMatch || id.toLowerCase().includes(q) || row.cells.state.dataset.state === q;
        if (row.tr.hidden === show) row.tr.hidden = !show;
        any = any || show;
      }
      if (entry.head.hidden === any) entry.head.hidden = !any;
    }
  }

  function render(state) {
    generatedAt = Date.parse(state.generatedAt);
    receivedAt = Date.now();
    registry = state.registry;
    renderOverall(state);
    renderCategories(state);
    renderGraph(state);
    renderServices(state);
    renderRegistry(state);
    renderEvents(state);
    document.body.dataset.version = String(state.version);
  }

  function connect() {
    source = new EventSource("/dashboard/events");
    source.addEventListener("open", () => setText($("connection"), "live"));
    // The server sends the whole state first on every (re)connection, so a restart needs nothing more.
    source.addEventListener("state", (e) => render(JSON.parse(e.data)));
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

  // One listener each, whatever the number of rows.
  $("filter").addEventListener("input", applyFilter);
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
