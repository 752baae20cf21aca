/**
 * The contacts, do-not-call and campaign endpoints, on the dashboard's one request function
 * ({@link request}: session cookie, timeout, {@link ApiError} on every failure).
 */

import { request } from "./api";
import type {
  Attempt,
  Campaign,
  CampaignInput,
  ColumnChoice,
  Contact,
  ContactInput,
  DncEntry,
  ImportReport,
  Member,
  Progress,
  TemplateCheck,
} from "./campaign-types";
import type { Call, Paged } from "./types";

const enc = encodeURIComponent;

/** Uploads may be large (up to `CONTACT_IMPORT_MAX_MB`): give them time. */
const UPLOAD_TIMEOUT_MS = 5 * 60_000;

function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  }
  return q.toString();
}

/** Options of an import (preview or commit). */
export interface ImportOptions extends ColumnChoice {
  defaultRegion?: string;
  tags?: string;
  campaignId?: string;
  expectSha256?: string;
}

export const campaignApi = {
  listContacts: (search: string, tag: string, offset: number, limit: number, signal?: AbortSignal) =>
    request<Paged<Contact>>(`/api/contacts?${query({ search, tag, offset, limit })}`, { signal }),
  getContact: (id: string, signal?: AbortSignal) => request<Contact>(`/api/contacts/${enc(id)}`, { signal }),
  createContact: (c: ContactInput) => request<Contact>("/api/contacts", { method: "POST", body: c }),
  updateContact: (id: string, c: ContactInput) => request<Contact>(`/api/contacts/${enc(id)}`, { method: "PUT", body: c }),
  deleteContact: (id: string) => request<void>(`/api/contacts/${enc(id)}`, { method: "DELETE", expect: "none" }),
  bulkDeleteContacts: (contactIds: string[]) =>
    request<{ deleted: number }>("/api/contacts/bulk-delete", { method: "POST", body: { contactIds } }),
  contactCalls: (id: string, signal?: AbortSignal) => request<Paged<Call>>(`/api/contacts/${enc(id)}/calls`, { signal }),
  markDnc: (id: string, reason: string) =>
    request<DncEntry>(`/api/contacts/${enc(id)}/dnc`, { method: "POST", body: { reason: reason || null } }),
  unmarkDnc: (id: string) => request<void>(`/api/contacts/${enc(id)}/dnc`, { method: "DELETE", expect: "none" }),
  /** The CSV export URL for the same filters as the list. */
  exportContactsUrl: (search: string, tag: string) => `/api/contacts/export.csv?${query({ search, tag })}`,
  previewImport: (file: Blob, opts: ImportOptions) =>
    request<ImportReport>(`/api/contacts/import/preview?${query({ ...opts })}`, {
      method: "POST",
      raw: { body: file, contentType: "text/csv" },
      timeoutMs: UPLOAD_TIMEOUT_MS,
    }),
  commitImport: (file: Blob, opts: ImportOptions) =>
    request<ImportReport>(`/api/contacts/import?${query({ ...opts })}`, {
      method: "POST",
      raw: { body: file, contentType: "text/csv" },
      timeoutMs: UPLOAD_TIMEOUT_MS,
    }),

  listDnc: (search: string, offset: number, limit: number, signal?: AbortSignal) =>
    request<Paged<DncEntry>>(`/api/dnc?${query({ search, offset, limit })}`, { signal }),
  addDnc: (phone: string, reason: string) => request<DncEntry>("/api/dnc", { method: "POST", body: { phone, reason: reason || null } }),
  removeDnc: (phone: string) => request<void>(`/api/dnc/${enc(phone)}`, { method: "DELETE", expect: "none" }),

  listCampaigns: (status: string, search: string, offset: number, limit: number, signal?: AbortSignal) =>
    request<Paged<Campaign>>(`/api/campaigns?${query({ status, search, offset, limit })}`, { signal }),
  getCampaign: (id: string, signal?: AbortSignal) => request<Campaign>(`/api/campaigns/${enc(id)}`, { signal }),
  createCampaign: (c: CampaignInput) => request<Campaign>("/api/campaigns", { method: "POST", body: c }),
  updateCampaign: (id: string, c: CampaignInput) => request<Campaign>(`/api/campaigns/${enc(id)}`, { method: "PUT", body: c }),
  deleteCampaign: (id: string) => request<void>(`/api/campaigns/${enc(id)}`, { method: "DELETE", expect: "none" }),
  addToCampaign: (id: string, body: { contactIds?: string[]; tag?: string; all?: boolean }) =>
    request<{ added: number }>(`/api/campaigns/${enc(id)}/contacts`, { method: "POST", body }),
  members: (id: string, state: string, offset: number, limit: number, signal?: AbortSignal) =>
    request<Paged<Member>>(`/api/campaigns/${enc(id)}/contacts?${query({ state, offset, limit })}`, { signal }),
  attempts: (id: string, contactId: string | null, signal?: AbortSignal) =>
    request<Paged<Attempt>>(`/api/campaigns/${enc(id)}/attempts?${query({ contactId, limit: 100 })}`, { signal }),
  progress: (id: string, signal?: AbortSignal) => request<Progress>(`/api/campaigns/${enc(id)}/progress`, { signal }),
  checkCampaign: (id: string) => request<TemplateCheck>(`/api/campaigns/${enc(id)}/check`, { method: "POST" }),
  startCampaign: (id: string, at?: string) =>
    request<Campaign>(`/api/campaigns/${enc(id)}/start`, { method: "POST", body: at ? { at } : {} }),
  pauseCampaign: (id: string) => request<Campaign>(`/api/campaigns/${enc(id)}/pause`, { method: "POST" }),
  resumeCampaign: (id: string) => request<Campaign>(`/api/campaigns/${enc(id)}/resume`, { method: "POST" }),
  cancelCampaign: (id: string, hangUp: boolean) =>
    request<{ campaign: Campaign; hungUp: number }>(`/api/campaigns/${enc(id)}/cancel`, { method: "POST", body: { hangUp } }),
};
