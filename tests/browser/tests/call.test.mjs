// The operator's main path: place a call to a sandbox number, follow it live (transcript lines
// appear while it runs, then it ends), open its detail page, play its recording, and fetch its
// post-call record from the agent platform again.
// Against main-app alone (SANDBOX=0) the call cannot connect: the test then checks that the
// failure is shown as it is, and skips the conversation part.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { launch, openContext } from "../lib/browser.mjs";
import { countSockets, login, shoot, url } from "../lib/dashboard.mjs";
import { env } from "../lib/env.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => browser?.close());

async function placeCall(page, name) {
  await page.goto(url("/calls/new/"));
  await page.getByRole("heading", { level: 1, name: "Make a call" }).waitFor();
  await page.getByLabel(/Phone number/).fill(env.number);
  await page.getByLabel(/^Name/).fill(name);
  await page.getByLabel(/First message/).fill("Hello, this is the browser test calling.");
  await page.getByRole("button", { name: "Call", exact: true }).click();
}

describe("a call", () => {
  it("is placed, followed live, and played back", { skip: !env.sandbox && "no sandbox: calls cannot connect" }, async () => {
    const { context, errors } = await openContext(browser);
    const loginPage = await context.newPage();
    await login(loginPage);
    await loginPage.close();
    // From here on one document: the form, the live view and the detail page are client-side
    // navigations, so the tab must keep a single live connection throughout.
    const page = await context.newPage();
    const sockets = countSockets(page);
    await placeCall(page, "Browser test");

    // The form opens the live view of the new call.
    await page.waitForURL(/\/live\/\?call=/, { timeout: 30_000 });
    const callId = new URL(page.url()).searchParams.get("call");
    assert.ok(callId, "the live view names the call");
    await page.locator('[data-connection="connected"]').first().waitFor({ state: "attached", timeout: 20_000 });
    await page.locator(`button[data-call-id="${callId}"]`).waitFor({ timeout: 20_000 });

    // Transcript lines appear while the call is still running.
    const lines = page.locator('[role="log"] li');
    await lines.first().waitFor({ timeout: env.callTimeoutMs });
    const ended = page.getByTestId("call-ended");
    assert.equal(await ended.count(), 0, "the first line arrived before the call ended");
    const firstCount = await lines.count();
    await shoot(page, "e2e-live-running");
    await page.waitForFunction(
      (n) => document.querySelectorAll('[role="log"] li').length > n || document.querySelector('[data-testid="call-ended"]'),
      firstCount,
      { timeout: env.callTimeoutMs },
    );
    // ...and the call ends, on this page, without a reload.
    await ended.waitFor({ timeout: env.callTimeoutMs });
    assert.ok((await lines.count()) >= 2, "both sides spoke");
    const roles = await lines.evaluateAll((ls) => [...new Set(ls.map((l) => l.getAttribute("data-role")))]);
    assert.deepEqual(roles.sort(), ["agent", "user"]);
    await shoot(page, "e2e-live-ended");

    // The detail page, with the recording.
    await page.getByRole("link", { name: "Open the call" }).click();
    await page.waitForURL(/\/calls\/detail\/\?id=/);
    await page.getByRole("heading", { level: 1, name: "Browser test" }).waitFor();
    // The recording arrives a little after the call ends; the page picks it up by itself.
    const audio = page.locator("audio[data-recording-sid]").first();
    await audio.waitFor({ state: "attached", timeout: env.callTimeoutMs });
    const played = await audio.evaluate(async (a) => {
      a.muted = true;
      await a.play();
      if (!(a.duration > 0 && Number.isFinite(a.duration))) {
        await new Promise((r) => a.addEventListener("durationchange", r, { once: true }));
      }
      const duration = a.duration;
      // Seeking needs HTTP Range support from the server.
      a.currentTime = duration / 2;
      await new Promise((r) => a.addEventListener("seeked", r, { once: true }));
      const at = a.currentTime;
      a.pause();
      return { duration, at };
    });
    assert.ok(played.duration > 0, `the recording has a duration (${played.duration})`);
    assert.ok(Math.abs(played.at - played.duration / 2) < 1, `the player can seek (${played.at} of ${played.duration})`);
    await page.getByRole("log", { name: "Transcript" }).waitFor();
    // The agent platform's analysis follows the call; the page picks it up by itself.
    await page.getByTestId("analysis").waitFor({ timeout: env.callTimeoutMs });
    await shoot(page, "e2e-call-detail");
    // It came by the webhook; fetching it again from the agent platform replaces it, and says so.
    const source = page.getByTestId("post-call-source");
    assert.match(await source.innerText(), /Sent by the agent platform/);
    await page.getByRole("button", { name: "Fetch again" }).click();
    await page.getByText(/Fetched from the agent platform/).waitFor({ timeout: 15_000 });
    await page.getByTestId("analysis").waitFor();
    await shoot(page, "e2e-call-detail-fetched");
    assert.ok(sockets.length <= 1, `one Socket.IO WebSocket per tab, saw ${sockets.length}`);
    assert.deepEqual(errors, []);
    await context.close();
  });

  it("that cannot be placed shows why, and is in the call log", { skip: env.sandbox && "the sandbox connects calls" }, async () => {
    const { context, errors } = await openContext(browser);
    const page = await context.newPage();
    await login(page);
    await placeCall(page, "Unreachable test");
    // Either Twilio's refusal next to the field or a banner: never a fake success.
    const shown = page.locator('[data-testid="form-error"], #to-error');
    await shown.first().waitFor({ timeout: 30_000 });
    assert.match(await shown.first().innerText(), /twilio/i);
    assert.ok(/\/calls\/new\/$/.test(page.url()), "stays on the form");
    await shoot(page, "e2e-call-refused");
    await page.goto(url("/calls/?phone=" + encodeURIComponent(env.number)));
    await page.getByRole("link", { name: /Unreachable test/ }).first().waitFor();
    assert.deepEqual(errors, []);
    await context.close();
  });
});
