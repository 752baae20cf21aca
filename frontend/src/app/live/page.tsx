"use client";

/**
 * Live calls: every call in progress (and calls that just ended), and the selected call
 * (`?call=<id>`) with its transcript growing line by line and a hang-up button.
 */

import Link from "next/link";
import { useRouter, useSearchParams } from "next/navigation";
import { Suspense, useEffect, useRef } from "react";
import { detailHref } from "@/components/calls-table";
import { HangupButton } from "@/components/hangup-button";
import { LiveTranscript } from "@/components/transcript";
import { Badge, Banner, Card, Empty, ErrorState, Fact, Loading, OutcomeBadge, PageHeader, StatusBadge } from "@/components/ui";
import { answeredByLabel, formatDuration, formatTime, humanize, partyLabel } from "@/lib/format";
import { elapsedSecs, isTerminal } from "@/lib/live-state";
import { type LiveCallsView, useCallLive, useLiveCalls, useNow } from "@/lib/socket";
import type { LiveCall } from "@/lib/types";

export default function LivePage() {
  return (
    <Suspense>
      <Live />
    </Suspense>
  );
}

function Live() {
  const params = useSearchParams();
  const selected = params.get("call");
  const view = useLiveCalls();
  return (
    <>
      <PageHeader title="Live calls" description="Calls in progress now. Select one to follow its transcript." />
      {view.source === "polling" && (
        <Banner>Live updates are not connected; this page re-reads the server every few seconds.</Banner>
      )}
      <div className="grid grid-cols-1 gap-6 lg:grid-cols-[minmax(0,22rem)_minmax(0,1fr)]">
        <LiveList view={view} selected={selected} />
        {selected ? (
          <SelectedCall id={selected} />
        ) : (
          <Card className="hidden lg:block">
            <Empty title="No call selected">Pick a call on the left to see its transcript.</Empty>
          </Card>
        )}
      </div>
    </>
  );
}

function LiveList({ view, selected }: { view: LiveCallsView; selected: string | null }) {
  const now = useNow();
  const router = useRouter();
  return (
    <Card title={<span className="flex items-center gap-2">Calls <Badge>{view.loaded ? view.calls.filter((c) => !isTerminal(c.status)).length : "…"}</Badge></span>}>
      {view.error && !view.loaded ? (
        <ErrorState error={view.error} />
      ) : !view.loaded ? (
        <Loading />
      ) : view.calls.length === 0 ? (
        <Empty title="No calls in progress">
          <Link href="/calls/new/" className="text-indigo-600 underline dark:text-indigo-400">
            Make a call
          </Link>
        </Empty>
      ) : (
        <ul className="-mx-2 space-y-1" aria-label="Live calls">
          {view.calls.map((c) => (
            <li key={c.id}>
              <button
                type="button"
                aria-current={c.id === selected ? "true" : undefined}
                onClick={() => router.replace(`/live/?call=${encodeURIComponent(c.id)}`, { scroll: false })}
                className={`w-full rounded-lg px-3 py-2.5 text-left focus-visible:outline-2 focus-visible:outline-indigo-500 ${
                  c.id === selected ? "bg-indigo-50 dark:bg-indigo-950/60" : "hover:bg-zinc-50 dark:hover:bg-zinc-800/50"
                } ${isTerminal(c.status) ? "opacity-70" : ""}`}
                data-call-id={c.id}
              >
                <span className="flex items-center justify-between gap-2">
                  <span className="min-w-0 truncate text-sm font-medium">{c.name || c.to}</span>
                  <StatusBadge status={c.status} />
                </span>
                <span className="mt-0.5 flex items-center justify-between gap-2 text-xs text-zinc-500 dark:text-zinc-400">
                  <span className="truncate">
                    {c.name ? `${c.to} · ` : ""}
                    {c.answeredBy ? answeredByLabel(c.answeredBy) : "Not answered yet"}
                  </span>
                  <span className="tabular-nums">{formatDuration(elapsedSecs(c, now))}</span>
                </span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}

function SelectedCall({ id }: { id: string }) {
  const live = useCallLive(id);
  const now = useNow();
  const call = live.call;
  const panel = useRef<HTMLDivElement>(null);
  // On a phone the panel sits below the list: bring it into view when a call is picked.
  useEffect(() => {
    if (window.matchMedia("(max-width: 1023px)").matches) panel.current?.scrollIntoView({ block: "start" });
  }, [id]);
  if (!call) {
    return (
      <div ref={panel} className="scroll-mt-16">
        <Card>{live.error ? <ErrorState error={live.error} /> : <Loading label="Loading the call" />}</Card>
      </div>
    );
  }
  const ended = isTerminal(call.status);
  return (
    <div ref={panel} className="scroll-mt-16">
      <Card
        title={<CallTitle call={call} />}
        actions={
          <Link href={detailHref(call.id)} className="text-sm font-medium text-indigo-600 hover:underline dark:text-indigo-400">
            Details
          </Link>
        }
      >
        <dl className="mb-4 grid grid-cols-2 gap-4 sm:grid-cols-4">
          <Fact label="Status">
            <span className="flex flex-wrap gap-1">
              <StatusBadge status={call.status} />
              {ended && <OutcomeBadge outcome={call.outcome} />}
            </span>
          </Fact>
          <Fact label={call.answeredAt ? "Talking for" : "Elapsed"}>
            <span className="tabular-nums" data-testid="elapsed">{formatDuration(elapsedSecs(call, now))}</span>
          </Fact>
          <Fact label="Answered by">{answeredByLabel(call.answeredBy)}</Fact>
          <Fact label="Started">{formatTime(call.createdAt)}</Fact>
        </dl>
        {ended ? (
          <Banner tone="info">
            <span data-testid="call-ended">
              Call ended{call.endedAt ? ` at ${formatTime(call.endedAt)}` : ""}
              {call.terminatedBy ? ` · ended by ${partyLabel(call.terminatedBy.party).toLowerCase()} (${humanize(call.terminatedBy.reason)})` : ""}.
            </span>{" "}
            <Link href={detailHref(call.id)} className="font-medium underline">
              Open the call
            </Link>
          </Banner>
        ) : (
          <div className="mb-4">
            <HangupButton callId={call.id} />
          </div>
        )}
        {live.source === "polling" && live.error && <Banner tone="danger">{live.error.message}</Banner>}
        <h3 className="mb-2 text-sm font-semibold">Transcript</h3>
        <LiveTranscript lines={live.transcript} emptyText={ended ? "Nothing was said on this call." : "No one has spoken yet."} />
      </Card>
    </div>
  );
}

function CallTitle({ call }: { call: LiveCall }) {
  return (
    <span>
      <span className="block text-base">{call.name || call.to}</span>
      {call.name && <span className="block text-xs font-normal text-zinc-500 dark:text-zinc-400">{call.to}</span>}
    </span>
  );
}
