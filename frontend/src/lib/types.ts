/**
 * Wire types of main-app's REST API and Socket.IO events, written once for the whole dashboard.
 *
 * They mirror `crates/main-app/src/calls/model.rs` and `crates/common/src/{call,events}.rs`
 * (all JSON is camelCase). When the server's shape changes, change it here and let the type
 * checker find every page that must follow.
 */

export const CALL_STATUSES = [
  "queued",
  "initiated",
  "ringing",
  "in-progress",
  "completed",
  "busy",
  "failed",
  "no-answer",
  "canceled",
] as const;
export type CallStatus = (typeof CALL_STATUSES)[number];

/** Statuses after which a call never changes status again. */
export const TERMINAL_STATUSES: readonly CallStatus[] = ["completed", "busy", "failed", "no-answer", "canceled"];

export const OUTCOMES = [
  "conversation_held",
  "no_conversation",
  "voicemail",
  "no_answer",
  "busy",
  "failed",
  "canceled",
] as const;
export type Outcome = (typeof OUTCOMES)[number];

export type AnsweredBy =
  | "human"
  | "machine_start"
  | "machine_end_beep"
  | "machine_end_silence"
  | "machine_end_other"
  | "fax"
  | "unknown";

export type Party = "caller" | "agent" | "operator" | "system";

export interface TerminatedBy {
  party: Party;
  reason: string;
  source: string;
}

export interface CallError {
  code: string;
  message: string;
}

/** `GET /api/calls/{id}`, items of `GET /api/calls`, `POST /api/calls`. */
export interface Call {
  id: string;
  callSid: string | null;
  to: string;
  from: string;
  direction: string;
  status: CallStatus;
  createdAt: string;
  updatedAt: string;
  answeredAt: string | null;
  endedAt: string | null;
  twilioDurationSecs: number | null;
  answeredBy: AnsweredBy | null;
  outcome: Outcome | null;
  terminatedBy: TerminatedBy | null;
  conversationId: string | null;
  streamSid: string | null;
  name: string | null;
  prompt: string | null;
  firstMessage: string | null;
  language: string | null;
  dynamicVariables: Record<string, unknown>;
  contactId: string | null;
  campaignId: string | null;
  idempotencyKey: string | null;
  error: CallError | null;
}

/** One entry of a call's audit log (`GET /api/calls/{id}/events`), oldest first. */
export interface CallEvent {
  id: string;
  callId: string;
  at: string;
  kind: string;
  source: string;
  data: unknown;
}

/** A page of a list endpoint. */
export interface Paged<T> {
  items: T[];
  total: number;
  offset: number;
  limit: number;
}

/** A call as live views show it (`GET /api/calls/active`, Socket.IO `calls:snapshot`, `call:*`). */
export interface LiveCall {
  id: string;
  callSid: string | null;
  to: string;
  from: string;
  name: string | null;
  status: CallStatus;
  answeredBy: AnsweredBy | null;
  outcome: Outcome | null;
  terminatedBy: TerminatedBy | null;
  createdAt: string;
  answeredAt: string | null;
  endedAt: string | null;
  campaignId: string | null;
  contactId: string | null;
  conversationId: string | null;
}

export type HeardState = "pending" | "heard" | "cut_off" | "not_heard";
export type Role = "agent" | "user";

/** One whole line of a live transcript; a later line with the same `index` replaces it. */
export interface TranscriptLine {
  index: number;
  role: Role;
  text: string;
  timeInCallMs: number;
  heard?: HeardState;
  heardMs?: number;
  audioMs?: number;
}

/** Socket.IO `call:snapshot`. */
export interface CallSnapshot {
  call: LiveCall;
  transcript: TranscriptLine[];
}

/** Socket.IO `call:transcript`. */
export interface TranscriptEvent {
  callId: string;
  line: TranscriptLine;
}

/** Socket.IO `subscribe` / `unsubscribe` payload. */
export type Topic = "calls" | "call" | "campaigns" | "campaign";
export interface Subscription {
  topic: Topic;
  id?: string;
}
export interface SubscribeAck {
  ok: boolean;
  error?: string;
}

