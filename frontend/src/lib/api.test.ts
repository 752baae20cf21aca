import { afterEach, describe, expect, it } from "vitest";
import { api, ApiError, errorFromResponse, request, setFetch, setUnauthorizedHandler } from "./api";
import { EMPTY_FILTERS } from "./filters";

type Seen = { url: string; init?: RequestInit };

function respond(status: number, body: string, seen: Seen[] = [], headers: Record<string, string> = {}) {
  return async (url: string, init?: RequestInit) => {
    seen.push({ url, init });
    return new Response(status === 204 ? null : body, { status, headers });
  };
}

const original = setFetch(globalThis.fetch.bind(globalThis));
afterEach(() => {
  setFetch(original);
  setUnauthorizedHandler(null);
});

describe("errorFromResponse", () => {
  it("maps the server's error body, field included", async () => {
    const res = new Response(JSON.stringify({ error: { code: "VALIDATION_FAILED", message: "to is not a phone number", field: "to" } }), { status: 422 });
    const e = await errorFromResponse(res);
    expect(e).toBeInstanceOf(ApiError);
    expect([e.status, e.code, e.message, e.field]).toEqual([422, "VALIDATION_FAILED", "to is not a phone number", "to"]);
  });

  it("describes a non-JSON failure by its status", async () => {
    const e = await errorFromResponse(new Response("<html>bad gateway</html>", { status: 502 }));
    expect(e.code).toBe("HTTP_502");
    expect(e.message).toMatch(/server failed/);
    expect(e.field).toBeUndefined();
  });

  it("tells a missing endpoint from a missing resource", async () => {
    const route = await errorFromResponse(new Response(JSON.stringify({ error: { code: "NOT_FOUND", message: "no such API route" } }), { status: 404 }));
    const call = await errorFromResponse(new Response(JSON.stringify({ error: { code: "CALL_NOT_FOUND", message: "no call" } }), { status: 404 }));
    expect(route.endpointMissing).toBe(true);
    expect(call.endpointMissing).toBe(false);
  });
});

describe("request", () => {
  it("throws (never invents data) and reports 401 to the auth handler", async () => {
    let told = 0;
    setUnauthorizedHandler(() => told++);
    setFetch(respond(401, JSON.stringify({ error: { code: "UNAUTHORIZED", message: "log in" } })));
    await expect(api.activeCalls()).rejects.toMatchObject({ status: 401, unauthorized: true });
    expect(told).toBe(1);
  });

  it("turns a network failure into NETWORK_ERROR", async () => {
    setFetch(async () => {
      throw new TypeError("fetch failed");
    });
    await expect(request("/api/calls")).rejects.toMatchObject({ status: 0, code: "NETWORK_ERROR" });
  });

  it("rejects a success body that is not JSON", async () => {
    setFetch(respond(200, "<html>"));
    await expect(request("/api/calls")).rejects.toMatchObject({ code: "BAD_RESPONSE" });
  });

  it("returns nothing for 204 and 202 with expect none", async () => {
    setFetch(respond(204, ""));
    await expect(api.logout()).resolves.toBeUndefined();
    setFetch(respond(202, "{}"));
    await expect(api.hangup("c1")).resolves.toBeUndefined();
  });

  it("sends the idempotency key and a JSON body when creating a call", async () => {
    const seen: Seen[] = [];
    setFetch(respond(201, JSON.stringify({ id: "c1" }), seen));
    const call = await api.createCall({ to: "+61298765432", name: "Ann" }, "key-1");
    expect(call.id).toBe("c1");
    const init = seen[0]!.init!;
    expect(seen[0]!.url).toBe("/api/calls");
    expect(init.method).toBe("POST");
    expect((init.headers as Record<string, string>)["Idempotency-Key"]).toBe("key-1");
    expect((init.headers as Record<string, string>)["Content-Type"]).toBe("application/json");
    expect(JSON.parse(init.body as string)).toEqual({ to: "+61298765432", name: "Ann" });
  });

  it("encodes ids in paths", async () => {
    const seen: Seen[] = [];
    setFetch(respond(200, "[]", seen));
    await api.callEvents("a/b?c");
    expect(seen[0]!.url).toBe("/api/calls/a%2Fb%3Fc/events");
  });

  it("passes list filters and the page", async () => {
    const seen: Seen[] = [];
    setFetch(respond(200, JSON.stringify({ items: [], total: 0, offset: 50, limit: 50 }), seen));
    await api.listCalls({ ...EMPTY_FILTERS, status: ["completed", "failed"], phone: " 612 " }, 50, 50);
    const q = new URLSearchParams(seen[0]!.url.split("?")[1]);
    expect(q.get("status")).toBe("completed,failed");
    expect(q.get("phone")).toBe("612");
    expect(q.get("offset")).toBe("50");
    expect(q.get("limit")).toBe("50");
    expect(q.has("outcome")).toBe(false);
  });
});
