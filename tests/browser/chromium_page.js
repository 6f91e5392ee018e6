// Runs a browser check in the system Chromium (headless) with the flags this machine needs
// (no sandbox as root, no background networking on a closed network) and a fresh profile.
// `steps(page)` does the check and returns a line to print; a screenshot is taken either way.
// The process exits 0 when the steps succeed, 1 otherwise.
"use strict";
const { chromium } = require("playwright-core");
const fs = require("fs");
const os = require("os");
const path = require("path");

async function runInChromium(screenshot, steps) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "paddock-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1000, height: 700 },
  });
  let ok = false;
  const page = context.pages()[0] || (await context.newPage());
  try {
    page.on("console", (message) => console.log("page:", message.text()));
    page.on("pageerror", (error) => console.log("page error:", error.message));
    const summary = await steps(page);
    await page.screenshot({ path: screenshot });
    console.log(summary);
    ok = true;
  } catch (e) {
    console.error(String(e && e.stack || e));
    try { await page.screenshot({ path: screenshot }); } catch (_) {}
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  process.exit(ok ? 0 : 1);
}

// Calls Paddock's API from the test itself (not the page): {status, json (null when not JSON), text}.
async function apiCall(base, token, method, urlPath, body) {
  const response = await fetch(base + urlPath, {
    method,
    headers: Object.assign({ Authorization: "Bearer " + token }, body === undefined ? {} : { "Content-Type": "application/json" }),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let json = null;
  try { json = JSON.parse(text); } catch (e) { /* not JSON */ }
  return { status: response.status, json, text };
}

module.exports = { runInChromium, apiCall };
