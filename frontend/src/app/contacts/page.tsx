"use client";

/** Contacts: search, tags, add one, delete several, export, import, add to a campaign. */

import Link from "next/link";
import { useState } from "react";
import { Field, Pager } from "@/components/campaign-ui";
import { Badge, Banner, buttonClass, Card, Empty, ErrorState, inputClass, Loading, PageHeader } from "@/components/ui";
import { ApiError } from "@/lib/api";
import { campaignApi } from "@/lib/api-campaigns";
import { formatCount } from "@/lib/format";
import { useApi } from "@/lib/use-api";

const PAGE_SIZE = 50;

export default function ContactsPage() {
  const [search, setSearch] = useState("");
  const [tag, setTag] = useState("");
  const [offset, setOffset] = useState(0);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [message, setMessage] = useState<{ tone: "info" | "danger"; text: string } | null>(null);
  const list = useApi(`contacts:${search}:${tag}:${offset}`, (s) => campaignApi.listContacts(search, tag, offset, PAGE_SIZE, s));
  const campaigns = useApi("campaigns:open", (s) => campaignApi.listCampaigns("draft,scheduled,running,paused", "", 0, 100, s));
  const toggle = (id: string) => setSelected((s) => {
    const n = new Set(s);
    if (n.has(id)) n.delete(id);
    else n.add(id);
    return n;
  });
  const act = async (f: () => Promise<string>) => {
    try {
      setMessage({ tone: "info", text: await f() });
      setSelected(new Set());
      list.reload();
    } catch (e) {
      setMessage({ tone: "danger", text: e instanceof ApiError ? e.message : String(e) });
    }
  };

  return (
    <>
      <PageHeader
        title="Contacts"
        description="People campaigns call. Numbers are stored in E.164; one contact per number."
        actions={
          <>
            <Link href="/contacts/import/" className={buttonClass.primary}>Import CSV</Link>
            <a href={campaignApi.exportContactsUrl(search, tag)} className={buttonClass.secondary}>Export CSV</a>
          </>
        }
      />
      {message && <Banner tone={message.tone}>{message.text}</Banner>}
      <div className="space-y-6">
        <NewContact onCreated={(text) => { setMessage({ tone: "info", text }); list.reload(); }} />
        <Card
          title={list.data ? `${formatCount(list.data.total)} contacts` : "Contacts"}
          actions={
            <>
              <input aria-label="Search" placeholder="Search name, number, email" className={inputClass} value={search}
                onChange={(e) => { setSearch(e.target.value); setOffset(0); }} />
              <input aria-label="Tag" placeholder="Tag" className={`${inputClass} w-28`} value={tag}
                onChange={(e) => { setTag(e.target.value); setOffset(0); }} />
            </>
          }
        >
          {selected.size > 0 && (
            <div className="mb-3 flex flex-wrap items-center gap-2 text-sm">
              <span>{selected.size} selected</span>
              <button type="button" className={buttonClass.danger}
                onClick={() => confirm(`Delete ${selected.size} contacts?`) && void act(async () => `${(await campaignApi.bulkDeleteContacts([...selected])).deleted} contacts deleted.`)}>
                Delete
              </button>
              <select aria-label="Add to campaign" className={`${inputClass} w-auto`} defaultValue=""
                onChange={(e) => {
                  const cid = e.target.value;
                  if (cid) void act(async () => `${(await campaignApi.addToCampaign(cid, { contactIds: [...selected] })).added} added to the campaign.`);
                }}>
                <option value="">Add to campaign…</option>
                {campaigns.data?.items.map((c) => <option key={c.id} value={c.id}>{c.name}</option>)}
              </select>
            </div>
          )}
          {list.error ? (
            <ErrorState error={list.error} onRetry={list.reload} feature="Contacts are" endpoint="GET /api/contacts" />
          ) : !list.data ? (
            <Loading />
          ) : list.data.items.length === 0 ? (
            <Empty title="No contacts">Import a CSV or add one above.</Empty>
          ) : (
            <>
              <table className="w-full text-left text-sm" data-testid="contact-table">
                <thead className="text-xs text-zinc-500">
                  <tr>
                    <th className="py-2 pr-2"><span className="sr-only">Select</span></th>
                    <th className="py-2 pr-3">Name</th>
                    <th className="py-2 pr-3">Number</th>
                    <th className="py-2 pr-3">Time zone</th>
                    <th className="py-2">Tags</th>
                  </tr>
                </thead>
                <tbody>
                  {list.data.items.map((c) => (
                    <tr key={c.id} className="border-t border-zinc-100 dark:border-zinc-800">
                      <td className="py-2 pr-2">
                        <input type="checkbox" aria-label={`Select ${c.name ?? c.phone}`} checked={selected.has(c.id)} onChange={() => toggle(c.id)} />
                      </td>
                      <td className="py-2 pr-3">
                        <Link href={`/contacts/detail/?id=${c.id}`} className="hover:underline">{c.name ?? "(no name)"}</Link>
                        {c.dnc && <span className="ml-2"><Badge tone="danger">Do not call</Badge></span>}
                      </td>
                      <td className="py-2 pr-3 tabular-nums">{c.phone}</td>
                      <td className="py-2 pr-3 text-xs">{c.effectiveTimeZone ?? "campaign's"}</td>
                      <td className="py-2 text-xs">{c.tags.join(", ")}</td>
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

function NewContact({ onCreated }: { onCreated: (text: string) => void }) {
  const [phone, setPhone] = useState("");
  const [name, setName] = useState("");
  const [tags, setTags] = useState("");
  const [error, setError] = useState<string | null>(null);
  const submit = async () => {
    setError(null);
    try {
      const c = await campaignApi.createContact({ phone, name: name || null, tags: tags.split(",").map((t) => t.trim()).filter(Boolean) });
      setPhone("");
      setName("");
      setTags("");
      onCreated(`${c.name ?? c.phone} added.`);
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    }
  };
  return (
    <Card title="Add a contact">
      <form className="flex flex-wrap items-end gap-3" onSubmit={(e) => { e.preventDefault(); void submit(); }}>
        <Field label="Number"><input required className={inputClass} value={phone} onChange={(e) => setPhone(e.target.value)} /></Field>
        <Field label="Name"><input className={inputClass} value={name} onChange={(e) => setName(e.target.value)} /></Field>
        <Field label="Tags (comma-separated)"><input className={inputClass} value={tags} onChange={(e) => setTags(e.target.value)} /></Field>
        <button type="submit" className={buttonClass.primary}>Add</button>
        {error && <span role="alert" className="text-sm text-red-600">{error}</span>}
      </form>
    </Card>
  );
}
