// What an operator does around calls besides placing one: a refused form shows the server's
// error next to its field; hanging up a live call; seeing which agent lines the caller cut off;
// filtering, paging and exporting the call log; playing and downloading recordings; switching
// the theme. Needs the sandbox (calls that connect) except for the form and the theme.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { launch, openContext } from "../lib/browser.mjs";
import { login, shoot, url } from "../lib/dashboard.mjs";
import { env } from "../lib/env.mjs";

// Sandbox numbers (docs/sandbox.md): a normal conversation, a caller who keeps interrupting,
// and an unreachable number (fails at once, no ringing).
const NORMAL = "+61491570101";
const INTERRUPTER = "+61491570108";
const UNREACHABLE = "+61491570112";
const noSandbox = !env.sandbox && "no sandbox: calls cannot connect";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => browser?.close());

/** A logged-in page in a fresh context; `done()` checks no page error happened and closes it. */
async function session() {
  const { context, errors } = await openContext(browser);
  const page = await context.newPage();
  await login(page);
  return {
    page,
    async done() {
      assert.deepEqual(errors, []);
      await context.close();
    },
  };
}

async function placeCall(page, to, name) {
  await page.goto(url("/calls/new/"));
  await page.getByRole("heading", { level: 1, name: "Make a call" }).waitFor();
  await page.getByLabel(/Phone number/).fill(to);
  await page.getByLabel(/^Name/).fill(name);
  await page.getByRole("button", { name: "Call", exact: true }).click();
}

describe("the call form", () => {
  it("shows the server's validation error next to the number and stays on the form", async () => {
    const s = await session();
    await placeCall(s.page, "123", "Bad number");
    const error = s.page.locator("#to-error");
    await error.waitFor({ timeout: 15_000 });
    assert.match(await error.innerText(), /number|E\.164/i);
    const input = s.page.getByLabel(/Phone number/);
    assert.equal(await input.getAttribute("aria-invalid"), "true");
    assert.match((await input.getAttribute("aria-describedby")) ?? "", /to-error/);
    assert.ok(/\/calls\/new\/$/.test(s.page.url()), "stays on the form");
    await shoot(s.page, "make-call-field-error");
    // Nothing was stored for the refused number.
    const res = await s.page.request.get(url("/api/calls?phone=123"));
    assert.equal(res.status(), 200);
    assert.equal((await res.json()).total, 0);
    await s.done();
  });
});

describe("a live call", () => {
  it("is hung up by the operator from the live view", { skip: noSandbox }, async () => {
    const s = await session();
    const name = `Hang-up test ${Date.now()}`;
    await placeCall(s.page, NORMAL, name);
    await s.page.waitForURL(/\/live\/\?call=/, { timeout: 30_000 });
    // Wait until the conversation is under way, then hang up (with the confirmation step).
    await s.page.locator('[role="log"] li').first().waitFor({ timeout: env.callTimeoutMs });
    assert.equal(await s.page.getByTestId("call-ended").count(), 0, "still live when we hang up");
    await s.page.getByRole("button", { name: "Hang up", exact: true }).click();
    await s.page.getByText("Hang up this call?").waitFor();
    await shoot(s.page, "live-hangup-confirm");
    await s.page.getByRole("button", { name: "Yes, hang up" }).click();
    await s.page.getByTestId("call-ended").waitFor({ timeout: 30_000 });
    await shoot(s.page, "live-hung-up");
    await s.page.getByRole("link", { name: "Open the call" }).click();
    await s.page.getByRole("heading", { level: 1, name }).waitFor();
    const endedBy = s.page.locator("dt", { hasText: "Ended by" }).locator("xpath=following-sibling::dd[1]");
    await s.page.waitForFunction(() => /Operator/.test(document.body.innerText), null, { timeout: 20_000 });
    assert.match(await endedBy.innerText(), /Operator/);
    await s.done();
  });

  it("marks the agent lines the caller cut off", { skip: noSandbox }, async () => {
    const s = await session();
    await placeCall(s.page, INTERRUPTER, `Interrupter test ${Date.now()}`);
    await s.page.waitForURL(/\/live\/\?call=/, { timeout: 30_000 });
    const cut = s.page.locator('[role="log"] li[data-role="agent"][data-heard="cut_off"]');
    await cut.first().waitFor({ timeout: env.callTimeoutMs });
    assert.match(await cut.first().innerText(), /Cut off after \d+\.\d s/);
    await s.page.getByTestId("call-ended").waitFor({ timeout: env.callTimeoutMs });
    // A line heard in full carries no cut-off note.
    const heard = s.page.locator('[role="log"] li[data-role="agent"][data-heard="heard"]');
    if (await heard.count()) assert.doesNotMatch(await heard.first().innerText(), /Cut off/);
    await shoot(s.page, "live-cut-off-lines");
    await s.done();
  });
});

