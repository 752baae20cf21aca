"use client";

/**
 * New campaign: its contacts come from a CSV (uploaded and reviewed first: column mapping,
 * invalid rows, duplicates, DNC), from the saved contacts with a tag, or from every saved
 * contact (a hand-picked selection joins from the Contacts page). Then the settings, then create
 * it and start it now or at a chosen time. Nothing is written until "Create": the import commits
 * exactly the reviewed file.
 */

import Link from "next/link";
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
  const [source, setSource] = useState<"csv" | "tag" | "all">("csv");
  const [reviewed, setReviewed] = useState<ReviewedFile | null>(null);
  const [tag, setTag] = useState("");
  const trimmedTag = tag.trim();
  // How many saved contacts the choice takes (the same filter the join uses).
  const saved = useApi(
    source === "all" ? "join:all" : source === "tag" && trimmedTag ? `join:tag:${trimmedTag}` : null,
    (s) => campaignApi.listContacts("", source === "tag" ? trimmedTag : "", 0, 1, s),
  );
  const contactCount = source === "csv" ? (reviewed?.report.valid ?? 0) : (saved.data?.total ?? 0);
  const [name, setName] = useState("");
  const [settings, setSettings] = useState<CampaignSettings>(defaultSettings);
  const [when, setWhen] = useState<"now" | "later" | "draft">("now");
  const [startAt, setStartAt] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);

  const create = async () => {
    if (source === "csv" && !reviewed) return;
    setError(null);
    let id: string | null = null;
    try {
      setBusy("Creating the campaign");
      const c = await campaignApi.createCampaign({ name, settings });
      id = c.id;
      setBusy("Adding the contacts");
      if (source === "csv" && reviewed) {
        await campaignApi.commitImport(reviewed.file, { ...reviewed.columns, campaignId: c.id, expectSha256: reviewed.report.fileSha256 });
      } else {
        await campaignApi.addToCampaign(c.id, source === "tag" ? { tag: trimmedTag } : { all: true });
      }
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
      <PageHeader title="New campaign" description="Contacts from a CSV, a tag or all saved contacts, each called in their own calling hours." />
      <div className="space-y-6">
        <Card title="1. Contacts">
          <fieldset className="mb-4 flex flex-wrap items-center gap-4 text-sm">
            <legend className="sr-only">Where the contacts come from</legend>
            <label className="flex items-center gap-1">
              <input type="radio" name="source" checked={source === "csv"} onChange={() => setSource("csv")} /> Upload a CSV
            </label>
            <label className="flex items-center gap-1">
              <input type="radio" name="source" checked={source === "tag"} onChange={() => setSource("tag")} /> Saved contacts with a tag
            </label>
            <label className="flex items-center gap-1">
              <input type="radio" name="source" checked={source === "all"} onChange={() => setSource("all")} /> All saved contacts
            </label>
          </fieldset>
          {source === "csv" ? (
            <CsvReview onReviewed={setReviewed} />
          ) : (
            <div className="space-y-3 text-sm">
              {source === "tag" && (
                <Field label="Tag">
                  <input className={`${inputClass} max-w-xs`} name="tag" value={tag} onChange={(e) => setTag(e.target.value)} />
                </Field>
              )}
              {saved.error ? (
                <Banner tone="danger">Could not count the contacts: {saved.error.message}</Banner>
              ) : saved.data ? (
                <p data-testid="join-count">
                  {saved.data.total === 0 ? "No saved contacts match." : `${saved.data.total} saved contact${saved.data.total === 1 ? "" : "s"} will join.`} Numbers on the
                  do-not-call list are skipped when dialled.
                </p>
              ) : null}
              <p className="text-xs text-zinc-500 dark:text-zinc-400">
                To pick contacts one by one, create the campaign as a draft, then select them on the{" "}
                <Link className="underline" href="/contacts/">Contacts</Link> page and add them to it.
              </p>
            </div>
          )}
        </Card>
        <Card title="2. Settings">
          <div className="space-y-4">
            <Field label="Name">
              <input className={inputClass} name="name" value={name} onChange={(e) => setName(e.target.value)} />
            </Field>
            <CampaignSettingsForm value={settings} onChange={setSettings} config={config.data} variables={source === "csv" ? (reviewed?.report.mapping.customFields ?? []) : []} />
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
            <button type="button" className={buttonClass.primary} disabled={!name.trim() || busy !== null || contactCount === 0}
              onClick={() => void create()}>
              {busy ?? `Create with ${contactCount} contact${contactCount === 1 ? "" : "s"}`}
            </button>
          </div>
        </Card>
      </div>
    </>
  );
}
