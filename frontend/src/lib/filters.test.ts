import { describe, expect, it } from "vitest";
import { EMPTY_FILTERS, filtersFromSearch, filtersToQuery, filtersToSearch, hasFilters, localDay, localDayStart } from "./filters";

describe("filters", () => {
  it("round-trip through the page URL", () => {
    const f = { status: ["completed" as const, "no-answer" as const], outcome: ["voicemail" as const], phone: "+61", campaignId: "cmp_1", from: "2026-11-01", to: "2026-11-07" };
    const back = filtersFromSearch(new URLSearchParams(filtersToSearch(f)));
    expect(back).toEqual(f);
  });

  it("drop values the API would refuse", () => {
    const f = filtersFromSearch(new URLSearchParams("status=completed,bogus&outcome=nope&from=yesterday&to=2026-13-45"));
    expect(f.status).toEqual(["completed"]);
    expect(f.outcome).toEqual([]);
    expect(f.from).toBe("");
    expect(f.to).toBe("");
  });

  it("send whole local days as instants", () => {
    const q = new URLSearchParams(filtersToQuery({ ...EMPTY_FILTERS, from: "2026-11-03", to: "2026-11-03" }));
    const from = new Date(q.get("from")!);
    const to = new Date(q.get("to")!);
    expect(localDay(from)).toBe("2026-11-03");
    expect([from.getHours(), from.getMinutes()]).toEqual([0, 0]);
    // `to` is the start of the next local day: the whole of the 3rd is included.
    expect(localDay(to)).toBe("2026-11-04");
    expect([to.getHours(), to.getMinutes()]).toEqual([0, 0]);
  });

  it("leave empty filters out", () => {
    expect(filtersToQuery(EMPTY_FILTERS)).toBe("");
    expect(hasFilters(EMPTY_FILTERS)).toBe(false);
    expect(hasFilters({ ...EMPTY_FILTERS, phone: "  " })).toBe(false);
    expect(hasFilters({ ...EMPTY_FILTERS, outcome: ["busy"] })).toBe(true);
    expect(filtersToSearch(EMPTY_FILTERS, 100)).toBe("offset=100");
  });

  it("parse local days strictly", () => {
    expect(localDayStart("2026-02-30")).toBeNull();
    expect(localDayStart("2028-02-29")).not.toBeNull();
    expect(localDay(localDayStart("2026-12-31", 1)!)).toBe("2027-01-01");
    expect(localDayStart("26-2-3")).toBeNull();
    expect(localDayStart("")).toBeNull();
  });
});
