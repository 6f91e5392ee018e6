// The Paddock control panel (/ui/): VMs, pools and leases, recorded sessions, sites and plugins,
// all through the native API with the tab's token (api.js). The VM table follows the event
// stream (WS /api/v1/events) instead of polling: each event re-reads the one VM it names. The
// buttons shown are the ones the token's role may use (GET /api/v1/whoami). Text from the API
// is only ever set as textContent.
(function () {
  "use strict";
  const { el, duration, dateTime } = Paddock;
  const $ = (id) => document.getElementById(id);
  const VIEWS = ["vms", "pools", "sessions", "sites"];
  const RANK = { viewer: 0, operator: 1, admin: 2 };
  const STATE_TONE = { running: "ok", "shut off": "", crashed: "bad", paused: "warn", pmsuspended: "warn",
                       shutdown: "warn", blocked: "warn", nostate: "" };
  const READY_TONE = { ready: "ok", booting: "warn", unreachable: "bad", stopped: "", unknown: "" };
  const RECONNECT_MAX_MS = 15000;

  let client = null;          // Paddock.client for the signed-in token
  let who = null;             // GET /api/v1/whoami
  let view = "";              // the view shown
  let events = null;          // the event stream's WebSocket
  let eventsOpened = false;   // it has been open at least once since sign-in
  let reconnectDelay = 1000;
  let reconnectTimer = null;
  const vms = new Map();      // "site/name" -> { vm, row, detail }
  const startedAt = new Map();  // "site/name" -> ms of the last "started" event seen
  const vmReads = new Map();  // "site/name" -> "busy" | "again": re-reads after events, one at a time
  let leases = [];            // with loadedAt, for the local countdown
  let refreshTimer = null;

  // ---- permissions -------------------------------------------------------------------------
  const atLeast = (role) => who !== null && RANK[who.role] >= RANK[role];
  const can = {
    // Owner-scoped tokens reach only their own objects and a fixed list of routes (no creating,
    // deleting, pool listing or event stream).
    create: () => atLeast("operator") && !who.owner,
    act: () => atLeast("operator"),
    remove: () => atLeast("operator") && !who.owner,
    pools: () => who !== null && !who.owner,
    events: () => who !== null && !who.owner,
    sites: () => atLeast("admin"),
  };

  // ---- messages ----------------------------------------------------------------------------
  function notify(text, kind) {
    $("notice-text").textContent = text;
    $("notice").className = "notice" + (kind === "info" ? " info" : "");
    $("notice").setAttribute("role", kind === "info" ? "status" : "alert");
    $("notice").hidden = false;
  }
  const clearNotice = () => { $("notice").hidden = true; };
  // A failed action in plain words: what was tried, and the API's own explanation.
  function failed(what, error) {
    if (error.status === 401) return;  // back at the sign-in form, which says why
    let text = what + " failed: " + error.message;
    if (error.status === 403) text = what + " is not allowed for your token (" + who.role + "): " + error.message;
    else if (error.status === 0) text = what + " failed: " + error.message + ". Check that paddockd is running.";
    notify(text);
  }

  // ---- the dialog (confirmations and small forms) ------------------------------------------
  // Resolves to null when cancelled, else to the fields' values by name ({} without fields).
  function ask({ title, text, ok, danger, fields }) {
    const dialog = $("dialog");
    $("dialog-title").textContent = title;
    $("dialog-text").textContent = text || "";
    const box = $("dialog-fields");
    box.replaceChildren();
    const inputs = [];
    for (const f of fields || []) {
      const label = el("label", "", f.label);
      const input = el("input");
      input.name = f.name;
      input.type = f.type || "text";
      if (f.value !== undefined) input.value = String(f.value);
      if (f.min !== undefined) input.min = String(f.min);
      if (f.placeholder) input.placeholder = f.placeholder;
      input.required = Boolean(f.required);
      input.autocomplete = "off";
      label.append(input);
      box.append(label);
      inputs.push(input);
    }
    const okButton = $("dialog-ok");
    okButton.textContent = ok || "OK";
    okButton.className = danger ? "danger" : "primary";
    return new Promise((resolve) => {
      dialog.returnValue = "";
      dialog.addEventListener("close", () => {
        if (dialog.returnValue !== "ok") return resolve(null);
        const values = {};
        for (const input of inputs) values[input.name] = input.value;
        resolve(values);
      }, { once: true });
      dialog.showModal();
      (inputs[0] || okButton).focus();
    });
  }

  // ---- sign-in -----------------------------------------------------------------------------
  function showLogin(message) {
    closeEvents();
    eventsOpened = false;
    client = null;
    who = null;
    $("app").hidden = true;
    $("login").hidden = false;
    $("login-error").textContent = message || "";
    $("login-token").value = "";
    $("login-token").focus();
  }

  function unauthorized() {
    Paddock.forgetToken();
    showLogin("Your token was not accepted (401): it may be wrong, expired or revoked. Sign in again.");
  }

  async function signIn(token) {
    const candidate = Paddock.client({ token: token, onUnauthorized: () => {} });
    try {
      who = await candidate.call("GET", "/api/v1/whoami");
    } catch (e) {
      if (e.status === 401) {
        Paddock.forgetToken();
        showLogin(token ? "That token was not accepted (401). Check it and try again." : "");
      } else {
        showLogin("Cannot sign in: " + e.message);
      }
      return;
    }
    if (token) Paddock.storeToken(token);
    client = Paddock.client({ token: token, onUnauthorized: unauthorized });
    $("login").hidden = true;
    $("app").hidden = false;
    clearNotice();
    $("who").textContent = who.name + " · " + who.role + (who.owner ? " · owner " + who.owner : "");
    $("logout").hidden = !token;
    for (const node of document.querySelectorAll("[data-needs=create]")) node.hidden = !can.create();
    document.querySelector('nav a[data-view="sites"]').hidden = !can.sites();
    document.querySelector('nav a[data-view="pools"]').textContent = can.pools() ? "Pools & leases" : "Leases";
    vms.clear();
    $("vm-rows").replaceChildren();
    eventsOpened = false;
    connectEvents();
    route();
  }

  $("login-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const token = $("login-token").value.trim();
    if (!token) {
      $("login-error").textContent = "Enter a token.";
      return;
    }
    signIn(token);
  });
  $("logout").addEventListener("click", () => {
    Paddock.forgetToken();
    showLogin("Signed out.");
  });
  $("notice-close").addEventListener("click", clearNotice);

  // ---- views -------------------------------------------------------------------------------
  function route() {
    if (!who) return;
    let wanted = location.hash.replace(/^#/, "");
    if (!VIEWS.includes(wanted)) wanted = "vms";
    view = wanted;
    for (const name of VIEWS) $("view-" + name).hidden = name !== view;
    for (const link of document.querySelectorAll("nav a"))
      if (link.dataset.view === view) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    document.title = "Paddock · " + document.querySelector('nav a[data-view="' + view + '"]').textContent;
    load(view);
  }
  window.addEventListener("hashchange", () => { clearNotice(); route(); });

  function load(name) {
    if (name === "vms") return loadVms();
    if (name === "pools") return loadPools();
    if (name === "sessions") return loadSessions();
    if (name === "sites") return loadSites();
  }

  // Views other than the VM table are re-read (once, shortly after a burst) when events arrive.
  function refreshSoon() {
    if (view === "vms" || view === "sessions" || refreshTimer) return;
    refreshTimer = setTimeout(() => { refreshTimer = null; load(view); }, 400);
  }

  // A button for a row; `run` gets the button (disabled while it runs).
  function button(label, action, run, options) {
    const b = el("button", (options && options.className) || "small", label);
    b.type = "button";
    b.dataset.action = action;
    if (options && options.aria) b.setAttribute("aria-label", options.aria);
    b.addEventListener("click", async () => {
      b.disabled = true;
      try { await run(b); } finally { b.disabled = false; }
    });
    return b;
  }
  function cell(label, content, className) {
    const td = el("td", className);
    if (label) td.dataset.label = label;
    if (content instanceof Node) td.append(content);
    else if (content !== undefined && content !== null) td.textContent = String(content);
    return td;
  }
  const badge = (text, tone) => el("span", "badge" + (tone ? " " + tone : ""), text);
  // A configured span: "1 h", "90 min", "45 s".
  const span = (s) => (s % 3600 === 0 ? s / 3600 + " h" : s % 60 === 0 ? s / 60 + " min" : s + " s");
  const dash = (value) => (value === null || value === undefined || value === "" ? "—" : value);
  function bytes(n) {
    if (n < 1024) return n + " B";
    if (n < 1024 * 1024) return (n / 1024).toFixed(1) + " KiB";
    return (n / 1024 / 1024).toFixed(1) + " MiB";
  }

  // ---- VMs ---------------------------------------------------------------------------------
  const vmKey = (site, name) => site + "/" + name;
  const vmPath = (vm, rest) => "/api/v1/vms/" + encodeURIComponent(vm.name) + (rest || "") +
                               "?site=" + encodeURIComponent(vm.site);

  async function loadVms() {
    let data;
    try {
      data = await client.call("GET", "/api/v1/vms");
    } catch (e) {
      return failed("Listing the VMs", e);
    }
    const list = (data && Array.isArray(data.vms)) ? data.vms : [];
    const seen = new Set();
    for (const vm of list) {
      seen.add(vmKey(vm.site, vm.name));
      upsertVm(vm, false);
    }
    for (const key of [...vms.keys()]) if (!seen.has(key)) removeVm(key);
    vmCount();
    fillCreateChoices(list);
  }

  function vmCount() {
    $("vm-count").textContent = vms.size === 1 ? "1 VM" : vms.size + " VMs";
    $("vm-empty").hidden = vms.size > 0;
    $("vm-table").hidden = vms.size === 0;
  }

  // Template suggestions and sites for the create form, from what this token can see.
  async function fillCreateChoices(list) {
    const templates = new Set(), sites = new Set();
    for (const vm of list) {
      if (vm.template) templates.add(vm.template);
      sites.add(vm.site);
    }
    if (can.sites()) {
      try {
        const data = await client.call("GET", "/api/v1/sites");
        for (const s of data.sites || []) {
          sites.add(s.name);
          for (const t of s.templates || []) templates.add(t);
        }
      } catch (e) { /* suggestions only */ }
    }
    $("template-list").replaceChildren(...[...templates].sort().map((t) => { const o = el("option"); o.value = t; return o; }));
    const select = document.querySelector("#create-form select[name=site]");
    const current = select.value;
    select.replaceChildren(...[...sites].sort().map((s) => { const o = el("option", "", s); o.value = s; return o; }));
    if (sites.has(current)) select.value = current;
    $("create-site").hidden = sites.size < 2;
  }

  function upsertVm(vm, flash) {
    if (vm.managed === false) return;
    const key = vmKey(vm.site, vm.name);
    let entry = vms.get(key);
    if (!entry) {
      entry = { vm: vm, row: el("tr", "item"), detail: null };
      entry.row.dataset.vm = vm.name;
      entry.row.dataset.site = vm.site;
      vms.set(key, entry);
      // Sorted by name, then site.
      const rows = $("vm-rows");
      let before = null;
      for (const [otherKey, other] of vms) {
        if (otherKey === key) continue;
        if ((other.vm.name > vm.name || (other.vm.name === vm.name && other.vm.site > vm.site)) &&
            (!before || other.vm.name < before.vm.name || (other.vm.name === before.vm.name && other.vm.site < before.vm.site)))
          before = other;
      }
      rows.insertBefore(entry.row, before ? before.row : null);
    }
    entry.vm = vm;
    renderVmRow(entry);
    if (flash) {
      entry.row.classList.remove("flash");
      void entry.row.offsetWidth;  // restarts the animation
      entry.row.classList.add("flash");
    }
  }

  function removeVm(key) {
    const entry = vms.get(key);
    if (!entry) return;
    entry.row.remove();
    if (entry.detail) entry.detail.remove();
    vms.delete(key);
    startedAt.delete(key);
  }

  function uptimeText(entry) {
    if (entry.vm.state !== "running") return "—";
    const since = startedAt.get(vmKey(entry.vm.site, entry.vm.name));
    return since ? duration((Date.now() - since) / 1000) : "—";
  }

  function renderVmRow(entry) {
    const vm = entry.vm;
    const row = entry.row;
    row.dataset.state = vm.state;
    row.dataset.readiness = vm.readiness;
    const uptime = cell("Uptime", uptimeText(entry), "num uptime");
    if (vm.state === "running" && !startedAt.has(vmKey(vm.site, vm.name)))
      uptime.title = "Started before this page was opened: Paddock does not report start times";
    const readiness = badge(vm.readiness, READY_TONE[vm.readiness]);
    if (vm.readiness_error) readiness.title = vm.readiness_error;
    row.replaceChildren(
      cell("", vm.name, "name"),
      cell("State", badge(vm.state, STATE_TONE[vm.state]), "state"),
      cell("Readiness", readiness, "readiness"),
      cell("Owner", dash(vm.owner), "owner"),
      cell("Site", vm.site, "site"),
      cell("Template", dash(vm.template), "template"),
      uptime,
      cell("", vmActions(entry), "actions-cell"));
  }

  function vmActions(entry) {
    const vm = entry.vm;
    const box = el("div", "actions");
    const named = (verb) => verb + " " + vm.name;
    if (can.act()) {
      if (vm.state === "running") {
        box.append(button("Console", "console", () => openConsole(vm), { aria: named("Open the console of") }));
        box.append(button("Stop", "stop", () => power(vm, "stop"), { aria: named("Stop") }));
        box.append(button("Restart", "restart", () => power(vm, "restart"), { aria: named("Restart") }));
      } else {
        box.append(button("Start", "start", () => power(vm, "start"), { aria: named("Start") }));
        if (vm.state === "paused" || vm.state === "pmsuspended")
          box.append(button("Stop", "stop", () => power(vm, "stop"), { aria: named("Stop") }));
      }
    }
    const snaps = button("Snapshots", "snapshots", () => toggleSnapshots(entry), { aria: named("Snapshots of") });
    snaps.setAttribute("aria-expanded", String(Boolean(entry.detail)));
    box.append(snaps);
    if (can.remove())
      box.append(button("Delete", "delete", () => removeVmAction(vm), { className: "small danger", aria: named("Delete") }));
    return box;
  }

  const POWER = {
    start: { title: "Start", text: "Start the VM '%s'?", done: "started" },
    stop: { title: "Stop", text: "Stop the VM '%s'? It is asked to shut down cleanly, and forced off if it does not.", done: "stopped" },
    restart: { title: "Restart", text: "Restart the VM '%s'? Its processes end and it boots again.", done: "restarted" },
  };

  async function power(vm, action) {
    const words = POWER[action];
    const answer = await ask({ title: words.title + " " + vm.name + "?", text: words.text.replace("%s", vm.name),
                               ok: words.title, danger: action !== "start" });
    if (!answer) return;
    try {
      const result = await client.call("POST", vmPath(vm, "/" + action), {});
      if (result && result.vm) upsertVm(result.vm, true);
      notify("'" + vm.name + "' " + words.done + ".", "info");
    } catch (e) {
      failed(words.title + " '" + vm.name + "'", e);
    }
  }

  async function removeVmAction(vm) {
    const answer = await ask({ title: "Delete " + vm.name + "?",
                               text: "The VM '" + vm.name + "' is destroyed with its disk and snapshots. This cannot be undone.",
                               ok: "Delete", danger: true });
    if (!answer) return;
    try {
      await client.call("DELETE", vmPath(vm));
      removeVm(vmKey(vm.site, vm.name));
      vmCount();
      notify("'" + vm.name + "' deleted.", "info");
    } catch (e) {
      failed("Deleting '" + vm.name + "'", e);
    }
  }

  // The console page opens in a new tab with a one-time ticket. The tab is opened before the
  // request, while the click still counts as the user's, so no popup blocker stops it.
  async function openConsole(vm) {
    const tab = window.open("about:blank", "_blank");
    try {
      const ticket = await client.call("POST", vmPath(vm, "/console"), {});
      const url = new URL(ticket.console_url, location.href);
      if (!tab) {
        notify("The browser blocked the new tab. Allow pop-ups for this page, then try again.");
        return;
      }
      tab.opener = null;
      tab.location.replace(url.pathname + url.search);
    } catch (e) {
      if (tab) tab.close();
      failed("Opening the console of '" + vm.name + "'", e);
    }
  }

  $("create-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const name = form.elements.name.value.trim();
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(name)) {
      notify("The name '" + name + "' cannot be used: start with a lower-case letter or digit, then up to 62 " +
             "lower-case letters, digits or '-'.");
      form.elements.name.focus();
      return;
    }
    const body = { name: name };
    const template = form.elements.template.value.trim();
    if (template) body.template = template;
    const owner = form.elements.owner.value.trim();
    if (owner) body.owner = owner;
    if (form.elements.size.value) {
      const [vcpus, memory] = form.elements.size.value.split("/").map(Number);
      body.vcpus = vcpus;
      body.memory_mb = memory;
    }
    if (!$("create-site").hidden && form.elements.site.value) body.site = form.elements.site.value;
    const submit = form.querySelector("button[type=submit]");
    submit.disabled = true;
    notify("Creating '" + name + "'…", "info");
    try {
      const result = await client.call("POST", "/api/v1/vms", body);
      if (result && result.vm) upsertVm(result.vm, true);
      vmCount();
      form.elements.name.value = "";
      notify("'" + name + "' created" + (result && result.vm ? " (" + result.vm.state + ")." : "."), "info");
    } catch (e) {
      failed("Creating '" + name + "'", e);
    } finally {
      submit.disabled = false;
    }
  });

  // ---- snapshots, in place under the VM's row ----------------------------------------------
  function toggleSnapshots(entry) {
    if (entry.detail) {
      entry.detail.remove();
      entry.detail = null;
      renderVmRow(entry);
      return;
    }
    entry.detail = el("tr", "detail");
    const td = el("td");
    td.colSpan = 8;
    entry.detail.append(td);
    entry.row.after(entry.detail);
    renderVmRow(entry);
    return loadSnapshots(entry);
  }

  async function loadSnapshots(entry) {
    const vm = entry.vm;
    const box = el("div", "sub");
    const head = el("div", "sub-head");
    head.append(el("h2", "", "Snapshots of " + vm.name));
    box.append(head);
    let list = [];
    try {
      const data = await client.call("GET", vmPath(vm, "/snapshots"));
      list = (data && data.snapshots) || [];
    } catch (e) {
      box.append(el("p", "error-text", "Cannot list the snapshots: " + e.message));
    }
    if (can.act()) {
      const form = el("form", "inline-form");
      const input = el("input");
      input.name = "snapshot";
      input.placeholder = "snapshot name";
      input.setAttribute("aria-label", "New snapshot name for " + vm.name);
      input.autocomplete = "off";
      const take = el("button", "small primary", "Take snapshot");
      take.type = "submit";
      form.append(input, take);
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        const name = input.value.trim();
        take.disabled = true;
        try {
          await client.call("POST", vmPath(vm, "/snapshots"), { name: name, description: "from the control panel" });
          notify("Snapshot '" + name + "' of '" + vm.name + "' taken.", "info");
          if (entry.detail) await loadSnapshots(entry);
        } catch (e) {
          failed("Taking the snapshot '" + name + "'", e);
        } finally {
          take.disabled = false;
        }
      });
      head.append(form);
    }
    if (list.length === 0) {
      box.append(el("p", "empty", "No snapshots."));
    } else {
      const table = el("table");
      const header = el("tr");
      for (const h of ["Name", "Taken", "Kind", "", ""]) header.append(el("th", "", h));
      table.append(header);
      for (const s of list) {
        const tr = el("tr");
        tr.dataset.snapshot = s.name;
        const name = el("td", "", s.name);
        if (s.description) name.title = s.description;
        const actions = el("td");
        if (can.act())
          actions.append(button("Revert", "revert", () => revert(entry, s.name), { aria: "Revert " + vm.name + " to " + s.name }));
        tr.append(name, el("td", "", s.created_at ? dateTime(s.created_at) : "—"), el("td", "", s.kind),
                  el("td", "", s.current ? "current" : ""), actions);
        table.append(tr);
      }
      box.append(table);
    }
    if (entry.detail) entry.detail.firstChild.replaceChildren(box);
  }

  async function revert(entry, snapshot) {
    const vm = entry.vm;
    const answer = await ask({ title: "Revert " + vm.name + "?",
                               text: "'" + vm.name + "' goes back to the snapshot '" + snapshot + "'. Changes made since are lost.",
                               ok: "Revert", danger: true });
    if (!answer) return;
    try {
      await client.call("POST", vmPath(vm, "/snapshots/" + encodeURIComponent(snapshot) + "/revert"), {});
      notify("'" + vm.name + "' reverted to '" + snapshot + "'.", "info");
      readVm(vm.site, vm.name);
      if (entry.detail) await loadSnapshots(entry);
    } catch (e) {
      failed("Reverting '" + vm.name + "' to '" + snapshot + "'", e);
    }
  }

  // ---- the event stream --------------------------------------------------------------------
  function setLive(state, text) {
    $("live").dataset.state = state;
    $("live").textContent = text;
  }

  function connectEvents() {
    closeEvents();
    if (!can.events()) {
      setLive("off", "No live updates for owner tokens");
      return;
    }
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    // Browsers cannot set headers on a WebSocket: the token goes as access_token.
    const query = client.token ? "?access_token=" + encodeURIComponent(client.token) : "";
    const socket = new WebSocket(scheme + "://" + location.host + "/api/v1/events" + query);
    events = socket;
    let opened = false;
    socket.onopen = () => {
      opened = true;
      reconnectDelay = 1000;
      setLive("live", "Live");
      // Whatever happened while the stream was down is read afresh.
      if (eventsOpened) load(view);
      eventsOpened = true;
    };
    socket.onmessage = (message) => {
      let frame;
      try { frame = JSON.parse(message.data); } catch (e) { return; }
      if (frame && frame.type === "event") onEvent(frame);
    };
    socket.onerror = () => {};
    socket.onclose = () => {
      if (events !== socket) return;  // closed on purpose
      events = null;
      setLive("reconnecting", "Reconnecting…");
      // A refusal before opening may be a revoked token: whoami tells, and a 401 signs out.
      if (!opened) client.call("GET", "/api/v1/whoami").catch(() => {});
      reconnectTimer = setTimeout(() => { reconnectTimer = null; if (client) connectEvents(); }, reconnectDelay);
      reconnectDelay = Math.min(RECONNECT_MAX_MS, reconnectDelay * 2);
    };
  }

  function closeEvents() {
    clearTimeout(reconnectTimer);
    reconnectTimer = null;
    const socket = events;
    events = null;
    if (socket) socket.close();
  }

  function onEvent(e) {
    if (e.vm && e.site) {
      const key = vmKey(e.site, e.vm);
      if (e.kind === "lifecycle") {
        if (e.event === "started") startedAt.set(key, e.time_ms);
        else if (["stopped", "shutdown", "crashed"].includes(e.event)) startedAt.delete(key);
      }
      if (e.kind === "lifecycle" && e.event === "undefined") {
        removeVm(key);
        vmCount();
      } else if (e.kind === "lifecycle" || e.kind === "readiness") {
        readVm(e.site, e.vm);
      }
    }
    if (e.kind === "connection" && view === "sites") load("sites");
    refreshSoon();
  }

  // Re-reads one VM after an event; events for a VM whose read is under way read it once more.
  async function readVm(site, name) {
    const key = vmKey(site, name);
    if (vmReads.has(key)) {
      vmReads.set(key, "again");
      return;
    }
    vmReads.set(key, "busy");
    try {
      do {
        vmReads.set(key, "busy");
        try {
          const data = await client.call("GET", "/api/v1/vms/" + encodeURIComponent(name) + "?site=" + encodeURIComponent(site));
          if (data && data.vm) upsertVm(data.vm, true);
        } catch (e) {
          if (e.status === 404) removeVm(key);
          else if (e.status !== 401) failed("Reading '" + name + "'", e);
        }
      } while (vmReads.get(key) === "again" && client);
      vmCount();
    } finally {
      vmReads.delete(key);
    }
  }

  // ---- pools and leases --------------------------------------------------------------------
  async function loadPools() {
    const [pools, leaseList] = await Promise.allSettled([
      can.pools() ? client.call("GET", "/api/v1/pools") : Promise.resolve(null),
      client.call("GET", "/api/v1/leases"),
    ]);
    if (pools.status === "rejected") failed("Listing the pools", pools.reason);
    else renderPools(pools.value ? pools.value.pools || [] : null);
    if (leaseList.status === "rejected") failed("Listing the leases", leaseList.reason);
    else renderLeases((leaseList.value && leaseList.value.leases) || []);
  }

  function renderPools(pools) {
    const hidden = pools === null;
    $("pool-cards").hidden = hidden;
    $("pool-count").hidden = hidden;
    $("pool-cards").previousElementSibling.hidden = hidden;
    if (hidden) { $("pool-empty").hidden = true; return; }
    $("pool-count").textContent = pools.length === 1 ? "1 pool" : pools.length + " pools";
    $("pool-empty").hidden = pools.length > 0;
    $("pool-cards").replaceChildren(...pools.map(poolCard));
  }

  function poolCard(p) {
    const card = el("article", "card pool");
    card.dataset.pool = p.name;
    const head = el("div", "card-head");
    head.append(el("h3", "", p.name));
    if (can.act()) head.append(button("Allocate", "allocate", () => allocate(p), { aria: "Allocate a VM from " + p.name }));
    card.append(head);
    const where = p.site || (p.members || []).map((m) => m.site + (m.connected ? "" : " (down)")).join(", ");
    card.append(el("p", "meta", [where, "template " + p.template, p.mode].join(" · ")));
    const stats = el("div", "stats");
    for (const [key, label] of [["idle", "Idle"], ["booting", "Booting"], ["allocated", "Allocated"], ["total", "Total"]]) {
      const stat = el("div", "stat " + key);
      stat.dataset.count = key;
      stat.append(el("b", "", p[key]), el("span", "", label));
      stats.append(stat);
    }
    card.append(stats);
    const bar = el("div", "bar");
    bar.setAttribute("role", "img");
    bar.setAttribute("aria-label", p.idle + " idle, " + p.booting + " booting, " + p.allocated + " allocated of at most " + p.max_total);
    const capacity = Math.max(p.max_total, p.total, 1);
    for (const key of ["idle", "booting", "allocated"]) {
      const part = el("i", key);
      part.style.width = (100 * p[key] / capacity) + "%";
      bar.append(part);
    }
    card.append(bar);
    const facts = el("dl", "facts");
    const fact = (term, value) => facts.append(el("dt", "", term), el("dd", "", value));
    fact("Keeps idle", p.min_idle + " (at most " + p.max_total + " VMs" + (p.max_per_owner ? ", " + p.max_per_owner + " per owner" : "") + ")");
    if (p.default_ttl_s !== undefined) fact("Lease time", span(p.default_ttl_s) + (p.max_ttl_s ? " (at most " + span(p.max_ttl_s) + ")" : ""));
    if (p.on_empty) fact("When empty", p.on_empty === "cold" ? "boots one on demand" : "answers 503");
    card.append(facts);
    if (p.last_error) card.append(el("p", "error-text", "Last error: " + p.last_error));
    return card;
  }

  async function allocate(p) {
    const answer = await ask({ title: "Allocate from " + p.name, text: "A VM of the pool '" + p.name + "' is leased to the owner below.",
                               ok: "Allocate", fields: [
                                 { name: "owner", label: "Owner", placeholder: "default: " + who.name },
                                 { name: "minutes", label: "Lease time (minutes)", type: "number", min: 1,
                                   value: Math.max(1, Math.round((p.default_ttl_s || 3600) / 60)) }] });
    if (!answer) return;
    const body = {};
    if (answer.owner.trim()) body.owner = answer.owner.trim();
    const minutes = Number(answer.minutes);
    if (answer.minutes !== "") {
      if (!Number.isInteger(minutes) || minutes < 1) return notify("Allocating failed: the lease time must be a whole number of minutes, 1 or more.");
      body.ttl_s = minutes * 60;
    }
    try {
      const result = await client.call("POST", "/api/v1/pools/" + encodeURIComponent(p.name) + "/allocate", body);
      const lease = result && result.id ? result : null;
      notify("Allocated" + (lease ? " '" + lease.vm + "' (lease " + lease.id + ")" : "") + " from '" + p.name + "'.", "info");
    } catch (e) {
      failed("Allocating from '" + p.name + "'", e);
    }
    loadPools();
  }

  function renderLeases(list) {
    const now = Date.now();
    leases = list.map((l) => ({ lease: l, loadedAt: now }));
    $("lease-count").textContent = list.length === 1 ? "1 lease" : list.length + " leases";
    $("lease-empty").hidden = list.length > 0;
    $("lease-table").hidden = list.length === 0;
    $("lease-rows").replaceChildren(...leases.map(leaseRow));
  }

  function timeLeft(entry) {
    const l = entry.lease;
    if (l.ttl_s === null || l.ttl_s === undefined) return "never expires";
    const left = l.ttl_s - (Date.now() - entry.loadedAt) / 1000;
    return left <= 0 ? "expired" : duration(left);
  }

  function leaseRow(entry) {
    const l = entry.lease;
    const tr = el("tr", "item");
    tr.dataset.lease = l.id;
    const actions = el("div", "actions");
    if (can.act()) {
      actions.append(button("Extend", "extend", () => extend(l), { aria: "Extend lease " + l.id }));
      actions.append(button("Release", "release", () => release(l), { className: "small danger", aria: "Release lease " + l.id }));
    }
    tr.append(cell("", l.id, "name"), cell("Pool", l.pool), cell("VM", l.state === "unavailable" ? l.vm + " (site " + l.site + " is down)" : l.vm),
              cell("Owner", l.owner), cell("Time left", timeLeft(entry), "num left"), cell("Expires", l.expires_at ? dateTime(l.expires_at) : "never"),
              cell("", actions, "actions-cell"));
    return tr;
  }

  async function extend(l) {
    const answer = await ask({ title: "Extend lease " + l.id, text: "The lease on '" + l.vm + "' (owner " + l.owner + ") runs for this long from now:",
                               ok: "Extend", fields: [{ name: "minutes", label: "Minutes from now", type: "number", min: 1, value: 60, required: true }] });
    if (!answer) return;
    const minutes = Number(answer.minutes);
    if (!Number.isInteger(minutes) || minutes < 1)
      return notify("Extending failed: the time must be a whole number of minutes, 1 or more.");
    try {
      await client.call("POST", "/api/v1/leases/" + encodeURIComponent(l.id) + "/extend", { ttl_s: minutes * 60 });
      notify("Lease " + l.id + " extended.", "info");
    } catch (e) {
      failed("Extending lease " + l.id, e);
    }
    loadPools();
  }

  async function release(l) {
    const answer = await ask({ title: "Release lease " + l.id + "?",
                               text: "'" + l.vm + "' goes back to the pool '" + l.pool + "' and " + l.owner + " loses it.",
                               ok: "Release", danger: true });
    if (!answer) return;
    try {
      await client.call("DELETE", "/api/v1/leases/" + encodeURIComponent(l.id));
      notify("Lease " + l.id + " released.", "info");
    } catch (e) {
      failed("Releasing lease " + l.id, e);
    }
    loadPools();
  }

  // ---- sessions ----------------------------------------------------------------------------
  // Listings can overlap (the view opened, a filter submitted, reset): only the newest request's
  // answer is shown, and an open replay survives a re-listing that still holds its session.
  let sessionsRequest = 0;
  async function loadSessions() {
    const request = ++sessionsRequest;
    const form = $("session-filter");
    const query = new URLSearchParams();
    for (const name of ["vm", "owner"]) {
      const value = form.elements[name].value.trim();
      if (value) query.set(name, value);
    }
    let data;
    try {
      data = await client.call("GET", "/api/v1/sessions" + (query.toString() ? "?" + query : ""));
    } catch (e) {
      return request === sessionsRequest ? failed("Listing the sessions", e) : undefined;
    }
    if (request !== sessionsRequest) return;
    const list = (data && data.sessions) || [];
    $("recording-off").hidden = data.recording_enabled !== false;
    $("session-count").textContent = list.length === 1 ? "1 recording" : list.length + " recordings";
    $("session-empty").hidden = list.length > 0;
    $("session-table").hidden = list.length === 0;
    const open = document.querySelector("#session-rows tr.detail");
    const rows = list.map(sessionRow);
    $("session-rows").replaceChildren(...rows);
    const owner = open && rows.find((row) => row.dataset.session === open.dataset.session);
    if (owner) owner.after(open);
  }
  $("session-filter").addEventListener("submit", (event) => { event.preventDefault(); loadSessions(); });
  $("session-filter").addEventListener("reset", () => setTimeout(loadSessions, 0));

  function sessionRow(s) {
    const tr = el("tr", "item");
    tr.dataset.session = s.id;
    const actions = el("div", "actions");
    actions.append(button("Replay", "replay", () => replay(tr, s), { aria: "Replay session " + s.id }));
    tr.append(cell("", s.id, "name"), cell("VM", dash(s.vm)), cell("Owner", dash(s.owner)),
              cell("Started", dateTime(s.started_at)), cell("Duration", duration(s.duration_s), "num"),
              cell("Size", bytes(s.bytes), "num"),
              cell("Status", s.active ? badge("recording", "warn") : badge("done", "")),
              cell("", actions, "actions-cell"));
    return tr;
  }

  // asciinema-player is loaded the first time a session is replayed.
  let playerLoading = null;
  function loadPlayer() {
    if (window.AsciinemaPlayer) return Promise.resolve();
    if (playerLoading) return playerLoading;
    playerLoading = new Promise((resolve, reject) => {
      const css = el("link");
      css.rel = "stylesheet";
      css.href = "/static/asciinema-player/asciinema-player.css";
      document.head.append(css);
      const script = el("script");
      script.src = "/static/asciinema-player/asciinema-player.min.js";
      script.onload = () => resolve();
      script.onerror = () => {
        playerLoading = null;
        reject(new Error("the player (asciinema-player from npm) could not be loaded; scripts/setup.sh installs it"));
      };
      document.head.append(script);
    });
    return playerLoading;
  }

  async function replay(tr, s) {
    const open = tr.nextElementSibling && tr.nextElementSibling.classList.contains("detail") ? tr.nextElementSibling : null;
    for (const other of document.querySelectorAll("#session-rows tr.detail")) other.remove();
    if (open) return;  // the second press closes it
    const detail = el("tr", "detail");
    detail.dataset.session = s.id;
    const td = el("td");
    td.colSpan = 8;
    const box = el("div", "sub");
    const head = el("div", "sub-head");
    head.append(el("h2", "", "Session " + s.id + (s.vm ? " on " + s.vm : "")));
    const close = button("Close", "close", () => detail.remove(), { className: "small ghost", aria: "Close the replay of " + s.id });
    head.append(close);
    const player = el("div", "player");
    player.append(el("p", "muted", "Loading…"));
    box.append(head, player);
    td.append(box);
    detail.append(td);
    tr.after(detail);
    try {
      const [cast] = await Promise.all([client.call("GET", "/api/v1/sessions/" + encodeURIComponent(s.id) + "/cast", undefined, true),
                                        loadPlayer()]);
      player.replaceChildren();
      window.paddockPlayer = AsciinemaPlayer.create({ data: cast }, player, {
        fit: "width", idleTimeLimit: 2, terminalFontSize: "14px", preload: true,
      });
      player.dataset.loaded = "true";
    } catch (e) {
      player.replaceChildren(el("p", "error-text", "Cannot replay this session: " + e.message));
    }
  }

  // ---- sites and plugins -------------------------------------------------------------------
  async function loadSites() {
    $("sites-denied").hidden = can.sites();
    $("sites-content").hidden = !can.sites();
    if (!can.sites()) return;
    const [sites, plugins] = await Promise.allSettled([client.call("GET", "/api/v1/sites"), client.call("GET", "/api/v1/plugins")]);
    if (sites.status === "rejected") failed("Listing the sites", sites.reason);
    else {
      const list = sites.value.sites || [];
      $("site-count").textContent = list.length === 1 ? "1 site" : list.length + " sites";
      $("site-cards").replaceChildren(...list.map(siteCard));
    }
    if (plugins.status === "rejected") failed("Listing the plugins", plugins.reason);
    else {
      const list = plugins.value.plugins || [];
      $("plugin-count").textContent = list.length === 1 ? "1 plugin" : list.length + " plugins";
      $("plugin-rows").replaceChildren(...list.map(pluginRow));
      $("plugin-failures").replaceChildren(...(plugins.value.failures || []).map((f) =>
        el("li", "", "Not loaded: " + f.path + ": " + f.message)));
    }
  }

  function chips(values) {
    const box = el("div", "chips");
    for (const v of values || []) box.append(el("span", "chip", v));
    if (!values || values.length === 0) box.append(el("span", "muted", "none"));
    return box;
  }

  function siteCard(s) {
    const card = el("article", "card site");
    card.dataset.site = s.name;
    const head = el("div", "card-head");
    head.append(el("h3", "", s.name), badge(s.state, s.reachable ? "ok" : "bad"));
    card.append(head);
    card.append(el("p", "meta", s.backend + " · " + s.uri));
    if (s.reason) card.append(el("p", "error-text", s.reason));
    const facts = el("dl", "facts");
    const fact = (term, value) => facts.append(el("dt", "", term), el("dd", "", value));
    if (s.hypervisor)
      fact("Hypervisor", [s.hypervisor.type, s.hypervisor.version].filter(Boolean).join(" ") +
                         (s.hypervisor.library_version ? " (libvirt " + s.hypervisor.library_version + ")" : ""));
    fact("Events", s.events === "poll" ? "polled every " + s.poll_interval_s + " s" : s.events === "push" ? "pushed by the backend" : "—");
    fact("Domain type", dash(s.domain_type));
    fact("Templates", (s.templates || []).length ? s.templates.join(", ") : "none");
    card.append(facts);
    card.append(el("h4", "muted", "Capabilities"), chips(s.capabilities));
    return card;
  }

  function pluginRow(p) {
    const tr = el("tr", "item");
    tr.dataset.plugin = p.id;
    const name = el("td", "name");
    name.append(el("div", "", p.name || p.id));
    name.append(el("small", "muted", p.id));
    tr.append(name, cell("Kind", p.kind), cell("Version", p.version, "num"), cell("ABI", p.abi_version, "num"),
              cell("Capabilities", chips(p.capabilities)));
    return tr;
  }

  // ---- the clock: uptimes and lease countdowns, from this page's own time (no API calls) -----
  setInterval(() => {
    if (view === "vms")
      for (const entry of vms.values()) {
        const td = entry.row.querySelector("td.uptime");
        if (td) td.textContent = uptimeText(entry);
      }
    if (view === "pools")
      for (const entry of leases) {
        const td = document.querySelector('#lease-rows tr[data-lease="' + CSS.escape(entry.lease.id) + '"] td.left');
        if (td) td.textContent = timeLeft(entry);
      }
  }, 1000);

  // For tests and debugging: drops the event stream as a network failure would.
  window.paddockPanel = { dropEvents: () => { if (events) events.close(); } };

  // ---- start -------------------------------------------------------------------------------
  const { token } = Paddock.takeToken();
  // Without a stored token, auth.mode none lets anyone in: whoami says so, else the form shows.
  signIn(token || "");
})();
