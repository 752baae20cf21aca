"use client";

/**
 * CRM deliveries: the outbox of call summaries sent to the customer's CRM, newest first. Each
 * shows its call, whether it is the final report or a later update with post-call data, where it
 * is (pending with its next attempt, delivered, or dead after the last attempt), its last error
 * and its attempt log; any of them can be sent again.
 */

import Link from "next/link";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { Suspense, useState } from "react";
import { detailHref } from "@/components/calls-table";
import { Icon } from "@/components/icons";
import { Badge, buttonClass, Card, Empty, ErrorState, inputClass, Loading, PageHeader } from "@/components/ui";
import { api, ApiError } from "@/lib/api";
import { formatCount, formatDateTime } from "@/lib/format";
import type { CrmDelivery, CrmDeliveryStatus } from "@/lib/types";
import { useApi } from "@/lib/use-api";

const PAGE_SIZE = 25;
const STATUSES: CrmDeliveryStatus[] = ["pending", "delivered", "dead"];
const STATUS_LABEL: Record<CrmDeliveryStatus, string> = { pending: "Pending", delivered: "Delivered", dead: "Gave up" };
const STATUS_TONE = { pending: "warning", delivered: "success", dead: "danger" } as const;

export default function CrmPage() {
  return (
    <Suspense>
      <Deliveries />
    </Suspense>
  );
}

function Deliveries() {
  const params = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const offset = Math.max(0, Number(params.get("offset")) || 0);
  const raw = params.get("status");
  const status = STATUSES.find((s) => s === raw) ?? null;
  const list = useApi(`crm:${status}:${offset}`, (s) => api.listCrmDeliveries(status, offset, PAGE_SIZE, s));
  const page = list.data;
  const go = (next: { status?: CrmDeliveryStatus | null; offset?: number }) => {
    const q = new URLSearchParams();
    const st = next.status === undefined ? status : next.status;
    if (st) q.set("status", st);
    const o = next.offset ?? 0;
    if (o) q.set("offset", String(o));
    const qs = q.toString();
    router.push(qs ? `${pathname}?${qs}` : pathname, { scroll: false });
  };

  return (
    <>
      <PageHeader
        title="CRM deliveries"
        description="Call summaries sent to your CRM, newest first. Failed sends are retried with backoff; send any again from here."
      />
      <Card
        title={page ? `${formatCount(page.total)} deliver${page.total === 1 ? "y" : "ies"}` : "Deliveries"}
        actions={
          <label className="flex items-center gap-2 text-sm">
            <span className="text-zinc-600 dark:text-zinc-400">Status</span>
            <select
              className={inputClass}
              value={status ?? ""}
              onChange={(e) => go({ status: (e.target.value || null) as CrmDeliveryStatus | null })}
            >
              <option value="">All</option>
              {STATUSES.map((s) => (
                <option key={s} value={s}>
                  {STATUS_LABEL[s]}
                </option>
              ))}
            </select>
          </label>
        }
      >
        {list.error ? (
          <ErrorState error={list.error} onRetry={list.reload} feature="CRM deliveries are" endpoint="GET /api/crm/deliveries" />
        ) : !page ? (
          <Loading />
        ) : page.items.length === 0 ? (
          <Empty title={status ? `No ${STATUS_LABEL[status].toLowerCase()} deliveries` : "No deliveries yet"}>
            A summary is queued for the CRM when a call ends, if <code>CRM_WEBHOOK_URL</code> is set.
          </Empty>
        ) : (
          <>
            <ul className="divide-y divide-zinc-100 dark:divide-zinc-800">
              {page.items.map((d) => (
                <DeliveryRow key={d.id} delivery={d} onReplayed={list.reload} />
              ))}
            </ul>
            <nav aria-label="Pages" className="mt-4 flex items-center justify-between gap-2 text-sm">
              <span className="text-zinc-600 dark:text-zinc-400">
                {formatCount(page.offset + 1)}–{formatCount(page.offset + page.items.length)} of {formatCount(page.total)}
              </span>
              <span className="flex gap-2">
                <button type="button" className={buttonClass.secondary} disabled={offset === 0} onClick={() => go({ offset: Math.max(0, offset - PAGE_SIZE) })}>
                  Newer
                </button>
                <button type="button" className={buttonClass.secondary} disabled={page.offset + page.items.length >= page.total} onClick={() => go({ offset: offset + PAGE_SIZE })}>
                  Older
                </button>
              </span>
            </nav>
          </>
        )}
      </Card>
    </>
  );
}

