"use client";

/** Campaigns: every campaign with its state and progress, updated live. */

import Link from "next/link";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { Suspense } from "react";
import { CampaignStatusBadge, Pager, ProgressBar } from "@/components/campaign-ui";
import { buttonClass, Card, Empty, ErrorState, inputClass, Loading, PageHeader } from "@/components/ui";
import { campaignApi } from "@/lib/api-campaigns";
import { useCampaignsProgress } from "@/lib/campaign-live";
import { CAMPAIGN_STATUSES } from "@/lib/campaign-types";
import { formatCount, formatDateTime } from "@/lib/format";
import { useApi } from "@/lib/use-api";

const PAGE_SIZE = 20;

export default function CampaignsPage() {
  return (
    <Suspense>
      <Campaigns />
    </Suspense>
  );
}

function Campaigns() {
  const params = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const status = params.get("status") ?? "";
  const offset = Math.max(0, Number(params.get("offset")) || 0);
  const list = useApi(`campaigns:${status}:${offset}`, (s) => campaignApi.listCampaigns(status, "", offset, PAGE_SIZE, s));
  const live = useCampaignsProgress();
  const go = (next: Record<string, string>) => {
    const q = new URLSearchParams({ status, offset: String(offset), ...next });
    for (const [k, v] of [...q.entries()]) if (!v || v === "0") q.delete(k);
    router.push(q.size ? `${pathname}?${q}` : pathname, { scroll: false });
  };

  return (
    <>
      <PageHeader
        title="Campaigns"
        description="Dial lists of contacts within their calling hours, with retries by outcome."
        actions={
          <Link href="/campaigns/new/" className={buttonClass.primary}>
            New campaign
          </Link>
        }
      />
      <Card
        title={list.data ? `${formatCount(list.data.total)} campaign${list.data.total === 1 ? "" : "s"}` : "Campaigns"}
        actions={
          <select aria-label="Status" className={inputClass} value={status} onChange={(e) => go({ status: e.target.value, offset: "0" })}>
            <option value="">All states</option>
            {CAMPAIGN_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        }
      >
        {list.error ? (
          <ErrorState error={list.error} onRetry={list.reload} feature="Campaigns are" endpoint="GET /api/campaigns" />
        ) : !list.data ? (
          <Loading />
        ) : list.data.items.length === 0 ? (
          <Empty title="No campaigns yet">Create one from a CSV, a tag or all your saved contacts.</Empty>
        ) : (
          <>
            <ul className="divide-y divide-zinc-100 dark:divide-zinc-800" data-testid="campaign-list">
              {list.data.items.map((c) => {
                const p = live.get(c.id) ?? c.progress;
                return (
                  <li key={c.id} className="py-3">
                    <div className="flex flex-wrap items-center justify-between gap-2">
                      <Link href={`/campaigns/detail/?id=${c.id}`} className="font-medium hover:underline">
                        {c.name}
                      </Link>
                      <span className="flex items-center gap-2 text-xs text-zinc-500">
                        {formatDateTime(c.createdAt)}
                        <CampaignStatusBadge status={p.status} />
                      </span>
                    </div>
                    <div className="mt-2">
                      <ProgressBar p={p} />
                    </div>
                    <p className="mt-1 text-xs text-zinc-600 dark:text-zinc-400">
                      {formatCount(p.dialled)} dialled · {formatCount(p.answered)} answered · {formatCount(p.inFlight)} on calls ·{" "}
                      {formatCount(p.remaining)} remaining of {formatCount(p.total)} · {p.percentComplete}% complete
                      {p.statusReason ? ` · ${p.statusReason}` : ""}
                    </p>
                  </li>
                );
              })}
            </ul>
            <Pager offset={offset} limit={PAGE_SIZE} total={list.data.total} onPage={(o) => go({ offset: String(o) })} />
          </>
        )}
      </Card>
    </>
  );
}
