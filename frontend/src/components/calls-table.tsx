/** A table of stored calls (call log, overview's recent calls); each row opens the call. */

import Link from "next/link";
import { answeredByLabel, formatDateTime, formatDuration, partyLabel } from "@/lib/format";
import type { Call } from "@/lib/types";
import { OutcomeBadge, StatusBadge } from "./ui";

/** Seconds a stored call lasted: Twilio's figure, else answer → end. */
export function callDurationSecs(c: Pick<Call, "twilioDurationSecs" | "answeredAt" | "endedAt">): number | null {
  if (c.twilioDurationSecs !== null) return c.twilioDurationSecs;
  if (c.answeredAt && c.endedAt) return Math.max(0, (Date.parse(c.endedAt) - Date.parse(c.answeredAt)) / 1000);
  return null;
}

export function detailHref(id: string): string {
  return `/calls/detail/?id=${encodeURIComponent(id)}`;
}

const TH = "px-3 py-2 text-left text-xs font-medium uppercase tracking-wide text-zinc-500 dark:text-zinc-400";
const TD = "px-3 py-2.5 align-middle";

/** `compact` drops the answered-by and ended-by columns (for narrow cards). */
export function CallsTable({ calls, caption, compact }: { calls: Call[]; caption: string; compact?: boolean }) {
  const wide = compact ? "hidden" : "hidden lg:table-cell";
  // Narrow cards show the start time under the contact instead of in its own column.
  const started = compact ? "hidden" : "hidden md:table-cell";
  const startedInline = compact ? "" : "md:hidden";
  return (
    <div className="-mx-4 overflow-x-auto" data-table-scroll>
      <table className="min-w-full divide-y divide-zinc-200 text-sm dark:divide-zinc-800">
        <caption className="sr-only">{caption}</caption>
        <thead>
          <tr>
            <th scope="col" className={TH}>
              Contact
            </th>
            <th scope="col" className={TH}>
              Status
            </th>
            <th scope="col" className={`${TH} hidden sm:table-cell`}>
              Outcome
            </th>
            <th scope="col" className={`${TH} ${started}`}>
              Started
            </th>
            <th scope="col" className={`${TH} text-right`}>
              Duration
            </th>
            <th scope="col" className={`${TH} ${wide}`}>
              Answered by
            </th>
            <th scope="col" className={`${TH} ${wide}`}>
              Ended by
            </th>
          </tr>
        </thead>
        <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800/70">
          {calls.map((c) => (
            <tr key={c.id} className="hover:bg-zinc-50 dark:hover:bg-zinc-800/40">
              <td className={TD}>
                <Link href={detailHref(c.id)} className="group block focus-visible:outline-2 focus-visible:outline-indigo-500">
                  <span className="block font-medium text-zinc-900 group-hover:underline dark:text-zinc-100">{c.name || c.to}</span>
                  <span className="block text-xs text-zinc-500 dark:text-zinc-400">
                    {c.name ? c.to : ""}
                    <span className={startedInline}>
                      {c.name ? " · " : ""}
                      {formatDateTime(c.createdAt)}
                    </span>
                  </span>
                </Link>
              </td>
              <td className={TD}>
                <StatusBadge status={c.status} />
              </td>
              <td className={`${TD} hidden sm:table-cell`}>
                <OutcomeBadge outcome={c.outcome} />
              </td>
              <td className={`${TD} ${started} whitespace-nowrap text-zinc-600 dark:text-zinc-400`}>{formatDateTime(c.createdAt)}</td>
              <td className={`${TD} text-right tabular-nums`}>{formatDuration(callDurationSecs(c))}</td>
              <td className={`${TD} ${wide}`}>{answeredByLabel(c.answeredBy)}</td>
              <td className={`${TD} ${wide}`}>{c.terminatedBy ? partyLabel(c.terminatedBy.party) : "—"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
