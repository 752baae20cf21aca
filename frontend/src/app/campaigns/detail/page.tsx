"use client";

/**
 * One campaign (`?id=`): live progress, pause / resume / cancel (optionally hanging up its live
 * calls), its calls in progress, and every contact's state and attempts.
 */

import Link from "next/link";
import { useRouter, useSearchParams } from "next/navigation";
import { Suspense, useState } from "react";
import { detailHref } from "@/components/calls-table";
import { CampaignStatusBadge, MemberStateBadge, Pager, ProgressBar, ProgressCounts } from "@/components/campaign-ui";
import { Banner, buttonClass, Card, Empty, ErrorState, Fact, inputClass, Loading, OutcomeBadge, PageHeader, StatusBadge } from "@/components/ui";
import { ApiError } from "@/lib/api";
import { campaignApi } from "@/lib/api-campaigns";
import { useCampaignProgress } from "@/lib/campaign-live";
import type { Campaign, Member, TemplateCheck } from "@/lib/campaign-types";
import { formatDateTime } from "@/lib/format";
import { isTerminal } from "@/lib/live-state";
import { useLiveCalls } from "@/lib/socket";
import { useApi } from "@/lib/use-api";

const PAGE_SIZE = 50;

export default function CampaignDetailPage() {
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
      <Card>
        <Empty title="No campaign given">
          <Link href="/campaigns/" className="underline">Open the campaigns</Link>
        </Empty>
      </Card>
    );
  }
  return <CampaignView key={id} id={id} />;
}

function CampaignView({ id }: { id: string }) {
  const campaign = useApi(`campaign:${id}`, (s) => campaignApi.getCampaign(id, s));
  const c = campaign.data;
  const progress = useCampaignProgress(id, c?.progress);
  if (campaign.error) return <ErrorState error={campaign.error} onRetry={campaign.reload} />;
  if (!c || !progress) return <Loading />;
  return (
    <>
      <PageHeader title={c.name} description={c.description ?? undefined} actions={<CampaignStatusBadge status={progress.status} />} />
      <div className="space-y-6">
        <Card title="Progress" actions={<Actions campaign={c} status={progress.status} onChanged={campaign.reload} />}>
          {progress.statusReason && <Banner tone="warning">{progress.statusReason}</Banner>}
          <ProgressBar p={progress} />
          <ProgressCounts p={progress} />
        </Card>
        <LiveCalls id={id} />
        <Members id={id} version={`${progress.status}:${progress.dialled}:${progress.inFlight}:${progress.done}:${progress.skipped}:${progress.remaining}`} />
        <Card title="Settings">
          <dl className="grid grid-cols-2 gap-4 sm:grid-cols-4">
            <Fact label="Calls at once">{c.settings.maxConcurrent}</Fact>
            <Fact label="Calls per second">{c.settings.callsPerSecond}</Fact>
            <Fact label="Default zone">{c.settings.timeZone}</Fact>
            <Fact label="Windows">
              {c.settings.windows.length === 0 ? "Any time" : c.settings.windows.map((w) => `${w.days.join(" ")} ${w.start}–${w.end}`).join("; ")}
            </Fact>
            <Fact label="Started">{formatDateTime(c.startedAt)}</Fact>
            <Fact label="Ends">{formatDateTime(c.settings.endAt ?? null)}</Fact>
            <Fact label="Prompt">{c.settings.prompt || "Agent default"}</Fact>
            <Fact label="First message">{c.settings.firstMessage || "Agent default"}</Fact>
          </dl>
        </Card>
      </div>
    </>
  );
}

