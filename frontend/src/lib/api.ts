/**
 * The one typed client for main-app's REST API (same origin as the dashboard).
 *
 * Every request goes through {@link request}: it sends the session cookie, bounds the wait with a
 * timeout, and turns every failure into an {@link ApiError} (the server's
 * `{"error":{"code","message","field"}}`, or a network/timeout/format error). Nothing here ever
 * returns made-up data: a failure is thrown, and pages show it.
 */

import type {
  AppConfig,
  Call,
  CallEvent,
  CallTranscript,
  CrmDelivery,
  CrmDeliveryStatus,
  LiveCall,
  Me,
  NewCall,
  OverviewStats,
  Paged,
  Recording,
} from "./types";
import { type CallFilters, filtersToQuery } from "./filters";

/** How long any request may take before it is abandoned. */
export const REQUEST_TIMEOUT_MS = 15_000;

/** A failed API request, whatever the cause. */
export class ApiError extends Error {
  /** HTTP status; 0 when no response arrived (network error or timeout). */
  readonly status: number;
  /** The server's SCREAMING_SNAKE code, or a client-side one (`NETWORK_ERROR`, `TIMEOUT`, `BAD_RESPONSE`). */
  readonly code: string;
  /** For validation errors (422), the request field at fault (`to`, `callerId`, ...). */
  readonly field?: string;

  constructor(status: number, code: string, message: string, field?: string) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.field = field;
  }

  /** The session is missing or expired: the user must log in. */
  get unauthorized(): boolean {
    return this.status === 401;
  }

  /**
   * The server has no such route (main-app answers unknown `/api` paths with 404 `NOT_FOUND`):
   * the feature is not available on this server yet. Distinct from a missing resource
   * (`CALL_NOT_FOUND`, ...).
   */
  get endpointMissing(): boolean {
    return this.status === 404 && this.code === "NOT_FOUND";
  }
}

/** Builds an {@link ApiError} from a non-2xx response. */
export async function errorFromResponse(res: Response): Promise<ApiError> {
  let text = "";
  try {
    text = await res.text();
  } catch {
    // The body could not be read; the status alone still describes the failure.
  }
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown; field?: unknown } };
    const e = body.error;
    if (e && typeof e.code === "string") {
      const message = typeof e.message === "string" && e.message ? e.message : defaultMessage(res.status);
      return new ApiError(res.status, e.code, message, typeof e.field === "string" ? e.field : undefined);
    }
  } catch {
    // Not JSON (a proxy's HTML error page, say): fall through to a status-based error.
  }
  return new ApiError(res.status, `HTTP_${res.status}`, defaultMessage(res.status));
}

function defaultMessage(status: number): string {
  if (status === 401) return "You are not logged in.";
  if (status === 403) return "You are not allowed to do that.";
  if (status === 404) return "Not found.";
  if (status === 429) return "Too many requests; try again shortly.";
  if (status >= 500) return `The server failed (HTTP ${status}).`;
  return `The request failed (HTTP ${status}).`;
}

type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

/** Options of one request. */
export interface RequestOptions {
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** What the success body is: parsed JSON (default), nothing, or raw. */
  expect?: "json" | "none" | "blob";
  /** A body sent as is (a file upload) with its content type, instead of `body` as JSON. */
  raw?: { body: BodyInit; contentType: string };
  /** Overrides {@link REQUEST_TIMEOUT_MS} (large uploads). */
  timeoutMs?: number;
}

let fetchImpl: FetchLike = (input, init) => fetch(input, init);
let onUnauthorized: (() => void) | null = null;

/** Replaces `fetch` (unit tests) — returns the previous implementation. */
export function setFetch(f: FetchLike): FetchLike {
  const prev = fetchImpl;
  fetchImpl = f;
  return prev;
}

/** Called whenever a request comes back 401 (the auth provider sends the user to the login page). */
export function setUnauthorizedHandler(f: (() => void) | null): void {
  onUnauthorized = f;
}

