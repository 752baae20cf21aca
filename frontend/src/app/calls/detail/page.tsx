"use client";

/**
 * Call detail (`?id=<call id or CallSid>`): status and outcome, who answered and who ended it,
 * the recording, the agent's analysis, the transcript (with what the caller did not hear) and
 * the timeline of events. A call still running follows its live room and reloads when it ends.
 */

import Link from "next/link";
import { useSearchParams } from "next/navigation";
import { Suspense, useEffect, useState } from "react";
import { callDurationSecs } from "@/components/calls-table";
import { Icon } from "@/components/icons";
import { RecordingPlayer } from "@/components/recording-player";
import { Timeline } from "@/components/timeline";
import { LiveTranscript, PostCallTranscript } from "@/components/transcript";
import { Badge, Banner, buttonClass, Card, Empty, ErrorState, Fact, Loading, OutcomeBadge, PageHeader, StatusBadge } from "@/components/ui";
import { api, ApiError } from "@/lib/api";
import { answeredByLabel, formatDateTime, formatDuration, humanize, partyLabel } from "@/lib/format";
import { isTerminal, mergeTranscripts, transcriptFromEvents } from "@/lib/live-state";
import { useCallLive, useNow } from "@/lib/socket";
import type { Call, CallAnalysis, CallEvent, CallTranscript, Paged, Recording, TranscriptLine } from "@/lib/types";
import { type ApiState, useApi } from "@/lib/use-api";

/** How often, and for how long after the end, post-call data is looked for. */
const POST_CALL_POLL_MS = 5_000;
const POST_CALL_WAIT_MS = 10 * 60_000;

export default function CallDetailPage() {
  return (
    <Suspense>
      <Detail />
    </Suspense>
  );
}

function Detail() {
  const id = useSearchParams().get("id");
  if (!id) {
    return (
      <>
        <PageHeader title="Call" />
        <Card>
          <Empty title="No call given">
            <Link href="/calls/" className="text-indigo-600 underline dark:text-indigo-400">Open the call log</Link>
          </Empty>
        </Card>
      </>
    );
  }
  return <CallView key={id} id={id} />;
}

function CallView({ id }: { id: string }) {
  const call = useApi(`call:${id}`, (s) => api.getCall(id, s));
  const resolved = call.data?.id ?? null;
  // Follow a running call live; when it ends, load everything again (final state, recording).
  const running = call.data ? !isTerminal(call.data.status) : false;
  const live = useCallLive(running ? resolved : null);
  const endedLive = running && live.call !== null && isTerminal(live.call.status);
  const gen = `${id}:${endedLive}`;
  const events = useApi(`events:${gen}`, (s) => api.callEvents(id, s));
  const transcript = useApi(`transcript:${gen}`, (s) => api.callTranscript(id, s));
  const recordings = useApi(`recordings:${gen}`, (s) => api.callRecordings(id, s));
  const reloadedCall = useApi(endedLive ? `call-final:${id}` : null, (s) => api.getCall(id, s));

  // After the end, the recording and the agent platform's analysis arrive within minutes: look
  // again every few seconds until both are here (or it is clearly too late).
  const now = useNow(POST_CALL_POLL_MS);
  const c0 = reloadedCall.data ?? call.data;
  const endedAt = c0?.endedAt ? Date.parse(c0.endedAt) : NaN;
  const waitingForPostCall =
    c0 !== undefined &&
    (isTerminal(c0.status) || endedLive) &&
    !(now - endedAt > POST_CALL_WAIT_MS) &&
    (transcript.data?.postCall == null || recordings.data?.items.some((r) => r.status === "in-progress") || recordings.data?.items.length === 0);
  const { reload: reloadTranscript } = transcript;
  const { reload: reloadRecordings } = recordings;
  useEffect(() => {
    if (!waitingForPostCall) return;
    const t = setInterval(() => {
      reloadTranscript();
      reloadRecordings();
    }, POST_CALL_POLL_MS);
    return () => clearInterval(t);
  }, [waitingForPostCall, reloadTranscript, reloadRecordings]);

  if (call.error) {
    return (
      <>
        <PageHeader title="Call" />
        <Card>
          <ErrorState error={call.error} onRetry={call.error.status === 404 ? undefined : call.reload} />
        </Card>
      </>
    );
  }
  if (!call.data) return <Loading label="Loading the call" />;
  const c: Call = reloadedCall.data ?? call.data;
  const status = running && live.call ? live.call.status : c.status;

  return (
    <>
      <PageHeader
        title={c.name || c.to}
        description={c.name ? c.to : undefined}
        actions={
          !isTerminal(status) ? (
            <Link href={`/live/?call=${encodeURIComponent(c.id)}`} className={buttonClass.primary}>
              Watch live
            </Link>
          ) : undefined
        }
      />
      <div className="grid grid-cols-1 gap-6 xl:grid-cols-3">
        <div className="space-y-6 xl:col-span-2">
          <Summary call={c} status={status} />
          <RecordingCard state={recordings} ended={isTerminal(status)} />
          <TranscriptCard transcript={transcript} events={events} liveLines={running ? live.transcript : null} />
          <AnalysisCard callId={c.id} transcript={transcript} ended={isTerminal(status)} hadConversation={Boolean(c.conversationId)} />
        </div>
        <div className="space-y-6">
          <Card title="Timeline">
            {events.error ? <ErrorState error={events.error} onRetry={events.reload} /> : !events.data ? <Loading /> : <Timeline events={events.data} hideTranscript />}
          </Card>
          {(c.prompt || c.firstMessage || Object.keys(c.dynamicVariables).length > 0) && <Instructions call={c} />}
        </div>
      </div>
    </>
  );
}

