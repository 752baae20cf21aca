"use client";

/** Overview: today's and the last 7 days' figures (from the stats API), live calls, recent calls. */

import Link from "next/link";
import { CallsTable } from "@/components/calls-table";
import { Badge, Card, Empty, ErrorState, Loading, PageHeader, StatusBadge } from "@/components/ui";
import { api } from "@/lib/api";
import { EMPTY_FILTERS } from "@/lib/filters";
import { formatCount, formatDuration, formatPercent, formatTime, outcomeLabel } from "@/lib/format";
import { elapsedSecs, isTerminal } from "@/lib/live-state";
import { useLiveCalls, useNow } from "@/lib/socket";
import { OUTCOMES, type StatsPeriod } from "@/lib/types";
import { useApi } from "@/lib/use-api";

const TZ = Intl.DateTimeFormat().resolvedOptions().timeZone;

export default function OverviewPage() {
  const live = useLiveCalls();
  const stats = useApi(`stats:${live.version}`, (s) => api.overview(TZ, s));
  const recent = useApi(`recent:${live.version}`, (s) => api.listCalls(EMPTY_FILTERS, 0, 8, s));

  return (
    <>
      <PageHeader
        title="Overview"
        description={stats.data ? `Figures as of ${formatTime(stats.data.generatedAt)} (${TZ}).` : `Times in ${TZ}.`}
      />
      <div className="grid grid-cols-1 gap-6">
        {stats.error ? (
          <Card title="Call figures">
            <ErrorState error={stats.error} onRetry={stats.reload} feature="Call statistics are" endpoint="GET /api/stats/overview" />
          </Card>
        ) : !stats.data ? (
          <Card title="Call figures">
            <Loading label="Loading figures" />
          </Card>
        ) : (
          <div className="grid grid-cols-1 gap-6 xl:grid-cols-2">
            <PeriodCard title="Today" period={stats.data.periods.today} />
            <PeriodCard title="Last 7 days" period={stats.data.periods.last7Days} />
          </div>
        )}
        <div className="grid grid-cols-1 gap-6 lg:grid-cols-5">
          <LiveNow view={live} className="lg:col-span-2" />
          <Card
            title="Recent calls"
            className="lg:col-span-3"
            actions={
              <Link href="/calls/" className="text-sm font-medium text-indigo-600 hover:underline dark:text-indigo-400">
                Call log
              </Link>
            }
          >
            {recent.error ? (
              <ErrorState error={recent.error} onRetry={recent.reload} />
            ) : !recent.data ? (
              <Loading />
            ) : recent.data.items.length === 0 ? (
              <Empty title="No calls yet">
                <Link href="/calls/new/" className="text-indigo-600 underline dark:text-indigo-400">
                  Make a call
                </Link>
              </Empty>
            ) : (
              <CallsTable calls={recent.data.items} caption="Most recent calls" compact />
            )}
          </Card>
        </div>
      </div>
    </>
  );
}

function Figure({ label, value, hint }: { label: string; value: string; hint?: string }) {
  return (
    <div className="rounded-lg bg-zinc-50 p-3 dark:bg-zinc-950/60">
      <dt className="text-xs font-medium text-zinc-500 dark:text-zinc-400">{label}</dt>
      <dd className="mt-1 text-2xl font-semibold tabular-nums tracking-tight">{value}</dd>
      {hint && <dd className="mt-0.5 text-xs text-zinc-500 dark:text-zinc-400">{hint}</dd>}
    </div>
  );
}

function PeriodCard({ title, period: p }: { title: string; period: StatsPeriod }) {
  const outcomes = OUTCOMES.map((o) => [o, p.byOutcome[o] ?? 0] as const).filter(([, n]) => n > 0);
  const max = Math.max(1, ...outcomes.map(([, n]) => n));
  return (
    <Card title={title}>
      <dl className="grid grid-cols-2 gap-3 sm:grid-cols-4">
        <Figure label="Calls" value={formatCount(p.total)} />
        <Figure label="Answer rate" value={formatPercent(p.answerRate)} hint={`${formatCount(p.answered)} answered`} />
        <Figure label="Conversations" value={formatCount(p.conversations)} />
        <Figure label="Average duration" value={formatDuration(p.averageDurationSecs)} />
      </dl>
      {outcomes.length > 0 && (
        <div className="mt-4">
          <h3 className="mb-2 text-xs font-medium text-zinc-500 dark:text-zinc-400">Outcomes</h3>
          <ul className="space-y-1.5">
            {outcomes.map(([o, n]) => (
              <li key={o} className="grid grid-cols-[9rem_1fr_3rem] items-center gap-2 text-sm">
                <span className="truncate text-zinc-700 dark:text-zinc-300">{outcomeLabel(o)}</span>
                <span className="h-2 rounded-full bg-zinc-100 dark:bg-zinc-800" aria-hidden="true">
                  <span className="block h-2 rounded-full bg-indigo-500" style={{ width: `${(n / max) * 100}%` }} />
                </span>
                <span className="text-right tabular-nums">{formatCount(n)}</span>
              </li>
            ))}
          </ul>
        </div>
      )}
    </Card>
  );
}

function LiveNow({ view, className }: { view: ReturnType<typeof useLiveCalls>; className?: string }) {
  const now = useNow();
  const running = view.calls.filter((c) => !isTerminal(c.status));
  return (
    <Card
      className={className}
      title={
        <span className="flex items-center gap-2">
          Live now <Badge tone={running.length ? "progress" : "neutral"}>{view.loaded ? running.length : "…"}</Badge>
        </span>
      }
      actions={
        <Link href="/live/" className="text-sm font-medium text-indigo-600 hover:underline dark:text-indigo-400">
          Live calls
        </Link>
      }
    >
      {view.error && !view.loaded ? (
        <ErrorState error={view.error} />
      ) : !view.loaded ? (
        <Loading />
      ) : running.length === 0 ? (
        <Empty title="No calls in progress" />
      ) : (
        <ul className="divide-y divide-zinc-100 dark:divide-zinc-800">
          {running.slice(0, 6).map((c) => (
            <li key={c.id}>
              <Link href={`/live/?call=${encodeURIComponent(c.id)}`} className="flex items-center justify-between gap-3 py-2 hover:underline">
                <span className="min-w-0 truncate text-sm font-medium">{c.name || c.to}</span>
                <span className="flex shrink-0 items-center gap-2">
                  <span className="text-xs tabular-nums text-zinc-500">{formatDuration(elapsedSecs(c, now))}</span>
                  <StatusBadge status={c.status} />
                </span>
              </Link>
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}
