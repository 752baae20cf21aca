"use client";

/** Shows whether live updates are flowing; offers a retry when the server refused the connection. */

import { useConnection } from "@/lib/socket";

const LOOK = {
  connected: { dot: "bg-emerald-500", text: "Live" },
  connecting: { dot: "bg-amber-400 animate-pulse", text: "Connecting" },
  reconnecting: { dot: "bg-amber-400 animate-pulse", text: "Reconnecting" },
  refused: { dot: "bg-red-500", text: "Live updates off" },
  closed: { dot: "bg-zinc-400", text: "Offline" },
} as const;

export function ConnectionIndicator() {
  const { state, error, retry } = useConnection();
  const look = LOOK[state];
  const detail = state === "connected" ? "Live updates are on." : error ? `Live updates are off: ${error}` : "Live updates are off.";
  return (
    <div className="flex items-center gap-2 text-xs text-zinc-600 dark:text-zinc-400">
      <span role="status" aria-live="polite" title={detail} className="inline-flex items-center gap-2" data-connection={state}>
        <span aria-hidden="true" className={`size-2 rounded-full ${look.dot}`} />
        <span>{look.text}</span>
        <span className="sr-only">{detail}</span>
      </span>
      {state === "refused" && (
        <button type="button" onClick={retry} className="rounded px-1 underline hover:text-zinc-900 dark:hover:text-zinc-100">
          Retry
        </button>
      )}
    </div>
  );
}
