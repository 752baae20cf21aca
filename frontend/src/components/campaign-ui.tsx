/**
 * Pieces of the campaign and contact pages: state badges, the progress bar with its counts,
 * and a pager.
 */

import type { ReactNode } from "react";
import type { CampaignStatus, MemberState, Progress } from "@/lib/campaign-types";
import { formatCount, formatDateTime, type Tone } from "@/lib/format";
import { Badge, buttonClass } from "./ui";

const STATUS_TONE: Record<CampaignStatus, Tone> = {
  draft: "neutral",
  scheduled: "info",
  running: "progress",
  paused: "warning",
  completed: "success",
  canceled: "danger",
};

export function CampaignStatusBadge({ status }: { status: CampaignStatus }) {
  return (
    <Badge tone={STATUS_TONE[status]} pulse={status === "running"}>
      {status.charAt(0).toUpperCase() + status.slice(1)}
    </Badge>
  );
}

const MEMBER_TONE: Record<MemberState, Tone> = {
  pending: "neutral",
  claimed: "info",
  dialing: "progress",
  live: "progress",
  done: "success",
  skipped: "warning",
};

export function MemberStateBadge({ state }: { state: MemberState }) {
  return (
    <Badge tone={MEMBER_TONE[state]} pulse={state === "live" || state === "dialing"}>
      {state === "live" ? "On a call" : state.charAt(0).toUpperCase() + state.slice(1)}
    </Badge>
  );
}

/** A bar: finished share, then in flight. */
export function ProgressBar({ p }: { p: Progress }) {
  const total = Math.max(p.total, 1);
  const done = ((p.done + p.skipped) / total) * 100;
  const flying = (p.inFlight / total) * 100;
  return (
    <div
      className="flex h-2.5 w-full overflow-hidden rounded-full bg-zinc-200 dark:bg-zinc-800"
      role="progressbar"
      aria-valuenow={Math.round(p.percentComplete)}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-label="Progress"
    >
      <div className="bg-emerald-500" style={{ width: `${done}%` }} />
      <div className="bg-indigo-400" style={{ width: `${flying}%` }} />
    </div>
  );
}

function Count({ label, value, testId }: { label: string; value: number; testId?: string }) {
  return (
    <div>
      <dt className="text-xs text-zinc-500 dark:text-zinc-400">{label}</dt>
      <dd className="text-lg font-semibold tabular-nums text-zinc-900 dark:text-zinc-100" data-testid={testId}>
        {formatCount(value)}
      </dd>
    </div>
  );
}

/** The counts under a progress bar. */
export function ProgressCounts({ p }: { p: Progress }) {
  return (
    <>
      <dl className="mt-3 grid grid-cols-3 gap-3 sm:grid-cols-6">
        <Count label="Contacts" value={p.total} testId="count-total" />
        <Count label="Dialled" value={p.dialled} testId="count-dialled" />
        <Count label="Answered" value={p.answered} />
        <Count label="Conversations" value={p.conversations} />
        <Count label="Voicemail" value={p.voicemail} />
        <Count label="No answer" value={p.noAnswer} />
        <Count label="Busy" value={p.busy} />
        <Count label="Failed" value={p.failed} />
        <Count label="In progress" value={p.inFlight} />
        <Count label="Remaining" value={p.remaining} testId="count-remaining" />
        <Count label="Done" value={p.done} testId="count-done" />
        <Count label="Skipped" value={p.skipped} />
      </dl>
      {p.nextWindowAt && p.remaining > 0 && (
        <p className="mt-2 text-xs text-zinc-500 dark:text-zinc-400">Next contact due {formatDateTime(p.nextWindowAt)}.</p>
      )}
    </>
  );
}

/** Previous/next for an offset-paged list. */
export function Pager({ offset, limit, total, onPage }: { offset: number; limit: number; total: number; onPage: (o: number) => void }) {
  if (total <= limit) return null;
  return (
    <div className="mt-3 flex items-center justify-between text-sm text-zinc-600 dark:text-zinc-400">
      <span>
        {formatCount(offset + 1)}–{formatCount(Math.min(offset + limit, total))} of {formatCount(total)}
      </span>
      <span className="flex gap-2">
        <button type="button" className={buttonClass.secondary} disabled={offset === 0} onClick={() => onPage(Math.max(0, offset - limit))}>
          Previous
        </button>
        <button type="button" className={buttonClass.secondary} disabled={offset + limit >= total} onClick={() => onPage(offset + limit)}>
          Next
        </button>
      </span>
    </div>
  );
}

/** A labelled form field. */
export function Field({ label, hint, children }: { label: string; hint?: ReactNode; children: ReactNode }) {
  return (
    <label className="block text-sm">
      <span className="mb-1 block font-medium text-zinc-800 dark:text-zinc-200">{label}</span>
      {children}
      {hint && <span className="mt-1 block text-xs text-zinc-500 dark:text-zinc-400">{hint}</span>}
    </label>
  );
}