/** Performs one request against the same origin and returns its parsed body. */
export async function request<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const timeout = AbortSignal.timeout(opts.timeoutMs ?? REQUEST_TIMEOUT_MS);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  const headers: Record<string, string> = { Accept: "application/json", ...opts.headers };
  let body: BodyInit | undefined;
  if (opts.raw) {
    headers["Content-Type"] = opts.raw.contentType;
    body = opts.raw.body;
  } else if (opts.body !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(opts.body);
  }
  let res: Response;
  try {
    res = await fetchImpl(path, { method: opts.method ?? "GET", headers, body, signal, credentials: "same-origin" });
  } catch (e) {
    if (opts.signal?.aborted) throw e; // the caller cancelled: not an error to show
    if (timeout.aborted) throw new ApiError(0, "TIMEOUT", "The server did not answer in time.");
    throw new ApiError(0, "NETWORK_ERROR", "Could not reach the server.");
  }
  if (!res.ok) {
    const err = await errorFromResponse(res);
    if (err.unauthorized && onUnauthorized) onUnauthorized();
    throw err;
  }
  if (opts.expect === "none" || res.status === 204) return undefined as T;
  if (opts.expect === "blob") return (await res.blob()) as T;
  try {
    return (await res.json()) as T;
  } catch {
    throw new ApiError(res.status, "BAD_RESPONSE", "The server sent a response the dashboard cannot read.");
  }
}

/** A fresh idempotency key for one form submission. */
export function newIdempotencyKey(): string {
  return crypto.randomUUID();
}

const enc = encodeURIComponent;

/** Every endpoint the dashboard uses, in one place. */
export const api = {
  login: (username: string, password: string) =>
    request<Me>("/api/auth/login", { method: "POST", body: { username, password } }),
  logout: () => request<void>("/api/auth/logout", { method: "POST", expect: "none" }),
  me: (signal?: AbortSignal) => request<Me>("/api/auth/me", { signal }),

  config: (signal?: AbortSignal) => request<AppConfig>("/api/config", { signal }),
  overview: (tz: string, signal?: AbortSignal) =>
    request<OverviewStats>(`/api/stats/overview?tz=${enc(tz)}`, { signal }),

  listCalls: (filters: CallFilters, offset: number, limit: number, signal?: AbortSignal) =>
    request<Paged<Call>>(`/api/calls?${filtersToQuery(filters, { offset, limit })}`, { signal }),
  /** The CSV export URL for the same filters as the list. */
  exportCallsUrl: (filters: CallFilters) => `/api/calls/export.csv?${filtersToQuery(filters)}`,
  exportCalls: (filters: CallFilters) => request<Blob>(api.exportCallsUrl(filters), { expect: "blob" }),
  activeCalls: (signal?: AbortSignal) => request<LiveCall[]>("/api/calls/active", { signal }),
  getCall: (id: string, signal?: AbortSignal) => request<Call>(`/api/calls/${enc(id)}`, { signal }),
  callEvents: (id: string, signal?: AbortSignal) => request<CallEvent[]>(`/api/calls/${enc(id)}/events`, { signal }),
  callTranscript: (id: string, signal?: AbortSignal) =>
    request<CallTranscript>(`/api/calls/${enc(id)}/transcript`, { signal }),
  /** Fetches the call's conversation from the agent platform again and stores it. */
  recoverTranscript: (id: string) =>
    request<CallTranscript>(`/api/calls/${enc(id)}/transcript/recover`, { method: "POST" }),
  callRecordings: (id: string, signal?: AbortSignal) =>
    request<Paged<Recording>>(`/api/calls/${enc(id)}/recordings`, { signal }),
  createCall: (call: NewCall, idempotencyKey: string) =>
    request<Call>("/api/calls", { method: "POST", body: call, headers: { "Idempotency-Key": idempotencyKey } }),
  hangup: (id: string) => request<void>(`/api/calls/${enc(id)}/hangup`, { method: "POST", expect: "none" }),

  listRecordings: (offset: number, limit: number, signal?: AbortSignal) =>
    request<Paged<Recording>>(`/api/recordings?offset=${offset}&limit=${limit}`, { signal }),
  /** Streams with HTTP Range, so an `<audio>` element can seek. */
  recordingAudioUrl: (sid: string) => `/api/recordings/${enc(sid)}/audio`,
  recordingDownloadUrl: (sid: string) => `/api/recordings/${enc(sid)}/audio?download=1`,

  listCrmDeliveries: (status: CrmDeliveryStatus | null, offset: number, limit: number, signal?: AbortSignal) =>
    request<Paged<CrmDelivery>>(
      `/api/crm/deliveries?offset=${offset}&limit=${limit}${status ? `&status=${status}` : ""}`,
      { signal },
    ),
  replayCrmDelivery: (id: string) => request<CrmDelivery>(`/api/crm/deliveries/${enc(id)}/replay`, { method: "POST" }),
};
