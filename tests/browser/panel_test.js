// Drives the system Chromium (headless) through Paddock's control panel (/ui/):
//   node panel_test.js <settings.json>
// settings.json (written by panel_browser_test.cpp, mode 0600, so no token is on a command
// line): {base, admin, operator, viewer, pool, session, outDir}. paddockd runs on
// test:///default with the pool `pool` and the recording `session` in its recording directory.
// Checks, through the page: the sign-in form (a wrong token refused in words); the VM table; a
// VM created from the form; stop and start with confirmation (start by keyboard only); rows
// updated by the event stream when the API is used behind the page's back, without a reload
// or a re-listing, also after the stream was dropped; snapshots taken and reverted; an API
// refusal shown in the API's words; names from the API shown as text; delete; the console tab;
// a pool allocated from, its lease extended and released; sessions filtered and replayed in
// place; sites and plugins for an admin only; a viewer sees no buttons that would be refused;
// an owner token that is revoked meanwhile sends the page back to sign-in; the phone layout
// has no sideways scrolling. A screenshot per view lands in outDir (panel-<view>.png).
// Exit code 0 on success. Deterministic: waits with deadlines, never asserts on time.
"use strict";
const fs = require("fs");
const path = require("path");
const { runInChromium, apiCall } = require("./chromium_page");

const settingsFile = process.argv[2];
if (!settingsFile) {
  console.error("usage: node panel_test.js <settings.json>");
  process.exit(2);
}
const S = JSON.parse(fs.readFileSync(settingsFile, "utf8"));
const shot = (view) => path.join(S.outDir, "panel-" + view + ".png");
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const HOSTILE = "<img src=x onerror=window.__pwned=1>";
const FORBIDDEN_FOR_VIEWERS = ["start", "stop", "restart", "delete", "console", "allocate", "extend", "release", "revert"];

const api = (token, method, urlPath, body) => apiCall(S.base, token, method, urlPath, body);
async function apiOk(token, method, urlPath, body) {
  const reply = await api(token, method, urlPath, body);
  if (reply.status < 200 || reply.status > 299) throw new Error(`${method} ${urlPath}: ${reply.status} ${reply.text}`);
  return reply.json;
}
function check(condition, what) {
  if (!condition) throw new Error("check failed: " + what);
}

async function pageState(page) {
  return page.evaluate(() => {
    const text = (id) => { const e = document.getElementById(id); return e ? JSON.stringify(e.hidden ? "(hidden)" : e.textContent) : null; };
    const rows = [...document.querySelectorAll("#vm-rows tr.item")].map((r) => r.dataset.vm + ":" + r.dataset.state);
    return `notice=${text("notice")} login-error=${text("login-error")} live=${text("live")} rows=${JSON.stringify(rows)}`;
  });
}
async function until(page, what, predicate, arg, timeout = 30000) {
  try {
    await page.waitForFunction(predicate, arg, { timeout, polling: 100 });
  } catch (e) {
    throw new Error(`${what}: ${String(e.message).split("\n")[0]}; the page shows ${await pageState(page)}`);
  }
}
const rowState = ([name, state]) => {
  const row = document.querySelector(`#vm-rows tr.item[data-vm="${name}"]`);
  return row !== null && row.dataset.state === state;
};
const noticeHas = (text) => { const n = document.getElementById("notice"); return !n.hidden && n.textContent.includes(text); };
const vmButton = (name, action) => `#vm-rows tr.item[data-vm="${name}"] button[data-action="${action}"]`;

async function signIn(page, token) {
  await page.goto(S.base + "/ui/");
  await page.waitForSelector("#login-token", { state: "visible", timeout: 30000 });
  await page.fill("#login-token", token);
  await page.press("#login-token", "Enter");
  await until(page, "signed in", () => !document.getElementById("app").hidden);
}
async function signOut(page) {
  await page.click("#logout");
  await page.waitForSelector("#login-token", { state: "visible", timeout: 30000 });
}
async function confirmDialog(page, expected) {
  await page.waitForSelector("#dialog[open]", { timeout: 30000 });
  const title = await page.textContent("#dialog-title");
  check(title.includes(expected), `the dialog asks "${expected}": ${title}`);
  await page.click("#dialog-ok");
  await page.waitForSelector("#dialog:not([open])", { state: "attached", timeout: 30000 });
}
async function noSidewaysScroll(page, what) {
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  check(width <= page.viewportSize().width, `${what}: no sideways scrolling (${width} px wide)`);
}