function Actions({ campaign, status, onChanged }: { campaign: Campaign; status: Campaign["status"]; onChanged: () => void }) {
  const router = useRouter();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [check, setCheck] = useState<TemplateCheck | null>(null);
  const [hangUp, setHangUp] = useState(false);
  const run = async (f: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await f();
      onChanged();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
      if (e instanceof ApiError && e.code === "TEMPLATE_VARIABLES_MISSING") setCheck(await campaignApi.checkCampaign(campaign.id));
    } finally {
      setBusy(false);
    }
  };
  const id = campaign.id;
  return (
    <div className="flex flex-wrap items-center gap-2">
      {(status === "draft" || status === "scheduled") && (
        <button type="button" className={buttonClass.primary} disabled={busy} onClick={() => void run(() => campaignApi.startCampaign(id))}>
          Start now
        </button>
      )}
      {(status === "running" || status === "scheduled") && (
        <button type="button" className={buttonClass.secondary} disabled={busy} onClick={() => void run(() => campaignApi.pauseCampaign(id))}>
          Pause
        </button>
      )}
      {status === "paused" && (
        <button type="button" className={buttonClass.primary} disabled={busy} onClick={() => void run(() => campaignApi.resumeCampaign(id))}>
          Resume
        </button>
      )}
      {status !== "completed" && status !== "canceled" && (
        <>
          <label className="flex items-center gap-1 text-xs">
            <input type="checkbox" checked={hangUp} onChange={(e) => setHangUp(e.target.checked)} /> hang up live calls
          </label>
          <button type="button" className={buttonClass.danger} disabled={busy}
            onClick={() => confirm("Cancel this campaign for good?") && void run(() => campaignApi.cancelCampaign(id, hangUp))}>
            Cancel
          </button>
        </>
      )}
      {(status === "draft" || status === "completed" || status === "canceled") && (
        <button type="button" className={buttonClass.ghost} disabled={busy}
          onClick={() => confirm("Delete this campaign and its attempts?") && void run(async () => {
            await campaignApi.deleteCampaign(id);
            router.push("/campaigns/");
          })}>
          Delete
        </button>
      )}
      {error && <span role="alert" className="w-full text-sm text-red-600">{error}</span>}
      {check && !check.ok && (
        <ul className="w-full text-xs text-red-700 dark:text-red-300">
          {check.missing.map((m) => (
            <li key={m.contactId}>
              <Link className="underline" href={`/contacts/detail/?id=${m.contactId}`}>{m.name ?? m.phone}</Link> lacks {m.variables.map((v) => `{{${v}}}`).join(", ")}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function LiveCalls({ id }: { id: string }) {
  const live = useLiveCalls();
  const calls = live.calls.filter((c) => c.campaignId === id && !isTerminal(c.status));
  return (
    <Card title={`Calls in progress (${calls.length})`}>
      {calls.length === 0 ? (
        <p className="text-sm text-zinc-500">None right now.</p>
      ) : (
        <ul className="divide-y divide-zinc-100 text-sm dark:divide-zinc-800">
          {calls.map((c) => (
            <li key={c.id} className="flex items-center justify-between py-2">
              <Link href={detailHref(c.id)} className="hover:underline">{c.name ?? c.to}</Link>
              <StatusBadge status={c.status} />
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}

function Members({ id, version }: { id: string; version: string }) {
  const [state, setState] = useState("");
  const [offset, setOffset] = useState(0);
  const [open, setOpen] = useState<string | null>(null);
  const list = useApi(`members:${id}:${state}:${offset}:${version}`, (s) => campaignApi.members(id, state, offset, PAGE_SIZE, s));
  return (
    <Card
      title={list.data ? `Contacts (${list.data.total})` : "Contacts"}
      actions={
        <select aria-label="Contact state" className={inputClass} value={state} onChange={(e) => { setState(e.target.value); setOffset(0); }}>
          <option value="">All</option>
          {["pending", "dialing", "live", "done", "skipped"].map((s) => <option key={s} value={s}>{s}</option>)}
        </select>
      }
    >
      {list.error ? (
        <ErrorState error={list.error} onRetry={list.reload} />
      ) : !list.data ? (
        <Loading />
      ) : (
        <>
          <table className="w-full text-left text-sm" data-testid="member-table">
            <thead className="text-xs text-zinc-500">
              <tr>
                <th className="py-2 pr-3">Contact</th>
                <th className="py-2 pr-3">State</th>
                <th className="py-2 pr-3">Attempts</th>
                <th className="py-2 pr-3">Last outcome</th>
                <th className="py-2">Note</th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((m) => (
                <MemberRow key={m.id} m={m} campaignId={id} open={open === m.id} onToggle={() => setOpen(open === m.id ? null : m.id)} />
              ))}
            </tbody>
          </table>
          <Pager offset={offset} limit={PAGE_SIZE} total={list.data.total} onPage={setOffset} />
        </>
      )}
    </Card>
  );
}

function MemberRow({ m, campaignId, open, onToggle }: { m: Member; campaignId: string; open: boolean; onToggle: () => void }) {
  const attempts = useApi(open ? `attempts:${m.id}:${m.attempts}` : null, (s) => campaignApi.attempts(campaignId, m.contactId, s));
  return (
    <>
      <tr className="border-t border-zinc-100 dark:border-zinc-800">
        <td className="py-2 pr-3">
          <Link href={`/contacts/detail/?id=${m.contactId}`} className="hover:underline">{m.name ?? m.phone ?? "(deleted)"}</Link>
          <span className="block text-xs text-zinc-500">{m.phone}</span>
        </td>
        <td className="py-2 pr-3"><MemberStateBadge state={m.state} /></td>
        <td className="py-2 pr-3 tabular-nums">
          <button type="button" className="underline" onClick={onToggle} aria-expanded={open}>{m.attempts}</button>
        </td>
        <td className="py-2 pr-3"><OutcomeBadge outcome={m.lastOutcome} /></td>
        <td className="py-2 text-xs text-zinc-600 dark:text-zinc-400">
          {m.note}
          {m.state === "pending" && m.dueAt ? ` Due ${formatDateTime(m.dueAt)}.` : ""}
        </td>
      </tr>
      {open && (
        <tr>
          <td colSpan={5} className="pb-3 text-xs">
            {attempts.data?.items.map((a) => (
              <div key={a.id} className="flex gap-3">
                <span>#{a.number}</span>
                <span>{formatDateTime(a.startedAt)}</span>
                <span>{a.result === "not_dialled" ? `not dialled: ${a.detail ?? ""}` : a.outcome ?? "in progress"}</span>
                {a.callId && <Link className="underline" href={detailHref(a.callId)}>call</Link>}
              </div>
            )) ?? "Loading…"}
          </td>
        </tr>
      )}
    </>
  );
}
