/**
 * How values are shown: durations, times, and the labels and colours of the call vocabulary.
 * Pure functions, so pages agree and tests can pin them.
 */

import type { AnsweredBy, CallStatus, HeardState, Outcome, Party } from "./types";

/** `m:ss`, or `h:mm:ss` from an hour; `—` when unknown. */
export function formatDuration(secs: number | null | undefined): string {
  if (secs === null || secs === undefined || !Number.isFinite(secs) || secs < 0) return "—";
  const s = Math.floor(secs);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${r}` : `${m}:${r}`;
}

/** Milliseconds into a call as `m:ss`. */
export function formatOffset(ms: number): string {
  return formatDuration(ms / 1000);
}

/** A ratio 0..1 as a whole percentage; `—` when there is nothing to divide. */
export function formatPercent(ratio: number | null | undefined): string {
  if (ratio === null || ratio === undefined || !Number.isFinite(ratio)) return "—";
  return `${Math.round(ratio * 100)}%`;
}

/** A count with thousands separators. */
export function formatCount(n: number): string {
  return new Intl.NumberFormat().format(n);
}

/** A local date and time, e.g. `24 Nov 2026, 14:05:09`. */
export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "—";
  return d.toLocaleString(undefined, {
    day: "numeric",
    month: "short",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
}

/** A local time of day, e.g. `14:05:09`. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "—";
  return d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

/** Colour families used by badges. */
export type Tone = "neutral" | "info" | "progress" | "success" | "warning" | "danger";

const STATUS: Record<CallStatus, [string, Tone]> = {
  queued: ["Queued", "neutral"],
  initiated: ["Dialling", "info"],
  ringing: ["Ringing", "info"],
  "in-progress": ["In progress", "progress"],
  completed: ["Completed", "success"],
  busy: ["Busy", "warning"],
  failed: ["Failed", "danger"],
  "no-answer": ["No answer", "warning"],
  canceled: ["Canceled", "neutral"],
};

export function statusLabel(s: CallStatus): string {
  return STATUS[s]?.[0] ?? s;
}
export function statusTone(s: CallStatus): Tone {
  return STATUS[s]?.[1] ?? "neutral";
}

const OUTCOME: Record<Outcome, [string, Tone]> = {
  conversation_held: ["Conversation held", "success"],
  no_conversation: ["No conversation", "neutral"],
  voicemail: ["Voicemail", "warning"],
  no_answer: ["No answer", "warning"],
  busy: ["Busy", "warning"],
  failed: ["Failed", "danger"],
  canceled: ["Canceled", "neutral"],
};

export function outcomeLabel(o: Outcome): string {
  return OUTCOME[o]?.[0] ?? o;
}
export function outcomeTone(o: Outcome): Tone {
  return OUTCOME[o]?.[1] ?? "neutral";
}

const ANSWERED_BY: Record<AnsweredBy, string> = {
  human: "Human",
  machine_start: "Machine",
  machine_end_beep: "Machine (beep)",
  machine_end_silence: "Machine (silence)",
  machine_end_other: "Machine",
  fax: "Fax",
  unknown: "Unknown",
};

export function answeredByLabel(a: AnsweredBy | null | undefined): string {
  if (!a) return "—";
  return ANSWERED_BY[a] ?? a;
}

const PARTY: Record<Party, string> = { caller: "Caller", agent: "Agent", operator: "Operator", system: "System" };

export function partyLabel(p: Party): string {
  return PARTY[p] ?? p;
}

/** `snake_case` or `kebab-case` machine words as a sentence: `agent_ended` → `Agent ended`. */
export function humanize(word: string): string {
  const s = word.replace(/[_-]+/g, " ").trim();
  return s ? s[0]!.toUpperCase() + s.slice(1) : s;
}

/** What the caller heard of an agent line, for people; null when there is nothing to say. */
export function heardNote(heard: HeardState | undefined, heardMs?: number, audioMs?: number): string | null {
  switch (heard) {
    case "cut_off": {
      const part = heardMs !== undefined ? ` after ${(heardMs / 1000).toFixed(1)} s` : "";
      const of = audioMs ? ` of ${(audioMs / 1000).toFixed(1)} s` : "";
      return `Cut off${part}${of}: the caller heard only the start`;
    }
    case "not_heard":
      return "Not heard: cleared before it played";
    case "pending":
      return "Playing";
    default:
      return null;
  }
}

const EVENT_LABELS: Record<string, string> = {
  created: "Call created",
  dialled: "Dialled",
  dial_failed: "Dial failed",
  status: "Status",
  twiml_fetch: "Twilio fetched instructions",
  fallback_twiml: "Fallback instructions",
  amd: "Answering-machine detection",
  recording: "Recording",
  stream_started: "Audio stream started",
  stream: "Twilio media stream",
  agent_connected: "Agent connected",
  transcript: "Transcript line",
  turn_latency: "Reply latency",
  conversation_ended: "Conversation ended",
  hangup_requested: "Hang-up requested",
  media_error: "Media error",
  stream_stats: "Stream statistics",
  reconciled: "Reconciled with Twilio",
};

/** A call event's kind for people. */
export function eventLabel(kind: string): string {
  return EVENT_LABELS[kind] ?? humanize(kind);
}