/** `POST /api/auth/login`, `GET /api/auth/me`. */
export interface Me {
  username: string;
  method: string;
}

/** `GET /api/config`: what the make-call form offers. */
export interface AppConfig {
  callerIds: string[];
  defaultCallerId: string;
  defaultRegion: string | null;
}

/** `POST /api/calls` body. */
export interface NewCall {
  to: string;
  name?: string;
  prompt?: string;
  firstMessage?: string;
  language?: string;
  callerId?: string;
  contactId?: string;
  campaignId?: string;
  dynamicVariables?: Record<string, unknown>;
}

/** One period of `GET /api/stats/overview`. */
export interface StatsPeriod {
  from: string;
  to: string;
  total: number;
  answered: number;
  answerRate: number | null;
  conversations: number;
  voicemail: number;
  noAnswer: number;
  failed: number;
  averageDurationSecs: number | null;
  byStatus: Partial<Record<CallStatus, number>>;
  byOutcome: Partial<Record<Outcome, number>>;
}

export interface OverviewStats {
  generatedAt: string;
  liveNow: number;
  periods: { today: StatsPeriod; last7Days: StatsPeriod };
}

/** `GET /api/calls/{id}/transcript`. */
export interface PostCallTurn {
  role: Role;
  message: string;
  timeInCallSecs: number;
  interrupted?: boolean;
}

export interface CallAnalysis {
  callSuccessful: string;
  transcriptSummary: string;
  callSummaryTitle?: string;
  evaluationCriteria: Record<string, { result: string; rationale: string }>;
  dataCollection: Record<string, { value: unknown; rationale: string }>;
}

export interface PostCall {
  conversationId: string;
  turns: PostCallTurn[];
  analysis: CallAnalysis | null;
  metadata: { callDurationSecs: number; cost?: number; terminationReason?: string };
  /** Where it came from (the agent platform's webhook, or a recovery fetch). */
  source: string;
  receivedAt: string;
}

/** Where fetching a missing post-call record from the agent platform stands. */
export interface TranscriptRecovery {
  /** Failed fetches so far. */
  attempts: number;
  lastError: string | null;
  /** When automatic (bulk) recovery stopped trying; fetching this one call still tries. */
  givenUpAt: string | null;
}

export interface CallTranscript {
  live: TranscriptLine[];
  postCall: PostCall | null;
  /** Present once a fetch of the missing record failed. */
  recovery?: TranscriptRecovery;
}

export type RecordingStatus = "in-progress" | "completed" | "absent" | "deleted";

/** Items of `GET /api/recordings` and `GET /api/calls/{id}/recordings`. */
export interface Recording {
  sid: string;
  callId: string;
  callSid: string | null;
  status: RecordingStatus;
  durationSecs: number | null;
  channels: number | null;
  createdAt: string;
  updatedAt: string;
  to?: string;
  name?: string;
  errorCode?: string;
}

/** Socket.IO `subscribe` acknowledgement codes (`SubscribeAck.error`). */
export type SubscribeError = "UNKNOWN_TOPIC" | "ID_REQUIRED" | "CALL_NOT_FOUND" | "INVALID_PAYLOAD" | "UNAVAILABLE";

export type CrmDeliveryStatus = "pending" | "delivered" | "dead";

/** One attempt in a CRM delivery's log. */
export interface CrmAttempt {
  at: string;
  statusCode?: number;
  error?: string;
  durationMs: number;
}

/** Items of `GET /api/crm/deliveries`: one call summary in the CRM outbox. */
export interface CrmDelivery {
  id: string;
  callId: string;
  /** `final`: the report sent when the call ended; `update`: the same with post-call data that came later. */
  kind: "final" | "update";
  idempotencyKey: string;
  payload: unknown;
  postCallConversation: string | null;
  status: CrmDeliveryStatus;
  attempts: number;
  nextAttemptAt: string;
  createdAt: string;
  updatedAt: string;
  deliveredAt: string | null;
  lastError: string | null;
  log: CrmAttempt[];
}