function summaryOf(d: CrmDelivery): string {
  const p = d.payload as { name?: unknown; to?: unknown } | null;
  const name = typeof p?.name === "string" ? p.name : "";
  const to = typeof p?.to === "string" ? p.to : "";
  return [name, to].filter(Boolean).join(" · ") || d.callId;
}

function DeliveryRow({ delivery: d, onReplayed }: { delivery: CrmDelivery; onReplayed: () => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [open, setOpen] = useState(false);
  const replay = async () => {
    setBusy(true);
    setError(null);
    try {
      await api.replayCrmDelivery(d.id);
      onReplayed();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  const label = summaryOf(d);
  return (
    <li className="py-3" data-testid="crm-delivery" data-status={d.status} data-kind={d.kind}>
      <div className="flex flex-wrap items-center justify-between gap-3">
        <div className="min-w-0">
          <div className="flex flex-wrap items-center gap-2">
            <Link href={detailHref(d.callId)} className="truncate text-sm font-medium hover:underline">
              {label}
            </Link>
            <Badge tone={STATUS_TONE[d.status]}>{STATUS_LABEL[d.status]}</Badge>
            <Badge>{d.kind === "final" ? "Final report" : "Post-call update"}</Badge>
          </div>
          <span className="block text-xs text-zinc-500 dark:text-zinc-400">
            Queued {formatDateTime(d.createdAt)} · {d.attempts} attempt{d.attempts === 1 ? "" : "s"}
            {d.status === "delivered" && d.deliveredAt ? ` · delivered ${formatDateTime(d.deliveredAt)}` : ""}
            {d.status === "pending" ? ` · next attempt ${formatDateTime(d.nextAttemptAt)}` : ""}
          </span>
          {d.lastError && d.status !== "delivered" && (
            <span className="block text-xs text-red-700 dark:text-red-400">Last error: {d.lastError}</span>
          )}
        </div>
        <div className="flex items-center gap-2">
          {d.log.length > 0 && (
            <button type="button" className={buttonClass.ghost} aria-expanded={open} onClick={() => setOpen(!open)}>
              {open ? "Hide attempts" : "Attempts"}
            </button>
          )}
          <button type="button" className={buttonClass.secondary} disabled={busy} onClick={replay} aria-label={`Send the summary of ${label} again`}>
            <Icon name="refresh" className="size-4" /> Send again
          </button>
        </div>
      </div>
      {error && (
        <p role="alert" className="mt-2 text-sm text-red-700 dark:text-red-400">
          Could not send again: {error}
        </p>
      )}
      {open && (
        <table className="mt-3 w-full text-left text-xs">
          <thead className="text-zinc-500 dark:text-zinc-400">
            <tr>
              <th className="py-1 font-medium">When</th>
              <th className="py-1 font-medium">Answer</th>
              <th className="py-1 font-medium">Took</th>
            </tr>
          </thead>
          <tbody>
            {d.log.map((a, i) => (
              <tr key={`${a.at}-${i}`} className="border-t border-zinc-100 dark:border-zinc-800">
                <td className="py-1">{formatDateTime(a.at)}</td>
                <td className="py-1">{a.error ?? (a.statusCode ? `HTTP ${a.statusCode}` : "—")}</td>
                <td className="py-1">{a.durationMs} ms</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </li>
  );
}
