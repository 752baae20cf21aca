import { describe, expect, it } from "vitest";
import { eventLabel, formatDuration, formatPercent, heardNote, humanize, outcomeLabel, statusLabel, statusTone } from "./format";
import { eventSummary, isProblem } from "./timeline";
import { activeHref, NAV } from "./nav";
import { safeNext, loginUrl } from "./auth";
import { toRequest, EMPTY_FORM } from "./new-call";
import { CALL_STATUSES, OUTCOMES, type CallEvent } from "./types";

describe("format", () => {
  it("durations", () => {
    expect(formatDuration(0)).toBe("0:00");
    expect(formatDuration(65.9)).toBe("1:05");
    expect(formatDuration(3723)).toBe("1:02:03");
    expect(formatDuration(null)).toBe("—");
    expect(formatDuration(-1)).toBe("—");
  });

  it("percentages say when there is nothing to divide", () => {
    expect(formatPercent(0.456)).toBe("46%");
    expect(formatPercent(null)).toBe("—");
  });

  it("label every status and outcome", () => {
    for (const s of CALL_STATUSES) expect(statusLabel(s)).not.toBe(s);
    for (const o of OUTCOMES) expect(outcomeLabel(o)).not.toBe(o);
    expect(statusTone("failed")).toBe("danger");
  });

  it("humanize machine words", () => {
    expect(humanize("agent_ended_conversation")).toBe("Agent ended conversation");
    expect(humanize("no-answer")).toBe("No answer");
    expect(eventLabel("some_new_kind")).toBe("Some new kind");
  });

  it("say what the caller did not hear", () => {
    expect(heardNote("cut_off", 1200, 4000)).toBe("Cut off after 1.2 s of 4.0 s: the caller heard only the start");
    expect(heardNote("not_heard")).toMatch(/Not heard/);
    expect(heardNote("heard")).toBeNull();
    expect(heardNote(undefined)).toBeNull();
  });
});

describe("timeline", () => {
  const ev = (kind: string, data: unknown): CallEvent => ({ id: "1", callId: "c", at: "2026-11-24T10:00:00Z", kind, source: "twilio", data });
  it("summarise the fields people look for", () => {
    expect(eventSummary(ev("status", { CallStatus: "no-answer", CallDuration: "0" }))).toBe("No answer · 0 s");
    expect(eventSummary(ev("amd", { AnsweredBy: "machine_end_beep" }))).toBe("Machine end beep");
    expect(eventSummary(ev("stream", { StreamEvent: "stream-started" }))).toBe("Started");
    expect(eventSummary(ev("stream", { StreamEvent: "stream-error", StreamError: "31920: refused" }))).toBe("Error · 31920: refused");
    expect(isProblem(ev("stream", { StreamEvent: "stream-error" }))).toBe(true);
    expect(isProblem(ev("stream", { StreamEvent: "stream-stopped" }))).toBe(false);
    expect(eventSummary(ev("conversation_ended", { reason: "agent_ended", hangupRequested: true }))).toBe("Agent ended · hang-up requested");
    expect(eventSummary(ev("dial_failed", { code: "21211", message: "bad number" }))).toBe("21211 · bad number");
    expect(eventSummary(ev("transcript", { line: { role: "user", text: "Who is this?" } }))).toBe("Caller: Who is this?");
    expect(eventSummary(ev("whatever", { a: 1 }))).toBe("");
    expect(eventSummary(ev("status", null))).toBe("");
  });
  it("flag problems", () => {
    expect(isProblem(ev("media_error", {}))).toBe(true);
    expect(isProblem(ev("status", {}))).toBe(false);
  });
});

describe("navigation", () => {
  it("mark the deepest matching entry", () => {
    expect(activeHref("/")).toBe("/");
    expect(activeHref("/calls/new/")).toBe("/calls/new/");
    expect(activeHref("/calls/detail/")).toBe("/calls/");
    expect(activeHref("/live")).toBe("/live/");
    expect(activeHref("/nowhere/")).toBeNull();
  });
  it("link only to pages that exist", () => {
    // The pages of this app (src/app/*/page.tsx).
    const pages = ["/", "/live/", "/calls/new/", "/calls/", "/recordings/", "/campaigns/", "/contacts/", "/dnc/", "/crm/"];
    expect(NAV.map((n) => n.href).sort()).toEqual(pages.sort());
  });
});

describe("login redirects", () => {
  it("only follow same-site paths", () => {
    expect(safeNext("/calls/?status=failed")).toBe("/calls/?status=failed");
    expect(safeNext("//evil.example/")).toBe("/");
    expect(safeNext("https://evil.example/")).toBe("/");
    expect(safeNext("/login/")).toBe("/");
    expect(safeNext(null)).toBe("/");
  });
  it("come back to where the user was", () => {
    expect(loginUrl("/live/?call=c1")).toBe("/login/?next=%2Flive%2F%3Fcall%3Dc1");
    expect(loginUrl("/")).toBe("/login/");
  });
});

describe("make-call form", () => {
  it("leave empty optional fields to the server's defaults", () => {
    expect(toRequest({ ...EMPTY_FORM, to: " +61 2 9876 5432 " })).toEqual({ to: "+61 2 9876 5432" });
    expect(toRequest({ to: "+61298765432", name: " Ann ", callerId: "+61200000000", prompt: "p", firstMessage: " " })).toEqual({
      to: "+61298765432",
      name: "Ann",
      callerId: "+61200000000",
      prompt: "p",
    });
  });
});
