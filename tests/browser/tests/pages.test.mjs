// Every page renders for a logged-in operator in light and dark, on a laptop and a phone, with
// a screenshot of each; the nav links only to pages that exist; login, logout and the 404 page.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { LAPTOP, launch, openContext, PHONE } from "../lib/browser.mjs";
import { countSockets, login, shoot, url } from "../lib/dashboard.mjs";
import { env } from "../lib/env.mjs";

const PAGES = [
  ["overview", "/", "Overview"],
  ["live", "/live/", "Live calls"],
  ["make-call", "/calls/new/", "Make a call"],
  ["call-log", "/calls/", "Call log"],
  ["recordings", "/recordings/", "Recordings"],
  ["campaigns", "/campaigns/", "Campaigns"],
  ["new-campaign", "/campaigns/new/", "New campaign"],
  ["contacts", "/contacts/", "Contacts"],
  ["import-contacts", "/contacts/import/", "Import contacts"],
  ["dnc", "/dnc/", "Do not call"],
  ["crm", "/crm/", "CRM deliveries"],
];

/** Form controls and buttons on the page a screen reader could not name (runs in the page). */
function unlabelledControls() {
  const visible = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  const named = (el) => {
    if (el.getAttribute("aria-label")?.trim() || el.getAttribute("aria-labelledby") || el.getAttribute("title")?.trim()) return true;
    if (el.tagName === "BUTTON" || el.tagName === "A") return !!el.textContent?.trim();
    if (el.closest("label")) return true;
    return !!(el.id && document.querySelector(`label[for="${CSS.escape(el.id)}"]`));
  };
  return [...document.querySelectorAll("input:not([type=hidden]), select, textarea, button, a[href]")]
    .filter((el) => visible(el) || (el.tagName === "INPUT" && el.closest("label")))
    .filter((el) => !named(el))
    .map((el) => el.outerHTML.slice(0, 120));
}

let browser;
before(async () => {
  browser = await launch();
});
after(async () => browser?.close());

describe("login", () => {
  it("refuses a wrong password with a message, then logs in", async () => {
    const { context, errors } = await openContext(browser);
    const page = await context.newPage();
    await page.goto(url("/calls/"));
    // Not logged in: sent to the login page, which remembers where we were going.
    await page.waitForURL(/\/login\/\?next=%2Fcalls%2F/);
    await shoot(page, "login-light-laptop");
    await page.getByLabel("Username").fill(env.username);
    await page.getByLabel("Password").fill("definitely-not-the-password");
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByRole("alert").filter({ hasText: /wrong username or password|too many/i }).waitFor();
    await shoot(page, "login-error-light-laptop");
    await page.getByLabel("Password").fill(env.password);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.waitForURL(/\/calls\/$/);
    await page.getByRole("heading", { level: 1, name: "Call log" }).waitFor();
    assert.deepEqual(errors, []);
    await context.close();
  });
});

