/**
 * Wire types of the contacts, do-not-call and campaign APIs (camelCase JSON), mirroring
 * `crates/main-app/src/{contacts,campaigns}/` (model.rs, settings_model.rs, progress.rs,
 * handlers.rs, import/mod.rs).
 */

import type { Outcome } from "./types";

export interface DncEntry {
  phone: string;
  reason: string | null;
  source: string;
  createdAt: string;
}

export type ZoneSource = "contact" | "number" | "campaign";

export interface Contact {
  id: string;
  phone: string;
  firstName: string | null;
  lastName: string | null;
  name: string | null;
  email: string | null;
  timeZone: string | null;
  tags: string[];
  customFields: Record<string, string>;
  notes: string | null;
  createdAt: string;
  updatedAt: string;
  effectiveTimeZone?: string | null;
  timeZoneSource?: ZoneSource;
  dnc?: DncEntry | null;
}

/** `POST /api/contacts`, `PUT /api/contacts/{id}`. */
export interface ContactInput {
  phone: string;
  firstName?: string | null;
  lastName?: string | null;
  name?: string | null;
  email?: string | null;
  timeZone?: string | null;
  tags?: string[];
  customFields?: Record<string, string>;
  notes?: string | null;
}

export const CAMPAIGN_STATUSES = ["draft", "scheduled", "running", "paused", "completed", "canceled"] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];

export const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
export type Day = (typeof DAYS)[number];

export interface CallingWindow {
  days: Day[];
  /** `HH:MM` */
  start: string;
  /** `HH:MM` (`24:00` for midnight) */
  end: string;
}

export interface RetryRule {
  maxAttempts: number;
  delayMinutes: number;
}

export interface RetryPolicy {
  noAnswer: RetryRule;
  busy: RetryRule;
  failed: RetryRule;
  voicemail: RetryRule;
}

export interface AmdPolicy {
  onMachine: "hangup" | "voicemail";
  voicemailMessage?: string | null;
  unknownAs: "human" | "machine";
}

export interface CampaignSettings {
  prompt?: string | null;
  firstMessage?: string | null;
  language?: string | null;
  callerId?: string | null;
  maxConcurrent: number;
  callsPerSecond: number;
  timeZone: string;
  windows: CallingWindow[];
  retry: RetryPolicy;
  amdPolicy?: AmdPolicy | null;
  startAt?: string | null;
  endAt?: string | null;
}

/** Counts of a campaign, from its members and attempts (`campaign:progress` carries the same). */
export interface Progress {
  campaignId: string;
  name: string;
  status: CampaignStatus;
  statusReason: string | null;
  total: number;
  remaining: number;
  inFlight: number;
  done: number;
  skipped: number;
  dialled: number;
  answered: number;
  conversations: number;
  voicemail: number;
  noAnswer: number;
  busy: number;
  failed: number;
  percentComplete: number;
  nextWindowAt: string | null;
  updatedAt: string;
}

export interface Campaign {
  id: string;
  name: string;
  description: string | null;
  status: CampaignStatus;
  statusReason: string | null;
  settings: CampaignSettings;
  createdAt: string;
  updatedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  progress: Progress;
}

export interface CampaignInput {
  name: string;
  description?: string | null;
  settings: Partial<CampaignSettings>;
}

export type MemberState = "pending" | "claimed" | "dialing" | "live" | "done" | "skipped";

export interface Member {
  id: string;
  campaignId: string;
  contactId: string;
  state: MemberState;
  dueAt: string | null;
  attempts: number;
  attemptId: string | null;
  callId: string | null;
  lastOutcome: Outcome | null;
  note: string | null;
  updatedAt: string;
  name: string | null;
  phone: string | null;
}

export interface Attempt {
  id: string;
  contactId: string;
  number: number;
  instanceId: string;
  startedAt: string;
  callId: string | null;
  endedAt: string | null;
  outcome: Outcome | null;
  result: "dialing" | "dialled" | "not_dialled";
  detail: string | null;
}

export interface MissingVariables {
  contactId: string;
  name: string | null;
  phone: string;
  variables: string[];
}

export interface TemplateCheck {
  ok: boolean;
  checked: number;
  missingCount: number;
  missing: MissingVariables[];
}

/** Column names chosen for an import (overriding detection). */
export interface ColumnChoice {
  phoneColumn?: string;
  firstNameColumn?: string;
  lastNameColumn?: string;
  nameColumn?: string;
  emailColumn?: string;
  timeZoneColumn?: string;
}

export interface ImportReport {
  fileSha256: string;
  bytes: number;
  headers: string[];
  mapping: {
    phone: string | null;
    firstName: string | null;
    lastName: string | null;
    name: string | null;
    email: string | null;
    timeZone: string | null;
    customFields: string[];
    ignored: string[];
  };
  rows: number;
  valid: number;
  newContacts: number;
  existingContacts: number;
  invalid: { line: number; value: string; reason: string }[];
  invalidCount: number;
  duplicates: { line: number; phone: string; firstLine: number }[];
  duplicateCount: number;
  dnc: { line: number; phone: string; reason: string | null }[];
  dncCount: number;
  sample: { line: number; contact: Contact }[];
  created?: number;
  updated?: number;
  addedToCampaign?: number;
}