function Summary({ call: c, status }: { call: Call; status: Call["status"] }) {
  return (
    <Card>
      {c.error && (
        <Banner tone="danger">
          <span className="font-medium">{c.error.code}</span>: {c.error.message}
        </Banner>
      )}
      <dl className="grid grid-cols-2 gap-4 sm:grid-cols-3 lg:grid-cols-4">
        <Fact label="Status"><StatusBadge status={status} /></Fact>
        <Fact label="Outcome"><OutcomeBadge outcome={c.outcome} /></Fact>
        <Fact label="Answered by">{answeredByLabel(c.answeredBy)}</Fact>
        <Fact label="Ended by">
          {c.terminatedBy ? (
            <span title={`Reported by ${c.terminatedBy.source}`}>
              {partyLabel(c.terminatedBy.party)}
              <span className="block text-xs text-zinc-500 dark:text-zinc-400">{humanize(c.terminatedBy.reason)}</span>
            </span>
          ) : (
            "—"
          )}
        </Fact>
        <Fact label="Started">{formatDateTime(c.createdAt)}</Fact>
        <Fact label="Answered">{formatDateTime(c.answeredAt)}</Fact>
        <Fact label="Ended">{formatDateTime(c.endedAt)}</Fact>
        <Fact label="Duration"><span className="tabular-nums">{formatDuration(callDurationSecs(c))}</span></Fact>
        <Fact label="Caller ID">{c.from}</Fact>
        <Fact label="Call SID"><span className="font-mono text-xs">{c.callSid ?? "—"}</span></Fact>
        <Fact label="Conversation"><span className="font-mono text-xs">{c.conversationId ?? "—"}</span></Fact>
        {c.campaignId && <Fact label="Campaign"><span className="font-mono text-xs">{c.campaignId}</span></Fact>}
        {c.contactId && <Fact label="Contact"><span className="font-mono text-xs">{c.contactId}</span></Fact>}
      </dl>
    </Card>
  );
}

function RecordingCard({ state, ended }: { state: ApiState<Paged<Recording>>; ended: boolean }) {
  return (
    <Card title="Recording">
      {state.error ? (
        <ErrorState error={state.error} onRetry={state.reload} feature="Recordings are" endpoint="GET /api/calls/{id}/recordings" />
      ) : !state.data ? (
        <Loading />
      ) : state.data.items.length === 0 ? (
        <Empty title="No recording">{ended ? "This call has no recording." : "The recording is available after the call."}</Empty>
      ) : (
        <div className="space-y-4">
          {state.data.items.map((r) => (
            <RecordingPlayer key={r.sid} recording={r} />
          ))}
        </div>
      )}
    </Card>
  );
}

