/**
 * Pure state transitions for live data: the list of live calls and one call's transcript.
 *
 * Socket.IO may deliver an update twice (a call is in both the `calls` room and its own room) or
 * late (a `call:updated` after `call:ended`), and a reconnect brings a fresh snapshot. Every
 * function here is idempotent and never moves a call's status backwards, so those cases are
 * harmless. The React hooks in `socket.tsx` only wire these to events.
 */

import { CALL_STATUSES, type CallEvent, type CallStatus, type LiveCall, TERMINAL_STATUSES, type TranscriptLine } from "./types";

/** How long an ended call stays in the live list so operators see it end. */
export const RECENTLY_ENDED_MS = 60_000;

/** Whether a status is final. */
export function isTerminal(status: CallStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

function rank(status: CallStatus): number {
  return isTerminal(status) ? CALL_STATUSES.length : CALL_STATUSES.indexOf(status);
}

/** Merges a newer view of a call into an older one without moving its status backwards. */
export function mergeLiveCall(prev: LiveCall | undefined, next: LiveCall): LiveCall {
  if (!prev) return next;
  if (rank(next.status) >= rank(prev.status)) {
    return { ...next, answeredAt: next.answeredAt ?? prev.answeredAt, answeredBy: next.answeredBy ?? prev.answeredBy };
  }
  // A stale update: keep the later status and its timestamps, take anything new it carries.
  return {
    ...next,
    status: prev.status,
    endedAt: prev.endedAt ?? next.endedAt,
    outcome: prev.outcome ?? next.outcome,
    terminatedBy: prev.terminatedBy ?? next.terminatedBy,
    answeredAt: prev.answeredAt ?? next.answeredAt,
    answeredBy: prev.answeredBy ?? next.answeredBy,
  };
}

/** Live calls by id. */
export type LiveCalls = ReadonlyMap<string, LiveCall>;

/** Applies `call:created`, `call:updated` or `call:ended`. */
export function applyCall(calls: LiveCalls, call: LiveCall): LiveCalls {
  const next = new Map(calls);
  next.set(call.id, mergeLiveCall(calls.get(call.id), call));
  return next;
}

/**
 * Applies a snapshot (`calls:snapshot`, or `GET /api/calls/active`): it is the truth about calls
 * that are live; calls we saw end recently stay so the operator still sees how they ended.
 */
export function applySnapshot(calls: LiveCalls, snapshot: LiveCall[], now: number): LiveCalls {
  const next = new Map<string, LiveCall>();
  for (const c of snapshot) next.set(c.id, mergeLiveCall(calls.get(c.id), c));
  for (const [id, c] of calls) {
    if (!next.has(id) && isTerminal(c.status) && recentlyEnded(c, now)) next.set(id, c);
  }
  return next;
}

function recentlyEnded(c: LiveCall, now: number): boolean {
  const ended = c.endedAt ? Date.parse(c.endedAt) : NaN;
  return Number.isNaN(ended) || now - ended < RECENTLY_ENDED_MS;
}

/** Drops calls that ended more than {@link RECENTLY_ENDED_MS} ago; returns the same map if none. */
export function pruneEnded(calls: LiveCalls, now: number): LiveCalls {
  let changed = false;
  const next = new Map<string, LiveCall>();
  for (const [id, c] of calls) {
    if (isTerminal(c.status) && !recentlyEnded(c, now)) changed = true;
    else next.set(id, c);
  }
  return changed ? next : calls;
}

/** Live calls newest first. */
export function sortedCalls(calls: LiveCalls): LiveCall[] {
  return [...calls.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

/** Inserts a transcript line, or replaces the line with the same index; keeps index order. */
export function mergeLine(lines: readonly TranscriptLine[], line: TranscriptLine): TranscriptLine[] {
  const at = lines.findIndex((l) => l.index === line.index);
  if (at >= 0) {
    const copy = lines.slice();
    copy[at] = line;
    return copy;
  }
  const copy = [...lines, line];
  if (lines.length && lines[lines.length - 1]!.index > line.index) copy.sort((a, b) => a.index - b.index);
  return copy;
}

/** Replaces a transcript with a snapshot, keeping lines the snapshot has not caught up with. */
export function mergeTranscripts(current: readonly TranscriptLine[], snapshot: readonly TranscriptLine[]): TranscriptLine[] {
  let lines = [...snapshot].sort((a, b) => a.index - b.index);
  for (const l of current) if (!lines.some((s) => s.index === l.index)) lines = mergeLine(lines, l);
  return lines;
}

/** The live transcript rebuilt from a call's stored `transcript` events (`{type, line}`). */
export function transcriptFromEvents(events: readonly CallEvent[]): TranscriptLine[] {
  let lines: TranscriptLine[] = [];
  for (const e of events) {
    if (e.kind !== "transcript") continue;
    const line = (e.data as { line?: TranscriptLine } | null)?.line;
    if (line && typeof line.index === "number" && typeof line.text === "string") lines = mergeLine(lines, line);
  }
  return lines;
}

/**
 * Seconds a call has lasted: from the answer (or creation, while it rings) to its end (or now).
 */
export function elapsedSecs(call: Pick<LiveCall, "createdAt" | "answeredAt" | "endedAt">, now: number): number {
  const start = Date.parse(call.answeredAt ?? call.createdAt);
  const end = call.endedAt ? Date.parse(call.endedAt) : now;
  if (Number.isNaN(start) || Number.isNaN(end)) return 0;
  return Math.max(0, Math.floor((end - start) / 1000));
}