runInChromium(shot("phone"), async (page) => {
  const context = page.context();
  await page.setViewportSize(DESKTOP);

  // ---- sign-in -------------------------------------------------------------------------
  await page.goto(S.base + "/ui/");
  await page.waitForSelector("#login-token", { state: "visible", timeout: 30000 });
  check(await page.isHidden("#app"), "nothing but the form before signing in");
  await page.screenshot({ path: shot("login") });
  await page.fill("#login-token", "not-a-token");
  await page.click("#login-form button[type=submit]");
  await until(page, "a wrong token refused", () => document.getElementById("login-error").textContent.includes("not accepted (401)"));
  check(await page.evaluate(() => sessionStorage.getItem("paddock.access_token") === null), "a refused token is not kept");

  await page.fill("#login-token", S.operator);
  await page.press("#login-token", "Enter");
  await until(page, "the VM table", () => !document.getElementById("app").hidden &&
                                          document.querySelectorAll("#vm-rows tr.item").length >= 1);
  check((await page.textContent("#who")).includes("operator"), "the role shown");
  await until(page, "the event stream live", () => document.getElementById("live").dataset.state === "live");
  check(await page.isHidden('nav a[data-view="sites"]'), "no sites view for an operator");

  // ---- create from the form -------------------------------------------------------------
  await page.click("#create-card summary");
  await page.fill("#create-form input[name=name]", "panel-made");
  await page.fill("#create-form input[name=template]", "tiny");
  await page.selectOption("#create-form select[name=size]", "1/512");
  await page.fill("#create-form input[name=owner]", "alice");
  await page.click("#create-form button[type=submit]");
  await until(page, "the created VM's row", rowState, ["panel-made", "running"]);
  const made = (await apiOk(S.operator, "GET", "/api/v1/vms/panel-made")).vm;
  check(made.owner === "alice" && made.template === "tiny" && made.vcpus === 1 && made.memory_mb === 512,
        "created as asked: " + JSON.stringify(made));

  // The API's refusal, in its own words.
  await page.fill("#create-form input[name=name]", "panel-made");
  await page.click("#create-form button[type=submit]");
  await until(page, "the 409 in words", noticeHas, "Creating 'panel-made' failed: VM 'panel-made' already exists");

  // ---- stop with confirmation, then start by keyboard alone -----------------------------
  await page.click(vmButton("panel-made", "stop"));
  await confirmDialog(page, "Stop panel-made");
  await until(page, "stopped", rowState, ["panel-made", "shut off"]);
  check((await apiOk(S.operator, "GET", "/api/v1/vms/panel-made")).vm.state === "shut off", "the API says shut off");

  // Cancelling asks and does nothing.
  await page.click(vmButton("panel-made", "start"));
  await page.waitForSelector("#dialog[open]");
  await page.keyboard.press("Escape");
  await page.waitForSelector("#dialog:not([open])", { state: "attached" });
  check((await apiOk(S.operator, "GET", "/api/v1/vms/panel-made")).vm.state === "shut off", "cancel did not start it");

  await page.focus("#create-form button[type=submit]");
  let reached = false;
  for (let i = 0; i < 80 && !reached; i++) {
    await page.keyboard.press("Tab");
    reached = await page.evaluate(() => {
      const a = document.activeElement;
      return a && a.dataset.action === "start" && a.closest("tr").dataset.vm === "panel-made";
    });
  }
  check(reached, "Tab reaches panel-made's Start button");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#dialog[open]");
  check(await page.evaluate(() => document.activeElement.id === "dialog-ok"), "the dialog's button has the focus");
  await page.keyboard.press("Enter");
  await until(page, "started by keyboard", rowState, ["panel-made", "running"]);

  // ---- the event stream: changes behind the page's back ---------------------------------
  await page.evaluate(() => { window.__sameDocument = true; });
  const listReads = () => page.evaluate(() => performance.getEntriesByType("resource")
    .filter((e) => new URL(e.name).pathname === "/api/v1/vms").length);
  const readsBefore = await listReads();
  await apiOk(S.operator, "POST", "/api/v1/vms", { name: "panel-ext", template: "tiny", owner: HOSTILE });
  await until(page, "a VM made elsewhere appears", rowState, ["panel-ext", "running"]);
  await apiOk(S.operator, "POST", "/api/v1/vms/panel-ext/stop", {});
  await until(page, "its stop shows", rowState, ["panel-ext", "shut off"]);
  check(await page.evaluate(() => window.__sameDocument === true), "no reload");
  check((await listReads()) === readsBefore, "no re-listing: the rows came from events");
  check((await page.textContent('#vm-rows tr[data-vm="panel-ext"] td.owner')) === HOSTILE, "the owner shown as text");
  check(await page.evaluate(() => document.querySelectorAll("main img").length === 0 && window.__pwned === undefined),
        "no markup from the API was interpreted");

  // Dropped and back: later changes still arrive.
  await page.evaluate(() => {
    const live = document.getElementById("live");
    window.__liveStates = [];
    new MutationObserver(() => window.__liveStates.push(live.dataset.state)).observe(live, { attributes: true });
    window.paddockPanel.dropEvents();
  });
  await until(page, "reconnected", () => window.__liveStates.includes("reconnecting") &&
                                          document.getElementById("live").dataset.state === "live");
  await apiOk(S.operator, "POST", "/api/v1/vms/panel-ext/start", {});
  await until(page, "a start after the reconnection", rowState, ["panel-ext", "running"]);

  // ---- snapshots ------------------------------------------------------------------------
  await page.click(vmButton("panel-made", "snapshots"));
  const sub = 'tr.detail input[name="snapshot"]';
  await page.waitForSelector(sub);
  await page.fill(sub, "before");
  await page.press(sub, "Enter");
  await page.waitForSelector('tr.detail tr[data-snapshot="before"]', { timeout: 30000 });
  await page.click('tr.detail tr[data-snapshot="before"] button[data-action="revert"]');
  await confirmDialog(page, "Revert panel-made");
  await until(page, "reverted", noticeHas, "'panel-made' reverted to 'before'");
  const snaps = (await apiOk(S.operator, "GET", "/api/v1/vms/panel-made/snapshots")).snapshots;
  check(snaps.some((s) => s.name === "before" && s.current), "the API lists the current snapshot: " + JSON.stringify(snaps));
  await page.click(vmButton("panel-made", "snapshots"));  // closes it again

  // ---- delete ---------------------------------------------------------------------------
  await apiOk(S.operator, "POST", "/api/v1/vms", { name: "panel-gone", template: "tiny" });
  await until(page, "panel-gone listed", rowState, ["panel-gone", "running"]);
  await page.click(vmButton("panel-gone", "delete"));
  await confirmDialog(page, "Delete panel-gone");
  await until(page, "the row gone", () => !document.querySelector('#vm-rows tr[data-vm="panel-gone"]'));
  check((await api(S.operator, "GET", "/api/v1/vms/panel-gone")).status === 404, "the API says deleted");

  // ---- the console: a ticket, then the existing console page in a new tab ---------------
  const [consoleTab] = await Promise.all([context.waitForEvent("page", { timeout: 30000 }),
                                          page.click(vmButton("panel-made", "console"))]);
  await consoleTab.waitForURL((url) => url.pathname === "/console/panel-made", { timeout: 30000 });
  await consoleTab.close();

  await page.click("#notice-close");
  await page.waitForTimeout(1300);  // the rows' highlight fades, for the screenshot
  await page.screenshot({ path: shot("vms") });

  // ---- pools and leases -----------------------------------------------------------------
  await page.click('nav a[data-view="pools"]');
  await page.waitForSelector(`#pool-cards article[data-pool="${S.pool}"]`, { timeout: 30000 });
  await page.click(`#pool-cards article[data-pool="${S.pool}"] button[data-action="allocate"]`);
  await page.waitForSelector("#dialog[open]");
  await page.fill('#dialog input[name="owner"]', "bob");
  await page.fill('#dialog input[name="minutes"]', "30");
  await page.click("#dialog-ok");
  await page.waitForSelector("#lease-rows tr.item", { timeout: 60000 });
  const leaseId = await page.getAttribute("#lease-rows tr.item", "data-lease");
  let lease = await apiOk(S.operator, "GET", "/api/v1/leases/" + leaseId);
  check(lease.owner === "bob" && lease.ttl_s <= 1800, "allocated to bob for 30 minutes: " + JSON.stringify(lease));
  check(/min/.test(await page.textContent(`#lease-rows tr[data-lease="${leaseId}"] td.left`)), "the time left shown");

  await page.click(`#lease-rows tr[data-lease="${leaseId}"] button[data-action="extend"]`);
  await page.waitForSelector("#dialog[open]");
  await page.fill('#dialog input[name="minutes"]', "120");
  await page.click("#dialog-ok");
  await until(page, "extended", noticeHas, "extended");
  lease = await apiOk(S.operator, "GET", "/api/v1/leases/" + leaseId);
  check(lease.ttl_s > 3600, "the API says extended: " + JSON.stringify(lease));
  await until(page, "the pool counts the allocation", (pool) =>
    document.querySelector(`#pool-cards article[data-pool="${pool}"] [data-count="allocated"] b`).textContent === "1", S.pool);
  await until(page, "the lease's new time", (id) =>
    /^1 h|^2 h|^11\d min/.test(document.querySelector(`#lease-rows tr[data-lease="${id}"] td.left`).textContent), leaseId);
  await page.click("#notice-close");
  await page.screenshot({ path: shot("pools") });

  await page.click(`#lease-rows tr[data-lease="${leaseId}"] button[data-action="release"]`);
  await confirmDialog(page, "Release lease");
  await until(page, "the lease gone", (id) => !document.querySelector(`#lease-rows tr[data-lease="${id}"]`), leaseId);
  check((await api(S.operator, "GET", "/api/v1/leases/" + leaseId)).status === 404, "the API says released");

  // ---- sessions: filter, replay in place ------------------------------------------------
  await page.click('nav a[data-view="sessions"]');
  await page.waitForSelector(`#session-rows tr[data-session="${S.session}"]`, { timeout: 30000 });
  await page.fill('#session-filter input[name="vm"]', "no-such-vm");
  await page.press('#session-filter input[name="vm"]', "Enter");
  await until(page, "filtered away", () => document.querySelectorAll("#session-rows tr.item").length === 0 &&
                                            !document.getElementById("session-empty").hidden);
  await page.click('#session-filter button[type="reset"]');
  await until(page, "listed again", (id) => document.getElementById("session-empty").hidden &&
                                             document.querySelector(`#session-rows tr[data-session="${id}"]`) !== null, S.session);
  await page.click(`#session-rows tr[data-session="${S.session}"] button[data-action="replay"]`);
  await until(page, "the player in place", () => {
    const p = document.querySelector("#session-rows tr.detail .player");
    return p !== null && p.dataset.loaded === "true" && window.paddockPlayer !== undefined;
  });
  // The player parses the cast asynchronously (preload: true); a duration says it is done.
  let castDuration = 0;
  for (let i = 0; i < 300 && !(castDuration > 0); i++) {
    castDuration = await page.evaluate(async () => window.paddockPlayer.getDuration());
    if (!(castDuration > 0)) await page.waitForTimeout(100);
  }
  check(castDuration > 0, "the cast loaded into the player");
  await page.evaluate((d) => window.paddockPlayer.seek(d), castDuration);
  await until(page, "the cast's text", () => document.querySelector("#session-rows tr.detail .player").textContent.includes("notes.txt"));
  await page.screenshot({ path: shot("sessions") });

  // ---- sites and plugins: admins ---------------------------------------------------------
  await signOut(page);
  check(await page.evaluate(() => sessionStorage.getItem("paddock.access_token") === null), "signing out forgets the token");
  await signIn(page, S.admin);
  check(await page.isVisible('nav a[data-view="sites"]'), "the sites view for an admin");
  await page.click('nav a[data-view="sites"]');
  await page.waitForSelector('#site-cards article[data-site="local"]', { timeout: 30000 });
  check((await page.textContent('#site-cards article[data-site="local"] .badge')) === "connected", "the site connected");
  check((await page.locator('#site-cards article[data-site="local"] .chip').count()) > 0, "capabilities listed");
  await page.waitForSelector('#plugin-rows tr[data-plugin="org.paddock.libvirt-qemu"]', { timeout: 30000 });
  await page.screenshot({ path: shot("sites") });

  // ---- a viewer: nothing that would be refused -------------------------------------------
  await signOut(page);
  await signIn(page, S.viewer);
  await until(page, "the viewer's table", rowState, ["panel-made", "running"]);
  const shown = async () => page.evaluate((names) => [...document.querySelectorAll("button[data-action]")]
    .filter((b) => b.offsetParent !== null && names.includes(b.dataset.action)).map((b) => b.dataset.action), FORBIDDEN_FOR_VIEWERS);
  check((await shown()).length === 0, "no action buttons for a viewer: " + (await shown()));
  check(await page.isHidden("#create-card"), "no create form for a viewer");
  await page.click(vmButton("panel-made", "snapshots"));
  await page.waitForSelector('tr.detail tr[data-snapshot="before"]', { timeout: 30000 });
  check((await shown()).length === 0 && !(await page.isVisible("tr.detail form")), "snapshots without revert or create");
  await page.click('nav a[data-view="pools"]');
  await page.waitForSelector(`#pool-cards article[data-pool="${S.pool}"]`, { timeout: 30000 });
  check((await shown()).length === 0, "no pool or lease buttons for a viewer");

  // ---- an owner token, revoked behind the page's back: back to sign-in -------------------
  await signOut(page);
  const minted = await apiOk(S.admin, "POST", "/api/v1/tokens", { owner: "alice", role: "operator" });
  await signIn(page, minted.token);
  await until(page, "alice's VM only", () => [...document.querySelectorAll("#vm-rows tr.item")].map((r) => r.dataset.vm).join() === "panel-made");
  check(await page.isHidden("#create-card"), "owner tokens cannot create");
  await apiOk(S.admin, "DELETE", "/api/v1/tokens/" + minted.id);
  await page.click(vmButton("panel-made", "stop"));
  await confirmDialog(page, "Stop panel-made");
  await until(page, "back at sign-in", () => !document.getElementById("login").hidden &&
                                              document.getElementById("login-error").textContent.includes("401"));
  check(await page.evaluate(() => sessionStorage.getItem("paddock.access_token") === null), "the refused token is forgotten");

  // ---- a phone ---------------------------------------------------------------------------
  await signIn(page, S.operator);
  await until(page, "the table again", rowState, ["panel-ext", "running"]);
  await page.setViewportSize(PHONE);
  await until(page, "the phone layout", () => getComputedStyle(document.querySelector("#vm-table thead")).display === "none");
  await noSidewaysScroll(page, "VMs");
  for (const name of ["pools", "sessions"]) {
    await page.click(`nav a[data-view="${name}"]`);
    await page.waitForSelector(`#view-${name}:not([hidden])`);
    await noSidewaysScroll(page, name);
  }
  await page.click('nav a[data-view="vms"]');
  await until(page, "the VMs again", rowState, ["panel-made", "running"]);
  const touch = await page.evaluate(() => [...document.querySelectorAll("#vm-rows button")].map((b) => b.getBoundingClientRect().height));
  check(touch.length > 0 && touch.every((h) => h >= 40), "touch-sized buttons: " + JSON.stringify(touch));
  await page.evaluate(() => window.scrollTo(0, 0));
  return "panel OK: screenshots in " + S.outDir;
});