describe("the live connection", () => {
  it("comes back after a drop, re-subscribes and shows what happened meanwhile", { skip: noSandbox }, async () => {
    const { context, errors } = await openContext(browser);
    const page = await context.newPage();
    await login(page);
    // Every Socket.IO connection of the tab goes through here: while `down`, the WebSocket is
    // closed at once and long-polling requests fail, as when the network or the server drops.
    let down = false;
    const open = [];
    await page.routeWebSocket(/\/socket\.io\//, (ws) => {
      if (down) return ws.close({ code: 1011, reason: "test: connection dropped" });
      ws.connectToServer();
      open.push(ws);
    });
    await page.route(/\/socket\.io\//, (route) => (down ? route.abort("connectionrefused") : route.continue()));
    await page.goto(url("/live/"));
    const indicator = page.locator("[data-connection]").first();
    await page.locator('[data-connection="connected"]').first().waitFor({ state: "attached", timeout: 20_000 });
    // The page falls back to re-reading the calls API while disconnected; cut that off too, so
    // what shows up after the drop can only have come over the re-subscribed socket.
    await page.route(/\/api\/calls(\/|\?|$)/, (route) => route.abort("connectionrefused"));

    down = true;
    for (const ws of open.splice(0)) await ws.close({ code: 1011, reason: "test: connection dropped" });
    await page.waitForFunction(() => document.querySelector("[data-connection]")?.getAttribute("data-connection") !== "connected", null, {
      timeout: 15_000,
    });
    const whileDown = await indicator.getAttribute("data-connection");
    // A call placed while the dashboard is cut off (through the API, as another operator would).
    const res = await page.request.post(url("/api/calls"), { data: { to: NORMAL, name: `Reconnect test ${Date.now()}` } });
    assert.ok(res.ok(), `call accepted (${res.status()})`);
    const callId = (await res.json()).id;
    assert.ok(callId, "the API names the call");
    await page.waitForTimeout(1_500);
    assert.equal(await page.locator(`button[data-call-id="${callId}"]`).count(), 0, "not shown while the connection is down");
    await shoot(page, "live-connection-down");

    down = false;
    await page.locator('[data-connection="connected"]').first().waitFor({ state: "attached", timeout: 30_000 });
    // The fresh snapshot after re-subscribing brings the call in, and its transcript lines flow.
    await page.locator(`button[data-call-id="${callId}"]`).waitFor({ timeout: 20_000 });
    await page.locator(`button[data-call-id="${callId}"]`).click();
    await page.locator('[role="log"] li').first().waitFor({ timeout: env.callTimeoutMs });
    await shoot(page, "live-reconnected");
    assert.notEqual(whileDown, "connected", `the indicator showed the drop (${whileDown})`);
    // The dropped connection's errors are expected; nothing else.
    assert.deepEqual(errors.filter((e) => !/socket\.io|WebSocket|ERR_CONNECTION_REFUSED|Failed to load resource/i.test(String(e))), []);
    await context.close();
  });
});

describe("the call log", () => {
  it("filters, pages and exports what it shows", { skip: noSandbox }, async () => {
    const s = await session();
    // More calls than one page holds (50): unreachable numbers fail at once.
    const tag = String(Date.now());
    for (let i = 0; i < 51; i++) {
      const res = await s.page.request.post(url("/api/calls"), { data: { to: UNREACHABLE, name: `Pager ${tag} ${i}` } });
      assert.ok(res.ok(), `call ${i} accepted (${res.status()})`);
    }
    // They fail within a second or two; wait until the API has them all as failed.
    const failedTotal = async () =>
      (await (await s.page.request.get(url(`/api/calls?status=failed&phone=${UNREACHABLE.slice(1)}&limit=1`))).json()).total;
    const since = await failedTotal();
    for (let waited = 0; (await failedTotal()) < 51; waited += 500) {
      assert.ok(waited < 30_000, `the 51 calls fail (had ${since})`);
      await s.page.waitForTimeout(500);
    }
    await s.page.goto(url("/calls/"));
    await s.page.getByRole("heading", { level: 1, name: "Call log" }).waitFor();
    await s.page.getByRole("button", { name: /^Filters/ }).click();
    await s.page.getByLabel("Number contains").fill(UNREACHABLE.slice(1));
    await s.page.getByText("Failed", { exact: true }).first().click();
    await s.page.getByRole("button", { name: "Apply filters" }).click();
    await s.page.waitForURL(/status=failed/);
    assert.match(s.page.url(), /phone=/);
    // What the API says matches, to know when the page shows the filtered list (not the last one).
    const total = await failedTotal();
    assert.ok(total >= 51, `at least the 51 calls just placed (${total})`);
    const pager = s.page.getByRole("navigation", { name: "Pages" });
    await pager.filter({ hasText: new RegExp(`1–50 of ${total.toLocaleString("en-US")}(?![\\d,])`) }).waitFor({ timeout: 30_000 });
    const rows = s.page.locator("table tbody tr");
    assert.equal(await rows.count(), 50, "one page is 50 calls");
    const texts = await rows.allInnerTexts();
    const odd = texts.find((t) => !t.includes("Failed") || !t.includes(UNREACHABLE));
    assert.equal(odd, undefined, "every row on the page is a failed call to that number");
    await shoot(s.page, "call-log-filtered");

    // The second page, in the URL too.
    await pager.getByRole("button", { name: /Older/ }).click();
    await s.page.waitForURL(/offset=50/);
    await s.page.waitForFunction((n) => document.querySelectorAll("table tbody tr").length === n, Math.min(50, total - 50), {
      timeout: 15_000,
    });
    assert.match(await pager.innerText(), /^51–/);

    // The export has the same filters: a header and every matching call, all failed.
    const [download] = await Promise.all([s.page.waitForEvent("download"), s.page.getByRole("button", { name: /Export CSV/ }).click()]);
    assert.match(download.suggestedFilename(), /^calls-\d{4}-\d{2}-\d{2}\.csv$/);
    const stream = await download.createReadStream();
    let csv = "";
    for await (const chunk of stream) csv += chunk;
    const lines = csv.trim().split(/\r?\n/);
    assert.equal(lines.length - 1, total, "one CSV row per matching call");
    assert.equal(lines.slice(1).filter((l) => l.includes(`Pager ${tag}`)).length, 51);
    assert.ok(lines.slice(1).every((l) => l.includes(UNREACHABLE)), "only the filtered number");
    await s.done();
  });
});

