// Debian's Chromium driven by playwright-core: no browser download, flags that keep it off the
// network (this machine's network is closed; without them Chromium retries Google hosts).
import { chromium } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";

export const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  // Lets the test start playback without a user gesture.
  "--autoplay-policy=no-user-gesture-required",
];

/** Launches Chromium; Playwright gives every launch a fresh, empty user-data-dir. */
export function launch() {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
}

export const LAPTOP = { width: 1366, height: 860 };
export const PHONE = { width: 390, height: 844 };

/**
 * A browser context with a viewport and colour scheme; page errors and failed same-origin
 * requests are collected so tests can assert there were none.
 */
export async function openContext(browser, { viewport = LAPTOP, colorScheme = "light", mobile = false } = {}) {
  const context = await browser.newContext({
    viewport,
    colorScheme,
    isMobile: mobile,
    hasTouch: mobile,
    deviceScaleFactor: 1,
  });
  context.setDefaultTimeout(15_000);
  const errors = [];
  context.on("page", (page) => watch(page, errors));
  return { context, errors };
}

function watch(page, errors) {
  page.on("pageerror", (e) => errors.push(`page error: ${e.message}`));
  page.on("console", (m) => {
    // A failed request is logged by Chromium itself; pages show those as states, so only the
    // app's own errors count here.
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) errors.push(`console: ${m.text()}`);
  });
}