function TranscriptCard({ transcript, events, liveLines }: { transcript: ApiState<CallTranscript>; events: ApiState<CallEvent[]>; liveLines: TranscriptLine[] | null }) {
  const [tab, setTab] = useState<"live" | "postCall">("live");
  // The live lines: the transcript API's, else the stored transcript events, plus what the live room added.
  const stored = transcript.data?.live ?? (events.data ? transcriptFromEvents(events.data) : null);
  const lines = liveLines ? mergeTranscripts(stored ?? [], liveLines) : stored;
  const postCall = transcript.data?.postCall ?? null;
  const loading = lines === null && !transcript.error && !events.error;
  const error = lines === null ? (events.error ?? transcript.error) : null;
  return (
    <Card
      title="Transcript"
      actions={
        postCall ? (
          <div role="group" aria-label="Transcript source" className="flex rounded-lg border border-zinc-300 p-0.5 text-xs dark:border-zinc-700">
            {(["live", "postCall"] as const).map((t) => (
              <button
                key={t}
                type="button"
                aria-pressed={tab === t}
                onClick={() => setTab(t)}
                className={`rounded-md px-2 py-1 ${tab === t ? "bg-zinc-900 text-white dark:bg-zinc-100 dark:text-zinc-900" : ""}`}
              >
                {t === "live" ? "As it happened" : "Agent platform"}
              </button>
            ))}
          </div>
        ) : undefined
      }
    >
      {tab === "postCall" && postCall ? (
        <PostCallTranscript turns={postCall.turns} />
      ) : error ? (
        <ErrorState error={error} />
      ) : loading || lines === null ? (
        <Loading />
      ) : (
        <LiveTranscript lines={lines} emptyText="Nothing was said on this call." />
      )}
    </Card>
  );
}

function AnalysisCard({
  callId,
  transcript,
  ended,
  hadConversation,
}: {
  callId: string;
  transcript: ApiState<CallTranscript>;
  ended: boolean;
  hadConversation: boolean;
}) {
  const analysis = transcript.data?.postCall?.analysis ?? null;
  const meta = transcript.data?.postCall?.metadata;
  return (
    <Card
      title="Analysis"
      actions={ended && hadConversation && transcript.data ? <FetchPostCall callId={callId} transcript={transcript} /> : undefined}
    >
      {ended && hadConversation && transcript.data && <PostCallSource data={transcript.data} />}
      {transcript.error ? (
        <ErrorState error={transcript.error} onRetry={transcript.reload} feature="Post-call analysis is" endpoint="GET /api/calls/{id}/transcript" />
      ) : !transcript.data ? (
        <Loading />
      ) : !analysis ? (
        ended && !hadConversation ? (
          <Empty title="No analysis">No conversation with the agent took place on this call.</Empty>
        ) : (
          <Empty title="No analysis yet">
            {ended ? "The agent platform has not sent its analysis of this call." : "The analysis arrives after the call."}
          </Empty>
        )
      ) : (
        <div data-testid="analysis">
          <AnalysisView analysis={analysis} meta={meta} />
        </div>
      )}
    </Card>
  );
}

/** Where the post-call record came from, or why it is still missing. */
function PostCallSource({ data }: { data: CallTranscript }) {
  const post = data.postCall;
  const r = data.recovery;
  if (post) {
    return (
      <p className="mb-3 text-xs text-zinc-500 dark:text-zinc-400" data-testid="post-call-source">
        {post.source === "recovered" ? "Fetched from the agent platform" : "Sent by the agent platform"} {formatDateTime(post.receivedAt)}
      </p>
    );
  }
  if (!r) return null;
  return (
    <p className="mb-3 text-xs text-red-700 dark:text-red-400" data-testid="post-call-source">
      Fetching it from the agent platform failed {r.attempts} time{r.attempts === 1 ? "" : "s"}
      {r.lastError ? ` (last: ${r.lastError})` : ""}
      {r.givenUpAt ? `; automatic retries stopped ${formatDateTime(r.givenUpAt)}` : ""}.
    </p>
  );
}