for (const colorScheme of ["light", "dark"]) {
  for (const [device, viewport] of [
    ["laptop", LAPTOP],
    ["phone", PHONE],
  ]) {
    describe(`pages (${colorScheme}, ${device})`, () => {
      it("each page renders its heading and content without errors", async () => {
        const { context, errors } = await openContext(browser, { viewport, colorScheme, mobile: device === "phone" });
        const page = await context.newPage();
        await login(page);
        for (const [name, path, heading] of PAGES) {
          await page.goto(url(path));
          await page.getByRole("heading", { level: 1, name: heading }).waitFor();
          // Wait until no loading spinner is left (real data, an empty state or an error state).
          await page.waitForFunction(() => !document.querySelector('[role="status"] .animate-spin'), null, { timeout: 15_000 });
          const dark = await page.evaluate(() => document.documentElement.classList.contains("dark"));
          assert.equal(dark, colorScheme === "dark", `${name} follows the ${colorScheme} system theme`);
          const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
          assert.ok(overflow <= 0, `${name} fits the ${device} width (overflows by ${overflow}px)`);
          if (device === "laptop") {
            // On a laptop every table fits its card (no column hidden behind a scrollbar).
            const clipped = await page.$$eval("[data-table-scroll]", (els) => els.filter((e) => e.scrollWidth > e.clientWidth + 1).length);
            assert.equal(clipped, 0, `${name}: tables fit their cards`);
          }
          const unlabelled = await page.evaluate(unlabelledControls);
          assert.deepEqual(unlabelled, [], `${name}: every control has an accessible name`);
          await shoot(page, `${name}-${colorScheme}-${device}`);
        }
        // A selected live call, when there is one.
        await page.goto(url("/live/"));
        await page.locator("button[data-call-id]").or(page.getByText("No calls in progress")).first().waitFor();
        const liveCall = page.locator("button[data-call-id]").first();
        if (await liveCall.count()) {
          await liveCall.click();
          await page.waitForURL(/\/live\/\?call=/);
          await page.getByRole("heading", { name: "Transcript" }).waitFor();
          await shoot(page, `live-selected-${colorScheme}-${device}`);
        }
        // The most recent call's detail page, when there is one.
        await page.goto(url("/calls/"));
        await page.locator("table").or(page.getByText("No calls yet")).first().waitFor();
        const first = page.locator('table a[href*="/calls/detail/"]').first();
        if (await first.count()) {
          await first.click();
          await page.waitForURL(/\/calls\/detail\/\?id=/);
          await page.getByText("Timeline").waitFor();
          await page.waitForFunction(() => !document.querySelector('[role="status"] .animate-spin'), null, { timeout: 15_000 });
          const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
          assert.ok(overflow <= 0, `call detail fits the ${device} width (overflows by ${overflow}px)`);
          await shoot(page, `call-detail-${colorScheme}-${device}`);
        }
        assert.deepEqual(errors, []);
        await context.close();
      });
    });
  }
}

describe("navigation", () => {
  it("links only to pages that exist, keeps one live connection, and logs out", async () => {
    const { context, errors } = await openContext(browser);
    const page = await context.newPage();
    const sockets = countSockets(page);
    await login(page);
    const nav = page.getByRole("navigation", { name: "Main" });
    const hrefs = await nav.locator("a").evaluateAll((as) => as.map((a) => a.getAttribute("href")));
    assert.ok(hrefs.length >= 5, `nav has its links: ${hrefs}`);
    for (const href of hrefs) {
      const res = await page.request.get(url(href));
      assert.equal(res.status(), 200, `${href} exists`);
    }
    // Client-side navigation through every page keeps the tab's one connection.
    for (const [, , heading] of PAGES.filter(([, path]) => hrefs.includes(path))) {
      await nav.getByRole("link", { name: heading }).click();
      await page.getByRole("heading", { level: 1, name: heading }).waitFor();
    }
    assert.ok(sockets.length <= 1, `one Socket.IO WebSocket per tab, saw ${sockets.length}`);
    await nav.getByRole("button", { name: /log out/i }).click();
    await page.waitForURL(/\/login\//);
    await page.goto(url("/live/"));
    await page.waitForURL(/\/login\//);
    assert.deepEqual(errors, []);
    await context.close();
  });

  it("shows a not-found page for an unknown address", async () => {
    const { context } = await openContext(browser);
    const page = await context.newPage();
    await login(page);
    const res = await page.goto(url("/no-such-page/"));
    assert.equal(res.status(), 404);
    await page.getByRole("heading", { name: "Page not found" }).waitFor();
    await context.close();
  });
});

describe("keyboard", () => {
  it("logs in and follows a nav link without a mouse, with a visible focus ring", async () => {
    const { context, errors } = await openContext(browser);
    const page = await context.newPage();
    await page.goto(url("/login/"));
    await page.getByLabel("Username").focus();
    await page.keyboard.type(env.username);
    await page.keyboard.press("Tab");
    await page.keyboard.type(env.password);
    await page.keyboard.press("Enter");
    await page.waitForURL((u) => !u.pathname.startsWith("/login"));
    // Tab until the nav's "Call log" link has focus, then follow it with Enter.
    let reached = false;
    for (let i = 0; i < 40 && !reached; i++) {
      await page.keyboard.press("Tab");
      reached = await page.evaluate(() => document.activeElement?.textContent?.trim() === "Call log");
    }
    assert.ok(reached, "the nav is reachable with Tab");
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    assert.notEqual(outline, "none", "the focused link shows a focus ring");
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { level: 1, name: "Call log" }).waitFor();
    assert.deepEqual(errors, []);
    await context.close();
  });
});
