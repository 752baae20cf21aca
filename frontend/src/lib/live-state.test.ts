import { describe, expect, it } from "vitest";
import {
  applyCall,
  applySnapshot,
  elapsedSecs,
  mergeLine,
  mergeLiveCall,
  mergeTranscripts,
  pruneEnded,
  RECENTLY_ENDED_MS,
  sortedCalls,
  transcriptFromEvents,
} from "./live-state";
import type { CallEvent, LiveCall, TranscriptLine } from "./types";

const T0 = Date.parse("2026-11-24T10:00:00Z");
const iso = (ms: number) => new Date(ms).toISOString();

function call(id: string, over: Partial<LiveCall> = {}): LiveCall {
  return {
    id,
    callSid: null,
    to: "+61298765432",
    from: "+61200000000",
    name: null,
    status: "ringing",
    answeredBy: null,
    outcome: null,
    terminatedBy: null,
    createdAt: iso(T0),
    answeredAt: null,
    endedAt: null,
    campaignId: null,
    contactId: null,
    conversationId: null,
    ...over,
  };
}

const line = (index: number, text: string, over: Partial<TranscriptLine> = {}): TranscriptLine => ({
  index,
  role: index % 2 ? "user" : "agent",
  text,
  timeInCallMs: index * 1000,
  ...over,
});

describe("live calls", () => {
  it("never move a status backwards (a late update after the end)", () => {
    const ended = call("a", { status: "completed", endedAt: iso(T0 + 60_000), outcome: "conversation_held" });
    const late = call("a", { status: "in-progress", answeredBy: "human", conversationId: "conv_1" });
    const merged = mergeLiveCall(ended, late);
    expect(merged.status).toBe("completed");
    expect(merged.endedAt).toBe(ended.endedAt);
    expect(merged.outcome).toBe("conversation_held");
    expect(merged.conversationId).toBe("conv_1");
  });

  it("apply updates idempotently", () => {
    const up = call("a", { status: "in-progress", answeredAt: iso(T0 + 5000) });
    const once = applyCall(applyCall(new Map(), call("a")), up);
    const twice = applyCall(once, up);
    expect([...twice.values()]).toEqual([...once.values()]);
    expect(twice.get("a")!.status).toBe("in-progress");
  });

  it("keep an answer time a later update leaves out", () => {
    const answered = call("a", { status: "in-progress", answeredAt: iso(T0 + 5000), answeredBy: "human" });
    const next = mergeLiveCall(answered, call("a", { status: "completed" }));
    expect(next.answeredAt).toBe(answered.answeredAt);
    expect(next.answeredBy).toBe("human");
  });

  it("take a snapshot as the truth but keep calls that just ended", () => {
    let m = applyCall(new Map(), call("gone"));
    m = applyCall(m, call("ended", { status: "completed", endedAt: iso(T0) }));
    const snap = applySnapshot(m, [call("new")], T0 + 1000);
    expect([...snap.keys()].sort()).toEqual(["ended", "new"]);
    const later = applySnapshot(snap, [], T0 + RECENTLY_ENDED_MS + 1);
    expect([...later.keys()]).toEqual([]);
  });

  it("prune ended calls after a while, and only then", () => {
    const m = applyCall(applyCall(new Map(), call("live")), call("ended", { status: "failed", endedAt: iso(T0) }));
    expect(pruneEnded(m, T0 + 1000)).toBe(m);
    expect([...pruneEnded(m, T0 + RECENTLY_ENDED_MS + 1).keys()]).toEqual(["live"]);
  });

  it("sort newest first", () => {
    const m = applyCall(applyCall(new Map(), call("old", { createdAt: iso(T0) })), call("new", { createdAt: iso(T0 + 1) }));
    expect(sortedCalls(m).map((c) => c.id)).toEqual(["new", "old"]);
  });

  it("measure elapsed time from the answer, else from creation", () => {
    expect(elapsedSecs(call("a"), T0 + 12_500)).toBe(12);
    expect(elapsedSecs(call("a", { answeredAt: iso(T0 + 10_000) }), T0 + 75_000)).toBe(65);
    expect(elapsedSecs(call("a", { answeredAt: iso(T0 + 10_000), endedAt: iso(T0 + 40_000) }), T0 + 999_000)).toBe(30);
    expect(elapsedSecs(call("a", { createdAt: "nonsense" }), T0)).toBe(0);
  });
});

describe("transcripts", () => {
  it("replace a line by index and keep order", () => {
    let lines = mergeLine([], line(0, "Hello"));
    lines = mergeLine(lines, line(2, "Great"));
    lines = mergeLine(lines, line(1, "Hi"));
    lines = mergeLine(lines, line(0, "Hello there", { heard: "cut_off", heardMs: 800 }));
    expect(lines.map((l) => [l.index, l.text])).toEqual([
      [0, "Hello there"],
      [1, "Hi"],
      [2, "Great"],
    ]);
    expect(lines[0]!.heard).toBe("cut_off");
  });

  it("merge a snapshot with lines that arrived before it", () => {
    const merged = mergeTranscripts([line(3, "late line")], [line(1, "b"), line(0, "a")]);
    expect(merged.map((l) => l.index)).toEqual([0, 1, 3]);
    // The snapshot's version of a line wins over an older one.
    expect(mergeTranscripts([line(0, "old")], [line(0, "new")])[0]!.text).toBe("new");
  });

  it("rebuild the transcript from stored events", () => {
    const ev = (id: string, kind: string, data: unknown): CallEvent => ({ id, callId: "c", at: iso(T0), kind, source: "media-proxy", data });
    const lines = transcriptFromEvents([
      ev("1", "status", { CallStatus: "in-progress" }),
      ev("2", "transcript", { type: "transcript", line: line(0, "Hello") }),
      ev("3", "transcript", { type: "transcript", line: line(1, "Hi") }),
      ev("4", "transcript", { type: "transcript", line: line(0, "Hello!", { heard: "heard" }) }),
      ev("5", "transcript", { type: "transcript" }),
    ]);
    expect(lines.map((l) => l.text)).toEqual(["Hello!", "Hi"]);
  });
});
