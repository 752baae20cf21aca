// A campaign from a CSV: upload, review (the invalid row is listed with its reason), set it up,
// create and start it, then watch its progress live on the campaign page until it completes.
// With the sandbox the calls really ring (a conversation, a busy line, an unreachable number);
// against main-app alone (SANDBOX=0) every dial fails at once, and the campaign still completes.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { launch, openContext } from "../lib/browser.mjs";
import { login, shoot, url } from "../lib/dashboard.mjs";
import { env } from "../lib/env.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => browser?.close());

// The sandbox's normal conversation, busy line and unreachable number, and a row that is not a number.
const CSV = [
  "First Name,Last Name,Phone,Company",
  "Ann,Lee,+61491570101,Acme",
  "Bob,Ng,+61491570102,Beta",
  "Cat,Ito,+61491570112,Gamma",
  "Dan,Roe,not a number,Delta",
].join("\n");

describe("a campaign", () => {
  it("is created from a CSV and progresses live to completion", async () => {
    const { context, errors } = await openContext(browser);
    const page = await context.newPage();
    await login(page);
    await page.goto(url("/campaigns/new/"));
    await page.getByRole("heading", { level: 1, name: "New campaign" }).waitFor();
    await page.getByTestId("csv-file").setInputFiles({ name: "contacts.csv", mimeType: "text/csv", buffer: Buffer.from(CSV) });
    const summary = page.getByTestId("import-summary");
    await summary.waitFor();
    assert.match(await summary.innerText(), /3 valid of 4 rows/);
    assert.match(await page.getByTestId("invalid-rows").innerText(), /not a number\s+not a phone number/);

    await page.locator('input[name="name"]').fill(`Browser campaign ${Date.now()}`);
    await page.locator('textarea[name="prompt"]').fill("You are calling {{first_name}} from {{company}}. Be brief.");
    await page.locator('input[name="firstMessage"]').fill("Hi {{first_name}}!");
    await page.locator('input[name="callsPerSecond"]').fill("5");
    // Any hour (this test runs at any time of day), and one attempt per contact.
    await page.getByRole("button", { name: "Remove" }).click();
    for (const label of ["No answer", "Busy", "Failed", "Voicemail"]) {
      await page.getByLabel(`${label}: attempts`).fill("1");
    }
    await shoot(page, "campaign-new-reviewed");
    await page.getByRole("button", { name: /Create with 3 contacts/ }).click();

    await page.waitForURL(/\/campaigns\/detail\/\?id=/, { timeout: 30_000 });
    const dialled = page.getByTestId("count-dialled");
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="count-dialled"]')?.textContent) >= 1, null, {
      timeout: env.callTimeoutMs,
    });
    await shoot(page, "campaign-running");
    // Completion arrives live (no reload): all three done.
    await page.waitForFunction(() => document.querySelector('[data-testid="count-done"]')?.textContent === "3", null, {
      timeout: env.callTimeoutMs,
    });
    assert.equal(await dialled.innerText(), "3");
    assert.equal(await page.getByTestId("count-remaining").innerText(), "0");
    await page.getByText("Completed", { exact: true }).first().waitFor({ timeout: 20_000 });
    const rows = page.getByTestId("member-table").locator("tbody tr");
    assert.equal(await rows.count(), 3);
    // The contacts table follows too: every contact done, none still shown on a call.
    await page.waitForFunction(
      () => [...document.querySelectorAll('[data-testid="member-table"] tbody tr')].filter((r) => r.textContent?.includes("Done")).length === 3,
      null,
      { timeout: 20_000 },
    );
    await shoot(page, "campaign-completed");

    // The list shows it too.
    await page.goto(url("/campaigns/"));
    await page.getByTestId("campaign-list").waitFor();
    assert.match(await page.getByTestId("campaign-list").innerText(), /100% complete/);
    assert.deepEqual(errors, []);
    await context.close();
  });
});
