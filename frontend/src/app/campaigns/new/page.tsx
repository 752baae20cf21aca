"use client";

/**
 * New campaign: upload a CSV and review it (column mapping, invalid rows, duplicates, DNC),
 * set the campaign up, then create it with its contacts and start it now or at a chosen time.
 * Nothing is written until "Create": the import commits exactly the reviewed file.
 */

import { useRouter } from "next/navigation";
import { useState } from "react";
import { Field } from "@/components/campaign-ui";
import { CampaignSettingsForm, defaultSettings } from "@/components/campaign-settings-form";
import { CsvReview, type ReviewedFile } from "@/components/csv-import";
import { Banner, buttonClass, Card, inputClass, PageHeader } from "@/components/ui";
import { api, ApiError } from "@/lib/api";
import { campaignApi } from "@/lib/api-campaigns";
import type { CampaignSettings } from "@/lib/campaign-types";
import { useApi } from "@/lib/use-api";

export default function NewCampaignPage() {
  const router = useRouter();
  const config = useApi("config", (s) => api.config(s));
  const [reviewed, setReviewed] = useState<ReviewedFile | null>(null);
  const [name, setName] = useState("");
  const [settings, setSettings] = useState<CampaignSettings>(defaultSettings);
  const [when, setWhen] = useState<"now" | "later" | "draft">("now");
  const [startAt, setStartAt] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);

  const create = async () => {
    if (!reviewed) return;
    setError(null);
    let id: string | null = null;
    try {
      setBusy("Creating the campaign");
      const c = await campaignApi.createCampaign({ name, settings });
      id = c.id;
      setBusy("Importing the contacts");
      await campaignApi.commitImport(reviewed.file, { ...reviewed.columns, campaignId: c.id, expectSha256: reviewed.report.fileSha256 });
      if (when !== "draft") {
        setBusy("Starting");
        await campaignApi.startCampaign(c.id, when === "later" && startAt ? new Date(startAt).toISOString() : undefined);
      }
      router.push(`/campaigns/detail/?id=${c.id}`);
    } catch (e) {
      const msg = e instanceof ApiError ? `${e.message}${e.field ? ` (${e.field})` : ""}` : String(e);
      setError(id ? `${msg} — the campaign was saved as a draft; fix it on its page.` : msg);
      if (id) router.push(`/campaigns/detail/?id=${id}`);
    } finally {
      setBusy(null);
    }
  };

  return (
    <>
      <PageHeader title="New campaign" description="Contacts from a CSV, called in their own calling hours." />
      <div className="space-y-6">
        <Card title="1. Contacts">
          <CsvReview onReviewed={setReviewed} />
        </Card>
        <Card title="2. Settings">
          <div className="space-y-4">
            <Field label="Name">
              <input className={inputClass} name="name" value={name} onChange={(e) => setName(e.target.value)} />
            </Field>
            <CampaignSettingsForm value={settings} onChange={setSettings} config={config.data} variables={reviewed?.report.mapping.customFields ?? []} />
          </div>
        </Card>
        <Card title="3. Start">
          <div className="flex flex-wrap items-center gap-4 text-sm">
            <label className="flex items-center gap-1">
              <input type="radio" name="when" checked={when === "now"} onChange={() => setWhen("now")} /> Start now
            </label>
            <label className="flex items-center gap-1">
              <input type="radio" name="when" checked={when === "later"} onChange={() => setWhen("later")} /> Start at
            </label>
            <input type="datetime-local" aria-label="Start at" className={`${inputClass} w-auto`} disabled={when !== "later"} value={startAt}
              onChange={(e) => setStartAt(e.target.value)} />
            <label className="flex items-center gap-1">
              <input type="radio" name="when" checked={when === "draft"} onChange={() => setWhen("draft")} /> Save as draft
            </label>
          </div>
          {error && <div className="mt-3"><Banner tone="danger">{error}</Banner></div>}
          <div className="mt-4 flex items-center gap-3">
            <button type="button" className={buttonClass.primary} disabled={!reviewed || !name.trim() || busy !== null || reviewed.report.valid === 0}
              onClick={() => void create()}>
              {busy ?? `Create with ${reviewed?.report.valid ?? 0} contacts`}
            </button>
          </div>
        </Card>
      </div>
    </>
  );
}
