/**
 * Call-log filters: their URL form (so a filtered log can be bookmarked and shared) and the
 * query string main-app's `GET /api/calls` and `GET /api/calls/export.csv` take.
 *
 * Dates are picked as local calendar days; the API receives the exact instants of that local
 * day's start and of the next day's start, so "today" means the operator's today, not UTC's.
 */

import { CALL_STATUSES, type CallStatus, OUTCOMES, type Outcome } from "./types";

export interface CallFilters {
  status: CallStatus[];
  outcome: Outcome[];
  /** Part of the number called. */
  phone: string;
  campaignId: string;
  /** First local day included, `YYYY-MM-DD`, or empty. */
  from: string;
  /** Last local day included, `YYYY-MM-DD`, or empty. */
  to: string;
}

export const EMPTY_FILTERS: CallFilters = { status: [], outcome: [], phone: "", campaignId: "", from: "", to: "" };

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** The instant a local calendar day starts, or null for a malformed day. */
export function localDayStart(day: string, addDays = 0): Date | null {
  const m = DAY.exec(day);
  if (!m) return null;
  const [y, mo, da] = [Number(m[1]), Number(m[2]) - 1, Number(m[3])];
  // Reject days that do not exist (2026-02-30) instead of letting Date roll them over.
  const check = new Date(y, mo, da);
  if (check.getFullYear() !== y || check.getMonth() !== mo || check.getDate() !== da) return null;
  return new Date(y, mo, da + addDays, 0, 0, 0, 0);
}

/** The local calendar day of an instant, `YYYY-MM-DD`. */
export function localDay(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

function pick<T extends string>(raw: string | null, allowed: readonly T[]): T[] {
  if (!raw) return [];
  return raw
    .split(",")
    .map((s) => s.trim())
    .filter((s): s is T => (allowed as readonly string[]).includes(s));
}

/** Reads filters from the page URL, ignoring values the API would refuse. */
export function filtersFromSearch(params: URLSearchParams): CallFilters {
  const day = (k: string) => {
    const v = params.get(k) ?? "";
    return localDayStart(v) ? v : "";
  };
  return {
    status: pick(params.get("status"), CALL_STATUSES),
    outcome: pick(params.get("outcome"), OUTCOMES),
    phone: params.get("phone") ?? "",
    campaignId: params.get("campaignId") ?? "",
    from: day("from"),
    to: day("to"),
  };
}

/** The page URL's query for filters and a page offset (empty values left out). */
export function filtersToSearch(f: CallFilters, offset = 0): string {
  const q = new URLSearchParams();
  if (f.status.length) q.set("status", f.status.join(","));
  if (f.outcome.length) q.set("outcome", f.outcome.join(","));
  if (f.phone.trim()) q.set("phone", f.phone.trim());
  if (f.campaignId.trim()) q.set("campaignId", f.campaignId.trim());
  if (f.from) q.set("from", f.from);
  if (f.to) q.set("to", f.to);
  if (offset > 0) q.set("offset", String(offset));
  return q.toString();
}

/** The API query for filters (and optionally a page). */
export function filtersToQuery(f: CallFilters, page?: { offset: number; limit: number }): string {
  const q = new URLSearchParams();
  if (f.status.length) q.set("status", f.status.join(","));
  if (f.outcome.length) q.set("outcome", f.outcome.join(","));
  if (f.phone.trim()) q.set("phone", f.phone.trim());
  if (f.campaignId.trim()) q.set("campaignId", f.campaignId.trim());
  const from = f.from ? localDayStart(f.from) : null;
  const to = f.to ? localDayStart(f.to, 1) : null;
  if (from) q.set("from", from.toISOString());
  if (to) q.set("to", to.toISOString());
  if (page) {
    q.set("offset", String(page.offset));
    q.set("limit", String(page.limit));
  }
  return q.toString();
}

/** Whether any filter is set. */
export function hasFilters(f: CallFilters): boolean {
  return filtersToSearch(f) !== "";
}
