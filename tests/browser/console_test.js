// Drives the system Chromium (headless) through Paddock's web console page:
//   node console_test.js <console_url> <screenshot.png>
// Waits for the terminal to connect, types `echo browser-ok` + Enter, waits until a line of
// xterm.js's buffer reads exactly "browser-ok" (the shell's output, not the typed command),
// resizes the window and checks `stty size` follows, then takes a screenshot. Exit code 0 on
// success. Deterministic: polls with generous deadlines, never asserts on time.
"use strict";
const { runInChromium } = require("./chromium_page");

const [url, screenshot] = process.argv.slice(2);
if (!url || !screenshot) {
  console.error("usage: node console_test.js <console_url> <screenshot.png>");
  process.exit(2);
}

async function bufferLines(page) {
  return page.evaluate(() => {
    const buffer = window.paddockTerminal.buffer.active;
    const lines = [];
    for (let i = 0; i < buffer.length; i++) lines.push(buffer.getLine(i).translateToString(true));
    return lines;
  });
}

async function waitForLine(page, wanted, what) {
  const deadline = Date.now() + 60000;
  let lines = [];
  while (Date.now() < deadline) {
    lines = await bufferLines(page);
    if (lines.some((line) => line.trim() === wanted)) return;
    await page.waitForTimeout(100);
  }
  throw new Error(`${what}: no line "${wanted}" in the terminal:\n${lines.filter((l) => l.trim()).join("\n")}`);
}

runInChromium(screenshot, async (page) => {
  await page.goto(url);
  await page.waitForFunction(() => document.getElementById("status").textContent === "Connected", null, { timeout: 60000 })
    .catch(async (e) => { throw new Error("not connected: " + (await page.textContent("#status")) + " (" + e.message + ")"); });
  if (await page.evaluate(() => location.search.includes("ticket"))) throw new Error("the ticket stayed in the address bar");

  await page.click("#terminal");
  await page.keyboard.type("echo browser-ok");
  await page.keyboard.press("Enter");
  await waitForLine(page, "browser-ok", "echo");

  // The window shrinks: the fit addon resizes xterm.js, which sends a resize frame.
  const before = await page.evaluate(() => [window.paddockTerminal.cols, window.paddockTerminal.rows]);
  await page.setViewportSize({ width: 640, height: 420 });
  await page.waitForFunction((b) => window.paddockTerminal.cols !== b[0] || window.paddockTerminal.rows !== b[1], before, { timeout: 60000 });
  const after = await page.evaluate(() => [window.paddockTerminal.cols, window.paddockTerminal.rows]);
  await page.keyboard.type("clear; stty size");
  await page.keyboard.press("Enter");
  await waitForLine(page, `${after[1]} ${after[0]}`, "stty size after resize");

  return `console OK: browser-ok seen, resized ${before.join("x")} -> ${after.join("x")}, screenshot ${screenshot}`;
});
