"use client";

/** The do-not-call list: every dial, by a campaign or a single call, checks it. */

import { useState } from "react";
import { Field, Pager } from "@/components/campaign-ui";
import { Banner, buttonClass, Card, Empty, ErrorState, inputClass, Loading, PageHeader } from "@/components/ui";
import { ApiError } from "@/lib/api";
import { campaignApi } from "@/lib/api-campaigns";
import { formatCount, formatDateTime } from "@/lib/format";
import { useApi } from "@/lib/use-api";

const PAGE_SIZE = 50;

export default function DncPage() {
  const [search, setSearch] = useState("");
  const [offset, setOffset] = useState(0);
  const [phone, setPhone] = useState("");
  const [reason, setReason] = useState("");
  const [error, setError] = useState<string | null>(null);
  const list = useApi(`dnc:${search}:${offset}`, (s) => campaignApi.listDnc(search, offset, PAGE_SIZE, s));
  const run = (f: () => Promise<unknown>) => {
    setError(null);
    f().then(list.reload, (e) => setError(e instanceof ApiError ? e.message : String(e)));
  };
  return (
    <>
      <PageHeader title="Do not call" description="Numbers no campaign ever dials, with why and since when." />
      {error && <Banner tone="danger">{error}</Banner>}
      <div className="space-y-6">
        <Card title="Add a number">
          <form className="flex flex-wrap items-end gap-3" onSubmit={(e) => {
            e.preventDefault();
            run(async () => {
              await campaignApi.addDnc(phone, reason);
              setPhone("");
              setReason("");
            });
          }}>
            <Field label="Number"><input required className={inputClass} value={phone} onChange={(e) => setPhone(e.target.value)} /></Field>
            <Field label="Reason"><input className={inputClass} value={reason} onChange={(e) => setReason(e.target.value)} /></Field>
            <button type="submit" className={buttonClass.danger}>Add</button>
          </form>
        </Card>
        <Card title={list.data ? `${formatCount(list.data.total)} numbers` : "Numbers"}
          actions={<input aria-label="Search" placeholder="Search" className={inputClass} value={search} onChange={(e) => { setSearch(e.target.value); setOffset(0); }} />}>
          {list.error ? <ErrorState error={list.error} onRetry={list.reload} feature="The do-not-call list is" endpoint="GET /api/dnc" /> : !list.data ? <Loading /> : list.data.items.length === 0 ? (
            <Empty title="The list is empty" />
          ) : (
            <>
              <table className="w-full text-left text-sm" data-testid="dnc-table">
                <thead className="text-xs text-zinc-500">
                  <tr><th className="py-2 pr-3">Number</th><th className="py-2 pr-3">Reason</th><th className="py-2 pr-3">Since</th><th className="py-2" /></tr>
                </thead>
                <tbody>
                  {list.data.items.map((e) => (
                    <tr key={e.phone} className="border-t border-zinc-100 dark:border-zinc-800">
                      <td className="py-2 pr-3 tabular-nums">{e.phone}</td>
                      <td className="py-2 pr-3">{e.reason ?? "—"} <span className="text-xs text-zinc-500">({e.source})</span></td>
                      <td className="py-2 pr-3 text-xs">{formatDateTime(e.createdAt)}</td>
                      <td className="py-2 text-right">
                        <button type="button" className={buttonClass.ghost} onClick={() => run(() => campaignApi.removeDnc(e.phone))}>Remove</button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <Pager offset={offset} limit={PAGE_SIZE} total={list.data.total} onPage={setOffset} />
            </>
          )}
        </Card>
      </div>
    </>
  );
}
