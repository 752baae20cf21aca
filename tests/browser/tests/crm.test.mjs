// The CRM deliveries page: a summary the CRM refused shows as pending with the CRM's error and its
// attempt log; after the CRM recovers, "Send again" delivers it, the page says so, and the CRM
// received it with the delivery's idempotency key. Needs the stand-in CRM that tests/browser/run
// starts (CRM_RECEIVER_URL) and the sandbox.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { launch, openContext } from "../lib/browser.mjs";
import { login, shoot, url } from "../lib/dashboard.mjs";
import { env } from "../lib/env.mjs";

// Sandbox: an unreachable number fails at once, so its call is final (and reported) right away.
const UNREACHABLE = "+61491570112";
const crm = process.env.CRM_RECEIVER_URL;
const skip = (!env.sandbox && "no sandbox") || (!crm && "no stand-in CRM (CRM_RECEIVER_URL)");

let browser;
before(async () => {
  browser = await launch();
});
after(async () => browser?.close());

async function received() {
  const res = await fetch(`${crm}/_received`);
  return res.json();
}

async function crmAnswers(status) {
  await fetch(`${crm}/_control?status=${status}`, { method: "POST" });
}

describe("CRM deliveries", { skip }, () => {
  it("show a refused summary with its error, and deliver it when sent again", async () => {
    const { context, errors } = await openContext(browser);
    const page = await context.newPage();
    await login(page);
    await crmAnswers(503);
    const name = `CRM refused ${Date.now()}`;
    const created = await page.request.post(url("/api/calls"), {
      data: { to: UNREACHABLE, name },
      headers: { "Idempotency-Key": `crm-test-${Date.now()}` },
    });
    assert.equal(created.status(), 201, await created.text());
    const call = await created.json();

    // The CRM refuses the final report: it waits for its retry, with the error shown.
    const deadline = Date.now() + 60_000;
    let refused;
    while (Date.now() < deadline && !refused) {
      refused = (await received()).find((r) => r.body?.callId === call.id && r.answered === 503);
      if (!refused) await new Promise((r) => setTimeout(r, 500));
    }
    assert.ok(refused, "the CRM was sent the summary and refused it");
    await page.goto(url("/crm/?status=pending"));
    const row = page.getByTestId("crm-delivery").filter({ hasText: name });
    await row.waitFor({ timeout: 15_000 });
    assert.equal(await row.getAttribute("data-kind"), "final");
    assert.match(await row.innerText(), /Pending/);
    assert.match(await row.innerText(), /Last error: .*503/);
    assert.match(await row.innerText(), /1 attempt\b/);
    await row.getByRole("button", { name: "Attempts" }).click();
    assert.match(await row.locator("table").innerText(), /503/);
    await shoot(page, "crm-deliveries-refused");

    // The CRM is back: "Send again" delivers it, and the page says so.
    await crmAnswers(200);
    await row.getByRole("button", { name: `Send the summary of ${name}` }).click();
    await page.goto(url("/crm/?status=delivered"));
    const delivered = page.getByTestId("crm-delivery").filter({ hasText: name });
    for (let i = 0; i < 30 && !(await delivered.count()); i++) {
      await new Promise((r) => setTimeout(r, 500));
      await page.reload();
    }
    await delivered.waitFor({ timeout: 5_000 });
    assert.match(await delivered.innerText(), /Delivered/);
    await shoot(page, "crm-deliveries-delivered");

    const sends = (await received()).filter((r) => r.body?.callId === call.id);
    const accepted = sends.filter((r) => r.answered === 200);
    assert.equal(accepted.length, 1, "delivered once");
    const keys = new Set(sends.map((r) => r.headers["idempotency-key"]));
    assert.equal(keys.size, 1, "every attempt carried the same idempotency key");
    assert.deepEqual(errors, []);
    await context.close();
  });
});
