// Drives the system Chromium (headless) through Paddock's session replay page:
//   node replay_test.js <replay_url_with_access_token> <screenshot.png> <expected text>...
// Waits for asciinema-player to load the cast, seeks to its end, and checks that the player's
// terminal shows every expected text and that the token left the address bar. Exit code 0 on
// success. Deterministic: polls with generous deadlines, never asserts on time.
"use strict";
const { runInChromium } = require("./chromium_page");

const [url, screenshot, ...expected] = process.argv.slice(2);
if (!url || !screenshot) {
  console.error("usage: node replay_test.js <replay_url> <screenshot.png> <expected text>...");
  process.exit(2);
}

runInChromium(screenshot, async (page) => {
  await page.goto(url);
  await page.waitForFunction(() => window.paddockPlayer || document.getElementById("status").className === "error",
                             null, { timeout: 60000 });
  const status = await page.textContent("#status");
  if (status) throw new Error("the page says: " + status);
  if (await page.evaluate(() => location.search.includes("access_token"))) throw new Error("the token stayed in the address bar");

  // The player parses the cast asynchronously (preload: true); the duration says it is done.
  await page.waitForFunction(async () => typeof (await window.paddockPlayer.getDuration()) === "number", null,
                             { timeout: 60000 });
  const duration = await page.evaluate(() => window.paddockPlayer.getDuration());
  console.log("duration", duration);
  await page.evaluate((d) => window.paddockPlayer.seek(d), duration);
  const deadline = Date.now() + 60000;
  let text = "";
  while (Date.now() < deadline) {
    text = await page.evaluate(() => (document.querySelector(".ap-term") || document.body).textContent);
    if (expected.every((e) => text.includes(e))) break;
    await page.waitForTimeout(100);
  }
  const missing = expected.filter((e) => !text.includes(e));
  if (missing.length) throw new Error("the player does not show " + JSON.stringify(missing) + "; it shows:\n" + text);
  const meta = await page.textContent("#meta");
  return `replay OK: ${JSON.stringify(expected)} seen after seeking to ${duration}s; meta "${meta}"`;
});
