"use client";

/** Import contacts from a CSV: review first (nothing written), then import exactly that file. */

import { useState } from "react";
import { Field } from "@/components/campaign-ui";
import { CsvReview, ImportSummary, type ReviewedFile } from "@/components/csv-import";
import { Banner, buttonClass, Card, inputClass, PageHeader } from "@/components/ui";
import { ApiError } from "@/lib/api";
import { campaignApi } from "@/lib/api-campaigns";
import type { ImportReport } from "@/lib/campaign-types";
import { formatCount } from "@/lib/format";
import { useApi } from "@/lib/use-api";

export default function ImportPage() {
  const [reviewed, setReviewed] = useState<ReviewedFile | null>(null);
  const [tags, setTags] = useState("");
  const [campaignId, setCampaignId] = useState("");
  const [done, setDone] = useState<ImportReport | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const campaigns = useApi("campaigns:open", (s) => campaignApi.listCampaigns("draft,scheduled,running,paused", "", 0, 100, s));
  const commit = async () => {
    if (!reviewed) return;
    setBusy(true);
    setError(null);
    try {
      setDone(await campaignApi.commitImport(reviewed.file, { ...reviewed.columns, tags, campaignId, expectSha256: reviewed.report.fileSha256 }));
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <PageHeader title="Import contacts" description="Numbers already in your contacts are updated; numbers on the do-not-call list are never called." />
      <div className="space-y-6">
        <Card title="File">
          <CsvReview onReviewed={(r) => { setReviewed(r); setDone(null); }} />
        </Card>
        <Card title="Import">
          <div className="flex flex-wrap items-end gap-3">
            <Field label="Tags for every contact"><input className={inputClass} value={tags} onChange={(e) => setTags(e.target.value)} /></Field>
            <Field label="Add to campaign">
              <select className={inputClass} value={campaignId} onChange={(e) => setCampaignId(e.target.value)}>
                <option value="">(none)</option>
                {campaigns.data?.items.map((c) => <option key={c.id} value={c.id}>{c.name}</option>)}
              </select>
            </Field>
            <button type="button" className={buttonClass.primary} disabled={!reviewed || busy || reviewed.report.valid === 0} onClick={() => void commit()}>
              {busy ? "Importing…" : `Import ${formatCount(reviewed?.report.valid ?? 0)} contacts`}
            </button>
          </div>
          {error && <div className="mt-3"><Banner tone="danger">{error}</Banner></div>}
          {done && (
            <div className="mt-3">
              <Banner tone="info">
                {formatCount(done.created ?? 0)} created, {formatCount(done.updated ?? 0)} updated
                {done.addedToCampaign !== undefined ? `, ${formatCount(done.addedToCampaign)} added to the campaign` : ""}.
              </Banner>
              <ImportSummary report={done} />
            </div>
          )}
        </Card>
      </div>
    </>
  );
}