/** Asks main-app to fetch the conversation from the agent platform now. */
function FetchPostCall({ callId, transcript }: { callId: string; transcript: ApiState<CallTranscript> }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const fetchNow = async () => {
    setBusy(true);
    setError(null);
    try {
      await api.recoverTranscript(callId);
      transcript.reload();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <span className="flex flex-wrap items-center justify-end gap-2">
      {error && (
        <span role="alert" className="text-xs text-red-700 dark:text-red-400">
          {error}
        </span>
      )}
      <button type="button" className={buttonClass.secondary} disabled={busy} onClick={fetchNow}>
        <Icon name="refresh" className="size-4" /> {transcript.data?.postCall ? "Fetch again" : "Fetch now"}
      </button>
    </span>
  );
}

function AnalysisView({ analysis: a, meta }: { analysis: CallAnalysis; meta?: { callDurationSecs: number; terminationReason?: string } }) {
  const success = a.callSuccessful;
  const tone = success === "success" ? "success" : success === "failure" ? "danger" : "neutral";
  const criteria = Object.entries(a.evaluationCriteria ?? {});
  const data = Object.entries(a.dataCollection ?? {});
  return (
    <div className="space-y-5">
      <div>
        <div className="flex flex-wrap items-center gap-2">
          {a.callSummaryTitle && <h3 className="text-sm font-semibold">{a.callSummaryTitle}</h3>}
          <Badge tone={tone}>{humanize(success)}</Badge>
        </div>
        <p className="mt-2 whitespace-pre-line text-sm leading-relaxed text-zinc-700 dark:text-zinc-300">{a.transcriptSummary}</p>
        {meta?.terminationReason && <p className="mt-2 text-xs text-zinc-500 dark:text-zinc-400">Ended: {meta.terminationReason}</p>}
      </div>
      {data.length > 0 && (
        <div>
          <h3 className="mb-2 text-sm font-semibold">Collected data</h3>
          <dl className="divide-y divide-zinc-100 rounded-lg border border-zinc-200 dark:divide-zinc-800 dark:border-zinc-800">
            {data.map(([k, v]) => (
              <div key={k} className="grid grid-cols-1 gap-1 px-3 py-2 sm:grid-cols-3">
                <dt className="text-sm font-medium">{humanize(k)}</dt>
                <dd className="text-sm sm:col-span-2">
                  <span className="font-mono">{v.value === null || v.value === undefined ? "—" : typeof v.value === "string" ? v.value : JSON.stringify(v.value)}</span>
                  {v.rationale && <span className="mt-0.5 block text-xs text-zinc-500 dark:text-zinc-400">{v.rationale}</span>}
                </dd>
              </div>
            ))}
          </dl>
        </div>
      )}
      {criteria.length > 0 && (
        <div>
          <h3 className="mb-2 text-sm font-semibold">Evaluation</h3>
          <ul className="space-y-2">
            {criteria.map(([k, v]) => (
              <li key={k} className="text-sm">
                <span className="flex items-center gap-2">
                  <span className="font-medium">{humanize(k)}</span>
                  <Badge tone={v.result === "success" ? "success" : v.result === "failure" ? "danger" : "neutral"}>{humanize(v.result)}</Badge>
                </span>
                {v.rationale && <span className="mt-0.5 block text-xs text-zinc-500 dark:text-zinc-400">{v.rationale}</span>}
              </li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}

function Instructions({ call: c }: { call: Call }) {
  const vars = Object.entries(c.dynamicVariables);
  return (
    <Card title="What the agent was told">
      <dl className="space-y-3">
        {c.firstMessage && <Fact label="First message"><span className="whitespace-pre-line">{c.firstMessage}</span></Fact>}
        {c.prompt && <Fact label="Prompt"><span className="whitespace-pre-line">{c.prompt}</span></Fact>}
        {vars.length > 0 && (
          <Fact label="Variables">
            <span className="block font-mono text-xs">
              {vars.map(([k, v]) => (
                <span key={k} className="block">{k}: {typeof v === "string" ? v : JSON.stringify(v)}</span>
              ))}
            </span>
          </Fact>
        )}
      </dl>
    </Card>
  );
}
