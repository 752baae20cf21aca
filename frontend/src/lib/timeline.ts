/**
 * One-line summaries of a call's audit-log events for the call-detail timeline. The raw event
 * data is always available next to the summary; this only picks the fields people look for.
 */

import type { CallEvent } from "./types";
import { humanize } from "./format";

type Data = Record<string, unknown>;

function str(d: Data, key: string): string | undefined {
  const v = d[key];
  if (typeof v === "string" && v) return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return undefined;
}

function join(...parts: (string | undefined | false)[]): string {
  return parts.filter(Boolean).join(" · ");
}

/** A short human summary of an event's data, or "" when there is nothing to add. */
export function eventSummary(e: CallEvent): string {
  const d: Data = e.data && typeof e.data === "object" ? (e.data as Data) : {};
  switch (e.kind) {
    case "created":
      return join(str(d, "to") && `To ${str(d, "to")}`, str(d, "from") && `from ${str(d, "from")}`);
    case "dialled":
      return join(str(d, "callSid"), str(d, "status") && humanize(str(d, "status")!));
    case "dial_failed":
    case "media_error":
      return join(str(d, "code"), str(d, "message"));
    case "status":
      return join(
        str(d, "CallStatus") && humanize(str(d, "CallStatus")!),
        str(d, "CallDuration") && `${str(d, "CallDuration")} s`,
      );
    case "amd":
      return str(d, "AnsweredBy") ? humanize(str(d, "AnsweredBy")!) : "";
    case "recording":
      return join(
        str(d, "RecordingStatus") && humanize(str(d, "RecordingStatus")!),
        str(d, "RecordingSid"),
        str(d, "RecordingDuration") && `${str(d, "RecordingDuration")} s`,
      );
    case "agent_connected":
      return join(str(d, "conversationId"), str(d, "setupMs") && `set up in ${str(d, "setupMs")} ms`);
    case "stream_started":
      return str(d, "streamSid") ?? "";
    case "stream":
      return join(str(d, "StreamEvent") && humanize(str(d, "StreamEvent")!.replace(/^stream-/, "")), str(d, "StreamError"));
    case "transcript": {
      const line = (d.line ?? {}) as Data;
      const who = str(line, "role") === "agent" ? "Agent" : "Caller";
      return str(line, "text") ? `${who}: ${str(line, "text")}` : "";
    }
    case "turn_latency":
      return str(d, "latencyMs") ? `${str(d, "latencyMs")} ms` : "";
    case "conversation_ended":
      return join(
        str(d, "reason") && humanize(str(d, "reason")!),
        str(d, "detail"),
        d.hangupRequested === true && "hang-up requested",
      );
    case "hangup_requested": {
      const by = (d.by ?? {}) as Data;
      return join(str(by, "party") && `by ${str(by, "party")}`, str(by, "reason") && humanize(str(by, "reason")!));
    }
    case "stream_stats":
      return join(
        str(d, "framesIn") && `${str(d, "framesIn")} frames in`,
        str(d, "framesOut") && `${str(d, "framesOut")} out`,
        str(d, "eventsLost") && str(d, "eventsLost") !== "0" && `${str(d, "eventsLost")} events lost`,
      );
    case "reconciled":
      return str(d, "twilioStatus") ? `Twilio says ${humanize(str(d, "twilioStatus")!)}` : "";
    default:
      return "";
  }
}

/** Events whose kind marks a problem, so the timeline can flag them. */
export function isProblem(e: CallEvent): boolean {
  return (
    e.kind === "dial_failed" ||
    e.kind === "media_error" ||
    e.kind === "fallback_twiml" ||
    (e.kind === "stream" && (e.data as Record<string, unknown> | null)?.StreamEvent === "stream-error")
  );
}