describe("recordings", () => {
  it("play in the list and download as audio", { skip: noSandbox }, async () => {
    const s = await session();
    // A recorded call ends a few seconds after the conversation; wait for one to be listed.
    await s.page.goto(url("/recordings/"));
    await s.page.getByRole("heading", { level: 1, name: "Recordings" }).waitFor();
    const play = s.page.getByRole("button", { name: /^Play recording of/ }).first();
    const deadline = Date.now() + env.callTimeoutMs;
    while (!(await play.count())) {
      assert.ok(Date.now() < deadline, "a completed recording is listed");
      await s.page.waitForTimeout(2_000);
      await s.page.reload();
      await s.page.getByRole("heading", { level: 1, name: "Recordings" }).waitFor();
    }
    await play.click();
    const audio = s.page.locator("audio[data-recording-sid]").first();
    await audio.waitFor({ state: "attached" });
    const duration = await audio.evaluate(async (a) => {
      a.muted = true;
      if (a.paused) await a.play();
      if (!(a.duration > 0 && Number.isFinite(a.duration))) {
        await new Promise((r) => a.addEventListener("durationchange", r, { once: true }));
      }
      await new Promise((r) => (a.currentTime > 0 ? r() : a.addEventListener("timeupdate", r, { once: true })));
      return a.duration;
    });
    assert.ok(duration > 0, `the recording plays (${duration} s)`);
    await shoot(s.page, "recordings-playing");

    const link = s.page.getByRole("link", { name: /^Download recording of/ }).first();
    const href = await link.getAttribute("href");
    assert.ok(href, "the download link has an address");
    const res = await s.page.request.get(url(href));
    assert.equal(res.status(), 200);
    assert.match(res.headers()["content-type"], /^audio\//);
    const body = await res.body();
    assert.equal(body.subarray(0, 4).toString("latin1"), "RIFF", "a WAV file");
    assert.ok(body.length > 1000, `with audio in it (${body.length} bytes)`);
    await s.done();
  });
});

describe("the theme", () => {
  it("switches light → dark → system from the toggle and is remembered", async () => {
    const s = await session();
    const dark = () => s.page.evaluate(() => document.documentElement.classList.contains("dark"));
    const toggle = s.page.getByRole("button", { name: /theme \(switch to/i });
    assert.match(await toggle.getAttribute("aria-label"), /^System theme/);
    await toggle.click();
    assert.match(await toggle.getAttribute("aria-label"), /^Light theme/);
    assert.equal(await dark(), false);
    await toggle.click();
    assert.match(await toggle.getAttribute("aria-label"), /^Dark theme/);
    assert.equal(await dark(), true);
    await shoot(s.page, "theme-dark-chosen");
    // Remembered across a reload, before the page's scripts run (no light flash).
    await s.page.reload();
    await s.page.getByRole("heading", { level: 1 }).first().waitFor();
    assert.equal(await dark(), true);
    assert.match(await toggle.getAttribute("aria-label"), /^Dark theme/);
    await toggle.click();
    assert.match(await toggle.getAttribute("aria-label"), /^System theme/);
    assert.equal(await dark(), false, "back to the system theme (light in this browser)");
    await s.done();
  });
});
