// Drives the system Chromium (headless) through Paddock's exhibit panel (/ui/exhibit):
//   node exhibit_test.js <base_url> <vm> <vm_without_snapshot> <operator_token> <desktop.png> <phone.png>
// <vm> runs and has the snapshot "ready"; <vm_without_snapshot> runs and has none. Checks, through
// the page: the 401 message without a token; the VM list and its link; watching switched on;
// heartbeats (sent here over HTTP) on the timeline and as "N s ago"; maintenance mode on and
// off (the banner, and the API agreeing); stop, restart (revert), replacing the ready snapshot
// (a confirm dialog, accepted); the decisions list; API text shown as text, never as markup;
// watching refused (409) for a VM without its snapshot. Then a screenshot at desktop size and
// one at phone size. Exit code 0 on success. Deterministic: polls with deadlines, never
// asserts on time.
"use strict";
const { runInChromium, apiCall } = require("./chromium_page");

const [base, vm, bare, token, desktopShot, phoneShot] = process.argv.slice(2);
if (!base || !vm || !bare || !token || !desktopShot || !phoneShot) {
  console.error("usage: node exhibit_test.js <base_url> <vm> <vm_without_snapshot> <token> <desktop.png> <phone.png>");
  process.exit(2);
}
const PHONE = { width: 390, height: 844 };
const HOSTILE_STATUS = "<img src=x onerror=window.__pwned=1>";
const HOSTILE_MESSAGE = "<script>window.__pwned=2</script><b>bold</b>";

const api = (method, path, body) => apiCall(base, token, method, path, body);

async function apiOk(method, path, body) {
  const reply = await api(method, path, body);
  if (reply.status < 200 || reply.status > 299) throw new Error(`${method} ${path}: ${reply.status} ${reply.text}`);
  return reply.json;
}

function check(condition, what) {
  if (!condition) throw new Error("check failed: " + what);
}

// What the page shows, for failure messages.
async function pageState(page) {
  return page.evaluate(() => ["status", "connection", "vm-state", "watch-state", "last-heartbeat", "snapshot-info"]
    .map((id) => { const e = document.getElementById(id); return `#${id}=${JSON.stringify(e ? e.textContent : null)}`; })
    .join(" "));
}

async function until(page, what, predicate, arg, timeout = 30000) {
  try {
    await page.waitForFunction(predicate, arg, { timeout, polling: 100 });
  } catch (e) {
    throw new Error(`${what}: ${String(e.message).split("\n")[0]}; the page shows ${await pageState(page)}`);
  }
}

// For until(): [element id, text it must contain].
const hasText = ([id, text]) => (document.getElementById(id).textContent || "").includes(text);

