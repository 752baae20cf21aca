import { afterEach, describe, expect, it } from "vitest";
import { setFetch } from "./api";
import { campaignApi } from "./api-campaigns";

type Seen = { url: string; init?: RequestInit };

const original = setFetch(globalThis.fetch.bind(globalThis));
afterEach(() => {
  setFetch(original);
});

describe("the campaign client", () => {
  it("uploads a CSV as the raw body with its options in the query", async () => {
    const seen: Seen[] = [];
    setFetch(async (url, init) => {
      seen.push({ url, init });
      return new Response(JSON.stringify({ valid: 1 }), { status: 200 });
    });
    const file = new Blob(["phone\n+61491570101\n"], { type: "text/csv" });
    const r = await campaignApi.previewImport(file, { phoneColumn: "Phone No", tags: "", campaignId: undefined });
    expect(r.valid).toBe(1);
    const [sent] = seen;
    expect(sent?.url).toBe("/api/contacts/import/preview?phoneColumn=Phone+No");
    expect(sent?.init?.body).toBe(file);
    expect((sent?.init?.headers as Record<string, string>)["Content-Type"]).toBe("text/csv");
  });

  it("sends JSON for the rest and encodes ids and numbers in paths", async () => {
    const seen: Seen[] = [];
    setFetch(async (url, init) => {
      seen.push({ url, init });
      return new Response(null, { status: 204 });
    });
    await campaignApi.removeDnc("+61491570101");
    await campaignApi.cancelCampaign("abc", true);
    expect(seen.map((s) => s.url)).toEqual(["/api/dnc/%2B61491570101", "/api/campaigns/abc/cancel"]);
    expect(seen[1]?.init?.body).toBe(JSON.stringify({ hangUp: true }));
  });
});
