"use client";

/** One contact (`?id=`): edit, do-not-call, and every call made to it. */

import Link from "next/link";
import { useRouter, useSearchParams } from "next/navigation";
import { Suspense, useState } from "react";
import { detailHref } from "@/components/calls-table";
import { Field } from "@/components/campaign-ui";
import { Badge, Banner, buttonClass, Card, Empty, ErrorState, inputClass, Loading, OutcomeBadge, PageHeader, StatusBadge } from "@/components/ui";
import { ApiError } from "@/lib/api";
import { campaignApi } from "@/lib/api-campaigns";
import type { Contact } from "@/lib/campaign-types";
import { formatDateTime } from "@/lib/format";
import { useApi } from "@/lib/use-api";

export default function ContactDetailPage() {
  return (
    <Suspense>
      <Detail />
    </Suspense>
  );
}

function Detail() {
  const id = useSearchParams().get("id");
  if (!id) return <Card><Empty title="No contact given"><Link href="/contacts/" className="underline">Open the contacts</Link></Empty></Card>;
  return <ContactView key={id} id={id} />;
}

function ContactView({ id }: { id: string }) {
  const contact = useApi(`contact:${id}`, (s) => campaignApi.getContact(id, s));
  const calls = useApi(`contact-calls:${id}`, (s) => campaignApi.contactCalls(id, s));
  if (contact.error) return <ErrorState error={contact.error} onRetry={contact.reload} />;
  if (!contact.data) return <Loading />;
  const c = contact.data;
  return (
    <>
      <PageHeader title={c.name ?? c.phone} description={`${c.phone} · ${c.effectiveTimeZone ?? "zone unknown: the campaign's applies"}`}
        actions={c.dnc ? <Badge tone="danger">Do not call</Badge> : undefined} />
      <div className="space-y-6">
        <EditContact c={c} onSaved={contact.reload} />
        <DncCard c={c} onChanged={contact.reload} />
        <Card title="Calls">
          {calls.error ? <ErrorState error={calls.error} onRetry={calls.reload} /> : !calls.data ? <Loading /> : calls.data.items.length === 0 ? (
            <Empty title="Never called" />
          ) : (
            <ul className="divide-y divide-zinc-100 text-sm dark:divide-zinc-800">
              {calls.data.items.map((call) => (
                <li key={call.id} className="flex flex-wrap items-center justify-between gap-2 py-2">
                  <Link href={detailHref(call.id)} className="hover:underline">{formatDateTime(call.createdAt)}</Link>
                  <span className="flex gap-2">
                    {call.campaignId && <Link className="text-xs underline" href={`/campaigns/detail/?id=${call.campaignId}`}>campaign</Link>}
                    <StatusBadge status={call.status} />
                    <OutcomeBadge outcome={call.outcome} />
                  </span>
                </li>
              ))}
            </ul>
          )}
        </Card>
      </div>
    </>
  );
}

function EditContact({ c, onSaved }: { c: Contact; onSaved: () => void }) {
  const router = useRouter();
  const [form, setForm] = useState({
    phone: c.phone, firstName: c.firstName ?? "", lastName: c.lastName ?? "", name: c.name ?? "", email: c.email ?? "",
    timeZone: c.timeZone ?? "", tags: c.tags.join(", "), notes: c.notes ?? "",
    custom: Object.entries(c.customFields).map(([k, v]) => `${k}=${v}`).join("\n"),
  });
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const set = (k: keyof typeof form) => (e: { target: { value: string } }) => setForm({ ...form, [k]: e.target.value });
  const save = async () => {
    setError(null);
    try {
      const customFields: Record<string, string> = {};
      for (const line of form.custom.split("\n")) {
        const at = line.indexOf("=");
        if (at > 0 && line.slice(0, at).trim()) customFields[line.slice(0, at).trim()] = line.slice(at + 1).trim();
      }
      await campaignApi.updateContact(c.id, {
        phone: form.phone, firstName: form.firstName || null, lastName: form.lastName || null, name: form.name || null, email: form.email || null,
        timeZone: form.timeZone || null, tags: form.tags.split(",").map((t) => t.trim()).filter(Boolean), notes: form.notes || null, customFields,
      });
      setSaved(true);
      onSaved();
    } catch (e) {
      setError(e instanceof ApiError ? `${e.message}${e.field ? ` (${e.field})` : ""}` : String(e));
    }
  };
  return (
    <Card title="Details" actions={
      <button type="button" className={buttonClass.ghost}
        onClick={() => confirm("Delete this contact?") && void campaignApi.deleteContact(c.id).then(() => router.push("/contacts/"))}>Delete</button>
    }>
      {error && <Banner tone="danger">{error}</Banner>}
      {saved && !error && <Banner tone="info">Saved.</Banner>}
      <form className="grid grid-cols-1 gap-3 sm:grid-cols-2" onSubmit={(e) => { e.preventDefault(); void save(); }}>
        <Field label="Number"><input className={inputClass} value={form.phone} onChange={set("phone")} /></Field>
        <Field label="Email"><input className={inputClass} value={form.email} onChange={set("email")} /></Field>
        <Field label="First name"><input className={inputClass} value={form.firstName} onChange={set("firstName")} /></Field>
        <Field label="Last name"><input className={inputClass} value={form.lastName} onChange={set("lastName")} /></Field>
        <Field label="Full name"><input className={inputClass} value={form.name} onChange={set("name")} /></Field>
        <Field label="Time zone" hint={`Empty: ${c.timeZoneSource === "number" ? `from the number (${c.effectiveTimeZone})` : "the campaign's"}`}>
          <input className={inputClass} value={form.timeZone} onChange={set("timeZone")} placeholder="e.g. Australia/Perth" />
        </Field>
        <Field label="Tags"><input className={inputClass} value={form.tags} onChange={set("tags")} /></Field>
        <Field label="Custom fields (name=value per line)"><textarea className={inputClass} rows={3} value={form.custom} onChange={set("custom")} /></Field>
        <Field label="Notes"><textarea className={inputClass} rows={2} value={form.notes} onChange={set("notes")} /></Field>
        <div className="flex items-end"><button type="submit" className={buttonClass.primary}>Save</button></div>
      </form>
    </Card>
  );
}

function DncCard({ c, onChanged }: { c: Contact; onChanged: () => void }) {
  const [reason, setReason] = useState("");
  const [error, setError] = useState<string | null>(null);
  const run = (f: () => Promise<unknown>) => f().then(onChanged, (e) => setError(e instanceof ApiError ? e.message : String(e)));
  return (
    <Card title="Do not call">
      {error && <Banner tone="danger">{error}</Banner>}
      {c.dnc ? (
        <div className="flex flex-wrap items-center gap-3 text-sm">
          <span>Listed {formatDateTime(c.dnc.createdAt)}{c.dnc.reason ? `: ${c.dnc.reason}` : ""} (source: {c.dnc.source}). This number is never dialled, by a campaign or a single call.</span>
          <button type="button" className={buttonClass.secondary} onClick={() => void run(() => campaignApi.unmarkDnc(c.id))}>Remove from the list</button>
        </div>
      ) : (
        <form className="flex flex-wrap items-end gap-3" onSubmit={(e) => { e.preventDefault(); void run(() => campaignApi.markDnc(c.id, reason)); }}>
          <Field label="Reason"><input className={inputClass} value={reason} onChange={(e) => setReason(e.target.value)} /></Field>
          <button type="submit" className={buttonClass.danger}>Mark do not call</button>
        </form>
      )}
    </Card>
  );
}
