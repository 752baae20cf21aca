/** A call's audit log as a timeline: when, what, who reported it, and the raw data on demand. */

import { eventLabel, formatTime } from "@/lib/format";
import { eventSummary, isProblem } from "@/lib/timeline";
import type { CallEvent } from "@/lib/types";

export function Timeline({ events, hideTranscript }: { events: CallEvent[]; hideTranscript?: boolean }) {
  const shown = hideTranscript ? events.filter((e) => e.kind !== "transcript") : events;
  if (!shown.length) return <p className="py-6 text-center text-sm text-zinc-500 dark:text-zinc-400">No events recorded.</p>;
  return (
    <ol className="relative space-y-4 border-l border-zinc-200 pl-5 dark:border-zinc-800">
      {shown.map((e) => {
        const problem = isProblem(e);
        const summary = eventSummary(e);
        return (
          <li key={e.id} className="relative">
            <span
              aria-hidden="true"
              className={`absolute -left-[1.62rem] top-1.5 size-2.5 rounded-full ring-4 ring-white dark:ring-zinc-900 ${problem ? "bg-red-500" : "bg-indigo-500"}`}
            />
            <div className="flex flex-wrap items-baseline gap-x-2">
              <time className="text-xs tabular-nums text-zinc-500 dark:text-zinc-400" dateTime={e.at}>
                {formatTime(e.at)}
              </time>
              <span className={`text-sm font-medium ${problem ? "text-red-700 dark:text-red-400" : ""}`}>{eventLabel(e.kind)}</span>
              <span className="text-xs text-zinc-500 dark:text-zinc-400">{e.source}</span>
            </div>
            {summary && <p className="mt-0.5 wrap-anywhere text-sm text-zinc-700 dark:text-zinc-300">{summary}</p>}
            <details className="mt-1">
              <summary className="cursor-pointer text-xs text-zinc-500 hover:text-zinc-800 dark:text-zinc-400 dark:hover:text-zinc-200">Data</summary>
              <pre className="mt-1 max-h-64 overflow-auto rounded bg-zinc-50 p-2 text-xs dark:bg-zinc-950">{JSON.stringify(e.data, null, 2)}</pre>
            </details>
          </li>
        );
      })}
    </ol>
  );
}
