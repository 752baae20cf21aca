// Contacts and the do-not-call list: add a contact with a tag, find it, edit it, mark it do not
// call (the DNC page lists it), take it off again; then a campaign made from that tag (not from
// a CSV) dials it and completes.
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

// A valid Australian mobile outside the sandbox's scenario table: the normal conversation.
const stamp = Date.now();
const digits = String(stamp).slice(-7);
const PHONE = `+614${"2"}${digits}`;
const TAG = `bt${stamp}`;
const NAME = `Tag Person ${stamp}`;

describe("contacts and the do-not-call list", () => {
  it("adds, finds, edits, lists and un-lists a contact", async () => {
    const { context, errors } = await openContext(browser);
    const page = await context.newPage();
    await login(page);
    await page.goto(url("/contacts/"));
    await page.getByRole("heading", { level: 1, name: "Contacts" }).waitFor();
    // The number is typed as a person would; it is stored in E.164.
    await page.getByLabel("Number").fill(PHONE.replace(/^\+61/, "0").replace(/(\d{4})(\d{3})(\d{3})/, "$1 $2 $3"));
    await page.getByLabel("Name", { exact: true }).fill(NAME);
    await page.getByLabel("Tags (comma-separated)").fill(`${TAG}, browser`);
    await page.getByRole("button", { name: "Add", exact: true }).click();
    await page.getByText(`${NAME} added.`).waitFor();

    await page.getByLabel("Tag", { exact: true }).fill(TAG);
    const rows = page.getByTestId("contact-table").locator("tbody tr");
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="contact-table"] tbody tr').length === 1, null, { timeout: 15_000 });
    const row = await rows.first().innerText();
    assert.match(row, new RegExp(PHONE.replace("+", "\\+")), "stored in E.164");
    // An Australian mobile can be in any of the country's time zones: the campaign's is used.
    assert.match(row, /campaign's/);
    await shoot(page, "contacts-filtered");

    await page.getByRole("link", { name: NAME }).click();
    await page.waitForURL(/\/contacts\/detail\/\?id=/);
    await page.getByLabel("Email").fill("tag.person@example.com");
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByLabel("Reason").fill("asked not to be called");
    await page.getByRole("button", { name: "Mark do not call" }).click();
    await page.getByText(/Listed .*: asked not to be called/).waitFor();
    await shoot(page, "contact-detail-dnc");
    await page.reload();
    assert.equal(await page.getByLabel("Email").inputValue(), "tag.person@example.com", "the edit was saved");
    await page.getByText(/Listed .*: asked not to be called/).waitFor();

    // A single call to a listed number is refused next to its field.
    await page.goto(url("/calls/new/"));
    await page.getByLabel(/Phone number/).fill(PHONE);
    await page.getByRole("button", { name: "Call", exact: true }).click();
    await page.locator("#to-error").waitFor({ timeout: 15_000 });
    assert.match(await page.locator("#to-error").innerText(), /do.not.call/i);

    await page.goto(url("/dnc/"));
    await page.getByRole("heading", { level: 1 }).first().waitFor();
    await page.getByLabel("Search").fill(PHONE.slice(1));
    const dnc = page.getByTestId("dnc-table").locator("tbody tr");
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="dnc-table"] tbody tr').length === 1, null, { timeout: 15_000 });
    assert.match(await dnc.first().innerText(), /asked not to be called/);
    await shoot(page, "dnc-listed");
    await dnc.first().getByRole("button", { name: "Remove" }).click();
    await page.getByText(/No numbers|nothing|empty/i).or(page.getByTestId("dnc-table").locator("tbody tr")).first().waitFor();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="dnc-table"] tbody tr').length === 0, null, { timeout: 15_000 });
    assert.deepEqual(errors, []);
    await context.close();
  });

  it("joins a campaign by its tag, which dials it to completion", async () => {
    const { context, errors } = await openContext(browser);
    const page = await context.newPage();
    await login(page);
    await page.goto(url("/campaigns/new/"));
    await page.getByRole("heading", { level: 1, name: "New campaign" }).waitFor();
    await page.getByLabel("Saved contacts with a tag").check();
    await page.locator('input[name="tag"]').fill(TAG);
    await page.getByTestId("join-count").filter({ hasText: "1 saved contact will join." }).waitFor({ timeout: 15_000 });
    await page.locator('input[name="name"]').fill(`Tag campaign ${stamp}`);
    await page.locator('textarea[name="prompt"]').fill("You are calling about a callback. Be brief.");
    await page.locator('input[name="firstMessage"]').fill("Hi!");
    await page.getByRole("button", { name: "Remove" }).click();
    for (const label of ["No answer", "Busy", "Failed", "Voicemail"]) {
      await page.getByLabel(`${label}: attempts`).fill("1");
    }
    await shoot(page, "campaign-new-from-tag");
    await page.getByRole("button", { name: "Create with 1 contact" }).click();
    await page.waitForURL(/\/campaigns\/detail\/\?id=/, { timeout: 30_000 });
    await page.waitForFunction(() => document.querySelector('[data-testid="count-done"]')?.textContent === "1", null, {
      timeout: env.callTimeoutMs,
    });
    const members = page.getByTestId("member-table").locator("tbody tr");
    assert.equal(await members.count(), 1);
    assert.match(await members.first().innerText(), new RegExp(NAME));
    await page.getByText("Completed", { exact: true }).first().waitFor({ timeout: 20_000 });
    await shoot(page, "campaign-from-tag-completed");
    assert.deepEqual(errors, []);
    await context.close();
  });
});
