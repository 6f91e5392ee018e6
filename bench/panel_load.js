// The control panel (/ui/) in the system Chromium against a running paddockd:
//   node bench/panel_load.js <settings.json>     (settings: {base, token, vms, changes, vm})
// Prints: sign-in to a filled VM table (ms), and event → row latency (p50/p99 over `changes`
// stop/start pairs made through the API behind the page's back), and the page's JS heap.
// The token reaches node in a 0600 file, never on a command line. Run by bench/operator_tools.sh.
"use strict";
const fs = require("fs");
const path = require("path");
const { runInChromium } = require(path.join(__dirname, "..", "tests", "browser", "chromium_page"));

const S = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const percentile = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };

async function api(method, urlPath) {
  const r = await fetch(S.base + urlPath, { method, headers: { Authorization: "Bearer " + S.token } });
  if (!r.ok) throw new Error(`${method} ${urlPath}: ${r.status} ${await r.text()}`);
}

runInChromium(path.join(path.dirname(process.argv[2]), "panel-bench.png"), async (page) => {
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto(S.base + "/ui/");
  await page.waitForSelector("#login-token", { state: "visible" });
  await page.fill("#login-token", S.token);
  const t0 = Date.now();
  await page.press("#login-token", "Enter");
  await page.waitForFunction((n) => document.querySelectorAll("#vm-rows tr.item").length >= n, S.vms, { polling: "raf", timeout: 60000 });
  const loadMs = Date.now() - t0;
  await page.waitForFunction(() => document.getElementById("live").dataset.state === "live", null, { timeout: 30000 });

  const rowIs = ([name, state]) => {
    const row = document.querySelector(`#vm-rows tr.item[data-vm="${name}"]`);
    return row !== null && row.dataset.state === state;
  };
  const latencies = [];
  for (let i = 0; i < S.changes; i++) {
    for (const [action, state] of [["stop", "shut off"], ["start", "running"]]) {
      const t = Date.now();
      await api("POST", `/api/v1/vms/${S.vm}/${action}${action === "stop" ? "?force=true" : ""}`);
      await page.waitForFunction(rowIs, [S.vm, state], { polling: "raf", timeout: 30000 });
      latencies.push(Date.now() - t);
    }
  }
  const heap = await page.evaluate(() => (performance.memory ? performance.memory.usedJSHeapSize : 0));
  return `panel: sign-in → ${S.vms} rows ${loadMs} ms; API stop/start → row updated p50 ${percentile(latencies, 0.5)} ms, ` +
         `p99 ${percentile(latencies, 0.99)} ms (${latencies.length} changes, API call included); JS heap ${(heap / 1048576).toFixed(1)} MiB`;
});