runInChromium(phoneShot, async (page) => {
  const dialogs = [];
  page.on("dialog", async (dialog) => { dialogs.push(dialog.message()); await dialog.accept(); });
  const panel = (name) => `${base}/ui/exhibit?vm=${encodeURIComponent(name)}`;
  const vmState = () => page.getAttribute("#vm-state", "data-state");

  // Without a token: the 401 explained, nothing else shown.
  await page.goto(panel(vm));
  await until(page, "401 message", () => {
    const s = document.getElementById("status");
    return s.className.includes("error") && s.textContent.includes("401") && s.textContent.includes("access_token=");
  });
  check(await page.isHidden("#panel"), "the panel stays hidden without a token");

  // With a token: the list links the VM; the token leaves the address bar and stays in the tab.
  await page.goto(`${base}/ui/exhibit?access_token=${encodeURIComponent(token)}`);
  check(!(await page.evaluate(() => location.search.includes("access_token"))), "the token left the address bar");
  const link = page.locator("#vm-list a", { hasText: vm });
  await link.waitFor({ timeout: 30000 });
  await link.click();
  await page.waitForURL((url) => url.searchParams.get("vm") === vm, { timeout: 30000 });
  await until(page, "VM state", () => document.getElementById("vm-state").dataset.state === "running");
  check((await page.textContent("#vm-name")) === vm, "the VM's name in the heading");

  // Watching on, through the page.
  await until(page, "offers to watch", () => document.getElementById("watch-state").dataset.state === "unwatched" &&
                                               !document.getElementById("btn-watch").hidden);
  await page.click("#btn-watch");
  await until(page, "watched", () => !["", "unwatched"].includes(document.getElementById("watch-state").dataset.state));
  const watched = await apiOk("GET", `/api/v1/vms/${vm}/watch`);
  check(watched.watched === true && watched.source === "api", "the API says watched from the api: " + JSON.stringify(watched));
  check(await page.isHidden("#btn-watch"), "no watch button once watched");
  // A long timeout, so that no revert happens on its own while the test runs.
  await apiOk("POST", `/api/v1/vms/${vm}/watch`, { heartbeat_timeout_s: 60 });
  await until(page, "the timeout shown", () => document.getElementById("watch-detail").textContent.includes("timeout 60 s"));

  // Three heartbeats: the last one "N s ago", three ticks on the timeline, healthy.
  for (let i = 0; i < 3; i++) await apiOk("POST", `/api/v1/vms/${vm}/heartbeat`, { status: "ok" });
  await until(page, "three heartbeats drawn", () => document.getElementById("timeline").dataset.heartbeats === "3");
  await until(page, "a recent heartbeat", () => {
    const m = /^(\d+) s ago$/.exec(document.getElementById("last-heartbeat").textContent);
    return m !== null && Number(m[1]) <= 30;
  });
  await until(page, "healthy", () => document.getElementById("watch-state").dataset.state === "healthy");
  check((await page.locator("#timeline line.beat").count()) === 3, "three tick lines");
  check((await page.locator("#timeline line.timeout").count()) === 1, "the timeout marked");

  // Text from the API is shown as text.
  await apiOk("POST", `/api/v1/vms/${vm}/heartbeat`, { status: HOSTILE_STATUS, message: HOSTILE_MESSAGE });
  await until(page, "the hostile heartbeat shown", (m) => document.getElementById("last-message").textContent === "message: " + m,
              HOSTILE_MESSAGE);
  check((await page.textContent("#last-status")) === "status: " + HOSTILE_STATUS, "the status shown as text");
  check(await page.evaluate(() => document.querySelectorAll("img, b, main script").length === 0 && window.__pwned === undefined),
        "no markup from the API was interpreted");

  // Maintenance on: the banner, and the API agrees; off again: no banner.
  check(await page.isHidden("#maintenance-banner"), "no banner while auto-revert is on");
  await page.click("#btn-auto-revert");
  await until(page, "the maintenance banner", () => !document.getElementById("maintenance-banner").hidden);
  check((await page.textContent("#maintenance-banner")).includes("Maintenance mode: automatic revert is OFF"), "the banner's words");
  check((await page.getAttribute("#btn-auto-revert", "aria-pressed")) === "true", "the toggle pressed");
  check((await apiOk("GET", `/api/v1/vms/${vm}/watch`)).auto_revert === false, "the API says auto_revert false");
  await page.click("#btn-auto-revert");
  await until(page, "the banner gone", () => document.getElementById("maintenance-banner").hidden);
  check((await apiOk("GET", `/api/v1/vms/${vm}/watch`)).auto_revert === true, "the API says auto_revert true");

  // Stop, then restart from the ready snapshot.
  await until(page, "stop enabled", () => !document.getElementById("btn-stop").disabled);
  await page.click("#btn-stop");
  await until(page, "shut off", () => document.getElementById("vm-state").dataset.state === "shut off", null, 90000);
  await until(page, "stop reported", hasText, ["status", "Stopped"]);
  check((await apiOk("GET", `/api/v1/vms/${vm}`)).vm.state === "shut off", "the API says shut off");
  await until(page, "restart enabled", () => !document.getElementById("btn-restart").disabled);
  await page.click("#btn-restart");
  await until(page, "running again", () => document.getElementById("vm-state").dataset.state === "running", null, 90000);
  await until(page, "revert reported", hasText, ["status", "Reverted to 'ready'"]);

  // Replace the ready snapshot: asks first (accepted here).
  await until(page, "the ready snapshot listed", hasText, ["snapshot-info", "Ready snapshot 'ready' taken"]);
  await page.click("#btn-snapshot");
  await until(page, "snapshot reported", hasText, ["status", "Snapshot 'ready' saved"]);
  check(dialogs.length === 1 && dialogs[0].startsWith("Replace the snapshot 'ready'"), "one confirmation: " + JSON.stringify(dialogs));
  const list = await apiOk("GET", `/api/v1/vms/${vm}/snapshots`);
  const ready = list.snapshots.find((s) => s.name === "ready");
  check(ready && ready.description === "ready state, from the exhibit panel", "the snapshot replaced: " + JSON.stringify(list));

  // The decisions, newest first: time, action, reason.
  await until(page, "decisions listed", () => document.querySelectorAll("#decisions li").length >= 2);
  const decisions = await page.$$eval("#decisions li", (items) =>
    items.map((li) => [...li.children].map((c) => c.textContent)));
  check(decisions.every((d) => d.length === 3 && d.every((part) => part.length > 0)), "time, action, reason: " + JSON.stringify(decisions));
  check(decisions.some((d) => d[1] === "watch_on"), "watch_on listed: " + JSON.stringify(decisions));

  // A VM without its ready snapshot: the page says so, and watching is refused with the API's message.
  await page.goto(panel(bare));
  await until(page, "the missing snapshot", hasText, ["snapshot-info", "No snapshot 'ready' yet"]);
  check(await page.isDisabled("#btn-restart"), "no restart without the snapshot");
  await page.click("#btn-watch");
  await until(page, "409 shown", () => {
    const s = document.getElementById("status");
    return s.className.includes("error") && s.textContent.startsWith("Watching failed:") && s.textContent.includes("no snapshot 'ready'");
  });
  check((await apiOk("GET", `/api/v1/vms/${bare}/watch`)).watched === false, "still not watched");

  // A hostile VM name in the address: shown as text, refused by the API.
  const hostileName = "<img src=x onerror=window.__pwned=3>";
  await page.goto(panel(hostileName));
  await until(page, "the refusal shown", () => !document.getElementById("connection").hidden);
  check((await page.textContent("#vm-name")) === hostileName, "the name shown as text");
  check(await page.evaluate(() => document.querySelectorAll("img").length === 0 && window.__pwned === undefined), "no markup interpreted");

  // The screenshots: desktop, then phone (narrow layout, no sideways scrolling, big buttons).
  await page.goto(panel(vm));
  await until(page, "the panel again", () => document.getElementById("vm-state").dataset.state === "running" &&
                                              Number(document.getElementById("timeline").dataset.heartbeats) >= 4 &&
                                              document.querySelectorAll("#decisions li").length >= 2);
  await page.screenshot({ path: desktopShot });
  await page.setViewportSize(PHONE);
  await until(page, "the phone layout", () =>
    getComputedStyle(document.querySelector(".buttons")).gridTemplateColumns.split(" ").length === 2);
  const layout = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    buttons: [...document.querySelectorAll("button:not([hidden])")].map((b) => b.getBoundingClientRect().height),
  }));
  check(layout.scrollWidth <= PHONE.width, "no sideways scrolling on a phone: " + JSON.stringify(layout));
  check(layout.buttons.length >= 5 && layout.buttons.every((h) => h >= 44), "touch-sized buttons: " + JSON.stringify(layout));
  return `exhibit OK: ${decisions.length} decisions, screenshots ${desktopShot} and ${phoneShot}`;
});
