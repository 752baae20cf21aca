"use client";

/**
 * Call log: stored calls, newest first, filtered by status, outcome, date, number and campaign.
 * Filters and the page live in the URL, so a filtered view can be bookmarked; the CSV export
 * uses the same filters.
 */

import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { type FormEvent, Suspense, useState } from "react";
import { CallsTable } from "@/components/calls-table";
import { Icon } from "@/components/icons";
import { Banner, buttonClass, Card, Empty, ErrorState, inputClass, Loading, PageHeader } from "@/components/ui";
import { api, ApiError } from "@/lib/api";
import { campaignApi } from "@/lib/api-campaigns";
import { type CallFilters, EMPTY_FILTERS, filtersFromSearch, filtersToSearch, hasFilters, localDay } from "@/lib/filters";
import { formatCount, outcomeLabel, statusLabel } from "@/lib/format";
import { CALL_STATUSES, OUTCOMES } from "@/lib/types";
import { useApi } from "@/lib/use-api";

const PAGE_SIZE = 50;

export default function CallLogPage() {
  return (
    <Suspense>
      <CallLog />
    </Suspense>
  );
}

function CallLog() {
  const params = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const filters = filtersFromSearch(params);
  const offset = Math.max(0, Number(params.get("offset")) || 0);
  const query = filtersToSearch(filters, offset);
  const list = useApi(`calls?${query}`, (s) => api.listCalls(filters, offset, PAGE_SIZE, s));
  const [exportError, setExportError] = useState<ApiError | null>(null);
  const [exporting, setExporting] = useState(false);

  const go = (f: CallFilters, off: number) => {
    const q = filtersToSearch(f, off);
    router.push(q ? `${pathname}?${q}` : pathname, { scroll: false });
  };

  async function exportCsv() {
    setExporting(true);
    setExportError(null);
    try {
      const blob = await api.exportCalls(filters);
      const url = URL.createObjectURL(blob);
      const a = document.createElement("a");
      a.href = url;
      a.download = `calls-${localDay(new Date())}.csv`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (e) {
      setExportError(e instanceof ApiError ? e : new ApiError(0, "CLIENT_ERROR", String(e)));
    } finally {
      setExporting(false);
    }
  }

  const page = list.data;
  return (
    <>
      <PageHeader
        title="Call log"
        description="Every call placed, newest first."
        actions={
          <button type="button" className={buttonClass.secondary} onClick={exportCsv} disabled={exporting}>
            <Icon name="download" className="size-4" />
            {exporting ? "Exporting…" : "Export CSV"}
          </button>
        }
      />
      {exportError && (
        <Banner tone={exportError.endpointMissing ? "warning" : "danger"}>
          {exportError.endpointMissing ? "CSV export is not available on this server yet." : `Export failed: ${exportError.message}`}
        </Banner>
      )}
      {/* Keyed by the URL so the form shows the filters in force after back/forward. */}
      <FilterForm key={filtersToSearch(filters)} initial={filters} onApply={(f) => go(f, 0)} />
      <Card
        title={page ? `${formatCount(page.total)} call${page.total === 1 ? "" : "s"}` : "Calls"}
        actions={
          <button type="button" className={buttonClass.ghost} onClick={list.reload} aria-label="Refresh">
            <Icon name="refresh" className="size-4" />
          </button>
        }
      >
        {list.error ? (
          <ErrorState error={list.error} onRetry={list.reload} />
        ) : !page ? (
          <Loading />
        ) : page.items.length === 0 ? (
          <Empty title={hasFilters(filters) ? "No calls match these filters" : "No calls yet"} />
        ) : (
          <>
            <div aria-busy={list.loading}>
              <CallsTable calls={page.items} caption="Calls" />
            </div>
            <Pager total={page.total} offset={page.offset} count={page.items.length} onPage={(o) => go(filters, o)} />
          </>
        )}
      </Card>
    </>
  );
}

function Pager({ total, offset, count, onPage }: { total: number; offset: number; count: number; onPage: (offset: number) => void }) {
  const first = total === 0 ? 0 : offset + 1;
  const last = offset + count;
  return (
    <nav aria-label="Pages" className="mt-4 flex items-center justify-between gap-2 text-sm">
      <span className="text-zinc-600 dark:text-zinc-400">
        {formatCount(first)}–{formatCount(last)} of {formatCount(total)}
      </span>
      <span className="flex gap-2">
        <button type="button" className={buttonClass.secondary} disabled={offset === 0} onClick={() => onPage(Math.max(0, offset - PAGE_SIZE))}>
          <Icon name="left" className="size-4" /> Newer
        </button>
        <button type="button" className={buttonClass.secondary} disabled={last >= total} onClick={() => onPage(offset + PAGE_SIZE)}>
          Older <Icon name="right" className="size-4" />
        </button>
      </span>
    </nav>
  );
}

function Chips<T extends string>({ legend, all, chosen, label, onChange }: { legend: string; all: readonly T[]; chosen: T[]; label: (v: T) => string; onChange: (v: T[]) => void }) {
  return (
    <fieldset>
      <legend className="mb-1.5 text-sm font-medium">{legend}</legend>
      <div className="flex flex-wrap gap-1.5">
        {all.map((v) => {
          const on = chosen.includes(v);
          return (
            <label
              key={v}
              className={`cursor-pointer select-none rounded-full border px-2.5 py-1 text-xs has-[:focus-visible]:outline-2 has-[:focus-visible]:outline-indigo-500 ${
                on
                  ? "border-indigo-500 bg-indigo-50 text-indigo-800 dark:bg-indigo-950 dark:text-indigo-200"
                  : "border-zinc-300 text-zinc-700 hover:bg-zinc-50 dark:border-zinc-700 dark:text-zinc-300 dark:hover:bg-zinc-800"
              }`}
            >
              <input
                type="checkbox"
                className="sr-only"
                checked={on}
                onChange={() => onChange(on ? chosen.filter((c) => c !== v) : [...chosen, v])}
              />
              {label(v)}
            </label>
          );
        })}
      </div>
    </fieldset>
  );
}

function FilterForm({ initial, onApply }: { initial: CallFilters; onApply: (f: CallFilters) => void }) {
  const [f, setF] = useState<CallFilters>(initial);
  const [open, setOpen] = useState(hasFilters(initial));
  const campaigns = useApi(open ? "campaigns:filter" : null, (s) => campaignApi.listCampaigns("", "", 0, 200, s));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onApply(f);
  };
  return (
    <Card className="mb-6">
      <div className="flex items-center justify-between">
        <button type="button" className="text-sm font-semibold" aria-expanded={open} aria-controls="call-filters" onClick={() => setOpen((o) => !o)}>
          Filters {hasFilters(initial) ? "(active)" : ""} <span aria-hidden="true">{open ? "▴" : "▾"}</span>
        </button>
      </div>
      <form id="call-filters" onSubmit={submit} hidden={!open} className="mt-4 space-y-4">
        <Chips legend="Status" all={CALL_STATUSES} chosen={f.status} label={statusLabel} onChange={(status) => setF({ ...f, status })} />
        <Chips legend="Outcome" all={OUTCOMES} chosen={f.outcome} label={outcomeLabel} onChange={(outcome) => setF({ ...f, outcome })} />
        <div className="grid grid-cols-1 gap-4 sm:grid-cols-2 lg:grid-cols-4">
          <div>
            <label htmlFor="f-from" className="mb-1 block text-sm font-medium">From day</label>
            <input id="f-from" type="date" className={inputClass} value={f.from} onChange={(e) => setF({ ...f, from: e.target.value })} />
          </div>
          <div>
            <label htmlFor="f-to" className="mb-1 block text-sm font-medium">To day</label>
            <input id="f-to" type="date" className={inputClass} value={f.to} min={f.from || undefined} onChange={(e) => setF({ ...f, to: e.target.value })} />
          </div>
          <div>
            <label htmlFor="f-phone" className="mb-1 block text-sm font-medium">Number contains</label>
            <input id="f-phone" type="search" inputMode="tel" className={inputClass} value={f.phone} onChange={(e) => setF({ ...f, phone: e.target.value })} />
          </div>
          <div>
            <label htmlFor="f-campaign" className="mb-1 block text-sm font-medium">Campaign</label>
            <select id="f-campaign" className={inputClass} value={f.campaignId} onChange={(e) => setF({ ...f, campaignId: e.target.value })}>
              <option value="">Any campaign</option>
              {campaigns.data?.items.map((c) => (
                <option key={c.id} value={c.id}>{c.name}</option>
              ))}
              {/* A campaign from the URL that is not in the list (deleted, or beyond the first page). */}
              {f.campaignId && !campaigns.data?.items.some((c) => c.id === f.campaignId) && <option value={f.campaignId}>{f.campaignId}</option>}
            </select>
            {campaigns.error && <p className="mt-1 text-xs text-red-600 dark:text-red-400">Campaigns could not be listed: {campaigns.error.message}</p>}
          </div>
        </div>
        <div className="flex gap-2">
          <button type="submit" className={buttonClass.primary}>Apply filters</button>
          <button
            type="button"
            className={buttonClass.secondary}
            onClick={() => {
              setF(EMPTY_FILTERS);
              onApply(EMPTY_FILTERS);
            }}
          >
            Clear
          </button>
        </div>
      </form>
    </Card>
  );
}
